"""Benchmark ``sprintlab score``: a squad (40 athletes, CSV exports validated, SHAP and the HTML
report) and a league (5,000 athletes, already-validated tables, no report).

    .venv/bin/python benchmarks/bench_score.py [--league-athletes 5000] [--skip-league]

Trains two small models into a temporary MLflow store first (not timed). Prints wall time after
imports, peak memory (tracemalloc peak of Python allocations and the process's max RSS) and the
share of each step. Goals on 2 cores: squad < 5 s, league < 60 s. Figures only, no assertions.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _train(tmp: Path):
    from sprintlab.config import load_params
    from sprintlab.pipeline.chain import quick_params, run_training_chain

    base = load_params(ROOT / "params.yaml")
    params = quick_params(base)
    res = run_training_chain(params, tmp, today="2026-11-24")["validation"]
    return base, res.tables


def _league(tables: dict, n: int) -> dict:
    """``n`` athletes: copies of the squad's validated tables with fresh ids."""
    import pandas as pd

    k = -(-n // tables["athletes"]["athlete_id"].nunique())
    out = {}
    for name, df in tables.items():
        parts = []
        for i in range(k):
            d = df.copy()
            d["athlete_id"] = d["athlete_id"].astype(str) + f"-L{i:03d}"
            parts.append(d)
        out[name] = pd.concat(parts, ignore_index=True)
    keep = set(sorted(out["athletes"]["athlete_id"])[:n])
    return {name: df[df["athlete_id"].isin(keep)].reset_index(drop=True) for name, df in out.items()}


def _run(label: str, fn, trace: bool) -> None:
    if trace:  # tracemalloc slows Python code down noticeably: off by default, wall times are without it
        tracemalloc.start()
    t0 = time.perf_counter()
    res = fn()
    wall = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\n{label}: {len(res.scores)} athletes, wall {wall:.2f} s, process max RSS {rss:.0f} MiB"
        + (f", tracemalloc peak {peak:.0f} MiB" if trace else "")
        + f", exit code {res.exit_code}"
    )
    total = sum(res.timings.values())
    for k, v in sorted(res.timings.items(), key=lambda kv: -kv[1]):
        print(f"  {k:<9} {v:7.2f} s  {100 * v / total:5.1f} %")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--league-athletes", type=int, default=5000)
    ap.add_argument("--skip-league", action="store_true")
    ap.add_argument("--tracemalloc", action="store_true", help="also report the tracemalloc peak (slower)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{tmp / 'mlflow.db'}"
    os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
    os.chdir(tmp)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; work dir {tmp}")
    t = time.perf_counter()
    params, validated = _train(tmp)
    print(f"setup (simulate + train + register, not timed): {time.perf_counter() - t:.1f} s")

    # imports and the first model load happen once per process; time them apart from scoring
    import matplotlib.pyplot  # noqa: F401
    import skops.io  # noqa: F401

    from sprintlab.report import render  # noqa: F401
    from sprintlab.scoring import load_registered_models, score

    t = time.perf_counter()
    load_registered_models()
    print(f"warm-up (imports, first registry access): {time.perf_counter() - t:.1f} s")

    _run(
        "squad (40 athletes, CSV validation + SHAP + report)",
        lambda: score(tmp / "sim" / "raw", tmp / "out_squad", params, simulated=True),
        args.tracemalloc,
    )
    if not args.skip_league:
        league = _league(validated, args.league_athletes)
        _run(
            f"league ({args.league_athletes} athletes, validated tables, SHAP, no report)",
            lambda: score(None, tmp / "out_league", params, tables=league, report=False, simulated=True),
            args.tracemalloc,
        )


if __name__ == "__main__":
    main()
