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


def normal_matrix(jac: FloatArray) -> FloatArray:
    """``J'J`` of every trial, ``(m, p, p)``: ``sum_i J_i' J_i`` over the samples i in order.

    The same numbers as ``np.einsum("mnp,mnq->mpq", jac, jac)`` (which accumulates the samples
    in order for p >= 2) at about half its cost; einsum for one parameter.
    """
    if jac.shape[2] < 2 or jac.shape[1] == 0:
        return np.einsum("mnp,mnq->mpq", jac, jac)
    h = jac[:, 0, :, None] * jac[:, 0, None, :]
    for i in range(1, jac.shape[1]):
        h += jac[:, i, :, None] * jac[:, i, None, :]
    return h


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
    h = normal_matrix(jac)
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
    out = LMResult(
        params=params,
        cost=cost,
        converged=np.zeros(n_trials, dtype=bool),
        n_iter=np.zeros(n_trials, dtype=np.int64),
        residuals=r,
        jacobian=jac,
    )
    run = _Running.start(out, lower, upper, lambda0)
    for _ in range(max_iter):
        if run.idx.size == 0:
            break
        delta, gfree = _marquardt_step(run.jac, run.r, run.params, run.lower, run.upper, run.lam)
        gconv = np.max(np.abs(gfree), axis=1) <= gtol * (1.0 + run.cost)
        cand = np.clip(run.params + delta, run.lower, run.upper)
        r_c, jac_c, cost_c = _eval(fun, cand, run.idx)
        accept = cost_c <= run.cost
        step_small = np.all(np.abs(cand - run.params) <= xtol * (np.abs(run.params) + xtol), axis=1)
        # a step that changes the cost only at rounding level is converged even if "rejected"
        flat = np.abs(cost_c - run.cost) <= 1e-12 * (run.cost + 1e-300)
        run.take(accept, cand, r_c, jac_c, cost_c)
        done = gconv | (step_small & (accept | flat))
        run.retire(out, done, done | (run.lam > 1e16))
    run.retire(out, np.zeros(run.idx.size, dtype=bool), np.ones(run.idx.size, dtype=bool))
    return out


@dataclass
class _Running:
    """The trials still iterating, compacted (rows in the order of ``idx``, their trial numbers);
    finished trials are written back to the :class:`LMResult` and dropped, so every iteration
    works on contiguous arrays of the running trials only."""

    idx: NDArray[np.intp]
    params: FloatArray
    lower: FloatArray
    upper: FloatArray
    r: FloatArray
    jac: FloatArray
    cost: FloatArray
    lam: FloatArray
    n_iter: NDArray[np.int64]

    @classmethod
    def start(cls, res: LMResult, lower: FloatArray, upper: FloatArray, lambda0: float) -> _Running:
        """Trials with finite residuals at the start (the others never move)."""
        idx = np.flatnonzero(np.isfinite(res.cost))
        return cls(
            idx=idx,
            params=res.params[idx],
            lower=np.asarray(lower, dtype=float)[idx],
            upper=np.asarray(upper, dtype=float)[idx],
            r=res.residuals[idx],
            jac=res.jacobian[idx],
            cost=res.cost[idx],
            lam=np.full(idx.size, lambda0),
            n_iter=np.zeros(idx.size, dtype=np.int64),
        )

    def take(
        self, accept: NDArray[np.bool_], cand: FloatArray, r: FloatArray, jac: FloatArray, cost: FloatArray
    ) -> None:
        """Count the iteration, move the accepting trials to their candidate and update the
        damping: ``lambda /= 10`` (at least 1e-15) on acceptance, else ``lambda *= 8``."""
        self.n_iter += 1
        self.params[accept] = cand[accept]
        self.r[accept] = r[accept]
        self.jac[accept] = jac[accept]
        self.cost[accept] = cost[accept]
        self.lam = np.where(accept, np.maximum(self.lam / 10.0, 1e-15), self.lam * 8.0)

    def retire(self, res: LMResult, converged: NDArray[np.bool_], stop: NDArray[np.bool_]) -> None:
        """Write the ``stop`` trials back into ``res`` (``converged`` marks the converged ones)
        and drop them from the running set."""
        if not stop.any():
            return
        rows = self.idx[stop]
        res.params[rows] = self.params[stop]
        res.residuals[rows] = self.r[stop]
        res.jacobian[rows] = self.jac[stop]
        res.cost[rows] = self.cost[stop]
        res.n_iter[rows] = self.n_iter[stop]
        res.converged[rows] = converged[stop]
        keep = ~stop
        for name in ("idx", "params", "lower", "upper", "r", "jac", "cost", "lam", "n_iter"):
            setattr(self, name, getattr(self, name)[keep])


def covariance(jacobian: FloatArray, residuals: FloatArray, n_obs: NDArray[np.int64]) -> FloatArray:
    """Asymptotic parameter covariance ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)`` per trial.

    Same estimator as ``summary.nls`` in R and ``scipy.optimize.curve_fit`` (absolute_sigma=False).
    NaN when ``n <= p`` or ``J'J`` is singular.
    """
    n_trials, _, n_par = jacobian.shape
    dof = n_obs - n_par
    rss = np.sum(residuals * residuals, axis=1)
    h = normal_matrix(jacobian)
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
