"""Cleaning GPS/LPS tracking samples for in-situ profiling: dropouts, duplicates, implausible
samples and gaps counted per trace, and acceleration derived from velocity when not exported.

All functions work on flat arrays of many traces at once: ``group`` numbers the traces
(athlete-sessions) ``0..n_groups-1`` and the rows are sorted by ``(group, time)``, so every trace
is a contiguous run. There is no Python loop over traces.

Acceleration from velocity is the first derivative of a Savitzky-Golay filter (Savitzky & Golay
1964; ``scipy.signal.savgol_coeffs``) on a window of ``savgol_window_s`` seconds: the slope at the
window centre of a least-squares polynomial of order ``savgol_polyorder``. It is computed only
where the whole window lies in one stretch of evenly spaced valid samples of one trace, so it
never crosses a dropout, a gap or a change of sampling rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: a step between samples differing from the previous step by more than this fraction starts a
#: new evenly spaced stretch (a missed sample, a change of sampling rate)
EVEN_SPACING_TOLERANCE = 0.25

#: largest Savitzky-Golay half-window in samples (a 101-sample window: 0.5 s at 200 Hz)
MAX_HALF_WINDOW = 50

#: per-trace sample counts of :class:`CleanTrace`, in output order
COUNT_COLUMNS = (
    "n_samples",
    "n_missing",
    "n_duplicate",
    "n_implausible_speed",
    "n_implausible_acceleration",
    "n_gaps",
    "n_no_acceleration",
    "n_usable",
)


@dataclass(frozen=True)
class CleaningSettings:
    """Limits of a plausible sample and the smoothing of derived acceleration (``params.yaml``
    ``insitu``)."""

    max_speed_m_s: float
    max_abs_acceleration_m_s2: float
    max_gap_s: float
    savgol_window_s: float
    savgol_polyorder: int


@dataclass(frozen=True)
class CleanTrace:
    """Usable velocity and acceleration per input row (NaN where unusable), each trace's counts
    (:data:`COUNT_COLUMNS`, arrays of length ``n_groups``) and fastest usable speed (m/s)."""

    velocity_m_s: FloatArray
    acceleration_m_s2: FloatArray
    counts: dict[str, IntArray]
    top_speed_m_s: FloatArray


#: row status codes of :func:`clean_trace`, counted per trace into the matching count column
_STATUS = (
    "n_usable",
    "n_missing",
    "n_duplicate",
    "n_implausible_speed",
    "n_implausible_acceleration",
    "n_no_acceleration",
)


def _duplicates(group: IntArray, time_s: FloatArray) -> BoolArray:
    """Rows repeating the time stamp of the previous row of the same trace (the first is kept)."""
    dup = np.zeros(group.size, dtype=bool)
    dup[1:] = (group[1:] == group[:-1]) & (time_s[1:] == time_s[:-1])
    return dup


def _gap_starts(group: IntArray, time_s: FloatArray, valid: BoolArray, max_gap_s: float) -> BoolArray:
    """Valid rows that follow the previous valid row of their trace by more than ``max_gap_s``."""
    starts = np.zeros(group.size, dtype=bool)
    if valid.all():
        starts[1:] = (group[1:] == group[:-1]) & (time_s[1:] - time_s[:-1] > max_gap_s)
        return starts
    idx = np.flatnonzero(valid)
    if idx.size > 1:
        later, before = idx[1:], idx[:-1]
        starts[later] = (group[later] == group[before]) & (time_s[later] - time_s[before] > max_gap_s)
    return starts


@dataclass(frozen=True)
class _Stretches:
    """Evenly spaced stretches of a time series: first row, length and sampling step (s)."""

    start: IntArray
    length: IntArray
    step_s: FloatArray


def _stretches(group: IntArray, time_s: FloatArray, max_gap_s: float) -> _Stretches:
    """The evenly spaced stretches of a series sorted by ``(group, time)``.

    A stretch starts at a new trace, after a step that is not in ``(0, max_gap_s]``, and where a
    step differs from the previous regular step by more than :data:`EVEN_SPACING_TOLERANCE`; its
    step is the step from its first row to its second."""
    n = time_s.size
    step = np.empty(n)
    step[0] = np.nan
    np.subtract(time_s[1:], time_s[:-1], out=step[1:])
    with np.errstate(invalid="ignore"):
        regular = (step > 0) & (step <= max_gap_s)
        regular[1:] &= group[1:] == group[:-1]
        uneven = np.zeros(n, dtype=bool)
        both = regular[1:] & regular[:-1]
        uneven[1:] = both & (np.abs(step[1:] - step[:-1]) > EVEN_SPACING_TOLERANCE * step[:-1])
    start = np.flatnonzero(~regular | uneven)
    length = np.diff(np.append(start, n))
    second = np.minimum(start + 1, n - 1)
    return _Stretches(start, length, np.where(length > 1, step[second], np.nan))


def _half_window(step_s: FloatArray, settings: CleaningSettings) -> IntArray:
    """Half-width ``h`` in samples of the Savitzky-Golay window at a sampling step: the odd window
    ``2h + 1`` closest to ``savgol_window_s``, at least ``polyorder + 2`` samples wide; 0 (no
    derivative) where the step is unknown or ``h`` would exceed :data:`MAX_HALF_WINDOW`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        h = np.rint((settings.savgol_window_s / step_s - 1.0) / 2.0)
    ok = np.isfinite(h) & (h <= MAX_HALF_WINDOW)
    h = np.maximum(np.where(ok, h, 0), (settings.savgol_polyorder + 2) // 2).astype(np.int64)
    return np.where(ok, h, 0)


def _inner_rows(stretches: _Stretches, half: IntArray, n: int) -> BoolArray:
    """Rows at least ``half`` rows inside their stretch (the window fits in it), via a +1/-1
    difference array and a cumulative sum."""
    fits = stretches.length > 2 * half
    marks = np.zeros(n + 1, dtype=np.int32)
    np.add.at(marks, stretches.start[fits] + half[fits], 1)
    np.add.at(marks, stretches.start[fits] + stretches.length[fits] - half[fits], -1)
    return np.cumsum(marks[:n]) > 0


def savgol_acceleration(
    group: IntArray, time_s: FloatArray, velocity_m_s: FloatArray, settings: CleaningSettings
) -> FloatArray:
    """Acceleration (m/s^2) as the first derivative of a Savitzky-Golay filter of velocity.

    ``a_i = sum_k c_k v_(i+k) / dt`` for ``k = -h..h``, with ``c = savgol_coeffs(2h + 1,
    polyorder, deriv=1)`` and ``dt = (t_(i+h) - t_(i-h)) / 2h``, the mean step across the window.
    NaN where the window leaves the row's evenly spaced stretch (trace edges, gaps, changes of
    sampling rate) or holds a NaN velocity (dropout). One filter pass per distinct window width.
    scipy's filters are imported here: a squad without GPS traces never needs them (~0.15 s)."""
    from scipy.ndimage import correlate1d
    from scipy.signal import savgol_coeffs

    n = velocity_m_s.size
    out = np.full(n, np.nan)
    if n == 0:
        return out
    stretches = _stretches(group, time_s, settings.max_gap_s)
    half = _half_window(stretches.step_s, settings)
    for h in np.unique(half[half > 0]):
        h = int(h)
        if 2 * h >= n:
            continue
        mine = half == h
        inner = _inner_rows(
            _Stretches(stretches.start[mine], stretches.length[mine], stretches.step_s[mine]), half[mine], n
        )
        coeffs = savgol_coeffs(2 * h + 1, settings.savgol_polyorder, deriv=1, use="dot")
        slope = correlate1d(velocity_m_s, coeffs, mode="constant", cval=np.nan)[h : n - h]
        rate = (2 * h) / (time_s[2 * h :] - time_s[: n - 2 * h])
        np.copyto(out[h : n - h], slope * rate, where=inner[h : n - h])
    return out


def clean_trace(
    group: IntArray,
    time_s: FloatArray | None,
    velocity_m_s: FloatArray,
    acceleration_m_s2: FloatArray | None,
    n_groups: int,
    settings: CleaningSettings,
) -> CleanTrace:
    """Usable samples of many traces (rows sorted by ``(group, time)``) and their counts.

    A row is *missing* when its time, velocity or exported acceleration is not a number; a
    *duplicate* when it repeats the previous row's time stamp in its trace (the first copy is
    kept); *implausible* when its speed is negative or above ``max_speed_m_s``, or its
    acceleration (exported or derived) exceeds ``max_abs_acceleration_m_s2`` in size. A *gap* is
    a pause of more than ``max_gap_s`` between valid samples. Without an exported acceleration it
    is derived by :func:`savgol_acceleration` (``time_s`` required); rows where it cannot be
    (trace edges, next to dropouts and gaps) count as ``n_no_acceleration``. Every row falls in
    exactly one of usable, missing, duplicate, implausible speed, implausible acceleration and
    no acceleration."""
    if time_s is None and acceleration_m_s2 is None:
        raise ValueError("deriving acceleration from velocity needs time stamps (time_s)")
    v = np.asarray(velocity_m_s, dtype=float)
    t = None if time_s is None else np.asarray(time_s, dtype=float)
    missing = ~np.isfinite(v)
    if t is not None:
        missing |= ~np.isfinite(t)
    if acceleration_m_s2 is not None:
        missing |= ~np.isfinite(acceleration_m_s2)
    dup = np.zeros(v.size, dtype=bool) if t is None else _duplicates(group, t) & ~missing
    with np.errstate(invalid="ignore"):
        speed_bad = ~missing & ~dup & ((v > settings.max_speed_m_s) | (v < 0))
    valid_v = ~(missing | dup | speed_bad)
    acc = _acceleration(group, t, v, valid_v, dup, acceleration_m_s2, settings)
    with np.errstate(invalid="ignore"):
        acc_bad = valid_v & (np.abs(acc) > settings.max_abs_acceleration_m_s2)
    no_acc = valid_v & ~acc_bad & np.isnan(acc)
    usable = valid_v & ~acc_bad & ~no_acc
    # the statuses exclude each other, so their weighted sum is the status code (0 = usable)
    status = missing.view(np.uint8) + 2 * dup.view(np.uint8) + 3 * speed_bad.view(np.uint8)
    status += 4 * acc_bad.view(np.uint8) + 5 * no_acc.view(np.uint8)
    table = np.bincount(group * len(_STATUS) + status, minlength=n_groups * len(_STATUS))
    table = table.reshape(n_groups, len(_STATUS))
    counts = {name: table[:, k].astype(np.int64) for k, name in enumerate(_STATUS)}
    counts["n_samples"] = table.sum(axis=1).astype(np.int64)
    gaps = _gap_starts(group, t, valid_v, settings.max_gap_s) if t is not None else np.zeros(v.size, bool)
    counts["n_gaps"] = np.bincount(group[gaps], minlength=n_groups).astype(np.int64)
    best = np.full(n_groups, -np.inf)
    np.maximum.at(best, group, np.where(valid_v, v, -np.inf))
    return CleanTrace(
        velocity_m_s=np.where(usable, v, np.nan),
        acceleration_m_s2=np.where(usable, acc, np.nan),
        counts={c: counts[c] for c in COUNT_COLUMNS},
        top_speed_m_s=np.where(np.isfinite(best), best, np.nan),
    )


def _acceleration(
    group: IntArray,
    time_s: FloatArray | None,
    velocity_m_s: FloatArray,
    valid_v: BoolArray,
    duplicate: BoolArray,
    exported_m_s2: FloatArray | None,
    settings: CleaningSettings,
) -> FloatArray:
    """The exported acceleration, or the Savitzky-Golay derivative of the valid velocities over
    the time series without duplicates and rows without a time (invalid velocities stay in it
    as NaN: no derivative across them)."""
    if exported_m_s2 is not None:
        return np.asarray(exported_m_s2, dtype=float)
    assert time_s is not None
    series = ~duplicate & np.isfinite(time_s)
    v = np.where(valid_v, velocity_m_s, np.nan)
    if series.all():
        return savgol_acceleration(group, time_s, v, settings)
    rows = np.flatnonzero(series)
    out = np.full(v.size, np.nan)
    out[rows] = savgol_acceleration(group[rows], time_s[rows], v[rows], settings)
    return out
