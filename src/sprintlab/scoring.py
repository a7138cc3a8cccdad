"""Weekly scoring of new exports with the registered champion models (``sprintlab score``).

:func:`score_week` is the pure core: one week's panel rows and the fitted models in, a
:class:`ScoredWeek` out (risk, transfer chance, drivers, family contributions). :func:`score` is the
command around it, one step each: validate the exports with the data contract (rejected rows are
written to ``OUT/validated/rejected_rows.csv``, nothing is dropped silently) -> pick the week and
truncate every table at its Sunday -> load the ``champion`` models (or an explicit version) with
:mod:`sprintlab.registry` -> refuse a model trained on simulated athletes for real exports unless
allowed -> build the feature panel with the training code -> refuse a model whose signature the
panel does not carry -> score and explain the week -> check feature drift against the training
reference (:func:`check_drift`; features the exports do not provide are "not provided", not drift)
-> write ``scores.csv``/``scores.parquet`` -> update the score history -> render the week's report
(:mod:`sprintlab.report.build`). Each model is scored or refused on its own (:class:`Refusal`, its
exit code and reason in the summary); the run is refused only when no model is left. Exit codes:
see ``EXIT_*`` below and ``docs/scoring.md``. Importing this module does not import MLflow.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sprintlab.config import Params, ScoreParams
from sprintlab.domain import FAMILIES, TARGETS, iso_week_label
from sprintlab.io import (
    DataError,
    OutputBusy,
    StagedFolder,
    output_lock,
    recover_folder,
    write_bytes_atomic,
    write_table_atomic,
    write_text_atomic,
)
from sprintlab.registry import LoadedModel

if TYPE_CHECKING:
    from sprintlab.explain import UnitExplanation
    from sprintlab.models.families import Classifier
    from sprintlab.models.flag_policy import FlagPolicy

log = logging.getLogger(__name__)


EXIT_OK = 0
EXIT_INVALID_DATA = 2
EXIT_MISSING_MODEL = 3
EXIT_SCHEMA_MISMATCH = 4
EXIT_DRIFT = 5
EXIT_SIMULATED_MODEL = 6
EXIT_OUTPUT = 7
EXIT_BUSY = 8
EXIT_ENVIRONMENT = 9
EXIT_INTERNAL = 1
EXIT_CODES = {
    EXIT_OK: "scored (drift warnings, if any, are in the output and the report)",
    EXIT_INVALID_DATA: "invalid data: folder missing, a required table missing or wholly rejected, or no data in the week",
    EXIT_MISSING_MODEL: "missing model: no champion (or the requested version) in the MLflow registry",
    EXIT_SCHEMA_MISMATCH: "schema mismatch: the features built from the data do not match the model's signature",
    EXIT_DRIFT: "drift beyond score.psi_fail: scores and report written and flagged, history not updated",
    EXIT_SIMULATED_MODEL: "simulated model: the exports are not simulated but the model was trained on simulated "
    "athletes (or does not record its training data); --allow-simulated-model scores them, labelled",
    EXIT_OUTPUT: "output: the --out folder (or --history) is not writable, the disk is (nearly) full, or the "
    "score history is corrupted; nothing was changed",
    EXIT_BUSY: "busy: another run is writing the same --out folder (waited score.lock_wait_seconds)",
    EXIT_ENVIRONMENT: "environment: --pseudonymise without a usable key, --engine spark without pyspark, or the "
    "model registry unreachable or locked; checked before any work",
    EXIT_INTERNAL: "internal error (a bug): one line on the console, the traceback with SPRINTLAB_DEBUG=1",
}
#: free disk space a run needs beyond the size of its inputs and of the current output folder
MIN_FREE_BYTES = 20 * 2**20
#: what a run writes afresh in its output folder (everything else of the previous generation is
#: carried over: older weeks' reports, the history); ``validated/`` is always replaced whole
RUN_OUTPUTS = frozenset(
    {
        "scores.csv",
        "scores.parquet",
        "drift.csv",
        "score_summary.json",
        "share/scores.csv",
        "share/scores.parquet",
        "score_history.previous.parquet",
    }
)
SHARE_DIR = "share"
REFUSAL_DIR = "last_refusal"
#: what every page of the report and every row of scores.csv say when a model trained on simulated
#: athletes (or one that does not record its training data) scored real exports
SIMULATED_MODEL_NOTE = "scored by a model trained on simulated athletes"
UNRECORDED_MODEL_NOTE = "scored by a model that does not record its training data (it may be simulated)"
#: the scores column carrying that note (present only when --allow-simulated-model was needed)
MODEL_NOTE_COLUMN = "model_note"

SCORE_COLUMNS = [
    "athlete_id",
    "week",
    "week_end",
    "hamstring_risk",
    "hamstring_flag",
    "in_strength_block",
    "transfer_probability",
    "dominant_family_hamstring",
    "dominant_family_transfer",
    "top_drivers_hamstring",
    "top_drivers_transfer",
    "model_version_hamstring",
    "model_version_transfer",
    "data_freshness_days",
    "last_record_date",
    "recent_days_with_data",
    "insufficient_data",
    "insufficient_reason",
]
HISTORY_KEY = ["athlete_id", "week", "model_version"]
HISTORY_COLUMNS = [
    "athlete_id",
    "week",
    "week_end",
    "model_version",
    "hamstring_risk",
    "hamstring_flag",
    "transfer_probability",
    "dominant_family_hamstring",
    "dominant_family_transfer",
    "insufficient_data",
]
HISTORY_FILE = "score_history.parquet"
#: The weekly score report's known limits (new data scored with models trained on another squad).
SCORE_REPORT_LIMITS = (
    "Associations learned from the training squad's records; they are not proven causes.",
    "Athletes with too little recent data or more than half of a model's inputs missing are "
    "marked 'insufficient data'.",
)
FRESHNESS_COLUMNS = ("sprint_test_age_days", "screen_age_days", "nordic_test_age_days")


class ScoringError(Exception):
    """A refusal with its documented exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class Refusal:
    """One model not scored this week: the exit code it would give on its own, and why."""

    exit_code: int
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"exit_code": self.exit_code, "reason": self.reason}


@dataclass(frozen=True)
class WeekModels:
    """The models that score this week (``scoring``) and those refused, each for its own reason."""

    scoring: dict[str, LoadedModel]
    refused: dict[str, Refusal] = field(default_factory=dict)

    def refuse(self, refusals: Mapping[str, Refusal]) -> WeekModels:
        """The same models with ``refusals`` (target -> refusal) moved out of ``scoring``."""
        kept = {t: m for t, m in self.scoring.items() if t not in refusals}
        return WeekModels(kept, {**self.refused, **refusals})

    def sentences(self) -> list[str]:
        """One line per refused model, e.g. ``transfer model not scored (exit 4): ...``."""
        return [f"{t} model not scored (exit {r.exit_code}): {r.reason}" for t, r in self.refused.items()]

    def require_one(self) -> WeekModels:
        """Refuse the run - with the lowest of the models' exit codes - when no model is left."""
        if not self.scoring:
            code = min((r.exit_code for r in self.refused.values()), default=EXIT_MISSING_MODEL)
            raise ScoringError("no model can score this week:\n  " + "\n  ".join(self.sentences()), code)
        return self


# ------------------------------------------------------------------ weeks
def parse_week(label: str) -> pd.Timestamp:
    """``"2026-W48"`` -> the Sunday that ends ISO week 48 of 2026."""
    try:
        year, week = str(label).strip().upper().split("-W")
        return pd.Timestamp(dt.date.fromisocalendar(int(year), int(week), 7))
    except ValueError as err:
        raise ScoringError(
            f"--week must look like 2026-W48 (ISO year-week), got {label!r}", EXIT_INVALID_DATA
        ) from err


def _date_col(name: str) -> str:
    return "onset_date" if name == "injuries" else "date"


def latest_complete_week(tables: dict[str, pd.DataFrame]) -> pd.Timestamp:
    """The Sunday of the latest ISO week the data cover completely: the last record's day when it
    is a Sunday, else the Sunday before it."""
    last = max(
        (
            pd.to_datetime(df["date"]).max()
            for name, df in tables.items()
            if name not in ("athletes", "injuries") and "date" in df and len(df)
        ),
        default=pd.NaT,
    )
    if pd.isna(last):
        raise ScoringError("no dated records: cannot find a week to score", EXIT_INVALID_DATA)
    last = pd.Timestamp(last).normalize()
    return last if last.weekday() == 6 else last - pd.Timedelta(days=last.weekday() + 1)


def truncate_tables(tables: dict[str, pd.DataFrame], week_end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """Drop every record dated after ``week_end`` (the scored week's Sunday): nothing later is read."""
    out = {}
    for name, df in tables.items():
        col = _date_col(name)
        out[name] = df[pd.to_datetime(df[col]) <= week_end].reset_index(drop=True) if col in df else df
    return out


def recent_activity(tables: dict[str, pd.DataFrame], week_end: pd.Timestamp, days: int) -> pd.DataFrame:
    """Per athlete: days with any record in the ``days`` days up to ``week_end`` and the last record date."""
    lo = week_end - pd.Timedelta(days=days)
    parts, lasts = [], []
    for name, df in tables.items():
        if name in ("athletes", "injuries") or "date" not in df or df.empty:
            continue
        d = pd.DataFrame({"athlete_id": df["athlete_id"].astype(str), "date": pd.to_datetime(df["date"])})
        d = d[d["date"] <= week_end]
        lasts.append(d.groupby("athlete_id")["date"].max())
        parts.append(d[d["date"] > lo].drop_duplicates())
    recent = (
        pd.concat(parts).drop_duplicates().groupby("athlete_id")["date"].nunique()
        if parts
        else pd.Series(dtype=int)
    )
    last = pd.concat(lasts).groupby(level=0).max() if lasts else pd.Series(dtype="datetime64[ns]")
    return pd.DataFrame({"recent_days_with_data": recent, "last_record_date": last})


def week_tables(tables: dict[str, pd.DataFrame], week_end: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The tables truncated at ``week_end``; refuses (exit 2) when the week itself has no records."""
    tables = truncate_tables(tables, week_end)
    if not any(
        len(df) and (pd.to_datetime(df["date"]) > week_end - pd.Timedelta(days=7)).any()
        for n, df in tables.items()
        if n not in ("athletes", "injuries") and "date" in df
    ):
        raise ScoringError(
            f"invalid data: no records in week {iso_week_label(week_end)} (up to {week_end.date()})",
            EXIT_INVALID_DATA,
        )
    return tables


# ------------------------------------------------------------------ models
def _version_for(target: str, model_version: str | None) -> str | None:
    """``--model-version``: ``N`` (both models) or ``hamstring=N,transfer=M`` (either may be omitted)."""
    if not model_version:
        return None
    text = str(model_version).strip()
    if "=" not in text:
        return text
    parts = dict(p.split("=", 1) for p in text.split(",") if "=" in p)
    return parts.get(target)


def load_registered_models(model_version: str | None = None) -> WeekModels:
    """Each model by alias ``champion`` (or the ``--model-version`` spec) from the MLflow registry;
    a missing one is refused on its own (exit 3), the others load."""
    from sprintlab.registry import ModelNotFoundError, load_registered_model
    from sprintlab.tracking import TrackingError

    models, refused = {}, {}
    for target, spec in TARGETS.items():
        try:
            models[target] = load_registered_model(spec.registered_name, _version_for(target, model_version))
        except (ModelNotFoundError, TrackingError) as err:
            refused[target] = Refusal(
                EXIT_MISSING_MODEL, f"{err}; train one with `dvc repro` (or set MLFLOW_TRACKING_URI)"
            )
    return WeekModels(models, refused)


def is_simulated(data_dir: str | Path | None) -> bool:
    """Whether ``data_dir`` carries the simulator's label: a ``README.md`` beside it (its parent's,
    where ``sprintlab simulate`` and the simulate stage write it) or in it that begins with
    ``SIMULATED`` (:data:`sprintlab.simulate.generator.SIMULATED_LABEL`)."""
    if data_dir is None:
        return False
    for readme in (Path(data_dir).parent / "README.md", Path(data_dir) / "README.md"):
        if readme.is_file():
            head = readme.read_text(encoding="utf-8", errors="replace").lstrip()[:9]
            if head.upper() == "SIMULATED":
                return True
    return False


def model_note(models: Mapping[str, LoadedModel]) -> str | None:
    """The label of scores made by models not known to be trained on a club's exports (``None``
    when every model records ``data.source: folder``)."""
    simulated = sorted(f"{t} v{m.version}" for t, m in models.items() if m.data_source == "simulated")
    unrecorded = sorted(
        f"{t} v{m.version}" for t, m in models.items() if m.data_source not in ("simulated", "folder")
    )
    parts = [f"{SIMULATED_MODEL_NOTE} ({', '.join(simulated)})"] if simulated else []
    parts += [f"{UNRECORDED_MODEL_NOTE} ({', '.join(unrecorded)})"] if unrecorded else []
    return "; ".join(parts) or None


def simulated_model_refusals(
    models: Mapping[str, LoadedModel], *, data_simulated: bool, allowed: bool
) -> dict[str, Refusal]:
    """Exit 6 for each model not trained on a club's exports when the exports are not simulated
    (none when they are, or with ``--allow-simulated-model``)."""
    if data_simulated or allowed:
        return {}
    return {
        t: Refusal(
            EXIT_SIMULATED_MODEL,
            f"{m.name} v{m.version} was trained on "
            + ("simulated athletes" if m.data_source == "simulated" else "data it does not record")
            + " and these exports are not simulated: train on the club's exports (data.source: folder, "
            "`dvc repro`), or pass --allow-simulated-model to score anyway, every output labelled "
            f"'{SIMULATED_MODEL_NOTE}'",
        )
        for t, m in models.items()
        if not m.trained_on_folder_data
    }


_NUMERIC_SIG = {"double", "float", "long", "integer", "boolean"}


def _schema_problems(panel: pd.DataFrame, cm: LoadedModel) -> list[str]:
    """What keeps ``panel`` from feeding ``cm``: missing, non-numeric or reordered inputs."""
    names = [n for n, _ in cm.signature] or cm.feature_names
    fitted = list(getattr(cm.model, "feature_names_in_", names))
    where = f"{cm.name} v{cm.version}"
    problems = []
    if fitted != names:
        problems.append(f"{where}: logged signature {names} differs from the fitted features {fitted}")
    missing = [n for n in names if n not in panel.columns]
    if missing:
        problems.append(f"{where} needs features the data cannot provide: {', '.join(missing)}")
    for n, t in cm.signature:
        if n in panel.columns and t not in _NUMERIC_SIG:
            problems.append(f"{where}: signature type of {n} is {t}, expected a number")
    bad = [
        n
        for n in names
        if n in panel.columns
        and not (pd.api.types.is_numeric_dtype(panel[n]) or pd.api.types.is_bool_dtype(panel[n]))
    ]
    if bad:
        problems.append(
            f"{where}: non-numeric feature columns {', '.join(bad)} (dtypes {[str(panel[b].dtype) for b in bad]})"
        )
    return problems


def schema_refusals(panel: pd.DataFrame, models: Mapping[str, LoadedModel]) -> dict[str, Refusal]:
    """Exit 4 for each model whose signature the panel does not carry (every input, numeric, in
    the order the model was fitted with); the other models are not affected."""
    refused = {}
    for target, cm in models.items():
        problems = _schema_problems(panel, cm)
        if problems:
            refused[target] = Refusal(
                EXIT_SCHEMA_MISMATCH,
                "feature schema does not match the model: "
                + "; ".join(problems)
                + " (a table the model was trained with is missing, or the features changed since "
                "training: retrain on these exports, or score with the matching --model-version)",
            )
    return refused


def check_schema(panel: pd.DataFrame, models: Mapping[str, LoadedModel]) -> None:
    """Refuse (exit 4) unless the panel carries every model's signature (:func:`schema_refusals`)."""
    refused = WeekModels({}, schema_refusals(panel, models))
    if refused.refused:
        raise ScoringError("\n".join(refused.sentences()), EXIT_SCHEMA_MISMATCH)


# ------------------------------------------------------------------ scoring one week
@dataclass(frozen=True)
class ScoredWeek:
    """One week's scores and explanations.

    ``squad``: one row per athlete (athlete_id, week_end, in_strength_block, transfer_probability,
    dominant_family_transfer, insufficient_data, hamstring_risk, hamstring_flag,
    dominant_family_hamstring, data_freshness_days, insufficient_reason); ``drivers``: the top
    drivers with their sentences (athlete_id, model, rank, feature, family, value, unit, shap,
    text); ``families``: SHAP summed per factor family (athlete_id, family, shap, model);
    ``long``: every feature's SHAP value (athlete_id, feature, family, value, shap, model).
    ``families`` and ``long`` cover only the athletes whose number the week shows.
    """

    squad: pd.DataFrame
    drivers: pd.DataFrame
    families: pd.DataFrame
    long: pd.DataFrame

    def restricted_to(self, athletes: Collection[str]) -> ScoredWeek:
        """The same week for ``athletes`` only."""
        keep = set(athletes)

        def only(frame: pd.DataFrame) -> pd.DataFrame:
            return frame[frame["athlete_id"].isin(keep)].reset_index(drop=True)

        return ScoredWeek(only(self.squad), only(self.drivers), only(self.families), only(self.long))


def in_strength_block(rows: pd.DataFrame, min_strength_gain: float) -> np.ndarray:
    """Whether a strength block is running: squat strength up by at least half the transfer
    threshold since the last sprint test, and that test at least 14 days old."""
    gain = rows.get("strength_change_since_test_pct", pd.Series(np.nan, index=rows.index)).to_numpy()
    age = rows.get("sprint_test_age_days", pd.Series(np.nan, index=rows.index)).to_numpy()
    return (gain >= 100 * min_strength_gain / 2) & (age >= 14)


def _week_rows(panel: pd.DataFrame, week_end: pd.Timestamp, athletes: Collection[str] | None) -> pd.DataFrame:
    rows = panel[panel["week_end"] == week_end]
    if athletes is not None:
        rows = rows[rows["athlete_id"].isin(athletes)]
    return rows.sort_values("athlete_id").reset_index(drop=True)


def _where_or_none(keep: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``values`` where ``keep``, else ``None`` (an object array)."""
    return np.where(keep, values, np.array(None, dtype=object))


def _target_columns(
    target: str,
    probability: np.ndarray,
    missing_share: np.ndarray,
    dominant: np.ndarray,
    rows: pd.DataFrame,
    *,
    min_strength_gain: float,
    max_missing_share: float,
) -> dict[str, Any]:
    """The squad columns one model fills: risk, or block and transfer chance (the hamstring flag
    is set once the whole week is scored, :func:`with_flags`)."""
    if TARGETS[target].needs_strength_block:
        running = in_strength_block(rows, min_strength_gain)
        return {
            "in_strength_block": running,
            "transfer_probability": np.where(
                running & (missing_share <= max_missing_share), probability, np.nan
            ),
            "dominant_family_transfer": _where_or_none(running, dominant),
        }
    thin = missing_share > max_missing_share
    risk = pd.Series(np.where(thin, np.nan, probability), index=rows.index)
    return {
        "insufficient_data": thin,
        "hamstring_risk": risk,
        "hamstring_flag": np.zeros(len(rows), dtype=bool),
        "dominant_family_hamstring": _where_or_none(~thin, dominant),
    }


def _shown_explanations(explained: UnitExplanation, target: str, squad: pd.DataFrame) -> dict:
    """Drivers (athletes in a strength block only, for transfer) and squad-level explanations of
    the athletes whose number this week shows: no transfer picture from athletes outside a
    strength block, no risk picture from "insufficient data"."""
    spec = TARGETS[target]
    ids = squad["athlete_id"].to_numpy()
    drivers = explained.drivers.assign(model=target)
    if spec.needs_strength_block and len(drivers):
        drivers = drivers[drivers["athlete_id"].isin(ids[squad["in_strength_block"].to_numpy()])]
    shown = set(ids[squad[spec.probability_column].notna()])
    families = explained.families.melt(
        id_vars=["athlete_id"],
        value_vars=[c for c in explained.families.columns if c in FAMILIES],
        var_name="family",
        value_name="shap",
    )
    long = explained.long.drop(columns=["row"])
    return {
        "drivers": drivers.drop(columns=["row"], errors="ignore"),
        "families": families[families["athlete_id"].isin(shown)].assign(model=target),
        "long": long[long["athlete_id"].isin(shown)].assign(model=target),
    }


def score_week(
    panel: pd.DataFrame,
    models: Mapping[str, Classifier],
    week_end: pd.Timestamp,
    *,
    min_strength_gain: float,
    flag_policy: FlagPolicy,
    top_k: int,
    max_missing_share: float,
    own_usual_weeks: int,
    athletes: Collection[str] | None = None,
    proba: Mapping[str, np.ndarray] | None = None,
) -> ScoredWeek:
    """Score one week: hamstring risk for everyone, transfer chance where a strength block runs
    (:func:`in_strength_block`), each with the model of ``models`` (target -> model) when there is
    one (no number and no explanation for an outcome without a model).

    An athlete with more than ``max_missing_share`` of a model's features missing gets
    "insufficient data" rather than a guess. The hamstring flag is ``flag_policy``'s over the
    week's athletes with a risk (:func:`with_flags`). ``proba`` (per target, aligned with the week's rows
    sorted by athlete) replaces ``model.predict_proba`` - the Spark engine passes the
    probabilities its UDF computed. Driver sentences compare each value with the athlete's own
    usual value: the median over the panel's weeks in the ``own_usual_weeks`` before ``week_end``.
    """
    from sprintlab.explain import explain_units, own_usual_values
    from sprintlab.models.datasets import feature_matrix

    rows = _week_rows(panel, week_end, athletes)
    features = sorted({f for m in models.values() for f in m.feature_names_in_})
    usual = own_usual_values(
        panel[panel["athlete_id"].isin(rows["athlete_id"])], week_end, own_usual_weeks, features
    )
    squad = rows[["athlete_id", "week_end"]].copy()
    parts: dict[str, list[pd.DataFrame]] = {"drivers": [], "families": [], "long": []}
    for target in TARGETS:
        if target not in models:
            for name, values in _unscored_columns(target, rows, min_strength_gain).items():
                squad[name] = values
            continue
        model = models[target]
        X = feature_matrix(rows, list(model.feature_names_in_))
        probability = proba[target] if proba is not None else model.predict_proba(X)[:, 1]
        explained = explain_units(model, rows, target, top_k=top_k, own_usual=usual)
        columns = _target_columns(
            target,
            probability,
            X.isna().mean(axis=1).to_numpy(),
            explained.families["dominant_family"].to_numpy(),
            rows,
            min_strength_gain=min_strength_gain,
            max_missing_share=max_missing_share,
        )
        for name, values in columns.items():
            squad[name] = values
        for name, part in _shown_explanations(explained, target, squad).items():
            parts[name].append(part)
    ages = [c for c in FRESHNESS_COLUMNS if c in rows]
    squad["data_freshness_days"] = rows[ages].min(axis=1).to_numpy() if ages else np.nan
    reason = f"more than {max_missing_share:.0%} of the model inputs missing"
    squad["insufficient_reason"] = pd.Series(reason, index=squad.index, dtype="string").where(
        squad["insufficient_data"]
    )
    return ScoredWeek(
        with_flags(squad, flag_policy),
        *(_stack(parts[k], EMPTY_COLUMNS[k]) for k in ("drivers", "families", "long")),
    )


#: the columns of a :class:`ScoredWeek`'s explanation frames when no model scored
EMPTY_COLUMNS = {
    "drivers": ("athlete_id", "model", "rank", "feature", "family", "value", "unit", "shap", "text"),
    "families": ("athlete_id", "family", "shap", "model"),
    "long": ("athlete_id", "feature", "family", "value", "shap", "model"),
}


def _stack(parts: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    """``parts`` one below the other (an empty frame with ``columns`` when there is none)."""
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(columns))


def _unscored_columns(target: str, rows: pd.DataFrame, min_strength_gain: float) -> dict[str, Any]:
    """The squad columns of an outcome without a model: no number, no main factor (whether a
    strength block runs is still known)."""
    none = np.full(len(rows), None, dtype=object)
    if TARGETS[target].needs_strength_block:
        return {
            "in_strength_block": in_strength_block(rows, min_strength_gain),
            "transfer_probability": np.full(len(rows), np.nan),
            "dominant_family_transfer": none,
        }
    return {
        "insufficient_data": np.zeros(len(rows), dtype=bool),
        "hamstring_risk": pd.Series(np.nan, index=rows.index),
        "hamstring_flag": pd.Series(False, index=rows.index),
        "dominant_family_hamstring": none,
    }


def hamstring_flag_policy(params: Params) -> FlagPolicy:
    """The hamstring flag of ``params.yaml``: the weekly top ``train.hamstring.flag_top_share`` of
    the squad ranked with ``split.seed`` (the policy ``hamstring.json`` evaluates), or the
    ``train.hamstring.flag_threshold`` when the share is ``null``."""
    from sprintlab.models.flag_policy import FlagPolicy

    hp = params.train.hamstring
    return FlagPolicy(threshold=hp.flag_threshold, share=hp.flag_top_share, seed=params.split.seed)


def with_flags(squad: pd.DataFrame, policy: FlagPolicy) -> pd.DataFrame:
    """``squad`` with ``hamstring_flag`` set by ``policy`` over the athletes with a risk (those with
    insufficient data are never flagged and do not count)."""
    out = squad.copy()
    eligible = ~out["insufficient_data"].fillna(True).to_numpy(dtype=bool)
    out["hamstring_flag"] = policy.flags(out["hamstring_risk"].to_numpy(dtype=float), eligible)
    return out


def score_week_with(
    params: Params,
    panel: pd.DataFrame,
    models: Mapping[str, Classifier],
    week_end: pd.Timestamp,
    *,
    athletes: Collection[str] | None = None,
    proba: Mapping[str, np.ndarray] | None = None,
) -> ScoredWeek:
    """:func:`score_week` with its settings from ``params.yaml`` (strength-block rule, flag
    threshold, drivers shown, missing-input limit, own-usual window) - the pipeline report and
    ``sprintlab score`` score a week alike."""
    return score_week(
        panel,
        models,
        week_end,
        min_strength_gain=params.targets.transfer.min_strength_gain,
        flag_policy=hamstring_flag_policy(params),
        top_k=params.report.top_drivers,
        max_missing_share=params.score.max_missing_share,
        own_usual_weeks=params.score.own_usual_weeks,
        athletes=athletes,
        proba=proba,
    )


def mark_insufficient(
    scored: ScoredWeek, athletes: Collection[str], reason: str, policy: FlagPolicy
) -> ScoredWeek:
    """The week with ``athletes`` turned into "insufficient data" (no risk, no flag, no drivers,
    and no part in the squad-level explanations), ``reason`` recorded for each; the flags drawn
    again by ``policy`` over the athletes left with a risk (a weekly top share counts only them)."""
    sq = scored.squad.copy()
    m = sq["athlete_id"].isin(athletes).to_numpy() & ~sq["insufficient_data"].to_numpy()
    sq.loc[m, "insufficient_data"] = True
    sq.loc[m, ["hamstring_risk", "transfer_probability"]] = np.nan
    sq.loc[m, ["dominant_family_hamstring", "dominant_family_transfer"]] = None
    sq.loc[m, "insufficient_reason"] = reason
    thin = set(sq.loc[sq["insufficient_data"], "athlete_id"])

    def without_thin(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[~frame["athlete_id"].isin(thin)].reset_index(drop=True)

    return ScoredWeek(
        with_flags(sq, policy),
        without_thin(scored.drivers),
        without_thin(scored.families),
        without_thin(scored.long),
    )


def _driver_text(drivers: pd.DataFrame, model: str) -> pd.Series:
    d = drivers[drivers["model"] == model].sort_values(["athlete_id", "rank"], kind="mergesort")
    return d.groupby("athlete_id")["text"].agg(lambda s: " | ".join(s))


def scores_frame(
    scored: ScoredWeek,
    activity: pd.DataFrame,
    models: Mapping[str, LoadedModel],
    week_end: pd.Timestamp,
) -> pd.DataFrame:
    """The flat per-athlete output written to scores.csv / scores.parquet."""
    sq = scored.squad
    ids = sq["athlete_id"]
    out = pd.DataFrame(
        {
            "athlete_id": ids.astype(str),
            "week": iso_week_label(week_end),
            "week_end": pd.to_datetime(sq["week_end"]).dt.strftime("%Y-%m-%d"),
        }
    )
    out["hamstring_risk"] = sq["hamstring_risk"].astype(float)
    out["hamstring_flag"] = sq["hamstring_flag"].astype("boolean").mask(sq["insufficient_data"].to_numpy())
    out["in_strength_block"] = sq["in_strength_block"].astype(bool)
    out["transfer_probability"] = sq["transfer_probability"].astype(float)
    for c in ("dominant_family_hamstring", "dominant_family_transfer"):
        out[c] = sq[c].astype("string")
    for m in ("hamstring", "transfer"):
        out[f"top_drivers_{m}"] = ids.map(_driver_text(scored.drivers, m)).astype("string")
        out[f"model_version_{m}"] = models[m].version if m in models else None
    out["data_freshness_days"] = sq["data_freshness_days"].astype(float)
    act = activity.reindex(ids)
    out["last_record_date"] = (
        pd.to_datetime(act["last_record_date"]).dt.strftime("%Y-%m-%d").astype("string").to_numpy()
    )
    out["recent_days_with_data"] = act["recent_days_with_data"].fillna(0).astype(int).to_numpy()
    out["insufficient_data"] = sq["insufficient_data"].astype(bool)
    out["insufficient_reason"] = sq["insufficient_reason"].astype("string")
    return out[SCORE_COLUMNS].reset_index(drop=True)


def model_version_label(models: Mapping[str, LoadedModel]) -> str:
    """``hamstring=vN;transfer=vM``: the score history's model version key (``none`` for an
    outcome without a model)."""
    return ";".join(
        f"{t}=v{models[t].version}" if t in models else f"{t}=none" for t in ("hamstring", "transfer")
    )


# ------------------------------------------------------------------ drift
@dataclass(frozen=True)
class DriftCheck:
    """Feature drift of the scored athletes' recent weeks against each model's training data.

    ``table``: one row per model and feature compared (:func:`sprintlab.drift.drift_table` plus
    ``model``); ``warnings``: the features beyond ``score.psi_warn``, in words; ``not_checked``: the
    models without a training reference; ``failed_features``: those beyond ``score.psi_fail``;
    ``not_compared``: model -> feature -> why it was left out of the comparison - "not provided"
    by this week's exports (no value in the scored athletes' recent weeks, or not in the panel) or
    without a value in the training data: drift compares like with like.
    """

    table: pd.DataFrame
    warnings: tuple[str, ...]
    not_checked: tuple[str, ...]
    failed_features: tuple[str, ...]
    not_compared: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def hard(self) -> bool:
        """Drift beyond ``score.psi_fail``: exit 5, history left alone."""
        return bool(self.failed_features)

    @property
    def notes(self) -> tuple[str, ...]:
        """The features left out of the comparison, in words (one line per model)."""
        return tuple(
            f"{model} model, not checked for drift: "
            + "; ".join(f"{f} ({why})" for f, why in features.items())
            for model, features in self.not_compared.items()
        )


def _drift_failure(drift: DriftCheck, psi_fail: float) -> str:
    """The exit-5 message ('' without hard drift)."""
    if not drift.hard:
        return ""
    return f"drift beyond score.psi_fail ({psi_fail}) in: " + ", ".join(drift.failed_features)


def _drift_sentences(table: pd.DataFrame, sp: ScoreParams) -> tuple[str, ...]:
    return tuple(
        f"{r.feature} ({r.model} model) has shifted from the training data: PSI {r.psi:.2f} "
        f"(warn > {sp.psi_warn}, fail > {sp.psi_fail}); median {r.train_median:.3g} in training, "
        f"{r.scored_median:.3g} in the last {sp.drift_weeks} weeks"
        for r in table[table["psi"] > sp.psi_warn].itertuples()
    )


def check_drift(
    panel: pd.DataFrame,
    models: Mapping[str, LoadedModel],
    week_end: pd.Timestamp,
    athletes: Collection[str],
    params: Params,
) -> DriftCheck:
    """PSI per model feature of ``athletes``' last ``score.drift_weeks`` weeks (steadier than one
    week's snapshot) against each model's training reference; the transfer model only on rows
    where a strength block runs. Only features with values on both sides are compared: one the
    exports do not provide (no value in these rows, or not in the panel) is "not provided", never
    drift (:attr:`DriftCheck.not_compared`)."""
    from sprintlab.drift import drift_table
    from sprintlab.models.datasets import feature_matrix

    sp = params.score
    recent = panel[
        (panel["week_end"] > week_end - pd.Timedelta(weeks=sp.drift_weeks))
        & panel["athlete_id"].isin(athletes)
    ]
    rows = recent.sort_values(["week_end", "athlete_id"]).reset_index(drop=True)
    parts, not_checked, not_compared = [], [], {}
    for target, cm in models.items():
        if cm.drift_reference is None:
            not_checked.append(
                f"drift not checked for {cm.name} v{cm.version}: no training reference was logged "
                "with the model (see docs/scoring.md)"
            )
            continue
        left_out = _not_comparable(rows, cm, sp.drift_weeks)
        if left_out:
            not_compared[target] = left_out
        if TARGETS[target].needs_strength_block:
            selected = rows[in_strength_block(rows, params.targets.transfer.min_strength_gain)]
        else:
            selected = rows
        X = feature_matrix(selected, [f for f in cm.feature_names if f not in left_out])
        if len(X) >= sp.psi_min_rows and X.shape[1]:
            parts.append(
                drift_table(cm.drift_reference, X, min_per_bin=sp.psi_min_per_bin).assign(model=target)
            )
    table = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["model", "feature", "psi"])
    )
    failed = tuple(sorted(set(table.loc[table["psi"] > sp.psi_fail, "feature"])))
    return DriftCheck(table, _drift_sentences(table, sp), tuple(not_checked), failed, not_compared)


NOT_PROVIDED = "not provided"
NOT_IN_TRAINING = "no value in the training data"


def _not_comparable(rows: pd.DataFrame, cm: LoadedModel, weeks: int) -> dict[str, str]:
    """The model's features that cannot be compared, with why: not provided by the exports (not in
    the panel, or no value in the scored athletes' last ``weeks`` weeks, ``rows``) or without a
    value in the training reference."""
    reference = (cm.drift_reference or {}).get("features", {})
    out = {}
    for f in cm.feature_names:
        if f not in rows:
            out[f] = f"{NOT_PROVIDED}: not in the feature panel built from these exports"
        elif len(rows) and rows[f].isna().all():
            out[f] = f"{NOT_PROVIDED}: no value in the scored athletes' last {weeks} weeks"
        elif f in reference and reference[f]["n"] and reference[f]["missing"] == reference[f]["n"]:
            out[f] = NOT_IN_TRAINING
    return out


# ------------------------------------------------------------------ history
def read_history(path: Path) -> pd.DataFrame | None:
    """The score history at ``path`` (``None`` when there is none yet). A file that cannot be read
    or lacks the history columns is refused (exit 7) naming it, before the run does any work."""
    if not path.exists():
        return None
    try:
        hist = pd.read_parquet(path)
    except Exception as err:  # noqa: BLE001 - pyarrow raises several types for a damaged file
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ScoringError(
            f"score history {path} is corrupted ({detail}); nothing was changed - restore the previous "
            f"generation ({path.with_name(path.stem + '.previous.parquet')}) or move the file away",
            EXIT_OUTPUT,
        ) from err
    missing = [c for c in HISTORY_COLUMNS if c not in hist.columns]
    if missing:
        raise ScoringError(
            f"score history {path} is corrupted (missing column(s) {', '.join(missing)}); nothing was changed",
            EXIT_OUTPUT,
        )
    return hist


def update_history(old: pd.DataFrame | None, scores: pd.DataFrame, model_version: str) -> pd.DataFrame:
    """The history with this week: this week's rows for this model version (keyed by athlete, week,
    model version) replaced, everything else kept; sorted, so byte-identical when nothing changed."""
    new = scores.assign(model_version=model_version)[HISTORY_COLUMNS]
    if old is not None:
        same = (old["week"].isin(new["week"].unique())) & (old["model_version"] == model_version)
        hist = pd.concat([old[~same], new], ignore_index=True) if (~same).any() else new
    else:
        hist = new
    hist = _history_types(hist).sort_values(["week_end", "athlete_id", "model_version"], kind="mergesort")
    hist = hist.reset_index(drop=True)
    assert not hist.duplicated(HISTORY_KEY).any(), (
        "score history must have one row per (athlete, week, model version)"
    )
    return hist


def _history_types(h: pd.DataFrame) -> pd.DataFrame:
    return h.astype(
        {
            "athlete_id": "string",
            "week": "string",
            "week_end": "string",
            "model_version": "string",
            "hamstring_risk": "float64",
            "hamstring_flag": "boolean",
            "transfer_probability": "float64",
            "dominant_family_hamstring": "string",
            "dominant_family_transfer": "string",
            "insufficient_data": "bool",
        }
    )


def history_for_report(
    hist: pd.DataFrame, model_version: str, week_end: pd.Timestamp, weeks: int
) -> pd.DataFrame:
    """Per athlete and week, one hamstring risk for the trend chart: this model version's score
    when there is one, else the latest other version's."""
    h = hist.copy()
    h["week_end"] = pd.to_datetime(h["week_end"])
    h = h[(h["week_end"] > week_end - pd.Timedelta(weeks=weeks)) & (h["week_end"] <= week_end)]
    h["_pref"] = (h["model_version"] == model_version).astype(int)
    h = h.sort_values(["athlete_id", "week_end", "_pref", "model_version"], kind="mergesort")
    h = h.drop_duplicates(["athlete_id", "week_end"], keep="last")
    return (
        h[["athlete_id", "week_end", "hamstring_risk"]].astype({"athlete_id": object}).reset_index(drop=True)
    )


def _write_history(target: Path, hist: pd.DataFrame, previous: Path | None) -> Path:
    """Write the history to ``target`` with the generation it replaces beside it
    (``score_history.previous.parquet``) for rollback."""
    if previous is not None and previous.exists():
        keep = target.with_name(target.stem + ".previous.parquet")
        write_bytes_atomic(keep, previous.read_bytes())
    return write_table_atomic(hist, target)


# ------------------------------------------------------------------ the command's work
@dataclass(frozen=True)
class ScoreResult:
    """What one ``sprintlab score`` run produced (exit 0, or 5 on hard drift).

    ``refused``: the models not scored this week, each with its own exit code and reason;
    ``notes``: features left out of the drift check (not provided by the exports) and the factor
    families a model could not assess; ``model_note``: the label of scores made by a model trained
    on simulated athletes (``--allow-simulated-model``), else ``None``; ``flag_rule``: the hamstring
    flag's rule this week (:meth:`sprintlab.models.flag_policy.FlagPolicy.describe`).
    """

    exit_code: int
    week: str
    scores: pd.DataFrame
    drift: pd.DataFrame
    warnings: tuple[str, ...] = ()
    paths: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    message: str = ""
    refused: dict[str, Refusal] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    model_note: str | None = None
    flag_rule: str = ""  # who the hamstring flag marks this week (FlagPolicy.describe)


class _Steps:
    """Times each step; shows a rich progress line per step when a Progress is given."""

    def __init__(self, progress: Any = None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, key: str, description: str) -> Iterator[None]:
        task = self.progress.add_task(description, total=1) if self.progress is not None else None
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - t0
            if task is not None:
                self.progress.update(task, completed=1)


def training_reference(models: Mapping[str, LoadedModel]) -> dict[str, Any] | None:
    """The summary of the validated training tables' contract columns the models carry (the first
    model's that has one; both models train on the same tables), ``None`` when none does (a model
    trained before it was stored: the unit-slip check against the training data is then skipped)."""
    from sprintlab.contract.plausibility import REFERENCE_KEY

    for cm in models.values():
        found = (cm.drift_reference or {}).get(REFERENCE_KEY)
        if found:
            return dict(found)
    return None


def _validate(
    data_dir: str | Path | None,
    stage: Path,
    out_dir: Path,
    params: Params,
    reference: dict[str, Any] | None = None,
) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """The contract tables of ``data_dir`` (validation outputs written to ``stage/validated``) and a
    note on rejected rows; refuses (exit 2) when there is no folder or a required table is missing
    or wholly rejected (its validation outputs are then kept in ``OUT/last_refusal/validated``).
    ``reference``: the models' training summary of the contract columns; a column that looks like a
    unit slip against it is rejected with the reason (:mod:`sprintlab.contract.plausibility`)."""
    from sprintlab.contract.tables import TABLES
    from sprintlab.contract.validate import validate_folder

    if data_dir is None:
        raise ScoringError("invalid data: no data folder given", EXIT_INVALID_DATA)
    try:
        res = validate_folder(
            data_dir,
            stage / "validated",
            today=params.validate_.today,
            reference=reference,
            reference_params=params.score,
            check_schema=False,
        )
    except DataError as err:
        raise ScoringError(f"invalid data: {err}", EXIT_INVALID_DATA) from err
    missing = [n for n, spec in TABLES.items() if spec.required and n not in res.tables]
    if missing:
        head = "; ".join(res.problems["reason"].astype(str).head(5))
        raise ScoringError(
            f"invalid data: required table(s) {', '.join(missing)} missing or wholly rejected "
            f"({head}); see {out_dir / REFUSAL_DIR / 'validated' / 'validation_report.json'}",
            EXIT_INVALID_DATA,
        )
    notes = []
    n_rej = sum(c.get("rejected", 0) for c in res.counts.values())
    if n_rej:
        notes.append(
            f"{n_rej} row(s) rejected by the data contract were left out of scoring and kept in "
            f"{out_dir / 'validated' / 'rejected_rows.csv'}"
        )
    notes += _column_notes(res.problems)
    if reference is None:
        notes.append(
            "exports not checked for unit slips against the training data: the models carry no "
            "summary of their training tables (retrain to store one)"
        )
    return res.tables, notes


def _column_notes(problems: pd.DataFrame) -> list[str]:
    """One note per column-level finding (a unit slip against the training data, swapped columns):
    the reason once, with the number of cells it rejected."""
    if problems.empty:
        return []
    found = problems[problems["reason"].str.contains("training median|look swapped", regex=True)]
    counts = found.groupby("reason", sort=True).size()
    return [f"{reason} ({n} cell(s) rejected or emptied)" for reason, n in counts.items()]


def _weeks_back(sp: ScoreParams, report: bool) -> int:
    """Panel weeks the run needs: the report's trend, the drift window and the own-usual window."""
    return max(sp.history_weeks if report else 1, sp.drift_weeks, sp.own_usual_weeks + 1)


def week_panel(
    tables: dict[str, pd.DataFrame],
    week_end: pd.Timestamp,
    params: Params,
    *,
    weeks_back: int,
    engine: str = "local",
    master: str | None = None,
) -> pd.DataFrame:
    """The feature panel of the ``weeks_back`` weeks up to ``week_end`` (pandas or Spark engine)."""
    from sprintlab.features.panel import build_panel

    if engine == "spark":
        from sprintlab.engines.spark import spark_week_panel

        return spark_week_panel(
            tables,
            week_end,
            weeks_back=weeks_back,
            master=master,
            wellness_baseline_days=params.features.wellness_baseline_days,
        )
    panel = build_panel(
        tables,
        end=week_end,
        wellness_baseline_days=params.features.wellness_baseline_days,
        chunk_athletes=params.features.chunk_athletes,
        insitu=params.insitu,
    ).panel
    return panel[panel["week_end"] > week_end - pd.Timedelta(weeks=weeks_back)].reset_index(drop=True)


def _spark_probabilities(
    panel: pd.DataFrame, week_end: pd.Timestamp, models: Mapping[str, LoadedModel], master: str | None
) -> dict[str, np.ndarray]:
    from sprintlab.engines.spark import spark_predict

    rows = panel[panel["week_end"] == week_end].sort_values("athlete_id").reset_index(drop=True)
    return spark_predict(rows, dict(models), master=master)


def _score_with_activity(
    panel: pd.DataFrame,
    models: Mapping[str, LoadedModel],
    week_end: pd.Timestamp,
    activity: pd.DataFrame,
    params: Params,
    proba: Mapping[str, np.ndarray] | None,
) -> ScoredWeek:
    """:func:`score_week`, then "insufficient data" for athletes with too few recent record days."""
    sp = params.score
    scored = score_week_with(params, panel, {t: m.model for t, m in models.items()}, week_end, proba=proba)
    ids = scored.squad["athlete_id"]
    return mark_insufficient(
        scored,
        set(ids[too_few_recent_days(ids, activity, sp)]),
        f"fewer than {sp.min_recent_days} days with records in the last {sp.recent_days} days",
        hamstring_flag_policy(params),
    )


def too_few_recent_days(ids: pd.Series, activity: pd.DataFrame, sp: ScoreParams) -> np.ndarray:
    """Whether each athlete of ``ids`` has fewer than ``score.min_recent_days`` days with records
    (:func:`recent_activity`): "insufficient data" in ``sprintlab score``."""
    days = activity["recent_days_with_data"].reindex(ids).fillna(0).to_numpy()
    return np.asarray(days < sp.min_recent_days, dtype=bool)


def week_hamstring_flags(
    params: Params,
    panel: pd.DataFrame,
    model: Classifier,
    week_end: pd.Timestamp,
    activity: pd.DataFrame,
) -> pd.Series:
    """Who ``sprintlab score`` flags in the week ending ``week_end`` (athlete id -> flag), without
    the explanations: the week's hamstring risks, "insufficient data" for too many missing inputs
    or too few recent record days, then :func:`hamstring_flag_policy` over the rest (a weekly top
    share ranks the whole squad, so one athlete's flag needs everyone's risk)."""
    from sprintlab.models.datasets import feature_matrix

    rows = _week_rows(panel, week_end, None)
    X = feature_matrix(rows, list(model.feature_names_in_))
    thin = (X.isna().mean(axis=1).to_numpy() > params.score.max_missing_share) | too_few_recent_days(
        rows["athlete_id"].astype(str), activity, params.score
    )
    risk = model.predict_proba(X)[:, 1] if len(rows) else np.zeros(0)
    flags = hamstring_flag_policy(params).flags(risk, ~thin)
    return pd.Series(flags, index=rows["athlete_id"].astype(str).to_numpy(), name="hamstring_flag")


def _summary(
    week_end: pd.Timestamp, scores: pd.DataFrame, drift: DriftCheck, warnings: list[str], week: _Week
) -> dict[str, Any]:
    """``score_summary.json``; the keys after ``history_updated`` appear only when they say something:
    models refused (each with its exit code and reason), features a model could not assess,
    features left out of the drift check, and the label of scores made by a simulated model."""
    summary: dict[str, Any] = {
        "week": iso_week_label(week_end),
        "week_end": str(week_end.date()),
        "exit_code": EXIT_DRIFT if drift.hard else EXIT_OK,
        "model_version": model_version_label(week.models.scoring),
        "athletes": int(len(scores)),
        "insufficient_data": int(scores["insufficient_data"].sum()),
        "flagged": int(scores["hamstring_flag"].fillna(False).sum()),
        "warnings": warnings,
        "drift_warnings": list(drift.warnings),
        "history_updated": not drift.hard,
    }
    optional = {
        "models_refused": {t: r.to_json() for t, r in week.models.refused.items()},
        "features_not_assessed": {
            t: m.not_assessed for t, m in week.models.scoring.items() if m.not_assessed
        },
        "drift_not_compared": drift.not_compared,
        MODEL_NOTE_COLUMN: week.note,
    }
    return {**summary, **{k: v for k, v in optional.items() if v}}


def _write_outputs(
    stage: Path, scores: pd.DataFrame, drift: DriftCheck, summary: dict[str, Any], *, pseudonymise: bool
) -> dict[str, Path]:
    """scores.csv / scores.parquet, drift.csv and score_summary.json into the staging folder; with
    ``pseudonymise`` also ``share/scores.*`` with keyed aliases (the staff files keep the ids)."""
    paths = {
        "scores_csv": write_table_atomic(scores, stage / "scores.csv"),
        "scores_parquet": write_table_atomic(scores, stage / "scores.parquet"),
    }
    if pseudonymise:
        from sprintlab.privacy import pseudonymise_frame

        shared = pseudonymise_frame(scores, "athlete_id")
        paths["share_scores_csv"] = write_table_atomic(shared, stage / SHARE_DIR / "scores.csv")
        paths["share_scores_parquet"] = write_table_atomic(shared, stage / SHARE_DIR / "scores.parquet")
    if len(drift.table):
        paths["drift"] = write_table_atomic(drift.table, stage / "drift.csv")
    paths["summary"] = write_text_atomic(stage / "score_summary.json", json.dumps(summary, indent=2) + "\n")
    return paths


@dataclass(frozen=True)
class _Week:
    """What one run scores with: the week's Sunday, its tables and panel, the models (scoring and
    refused), whether the exports are simulated and the label of a simulated model's scores."""

    week_end: pd.Timestamp
    tables: dict[str, pd.DataFrame]
    panel: pd.DataFrame
    models: WeekModels
    data_simulated: bool
    note: str | None


def _render_week_report(
    params: Params,
    scored: ScoredWeek,
    week: _Week,
    history: pd.DataFrame,
    drift: DriftCheck,
    out_path: Path,
    *,
    pseudonymise: bool,
) -> Path:
    """The week's HTML report, built by the same context builder as the pipeline's report."""
    from sprintlab.report.build import ReportInputs, build_report_context
    from sprintlab.report.render import render_report

    models = week.models.scoring
    week_end = (
        pd.Timestamp(scored.squad["week_end"].iloc[0]) if len(scored.squad) else week.panel["week_end"].max()
    )
    inputs = ReportInputs(
        scored=scored,
        panel=week.panel,
        models=models,
        week_end=week_end,
        history=history_for_report(
            history, model_version_label(models), week_end, params.score.history_weeks
        ),
        drift_warnings=(*drift.warnings, *drift.notes),
        known_limits=SCORE_REPORT_LIMITS,
        simulated=week.data_simulated,
        pseudonymised=pseudonymise,
        not_modelled={t: f"not scored this week: {r.reason}" for t, r in week.models.refused.items()},
        model_note=week.note,
    )
    return render_report(build_report_context(inputs, params), out_path)


def _week(
    tables: dict[str, pd.DataFrame],
    params: Params,
    step: _Steps,
    options: dict[str, Any],
    loaded: WeekModels,
) -> _Week:
    """Pick and cut the week, refuse the ``loaded`` models that may not or cannot score it (a
    simulated model for real exports, a signature the panel lacks), build the panel."""
    week_end = parse_week(options["week"]) if options["week"] else latest_complete_week(tables)
    tables = week_tables(tables, week_end)
    simulated = options["simulated"]
    models = loaded.refuse(
        simulated_model_refusals(loaded.scoring, data_simulated=simulated, allowed=options["allow"])
    ).require_one()
    with step("features", f"building features up to {week_end.date()} ({options['engine']})"):
        weeks_back = _weeks_back(params.score, options["report"])
        panel = week_panel(
            tables,
            week_end,
            params,
            weeks_back=weeks_back,
            engine=options["engine"],
            master=options["master"],
        )
    with step("schema", "checking the feature schema against the models"):
        models = models.refuse(schema_refusals(panel, models.scoring)).require_one()
    note = None if simulated else model_note(models.scoring)
    return _Week(week_end, tables, panel, models, simulated, note)


# ------------------------------------------------------------------ pre-flight
def preflight(
    data_dir: str | Path | None, out_dir: Path, hist_path: Path, *, pseudonymise: bool, engine: str
) -> None:
    """Checks made before any work, each refused with its exit code and a one-line reason naming
    the resource: the pseudonym key (``--pseudonymise``), pyspark (``--engine spark``), a writable
    output folder and history folder, enough free disk, and a reachable model registry."""
    if pseudonymise:
        from sprintlab.privacy import PseudonymKeyError, load_pseudonym_key

        try:
            load_pseudonym_key(required=True)
        except PseudonymKeyError as err:
            raise ScoringError(f"--pseudonymise: {err}", EXIT_ENVIRONMENT) from None
    if engine == "spark" and importlib.util.find_spec("pyspark") is None:
        raise ScoringError(
            "--engine spark needs pyspark, which is not installed (pip install pyspark, or use --engine local)",
            EXIT_ENVIRONMENT,
        )
    for folder in dict.fromkeys([out_dir, hist_path.parent]):
        check_writable(folder)
    _check_disk(data_dir, out_dir)
    _check_registry(os.environ.get("MLFLOW_TRACKING_URI", ""))


def check_writable(folder: Path) -> None:
    """Refuse (exit 7) when a file cannot be created in ``folder`` (if it exists) and beside it,
    where the staging folder goes."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for where in (folder, folder.parent):
            if where.is_dir():
                fd, probe = tempfile.mkstemp(prefix=".sprintlab-probe-", dir=where)
                os.close(fd)
                os.unlink(probe)
    except OSError as err:
        raise ScoringError(
            f"output folder {folder} is not writable: {err.strerror or err}", EXIT_OUTPUT
        ) from None


def _tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0


def _check_disk(data_dir: str | Path | None, out_dir: Path) -> None:
    """Refuse (exit 7) when the output's file system has less free space than twice the inputs
    (validated copies and outputs) plus :data:`MIN_FREE_BYTES`."""
    need = 2 * _tree_bytes(Path(data_dir)) if data_dir is not None else 0
    need += MIN_FREE_BYTES
    free = shutil.disk_usage(out_dir.parent).free
    if free < need:
        raise ScoringError(
            f"not enough disk space for {out_dir}: {free / 2**20:.0f} MiB free, about "
            f"{need / 2**20:.0f} MiB needed; nothing was changed",
            EXIT_OUTPUT,
        )


def _check_registry(uri: str) -> None:
    """Refuse (exit 9) when a SQLite model registry exists but cannot be read (locked, damaged, not a
    database); an absent registry is left to model loading (exit 3, missing model)."""
    if not uri.startswith("sqlite:///"):
        return
    db = Path(uri.removeprefix("sqlite:///"))
    if not db.is_file():
        return
    try:
        con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=2)
        try:
            con.execute("select count(*) from registered_models").fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as err:
        if "no such table" in str(err):
            return
        raise ScoringError(f"model registry {uri} is unreachable: {err}", EXIT_ENVIRONMENT) from None


def score(
    data_dir: str | Path | None,
    out_dir: str | Path,
    params: Params,
    *,
    week: str | None = None,
    model_version: str | None = None,
    engine: str = "local",
    master: str | None = None,
    pseudonymise: bool = False,
    report: bool = True,
    history_path: str | Path | None = None,
    simulated: bool | None = None,
    allow_simulated_model: bool = False,
    progress: Any = None,
    tables: dict[str, pd.DataFrame] | None = None,
) -> ScoreResult:
    """Score one ISO week of ``data_dir``; see the module docstring. Raises :class:`ScoringError`
    for refusals (with ``exit_code``); returns a :class:`ScoreResult` (exit 0, or 5 on hard drift).

    The output folder changes as one unit: :func:`preflight` first, then under the folder's writer
    lock (:func:`sprintlab.io.output_lock`, waiting up to ``score.lock_wait_seconds``, else exit 8)
    everything is written to a staging folder committed with one rename and ``manifest.json``
    (:class:`sprintlab.io.StagedFolder`); a failure or refusal leaves the previous week's folder.

    ``tables`` (already validated contract tables) skips validation - for benchmarks and callers
    that validated the same folder already. ``simulated``: whether the exports are simulated
    (default: the simulator's label beside ``data_dir``, :func:`is_simulated`); a model trained on
    simulated athletes scores exports that are not only with ``allow_simulated_model``, labelled.
    """
    out_dir, step = Path(out_dir), _Steps(progress)
    hist_path = Path(history_path) if history_path else out_dir / HISTORY_FILE
    with step("preflight", "checking the key, engine, output folder, disk space and registry"):
        preflight(data_dir, out_dir, hist_path, pseudonymise=pseudonymise, engine=engine)
    simulated = is_simulated(data_dir) if simulated is None else simulated
    options = dict(week=week, model_version=model_version, engine=engine, master=master, report=report)
    options |= dict(simulated=simulated, allow=allow_simulated_model, pseudonymise=pseudonymise)
    run = _Run(data_dir, out_dir, hist_path, params, step, options)
    try:
        with output_lock(out_dir, params.score.lock_wait_seconds):
            recover_folder(out_dir)
            return _score_locked(run, tables)
    except OutputBusy as err:
        raise ScoringError(str(err), EXIT_BUSY) from None


@dataclass(frozen=True)
class _Run:
    """One ``sprintlab score`` run: where it reads and writes, its parameters and options."""

    data_dir: str | Path | None
    out_dir: Path
    hist_path: Path
    params: Params
    step: _Steps
    options: dict[str, Any]

    @property
    def staged_history(self) -> str | None:
        """The history's path inside the output folder (staged with it), or None when outside."""
        try:
            return self.hist_path.resolve().relative_to(self.out_dir.resolve()).as_posix()
        except ValueError:
            return None


def _score_locked(run: _Run, tables: dict[str, pd.DataFrame] | None) -> ScoreResult:
    """Under the writer lock: read the history (a corrupted one stops the run before any work),
    score into a staging folder, carry the previous generation's other files, commit."""
    old_history = read_history(run.hist_path)
    with StagedFolder(run.out_dir) as stage:
        try:
            res, history = _score_into(stage.path, run, tables, old_history)
        except ScoringError:
            _keep_refusal(stage.path, run.out_dir)
            raise
        stage.carry(lambda rel: rel not in RUN_OUTPUTS and not rel.startswith("validated/"))
        rel = run.staged_history
        if history is not None and rel is not None:
            res.paths["history"] = _write_history(stage.path / rel, history, run.hist_path)
        info = {"week": res.week, "exit_code": res.exit_code, "written_by": "sprintlab score"}
        stage.commit(info)
    paths = {k: run.out_dir / p.relative_to(stage.path) for k, p in res.paths.items()}
    if history is not None and rel is None:
        paths["history"] = _write_history(run.hist_path, history, run.hist_path)
    return replace(res, paths=paths)


def _keep_refusal(stage: Path, out_dir: Path) -> None:
    """A refused run's validation outputs, committed as ``OUT/last_refusal/validated`` (the
    scores, summary, history and reports of the previous week stay as they were)."""
    validated = stage / "validated"
    if not validated.is_dir():
        return
    with StagedFolder(out_dir / REFUSAL_DIR) as unit:
        os.rename(validated, unit.path / "validated")
        unit.commit({"written_by": "sprintlab score (refused)"})


def _score_into(
    stage: Path, run: _Run, tables: dict[str, pd.DataFrame] | None, old_history: pd.DataFrame | None
) -> tuple[ScoreResult, pd.DataFrame | None]:
    """Validate, score, check drift and write every output of the week into ``stage``; returns the
    result (paths inside ``stage``) and the updated history (``None`` on hard drift)."""
    params, step, opt = run.params, run.step, run.options
    with step("models", "loading champion models from the MLflow registry"):
        loaded = load_registered_models(opt["model_version"])
    with step("validate", "validating exports against the data contract and the training data"):
        tables, warnings = (
            (tables, [])
            if tables is not None
            else _validate(run.data_dir, stage, run.out_dir, params, training_reference(loaded.scoring))
        )
    wk = _week(tables, params, step, opt, loaded)
    models, week_end = wk.models.scoring, wk.week_end
    proba = None
    if opt["engine"] == "spark":
        with step("predict", "scoring with mlflow.pyfunc.spark_udf"):
            proba = _spark_probabilities(wk.panel, week_end, models, opt["master"])
    with step("score", "scoring and explaining (SHAP)"):
        activity = recent_activity(wk.tables, week_end, params.score.recent_days)
        scored = _score_with_activity(wk.panel, models, week_end, activity, params, proba)
        scores = scores_frame(scored, activity, models, week_end)
        if wk.note:
            scores[MODEL_NOTE_COLUMN] = wk.note
    with step("drift", "checking feature drift against the training data"):
        ok = scores.loc[~scores["insufficient_data"], "athlete_id"]
        drift = check_drift(wk.panel, models, week_end, set(ok), params)
        warnings = [*warnings, *wk.models.sentences(), *drift.not_checked]
    with step("write", "writing scores"):
        summary = _summary(week_end, scores, drift, warnings, wk)
        paths = _write_outputs(stage, scores, drift, summary, pseudonymise=opt["pseudonymise"])
    version = model_version_label(models)
    history = None if drift.hard else update_history(old_history, scores, version)
    if opt["report"]:
        with step("report", "rendering the weekly report"):
            shown = history if history is not None else old_history
            if shown is None:
                shown = scores.assign(model_version=version)[HISTORY_COLUMNS]
            folder = stage / SHARE_DIR if opt["pseudonymise"] else stage
            paths["report"] = _render_week_report(
                params,
                scored,
                wk,
                shown,
                drift,
                folder / f"report_{iso_week_label(week_end)}.html",
                pseudonymise=opt["pseudonymise"],
            )
    res = ScoreResult(
        summary["exit_code"],
        iso_week_label(week_end),
        scores,
        drift.table,
        (*warnings, *drift.warnings),
        paths,
        step.timings,
        _drift_failure(drift, params.score.psi_fail),
        dict(wk.models.refused),
        (*drift.notes, *_coverage_notes(models)),
        wk.note,
        hamstring_flag_policy(params).describe(
            int((scores["hamstring_risk"].notna() & ~scores["insufficient_data"]).sum())
        ),
    )
    return res, history


def _coverage_notes(models: Mapping[str, LoadedModel]) -> tuple[str, ...]:
    """Per model, the factor families its training data left not (or partly) assessed."""
    return tuple(f"{t} model, {line}" for t, m in models.items() for line in m.coverage.sentences())
