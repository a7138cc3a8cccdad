"""The one report-context builder: a scored week and what travels with it -> :class:`ReportContext`.

Both reports use it: the pipeline's ``report`` stage (:func:`sprintlab.pipeline.report.run_report`,
models from the pipeline folder, trend predicted from the panel) and ``sprintlab score``
(:func:`sprintlab.scoring.score`, champion models from the registry, trend from the score history).
So both have the same sections: squad overview, what dominates, one section per athlete with the
"What to change first" box where the models carry lever artifacts, model versions, evaluation,
data checks (drift) and known limits.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import TARGETS, TRANSFER, iso_week_label
from sprintlab.registry import LoadedModel
from sprintlab.report.context import ReportContext, ranked_count
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
    ``generated_at``: the date the report is generated (default: today; ``""``: no date, for a
    report that must be byte-identical whenever it is rebuilt from the same data, the DVC stage);
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


#: how the "first thing to change" sizes its changes: with the model's saved effort-equivalent
#: steps (:func:`sprintlab.levers.lever_steps`), or the catalogue's fixed ones (a model saved without them)
LEVER_STEP_WORDS = {
    True: "comparable effort: each measure's typical within-athlete swing in the training data",
    False: "the catalogue's fixed steps (this model was saved without effort-equivalent steps)",
}


def model_rows(models: Mapping[str, LoadedModel]) -> list[dict[str, str]]:
    """The methods appendix's model table: registry name, the kind of model (its family,
    :func:`sprintlab.models.families.family_words`), version, alias, training cutoff and how its
    levers size a change (``LEVER_STEP_WORDS``)."""
    from sprintlab.models.families import family_words

    return [
        {
            "name": m.name,
            "kind": family_words(m.model),
            "version": m.version,
            "alias": m.alias,
            "trained_on": m.trained_on,
            "changes": LEVER_STEP_WORDS[bool(m.lever_steps)],
        }
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
    """The "What to change first" rows for every athlete who gets the box (flagged or in a
    strength block, :func:`sprintlab.levers.lever_athletes` of each outcome): both outcomes each
    athlete has a number for (transfer only while a block runs), the best ``top_n`` distinct levers
    per athlete and outcome (:func:`sprintlab.levers.best_levers`), for the models that carry
    training ranges; ``None`` when there are none."""
    from sprintlab.levers import best_levers, lever_athletes, levers_table

    asked = pd.concat([lever_athletes(squad, spec) for spec in TARGETS.values()]).unique()
    in_block = set(lever_athletes(squad, TRANSFER))
    parts = []
    for target, loaded in models.items():
        chosen = [a for a in asked if a in in_block or not TARGETS[target].needs_strength_block]
        rows = panel[(panel["week_end"] == week_end) & panel["athlete_id"].isin(chosen)]
        if loaded.lever_ranges is None or rows.empty:
            continue
        boosters = {target: list(loaded.lever_boosters)} if loaded.lever_boosters else None
        steps = {target: loaded.lever_steps} if loaded.lever_steps else None
        table = levers_table(
            rows, {target: loaded.model}, {target: loaded.lever_ranges}, boosters=boosters, steps=steps
        )
        parts.append(best_levers(table, top_n))
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


def report_athletes(squad: pd.DataFrame, cap: int) -> tuple[list[str], list[str]]:
    """The athletes the report shows and those a cap of ``cap`` leaves out: highest hamstring risk
    first (athletes with insufficient data last, flagged athletes before unflagged ones of the
    same risk - a weekly top share breaks ties at random -, then by id), so a cap never drops a
    flagged athlete in favour of an unflagged one."""
    order = squad.assign(
        _thin=squad["insufficient_data"].fillna(False).astype(bool),
        _risk=pd.to_numeric(squad["hamstring_risk"], errors="coerce").fillna(-1.0),
        _flag=squad["hamstring_flag"].fillna(False).astype(bool),
        _id=squad["athlete_id"].astype(str),
    ).sort_values(["_thin", "_risk", "_flag", "_id"], ascending=[True, False, False, True], kind="mergesort")
    ids = order["athlete_id"].tolist()
    return ids[:cap], ids[cap:]


def block_weeks(
    panel: pd.DataFrame, squad: pd.DataFrame, week_end: pd.Timestamp, weeks: int, min_strength_gain: float
) -> pd.DataFrame:
    """The panel weeks the strength-control chart shows: the last ``weeks`` weeks of the athletes in a
    strength block this week, those weeks in which their block was running."""
    from sprintlab.scoring import in_strength_block

    ids = lever_athletes_in_block(squad)
    rows = panel[
        panel["athlete_id"].isin(ids)
        & (panel["week_end"] > week_end - pd.Timedelta(weeks=weeks))
        & (panel["week_end"] <= week_end)
    ]
    return rows[in_strength_block(rows, min_strength_gain)].reset_index(drop=True)


def lever_athletes_in_block(squad: pd.DataFrame) -> list[str]:
    """The athletes in a strength block this week."""
    from sprintlab.levers import lever_athletes

    return lever_athletes(squad, TRANSFER).tolist()


def _interaction(inputs: ReportInputs, squad: pd.DataFrame, params: Params) -> pd.DataFrame | None:
    """The strength-control interaction over the athletes in a block this week (``None`` without a
    transfer model)."""
    from sprintlab.explain import strength_control_interaction

    if "transfer" not in inputs.models:
        return None
    rows = block_weeks(
        inputs.panel,
        squad,
        pd.Timestamp(inputs.week_end),
        params.score.history_weeks,
        params.targets.transfer.min_strength_gain,
    )
    return strength_control_interaction(inputs.models["transfer"].model, rows)


def build_report_context(inputs: ReportInputs, params: Params) -> ReportContext:
    """The weekly report's context: every scored athlete (with ``report.max_athletes`` as a cap, the
    highest risks, naming those left out, :func:`report_athletes`), squad importance, the
    strength-control interaction of the athletes in a strength block over the last
    ``score.history_weeks`` weeks, levers where the models carry lever artifacts, evaluation and
    model versions from the models; generated today unless ``inputs.generated_at`` says otherwise."""
    from sprintlab.explain import squad_family_importance
    from sprintlab.features.catalogue import load_catalogue

    week_end = pd.Timestamp(inputs.week_end)
    athletes, left_out = report_athletes(inputs.scored.squad, params.report.max_athletes)
    shown = inputs.scored.restricted_to(athletes)
    panel = inputs.panel
    return ReportContext(
        title=REPORT_TITLE,
        week_label=iso_week_label(week_end),
        data_window=(str(pd.to_datetime(panel["week_start"]).min().date()), str(week_end.date())),
        generated_at=dt.date.today().isoformat() if inputs.generated_at is None else inputs.generated_at,
        simulated=inputs.simulated,
        pseudonymised=inputs.pseudonymised,
        squad=shown.squad,
        drivers=shown.drivers,
        family_contributions=shown.families,
        family_importance=squad_family_importance(shown.families),
        shap_long=shown.long,
        interaction=_interaction(inputs, shown.squad, params),
        metrics={t: m.metrics for t, m in inputs.models.items()},
        models=model_rows(inputs.models),
        family_labels=dict(load_catalogue().families),
        history=_report_history(inputs.history, athletes),
        levers=report_levers(panel, inputs.models, shown.squad, week_end),
        drift_warnings=list(inputs.drift_warnings),
        known_limits=list(inputs.known_limits),
        main_factor_hidden=inputs.main_factor_hidden,
        flag_threshold=params.train.hamstring.flag_threshold,
        flag_top_share=params.train.hamstring.flag_top_share,
        flag_ranked=ranked_count(inputs.scored.squad),
        own_usual_weeks=params.score.own_usual_weeks,
        not_modelled=dict(inputs.not_modelled),
        not_assessed=not_assessed(inputs.models, _feature_description),
        model_note=inputs.model_note,
        left_out=left_out,
        history_weeks=params.score.history_weeks,
    )
