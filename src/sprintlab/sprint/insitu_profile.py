"""Table-level in-situ profiles: a ``tracking_samples`` table (or a {shorts}-style trace) in, one
row per athlete-session (or rolling window) out, with the column names of the other profiles
(``mss_m_s``, ``mac_m_s2``, ``tau_s``, ``pmax_rel_w_kg``, ...). The engine is
:mod:`sprintlab.sprint.insitu`; the cleaning :mod:`sprintlab.sprint.tracking`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sprintlab.sprint.insitu import (
    InSituFit,
    InSituSettings,
    ReducedTraces,
    fit_top_points,
    reduce_traces,
    trace_windows,
    window_fits,
)
from sprintlab.sprint.tracking import COUNT_COLUMNS, CleaningSettings

#: trace keys of ``tracking_samples``, in sort order (those present identify the traces)
TRACE_KEYS = ("athlete_id", "date", "session_id")
#: {shorts} ``LPS_session`` / vendor column names accepted for the contract names
TRACKING_ALIASES = {
    "time": "time_s",
    "velocity": "velocity_m_s",
    "acceleration": "acceleration_m_s2",
    "x": "x_m",
    "y": "y_m",
}
NUMERIC_COLUMNS = ("time_s", "velocity_m_s", "acceleration_m_s2")
POINT_COLUMNS = ["velocity_m_s", "acceleration_m_s2", "speed_bin", "used", "row"]


@dataclass(frozen=True)
class InSituResult:
    """Profiles (one row per trace or window) and the top points behind them (``used`` = in the
    fit; ``row`` = the sample's row in the sorted input)."""

    profiles: pd.DataFrame
    points: pd.DataFrame


def tracking_columns(samples: pd.DataFrame) -> pd.DataFrame:
    """The samples with contract column names ({shorts} ``velocity``/``acceleration``/``time``/
    ``x``/``y`` renamed when the contract name is absent) and numeric measurement columns
    (unparseable cells -> NaN, counted as missing). Raises ``ValueError`` without a velocity."""
    renames = {a: c for a, c in TRACKING_ALIASES.items() if a in samples.columns and c not in samples.columns}
    df = samples.rename(columns=renames)
    if "velocity_m_s" not in df:
        raise ValueError(
            f"tracking samples need a velocity_m_s (or velocity) column; columns found: {list(samples.columns)}"
        )
    if "acceleration_m_s2" not in df and "time_s" not in df:
        raise ValueError("without an acceleration_m_s2 column, time_s (or time) is needed to derive it")
    for c in NUMERIC_COLUMNS:
        if c in df:
            df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def _sorted_traces(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str], np.ndarray]:
    """Rows sorted by trace and time (stable; already sorted input is not copied), the trace key
    columns present and the trace number of every row (0, 1, ... in sorted order)."""
    keys = [k for k in TRACE_KEYS if k in df.columns]
    if keys:
        code = df.groupby(keys, sort=True, dropna=False).ngroup().to_numpy(dtype=np.int64)
    else:
        code = np.zeros(len(df), dtype=np.int64)
    time_s = df["time_s"].to_numpy(dtype=float) if "time_s" in df else np.zeros(len(df))
    step_back = (np.diff(code) < 0) | ((np.diff(code) == 0) & (np.diff(time_s) < 0))
    if step_back.any():
        order = np.lexsort((np.nan_to_num(time_s, nan=np.inf), code))
        df, code = df.iloc[order].reset_index(drop=True), code[order]
    return df, keys, code


def _reduce_frame(
    df: pd.DataFrame,
    code: np.ndarray,
    settings: InSituSettings,
    cleaning: CleaningSettings,
    chunk_samples: int,
) -> ReducedTraces:
    """:func:`reduce_traces` on the columns of a sorted samples frame."""
    return reduce_traces(
        code,
        df["time_s"].to_numpy(dtype=float) if "time_s" in df else None,
        df["velocity_m_s"].to_numpy(dtype=float),
        df["acceleration_m_s2"].to_numpy(dtype=float) if "acceleration_m_s2" in df else None,
        int(code.max()) + 1 if code.size else 0,
        settings,
        cleaning,
        chunk_samples,
    )


def _fit_table(keys: pd.DataFrame, fit: InSituFit) -> pd.DataFrame:
    """``keys`` plus the fit's per-group columns."""
    out = keys.reset_index(drop=True).copy()
    for c in InSituFit.COLUMNS:
        out[c] = getattr(fit, c)
    return out


def _points_table(keys: pd.DataFrame, reduced: ReducedTraces, fit: InSituFit) -> pd.DataFrame:
    """One row per top point: its trace keys, speed, acceleration, bin, whether the fit used it
    and its row in the sorted samples."""
    pts = reduced.points
    out = keys.iloc[pts.group].reset_index(drop=True)
    for name, values in zip(
        POINT_COLUMNS, (pts.velocity_m_s, pts.acceleration_m_s2, pts.bin, fit.used, pts.order), strict=True
    ):
        out[name] = values
    return out


def profile_in_situ(
    samples: pd.DataFrame, settings: InSituSettings, cleaning: CleaningSettings, chunk_samples: int
) -> InSituResult:
    """One in-situ acceleration-speed profile per trace of a tracking table.

    Traces are identified by the :data:`TRACE_KEYS` present (none: the table is one trace).
    Columns: the keys, the sample counts (``n_samples``, ``n_usable``, ``n_missing``,
    ``n_duplicate``, ``n_implausible_speed``, ``n_implausible_acceleration``, ``n_gaps``,
    ``n_no_acceleration``), then ``top_speed_m_s``, ``velocity_threshold_m_s``, ``n_points``,
    ``n_bins``, ``n_rejected``, ``mss_m_s``, ``mac_m_s2``, ``tau_s``, ``pmax_rel_w_kg``
    (= MSS MAC / 4), standard errors, ``r_squared``, ``rse_m_s2``, ``fit_ok``, ``fit_issue``.
    Raises ``ValueError`` for a table without samples or without the needed columns."""
    df = tracking_columns(samples)
    if len(df) == 0:
        raise ValueError("the tracking table has no samples")
    df, keys, code = _sorted_traces(df)
    reduced = _reduce_frame(df, code, settings, cleaning, chunk_samples)
    key_frame = _trace_keys(df, keys, code)
    fit = fit_top_points(reduced.points, reduced.n_groups, reduced.top_speed_m_s, settings)
    profiles = _fit_table(key_frame, fit)
    for c in COUNT_COLUMNS:
        profiles.insert(len(keys) + COUNT_COLUMNS.index(c), c, reduced.counts[c])
    return InSituResult(profiles=profiles, points=_points_table(key_frame, reduced, fit))


def _trace_keys(df: pd.DataFrame, keys: list[str], code: np.ndarray) -> pd.DataFrame:
    """The key values of every trace, in trace-number order (an empty frame without keys)."""
    if not keys:
        return pd.DataFrame(index=range(int(code.max()) + 1))
    first = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
    return df[keys].iloc[first].reset_index(drop=True)


def profile_in_situ_windows(
    samples: pd.DataFrame,
    settings: InSituSettings,
    cleaning: CleaningSettings,
    chunk_samples: int,
    window_days: int,
) -> InSituResult:
    """One profile per athlete and date with traces, from all the athlete's traces of the last
    ``window_days`` days up to that date (``athlete_id`` and ``date`` columns needed). Columns as
    :func:`profile_in_situ` without the sample counts, plus ``window_days`` and ``n_traces``."""
    df = tracking_columns(samples)
    missing = [c for c in ("athlete_id", "date") if c not in df]
    if missing:
        raise ValueError(f"rolling-window profiles need athlete_id and date columns; missing: {missing}")
    if len(df) == 0:
        raise ValueError("the tracking table has no samples")
    df, keys, code = _sorted_traces(df)
    reduced = _reduce_frame(df, code, settings, cleaning, chunk_samples)
    traces = _trace_keys(df, keys, code)
    day = _day_numbers(traces["date"])
    athlete = pd.factorize(traces["athlete_id"], sort=True)[0].astype(np.int64)
    windows = traces.assign(_a=athlete, _d=day).drop_duplicates(["_a", "_d"]).sort_values(["_a", "_d"])
    fit = window_fits(
        reduced, athlete, day, windows["_a"].to_numpy(), windows["_d"].to_numpy(), window_days, settings
    )
    pairs = trace_windows(athlete, day, windows["_a"].to_numpy(), windows["_d"].to_numpy(), window_days)[2]
    n_traces = np.bincount(pairs[1], minlength=len(windows))
    out = _fit_table(windows[["athlete_id", "date"]], fit)
    out.insert(2, "window_days", window_days)
    out.insert(3, "n_traces", n_traces)
    return InSituResult(profiles=out, points=pd.DataFrame(columns=POINT_COLUMNS))


def _day_numbers(dates: pd.Series) -> np.ndarray:
    """Whole days since 1970-01-01 of a date column (ValueError on an unparseable date)."""
    try:
        parsed = pd.to_datetime(dates)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"tracking samples have a date that is not a date: {exc}") from exc
    if parsed.isna().any():
        raise ValueError("tracking samples have rows without a date")
    return parsed.to_numpy(dtype="datetime64[D]").astype(np.int64)
