"""Shared wiring for the DVC entry points: paths and parameters."""

from __future__ import annotations

import logging
from pathlib import Path

from sprintlab.config import Params, load_params

ROOT = Path(__file__).resolve().parents[1]
SIMULATED = ROOT / "data" / "simulated"
VALIDATED = ROOT / "data" / "validated"
FEATURES = ROOT / "data" / "features"
TARGETS = ROOT / "data" / "targets"
MODELS = ROOT / "models"
METRICS = ROOT / "reports" / "metrics"
PLOTS = ROOT / "reports" / "plots"
EXPLANATIONS = ROOT / "reports" / "explanations"
REPORT = ROOT / "reports" / "weekly_report.html"


def params() -> Params:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return load_params(ROOT / "params.yaml")
