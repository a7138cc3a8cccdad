"""The one report-context builder: a scored week and what travels with it -> :class:`ReportContext`.

Both reports use it: the pipeline's ``report`` stage (:func:`sprintlab.pipeline.report.run_report`,
models from the pipeline folder, trend predicted from the panel) and ``sprintlab score``
(:func:`sprintlab.scoring.score`, champion models from the registry, trend from the score history).
So both have the same sections: squad overview, what dominates, one section per athlete with the
"What to change first" box where the models carry lever artifacts, model versions, evaluation,
data checks (drift) and known limits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import TARGETS, iso_week_label
from sprintlab.registry import LoadedModel
from sprintlab.report.context import ReportContext
from sprintlab.scoring import ScoredWeek

REPORT_TITLE = "sprintlab weekly report"
LEVERS_PER_OUTCOME = 2


@dataclass(frozen=True)
class ReportInputs:
    """What one weekly report is built from.

    ``scored``: the week (:func:`sprintlab.scoring.score_week`); ``panel``: the feature panel up to
    ``week_end`` (data window, strength-control interaction, levers); ``models``: target -> model;
    ``history``: athlete_id, week_end, hamstring_risk for the trend charts (``None``: no trends);
    ``drift_warnings``: the data checks' findings; ``known_limits``: the caller's limits;
    ``generated_at``: defaults to the week's Sunday (never the clock, so reruns are identical);
    ``not_modelled``: outcome -> why it has no model this week (not trained, or refused);
    ``model_note``: the label every page carries when a model trained on simulated athletes scored
    real exports (``None`` otherwise); ``main_factor_hidden``: outcomes whose per-athlete "main
    factor" column is left out because the explain stage measured it no better than always naming
    the most common family (``explanations.json``: ``main_factor_beats_baseline``).
    """

    scored: ScoredWeek
    panel: pd.DataFrame
    models: Mapping[str, LoadedModel]
    week_end: pd.Timestamp
    history: pd.DataFrame | None
    drift_warnings: Sequence[str]
    known_limits: Sequence[str]
    simulated: bool
    pseudonymised: bool
    generated_at: str | None = None
    not_modelled: Mapping[str, str] = field(default_factory=dict)
    model_note: str | None = None
    main_factor_hidden: tuple[str, ...] = ()


def model_rows(models: Mapping[str, LoadedModel]) -> list[dict[str, str]]:
    """The methods appendix's model table: registry name, version, alias, training cutoff."""
    return [
        {"name": m.name, "version": m.version, "alias": m.alias, "trained_on": m.trained_on}
        for m in models.values()
    ]


def report_levers(
    panel: pd.DataFrame,
    models: Mapping[str, LoadedModel],
    squad: pd.DataFrame,
    week_end: pd.Timestamp,
    *,
    top_n: int = LEVERS_PER_OUTCOME,
) -> pd.DataFrame | None:
    """The "What to change first" rows (:func:`sprintlab.levers.levers_table`, best ``top_n`` per
    athlete and outcome) for the models that carry training ranges; ``None`` when there are none."""
    from sprintlab.levers import lever_athletes, levers_table

    parts = []
    for target, loaded in models.items():
        if loaded.lever_ranges is None:
            continue
        rows = panel[
            (panel["week_end"] == week_end) & panel["athlete_id"].isin(lever_athletes(squad, TARGETS[target]))
        ]
        if len(rows):
            boosters = {target: list(loaded.lever_boosters)} if loaded.lever_boosters else None
            table = levers_table(
                rows, {target: loaded.model}, {target: loaded.lever_ranges}, boosters=boosters, top_n=top_n
            )
            parts.append(table)
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None


def not_assessed(
    models: Mapping[str, LoadedModel], feature_label: Callable[[str], str]
) -> dict[str, list[str]]:
    """Per outcome, the factor families its model's training data left not (or partly) assessed,
    in words (outcomes whose model assessed every configured feature are left out)."""
    return {
        t: lines for t, m in models.items() if (lines := m.coverage.sentences(feature_label=feature_label))
    }


def _feature_description(feature: str) -> str:
    """A feature in the coach's words: its catalogue description (its name outside the catalogue)."""
    from sprintlab.features.catalogue import load_catalogue

    try:
        return load_catalogue().get(feature).description.lower()
    except KeyError:
        return feature


def _report_history(history: pd.DataFrame | None, athletes: list[str]) -> pd.DataFrame | None:
    if history is None:
        return None
    return history[history["athlete_id"].isin(athletes)].reset_index(drop=True)


def build_report_context(inputs: ReportInputs, params: Params) -> ReportContext:
    """The weekly report's context: the first ``report.max_athletes`` athletes (by id), squad
    importance and the strength-control interaction over the last ``score.history_weeks`` weeks,
    levers where the models carry lever artifacts, evaluation and model versions from the models."""
    from sprintlab.explain import squad_family_importance, strength_control_interaction
    from sprintlab.features.catalogue import load_catalogue

    week_end = pd.Timestamp(inputs.week_end)
    athletes = sorted(inputs.scored.squad["athlete_id"])[: params.report.max_athletes]
    shown = inputs.scored.restricted_to(athletes)
    panel = inputs.panel
    window = panel[panel["week_end"] > week_end - pd.Timedelta(weeks=params.score.history_weeks)]
    return ReportContext(
        title=REPORT_TITLE,
        week_label=iso_week_label(week_end),
        data_window=(str(pd.to_datetime(panel["week_start"]).min().date()), str(week_end.date())),
        generated_at=inputs.generated_at or str(week_end.date()),
        simulated=inputs.simulated,
        pseudonymised=inputs.pseudonymised,
        squad=shown.squad,
        drivers=shown.drivers,
        family_contributions=shown.families,
        family_importance=squad_family_importance(shown.families),
        shap_long=shown.long,
        interaction=(
            strength_control_interaction(inputs.models["transfer"].model, window)
            if "transfer" in inputs.models
            else None
        ),
        metrics={t: m.metrics for t, m in inputs.models.items()},
        models=model_rows(inputs.models),
        family_labels=dict(load_catalogue().families),
        history=_report_history(inputs.history, athletes),
        levers=report_levers(panel, inputs.models, shown.squad, week_end),
        drift_warnings=list(inputs.drift_warnings),
        known_limits=list(inputs.known_limits),
        main_factor_hidden=inputs.main_factor_hidden,
        flag_threshold=params.train.hamstring.flag_threshold,
        own_usual_weeks=params.score.own_usual_weeks,
        not_modelled=dict(inputs.not_modelled),
        not_assessed=not_assessed(inputs.models, _feature_description),
        model_note=inputs.model_note,
    )
