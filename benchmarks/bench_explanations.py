"""Benchmark: do the SHAP explanations name the simulator's true main factor? Over several split seeds.

    .venv/bin/python benchmarks/bench_explanations.py                 # default squad of params.yaml
    .venv/bin/python benchmarks/bench_explanations.py --seeds 7 1 2 3 4 --json /tmp/expl.json

Simulates the squad of ``params.yaml`` and builds both unit tables like the pipeline
(:func:`sprintlab.pipeline.targets.simulated_units`), then for every split seed trains both models with ``train:`` /
``split:`` and explains the later-period units exactly as the explain stage does (all athletes'
units from the split's time cutoff on; :func:`sprintlab.explain.truth_recovery`). Prints per seed:
transfer - agreement on all blocks, where the explanation's lead is clear / a close call (and the
close calls whose true family is one of the two named), where the truth's own lead is clear, and
what the report's sentence gets right; hamstring - agreement beside the always-the-most-common-
family baseline, where the explanation's lead is clear, and the held-out AUC. Nothing is
registered in MLflow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from _squad import fmt as _f
from _squad import simulate_units, squad_arguments, write_json


def explain_seed(units: pd.DataFrame, target: str, params, seed: int) -> dict:
    """Train ``target`` on split ``seed`` and measure its explanations against the truth."""
    from sprintlab.explain import explain_units, truth_recovery
    from sprintlab.models.training import train_and_evaluate

    mp = getattr(params.train, target)
    res = train_and_evaluate(
        units,
        target=target,
        features=mp.features,
        family=mp.model_family,
        model_params=mp.estimator_kwargs(),
        split_params=params.split.model_dump(exclude={"seed"}),
        flag_threshold=mp.flag_threshold,
        n_boot=20,
        acwr_threshold=params.evaluate.acwr_threshold,
        seed=seed,
        outcome=mp.outcome_column(),
    )
    usable = units[units["label_complete"]]
    later = usable[pd.to_datetime(usable["unit_date"]) >= res.split.cutoff].reset_index(drop=True)
    rec = truth_recovery(explain_units(res.model, later, target).families, later)
    rec["roc_auc"] = res.metrics["model"]["roc_auc"]
    return rec


def main(argv: list[str] | None = None) -> dict:
    a = squad_arguments(__doc__.splitlines()[0], [7, 1, 2, 3, 4]).parse_args(argv)
    params, units, header = simulate_units(a)
    runs = {
        t: {seed: explain_seed(units[t], t, params, seed) for seed in a.seeds}
        for t in ("transfer", "hamstring")
    }
    print(_tables(runs))
    out = {**header, "runs": {t: {str(k): v for k, v in r.items()} for t, r in runs.items()}}
    write_json(a.json, out)
    return out


def _tables(runs: dict) -> str:
    lines = [
        "\n### transfer (blocks)\n",
        "| split seed | blocks | all | expl. clear | expl. close | close: truth among the two named | "
        "truth clear (share) | report statement | majority baseline |",
        "|" + "---|" * 9,
    ]
    for seed, r in runs["transfer"].items():
        e, t = r["by_explanation_dominance"], r.get("by_truth_dominance", {})
        tc = t.get("clear", {})
        lines.append(
            f"| {seed} | {r['n_units']} | {_f(r['dominant_family_agreement'])} | {_f(e['clear']['agreement'])} | "
            f"{_f(e['close']['agreement'])} | {_f(e['close'].get('truth_among_named'))} | "
            f"{_f(tc.get('agreement'))} ({tc.get('share', float('nan')):.0%}) | "
            f"{_f(r['report_statement_agreement'])} | {_f(r['majority_family_baseline'])} |"
        )
    lines += [
        "\n### hamstring (athlete-weeks)\n",
        "| split seed | weeks | all | majority baseline | expl. clear | truth clear | held-out AUC |",
        "|" + "---|" * 7,
    ]
    for seed, r in runs["hamstring"].items():
        lines.append(
            f"| {seed} | {r['n_units']} | {_f(r['dominant_family_agreement'])} | "
            f"{_f(r['majority_family_baseline'])} | {_f(r['by_explanation_dominance']['clear']['agreement'])} | "
            f"{_f(r.get('by_truth_dominance', {}).get('clear', {}).get('agreement'))} | {_f(r['roc_auc'])} |"
        )
    for t, rs in runs.items():
        v = [r["dominant_family_agreement"] for r in rs.values()]
        lines.append(f"\n{t}: all-units agreement mean {np.mean(v):.3f}, range {min(v):.3f}-{max(v):.3f}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
