"""Calibrated LightGBM, the athlete/time split and the metrics, on data with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sprintlab.models.estimator import CalibratedLGBMClassifier, ConformalLGBMRegressor
from sprintlab.models.evaluation import (
    AcwrThresholdRule,
    athlete_time_split,
    calibration_slope_intercept,
    point_metrics,
)


def _logistic_data(n: int = 4000, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "noise": rng.normal(size=n)})
    logit = -1.5 + 1.2 * X["x1"] - 0.8 * X["x2"]
    p = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < p).astype(int)
    groups = np.repeat(np.arange(n // 20), 20)
    return X, y, p.to_numpy(), groups


def test_model_recovers_known_probabilities_and_is_calibrated():
    X, y, p_true, groups = _logistic_data()
    m = CalibratedLGBMClassifier(n_estimators=200, random_state=1).fit(
        X.iloc[:3000], y[:3000], groups=groups[:3000]
    )
    p = m.predict_proba(X.iloc[3000:])[:, 1]
    assert np.corrcoef(p, p_true[3000:])[0, 1] > 0.9
    slope, intercept = calibration_slope_intercept(y[3000:], p)
    assert 0.7 < slope < 1.3
    assert abs(p.mean() - y[3000:].mean()) < 0.03


def test_fitted_state_and_validation():
    X, y, _, groups = _logistic_data(400)
    m = CalibratedLGBMClassifier(calibration="isotonic", n_estimators=20)
    assert not hasattr(m, "booster_")
    m.fit(X, y, groups=groups)
    assert list(m.feature_names_in_) == ["x1", "x2", "noise"] and np.isfinite(m.oof_margin_).all()
    with pytest.raises(ValueError, match="calibration"):
        CalibratedLGBMClassifier(calibration="platt").fit(X, y)
    with pytest.raises(ValueError, match="both classes"):
        CalibratedLGBMClassifier().fit(X, np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="missing"):
        m.predict_proba(X.drop(columns="x2"))


@parametrize_with_checks(
    [
        CalibratedLGBMClassifier(n_estimators=50),
        CalibratedLGBMClassifier(n_estimators=50, calibration="isotonic", balance=True, early_stopping=True),
        ConformalLGBMRegressor(n_estimators=50),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    """Both estimators pass every scikit-learn API check that applies to them (none is expected
    to fail): parameters only stored in ``__init__``, fitted state ending in ``_``, input
    validation, ``classes_`` for any two labels, pickling, feature names."""
    check(estimator)


def test_decision_function_is_the_calibrated_log_odds_and_margin_the_explained_one():
    X, y, _, groups = _logistic_data(400)
    m = CalibratedLGBMClassifier(n_estimators=20).fit(X, y, groups=groups)
    p = m.predict_proba(X)[:, 1]
    np.testing.assert_allclose(m.decision_function(X), np.log(p / (1 - p)))
    np.testing.assert_allclose(m.margin(X), m.booster_.predict(X, raw_score=True))
    labelled = CalibratedLGBMClassifier(n_estimators=20).fit(X, np.where(y == 1, "injury", "none"))
    assert list(labelled.classes_) == ["injury", "none"]
    assert set(labelled.predict(X)) <= {"injury", "none"}


def test_split_never_shares_athletes_and_respects_time():
    units = pd.DataFrame(
        {
            "athlete_id": np.repeat([f"a{i}" for i in range(20)], 10),
            "unit_date": np.tile(pd.date_range("2025-01-05", periods=10, freq="7D"), 20),
        }
    )
    s = athlete_time_split(units, test_athlete_fraction=0.3, test_time_fraction=0.4, purge_days=14, seed=3)
    tr, te = units.iloc[s.train], units.iloc[s.test]
    assert set(tr["athlete_id"]).isdisjoint(te["athlete_id"])
    assert tr["unit_date"].max() < s.cutoff - pd.Timedelta(days=13)
    assert te["unit_date"].min() >= s.cutoff
    assert len(set(te["athlete_id"])) == 6


def test_metrics_known_answers():
    y = np.array([0, 0, 1, 1])
    m = point_metrics(y, np.array([0.1, 0.4, 0.35, 0.8]), threshold=0.5)
    assert m["roc_auc"] == pytest.approx(0.75)
    assert m["brier"] == pytest.approx((0.01 + 0.16 + 0.4225 + 0.04) / 4)
    assert m["sensitivity"] == pytest.approx(0.5) and m["precision"] == pytest.approx(1.0)


def test_acwr_rule_uses_training_rates():
    X = pd.DataFrame({"acwr_ewma": [0.9, 1.0, 1.6, 1.7, 1.8, 0.8]})
    y = np.array([0, 0, 1, 0, 1, 1])
    r = AcwrThresholdRule(1.5).fit(X, y)
    np.testing.assert_allclose(r.predict_proba(X)[:, 1], [1 / 3, 1 / 3, 2 / 3, 2 / 3, 2 / 3, 1 / 3])


def _threshold_data(n: int = 3000, seed: int = 0):
    """A measured outcome ``change = -0.03 x1 + 0.02 x2 + noise``; the event is ``change < -0.02``.

    True event probability: ``Phi((-0.02 - mu) / 0.02)`` with ``mu`` the noise-free change.
    """
    from scipy.stats import norm

    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"x1": rng.normal(size=n), "x2": rng.normal(size=n), "noise": rng.normal(size=n)})
    mu = -0.03 * X["x1"] + 0.02 * X["x2"]
    change = pd.Series(mu + rng.normal(0, 0.02, n), name="change_s")
    y = (change < -0.02).astype(int).to_numpy()
    return X, y, change, norm.cdf((-0.02 - mu) / 0.02), np.repeat(np.arange(n // 10), 10)


def test_learning_the_outcome_recovers_the_event_probability_with_linear_log_odds():
    X, y, change, p_true, groups = _threshold_data()
    m = CalibratedLGBMClassifier(
        n_estimators=300,
        num_leaves=4,
        early_stopping=True,
        learn_from="outcome",
        outcome_sign=-1,
        random_state=0,
    )
    m.fit(X.iloc[:2000], y[:2000], groups=groups[:2000], outcome=change.iloc[:2000])
    assert m.outcome_name_ == "change_s" and m.calibrator_ is None
    intercept, slope = m.margin_affine_
    assert slope > 0  # a faster (more negative) change raises the event's log-odds
    p = m.predict_proba(X.iloc[2000:])[:, 1]
    assert np.corrcoef(p, p_true[2000:])[0, 1] > 0.95
    cal_slope, _ = calibration_slope_intercept(y[2000:], p)
    assert 0.8 < cal_slope < 1.2
    raw = m.booster_.predict(X.iloc[2000:], raw_score=True)
    np.testing.assert_allclose(m.decision_function(X.iloc[2000:]), intercept + slope * raw)
    np.testing.assert_allclose(m.proba_from_raw(raw), p)
    # the same data learned from the 0/1 label alone ranks the units less well
    lab = CalibratedLGBMClassifier(n_estimators=300, num_leaves=4, early_stopping=True, random_state=0)
    lab.fit(X.iloc[:2000], y[:2000], groups=groups[:2000])
    p_lab = lab.predict_proba(X.iloc[2000:])[:, 1]
    assert np.corrcoef(p, p_true[2000:])[0, 1] > np.corrcoef(p_lab, p_true[2000:])[0, 1]


def test_learning_the_outcome_validates_its_inputs():
    X, y, change, _, groups = _threshold_data(400)
    with pytest.raises(ValueError, match="needs the outcome"):
        CalibratedLGBMClassifier(learn_from="outcome").fit(X, y, groups=groups)
    with pytest.raises(ValueError, match="calibration: sigmoid"):
        CalibratedLGBMClassifier(learn_from="outcome", calibration="isotonic").fit(X, y, outcome=change)
    with pytest.raises(ValueError, match="finite"):
        CalibratedLGBMClassifier(learn_from="outcome").fit(X, y, outcome=change.where(change > 0))


def test_an_outcome_that_does_not_rank_the_labels_gives_the_base_rate(caplog):
    X, y, change, _, groups = _threshold_data(400)
    # wrong sign: a slower change is not the event, so out of fold the ranking is inverted
    m = CalibratedLGBMClassifier(learn_from="outcome", outcome_sign=1, n_estimators=50)
    with caplog.at_level("WARNING", logger="sprintlab.models.estimator"):
        m.fit(X, y, groups=groups, outcome=change)
    assert "does not rank" in caplog.text and m.margin_affine_[1] == 0.0
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], y.mean())


def test_a_model_pickled_before_learn_from_existed_still_scores():
    X, y, _, groups = _logistic_data(400)
    m = CalibratedLGBMClassifier(n_estimators=20).fit(X, y, groups=groups)
    p = m.predict_proba(X)[:, 1]
    for attr in ("learn_from", "outcome_sign", "margin_affine_"):  # the state an older release pickled
        delattr(m, attr)
    np.testing.assert_allclose(m.predict_proba(X)[:, 1], p)


def test_calibration_slope_recovers_a_known_miscalibration_and_its_interval_covers_it():
    rng = np.random.default_rng(4)
    n = 20_000
    lp = rng.normal(-2.5, 1.0, n)  # the model's logit
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.3 + 0.5 * lp)))).astype(int)  # truth: a = 0.3, b = 0.5
    p = 1 / (1 + np.exp(-lp))
    slope, intercept = calibration_slope_intercept(y, p)
    assert abs(slope - 0.5) < 0.05 and abs(intercept - 0.3) < 0.15
    from sprintlab.models.evaluation import bootstrap_cis

    ci = bootstrap_cis(y, p, np.arange(n) // 50, n_boot=200, seed=1)
    lo, hi = ci["calibration_slope_ci"]
    assert lo < 0.5 < hi and hi - lo < 0.15
    assert ci["roc_auc_ci"][0] < ci["roc_auc_ci"][1]
    assert np.isnan(calibration_slope_intercept(np.zeros(10), np.full(10, 0.2))[0])
    # perfectly separated data: no finite maximum-likelihood slope
    y_sep = np.r_[np.zeros(50), np.ones(50)]
    p_sep = np.r_[np.full(50, 0.1), np.full(50, 0.9)]
    assert np.isnan(calibration_slope_intercept(y_sep, p_sep)[0])
