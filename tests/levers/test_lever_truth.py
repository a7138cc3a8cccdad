"""The hamstring lever truth comes from the simulator's latent states and its own hazard equation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab import domain
from sprintlab.domain import sigmoid
from sprintlab.features.catalogue import load_catalogue
from sprintlab.levers import BUNDLES, catalogue_levers
from sprintlab.simulate import causal
from sprintlab.simulate.coefficients import HAZARD, HAZARD_SCALES, NORDIC
from sprintlab.simulate.generator import simulate_squad


@pytest.fixture(scope="module")
def tiny():
    sim = simulate_squad(n_athletes=4, n_weeks=30, seed=11)
    lat = sim.latent
    rows = np.repeat(np.arange(4), 20)
    weeks = np.tile(np.arange(2, 22), 4)
    return sim, lat, rows, weeks


def test_no_change_gives_the_truth_tables_realised_probability(tiny):
    sim, lat, rows, weeks = tiny
    p = causal.latent_hamstring_probability(lat, rows, weeks)
    wt = sim.truth["hamstring_weekly"].set_index(["athlete_id", "week_start"])["p_hamstring_28d"]
    keys = pd.MultiIndex.from_arrays(
        [lat.traits.ids[rows], pd.Timestamp(lat.start) + pd.to_timedelta(weeks * 7, unit="D")]
    )
    np.testing.assert_allclose(p, wt.reindex(keys).to_numpy(), rtol=0, atol=1e-12)


def test_more_nordic_force_follows_the_generators_hazard_equation(tiny):
    """By hand: each of the four hazards' logit moves by -0.85 (N'(1-|a|) - N(1-|a|)) / 50 with
    N' = clip(N + 30, 200, 500); p = 1 - prod(1 - sigmoid(logit))."""
    _, lat, rows, weeks = tiny
    ch = causal.hamstring_latent_change({"nordic_force_n": 30.0})
    got = causal.latent_hamstring_probability(lat, rows, weeks, ch)
    t = weeks[:, None] + np.arange(4)[None, :]
    h = lat.hamstring.hazard[rows[:, None], t + 1]
    nordic = lat.weekly.nordic[rows[:, None], t]
    keep = 1 - np.abs(lat.traits.nordic_asym[rows])[:, None]
    shift = HAZARD["nordic_per_sd"] * (np.clip(nordic + 30, *NORDIC.bounds_n) - nordic) * keep
    logit = np.log(h / (1 - h)) + shift / HAZARD_SCALES.nordic_sd_n
    expected = 1 - np.prod(1 - sigmoid(logit), axis=1)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert (got < causal.latent_hamstring_probability(lat, rows, weeks)).all()


def test_more_sleep_lowers_every_hazard_by_the_sleep_term(tiny):
    _, lat, rows, weeks = tiny
    got = causal.latent_hamstring_probability(
        lat, rows, weeks, causal.hamstring_latent_change({"sleep_hours_7d": 0.5})
    )
    t = weeks[:, None] + np.arange(4)[None, :]
    h = lat.hamstring.hazard[rows[:, None], t + 1]
    logit = np.log(h / (1 - h)) + HAZARD["sleep_deficit"] * (-0.5 / 0.8)
    np.testing.assert_allclose(got, 1 - np.prod(1 - sigmoid(logit), axis=1), rtol=1e-9, atol=1e-12)


def test_timing_has_no_path_to_hamstring_risk(tiny):
    _, lat, rows, weeks = tiny
    ch = causal.hamstring_latent_change({"first_step_contact_ms": -15.0, "touchdown_distance_m": -0.03})
    np.testing.assert_array_equal(
        causal.latent_hamstring_probability(lat, rows, weeks, ch),
        causal.latent_hamstring_probability(lat, rows, weeks),
    )


def test_bounce_back_is_never_in_any_lever_set():
    bounce = {f.name for f in load_catalogue().features if f.family == "bounce_back"}
    assert bounce, "the catalogue has bounce-back features"
    for lv in catalogue_levers():
        assert lv.family not in domain.NOT_TRAINABLE_FAMILIES
        assert not set(lv.changes) & bounce
    for _name, family, _words, members in BUNDLES:
        assert family != "bounce_back" and not set(members) & bounce


def test_a_sprint_exposure_this_week_resets_the_days_since_term(tiny):
    """By hand: one near-maximal sprint this week brings the latent days since one down to 3 at
    most, ``D'_t = min(D_t, min(D_w, 3) + 7 j)`` over the horizon; each hazard's logit moves by the
    generator's sprint-gap term, 0.45 (clip(D', 0, 42) - clip(D, 0, 42)) / 14."""
    _, lat, rows, weeks = tiny
    ch = causal.hamstring_latent_change({}, {"days_since_near_max_speed": 3.0})
    got = causal.latent_hamstring_probability(lat, rows, weeks, ch)
    t = weeks[:, None] + np.arange(4)[None, :]
    h = lat.hamstring.hazard[rows[:, None], t + 1]
    days = lat.hamstring.days_since_expo[rows[:, None], t]
    moved = np.minimum(days, np.minimum(days[:, :1], 3.0) + 7 * np.arange(4)[None, :])
    gap = np.clip(moved, 0, 42) - np.clip(days, 0, 42)
    logit = np.log(h / (1 - h)) + HAZARD["sprint_gap"] * gap / HAZARD_SCALES.sprint_gap_scale_days
    np.testing.assert_allclose(got, 1 - np.prod(1 - sigmoid(logit), axis=1), rtol=1e-9, atol=1e-12)
    base = causal.latent_hamstring_probability(lat, rows, weeks)
    already = days[:, 0] <= 3  # sprinted this week already: nothing changes
    long_gap = days[:, 0] > 10
    assert already.any() and long_gap.any()
    np.testing.assert_array_equal(got[already], base[already])
    assert (got[long_gap] < base[long_gap]).all()
