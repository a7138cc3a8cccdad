"""Dense athlete x day arrays: the numeric core of the feature panel.

Daily records are scattered into an ``(n_athletes, n_days)`` array; every rolling window,
exponentially weighted average and carry-forward runs over the day axis in numpy, strictly
causally (day ``d`` only sees days ``<= d``). Week-end samples are then taken at each Sunday.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

LONG_TERM_MIN_DAYS = 28  # an athlete's long-term norm needs at least 4 weeks of values

_RecordIndex = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class DayGrid:
    """Athlete and day axes shared by all daily arrays."""

    athlete_ids: np.ndarray
    start: pd.Timestamp  # a Monday
    n_days: int
    _index_cache: dict[tuple[int, int, str], tuple[pd.DataFrame, _RecordIndex]] = field(
        default_factory=dict, compare=False, repr=False
    )
    _cell_cache: dict[tuple[int, int, str], tuple[pd.DataFrame, np.ndarray]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def n_athletes(self) -> int:
        return int(self.athlete_ids.size)

    @property
    def week_end_days(self) -> np.ndarray:
        """Day index of every Sunday in the window."""
        return np.arange(6, self.n_days, 7)

    @property
    def week_end_dates(self) -> pd.DatetimeIndex:
        """Date of every Sunday in the window."""
        return self.start + pd.to_timedelta(self.week_end_days, unit="D")

    def at_week_ends(self, daily: np.ndarray) -> np.ndarray:
        """The ``(n_athletes, n_weeks)`` week-end samples of a daily array."""
        return daily[:, self.week_end_days]

    def latest_at_week_ends(self, daily: np.ndarray) -> np.ndarray:
        """The last non-missing value of a daily array up to each week end (NaN before any):
        ``at_week_ends(carry_forward(daily))``, looked up at the Sundays only."""
        return _carried(daily, self.at_week_ends(_last_finite(daily)))

    def first_day(self, df: pd.DataFrame, date_col: str = "date") -> np.ndarray:
        """Each athlete's first day index with a record in ``df`` (``n_days`` when none)."""
        a, d, ok = self.index(df, date_col)
        first = np.full(self.n_athletes, self.n_days)
        np.minimum.at(first, a[ok], d[ok])
        return first

    def index(self, df: pd.DataFrame, date_col: str = "date") -> _RecordIndex:
        """Row positions (athlete index, day index) of a table's records; records outside are masked."""
        key = (id(df), len(df), date_col)
        hit = self._index_cache.get(key)
        if hit is not None and hit[0] is df:
            return hit[1]
        a = pd.Index(self.athlete_ids).get_indexer(df["athlete_id"])
        dates = df[date_col]
        if not pd.api.types.is_datetime64_any_dtype(dates):
            dates = pd.to_datetime(dates)
        days = dates.to_numpy(dtype="datetime64[D]")
        ok_date = ~np.isnat(days)
        d = np.where(ok_date, (days - np.datetime64(self.start.date(), "D")).astype("int64"), -1)
        ok = (a >= 0) & ok_date & (d >= 0) & (d < self.n_days)
        out = (a, d, ok)
        self._index_cache[key] = (df, out)
        return out

    def _cell(self, df: pd.DataFrame, date_col: str) -> np.ndarray:
        """Flat cell ``athlete * n_days + day`` of every record (meaningless where masked), cached
        with :meth:`index` so that each column scattered from ``df`` reuses it."""
        key = (id(df), len(df), date_col + "/cell")
        hit = self._cell_cache.get(key)
        if hit is not None and hit[0] is df:
            return hit[1]
        a, d, _ = self.index(df, date_col)
        cell = a * self.n_days + d
        self._cell_cache[key] = (df, cell)
        return cell

    def scatter(
        self, df: pd.DataFrame, column: str | np.ndarray, how: str = "sum", date_col: str = "date"
    ) -> np.ndarray:
        """Daily array of ``column`` (a column name, or values aligned with ``df``'s rows)
        aggregated per athlete-day (sum, max or mean); NaN where no record."""
        a, d, ok = self.index(df, date_col)
        v = df[column].to_numpy(dtype=float) if isinstance(column, str) else np.asarray(column, dtype=float)
        ok = ok & np.isfinite(v)
        shape = (self.n_athletes, self.n_days)
        if not ok.any():
            return np.full(shape, np.nan)
        flat, v = self._cell(df, date_col)[ok], v[ok]
        if how in ("sum", "mean"):  # filled in place: sum (or sum / count) of the day's records
            out = np.bincount(flat, weights=v, minlength=shape[0] * shape[1])
            c = np.bincount(flat, minlength=out.size)
            empty = c == 0
            if how == "mean":
                np.divide(out, c, out=out, where=~empty)
            out[empty] = np.nan
        elif how == "max":
            out = np.full(shape[0] * shape[1], -np.inf)
            np.maximum.at(out, flat, v)
            out[np.isneginf(out)] = np.nan
        else:
            raise ValueError(f"unknown aggregation {how!r}")
        return out.reshape(shape)


def nan_to_zero(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)``: NaN -> 0 and +-inf -> the largest finite floats, in two passes
    instead of seven when ``x`` is a float array without infinities (the usual case)."""
    if x.dtype != np.float64:
        return np.nan_to_num(x)
    out = np.where(np.isnan(x), 0.0, x)
    return np.nan_to_num(x) if np.isinf(out).any() else out


def _window_sums(c: np.ndarray, window: int) -> np.ndarray:
    """Sums over the last ``window`` days from running sums ``c``: ``c_d - c_(d-window)``."""
    out = np.empty_like(c)
    out[:, :window] = c[:, :window]
    np.subtract(c[:, window:], c[:, :-window], out=out[:, window:])
    return out


class RunningSums:
    """Running count, sum and sum of squares of the non-missing values of a daily array: every
    causal rolling sum, count, mean and SD is a difference of them, so several windows of one
    series share one cumulative sum each (the sum counts NaN as 0, via :func:`nan_to_zero`)."""

    def __init__(self, x: np.ndarray) -> None:
        self.x = x
        self._windows: dict[tuple[str, int], np.ndarray] = {}  # window sums, each computed once

    def _window(self, what: str, window: int) -> np.ndarray:
        key = (what, window)
        if key not in self._windows:
            self._windows[key] = _window_sums(getattr(self, what), window)
        return self._windows[key]

    @cached_property
    def count(self) -> np.ndarray:
        return np.cumsum(np.isfinite(self.x), axis=1, dtype=float)

    @cached_property
    def total(self) -> np.ndarray:
        return np.cumsum(nan_to_zero(self.x), axis=1)

    @cached_property
    def squares(self) -> np.ndarray:
        return np.cumsum(np.where(np.isfinite(self.x), self.x * self.x, 0.0), axis=1)

    def sum(self, window: int) -> np.ndarray:
        """Causal rolling sum over the last ``window`` days (NaN counted as 0)."""
        return self._window("total", window)

    def n(self, window: int) -> np.ndarray:
        """Causal count of non-missing days in the last ``window`` days."""
        return self._window("count", window)

    def mean(self, window: int) -> np.ndarray:
        """Causal mean of the non-missing values in the last ``window`` days (NaN when none)."""
        n = self.n(window)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, self.sum(window) / n, np.nan)

    def std(self, window: int) -> np.ndarray:
        """Causal sample SD of the values in the last ``window`` days (NaN when fewer than 2):
        ``sqrt((s2 - s1^2 / n) / (n - 1))``, negative rounding clipped to 0."""
        n = self.n(window)
        s1 = self.sum(window)
        s2 = self._window("squares", window)
        with np.errstate(invalid="ignore", divide="ignore"):
            var = s1 * s1  # in place from here on: the same operations, fewer temporaries
            var /= n
            np.subtract(s2, var, out=var)
            var /= n - 1
        np.clip(var, 0, None, out=var)
        return np.where(n > 1, np.sqrt(var, out=var), np.nan)


def rolling_sum(x: np.ndarray, window: int) -> np.ndarray:
    """Causal rolling sum over the last ``window`` days (NaN counted as 0)."""
    return RunningSums(x).sum(window)


def rolling_count(x: np.ndarray, window: int) -> np.ndarray:
    """Causal count of non-missing days in the last ``window`` days."""
    return RunningSums(x).n(window)


def rolling_mean(x: np.ndarray, window: int) -> np.ndarray:
    """Causal mean of the non-missing values in the last ``window`` days (NaN when none)."""
    return RunningSums(x).mean(window)


def rolling_std(x: np.ndarray, window: int) -> np.ndarray:
    """Causal sample SD of the values in the last ``window`` days (NaN when fewer than 2)."""
    return RunningSums(x).std(window)


def expanding_mean_std(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Causal expanding mean and SD of all non-missing values up to each day."""
    f = np.isfinite(x)
    n = np.cumsum(f, axis=1)
    s1 = np.cumsum(np.where(f, x, 0.0), axis=1)
    s2 = np.cumsum(np.where(f, x * x, 0.0), axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, s1 / n, np.nan)
        var = (s2 - s1 * s1 / np.maximum(n, 1)) / (n - 1)
        sd = np.where(n > 1, np.sqrt(np.clip(var, 0, None)), np.nan)
    return mean, sd


def _cum_count_sum(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Running count of non-missing values and running sum of them, per athlete and day."""
    f = np.isfinite(x)
    return np.cumsum(f, axis=1).astype(float), np.cumsum(np.where(f, x, 0.0), axis=1)


def _at_segment_start(
    cums: tuple[np.ndarray, ...], starts: np.ndarray
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Index of the latest segment start on each day (-1 before the first) and each running
    total as it stood the day before that start (0 when the start is day 0 or there is none)."""
    n_d = starts.shape[1]
    start = np.maximum.accumulate(np.where(starts, np.arange(n_d)[None, :], -1), axis=1)
    prev = np.clip(start - 1, 0, None)
    rows = np.arange(starts.shape[0])[:, None]
    return start, [np.where(start > 0, c[rows, prev], 0.0) for c in cums]


def segment_mean(x: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Causal mean of ``x`` since the latest segment start (``starts`` marks the first day of
    each segment, e.g. sprint test days); NaN before the first start and where no value exists.
    """
    c, v = _cum_count_sum(x)
    start, (c0, v0) = _at_segment_start((c, v), starts)
    n, s = c - c0, v - v0
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((start >= 0) & (n > 0), s / n, np.nan)


def _norm_or_to_date(
    c: np.ndarray, v: np.ndarray, c_before: np.ndarray, v_before: np.ndarray, min_days: int
) -> np.ndarray:
    """Mean of the values counted in ``c_before``/``v_before`` when there are at least
    ``min_days`` of them, else the expanding mean up to the current day."""
    with np.errstate(invalid="ignore", divide="ignore"):
        before = v_before / c_before
        to_date = np.where(c > 0, v / c, np.nan)
    return np.where(c_before >= min_days, before, to_date)


def baseline_before(x: np.ndarray, starts: np.ndarray, min_days: int = LONG_TERM_MIN_DAYS) -> np.ndarray:
    """The athlete's long-term norm as of the start of the running segment: the mean of all
    values before the latest segment start (``starts`` marks e.g. sprint test days). When fewer
    than ``min_days`` values precede that start, the expanding mean up to the current day is used
    instead. Causal: never uses a value after the current day.
    """
    c, v = _cum_count_sum(x)
    _, (c_before, v_before) = _at_segment_start((c, v), starts)
    return _norm_or_to_date(c, v, c_before, v_before, min_days)


def long_term_norm(
    x: np.ndarray, exclude_last_days: int = 7, min_days: int = LONG_TERM_MIN_DAYS
) -> np.ndarray:
    """The athlete's long-term norm: the mean of all values up to ``exclude_last_days`` before
    the current day (so the recent window being compared does not dilute its own norm). With
    fewer than ``min_days`` such values the expanding mean up to the current day is used.
    """
    c, v = _cum_count_sum(x)
    k = exclude_last_days
    c_before = np.zeros_like(c)
    v_before = np.zeros_like(v)
    c_before[:, k:] = c[:, :-k]
    v_before[:, k:] = v[:, :-k]
    return _norm_or_to_date(c, v, c_before, v_before, min_days)


def ewma(x: np.ndarray, span_days: int) -> np.ndarray:
    """Exponentially weighted moving average with alpha = 2 / (span + 1) (Williams et al. 2017).

    Missing days count as zero load; the average starts at the athlete's first day.
    """
    alpha = 2.0 / (span_days + 1.0)
    v = nan_to_zero(x)
    out = np.empty_like(v)
    acc = np.zeros(v.shape[0])
    for d in range(v.shape[1]):
        acc = alpha * v[:, d] + (1 - alpha) * acc
        out[:, d] = acc
    return out


def _last_finite(x: np.ndarray) -> np.ndarray:
    """Index of the latest day with a finite value up to each day (-1 before any)."""
    idx = np.where(np.isfinite(x), np.arange(x.shape[1])[None, :], -1)
    return np.maximum.accumulate(idx, axis=1)


def _carried(x: np.ndarray, last: np.ndarray) -> np.ndarray:
    """The value of ``x`` at index ``last`` of its row (NaN where ``last`` is -1)."""
    return np.where(last >= 0, np.take_along_axis(x, np.maximum(last, 0), axis=1), np.nan)


def forward_fill(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Carry the last non-missing value forward; also return its age in days (NaN before any)."""
    last = _last_finite(x)
    age = np.where(last >= 0, np.arange(x.shape[1])[None, :] - last, np.nan)
    return _carried(x, last), age


def carry_forward(x: np.ndarray) -> np.ndarray:
    """The last non-missing value up to each day (NaN before any): ``forward_fill(x)[0]``."""
    return _carried(x, _last_finite(x))


def lagged(x: np.ndarray, days: int) -> np.ndarray:
    """Each day's value ``days`` (>= 1) days earlier; NaN for the first ``days`` days."""
    out = np.full_like(x, np.nan)
    out[:, days:] = x[:, :-days]
    return out


def days_since(event: np.ndarray) -> np.ndarray:
    """Days since the last day where ``event`` is true (NaN before the first event)."""
    n_d = event.shape[1]
    idx = np.where(event, np.arange(n_d)[None, :], -1)
    last = np.maximum.accumulate(idx, axis=1)
    return np.where(last >= 0, np.arange(n_d)[None, :] - last, np.nan)
