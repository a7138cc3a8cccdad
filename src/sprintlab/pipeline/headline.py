"""Pipeline stage ``headline``: the few numbers per model that ``dvc metrics show`` and
``dvc exp show`` print, one row per model.

``reports/metrics/<target>_headline.json`` holds: ``status`` (``champion``, or the label of an
experiment's model that lost: "challenger, not promoted: AUC 0.495 vs champion 0.642"), ``auc``
(held-out ROC AUC), ``gap_to_ceiling`` (the simulator truth's AUC on the same units minus the
model's; none on real data), ``brier_skill`` (1 - Brier / Brier of predicting the base rate),
``calibration_slope``, ``flag_sensitivity`` (share of events flagged by the hamstring flag policy:
the weekly top share when ``flag_top_share`` is set, else the flag threshold) and
``explanation_agreement`` (how often the explanation named the true main factor; simulated data).
The detailed files (``reports/metrics/<target>.json``, ``explanations.json``) are read by key, so
fields added to them later change nothing here; a value they lack is ``null``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from sprintlab.domain import TARGETS
from sprintlab.io import write_json_atomic
from sprintlab.models.flag_policy import skill_of_brier
from sprintlab.registry import SKIPPED, folder_champion, registration, skip_reason

log = logging.getLogger(__name__)

METRIC_LABELS = {"roc_auc": "AUC", "pr_auc": "PR AUC"}
#: headline values are rounded to this many decimals (fixed bytes on every machine)
DECIMALS = 4


def _get(doc: Any, *keys: str) -> Any:
    """``doc[k1][k2]...``, ``None`` when any level is missing or not a mapping."""
    for key in keys:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return round(float(value), DECIMALS)


def _difference(a: Any, b: Any) -> float | None:
    a, b = _number(a), _number(b)
    return None if a is None or b is None else round(a - b, DECIMALS)


def _skill(brier: Any, reference: Any) -> float | None:
    brier, reference = _number(brier), _number(reference)
    if brier is None or not reference:
        return None
    return round(skill_of_brier(brier, reference), DECIMALS)


def model_status(models_dir: Path, target: str) -> str:
    """Whether the model now in ``models_dir/<target>/`` is the registry's champion, and if not,
    the label its outputs carry: "challenger, not promoted: AUC 0.495 vs champion 0.642" (the
    comparison made when it was trained)."""
    skipped = skip_reason(models_dir, target)
    if skipped is not None:
        return f"not trained: {skipped}"
    record = registration(models_dir, target)
    if record is not None and not record.get("registered"):
        return "not registered"
    if folder_champion(models_dir, target)[1]:  # also after a promotion by hand in MLflow
        return "champion"
    if record is None:
        return "unknown: no registry record for this model here (train it in this project)"
    label = METRIC_LABELS.get(str(record.get("metric")), str(record.get("metric")))
    score, best = _number(record.get("score")), _number(record.get("champion_score"))
    if score is None or best is None:
        return f"challenger, not promoted: {record.get('reason', 'no comparison recorded')}"
    return f"challenger, not promoted: {label} {score:.3f} vs champion {best:.3f}"


def headline(evaluation: dict[str, Any], explanations: dict[str, Any], target: str, status: str) -> dict:
    """The headline numbers of one model from its detailed evaluation and the explanation checks."""
    model = _get(evaluation, "model")
    agreement = (
        _get(explanations, "dominant_family_agreement")
        if target == "transfer"
        else _get(explanations, target, "dominant_family_agreement")
    )
    return {
        "status": status,
        "auc": _number(_get(model, "roc_auc")),
        "gap_to_ceiling": _difference(_get(evaluation, "oracle", "roc_auc"), _get(model, "roc_auc")),
        "brier_skill": _skill(_get(model, "brier"), _get(evaluation, "baselines", "prevalence", "brier")),
        "calibration_slope": _number(_get(model, "calibration_slope")),
        "flag_sensitivity": _number(_get(model, "sensitivity")),
        "explanation_agreement": _number(agreement),
    }


def _read(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return doc if isinstance(doc, dict) else {}


def run_headline(models_dir: Path, metrics_dir: Path) -> dict[str, dict]:
    """Write ``<target>_headline.json`` beside the detailed metrics for each model; return them."""
    explanations = _read(Path(metrics_dir) / "explanations.json")
    out = {}
    for target in TARGETS:
        evaluation = _read(Path(metrics_dir) / f"{target}.json")
        out[target] = headline(evaluation, explanations, target, model_status(Path(models_dir), target))
        if SKIPPED in evaluation:
            log.warning("%s model not trained: %s", target, evaluation[SKIPPED])
        write_json_atomic(Path(metrics_dir) / f"{target}_headline.json", out[target])
    return out
