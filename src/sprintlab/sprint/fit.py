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
from typing import Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from sprintlab.sprint.lm import LMResult, ResidualFn, batched_lm, covariance
from sprintlab.sprint.model import distance, time_and_partials, time_at_distance, velocity

FloatArray = NDArray[np.float64]

MSS_BOUNDS = (0.5, 25.0)
TAU_BOUNDS = (0.02, 10.0)
TC_BOUNDS = (-3.0, 3.0)
TFD_BOUNDS = (0.0, 1.5)
DC_LOWER = -20.0
TRACE_DC_UPPER_M = 100.0
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


def _issue(issues: NDArray[np.object_], mask: NDArray[np.bool_] | np.bool_, text: str) -> None:
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
    """Sort each trial by distance and flag impossible inputs (vectorised over trials).

    Returns ``(issues, sorted distances, sorted times, sorted valid mask, sort order)``.
    """
    n_trials = d.shape[0]
    issues = np.full(n_trials, "", dtype=object)
    fin_d, fin_t = np.isfinite(d), np.isfinite(t)
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
    return issues, ds, ts, vs, order


# ---------------------------------------------------------------------------------------------
# steps shared by the gate and trace fits
# ---------------------------------------------------------------------------------------------


@dataclass
class _Solution:
    """Optimiser output scattered back to all B trials; NaN / False for trials that were not fitted."""

    params: FloatArray  # (B, p)
    se: FloatArray  # (B, k) standard errors of the first k parameters
    rss: FloatArray  # (B,) residual sum of squares
    converged: NDArray[np.bool_]  # (B,)

    @classmethod
    def unfitted(cls, n_trials: int, n_par: int, n_se: int) -> _Solution:
        return cls(
            params=np.full((n_trials, n_par), np.nan),
            se=np.full((n_trials, n_se), np.nan),
            rss=np.full(n_trials, np.nan),
            converged=np.zeros(n_trials, dtype=bool),
        )

    @classmethod
    def scatter(
        cls, n_trials: int, rows: NDArray[np.intp], res: LMResult, cov: FloatArray, n_se: int
    ) -> _Solution:
        """Results of the fitted ``rows``; standard errors ``sqrt(diag(cov))`` of the first ``n_se``
        parameters and ``RSS = 2 * cost``."""
        sol = cls.unfitted(n_trials, res.params.shape[1], n_se)
        sol.params[rows] = res.params
        sol.se[rows] = np.sqrt(np.einsum("mpp->mp", cov)[:, :n_se])
        sol.rss[rows] = 2.0 * res.cost
        sol.converged[rows] = res.converged
        return sol

    def column(self, j: int) -> FloatArray:
        """Parameter ``j`` of every trial (a contiguous copy)."""
        return self.params[:, j].copy()


def _rmse_rse(rss: FloatArray, n_obs: NDArray[np.int64], n_par: int) -> tuple[FloatArray, FloatArray]:
    """R ``nls`` fit statistics: ``RMSE = sqrt(RSS / n)``, ``RSE = sqrt(RSS / (n - p))`` (NaN if n <= p)."""
    dof = n_obs - n_par
    with np.errstate(invalid="ignore", divide="ignore"):
        rmse = np.sqrt(rss / n_obs)
        rse = np.where(dof > 0, np.sqrt(rss / np.where(dof > 0, dof, 1)), np.nan)
    return rmse, rse


def _at_bound(params: FloatArray, lower: FloatArray, upper: FloatArray) -> NDArray[np.bool_]:
    """Elementwise: the parameter sits (numerically) on its lower or upper optimiser bound."""
    return np.isclose(params, lower) | np.isclose(params, upper)


def _outside(values: FloatArray, bounds: tuple[float, float]) -> NDArray[np.bool_]:
    return (values < bounds[0]) | (values > bounds[1])


# ---------------------------------------------------------------------------------------------
# timing gates
# ---------------------------------------------------------------------------------------------


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
    n_trials = d_raw.shape[0]
    n_par = 2 if kind in ("none", "fixed") else 3
    issues, ds, ts, vs, order = _validate_splits(d_raw, t_raw, shift)
    n_splits = vs.sum(axis=1).astype(np.int64)
    _issue(issues, n_splits < n_par, f"fewer splits than the {n_par} model parameters")

    rows = np.flatnonzero(issues == "")
    sol = _Solution.unfitted(n_trials, n_par, n_par)
    pred_sorted = np.full(d_raw.shape, np.nan)
    if rows.size:
        res, lower, upper, pred_rows = _solve_gate_rows(ds[rows], ts[rows], vs[rows], kind, shift, max_iter)
        pred_sorted[rows] = pred_rows
        cov = _gate_covariance(res, n_splits[rows], kind)
        sol = _Solution.scatter(n_trials, rows, res, cov, n_par)
        issues[rows] = _gate_fit_issues(issues[rows], res, lower, upper, kind)
    # undo the sort so that predictions align with the input columns
    pred = np.full(d_raw.shape, np.nan)
    np.put_along_axis(pred, order, pred_sorted, axis=1)
    return _gate_fit(correction, kind, shift, sol, n_splits, issues, pred)


def _solve_gate_rows(
    ds: FloatArray, ts: FloatArray, valid: NDArray[np.bool_], kind: str, shift: float, max_iter: int
) -> tuple[LMResult, FloatArray, FloatArray, FloatArray]:
    """Run the batched optimiser on sorted, validated splits.

    Returns ``(result, lower bounds, upper bounds, predicted device times)`` (NaN on padding).
    """
    # padded slots get zero weight and the trial's largest distance, which stays a valid model
    # input for every correction (d - DC > 0 as DC < min d; a fixed 1 m made DC > 1 m unreachable)
    d_valid = np.where(valid, ds, np.nan)
    min_d = np.nanmin(d_valid, axis=1)
    dd = np.where(valid, ds, np.nanmax(d_valid, axis=1)[:, None])
    yy = np.where(valid, ts + shift, 0.0)
    weight = valid.astype(float)
    p0, lower, upper = _gate_start(dd, yy, valid, kind, min_d)
    res = batched_lm(_gate_residual_fn(dd, yy, weight, kind), p0, lower, upper, max_iter=max_iter)
    pred = np.where(valid, yy + res.residuals - shift, np.nan)
    return res, lower, upper, pred


def _flying_distance_partials(
    t_fd: FloatArray, mss: FloatArray, tau: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Partial derivatives of the flying distance ``FD = d(t_FD; MSS, TAU)``:

    dFD/dMSS = d(t_FD) / MSS;  dFD/dTAU = MSS (e^(-t_FD/TAU) (1 + t_FD/TAU) - 1);  dFD/dt_FD = v(t_FD).
    """
    return (
        distance(t_fd, mss, tau) / mss,
        mss * (np.exp(-t_fd / tau) * (1.0 + t_fd / tau) - 1.0),
        velocity(t_fd, mss, tau),
    )


def _gate_covariance(res: LMResult, n_splits: NDArray[np.int64], kind: str) -> FloatArray:
    """Parameter covariance; for ``fd`` the third variance is that of FD (delta method on t_FD)."""
    cov = covariance(res.jacobian, res.residuals, n_splits)
    if kind == "fd":
        mss, tau, t_fd = res.params[:, 0], res.params[:, 1], res.params[:, 2]
        grad = np.stack(_flying_distance_partials(t_fd, mss, tau), axis=1)
        cov[:, 2, 2] = np.einsum("mp,mpq,mq->m", grad, cov, grad)
    return cov


def _gate_fit_issues(
    issues: NDArray[np.object_], res: LMResult, lower: FloatArray, upper: FloatArray, kind: str
) -> NDArray[np.object_]:
    """Post-fit checks of the fitted trials: convergence, bounds, plausible MSS and TAU."""
    out = issues.copy()
    p = res.params
    _issue(out, ~res.converged, "optimiser did not converge")
    _issue(
        out, _at_bound(p[:, :2], lower[:, :2], upper[:, :2]).any(axis=1), "MSS or TAU at its optimiser bound"
    )
    if kind in ("tc", "dc"):
        _issue(out, _at_bound(p[:, 2], lower[:, 2], upper[:, 2]), f"{kind.upper()} at its optimiser bound")
    if kind == "fd":
        _issue(out, np.isclose(p[:, 2], upper[:, 2]), "FD at its optimiser bound")
    _issue(out, _outside(p[:, 0], PLAUSIBLE_MSS), f"implausible MSS (outside {PLAUSIBLE_MSS} m/s)")
    _issue(out, _outside(p[:, 1], PLAUSIBLE_TAU), f"implausible TAU (outside {PLAUSIBLE_TAU} s)")
    return out


def _correction_values(
    kind: str, shift: float, extra: FloatArray, mss: FloatArray, tau: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(time_correction_s, flying_distance_m, distance_correction_m)`` per trial, NaN where the
    correction does not apply; ``fixed:S`` reports S as the time correction of every trial."""
    n = extra.size
    tc = np.full(n, shift) if kind == "fixed" else (extra if kind == "tc" else np.full(n, np.nan))
    fd = distance(extra, mss, tau) if kind == "fd" else np.full(n, np.nan)
    dc = extra if kind == "dc" else np.full(n, np.nan)
    return tc, fd, dc


def _gate_fit(
    correction: str,
    kind: str,
    shift: float,
    sol: _Solution,
    n_splits: NDArray[np.int64],
    issues: NDArray[np.object_],
    pred: FloatArray,
) -> GateFit:
    """Assemble the :class:`GateFit` of all trials."""
    n_trials, n_par = sol.params.shape
    mss, tau = sol.column(0), sol.column(1)
    extra = sol.column(2) if n_par == 3 else np.full(n_trials, np.nan)
    tc, fd, dc = _correction_values(kind, shift, extra, mss, tau)
    rmse, rse = _rmse_rse(sol.rss, n_splits, n_par)
    return GateFit(
        correction=correction,
        mss_m_s=mss,
        tau_s=tau,
        mac_m_s2=mss / tau,
        pmax_rel_w_kg=mss * (mss / tau) / 4.0,
        time_correction_s=tc,
        flying_distance_m=fd,
        distance_correction_m=dc,
        mss_se=sol.se[:, 0],
        tau_se=sol.se[:, 1],
        correction_se=sol.se[:, 2] if n_par == 3 else np.full(n_trials, np.nan),
        rmse_s=rmse,
        rse_s=rse,
        n_splits=n_splits,
        converged=sol.converged,
        fit_ok=issues == "",
        fit_issue=issues,
        pred_time_s=pred,
    )


def _gate_start(
    dd: FloatArray, yy: FloatArray, m: NDArray[np.bool_], kind: str, min_d: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Data-driven start values and per-trial bounds.

    MSS0 = 1.1 x the mean velocity between the last two gates (clipped to [3, 14] m/s);
    TAU0 = t_last - d_last / MSS0 (clipped to [0.3, 2] s); the correction parameter starts at 0
    (t_FD at 0.05 s).
    """
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


def _gate_residual_fn(dd: FloatArray, yy: FloatArray, w: FloatArray, kind: str) -> ResidualFn:
    """Residuals ``t_pred - y`` and analytic Jacobians for the gate models (see module doc); the
    Jacobian is laid out parameter-major (contiguous columns, see :data:`ResidualFn`)."""
    weighted = not bool((w == 1.0).all())  # padded gates get weight 0

    def fun(p: FloatArray, idx: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        d, y = np.take(dd, idx, axis=0), np.take(yy, idx, axis=0)
        mss, tau = p[:, 0:1], p[:, 1:2]
        if kind == "fd":
            tf = p[:, 2:3]
            dtot = d + distance(tf, mss, tau)
            big_t, t_d, t_mss, t_tau = time_and_partials(dtot, mss, tau)
            fd_mss, fd_tau, fd_tf = _flying_distance_partials(tf, mss, tau)
            r = big_t - tf
            cols = [t_mss + t_d * fd_mss, t_tau + t_d * fd_tau, t_d * fd_tf - 1.0]
        elif kind == "dc":
            big_t, t_d, t_mss, t_tau = time_and_partials(d - p[:, 2:3], mss, tau)
            r = big_t
            cols = [t_mss, t_tau, -t_d]
        else:  # none, fixed, tc
            r, _, t_mss, t_tau = time_and_partials(d, mss, tau)
            cols = [t_mss, t_tau]
            if kind == "tc":
                r -= p[:, 2:3]
                cols.append(np.full_like(r, -1.0))
        r -= y
        jac = np.stack(cols)
        if weighted:
            ww = np.take(w, idx, axis=0)
            r *= ww
            jac *= ww
        return r, jac.transpose(1, 2, 0)

    return fun


# ---------------------------------------------------------------------------------------------
# traces
# ---------------------------------------------------------------------------------------------

#: optimiser bounds of the trace-model parameters
TRACE_BOUNDS: dict[str, tuple[float, float]] = {
    "mss": MSS_BOUNDS,
    "tau": TAU_BOUNDS,
    "tc": TC_BOUNDS,
    "dc": (DC_LOWER, TRACE_DC_UPPER_M),
}


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


class _TraceModel(Protocol):
    """A sprint model fitted to (time, observation) samples."""

    @property
    def parameters(self) -> tuple[str, ...]:
        """Parameter names in optimiser order, keys of :data:`TRACE_BOUNDS`."""
        ...

    def predict(self, p: FloatArray, t: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        """Model values at times ``t`` (rows = traces) and one Jacobian column per parameter."""
        ...

    def start(self, t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
        """Start values ``(traces, parameters)`` from the samples (``m`` marks valid ones)."""
        ...


@dataclass(frozen=True)
class _VelocityTrace:
    """``v(t) = MSS (1 - e^(-s/TAU))`` with ``s = t + TC`` (``s = max(t + TC, 0)`` when clamped)."""

    time_correction: bool
    clamp_before_start: bool

    @property
    def parameters(self) -> tuple[str, ...]:
        return ("mss", "tau", "tc") if self.time_correction else ("mss", "tau")

    def predict(self, p: FloatArray, t: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        mss, tau = p[:, 0:1], p[:, 1:2]
        tc = p[:, 2:3] if self.time_correction else 0.0
        s = t + tc
        if self.clamp_before_start:
            s = np.maximum(s, 0.0)
        e = np.exp(-s / tau)
        pred = mss * (1.0 - e)
        moving = (s > 0) if self.clamp_before_start else np.ones_like(s, dtype=bool)
        cols = [1.0 - e, -mss * e * s / tau**2]
        if self.time_correction:
            cols.append(np.where(moving, mss * e / tau, 0.0))
        return pred, cols

    def start(self, t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
        """MSS0 = the highest sampled velocity (clipped to [1, 14] m/s), TAU0 = 0.8 s, TC0 = 0."""
        vmax = np.nanmax(np.where(m, y, np.nan), axis=1)
        cols = [np.clip(np.nan_to_num(vmax, nan=7.0), 1.0, 14.0), np.full(t.shape[0], 0.8)]
        if self.time_correction:
            cols.append(np.zeros(t.shape[0]))
        return np.stack(cols, axis=1)


@dataclass(frozen=True)
class _DistanceTrace:
    """``d_obs(t) = d(s) + DC`` with ``s = max(t + TC, 0)`` and ``d(s) = MSS (s + TAU (e^(-s/TAU) - 1))``."""

    time_correction: bool
    distance_correction: bool

    @property
    def parameters(self) -> tuple[str, ...]:
        return ("mss", "tau") + ("tc",) * self.time_correction + ("dc",) * self.distance_correction

    def predict(self, p: FloatArray, t: FloatArray) -> tuple[FloatArray, list[FloatArray]]:
        mss, tau = p[:, 0:1], p[:, 1:2]
        j = 2
        tc: FloatArray | float = 0.0
        dc: FloatArray | float = 0.0
        if self.time_correction:
            tc = p[:, j : j + 1]
            j += 1
        if self.distance_correction:
            dc = p[:, j : j + 1]
        s = np.maximum(t + tc, 0.0)
        e = np.exp(-s / tau)
        dist = mss * (s + tau * np.expm1(-s / tau))
        pred = dist + dc
        cols = [dist / mss, mss * (e * (1.0 + s / tau) - 1.0)]
        if self.time_correction:
            cols.append(np.where(s > 0, mss * (1.0 - e), 0.0))
        if self.distance_correction:
            cols.append(np.ones_like(s))
        return pred, cols

    def start(self, t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
        """MSS0 = 1.05 x the least-squares slope over the last third of the trace (clipped to
        [2, 14] m/s), TAU0 = 0.8 s, TC0 = 0, DC0 = the smallest sampled distance."""
        n = t.shape[0]
        cols = [np.clip(np.nan_to_num(1.05 * _late_slope(t, y, m), nan=7.0), 2.0, 14.0), np.full(n, 0.8)]
        if self.time_correction:
            cols.append(np.zeros(n))
        if self.distance_correction:
            cols.append(np.nan_to_num(np.nanmin(np.where(m, y, np.nan), axis=1), nan=0.0))
        return np.stack(cols, axis=1)


def _late_slope(t: FloatArray, y: FloatArray, m: NDArray[np.bool_]) -> FloatArray:
    """Ordinary least-squares slope dy/dt over the valid samples in the last third of each trace's time span."""
    tt = np.where(m, t, np.nan)
    tmax = np.nanmax(tt, axis=1)
    tmin = np.nanmin(tt, axis=1)
    late = m & (t >= (tmin + 2.0 * (tmax - tmin) / 3.0)[:, None])
    with np.errstate(all="ignore"):
        tl = np.where(late, t, np.nan)
        yl = np.where(late, y, np.nan)
        tm, ym = np.nanmean(tl, axis=1), np.nanmean(yl, axis=1)
        return np.nansum((tl - tm[:, None]) * (yl - ym[:, None]), axis=1) / np.nansum(
            (tl - tm[:, None]) ** 2, axis=1
        )


def _trace_prepare(t_raw: FloatArray, y_raw: FloatArray) -> tuple[NDArray[np.object_], NDArray[np.bool_]]:
    """Issues (time must increase over the valid samples, in the given order) and the valid-sample mask."""
    issues = np.full(t_raw.shape[0], "", dtype=object)
    valid = np.isfinite(t_raw) & np.isfinite(y_raw)
    tt = np.where(valid, t_raw, np.nan)
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
    return _fit_trace(t_raw, v_raw, _VelocityTrace(time_correction, clamp_before_start), max_iter)


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
    return _fit_trace(t_raw, d_raw, _DistanceTrace(time_correction, distance_correction), max_iter)


def _fit_trace(t_raw: FloatArray, y_raw: FloatArray, model: _TraceModel, max_iter: int) -> TraceFit:
    """Fit ``model`` to every trace (rows) that has enough increasing, finite samples."""
    issues, valid = _trace_prepare(t_raw, y_raw)
    n_trials, n_par = t_raw.shape[0], len(model.parameters)
    n_points = valid.sum(axis=1).astype(np.int64)
    _issue(issues, n_points < max(n_par + 2, 6), "too few valid samples in trace")
    rows = np.flatnonzero(issues == "")
    sol = _Solution.unfitted(n_trials, n_par, 2)
    if rows.size:
        res, lower, upper = _solve_trace_rows(t_raw[rows], y_raw[rows], valid[rows], model, max_iter)
        cov = covariance(res.jacobian, res.residuals, n_points[rows])
        sol = _Solution.scatter(n_trials, rows, res, cov, 2)
        issues[rows] = _trace_fit_issues(issues[rows], res, lower, upper)
    mss, tau = sol.column(0), sol.column(1)
    rmse, rse = _rmse_rse(sol.rss, n_points, n_par)
    return TraceFit(
        mss_m_s=mss,
        tau_s=tau,
        mac_m_s2=mss / tau,
        pmax_rel_w_kg=mss * mss / tau / 4.0,
        time_correction_s=_named_parameter(sol, model.parameters, "tc"),
        distance_correction_m=_named_parameter(sol, model.parameters, "dc"),
        mss_se=sol.se[:, 0],
        tau_se=sol.se[:, 1],
        rmse=rmse,
        rse=rse,
        n_points=n_points,
        converged=sol.converged,
        fit_ok=issues == "",
        fit_issue=issues,
    )


def _named_parameter(sol: _Solution, parameters: tuple[str, ...], name: str) -> FloatArray:
    """Parameter ``name`` of every trace, NaN when the model does not estimate it."""
    if name in parameters:
        return sol.column(parameters.index(name))
    return np.full(sol.params.shape[0], np.nan)


def _solve_trace_rows(
    t_rows: FloatArray, y_rows: FloatArray, valid: NDArray[np.bool_], model: _TraceModel, max_iter: int
) -> tuple[LMResult, FloatArray, FloatArray]:
    """Run the batched optimiser on the traces to fit; returns ``(result, lower, upper)`` bounds."""
    t = np.where(valid, t_rows, 0.0)
    y = np.where(valid, y_rows, 0.0)
    weight = valid.astype(float)
    p0 = model.start(t, y, valid)
    lower = np.broadcast_to(np.array([TRACE_BOUNDS[k][0] for k in model.parameters]), p0.shape).copy()
    upper = np.broadcast_to(np.array([TRACE_BOUNDS[k][1] for k in model.parameters]), p0.shape).copy()

    def fun(p: FloatArray, idx: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        pred, cols = model.predict(p, np.take(t, idx, axis=0))
        ww = np.take(weight, idx, axis=0)
        jac = np.stack([np.broadcast_to(c, pred.shape) * ww for c in cols])  # parameter-major
        return (pred - np.take(y, idx, axis=0)) * ww, jac.transpose(1, 2, 0)

    return batched_lm(fun, p0, lower, upper, max_iter=max_iter), lower, upper


def _trace_fit_issues(
    issues: NDArray[np.object_], res: LMResult, lower: FloatArray, upper: FloatArray
) -> NDArray[np.object_]:
    """Post-fit checks of the fitted traces: convergence, bounds, plausible MSS and TAU."""
    out = issues.copy()
    p = res.params
    _issue(out, ~res.converged, "optimiser did not converge")
    _issue(out, _at_bound(p, lower, upper).any(axis=1), "parameter at its optimiser bound")
    _issue(out, _outside(p[:, 0], PLAUSIBLE_MSS) | _outside(p[:, 1], PLAUSIBLE_TAU), "implausible MSS or TAU")
    return out
