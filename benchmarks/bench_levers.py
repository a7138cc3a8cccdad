"""Benchmark: do the modelled levers agree with the simulator's causal truth?

    .venv/bin/python benchmarks/bench_levers.py [--athletes 200] [--weeks 104] [--seed S] [--out reports/metrics/levers.json]
        [--reference-athletes 1000] [--reference-seed-offset 1]

Simulates the default squad (``params.yaml`` ``simulate:``; options override), builds the panel
and both unit tables, trains both models exactly as ``run_train`` does (athlete- and time-grouped
split, ``params.yaml`` ``train:``), then for each test athlete (unseen in training) applies every
lever with :func:`sprintlab.levers.levers_table`:

* transfer, at **decision time**: the latest transfer unit's block, with the features of the week
  of its opening sprint test and the block's strength plan (:func:`with_planned_strength`); the
  true effect comes from the block's latent state (:func:`sprintlab.simulate.causal.true_transfer_probability`
  with the simulator's own noise draws);
* hamstring: the latest complete week; the true effect is the generator's own hazard equation run
  on the athlete's **latent states** over the four weeks of the horizon
  (:func:`sprintlab.simulate.causal.latent_hamstring_probability`).

Steps are **effort-equivalent**: every lever moves each feature it changes by one pooled
within-athlete SD of that feature over the target's training units (``steps`` in the output), in
the catalogue's direction; a bundle moves each member by its own step. The catalogue's steps (+5 %
strength, +1 control point, -15 ms contact...) and the block-end features are kept as
``<target>.variants``.

Headline, for both outcomes: the bundle a chooser picks per athlete scored against the true best
bundle (:mod:`sprintlab.lever_choice`): ``mean_regret`` = mean over athletes of (true benefit of the
true best bundle - true benefit of the chosen bundle), in probability units, and ``top_agreement``
= share of athletes whose chosen bundle is the true best; for the model (``<target>.model``) and
for simple rules a coach could use instead (``<target>.baselines``): transfer ``always_strength``
(always "more strength") and ``one_feature_rule`` (8-week control score below the training units'
median -> "better control", else "more strength"); hamstring ``always_control``,
``always_nordic_strength`` (always the strength bundle, the one holding the Nordic force step),
``always_sleep``, ``always_less_load_spike`` (every constant bundle, so "below the best constant" holds
against each) and ``one_feature_rule`` (Nordic force below the training units' median -> the strength bundle, else
"better control").

Records-only reference (``<target>.records_only_reference``; ``--reference-athletes 0`` skips it):
what a model could reach *with what the records show*, as ``bench_transfer_ceiling.py`` estimates it
for AUC. The same generator draws an independent **reference squad** (``--reference-athletes``, the
squad's weeks, simulator seed ``--seed + --reference-seed-offset``), its units are built like the
pipeline's, and per target the shipped family (``params.yaml`` ``train.<target>``) is fitted on **all**
its label-complete units (about five times the squad's training data) with its own training ranges
and the same number of bootstrap members as the model. Its bundle choice is scored on exactly the
model's test athletes, feature rows, lever steps and truth: ``top_agreement`` and ``mean_regret`` (with
bootstrap members, like the model), ``without_members`` (the model's and the reference's choice by the
deployed model alone: how much the bagging moves near-tied choices), ``model_vs_reference``,
``by_true_margin`` (top agreement of both where the true best bundle leads the runner-up by less / at
least the median margin), ``chosen_counts``, ``mean_bundle_effect`` and ``reference_squad``. The
reference approaches the best *prediction* from the records; it is not a bound on lever choice (a
better predictor of the label need not estimate each lever's causal effect better).

Older transfer metrics (the same setting): ``top_lever_agreement`` - share of athletes whose modelled best family
bundle (more strength / better control / better timing / less load spike / better sleep; the
"Priority:" line) equals the true best bundle; ``rank_correlation`` - Spearman correlation of
modelled vs true effects across all levers (singles and bundles), per athlete, averaged. Also
reported: the same over single levers and over all levers (``mean_regret_prob``: the model's
regret over that lever set).
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from sprintlab import domain
from sprintlab.config import Params, load_params
from sprintlab.domain import HAMSTRING, TARGETS
from sprintlab.features.panel import build_panel
from sprintlab.lever_choice import (
    always,
    choice_scores,
    compare_choosers,
    model_choice,
    regret_by_choice,
    threshold_rule,
)
from sprintlab.levers import (
    BUNDLES,
    Lever,
    catalogue_levers,
    effort_equivalent_levers,
    fit_bootstrap_boosters,
    lever_steps,
    levers_table,
    save_training_ranges,
)
from sprintlab.models.datasets import feature_matrix
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.families import Classifier, make_classifier
from sprintlab.models.training import train_and_evaluate
from sprintlab.pipeline.simulate import simulate_params_squad
from sprintlab.pipeline.targets import simulated_units, unit_tables
from sprintlab.simulate import causal
from sprintlab.simulate.truth import label_transfer_truth, transfer_noise

KEYS = ["athlete_id", "block_start_date", "block_end_date"]


def _agreement(
    model: pd.DataFrame, truth: pd.DataFrame, cols: list[str], *, benefit_sign: float = 1.0
) -> dict:
    m, t = benefit_sign * model[cols], benefit_sign * truth[cols]
    top_m, top_t = m.idxmax(axis=1), t.idxmax(axis=1)
    rhos = []
    for a in m.index:
        if t.loc[a].nunique() > 1 and m.loc[a].nunique() > 1:
            rhos.append(spearmanr(m.loc[a], t.loc[a]).statistic)
    best = t.max(axis=1)
    picked = np.array([t.loc[a, top_m.loc[a]] for a in m.index])
    return {
        "top_lever_agreement": float((top_m == top_t).mean()),
        "rank_correlation": float(np.mean(rhos)) if rhos else float("nan"),
        "mean_regret_prob": float(np.mean(best.to_numpy() - picked)),
        "true_top_counts": {str(k): int(v) for k, v in top_t.value_counts().items()},
        "modelled_top_counts": {str(k): int(v) for k, v in top_m.value_counts().items()},
    }


@dataclass(frozen=True)
class LeverModels:
    """What :func:`levers_table` needs to model lever effects, per target: a fitted model, the feature
    ranges its lever changes are clipped to and its bootstrap members."""

    models: dict[str, Classifier]
    ranges: dict[str, dict]
    boosters: dict[str, list]


@dataclass(frozen=True)
class TrainedSquad:
    """A simulated squad with both models trained as ``run_train`` does, their training ranges and
    bootstrap boosters, and each test athlete's latest unit per outcome."""

    sim: Any
    models: dict[str, CalibratedLGBMClassifier]
    ranges: dict[str, dict]
    boosters: dict[str, list]
    latest_test_units: dict[str, pd.DataFrame]
    train_units: dict[str, pd.DataFrame]
    panel: pd.DataFrame

    @property
    def lever_models(self) -> LeverModels:
        """The trained models with their training ranges and bootstrap members."""
        return LeverModels(dict(self.models), self.ranges, self.boosters)


def train_squad(p: Params, athletes: int, weeks: int, seed: int, k_boot: int) -> TrainedSquad:
    """Simulate the squad, build both unit tables and train both models (athlete- and time-grouped
    split of ``params.yaml``)."""
    sim = simulate_params_squad(
        p.model_copy(update={"simulate": p.simulate.model_copy(update={"seed": seed})}), athletes, weeks
    )
    panel = build_panel(sim.tables, wellness_baseline_days=p.features.wellness_baseline_days).panel
    built = unit_tables(p, panel, sim.tables, sim.truth)
    models, ranges, boots, tests, trains = {}, {}, {}, {}, {}
    for target in TARGETS:
        u, mp = built[target], getattr(p.train, target)
        res = train_and_evaluate(
            u,
            target=target,
            features=mp.features,
            family=mp.model_family,
            model_params=mp.estimator_kwargs(),
            split_params=p.split.model_dump(exclude={"seed"}),
            flag_threshold=mp.flag_threshold,
            n_boot=0,
            seed=p.split.seed,
            outcome=mp.outcome_column(),
        )
        usable = u[u["label_complete"]].reset_index(drop=True)
        train, test = usable.iloc[res.split.train], usable.iloc[res.split.test]
        models[target] = res.model
        trains[target] = train.reset_index(drop=True)
        ranges[target] = save_training_ranges(
            train, res.features, Path("/tmp") / f"levers_bench_{target}_ranges.json"
        )
        boots[target] = fit_bootstrap_boosters(res.model, train, k=k_boot, seed=seed)
        tests[target] = test.sort_values("unit_date").groupby("athlete_id").tail(1).reset_index(drop=True)
    return TrainedSquad(sim, models, ranges, boots, tests, trains, panel)


def fit_reference(
    p: Params, athletes: int, weeks: int, simulate_seed: int, k_boot: int, seed: int
) -> tuple[LeverModels, dict[str, dict]]:
    """The records-only reference: an independent squad of ``athletes`` x ``weeks`` from the same
    generator (simulator seed ``simulate_seed``), its unit tables built like the pipeline's
    (:func:`simulated_units`), and per target the shipped family (``params.yaml`` ``train.<target>``,
    :func:`make_classifier` fitted as :func:`train_and_evaluate` fits it) fitted on **all** its
    label-complete units, with training ranges from those units and ``k_boot`` bootstrap members
    (:func:`fit_bootstrap_boosters`, bootstrap seed ``seed`` as the model's). With several times the
    squad's units the fit approaches the best function of what the records show. Also returns, per
    target, what the reference was fitted on."""
    sim = p.simulate.model_copy(update={"seed": simulate_seed})
    built = simulated_units(p.model_copy(update={"simulate": sim}), athletes, weeks)
    models: dict[str, Classifier] = {}
    ranges, boots, info = {}, {}, {}
    for target in TARGETS:
        mp = getattr(p.train, target)
        units = built[target][built[target]["label_complete"]].reset_index(drop=True)
        feats = [f for f in mp.features if f in units and units[f].notna().any()]
        outcome = mp.outcome_column()
        models[target] = make_classifier(mp.model_family, mp.estimator_kwargs(), p.split.seed, feats).fit(
            feature_matrix(units, feats),
            units["y"].to_numpy(),
            groups=units["athlete_id"].to_numpy(),
            outcome=units[outcome] if outcome else None,
        )
        ranges[target] = save_training_ranges(
            units, feats, Path("/tmp") / f"levers_bench_reference_{target}_ranges.json"
        )
        boots[target] = fit_bootstrap_boosters(models[target], units, k=k_boot, seed=seed)
        info[target] = {
            "athletes": int(units["athlete_id"].nunique()),
            "weeks": weeks,
            "simulate_seed": simulate_seed,
            "units": int(len(units)),
            "events": int(units["y"].sum()),
            "features": feats,
            "bootstrap_members": len(boots[target]),
        }
    return LeverModels(models, ranges, boots), info


def block_start_rows(latest: pd.DataFrame, panel: pd.DataFrame) -> pd.DataFrame:
    """Decision-time features of each block: the panel row of the first week ending on or after
    the block's opening sprint test (what was known while "+5 % strength this block" was still a
    choice), keyed by the block (``KEYS``); blocks without such a week are dropped."""
    left = latest[KEYS].sort_values("block_start_date")
    right = panel.sort_values("week_end")
    rows = pd.merge_asof(
        left, right, left_on="block_start_date", right_on="week_end", by="athlete_id", direction="forward"
    )
    ok = rows["week_end"].notna() & (rows["week_end"] < rows["block_end_date"])
    return rows[ok].sort_values("athlete_id").reset_index(drop=True)


#: the block's strength plan: what the coach sets when the block starts (its planned squat gain and
#: the 1RM it leads to), read from the block's end as the plan's realisation
PLAN_COLUMNS = ("strength_change_since_test_pct", "strength_change_8w_pct", "squat_e1rm_kg", "squat_e1rm_rel")


def with_planned_strength(start_rows: pd.DataFrame, end_units: pd.DataFrame) -> pd.DataFrame:
    """Decision-time rows with the block's strength plan: every feature as of the block's opening
    test (:func:`block_start_rows`) except :data:`PLAN_COLUMNS`, which carry the block's planned
    strength gain (the gain it reached). The question "+one step more strength this block?" is
    asked of a block whose plan is known; without the plan the strength change since the test is
    about 0 at the opening test, below every training unit (blocks with >= 5 % gain)."""
    plan = end_units[[*KEYS, *[c for c in PLAN_COLUMNS if c in end_units]]]
    rows = start_rows.drop(columns=[c for c in PLAN_COLUMNS if c in plan], errors="ignore")
    return rows.merge(plan, on=KEYS, how="left", validate="one_to_one")


def modelled_effects(
    rows: pd.DataFrame,
    target: str,
    lm: LeverModels,
    levers: list[Lever],
    index: pd.Index,
    *,
    members: bool = True,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The modelled effect (change of probability) of every lever on ``rows`` by ``lm``'s ``target``
    model, bagged over its bootstrap members (``members=False``: the deployed model alone), as an
    athlete x lever frame on ``index`` (lever order of ``levers``), and the :func:`levers_table` behind it."""
    tab = levers_table(
        rows, {target: lm.models[target]}, lm.ranges, levers=levers, boosters=lm.boosters if members else None
    )
    effects = tab.pivot(index="athlete_id", columns="lever", values="effect")
    return effects.loc[index, [lv.name for lv in levers]], tab


def transfer_truth(
    squad: TrainedSquad, levers: list[Lever], seed: int, rows: pd.DataFrame
) -> tuple[pd.DataFrame, float]:
    """The true effect (change of transfer probability) of every lever on the blocks of ``rows``
    (keyed by ``KEYS``), from the block's latent state and the simulator's own noise draws, as an
    athlete x lever frame; and the largest |zero-change truth - stored ``p_transfer``| (a check)."""
    labelled = label_transfer_truth(squad.sim.truth["transfer_blocks"], squad.latest_test_units["transfer"])
    tb = rows[KEYS].merge(labelled, on=KEYS, how="left", validate="one_to_one")
    z = transfer_noise(seed, opening_weight=1 - float(labelled["own_level_slope"].iloc[0]))
    p_base = causal.true_transfer_probability(tb, {}, z)
    truth = pd.DataFrame(
        {
            lv.name: causal.true_transfer_probability(tb, causal.transfer_latent_change(lv.changes), z)
            - p_base
            for lv in levers
        },
        index=rows["athlete_id"],
    )
    return truth, float(np.nanmax(np.abs(p_base - tb["p_transfer"].to_numpy())))


def transfer_check(
    squad: TrainedSquad,
    levers: list[Lever],
    seed: int,
    rows: pd.DataFrame,
    reference: LeverModels | None = None,
) -> dict:
    """Modelled against true transfer effects of ``levers`` on the feature ``rows`` of each test
    athlete's latest block (keyed by ``KEYS``; the truth is the block's latent state). With a
    ``reference`` its bundle choices are scored on the same rows and truth
    (``records_only_reference``, :func:`records_only_reference`)."""
    names, bundles, singles = _lever_groups(levers)
    truth, zero_change_error = transfer_truth(squad, levers, seed, rows)
    model, tab = modelled_effects(rows, "transfer", squad.lever_models, levers, truth.index)
    control_median = float(squad.train_units["transfer"]["control_score_8w"].median())
    baselines = {
        "always_strength": always("more_strength", truth.index),
        "one_feature_rule": threshold_rule(
            rows.set_index("athlete_id")["control_score_8w"],
            control_median,
            "better_control",
            "more_strength",
        ),
    }
    out = {
        "n_athletes": int(len(truth)),
        **_choices(model[bundles], truth[bundles], baselines),
        "one_feature_rule_definition": (
            f"control_score_8w below the training athletes' median ({control_median:.3f}) -> better_control, "
            "else more_strength"
        ),
        "bundles": _agreement(model, truth, bundles),
        "singles": _agreement(model, truth, singles),
        "all_levers": _agreement(model, truth, names),
        "zero_change_max_abs_error": zero_change_error,
        "share_clipped": float(tab["clipped"].mean()),
        "interval_coverage_of_true_effect": _interval_coverage(tab, truth, names),
        "mean_effect": {"model": model.mean().round(4).to_dict(), "truth": truth.mean().round(4).to_dict()},
    }
    if reference is not None:
        out["records_only_reference"] = records_only_reference(
            rows, "transfer", squad.lever_models, reference, levers, model[bundles], truth[bundles]
        )
    return out


def _interval_coverage(tab: pd.DataFrame, truth: pd.DataFrame, names: list[str]) -> float:
    """Share of moved levers whose true effect lies in the bootstrap range (a scale check only)."""
    eff = tab.set_index(["athlete_id", "lever"])
    lo = (eff["low"] - eff["baseline_prob"]).unstack().loc[truth.index, names]
    hi = (eff["high"] - eff["baseline_prob"]).unstack().loc[truth.index, names]
    moved = truth.abs() > 1e-9
    inside = ((truth >= lo - 1e-9) & (truth <= hi + 1e-9))[moved]
    return float(np.nanmean(inside.to_numpy(dtype=float)))


def hamstring_truth(squad: TrainedSquad, levers: list[Lever]) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Each test athlete's latest complete week (those whose four horizon weeks are all simulated),
    the true effect (change of hamstring probability) of every lever on it as an athlete x lever
    frame, and the largest |zero-change truth - stored ``p_true_realised``| (a check).

    The truth is pushed through the generator's own equations from the athlete's latent states
    (:func:`sprintlab.simulate.causal.latent_hamstring_probability`: the realised path of the next
    four weeks with the lever's latent change), not read off the observed features."""
    hl = squad.latest_test_units["hamstring"]
    fut = causal.future_hazards(
        squad.sim.truth["hamstring_weekly"], hl["athlete_id"].to_numpy(), hl["week_end"].to_numpy()
    )
    hl = hl[np.isfinite(fut).all(axis=1)].reset_index(drop=True)
    lat = squad.sim.latent
    rows, weeks = causal.latent_index(lat, hl["athlete_id"].to_numpy(), hl["week_end"].to_numpy())
    h0 = causal.latent_hamstring_probability(lat, rows, weeks)
    truth = pd.DataFrame(
        {
            lv.name: causal.latent_hamstring_probability(
                lat, rows, weeks, causal.hamstring_latent_change(lv.changes, lv.resets)
            )
            - h0
            for lv in levers
        },
        index=hl["athlete_id"],
    )
    return hl, truth, float(np.nanmax(np.abs(h0 - hl["p_true_realised"].to_numpy())))


def hamstring_check(squad: TrainedSquad, levers: list[Lever], reference: LeverModels | None = None) -> dict:
    """Modelled against true hamstring effects on each test athlete's latest complete week
    (:func:`hamstring_truth`). With a ``reference`` its bundle choices are scored on the same weeks
    and truth (``records_only_reference``, :func:`records_only_reference`)."""
    names, bundles, _ = _lever_groups(levers)
    hl, htruth, zero_change_error = hamstring_truth(squad, levers)
    hmodel, _ = modelled_effects(hl, "hamstring", squad.lever_models, levers, htruth.index)
    sign = float(HAMSTRING.benefit_sign)
    nordic_median = float(squad.train_units["hamstring"]["nordic_force_n"].median())
    baselines = {
        "always_control": always("better_control", htruth.index),
        "always_nordic_strength": always("more_strength", htruth.index),
        # the other constants, so that "below the best constant" holds against every one of them
        "always_sleep": always("better_sleep", htruth.index),
        "always_less_load_spike": always("less_load_spike", htruth.index),
        "always_sprint_exposure": always("sprint_exposure", htruth.index),
        "one_feature_rule": threshold_rule(
            hl.set_index("athlete_id")["nordic_force_n"], nordic_median, "more_strength", "better_control"
        ),
    }
    out = {
        "n_athletes": int(len(hl)),
        **_choices(sign * hmodel[bundles], sign * htruth[bundles], baselines),
        "one_feature_rule_definition": (
            f"nordic_force_n below the training athletes' median ({nordic_median:.1f} N) -> more_strength "
            "(the bundle holding the Nordic force step), else better_control"
        ),
        "bundles": _agreement(hmodel, htruth, bundles, benefit_sign=sign),
        "all_levers": _agreement(hmodel, htruth, names, benefit_sign=sign),
        "zero_change_max_abs_error": zero_change_error,
        "mean_effect": {"model": hmodel.mean().round(5).to_dict(), "truth": htruth.mean().round(5).to_dict()},
    }
    if reference is not None:
        out["records_only_reference"] = records_only_reference(
            hl, "hamstring", squad.lever_models, reference, levers, hmodel[bundles], htruth[bundles]
        )
    return out


def records_only_reference(
    rows: pd.DataFrame,
    target: str,
    model: LeverModels,
    reference: LeverModels,
    levers: list[Lever],
    model_effects: pd.DataFrame,
    true_effects: pd.DataFrame,
) -> dict:
    """The records-only reference's bundle choice on the model's own ``rows`` scored against the same
    truth as the model's: ``top_agreement`` and ``mean_regret`` of the reference (bagged over its
    bootstrap members, like the model); ``without_members``: both choosers' scores when the deployed
    model alone chooses; ``model_vs_reference``: the model's scores beside the reference's, their
    differences, the share of athletes both choose the same bundle for and whether both use the same
    features; ``by_true_margin``: top agreement of both among the athletes whose true best bundle
    leads the runner-up by less / at least the median margin (how near-tied the truth is);
    ``chosen_counts`` and ``mean_bundle_effect`` (model, reference, truth) to see where they differ.
    ``model_effects`` / ``true_effects``: the model's and the true bundle effects (probability
    change), athlete x bundle."""
    spec_sign = float(domain.target(target).benefit_sign)
    bundles, index = list(true_effects.columns), true_effects.index
    bundle_levers = [lv for lv in levers if lv.name in bundles]
    effects = {"model": model_effects}
    for name, lm in (("model", model), ("reference", reference)):
        for members in (True, False):
            key = name if members else f"{name}_without_members"
            if key != "model":
                effects[key] = modelled_effects(rows, target, lm, bundle_levers, index, members=members)[0]
    chosen = {key: model_choice(spec_sign * eff) for key, eff in effects.items()}
    true_benefit = spec_sign * true_effects
    scores = compare_choosers(true_benefit, chosen)
    ref, mod = scores["reference"], scores["model"]
    return {
        **ref,
        "without_members": {
            "model": scores["model_without_members"],
            "reference": scores["reference_without_members"],
        },
        "model_vs_reference": {
            "model": mod,
            "reference": ref,
            "top_agreement_model_minus_reference": mod["top_agreement"] - ref["top_agreement"],
            "mean_regret_model_minus_reference": mod["mean_regret"] - ref["mean_regret"],
            "same_choice_share": float((chosen["model"] == chosen["reference"]).mean()),
            "same_features": list(model.models[target].feature_names_in_)
            == list(reference.models[target].feature_names_in_),
        },
        "by_true_margin": _by_true_margin(true_benefit, chosen["model"], chosen["reference"]),
        "chosen_counts": {
            key: {str(k): int(v) for k, v in chosen[key].value_counts().items()}
            for key in ("model", "reference")
        },
        "mean_bundle_effect": {
            **{key: effects[key].mean().round(5).to_dict() for key in ("model", "reference")},
            "truth": true_effects.mean().round(5).to_dict(),
        },
    }


def _by_true_margin(true_benefit: pd.DataFrame, model: pd.Series, reference: pd.Series) -> dict:
    """How near-tied the true bundle benefits are (the true best minus the runner-up per athlete:
    quartiles) and the top agreement of the model and the reference among the athletes below the
    median margin and at or above it."""
    ordered = np.sort(true_benefit.to_numpy(dtype=float), axis=1)
    margin = pd.Series(ordered[:, -1] - ordered[:, -2], index=true_benefit.index)
    median = float(margin.median())
    out: dict = {"margin_quartiles": [float(q) for q in margin.quantile([0.25, 0.5, 0.75])]}
    for part, keep in (("below_median", margin < median), ("at_or_above_median", margin >= median)):
        sub = true_benefit[keep.to_numpy()]
        out[part] = {"n_athletes": int(len(sub))}
        for name, chosen in (("model", model), ("reference", reference)):
            out[part][f"{name}_top_agreement"] = (
                choice_scores(sub, chosen)["top_agreement"] if len(sub) else None
            )
    return out


def _choices(
    model_benefit: pd.DataFrame, true_benefit: pd.DataFrame, baselines: dict[str, pd.Series]
) -> dict:
    """The model's and the baselines' bundle choices scored against the truth (benefits: positive =
    good for the athlete): ``top_agreement`` and ``mean_regret`` (:mod:`sprintlab.lever_choice`)."""
    chosen = model_choice(model_benefit)
    scores = compare_choosers(true_benefit, {"model": chosen, **baselines})
    return {
        "model": scores.pop("model"),
        "baselines": scores,
        "model_regret_by_choice": regret_by_choice(true_benefit, chosen),
    }


def _lever_groups(levers: list[Lever]) -> tuple[list[str], list[str], list[str]]:
    """Lever names: all, the family bundles, the single-feature levers."""
    names = [lv.name for lv in levers]
    return names, [b[0] for b in BUNDLES if b[0] in names], [lv.name for lv in levers if not lv.bundle]


def _steps(squad: TrainedSquad, levers: list[Lever]) -> dict[str, dict[str, float]]:
    """Per target, the effort-equivalent step of every feature a lever moves: :func:`lever_steps`
    of the target's training units, the steps ``run_train`` saves with each model."""
    return {target: lever_steps(squad.train_units[target], levers) for target in TARGETS}


def _variant(res: dict) -> dict:
    """The headline part of a check (athletes, model, baselines) for a comparison variant."""
    return {k: res[k] for k in ("n_athletes", "model", "baselines")}


def run(
    athletes: int,
    weeks: int,
    seed: int,
    params_path: str = "params.yaml",
    k_boot: int | None = None,
    reference_athletes: int = 1000,
    reference_seed_offset: int = 1,
) -> dict:
    """The whole benchmark: train, then compare modelled and true lever effects for both outcomes.

    Headline: levers at decision time (transfer: features at the block's opening test) with
    effort-equivalent steps (one within-athlete SD of each moved feature, ``steps``); the
    variants with the catalogue's steps and/or the features at the block's end are kept under
    ``<target>.variants`` for comparison. With ``reference_athletes`` > 0 the records-only
    reference (:func:`fit_reference`, simulator seed ``seed + reference_seed_offset``) chooses on the
    headline's rows too (``<target>.records_only_reference``)."""
    t0 = time.time()
    p = load_params(params_path)
    k_boot = k_boot or p.train.lever_members
    squad = train_squad(p, athletes, weeks, seed, k_boot)
    reference, reference_squad = (
        fit_reference(p, reference_athletes, weeks, seed + reference_seed_offset, k_boot, seed)
        if reference_athletes > 0
        else (None, {})
    )
    levers = catalogue_levers()
    steps = _steps(squad, levers)
    equal = {target: effort_equivalent_levers(levers, steps[target]) for target in TARGETS}
    at_end = squad.latest_test_units["transfer"]
    at_start = block_start_rows(at_end, squad.panel)
    planned = with_planned_strength(at_start, at_end)
    transfer = transfer_check(squad, equal["transfer"], seed, planned, reference)
    transfer["variants"] = {
        "block_start_plan_catalogue_steps": _variant(transfer_check(squad, levers, seed, planned)),
        "block_start_no_plan_effort_steps": _variant(
            transfer_check(squad, equal["transfer"], seed, at_start)
        ),
        "block_start_no_plan_catalogue_steps": _variant(transfer_check(squad, levers, seed, at_start)),
        "block_end_effort_steps": _variant(transfer_check(squad, equal["transfer"], seed, at_end)),
        "block_end_catalogue_steps": _variant(transfer_check(squad, levers, seed, at_end)),
    }
    hamstring = hamstring_check(squad, equal["hamstring"], reference)
    hamstring["variants"] = {"catalogue_steps": _variant(hamstring_check(squad, levers))}
    for target, res in (("transfer", transfer), ("hamstring", hamstring)):
        if target in reference_squad:
            res["records_only_reference"]["reference_squad"] = reference_squad[target]
    out: dict = {
        "n_athletes": transfer["n_athletes"],
        "squad": {"athletes": athletes, "weeks": weeks, "seed": seed},
        "levers": {lv.name: lv.label for lv in levers},
        "steps": steps,
        "steps_note": (
            "each lever moves every feature it changes by one pooled within-athlete SD of that feature "
            "over the target's training units, in the catalogue's direction (a bundle: each member by its own "
            "step); transfer features are read at the block's opening test (decision time) with the block's "
            "strength plan (its planned gain) known"
        ),
        "note": (
            "headline: <target>.model and <target>.baselines.<rule> - mean_regret (true benefit of the true "
            "best bundle minus that of the chosen bundle, probability units) and top_agreement; "
            "rank_correlation is the per-athlete Spearman correlation over all levers."
        ),
        "top_lever_agreement": transfer["model"]["top_agreement"],
        "rank_correlation": transfer["all_levers"]["rank_correlation"],
        "transfer": transfer,
        "hamstring": hamstring,
        "seconds": round(time.time() - t0, 1),
    }
    return out


def _choice_line(target: str, res: dict) -> str:
    """One line per target: mean regret first, then top agreement, model then each baseline."""
    rows = {"model": res["model"], **res["baselines"]}
    parts = [f"{name} regret {r['mean_regret']:.4f} top {r['top_agreement']:.2f}" for name, r in rows.items()]
    wrong = [p for p in res["model_regret_by_choice"] if p["regret_sum"] > 0][:3]
    where = "; ".join(
        f"{p['chosen']} where {p['true_best']} is best: {p['athletes']} athletes, "
        f"{p['regret_share']:.0%} of the regret"
        for p in wrong
    )
    return (
        f"{target} ({res['n_athletes']} test athletes): "
        + "; ".join(parts)
        + f"\n  model's regret from: {where}"
    )


def _reference_line(target: str, res: dict) -> str:
    """The records-only reference beside the model: with bootstrap members, then the deployed model alone."""
    ref, alone = res["records_only_reference"], res["records_only_reference"]["without_members"]
    return (
        f"{target} records-only reference ({ref['reference_squad']['athletes']} athletes): "
        f"regret {ref['mean_regret']:.4f} top {ref['top_agreement']:.2f} (model {res['model']['top_agreement']:.2f}); "
        f"without members: reference top {alone['reference']['top_agreement']:.2f}, "
        f"model top {alone['model']['top_agreement']:.2f}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p = load_params("params.yaml").simulate
    ap.add_argument("--athletes", type=int, default=p.athletes)
    ap.add_argument("--weeks", type=int, default=p.weeks)
    ap.add_argument("--seed", type=int, default=p.seed)
    ap.add_argument("--out", default="reports/metrics/levers.json")
    ap.add_argument(
        "--reference-athletes", type=int, default=1000, help="records-only reference squad size (0 = skip)"
    )
    ap.add_argument(
        "--reference-seed-offset", type=int, default=1, help="reference simulator seed = --seed + this"
    )
    ap.add_argument(
        "--members", type=int, help="bootstrap members per model (default: params.yaml train.lever_members)"
    )
    a = ap.parse_args()
    res = run(
        a.athletes,
        a.weeks,
        a.seed,
        k_boot=a.members,
        reference_athletes=a.reference_athletes,
        reference_seed_offset=a.reference_seed_offset,
    )
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for target in ("transfer", "hamstring"):
        print(_choice_line(target, res[target]))
        if "records_only_reference" in res[target]:
            print(_reference_line(target, res[target]))
    print(f"wrote {path} in {res['seconds']} s")


if __name__ == "__main__":
    main()
