"""benchmarks/realdata.py builds its contract tables with the vendor mappings: known answers on real files.

The mappings (``src/sprintlab/contract/mappings/``) decide what each column means; realdata only adds
what the evaluation needs (athlete register, Jovanovic label-only injury placeholders, the SoccerMon
episode rule of the published protocol). Skipped when ../shared/datasets is absent.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from benchmarks.realdata import JOVANOVIC_CSV, SOCCERMON_DIR

jovanovic = pytest.mark.skipif(
    not JOVANOVIC_CSV.exists(), reason=f"real data not available: {JOVANOVIC_CSV} is absent"
)
soccermon = pytest.mark.skipif(
    not SOCCERMON_DIR.exists(), reason=f"real data not available: {SOCCERMON_DIR} is absent"
)
pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def jov():
    if not JOVANOVIC_CSV.exists():
        pytest.skip(f"real data not available: {JOVANOVIC_CSV} is absent")
    from benchmarks.realdata import load_jovanovic

    return load_jovanovic()


@pytest.fixture(scope="module")
def sm():
    if not SOCCERMON_DIR.exists():
        pytest.skip(f"real data not available: {SOCCERMON_DIR} is absent")
    from benchmarks.realdata import load_soccermon

    return load_soccermon()


@jovanovic
def test_jovanovic_tables_come_from_the_mapping(jov):
    tables, split = jov
    tl = tables["training_load"]
    assert (
        len(tl) == 1683 and tl["athlete_id"].nunique() == 6
    )  # days with any load; days off are not sessions
    first = tl[(tl["athlete_id"] == "Athlete 01") & (tl["date"] == "2016-07-01")].iloc[0]
    assert (first["srpe_load_au"], first["total_distance_m"], first["hsr_distance_m"]) == (496, 6944, 169)
    assert pd.api.types.is_datetime64_any_dtype(tl["date"]) and tl["srpe_load_au"].dtype == float
    assert list(tables["athletes"]["athlete_id"]) == [f"Athlete 0{k}" for k in range(1, 7)]
    assert tables["athletes"][["birth_date", "body_mass_kg", "height_cm"]].isna().all().all()
    inj = tables["injuries"]
    # label-only placeholders for what the export lacks (the mapping leaves them missing)
    assert len(inj) == 6 and (inj["side"] == "both").all() and (inj["days_lost"] == 0).all()
    assert inj.groupby("athlete_id").size().to_dict() == {"Athlete 02": 2, "Athlete 03": 2, "Athlete 04": 2}
    assert split.to_dict() == {
        "Athlete 01": "Train",
        "Athlete 02": "Test",
        "Athlete 03": "Test",
        "Athlete 04": "Train",
        "Athlete 05": "Train",
        "Athlete 06": "Train",
    }


@jovanovic
def test_jovanovic_day_spacing_is_preserved(jov):
    tables, _ = jov
    raw = pd.read_csv(JOVANOVIC_CSV)
    raw = raw[raw["LoadMetric01"] > 0]
    season2 = raw["Season"].str.strip().eq("Season 2").to_numpy()
    # mapping anchors: day 1 of Season 1 = 2016-07-01, of Season 2 = 2017-07-01 (365 days later)
    expect = pd.Timestamp("2016-07-01") + pd.to_timedelta(
        raw["Date"].to_numpy() - 1 + np.where(season2, 365, 0), unit="D"
    )
    got = tables["training_load"].set_index(["athlete_id", "date"])["srpe_load_au"].sort_index()
    want = pd.Series(
        raw["LoadMetric01"].to_numpy(dtype=float),
        index=pd.MultiIndex.from_arrays(
            [raw["Player.Name"].to_numpy(), expect], names=["athlete_id", "date"]
        ),
    ).sort_index()
    pd.testing.assert_series_equal(got, want, check_names=False)


@soccermon
def test_soccermon_wellness_uses_the_contract_scales_and_directions(sm):
    w = sm["wellness"].set_index(["athlete_id", "date"])
    assert len(w) == 17007 and w["hamstring_tightness"].isna().all()
    raw = pd.read_csv(SOCCERMON_DIR / "wellness" / "soreness.csv")
    raw = (
        raw.rename(columns={raw.columns[0]: "date"})
        .melt("date", var_name="athlete_id", value_name="v")
        .dropna()
    )
    raw["date"] = pd.to_datetime(raw["date"], format="%d.%m.%Y")
    raw = raw.set_index(["athlete_id", "date"])["v"]
    # PmSys 1 = very sore -> contract 10 (extreme); 5 = not sore -> 0
    assert np.allclose(w.loc[raw.index, "soreness"], 10 - (raw - 1) * 2.5)
    for item in ("sleep_quality", "fatigue", "soreness", "stress", "mood"):
        assert w[item].dropna().between(0, 10).all()
    # on the contract's scales the "bad" items rise together and fall with mood and sleep quality
    c = w[["soreness", "fatigue", "stress", "mood", "sleep_quality"]].corr()
    assert c.loc["soreness", "fatigue"] > 0.3 and c.loc["soreness", "stress"] > 0.2
    assert c.loc["soreness", "mood"] < -0.2 and c.loc["fatigue", "sleep_quality"] < -0.2


@soccermon
def test_soccermon_soreness_z_rises_with_reported_soreness(sm):
    from sprintlab.features.panel import build_panel

    p = build_panel(sm).panel
    c = p[["soreness_z", "fatigue_z", "mood_z", "soreness_7d"]].corr()
    assert c.loc["soreness_z", "soreness_7d"] > 0.3 and c.loc["soreness_z", "fatigue_z"] > 0.1
    assert c.loc["soreness_z", "mood_z"] < 0


@soccermon
def test_soccermon_sessions_sum_to_the_daily_load_file(sm):
    tl = sm["training_load"]
    assert len(tl) == 16265 and tl["session_type"].str.match(r"^session_\d+$").all()
    sess = (tl["duration_min"] * tl["rpe"]).groupby([tl["athlete_id"], tl["date"]]).sum()
    daily = pd.read_csv(SOCCERMON_DIR / "training-load" / "daily_load.csv")
    daily = daily.rename(columns={daily.columns[0]: "date"}).melt(
        "date", var_name="athlete_id", value_name="load"
    )
    daily = daily[daily["load"] > 0]
    daily["date"] = pd.to_datetime(daily["date"], format="%d.%m.%Y")
    daily = daily.set_index(["athlete_id", "date"])["load"]
    both = pd.concat([sess.rename("sess"), daily.rename("daily")], axis=1)
    assert both["sess"].notna().all()  # every day with load in daily_load.csv has sessions
    only_sessions = both[both["daily"].isna()]
    assert (
        len(only_sessions) == 6 and (only_sessions["sess"] == 0).all()
    )  # zero-load sessions (rpe or minutes 0)
    b = both.dropna()
    assert len(b) == 14191 and int(np.isclose(b["sess"], b["daily"]).sum()) == 14081
    assert (b["sess"] <= b["daily"]).all()  # where they differ, session.json has less load, never more


@soccermon
def test_soccermon_episodes_are_built_from_the_mapping_rows(sm):
    from benchmarks.realdata import SOCCERMON_MAPPING, soccermon_report_days

    from sprintlab.contract.mapping import import_with_mapping

    mapped = import_with_mapping(SOCCERMON_MAPPING, SOCCERMON_DIR)["injuries"]
    assert len(mapped) == 232  # runs of consecutive days per player, body part and side
    days = soccermon_report_days(mapped)
    raw = pd.read_csv(SOCCERMON_DIR / "injury" / "injury.csv")
    want = {
        (r.player_name, pd.Timestamp(pd.to_datetime(r.timestamp, format="%d.%m.%Y")), k)
        for r in raw.itertuples()
        for k in json.loads(r.type)
    }
    assert set(days.itertuples(index=False, name=None)) == want and len(days) == len(want) == 299
    ep = sm["injuries"]
    assert len(ep) == 43 and (ep["body_part"] == "thigh").sum() == 24 and (ep["side"] == "both").all()
    # a new episode starts >= 7 days after the player's previous report
    last = ep["onset_date"] + pd.to_timedelta(ep["days_lost"] - 1, unit="D")
    gap = (ep["onset_date"] - last.groupby(ep["athlete_id"]).shift()).dt.days.dropna()
    assert (gap >= 7).all()
    assert set(sm["athletes"]["athlete_id"]) >= set(ep["athlete_id"]) and len(sm["athletes"]) == 50


@jovanovic
# the model's and LightGBM's CV folds can hold fewer positive weeks than folds: sklearn warns
@pytest.mark.filterwarnings("ignore:The least populated class in y:UserWarning")
def test_jovanovic_source_split_scores_the_shipped_family_beside_lightgbm(jov):
    from pathlib import Path

    from benchmarks.realdata import REAL_MONOTONE, evaluate_folds, real_units, source_split_folds

    from sprintlab.config import load_params
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.estimator import CalibratedLGBMClassifier
    from sprintlab.models.families import LIGHTGBM, family_of

    tables, split = jov
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml").train.hamstring
    units = real_units(tables, "hamstring")
    folds = source_split_folds(units, list(split[split == "Test"].index))
    kw = {"model_params": params.estimator_kwargs(), "n_boot": 0, "seed": 0}
    res = evaluate_folds(units, folds, protocol="p1", model_family=params.model_family, **kw)
    m, pred = res.metrics, res.predictions
    assert m["model_family"] == params.model_family and m["n_test_units"] == 182 and m["n_test_events"] == 16
    assert set(m["baselines"]) == {"prevalence", "acwr_threshold"} | (
        {"lightgbm"} if params.model_family != LIGHTGBM else set()
    )
    # the comparison is LightGBM fitted as the model was before issue #24: the training events are
    # athlete 04's only, too few to calibrate out of fold, so its raw probabilities
    usable = units[units["label_complete"]].reset_index(drop=True)
    train, test = usable.iloc[folds[0][0]], usable.iloc[folds[0][1]]
    feats = m["features"]
    x_tr = feature_matrix(train, feats)
    monotone = {k: v for k, v in REAL_MONOTONE.items() if k in x_tr}
    lgbm = CalibratedLGBMClassifier(
        random_state=0, **{**kw["model_params"], "monotone": monotone, "calibration": "none"}
    )
    lgbm.fit(x_tr, train["y"].to_numpy(), groups=train["athlete_id"].to_numpy())
    want = lgbm.predict_proba(feature_matrix(test, feats))[:, 1]
    column = "p_lightgbm" if params.model_family != LIGHTGBM else "p_model"
    np.testing.assert_array_equal(pred[column].to_numpy(), want)
    assert family_of(lgbm) == LIGHTGBM and "lightgbm calibration none" in m["folds"][0]
    assert f"model {params.model_family} " in m["folds"][0]
