"""The transfer ceiling "with what the records show": a records-only reference beside the oracles.

    .venv/bin/python benchmarks/bench_transfer_ceiling.py [--reference-athletes 1000] [--seeds 7 1 2 3 4]
        [--json reports/benchmarks/transfer_ceiling.json]

The conditional oracle (latent state + the observed opening test, ``oracle_conditional`` in
``reports/metrics/transfer.json``) knows the opening test's noise exactly, which the records reveal
only in part; the stored oracle knows the latent state. Neither is what a model *could* reach from the
records. The records-only reference estimates that: the same generator (``params.yaml`` ``simulate:``)
draws an independent **reference squad** (``--reference-athletes``, simulator seed
``simulate.seed + --reference-seed-offset``) whose every label-complete block is learned from the
pipeline's own features; with five times the default squad's blocks, that fit approaches the best
function of the features the records give. It is scored on the same held-out blocks as the model (the
default squad's split, each ``--seeds`` split seed). Reference learners: both model families as the
pipeline builds them from ``train.transfer`` (the sign-bounded linear strength x control model and the
calibrated LightGBM) and a wider LightGBM (``--wide-leaves`` leaves) that the large sample can
support. Printed per split seed and as the mean: ROC AUC of the model and of the ``linear_interaction``
baseline (both trained on the default squad like the pipeline), each reference, the oracle and the conditional oracle, and the gaps.
Nothing is registered in MLflow; no timing figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from _squad import ROOT, write_json
from _squad import fmt as _f


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--reference-athletes", type=int, default=1000)
    ap.add_argument("--reference-seed-offset", type=int, default=1)
    ap.add_argument("--wide-leaves", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 1, 2, 3, 4])
    ap.add_argument("--bootstrap", type=int, default=200)
    ap.add_argument("--json", type=Path)
    return ap.parse_args(argv)


def _squad_units(params, athletes: int | None, seed_offset: int) -> pd.DataFrame:
    """The transfer units of a simulated squad (the pipeline's panel, targets and truth)."""
    from sprintlab.pipeline.targets import simulated_units

    sim = params.simulate.model_copy(update={"seed": params.simulate.seed + seed_offset})
    units = simulated_units(params.model_copy(update={"simulate": sim}), athletes)["transfer"]
    return units[units["label_complete"]].reset_index(drop=True)


def _reference_learners(params, reference: pd.DataFrame, features: list[str], wide_leaves: int) -> dict:
    """Fit the reference learners on every block of the reference squad: both model families as the
    pipeline builds them (``train.transfer``) and a wider LightGBM."""
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.families import MODEL_FAMILIES, make_classifier

    mp = params.train.transfer
    X, y = feature_matrix(reference, features), reference["y"].to_numpy()
    fit = {"groups": reference["athlete_id"].to_numpy()}
    fit["outcome"] = reference[mp.outcome_column()] if mp.outcome_column() else None
    kwargs, seed = mp.estimator_kwargs(), params.split.seed
    learners = {
        f"reference_{family}": make_classifier(family, kwargs, seed, features) for family in MODEL_FAMILIES
    }
    wide = make_classifier("lightgbm", {**kwargs, "num_leaves": wide_leaves}, seed, features)
    learners["reference_lightgbm_wide"] = wide
    return {name: learner.fit(X, y, **fit) for name, learner in learners.items()}


def _one_seed(params, units: pd.DataFrame, learners: dict, seed: int, n_boot: int) -> dict:
    """The model trained like the pipeline on one split seed, and every reference on its held-out blocks."""
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.training import HeldOutScorer, train_and_evaluate

    mp = params.train.transfer
    res = train_and_evaluate(
        units,
        target="transfer",
        features=mp.features,
        model_params=mp.estimator_kwargs(),
        split_params=params.split.model_dump(exclude={"seed"}),
        flag_threshold=mp.flag_threshold,
        n_boot=n_boot,
        seed=seed,
        outcome=mp.outcome_column(),
        family=mp.model_family,
    )
    test = units.iloc[res.split.test]
    score = HeldOutScorer(
        test["y"].to_numpy(), test["athlete_id"].to_numpy(), mp.flag_threshold, n_boot, seed
    )
    X = feature_matrix(test, res.features)
    row = {"seed": seed, "n_test_units": len(test), "model": res.metrics["model"]["roc_auc"]}
    row["linear_interaction"] = res.metrics["baselines"]["linear_interaction"]["roc_auc"]
    for name, learner in learners.items():
        row[name] = score(learner.predict_proba(X)[:, 1])["roc_auc"]
    for name in ("oracle", "oracle_conditional"):
        row[name] = (res.metrics.get(name) or {}).get("roc_auc", np.nan)
    row["explanations"] = _explanations(units, res, learners)
    return row


def _explanations(units: pd.DataFrame, res, learners: dict) -> dict:
    """Issue #23's explanation metrics (``transfer_explanation_metrics``: the held-out blocks from the
    split's cutoff, reference = the blocks before it) of the model and of every linear reference
    learner (group Shapley of the log-odds needs an additive margin: the linear family only)."""
    from sprintlab.transfer_explanations import explanation_blocks, transfer_explanation_metrics

    test, before = explanation_blocks(units, pd.Timestamp(res.metrics["split_cutoff"]))
    scorers = {"model": (res.model, res.features)}
    scorers |= {n: (m, list(m.feature_names_in_)) for n, m in learners.items() if "linear" in n}
    out = {}
    for name, (model, features) in scorers.items():
        metrics = transfer_explanation_metrics(model, features, test, before)
        out[name] = {k: float(metrics[k]) for k in EXPLANATION_METRICS}
    return out


EXPLANATION_METRICS = (
    "named_share_ge_80pct",
    "family_cosine_median",
    "clear_truth_agreement",
    "all_blocks_agreement",
)


def _explanation_table(rows: list[dict]) -> str:
    """Per split seed, each explanation metric of the model and of the linear reference."""
    names = list(rows[0]["explanations"])
    cols = [(n, k) for k in EXPLANATION_METRICS for n in names]
    lines = ["| split seed | " + " | ".join(f"{k} ({n})" for n, k in cols) + " |"]
    lines.append("|---" * (len(cols) + 1) + "|")
    for r in rows:
        lines.append(f"| {r['seed']} | " + " | ".join(_f(r["explanations"][n][k]) for n, k in cols) + " |")
    means = [float(np.mean([r["explanations"][n][k] for r in rows])) for n, k in cols]
    lines.append("| **mean** | " + " | ".join(_f(m) for m in means) + " |")
    return "\n".join(lines)


def _table(rows: list[dict], names: list[str]) -> str:
    cols = ["model", "linear_interaction", *names, "oracle", "oracle_conditional"]
    lines = ["| split seed | test blocks | " + " | ".join(cols) + " | best reference - model |"]
    lines.append("|---" * (len(cols) + 3) + "|")
    for r in rows + [_mean_row(rows, cols, names)]:
        best = max(r[n] for n in names)
        lines.append(
            f"| {r['seed']} | {r['n_test_units']} | "
            + " | ".join(_f(r[c]) for c in cols)
            + f" | {_f(best - r['model'])} |"
        )
    return "\n".join(lines)


def _mean_row(rows: list[dict], cols: list[str], names: list[str]) -> dict:
    return {
        "seed": "**mean**",
        "n_test_units": "",
        **{c: float(np.nanmean([r[c] for r in rows])) for c in cols},
    }


def main(argv: list[str] | None = None) -> dict:
    from sprintlab.config import load_params

    a = _arguments(argv)
    params = load_params(a.params)
    units = _squad_units(params, None, 0)
    reference = _squad_units(params, a.reference_athletes, a.reference_seed_offset)
    features = [f for f in params.train.transfer.features if f in reference and reference[f].notna().any()]
    learners = _reference_learners(params, reference, features, a.wide_leaves)
    print(
        f"default squad: {units['athlete_id'].nunique()} athletes, {len(units)} blocks; reference squad "
        f"(simulator seed {params.simulate.seed + a.reference_seed_offset}): "
        f"{reference['athlete_id'].nunique()} athletes, {len(reference)} blocks"
    )
    rows = [_one_seed(params, units, learners, seed, a.bootstrap) for seed in a.seeds]
    print(_table(rows, list(learners)))
    print("\nexplanation metrics (issue #23), model vs the records-only linear reference\n")
    print(_explanation_table(rows))
    results = {
        "reference_athletes": int(reference["athlete_id"].nunique()),
        "reference_blocks": len(reference),
        "reference_simulate_seed": params.simulate.seed + a.reference_seed_offset,
        "features": features,
        "runs": rows,
    }
    write_json(a.json, results)
    return results


if __name__ == "__main__":
    main()
