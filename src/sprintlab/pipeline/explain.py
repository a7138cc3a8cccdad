"""Pipeline stage ``explain``: SHAP family explanations and truth recovery on simulated data."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import FAMILIES, TARGETS
from sprintlab.io import nan_to_none, write_json_atomic, write_table_atomic
from sprintlab.registry import ModelNotFoundError, load_pipeline_model

log = logging.getLogger(__name__)

#: training-period units in the group-Shapley reference set (drawn with ``split.seed``): each test unit
#: is evaluated against every one of them in each of the ``2^k`` family coalitions
GROUP_SHAPLEY_REFERENCE_UNITS = 50


def run_explain(
    params: Params, targets_dir: Path, models_dir: Path, out_dir: Path, metrics_dir: Path
) -> dict[str, Any]:
    """SHAP explanations of the test units; truth recovery of the dominant family (simulated data):
    the outcome :data:`~sprintlab.explain.TRUTH_TOP_LEVEL` (transfer blocks) at the top level
    (``dominant_family_agreement``), every other one (hamstring athlete-weeks) under its name. A
    model the train stage did not train is listed under ``not_modelled`` with the reason."""
    from sprintlab.explain import TRUTH_TOP_LEVEL, explain_units, family_importance, truth_recovery

    result: dict[str, Any] = {}
    not_modelled: dict[str, str] = {}
    Path(out_dir).mkdir(parents=True, exist_ok=True)  # the stage's output, even with no model to explain
    for spec in TARGETS.values():
        try:
            model = load_pipeline_model(models_dir, spec.name).model
        except ModelNotFoundError as err:
            not_modelled[spec.name] = str(err)
            log.warning("no explanations of the %s model: %s", spec.name, err)
            continue
        test = _test_units(Path(targets_dir), Path(models_dir), spec.name)
        fam = explain_units(model, test, spec.name, top_k=params.report.top_drivers).families
        write_table_atomic(
            fam.assign(unit_date=test["unit_date"].to_numpy()),
            Path(out_dir) / f"{spec.name}_families.parquet",
        )
        write_table_atomic(family_importance(fam), Path(out_dir) / f"{spec.name}_family_importance.csv")
        if "true_dominant_family" in test and test["true_dominant_family"].notna().any():
            recovery = truth_recovery(fam, test)
            if spec is TRUTH_TOP_LEVEL:
                result.update(recovery)
                result.update(_family_agreement(model, Path(targets_dir), Path(models_dir), test))
            else:
                result[spec.name] = {
                    **recovery,
                    "main_factor_beats_baseline": bool(
                        recovery["dominant_family_agreement"] > recovery["majority_family_baseline"]
                    ),
                    **_group_shapley_recovery(model, params, Path(targets_dir), test),
                }
    if "dominant_family_agreement" not in result:
        result["dominant_family_agreement"] = None
        result["note"] = (
            f"no {TRUTH_TOP_LEVEL.name} model: no agreement to measure"
            if TRUTH_TOP_LEVEL.name in not_modelled
            else "no simulator truth: agreement is measured on simulated data only"
        )
    if not_modelled:
        result["not_modelled"] = not_modelled
    write_json_atomic(Path(metrics_dir) / "explanations.json", nan_to_none(result))
    return result


def _family_agreement(model: Any, targets_dir: Path, models_dir: Path, test: pd.DataFrame) -> dict[str, Any]:
    """``{"transfer": ...}``: the shipped transfer model's exact family Shapley values against the
    truth's, both against the training-period blocks (:mod:`sprintlab.transfer_explanations`); under
    ``other_family`` the same four metrics of the other model family (name, metrics, held-out AUC:
    computed by the train stage with the same function, reference and blocks on the same training
    rows, :mod:`sprintlab.models.transfer_selection`), under ``best_baseline`` the same four metrics of
    the baseline with the best held-out AUC (:func:`~sprintlab.models.transfer_selection.
    best_baseline_explanations`, also computed by the train stage), and under ``selection`` the train stage's AUC
    comparison completed with both agreements, the family the rule keeps and the shipped one; empty
    without the truth's latent state."""
    from sprintlab.transfer_explanations import explanation_blocks, has_truth, transfer_explanation_metrics

    if not has_truth(test):
        return {}
    units = pd.read_parquet(targets_dir / "transfer_units.parquet")
    evaluation = json.loads((models_dir / "transfer" / "evaluation.json").read_text(encoding="utf-8"))
    _, reference = explanation_blocks(units, pd.Timestamp(evaluation["split_cutoff"]))
    features = list(model.feature_names_in_)
    out = transfer_explanation_metrics(model, features, test, reference)
    out["family"] = evaluation.get("model", {}).get("family")
    if "best_baseline_explanations" in evaluation:
        out["best_baseline"] = evaluation["best_baseline_explanations"]
    if "other_family_explanations" in evaluation:
        out["other_family"] = evaluation["other_family_explanations"]
        if "selection" in evaluation:
            from sprintlab.models.transfer_selection import complete_selection

            out["selection"] = complete_selection(
                evaluation["selection"],
                out["all_blocks_agreement"],
                out["other_family"]["all_blocks_agreement"],
            )
    return {"transfer": out}


def _group_shapley_recovery(
    model: Any, params: Params, targets_dir: Path, test: pd.DataFrame
) -> dict[str, Any]:
    """The truth recovery of exact group Shapley over factor families (``group_shapley.family_shapley``)
    on the model's log-odds margin ``model.margin(X)``, with the reference set
    :data:`GROUP_SHAPLEY_REFERENCE_UNITS` training-period units (complete labels dated at least
    ``split.purge_days`` before the test units' first date), drawn with ``split.seed``; and
    ``main_factor_beats_baseline``: whether the report's main factor (the TreeSHAP family sums,
    ``dominant_family_agreement``) names the true family more often than always naming the most common
    one (``majority_family_baseline``). When it does not, a per-athlete main factor is less
    informative than a constant."""
    from sprintlab.explain import dominance, dominant_family, truth_recovery
    from sprintlab.group_shapley import additive_margin_of, family_shapley

    feats = list(model.feature_names_in_)
    units = pd.read_parquet(targets_dir / "hamstring_units.parquet")
    start = pd.to_datetime(test["unit_date"]).min() - pd.Timedelta(days=params.split.purge_days)
    earlier = units[units["label_complete"] & (pd.to_datetime(units["unit_date"]) < start)]
    n_ref = min(GROUP_SHAPLEY_REFERENCE_UNITS, len(earlier))
    reference = earlier.sample(n_ref, random_state=params.split.seed)[feats].astype(float)
    phi = family_shapley(model.margin, test[feats].astype(float), reference, additive_margin_of(model))
    fam = phi.reindex(columns=list(FAMILIES), fill_value=0.0)
    fam["dominant_family"] = dominant_family(fam[list(FAMILIES)])
    fam = pd.concat([fam, dominance(fam[list(FAMILIES)])], axis=1)
    rec = truth_recovery(fam, test)
    return {
        "group_shapley": {
            "dominant_family_agreement": rec["dominant_family_agreement"],
            "majority_family_baseline": rec["majority_family_baseline"],
            "n_reference_units": n_ref,
            "by_explanation_dominance": rec["by_explanation_dominance"],
        },
    }


def _test_units(targets_dir: Path, models_dir: Path, target: str) -> pd.DataFrame:
    """The units the trained model was evaluated on: complete labels from the split's cutoff on
    (``evaluation.json``)."""
    units = pd.read_parquet(targets_dir / f"{target}_units.parquet")
    evaluation = json.loads((models_dir / target / "evaluation.json").read_text(encoding="utf-8"))
    cutoff = pd.Timestamp(evaluation["split_cutoff"])
    later = units["label_complete"] & (pd.to_datetime(units["unit_date"]) >= cutoff)
    return units[later].reset_index(drop=True)
