"""The conditional transfer oracle (latent state + observed opening test): known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from sprintlab.simulate.coefficients import MEASUREMENT, TRANSFER
from sprintlab.simulate.truth import p_transfer_given_opening, transfer_end_noise, transfer_noise

SEED = 11
E_SD = math.sqrt(TRANSFER["trial_sd_s"] ** 2 + TRANSFER["gate_sd_s"] ** 2)


def _cdf_w(x: float) -> float:
    """Closed form of P(e_bio + min_j e_j < x): e_bio ~ N(0, bio), min of ``trials`` N(0, e) draws."""

    def integrand(b: float) -> float:
        p_min_below = 1 - (1 - stats.norm.cdf((x - b) / E_SD)) ** MEASUREMENT.trials
        return stats.norm.pdf(b, scale=TRANSFER["bio_sd_s"]) * p_min_below

    return integrate.quad(integrand, -0.2, 0.2, limit=200)[0]


@pytest.mark.parametrize(("mu", "e_s", "swc"), [(0.0, 0.0, 0.014), (-0.03, 0.01, 0.014), (0.02, -0.01, 0.02)])
def test_conditional_oracle_is_the_end_noise_cdf_at_opening_error_minus_mu_minus_swc(mu, e_s, swc):
    """Transfer <=> -(mu + W - e_s) > SWC <=> W < e_s - mu - SWC: p = F_W(e_s - mu - SWC)."""
    p = p_transfer_given_opening(np.array([mu]), np.array([e_s]), swc, transfer_end_noise(SEED))
    assert p[0] == pytest.approx(_cdf_w(e_s - mu - swc), abs=0.004)


def test_a_lucky_opening_test_lowers_the_conditional_probability():
    w = transfer_end_noise(SEED)
    mu = np.zeros(3)
    p = p_transfer_given_opening(mu, np.array([-0.03, 0.0, 0.03]), 0.014, w)
    # an opening test 30 ms faster than the true level (lucky) makes the next test look slower
    assert p[0] < p[1] < p[2]


def test_averaged_over_the_opening_error_it_is_the_stored_oracle():
    """Law of total probability: E_{e_s}[F_W(e_s - mu - SWC)] = 1 - F_Z(SWC + mu), Z = W' - e_s."""
    rng = np.random.default_rng(3)
    e_s = rng.normal(0, E_SD, (100_000, MEASUREMENT.trials)).min(1)
    w, z = transfer_end_noise(SEED), transfer_noise(SEED)
    for mu in (-0.03, 0.0, 0.015):
        conditional = p_transfer_given_opening(np.full(e_s.size, mu), e_s, 0.014, w).mean()
        stored = 1 - np.searchsorted(z, 0.014 + mu, side="right") / z.size
        assert conditional == pytest.approx(stored, abs=0.006)


@pytest.mark.parametrize("b", [0.0, 0.3])
def test_adjusted_label_averaged_over_the_opening_error_is_its_stored_oracle(b):
    """Own-level adjusted change ``mu' + W - (1 - b) e_s``: E_{e_s}[F_W((1 - b) e_s - mu' - SWC)] equals
    1 - F_Z(SWC + mu') with Z drawn at opening weight 1 - b; with b = 0 the draws are the raw label's."""
    rng = np.random.default_rng(4)
    e_s = rng.normal(0, E_SD, (100_000, MEASUREMENT.trials)).min(1)
    w, z = transfer_end_noise(SEED), transfer_noise(SEED, opening_weight=1 - b)
    if b == 0.0:
        np.testing.assert_array_equal(z, transfer_noise(SEED))
    for mu in (-0.03, 0.0, 0.015):
        conditional = p_transfer_given_opening(
            np.full(e_s.size, mu), e_s, 0.014, w, opening_weight=1 - b
        ).mean()
        stored = 1 - np.searchsorted(z, 0.014 + mu, side="right") / z.size
        assert conditional == pytest.approx(stored, abs=0.006)


def test_the_adjustment_takes_back_share_b_of_the_opening_error():
    """With b = 1 the opening test's error drops out of the adjusted change: the conditional oracle no
    longer depends on it; with b = 0.5 an error of 20 ms moves the threshold by 10 ms."""
    w = transfer_end_noise(SEED)
    mu = np.zeros(2)
    p_full = p_transfer_given_opening(mu, np.array([-0.02, 0.02]), 0.014, w, opening_weight=0.0)
    assert p_full[0] == p_full[1]
    half = p_transfer_given_opening(np.zeros(1), np.array([0.02]), 0.014, w, opening_weight=0.5)
    assert half[0] == pytest.approx(p_transfer_given_opening(np.zeros(1), np.array([0.01]), 0.014, w)[0])
