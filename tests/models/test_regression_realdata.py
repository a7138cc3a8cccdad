"""Conformal regression interval, monotone constraints, CV early stopping, real-data adapters."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmarks.realdata import JOVANOVIC_CSV, SOCCERMON_DIR

from sprintlab.models.estimator import CalibratedLGBMClassifier, ConformalLGBMRegressor


def test_conformal_interval_covers_at_nominal_rate():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = 0.05 * X["a"].to_numpy() + rng.normal(0, 0.02, n)
    groups = np.repeat(np.arange(n // 10), 10)
    reg = ConformalLGBMRegressor(n_estimators=200, coverage=0.9).fit(
        X.iloc[:1000], y[:1000], groups=groups[:1000]
    )
    pi = reg.predict_interval(X.iloc[1000:])
    inside = (y[1000:] >= pi[:, 1]) & (y[1000:] <= pi[:, 2])
    assert 0.85 <= inside.mean() <= 0.95
    assert np.mean(np.abs(y[1000:] - pi[:, 0])) < np.mean(np.abs(y[1000:] - y[:1000].mean()))


def test_monotone_constraint_and_cv_early_stopping():
    rng = np.random.default_rng(1)
    n = 2000
    X = pd.DataFrame({"x": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(-1 + X["x"])))).astype(int)
    m = CalibratedLGBMClassifier(
        n_estimators=400, num_leaves=2, early_stopping=True, monotone={"x": 1}, random_state=0
    ).fit(X, y, groups=np.repeat(np.arange(n // 20), 20))
    assert 1 <= m.n_rounds_ < 400
    grid = pd.DataFrame({"x": np.linspace(-3, 3, 50), "noise": 0.0})
    assert np.all(np.diff(m.decision_function(grid)) >= -1e-12)
    with pytest.raises(ValueError, match="monotone"):
        CalibratedLGBMClassifier(monotone={"x": 2}).fit(X, y)


@pytest.mark.real_data
@pytest.mark.skipif(not JOVANOVIC_CSV.exists(), reason=f"real data not available: {JOVANOVIC_CSV} is absent")
def test_jovanovic_maps_into_the_contract_and_builds_units():
    from benchmarks.realdata import load_jovanovic, real_units

    tables, split = load_jovanovic()
    assert set(split) == {"Train", "Test"} and len(split) == 6
    assert sorted(split[split == "Test"].index) == ["Athlete 02", "Athlete 03"]
    assert len(tables["injuries"]) == 6 and (tables["injuries"]["body_part"] == "hamstring").all()
    tl = tables["training_load"]
    assert (tl["srpe_load_au"] > 0).all() and tables["athletes"]["body_mass_kg"].isna().all()
    u = real_units(tables)
    assert u["y"].sum() > 0 and {"acwr_ewma", "hsr_vs_own_norm"} <= set(u.columns)


@pytest.mark.real_data
@pytest.mark.skipif(not SOCCERMON_DIR.exists(), reason=f"real data not available: {SOCCERMON_DIR} is absent")
def test_soccermon_injury_reports_collapse_into_episodes():
    from benchmarks.realdata import SOCCERMON_MAPPING, soccermon_injury_episodes

    from sprintlab.contract.mapping import import_with_mapping

    mapped = import_with_mapping(SOCCERMON_MAPPING, SOCCERMON_DIR)["injuries"]
    ep = soccermon_injury_episodes(mapped)
    raw = pd.read_csv(SOCCERMON_DIR / "injury" / "injury.csv")
    assert 0 < len(ep) < len(raw) and ep["athlete_id"].nunique() == raw["player_name"].nunique()
    assert (ep["days_lost"] >= 1).all() and (ep["body_part"] == "thigh").any()
