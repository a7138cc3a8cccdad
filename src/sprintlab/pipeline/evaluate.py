"""Pipeline stage ``evaluate``: each model's evaluation as DVC metrics and plots.

A model the train stage skipped (too little data) publishes ``{"skipped": why}`` as its metrics and
curve files with a header only, so that every output ``dvc.yaml`` declares exists.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from sprintlab.domain import TARGETS
from sprintlab.io import write_json_atomic, write_table_atomic
from sprintlab.registry import EVALUATION_FILE, SKIPPED, model_folder

log = logging.getLogger(__name__)


#: the columns of each curve file (``model`` plus the plot's x and y)
CURVE_COLUMNS = {
    "roc": ("model", "fpr", "tpr"),
    "pr": ("model", "recall", "precision"),
    "calibration": ("model", "predicted", "observed"),
}


def run_evaluate(models_dir: Path, metrics_dir: Path, plots_dir: Path) -> dict:
    """Publish each model's evaluation as DVC metrics and its curves as DVC plots (a curve the
    model has none of - a skipped model, a test split without both classes - as a header only)."""
    out = {}
    for target in TARGETS:
        mdir = model_folder(models_dir, target)
        ev = json.loads((mdir / EVALUATION_FILE).read_text(encoding="utf-8"))
        if SKIPPED in ev:
            log.warning("%s model not trained: %s", target, ev[SKIPPED])
        write_json_atomic(Path(metrics_dir) / f"{target}.json", ev)
        for curve, columns in CURVE_COLUMNS.items():
            src = mdir / f"curve_{curve}.csv"
            table = pd.read_csv(src) if src.exists() else pd.DataFrame(columns=list(columns))
            write_table_atomic(table, Path(plots_dir) / f"{target}_{curve}.csv")
        out[target] = ev
    return out
