"""Benchmark: do the modelled levers agree with the simulator's causal truth?

    .venv/bin/python benchmarks/bench_levers.py [--athletes 200] [--weeks 104] [--seed S] [--out reports/metrics/levers.json]

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
``always_nordic_strength`` (always the strength bundle, the one holding the Nordic force step) and
``one_feature_rule`` (Nordic force below the training units' median -> the strength bundle, else
"better control").

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

from sprintlab.config import Params, load_params
from sprintlab.domain import HAMSTRING, TARGETS
from sprintlab.features.panel import build_panel
from sprintlab.lever_choice import always, compare_choosers, model_choice, threshold_rule
from sprintlab.levers import (
    BUNDLES,
    Lever,
    catalogue_levers,
    effort_equivalent_levers,
    fit_bootstrap_boosters,
    levers_table,
    save_training_ranges,
    within_athlete_sd,
)
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.training import train_and_evaluate
from sprintlab.pipeline.simulate import simulate_params_squad
from sprintlab.pipeline.targets import unit_tables
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


def transfer_check(squad: TrainedSquad, levers: list[Lever], seed: int, rows: pd.DataFrame) -> dict:
    """Modelled against true transfer effects of ``levers`` on the feature ``rows`` of each test
    athlete's latest block (keyed by ``KEYS``; the truth is the block's latent state)."""
    names, bundles, singles = _lever_groups(levers)
    tab = levers_table(
        rows, {"transfer": squad.models["transfer"]}, squad.ranges, levers=levers, boosters=squad.boosters
    )
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
    model = tab.pivot(index="athlete_id", columns="lever", values="effect").loc[truth.index, names]
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
    return {
        "n_athletes": int(len(truth)),
        **_choices(model[bundles], truth[bundles], baselines),
        "one_feature_rule_definition": (
            f"control_score_8w below the training athletes' median ({control_median:.3f}) -> better_control, "
            "else more_strength"
        ),
        "bundles": _agreement(model, truth, bundles),
        "singles": _agreement(model, truth, singles),
        "all_levers": _agreement(model, truth, names),
        "zero_change_max_abs_error": float(np.nanmax(np.abs(p_base - tb["p_transfer"].to_numpy()))),
        "share_clipped": float(tab["clipped"].mean()),
        "interval_coverage_of_true_effect": _interval_coverage(tab, truth, names),
        "mean_effect": {"model": model.mean().round(4).to_dict(), "truth": truth.mean().round(4).to_dict()},
    }


def _interval_coverage(tab: pd.DataFrame, truth: pd.DataFrame, names: list[str]) -> float:
    """Share of moved levers whose true effect lies in the bootstrap range (a scale check only)."""
    eff = tab.set_index(["athlete_id", "lever"])
    lo = (eff["low"] - eff["baseline_prob"]).unstack().loc[truth.index, names]
    hi = (eff["high"] - eff["baseline_prob"]).unstack().loc[truth.index, names]
    moved = truth.abs() > 1e-9
    inside = ((truth >= lo - 1e-9) & (truth <= hi + 1e-9))[moved]
    return float(np.nanmean(inside.to_numpy(dtype=float)))


def hamstring_check(squad: TrainedSquad, levers: list[Lever]) -> dict:
    """Modelled against true hamstring effects on each test athlete's latest complete week.

    The true effect is pushed through the generator's own equations from the athlete's latent
    states (:func:`sprintlab.simulate.causal.latent_hamstring_probability`: the realised path
    of the next four weeks with the lever's latent change), not read off the observed features."""
    names, bundles, _ = _lever_groups(levers)
    hl = squad.latest_test_units["hamstring"]
    fut = causal.future_hazards(
        squad.sim.truth["hamstring_weekly"], hl["athlete_id"].to_numpy(), hl["week_end"].to_numpy()
    )
    ok = np.isfinite(fut).all(axis=1)
    hl, fut = hl[ok].reset_index(drop=True), fut[ok]
    htab = levers_table(
        hl, {"hamstring": squad.models["hamstring"]}, squad.ranges, levers=levers, boosters=squad.boosters
    )
    lat = squad.sim.latent
    rows, weeks = causal.latent_index(lat, hl["athlete_id"].to_numpy(), hl["week_end"].to_numpy())
    h0 = causal.latent_hamstring_probability(lat, rows, weeks)
    htruth = pd.DataFrame(
        {
            lv.name: causal.latent_hamstring_probability(
                lat, rows, weeks, causal.hamstring_latent_change(lv.changes)
            )
            - h0
            for lv in levers
        },
        index=hl["athlete_id"],
    )
    hmodel = htab.pivot(index="athlete_id", columns="lever", values="effect").loc[htruth.index, names]
    sign = float(HAMSTRING.benefit_sign)
    nordic_median = float(squad.train_units["hamstring"]["nordic_force_n"].median())
    baselines = {
        "always_control": always("better_control", htruth.index),
        "always_nordic_strength": always("more_strength", htruth.index),
        "one_feature_rule": threshold_rule(
            hl.set_index("athlete_id")["nordic_force_n"], nordic_median, "more_strength", "better_control"
        ),
    }
    return {
        "n_athletes": int(len(hl)),
        **_choices(sign * hmodel[bundles], sign * htruth[bundles], baselines),
        "one_feature_rule_definition": (
            f"nordic_force_n below the training athletes' median ({nordic_median:.1f} N) -> more_strength "
            "(the bundle holding the Nordic force step), else better_control"
        ),
        "bundles": _agreement(hmodel, htruth, bundles, benefit_sign=sign),
        "all_levers": _agreement(hmodel, htruth, names, benefit_sign=sign),
        "zero_change_max_abs_error": float(np.nanmax(np.abs(h0 - hl["p_true_realised"].to_numpy()))),
        "mean_effect": {"model": hmodel.mean().round(5).to_dict(), "truth": htruth.mean().round(5).to_dict()},
    }


def _choices(
    model_benefit: pd.DataFrame, true_benefit: pd.DataFrame, baselines: dict[str, pd.Series]
) -> dict:
    """The model's and the baselines' bundle choices scored against the truth (benefits: positive =
    good for the athlete): ``top_agreement`` and ``mean_regret`` (:mod:`sprintlab.lever_choice`)."""
    scores = compare_choosers(true_benefit, {"model": model_choice(model_benefit), **baselines})
    return {"model": scores.pop("model"), "baselines": scores}


def _lever_groups(levers: list[Lever]) -> tuple[list[str], list[str], list[str]]:
    """Lever names: all, the family bundles, the single-feature levers."""
    names = [lv.name for lv in levers]
    return names, [b[0] for b in BUNDLES if b[0] in names], [lv.name for lv in levers if not lv.bundle]


def _steps(squad: TrainedSquad, levers: list[Lever]) -> dict[str, dict[str, float]]:
    """Per target, one within-athlete SD (:func:`within_athlete_sd` of the training units) of every
    feature a lever moves: the effort-equivalent step of each lever."""
    moved = sorted({f for lv in levers if not lv.bundle for f in lv.changes})
    return {target: within_athlete_sd(squad.train_units[target], moved) for target in TARGETS}


def _variant(res: dict) -> dict:
    """The headline part of a check (athletes, model, baselines) for a comparison variant."""
    return {k: res[k] for k in ("n_athletes", "model", "baselines")}


def run(athletes: int, weeks: int, seed: int, params_path: str = "params.yaml", k_boot: int = 8) -> dict:
    """The whole benchmark: train, then compare modelled and true lever effects for both outcomes.

    Headline: levers at decision time (transfer: features at the block's opening test) with
    effort-equivalent steps (one within-athlete SD of each moved feature, ``steps``); the
    variants with the catalogue's steps and/or the features at the block's end are kept under
    ``<target>.variants`` for comparison."""
    t0 = time.time()
    squad = train_squad(load_params(params_path), athletes, weeks, seed, k_boot)
    levers = catalogue_levers()
    steps = _steps(squad, levers)
    equal = {target: effort_equivalent_levers(levers, steps[target]) for target in TARGETS}
    at_end = squad.latest_test_units["transfer"]
    at_start = block_start_rows(at_end, squad.panel)
    planned = with_planned_strength(at_start, at_end)
    transfer = transfer_check(squad, equal["transfer"], seed, planned)
    transfer["variants"] = {
        "block_start_plan_catalogue_steps": _variant(transfer_check(squad, levers, seed, planned)),
        "block_start_no_plan_effort_steps": _variant(
            transfer_check(squad, equal["transfer"], seed, at_start)
        ),
        "block_start_no_plan_catalogue_steps": _variant(transfer_check(squad, levers, seed, at_start)),
        "block_end_effort_steps": _variant(transfer_check(squad, equal["transfer"], seed, at_end)),
        "block_end_catalogue_steps": _variant(transfer_check(squad, levers, seed, at_end)),
    }
    hamstring = hamstring_check(squad, equal["hamstring"])
    hamstring["variants"] = {"catalogue_steps": _variant(hamstring_check(squad, levers))}
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
    return f"{target} ({res['n_athletes']} test athletes): " + "; ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p = load_params("params.yaml").simulate
    ap.add_argument("--athletes", type=int, default=p.athletes)
    ap.add_argument("--weeks", type=int, default=p.weeks)
    ap.add_argument("--seed", type=int, default=p.seed)
    ap.add_argument("--out", default="reports/metrics/levers.json")
    a = ap.parse_args()
    res = run(a.athletes, a.weeks, a.seed)
    path = Path(a.out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    for target in ("transfer", "hamstring"):
        print(_choice_line(target, res[target]))
    print(f"wrote {path} in {res['seconds']} s")


if __name__ == "__main__":
    main()
