"""Rolling-origin protocol of benchmarks/realdata.py: split, athlete-identity baseline and pooled
figures on hand-computed cases; the model of the shipped family and the LightGBM comparison fitted per
fold (synthetic units); the whole protocol on the Jovanovic sample (skipped when ../shared/datasets is
absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmarks.realdata import (
    JOVANOVIC_CSV,
    REAL_MONOTONE,
    _fit_family,
    _fold_predictions,
    athlete_identity_risk,
    calibration_in_the_large,
    purge_violations,
    repeat_onsets,
    rolling_method_metrics,
    rolling_origin_folds,
    tables_as_of,
)

from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.families import LIGHTGBM, LINEAR_INTERACTION
from sprintlab.models.flag_policy import ONSET_COLUMN
from sprintlab.models.linear import LOGISTIC_CS, InteractionLogisticClassifier

#: LightGBM settings of a quick fit (the bench passes ``train.hamstring.estimator_kwargs()``)
QUICK_LGBM = {"n_estimators": 30, "num_leaves": 2, "learning_rate": 0.1, "cv_folds": 3, "monotone": {"x": -1}}


def _panel(n_weeks: int = 30) -> pd.DataFrame:
    """3 athletes x ``n_weeks`` Sundays from 2024-01-07; one positive week (athlete A, week 2) and
    another (athlete C, week 12); the last 4 weeks are label-incomplete."""
    weeks = pd.date_range("2024-01-07", periods=n_weeks, freq="7D")
    units = pd.DataFrame(
        [(a, w, k) for k, w in enumerate(weeks) for a in ("A", "B", "C")],
        columns=["athlete_id", "unit_date", "k"],
    )
    units["week_end"] = units["unit_date"]
    units["y"] = (
        ((units["athlete_id"] == "A") & (units["k"] == 2))
        | ((units["athlete_id"] == "C") & (units["k"] == 12))
    ).astype(int)
    units["label_complete"] = units["k"] < n_weeks - 4
    return units


def test_rolling_origins_on_a_known_panel():
    units = _panel()
    folds = rolling_origin_folds(units, step_weeks=8, purge_days=28, min_train_events=1, min_train_units=3)
    usable = units[units["label_complete"]].reset_index(drop=True)
    # first date with >= 1 event and >= 3 units up to it: week 2 (2024-01-21); origin = + 28 days;
    # then every 56 days while on or before the last label-complete week (week 25, 2024-06-30)
    assert [o for o, _, _ in folds] == [pd.Timestamp(d) for d in ("2024-02-18", "2024-04-14", "2024-06-09")]
    assert [len(tr) for _, tr, _ in folds] == [9, 33, 57]  # weeks 0-2, 0-10, 0-18 of 3 athletes
    assert [len(te) for _, _, te in folds] == [24, 24, 12]  # weeks 6-13, 14-21, 22-25
    for origin, tr, te in folds:
        train, test = usable.iloc[tr], usable.iloc[te]
        # no training label horizon (week_end, week_end + 28 d] reaches past the origin
        assert (train["week_end"] + pd.Timedelta(days=28) <= origin).all()
        assert train["athlete_id"].nunique() == 3  # every athlete's history
        assert (test["week_end"] >= origin).all() and (
            test["week_end"] < origin + pd.Timedelta(weeks=8)
        ).all()
        assert test["label_complete"].all() and not set(tr) & set(te)


def test_rolling_origins_wait_for_history():
    units = _panel()
    # 40 units are first reached at week 13 (3 x 14 = 42), which has seen both events
    folds = rolling_origin_folds(units, 8, 28, min_train_events=1, min_train_units=40)
    assert folds[0][0] == pd.Timestamp("2024-04-07") + pd.Timedelta(days=28)
    assert rolling_origin_folds(units.assign(y=0), 8, 28) == []  # never an event: no origin


def test_purge_audit_and_repeat_onsets_on_the_known_panel():
    units = _panel()
    units[ONSET_COLUMN] = pd.NaT
    units.loc[units["y"] == 1, ONSET_COLUMN] = units.loc[units["y"] == 1, "week_end"] + pd.Timedelta(days=3)
    folds = rolling_origin_folds(units, 8, 28, min_train_events=1, min_train_units=3)
    assert purge_violations(units, folds) == 0
    # a split without the purge: training weeks up to the origin see labels from after it
    origin, _, te = folds[1]
    usable = units[units["label_complete"]].reset_index(drop=True)
    leaky = [(origin, np.flatnonzero((usable["week_end"] < origin).to_numpy()), te)]
    # the horizons of weeks 11-13 of the 3 athletes reach past the origin (week 14); C's week-12
    # onset (3 days after that week) is still before the origin
    assert purge_violations(units, leaky) == 3 * 3
    # C's onset (week 12) is tested at the 1st origin (weeks 6-13), after A's training event only
    assert repeat_onsets(units, folds) == {
        "test_onsets": 1,
        "test_onsets_of_athletes_with_a_training_event": 0,
        "athletes_with_an_event": 2,
        "athletes": 3,
    }


def test_tables_as_of_keeps_only_what_was_known():
    day = pd.Timestamp("2024-03-10")
    tables = {
        "athletes": pd.DataFrame({"athlete_id": ["A"]}),
        "training_load": pd.DataFrame(
            {"athlete_id": "A", "date": pd.to_datetime(["2024-03-10", "2024-03-11"])}
        ),
        "injuries": pd.DataFrame(
            {
                "athlete_id": "A",
                "onset_date": pd.to_datetime(["2024-03-01", "2024-03-12"]),
                "days_lost": [30, 5],
            }
        ),
    }
    cut = tables_as_of(tables, day)
    assert list(cut["training_load"]["date"]) == [day]
    # the injury of 1 March is known, its return is not: 10 days lost so far (1-10 March)
    assert cut["injuries"]["days_lost"].tolist() == [10] and "wellness" not in cut


def test_athlete_identity_risk_known_answer():
    ids = np.array(["a"] * 4 + ["b"] * 6)
    y = np.array([1, 0, 1, 0] + [0] * 6)
    # prevalence 2/10 = 0.2; m = 5: a = (2 + 0.2*5)/(4 + 5) = 1/3, b = (0 + 1)/(6 + 5) = 1/11,
    # unseen c = prevalence
    got = athlete_identity_risk(ids, y, np.array(["b", "a", "c"]), m=5)
    np.testing.assert_allclose(got, [1 / 11, 1 / 3, 0.2])
    # default m = 20 athlete-weeks: a = (2 + 4)/(4 + 20) = 0.25
    assert athlete_identity_risk(ids, y, np.array(["a"]))[0] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="pseudo-count"):
        athlete_identity_risk(ids, y, ids, m=0)


def test_calibration_in_the_large_known_answer():
    # O/E = sum y / sum p = 2 / 1
    assert calibration_in_the_large(np.array([1, 0, 0, 1]), np.array([0.5, 0.25, 0.25, 0.0])) == 2.0
    assert calibration_in_the_large(np.array([0, 1]), np.array([0.2, 0.8])) == 1.0
    assert np.isnan(calibration_in_the_large(np.array([0, 1]), np.zeros(2)))


def test_rolling_method_metrics_hand_example():
    d1, d2 = pd.Timestamp("2024-02-01"), pd.Timestamp("2024-03-01")
    pred = pd.DataFrame(
        {
            "athlete_id": ["A", "A", "A", "A", "B", "B"],
            "unit_date": pd.to_datetime(
                ["2023-12-17", "2023-12-24", "2024-01-21", "2024-01-28", "2024-01-28", "2024-02-25"]
            ),
            "y": [0, 0, 1, 1, 0, 1],
            "p": [0.01, 0.03, 0.05, 0.01, 0.001, 0.01],
            "train_prevalence": [0.1, 0.1, 0.1, 0.1, 0.05, 0.05],
            ONSET_COLUMN: [pd.NaT, pd.NaT, d1, d1, pd.NaT, d2],
        }
    )
    m = rolling_method_metrics(pred, "p", threshold=0.02, n_boot=20, seed=7)
    # flagged (p >= 2 %): the 2nd (FP) and 3rd (TP) rows; NB = 1/6 - 1/6 * 0.02/0.98
    assert m["net_benefit"] == pytest.approx(1 / 6 - 1 / 6 * 0.02 / 0.98)
    assert m["flag_all"] == pytest.approx(3 / 6 - 3 / 6 * 0.02 / 0.98)
    assert m["flag_rate"] == pytest.approx(2 / 6)
    # onsets: A's (caught by its flagged week before it) and B's (its only week not flagged)
    assert m["onsets_caught"] == 1
    assert m["o_e"] == pytest.approx(3 / 0.111)
    y, p, pi = pred["y"].to_numpy(), pred["p"].to_numpy(), pred["train_prevalence"].to_numpy()
    assert m["brier_skill"] == pytest.approx(1 - np.mean((y - p) ** 2) / np.mean((y - pi) ** 2))
    # AUC: of the 9 positive-negative pairs the positive ranks above in 5, ties (0.01 vs 0.01) count 1/2
    assert m["roc_auc"] == pytest.approx((5 + 0.5 * 2) / 9)


def _units(n_athletes: int = 12, n_weeks: int = 20, n_events: int = 40, seed: int = 0) -> pd.DataFrame:
    """Synthetic athlete-week units: ``hsr_vs_own_norm`` raises the risk, ``acwr_ewma`` is noise;
    ``n_events`` positive weeks at the rows of highest latent risk."""
    rng = np.random.default_rng(seed)
    n = n_athletes * n_weeks
    units = pd.DataFrame(
        {
            "athlete_id": np.repeat([f"a{k:02d}" for k in range(n_athletes)], n_weeks),
            "unit_date": np.tile(pd.date_range("2024-01-07", periods=n_weeks, freq="7D"), n_athletes),
            "hsr_vs_own_norm": rng.normal(1, 0.3, n),
            "acwr_ewma": rng.normal(1.1, 0.3, n),
        }
    )
    risk = units["hsr_vs_own_norm"].to_numpy() + rng.normal(0, 0.2, n)
    units["y"] = 0
    units.loc[np.argsort(-risk)[:n_events], "y"] = 1
    return units


def test_fit_family_builds_the_shipped_family_with_the_real_monotone_signs():
    units = _units()
    x, y, g = units[["hsr_vs_own_norm", "acwr_ewma"]], units["y"].to_numpy(), units["athlete_id"].to_numpy()
    model, note = _fit_family(LINEAR_INTERACTION, x, y, g, QUICK_LGBM, seed=7)
    assert isinstance(model, InteractionLogisticClassifier) and model.C_grid == LOGISTIC_CS
    # REAL_MONOTONE restricted to the features present (the section's own map is replaced)
    assert model.monotone == {"hsr_vs_own_norm": REAL_MONOTONE["hsr_vs_own_norm"]}
    assert model.C_ in LOGISTIC_CS and note == f"C {model.C_:g} (grouped CV)"
    assert (
        model.coefficient_table().set_index("feature").loc["hsr_vs_own_norm", "standardised_coefficient"] > 0
    )
    # one positive week: a CV training fold has one class, the estimator keeps C itself (C = 1)
    one = np.zeros_like(y)
    one[0] = 1
    model, note = _fit_family(LINEAR_INTERACTION, x, one, g, QUICK_LGBM, seed=7)
    assert model.C_ == 1.0 and note == "C 1 (C of the estimator: a CV training fold has one class)"


# one positive week is fewer than the stratified CV folds: sklearn warns
@pytest.mark.filterwarnings("ignore:The least populated class in y:UserWarning")
def test_fit_family_lightgbm_is_the_calibrated_model_with_its_fallback():
    units = _units()
    x, y, g = units[["hsr_vs_own_norm", "acwr_ewma"]], units["y"].to_numpy(), units["athlete_id"].to_numpy()
    model, note = _fit_family(LIGHTGBM, x, y, g, QUICK_LGBM, seed=7)
    direct = CalibratedLGBMClassifier(
        random_state=7, **{**QUICK_LGBM, "monotone": {"hsr_vs_own_norm": 1}}
    ).fit(x, y, groups=g)
    np.testing.assert_array_equal(model.predict_proba(x), direct.predict_proba(x))
    assert note == f"calibration sigmoid, {direct.n_rounds_} rounds"
    # one positive week: no out-of-fold prediction of it to calibrate on, raw LightGBM probabilities
    one = np.zeros_like(y)
    one[0] = 1
    model, note = _fit_family(LIGHTGBM, x, one, g, QUICK_LGBM, seed=7)
    assert isinstance(model, CalibratedLGBMClassifier) and model.calibration == "none"
    assert note.startswith("calibration none")


def test_fold_predictions_score_the_model_beside_lightgbm():
    units = _units()
    train, test = units[units["athlete_id"] < "a08"], units[units["athlete_id"] >= "a08"]
    feats = ["hsr_vs_own_norm", "acwr_ewma"]
    kw = {"fold": 0, "model_params": QUICK_LGBM, "acwr_threshold": 1.5, "seed": 7}
    out, note = _fold_predictions(train, test, feats, model_family=LINEAR_INTERACTION, **kw)
    assert [c for c in out if c.startswith("p_")] == [
        "p_model",
        "p_lightgbm",
        "p_prevalence",
        "p_acwr_threshold",
    ]
    x_tr, y_tr, g_tr = train[feats], train["y"].to_numpy(), train["athlete_id"].to_numpy()
    model = _fit_family(LINEAR_INTERACTION, x_tr, y_tr, g_tr, QUICK_LGBM, 7)[0]
    lgbm = _fit_family(LIGHTGBM, x_tr, y_tr, g_tr, QUICK_LGBM, 7)[0]
    np.testing.assert_array_equal(out["p_model"], model.predict_proba(test[feats])[:, 1])
    np.testing.assert_array_equal(out["p_lightgbm"], lgbm.predict_proba(test[feats])[:, 1])
    assert "model linear_interaction C " in note and "lightgbm calibration sigmoid" in note
    # a LightGBM model is not fitted twice: no comparison column
    out, note = _fold_predictions(train, test, feats, model_family=LIGHTGBM, **kw)
    assert "p_lightgbm" not in out and "model lightgbm calibration sigmoid" in note
    np.testing.assert_array_equal(out["p_model"], lgbm.predict_proba(test[feats])[:, 1])


@pytest.mark.real_data
# early origins have fewer positive weeks than the model's 5 stratified CV folds: sklearn warns
@pytest.mark.filterwarnings("ignore:The least populated class in y:UserWarning")
@pytest.mark.skipif(not JOVANOVIC_CSV.exists(), reason=f"real data not available: {JOVANOVIC_CSV} is absent")
def test_rolling_protocol_on_jovanovic():
    from benchmarks.realdata import evaluate_rolling, load_jovanovic, real_units

    from sprintlab.config import load_params

    # the project's params.yaml, whatever the working directory (a session fixture may have changed it)
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    units = real_units(load_jovanovic()[0], "hamstring")
    family = params.train.hamstring.model_family
    res = evaluate_rolling(
        units,
        protocol="jovanovic",
        model_family=family,
        model_params=params.train.hamstring.estimator_kwargs(),
        n_boot=20,
        seed=7,
    )
    m, pred = res.metrics, res.predictions
    comparison = {"lightgbm"} if family != LIGHTGBM else set()
    assert (
        set(m["baselines"]) == {"prevalence", "acwr_threshold", "logistic", "athlete_identity"} | comparison
    )
    assert m["model_family"] == family and all(f"; model {family} " in note for note in m["folds"])
    # every test week is predicted once, after its origin and within the 8 weeks after it
    assert not pred.duplicated(["athlete_id", "unit_date"]).any()
    assert (
        (pred["unit_date"] >= pred["origin"]) & (pred["unit_date"] < pred["origin"] + pd.Timedelta(weeks=8))
    ).all()
    assert 0 < m["n_test_onsets"] <= 6 and m["n_test_events"] == int(pred["y"].sum())
    assert (pred["p_prevalence"] == pred["train_prevalence"]).all()


@pytest.mark.real_data
@pytest.mark.skipif(not JOVANOVIC_CSV.exists(), reason=f"real data not available: {JOVANOVIC_CSV} is absent")
def test_jovanovic_features_do_not_look_ahead_of_an_origin():
    from benchmarks.realdata import future_feature_cells, load_jovanovic

    tables = load_jovanovic()[0]
    # mid-season origin of the rolling protocol (2016-12-25): the features of every week up to it
    # are the same whether the data after it exist or not
    audit = future_feature_cells(tables, [pd.Timestamp("2016-12-25")])
    assert audit["feature_cells_compared"] > 0 and audit["feature_cells_differing"] == 0
    assert audit["weeks_only_in_full_panel"] == 0
