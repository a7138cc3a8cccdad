"""Known answers for scoring bundle choices: top agreement, regret and the baseline rules."""

from __future__ import annotations

import pandas as pd
import pytest

from sprintlab.lever_choice import (
    always,
    choice_scores,
    compare_choosers,
    model_choice,
    regret_by_choice,
    threshold_rule,
    true_best,
)

# three athletes' true benefits (probability units) of three bundles
TRUTH = pd.DataFrame(
    {
        "more_strength": [0.10, 0.02, 0.05],
        "better_control": [0.04, 0.08, 0.05],
        "better_timing": [0.01, 0.03, 0.09],
    },
    index=pd.Index(["A", "B", "C"], name="athlete_id"),
)


def test_a_chooser_that_always_picks_the_true_best_has_no_regret():
    scores = choice_scores(TRUTH, true_best(TRUTH))
    assert scores == {"top_agreement": 1.0, "mean_regret": 0.0}


def test_always_strength_on_three_athletes():
    scores = choice_scores(TRUTH, always("more_strength", TRUTH.index))
    # A: best 0.10 picked 0.10; B: 0.08 - 0.02; C: 0.09 - 0.05
    assert scores["top_agreement"] == pytest.approx(1 / 3)
    assert scores["mean_regret"] == pytest.approx((0 + 0.06 + 0.04) / 3)


def test_one_feature_rule_on_three_athletes():
    control = pd.Series([3.5, 2.0, 2.9], index=TRUTH.index)
    chosen = threshold_rule(control, 3.0, "better_control", "more_strength")
    assert chosen.tolist() == ["more_strength", "better_control", "better_control"]
    scores = choice_scores(TRUTH, chosen)
    assert scores["top_agreement"] == pytest.approx(2 / 3)
    assert scores["mean_regret"] == pytest.approx((0 + 0 + 0.04) / 3)


def test_missing_feature_counts_as_not_below():
    chosen = threshold_rule(pd.Series([float("nan")], index=["A"]), 3.0, "better_control", "more_strength")
    assert chosen.tolist() == ["more_strength"]


def test_model_choice_and_comparison():
    modelled = TRUTH.assign(better_timing=[0.0, 0.0, 0.0])
    out = compare_choosers(
        TRUTH, {"model": model_choice(modelled), "always": always("better_timing", TRUTH.index)}
    )
    # the model picks A strength, B control, C strength/control tie -> first column (strength)
    assert out["model"]["top_agreement"] == pytest.approx(2 / 3)
    assert out["model"]["mean_regret"] == pytest.approx(0.04 / 3)
    assert out["always"]["mean_regret"] == pytest.approx((0.09 + 0.05 + 0) / 3)


def test_unknown_bundle_is_an_error():
    with pytest.raises(ValueError, match="not among the candidates"):
        choice_scores(TRUTH, always("better_sleep", TRUTH.index))


def test_regret_by_choice_splits_the_regret_by_chosen_and_true_best_bundle():
    # always strength: A right (0), B control best (0.06), C timing best (0.04)
    pairs = regret_by_choice(TRUTH, always("more_strength", TRUTH.index))
    assert [(p["chosen"], p["true_best"], p["athletes"]) for p in pairs] == [
        ("more_strength", "better_control", 1),
        ("more_strength", "better_timing", 1),
        ("more_strength", "more_strength", 1),
    ]
    assert [p["regret_sum"] for p in pairs] == pytest.approx([0.06, 0.04, 0.0])
    assert [p["regret_share"] for p in pairs] == pytest.approx([0.6, 0.4, 0.0])
    # the oracle: every pair on the diagonal, no regret, shares 0
    assert all(
        p["regret_sum"] == 0 and p["regret_share"] == 0 for p in regret_by_choice(TRUTH, true_best(TRUTH))
    )
