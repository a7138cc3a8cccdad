"""The simulator's ground truth: athletes' traits, the hamstring hazard and its 28-day probability
(realised and given the state, by Monte Carlo with the simulation's own process steps), the true
transfer probability of every block and the true main factor of both outcomes."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sprintlab.dominance import dominance_columns
from sprintlab.simulate.coefficients import (
    DAYS_PER_WEEK,
    HORIZON_WEEKS,
    HSR,
    MEASUREMENT,
    NORDIC,
    TRANSFER,
    WELLNESS,
)
from sprintlab.simulate.latent import HamstringWeeks, TrainingPlan, Traits, WeeklyProcesses
from sprintlab.simulate.processes import (
    access_to_strength,
    age_at_week_years,
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
    onset_probability,
    sleep_deficit_step,
    soreness_step,
    spike_state_step,
    strength_control_gap_at_week,
    week_hsr_m,
    weekly_hazard,
)
from sprintlab.simulate.sprint_tests import SprintTests

#: The oracles draw from their own generators (seed + offset), so no contract table changes with them.
HAMSTRING_ORACLE_SEED_OFFSET = 104_729
TRANSFER_NOISE_SEED_OFFSET = 7919
TRANSFER_END_NOISE_SEED_OFFSET = 7927

#: The transfer truth's column for each latent input of ``processes.transfer_mean_change``.
TRANSFER_LATENT_COLUMNS: dict[str, str] = {
    "g": "strength_gain",
    "c": "control_state",
    "k": "braking_state",
    "rev": "t10_above_typical_s",
    "load": "load_excess",
    "sleep": "sleep_deficit",
}


@dataclass(frozen=True)
class HamstringState:
    """Each athlete's latent hamstring state at the end of every week (arrays n_athletes x weeks)."""

    hazard: np.ndarray
    hsr_ar: np.ndarray
    hsr_week: np.ndarray
    hsr_norm: np.ndarray
    spike_state: np.ndarray
    days_since_expo: np.ndarray
    expo_habit: np.ndarray
    nordic: np.ndarray
    nordic_asym: np.ndarray
    sleep_dev: np.ndarray
    sore: np.ndarray
    squat_rel: np.ndarray
    control: np.ndarray
    age0: np.ndarray
    prev_ham: np.ndarray
    logit_terms: dict[str, np.ndarray]  # each family's part of the weekly logit (end of the week)


def hamstring_state(
    traits: Traits, plan: TrainingPlan, weekly: WeeklyProcesses, ham: HamstringWeeks
) -> HamstringState:
    """The state the 28-day oracle starts from, gathered from the simulation."""
    return HamstringState(
        hazard=ham.hazard,
        hsr_ar=weekly.hsr_log,
        hsr_week=ham.hsr_week,
        hsr_norm=traits.hsr_norm,
        spike_state=ham.spike_state,
        days_since_expo=ham.days_since_expo,
        expo_habit=traits.expo_habit,
        nordic=weekly.nordic,
        nordic_asym=traits.nordic_asym,
        sleep_dev=weekly.sleep_dev,
        sore=weekly.sore,
        squat_rel=plan.squat_rel,
        control=plan.control,
        age0=traits.age0,
        prev_ham=ham.prev_ham,
        logit_terms=ham.logit_terms,
    )


def _forward_hazard_terms(
    st: HamstringState, week: int, rng: np.random.Generator, paths: int
) -> Iterator[dict[str, np.ndarray]]:
    """The hazard terms at the end of weeks ``week+1 .. week+3`` along ``paths`` forward paths per
    athlete (n x paths), from the state at the end of ``week`` with the simulation's process steps
    (athlete available throughout; the strength/control plan as generated)."""
    n, m = st.hazard.shape[0], paths

    def per_path(a: np.ndarray) -> np.ndarray:
        return np.repeat(a[:, None], m, axis=1)

    x, spike_state, days_since = (
        per_path(st.hsr_ar[:, week]),
        per_path(st.spike_state[:, week]),
        per_path(st.days_since_expo[:, week]),
    )
    nordic, sleep, sore = (
        per_path(st.nordic[:, week]),
        per_path(st.sleep_dev[:, week]),
        per_path(st.sore[:, week]),
    )
    recent = [per_path(st.hsr_week[:, k]) for k in range(max(0, week - HSR.norm_window_weeks + 1), week + 1)]
    for t in range(week + 1, week + HORIZON_WEEKS):
        # the oracle draws spike, spike size, low week (the loop: spike, low week, size) and multiplies
        # exp(x) x (spike x low): same distribution, kept so the stored truth stays bit-identical
        x = hsr_log_step(x, rng.normal(0, HSR.shock_sd, (n, m)))
        spike = hsr_spike_multiplier(
            rng.random((n, m)) < HSR.spike_probability, rng.uniform(*HSR.spike_size, (n, m))
        )
        factor = np.exp(x) * (spike * hsr_low_week_multiplier(rng.random((n, m)) < HSR.low_week_probability))
        hsr = week_hsr_m(st.hsr_norm[:, None], factor)
        own_norm = hsr_own_norm_m(np.stack(recent[-HSR.norm_window_weeks :], axis=2), st.hsr_norm[:, None])
        spike_state = spike_state_step(spike_state, hsr_spike(hsr / own_norm))
        recent.append(hsr)
        exposed = rng.random((n, m)) < st.expo_habit[:, None]
        days_since = days_since_near_max_step(days_since, exposed, rng.integers(0, DAYS_PER_WEEK, (n, m)))
        nordic = nordic_step_n(nordic, rng.normal(0, NORDIC.weekly_sd_n, (n, m)))
        sleep = sleep_deficit_step(sleep, rng.normal(0, WELLNESS.sleep_shock_sd, (n, m)))
        sore = soreness_step(sore, factor, rng.normal(0, WELLNESS.soreness_shock_sd, (n, m)))
        yield hazard_terms(
            st.prev_ham[:, week][:, None],
            age_at_week_years(st.age0, t)[:, None],
            effective_nordic_n(nordic, st.nordic_asym[:, None]),
            spike_state,
            days_since,
            sleep,
            sore,
            strength_control_gap_at_week(st.squat_rel, st.control, t)[:, None],
        )


def hamstring_p28_given_state(
    st: HamstringState, seed: int, paths: int = 400
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """True 28-day hamstring probability given the latent state at the end of each week.

    ``p = E[1 - prod_{j=1..4} (1 - h_{w+j}) | state_w]``: ``h_{w+1}`` follows from the state at the
    end of week w; weeks w+1..w+3 are simulated ``paths`` times forward with the simulation's own
    process steps (HSR AR(1) with spikes and low weeks, spike state, near-maximal exposures, Nordic
    random walk, sleep and soreness AR processes; the strength/control plan of the running blocks
    as generated), assuming the athlete stays available. This is the best any model that knows
    the present - but not the future - can do; the realised-path probability
    ``p_hamstring_28d`` also contains the next weeks' random draws. Returns (n_athletes, weeks),
    NaN where the 28 days run past the data window, and per factor family the expected part of the
    hazard logit averaged over the four weeks, ``(1/4) sum_{j=1..4} E[term_f(w+j-1) | state_w]``
    (same shape; see :func:`hamstring_family_truth`).
    """
    rng = np.random.default_rng(seed)
    n, n_weeks = st.hazard.shape
    h = HORIZON_WEEKS
    out = np.full((n, n_weeks), np.nan)
    # the week-w term drives h_{w+1}; the paths' mean terms of weeks w+1..w+3 drive h_{w+2..w+4}
    horizon = {
        fam: np.where(np.arange(n_weeks) < n_weeks - h, term / h, np.nan)
        for fam, term in st.logit_terms.items()
    }
    for w in range(n_weeks - h):
        survive = np.repeat((1 - st.hazard[:, w + 1])[:, None], paths, axis=1)
        for terms in _forward_hazard_terms(st, w, rng, paths):
            survive = survive * (1 - weekly_hazard(hazard_logit(terms)))
            for fam, term in hazard_families(terms).items():
                horizon[fam][:, w] += np.broadcast_to(term, (n, paths)).mean(axis=1) / h
        out[:, w] = 1 - survive.mean(axis=1)
    return out, horizon


def hamstring_family_truth(horizon_terms: dict[str, np.ndarray], available: np.ndarray) -> pd.DataFrame:
    """True factor-family contributions to each athlete-week's 28-day hamstring risk.

    The weekly hazard logit is additive in the families (``HAZARD``: history = previous injury +
    age, strength = Nordic force x (1 - asymmetry), load = HSR spikes + sprint gap, wellness =
    sleep deficit + soreness, control = strength rising faster than control). ``horizon_terms``
    (from :func:`hamstring_p28_given_state`) holds each family's part of the logit averaged over
    the four hazards of the 28 days, in expectation given the state at the end of the week - so a
    load spike that fades within a week counts for less than a persistently low Nordic force. The
    average is additive too, so its exact Shapley values against the squad's mean athlete-week are
    ``phi_f = term_f - mean(term_f)`` (mean over the weeks athletes were available). Rows in the
    order of ``hamstring_weekly`` (week, then athlete); NaN / None where the 28 days run past the
    data window. Columns ``phi_<family>_logit`` and :func:`dominance_columns`.
    """
    phi = pd.DataFrame(
        {fam: np.ravel(term - np.nanmean(term[available]), order="F") for fam, term in horizon_terms.items()}
    )
    ok = phi.notna().all(axis=1).to_numpy()
    dom = dominance_columns(phi[ok])
    out = pd.DataFrame(
        {
            "dominant_family": pd.Series([None] * len(phi), dtype=object),
            "runner_up_family": pd.Series([None] * len(phi), dtype=object),
            "runner_up_ratio": np.full(len(phi), np.nan),
        }
    )
    for col in dom.columns:
        out.loc[ok, col] = dom[col].to_numpy()
    for fam in phi.columns:
        out[f"phi_{fam}_logit"] = phi[fam].to_numpy()
    return out


def traits_table(traits: Traits) -> pd.DataFrame:
    """The athletes' latent traits at the start of the window."""
    return pd.DataFrame(
        dict(
            athlete_id=traits.ids,
            age_at_start_y=traits.age0.round(2),
            control_latent=traits.control0,
            braking_latent=traits.braking0,
            squat_rel_start=traits.squat_rel0,
            nordic_start_n=traits.nordic0,
            previous_hamstring_injury=traits.prev_ham,
            mss_m_s=traits.mss,
            flying_distance_m=traits.fd,
            t10_start_s=traits.t10_base,
        )
    )


def hamstring_weekly_table(ids: np.ndarray, start: date, ham: HamstringWeeks) -> pd.DataFrame:
    """Per athlete-week: the hazard of the next week and the realised-path 28-day probability
    ``1 - prod_{j=1..4} (1 - h_{w+j})`` (NaN where the 28 days run past the window)."""
    n, n_weeks = ham.hazard.shape
    rows = []
    for w in range(n_weeks):
        future = ham.hazard[:, w + 1 : w + 1 + HORIZON_WEEKS]
        p28 = onset_probability(future) if future.shape[1] == HORIZON_WEEKS else np.full(n, np.nan)
        rows.append(
            pd.DataFrame(
                dict(
                    athlete_id=ids,
                    week_start=start + timedelta(weeks=w),
                    hazard_next_week=(ham.hazard[:, w + 1] if w + 1 < n_weeks else np.nan),
                    p_hamstring_28d=p28,
                    available=ham.available[:, w],
                )
            )
        )
    weekly = pd.concat(rows, ignore_index=True)
    weekly["week_start"] = pd.to_datetime(weekly["week_start"])
    return weekly


def transfer_blocks_table(ids: np.ndarray, start: date, tests: SprintTests) -> pd.DataFrame:
    """Each block with both tests in the window: dates, latent inputs, expected change, start time."""

    def dates(day_index: np.ndarray) -> list[date | None]:
        return [start + timedelta(days=int(x)) if x >= 0 else None for x in day_index]

    blocks = []
    for bt in tests.blocks:
        opening, closing = tests.test_day[:, bt.block], tests.test_day[:, bt.block + 1]
        blocks.append(
            pd.DataFrame(
                dict(
                    athlete_id=ids,
                    block=bt.block,
                    block_start_date=dates(opening),
                    block_end_date=dates(closing),
                    strength_gain=bt.g,
                    control_state=bt.c,
                    braking_state=bt.k,
                    t10_above_typical_s=bt.rev,
                    load_excess=bt.load,
                    sleep_deficit=bt.sleep,
                    expected_change_s=bt.mu,
                    t10_true_start_s=bt.t10_start,
                    valid=bt.valid & (opening >= 0) & (closing >= 0),
                )
            )
        )
    tb = pd.concat(blocks, ignore_index=True)
    tb = tb[tb["valid"]].drop(columns="valid").reset_index(drop=True)
    tb["block_start_date"] = pd.to_datetime(tb["block_start_date"])
    tb["block_end_date"] = pd.to_datetime(tb["block_end_date"])
    return tb


def transfer_shapley(
    g: np.ndarray,
    c: np.ndarray,
    k: np.ndarray,
    rev: np.ndarray,
    load: np.ndarray,
    sleep: np.ndarray,
    ref: dict[str, float],
    own_level_shift: np.ndarray | None = None,
) -> pd.DataFrame:
    """Exact Shapley decomposition of the expected block change ``mu`` into factor families.

    ``mu`` is additive except the strength x access product ``-gamma g A(c)``; for a product of
    two players the interventional Shapley values against the reference point (g_r, A_r) are
    ``phi_g = -gamma (g - g_r)(A + A_r)/2`` and ``phi_c = -gamma (A - A_r)(g + g_r)/2``.
    The additive terms: ``timing`` = braking ``delta (k - k_r)``; ``bounce_back`` = regression to the
    athlete's own level ``-rho_rev (rev - rev_r)`` (a slow opening test is followed by a faster one
    whatever the training: test-day variation, not a trainable factor) plus, for the own-level
    adjusted label, the adjustment's part ``s - s_r`` (``own_level_shift`` = ``b (T - L)``,
    :func:`label_transfer_truth`; ``ref["shift"]`` its reference); ``load``, ``wellness``.
    Values are in seconds of 0-10 m time (negative = faster = more transfer).
    """
    p = TRANSFER
    a = access_to_strength(c)
    a_r = float(access_to_strength(np.asarray(ref["c"])))
    bounce_back = -p["rho_rev"] * (rev - ref["rev"])
    if own_level_shift is not None:
        bounce_back = bounce_back + (own_level_shift - ref["shift"])
    return pd.DataFrame(
        {
            "strength": -p["gamma_s"] * (g - ref["g"]) * (a + a_r) / 2,
            "control": -p["gamma_s"] * (a - a_r) * (g + ref["g"]) / 2,
            "timing": p["delta_s"] * (k - ref["k"]),
            "bounce_back": bounce_back,
            "load": p["lam_s"] * (load - ref["load"]),
            "wellness": p["omega_s"] * (sleep - ref["sleep"]),
        }
    )


def transfer_noise(seed: int, m: int = 200_000, opening_weight: float = 1.0) -> np.ndarray:
    """``m`` sorted draws of the block's noise ``Z = -e_bio + w min_j e_start,j - min_j e_end,j``
    (biological variation plus best-of-trials trial and gate noise at both tests; ``w = 1 - b`` for
    the own-level adjusted label, whose adjustment ``b (O - L)`` takes back the share ``b`` of the
    opening test's error), from its own generator (``seed + 7919``; the same draws for every ``w``):
    the empirical distribution behind every true transfer probability."""
    p = TRANSFER
    rng = np.random.default_rng(seed + TRANSFER_NOISE_SEED_OFFSET)
    e = math.sqrt(p["trial_sd_s"] ** 2 + p["gate_sd_s"] ** 2)
    trials = MEASUREMENT.trials
    z = (
        -rng.normal(0, p["bio_sd_s"], m)
        + opening_weight * rng.normal(0, e, (m, trials)).min(1)
        - rng.normal(0, e, (m, trials)).min(1)
    )
    z.sort()
    return z


def transfer_end_noise(seed: int, m: int = 200_000) -> np.ndarray:
    """``m`` sorted draws of ``W = e_bio + min_j e_end,j`` (biological variation plus the closing test's
    best-of-trials trial and gate noise), from its own generator (``seed + 7927``): what remains
    unknown of a block's observed change once the latent state *and* the opening test are known."""
    p = TRANSFER
    rng = np.random.default_rng(seed + TRANSFER_END_NOISE_SEED_OFFSET)
    e = math.sqrt(p["trial_sd_s"] ** 2 + p["gate_sd_s"] ** 2)
    w = rng.normal(0, p["bio_sd_s"], m) + rng.normal(0, e, (m, MEASUREMENT.trials)).min(1)
    w.sort()
    return w


def p_transfer_given_opening(
    mu: np.ndarray,
    opening_error_s: np.ndarray,
    swc: float | np.ndarray,
    end_noise: np.ndarray,
    opening_weight: float = 1.0,
) -> np.ndarray:
    """The conditional oracle: the transfer probability given the latent state *and* the observed
    opening test.

    The observed change is ``mu + W - e_s`` with ``e_s`` the opening test's best-of-trials error
    (observed best minus true 0-10 m time, known to the simulator) and ``W = e_bio + min_j e_end,j``
    (:func:`transfer_end_noise`); the own-level adjusted change is ``mu' + W - w e_s`` (``w = 1 - b``,
    ``mu'`` = ``mu`` plus the adjustment's latent part, :func:`label_transfer_truth`). Transfer means
    ``-(change) > SWC``, so ``p = P(W < w e_s - mu - SWC) = F_W(w e_s - mu - SWC)`` (empirical CDF of
    ``end_noise``, sorted). Averaged over ``e_s`` it is the stored oracle ``1 - F_Z(SWC + mu)``;
    knowing ``e_s`` it is the ceiling for a model that sees the opening test. (Millisecond rounding
    of the recorded splits is folded into ``e_s``.)"""
    x = opening_weight * np.asarray(opening_error_s, dtype=float) - np.asarray(mu, dtype=float) - swc
    return np.searchsorted(end_noise, x, side="right") / end_noise.size


def p_transfer_from_noise(z: np.ndarray, swc: float | np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The stored oracle ``P(-mu + Z > SWC) = 1 - F_Z(SWC + mu)`` (empirical CDF of sorted ``z``)."""
    return 1 - np.searchsorted(z, swc + mu, side="right") / z.size


def _family_truth(out: pd.DataFrame, own_level_shift: np.ndarray | None) -> pd.DataFrame:
    """``out`` with each family's Shapley value ``phi_<family>_s`` of the expected change and the
    dominance columns, against the mean of the strength-gain blocks (g >= 5 %)."""
    units = out["strength_gain"] >= 0.05
    ref_src = out[units] if units.any() else out
    ref = {latent: float(ref_src[col].mean()) for latent, col in TRANSFER_LATENT_COLUMNS.items()}
    if own_level_shift is not None:
        ref["shift"] = float(np.mean(own_level_shift[units.to_numpy()] if units.any() else own_level_shift))
    g, c, k, rev, load, sleep = (out[col].to_numpy() for col in TRANSFER_LATENT_COLUMNS.values())
    phi = transfer_shapley(g, c, k, rev, load, sleep, ref, own_level_shift)
    for fam in phi.columns:
        out[f"phi_{fam}_s"] = phi[fam].to_numpy()
    dom = dominance_columns(phi)
    for col in dom.columns:
        out[col] = dom[col].to_numpy()
    return out


def finalise_transfer_truth(blocks: pd.DataFrame, splits: pd.DataFrame, seed: int) -> pd.DataFrame:
    """Add each block's true transfer probability and true dominant factor family for the raw
    change (the own-level adjusted label's truth: :func:`label_transfer_truth`).

    The raw label is "best-of-trials 0-10 m time improved by more than the smallest worthwhile
    change (SWC)". Its true probability is ``P(-mu + Z > SWC) = 1 - F_Z(SWC + mu)`` with
    ``Z = -e_bio + min_j e_start,j - min_j e_end,j`` (trial and gate noise), evaluated with the
    empirical CDF of 200,000 draws of ``Z``. SWC is computed from the observed splits exactly as
    :func:`sprintlab.targets.smallest_worthwhile_change` does (first tests only).
    ``p_transfer_given_opening`` is the conditional oracle (:func:`p_transfer_given_opening`: latent
    state and the observed opening test, whose error is kept as ``opening_error_s``; ``noise_seed``
    keeps ``seed`` for the oracles of other labels). The dominant family is the family with the
    largest absolute Shapley contribution to ``mu`` (:func:`transfer_shapley`) against the mean of
    the strength-gain blocks (g >= 5 %); ``runner_up_family`` is the second-largest and
    ``runner_up_ratio = |phi_2nd| / |phi_1st|`` says how clearly the truth itself has one main
    factor (near 1: two families of about equal size).
    """
    from sprintlab.targets import session_best_times, smallest_worthwhile_change

    best = session_best_times(splits)
    swc = smallest_worthwhile_change(best)
    out = blocks.copy()
    out["swc_s"] = swc
    out["p_transfer"] = p_transfer_from_noise(
        transfer_noise(seed), swc, blocks["expected_change_s"].to_numpy()
    )
    opening = out[["athlete_id", "block_start_date"]].merge(
        best.rename(columns={"date": "block_start_date"})[["athlete_id", "block_start_date", "t10_best_s"]],
        on=["athlete_id", "block_start_date"],
        how="left",
    )
    out["opening_error_s"] = opening["t10_best_s"].to_numpy() - out["t10_true_start_s"].to_numpy()
    out["noise_seed"] = seed
    out["p_transfer_given_opening"] = p_transfer_given_opening(
        out["expected_change_s"].to_numpy(), out["opening_error_s"].to_numpy(), swc, transfer_end_noise(seed)
    )
    return _family_truth(out, None)


#: the observed block columns the label's truth needs (:func:`sprintlab.targets.transfer_blocks`)
LABEL_COLUMNS = ("own_level_s", "own_level_slope", "swc_s")
BLOCK_KEYS = ["athlete_id", "block_start_date", "block_end_date"]


def label_transfer_truth(truth_blocks: pd.DataFrame, observed_blocks: pd.DataFrame) -> pd.DataFrame:
    """The truth of the pipeline's transfer label (:func:`sprintlab.targets.transfer_blocks`) for
    each observed block: the own-level adjusted change ``(next - O) + b (O - L)`` with ``O = T + e_s``
    (true opening level ``T``, opening error ``e_s``) is ``mu' + W - (1 - b) e_s`` with
    ``mu' = mu + b (T - L)`` (``own_level_shift_s``; ``L`` the observed own level, known before the
    block). Stored oracle ``p_transfer = 1 - F_Z(SWC + mu')`` with ``Z`` drawn at ``w = 1 - b``
    (:func:`transfer_noise`); conditional oracle ``F_W((1 - b) e_s - mu' - SWC)``
    (:func:`p_transfer_given_opening`); family values of ``mu'`` with the shift in ``bounce_back``.
    With ``b = 0`` these are the raw label's :func:`finalise_transfer_truth` values. Blocks without
    an own level (first tests) are dropped when ``b > 0`` (they open no unit)."""
    obs = observed_blocks[[*BLOCK_KEYS, *LABEL_COLUMNS]]
    out = truth_blocks.drop(columns=["swc_s"]).merge(obs, on=BLOCK_KEYS, how="inner", validate="one_to_one")
    b = float(out["own_level_slope"].iloc[0]) if len(out) else 0.0
    if b > 0:
        out = out[out["own_level_s"].notna()].reset_index(drop=True)
    shift = (b * (out["t10_true_start_s"] - out["own_level_s"])).fillna(0.0).to_numpy()
    if out.empty:
        return out.assign(own_level_shift_s=[], p_transfer=[], p_transfer_given_opening=[])
    seed = int(out["noise_seed"].iloc[0])
    mu = out["expected_change_s"].to_numpy() + shift
    swc = out["swc_s"].to_numpy(dtype=float)
    out["own_level_shift_s"] = shift
    out["p_transfer"] = p_transfer_from_noise(transfer_noise(seed, opening_weight=1 - b), swc, mu)
    out["p_transfer_given_opening"] = p_transfer_given_opening(
        mu, out["opening_error_s"].to_numpy(), swc, transfer_end_noise(seed), opening_weight=1 - b
    )
    return _family_truth(out, shift)


def truth_tables(
    seed: int,
    traits: Traits,
    plan: TrainingPlan,
    weekly: WeeklyProcesses,
    ham: HamstringWeeks,
    tests: SprintTests,
    splits: pd.DataFrame,
    start: date,
) -> dict[str, pd.DataFrame]:
    """The truth tables ``athlete_traits``, ``hamstring_weekly`` and ``transfer_blocks``."""
    weekly_truth = hamstring_weekly_table(traits.ids, start, ham)
    state = hamstring_state(traits, plan, weekly, ham)
    p28_state, horizon_terms = hamstring_p28_given_state(state, seed=seed + HAMSTRING_ORACLE_SEED_OFFSET)
    weekly_truth["p_hamstring_28d_given_state"] = np.ravel(p28_state, order="F")
    fam_truth = hamstring_family_truth(horizon_terms, ham.available)
    for col in fam_truth.columns:
        weekly_truth[col] = fam_truth[col].to_numpy()
    blocks = transfer_blocks_table(traits.ids, start, tests)
    return {
        "athlete_traits": traits_table(traits),
        "hamstring_weekly": weekly_truth,
        "transfer_blocks": finalise_transfer_truth(blocks, splits, seed),
    }
