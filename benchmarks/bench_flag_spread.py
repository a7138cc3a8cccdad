"""The hamstring flag policy's differences (issue #24) over several simulated squads.

    for s in 20261124 1 2 3; do
      .venv/bin/python benchmarks/bench_models.py --targets hamstring --seeds 7 1 2 3 4 \\
          --simulate-seed $s --json flags_$s.json
    done
    .venv/bin/python benchmarks/bench_flag_spread.py flags_*.json

Reads ``bench_models.py --json`` files (one squad each) and prints, per squad and over all squads x
split seeds, the mean and spread of the weekly top-share differences (model and oracles minus the
best ranked rule, model minus each ranked rule; ``_flags.differences``) and on how many splits the
goal holds for the model and for each oracle. Figures only; nothing is trained here.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _flags
from _squad import fmt, write_json

FIGURES = ("sensitivity", "injury_sensitivity")


def squad_summary(path: Path, target: str) -> dict:
    """One squad's split rows, differences per figure and goal counts."""
    results = json.loads(path.read_text(encoding="utf-8"))
    rows = [r for r in results["runs"][target] if r.get("flags")]
    return {
        "simulate_seed": results["simulate_seed"],
        "n_test_injuries": [r["flags"]["n_test_injuries"] for r in rows],
        "goal_met": {
            s: {k: sum(r["flags"]["goal"][s][k] for r in rows) for k in ("met", "at_share", "at_cutoffs")}
            for s in rows[0]["flags"]["goal"]
        },
        "n_splits": len(rows),
        "differences": {fig: _flags.differences(rows, fig) for fig in FIGURES},
    }


def goal_table(squads: list[dict]) -> str:
    """Per squad: test injuries per split and on how many splits the goal holds for each scorer
    (all of it / at the weekly top share / at every rule's own cut-off)."""
    scorers = list(squads[0]["goal_met"])
    lines = [
        "\n| simulate seed | test injuries per split | "
        + " | ".join(f"goal {s}: all / top share / cut-offs" for s in scorers)
        + " |",
        "|---|---|" + "---|" * len(scorers),
    ]
    for q in squads:
        met = " | ".join(
            f"{g['met']} / {g['at_share']} / {g['at_cutoffs']} of {q['n_splits']}"
            for g in (q["goal_met"][s] for s in scorers)
        )
        lines.append(f"| {q['simulate_seed']} | {', '.join(map(str, q['n_test_injuries']))} | {met} |")
    return "\n".join(lines)


def squad_means(squads: list[dict], figure: str) -> str:
    """Per squad, the mean over its split seeds of each difference of ``figure``."""
    keys = list(squads[0]["differences"][figure])
    lines = [
        f"\nmean over split seeds per squad ({figure})\n",
        "| difference | " + " | ".join(str(q["simulate_seed"]) for q in squads) + " |",
        "|---|" + "---|" * len(squads),
    ]
    for k in keys:
        vals = [sum(q["differences"][figure][k]) / len(q["differences"][figure][k]) for q in squads]
        lines.append(f"| {k} | " + " | ".join(fmt(v) for v in vals) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("paths", type=Path, nargs="+")
    ap.add_argument("--target", default="hamstring")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    squads = [squad_summary(p, a.target) for p in a.paths]
    print(goal_table(squads))
    pooled: dict = {}
    for fig in FIGURES:
        for q in squads:
            for k, v in q["differences"][fig].items():
                pooled.setdefault(fig, {}).setdefault(k, []).extend(v)
        print(squad_means(squads, fig))
        print(_flags.differences_table(pooled[fig], f"{fig}, one value per squad x split seed"))
    out = {"squads": squads, "all_splits": pooled}
    write_json(a.json, out)
    return out


if __name__ == "__main__":
    main()
