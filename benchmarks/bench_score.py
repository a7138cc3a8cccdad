"""Benchmark ``sprintlab score`` as a coach runs it: a fresh process started from the shell, wall clock.

    .venv/bin/python benchmarks/bench_score.py [--repeats 5] [--compare-src ../main/src]
        [--league-athletes 5000] [--keep]

Setup (not timed): a project folder in a temporary directory - ``params.yaml`` copied, the quick
squad (40 athletes) simulated, validated, trained and registered in the project's ``mlflow.db``,
exactly as ``dvc repro`` would (``sprintlab.pipeline.chain.run_training_chain``). Then, each in a
fresh ``python`` process started with ``subprocess`` (the ``sprintlab`` console script's code,
``from sprintlab.cli import app; app()``):

1. **squad**: ``sprintlab score <project>/sim/raw --out <dir> --project <project>`` (CSV
   validation, SHAP, drift, the HTML report) ``--repeats`` times; wall clock from the start of the
   process to its exit (best and median) and the process's peak RSS (its own ``VmHWM``, written at
   exit: ``os.wait4``'s ``ru_maxrss`` would carry the set-up parent's high-water mark into a child
   started with vfork/exec). With
   ``--compare-src`` the same command runs interleaved with another checkout's ``src`` and the
   ratio is printed - both in the same run, so the machine's load hits both alike.
2. **breakdown**: one more process running the same command that also prints the step timings of
   :func:`sprintlab.scoring.score`; *start-up and exit* is the rest of the wall time (interpreter, CLI,
   parameters, the interpreter's exit). A step's lazy imports are inside that step.
3. **imports**: one process under ``python -X importtime``: cumulative import time by top-level
   package (the heavy ones should be absent: skops, mlflow, shap).
4. ``sprintlab --help`` and ``--version`` (best of ``--repeats``; goal < 0.5 s).
5. **league** (``--league-athletes N``, off by default): the squad's validated tables tiled to N
   athletes, written as Parquet; a fresh process reads them and calls ``score(tables=...)`` without
   the report.

The first squad run after training fills the local champion cache (``registry.py``); it is run and
reported apart ("first run"), the figures are those of a Monday after the first. Goal on 2 cores:
squad < 5 s. Prints figures only, no assertions.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = "import sys; from sprintlab.cli import app; sys.argv[0] = 'sprintlab'; sys.exit(app())"
# the CLI with the step timings of sprintlab.scoring.score printed as JSON on stdout's last line
CLI_STEPS = """
import json, sys
import sprintlab.cli.score as command
run = command._run
def timed(*args, **kwargs):
    res = run(*args, **kwargs)
    print("STEPS " + json.dumps(res.timings))
    return res
command._run = timed
from sprintlab.cli import app
sys.argv[0] = "sprintlab"
app()
"""
LEAGUE = """
import json, pathlib, sys, time
t0 = time.perf_counter()
import pandas as pd
from sprintlab.config import load_params
from sprintlab.scoring import score
from sprintlab.tracking import project_store
project, tables_dir, out = map(pathlib.Path, sys.argv[1:4])
tables = {p.stem: pd.read_parquet(p) for p in sorted(tables_dir.glob("*.parquet"))}
t1 = time.perf_counter()
with project_store(project):
    res = score(None, out, load_params(project / "params.yaml"), tables=tables, report=False, simulated=True)
print("STEPS " + json.dumps({"start-up and reading": t1 - t0, **res.timings, "exit_code": res.exit_code}))
"""


def setup_project(tmp: Path) -> Path:
    """A project folder with the quick squad's exports and both models trained and registered."""
    sys.path.insert(0, str(ROOT / "src"))
    from sprintlab.config import load_params
    from sprintlab.pipeline.chain import quick_params, run_training_chain
    from sprintlab.tracking import project_store

    project = tmp / "project"
    project.mkdir(parents=True)
    shutil.copy(ROOT / "params.yaml", project / "params.yaml")
    params = quick_params(load_params(project / "params.yaml"))
    with project_store(project):
        res = run_training_chain(params, project, today=params.validate_.today)
    tables = res["validation"].tables
    print(
        f"squad: {tables['athletes']['athlete_id'].nunique()} athletes, exports in {project / 'sim' / 'raw'}"
    )
    return project


PEAK_HOOK = """import atexit as _a, os as _o
def _peak():  # the process's own peak RSS (kB), written at exit for the benchmark
    with open("/proc/self/status") as f, open(_o.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(next(l for l in f if l.startswith("VmHWM:")).split()[1])
_a.register(_peak)
"""


def run_process(argv: list[str], src: Path, cwd: Path) -> dict:
    """One fresh process (``python -c CODE ...``): wall clock from start to exit, the process's own
    peak RSS (``VmHWM`` at exit), exit code, stdout and stderr."""
    argv = list(argv)
    argv[argv.index("-c") + 1] = PEAK_HOOK + argv[argv.index("-c") + 1]
    with (
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        tempfile.TemporaryDirectory() as d,
    ):
        env = {**os.environ, "PYTHONPATH": str(src), "COLUMNS": "160", "BENCH_PEAK_FILE": f"{d}/peak"}
        env.pop("MLFLOW_TRACKING_URI", None)
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        _, status, _ = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return {
            "wall": wall,
            "rss_mib": int(Path(f"{d}/peak").read_text()) / 1024,
            "code": os.waitstatus_to_exitcode(status),
            "out": out.read(),
            "err": err.read(),
        }


def run_cli(src: Path, project: Path, out: Path, code: str = CLI, python_flags: tuple[str, ...] = ()) -> dict:
    """``sprintlab score`` on the squad in a fresh process (``code``: the entry point's code)."""
    shutil.rmtree(out, ignore_errors=True)
    argv = [sys.executable, *python_flags, "-c", code, "score", str(project / "sim" / "raw")]
    argv += ["--out", str(out), "--project", str(project)]
    r = run_process(argv, src, project)
    if r["code"] not in (0, 5):
        raise SystemExit(f"sprintlab score failed ({r['code']}) with {src}:\n{r['err'][-3000:]}")
    return r


def squad(project: Path, versions: dict[str, Path], repeats: int) -> None:
    """Fresh-process wall times, interleaved between versions; ratios when two are compared."""
    for name, src in versions.items():  # the first run fills each version's model cache
        r = run_cli(src, project, project / f"out_{name}")
        print(
            f"first run [{name}] (fills the champion cache where the version has one): {r['wall']:.2f} s wall"
        )
    walls: dict[str, list[float]] = defaultdict(list)
    rss: dict[str, float] = {}
    for _ in range(repeats):
        for name, src in versions.items():
            r = run_cli(src, project, project / f"out_{name}")
            walls[name].append(r["wall"])
            rss[name] = max(rss.get(name, 0.0), r["rss_mib"])
    print(f"\nsquad: `sprintlab score` in a fresh process, report included, {repeats} runs per version")
    for name, w in walls.items():
        print(
            f"  [{name:>7}] best {min(w):6.2f} s, median {statistics.median(w):6.2f} s wall, "
            f"peak RSS {rss[name]:.0f} MiB  ({', '.join(f'{x:.2f}' for x in w)})  [{versions[name]}]"
        )
    if "compare" in walls:
        ratio = min(walls["compare"]) / min(walls["this"])
        med = statistics.median(walls["compare"]) / statistics.median(walls["this"])
        print(f"  this is {ratio:.1f}x faster than compare (best), {med:.1f}x (median)")


def cli_start(versions: dict[str, Path], repeats: int, cwd: Path) -> None:
    """``sprintlab --help`` and ``sprintlab --version``: best wall time of fresh processes."""
    print(f"\nCLI start-up, best of {repeats} fresh processes:")
    for flag in ("--help", "--version"):
        best = {
            name: min(
                run_process([sys.executable, "-c", CLI, flag], src, cwd)["wall"] for _ in range(repeats)
            )
            for name, src in versions.items()
        }
        print(f"  sprintlab {flag:<10} " + ", ".join(f"[{n}] {w:.2f} s" for n, w in best.items()))


def breakdown(project: Path, src: Path) -> None:
    """Step timings of one fresh run; start-up is the wall time outside ``score``."""
    r = run_cli(src, project, project / "out_steps", code=CLI_STEPS)
    steps = json.loads(next(x for x in r["out"].splitlines() if x.startswith("STEPS "))[6:])
    total = r["wall"]
    print(f"\nbreakdown of one fresh run ({total:.2f} s wall; a step's lazy imports count in it):")
    rows = {"start-up and exit": total - sum(steps.values()), **steps}
    for k, v in rows.items():
        print(f"  {k:<32} {v:6.2f} s {100 * v / total:5.1f} %")


def imports(project: Path, src: Path, top: int = 12) -> None:
    """Cumulative import time by top-level package (``-X importtime``) in one fresh run."""
    r = run_cli(src, project, project / "out_imports", python_flags=("-X", "importtime"))
    by_package: dict[str, float] = defaultdict(float)
    for line in r["err"].splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        _, cumulative, name = line.split("|")
        if name.startswith(" ") and not name.startswith("  "):  # level 0: a top-level import
            try:
                by_package[name.strip().split(".")[0]] += int(cumulative) / 1e6
            except ValueError:  # the header line
                continue
    total = sum(by_package.values())
    print(f"\nimports (-X importtime, cumulative, top-level packages): {total:.2f} s in all")
    for name, s in sorted(by_package.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {name:<24} {s:6.2f} s")
    absent = [m for m in ("skops", "mlflow", "shap", "pandera", "matplotlib") if m not in by_package]
    print(f"  not imported: {', '.join(absent) or '-'}")


def league(project: Path, src: Path, n: int) -> None:
    """The squad's validated tables tiled to ``n`` athletes, scored without the report."""
    import pandas as pd

    tables_dir = project / f"league_{n}"
    tables_dir.mkdir(exist_ok=True)
    ids = pd.read_parquet(project / "val" / "athletes.parquet")["athlete_id"].astype(str)
    copies = -(-n // len(ids))
    keep = set(sorted(f"{a}-L{i:03d}" for i in range(copies) for a in ids)[:n])
    for path in sorted((project / "val").glob("*.parquet")):
        df = pd.read_parquet(path)
        parts = [df.assign(athlete_id=df["athlete_id"].astype(str) + f"-L{i:03d}") for i in range(copies)]
        tiled = pd.concat(parts, ignore_index=True)
        tiled[tiled["athlete_id"].isin(keep)].reset_index(drop=True).to_parquet(tables_dir / path.name)
    argv = [sys.executable, "-c", LEAGUE, str(project), str(tables_dir), str(project / "out_league")]
    r = run_process(argv, src, project)
    if r["code"] not in (0,):
        raise SystemExit(f"league run failed ({r['code']}):\n{r['err'][-3000:]}")
    steps = json.loads(next(x for x in r["out"].splitlines() if x.startswith("STEPS "))[6:])
    print(
        f"\nleague ({n} athletes, validated tables, no report): {r['wall']:.1f} s wall, "
        f"peak RSS {r['rss_mib']:.0f} MiB, score exit code {steps.pop('exit_code')}"
    )
    for k, v in steps.items():
        print(f"  {k:<24} {v:6.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--compare-src", type=Path, help="another checkout's src/, run interleaved")
    ap.add_argument("--league-athletes", type=int, default=0, help="also score a league of N athletes")
    ap.add_argument("--keep", action="store_true", help="keep the temporary project folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench_score_"))
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average {os.getloadavg()}; {tmp}")
    t = time.perf_counter()
    project = setup_project(tmp)
    print(f"setup (simulate, validate, train, register; not timed): {time.perf_counter() - t:.0f} s")
    versions = {"this": ROOT / "src", **({"compare": args.compare_src.resolve()} if args.compare_src else {})}
    squad(project, versions, args.repeats)
    cli_start(versions, args.repeats, project)
    breakdown(project, versions["this"])
    imports(project, versions["this"])
    if args.league_athletes:
        league(project, versions["this"], args.league_athletes)
    print(f"\nload average at the end {os.getloadavg()}")
    if not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
