"""Pipeline stage ``report``: score the latest week and render the coach's HTML report.

The models are the registry's champions (:func:`staff_model`): the pipeline's model folder
(:func:`sprintlab.registry.load_pipeline_model`) when its model is the champion, else the champion
loaded from the MLflow registry - so that an experiment whose model lost the comparison never
changes what staff see (its own metrics carry the label, ``pipeline.headline``). The risk trend is predicted from the panel, and the report is assembled by the same builder as
``sprintlab score``'s (:func:`sprintlab.report.build.build_report_context`): levers, data checks
(drift against each model's training reference) and known limits included. An outcome whose model
the pipeline did not train (too little data) is reported as not modelled, with the reason.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import TARGETS
from sprintlab.registry import (
    LoadedModel,
    ModelNotFoundError,
    folder_champion,
    load_pipeline_model,
    load_registered_model,
    registration,
)
from sprintlab.scoring import check_drift, score_week_with
from sprintlab.tracking import CHAMPION

if TYPE_CHECKING:
    from sprintlab.models.families import Classifier

log = logging.getLogger(__name__)

#: The pipeline report's known limits (the squad the models were trained on).
PIPELINE_REPORT_LIMITS = (
    "Associations learned from this squad's records; they are not proven causes.",
    "Athletes with more than half of a model's inputs missing are marked 'insufficient data'.",
)


def main_factor_hidden(path: Path, *, measured_on_shown_model: bool = True) -> tuple[str, ...]:
    """The outcomes whose per-athlete main factor named the simulator's true family no more often than
    always naming the most common one (``explanations.json``: ``main_factor_beats_baseline`` false):
    the report leaves that column out and shows the measured drivers only. When the explain stage
    measured another model than the one shown (a challenger that lost: the report shows the registry's
    champion), a measured outcome's column is left out too: nothing shows it beats the constant."""
    ex = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return tuple(
        name
        for name in ("hamstring",)
        if "main_factor_beats_baseline" in (ex.get(name) or {})
        and (ex[name]["main_factor_beats_baseline"] is False or not measured_on_shown_model)
    )


def _main_factor_limit(path: Path) -> list[str]:
    """The explain stage's truth checks as known limits for coaches (simulated data only)."""
    ex = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if ex.get("dominant_family_agreement") is None:
        return []
    b = ex.get("by_explanation_dominance", {})
    parts = [
        f"{b[k]['agreement']:.0%} where {w}"
        for k, w in (("clear", "the lead is clear"), ("close", "it is a close call"))
        if b.get(k, {}).get("agreement") is not None
    ]
    among = b.get("close", {}).get("truth_among_named")
    close = (
        f" On a close call the report names two factors; the true one was among them {among:.0%} of the time."
        if among is not None
        else ""
    )
    out = [
        f"Main factor: on held-out simulated blocks the transfer explanation named the simulator's true main "
        f"factor for {ex['dominant_family_agreement']:.0%} of them"
        + (f" ({', '.join(parts)})" if parts else "")
        + "."
        + close
        + " Read a close call as two factors that matter about equally."
    ]
    ham = ex.get("hamstring") or {}
    if ham.get("dominant_family_agreement") is not None:
        clear = ham.get("by_explanation_dominance", {}).get("clear", {}).get("agreement")
        from sprintlab.features.catalogue import load_catalogue

        top = max(ham["confusion"].items(), key=lambda kv: sum(kv[1].values()))[0]
        top = load_catalogue().families.get(top, top)
        out.append(
            f"Hamstring main factor: on held-out simulated athlete-weeks it matched the simulator's true main factor "
            f"of the 28-day risk for {ham['dominant_family_agreement']:.0%} of them"
            + (f" ({clear:.0%} where the lead is clear)" if clear is not None else "")
            + f"; naming the most common true factor ({top}) every week would match "
            f"{ham['majority_family_baseline']:.0%}. A squad has too few hamstring injuries to pin down each "
            "factor's size: use the hamstring main factor as a starting point for the conversation, not a diagnosis."
        )
    return out


def risk_history(
    panel: pd.DataFrame,
    hamstring: Classifier,
    athletes: list[str],
    week_end: pd.Timestamp,
    weeks: int,
) -> pd.DataFrame:
    """Each athlete's weekly hamstring risk over the ``weeks`` weeks up to ``week_end``, predicted
    from the panel (the pipeline has no score history)."""
    from sprintlab.models.datasets import feature_matrix

    rows = panel[
        panel["athlete_id"].isin(athletes) & (panel["week_end"] > week_end - pd.Timedelta(weeks=weeks))
    ]
    risk = hamstring.predict_proba(feature_matrix(rows, list(hamstring.feature_names_in_)))[:, 1]
    return rows[["athlete_id", "week_end"]].assign(hamstring_risk=risk)


def staff_model(models_dir: Path, target: str) -> tuple[LoadedModel, bool]:
    """The model staff see for ``target``, and whether it is the pipeline folder's own.

    The folder's model when it is the registry's ``champion``
    (:func:`sprintlab.registry.folder_champion`), or when the pipeline does not register models;
    otherwise the champion loaded from the MLflow registry. Raises :class:`ModelNotFoundError` (a
    subclass when the stage skipped the model) when the folder's model lost and the registry has no
    champion to show instead.
    """
    from dataclasses import replace

    workspace = load_pipeline_model(models_dir, target)
    record = registration(models_dir, target)
    if record is not None and not record.get("registered"):
        return workspace, True
    name = TARGETS[target].registered_name
    version, mine = folder_champion(models_dir, target)
    if version is None:
        if record is None or mine:
            log.warning("%s: no champion in the MLflow registry; the report uses %s", name, models_dir)
            return workspace, True
        raise ModelNotFoundError(f"{name}: the model in {models_dir} lost and the registry has no champion")
    if mine:
        return replace(workspace, version=version, alias=CHAMPION), True
    log.warning(
        "%s: the model in %s is not the registry's champion; the report uses the champion v%s",
        name,
        models_dir,
        version,
    )
    return load_registered_model(name), False


def pipeline_models(models_dir: Path) -> tuple[dict[str, LoadedModel], dict[str, str], frozenset[str]]:
    """The champion models (:func:`staff_model`), for the others why there is none, and the outcomes
    whose shown model is the pipeline folder's own (so the explain stage's figures describe it)."""
    models, missing, own = {}, {}, set()
    for target in TARGETS:
        try:
            models[target], from_folder = staff_model(models_dir, target)
            if from_folder:
                own.add(target)
        except ModelNotFoundError as err:
            missing[target] = str(err)
            log.warning("report without the %s model: %s", target, err)
    return models, missing, frozenset(own)


def run_report(
    params: Params,
    features_dir: Path,
    models_dir: Path,
    metrics_dir: Path,
    out_path: Path,
    *,
    simulated: bool,
    pseudonymise: bool = False,
    generated_at: str | None = None,
) -> Path:
    """Score the latest complete week for every athlete and render the HTML report (its
    ``report.max_athletes`` cap keeps the highest risks, :func:`sprintlab.report.build.report_athletes`)."""
    from sprintlab.report.build import ReportInputs, build_report_context
    from sprintlab.report.render import render_report

    panel = pd.read_parquet(Path(features_dir) / "panel.parquet")
    models, not_modelled, own = pipeline_models(Path(models_dir))
    week_end = pd.Timestamp(panel["week_end"].max())
    athletes = sorted(panel.loc[panel["week_end"] == week_end, "athlete_id"].unique())
    scored = score_week_with(params, panel, {t: m.model for t, m in models.items()}, week_end)
    drift = check_drift(
        panel,
        models,
        week_end,
        set(scored.squad.loc[~scored.squad["insufficient_data"], "athlete_id"]),
        params,
    )
    for note in (*drift.not_checked, *drift.notes):
        log.warning(note)
    inputs = ReportInputs(
        scored=scored,
        panel=panel,
        models=models,
        week_end=week_end,
        history=(
            risk_history(panel, models["hamstring"].model, athletes, week_end, params.score.history_weeks)
            if "hamstring" in models
            else None
        ),
        drift_warnings=(*drift.warnings, *drift.notes),
        known_limits=(
            *PIPELINE_REPORT_LIMITS,
            *(_main_factor_limit(Path(metrics_dir) / "explanations.json") if own >= set(models) else ()),
        ),
        simulated=simulated,
        pseudonymised=pseudonymise,
        generated_at=generated_at,
        not_modelled=not_modelled,
        main_factor_hidden=main_factor_hidden(
            Path(metrics_dir) / "explanations.json", measured_on_shown_model="hamstring" in own
        ),
    )
    return render_report(build_report_context(inputs, params), Path(out_path))
