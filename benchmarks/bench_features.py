"""Benchmark: build the athlete-week panel for a simulated league (default 5,000 athletes x 2 years).

The league is made by simulating a 250-athlete squad for 104 weeks and tiling it under new athlete
ids (the panel's cost depends on row counts, not on the values), so the set-up stays quick. Prints
input rows, wall time and peak memory (resident set) of the panel build, against the goals
(< 60 s and < 4 GB on a 2-core machine). Run: ``python benchmarks/bench_features.py [--athletes N]``.
"""

from __future__ import annotations

import argparse
import resource
import time

import pandas as pd

from sprintlab.features.panel import build_panel
from sprintlab.simulate.generator import simulate_squad


def league(n_athletes: int, weeks: int, seed: int, base: int = 250) -> dict[str, pd.DataFrame]:
    squad = simulate_squad(min(base, n_athletes), weeks, seed).tables
    copies = -(-n_athletes // base)
    out = {}
    for name, df in squad.items():
        parts = []
        for k in range(copies):
            part = df.copy()
            part["athlete_id"] = part["athlete_id"].str.replace("SIM", f"L{k:02d}", regex=False)
            parts.append(part)
        out[name] = pd.concat(parts, ignore_index=True)
    keep = set(out["athletes"]["athlete_id"].iloc[:n_athletes])
    return {k: v[v["athlete_id"].isin(keep)].reset_index(drop=True) for k, v in out.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--athletes", type=int, default=5000)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--chunk-athletes", type=int, default=1000, help="athletes per panel chunk (0 = all at once)"
    )
    args = ap.parse_args()
    t0 = time.perf_counter()
    tables = league(args.athletes, args.weeks, args.seed)
    setup = time.perf_counter() - t0
    rows = sum(len(v) for v in tables.values())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t0 = time.perf_counter()
    res = build_panel(tables, chunk_athletes=args.chunk_athletes or None)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(
        f"league: {args.athletes} athletes x {args.weeks} weeks, {rows:,} input rows (set-up {setup:.1f} s)"
    )
    print(f"chunks of {args.chunk_athletes or args.athletes} athletes")
    print(f"panel:  {len(res.panel):,} athlete-weeks x {res.panel.shape[1] - 3} features")
    print(f"wall time: {wall:.1f} s   (goal < 60 s: {wall / 60:.2f} of budget)")
    print(
        f"peak RSS:  {peak:.2f} GB (before the build {rss_before:.2f} GB; goal < 4 GB: {peak / 4:.2f} of budget)"
    )


if __name__ == "__main__":
    main()
