"""The hamstring flag policy: weekly top share, rule cut-offs, injury counting, net benefit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.models.flag_policy import (
    ONSET_COLUMN,
    brier_skill,
    decision_metrics,
    flag_figures,
    hamstring_rules,
    injury_ids,
    net_benefit,
    skill_of_brier,
    top_k_flags,
    top_share_flags,
    training_threshold,
)
from sprintlab.targets import hamstring_labels


def test_top_share_flags_the_highest_ceil_share_of_each_week():
    score = np.array([0.9, 0.1, 0.5, 0.3, 0.8, 0.2, 0.7, 0.05, 0.6, 0.4, 0.01, 0.99, 0.5])
    week = np.array(["a"] * 10 + ["b"] * 3)
    flags = top_share_flags(score, week, 0.2, seed=0)
    # week a: ceil(0.2 * 10) = 2 -> 0.9 and 0.8; week b: ceil(0.2 * 3) = 1 -> 0.99
    assert np.flatnonzero(flags).tolist() == [0, 4, 11]


def test_top_share_breaks_ties_at_random_and_flags_exactly_k():
    const = np.zeros(100)
    week = np.zeros(100)
    a = top_share_flags(const, week, 0.1, seed=1)
    b = top_share_flags(const, week, 0.1, seed=2)
    assert a.sum() == b.sum() == 10
    assert not np.array_equal(a, b)  # not the first ten ids
    assert np.flatnonzero(top_share_flags(np.r_[np.nan, 1.0, 0.0], np.zeros(3), 0.3, 0)).tolist() == [1]


def test_top_k_and_training_threshold():
    assert np.flatnonzero(top_k_flags(np.array([0.1, 0.4, 0.3, 0.2]), 2, 0)).tolist() == [1, 2]
    assert training_threshold(np.arange(101) / 100, 0.1) == pytest.approx(0.9)


def test_rule_cutoffs():
    rules = {r.name: r for r in hamstring_rules(1.5, [256, 279, 337], 10)}
    frame = pd.DataFrame(
        {
            "acwr_ewma": [1.49, 1.5, np.nan],
            "nordic_force_n": [255.9, 256.0, 336.0],
            "days_since_near_max_speed": [10, 11, np.nan],
            "previous_hamstring_injury": [0, 1, np.nan],
        }
    )
    assert rules["acwr_rule"].flags(frame).tolist() == [False, True, False]  # ACWR >= 1.5
    assert rules["nordic_below_256n"].flags(frame).tolist() == [True, False, False]  # < 256 N
    assert rules["nordic_below_279n"].flags(frame).tolist() == [True, True, False]
    assert rules["nordic_below_337n"].flags(frame).tolist() == [True, True, True]
    assert rules["no_near_max_speed_10d"].flags(frame).tolist() == [False, True, False]  # > 10 days
    assert rules["previous_hamstring_injury"].flags(frame).tolist() == [False, True, False]
    assert rules["nordic_below_337n"].source == "Timmins et al. 2016"
    assert rules["nordic_below_256n"].source == "Opar et al. 2015"
    # ranked by its quantity: lower Nordic force = higher risk, a missing value last
    assert rules["nordic_below_256n"].risk(frame).argmax() == 0
    assert rules["acwr_rule"].risk(frame)[2] == -np.inf


def _two_injuries() -> tuple[pd.DataFrame, pd.DataFrame]:
    weeks = pd.DataFrame({"athlete_id": "A", "week_end": pd.date_range("2025-01-05", periods=12, freq="7D")})
    injuries = pd.DataFrame(
        {
            "athlete_id": ["A", "A"],
            "onset_date": pd.to_datetime(["2025-02-05", "2025-03-20"]),
            "days_lost": [1, 1],
            "body_part": ["Hamstring", "hamstring"],
        }
    )
    return weeks, injuries


def test_injuries_are_onsets_not_positive_weeks():
    weeks, injuries = _two_injuries()
    lab = hamstring_labels(weeks, injuries, horizon_days=28)
    y = lab["hamstring_injury"].to_numpy()
    assert y.sum() == 8  # four weeks before each onset
    assert lab.loc[y == 1, ONSET_COLUMN].nunique() == 2
    assert lab.loc[y == 0, ONSET_COLUMN].isna().all()
    ids = injury_ids(
        lab["athlete_id"].to_numpy(), lab["week_end"].to_numpy(), y, lab[ONSET_COLUMN].to_numpy()
    )
    runs = injury_ids(lab["athlete_id"].to_numpy(), lab["week_end"].to_numpy(), y, None)
    assert np.unique(ids[ids >= 0]).size == np.unique(runs[runs >= 0]).size == 2
    flags = np.zeros(len(y), dtype=bool)
    flags[np.flatnonzero(y)[[0, 1]]] = True  # two flagged weeks before the first onset
    fig = flag_figures(y, flags, ids, lab["week_end"].to_numpy())
    assert fig["injuries_caught"] == 1
    assert fig["sensitivity"] == pytest.approx(2 / 8)
    assert fig["injury_sensitivity"] == pytest.approx(1 / 2)
    assert fig["precision"] == pytest.approx(1.0)
    assert fig["flag_rate"] == pytest.approx(2 / 12)


def test_net_benefit_hand_computed():
    y = np.array([1, 1, 0, 0, 0])
    p = np.array([0.5, 0.05, 0.2, 0.01, 0.03])
    at = {r["threshold"]: r for r in net_benefit(y, p, [0.04, 0.10])}
    # p_t = 0.10: flags rows 0 (TP) and 2 (FP): 1/5 - 1/5 * 0.1/0.9
    assert at[0.10]["net_benefit"] == pytest.approx(0.2 - 0.2 / 9)
    # p_t = 0.04: flags rows 0, 1 (TP) and 2 (FP): 2/5 - 1/5 * 0.04/0.96
    assert at[0.04]["net_benefit"] == pytest.approx(0.4 - 0.2 * 0.04 / 0.96)
    assert at[0.10]["flag_all"] == pytest.approx(2 / 5 - 3 / 5 / 9)


def test_brier_skill():
    y = np.array([1, 0, 0, 0])
    assert brier_skill(y, y.astype(float), 0.25) == pytest.approx(1.0)
    assert brier_skill(y, np.full(4, 0.25), 0.25) == pytest.approx(0.0)
    assert brier_skill(y, np.full(4, 0.75), 0.25) < 0
    # one prevalence per row (pooled origins): reference = mean((y - pi_i)^2) = (0.81 + 0.01 + 0.04 + 0.04) / 4
    pi = np.array([0.1, 0.1, 0.2, 0.2])
    assert brier_skill(y, pi, pi) == pytest.approx(0.0)
    assert brier_skill(y, np.full(4, 0.25), pi) == pytest.approx(1 - (0.5625 + 3 * 0.0625) / 0.90)


def test_skill_of_brier_from_two_scores_is_the_brier_skill():
    y, p = np.array([1, 0, 0, 0]), np.array([0.6, 0.1, 0.3, 0.2])
    brier, reference = float(np.mean((y - p) ** 2)), float(np.mean((y - 0.25) ** 2))
    assert skill_of_brier(brier, reference) == pytest.approx(brier_skill(y, p, 0.25))
    assert skill_of_brier(0.02, 0.025) == pytest.approx(0.2)
    assert np.isnan(skill_of_brier(0.02, 0.0)) and np.isnan(skill_of_brier(float("nan"), 0.025))


def test_decision_metrics_hold_baselines_and_rules_to_the_models_flag_count():
    weeks, injuries = _two_injuries()
    lab = hamstring_labels(weeks, injuries, horizon_days=28)
    test = lab.rename(columns={"hamstring_injury": "y"}).assign(
        unit_date=lambda d: d["week_end"],
        acwr_ewma=np.linspace(1, 2, 12),
        nordic_force_n=300.0,
        days_since_near_max_speed=5,
        previous_hamstring_injury=0,
    )
    p = test["y"].to_numpy() * 0.5 + 0.01
    out = decision_metrics(
        test,
        p,
        {"prevalence": np.full(12, 0.1)},
        np.linspace(0, 1, 11),
        share=0.5,
        rules=hamstring_rules(1.5, [256], 10),
        thresholds=[0.05],
        prevalence=0.1,
        seed=0,
    )
    assert out["n_test_injuries"] == 2 and out["n_test_positive_weeks"] == 8
    assert out["model"]["injuries_caught"] == 2  # every week is its own week: ceil(0.5 * 1) flags all
    assert out["baselines"]["prevalence"]["flag_rate"] == out["model"]["flag_rate"]
    acwr = out["rules"]["acwr_rule"]
    assert acwr["at_cutoff"]["flag_rate"] == acwr["model_at_cutoff_rate"]["flag_rate"]
    assert acwr["model_at_cutoff_rate"]["precision"] == pytest.approx(1.0)
