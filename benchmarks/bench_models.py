"""Model vs oracle vs baselines on the simulated squad, over several split seeds.

    .venv/bin/python benchmarks/bench_models.py                 # default squad of params.yaml
    .venv/bin/python benchmarks/bench_models.py --athletes 60 --weeks 52 --seeds 7 11
    .venv/bin/python benchmarks/bench_models.py --targets hamstring --seeds 7 1 2 3 4 --json PATH

Simulates the squad of ``params.yaml`` (``simulate:``), builds the panel and both unit tables
exactly like the pipeline, then for every split seed trains with ``train:`` / ``split:`` and
prints ROC AUC of the model, the oracle (the simulator's true probabilities on the same test
units) and the baselines, the calibration slope, and (transfer) the regression interval. Nothing
is registered in MLflow. With ``train.<target>.flag_top_share`` set (hamstring) it also prints the
flag policy of issue #24 (``_flags.py``): model, oracles and rules at the weekly top share, each rule
at its own cut-off beside the model and the oracles, whether the goal holds, the figures pooled over
the split seeds. For transfer (with the simulator's truth) a second table gives what issue #23's goals
name: the conditional oracle, every AUC baseline and the explain stage's four explanation metrics
(``transfer_explanation_metrics``: held-out blocks from the split's cutoff, reference = the blocks
before it). ``--simulate-seed`` simulates another squad of the same size. ``--json PATH``
writes all numbers.
"""

from __future__ import annotations

import numpy as np

import _flags
from _squad import fmt as _f
from _squad import simulate_units, squad_arguments, write_json
from sprintlab import domain
from sprintlab.domain import TARGETS


def main(argv: list[str] | None = None) -> dict:
    from sprintlab.models.training import train_and_evaluate

    ap = squad_arguments(__doc__.splitlines()[0], [7, 11, 23, 31, 47])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--targets", nargs="+", choices=TARGETS, default=list(TARGETS))
    a = ap.parse_args(argv)
    params, units, header = simulate_units(a)
    results: dict = {**header, "runs": {}}
    for target in a.targets:
        mp = getattr(params.train, target)
        rows = []
        for seed in a.seeds:
            res = train_and_evaluate(
                units[target],
                target=target,
                features=mp.features,
                family=mp.model_family,
                model_params=mp.estimator_kwargs(),
                split_params=params.split.model_dump(exclude={"seed"}),
                flag_threshold=mp.flag_threshold,
                n_boot=a.bootstrap,
                acwr_threshold=params.evaluate.acwr_threshold,
                seed=seed,
                outcome=mp.outcome_column(),
            )
            m = res.metrics
            row = {
                "seed": seed,
                "n_test_units": m["n_test_units"],
                "n_test_events": m["n_test_events"],
                "n_train_events": m["n_train_events"],
                "model": m["model"],
                "oracle": m.get("oracle"),
                "oracle_realised_path": m.get("oracle_realised_path"),  # hamstring: risk given the load done
                "baselines": m["baselines"],
                "regression": m.get("regression"),
                "n_rounds": getattr(res.model, "n_rounds_", None),  # LightGBM only
                "flags": _flags.seed_flags(params, target, res, units[target], seed),
                "oracle_conditional": m.get("oracle_conditional"),
                "explanations": _transfer_explanations(target, res, units[target]),
            }
            rows.append(row)
        results["runs"][target] = rows
        print(_table(target, rows))
        if any(r["explanations"] for r in rows):
            print(_transfer_goal_table(rows))
        if any(r["flags"] for r in rows):
            results.setdefault("flags", {})[target] = _flag_summary(mp.flag_top_share, rows)
    write_json(a.json, results)
    return results


def _flag_summary(share: float, rows: list[dict]) -> dict:
    """Prints the flag policy tables of ``_flags`` and returns the pooled figures and differences."""
    pooled = _flags.pooled(rows)
    diffs = {fig: _flags.differences(rows, fig) for fig in ("sensitivity", "injury_sensitivity")}
    print(_flags.share_table(rows, share))
    print(_flags.cutoff_table(rows))
    print(_flags.pooled_table(pooled))
    for fig, d in diffs.items():
        print(_flags.differences_table(d, f"{fig}, one value per split seed"))
    return {"pooled": pooled, "differences": diffs}


#: the explanation metrics of issue #23 (``explanations.json`` ``transfer``)
EXPLANATION_METRICS = (
    "named_share_ge_80pct",
    "family_cosine_median",
    "clear_truth_agreement",
    "all_blocks_agreement",
)


def _transfer_explanations(target: str, res, units) -> dict | None:
    """The explain stage's transfer explanation metrics for this split (held-out blocks from the
    cutoff, reference = the blocks before it); None without the simulator's truth or for hamstring."""
    from sprintlab.transfer_explanations import (
        explanation_blocks,
        has_truth,
        transfer_explanation_metrics,
    )

    if target != "transfer" or not has_truth(units):
        return None
    import pandas as pd

    test, reference = explanation_blocks(units, pd.Timestamp(res.metrics["split_cutoff"]))
    out = transfer_explanation_metrics(res.model, res.features, test, reference)
    return {k: out[k] for k in EXPLANATION_METRICS}


def _transfer_goal_table(rows: list[dict]) -> str:
    """Per split seed the figures issue #23's goals name: model, conditional oracle, every AUC
    baseline, and the four explanation metrics; then the mean."""
    base = ["logistic_all_features", "linear_interaction", "opening_test_only", "strength_only_logistic"]
    cols = ["model", "oracle", "oracle_conditional", *base, *EXPLANATION_METRICS]
    values = []
    for r in rows:
        v = {"model": r["model"]["roc_auc"], "oracle": (r["oracle"] or {}).get("roc_auc", np.nan)}
        v["oracle_conditional"] = (r["oracle_conditional"] or {}).get("roc_auc", np.nan)
        v.update({b: r["baselines"].get(b, {}).get("roc_auc", np.nan) for b in base})
        v.update({k: (r["explanations"] or {}).get(k, np.nan) for k in EXPLANATION_METRICS})
        values.append((r["seed"], v))
    lines = ["\n| split seed | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for seed, v in values:
        lines.append(f"| {seed} | " + " | ".join(_f(v[c]) for c in cols) + " |")
    mean = {c: float(np.nanmean([v[c] for _, v in values])) for c in cols}
    lines.append("| **mean** | " + " | ".join(_f(mean[c]) for c in cols) + " |")
    return "\n".join(lines)


def _table(target: str, rows: list[dict]) -> str:
    spec = domain.target(target)
    base = ["strength_only_logistic"] + (["acwr_threshold"] if spec.acwr_baseline else [])
    head = (
        f"\n### {target}\n\n| split seed | test units / events | model AUC [95% CI] | oracle AUC | gap | "
        f"model cal. slope | {' | '.join(b + ' AUC' for b in base)} |"
    )
    lines = [head, "|" + "---|" * (6 + len(base))]
    gaps, aucs, oracles, slopes = [], [], [], []
    for r in rows:
        m, o = r["model"], r["oracle"] or {}
        gap = o.get("roc_auc", np.nan) - m["roc_auc"]
        gaps.append(gap)
        aucs.append(m["roc_auc"])
        oracles.append(o.get("roc_auc", np.nan))
        slopes.append(m["calibration_slope"])
        ci = m.get("roc_auc_ci") or [np.nan, np.nan]
        bcols = " | ".join(_f(r["baselines"].get(b, {}).get("roc_auc")) for b in base)
        lines.append(
            f"| {r['seed']} | {r['n_test_units']} / {r['n_test_events']} | {_f(m['roc_auc'])} "
            f"[{_f(ci[0])}, {_f(ci[1])}] | {_f(o.get('roc_auc'))} | {_f(gap)} | "
            f"{_f(m['calibration_slope'])} | {bcols} |"
        )
    lines.append(
        f"| **mean (SD)** | | {np.mean(aucs):.3f} ({np.std(aucs, ddof=1) if len(aucs) > 1 else 0:.3f}) | "
        f"{np.nanmean(oracles):.3f} | {np.nanmean(gaps):.3f} | {np.nanmean(slopes):.2f} | "
        + " | ".join("" for _ in base)
        + " |"
    )
    if spec.measured_change_column and rows[0].get("regression"):
        lines.append(
            "\n| split seed | MAE (s) | MAE of training mean (s) | 90% interval coverage | mean width (s) |"
        )
        lines.append("|---|---|---|---|---|")
        for r in rows:
            g = r["regression"]
            lines.append(
                f"| {r['seed']} | {_f(g['mae_s'])} | {_f(g['mae_train_mean_baseline_s'])} | "
                f"{_f(g['interval_coverage'])} | {_f(g['interval_width_s'])} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
