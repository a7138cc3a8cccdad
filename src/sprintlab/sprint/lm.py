"""Batched, bounded Levenberg-Marquardt least squares in numpy.

Many small independent problems (one per sprint trial, each with its own padded data) are
solved *at once*: every iteration evaluates residuals and analytic Jacobians for all trials
that are still running as one ``(m, n)`` / ``(m, n, p)`` array, solves the ``(m, p, p)``
damped normal equations with one batched ``numpy.linalg.solve`` and keeps a per-trial damping
factor and convergence mask. No Python loop over trials.

Bounds are handled by projection plus an active set: a parameter sitting on a bound whose
gradient points outward is frozen for that iteration (its row/column of the normal equations
is replaced by the identity), the others take a Marquardt step that is then clipped to the box.
This is the classic projected LM (Kanzow, Yamashita & Fukushima 2004) and converges to the same
KKT point as MINPACK/`nlsLM` with box constraints on these smooth problems.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
# fun(params (m, p), idx (m,)) -> (residuals (m, n), jacobian (m, n, p)); padded entries must be 0
ResidualFn = Callable[[FloatArray, NDArray[np.intp]], tuple[FloatArray, FloatArray]]


@dataclass
class LMResult:
    """Result of :func:`batched_lm` (arrays over trials)."""

    params: FloatArray  # (B, p)
    cost: FloatArray  # (B,) 0.5 * sum of squared residuals
    converged: NDArray[np.bool_]  # (B,)
    n_iter: NDArray[np.int64]  # (B,)
    residuals: FloatArray  # (B, n)
    jacobian: FloatArray  # (B, n, p)


def _eval(
    fun: ResidualFn, params: FloatArray, idx: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Residuals, Jacobian and cost ``0.5 * sum(r^2)`` (inf when residuals or Jacobian are not finite)."""
    with np.errstate(all="ignore"):
        r, jac = fun(params, idx)
    cost = 0.5 * np.sum(r * r, axis=1)
    bad = ~np.isfinite(cost) | ~np.isfinite(jac).all(axis=(1, 2))
    cost = np.where(bad, np.inf, cost)
    return r, jac, cost


def _marquardt_step(
    jac: FloatArray, r: FloatArray, params: FloatArray, lower: FloatArray, upper: FloatArray, lam: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One projected Marquardt step for every running trial: returns ``(delta, projected gradient)``.

    Solves ``(J'J + lam diag(J'J)) delta = -J'r`` over the free parameters; a parameter on a bound
    whose gradient ``g = J'r`` points outward is frozen (its row and column become the identity,
    so its step and projected gradient are 0).
    """
    eye = np.eye(params.shape[1])
    g = np.einsum("mnp,mn->mp", jac, r)
    h = np.einsum("mnp,mnq->mpq", jac, jac)
    frozen = ((params <= lower) & (g > 0)) | ((params >= upper) & (g < 0))
    free = ~frozen
    gfree = np.where(free, g, 0.0)
    diag = np.maximum(np.einsum("mpp->mp", h), 1e-30)
    a = h + (lam[:, None] * diag)[:, :, None] * eye
    a = np.where(free[:, :, None] & free[:, None, :], a, 0.0) + np.where(frozen[:, :, None], eye, 0.0)
    try:
        delta = np.linalg.solve(a, -gfree[:, :, None])[:, :, 0]
    except np.linalg.LinAlgError:
        # a singular system somewhere in the batch (rare): retry with a tiny ridge on every diagonal
        delta = np.linalg.solve(a + 1e-12 * eye, -gfree[:, :, None])[:, :, 0]
    return delta, gfree


def batched_lm(
    fun: ResidualFn,
    p0: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    *,
    max_iter: int = 200,
    xtol: float = 1e-10,
    gtol: float = 1e-14,
    lambda0: float = 1e-3,
) -> LMResult:
    """Minimise ``0.5 * ||r_b(p_b)||^2`` independently for every trial b, inside ``[lower, upper]``.

    Step: ``(J'J + lambda * diag(J'J)) delta = -J'r`` (Marquardt 1963), accepted when the cost
    does not increase (then lambda /= 10, else lambda *= 8). A trial converges when an accepted
    step is below ``xtol`` relative to the parameters (or a step that small changes the cost
    only at rounding level), or the projected gradient is below
    ``gtol * (1 + cost)``. Trials whose residuals are non-finite at the start never move and
    are reported as not converged.
    """
    params = np.array(np.clip(p0, lower, upper), dtype=float)
    n_trials = params.shape[0]
    r, jac, cost = _eval(fun, params, np.arange(n_trials))
    lam = np.full(n_trials, lambda0)
    converged = np.zeros(n_trials, dtype=bool)
    n_iter = np.zeros(n_trials, dtype=np.int64)
    running = np.isfinite(cost)

    for _ in range(max_iter):
        act = np.flatnonzero(running)
        if act.size == 0:
            break
        p, lo, hi, cost_act = params[act], lower[act], upper[act], cost[act]
        delta, gfree = _marquardt_step(jac[act], r[act], p, lo, hi, lam[act])
        gconv = np.max(np.abs(gfree), axis=1) <= gtol * (1.0 + cost_act)
        cand = np.clip(p + delta, lo, hi)
        r_c, jac_c, cost_c = _eval(fun, cand, act)
        accept = cost_c <= cost_act
        n_iter[act] += 1
        step_small = np.all(np.abs(cand - p) <= xtol * (np.abs(p) + xtol), axis=1)
        # a step that changes the cost only at rounding level is converged even if "rejected"
        flat = np.abs(cost_c - cost_act) <= 1e-12 * (cost_act + 1e-300)

        acc = act[accept]
        params[acc] = cand[accept]
        r[acc] = r_c[accept]
        jac[acc] = jac_c[accept]
        cost[acc] = cost_c[accept]
        lam[act] = np.where(accept, np.maximum(lam[act] / 10.0, 1e-15), lam[act] * 8.0)

        done = gconv | (step_small & (accept | flat))
        stuck = lam[act] > 1e16
        converged[act[done]] = True
        running[act[done | stuck]] = False

    return LMResult(params=params, cost=cost, converged=converged, n_iter=n_iter, residuals=r, jacobian=jac)


def covariance(jacobian: FloatArray, residuals: FloatArray, n_obs: NDArray[np.int64]) -> FloatArray:
    """Asymptotic parameter covariance ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)`` per trial.

    Same estimator as ``summary.nls`` in R and ``scipy.optimize.curve_fit`` (absolute_sigma=False).
    NaN when ``n <= p`` or ``J'J`` is singular.
    """
    n_trials, _, n_par = jacobian.shape
    dof = n_obs - n_par
    rss = np.sum(residuals * residuals, axis=1)
    h = np.einsum("mnp,mnq->mpq", jacobian, jacobian)
    out = np.full((n_trials, n_par, n_par), np.nan)
    ok = (dof > 0) & np.isfinite(h).all(axis=(1, 2))
    if ok.any():
        hk = h[ok]
        with np.errstate(all="ignore"):
            cond = np.linalg.cond(hk)
        good = np.isfinite(cond) & (cond < 1e14)
        inv = np.full_like(hk, np.nan)
        if good.any():
            inv[good] = np.linalg.inv(hk[good])
        s2 = rss[ok] / dof[ok]
        out[ok] = inv * s2[:, None, None]
    return out
