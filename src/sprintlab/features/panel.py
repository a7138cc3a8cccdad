"""The athlete-week feature panel used by both models.

Every feature for week W (Monday..Sunday) uses only records dated on or before W's Sunday:
daily series are scattered on a dense athlete x day grid and all windows are causal; irregular
tests (sprint sessions, screens, Nordic tests) are carried forward with their age in days as a
separate feature, never interpolated. Names, units, families and descriptions live in
``catalogue.yaml``; the builders of :mod:`sprintlab.features.registry` compute them, one module
per factor family. :func:`build_panel` runs every builder whose tables are available and says,
for the other features, which table (or column) is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sprintlab.config import InSituParams
from sprintlab.features.builder import Features, PanelInputs
from sprintlab.features.catalogue import load_catalogue
from sprintlab.features.grid import DayGrid
from sprintlab.features.registry import registered_builders

log = logging.getLogger(__name__)

ID_COLUMNS = ["athlete_id", "week_start", "week_end"]


@dataclass
class PanelResult:
    """The panel and the catalogue features that could not be built, with the reason.

    ``not_recorded``: features of an optional data stream the club does not record (no
    ``tracking_samples``), kept apart from ``skipped`` so that the panel and its skip list are
    those of a club without that stream."""

    panel: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    not_recorded: dict[str, str] = field(default_factory=dict)


def _window(
    tables: Mapping[str, pd.DataFrame], end: pd.Timestamp | None, start: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Monday of the first and Sunday of the last week: from ``start`` (else the earliest dated
    record that is not injury history) to ``end`` (else the latest dated record, injuries included).

    An injury register often reaches years before the other exports; the grid does not need those
    days: :func:`~sprintlab.features.history.injury_history` compares every onset with the week
    ends directly, and no other feature reads injuries. Only when the register is the sole dated
    table does it set the start.
    """
    records: list[tuple[pd.Timestamp, pd.Timestamp]] = []  # (first, last) date of each table
    history: list[tuple[pd.Timestamp, pd.Timestamp]] = []
    for name, df in tables.items():
        col = "onset_date" if name == "injuries" else "date"
        if name != "athletes" and col in df and len(df):
            dates = df[col] if pd.api.types.is_datetime64_any_dtype(df[col]) else pd.to_datetime(df[col])
            (history if name == "injuries" else records).append((dates.min(), dates.max()))
    if not records and not history:
        raise ValueError("no dated records: the feature panel needs at least one dated table")
    lo = _earliest([first for first, _ in records or history]) if start is None else pd.Timestamp(start)
    hi = _latest([last for _, last in records + history]) if end is None else pd.Timestamp(end)
    first_monday = (lo - pd.Timedelta(days=lo.weekday())).normalize()
    last_sunday = (hi + pd.Timedelta(days=6 - hi.weekday())).normalize()
    return first_monday, last_sunday


def _earliest(dates: list[pd.Timestamp]) -> pd.Timestamp:
    """The earliest of ``dates``, skipping NaT (NaT when all are)."""
    return min((d for d in dates if pd.notna(d)), default=pd.NaT)


def _latest(dates: list[pd.Timestamp]) -> pd.Timestamp:
    """The latest of ``dates``, skipping NaT (NaT when all are)."""
    return max((d for d in dates if pd.notna(d)), default=pd.NaT)


def build_panel(
    tables: dict[str, pd.DataFrame],
    *,
    end: pd.Timestamp | None = None,
    start: pd.Timestamp | None = None,
    wellness_baseline_days: int = 56,
    chunk_athletes: int | None = None,
    insitu: InSituParams | None = None,
) -> PanelResult:
    """Build the athlete-week panel from validated contract tables.

    ``end`` (optional) truncates the panel after the week containing ``end``; records after the
    last week-end are never read by any feature. ``chunk_athletes`` builds the panel for that many
    athletes at a time (same window, same result) to bound memory on a whole league. ``insitu``
    (``params.insitu``) is needed for the in-situ features of a ``tracking_samples`` table.
    ``skipped`` maps each catalogue feature that is not built to its builder's first unmet need;
    ``not_recorded`` the features of an optional data stream that is absent.
    """
    tables = _with_register(tables)
    if chunk_athletes is not None and tables["athletes"]["athlete_id"].nunique() > chunk_athletes:
        return _build_chunked(
            tables,
            end=end,
            start=start,
            wellness_baseline_days=wellness_baseline_days,
            chunk_athletes=chunk_athletes,
            insitu=insitu,
        )
    built = _build_features(tables, *_window(tables, end, start), wellness_baseline_days, insitu)
    panel = _assemble(built.grid, built.features, load_catalogue().names)
    panel = panel[built.keep].reset_index(drop=True)
    for f, why in sorted(built.skipped.items()):
        log.info("feature %s skipped: %s", f, why)
    return PanelResult(panel=panel, skipped=built.skipped, not_recorded=built.not_recorded)


@dataclass(frozen=True)
class _Built:
    """The features of one build on its grid, before they become a frame: ``keep`` marks the
    athlete-week rows (athlete-major) from each athlete's first dated record on."""

    grid: DayGrid
    features: Features
    keep: np.ndarray
    skipped: dict[str, str]
    not_recorded: dict[str, str]


def _build_features(
    tables: dict[str, pd.DataFrame],
    first_monday: pd.Timestamp,
    last_sunday: pd.Timestamp,
    wellness_baseline_days: int,
    insitu: InSituParams | None,
) -> _Built:
    """Run the builders on the athlete x day grid of ``tables`` over the window; the skipped
    features in catalogue order."""
    n_days = int((last_sunday - first_monday) / pd.Timedelta(days=1)) + 1
    athlete_ids = np.sort(tables["athletes"]["athlete_id"].astype(str).unique())
    grid = DayGrid(athlete_ids, first_monday, n_days)
    inputs = PanelInputs(tables, grid, wellness_baseline_days, insitu=insitu)
    skipped, not_recorded = _run_builders(inputs)
    # each athlete's rows start at the week of their first dated record
    first_week_end = np.repeat(_first_record(tables, grid), grid.week_end_days.size)
    keep = np.tile(grid.week_end_dates.to_numpy(), grid.n_athletes) >= first_week_end
    names = load_catalogue().names
    skipped = {f: skipped[f] for f in names if f in skipped}
    return _Built(grid, inputs.features, keep, skipped, not_recorded)


def _run_builders(inputs: PanelInputs) -> tuple[dict[str, str], dict[str, str]]:
    """Run every registered builder whose needs are met, in registry order, collecting the
    features in ``inputs.features``; return the other builders' features with the reason:
    skipped, and not recorded (an optional data stream is absent)."""
    skipped: dict[str, str] = {}
    not_recorded: dict[str, str] = {}
    for builder in registered_builders():
        absent = builder.not_recorded(inputs.tables)
        if absent is not None:
            not_recorded.update(dict.fromkeys(builder.produces, absent))
            continue
        why = builder.skip_reason(inputs.tables, skipped) or builder.settings_reason(inputs)
        if why is None:
            inputs.features.update(builder.run(inputs))
        else:
            skipped.update(dict.fromkeys(builder.produces, why))
    return skipped, not_recorded


def _assemble(grid: DayGrid, features: Features, catalogue_names: Sequence[str]) -> pd.DataFrame:
    """One row per athlete and week end; the built features as float columns in catalogue order."""
    panel = _id_columns(grid)
    for f in catalogue_names:
        if f in features:
            panel[f] = np.asarray(features[f], dtype=float).reshape(-1)
    return panel


def _id_columns(grid: DayGrid) -> pd.DataFrame:
    """Athlete id, week start and week end of every athlete-week of ``grid`` (athlete-major)."""
    week_ends = grid.week_end_dates
    return pd.DataFrame(
        {
            "athlete_id": np.repeat(grid.athlete_ids, week_ends.size),
            "week_start": np.tile((week_ends - pd.Timedelta(days=6)).to_numpy(), grid.n_athletes),
            "week_end": np.tile(week_ends.to_numpy(), grid.n_athletes),
        }
    )


def _with_register(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables with an ``athletes`` register: exports without one (e.g. a wellness app) get a
    register of the ids found in the other tables, with unknown profile values (NaN)."""
    if "athletes" in tables and len(tables["athletes"]):
        return tables
    ids = sorted(
        {str(a) for name, df in tables.items() if "athlete_id" in df for a in df["athlete_id"].dropna()}
    )
    if not ids:
        raise ValueError("no athletes: neither an athletes table nor athlete_id values in any table")
    log.info("no athletes table: %d athletes taken from the other tables; profile features skipped", len(ids))
    register = pd.DataFrame(
        {"athlete_id": ids, "birth_date": pd.NaT, "body_mass_kg": np.nan, "height_cm": np.nan}
    )
    return {**tables, "athletes": register}


def _build_chunked(
    tables: dict[str, pd.DataFrame],
    *,
    end: pd.Timestamp | None,
    start: pd.Timestamp | None,
    wellness_baseline_days: int,
    chunk_athletes: int,
    insitu: InSituParams | None,
) -> PanelResult:
    """Build the panel athlete chunk by athlete chunk over one common window.

    Each chunk's features are written into one float block (at most athletes x weeks rows,
    catalogue columns, column-major) instead of keeping every chunk's panel for a concatenation
    and a re-ordered copy, so a league's panel is held once rather than three times. The block is
    allocated empty: a column no chunk builds (an optional stream the league does not record) is
    never touched, so it takes no memory, and the built columns are moved to the front in place.
    """
    lo, hi = _window(tables, end, start)
    ids = np.sort(tables["athletes"]["athlete_id"].astype(str).unique())
    chunk_of = {name: _chunk_numbers(df, ids, chunk_athletes) for name, df in tables.items()}
    names = load_catalogue().names
    n_weeks = ((hi - lo).days + 1) // 7
    block = np.empty((ids.size * n_weeks, len(names)), order="F")
    spans: list[tuple[int, int, set[str]]] = []  # per chunk: first row, rows, features built
    id_parts: list[pd.DataFrame] = []
    skipped: dict[str, str] = {}
    not_recorded: dict[str, str] = {}
    row = 0
    for k in range(-(-ids.size // chunk_athletes)):
        part = _with_register({name: df[chunk_of[name] == k] for name, df in tables.items()})
        res = _build_features(part, lo, hi, wellness_baseline_days, insitu)
        n = int(res.keep.sum())
        for j, f in enumerate(names):
            if f in res.features:
                block[row : row + n, j] = np.asarray(res.features[f], dtype=float).reshape(-1)[res.keep]
        spans.append((row, n, set(res.features)))
        id_parts.append(_id_columns(res.grid)[res.keep])
        skipped.update(res.skipped)
        not_recorded.update(res.not_recorded)
        row += n
        del part, res  # the chunk's tables, features and grid caches go before the next chunk is built
    built = _compact_columns(block, names, spans, row)
    panel = pd.DataFrame(block[:row, : len(built)], columns=built, copy=False)
    id_values = pd.concat(id_parts, ignore_index=True)
    for k, col in enumerate(ID_COLUMNS):  # inserted in front, without copying the feature block
        panel.insert(k, col, id_values[col].to_numpy())
    for f, why in sorted(skipped.items()):
        log.info("feature %s skipped: %s", f, why)
    return PanelResult(panel=panel, skipped=skipped, not_recorded=not_recorded)


def _chunk_numbers(df: pd.DataFrame, ids: np.ndarray, chunk_athletes: int) -> np.ndarray:
    """The chunk of each row's athlete (position in the sorted ``ids`` // chunk size; -1: unknown)."""
    pos = pd.Index(ids).get_indexer(df["athlete_id"].astype(str))
    return np.where(pos < 0, -1, pos // chunk_athletes).astype(np.int32)


def _compact_columns(
    block: np.ndarray, names: Sequence[str], spans: list[tuple[int, int, set[str]]], rows: int
) -> list[str]:
    """Fill NaN where a chunk did not build a feature that another chunk built, move the built
    columns (catalogue order) to the front of the column-major ``block`` in place (its first
    ``rows`` rows), return them."""
    built = [f for f in names if any(f in cols for _, _, cols in spans)]
    for k, f in enumerate(built):
        j = names.index(f)
        for first, n, cols in spans:
            if f not in cols:
                block[first : first + n, j] = np.nan
        if k != j:  # k < j: column k is free (not built, or already moved)
            block[:rows, k] = block[:rows, j]
    return built


def _first_record(tables: Mapping[str, pd.DataFrame], grid: DayGrid) -> np.ndarray:
    """Week-end date from which each athlete's panel rows start: the athlete's first dated record."""
    first = np.full(grid.n_athletes, grid.n_days)
    for name, df in tables.items():
        if name in ("athletes", "injuries") or "date" not in df or df.empty:
            continue
        first = np.minimum(first, grid.first_day(df))
    first = np.where(first >= grid.n_days, 0, first)
    return (np.datetime64(grid.start, "ns") + first.astype("timedelta64[D]")).astype("datetime64[ns]")
