"""Levers: irrelevant levers do nothing, clipping, determinism, wording, causal truth, CLI."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from sprintlab.levers import (
    GUARD_RAIL,
    STEPS_FILE,
    Lever,
    apply_lever,
    catalogue_levers,
    effort_equivalent_levers,
    fit_bootstrap_boosters,
    lever_steps,
    levers_table,
    load_lever_steps,
    load_training_ranges,
    priority_summary,
    priority_words,
    save_training_ranges,
)
from sprintlab.simulate import causal
from sprintlab.simulate.truth import transfer_noise


def _ranges(squad, tmp_path):
    out = {}
    for t, u in squad["units"].items():
        out[t] = save_training_ranges(u, list(squad["models"][t].feature_names_in_), tmp_path / f"{t}.json")
    return out


def test_catalogue_levers_and_bundles():
    levers = {lv.name: lv for lv in catalogue_levers()}
    for b in ("more_strength", "better_control", "better_timing", "less_load_spike", "better_sleep"):
        assert levers[b].bundle
    assert levers["better_timing"].changes == {"first_step_contact_ms": -15.0, "touchdown_distance_m": -0.03}
    assert not levers["nordic_force_n"].bundle


def test_levers_never_include_bounce_back(monkeypatch):
    """Bounce-back (regression to own level) is test-day variation: no lever, single or bundle, moves
    it or belongs to it - even when a bundle names it - and the catalogue refuses to mark its
    features modifiable."""
    import sprintlab.features.catalogue as catalogue_module
    from sprintlab import levers as levers_module
    from sprintlab.features.catalogue import load_catalogue

    bounce = {f.name for f in load_catalogue().features if f.family == "bounce_back"}
    assert {"t10_vs_own_typical_s", "t10_vs_first_test_s", "t10_best_s"} <= bounce
    all_levers = catalogue_levers()
    assert all(lv.family != "bounce_back" and not set(lv.changes) & bounce for lv in all_levers)
    sneaky = (*levers_module.BUNDLES, ("bounce", "bounce_back", "Bounce", ("touchdown_distance_m",)))
    monkeypatch.setattr(levers_module, "BUNDLES", sneaky)
    assert "bounce" not in {lv.name for lv in catalogue_levers()}
    text = (
        "features:\n  - {name: t10_best_s, family: bounce_back, unit: s, description: x, modifiable: true,"
        " change: -0.02, change_label: faster}\n"
    )
    monkeypatch.setattr(catalogue_module.resources, "files", lambda _: _FakeFiles(text))
    load_catalogue.cache_clear()
    try:
        with pytest.raises(ValueError, match="cannot be modifiable"):
            load_catalogue()
    finally:
        monkeypatch.undo()
        load_catalogue.cache_clear()


class _FakeFiles:
    """Stands in for ``importlib.resources.files`` with one catalogue text."""

    def __init__(self, text: str):
        self.text = text

    def joinpath(self, _name: str) -> _FakeFiles:
        return self

    def read_text(self, encoding: str = "utf-8") -> str:
        return self.text


def test_lever_without_causal_path_has_near_zero_modelled_effect(lever_squad, tmp_path):
    """Nordic force has no path to transfer in the simulator; the model learns (almost) nothing from it."""
    latest = lever_squad["latest"]
    tab = levers_table(
        latest, {"transfer": lever_squad["models"]["transfer"]}, _ranges(lever_squad, tmp_path)
    )
    eff = tab.groupby("lever")["effect"].apply(lambda s: s.abs().mean())
    causal_singles = eff[
        [
            "strength_change_since_test_pct",
            "pelvic_control_score",
            "trunk_control_score",
            "first_step_contact_ms",
            "touchdown_distance_m",
        ]
    ]
    # under 2 percentage points on average, and a fraction of what the causal levers of this size do
    assert eff["nordic_force_n"] < 0.02
    assert eff["nordic_force_n"] < 0.4 * causal_singles.median()
    assert eff["days_since_near_max_speed"] == 0.0  # not a transfer model input at all


def test_clipping_to_training_range(tmp_path):
    rows = pd.DataFrame({"athlete_id": ["A", "B", "C"], "first_step_contact_ms": [200.0, 175.0, 160.0]})
    path = save_training_ranges(
        pd.DataFrame({"first_step_contact_ms": [170.0, 190.0, 230.0]}),
        ["first_step_contact_ms"],
        tmp_path / "r.json",
    )
    assert path == {"first_step_contact_ms": [170.0, 230.0]}
    ranges = load_training_ranges(tmp_path / "r.json")
    new, clipped = apply_lever(
        rows, Lever("c", "timing", "15 ms shorter", {"first_step_contact_ms": -15.0}), ranges
    )
    # A moves freely, B stops at the training minimum, C (already below) is neither pushed further nor pulled back
    assert new["first_step_contact_ms"].tolist() == [185.0, 170.0, 160.0]
    assert clipped.tolist() == [False, True, True]


def test_priority_names_the_family_and_the_bundle():
    """An exposure is "training load: near-maximal sprint exposure" - "training load" alone would
    read as "less load"; a single lever is named by its bundle's words too; a lever outside every
    bundle by its family alone."""
    row = pd.Series({"lever": "sprint_exposure", "family": "load"})
    assert priority_words(row) == "training load: near-maximal sprint exposure"
    assert (
        priority_words(pd.Series({"lever": "sleep_hours_7d", "family": "wellness"}))
        == "wellness: better sleep"
    )
    assert priority_words(pd.Series({"lever": "custom", "family": "load"})) == "training load"


def test_a_sprint_exposure_is_an_action_that_resets_the_days_since_one():
    """ "One near-maximal sprint exposure this week" brings the days since one down to 3 at most (a
    reset, not a step: effort-equivalent steps leave it as it is); a missing value stays missing."""
    levers = {lv.name: lv for lv in catalogue_levers()}
    exposure = levers["sprint_exposure"]
    assert exposure.bundle and exposure.family == "load" and not exposure.changes
    assert exposure.resets == {"days_since_near_max_speed": 3.0}
    rows = pd.DataFrame({"athlete_id": ["A", "B", "C"], "days_since_near_max_speed": [40.0, 2.0, np.nan]})
    new, clipped = apply_lever(rows, exposure, {"days_since_near_max_speed": (0.0, 90.0)})
    assert new["days_since_near_max_speed"].tolist()[:2] == [3.0, 2.0]
    assert np.isnan(new["days_since_near_max_speed"].iloc[2]) and not clipped.any()
    stepped = {
        lv.name: lv
        for lv in effort_equivalent_levers(catalogue_levers(), {"days_since_near_max_speed": 17.5})
    }
    assert stepped["sprint_exposure"] == exposure


def test_clipped_flag_and_note_in_table(lever_squad, tmp_path):
    latest = lever_squad["latest"].head(5).copy()
    ranges = _ranges(lever_squad, tmp_path)
    lo = ranges["transfer"]["first_step_contact_ms"][0]
    latest["first_step_contact_ms"] = lo + 1.0  # a 15 ms cut would leave the training range
    tab = levers_table(latest, {"transfer": lever_squad["models"]["transfer"]}, ranges)
    t = tab[tab["lever"] == "first_step_contact_ms"]
    assert t["clipped"].all()
    assert t["text"].str.contains("limited to the range seen in training").all()
    assert not tab[tab["lever"] == "nordic_force_n"]["clipped"].any()


def test_stable_across_reruns_with_same_seed(lever_squad, tmp_path):
    latest = lever_squad["latest"].head(8)
    ranges = _ranges(lever_squad, tmp_path)
    tabs = []
    for _ in range(2):
        boots = {
            t: fit_bootstrap_boosters(m, lever_squad["units"][t], k=3, seed=4)
            for t, m in lever_squad["models"].items()
        }
        tabs.append(levers_table(latest, lever_squad["models"], ranges, boosters=boots))
    pd.testing.assert_frame_equal(tabs[0], tabs[1])
    t = tabs[0]
    assert list(t.columns) == [
        "athlete_id",
        "model",
        "lever",
        "family",
        "text",
        "effect",
        "baseline_prob",
        "new_prob",
        "low",
        "high",
        "clipped",
    ]
    assert t[["low", "high"]].notna().all().all()
    assert ((t["low"] >= 0) & (t["high"] <= 1) & (t["low"] <= t["high"] + 1e-12)).all()


def test_plain_language_matches_numbers(lever_squad, tmp_path):
    latest = lever_squad["latest"].head(10)
    tab = levers_table(latest, lever_squad["models"], _ranges(lever_squad, tmp_path))
    for r in tab.itertuples():
        b, a = round(100 * r.baseline_prob), round(100 * r.new_prob)
        m = re.search(r"from (\d+)% to (\d+)%", r.text)
        if m:
            assert (int(m.group(1)), int(m.group(2))) == (b, a)
            assert (" raises " in r.text) == (r.new_prob > r.baseline_prob)
        else:
            assert f"stays at {b}%" in r.text and b == a
    aid = latest["athlete_id"].iloc[0]
    s = priority_summary(tab, aid, "transfer")
    best = tab[(tab["athlete_id"] == aid) & (tab["model"] == "transfer")].iloc[0]
    if best["effect"] > 1e-4:
        assert s.startswith(f"Priority: {priority_words(best)}. {best['text']}")
    top = levers_table(latest, lever_squad["models"], _ranges(lever_squad, tmp_path), top_n=2)
    assert top.groupby(["athlete_id", "model"]).size().max() <= 2


def test_causal_truth_reproduces_simulator_tables(lever_squad):
    sim = lever_squad["sim"]
    blocks = sim.truth["transfer_blocks"]
    z = transfer_noise(5)
    np.testing.assert_allclose(
        causal.true_transfer_probability(blocks, {}, z), blocks["p_transfer"], atol=0, rtol=0
    )
    weekly = sim.truth["hamstring_weekly"].dropna(subset=["p_hamstring_28d"]).head(300)
    week_end = pd.to_datetime(weekly["week_start"]) + pd.Timedelta(days=6)
    fut = causal.future_hazards(
        sim.truth["hamstring_weekly"], weekly["athlete_id"].to_numpy(), week_end.to_numpy()
    )
    np.testing.assert_allclose(causal.true_hamstring_probability(fut), weekly["p_hamstring_28d"], rtol=1e-12)
    # mapping: no causal path from Nordic force to transfer; contact -15 ms = braking -15/14 SD
    assert causal.transfer_latent_change({"nordic_force_n": 30.0}) == {}
    assert causal.transfer_latent_change({"first_step_contact_ms": -15.0})["k"] == pytest.approx(-15 / 14)
    better = causal.true_transfer_probability(blocks, {"k": -1.0}, z)
    assert (better >= blocks["p_transfer"].to_numpy()).all()


def test_cli_prints_the_box(lever_squad, tmp_path):
    import joblib

    from sprintlab.cli import app
    from sprintlab.io import write_table_atomic

    data = tmp_path / "data"
    for name, df in lever_squad["sim"].tables.items():
        write_table_atomic(df, data / f"{name}.parquet")
    mdir = tmp_path / "models"
    for t, m in lever_squad["models"].items():
        (mdir / t).mkdir(parents=True)
        joblib.dump(m, mdir / t / "model.joblib")
        save_training_ranges(
            lever_squad["units"][t], list(m.feature_names_in_), mdir / t / "training_ranges.json"
        )
    aid = str(lever_squad["latest"]["athlete_id"].iloc[0])
    res = CliRunner().invoke(app, ["levers", str(data), "--athlete", aid, "--models-dir", str(mdir)])
    assert res.exit_code == 0, res.output
    out = " ".join(res.output.split())
    assert "What to change first" in out and aid in out
    assert "Priority:" in out and "Transfer chance" in out and "Hamstring risk" in out
    assert " ".join(GUARD_RAIL.split()[:6]) in out
    # models saved without lever steps: the catalogue's steps, and the command says so
    assert f"no {STEPS_FILE} for transfer, hamstring" in out and "catalogue's steps" in out
    (mdir / "hamstring" / STEPS_FILE).write_text('{"sleep_hours_7d": 1.0, "nordic_force_n": 25.0}')
    stepped = CliRunner().invoke(app, ["levers", str(data), "--athlete", aid, "--models-dir", str(mdir)])
    out = " ".join(stepped.output.split())
    assert f"no {STEPS_FILE} for transfer " in out and f"no {STEPS_FILE} for transfer, hamstring" not in out
    assert "+60 min sleep a night" in out or "+25 N Nordic force" in out  # hamstring changes by its steps
    bad = CliRunner().invoke(app, ["levers", str(data), "--athlete", "NOPE", "--models-dir", str(mdir)])
    assert bad.exit_code == 2 and "NOPE" in bad.output
    # an id that reads as console markup is printed literally, not parsed (it was a MarkupError)
    markup = CliRunner().invoke(app, ["levers", str(data), "--athlete", "[/x]", "--models-dir", str(mdir)])
    assert markup.exit_code == 2 and "[/x]" in markup.output, markup.output


def test_save_lever_artifacts_writes_ranges_and_bootstrap(lever_squad, tmp_path):
    from sprintlab.levers import save_lever_artifacts

    for t, m in lever_squad["models"].items():
        save_lever_artifacts(m, lever_squad["units"][t], tmp_path / t, k=2, seed=0)
        assert (tmp_path / t / "training_ranges.json").exists() and (
            tmp_path / t / "levers_bootstrap.joblib"
        ).exists()
        saved = load_lever_steps(tmp_path / t / STEPS_FILE)
        assert saved == pytest.approx(lever_steps(lever_squad["units"][t]))
        assert {"sleep_hours_7d", "nordic_force_n", "pelvic_control_score"} <= set(saved)


def test_levers_table_with_a_models_steps_moves_each_feature_by_its_step(lever_squad, tmp_path):
    """``steps`` of a target = that target's levers made effort-equivalent: the same rows as passing
    those levers, worded with the steps; other targets keep the catalogue's steps."""
    latest = lever_squad["latest"].head(10)
    ranges = _ranges(lever_squad, tmp_path)
    steps = {"hamstring": {"sleep_hours_7d": 0.75, "nordic_force_n": 20.0}}
    with_steps = levers_table(latest, lever_squad["models"], ranges, steps=steps)
    explicit = levers_table(
        latest,
        {"hamstring": lever_squad["models"]["hamstring"]},
        ranges,
        levers=effort_equivalent_levers(catalogue_levers(), steps["hamstring"]),
    )
    ham = with_steps[with_steps["model"] == "hamstring"].reset_index(drop=True)
    pd.testing.assert_frame_equal(ham, explicit.reset_index(drop=True))
    assert ham["text"].str.contains("+45 min sleep a night", regex=False).any()
    assert ham["text"].str.contains("+20 N Nordic force", regex=False).any()
    transfer = with_steps[with_steps["model"] == "transfer"]
    assert transfer["text"].str.contains("+30 min sleep a night", regex=False).any()  # catalogue step


def test_bagged_effect_of_an_outcome_learning_model(lever_squad):
    """With bootstrap members the effect is the mean over the deployed model and the members; a
    model that learns the 0-10 m change gets regressor members refitted on that change."""
    import lightgbm as lgb

    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.estimator import CalibratedLGBMClassifier

    units = lever_squad["units"]["transfer"]
    feats = list(lever_squad["models"]["transfer"].feature_names_in_)
    model = CalibratedLGBMClassifier(
        n_estimators=150,
        learn_from="outcome",
        outcome_sign=-1,
        random_state=1,
        monotone={"first_step_contact_ms": -1},
    )
    model.fit(
        feature_matrix(units, feats),
        units["y"].to_numpy(),
        groups=units["athlete_id"].to_numpy(),
        outcome=units["t10_change_s"],
    )
    members = fit_bootstrap_boosters(model, units, k=3, seed=2)
    assert len(members) == 3 and all(isinstance(m, lgb.LGBMRegressor) for m in members)
    rows = lever_squad["latest"].head(6)
    lever = Lever(
        "shorter_contacts", "timing", "15 ms shorter first-step contacts", {"first_step_contact_ms": -15.0}
    )
    tab = levers_table(rows, {"transfer": model}, None, levers=[lever], boosters={"transfer": members})
    X0 = feature_matrix(rows.reset_index(drop=True), feats)
    X1 = X0.assign(first_step_contact_ms=X0["first_step_contact_ms"] - 15.0)
    effects = [model.predict_proba(X1)[:, 1] - model.predict_proba(X0)[:, 1]]
    for b in members:
        effects.append(
            model.proba_from_raw(b.predict(X1, raw_score=True))
            - model.proba_from_raw(b.predict(X0, raw_score=True))
        )
    np.testing.assert_allclose(tab["effect"].to_numpy(), np.mean(effects, axis=0), atol=1e-12)
    # monotone in contact time (members inherit the constraint): shorter contacts never lower it
    assert (tab["effect"] >= -1e-12).all() and (tab["effect"] > 0.005).any()


def test_linear_model_bootstrap_members_are_refits_and_deterministic(lever_squad):
    """The shipped linear family: members are the same estimator refitted on the athlete-bootstrap
    resamples (the same seed gives the same members), and the lever effect is bagged over the model
    and its members exactly as for LightGBM."""
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.linear import InteractionLogisticClassifier
    from sprintlab.models.transfer_baselines import INTERACTION_PAIR

    units = lever_squad["units"]["transfer"]
    feats = list(lever_squad["models"]["transfer"].feature_names_in_)
    model = InteractionLogisticClassifier(interaction=INTERACTION_PAIR).fit(
        feature_matrix(units, feats), units["y"].to_numpy()
    )
    members = fit_bootstrap_boosters(model, units, k=3, seed=2)
    again = fit_bootstrap_boosters(model, units, k=3, seed=2)
    other_seed = fit_bootstrap_boosters(model, units, k=3, seed=3)
    assert len(members) == 3 and all(isinstance(m, InteractionLogisticClassifier) for m in members)
    coef = [m.pipeline_[-1].coef_ for m in members]
    np.testing.assert_array_equal(coef, [m.pipeline_[-1].coef_ for m in again])
    assert not np.allclose(coef, [m.pipeline_[-1].coef_ for m in other_seed])
    assert not np.allclose(coef[0], model.pipeline_[-1].coef_)  # a refit on a resample, not a copy
    rows = lever_squad["latest"].head(6)
    lever = Lever("more_strength", "strength", "+5 % squat", {"strength_change_since_test_pct": 5.0})
    tab = levers_table(rows, {"transfer": model}, None, levers=[lever], boosters={"transfer": members})
    X0 = feature_matrix(rows.reset_index(drop=True), feats)
    X1 = feature_matrix(apply_lever(rows.reset_index(drop=True), lever)[0], feats)
    effects = [m.predict_proba(X1)[:, 1] - m.predict_proba(X0)[:, 1] for m in [model, *members]]
    np.testing.assert_allclose(tab["effect"].to_numpy(), np.mean(effects, axis=0), atol=1e-12)
    assert np.isfinite(tab[["low", "high"]].to_numpy()).all()


def test_control_screen_levers_move_the_8_week_control_score():
    rows = pd.DataFrame(
        {
            "athlete_id": ["A", "B"],
            "pelvic_control_score": [3.0, 2.5],
            "trunk_control_score": [3.5, np.nan],
            "control_score_8w": [3.2, 2.6],
            "control_change_8w": [0.0, -0.5],
        }
    )
    both = Lever(
        "better_control",
        "control",
        "+1 pelvic and +1 trunk",
        {"pelvic_control_score": 1.0, "trunk_control_score": 1.0},
        bundle=True,
    )
    new, clipped = apply_lever(rows, both)
    np.testing.assert_allclose(new["control_score_8w"], [4.2, 3.6])
    np.testing.assert_allclose(new["control_change_8w"], [1.0, 0.5])
    assert not clipped.any() and np.isnan(new["trunk_control_score"].iloc[1])  # missing stays missing
    pelvic = Lever("pelvic", "control", "+1 pelvic", {"pelvic_control_score": 1.0})
    np.testing.assert_allclose(apply_lever(rows, pelvic)[0]["control_score_8w"], [3.7, 3.1])
    # clipped at the training range like every changed feature
    new, clipped = apply_lever(rows, both, {"control_score_8w": (1.0, 4.0)})
    np.testing.assert_allclose(new["control_score_8w"], [4.0, 3.6])
    assert clipped.tolist() == [True, False]


def test_sleep_lever_moves_every_sleep_feature_of_the_same_nights():
    # the hamstring model reads its sleep signal mostly from sleep_hours_vs_norm (7-day mean minus the
    # long-term norm, h): +0.5 h a night must move it by 0.5 h, not leave it where it was
    rows = pd.DataFrame(
        {
            "athlete_id": ["A", "B"],
            "sleep_hours_7d": [6.5, 7.5],
            "sleep_hours_z": [-1.0, 0.2],
            "sleep_hours_vs_norm": [-0.8, np.nan],
            "sleep_deficit_since_test_h": [0.6, -0.1],
        }
    )
    sleep = Lever("sleep_hours_7d", "wellness", "+30 min sleep a night", {"sleep_hours_7d": 0.5})
    new, clipped = apply_lever(rows, sleep)
    np.testing.assert_allclose(new["sleep_hours_7d"], [7.0, 8.0])
    np.testing.assert_allclose(new["sleep_hours_z"], [-1.0 + 0.5 / 0.8, 0.2 + 0.5 / 0.8])
    np.testing.assert_allclose(new["sleep_hours_vs_norm"], [-0.3, np.nan])  # missing stays missing
    np.testing.assert_allclose(new["sleep_deficit_since_test_h"], [0.1, -0.6])
    assert not clipped.any()
    # clipped at the training range like every changed feature
    new, clipped = apply_lever(rows, sleep, {"sleep_hours_vs_norm": (-3.0, -0.5)})
    np.testing.assert_allclose(new["sleep_hours_vs_norm"], [-0.5, np.nan])
    assert clipped.tolist() == [True, False]


def test_distinct_levers_drops_a_bundle_that_repeats_its_part_and_repeated_sentences():
    from sprintlab.levers import best_levers, distinct_levers

    def row(lever, family, p1, text=None):
        return {
            "athlete_id": "A",
            "model": "transfer",
            "lever": lever,
            "family": family,
            "text": text or f"{lever} raises transfer chance from 81% to {100 * p1:.0f}%",
            "effect": p1 - 0.81,
            "baseline_prob": 0.81,
            "new_prob": p1,
            "low": np.nan,
            "high": np.nan,
            "clipped": False,
        }

    table = pd.DataFrame(
        [
            row("more_strength", "strength", 0.971),
            row("strength_change_since_test_pct", "strength", 0.969),
            row("better_control", "control", 0.90),
            row("pelvic_control_score", "control", 0.86),
            row("sleep_hours_7d", "wellness", 0.85, "same words"),
            row("better_sleep", "wellness", 0.85, "same words"),
        ]
    )
    kept = distinct_levers(table)
    assert "more_strength" not in set(kept["lever"])  # 81% -> 97% twice: the single change says it
    assert {"better_control", "pelvic_control_score", "strength_change_since_test_pct"} <= set(kept["lever"])
    assert (kept["text"] == "same words").sum() == 1
    best = best_levers(table, 2)
    assert best["lever"].tolist() == ["strength_change_since_test_pct", "better_control"]


def test_levers_shown_for_an_athlete_follow_the_reports_rule():
    from sprintlab.levers import athlete_outcomes

    assert athlete_outcomes(in_block=False, flagged=True) == ["hamstring"]
    assert athlete_outcomes(in_block=True, flagged=True) == ["hamstring", "transfer"]
    assert athlete_outcomes(in_block=True, flagged=False) == ["transfer", "hamstring"]


def test_cli_box_agrees_with_the_report_outside_a_strength_block(lever_squad):
    from sprintlab.cli.levers import render_box

    latest = lever_squad["latest"].head(3)
    tab = levers_table(latest, lever_squad["models"], None)
    aid = str(latest["athlete_id"].iloc[0])
    console = Console(width=160, record=True)
    console.print(render_box(tab, aid, latest["week_end"].iloc[0], status=(False, True)))
    out = " ".join(console.export_text().split())
    assert "Transfer chance: not estimated (no strength block running)" in out
    assert "Transfer chance: now" not in out and "transfer chance from" not in out
    assert out.count("Priority:") <= 1


def test_cli_flag_status_is_the_squads_weekly_top_share(lever_squad):
    """``sprintlab levers`` calls an athlete flagged as ``sprintlab score`` does: in the top 10 % of
    the week's squad (params.yaml), not by the athlete's own risk against a threshold."""
    from types import SimpleNamespace

    from sprintlab.cli.levers import _status
    from sprintlab.config import load_params
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.scoring import recent_activity, week_hamstring_flags

    root = Path(__file__).resolve().parents[2]
    params = load_params(root / "params.yaml")
    latest, tables = lever_squad["latest"], lever_squad["sim"].tables
    model = lever_squad["models"]["hamstring"]
    week_end = latest["week_end"].iloc[0]
    activity = recent_activity(tables, week_end, params.score.recent_days)
    flags = week_hamstring_flags(params, latest, model, week_end, activity)
    risk = pd.Series(
        model.predict_proba(feature_matrix(latest, list(model.feature_names_in_)))[:, 1], index=flags.index
    )
    n = int(flags.size)  # every simulated athlete has recent records and inputs
    assert flags.sum() == int(np.ceil(0.10 * n)) and risk[flags].min() >= risk[~flags].max()
    models = {"hamstring": SimpleNamespace(model=model)}
    top, rest = flags[flags].index[0], flags[~flags].index[0]
    assert _status(latest, top, tables, models, root)[1] is True
    assert _status(latest, rest, tables, models, root)[1] is False
    assert _status(latest, rest, tables, {}, root)[1] is False  # no hamstring model: nobody flagged
