"""Horizontal force-velocity-power profile from MSS and MAC (Samozino et al. 2016; {shorts}).

Air resistance ({shorts} ``get_air_resistance``; Arsac & Locatelli 2002; van Ingen Schenau 1991):

* air density   rho = 1.293 * (P / 760) * (273 / (273 + T))         (P in Torr, T in deg C)
* frontal area  Af  = 0.2025 * h^0.725 * m^0.425 * 0.266            (h in m, m in kg)
* drag coeff.   Cd  = 0.9
* k = 0.5 * rho * Af * Cd;  F_air(v) = k * sign(v - w) * (v - w)^2  (w = wind, + = tail wind)

Horizontal force along the mono-exponential sprint: ``F_hzt(t) = m a(t) + F_air(v(t))``.

F0 / V0 follow {shorts} ``create_FVP`` (the analytic solution, no inertia or external
resistance): ``F0 = F_hzt(v = 0) = m MAC + F_air(0)`` and V0 the velocity where the
linear-in-v acceleration force plus the quadratic air term balance, i.e. the positive root of
``m MAC (1 - v/MSS) + k (v - w)^2 = 0`` as written in {shorts}:

    V0 = -(sqrt(4 k MSS (-MAC m MSS - k MSS w^2) + (MAC m + 2 k MSS w)^2) - MAC m - 2 k MSS w) / (2 k MSS)

``Pmax = F0 V0 / 4``, ``Pmax_rel = Pmax / m``, ``FV_slope = -(F0 / m) / V0``.

Force orientation ({shorts} ``make_FV_profile`` v2; Morin et al. 2011; Samozino et al. 2016):
on a simulated 0-6 s trace (600 samples, ``seq(0, 6, length.out = 600)``),
``RF(t) = F_hzt / sqrt(F_hzt^2 + (m g)^2)`` with g = 9.81; ``RF_max`` = max RF for t > 0.3 s;
``DRF`` = ordinary least-squares slope of RF on v(t) for t > 0.3 s.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]
G_M_S2 = 9.81
DRAG_COEFFICIENT = 0.9
RF_CUTOFF_S = 0.3
FV_CHUNK_TRIALS = 128  # trials per block of the simulated trace: ~0.6 MB arrays stay in cache


def air_resistance_k(
    body_mass_kg: ArrayLike,
    body_height_m: ArrayLike,
    barometric_pressure_torr: ArrayLike = 760.0,
    air_temperature_c: ArrayLike = 25.0,
) -> FloatArray:
    """Aerodynamic friction coefficient ``k = 0.5 rho Af Cd`` (kg/m); see module doc for the terms."""
    m = np.asarray(body_mass_kg, dtype=float)
    h = np.asarray(body_height_m, dtype=float)
    rho = (
        1.293
        * (np.asarray(barometric_pressure_torr, dtype=float) / 760.0)
        * (273.0 / (273.0 + np.asarray(air_temperature_c, dtype=float)))
    )
    frontal_area = 0.2025 * h**0.725 * m**0.425 * 0.266
    return 0.5 * rho * frontal_area * DRAG_COEFFICIENT


def air_resistance_n(velocity_m_s: ArrayLike, k: ArrayLike, wind_m_s: ArrayLike = 0.0) -> FloatArray:
    """Air resistance ``F_air = k sign(v - w) (v - w)^2`` (N) ({shorts} ``get_air_resistance``)."""
    rel = np.asarray(velocity_m_s, dtype=float) - np.asarray(wind_m_s, dtype=float)
    return np.asarray(k, dtype=float) * np.sign(rel) * rel**2


def fv_profile(
    mss_m_s: ArrayLike,
    mac_m_s2: ArrayLike,
    body_mass_kg: ArrayLike = 75.0,
    body_height_m: ArrayLike = 1.75,
    barometric_pressure_torr: ArrayLike = 760.0,
    air_temperature_c: ArrayLike = 25.0,
    wind_m_s: ArrayLike = 0.0,
    *,
    rf_cutoff_s: float = RF_CUTOFF_S,
    max_time_s: float = 6.0,
    frequency_hz: float = 100.0,
) -> dict[str, FloatArray]:
    """Force-velocity profile (vectorised over trials). Returns arrays keyed
    ``f0_n, f0_rel_n_kg, v0_m_s, pmax_w, pmax_rel_w_kg, fv_slope, rf_max, drf``.

    Equations and sources in the module docstring ({shorts} ``create_FVP`` for F0/V0/Pmax/slope,
    ``make_FV_profile`` for RF_max and DRF). Defaults match {shorts} (75 kg, 1.75 m, 760 Torr,
    25 deg C, no wind).
    """
    mss, mac, m, h, p, temp, w = np.broadcast_arrays(
        *(
            np.atleast_1d(np.asarray(x, dtype=float))
            for x in (
                mss_m_s,
                mac_m_s2,
                body_mass_kg,
                body_height_m,
                barometric_pressure_torr,
                air_temperature_c,
                wind_m_s,
            )
        )
    )
    k = air_resistance_k(m, h, p, temp)
    f0 = m * mac + air_resistance_n(0.0, k, w)
    with np.errstate(invalid="ignore", divide="ignore"):
        disc = 4 * k * mss * (-mac * m * mss - k * mss * w**2) + (mac * m + 2 * k * mss * w) ** 2
        v0 = -(np.sqrt(disc) - mac * m - 2 * k * mss * w) / (2 * k * mss)
        pmax = f0 * v0 / 4.0
        slope = -(f0 / m) / v0

    # force orientation on a simulated trace ({shorts} make_FV_profile)
    t = np.linspace(0.0, max_time_s, int(round(frequency_hz * max_time_s)))
    rf_max, drf = _force_orientation(mss, mac, m, k, w, t[t > rf_cutoff_s])
    return {
        "f0_n": f0,
        "f0_rel_n_kg": f0 / m,
        "v0_m_s": v0,
        "pmax_w": pmax,
        "pmax_rel_w_kg": pmax / m,
        "fv_slope": slope,
        "rf_max": rf_max,
        "drf": drf,
    }


def _force_orientation(
    mss: FloatArray, mac: FloatArray, m: FloatArray, k: FloatArray, w: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """``RF_max`` and ``DRF`` of every trial on the trace times ``t`` (see the module doc).

    Along the trace, with ``TAU = MSS / MAC`` and ``s = -t / TAU``: ``v = -MSS expm1(s)``,
    ``F_hzt = m (MSS / TAU) e^s + k (v - w) |v - w|`` (the same numbers as ``k sign(v - w)
    (v - w)^2``), ``RF = F_hzt / sqrt(F_hzt^2 + (m g)^2)``; ``RF_max = max RF`` and
    ``DRF = sum (v - mean v)(RF - mean RF) / sum (v - mean v)^2``. Computed ``FV_CHUNK_TRIALS``
    trials at a time, so the ``(trials, samples)`` arrays stay in the CPU cache instead of
    being allocated per table chunk; every reduction runs along one trial's samples, so the
    result does not depend on the block size.
    """
    n = mss.size
    rf_max, drf = np.empty(n), np.empty(n)
    tau = mss / mac
    mg2 = (m * G_M_S2) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        for lo in range(0, n, FV_CHUNK_TRIALS):
            b = slice(lo, lo + FV_CHUNK_TRIALS)
            col = (mss[b, None], tau[b, None])
            s = -t / col[1]
            v = -col[0] * np.expm1(s)
            rel = v - w[b, None]
            rel *= np.abs(rel)
            rel *= k[b, None]  # air resistance
            f_h = col[0] / col[1] * np.exp(s)
            f_h *= m[b, None]
            f_h += rel
            rf = f_h / np.sqrt(f_h**2 + mg2[b, None])
            rf_max[b] = np.max(rf, axis=1)
            v -= v.mean(axis=1, keepdims=True)
            rf -= rf.mean(axis=1, keepdims=True)
            rf *= v
            drf[b] = np.sum(rf, axis=1) / np.sum(v**2, axis=1)
    return rf_max, drf
