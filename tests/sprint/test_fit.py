"""Fits: {shorts} parity on the simulated fixtures and exact recovery of known parameters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from sprintlab.sprint import fit_distance_trace, fit_radar, fit_timing_gates, fv_profile, profile_radar
from sprintlab.sprint.model import distance, time_at_distance, velocity

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
FIXTURES = SHARED / "shorts_simulated_fixtures"
needs_fixtures = pytest.mark.skipif(
    not (FIXTURES / "split_times_SIMULATED.csv").exists(),
    reason=f"{FIXTURES} absent: {{shorts}} simulated fixtures live in ../shared/datasets (not in the repo)",
)
GATES = np.array([5.0, 10.0, 15.0, 20.0, 30.0, 40.0])


def _kimberley() -> pd.DataFrame:
    st = pd.read_csv(FIXTURES / "split_times_SIMULATED.csv")
    return st[st["athlete"] == "Kimberley"]


@needs_fixtures
def test_parity_kimberley_no_correction():
    k = _kimberley()
    f = fit_timing_gates(k["distance"].to_numpy(), k["time"].to_numpy(), "none")
    assert f.fit_ok[0] and f.fit_issue[0] == ""
    assert round(f.mss_m_s[0], 3) == 8.591
    assert round(f.mac_m_s2[0], 3) == 10.589
    assert round(f.tau_s[0], 3) == 0.811
    assert round(f.pmax_rel_w_kg[0], 3) == 22.743
    assert round(f.rse_s[0], 3) == 0.034
    np.testing.assert_array_equal(np.round(f.pred_time_s[0], 2), [1.21, 1.90, 2.52, 3.12, 4.30, 5.47])


@needs_fixtures
def test_parity_kimberley_fixed_0_3():
    k = _kimberley()
    f = fit_timing_gates(k["distance"].to_numpy(), k["time"].to_numpy(), "fixed:0.3")
    assert (
        round(f.mss_m_s[0], 2),
        round(f.mac_m_s2[0], 2),
        round(f.tau_s[0], 2),
        round(f.pmax_rel_w_kg[0], 2),
    ) == (9.13, 6.63, 1.38, 15.12)
    assert f.time_correction_s[0] == 0.3


@needs_fixtures
def test_parity_kimberley_fvp():
    k = _kimberley()
    f = fit_timing_gates(k["distance"].to_numpy(), k["time"].to_numpy(), "none")
    fv = fv_profile(f.mss_m_s, f.mac_m_s2, body_mass_kg=60, body_height_m=1.70)
    assert round(fv["f0_n"][0]) == 635
    assert round(fv["f0_rel_n_kg"][0], 1) == 10.6
    assert round(fv["v0_m_s"][0], 2) == 8.85
    assert round(fv["pmax_w"][0]) == 1405
    assert round(fv["pmax_rel_w_kg"][0], 1) == 23.4
    assert round(fv["fv_slope"][0], 1) == -1.2


@needs_fixtures
def test_parity_jim_radar_time_correction():
    rg = pd.read_csv(FIXTURES / "radar_gun_data_SIMULATED.csv")
    jim = rg[rg["athlete"] == "Jim"]
    f = fit_radar(jim["time"].to_numpy(), jim["velocity"].to_numpy())
    assert (
        round(f.mss_m_s[0], 3),
        round(f.mac_m_s2[0], 3),
        round(f.tau_s[0], 3),
        round(f.pmax_rel_w_kg[0], 3),
    ) == (7.998, 8.999, 0.889, 17.993)
    # |TC| = 0.00011 as published; with v = MSS(1 - exp(-(t + TC)/TAU)) the sign is +, exactly as the
    # nls summary in the {shorts} README (TC 0.0001104). See docs/sprint-model.md.
    assert round(abs(f.time_correction_s[0]), 5) == 0.00011
    assert f.time_correction_s[0] == pytest.approx(0.0001104, abs=5e-8)
    # the table API (clamping pre-start samples) agrees to the printed precision
    p = profile_radar(jim.rename(columns={"time": "time_s", "velocity": "velocity_m_s"}))
    assert round(p["mss_m_s"].iloc[0], 3) == 7.998 and round(p["mac_m_s2"].iloc[0], 3) == 8.999


@needs_fixtures
def test_standard_errors_match_curve_fit():
    k = _kimberley()
    d, t = k["distance"].to_numpy(), k["time"].to_numpy()
    popt, pcov = curve_fit(
        lambda x, m, tau: time_at_distance(x, m, tau), d, t, p0=[7, 0.8], xtol=1e-14, ftol=1e-14
    )
    f = fit_timing_gates(d, t, "none")
    np.testing.assert_allclose([f.mss_m_s[0], f.tau_s[0]], popt, rtol=1e-8)
    np.testing.assert_allclose([f.mss_se[0], f.tau_se[0]], np.sqrt(np.diag(pcov)), rtol=1e-5)
    resid = t - time_at_distance(d, *popt)
    assert f.rmse_s[0] == pytest.approx(np.sqrt(np.mean(resid**2)), rel=1e-6)
    assert f.rse_s[0] == pytest.approx(np.sqrt(np.sum(resid**2) / (len(d) - 2)), rel=1e-6)


# ------------------------------------------------------------------ exact recovery (no data needed)

TRUE = np.array([(8.0, 0.9), (9.0, 1.3), (10.0, 1.1), (6.5, 0.7), (11.5, 1.25), (7.5, 1.5)])


def _times(mss, tau, kind, value):
    mss, tau = mss[:, None], tau[:, None]
    d = GATES[None, :]
    if kind == "plain":
        return time_at_distance(d, mss, tau)
    if kind == "tc":  # clock starts TC after motion: t_obs = t(d) - TC
        return time_at_distance(d, mss, tau) - value[:, None]
    if kind == "fd":
        return time_at_distance(d + value[:, None], mss, tau) - time_at_distance(value[:, None], mss, tau)
    if kind == "dc":
        return time_at_distance(d - value[:, None], mss, tau)
    raise AssertionError(kind)


CASES = [
    # (data-generating kind, correction, value per trial, expected estimate field)
    ("plain", "none", None, None),
    ("plain", "tc", None, ("time_correction_s", 0.0)),
    ("plain", "fd", None, ("flying_distance_m", 0.0)),
    ("plain", "dc", None, ("distance_correction_m", 0.0)),
    ("tc", "tc", np.array([0.1, 0.25, 0.3, -0.05, 0.4, 0.0]), "time_correction_s"),
    ("fd", "fd", np.array([0.2, 0.3, 0.5, 0.1, 1.0, 0.05]), "flying_distance_m"),
    ("dc", "dc", np.array([0.5, 1.0, -0.5, 1.5, 0.2, 2.0]), "distance_correction_m"),
]


@pytest.mark.parametrize("kind,correction,value,field", CASES)
def test_exact_recovery_of_known_parameters(kind, correction, value, field):
    mss, tau = TRUE[:, 0], TRUE[:, 1]
    t = _times(mss, tau, kind, value)
    f = fit_timing_gates(np.broadcast_to(GATES, t.shape), t, correction)
    assert f.fit_ok.all(), f.fit_issue
    np.testing.assert_allclose(f.mss_m_s, mss, atol=1e-6)
    np.testing.assert_allclose(f.tau_s, tau, atol=1e-6)
    np.testing.assert_allclose(f.mac_m_s2, mss / tau, atol=1e-6)
    assert np.all(f.rmse_s < 1e-8)
    if isinstance(field, tuple):
        np.testing.assert_allclose(getattr(f, field[0]), field[1], atol=1e-6)
    elif field is not None:
        np.testing.assert_allclose(getattr(f, field), value, atol=1e-6)


def test_fixed_correction_recovers_known_clock_delay():
    mss, tau = TRUE[:, 0], TRUE[:, 1]
    t = _times(mss, tau, "tc", np.full(len(mss), 0.3))
    f = fit_timing_gates(np.broadcast_to(GATES, t.shape), t, "fixed:0.3")
    np.testing.assert_allclose(f.mss_m_s, mss, atol=1e-6)
    np.testing.assert_allclose(f.tau_s, tau, atol=1e-6)
    np.testing.assert_allclose(f.pred_time_s, t, atol=1e-9)  # predictions on the device clock


def test_padded_trial_recovers_a_distance_correction_beyond_one_metre():
    """A NaN-padded trial (4 of 5 gates) fits DC = 2 m as the full trial does (padding stays valid)."""
    t = time_at_distance(GATES - 2.0, 8.0, 1.0)
    d2 = np.vstack([GATES, np.r_[GATES[:-1], np.nan]])
    t2 = np.vstack([t, np.r_[t[:-1], np.nan]])
    f = fit_timing_gates(d2, t2, "dc")
    assert f.fit_ok.all(), f.fit_issue
    np.testing.assert_allclose(f.distance_correction_m, [2.0, 2.0], atol=1e-6)
    np.testing.assert_allclose(f.mss_m_s, [8.0, 8.0], atol=1e-6)


def test_batched_fit_equals_one_trial_at_a_time():
    rng = np.random.default_rng(3)
    mss, tau = TRUE[:, 0], TRUE[:, 1]
    t = _times(mss, tau, "fd", np.full(len(mss), 0.3)) + rng.normal(0, 0.01, (len(mss), len(GATES)))
    batch = fit_timing_gates(np.broadcast_to(GATES, t.shape), t, "fd")
    for i in range(len(mss)):
        one = fit_timing_gates(GATES, t[i], "fd")
        assert one.mss_m_s[0] == pytest.approx(batch.mss_m_s[i], abs=1e-9)
        assert one.flying_distance_m[0] == pytest.approx(batch.flying_distance_m[i], abs=1e-8)


def test_radar_and_distance_trace_recovery():
    t = np.arange(0, 6, 0.01)
    mss, tau, tc = np.array([8.5, 10.0]), np.array([1.0, 1.3]), np.array([0.2, -0.1])
    v = velocity(t[None, :] + tc[:, None], mss[:, None], tau[:, None])
    f = fit_radar(np.broadcast_to(t, v.shape), v)
    np.testing.assert_allclose(f.mss_m_s, mss, atol=1e-6)
    np.testing.assert_allclose(f.tau_s, tau, atol=1e-6)
    np.testing.assert_allclose(f.time_correction_s, tc, atol=1e-6)
    # distance trace: d_obs = d(t + TC) + DC, starting after motion onset
    tt = np.arange(0.3, 6, 0.01)
    dc = np.array([-0.5, 1.0])
    d = distance(tt[None, :] + tc[:, None], mss[:, None], tau[:, None]) + dc[:, None]
    g = fit_distance_trace(np.broadcast_to(tt, d.shape), d)
    np.testing.assert_allclose(g.mss_m_s, mss, atol=1e-6)
    np.testing.assert_allclose(g.tau_s, tau, atol=1e-6)
    np.testing.assert_allclose(g.time_correction_s, tc, atol=1e-6)
    np.testing.assert_allclose(g.distance_correction_m, dc, atol=1e-6)


def test_radar_clamped_model_recovers_from_trace_with_pre_start_samples():
    t = np.arange(-0.5, 5, 0.01)
    v = velocity(np.maximum(t - 0.3, 0), 9.0, 1.1)  # athlete starts 0.3 s after the device
    f = fit_radar(t, v, clamp_before_start=True)
    assert f.mss_m_s[0] == pytest.approx(9.0, abs=1e-6)
    assert f.tau_s[0] == pytest.approx(1.1, abs=1e-6)
    assert f.time_correction_s[0] == pytest.approx(-0.3, abs=1e-6)
