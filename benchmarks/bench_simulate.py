"""Benchmark: simulate a squad (the ``simulate`` stage's work) in a fresh process per run.

    .venv/bin/python benchmarks/bench_simulate.py [--athletes 200] [--weeks 104] [--seed 20261124]
        [--repeats 3] [--compare-src ../old/src] [--check-identical]

Each run starts ``python`` from the shell with ``PYTHONPATH`` set to one ``src`` and times
:func:`sprintlab.simulate.generator.simulate_squad` inside it (import time printed apart). With
``--compare-src`` the runs alternate between the two checkouts and the ratio of the best runs is
printed; ``--check-identical`` pickles both results and compares every contract and truth table with
``assert_frame_equal(check_exact=True)``. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import json, pickle, sys, time
t0 = time.perf_counter()
from sprintlab.simulate.generator import simulate_squad
t1 = time.perf_counter()
sim = simulate_squad(n_athletes=int(sys.argv[1]), n_weeks=int(sys.argv[2]), seed=int(sys.argv[3]))
t2 = time.perf_counter()
if sys.argv[4]:
    pickle.dump((sim.tables, sim.truth), open(sys.argv[4], "wb"))
print(json.dumps({"import_s": t1 - t0, "simulate_s": t2 - t1}))
"""


def run_once(src: Path, args: argparse.Namespace, dump: str = "") -> dict:
    env = {**os.environ, "PYTHONPATH": str(src)}
    argv = [sys.executable, "-c", CHILD, str(args.athletes), str(args.weeks), str(args.seed), dump]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def assert_identical(a: str, b: str) -> None:
    left, right = pickle.load(open(a, "rb")), pickle.load(open(b, "rb"))
    for part_a, part_b in zip(left, right, strict=True):
        assert set(part_a) == set(part_b)
        for name, frame in part_a.items():
            if isinstance(frame, pd.DataFrame):
                pd.testing.assert_frame_equal(frame, part_b[name], check_exact=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=200)
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--seed", type=int, default=20261124)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--compare-src", type=Path, help="another checkout's src/ to run alternately")
    ap.add_argument("--check-identical", action="store_true")
    args = ap.parse_args()
    versions = {"this": ROOT / "src"} | ({"compare": args.compare_src} if args.compare_src else {})
    runs: dict[str, list[dict]] = {v: [] for v in versions}
    for _ in range(args.repeats):
        for name, src in versions.items():
            runs[name].append(run_once(src, args))
    print(
        f"simulate_squad({args.athletes} athletes x {args.weeks} weeks, seed {args.seed}), fresh process each"
    )
    best = {}
    for name, rs in runs.items():
        best[name] = min(r["simulate_s"] for r in rs)
        sims = ", ".join(f"{r['simulate_s']:.2f}" for r in rs)
        print(
            f"  [{name:>7}] best {best[name]:6.2f} s ({sims}); import {min(r['import_s'] for r in rs):.2f} s"
        )
    if "compare" in best:
        print(f"  this is {best['compare'] / best['this']:.1f}x faster than compare (best)")
    if args.check_identical and args.compare_src:
        with tempfile.TemporaryDirectory() as tmp:
            a, b = f"{tmp}/this.pkl", f"{tmp}/compare.pkl"
            run_once(versions["this"], args, a)
            run_once(versions["compare"], args, b)
            assert_identical(a, b)
        print("  every contract and truth table identical (assert_frame_equal, check_exact=True)")


if __name__ == "__main__":
    main()
