"""Vectorised fits of the mono-exponential sprint model.

* :func:`fit_timing_gates` - split times from timing gates, with start corrections
  (``none``, ``tc``, ``fd``, ``dc``, ``fixed:SECONDS``), following {shorts}
  ``model_timing_gates*`` (Jovanovic & Vescovi 2022).
* :func:`fit_radar` - velocity-time traces (radar / laser), ``v = MSS (1 - e^(-(t + TC)/TAU))``
  as {shorts} ``model_radar_gun``.
* :func:`fit_distance_trace` - distance-time traces, ``d_obs = d(t + TC) + DC`` as {shorts}
  ``model_time_distance_TC_DC`` (sign of TC flipped so that, package-wide, *motion time =
  device time + TC*).

Every function accepts one trial (1-D arrays) or many trials at once (2-D arrays padded with
NaN, one row per trial) and fits all of them in one batched Levenberg-Marquardt
(:mod:`sprintlab.sprint.lm`). Invalid trials get ``fit_ok = False`` and a ``fit_issue`` text;
they never stop the other trials.

Start corrections for timing gates (t_obs = device time at the gate at distance d):

=========  ==================================================  ===============================
name       model for the observed split time                   extra parameter (bounds)
=========  ==================================================  ===============================
none       t_obs = t(d)                                        -
fixed:S    t_obs + S = t(d)   (S known, e.g. 0.3 s)            -
tc         t_obs + TC = t(d)                                   TC (s), [-3, 3]
fd         t_obs = t(d + FD) - t(FD)                           FD (m) >= 0 (via t_FD in [0, 1.5] s)
dc         t_obs = t(d - DC)                                   DC (m), [-20, min(d) - 0.001]
=========  ==================================================  ===============================

``tc`` uses the opposite sign to {shorts} v3 ``model_timing_gates_TC`` (which fits
``t_obs = t(d) + TC``) so that a positive TC means "the clock started TC seconds after motion
began", the same meaning as the fixed +0.3 s correction. ``fd`` is estimated internally through
the flying time ``t_FD = t(FD)`` (``FD = d(t_FD)``), a monotone re-parameterisation that removes
the infinite derivative of ``t(FD)`` at FD = 0 and has the same least-squares optimum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sprintlab.sprint.lm import batched_lm, covariance
from sprintlab.sprint.model import distance, time_at_distance, time_derivatives, velocity

FloatArray = NDArray[np.float64]

MSS_BOUNDS = (0.5, 25.0)
TAU_BOUNDS = (0.02, 10.0)
TC_BOUNDS = (-3.0, 3.0)
TFD_BOUNDS = (0.0, 1.5)
DC_LOWER = -20.0
PLAUSIBLE_MSS = (2.5, 13.0)
PLAUSIBLE_TAU = (0.1, 4.0)

CORRECTIONS = ("none", "tc", "fd", "dc", "fixed:SECONDS")


def parse_correction(correction: str) -> tuple[str, float]:
    """Parse a correction name into ``(kind, fixed_shift_s)``; ``fixed:0.3`` -> ``("fixed", 0.3)``."""
    c = correction.strip().lower()
    if c in ("none", "tc", "fd", "dc"):
        return c, 0.0
    if c.startswith("fixed:"):
        try:
            shift = float(c.split(":", 1)[1])
        except ValueError as exc:
            raise ValueError(f"bad fixed correction {correction!r}; use e.g. 'fixed:0.3'") from exc
        if not np.isfinite(shift):
            raise ValueError(f"bad fixed correction {correction!r}")
        return "fixed", shift
    raise ValueError(f"unknown correction {correction!r}; expected one of {CORRECTIONS}")


def _as_2d(x: ArrayLike) -> FloatArray:
    a = np.asarray(x, dtype=float)
    if a.ndim == 1:
        a = a[None, :]
    if a.ndim != 2:
        raise ValueError("expected 1-D (one trial) or 2-D (trials x points) arrays")
    return a


def _issue(issues: NDArray[np.object_], mask: NDArray[np.bool_], text: str) -> None:
    """Record ``text`` for trials in ``mask`` that have no issue yet (first issue wins)."""
    sel = mask & (issues == "")
    issues[sel] = text


@dataclass
class GateFit:
    """Result of :func:`fit_timing_gates`; every field is an array over trials (length B)."""

    correction: str
    mss_m_s: FloatArray
    tau_s: FloatArray
    mac_m_s2: FloatArray
    pmax_rel_w_kg: FloatArray
    time_correction_s: FloatArray
    flying_distance_m: FloatArray
    distance_correction_m: FloatArray
    mss_se: FloatArray
    tau_se: FloatArray
    correction_se: FloatArray
    rmse_s: FloatArray
    rse_s: FloatArray
    n_splits: NDArray[np.int64]
    converged: NDArray[np.bool_]
    fit_ok: NDArray[np.bool_]
    fit_issue: NDArray[np.object_]
    pred_time_s: FloatArray = field(repr=False)  # (B, n) on the device clock, aligned to input

    def predict_gate_time(self, distance_m: ArrayLike) -> FloatArray:
        """Predicted device time at each distance (rows = trials), same clock as the observed splits."""
        d = np.asarray(distance_m, dtype=float)
        d2 = np.broadcast_to(d if d.ndim == 2 else d[None, :], (self.mss_m_s.size, d.shape[-1]))
        return gate_time(
            d2,
            self.mss_m_s,
            self.tau_s,
            self.correction,
            self.time_correction_s,
            self.flying_distance_m,
            self.distance_correction_m,
        )


def gate_time(
    distance_m: FloatArray,
    mss_m_s: FloatArray,
    tau_s: FloatArray,
    correction: str,
    time_correction_s: FloatArray | None = None,
    flying_distance_m: FloatArray | None = None,
    distance_correction_m: FloatArray | None = None,
) -> FloatArray:
    """Device time predicted at gate distance d (rows = trials) for a fitted correction model.

    none: t(d); fixed:S: t(d) - S; tc: t(d) - TC; fd: t(d + FD) - t(FD); dc: t(d - DC).
    """
    kind, shift = parse_correction(correction)
    d = np.asarray(distance_m, dtype=float)
    mss = np.asarray(mss_m_s, dtype=float)[:, None]
    tau = np.asarray(tau_s, dtype=float)[:, None]
    if kind == "none":
        return time_at_distance(d, mss, tau)
    if kind == "fixed":
        return time_at_distance(d, mss, tau) - shift
    if kind == "tc":
        assert time_correction_s is not None
        return time_at_distance(d, mss, tau) - np.asarray(time_correction_s)[:, None]
    if kind == "fd":
        assert flying_distance_m is not None
        fd = np.asarray(flying_distance_m)[:, None]
        return time_at_distance(d + fd, mss, tau) - time_at_distance(fd, mss, tau)
    assert distance_correction_m is not None
    return time_at_distance(d - np.asarray(distance_correction_m)[:, None], mss, tau)


def _validate_splits(
    d: FloatArray, t: FloatArray, shift: float
) -> tuple[NDArray[np.object_], FloatArray, FloatArray, NDArray[np.bool_], NDArray[np.intp]]:
    """Sort each trial by distance and flag impossible inputs (vectorised over trials)."""
    n_trials = d.shape[0]
    issues = np.full(n_trials, "", dtype=object)
    fin_d, fin_t = np.isfinite(d), np.isfinite(t)
    pad = ~fin_d & ~fin_t
    _issue(issues, (fin_d ^ fin_t).any(axis=1), "missing distance or time value")
    valid = fin_d & fin_t
    with np.errstate(invalid="ignore"):
        _issue(issues, (valid & ((d <= 0) | (t <= 0))).any(axis=1), "non-positive distance or time")
        if shift != 0.0:
            _issue(issues, (valid & (t + shift <= 0)).any(axis=1), "time + fixed correction is non-positive")
    order = np.argsort(np.where(valid, d, np.inf), axis=1, kind="stable")
    ds = np.take_along_axis(np.where(valid, d, np.nan), order, axis=1)
    ts = np.take_along_axis(np.where(valid, t, np.nan), order, axis=1)
    vs = np.take_along_axis(valid, order, axis=1)
    both = vs[:, 1:] & vs[:, :-1]
    with np.errstate(invalid="ignore"):
        _issue(issues, (both & (np.diff(ds, axis=1) == 0)).any(axis=1), "duplicate gate distance")
        _issue(issues, (both & (np.diff(ts, axis=1) <= 0)).any(axis=1), "times not increasing with distance")
    del pad
    return issues, ds, ts, vs, order


def fit_timing_gates(
    distance_m: ArrayLike,
    time_s: ArrayLike,
    correction: str = "none",
    *,
    max_iter: int = 200,
) -> GateFit:
    """Fit MSS and TAU (plus the correction parameter) to timing-gate splits, for many trials at once.

    ``distance_m``/``time_s``: 1-D (one trial) or 2-D ``(trials, gates)`` arrays; trailing NaN
    pairs are padding. Least squares on time (as {shorts} ``model_timing_gates*`` with nlsLM):
    minimise ``sum (t_obs - t_pred)^2`` with MSS in [0.5, 25] m/s and TAU in [0.02, 10] s.

    Reported fit statistics (R ``nls`` conventions): ``RMSE = sqrt(RSS / n)``,
    ``RSE = sqrt(RSS / (n - p))``; standard errors from ``RSE^2 (J'J)^-1`` at the solution.
    ``PMAX = MSS * MAC / 4`` (W/kg, no air resistance) as {shorts}.
    """
    kind, shift = parse_correction(correction)
    d_raw, t_raw = _as_2d(distance_m), _as_2d(time_s)
    if d_raw.shape != t_raw.shape:
        raise ValueError(f"distance and time shapes differ: {d_raw.shape} vs {t_raw.shape}")
    n_trials, n_pts = d_raw.shape
    n_par = 2 if kind in ("none", "fixed") else 3
    issues, ds, ts, vs, order = _validate_splits(d_raw, t_raw, shift)
    n_splits = vs.sum(axis=1).astype(np.int64)
    _issue(issues, n_splits < n_par, f"fewer splits than the {n_par} model parameters")

    fit_rows = np.flatnonzero(issues == "")
    mss = np.full(n_trials, np.nan)
    tau = np.full(n_trials, np.nan)
    extra = np.full(n_trials, np.nan)
    se = np.full((n_trials, n_par), np.nan)
    rss = np.full(n_trials, np.nan)
    converged = np.zeros(n_trials, dtype=bool)
    pred_sorted = np.full((n_trials, n_pts), np.nan)

    if fit_rows.size:
        m = vs[fit_rows]
        dd = np.where(m, ds[fit_rows], 1.0)  # padded slots get harmless values, zero weight
        yy = np.where(m, ts[fit_rows] + shift, 0.0)
        w = m.astype(float)
        min_d = np.nanmin(np.where(m, dd, np.nan), axis=1)
        p0, lo, hi = _gate_start(dd, yy, m, kind, min_d)
        fun = _gate_residual_fn(dd, yy, w, kind)
        res = batched_lm(fun, p0, lo, hi, max_iter=max_iter)
        mss[fit_rows] = res.params[:, 0]
        tau[fit_rows] = res.params[:, 1]
        if n_par == 3:
            extra[fit_rows] = res.params[:, 2]
        converged[fit_rows] = res.converged
        rss[fit_rows] = 2.0 * res.cost
        cov = covariance(res.jacobian, res.residuals, n_splits[fit_rows])
        if kind == "fd":
            # delta method: FD = d(t_FD; MSS, TAU) -> gradient row for the FD standard error
            tf, ms, ta = res.params[:, 2], res.params[:, 0], res.params[:, 1]
            grad = np.stack(
                [
                    distance(tf, ms, ta) / ms,
                    ms * (np.exp(-tf / ta) * (1.0 + tf / ta) - 1.0),
                    velocity(tf, ms, ta),
                ],
                axis=1,
            )
            var_fd = np.einsum("mp,mpq,mq->m", grad, cov, grad)
            cov[:, 2, 2] = var_fd
        se[fit_rows] = np.sqrt(np.einsum("mpp->mp", cov))
        pred_sorted[fit_rows] = np.where(m, yy + res.residuals - shift, np.nan)

        # post-fit checks
        sub = issues[fit_rows]
        _issue(sub, ~res.converged, "optimiser did not converge")
        at_b = (
            np.isclose(res.params[:, 0], lo[:, 0])
            | np.isclose(res.params[:, 0], hi[:, 0])
            | np.isclose(res.params[:, 1], lo[:, 1])
            | np.isclose(res.params[:, 1], hi[:, 1])
        )
        _issue(sub, at_b, "MSS or TAU at its optimiser bound")
        if kind in ("tc", "dc"):
            at_c = np.isclose(res.params[:, 2], lo[:, 2]) | np.isclose(res.params[:, 2], hi[:, 2])
            _issue(sub, at_c, f"{kind.upper()} at its optimiser bound")
        if kind == "fd":
            _issue(sub, np.isclose(res.params[:, 2], hi[:, 2]), "FD at its optimiser bound")
        bad_mss = (res.params[:, 0] < PLAUSIBLE_MSS[0]) | (res.params[:, 0] > PLAUSIBLE_MSS[1])
        bad_tau = (res.params[:, 1] < PLAUSIBLE_TAU[0]) | (res.params[:, 1] > PLAUSIBLE_TAU[1])
        _issue(sub, bad_mss, f"implausible MSS (outside {PLAUSIBLE_MSS} m/s)")
        _issue(sub, bad_tau, f"implausible TAU (outside {PLAUSIBLE_TAU} s)")
        issues[fit_rows] = sub

    # undo the sort so predictions align with the input columns
    pred = np.full((n_trials, n_pts), np.nan)
    np.put_along_axis(pred, order, pred_sorted, axis=1)

    dof = n_splits - n_par
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(rss / n_splits)
        rse = np.where(dof > 0, np.sqrt(rss / np.where(dof > 0, dof, 1)), np.nan)
    tc = np.where(kind == "tc", extra, np.nan) if kind == "tc" else np.full(n_trials, np.nan)
    fd = distance(extra, mss, tau) if kind == "fd" else np.full(n_trials, np.nan)
    dc = extra if kind == "dc" else np.full(n_trials, np.nan)
    if kind == "fixed":
        tc = np.full(n_trials, shift)
    fit_ok = issues == ""
    return GateFit(
        correction=correction,
        mss_m_s=mss,
        tau_s=tau,
        mac_m_s2=mss / tau,
        pmax_rel_w_kg=mss * (mss / tau) / 4.0,
        time_correction_s=tc,
        flying_distance_m=fd,
        distance_correction_m=dc,
        mss_se=se[:, 0],
        tau_se=se[:, 1],
        correction_se=se[:, 2] if n_par == 3 else np.full(n_trials, np.nan),
        rmse_s=rmse,
        rse_s=rse,
        n_splits=n_splits,
        converged=converged,
        fit_ok=fit_ok,
        fit_issue=issues,
        pred_time_s=pred,
    )


def _gate_start(
    dd: FloatArray, yy: FloatArray, m: NDArray[np.bool_], kind: str, min_d: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Data-driven start values and per-trial bounds."""
    n = dd.shape[0]
    n_valid = m.sum(axis=1)
    last = n_valid - 1
    prev = np.maximum(n_valid - 2, 0)
    rows = np.arange(n)
    d_last, t_last = dd[rows, last], yy[rows, last]
    d_prev = np.where(n_valid > 1, dd[rows, prev], 0.0)
    t_prev = np.where(n_valid > 1, yy[rows, prev], 0.0)
    with np.errstate(all="ignore"):
        v_seg = (d_last - d_prev) / (t_last - t_prev)
    mss0 = np.clip(np.nan_to_num(1.1 * v_seg, nan=7.0), 3.0, 14.0)
    tau0 = np.clip(t_last - d_last / mss0, 0.3, 2.0)
    cols = [mss0, tau0]
    lo = [np.full(n, MSS_BOUNDS[0]), np.full(n, TAU_BOUNDS[0])]
    hi = [np.full(n, MSS_BOUNDS[1]), np.full(n, TAU_BOUNDS[1])]
    if kind == "tc":
        cols.append(np.zeros(n))
        lo.append(np.full(n, TC_BOUNDS[0]))
        hi.append(np.full(n, TC_BOUNDS[1]))
    elif kind == "fd":
        cols.append(np.full(n, 0.05))
        lo.append(np.full(n, TFD_BOUNDS[0]))
        hi.append(np.full(n, TFD_BOUNDS[1]))
    elif kind == "dc":
        cols.append(np.zeros(n))
        lo.append(np.full(n, DC_LOWER))
        hi.append(min_d - 1e-3)
    return np.stack(cols, axis=1), np.stack(lo, axis=1), np.stack(hi, axis=1)


def _gate_residual_fn(dd: FloatArray, yy: FloatArray, w: FloatArray, kind: str):
    """Residuals ``t_pred - y`` and analytic Jacobians for the gate models (see module doc)."""

    def fun(p: FloatArray, idx: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        d, y, ww = dd[idx], yy[idx], w[idx]
        mss, tau = p[:, 0:1], p[:, 1:2]
        if kind in ("none", "fixed", "tc"):
            big_t = time_at_distance(d, mss, tau)
            _, t_mss, t_tau = time_derivatives(big_t, d, mss, tau)
            pred = big_t
            cols = [t_mss, t_tau]
            if kind == "tc":
                pred = big_t - p[:, 2:3]
                cols.append(-np.ones_like(big_t))
        elif kind == "fd":
            tf = p[:, 2:3]
            fd = distance(tf, mss, tau)
            dtot = d + fd
            big_t = time_at_distance(dtot, mss, tau)
            t_d, t_mss, t_tau = time_derivatives(big_t, dtot, mss, tau)
            fd_mss = fd / mss
            fd_tau = mss * (np.exp(-tf / tau) * (1.0 + tf / tau) - 1.0)
            fd_tf = velocity(tf, mss, tau)
            pred = big_t - tf
            cols = [t_mss + t_d * fd_mss, t_tau + t_d * fd_tau, t_d * fd_tf - 1.0]
        else:  # dc
            dshift = d - p[:, 2:3]
            big_t = time_at_distance(dshift, mss, tau)
            t_d, t_mss, t_tau = time_derivatives(big_t, dshift, mss, tau)
            pred = big_t
            cols = [t_mss, t_tau, -t_d]
        r = (pred - y) * ww
        jac = np.stack([c * ww for c in cols], axis=2)
        return r, jac

    return fun


# ---------------------------------------------------------------------------------------------
# traces
# ---------------------------------------------------------------------------------------------


@dataclass
class TraceFit:
    """Result of :func:`fit_radar` / :func:`fit_distance_trace` (arrays over traces)."""

    mss_m_s: FloatArray
    tau_s: FloatArray
    mac_m_s2: FloatArray
    pmax_rel_w_kg: FloatArray
    time_correction_s: FloatArray
    distance_correction_m: FloatArray
    mss_se: FloatArray
    tau_se: FloatArray
    rmse: FloatArray
    rse: FloatArray
    n_points: NDArray[np.int64]
    converged: NDArray[np.bool_]
    fit_ok: NDArray[np.bool_]
    fit_issue: NDArray[np.object_]


def _trace_prepare(t_raw: FloatArray, y_raw: FloatArray) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    issues = np.full(t_raw.shape[0], "", dtype=object)
    valid = np.isfinite(t_raw) & np.isfinite(y_raw)
    tt = np.where(valid, t_raw, np.nan)
    # time must increase over the valid samples (in given order)
    with np.errstate(invalid="ignore"):
        prev = np.fmax.accumulate(np.where(valid, tt, -np.inf), axis=1)
        back = valid[:, 1:] & (tt[:, 1:] <= prev[:, :-1])
    _issue(issues, back.any(axis=1), "time not strictly increasing in trace")
    return issues, valid


def fit_radar(
    time_s: ArrayLike,
    velocity_m_s: ArrayLike,
    *,
    time_correction: bool = True,
    clamp_before_start: bool = False,
    max_iter: int = 200,
) -> TraceFit:
    """Fit a velocity-time trace (radar or laser gun), many traces at once.

    Model ({shorts} ``model_radar_gun``): ``v(t) = MSS (1 - e^(-(t + TC)/TAU))`` with TC estimated
    when ``time_correction`` (else TC = 0). With ``clamp_before_start`` the model velocity is 0
    for ``t + TC < 0`` (use for traces that include samples before the athlete moves; off by
    default to match {shorts}). NaN samples (dropouts) are ignored. ``rmse``/``rse`` in m/s.
    """
    t_raw, v_raw = _as_2d(time_s), _as_2d(velocity_m_s)
    if t_raw.shape != v_raw.shape:
        raise ValueError("time and velocity shapes differ")
    issues, valid = _trace_prepare(t_raw, v_raw)
    n_par = 3 if time_correction else 2

    def model(p: FloatArray, t: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        mss, tau = p[:, 0:1], p[:, 1:2]
        tc = p[:, 2:3] if time_correction else 0.0
        s = t + tc
        if clamp_before_start:
            s = np.maximum(s, 0.0)
        e = np.exp(-s / tau)
        pred = mss * (1.0 - e)
        moving = (s > 0) if clamp_before_start else np.ones_like(s, dtype=bool)
        cols = [1.0 - e, -mss * e * s / tau**2]
        if time_correction:
            cols.append(np.where(moving, mss * e / tau, 0.0))
        return pred, cols

    def start(t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
        vmax = np.nanmax(np.where(m, y, np.nan), axis=1)
        cols = [np.clip(np.nan_to_num(vmax, nan=7.0), 1.0, 14.0), np.full(t.shape[0], 0.8)]
        if time_correction:
            cols.append(np.zeros(t.shape[0]))
        return np.stack(cols, axis=1)

    return _fit_trace(
        t_raw, v_raw, valid, issues, n_par, model, start, max_iter, "tc" if time_correction else ""
    )


def fit_distance_trace(
    time_s: ArrayLike,
    distance_m: ArrayLike,
    *,
    time_correction: bool = True,
    distance_correction: bool = True,
    max_iter: int = 200,
) -> TraceFit:
    """Fit a distance-time trace (laser, LPS, video), many traces at once.

    Model ({shorts} ``model_time_distance_TC_DC`` with TC sign flipped):
    ``d_obs(t) = d(max(t + TC, 0)) + DC`` with ``d(s) = MSS (s + TAU e^(-s/TAU)) - MSS TAU``.
    TC and DC are optional. ``rmse``/``rse`` in metres.
    """
    t_raw, d_raw = _as_2d(time_s), _as_2d(distance_m)
    if t_raw.shape != d_raw.shape:
        raise ValueError("time and distance shapes differ")
    issues, valid = _trace_prepare(t_raw, d_raw)
    n_par = 2 + int(time_correction) + int(distance_correction)

    def model(p: FloatArray, t: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        mss, tau = p[:, 0:1], p[:, 1:2]
        j = 2
        tc: FloatArray | float = 0.0
        dc: FloatArray | float = 0.0
        if time_correction:
            tc = p[:, j : j + 1]
            j += 1
        if distance_correction:
            dc = p[:, j : j + 1]
        s = np.maximum(t + tc, 0.0)
        e = np.exp(-s / tau)
        dist = mss * (s + tau * np.expm1(-s / tau))
        pred = dist + dc
        cols = [dist / mss, mss * (e * (1.0 + s / tau) - 1.0)]
        if time_correction:
            cols.append(np.where(s > 0, mss * (1.0 - e), 0.0))
        if distance_correction:
            cols.append(np.ones_like(s))
        return pred, cols

    def start(t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
        n = t.shape[0]
        # crude MSS start: slope over the last third of the trace
        tt = np.where(m, t, np.nan)
        yy = np.where(m, y, np.nan)
        tmax = np.nanmax(tt, axis=1)
        tmin = np.nanmin(tt, axis=1)
        late = m & (t >= (tmin + 2.0 * (tmax - tmin) / 3.0)[:, None])
        with np.errstate(all="ignore"):
            tl = np.where(late, t, np.nan)
            yl = np.where(late, y, np.nan)
            tm, ym = np.nanmean(tl, axis=1), np.nanmean(yl, axis=1)
            slope = np.nansum((tl - tm[:, None]) * (yl - ym[:, None]), axis=1) / np.nansum(
                (tl - tm[:, None]) ** 2, axis=1
            )
        cols = [np.clip(np.nan_to_num(1.05 * slope, nan=7.0), 2.0, 14.0), np.full(n, 0.8)]
        if time_correction:
            cols.append(np.zeros(n))
        if distance_correction:
            cols.append(np.nan_to_num(np.nanmin(yy, axis=1), nan=0.0))
        return np.stack(cols, axis=1)

    extra = ("tc" if time_correction else "") + ("dc" if distance_correction else "")
    return _fit_trace(t_raw, d_raw, valid, issues, n_par, model, start, max_iter, extra)


def _fit_trace(t_raw, y_raw, valid, issues, n_par, model, start, max_iter, extra) -> TraceFit:
    n_trials = t_raw.shape[0]
    n_points = valid.sum(axis=1).astype(np.int64)
    _issue(issues, n_points < max(n_par + 2, 6), "too few valid samples in trace")
    rows = np.flatnonzero(issues == "")
    out = {k: np.full(n_trials, np.nan) for k in ("mss", "tau", "tc", "dc", "mss_se", "tau_se", "rss")}
    converged = np.zeros(n_trials, dtype=bool)
    if rows.size:
        m = valid[rows]
        t = np.where(m, t_raw[rows], 0.0)
        y = np.where(m, y_raw[rows], 0.0)
        w = m.astype(float)

        def fun(p: FloatArray, idx: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
            pred, cols = model(p, t[idx])
            ww = w[idx]
            return (pred - y[idx]) * ww, np.stack([np.broadcast_to(c, pred.shape) * ww for c in cols], axis=2)

        p0 = start(t, y, m)
        lo = [MSS_BOUNDS[0], TAU_BOUNDS[0]] + [TC_BOUNDS[0]] * ("tc" in extra) + [DC_LOWER] * ("dc" in extra)
        hi = [MSS_BOUNDS[1], TAU_BOUNDS[1]] + [TC_BOUNDS[1]] * ("tc" in extra) + [100.0] * ("dc" in extra)
        lo_a = np.broadcast_to(np.asarray(lo, dtype=float), p0.shape).copy()
        hi_a = np.broadcast_to(np.asarray(hi, dtype=float), p0.shape).copy()
        res = batched_lm(fun, p0, lo_a, hi_a, max_iter=max_iter)
        cov = covariance(res.jacobian, res.residuals, n_points[rows])
        out["mss"][rows], out["tau"][rows] = res.params[:, 0], res.params[:, 1]
        j = 2
        if "tc" in extra:
            out["tc"][rows] = res.params[:, j]
            j += 1
        if "dc" in extra:
            out["dc"][rows] = res.params[:, j]
        out["mss_se"][rows] = np.sqrt(cov[:, 0, 0])
        out["tau_se"][rows] = np.sqrt(cov[:, 1, 1])
        out["rss"][rows] = 2.0 * res.cost
        converged[rows] = res.converged
        sub = issues[rows]
        _issue(sub, ~res.converged, "optimiser did not converge")
        at_b = np.any(np.isclose(res.params, lo_a) | np.isclose(res.params, hi_a), axis=1)
        _issue(sub, at_b, "parameter at its optimiser bound")
        bad = (
            (res.params[:, 0] < PLAUSIBLE_MSS[0])
            | (res.params[:, 0] > PLAUSIBLE_MSS[1])
            | (res.params[:, 1] < PLAUSIBLE_TAU[0])
            | (res.params[:, 1] > PLAUSIBLE_TAU[1])
        )
        _issue(sub, bad, "implausible MSS or TAU")
        issues[rows] = sub
    dof = n_points - n_par
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(out["rss"] / n_points)
        rse = np.where(dof > 0, np.sqrt(out["rss"] / np.where(dof > 0, dof, 1)), np.nan)
    mss, tau = out["mss"], out["tau"]
    return TraceFit(
        mss_m_s=mss,
        tau_s=tau,
        mac_m_s2=mss / tau,
        pmax_rel_w_kg=mss * mss / tau / 4.0,
        time_correction_s=out["tc"],
        distance_correction_m=out["dc"],
        mss_se=out["mss_se"],
        tau_se=out["tau_se"],
        rmse=rmse,
        rse=rse,
        n_points=n_points,
        converged=converged,
        fit_ok=issues == "",
        fit_issue=issues,
    )
