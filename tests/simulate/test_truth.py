"""The simulator's truth: the 28-day hamstring oracle agrees with the weekly loop, family truths
and the transfer Shapley decomposition have known answers."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from sprintlab.simulate import latent, truth
from sprintlab.simulate.coefficients import HAZARD, HSR, INJURIES, NORDIC, TRANSFER, WELLNESS
from sprintlab.simulate.generator import simulate_squad
from sprintlab.simulate.processes import onset_probability, transfer_mean_change
from sprintlab.simulate.truth import hamstring_family_truth, transfer_shapley


def test_without_noise_the_28_day_oracle_reproduces_the_weekly_loop(monkeypatch):
    """With every weekly shock, spike, low week, exposure and other injury switched off, the
    forward paths are deterministic: the oracle's 28-day probability must equal the realised one
    and its family terms the mean of the loop's next four weekly terms (athletes never injured)."""
    quiet = {
        "HSR": replace(HSR, shock_sd=0.0, spike_probability=0.0, low_week_probability=0.0),
        "WELLNESS": replace(WELLNESS, sleep_shock_sd=0.0, soreness_shock_sd=0.0),
        "NORDIC": replace(NORDIC, weekly_sd_n=0),
    }
    for module in (latent, truth):
        for name, value in quiet.items():
            monkeypatch.setattr(module, name, value)
    monkeypatch.setattr(latent, "INJURIES", replace(INJURIES, other_weekly_probability=0.0))
    rng = np.random.default_rng(4)
    n, n_weeks = 8, 20
    traits = replace(latent.draw_traits(rng, n, True, date(2024, 7, 1)), expo_habit=np.zeros(n))
    plan = latent.draw_training_plan(rng, traits, n_weeks, 6)
    weekly = latent.draw_weekly_processes(rng, traits, n_weeks)
    ham = latent.simulate_hamstring_weeks(rng, traits, plan, weekly)
    state = truth.hamstring_state(traits, plan, weekly, ham)
    p28, horizon = truth.hamstring_p28_given_state(state, seed=1, paths=3)

    never_injured = ~np.isin(traits.ids, [inj["athlete_id"] for inj in ham.injuries])
    assert never_injured.sum() >= n - 2
    assert (weekly.hsr_factor == 1).all() and not weekly.sleep_dev.any()
    for w in range(n_weeks - 4):
        realised = onset_probability(ham.hazard[:, w + 1 : w + 5])
        np.testing.assert_allclose(p28[never_injured, w], realised[never_injured], rtol=1e-12)
        for fam, terms in ham.logit_terms.items():
            expected = terms[never_injured, w : w + 4].mean(axis=1)
            np.testing.assert_allclose(horizon[fam][never_injured, w], expected, rtol=1e-12, atol=1e-14)
    assert np.isnan(p28[:, n_weeks - 4 :]).all()


def test_shapley_decomposition_is_exact():
    rng = np.random.default_rng(0)
    g, c, k, rev, load, sleep = (rng.normal(0, 1, 50) * s for s in (0.05, 1, 1, 0.05, 1, 1))
    ref = {"g": 0.08, "c": 0.1, "k": -0.2, "rev": 0.01, "load": 0.0, "sleep": 0.0}
    phi = transfer_shapley(g, c, k, rev, load, sleep, ref)
    mu = transfer_mean_change(g, c, k, rev, load, sleep)
    mu_ref = transfer_mean_change(*(np.full(50, ref[x]) for x in ("g", "c", "k", "rev", "load", "sleep")))
    np.testing.assert_allclose(phi.sum(axis=1).to_numpy(), mu - mu_ref, atol=1e-12)


def test_bounce_back_is_its_own_family_in_the_transfer_truth():
    """Regression to own level (-rho_rev (rev - rev_r)) is bounce-back; braking (delta (k - k_r)) alone
    is timing: a block whose only deviation is a slow opening test has all its Shapley value in
    bounce-back."""
    ref = {"g": 0.08, "c": 0.0, "k": 0.0, "rev": 0.0, "load": 0.0, "sleep": 0.0}
    g, c, k, rev, load, sleep = (np.array([v]) for v in (0.08, 0.0, 0.5, 0.05, 0.0, 0.0))
    phi = transfer_shapley(g, c, k, rev, load, sleep, ref).iloc[0]
    assert phi["bounce_back"] == pytest.approx(-TRANSFER["rho_rev"] * 0.05)
    assert phi["timing"] == pytest.approx(TRANSFER["delta_s"] * 0.5)
    assert phi[["strength", "control", "load", "wellness"]].abs().max() == 0.0


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


def test_label_truth_of_the_adjusted_label():
    """The own-level adjusted label's truth (``label_transfer_truth``): with b = 0 it is the raw
    label's truth exactly; with b > 0 the family values still add up to the expected adjusted change
    ``mu + b (T - L)`` minus its reference, and the adjustment's part sits in bounce-back only."""
    from sprintlab.targets import transfer_blocks

    sim = simulate_squad(40, 40, seed=3)
    tb = sim.truth["transfer_blocks"]
    splits, gym = sim.tables["sprint_splits"], sim.tables["gym_sets"]
    raw = truth.label_transfer_truth(tb, transfer_blocks(splits, gym, adjust_for_own_level=False))
    keyed = tb.set_index(truth.BLOCK_KEYS).loc[raw.set_index(truth.BLOCK_KEYS).index]
    for col in ("p_transfer", "p_transfer_given_opening", "phi_bounce_back_s", "dominant_family"):
        np.testing.assert_array_equal(raw[col].to_numpy(), keyed[col].to_numpy())
    adj = truth.label_transfer_truth(tb, transfer_blocks(splits, gym, baseline_tests=4))
    b = adj["own_level_slope"].iloc[0]
    assert 0.05 < b < 0.9 and adj["own_level_s"].notna().all()
    np.testing.assert_allclose(adj["own_level_shift_s"], b * (adj["t10_true_start_s"] - adj["own_level_s"]))
    phi = adj[[f"phi_{f}_s" for f in ("strength", "control", "timing", "bounce_back", "load", "wellness")]]
    mu_adj = adj["expected_change_s"] + adj["own_level_shift_s"]
    centred = mu_adj - phi.sum(axis=1)
    np.testing.assert_allclose(centred, centred.iloc[0], atol=1e-12)  # sum = mu' - reference
    unshifted = truth.label_transfer_truth(
        tb.assign(noise_seed=tb["noise_seed"]), adj.assign(own_level_slope=0.0)
    )
    moved = (phi["phi_bounce_back_s"] - unshifted["phi_bounce_back_s"]).abs().max()
    assert moved > 0
    np.testing.assert_allclose(phi["phi_timing_s"], unshifted["phi_timing_s"], atol=1e-15)
