"""What the transfer model learns: the measured 0-10 m change (``learn_from: outcome``) or the 0/1 label.

    .venv/bin/python benchmarks/bench_learn_from.py [--sizes 200 40 25] [--squads 4] [--seeds 7 1 2 3 4]
        [--json PATH]

For each squad size, simulates ``--squads`` squads from the ``params.yaml`` generator (the default
size uses the default squad, ``simulate.seed``; smaller sizes use simulator seeds ``simulate.seed +
101 ...``), builds the transfer units as the pipeline does, and on each split seed of the pipeline's
athlete- and time-grouped split fits the shipped family (``train.transfer``) twice on the same
training blocks: learning the outcome (the ridge fit calibrated on the label) and learning the label
(the L2 logistic regression). Printed per size: held-out ROC AUC and Brier of both (mean over squads
and split seeds), the share of splits where the outcome fit's AUC is higher, and the penalties the
outcome fit chose. Nothing is registered; no timing figures.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import pandas as pd

from _squad import ROOT, write_json
from _squad import fmt as _f

MODES = ("outcome", "label")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", default=str(ROOT / "params.yaml"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[200, 40, 25])
    ap.add_argument("--squads", type=int, default=4, help="simulated squads per size below the default")
    ap.add_argument("--seeds", type=int, nargs="+", default=[7, 1, 2, 3, 4])
    ap.add_argument("--json", type=Path)
    return ap.parse_args(argv)


def _units(params, athletes: int, seed_offset: int) -> pd.DataFrame:
    """Label-complete transfer units of one simulated squad (simulator seed ``simulate.seed + offset``)."""
    from sprintlab.pipeline.targets import simulated_units

    sim = params.simulate.model_copy(update={"seed": params.simulate.seed + seed_offset})
    units = simulated_units(params.model_copy(update={"simulate": sim}), athletes)["transfer"]
    return units[units["label_complete"]].reset_index(drop=True)


def _one_split(params, units: pd.DataFrame, seed: int) -> dict | None:
    """Both fits on one split; None when the held-out blocks hold one class only."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.evaluation import athlete_time_split
    from sprintlab.models.families import make_classifier

    mp = params.train.transfer
    split = athlete_time_split(units, **params.split.model_dump(exclude={"seed"}), seed=seed)
    train, test = units.iloc[split.train], units.iloc[split.test]
    if test["y"].nunique() < 2 or train["y"].nunique() < 2:
        return None
    feats = [f for f in mp.features if f in units and units[f].notna().any()]
    row: dict = {"seed": seed, "n_train": len(train), "n_test": len(test)}
    for mode in MODES:
        model = make_classifier(mp.model_family, {**mp.estimator_kwargs(), "learn_from": mode}, seed, feats)
        model.fit(
            feature_matrix(train, feats),
            train["y"].to_numpy(),
            groups=train["athlete_id"].to_numpy(),
            outcome=train[mp.outcome],
        )
        p = model.predict_proba(feature_matrix(test, feats))[:, 1]
        row[f"{mode}_auc"] = float(roc_auc_score(test["y"], p))
        row[f"{mode}_brier"] = float(brier_score_loss(test["y"], p))
        if mode == "outcome":
            row["alpha"] = model.outcome_fit_["alpha"]
    return row


def _summary(size: int, rows: list[dict]) -> dict:
    df = pd.DataFrame(rows)
    out = {f"{m}_{k}": float(df[f"{m}_{k}"].mean()) for m in MODES for k in ("auc", "brier")}
    out["outcome_auc_higher_share"] = float((df["outcome_auc"] > df["label_auc"]).mean())
    out["n_splits"] = len(df)
    out["mean_training_blocks"] = float(df["n_train"].mean())
    out["penalties"] = {str(k): v for k, v in Counter(df["alpha"]).items()}
    out["athletes"] = size
    return out


def main(argv: list[str] | None = None) -> dict:
    from sprintlab.config import load_params

    a = _arguments(argv)
    params = load_params(a.params)
    results: dict = {"sizes": []}
    print(
        "| athletes | splits | training blocks | AUC outcome | AUC label | Brier outcome | Brier label "
        "| outcome AUC higher | penalties |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for size in a.sizes:
        default = size == params.simulate.athletes
        offsets = [0] if default else [101 + k for k in range(a.squads)]
        rows = []
        for offset in offsets:
            units = _units(params, size, offset)
            rows += [r for r in (_one_split(params, units, s) for s in a.seeds) if r is not None]
        s = _summary(size, rows)
        results["sizes"].append({**s, "rows": rows})
        print(
            f"| {size} | {s['n_splits']} | {s['mean_training_blocks']:.0f} | {_f(s['outcome_auc'])} | "
            f"{_f(s['label_auc'])} | {_f(s['outcome_brier'])} | {_f(s['label_brier'])} | "
            f"{s['outcome_auc_higher_share']:.2f} | {s['penalties']} |"
        )
    write_json(a.json, results)
    return results


if __name__ == "__main__":
    main()
