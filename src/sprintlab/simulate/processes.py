"""The simulator's weekly processes as pure functions, shared by the simulation and its oracles.

Each function takes the state and the random draws it needs (drawn by the caller, so the
simulation and the oracles keep their own order of draws) and returns the next state. The weekly
loop (``latent.py``), the 28-day hamstring Monte Carlo (``truth.hamstring_p28_given_state``) and the
lever truth (``causal.py``) call the same functions, so a change here changes all of them.
Coefficients: ``coefficients.py``; equations: ``docs/simulator.md``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from sprintlab.domain import sigmoid
from sprintlab.simulate.coefficients import (
    BLOCKS,
    DAYS_PER_WEEK,
    HAZARD,
    HAZARD_FAMILIES,
    HAZARD_SCALES,
    HSR,
    NORDIC,
    STRENGTH_CONTROL_GAP,
    TRANSFER,
    WEEKS_PER_YEAR,
    WELLNESS,
)
from sprintlab.sprint.model import time_at_distance

# --- training blocks: strength, control, braking --------------------------------------------


def strength_headroom(squat_rel: np.ndarray) -> np.ndarray:
    """How much of a strength block's gain is still available:
    ``clip((2.45 - squat 1RM / body mass) / 0.9, 0.35, 1.2)``."""
    b = BLOCKS
    return np.clip((b.headroom_ceiling_rel - squat_rel) / b.headroom_scale_rel, *b.headroom_bounds)


def block_strength_gain(
    is_strength_block: np.ndarray, strength_gain: np.ndarray, detraining_gain: np.ndarray
) -> np.ndarray:
    """Relative squat gain of a block: the strength gain in strength blocks, else the detraining loss."""
    return np.where(is_strength_block, strength_gain, detraining_gain)


def control_step(control: np.ndarray, control_start: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Control at the next block: ``clip(0.85 c + 0.15 c0 + shock, -2.5, 2.5)``."""
    b = BLOCKS
    return (b.control_persistence * control + b.control_baseline_pull * control_start + shock).clip(
        *b.latent_bounds
    )


def braking_step(braking: np.ndarray, braking_start: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Braking at the next block: ``clip(k0 + 0.5 (k - k0) + shock, -2.5, 2.5)``."""
    b = BLOCKS
    return (braking_start + b.braking_persistence * (braking - braking_start) + shock).clip(*b.latent_bounds)


# --- weekly load, exposure, Nordic force, wellness ------------------------------------------


def hsr_log_step(hsr_log: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """AR(1) state ``x`` of the log weekly HSR factor: ``x <- 0.5 x + shock``."""
    return HSR.persistence * hsr_log + shock


def hsr_spike_multiplier(is_spike: np.ndarray, spike_size: np.ndarray) -> np.ndarray:
    """The week's spike multiplier: ``spike_size`` (U(1.6, 2.3)) in a spike week, else 1."""
    return np.where(is_spike, spike_size, 1.0)


def hsr_low_week_multiplier(is_low_week: np.ndarray) -> np.ndarray:
    """The week's low-load multiplier: 0.45 in a low week, else 1."""
    return np.where(is_low_week, HSR.low_week_factor, 1.0)


def week_hsr_m(hsr_norm_m: np.ndarray, hsr_factor: np.ndarray) -> np.ndarray:
    """The week's high-speed running the hazard sees: 4 sessions x own norm x the week's factor (m)."""
    return HSR.sessions_in_week * hsr_norm_m * hsr_factor


def hsr_own_norm_m(recent_week_hsr_m: np.ndarray, hsr_norm_m: np.ndarray) -> np.ndarray:
    """The athlete's own weekly HSR norm: the mean of the non-zero weeks among the recent ones (last
    axis; up to 4), or 4 sessions at the athlete's norm when none ran."""
    total = recent_week_hsr_m.sum(axis=-1)
    weeks_run = np.maximum((recent_week_hsr_m > 0).sum(axis=-1), 1)
    return np.where(total > 0, total / weeks_run, HSR.sessions_in_week * hsr_norm_m)


def hsr_spike(hsr_ratio: np.ndarray) -> np.ndarray:
    """Spike of a week's HSR above the athlete's own norm: ``max(clip(ratio - 1, -1, 2), 0)``."""
    return np.maximum(np.clip(hsr_ratio - 1, *HSR.spike_ratio_bounds), 0)


def spike_state_step(spike_state: np.ndarray, spike: np.ndarray) -> np.ndarray:
    """Spike state: halves every week and adds the week's spike, ``s <- 0.5 s + spike``."""
    return HSR.spike_state_decay * spike_state + spike


def days_since_near_max_step(
    days_since: np.ndarray, exposed: np.ndarray, exposure_day: np.ndarray
) -> np.ndarray:
    """Days since near-maximal sprinting at the end of the week: the exposure's day in the week
    (0-6) if exposed this week, else 7 more days."""
    return np.where(exposed, exposure_day, days_since + DAYS_PER_WEEK)


def nordic_walk_n(nordic_start_n: np.ndarray, weekly_steps_n: np.ndarray) -> np.ndarray:
    """Nordic force every week (n x weeks): the start plus the cumulated weekly steps, clipped to
    200-500 N (the walk itself is not clipped)."""
    return np.clip(nordic_start_n[:, None] + np.cumsum(weekly_steps_n, axis=1), *NORDIC.bounds_n)


def nordic_step_n(nordic_n: np.ndarray, weekly_step_n: np.ndarray) -> np.ndarray:
    """Nordic force one week later from a given force: ``clip(nordic + step, 200, 500)``."""
    return np.clip(nordic_n + weekly_step_n, *NORDIC.bounds_n)


def sleep_deficit_step(sleep_deficit: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Sleep deficit (SD units, positive = less sleep): ``s <- 0.75 s + shock``."""
    return WELLNESS.sleep_persistence * sleep_deficit + shock


def soreness_step(soreness: np.ndarray, hsr_factor: np.ndarray, shock: np.ndarray) -> np.ndarray:
    """Soreness (SD units), driven by load: ``r <- 0.6 r + 0.9 log(HSR factor) + shock``."""
    w = WELLNESS
    return w.soreness_persistence * soreness + w.soreness_per_log_hsr * np.log(hsr_factor) + shock


# --- hamstring hazard --------------------------------------------------------------------------


def age_at_week_years(age_at_start_years: np.ndarray, week: int) -> np.ndarray:
    """Age in week ``week`` of the window: ``age0 + week / 52.18``."""
    return age_at_start_years + week / WEEKS_PER_YEAR


def effective_nordic_n(nordic_n: np.ndarray, nordic_asymmetry: np.ndarray) -> np.ndarray:
    """Nordic force discounted by the left-right asymmetry: ``Nordic x (1 - |asym|)``."""
    return nordic_n * (1 - np.abs(nordic_asymmetry))


def strength_control_gap_from_changes(gain_8w: np.ndarray, control_change_8w: np.ndarray) -> np.ndarray:
    """Strength rising faster than control: ``clip(g8 / 0.10 - dc8 / 0.30, 0, 3)`` from the relative
    squat gain ``g8`` and the control change ``dc8`` over 8 weeks."""
    s = STRENGTH_CONTROL_GAP
    return np.clip(gain_8w / s.gain_scale - control_change_8w / s.control_scale, 0, s.cap)


def strength_control_gap_at_week(squat_rel: np.ndarray, control: np.ndarray, week: int) -> np.ndarray:
    """The strength-control gap in week ``week`` from the weekly squat and control paths (n x weeks)."""
    before = max(0, week - STRENGTH_CONTROL_GAP.lookback_weeks)
    gain_8w = squat_rel[:, week] / squat_rel[:, before] - 1
    control_change_8w = control[:, week] - control[:, before]
    return strength_control_gap_from_changes(gain_8w, control_change_8w)


def capped_sprint_gap_days(days_since_near_max: np.ndarray) -> np.ndarray:
    """Days without near-maximal sprinting as the hazard counts them: ``clip(days, 0, 42)``."""
    return np.clip(days_since_near_max, 0, HAZARD_SCALES.sprint_gap_cap_days)


def hazard_terms(
    prev_hamstring: np.ndarray,
    age_years: np.ndarray,
    nordic_effective_n: np.ndarray,
    spike_state: np.ndarray,
    days_since_expo: np.ndarray,
    sleep_deficit: np.ndarray,
    soreness: np.ndarray,
    strength_control_gap: np.ndarray,
) -> dict[str, np.ndarray]:
    """The terms of the weekly hamstring logit (``HAZARD``), in the order :func:`hazard_logit`
    sums them: ``0.95 prev + 0.05 (age - 25) - 0.85 (Nordic x (1 - |asym|) - 330) / 50 + 0.95 spike
    + 0.45 clip(gap, 0, 42) / 14 + 0.45 sleep + 0.40 soreness + 0.55 gap_sc``."""
    hz, sc = HAZARD, HAZARD_SCALES
    return {
        "prev_hamstring": hz["prev_hamstring"] * prev_hamstring,
        "age": hz["age_per_year"] * (age_years - sc.age_reference_years),
        "nordic": hz["nordic_per_sd"] * (nordic_effective_n - sc.nordic_reference_n) / sc.nordic_sd_n,
        "hsr_spike": hz["hsr_spike"] * spike_state,
        "sprint_gap": hz["sprint_gap"] * capped_sprint_gap_days(days_since_expo) / sc.sprint_gap_scale_days,
        "sleep_deficit": hz["sleep_deficit"] * sleep_deficit,
        "soreness": hz["soreness"] * soreness,
        "strength_control_gap": hz["strength_control_gap"] * strength_control_gap,
    }


def hazard_logit(terms: Mapping[str, np.ndarray]) -> np.ndarray:
    """``h0`` plus the terms, summed left to right in :func:`hazard_terms`' order."""
    logit = np.asarray(HAZARD["h0"], dtype=float)
    for term in terms.values():
        logit = logit + term
    return logit


def hazard_families(terms: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each factor family's part of the logit (``HAZARD_FAMILIES``)."""
    out = {}
    for fam, names in HAZARD_FAMILIES.items():
        part = terms[names[0]]
        for name in names[1:]:
            part = part + terms[name]
        out[fam] = part
    return out


def weekly_hazard(logit: np.ndarray) -> np.ndarray:
    """The week's hamstring hazard (probability of an onset in the week): ``sigmoid(logit)``."""
    return sigmoid(logit)


def onset_probability(weekly_hazards: np.ndarray) -> np.ndarray:
    """Probability of at least one onset over consecutive weeks (last axis): ``1 - prod(1 - h_j)``."""
    return 1 - np.prod(1 - weekly_hazards, axis=1)


# --- transfer: sprint mechanics and the block's expected change --------------------------------


def gate_time_s(
    distance_m: np.ndarray | float, mss: np.ndarray, tau: np.ndarray, fd_m: np.ndarray
) -> np.ndarray:
    """Gate-timed time to ``distance_m`` for a start ``fd_m`` behind the first gate:
    ``t(d + FD) - t(FD)`` with the mono-exponential model's :func:`~sprintlab.sprint.model.time_at_distance`."""
    return time_at_distance(distance_m + fd_m, mss, tau) - time_at_distance(fd_m, mss, tau)


def tau_for_t10(t10_s: np.ndarray, mss: np.ndarray, fd_m: np.ndarray) -> np.ndarray:
    """TAU giving an observed (gate-started) 10 m time ``t(10+FD) - t(FD)`` equal to ``t10_s``.

    The observed time is increasing in TAU, so a vectorised bisection converges to 1e-10 s.
    """
    lo = np.full_like(np.asarray(t10_s, dtype=float), 0.2)
    hi = np.full_like(lo, 3.0)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        too_slow = gate_time_s(10.0, mss, mid, fd_m) > t10_s
        hi = np.where(too_slow, mid, hi)
        lo = np.where(too_slow, lo, mid)
    return 0.5 * (lo + hi)


def access_to_strength(control: np.ndarray) -> np.ndarray:
    """Access to strength ``A(c) = sigmoid(1.6 c)``."""
    return sigmoid(TRANSFER["access_slope"] * control)


def transfer_mean_change(
    g: np.ndarray, c: np.ndarray, k: np.ndarray, rev: np.ndarray, load: np.ndarray, sleep: np.ndarray
) -> np.ndarray:
    """Expected change of the true 0-10 m time over a block (s); negative means faster:
    ``mu = d0 - gamma g A(c) + delta k - rho rev + lam load + omega sleep``."""
    p = TRANSFER
    return (
        p["d0_s"]
        - p["gamma_s"] * g * access_to_strength(c)
        + p["delta_s"] * k
        - p["rho_rev"] * rev
        + p["lam_s"] * load
        + p["omega_s"] * sleep
    )


def block_load_excess(hsr_factor_weeks: np.ndarray) -> float:
    """A block's load excess (SD units): mean log weekly HSR factor over its weeks / 0.15."""
    return float(np.mean(np.log(hsr_factor_weeks))) / HSR.log_factor_per_load_sd


def block_sleep_deficit(sleep_deficit_weeks: np.ndarray) -> float:
    """A block's sleep deficit (SD units): mean weekly sleep deficit over its weeks / 0.55."""
    return float(np.mean(sleep_deficit_weeks)) / WELLNESS.sleep_per_block_sd
