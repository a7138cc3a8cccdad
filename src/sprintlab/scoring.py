"""Weekly scoring of new exports with the registered champion models (``sprintlab score``).

One call of :func:`score` does, in order: validate the exports with the data contract (rejected
rows are written to ``OUT/validated/rejected_rows.csv``, nothing is dropped silently); truncate
every table at the scored week's Sunday and build the feature panel with the training code
(:func:`sprintlab.features.panel.build_panel`); load the ``champion`` models (or an explicit
version) from the MLflow registry; refuse when the panel does not carry the model's signature;
score and explain the week (:func:`score_week`); check feature drift against the training
reference (:mod:`sprintlab.drift`); write ``scores.csv``/``scores.parquet``, the week's HTML
report and the score history. Exit codes: see ``EXIT_*`` below and ``docs/scoring.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import FAMILIES, TARGETS, iso_week_label
from sprintlab.io import DataError, write_table_atomic, write_text_atomic

log = logging.getLogger(__name__)


EXIT_OK = 0
EXIT_INVALID_DATA = 2
EXIT_MISSING_MODEL = 3
EXIT_SCHEMA_MISMATCH = 4
EXIT_DRIFT = 5
EXIT_CODES = {
    EXIT_OK: "scored (drift warnings, if any, are in the output and the report)",
    EXIT_INVALID_DATA: "invalid data: folder missing, a required table missing or wholly rejected, or no data in the week",
    EXIT_MISSING_MODEL: "missing model: no champion (or the requested version) in the MLflow registry",
    EXIT_SCHEMA_MISMATCH: "schema mismatch: the features built from the data do not match the model's signature",
    EXIT_DRIFT: "drift beyond score.psi_fail: scores and report written and flagged, history not updated",
}

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


class ScoringError(Exception):
    """A refusal with its documented exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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


# ------------------------------------------------------------------ models
@dataclass
class ChampionModel:
    """A registered model as loaded for scoring."""

    target: str
    name: str
    version: str
    run_id: str | None
    model: object
    signature: list[tuple[str, str]]
    reference: dict | None = None
    alias: str = "champion"

    @property
    def uri(self) -> str:
        return f"models:/{self.name}/{self.version}"


def _version_for(target: str, model_version: str | None) -> str | None:
    """``--model-version``: ``N`` (both models) or ``hamstring=N,transfer=M`` (either may be omitted)."""
    if not model_version:
        return None
    text = str(model_version).strip()
    if "=" not in text:
        return text
    parts = dict(p.split("=", 1) for p in text.split(",") if "=" in p)
    return parts.get(target)


def load_models(model_version: str | None = None) -> dict[str, ChampionModel]:
    """Load both models by alias ``champion`` (or the requested version) with signature and drift reference."""
    from sprintlab.drift import load_reference
    from sprintlab.tracking import CHAMPION, _client, tracking_uri

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mlflow, client = _client()
    out = {}
    for target in TARGETS:
        name = TARGETS[target].registered_name
        version = _version_for(target, model_version)
        label = f"{name} version {version}" if version else f"{name}@{CHAMPION}"
        try:
            mv = (
                client.get_model_version(name, version)
                if version
                else client.get_model_version_by_alias(name, CHAMPION)
            )
            uri = f"models:/{name}/{mv.version}"
            model = mlflow.sklearn.load_model(uri)
            info = mlflow.models.get_model_info(uri)
        except Exception as err:  # noqa: BLE001 - every registry failure is "model missing" for the user
            raise ScoringError(
                f"no model {label} in the MLflow registry at {tracking_uri()}; train one with "
                f"`dvc repro` (or set MLFLOW_TRACKING_URI). Detail: {str(err).splitlines()[0]}",
                EXIT_MISSING_MODEL,
            ) from err
        sig = []
        if info.signature is not None and info.signature.inputs is not None:
            sig = [(c.name, str(getattr(c.type, "name", c.type))) for c in info.signature.inputs.inputs]
        out[target] = ChampionModel(
            target,
            name,
            str(mv.version),
            mv.run_id,
            model,
            sig,
            load_reference(mv.run_id),
            CHAMPION if not version else "-",
        )
    return out


_NUMERIC_SIG = {"double", "float", "long", "integer", "boolean"}


def check_schema(panel: pd.DataFrame, models: dict[str, ChampionModel]) -> None:
    """Refuse (exit 4) unless the panel has every input of each model's signature, numeric, in the
    order the model was fitted with."""
    problems = []
    for cm in models.values():
        names = [n for n, _ in cm.signature] or list(cm.model.feature_names_in_)
        fitted = list(getattr(cm.model, "feature_names_in_", names))
        if fitted != names:
            problems.append(
                f"{cm.name} v{cm.version}: logged signature {names} differs from the fitted features {fitted}"
            )
        missing = [n for n in names if n not in panel.columns]
        if missing:
            problems.append(
                f"{cm.name} v{cm.version} needs features the data cannot provide: {', '.join(missing)}"
            )
        for n, t in cm.signature:
            if n in panel.columns and t not in _NUMERIC_SIG:
                problems.append(f"{cm.name} v{cm.version}: signature type of {n} is {t}, expected a number")
        bad = [
            n
            for n in names
            if n in panel.columns
            and not (pd.api.types.is_numeric_dtype(panel[n]) or pd.api.types.is_bool_dtype(panel[n]))
        ]
        if bad:
            problems.append(
                f"{cm.name} v{cm.version}: non-numeric feature columns {', '.join(bad)} "
                f"(dtypes {[str(panel[b].dtype) for b in bad]})"
            )
    if problems:
        raise ScoringError(
            "feature schema does not match the model:\n  "
            + "\n  ".join(problems)
            + "\n(a table the model was trained with is missing, or the features changed since "
            "training: retrain, or score with the matching --model-version)",
            EXIT_SCHEMA_MISMATCH,
        )


# ------------------------------------------------------------------ scoring one week
def score_week(
    panel: pd.DataFrame,
    models: dict,
    week_end: pd.Timestamp,
    *,
    min_strength_gain: float,
    flag_threshold: float,
    top_k: int = 3,
    athletes: list[str] | None = None,
    max_missing_share: float = 0.5,
    proba: dict[str, np.ndarray] | None = None,
    own_usual_weeks: int = 26,
) -> dict[str, pd.DataFrame]:
    """Score one week: hamstring risk for everyone, transfer chance where a strength block runs.

    A strength block is "running" when squat strength has risen by at least half the transfer
    threshold since the last sprint test and that test is at least 14 days old. An athlete with
    more than ``max_missing_share`` of a model's features missing gets "insufficient data" rather
    than a guess. ``proba`` (per target, aligned with the week's rows sorted by athlete) replaces
    ``model.predict_proba`` - the Spark engine passes the probabilities its UDF computed. Driver
    sentences compare each value with the athlete's own usual value: the median over the panel's
    weeks in the ``own_usual_weeks`` before ``week_end``.
    """
    from sprintlab.explain import explain_units, own_usual_values
    from sprintlab.models.datasets import feature_matrix

    rows = panel[panel["week_end"] == week_end]
    if athletes is not None:
        rows = rows[rows["athlete_id"].isin(athletes)]
    rows = rows.sort_values("athlete_id").reset_index(drop=True)
    squad = rows[["athlete_id", "week_end"]].copy()
    drivers, fams, longs = [], [], []
    # the scored athletes' own usual values, once for the features of both models
    usual = own_usual_values(
        panel[panel["athlete_id"].isin(rows["athlete_id"])],
        week_end,
        own_usual_weeks,
        sorted({f for t in TARGETS for f in models[t].feature_names_in_}),
    )
    for target in TARGETS:
        model = models[target]
        X = feature_matrix(rows, list(model.feature_names_in_))
        missing = X.isna().mean(axis=1).to_numpy()
        p = proba[target] if proba is not None else model.predict_proba(X)[:, 1]
        ex = explain_units(model, rows, target, top_k=top_k, own_usual=usual)
        dom = ex.families["dominant_family"].to_numpy()
        if target == "hamstring":
            squad["insufficient_data"] = missing > max_missing_share
            squad["hamstring_risk"] = np.where(squad["insufficient_data"], np.nan, p)
            squad["hamstring_flag"] = squad["hamstring_risk"] >= flag_threshold
            squad["dominant_family_hamstring"] = np.where(squad["insufficient_data"], None, dom)
        else:
            running = _in_block(rows, min_strength_gain)
            squad["in_strength_block"] = running
            squad["transfer_probability"] = np.where(running & (missing <= max_missing_share), p, np.nan)
            squad["dominant_family_transfer"] = np.where(running, dom, None)
        keep = squad["athlete_id"].to_numpy()
        d = ex.drivers.assign(model=target)
        if target == "transfer" and len(d):
            d = d[d["athlete_id"].isin(keep[squad["in_strength_block"].to_numpy()])]
        drivers.append(d.drop(columns=["row"], errors="ignore"))
        # squad-level explanations cover only the athletes whose number this week shows: no transfer
        # picture from athletes outside a strength block, no risk picture from "insufficient data"
        shown = set(
            keep[(squad["transfer_probability"] if target == "transfer" else squad["hamstring_risk"]).notna()]
        )
        f = ex.families.melt(
            id_vars=["athlete_id"],
            value_vars=[c for c in ex.families.columns if c in FAMILIES],
            var_name="family",
            value_name="shap",
        )
        fams.append(f[f["athlete_id"].isin(shown)].assign(model=target))
        lg = ex.long.drop(columns=["row"])
        longs.append(lg[lg["athlete_id"].isin(shown)].assign(model=target))
    ages = [c for c in ("sprint_test_age_days", "screen_age_days", "nordic_test_age_days") if c in rows]
    squad["data_freshness_days"] = rows[ages].min(axis=1).to_numpy() if ages else np.nan
    return {
        "squad": squad,
        "drivers": pd.concat(drivers, ignore_index=True),
        "families": pd.concat(fams, ignore_index=True),
        "long": pd.concat(longs, ignore_index=True),
    }


def mark_insufficient(scored: dict[str, pd.DataFrame], athletes: set[str], reason: str) -> None:
    """Turn the scores of ``athletes`` into "insufficient data" (no risk, no flag, no drivers, and
    no part in the squad-level explanations)."""
    sq = scored["squad"]
    m = sq["athlete_id"].isin(athletes).to_numpy() & ~sq["insufficient_data"].to_numpy()
    sq.loc[m, "insufficient_data"] = True
    sq.loc[m, ["hamstring_risk", "transfer_probability"]] = np.nan
    sq.loc[m, "hamstring_flag"] = False
    sq.loc[m, ["dominant_family_hamstring", "dominant_family_transfer"]] = None
    sq.loc[m, "insufficient_reason"] = reason
    thin = set(sq.loc[sq["insufficient_data"], "athlete_id"])
    for part in ("drivers", "families", "long"):
        d = scored[part]
        scored[part] = d[~d["athlete_id"].isin(thin)].reset_index(drop=True)


def _driver_text(drivers: pd.DataFrame, model: str) -> pd.Series:
    d = drivers[drivers["model"] == model].sort_values(["athlete_id", "rank"], kind="mergesort")
    return d.groupby("athlete_id")["text"].agg(lambda s: " | ".join(s))


def scores_frame(
    scored: dict[str, pd.DataFrame],
    activity: pd.DataFrame,
    models: dict[str, ChampionModel],
    week_end: pd.Timestamp,
) -> pd.DataFrame:
    """The flat per-athlete output written to scores.csv / scores.parquet."""
    sq = scored["squad"].copy()
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
        out[f"top_drivers_{m}"] = ids.map(_driver_text(scored["drivers"], m)).astype("string")
        out[f"model_version_{m}"] = models[m].version
    out["data_freshness_days"] = sq["data_freshness_days"].astype(float)
    act = activity.reindex(ids)
    out["last_record_date"] = (
        pd.to_datetime(act["last_record_date"]).dt.strftime("%Y-%m-%d").astype("string").to_numpy()
    )
    out["recent_days_with_data"] = act["recent_days_with_data"].fillna(0).astype(int).to_numpy()
    out["insufficient_data"] = sq["insufficient_data"].astype(bool)
    out["insufficient_reason"] = sq.get("insufficient_reason", pd.Series(None, index=sq.index)).astype(
        "string"
    )
    return out[SCORE_COLUMNS].reset_index(drop=True)


def model_version_label(models: dict[str, ChampionModel]) -> str:
    return ";".join(f"{t}=v{models[t].version}" for t in ("hamstring", "transfer"))


# ------------------------------------------------------------------ history
def update_history(path: Path, scores: pd.DataFrame, model_version: str) -> pd.DataFrame:
    """Replace this week's rows for this model version (keyed by athlete, week, model version) and
    keep everything else; written atomically, sorted, byte-identical when nothing changed."""
    new = scores.assign(model_version=model_version)[HISTORY_COLUMNS]
    if path.exists():
        old = pd.read_parquet(path)
        same = (old["week"].isin(new["week"].unique())) & (old["model_version"] == model_version)
        hist = pd.concat([old[~same], new], ignore_index=True) if (~same).any() else new
    else:
        hist = new
    hist = _history_types(hist).sort_values(["week_end", "athlete_id", "model_version"], kind="mergesort")
    hist = hist.reset_index(drop=True)
    assert not hist.duplicated(HISTORY_KEY).any(), (
        "score history must have one row per (athlete, week, model version)"
    )
    write_table_atomic(hist, path)
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
    hist: pd.DataFrame, athletes: list[str], model_version: str, week_end: pd.Timestamp, weeks: int
) -> pd.DataFrame:
    """Per athlete and week, one hamstring risk for the trend chart: this model version's score
    when there is one, else the latest other version's."""
    h = hist[hist["athlete_id"].isin(athletes)].copy()
    h["week_end"] = pd.to_datetime(h["week_end"])
    h = h[(h["week_end"] > week_end - pd.Timedelta(weeks=weeks)) & (h["week_end"] <= week_end)]
    h["_pref"] = (h["model_version"] == model_version).astype(int)
    h = h.sort_values(["athlete_id", "week_end", "_pref", "model_version"], kind="mergesort")
    h = h.drop_duplicates(["athlete_id", "week_end"], keep="last")
    return (
        h[["athlete_id", "week_end", "hamstring_risk"]].astype({"athlete_id": object}).reset_index(drop=True)
    )


# ------------------------------------------------------------------ the command's work
@dataclass
class ScoreResult:
    exit_code: int
    week: str
    scores: pd.DataFrame | None = None
    drift: pd.DataFrame | None = None
    warnings: list[str] = field(default_factory=list)
    paths: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    message: str = ""


class _Steps:
    """Times each step; shows a rich progress line per step when a Progress is given."""

    def __init__(self, progress=None) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def __call__(self, key: str, description: str):
        task = self.progress.add_task(description, total=1) if self.progress is not None else None
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[key] = self.timings.get(key, 0.0) + time.perf_counter() - t0
            if task is not None:
                self.progress.update(task, completed=1)


def _validate(data_dir: Path, out_dir: Path, today) -> tuple[dict[str, pd.DataFrame], list[str]]:
    from sprintlab.contract.tables import TABLES
    from sprintlab.contract.validate import validate_folder

    try:
        res = validate_folder(data_dir, out_dir / "validated", today=today)
    except DataError as err:
        raise ScoringError(f"invalid data: {err}", EXIT_INVALID_DATA) from err
    missing = [n for n, spec in TABLES.items() if spec.required and n not in res.tables]
    if missing:
        head = "; ".join(res.problems["reason"].astype(str).head(5))
        raise ScoringError(
            f"invalid data: required table(s) {', '.join(missing)} missing or wholly rejected "
            f"({head}); see {out_dir / 'validated' / 'validation_report.json'}",
            EXIT_INVALID_DATA,
        )
    notes = []
    n_rej = sum(c.get("rejected", 0) for c in res.counts.values())
    if n_rej:
        notes.append(
            f"{n_rej} row(s) rejected by the data contract were left out of scoring and kept in "
            f"{out_dir / 'validated' / 'rejected_rows.csv'}"
        )
    return res.tables, notes


def score(
    data_dir: str | Path,
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
    progress=None,
    tables: dict[str, pd.DataFrame] | None = None,
) -> ScoreResult:
    """Score one ISO week of ``data_dir``; see the module docstring. Raises :class:`ScoringError`
    for refusals (with ``exit_code``); returns a :class:`ScoreResult` (exit 0, or 5 on hard drift).

    ``tables`` (already validated contract tables) skips validation - for benchmarks and callers
    that validated the same folder already.
    """
    from sprintlab.drift import drift_table
    from sprintlab.features.panel import build_panel
    from sprintlab.models.datasets import feature_matrix

    sp = params.score
    out_dir = Path(out_dir)
    step = _Steps(progress)
    warnings: list[str] = []
    with step("validate", "validating exports against the data contract"):
        if tables is None:
            tables, notes = _validate(Path(data_dir), out_dir, params.validate_.today)
            warnings += notes
    week_end = parse_week(week) if week else latest_complete_week(tables)
    label = iso_week_label(week_end)
    tables = truncate_tables(tables, week_end)
    if not any(
        len(df) and (pd.to_datetime(df["date"]) > week_end - pd.Timedelta(days=7)).any()
        for n, df in tables.items()
        if n not in ("athletes", "injuries") and "date" in df
    ):
        raise ScoringError(
            f"invalid data: no records in week {label} (up to {week_end.date()})", EXIT_INVALID_DATA
        )
    with step("models", "loading champion models from the MLflow registry"):
        models = load_models(model_version)
    est = {t: m.model for t, m in models.items()}
    weeks_back = max(sp.history_weeks if report else 1, sp.drift_weeks, sp.own_usual_weeks + 1)
    with step("features", f"building features up to {week_end.date()} ({engine})"):
        if engine == "spark":
            from sprintlab.engines.spark import spark_week_panel

            panel = spark_week_panel(
                tables,
                week_end,
                weeks_back=weeks_back,
                master=master,
                wellness_baseline_days=params.features.wellness_baseline_days,
            )
        else:
            panel = build_panel(
                tables,
                end=week_end,
                wellness_baseline_days=params.features.wellness_baseline_days,
                chunk_athletes=params.features.chunk_athletes,
            ).panel
            panel = panel[panel["week_end"] > week_end - pd.Timedelta(weeks=weeks_back)].reset_index(
                drop=True
            )
    with step("schema", "checking the feature schema against the models"):
        check_schema(panel, models)
    proba = None
    if engine == "spark":
        with step("predict", "scoring with mlflow.pyfunc.spark_udf"):
            from sprintlab.engines.spark import spark_predict

            week_rows = panel[panel["week_end"] == week_end].sort_values("athlete_id").reset_index(drop=True)
            proba = spark_predict(week_rows, models, master=master)
    with step("score", "scoring and explaining (SHAP)"):
        scored = score_week(
            panel,
            est,
            week_end,
            min_strength_gain=params.targets.transfer.min_strength_gain,
            flag_threshold=params.train.hamstring.flag_threshold,
            top_k=params.report.top_drivers,
            max_missing_share=sp.max_missing_share,
            proba=proba,
            own_usual_weeks=sp.own_usual_weeks,
        )
        sq = scored["squad"]
        sq["insufficient_reason"] = pd.Series(
            np.where(
                sq["insufficient_data"],
                f"more than {sp.max_missing_share:.0%} of the model inputs missing",
                None,
            ),
            dtype="string",
        )
        activity = recent_activity(tables, week_end, sp.recent_days)
        days = activity["recent_days_with_data"].reindex(sq["athlete_id"]).fillna(0).to_numpy()
        thin = set(sq.loc[days < sp.min_recent_days, "athlete_id"])
        mark_insufficient(
            scored,
            thin,
            f"fewer than {sp.min_recent_days} days with records in the last {sp.recent_days} days",
        )
        scores = scores_frame(scored, activity, models, week_end)
    with step("drift", "checking feature drift against the training data"):
        # the last score.drift_weeks weeks of the athletes scored this week: steadier than one week's snapshot
        ok_ids = set(scores.loc[~scores["insufficient_data"], "athlete_id"])
        rows = (
            panel[
                (panel["week_end"] > week_end - pd.Timedelta(weeks=sp.drift_weeks))
                & panel["athlete_id"].isin(ok_ids)
            ]
            .sort_values(["week_end", "athlete_id"])
            .reset_index(drop=True)
        )
        drift_parts = []
        for t, cm in models.items():
            if cm.reference is None:
                warnings.append(
                    f"drift not checked for {cm.name} v{cm.version}: no training reference was logged "
                    "with the model (see docs/scoring.md)"
                )
                continue
            sel = (
                rows if t == "hamstring" else rows[_in_block(rows, params.targets.transfer.min_strength_gain)]
            )
            X = feature_matrix(sel, list(cm.model.feature_names_in_))
            if len(X) < sp.psi_min_rows:
                continue
            drift_parts.append(drift_table(cm.reference, X, min_per_bin=sp.psi_min_per_bin).assign(model=t))
        drift = (
            pd.concat(drift_parts, ignore_index=True)
            if drift_parts
            else pd.DataFrame(columns=["model", "feature", "psi"])
        )
        drift_warn = drift[drift["psi"] > sp.psi_warn]
        drift_warnings = [
            f"{r.feature} ({r.model} model) has shifted from the training data: PSI {r.psi:.2f} "
            f"(warn > {sp.psi_warn}, fail > {sp.psi_fail}); median {r.train_median:.3g} in training, "
            f"{r.scored_median:.3g} in the last {sp.drift_weeks} weeks"
            for r in drift_warn.itertuples()
        ]
        hard = bool((drift["psi"] > sp.psi_fail).any())
    exit_code = EXIT_DRIFT if hard else EXIT_OK
    mv_label = model_version_label(models)
    paths: dict[str, Path] = {}
    with step("write", "writing scores"):
        export = scores
        if pseudonymise:  # exports for sharing carry keyed aliases; the internal history keeps the ids
            from sprintlab.privacy import pseudonymise_frame

            export = pseudonymise_frame(scores, "athlete_id")
        paths["scores_csv"] = write_table_atomic(export, out_dir / "scores.csv")
        paths["scores_parquet"] = write_table_atomic(export, out_dir / "scores.parquet")
        if len(drift):
            paths["drift"] = write_table_atomic(drift, out_dir / "drift.csv")
        summary = {
            "week": label,
            "week_end": str(week_end.date()),
            "exit_code": exit_code,
            "model_version": mv_label,
            "athletes": int(len(scores)),
            "insufficient_data": int(scores["insufficient_data"].sum()),
            "flagged": int(scores["hamstring_flag"].fillna(False).sum()),
            "warnings": warnings,
            "drift_warnings": drift_warnings,
            "history_updated": not hard,
        }
        paths["summary"] = write_text_atomic(
            out_dir / "score_summary.json", json.dumps(summary, indent=2) + "\n"
        )
    hist_path = Path(history_path) if history_path else out_dir / HISTORY_FILE
    with step("history", "updating the score history"):
        if hard:
            hist = (
                pd.read_parquet(hist_path)
                if hist_path.exists()
                else scores.assign(model_version=mv_label)[HISTORY_COLUMNS]
            )
        else:
            hist = update_history(hist_path, scores, mv_label)
            paths["history"] = hist_path
    if report:
        with step("report", "rendering the weekly report"):
            paths["report"] = _render(
                params,
                panel,
                scored,
                models,
                hist,
                week_end,
                mv_label,
                drift_warnings,
                out_dir / f"report_{label}.html",
                pseudonymise=pseudonymise,
                simulated=_is_simulated(data_dir) if simulated is None else simulated,
            )
    message = (
        f"drift beyond score.psi_fail ({sp.psi_fail}) in: "
        + ", ".join(sorted(set(drift.loc[drift["psi"] > sp.psi_fail, "feature"])))
        if hard
        else ""
    )
    return ScoreResult(
        exit_code, label, scores, drift, warnings + drift_warnings, paths, step.timings, message
    )


def _in_block(rows: pd.DataFrame, min_strength_gain: float) -> np.ndarray:
    """The strength-block rule of :func:`score_week`, for any panel rows."""
    gain = rows.get("strength_change_since_test_pct", pd.Series(np.nan, index=rows.index)).to_numpy()
    age = rows.get("sprint_test_age_days", pd.Series(np.nan, index=rows.index)).to_numpy()
    return (gain >= 100 * min_strength_gain / 2) & (age >= 14)


def _is_simulated(data_dir) -> bool:
    readme = Path(data_dir).parent / "README.md"
    return readme.exists() and "SIMULATED" in readme.read_text(encoding="utf-8", errors="replace").upper()


def _metrics(cm: ChampionModel) -> dict:
    if not cm.run_id:
        return {}
    try:
        from sprintlab.tracking import _client

        mlflow, _ = _client()
        local = mlflow.artifacts.download_artifacts(
            run_id=cm.run_id, artifact_path="evaluation/evaluation.json"
        )
        return json.loads(Path(local).read_text(encoding="utf-8"))
    except Exception as err:  # noqa: BLE001 - the report shows "-" for missing metrics
        log.info("no evaluation artifact for %s v%s: %s", cm.name, cm.version, err)
        return {}


def _render(
    params: Params,
    panel: pd.DataFrame,
    scored: dict,
    models: dict[str, ChampionModel],
    hist: pd.DataFrame,
    week_end: pd.Timestamp,
    mv_label: str,
    drift_warnings: list[str],
    out_path: Path,
    *,
    pseudonymise: bool,
    simulated: bool,
) -> Path:
    from sprintlab.explain import squad_family_importance, strength_control_interaction
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.report.context import ReportContext
    from sprintlab.report.render import render_report

    athletes = sorted(scored["squad"]["athlete_id"])[: params.report.max_athletes]
    keep = set(athletes)
    sq = scored["squad"][scored["squad"]["athlete_id"].isin(keep)].reset_index(drop=True)
    drivers = scored["drivers"][scored["drivers"]["athlete_id"].isin(keep)].reset_index(drop=True)
    fams = scored["families"][scored["families"]["athlete_id"].isin(keep)].reset_index(drop=True)
    long = scored["long"][scored["long"]["athlete_id"].isin(keep)].reset_index(drop=True)
    fam_imp = squad_family_importance(fams)
    inter = strength_control_interaction(models["transfer"].model, panel)
    metrics = {t: _metrics(cm) for t, cm in models.items()}
    reg = [
        {
            "name": cm.name,
            "version": cm.version,
            "alias": cm.alias,
            "trained_on": metrics[t].get("split_cutoff", ""),
        }
        for t, cm in models.items()
    ]
    ctx = ReportContext(
        title="sprintlab weekly report",
        week_label=iso_week_label(week_end),
        data_window=(
            str(pd.to_datetime(panel["week_start"]).min().date()),
            str(pd.Timestamp(week_end).date()),
        ),
        generated_at=str(pd.Timestamp(week_end).date()),
        simulated=simulated,
        pseudonymised=pseudonymise,
        squad=sq,
        drivers=drivers,
        family_contributions=fams,
        family_importance=fam_imp,
        shap_long=long,
        interaction=inter,
        metrics=metrics,
        models=reg,
        family_labels=dict(load_catalogue().families),
        history=history_for_report(hist, athletes, mv_label, week_end, params.score.history_weeks),
        drift_warnings=drift_warnings,
        known_limits=[
            "Associations learned from the training squad's records; they are not proven causes.",
            "Athletes with too little recent data or more than half of a model's inputs missing are "
            "marked 'insufficient data'.",
        ],
        flag_threshold=params.train.hamstring.flag_threshold,
        own_usual_weeks=params.score.own_usual_weeks,
    )
    return render_report(ctx, out_path)
