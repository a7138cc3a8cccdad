"""Model-family selection (issue #23): the baseline's group Shapley, the paired AUC difference and the
selection rule, on known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sprintlab.models.evaluation import athlete_time_split
from sprintlab.models.transfer_baselines import FeatureLogistic, transfer_baselines
from sprintlab.models.transfer_selection import (
    DECISION_RULE,
    FamilyFit,
    auc_selection,
    best_baseline_explanations,
    complete_selection,
    paired_auc_difference,
    transfer_selection,
)
from sprintlab.transfer_explanations import (
    TRUE_LATENT_UNIT_COLUMNS,
    explanation_blocks,
    model_family_values,
    transfer_explanation_metrics,
)

FEATURES = [
    "strength_change_since_test_pct",  # strength
    "squat_e1rm_rel",  # strength
    "control_score_8w",  # control
    "first_step_contact_ms",  # timing
    "t10_vs_own_typical_s",  # bounce_back
    "hsr_excess_since_test",  # load
    "sleep_deficit_since_test_h",  # wellness
]


def _units(n_athletes: int = 40, blocks: int = 8, seed: int = 0) -> pd.DataFrame:
    """Blocks with the simulator's latent columns, features read from them with noise, and a label
    from a logistic in the latents (strength x control included)."""
    rng = np.random.default_rng(seed)
    n = n_athletes * blocks
    lat = {
        "true_strength_gain": rng.normal(0.08, 0.04, n),
        "true_control_state": rng.normal(0, 1, n),
        "true_braking_state": rng.normal(0, 1, n),
        "true_t10_above_typical_s": rng.normal(0, 0.03, n),
        "true_load_excess": rng.normal(0, 1, n),
        "true_sleep_deficit": rng.normal(0, 1, n),
    }
    u = pd.DataFrame(lat)
    u["athlete_id"] = np.repeat([f"a{i:02d}" for i in range(n_athletes)], blocks)
    u["unit_date"] = pd.Timestamp("2025-01-06") + pd.to_timedelta(
        np.tile(np.arange(blocks) * 42, n_athletes), "D"
    )
    u["label_complete"] = True
    u["strength_change_since_test_pct"] = 100 * u["true_strength_gain"] + rng.normal(0, 1, n)
    u["squat_e1rm_rel"] = rng.normal(1.8, 0.2, n)
    u["control_score_8w"] = u["true_control_state"] + rng.normal(0, 0.3, n)
    u["first_step_contact_ms"] = 180 + 10 * u["true_braking_state"] + rng.normal(0, 3, n)
    u["t10_vs_own_typical_s"] = u["true_t10_above_typical_s"] + rng.normal(0, 0.01, n)
    u["hsr_excess_since_test"] = u["true_load_excess"] + rng.normal(0, 0.3, n)
    u["sleep_deficit_since_test_h"] = u["true_sleep_deficit"] + rng.normal(0, 0.3, n)
    logit = (
        20 * (u["true_strength_gain"] - 0.08) * (1 + u["true_control_state"])
        + 30 * u["true_t10_above_typical_s"]
    )
    u["y"] = (rng.random(n) < 1 / (1 + np.exp(-(logit - 0.3 * u["true_load_excess"])))).astype(int)
    return u


def test_group_shapley_of_a_linear_logit_is_coef_times_distance_to_the_reference_mean():
    """Analytic case: the logistic baseline's margin is ``b0 + sum_j beta_j (x_j - m_j) / s_j`` (training
    median imputation unused: no missing value), so each family's exact group Shapley value against
    a reference set is ``sum_{j in family} (beta_j / s_j) (x_j - mean_ref_j)``."""
    u = _units()
    x, ref = u[FEATURES].iloc[:30], u[FEATURES].iloc[100:160]
    base = FeatureLogistic(FEATURES).fit(u[FEATURES], u["y"].to_numpy())
    scaler, logistic = (
        base.model_.pipeline_.named_steps["standardscaler"],
        base.model_.pipeline_.named_steps["logisticregression"],
    )
    slope = pd.Series(logistic.coef_[0] / scaler.scale_, index=FEATURES)
    phi = model_family_values(base.margin, x, ref)
    families = {
        "strength": ["strength_change_since_test_pct", "squat_e1rm_rel"],
        "control": ["control_score_8w"],
        "timing": ["first_step_contact_ms"],
        "bounce_back": ["t10_vs_own_typical_s"],
        "load": ["hsr_excess_since_test"],
        "wellness": ["sleep_deficit_since_test_h"],
    }
    assert set(phi.columns) == set(families)
    for family, cols in families.items():
        expected = ((x[cols] - ref[cols].mean()) * slope[cols]).sum(axis=1)
        np.testing.assert_allclose(phi[family], expected, rtol=1e-9, atol=1e-12)
    # efficiency: the families add up to margin(x) - mean margin(reference)
    np.testing.assert_allclose(phi.sum(axis=1), base.margin(x) - base.margin(ref).mean(), atol=1e-10)


def test_paired_auc_difference_known_answers():
    rng = np.random.default_rng(1)
    groups = np.repeat(np.arange(30), 6)
    y = rng.integers(0, 2, groups.size)
    noise = rng.random(groups.size)
    same = paired_auc_difference(y, noise, noise, groups, n_boot=200, seed=7)
    assert same["model_minus_baseline"] == 0 and same["ci"] == [0.0, 0.0] and same["tie_within_interval"]
    perfect = y + 0.1 * noise
    better = paired_auc_difference(y, perfect, noise, groups, n_boot=200, seed=7)
    assert better["model_minus_baseline"] == pytest.approx(1 - roc_auc_score(y, noise))
    assert better["ci"][0] > 0 and not better["tie_within_interval"]
    # the same seed gives the same interval; the resamples are the athletes' (paired) draws
    assert paired_auc_difference(y, perfect, noise, groups, n_boot=200, seed=7) == better


def _record(
    d: float, ci: list[float], agree_model: float | None, agree_other: float | None, shipped: str = "lightgbm"
) -> dict:
    """The AUC part (train stage) completed with the agreements (explain stage); ``d`` is the
    shipped family's AUC minus the other's."""
    other = "linear_interaction" if shipped == "lightgbm" else "lightgbm"
    auc_part = auc_selection(
        {"name": shipped, "auc": 0.80},
        {"name": other, "auc": 0.80 - d},
        {
            "model_minus_baseline": d,
            "ci": ci,
            "tie_within_interval": ci[0] <= 0 <= ci[1],
            "n_resamples": 500,
            "seed": 7,
        },
    )
    assert "winner_explanations" not in auc_part and "decision" not in auc_part
    assert "explanations.json" in auc_part["note"] and auc_part["model"]["shipped"]
    rec = complete_selection(auc_part, agree_model, agree_other)
    assert rec["winner_auc"] == auc_part["winner_auc"] and "note" not in rec
    assert rec["model"]["all_blocks_agreement"] == agree_model
    assert rec["other_family"]["all_blocks_agreement"] == agree_other
    assert rec["shipped"] == shipped and rec["shipped_is_rule_choice"] == (rec["rule_keeps"] == shipped)
    assert "Recorded only" not in rec["decision"]
    return rec


def test_selection_names_the_linear_family_better_on_auc_and_agreement_and_says_lightgbm_is_not_it():
    rec = _record(-0.05, [-0.08, -0.02], 0.60, 0.70)  # an analyst ships lightgbm
    assert rec["winner_auc"] == rec["winner_explanations"] == rec["rule_keeps"] == "linear_interaction"
    assert DECISION_RULE in rec["decision"] and not rec["shipped_is_rule_choice"]
    assert "Shipped: lightgbm (train.transfer.model_family), NOT the family the rule keeps" in rec["decision"]
    assert "set train.transfer.model_family: linear_interaction" in rec["decision"]


def test_selection_tie_within_the_interval_names_the_simple_one():
    rec = _record(0.01, [-0.02, 0.04], 0.75, 0.70)  # lightgbm ahead, but inside the interval
    assert rec["winner_auc"] == "linear_interaction" and rec["winner_explanations"] == "lightgbm"
    assert rec["rule_keeps"] == "linear_interaction" and "tie within the AUC interval" in rec["decision"]
    # equal agreement also goes to the simple one
    assert _record(0.05, [0.02, 0.08], 0.70, 0.70)["winner_explanations"] == "linear_interaction"


def test_selection_of_the_shipped_linear_family_on_the_default_squad_figures():
    """The default squad's figures (docs/models.md): linear shipped, AUC -0.003 (CI -0.038..+0.028)
    against LightGBM, agreement 0.780 vs 0.701: the rule keeps the shipped family."""
    rec = _record(0.003, [-0.028, 0.038], 0.780, 0.701, shipped="linear_interaction")
    assert rec["winner_auc"] == rec["winner_explanations"] == rec["rule_keeps"] == "linear_interaction"
    assert rec["shipped_is_rule_choice"] and rec["other_family"]["name"] == "lightgbm"
    assert (
        "Shipped: linear_interaction (train.transfer.model_family), the family the rule keeps."
        in rec["decision"]
    )


def test_selection_keeps_lightgbm_only_when_it_wins_both():
    rec = _record(0.05, [0.02, 0.08], 0.75, 0.70)
    assert rec["winner_auc"] == rec["winner_explanations"] == rec["rule_keeps"] == "lightgbm"
    assert rec["shipped_is_rule_choice"]
    unmeasured = _record(0.05, [0.02, 0.08], None, None)
    assert unmeasured["winner_explanations"] is None and unmeasured["rule_keeps"] == "lightgbm"
    assert "not measured" in unmeasured["decision"]
    # linear shipped but LightGBM better on both: the record says the rule keeps LightGBM
    beaten = _record(-0.05, [-0.08, -0.02], 0.60, 0.70, shipped="linear_interaction")
    assert (
        beaten["rule_keeps"] == "lightgbm"
        and "NOT the family the rule keeps (lightgbm)" in beaten["decision"]
    )


def test_other_family_block_has_the_four_metrics_in_unit_interval():
    """The whole record on a small squad with the simulator's latent state: the shipped linear model
    against the other family (here a plain logistic stands in for it: it has a log-odds margin)."""
    u = _units()
    split = athlete_time_split(u, test_athlete_fraction=0.4, test_time_fraction=0.4, seed=7)
    train, test = u.iloc[split.train], u.iloc[split.test]
    y_test = test["y"].to_numpy()
    fits = {}
    for name, b in (("linear_interaction", "linear_interaction"), ("lightgbm", "logistic_all_features")):
        model = transfer_baselines(FEATURES)[b].fit(train[FEATURES], train["y"].to_numpy())
        p = model.predict_proba(test[FEATURES])[:, 1]
        fits[name] = FamilyFit(name, model, p, {"roc_auc": roc_auc_score(y_test, p)})
    out = transfer_selection(
        fits["linear_interaction"], fits["lightgbm"], u, split, FEATURES, n_boot=100, seed=7
    )
    other = out["other_family_explanations"]
    assert other["name"] == "lightgbm" == out["selection"]["other_family"]["name"]
    for key in (
        "named_share_ge_80pct",
        "family_cosine_median",
        "clear_truth_agreement",
        "all_blocks_agreement",
    ):
        assert 0 <= other[key] <= 1
    assert other["auc"] == fits["lightgbm"].scores["roc_auc"]
    sel = out["selection"]
    # the train stage records the AUC part only: no group Shapley of the shipped model, no decision yet
    assert "all_blocks_agreement" not in sel["model"] and "decision" not in sel
    assert sel["winner_auc"] in ("lightgbm", "linear_interaction") and sel["rule"] == DECISION_RULE
    shipped = fits["linear_interaction"].model
    model_agreement = transfer_explanation_metrics(shipped, FEATURES, *explanation_blocks(u, split.cutoff))
    done = complete_selection(sel, model_agreement["all_blocks_agreement"], other["all_blocks_agreement"])
    assert done["winner_explanations"] in ("lightgbm", "linear_interaction") and done["rule_keeps"]
    # without the simulator's truth: AUC comparison only, completed in the train stage
    blind = transfer_selection(
        fits["linear_interaction"], fits["lightgbm"], u.drop(columns=list(TRUE_LATENT_UNIT_COLUMNS.values())),
        split, FEATURES, n_boot=100, seed=7,
    )  # fmt: skip
    assert "other_family_explanations" not in blind and blind["selection"]["winner_explanations"] is None
    assert blind["selection"]["rule_keeps"] == blind["selection"]["winner_auc"]


def test_best_baseline_explanations_score_the_baseline_with_the_highest_auc():
    """Issue #23: the explanation metrics of the best baseline by held-out AUC, among those with a
    log-odds margin; a baseline without one (or without an AUC) is never picked."""
    u = _units()
    split = athlete_time_split(u, test_athlete_fraction=0.4, test_time_fraction=0.4, seed=7)
    train = u.iloc[split.train]
    fitted = {
        n: transfer_baselines(FEATURES)[n].fit(train[FEATURES], train["y"].to_numpy())
        for n in ("logistic_all_features", "linear_interaction")
    }

    class NoMargin:
        def predict_proba(self, X):
            return np.full((len(X), 2), 0.5)

    baselines = {"prevalence": NoMargin(), **fitted}
    aucs = {"prevalence": {"roc_auc": 0.99}, "logistic_all_features": {"roc_auc": 0.71},
            "linear_interaction": {"roc_auc": 0.70}}  # fmt: skip
    best = best_baseline_explanations(baselines, aucs, u, split.cutoff, FEATURES)
    assert best["name"] == "logistic_all_features" and best["auc"] == 0.71
    expected = transfer_explanation_metrics(
        fitted["logistic_all_features"], FEATURES, *explanation_blocks(u, split.cutoff)
    )
    for key in (
        "named_share_ge_80pct",
        "family_cosine_median",
        "clear_truth_agreement",
        "all_blocks_agreement",
    ):
        assert best[key] == expected[key]
    blind = u.drop(columns=list(TRUE_LATENT_UNIT_COLUMNS.values()))
    assert best_baseline_explanations(baselines, aucs, blind, split.cutoff, FEATURES) is None
    assert best_baseline_explanations({"prevalence": NoMargin()}, aucs, u, split.cutoff, FEATURES) is None
