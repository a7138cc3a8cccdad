"""Pipeline stage ``evaluate``: each model's detailed evaluation and its curves.

``reports/metrics/<target>.json`` holds the whole held-out evaluation (the ``headline`` stage picks
the few numbers ``dvc metrics show`` prints); each curve is written as a table
(``reports/plots/<target>_<curve>.csv``) and as a static SVG chart (``.svg``, the ``dvc plots``
images: :mod:`sprintlab.pipeline.curves`). A model the train stage skipped (too little data)
publishes ``{"skipped": why}`` and curve files with a header only (charts saying "no curve"), so
that every output ``dvc.yaml`` declares exists.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from sprintlab.domain import TARGETS
from sprintlab.io import write_json_atomic, write_table_atomic, write_text_atomic
from sprintlab.pipeline.curves import curve_svg
from sprintlab.registry import EVALUATION_FILE, SKIPPED, model_folder

log = logging.getLogger(__name__)


#: the columns of each curve file (``model`` plus the plot's x and y)
CURVE_COLUMNS = {
    "roc": ("model", "fpr", "tpr"),
    "pr": ("model", "recall", "precision"),
    "calibration": ("model", "predicted", "observed"),
}


def run_evaluate(models_dir: Path, metrics_dir: Path, plots_dir: Path) -> dict:
    """Publish each model's evaluation and its curves as tables and SVG charts (a curve the model
    has none of - a skipped model, a test split without both classes - as a header only)."""
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
            write_text_atomic(Path(plots_dir) / f"{target}_{curve}.svg", curve_svg(table, curve, target))
        out[target] = ev
    return out
