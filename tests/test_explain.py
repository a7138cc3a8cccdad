"""SHAP explanations: additivity, family sums, plain-language drivers, stability."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.domain import FAMILIES
from sprintlab.explain import explain_units, family_contributions, shap_matrix, truth_agreement
from sprintlab.models.estimator import CalibratedLGBMClassifier

FEATS = ["strength_change_since_test_pct", "pelvic_control_score", "first_step_contact_ms", "sleep_hours_7d"]


def _units(n=600, seed=0):
    rng = np.random.default_rng(seed)
    u = pd.DataFrame(
        {
            "athlete_id": [f"A{i % 60:02d}" for i in range(n)],
            "strength_change_since_test_pct": rng.uniform(0, 15, n),
            "pelvic_control_score": rng.integers(1, 6, n).astype(float),
            "first_step_contact_ms": rng.normal(185, 12, n),
            "sleep_hours_7d": rng.normal(7.5, 0.6, n),
        }
    )
    logit = 0.15 * u.iloc[:, 1] * (u.iloc[:, 2] - 3) / 2 - 0.05 * (u.iloc[:, 3] - 185)
    u["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return u


def _model(u):
    return CalibratedLGBMClassifier(n_estimators=80, random_state=0).fit(
        u[FEATS], u["y"], groups=u["athlete_id"]
    )


def test_additivity_base_plus_contributions_equals_margin():
    u = _units()
    m = _model(u)
    values, base = shap_matrix(m, u[FEATS])
    assert values.shape == (len(u), len(FEATS))
    np.testing.assert_allclose(base + values.sum(axis=1), m.margin(u[FEATS]), atol=1e-6)


def test_shap_matrix_equals_shap_tree_explainer():
    """LightGBM's ``pred_contrib`` Tree SHAP gives the values and base value the shap package's
    ``TreeExplainer`` gave before (positive class, (n, f)), to the last bit."""
    shap = pytest.importorskip("shap")
    u = _units()
    m = _model(u)
    values, base = shap_matrix(m, u[FEATS])
    reference = shap.TreeExplainer(m.booster_)(u[FEATS].astype(float))
    assert values.shape == np.asarray(reference.values).shape == (len(u), len(FEATS))
    np.testing.assert_array_equal(values, reference.values)
    assert base == float(np.ravel(reference.base_values)[0])
    one, one_base = shap_matrix(m, u[FEATS].head(1))
    assert one.shape == (1, len(FEATS)) and one_base == base
    np.testing.assert_array_equal(one, values[:1])


def test_additivity_in_log_odds_for_a_model_that_learns_the_outcome():
    u = _units()
    outcome = pd.Series(
        np.where(u["y"] == 1, 1.0, -1.0) + np.random.default_rng(1).normal(0, 1, len(u)), name="o"
    )
    m = CalibratedLGBMClassifier(n_estimators=80, learn_from="outcome", random_state=0)
    m.fit(u[FEATS], u["y"], groups=u["athlete_id"], outcome=outcome)
    values, base = shap_matrix(m, u[FEATS])
    margin = m.margin(u[FEATS])
    np.testing.assert_allclose(base + values.sum(axis=1), margin, atol=1e-6)
    np.testing.assert_allclose(1 / (1 + np.exp(-margin)), m.predict_proba(u[FEATS])[:, 1])


def test_shap_matrix_of_the_linear_model_is_its_exact_shapley_values():
    """The shipped linear family dispatches to its exact Shapley values (additive to 1e-10), and the
    strength x control chart reads the strength change's contribution from them."""
    from sprintlab.explain import strength_control_interaction
    from sprintlab.models.linear import InteractionLogisticClassifier

    u = _units().rename(columns={"pelvic_control_score": "control_score_8w"})
    feats = [f if f != "pelvic_control_score" else "control_score_8w" for f in FEATS]
    m = InteractionLogisticClassifier(interaction=("strength_change_since_test_pct", "control_score_8w"))
    m.fit(u[feats], u["y"])
    values, base = shap_matrix(m, u[["athlete_id", *feats]])
    np.testing.assert_allclose(base + values.sum(axis=1), m.margin(u[feats]), atol=1e-10, rtol=0)
    direct, direct_base = m.feature_contributions(u[feats])
    np.testing.assert_array_equal(values, direct)
    assert base == direct_base
    inter = strength_control_interaction(m, u)
    assert inter is not None and len(inter) == len(u)
    np.testing.assert_array_equal(inter["shap_strength"], values[:, 0])
    drivers = explain_units(m, u, "transfer", top_k=2).drivers
    assert len(drivers) == 2 * len(u) and set(drivers["feature"]) <= set(feats)


def test_family_sums_use_the_catalogue():
    values = np.array([[1.0, 2.0, 3.0, 4.0]])
    fam = family_contributions(values, FEATS)
    assert list(fam.columns) == list(FAMILIES)
    assert fam.loc[0, "strength"] == 1.0 and fam.loc[0, "control"] == 2.0
    assert fam.loc[0, "timing"] == 3.0 and fam.loc[0, "wellness"] == 4.0 and fam.loc[0, "load"] == 0.0


def test_drivers_are_plain_language_and_stable():
    u = _units()
    m = _model(u)
    a = explain_units(m, u.head(10), "transfer")
    b = explain_units(_model(u), u.head(10), "transfer")
    pd.testing.assert_frame_equal(a.drivers, b.drivers)
    d = a.drivers
    assert (d.groupby("row").size() == 3).all()
    first = d.iloc[0]
    assert first["text"].endswith(("raises transfer chance", "lowers transfer chance"))
    assert "squad median" in first["text"] or "not measured" in first["text"]
    # sign of the sentence follows the sign of the SHAP value
    assert all(("raises" in t) == (s > 0) for t, s in zip(d["text"], d["shap"], strict=True))


def test_truth_agreement_counts():
    agree, table = truth_agreement(
        pd.Series(["control", "timing", "strength"]), pd.Series(["control", "strength", "strength"])
    )
    assert agree == 2 / 3
    assert table.loc["strength", "timing"] == 1


def test_truth_recovery_when_the_model_sees_the_simulators_latent_states():
    """Known truth: given the simulator's latent block states (named as the catalogue features
    that measure them) and its noise-free expected change, the SHAP family explanation of a model
    that learns that change recovers the true dominant family (Shapley of ``mu``) far above the
    majority-family baseline. A wrong family mapping, sign or scaling breaks this."""
    from sprintlab.simulate.generator import simulate_squad

    blocks = simulate_squad(120, 80, seed=11).truth["transfer_blocks"]
    blocks = blocks[blocks["strength_gain"] >= 0.05].reset_index(drop=True)
    latent_as_feature = {
        "strength_gain": "strength_change_since_test_pct",
        "control_state": "pelvic_control_score",
        "braking_state": "first_step_contact_ms",
        "t10_above_typical_s": "t10_vs_own_typical_s",
        "load_excess": "hsr_excess_since_test",
        "sleep_deficit": "sleep_deficit_since_test_h",
    }
    u = blocks.rename(columns=latent_as_feature)
    feats = list(latent_as_feature.values())
    rng = np.random.default_rng(0)
    u["y"] = (rng.random(len(u)) < u["p_transfer"]).astype(int)
    athletes = np.array(sorted(u["athlete_id"].unique()))
    train = u["athlete_id"].isin(athletes[: int(0.6 * athletes.size)])
    m = CalibratedLGBMClassifier(
        n_estimators=800,
        num_leaves=4,
        early_stopping=True,
        learn_from="outcome",
        outcome_sign=-1,
        random_state=0,
    )
    m.fit(
        u.loc[train, feats],
        u.loc[train, "y"],
        groups=u.loc[train, "athlete_id"],
        outcome=u.loc[train, "expected_change_s"],
    )
    test = u[~train].reset_index(drop=True)
    fam = explain_units(m, test, "transfer").families
    agree, table = truth_agreement(fam["dominant_family"], test["dominant_family"])
    majority = test["dominant_family"].value_counts(normalize=True).iloc[0]
    assert agree >= 0.7 and agree > majority + 0.2, (agree, majority, table)


def test_dominance_ratio_and_bands_known_answers():
    from sprintlab.explain import dominance

    contrib = pd.DataFrame(
        {"strength": [1.0, -0.9, 0.3, 0.0], "control": [0.2, 1.0, -0.3, 0.0], "timing": [-0.4, 0.0, 0.2, 0.0]}
    )
    d = dominance(contrib)
    np.testing.assert_allclose(d["runner_up_ratio"], [0.4, 0.9, 1.0, 0.0])
    assert list(d["dominance"]) == ["clear", "close", "close", "clear"]
    assert list(d["runner_up_family"]) == ["timing", "strength", "control", "control"]
    # the leader is dominant_family's (first family wins a tie), so the runner-up is never the leader
    from sprintlab.explain import dominant_family

    assert (dominant_family(contrib) != d["runner_up_family"]).all()
    assert dominance(pd.DataFrame({"strength": [1.0], "control": [0.6]}))["dominance"].iloc[0] == "leading"


def test_driver_sentence_compares_with_squad_and_own_usual():
    from sprintlab.explain import driver_sentence

    text = driver_sentence("first_step_contact_ms", 186.0, 165.0, -0.2, "transfer", own_usual=178.0)
    assert text == (
        "Mean ground-contact time of the first four steps: 186 ms, 21 ms above the squad median "
        "and 8 ms above own usual - lowers transfer chance"
    )
    level = driver_sentence("first_step_contact_ms", 186.0, 190.0, 0.1, "transfer", own_usual=186.2)
    assert level.endswith(
        "186 ms, 4 ms below the squad median and level with own usual - raises transfer chance"
    )
    scores = driver_sentence("control_score_8w", 2.5, 3.0, -0.1, "transfer", own_usual=3.25)
    assert "2.5/5, 0.5 points below the squad median and 0.8 points below own usual" in scores
    # no history: no own-usual clause; a measure already against the athlete's norm never gets one
    assert "own usual" not in driver_sentence("first_step_contact_ms", 186.0, 190.0, 0.1, "transfer")
    assert "own usual" not in driver_sentence("hsr_vs_own_norm", 1.6, 1.0, 0.3, "hamstring", own_usual=1.1)


def test_own_usual_is_the_median_of_previous_weeks_only():
    from sprintlab.explain import own_usual_values

    weeks = pd.date_range("2026-01-04", periods=6, freq="7D")
    panel = pd.DataFrame(
        {
            "athlete_id": ["A"] * 6 + ["B"] * 6,
            "week_end": list(weeks) * 2,
            "first_step_contact_ms": [100, 110, 120, 130, 140, 999, 1, 2, np.nan, 4, 5, 6.0],
        }
    )
    usual = own_usual_values(panel, weeks[-1], 3, ["first_step_contact_ms", "not_in_panel"])
    assert list(usual.columns) == ["first_step_contact_ms"]
    # weeks 3-5 before the scored week 6: the scored week's 999 is not its own baseline
    assert usual.loc["A", "first_step_contact_ms"] == 130.0
    assert usual.loc["B", "first_step_contact_ms"] == 4.5  # median of (missing, 4, 5): the gap is skipped


def test_agreement_by_dominance_counts():
    from sprintlab.explain import agreement_by_dominance

    fam = pd.DataFrame(
        {
            "dominant_family": ["strength", "control", "timing", "timing", "control"],
            "runner_up_family": ["control", "timing", "strength", "strength", "strength"],
            "dominance": ["clear", "clear", "close", "leading", "close"],
        }
    )
    truth = pd.Series(["strength", "timing", "timing", None, "strength"])
    r = agreement_by_dominance(fam, truth)
    assert r["clear"] == {"n_units": 2, "agreement": 0.5}
    # two close calls: one named first (match), one the runner-up (no match, but among the two named)
    assert r["close"] == {"n_units": 2, "agreement": 0.5, "truth_among_named": 1.0}
    assert r["leading"]["n_units"] == 0 and np.isnan(r["leading"]["agreement"])


def test_report_statement_counts_the_runner_up_only_on_close_calls():
    from sprintlab.explain import report_statement_agreement

    fam = pd.DataFrame(
        {
            "dominant_family": ["strength", "control", "control", "timing"],
            "runner_up_family": ["control", "timing", "timing", "strength"],
            "dominance": ["clear", "close", "leading", "close"],
        }
    )
    truth = pd.Series(["strength", "timing", "timing", "control"])
    # row 1: leader right; row 2: close call naming the truth second; row 3: "leading" names one
    # family only, so its runner-up does not count; row 4: neither named family is the truth
    assert report_statement_agreement(fam, truth) == 0.5
    assert np.isnan(report_statement_agreement(fam, pd.Series([None] * 4)))


def test_agreement_by_truth_dominance_bands_the_simulators_own_ratio():
    from sprintlab.explain import agreement_by_truth_dominance

    fam = pd.DataFrame({"dominant_family": ["strength", "control", "timing", "timing", "control"]})
    truth = pd.Series(["strength", "timing", "timing", "control", "control"])
    ratio = pd.Series([0.2, 0.49, 0.95, 0.6, np.nan])  # the last has no truth ratio: left out
    r = agreement_by_truth_dominance(fam, truth, ratio)
    assert r["clear"] == {"n_units": 2, "agreement": 0.5, "share": 0.5}
    assert r["close"] == {"n_units": 1, "agreement": 1.0, "share": 0.25}
    assert r["leading"] == {"n_units": 1, "agreement": 0.0, "share": 0.25}


def test_strength_control_interaction_uses_the_models_control_measure():
    from sprintlab.explain import shap_matrix, strength_control_interaction

    u = _units()
    m = _model(u)
    rows = u.head(50).assign(control_score_8w=np.linspace(1, 5, 50))
    inter = strength_control_interaction(m, rows)
    assert list(inter.columns)[:3] == ["strength_change_since_test_pct", "control_score", "shap_strength"]
    assert set(inter.columns[3:]) <= {"athlete_id", "week_end"}  # whose weeks, for the caption
    np.testing.assert_allclose(inter["control_score"], rows["control_score_8w"])  # 8-week score preferred
    np.testing.assert_allclose(inter["shap_strength"], shap_matrix(m, rows[FEATS])[0][:, 0])
    only_latest = strength_control_interaction(m, u.head(50))
    np.testing.assert_allclose(only_latest["control_score"], u.head(50)["pelvic_control_score"])
    assert strength_control_interaction(m, u.head(50).drop(columns="pelvic_control_score")) is None


def test_driver_sentence_puts_difference_and_ratio_measures_in_words():
    from sprintlab.explain import driver_sentence

    sleep = driver_sentence("sleep_hours_vs_norm", -0.8, 0.02, 0.3, "hamstring")
    assert sleep == (
        "Mean sleep over the last 7 days against the athlete's long-term norm: 0.8 h less than the norm "
        "(squad median: level with the norm) - raises hamstring risk"
    )
    # a negative deficit is extra sleep, not "-0.3 h below"
    assert (
        ": 0.3 h a night more than the norm (squad median: 0.1 h a night less than the norm)"
        in driver_sentence("sleep_deficit_since_test_h", -0.3, 0.1, 0.1, "transfer")
    )
    # ratio 0.75 -> 25 % less; log ratio ln(1.2) -> 20 % more; z-scores in words; times faster/slower
    assert ": 25% less than the 4-week norm (squad median: 10% more than the 4-week norm)" in driver_sentence(
        "hsr_vs_own_norm", 0.75, 1.1, -0.2, "hamstring"
    )
    assert ": 20% more than the norm" in driver_sentence(
        "hsr_excess_since_test", float(np.log(1.2)), 0.0, -0.1, "transfer"
    )
    assert ": a little above own baseline (squad median: at own baseline)" in driver_sentence(
        "fatigue_z", 0.59, -0.18, 0.1, "hamstring"
    )
    assert ": clearly below own baseline" in driver_sentence("fatigue_z", -1.2, 0.0, 0.1, "hamstring")
    assert ": far above own baseline" in driver_sentence("fatigue_z", 2.4, 0.0, 0.1, "hamstring")
    assert ": 0.02 s faster than at the first test" in driver_sentence(
        "t10_vs_first_test_s", -0.02, 0.01, 0.2, "transfer"
    )
    assert driver_sentence("t10_vs_first_test_s", float("nan"), 0.01, 0.2, "transfer").startswith(
        "Latest 0-10 m time against the athlete's first (baseline) test: not measured - "
    )
    # differences of percentages are percentage points
    assert "8.5 percentage points above the squad median" in driver_sentence(
        "nordic_asymmetry_pct", 19.2, 10.7, 0.2, "hamstring"
    )


def test_catalogue_relative_words_only_for_measures_already_against_a_norm():
    import pytest

    from sprintlab.features.catalogue import FeatureSpec, load_catalogue

    with pytest.raises(ValueError, match="already against a norm"):
        FeatureSpec(
            name="x", family="load", unit="ratio", description="x", relative=("more", "less", "level")
        )
    rel = [f for f in load_catalogue().features if f.relative]
    assert len(rel) == 22 and all(not f.own_usual for f in rel)  # 20 + the two in-situ changes since the test


def test_pipeline_explanations_recover_the_true_main_factor_on_the_default_squad():
    """Known truth, the product's own claim: the default simulated squad (params.yaml), the
    pipeline's transfer model and split, explained like the explain stage. Where the simulator's
    block has one factor that dominates the explanation names it >= 85 % of the time (measured
    0.874), on all blocks well above always naming the commonest family (0.673 vs 0.469; the
    issue's 0.85 on all blocks is not reached, docs/simulator.md); and when the explanation calls
    its lead clear it is right >= 80 % (0.872).

    The model is fitted as :func:`sprintlab.models.training.train_and_evaluate` fits it (its usable
    units, features with a value, athlete- and time-grouped split and ``_FamilyFitter``) without the
    scoring beside baselines and the family-selection record, which this claim does not read (the
    selection record's group Shapley of the other family was ~55 of this test's ~80 s)."""
    from pathlib import Path

    from sprintlab.config import load_params
    from sprintlab.explain import truth_recovery
    from sprintlab.models.evaluation import athlete_time_split
    from sprintlab.models.training import _FamilyFitter
    from sprintlab.pipeline.targets import simulated_units

    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    units = simulated_units(params)["transfer"]
    mp = params.train.transfer
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in mp.features if f in usable and usable[f].notna().any()]
    split = athlete_time_split(usable, seed=params.split.seed, **params.split.model_dump(exclude={"seed"}))
    train, test = usable.iloc[split.train], usable.iloc[split.test]
    fit = _FamilyFitter(train, test, feats, mp.estimator_kwargs(), params.split.seed, mp.outcome_column())
    model = fit(mp.model_family)
    later = usable[pd.to_datetime(usable["unit_date"]) >= split.cutoff].reset_index(drop=True)
    rec = truth_recovery(explain_units(model, later, "transfer").families, later)
    assert rec["n_units"] > 300
    assert rec["by_truth_dominance"]["clear"]["agreement"] >= 0.85, rec["by_truth_dominance"]
    assert rec["by_explanation_dominance"]["clear"]["agreement"] >= 0.80, rec["by_explanation_dominance"]
    assert rec["dominant_family_agreement"] >= rec["majority_family_baseline"] + 0.15, rec
