"""Benchmark: how faithfully do the transfer features measure the simulator's block latents?

    PYTHONPATH=src .venv/bin/python benchmarks/bench_transfer_fidelity.py [--seed S] [--json PATH]

Simulates the ``params.yaml`` squad (``--seed`` overrides ``simulate.seed``), builds the transfer
units as the pipeline does (the simulator's block latents attached as ``true_*`` columns) and takes
the **training** blocks of the pipeline's athlete- and time-grouped split (never a test athlete or the
test period). For each latent the truth's mean change uses (``processes.transfer_mean_change``:
strength gain ``g``, control ``c``, braking ``k``, block load excess, block sleep deficit) it prints
the Pearson correlation with the observed feature(s), over all training blocks and by how many days
of the athlete's records precede the block (the own norms the load and sleep features compare with
are estimated from those days). A low correlation dilutes the model's effect of that latent
(measurement error), whatever the model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

from _squad import ROOT

#: block latent (unit column) -> the observed features compared with it
PAIRS: dict[str, tuple[str, ...]] = {
    "true_strength_gain": ("strength_change_since_test_pct",),
    "true_control_state": ("control_score_8w", "pelvic_control_score", "trunk_control_score"),
    "true_braking_state": ("first_step_contact_ms", "touchdown_distance_m"),
    "true_load_excess": ("hsr_excess_since_test",),
    "true_sleep_deficit": ("sleep_deficit_since_test_h",),
}
#: days of the athlete's records before the block: the bands reported
HISTORY_BANDS_DAYS = ((0, 120), (120, 250), (250, 10_000))


def training_blocks(seed: int | None, params_path: Path) -> pd.DataFrame:
    """The label-complete transfer training blocks of the pipeline's split, with ``history_days``."""
    from sprintlab.config import load_params
    from sprintlab.models.evaluation import athlete_time_split
    from sprintlab.pipeline.targets import simulated_units

    p = load_params(params_path)
    if seed is not None:
        p = p.model_copy(update={"simulate": p.simulate.model_copy(update={"seed": seed})})
    units = simulated_units(p)["transfer"]
    usable = units[units["label_complete"]].reset_index(drop=True)
    split = athlete_time_split(usable, seed=p.split.seed, **p.split.model_dump(exclude={"seed"}))
    first = pd.to_datetime(usable["block_start_date"]).min()
    usable["history_days"] = (pd.to_datetime(usable["block_start_date"]) - first).dt.days
    return usable.iloc[split.train].reset_index(drop=True)


def _r(blocks: pd.DataFrame, latent: str, feature: str) -> tuple[float, int]:
    both = blocks[[latent, feature]].astype(float).dropna()
    return (float(both.corr().iloc[0, 1]) if len(both) > 2 else float("nan")), len(both)


def fidelity(blocks: pd.DataFrame) -> list[dict]:
    """Per latent and feature: r over all blocks and per history band (blocks in each band)."""
    out = []
    for latent, features in PAIRS.items():
        for f in (f for f in features if f in blocks and latent in blocks):
            r, n = _r(blocks, latent, f)
            bands = {}
            for lo, hi in HISTORY_BANDS_DAYS:
                part = blocks[(blocks["history_days"] >= lo) & (blocks["history_days"] < hi)]
                bands[f"{lo}-{hi}"] = dict(zip(("r", "n"), _r(part, latent, f), strict=True))
            out.append({"latent": latent, "feature": f, "r": r, "n": n, "by_history_days": bands})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, help="another squad: overrides simulate.seed")
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    blocks = training_blocks(a.seed, a.params)
    rows = fidelity(blocks)
    bands = " | ".join(f"r, {lo}-{hi} days (n)" for lo, hi in HISTORY_BANDS_DAYS)
    print(f"{len(blocks)} training blocks\n\n| latent | feature | r (all) | {bands} |")
    print("|---" * (3 + len(HISTORY_BANDS_DAYS)) + "|")
    for row in rows:
        cells = " | ".join(
            f"{b['r']:+.3f} ({b['n']})" if np.isfinite(b["r"]) else f"- ({b['n']})"
            for b in row["by_history_days"].values()
        )
        print(f"| {row['latent']} | {row['feature']} | {row['r']:+.3f} | {cells} |")
    if a.json:
        a.json.write_text(json.dumps({"n_blocks": len(blocks), "fidelity": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
