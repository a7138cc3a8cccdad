"""The simulator writes the data contract with realistic ranges and a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.contract.tables import TABLES
from sprintlab.simulate.generator import (
    TRANSFER,
    simulate_squad,
    tau_for_t10,
    time_at_distance,
    transfer_mean_change,
    transfer_shapley,
)
from sprintlab.targets import session_best_times


def test_writes_exactly_the_contract_columns(small_squad):
    for name, spec in TABLES.items():
        df = small_squad.tables[name]
        optional_not_simulated = {"srpe_load_au"}  # only for exports that give RPE x minutes as one number
        assert list(df.columns) == [c for c in spec.column_names if c not in optional_not_simulated], name
        assert len(df) > 0, name


def test_values_inside_contract_bounds(small_squad):
    for name, spec in TABLES.items():
        df = small_squad.tables[name]
        for col in spec.columns:
            if col.name not in df:
                continue
            if col.min_value is not None:
                v = pd.to_numeric(df[col.name], errors="coerce").dropna()
                assert v.between(col.min_value, col.max_value).all(), (name, col.name)
            if col.allowed is not None:
                assert set(df[col.name].dropna()) <= set(col.allowed), (name, col.name)


def test_realistic_sprint_and_nordic_ranges():
    sim = simulate_squad(60, 52, seed=3)
    best = session_best_times(sim.tables["sprint_splits"])["t10_best_s"]
    # 0-10 m times from the mono-exponential model with gate noise: 1.6-2.3 s for the bulk
    assert 1.6 <= best.quantile(0.02) and best.quantile(0.98) <= 2.3
    assert 1.4 <= best.min() and best.max() <= 2.4
    nordic = sim.tables["strength_tests"].query("test == 'nordic_eccentric'")["value"]
    assert 200 <= nordic.quantile(0.02) and nordic.quantile(0.98) <= 500


def test_hamstring_injuries_per_squad_season_are_realistic():
    per_season = []
    for seed in range(4):
        sim = simulate_squad(30, 52, seed=seed)
        inj = sim.tables["injuries"]
        in_window = inj[(inj["onset_date"] >= pd.Timestamp("2024-07-01")) & (inj["body_part"] == "hamstring")]
        per_season.append(len(in_window))
    assert 3 <= np.mean(per_season) <= 10, per_season


def test_same_seed_same_data_other_seed_other_data():
    a = simulate_squad(6, 14, seed=5)
    b = simulate_squad(6, 14, seed=5)
    c = simulate_squad(6, 14, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.tables["gym_sets"].equals(c.tables["gym_sets"])


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


def test_shapley_decomposition_is_exact():
    rng = np.random.default_rng(0)
    g, c, k, rev, load, sleep = (rng.normal(0, 1, 50) * s for s in (0.05, 1, 1, 0.05, 1, 1))
    ref = {"g": 0.08, "c": 0.1, "k": -0.2, "rev": 0.01, "load": 0.0, "sleep": 0.0}
    phi = transfer_shapley(g, c, k, rev, load, sleep, ref)
    mu = transfer_mean_change(g, c, k, rev, load, sleep)
    mu_ref = transfer_mean_change(*(np.full(50, ref[x]) for x in ("g", "c", "k", "rev", "load", "sleep")))
    np.testing.assert_allclose(phi.sum(axis=1).to_numpy(), mu - mu_ref, atol=1e-12)


def test_truth_is_separate_and_complete(small_squad):
    truth = small_squad.truth
    assert set(truth) == {"athlete_traits", "hamstring_weekly", "transfer_blocks"}
    tb = truth["transfer_blocks"]
    assert tb["p_transfer"].between(0, 1).all()
    assert set(tb["dominant_family"]) <= {"strength", "control", "timing", "load", "wellness"}
    # the runner-up and its ratio are the second-largest |Shapley value| over the largest
    phi = tb[[f"phi_{f}_s" for f in ("strength", "control", "timing", "load", "wellness")]].abs().to_numpy()
    top = np.sort(phi, axis=1)
    np.testing.assert_allclose(tb["runner_up_ratio"], top[:, -2] / top[:, -1])
    assert (tb["runner_up_family"] != tb["dominant_family"]).all()
    second = phi[
        np.arange(len(tb)),
        [["strength", "control", "timing", "load", "wellness"].index(f) for f in tb["runner_up_family"]],
    ]
    np.testing.assert_allclose(second, top[:, -2])
    hw = truth["hamstring_weekly"]
    assert hw["p_hamstring_28d"].dropna().between(0, 1).all()
    for df in small_squad.tables.values():
        assert not any(c.startswith(("p_", "phi_", "control_latent")) for c in df.columns)


@pytest.mark.parametrize("bad", [dict(n_athletes=1), dict(n_weeks=5)])
def test_rejects_impossible_sizes(bad):
    with pytest.raises(ValueError):
        simulate_squad(**{"n_athletes": 5, "n_weeks": 20, **bad})


def test_state_conditional_hamstring_probability_matches_the_realised_one_on_average():
    """Law of total expectation: E[p | state] over athlete-weeks equals the mean realised-path
    probability; it is never below the next week's own hazard and it is smoother (it cannot see
    the next weeks' load spikes and sleep), so its spread is smaller."""
    sim = simulate_squad(60, 40, seed=3)
    w = sim.truth["hamstring_weekly"].dropna(subset=["p_hamstring_28d"])
    p_state, p_real = w["p_hamstring_28d_given_state"], w["p_hamstring_28d"]
    assert p_state.notna().all()
    assert abs(p_state.mean() - p_real.mean()) < 0.05 * p_real.mean()
    assert (p_state >= w["hazard_next_week"] - 1e-12).all()
    assert p_state.std() < p_real.std()
    assert np.corrcoef(p_state, p_real)[0, 1] > 0.8


def test_hamstring_family_truth_known_answer():
    from sprintlab.simulate.generator import hamstring_family_truth

    # 2 athletes x 3 weeks; the last week has no 28-day horizon (NaN); athlete B is out in week 1
    terms = {
        "strength": np.array([[1.0, 0.0, np.nan], [-1.0, 4.0, np.nan]]),
        "load": np.array([[0.2, 0.9, np.nan], [0.0, 0.0, np.nan]]),
        "history": np.array([[0.0, 0.0, np.nan], [0.0, 0.0, np.nan]]),
    }
    available = np.array([[True, True, True], [True, False, True]])
    out = hamstring_family_truth(terms, available)
    # rows: week 0 (A, B), week 1 (A, B), week 2 (A, B); references = means over the available,
    # finite athlete-weeks: strength (1 + 0 - 1) / 3 = 0, load (0.2 + 0.9 + 0) / 3
    load_ref = 1.1 / 3
    np.testing.assert_allclose(out["phi_strength_logit"][:4], [1.0, -1.0, 0.0, 4.0])
    np.testing.assert_allclose(out["phi_load_logit"][:4], np.array([0.2, 0.0, 0.9, 0.0]) - load_ref)
    assert list(out["dominant_family"][:4]) == ["strength", "strength", "load", "strength"]
    assert list(out["runner_up_family"][:4]) == ["load", "load", "strength", "load"]
    np.testing.assert_allclose(
        out["runner_up_ratio"][:4].astype(float), [load_ref - 0.2, load_ref, 0.0, load_ref / 4.0]
    )
    assert out["dominant_family"][4:].isna().all() and out["runner_up_ratio"][4:].isna().all()


def test_hamstring_truth_history_part_is_previous_injury_and_age_over_the_28_days(small_squad):
    """Known answer: the history family's 28-day term is 0.95 x previous injury + 0.05 x (mean age
    over the four weeks - 25), so for an athlete without a new injury it rises by 0.05 / 52.18 a
    week, and between athletes in the same week it differs by 0.05 x age difference (+ 0.95 when
    exactly one had a previous injury)."""
    from sprintlab.simulate.generator import HAZARD

    hw = small_squad.truth["hamstring_weekly"].dropna(subset=["phi_history_logit"])
    traits = small_squad.truth["athlete_traits"].set_index("athlete_id")
    injured = set(small_squad.tables["injuries"].query("body_part == 'hamstring'")["athlete_id"])
    a, b = [x for x in traits.index if x not in injured][:2]
    weeks = sorted(hw["week_start"].unique())
    ha = hw[hw["athlete_id"] == a].set_index("week_start")["phi_history_logit"]
    np.testing.assert_allclose(
        ha[weeks[-1]] - ha[weeks[0]], HAZARD["age_per_year"] * (len(weeks) - 1) / 52.18, atol=1e-9
    )
    w0 = hw[hw["week_start"] == weeks[0]].set_index("athlete_id")["phi_history_logit"]
    expected = HAZARD["age_per_year"] * (
        traits.loc[a, "age_at_start_y"] - traits.loc[b, "age_at_start_y"]
    ) + HAZARD["prev_hamstring"] * (
        int(traits.loc[a, "previous_hamstring_injury"]) - int(traits.loc[b, "previous_hamstring_injury"])
    )
    np.testing.assert_allclose(w0[a] - w0[b], expected, atol=HAZARD["age_per_year"] * 0.006)
