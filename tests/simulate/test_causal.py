"""The lever truth: known answers of a lever's latent change and hazard-logit change, read from
the same coefficients and process steps the simulation uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.simulate.causal import hamstring_logit_change, transfer_latent_change


def test_transfer_latent_change_inverts_the_observation_coefficients():
    assert transfer_latent_change(
        {"pelvic_control_score": 0.95, "trunk_control_score": 0.85}
    ) == pytest.approx({"c": 1.0})
    assert transfer_latent_change({"first_step_contact_ms": 14.0})["k"] == pytest.approx(1.0)
    assert transfer_latent_change({"touchdown_distance_m": 0.035})["k"] == pytest.approx(1.0)
    assert transfer_latent_change({"hsr_excess_since_test": 0.15})["load"] == pytest.approx(1.0)
    assert transfer_latent_change({"sleep_hours_7d": -0.8})["sleep"] == pytest.approx(1 / 0.55)
    assert transfer_latent_change({"nordic_force_n": 30.0}) == {}


def test_hamstring_logit_change_known_answers():
    rows = pd.DataFrame(
        {
            "days_since_near_max_speed": [10.0, 40.0, np.nan],
            "hsr_vs_own_norm": [1.2, 0.5, np.nan],
            "strength_change_8w_pct": [0.0, 0.0, np.nan],
            "control_change_8w": [0.0, 0.0, np.nan],
            "strength_change_since_test_pct": [np.nan, np.nan, np.nan],
        }
    )
    np.testing.assert_allclose(hamstring_logit_change({"nordic_force_n": 50.0}, rows), -0.85)
    np.testing.assert_allclose(hamstring_logit_change({"sleep_hours_7d": 0.8}, rows), -0.45)
    # days since near-maximal speed +7: capped at 42 days; a missing value counts as 21 days
    gap = hamstring_logit_change({"days_since_near_max_speed": 7.0}, rows)
    np.testing.assert_allclose(gap[:, 0], [0.45 * 7 / 14, 0.45 * 2 / 14, 0.45 * 7 / 14])
    # this week's HSR ratio +0.5: spike term 0.95 x (0.7 - 0.2), halving every week; 0.5 -> 1.0: none;
    # a missing ratio counts as 1 (1.0 -> 1.5)
    spike = hamstring_logit_change({"hsr_vs_own_norm": 0.5}, rows)
    halving = np.array([1, 0.5, 0.25, 0.125])
    np.testing.assert_allclose(spike, [0.95 * 0.5 * halving, np.zeros(4), 0.95 * 0.5 * halving], atol=1e-15)
    # strength +10 points with control flat: the strength-control gap goes from 0 to 1
    np.testing.assert_allclose(hamstring_logit_change({"strength_change_since_test_pct": 10.0}, rows), 0.55)
    assert not hamstring_logit_change({"first_step_contact_ms": -10.0}, rows).any()
