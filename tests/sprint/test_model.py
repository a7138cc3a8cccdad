"""Analytic checks of the mono-exponential kinematics (sprintlab.sprint.model)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq

from sprintlab.sprint.model import (
    acceleration,
    distance,
    time_and_partials,
    time_at_distance,
    time_derivatives,
    velocity,
)


def test_velocity_acceleration_distance_closed_forms():
    mss, tau = 9.0, 1.2
    t = np.array([0.0, 0.5, 1.0, 3.0, 10.0])
    np.testing.assert_allclose(velocity(t, mss, tau), mss * (1 - np.exp(-t / tau)), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(acceleration(t, mss, tau), mss / tau * np.exp(-t / tau), rtol=1e-14)
    np.testing.assert_allclose(
        distance(t, mss, tau), mss * (t + tau * np.exp(-t / tau)) - mss * tau, rtol=1e-12, atol=1e-12
    )
    assert acceleration(0.0, mss, tau) == pytest.approx(mss / tau)  # MAC
    # distance is the integral of velocity (trapezoid on a fine grid)
    tt = np.linspace(0, 3, 300001)
    assert np.trapezoid(velocity(tt, mss, tau), tt) == pytest.approx(distance(3.0, mss, tau), rel=1e-9)


@pytest.mark.parametrize("mss,tau", [(8.0, 0.8), (12.0, 1.4), (5.0, 0.3), (9.0, 2.5)])
def test_time_at_distance_inverts_distance(mss, tau):
    t = np.array([1e-4, 0.01, 0.2, 1.0, 2.5, 6.0, 12.0])
    d = distance(t, mss, tau)
    np.testing.assert_allclose(time_at_distance(d, mss, tau), t, rtol=1e-10, atol=1e-12)


def test_time_at_distance_matches_root_finding_and_lambert_formula():
    mss, tau = 8.591, 0.811
    for d in [0.05, 1.0, 5.0, 10.0, 20.0, 40.0, 100.0]:
        t_num = brentq(lambda t, d=d: distance(t, mss, tau) - d, 0, 100, xtol=1e-15)
        assert time_at_distance(d, mss, tau) == pytest.approx(t_num, rel=1e-12, abs=1e-13)
    # principal branch: W0 in [-1, 0) -> t > d/MSS; the -1 branch would give t < d/MSS
    d = np.linspace(0.1, 60, 50)
    t = time_at_distance(d, mss, tau)
    assert np.all(t > d / mss) and np.all(np.diff(t) > 0)


def test_time_at_distance_edge_values():
    assert time_at_distance(0.0, 8.0, 1.0) == 0.0
    assert np.isnan(time_at_distance(-1.0, 8.0, 1.0))
    assert np.isnan(time_at_distance(np.nan, 8.0, 1.0))
    assert np.isnan(time_at_distance(5.0, -8.0, 1.0))


def test_time_derivatives_match_finite_differences():
    d, mss, tau = np.array([5.0, 20.0]), 8.5, 0.9
    t = time_at_distance(d, mss, tau)
    t_d, t_m, t_tau = time_derivatives(t, d, mss, tau)
    h = 1e-6
    np.testing.assert_allclose(
        t_d, (time_at_distance(d + h, mss, tau) - time_at_distance(d - h, mss, tau)) / (2 * h), rtol=1e-6
    )
    np.testing.assert_allclose(
        t_m, (time_at_distance(d, mss + h, tau) - time_at_distance(d, mss - h, tau)) / (2 * h), rtol=1e-6
    )
    np.testing.assert_allclose(
        t_tau, (time_at_distance(d, mss, tau + h) - time_at_distance(d, mss, tau - h)) / (2 * h), rtol=1e-6
    )


def test_time_and_partials_equal_time_at_distance_and_time_derivatives():
    """The fits' one-pass evaluation gives the same numbers as the two public functions."""
    rng = np.random.default_rng(2)
    d = rng.uniform(0.01, 80.0, (40, 5))
    mss, tau = rng.uniform(3, 13, (40, 1)), rng.uniform(0.3, 2.5, (40, 1))
    t, t_d, t_m, t_tau = time_and_partials(d, mss, tau)
    np.testing.assert_array_equal(t, time_at_distance(d, mss, tau))
    for got, want in zip((t_d, t_m, t_tau), time_derivatives(t, d, mss, tau), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_time_at_distance_matches_a_50_digit_reference():
    """The real-valued W0 (series start + Halley) is as accurate as the complex Lambert W was."""
    from decimal import Decimal, getcontext

    getcontext().prec = 50
    rng = np.random.default_rng(0)
    d = np.r_[rng.uniform(0.1, 100, 300), [5.0, 10.0, 20.0, 40.0]]
    mss, tau = rng.uniform(3, 13, d.size), rng.uniform(0.3, 2.5, d.size)
    got = time_at_distance(d, mss, tau)
    for di, mi, ti, gi in zip(d, mss, tau, got, strict=True):
        dd, mm, tt, t = Decimal(float(di)), Decimal(float(mi)), Decimal(float(ti)), Decimal(float(gi))
        for _ in range(8):  # Newton on d(t) = d in 50 digits, from the float answer
            e = (-t / tt).exp()
            t -= (mm * (t + tt * e - tt) - dd) / (mm * (1 - e))
        assert abs(float(t) - gi) <= 4 * np.spacing(gi)
