"""In-situ acceleration-speed (A-S) profiles from GPS/LPS traces of ordinary training.

The method of Morin et al. (2021) and Clavel et al. (2023) as the R package {shorts}
``model_in_situ`` implements it (Jovanovic; ``R/model-in-situ.R``):

1. keep samples with acceleration ``a >= acceleration_min_m_s2`` (0) and speed ``v >= 0``;
2. cut speed into bins of ``velocity_step_m_s`` (0.2 m/s) from 0, closed on the right, the first
   bin also holding 0 (R ``cut(v, seq(0, max(v) + 1, step), include.lowest = TRUE)``);
3. keep the ``top_n`` (2) highest accelerations of every bin (ties: the earlier sample);
4. keep the kept points at or above the velocity threshold: a fixed speed, or by default the
   speed of the highest kept acceleration (lowest bin first when tied, as R ``which.max``);
5. fit ``a = MAC (1 - v / MSS)`` by least squares, i.e. the line ``a = b0 + b1 v``:
   ``MAC = b0``, ``MSS = -b0 / b1``, ``TAU = MSS / MAC``, ``PMAX = MSS MAC / 4`` (W/kg).

{shorts} fits step 5 with ``minpack.lm::nlsLM``; the line has the same least-squares optimum
and the delta method gives the same standard errors as ``summary(nls)``. Optionally
(``outlier_z``) points whose residual exceeds ``z`` residual SDs are dropped and the line is
refitted once, the rejection band of the in-situ literature.

Everything is vectorised over many traces (athlete-sessions, rolling windows): per chunk of
samples the top points of every (trace, bin) cell come from ``top_n`` passes of a scatter-max
(``np.maximum.at``) - no sort of the samples; chunks merge exactly because the top points of a
union are the top points of the parts' top points; the fits are grouped least squares from
``np.bincount`` sums.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from sprintlab.sprint.tracking import CleaningSettings

if TYPE_CHECKING:
    from sprintlab.config import InSituParams

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

MIN_POINTS = 3  # a line through fewer points has no residual SD


@dataclass(frozen=True)
class InSituSettings:
    """Binning, selection and quality limits of the in-situ fit (``params.yaml`` ``insitu``)."""

    velocity_step_m_s: float
    top_n: int
    acceleration_min_m_s2: float
    velocity_threshold_m_s: float | None
    outlier_z: float | None
    min_bins: int
    max_mss_over_top_speed: float


def settings_from_params(params: InSituParams) -> tuple[InSituSettings, CleaningSettings]:
    """The fit and cleaning settings of a ``params.yaml`` ``insitu`` block."""
    fit = InSituSettings(
        velocity_step_m_s=params.velocity_step_m_s,
        top_n=params.top_n,
        acceleration_min_m_s2=params.acceleration_min_m_s2,
        velocity_threshold_m_s=params.velocity_threshold_m_s,
        outlier_z=params.outlier_z,
        min_bins=params.min_bins,
        max_mss_over_top_speed=params.max_mss_over_top_speed,
    )
    cleaning = CleaningSettings(
        max_speed_m_s=params.max_speed_m_s,
        max_abs_acceleration_m_s2=params.max_abs_acceleration_m_s2,
        max_gap_s=params.max_gap_s,
        savgol_window_s=params.savgol_window_s,
        savgol_polyorder=params.savgol_polyorder,
    )
    return fit, cleaning


@dataclass(frozen=True)
class TopPoints:
    """Candidate points: the highest accelerations of each (group, speed bin) cell.

    ``order`` is the sample's row number in the input, which breaks ties as R's stable ``order``
    does. After :func:`merge_top_points` the points are sorted by group, bin, acceleration
    (descending) and order."""

    group: IntArray
    bin: IntArray
    velocity_m_s: FloatArray
    acceleration_m_s2: FloatArray
    order: IntArray

    @property
    def size(self) -> int:
        return int(self.group.size)

    def take(self, index: IntArray | BoolArray) -> TopPoints:
        """The points at ``index`` (indices or a mask)."""
        return TopPoints(
            self.group[index],
            self.bin[index],
            self.velocity_m_s[index],
            self.acceleration_m_s2[index],
            self.order[index],
        )


def empty_points() -> TopPoints:
    """No points."""
    i = np.zeros(0, dtype=np.int64)
    return TopPoints(i, i.copy(), np.zeros(0), np.zeros(0), i.copy())


def speed_bin(velocity_m_s: FloatArray, step_m_s: float) -> IntArray:
    """Speed bin of each velocity, numbered from 1: bin k holds ``(k-1)*step < v <= k*step`` and
    bin 1 also ``v = 0``, with the breaks computed as ``k * step`` exactly as R ``seq(0, ., step)``
    computes them (so a speed on a break falls in the same bin as in {shorts})."""
    b = np.ceil(velocity_m_s / step_m_s)
    b += b * step_m_s < velocity_m_s
    b -= (b - 1) * step_m_s >= velocity_m_s
    return np.maximum(b, 1).astype(np.int64)


def _velocity_floor(settings: InSituSettings) -> float:
    """Speed above which a sample can enter a fit with a fixed threshold: the lower break of the
    threshold's bin (points below the threshold in that bin still compete for its top places)."""
    if settings.velocity_threshold_m_s is None:
        return -np.inf
    first = int(speed_bin(np.array([settings.velocity_threshold_m_s]), settings.velocity_step_m_s)[0])
    return (first - 1) * settings.velocity_step_m_s if first > 1 else -np.inf


def top_points(
    group: IntArray,
    velocity_m_s: FloatArray,
    acceleration_m_s2: FloatArray,
    settings: InSituSettings,
    order_offset: int = 0,
) -> TopPoints:
    """The ``top_n`` highest accelerations of every (group, speed bin) cell of one chunk.

    NaN samples never qualify. Each of the ``top_n`` passes takes, per cell, the highest
    remaining acceleration with a scatter-max and the first row reaching it (ties keep the
    earlier sample); cost O(samples) per pass."""
    with np.errstate(invalid="ignore"):
        ok = (acceleration_m_s2 >= settings.acceleration_min_m_s2) & (velocity_m_s >= 0)
        ok &= velocity_m_s > _velocity_floor(settings)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return empty_points()
    g = group[rows]
    v = velocity_m_s[rows]
    b = speed_bin(v, settings.velocity_step_m_s)
    g0 = int(g.min())
    n_bins = int(b.max()) + 1
    cell = (g - g0) * n_bins + b
    work = acceleration_m_s2[rows].astype(float, copy=True)
    best = np.empty(int(cell.max()) + 1)
    chosen = []
    for _ in range(settings.top_n):
        best.fill(-np.inf)
        np.maximum.at(best, cell, work)
        hit = np.flatnonzero((work == best[cell]) & (work > -np.inf))
        if hit.size == 0:
            break
        _, first = np.unique(cell[hit], return_index=True)
        pick = hit[first]
        chosen.append(pick)
        work[pick] = -np.inf
    pick = np.concatenate(chosen)
    return TopPoints(g[pick], b[pick], v[pick], acceleration_m_s2[rows[pick]], rows[pick] + order_offset)


def merge_top_points(parts: Sequence[TopPoints], top_n: int) -> TopPoints:
    """The top points of the union of ``parts`` (exact), sorted by group, bin, acceleration
    (descending) and order."""
    if not parts:
        return empty_points()
    pts = TopPoints(*(np.concatenate([getattr(p, f) for p in parts]) for f in TopPoints.__dataclass_fields__))
    idx = np.lexsort((pts.order, -pts.acceleration_m_s2, pts.bin, pts.group))
    pts = pts.take(idx)
    return pts.take(_rank_in_cell(pts.group, pts.bin) < top_n)


def _rank_in_cell(group: IntArray, bin_: IntArray) -> IntArray:
    """0, 1, 2, ... within runs of equal (group, bin) of sorted points."""
    n = group.size
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = (group[1:] != group[:-1]) | (bin_[1:] != bin_[:-1])
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    return np.arange(n) - start


# ---------------------------------------------------------------------------------------------
# grouped line fit
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InSituFit:
    """One in-situ profile per group. Parameters are NaN where ``fit_ok`` is False; ``used``
    marks the points (of the :class:`TopPoints` given to :func:`fit_top_points`) in the fit."""

    velocity_threshold_m_s: FloatArray
    n_points: IntArray
    n_bins: IntArray
    n_rejected: IntArray
    mss_m_s: FloatArray
    mac_m_s2: FloatArray
    tau_s: FloatArray
    pmax_rel_w_kg: FloatArray
    mss_se: FloatArray
    mac_se: FloatArray
    tau_se: FloatArray
    r_squared: FloatArray
    rse_m_s2: FloatArray
    top_speed_m_s: FloatArray
    fit_ok: BoolArray
    fit_issue: NDArray[np.str_]
    used: BoolArray

    #: per-group fields, in table order
    COLUMNS = (
        "top_speed_m_s",
        "velocity_threshold_m_s",
        "n_points",
        "n_bins",
        "n_rejected",
        "mss_m_s",
        "mac_m_s2",
        "tau_s",
        "pmax_rel_w_kg",
        "mss_se",
        "mac_se",
        "tau_se",
        "r_squared",
        "rse_m_s2",
        "fit_ok",
        "fit_issue",
    )


@dataclass(frozen=True)
class _Line:
    """Least-squares line ``a = b0 + b1 v`` per group with its covariance terms."""

    n: FloatArray
    b0: FloatArray
    b1: FloatArray
    var_b0: FloatArray
    var_b1: FloatArray
    cov_b01: FloatArray
    rse: FloatArray
    r_squared: FloatArray


def _grouped_line(group: IntArray, v: FloatArray, a: FloatArray, n_groups: int) -> _Line:
    """Ordinary least squares of ``a`` on ``v`` in every group from ``np.bincount`` sums
    (centred, two passes): ``b1 = Sva / Svv``, ``b0 = mean(a) - b1 mean(v)``, residual variance
    ``s^2 = RSS / (n - 2)``, ``Var(b1) = s^2 / Svv``, ``Var(b0) = s^2 (1/n + mean(v)^2 / Svv)``,
    ``Cov(b0, b1) = -mean(v) s^2 / Svv``."""
    n = np.bincount(group, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mv = np.bincount(group, v, n_groups) / n
        ma = np.bincount(group, a, n_groups) / n
        dv = v - mv[group]
        da = a - ma[group]
        svv = np.bincount(group, dv * dv, n_groups)
        b1 = np.bincount(group, dv * da, n_groups) / svv
        b0 = ma - b1 * mv
        resid = da - b1[group] * dv
        rss = np.bincount(group, resid * resid, n_groups)
        syy = np.bincount(group, da * da, n_groups)
        s2 = np.where(n > 2, rss / (n - 2), np.nan)
        return _Line(
            n=n,
            b0=b0,
            b1=b1,
            var_b0=s2 * (1.0 / n + mv * mv / svv),
            var_b1=s2 / svv,
            cov_b01=-mv * s2 / svv,
            rse=np.sqrt(s2),
            r_squared=np.where(syy > 0, 1.0 - rss / syy, np.nan),
        )


def _thresholds(points: TopPoints, n_groups: int, settings: InSituSettings) -> FloatArray:
    """Velocity threshold per group: the fixed one, or the speed of the first point (bin order)
    holding the group's highest acceleration, as {shorts} ``which.max``."""
    if settings.velocity_threshold_m_s is not None:
        return np.full(n_groups, float(settings.velocity_threshold_m_s))
    out = np.full(n_groups, np.nan)
    if points.size == 0:
        return out
    best = np.full(n_groups, -np.inf)
    np.maximum.at(best, points.group, points.acceleration_m_s2)
    hit = np.flatnonzero(points.acceleration_m_s2 == best[points.group])
    groups, first = np.unique(points.group[hit], return_index=True)
    out[groups] = points.velocity_m_s[hit[first]]
    return out


def _fit_used(points: TopPoints, used: BoolArray, n_groups: int) -> _Line:
    """The line through the used points of every group."""
    return _grouped_line(
        points.group[used], points.velocity_m_s[used], points.acceleration_m_s2[used], n_groups
    )


def _reject_outliers(points: TopPoints, used: BoolArray, line: _Line, z: float) -> BoolArray:
    """Used points whose residual is within ``z`` residual SDs of their group's line."""
    g = points.group
    with np.errstate(invalid="ignore"):
        resid = points.acceleration_m_s2 - (line.b0[g] + line.b1[g] * points.velocity_m_s)
        outside = np.abs(resid) > z * line.rse[g]
    return used & ~outside


def _distinct_bins(points: TopPoints, used: BoolArray, n_groups: int) -> IntArray:
    """Number of distinct speed bins among the used points of each group (points sorted)."""
    g, b = points.group[used], points.bin[used]
    new = np.ones(g.size, dtype=bool)
    new[1:] = (g[1:] != g[:-1]) | (b[1:] != b[:-1])
    return np.bincount(g[new], minlength=n_groups).astype(np.int64)


def fit_top_points(
    points: TopPoints, n_groups: int, top_speed_m_s: FloatArray, settings: InSituSettings
) -> InSituFit:
    """Fit ``a = MAC (1 - v / MSS)`` to the merged top points of every group (see the module
    docstring). ``top_speed_m_s``: each group's fastest usable speed, for the quality check
    ``MSS <= (1 + max_mss_over_top_speed) * top speed``."""
    thr = _thresholds(points, n_groups, settings)
    with np.errstate(invalid="ignore"):
        used = points.velocity_m_s >= thr[points.group]
    line = _fit_used(points, used, n_groups)
    n_first = line.n.astype(np.int64)
    if settings.outlier_z is not None:
        used = _reject_outliers(points, used, line, settings.outlier_z)
        line = _fit_used(points, used, n_groups)
    n_points = line.n.astype(np.int64)
    n_bins = _distinct_bins(points, used, n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mss = -line.b0 / line.b1
        var_mss = (
            line.var_b0 / line.b1**2
            + line.b0**2 / line.b1**4 * line.var_b1
            - 2.0 * line.b0 / line.b1**3 * line.cov_b01
        )
        tau_se = np.sqrt(line.var_b1) / line.b1**2
    issue = _fit_issues(n_points, n_bins, line.b1, mss, top_speed_m_s, settings)
    ok = issue == ""
    nan = np.full(n_groups, np.nan)
    return InSituFit(
        velocity_threshold_m_s=thr,
        n_points=n_points,
        n_bins=n_bins,
        n_rejected=n_first - n_points,
        mss_m_s=np.where(ok, mss, nan),
        mac_m_s2=np.where(ok, line.b0, nan),
        tau_s=np.where(ok, -1.0 / line.b1, nan),
        pmax_rel_w_kg=np.where(ok, mss * line.b0 / 4.0, nan),
        mss_se=np.where(ok, np.sqrt(var_mss), nan),
        mac_se=np.where(ok, np.sqrt(line.var_b0), nan),
        tau_se=np.where(ok, tau_se, nan),
        r_squared=np.where(ok, line.r_squared, nan),
        rse_m_s2=np.where(ok, line.rse, nan),
        top_speed_m_s=top_speed_m_s,
        fit_ok=ok,
        fit_issue=issue,
        used=used,
    )


def _fit_issues(
    n_points: IntArray,
    n_bins: IntArray,
    slope: FloatArray,
    mss_m_s: FloatArray,
    top_speed_m_s: FloatArray,
    settings: InSituSettings,
) -> NDArray[np.str_]:
    """The first quality problem of each group's fit ("" when none): no usable samples, no
    points, too few speed bins, acceleration not falling with speed, MSS too far above the
    fastest speed recorded."""
    limit = settings.max_mss_over_top_speed
    issue = np.full(n_points.size, "", dtype=object)
    with np.errstate(invalid="ignore"):
        too_fast = mss_m_s > (1.0 + limit) * top_speed_m_s
        rules = [
            (
                ~np.isfinite(top_speed_m_s),
                lambda i: "no usable samples (all missing, duplicate or implausible)",
            ),
            (n_points == 0, lambda i: "no accelerating samples at or above the velocity threshold"),
            (
                (n_bins < settings.min_bins) | (n_points < MIN_POINTS),
                lambda i: f"too few speed bins: {n_bins[i]} < {settings.min_bins}",
            ),
            (~(slope < 0), lambda i: "acceleration does not fall with speed (no decline to extrapolate)"),
            (
                too_fast,
                lambda i: (
                    f"MSS {mss_m_s[i]:.2f} m/s is more than {limit:.0%} above the fastest speed "
                    f"recorded ({top_speed_m_s[i]:.2f} m/s)"
                ),
            ),
        ]
    for mask, text in rules:
        for i in np.flatnonzero(mask & (issue == "")):
            issue[i] = text(i)
    return issue.astype(str)


# ---------------------------------------------------------------------------------------------
# many traces, chunk by chunk
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReducedTraces:
    """What the fits need from the samples of ``n_groups`` traces: their merged top points, the
    sample counts (:data:`sprintlab.sprint.tracking.COUNT_COLUMNS`) and the fastest usable speed."""

    points: TopPoints
    counts: dict[str, IntArray]
    top_speed_m_s: FloatArray
    n_groups: int


def _chunks(group: IntArray, chunk_samples: int) -> list[tuple[int, int]]:
    """Row ranges of about ``chunk_samples`` rows that never split a trace (a longer trace is a
    chunk of its own)."""
    n = group.size
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1]))) if n else np.zeros(0, np.int64)
    out = []
    lo = 0
    while lo < n:
        k = int(np.searchsorted(starts, lo + chunk_samples, side="left"))
        hi = int(starts[k]) if k < starts.size else n
        hi = hi if hi > lo else n
        out.append((lo, hi))
        lo = hi
    return out


def reduce_traces(
    group: IntArray,
    time_s: FloatArray | None,
    velocity_m_s: FloatArray,
    acceleration_m_s2: FloatArray | None,
    n_groups: int,
    settings: InSituSettings,
    cleaning: CleaningSettings,
    chunk_samples: int,
) -> ReducedTraces:
    """Clean (:func:`sprintlab.sprint.tracking.clean_trace`) and reduce many traces to their
    top points, ``chunk_samples`` rows at a time (whole traces per chunk, rows sorted by
    ``(group, time)``; ``group`` numbers the traces ``0..n_groups-1``). Memory is bounded by the
    chunk, whatever the number of samples."""
    from sprintlab.sprint.tracking import COUNT_COLUMNS, clean_trace

    counts = {c: np.zeros(n_groups, dtype=np.int64) for c in COUNT_COLUMNS}
    top = np.full(n_groups, -np.inf)
    parts = []
    for lo, hi in _chunks(group, chunk_samples):
        g = group[lo:hi]
        g0 = int(g.min())
        local = g - g0
        n_local = int(local.max()) + 1
        clean = clean_trace(
            local,
            None if time_s is None else time_s[lo:hi],
            velocity_m_s[lo:hi],
            None if acceleration_m_s2 is None else acceleration_m_s2[lo:hi],
            n_local,
            cleaning,
        )
        for c in COUNT_COLUMNS:
            counts[c][g0 : g0 + n_local] += clean.counts[c]
        top[g0 : g0 + n_local] = np.fmax(
            top[g0 : g0 + n_local], np.nan_to_num(clean.top_speed_m_s, nan=-np.inf)
        )
        pts = top_points(local, clean.velocity_m_s, clean.acceleration_m_s2, settings, order_offset=lo)
        parts.append(TopPoints(pts.group + g0, pts.bin, pts.velocity_m_s, pts.acceleration_m_s2, pts.order))
    return ReducedTraces(
        points=merge_top_points(parts, settings.top_n),
        counts=counts,
        top_speed_m_s=np.where(np.isfinite(top), top, np.nan),
        n_groups=n_groups,
    )


def trace_windows(
    trace_athlete: IntArray,
    trace_day: IntArray,
    window_athlete: IntArray,
    window_end_day: IntArray,
    window_days: int,
) -> tuple[IntArray, IntArray, IntArray]:
    """Which rolling windows hold which traces: window ``w`` holds the traces of athlete
    ``window_athlete[w]`` dated in ``(window_end_day[w] - window_days, window_end_day[w]]``.

    Windows must be sorted by (athlete, end day). Returns the first window of every trace, the
    number of windows holding it, and the (trace, window) pairs as two arrays."""
    span = int(max(trace_day.max(initial=0), window_end_day.max(initial=0))) + window_days + 1
    key_w = window_athlete.astype(np.int64) * span + window_end_day
    key_t = trace_athlete.astype(np.int64) * span + trace_day
    first = np.searchsorted(key_w, key_t, side="left").astype(np.int64)
    count = (np.searchsorted(key_w, key_t + window_days - 1, side="right") - first).astype(np.int64)
    return first, count, np.stack(_expand(first, count))


def window_fits(
    reduced: ReducedTraces,
    trace_athlete: IntArray,
    trace_day: IntArray,
    window_athlete: IntArray,
    window_end_day: IntArray,
    window_days: int,
    settings: InSituSettings,
) -> InSituFit:
    """One profile per rolling window (see :func:`trace_windows`; days as integers).

    A trace's top points are the top points of its samples, so a window's top points are the
    top points of its traces' points: each trace's points are copied to every window holding it
    and merged - the same result as fitting the window's samples at once."""
    n_windows = int(window_athlete.size)
    first, count, (trace, window) = trace_windows(
        trace_athlete, trace_day, window_athlete, window_end_day, window_days
    )
    top = np.full(n_windows, -np.inf)
    np.maximum.at(top, window, np.nan_to_num(reduced.top_speed_m_s[trace], nan=-np.inf))
    pts = reduced.points
    point, point_window = _expand(first[pts.group], count[pts.group])
    copied = pts.take(point)
    copied = TopPoints(point_window, copied.bin, copied.velocity_m_s, copied.acceleration_m_s2, copied.order)
    merged = merge_top_points([copied], settings.top_n)
    return fit_top_points(merged, n_windows, np.where(np.isfinite(top), top, np.nan), settings)


def _expand(first: IntArray, count: IntArray) -> tuple[IntArray, IntArray]:
    """Item ``i`` repeated ``count[i]`` times, paired with ``first[i], first[i] + 1, ...``."""
    rep = np.repeat(np.arange(count.size), count)
    offset = np.cumsum(count) - count
    return rep, first[rep] + (np.arange(rep.size) - offset[rep])
