"""Mono-exponential sprint kinematics (Furusawa, Hill & Parkinson 1927; Clark et al. 2017;
Samozino et al. 2016; Jovanovic & Vescovi 2022, R package {shorts}).

All functions are pure, vectorised over numpy broadcasting, and use SI units:

* velocity      v(t) = MSS * (1 - exp(-t / TAU))
* acceleration  a(t) = MSS / TAU * exp(-t / TAU)                  (MAC = MSS / TAU = a(0))
* distance      d(t) = MSS * (t + TAU * exp(-t / TAU)) - MSS * TAU
* time at d     t(d) = TAU * W0(-exp(-d / (MSS * TAU) - 1)) + d / MSS + TAU

where W0 is the principal branch of the Lambert W function. The argument ``z = -exp(-x - 1)``
with ``x = d/(MSS*TAU) >= 0`` lies in ``[-1/e, 0)``, where W0 is real and in ``[-1, 0)``; the -1
branch would give negative times. W0 is evaluated in real arithmetic (a series start and two
Halley steps, :func:`_motion_time_over_tau`), then one Newton step on ``d(t) - d = 0`` polishes
``t`` to machine precision.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def velocity(time_s: ArrayLike, mss_m_s: ArrayLike, tau_s: ArrayLike) -> FloatArray:
    """Velocity at time t from the start of motion: ``v(t) = MSS (1 - e^(-t/TAU))`` (m/s).

    Source: Furusawa et al. 1927; Samozino et al. 2016 eq. 1; {shorts} ``predict_velocity_at_time``.
    """
    t = np.asarray(time_s, dtype=float)
    mss = np.asarray(mss_m_s, dtype=float)
    tau = np.asarray(tau_s, dtype=float)
    return -mss * np.expm1(-t / tau)


def acceleration(time_s: ArrayLike, mss_m_s: ArrayLike, tau_s: ArrayLike) -> FloatArray:
    """Acceleration ``a(t) = MSS/TAU * e^(-t/TAU)`` (m/s^2); ``a(0) = MAC``.

    Source: derivative of :func:`velocity`; {shorts} ``predict_acceleration_at_time``.
    """
    t = np.asarray(time_s, dtype=float)
    mss = np.asarray(mss_m_s, dtype=float)
    tau = np.asarray(tau_s, dtype=float)
    return mss / tau * np.exp(-t / tau)


def distance(time_s: ArrayLike, mss_m_s: ArrayLike, tau_s: ArrayLike) -> FloatArray:
    """Distance covered at time t: ``d(t) = MSS (t + TAU e^(-t/TAU)) - MSS TAU`` (m).

    Written as ``MSS (t + TAU expm1(-t/TAU))`` for precision at small t.
    Source: integral of :func:`velocity`; {shorts} ``predict_distance_at_time``.
    """
    t = np.asarray(time_s, dtype=float)
    mss = np.asarray(mss_m_s, dtype=float)
    tau = np.asarray(tau_s, dtype=float)
    return mss * (t + tau * np.expm1(-t / tau))


#: below this x = d / (MSS TAU) the start of W0 is its branch-point series, above it its Taylor series
W0_SERIES_SWITCH = 0.5


def _motion_time_over_tau(x: FloatArray) -> FloatArray:
    """``u = t / TAU`` at ``x = d / (MSS TAU) >= 0``: the root of ``g(u) = u - x + expm1(-u)``
    (``d(t) = d`` divided by ``MSS TAU``), i.e. ``u = x + 1 + W0(z)`` with ``z = -e^(-x-1)``.

    Start (Corless et al. 1996): for ``x < 0.5`` the branch-point series
    ``W0 = -1 + p - p^2/3 + 11/72 p^3 - 43/540 p^4 + 769/17280 p^5`` with
    ``p = sqrt(2 (1 + e z)) = sqrt(-2 expm1(-x))`` (so ``u = x + p - p^2/3 + ...`` without
    cancellation), else the Taylor series ``W0 = z - z^2 + 3/2 z^3 - 8/3 z^4``; relative error
    of the start below 7e-3. Then two Halley steps ``u <- u - 2 g g' / (2 g'^2 - g g'')`` with
    ``g' = -expm1(-u)``, ``g'' = 1 + expm1(-u)`` (cubic convergence: 7e-3 -> 5e-8 -> rounding).
    Real arithmetic only, in place on a few buffers: about a quarter of the cost of the complex
    ``scipy.special.lambertw``.
    """
    shape = np.shape(x)
    x = np.asarray(x, dtype=float).reshape(-1)  # 1-D, so that the in-place steps work on arrays
    em = np.expm1(-x)
    near = np.sqrt(-2.0 * em)  # p
    u = near * (769.0 / 17280.0)
    for c in (-43.0 / 540.0, 11.0 / 72.0, -1.0 / 3.0, 1.0):
        u += c
        u *= near
    u += x  # the branch-point start
    z = em  # z = -(1 + em) / e, in place
    z += 1.0
    z *= -np.exp(-1.0)
    far = z * (-8.0 / 3.0)
    for c in (1.5, -1.0, 1.0):
        far += c
        far *= z
    far += x
    far += 1.0
    # blend instead of np.where: far + (near - far) [x < 0.5] (a start off by an ulp is harmless)
    u -= far
    u *= x < W0_SERIES_SWITCH
    u += far
    e, g = near, z  # reuse the buffers
    with np.errstate(invalid="ignore", divide="ignore"):  # x = 0 gives 0/0; the callers return 0
        for _ in range(2):
            np.negative(u, out=e)
            np.expm1(e, out=e)
            np.subtract(u, x, out=g)
            g += e
            np.add(e, 1.0, out=far)  # denominator 0.5 g (1 + e) / e - e
            far *= g
            far *= 0.5
            far /= e
            far -= e
            g /= far
            u -= g
    return u.reshape(shape)


def time_at_distance(distance_m: ArrayLike, mss_m_s: ArrayLike, tau_s: ArrayLike) -> FloatArray:
    """Time from the start of motion to reach distance d (s), closed form via Lambert W.

    ``t(d) = TAU * W0(-exp(-d/(MSS TAU) - 1)) + d/MSS + TAU`` (Jovanovic & Vescovi 2022; {shorts}
    ``predict_time_at_distance``), evaluated as ``TAU u`` with ``u`` from
    :func:`_motion_time_over_tau`, followed by one Newton step on ``d(t) = d``:
    ``t <- t - (d(t) - d) / v(t)``. Returns 0 at d = 0 and NaN for negative or non-finite input.
    """
    d, mss, tau = (np.asarray(x, dtype=float) for x in (distance_m, mss_m_s, tau_s))
    with np.errstate(invalid="ignore"):
        ok = np.isfinite(d) & (d >= 0) & np.isfinite(mss) & (mss > 0) & np.isfinite(tau) & (tau > 0)
    if ok.all():  # e.g. inside the fits: broadcast (trials, 1) parameters against (trials, gates)
        return _time_at_distance_valid(d, mss, tau)
    d, mss, tau = np.broadcast_arrays(d, mss, tau)
    out = np.full(d.shape, np.nan)
    if ok.any():
        out[ok] = _time_at_distance_valid(d[ok], mss[ok], tau[ok])
    return out


def _time_at_distance_valid(dd: FloatArray, mm: FloatArray, tt: FloatArray) -> FloatArray:
    """:func:`time_at_distance` for valid input (``d >= 0``, ``MSS > 0``, ``TAU > 0``, all finite),
    broadcast elementwise (the same numbers as on broadcast copies)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        t, em, _ = _polished_time(dd, mm, tt)
    return np.where(em < 0, t, 0.0)  # d = 0 (or an underflowing d / (MSS TAU)): t = 0


def _polished_time(
    dd: FloatArray, mm: FloatArray, tt: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``(T, em, u)``: ``u`` from :func:`_motion_time_over_tau`, ``em = expm1(-u)`` and
    ``T = TAU u`` after one Newton step on ``f(t) = d(t) - d = MSS (t + TAU em) - d`` with
    ``f'(t) = v(t) = -MSS em`` (the step works on d itself, so T is exact to rounding).
    Needs ``d > 0`` for a finite T."""
    u = _motion_time_over_tau(dd / (mm * tt))
    em = np.expm1(-u)
    t = u * tt
    f = tt * em
    f += t
    f *= mm
    f -= dd
    f /= mm * em
    t += f
    return t, em, u


def time_derivatives(
    time_s: FloatArray, distance_m: FloatArray, mss_m_s: FloatArray, tau_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Partial derivatives of ``T = t(d; MSS, TAU)`` by implicit differentiation of
    ``F = MSS (T + TAU e^(-T/TAU) - TAU) - d = 0``:

    * dT/dd   = 1 / v(T)
    * dT/dMSS = -d / (MSS v(T))
    * dT/dTAU = MSS (1 - e^(-T/TAU) (1 + T/TAU)) / v(T)

    Returns ``(dT_dd, dT_dmss, dT_dtau)``; the caller supplies T (already solved).
    """
    u = time_s / tau_s
    return _partials(np.expm1(-u), u, distance_m, mss_m_s)


def _partials(
    em: FloatArray, u: FloatArray, d: FloatArray, mss: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`time_derivatives` from ``u = T / TAU`` and ``em = expm1(-u)`` (``v = -MSS em``):
    ``dT/dd = 1 / v``, ``dT/dMSS = -d / MSS * dT/dd``, ``dT/dTAU = 1 + u (1 + em) / em``."""
    t_d = -1.0 / (mss * em)
    t_mss = t_d * d
    t_mss /= -mss
    t_tau = em + 1.0
    t_tau *= u
    t_tau /= em
    t_tau += 1.0
    return t_d, t_mss, t_tau


def time_and_partials(
    distance_m: FloatArray, mss_m_s: FloatArray, tau_s: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """``(T, dT/dd, dT/dMSS, dT/dTAU)`` in one pass for ``d > 0``, ``MSS > 0``, ``TAU > 0``
    (the fits' inputs; no checks, NaN propagates): :func:`time_at_distance` and
    :func:`time_derivatives` sharing W0 and the exponential (the derivatives are taken at the
    pre-polish T, which differs from T at rounding level)."""
    t, em, u = _polished_time(distance_m, mss_m_s, tau_s)
    return (t, *_partials(em, u, distance_m, mss_m_s))
