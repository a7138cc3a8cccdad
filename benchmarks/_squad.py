"""Shared by the benchmarks that simulate the ``params.yaml`` squad and repeat over split seeds
(``bench_models.py``, ``bench_explanations.py``): their common options, the simulated units and
the output helpers."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def squad_arguments(description: str, seeds: list[int]) -> argparse.ArgumentParser:
    """``--params --athletes --weeks --simulate-seed --seeds --json``; a script adds its own options."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--athletes", type=int)
    ap.add_argument("--weeks", type=int)
    ap.add_argument("--simulate-seed", type=int, help="another squad: overrides simulate.seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=seeds)
    ap.add_argument("--json", type=Path)
    return ap


def simulate_units(a: argparse.Namespace) -> tuple[object, dict, dict]:
    """The parameters, both unit tables of the simulated squad (``pipeline.targets.simulated_units``) and a
    header (squad size, simulator seed) for the results; prints how long the simulation took."""
    from sprintlab.config import load_params
    from sprintlab.pipeline.targets import simulated_units

    params = load_params(a.params)
    if getattr(a, "simulate_seed", None) is not None:
        params = params.model_copy(
            update={"simulate": params.simulate.model_copy(update={"seed": a.simulate_seed})}
        )
    athletes = a.athletes or params.simulate.athletes
    weeks = a.weeks or params.simulate.weeks
    t0 = time.time()
    units = simulated_units(params, athletes, weeks)
    print(
        f"simulated {athletes} athletes x {weeks} weeks (seed {params.simulate.seed}) in {time.time() - t0:.0f} s"
    )
    return params, units, {"athletes": athletes, "weeks": weeks, "simulate_seed": params.simulate.seed}


def write_json(path: Path | None, results: dict) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")


def fmt(x) -> str:
    """A figure to three decimals, "-" when missing."""
    return "-" if x is None or not np.isfinite(x) else f"{x:.3f}"
