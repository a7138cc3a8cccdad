"""Pipeline stage ``explain``: SHAP family explanations and truth recovery on simulated data."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import joblib
import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import TARGETS
from sprintlab.io import nan_to_none, write_json_atomic, write_table_atomic

log = logging.getLogger(__name__)


def run_explain(
    params: Params, targets_dir: Path, models_dir: Path, out_dir: Path, metrics_dir: Path
) -> dict:
    """SHAP explanations of the test units; truth recovery of the dominant family (simulated data):
    transfer blocks at the top level (``dominant_family_agreement``), hamstring athlete-weeks under
    ``hamstring``."""
    from sprintlab.explain import explain_units, family_importance, truth_recovery

    result: dict = {}
    for target in TARGETS:
        model = joblib.load(Path(models_dir) / target / "model.joblib")
        units = pd.read_parquet(Path(targets_dir) / f"{target}_units.parquet")
        ev = json.loads((Path(models_dir) / target / "evaluation.json").read_text(encoding="utf-8"))
        cutoff = pd.Timestamp(ev["split_cutoff"])
        test = units[units["label_complete"] & (pd.to_datetime(units["unit_date"]) >= cutoff)].reset_index(
            drop=True
        )
        ex = explain_units(model, test, target, top_k=params.report.top_drivers)
        fam = ex["families"]
        write_table_atomic(
            fam.assign(unit_date=test["unit_date"].to_numpy()), Path(out_dir) / f"{target}_families.parquet"
        )
        write_table_atomic(family_importance(fam), Path(out_dir) / f"{target}_family_importance.csv")
        if "true_dominant_family" in test and test["true_dominant_family"].notna().any():
            rec = truth_recovery(fam, test)
            if target == "transfer":
                result.update(rec)
            else:
                result[target] = rec
    if "dominant_family_agreement" not in result:
        result["dominant_family_agreement"] = None
        result["note"] = "no simulator truth: agreement is measured on simulated data only"
    write_json_atomic(Path(metrics_dir) / "explanations.json", nan_to_none(result))
    return result
