"""Benchmark: build the athlete-week panel for simulated leagues, each build in a fresh process.

    .venv/bin/python benchmarks/bench_features.py [--athletes 1000 5000] [--weeks 104]
        [--compare-src ../main/src] [--check-identical] [--repeats 1]

The league is made by simulating a 250-athlete squad for ``--weeks`` weeks and tiling it under new
athlete ids (the panel's cost depends on row counts, not on the values), written once as Parquet
under ``--cache``. Every build then runs in a fresh ``python`` process that reads the tables and
calls ``build_panel(tables, chunk_athletes=...)``. The child reports the build's wall time, the
peak resident set while reading the tables (``VmHWM``) and the peak during the build with the
tables in memory (``VmHWM`` after resetting it once the tables are read); the whole-process peak is
the larger of the two. Both come from the child's own ``/proc/self/status``: ``os.wait4``'s
``ru_maxrss`` is not used, because Linux carries the parent's high-water mark into a child started
with vfork/exec (a child running ``pass`` after the parent peaked at 3 GB reports 3 GB), so it
reported the simulating parent's peak, not the build's. The parent adds the process's CPU time. With ``--compare-src`` the same builds run interleaved against another checkout's
``src`` (e.g. main before a change) and the ratios are printed; ``--check-identical`` also writes
both panels and compares them with ``assert_frame_equal(check_exact=True)``.
Goals: < 60 s and < 4 GB for 10,000 athletes x 2 years on a 2-core machine. Prints figures only.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
BASE_ATHLETES = 250

CHILD = """
import gc, json, pathlib, sys, time
import pandas as pd
from sprintlab.features.panel import build_panel

def status(key):  # kB -> GB, from /proc/self/status (VmRSS now, VmHWM peak since the last reset)
    with open("/proc/self/status") as f:
        line = next(l for l in f if l.startswith(key))
    return int(line.split()[1]) / 1024**2

t0 = time.perf_counter()
tables = {p.stem: pd.read_parquet(p) for p in sorted(pathlib.Path(sys.argv[1]).glob("*.parquet"))}
load = time.perf_counter() - t0
peak_read = status("VmHWM:")
gc.collect()
rss_tables = status("VmRSS:")
with open("/proc/self/clear_refs", "w") as f:  # reset the peak: measure the build, not the reader
    f.write("5")
t0 = time.perf_counter()
res = build_panel(tables, chunk_athletes=int(sys.argv[2]) or None)
build = time.perf_counter() - t0
peak_build = status("VmHWM:")
if sys.argv[3]:
    res.panel.to_parquet(sys.argv[3])
print(json.dumps({"load_s": load, "build_s": build, "rss_tables_gb": rss_tables, "peak_build_gb": peak_build,
                  "peak_read_gb": peak_read,
                  "rows": len(res.panel), "features": res.panel.shape[1] - 3,
                  "module": __import__("sprintlab").__file__}))
"""


def league(n_athletes: int, weeks: int, seed: int, base: int = BASE_ATHLETES) -> dict[str, pd.DataFrame]:
    """``n_athletes`` athletes: copies of one simulated ``base``-athlete squad under new ids."""
    sys.path.insert(0, str(ROOT / "src"))
    from sprintlab.simulate.generator import simulate_squad

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


def cached_league(cache: Path, n_athletes: int, weeks: int, seed: int) -> Path:
    """Directory of the league's tables as Parquet (simulated on the first call)."""
    folder = cache / f"league_{n_athletes}_{weeks}w_seed{seed}"
    if not (folder / "athletes.parquet").exists():
        t0 = time.perf_counter()
        folder.mkdir(parents=True, exist_ok=True)
        for name, df in league(n_athletes, weeks, seed).items():
            df.to_parquet(folder / f"{name}.parquet")
        print(f"simulated and cached {n_athletes} athletes in {time.perf_counter() - t0:.0f} s: {folder}")
    return folder


def run_build(src: Path, tables: Path, chunk: int, out: Path | None) -> dict:
    """One panel build in a fresh process: its JSON line plus wall and CPU time (``os.wait4``)."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tables), str(chunk), str(out or "")],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    stdout = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0:
        raise SystemExit(f"panel build with {src} failed (status {status})")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {
        **result,
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_process_gb": max(result["peak_read_gb"], result["peak_build_gb"]),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, nargs="+", default=[1000, 5000])
    ap.add_argument("--weeks", type=int, default=104)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk-athletes", type=int, default=1000, help="athletes per panel chunk (0 = all)")
    ap.add_argument("--compare-src", type=Path, help="another checkout's src/ to run interleaved")
    ap.add_argument("--check-identical", action="store_true")
    ap.add_argument("--repeats", type=int, default=1, help="builds per version (best is printed)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/sprintlab-bench-features"))
    args = ap.parse_args()
    versions = {"this": ROOT / "src", **({"compare": args.compare_src.resolve()} if args.compare_src else {})}
    print(
        f"panel builds in fresh processes, chunks of {args.chunk_athletes} athletes, best of {args.repeats}"
    )
    for n in args.athletes:
        tables = cached_league(args.cache, n, args.weeks, args.seed)
        best: dict[str, dict] = {}
        for _ in range(args.repeats):
            for name, src in versions.items():  # interleaved
                out = args.cache / f"panel_{name}_{n}.parquet" if args.check_identical else None
                r = run_build(src, tables, args.chunk_athletes, out)
                if name not in best or r["build_s"] < best[name]["build_s"]:
                    best[name] = r
        for name, r in best.items():
            print(
                f"{n:>6} athletes [{name:>7}] build {r['build_s']:6.1f} s wall (process CPU {r['cpu_s']:6.1f} s "
                f"incl. {r['load_s']:.1f} s reading tables); peak RSS during the build {r['peak_build_gb']:.2f} GB "
                f"(tables read: {r['rss_tables_gb']:.2f} GB, reader peak {r['peak_read_gb']:.2f} GB; whole process "
                f"{r['peak_process_gb']:.2f} GB); {r['rows']:,} rows x {r['features']} features "
                f"[{Path(r['module']).parent.parent}]"
            )
        if "compare" in best:
            a, b = best["compare"], best["this"]
            print(
                f"{n:>6} athletes  this / compare: build time x{b['build_s'] / a['build_s']:.2f}, "
                f"peak RSS during the build x{b['peak_build_gb'] / a['peak_build_gb']:.2f}"
            )
            if args.check_identical:
                pd.testing.assert_frame_equal(
                    pd.read_parquet(args.cache / f"panel_this_{n}.parquet"),
                    pd.read_parquet(args.cache / f"panel_compare_{n}.parquet"),
                    check_exact=True,
                )
                print(f"{n:>6} athletes  panels identical (assert_frame_equal, check_exact=True)")


if __name__ == "__main__":
    main()
