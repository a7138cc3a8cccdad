"""Benchmark: how faithfully do the hamstring features measure the simulator's hazard terms?

    PYTHONPATH=src .venv/bin/python benchmarks/bench_hamstring_fidelity.py [--seed S] [--json PATH]

Simulates the ``params.yaml`` squad (``--seed`` overrides ``simulate.seed``), builds the panel and
the hamstring units as the pipeline does, and takes the **training** athlete-weeks of the pipeline's
athlete- and time-grouped split (``split:``; never a test athlete or the test period). For each term
of the weekly hazard (``docs/simulator.md``) it correlates the observed feature(s) with the latent
quantity the truth uses at the end of the same week: effective Nordic force, HSR spike state, days
since near-maximal sprinting (both capped at 42 days), sleep deficit, soreness, the strength-control
gap (:func:`sprintlab.simulate.processes.strength_control_gap_at_week`) and its two parts. A low
correlation means the model's effect of that term is diluted (measurement error), whatever the model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.config import load_params
from sprintlab.features.panel import build_panel
from sprintlab.models.evaluation import athlete_time_split
from sprintlab.pipeline.simulate import simulate_params_squad
from sprintlab.pipeline.targets import unit_tables
from sprintlab.simulate import causal
from sprintlab.simulate.coefficients import STRENGTH_CONTROL_GAP
from sprintlab.simulate.latent import LatentSquad
from sprintlab.simulate.processes import (
    capped_sprint_gap_days,
    effective_nordic_n,
    strength_control_gap_at_week,
)

#: latent term -> the observed features compared with it
PAIRS: dict[str, tuple[str, ...]] = {
    "nordic_effective_n": ("nordic_force_n",),
    "hsr_spike_state": ("hsr_vs_own_norm", "hsr_vs_own_norm_prev_week", "acwr_ewma"),
    "sprint_gap_days": ("days_since_near_max_speed",),
    "sleep_deficit": ("sleep_hours_vs_norm", "sleep_hours_z"),
    "soreness": ("soreness_7d", "soreness_vs_norm", "soreness_z", "hamstring_tightness_z"),
    "strength_control_gap": ("strength_control_gap",),
    "squat_gain_8w": ("strength_change_8w_pct",),
    "control_change_8w": ("control_change_8w",),
}
CAPPED = {"days_since_near_max_speed"}  # capped at 42 days, as the hazard counts them


def training_weeks(seed: int | None, params_path: str = "params.yaml") -> tuple[pd.DataFrame, LatentSquad]:
    """The hamstring training athlete-weeks of the pipeline's split and the squad's latent state."""
    p = load_params(params_path)
    if seed is not None:
        p = p.model_copy(update={"simulate": p.simulate.model_copy(update={"seed": seed})})
    sim = simulate_params_squad(p)
    panel = build_panel(sim.tables, wellness_baseline_days=p.features.wellness_baseline_days).panel
    ham = unit_tables(p, panel, sim.tables, sim.truth)["hamstring"]
    usable = ham[ham["label_complete"]].reset_index(drop=True)
    split = athlete_time_split(usable, seed=p.split.seed, **p.split.model_dump(exclude={"seed"}))
    return usable.iloc[split.train].reset_index(drop=True), sim.latent


def latent_terms(units: pd.DataFrame, lat: LatentSquad) -> dict[str, np.ndarray]:
    """The hazard's latent inputs at the end of each unit's week (``causal.latent_index``)."""
    rows, weeks = causal.latent_index(lat, units["athlete_id"].to_numpy(), units["week_end"].to_numpy())
    plan, before = lat.plan, np.maximum(weeks - STRENGTH_CONTROL_GAP.lookback_weeks, 0)
    gap = np.full(len(rows), np.nan)
    for w in np.unique(weeks):
        gap[weeks == w] = strength_control_gap_at_week(plan.squat_rel, plan.control, int(w))[rows[weeks == w]]
    return {
        "nordic_effective_n": effective_nordic_n(
            lat.weekly.nordic[rows, weeks], lat.traits.nordic_asym[rows]
        ),
        "hsr_spike_state": lat.hamstring.spike_state[rows, weeks],
        "sprint_gap_days": capped_sprint_gap_days(lat.hamstring.days_since_expo[rows, weeks]),
        "sleep_deficit": lat.weekly.sleep_dev[rows, weeks],
        "soreness": lat.weekly.sore[rows, weeks],
        "strength_control_gap": gap,
        "squat_gain_8w": plan.squat_rel[rows, weeks] / plan.squat_rel[rows, before] - 1,
        "control_change_8w": plan.control[rows, weeks] - plan.control[rows, before],
    }


def fidelity(units: pd.DataFrame, latent: dict[str, np.ndarray]) -> list[dict]:
    """Pearson correlation of each observed feature with its latent term, over the weeks where both
    are finite (``coverage``: their share)."""
    out = []
    for term, features in PAIRS.items():
        for f in features:
            if f not in units:
                continue
            x = units[f].to_numpy(dtype=float)
            x = capped_sprint_gap_days(x) if f in CAPPED else x
            ok = np.isfinite(x) & np.isfinite(latent[term])
            r = float(np.corrcoef(x[ok], latent[term][ok])[0, 1]) if ok.sum() > 2 else float("nan")
            out.append({"term": term, "feature": f, "r": r, "coverage": float(ok.mean())})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, help="another squad: overrides simulate.seed")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    units, lat = training_weeks(a.seed)
    rows = fidelity(units, latent_terms(units, lat))
    print(f"{len(units)} training athlete-weeks")
    for r in rows:
        print(f"{r['term']:22s} {r['feature']:28s} r = {r['r']:+.3f}  coverage {r['coverage']:.3f}")
    if a.json:
        a.json.write_text(
            json.dumps({"n_weeks": len(units), "fidelity": rows}, indent=2) + "\n", encoding="utf-8"
        )


if __name__ == "__main__":
    main()
