"""In-situ acceleration-speed profiles of the ``tracking_samples`` table on the athlete x day grid.

Shared by the in-situ builders of :mod:`sprintlab.features.timing` and
:mod:`sprintlab.features.load` through ``PanelInputs.insitu_weeks``: every athlete-session is reduced once to its top points by the
engine of :mod:`sprintlab.sprint.insitu`, then one profile is fitted per athlete and rolling
window (``window_days`` up to each week end, and up to each sprint test day). Causal: a window
never reads a session after its last day, and sessions after the panel's last day are not read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sprintlab.config import InSituParams
from sprintlab.features.grid import DayGrid
from sprintlab.sprint.insitu import InSituFit, ReducedTraces, reduce_traces, settings_from_params, window_fits


@dataclass(frozen=True)
class InSituWeeks:
    """Rolling in-situ profiles (``(n_athletes, n_weeks)`` at week ends; daily arrays NaN except on
    sprint test days) and the fastest usable speed of each athlete-day's traces (m/s, NaN = no
    trace)."""

    mss_m_s: np.ndarray
    mac_m_s2: np.ndarray
    mss_at_test_m_s: np.ndarray
    mac_at_test_m_s2: np.ndarray
    top_speed_m_s: np.ndarray


def _session_codes(
    samples: pd.DataFrame, athlete: np.ndarray, day: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A code per row, one per (athlete, day, session) and increasing with them, and the row order
    that sorts the rows by code and time (the identity when they already are, as validated tables)."""
    if "session_id" in samples:
        session = pd.factorize(samples["session_id"].astype(str), sort=True)[0].astype(np.int64)
    else:
        session = np.zeros(len(samples), dtype=np.int64)
    n_sessions = int(session.max()) + 1 if session.size else 1
    code = (athlete.astype(np.int64) * (int(day.max()) + 1 if day.size else 1) + day) * n_sessions + session
    time_s = samples["time_s"].to_numpy(dtype=float)
    dc = np.diff(code)
    if ((dc < 0) | ((dc == 0) & (np.diff(time_s) < 0))).any():
        order = np.lexsort((np.nan_to_num(time_s, nan=np.inf), code))
    else:
        order = np.arange(code.size)
    return code, order


def _reduce_sessions(
    samples: pd.DataFrame, grid: DayGrid, params: InSituParams
) -> tuple[ReducedTraces, np.ndarray, np.ndarray]:
    """Every session's top points, with each session's athlete and day index on the grid."""
    fit, cleaning = settings_from_params(params)
    a, d, ok = grid.index(samples)
    rows = np.flatnonzero(ok)
    kept = samples.iloc[rows]
    code, order = _session_codes(kept, a[rows], d[rows])
    code, rows = code[order], rows[order]
    first = np.concatenate(([True], code[1:] != code[:-1])) if code.size else np.zeros(0, bool)
    group = np.cumsum(first) - 1
    accel = samples["acceleration_m_s2"] if "acceleration_m_s2" in samples else None
    if accel is not None and accel.isna().all():
        accel = None
    reduced = reduce_traces(
        group,
        samples["time_s"].to_numpy(dtype=float)[rows],
        samples["velocity_m_s"].to_numpy(dtype=float)[rows],
        None if accel is None else accel.to_numpy(dtype=float)[rows],
        int(first.sum()),
        fit,
        cleaning,
        params.chunk_samples,
    )
    return reduced, a[rows][first], d[rows][first]


def _parameters(fit: InSituFit) -> tuple[np.ndarray, np.ndarray]:
    """MSS and MAC of the windows that fitted (NaN otherwise)."""
    return np.where(fit.fit_ok, fit.mss_m_s, np.nan), np.where(fit.fit_ok, fit.mac_m_s2, np.nan)


def insitu_weeks(
    samples: pd.DataFrame, grid: DayGrid, params: InSituParams, test_days: np.ndarray | None
) -> InSituWeeks:
    """Rolling ``params.window_days`` in-situ profiles at every week end and sprint test day
    (``test_days``: daily booleans, or None without sprint tests) and daily top speeds."""
    fit_settings = settings_from_params(params)[0]
    reduced, athlete, day = _reduce_sessions(samples, grid, params)
    n_a, ends = grid.n_athletes, grid.week_end_days
    shape = (n_a, grid.n_days)
    top = np.full(n_a * grid.n_days, -np.inf)
    np.maximum.at(top, athlete * grid.n_days + day, np.nan_to_num(reduced.top_speed_m_s, nan=-np.inf))
    test_a, test_d = np.nonzero(test_days) if test_days is not None else (np.zeros(0, int), np.zeros(0, int))
    win_a = np.concatenate((np.repeat(np.arange(n_a), ends.size), test_a)).astype(np.int64)
    win_d = np.concatenate((np.tile(ends, n_a), test_d)).astype(np.int64)
    order = np.lexsort((win_d, win_a))
    fit = window_fits(reduced, athlete, day, win_a[order], win_d[order], params.window_days, fit_settings)
    mss, mac = np.empty(order.size), np.empty(order.size)
    mss[order], mac[order] = _parameters(fit)
    n_week = n_a * ends.size
    mss_test, mac_test = np.full(shape, np.nan), np.full(shape, np.nan)
    mss_test[test_a, test_d], mac_test[test_a, test_d] = mss[n_week:], mac[n_week:]
    return InSituWeeks(
        mss_m_s=mss[:n_week].reshape(n_a, ends.size),
        mac_m_s2=mac[:n_week].reshape(n_a, ends.size),
        mss_at_test_m_s=mss_test,
        mac_at_test_m_s2=mac_test,
        top_speed_m_s=np.where(np.isfinite(top), top, np.nan).reshape(shape),
    )
