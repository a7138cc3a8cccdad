"""The simulator's process steps: known answers with the noise set to zero, and one definition
shared by the weekly loop and the oracles."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sprintlab.simulate import causal, latent, processes, truth
from sprintlab.simulate.coefficients import HAZARD, TRANSFER
from sprintlab.simulate.processes import (
    age_at_week_years,
    braking_step,
    control_step,
    days_since_near_max_step,
    effective_nordic_n,
    hazard_families,
    hazard_logit,
    hazard_terms,
    hsr_log_step,
    hsr_low_week_multiplier,
    hsr_own_norm_m,
    hsr_spike,
    hsr_spike_multiplier,
    nordic_step_n,
    nordic_walk_n,
    onset_probability,
    sleep_deficit_step,
    soreness_step,
    spike_state_step,
    strength_control_gap_at_week,
    strength_headroom,
    tau_for_t10,
    transfer_mean_change,
    week_hsr_m,
    weekly_hazard,
)
from sprintlab.sprint.model import time_at_distance


def test_hazard_of_a_known_state():
    """A 35-year-old with a previous hamstring injury, effective Nordic force 280 N, spike state 0.5,
    60 days without near-maximal sprinting (capped at 42), sleep deficit 1 SD, soreness -0.5 SD,
    strength-control gap 2: logit = -7.9 + 0.95 + 0.5 + 0.85 + 0.475 + 1.35 + 0.45 - 0.2 + 1.1."""
    terms = hazard_terms(
        np.array([1.0]),
        np.array([35.0]),
        np.array([280.0]),
        np.array([0.5]),
        np.array([60.0]),
        np.array([1.0]),
        np.array([-0.5]),
        np.array([2.0]),
    )
    expected = {
        "prev_hamstring": 0.95,
        "age": 0.5,
        "nordic": 0.85,
        "hsr_spike": 0.475,
        "sprint_gap": 1.35,
        "sleep_deficit": 0.45,
        "soreness": -0.2,
        "strength_control_gap": 1.1,
    }
    assert list(terms) == list(expected)
    for name, value in expected.items():
        assert terms[name][0] == pytest.approx(value, abs=1e-12), name
    logit = hazard_logit(terms)
    assert logit[0] == pytest.approx(-7.9 + sum(expected.values()), abs=1e-12)
    assert weekly_hazard(logit)[0] == pytest.approx(1 / (1 + math.exp(-logit[0])), rel=1e-12)
    families = hazard_families(terms)
    assert families["load"][0] == pytest.approx(0.475 + 1.35)
    assert families["history"][0] == pytest.approx(0.95 + 0.5)
    assert sum(f[0] for f in families.values()) == pytest.approx(logit[0] - HAZARD["h0"], abs=1e-12)


def test_a_typical_athlete_has_the_baseline_hazard():
    zero = np.zeros(1)
    terms = hazard_terms(zero, np.array([25.0]), np.array([330.0]), zero, zero, zero, zero, zero)
    assert all(t[0] == 0 for t in terms.values())
    assert weekly_hazard(hazard_logit(terms))[0] == pytest.approx(1 / (1 + math.exp(7.9)))


def test_weekly_steps_without_noise():
    zero = np.zeros(2)
    assert np.array_equal(hsr_log_step(np.array([0.4, -0.2]), zero), [0.2, -0.1])
    assert np.array_equal(hsr_spike_multiplier(np.array([True, False]), np.array([2.0, 2.0])), [2.0, 1.0])
    assert np.array_equal(hsr_low_week_multiplier(np.array([True, False])), [0.45, 1.0])
    assert np.array_equal(week_hsr_m(np.array([100.0, 250.0]), np.array([1.0, 2.0])), [400.0, 2000.0])
    # own norm: mean of the weeks that ran; none ran -> 4 sessions at the athlete's norm
    recent = np.array([[100.0, 0.0, 300.0], [0.0, 0.0, 0.0]])
    assert np.array_equal(hsr_own_norm_m(recent, np.array([50.0, 50.0])), [200.0, 200.0])
    assert np.array_equal(hsr_spike(np.array([0.5, 1.0, 1.5, 5.0])), [0.0, 0.0, 0.5, 2.0])
    assert np.array_equal(spike_state_step(np.array([1.0, 0.0]), np.array([0.5, 0.0])), [1.0, 0.0])
    days = days_since_near_max_step(np.array([10.0, 10.0]), np.array([True, False]), np.array([3, 3]))
    assert np.array_equal(days, [3.0, 17.0])
    assert np.array_equal(nordic_step_n(np.array([498.0, 300.0]), np.array([5.0, 0.0])), [500.0, 300.0])
    walk = nordic_walk_n(np.array([300.0]), np.array([[10.0, -5.0, 0.0]]))
    assert np.array_equal(walk, [[310.0, 305.0, 305.0]])
    assert np.array_equal(sleep_deficit_step(np.array([1.0, -2.0]), zero), [0.75, -1.5])
    sore = soreness_step(np.array([1.0, 0.0]), np.array([1.0, math.e]), zero)
    np.testing.assert_allclose(sore, [0.6, 0.9], rtol=1e-15)


def test_block_steps_without_noise():
    zero = np.zeros(3)
    c0 = np.array([1.0, 0.0, -1.0])
    np.testing.assert_allclose(control_step(np.array([2.0, 2.0, 3.2]), c0, zero), [1.85, 1.7, 2.5])
    np.testing.assert_allclose(braking_step(np.array([1.0, 3.0, -3.0]), c0, zero), [1.0, 1.5, -2.0])
    # headroom (2.45 - s) / 0.9 inside [0.35, 1.2]
    np.testing.assert_allclose(strength_headroom(np.array([1.55, 2.3, 1.0])), [1.0, 0.35, 1.2])


def test_age_nordic_and_strength_control_gap():
    assert age_at_week_years(np.array([25.0]), 52)[0] == pytest.approx(25 + 52 / 52.18)
    assert effective_nordic_n(np.array([300.0]), np.array([-0.1]))[0] == pytest.approx(270.0)
    # squat +10 % and control +0.3 over 8 weeks: gap 1 - 1 = 0; squat +20 %, control flat: 2
    squat = np.array([[1.0] * 8 + [1.1], [1.0] * 8 + [1.2]])
    control = np.array([[0.0] * 8 + [0.3], [0.0] * 9])
    np.testing.assert_allclose(strength_control_gap_at_week(squat, control, 8), [0.0, 2.0], atol=1e-12)


def test_onset_probability_over_the_horizon():
    h = np.array([[0.1, 0.1, 0.1, 0.1], [0.0, 0.0, 0.0, 0.5]])
    np.testing.assert_allclose(onset_probability(h), [1 - 0.9**4, 0.5])


def test_tau_inversion_recovers_the_requested_time():
    mss = np.array([8.0, 9.0, 7.5])
    fd = np.array([0.3, 0.5, 0.25])
    t10 = np.array([1.75, 1.9, 2.1])
    tau = tau_for_t10(t10, mss, fd)
    got = time_at_distance(10 + fd, mss, tau) - time_at_distance(fd, mss, tau)
    np.testing.assert_allclose(got, t10, atol=1e-8)


def test_transfer_thesis_strength_transfers_through_access_and_braking_eats_it():
    g = np.array([0.10, 0.10, 0.10])
    zeros = np.zeros(3)
    high_access = transfer_mean_change(g, np.array([2.0, 2.0, 2.0]), zeros, zeros, zeros, zeros)
    low_access = transfer_mean_change(g, np.array([-2.0, -2.0, -2.0]), zeros, zeros, zeros, zeros)
    assert (high_access < low_access).all()  # more control -> more of the gain shows as speed
    braking = transfer_mean_change(g, zeros, np.full(3, 2.0), zeros, zeros, zeros)
    assert (braking > transfer_mean_change(g, zeros, zeros, zeros, zeros, zeros)).all()
    no_gain = transfer_mean_change(zeros, np.full(3, 2.0), zeros, zeros, zeros, zeros)
    assert np.allclose(no_gain, TRANSFER["d0_s"])  # no strength gain: control alone transfers nothing


def test_transfer_mean_change_known_answer():
    """g = 10 % at c = 0 (access 1/2), braking 1 SD, 0.05 s above typical, load and sleep 1 SD:
    0.012 - 0.8 x 0.1 x 0.5 + 0.020 - 0.4 x 0.05 + 0.006 + 0.006 = -0.016 s."""
    one = np.ones(1)
    mu = transfer_mean_change(0.1 * one, 0 * one, one, 0.05 * one, one, one)
    assert mu[0] == pytest.approx(-0.016, abs=1e-15)


@pytest.mark.parametrize(
    ("module", "names"),
    [
        (
            latent,
            (
                "hsr_log_step",
                "hsr_spike_multiplier",
                "hsr_low_week_multiplier",
                "week_hsr_m",
                "hsr_own_norm_m",
                "hsr_spike",
                "spike_state_step",
                "days_since_near_max_step",
                "sleep_deficit_step",
                "soreness_step",
                "age_at_week_years",
                "effective_nordic_n",
                "strength_control_gap_at_week",
                "hazard_terms",
                "hazard_logit",
                "hazard_families",
                "weekly_hazard",
            ),
        ),
        (
            truth,
            (
                "hsr_log_step",
                "hsr_spike_multiplier",
                "hsr_low_week_multiplier",
                "week_hsr_m",
                "hsr_own_norm_m",
                "hsr_spike",
                "spike_state_step",
                "days_since_near_max_step",
                "nordic_step_n",
                "sleep_deficit_step",
                "soreness_step",
                "age_at_week_years",
                "effective_nordic_n",
                "strength_control_gap_at_week",
                "hazard_terms",
                "hazard_logit",
                "hazard_families",
                "weekly_hazard",
                "onset_probability",
            ),
        ),
        (
            causal,
            (
                "capped_sprint_gap_days",
                "hsr_spike",
                "onset_probability",
                "strength_control_gap_from_changes",
                "transfer_mean_change",
            ),
        ),
    ],
)
def test_simulation_and_oracles_call_the_same_process_steps(module, names):
    """The weekly loop (latent), the 28-day Monte Carlo (truth) and the lever truth (causal) use
    the one definition of each step in ``processes``."""
    for name in names:
        assert getattr(module, name) is getattr(processes, name), (module.__name__, name)
