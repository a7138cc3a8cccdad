"""Batched, bounded Levenberg-Marquardt least squares in numpy.

Many small independent problems (one per sprint trial, each with its own padded data) are
solved *at once*: every iteration evaluates residuals and analytic Jacobians for all trials
that are still running as one ``(m, n)`` / ``(m, n, p)`` array, forms the ``p x p`` normal
equations as ``p (p + 1) / 2`` row-wise dot products (``(m,)`` arrays) and solves them with an
LDL' factorisation written out entry by entry (:func:`solve_spd`), keeping a per-trial damping
factor and convergence mask. No Python loop over trials and no batched LAPACK call.

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
# fun(params (m, p), idx (m,)) -> (residuals (m, n), jacobian (m, n, p)); padded entries must be 0.
# A Jacobian laid out as a transposed (p, m, n) array (np.stack(columns).transpose(1, 2, 0)) is
# the fastest: its columns are then contiguous.
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


def _row_dot(a: FloatArray, b: FloatArray) -> FloatArray:
    """``sum_i a[m, i] b[m, i]`` of every row m (einsum: several times faster than ``(a * b).sum(1)``)."""
    return np.einsum("mn,mn->m", a, b)


def normal_equations(jac: FloatArray, r: FloatArray) -> tuple[FloatArray, FloatArray]:
    """``J'J`` as a ``(p, p, m)`` array and ``J'r`` as ``(p, m)``, for every trial (row) m."""
    n_par = jac.shape[2]
    cols = [jac[:, :, a] for a in range(n_par)]
    h = np.empty((n_par, n_par, jac.shape[0]))
    for a in range(n_par):
        for b in range(a + 1):
            h[a, b] = _row_dot(cols[a], cols[b])
            h[b, a] = h[a, b]
    g = np.empty((n_par, jac.shape[0]))
    for a in range(n_par):
        g[a] = _row_dot(cols[a], r)
    return h, g


def solve_spd(a: FloatArray, b: FloatArray) -> FloatArray:
    """``x`` with ``a x = b`` for stacks of small symmetric positive definite systems, ``a``
    ``(p, p, m)``, ``b`` ``(p, m)``: the LDL' factorisation without pivoting (stable for SPD
    matrices; Golub & Van Loan 2013, sec. 4.1.2) written out over the entries, each an ``(m,)``
    array, then forward and back substitution. Non-finite where ``a`` is singular."""
    n_par = b.shape[0]
    low: dict[tuple[int, int], FloatArray] = {}
    piv: list[FloatArray] = []
    x = np.array(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for j in range(n_par):
            w = {k: low[j, k] * piv[k] for k in range(j)}  # L[j, k] D[k]
            dj = np.array(a[j, j], dtype=float)
            for k in range(j):
                dj -= w[k] * low[j, k]
            piv.append(dj)
            for i in range(j + 1, n_par):
                s = np.array(a[i, j], dtype=float)
                for k in range(j):
                    s -= low[i, k] * w[k]
                low[i, j] = s / dj
        for i in range(n_par):  # L y = b
            for k in range(i):
                x[i] -= low[i, k] * x[k]
        for i in reversed(range(n_par)):  # D L' x = y
            x[i] /= piv[i]
            for k in range(i + 1, n_par):
                x[i] -= low[k, i] * x[k]
    return x


def _eval(
    fun: ResidualFn, params: FloatArray, idx: NDArray[np.intp]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """Residuals, Jacobian, cost ``0.5 * sum(r^2)`` (inf when residuals or Jacobian are not
    finite: a non-finite Jacobian entry makes the diagonal of ``J'J`` non-finite), ``J'J`` and ``J'r``."""
    with np.errstate(all="ignore"):
        r, jac = fun(params, idx)
        cost = 0.5 * _row_dot(r, r)
        h, g = normal_equations(jac, r)
        bad = ~np.isfinite(cost + np.einsum("aam->m", h))
    cost[bad] = np.inf
    return r, jac, cost, h, g


def _marquardt_step(
    h: FloatArray, g: FloatArray, params: FloatArray, lower: FloatArray, upper: FloatArray, lam: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """One projected Marquardt step for every running trial: returns ``(delta, projected
    gradient)``, both ``(m, p)``.

    Solves ``(J'J + lam diag(J'J)) delta = -J'r`` over the free parameters; a parameter on a bound
    whose gradient ``g = J'r`` points outward is frozen (its row and column become the identity,
    so its step and projected gradient are 0). A singular system (rare) is solved again with a
    ridge of 1e-12 on the diagonal.
    """
    n_par = g.shape[0]
    gt = g.T
    frozen = ((params <= lower) & (gt > 0)) | ((params >= upper) & (gt < 0))
    a = h.copy()
    for i in range(n_par):
        a[i, i] += lam * np.maximum(h[i, i], 1e-30)
    gfree = -g
    if frozen.any():
        free = ~frozen.T
        a = np.where(free[:, None, :] & free[None, :, :], a, 0.0)
        for i in range(n_par):
            a[i, i][~free[i]] = 1.0
        gfree = np.where(free, gfree, 0.0)
    delta = solve_spd(a, gfree)
    bad = ~np.isfinite(delta).all(axis=0)
    if bad.any():
        ridge = a[:, :, bad] + 1e-12 * np.eye(n_par)[:, :, None]
        delta[:, bad] = solve_spd(ridge, gfree[:, bad])
    return delta.T, -gfree.T


def _predicted_reduction(h: FloatArray, g: FloatArray, step: FloatArray) -> FloatArray:
    """Cost reduction the linear model predicts for ``step`` (m, p): ``-(g's + s'J'Js / 2)``."""
    s = step.T
    return -np.einsum("am,am->m", s, g + 0.5 * np.einsum("abm,bm->am", h, s))


def batched_lm(
    fun: ResidualFn,
    p0: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    *,
    max_iter: int = 200,
    xtol: float = 1e-10,
    gtol: float = 1e-14,
    ftol: float = 1e-12,
    lambda0: float = 1e-3,
) -> LMResult:
    """Minimise ``0.5 * ||r_b(p_b)||^2`` independently for every trial b, inside ``[lower, upper]``.

    Step: ``(J'J + lambda * diag(J'J)) delta = -J'r`` (Marquardt 1963), accepted when the cost
    does not increase (then lambda /= 10, else lambda *= 8). A trial converges when

    * an accepted step is below ``xtol`` relative to the parameters (or a step that small changes
      the cost only at rounding level),
    * the actual and the predicted relative cost reduction of a step are both below ``ftol``
      (MINPACK's ``ftol`` test, Moré 1978: the optimum is reached to rounding level), or
    * the projected gradient is below ``gtol * (1 + cost)``.

    Trials whose residuals are non-finite at the start never move and are reported as not
    converged.
    """
    params = np.array(np.clip(p0, lower, upper), dtype=float)
    n_trials = params.shape[0]
    r, jac, cost, h, g = _eval(fun, params, np.arange(n_trials))
    out = LMResult(
        params=params,
        cost=cost,
        converged=np.zeros(n_trials, dtype=bool),
        n_iter=np.zeros(n_trials, dtype=np.int64),
        residuals=r,
        jacobian=jac,
    )
    run = _Running.start(out, h, g, lower, upper, lambda0)
    for _ in range(max_iter):
        if run.idx.size == 0:
            break
        delta, gfree = _marquardt_step(run.h, run.g, run.params, run.lower, run.upper, run.lam)
        gconv = np.max(np.abs(gfree), axis=1) <= gtol * (1.0 + run.cost)
        cand = np.clip(run.params + delta, run.lower, run.upper)
        step = cand - run.params
        pred = _predicted_reduction(run.h, run.g, step)
        new = _eval(fun, cand, run.idx)
        cost_c = new[2]
        accept = cost_c <= run.cost
        step_small = np.all(np.abs(step) <= xtol * (np.abs(run.params) + xtol), axis=1)
        change = np.abs(cost_c - run.cost)
        # a step that changes the cost only at rounding level is converged even if "rejected"
        flat = change <= 1e-12 * (run.cost + 1e-300)
        fconv = (change <= ftol * run.cost) & (pred <= ftol * run.cost)
        run.take(accept, cand, *new)
        done = gconv | fconv | (step_small & (accept | flat))
        run.retire(out, done, done | (run.lam > 1e16))
    run.retire(out, np.zeros(run.idx.size, dtype=bool), np.ones(run.idx.size, dtype=bool))
    return out


@dataclass
class _Running:
    """The trials still iterating, compacted (rows in the order of ``idx``, their trial numbers),
    with their normal equations ``h`` (p, p, m) and ``g`` (p, m); finished trials are written back
    to the :class:`LMResult` and dropped, so every iteration works on contiguous arrays of the
    running trials only."""

    idx: NDArray[np.intp]
    params: FloatArray
    lower: FloatArray
    upper: FloatArray
    r: FloatArray
    jac: FloatArray
    cost: FloatArray
    h: FloatArray
    g: FloatArray
    lam: FloatArray
    n_iter: NDArray[np.int64]

    @classmethod
    def start(
        cls, res: LMResult, h: FloatArray, g: FloatArray, lower: FloatArray, upper: FloatArray, lambda0: float
    ) -> _Running:
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
            h=h[:, :, idx],
            g=g[:, idx],
            lam=np.full(idx.size, lambda0),
            n_iter=np.zeros(idx.size, dtype=np.int64),
        )

    def take(
        self,
        accept: NDArray[np.bool_],
        cand: FloatArray,
        r: FloatArray,
        jac: FloatArray,
        cost: FloatArray,
        h: FloatArray,
        g: FloatArray,
    ) -> None:
        """Count the iteration, move the accepting trials to their candidate and update the
        damping: ``lambda /= 10`` (at least 1e-15) on acceptance, else ``lambda *= 8``."""
        self.n_iter += 1
        if accept.all():
            self.params, self.r, self.jac, self.cost, self.h, self.g = cand, r, jac, cost, h, g
        elif accept.any():
            self.params = _pick(accept, cand, self.params, 0)
            self.r = _pick(accept, r, self.r, 0)
            self.jac = _pick(accept, jac, self.jac, 0)
            self.cost = _pick(accept, cost, self.cost, 0)
            self.h = _pick(accept, h, self.h, 2)
            self.g = _pick(accept, g, self.g, 1)
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
            setattr(self, name, np.compress(keep, getattr(self, name), axis=0))
        self.h, self.g = np.compress(keep, self.h, axis=2), np.compress(keep, self.g, axis=1)


def _pick(mask: NDArray[np.bool_], new: FloatArray, old: FloatArray, axis: int) -> FloatArray:
    """Slices of ``new`` along ``axis`` where ``mask``, else of ``old``: one ``np.take`` from the two
    stacked (several times faster than a boolean-masked copy)."""
    sel = np.arange(mask.size) + mask.size * ~mask
    return np.take(np.concatenate([new, old], axis=axis), sel, axis=axis)


def covariance(jacobian: FloatArray, residuals: FloatArray, n_obs: NDArray[np.int64]) -> FloatArray:
    """Asymptotic parameter covariance ``s^2 (J'J)^-1`` with ``s^2 = RSS / (n - p)`` per trial.

    Same estimator as ``summary.nls`` in R and ``scipy.optimize.curve_fit`` (absolute_sigma=False).
    NaN when ``n <= p`` or ``J'J`` is singular: its Frobenius condition number
    ``||J'J|| ||(J'J)^-1||`` is not below 1e14 (the inverse from :func:`solve_spd`).
    """
    n_trials, _, n_par = jacobian.shape
    dof = n_obs - n_par
    h, _ = normal_equations(jacobian, residuals)
    rss = _row_dot(residuals, residuals)
    eye = np.broadcast_to(np.eye(n_par)[:, :, None], h.shape)
    inv = np.stack([solve_spd(h, eye[:, j]) for j in range(n_par)], axis=1)  # (p, p, m)
    with np.errstate(all="ignore"):
        cond = np.sqrt(np.einsum("abm,abm->m", h, h) * np.einsum("abm,abm->m", inv, inv))
        good = (dof > 0) & np.isfinite(cond) & (cond < 1e14)
        s2 = rss / np.where(dof > 0, dof, 1)
        out = inv.transpose(2, 0, 1) * s2[:, None, None]
    out[~good] = np.nan
    return out
