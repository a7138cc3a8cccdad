"""Pipeline stage ``evaluate``: each model's evaluation as DVC metrics and plots."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from sprintlab.domain import TARGETS
from sprintlab.io import write_json_atomic, write_table_atomic
from sprintlab.registry import EVALUATION_FILE, model_folder

log = logging.getLogger(__name__)


def run_evaluate(models_dir: Path, metrics_dir: Path, plots_dir: Path) -> dict:
    """Publish each model's evaluation as DVC metrics and its curves as DVC plots."""
    out = {}
    for target in TARGETS:
        mdir = model_folder(models_dir, target)
        ev = json.loads((mdir / EVALUATION_FILE).read_text(encoding="utf-8"))
        write_json_atomic(Path(metrics_dir) / f"{target}.json", ev)
        for curve in ("roc", "pr", "calibration"):
            src = mdir / f"curve_{curve}.csv"
            if src.exists():
                write_table_atomic(pd.read_csv(src), Path(plots_dir) / f"{target}_{curve}.csv")
        out[target] = ev
    return out
