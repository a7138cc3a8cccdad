"""The squad's latent (unobserved) state: athletes' traits, training blocks, weekly processes and
the hamstring hazard week by week, with the injuries it causes.

Every draw comes from the caller's ``numpy.random.Generator``, in the order :func:`simulate_squad`
calls these functions; the process steps themselves are in ``processes.py``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypedDict

import numpy as np

from sprintlab.simulate.coefficients import (
    BLOCKS,
    DAYS_PER_WEEK,
    HAZARD_FAMILIES,
    HSR,
    INITIAL_DAYS_SINCE_NEAR_MAX,
    INJURIES,
    NORDIC,
    WELLNESS,
)
from sprintlab.simulate.processes import (
    age_at_week_years,
    block_strength_gain,
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
    nordic_walk_n,
    sleep_deficit_step,
    soreness_step,
    spike_state_step,
    strength_control_gap_at_week,
    strength_headroom,
    week_hsr_m,
    weekly_hazard,
)


@dataclass(frozen=True)
class Traits:
    """Each athlete's traits at the start of the window (arrays of length n_athletes)."""

    ids: np.ndarray
    male: bool
    age0: np.ndarray
    height_cm: np.ndarray
    mass_kg: np.ndarray
    control0: np.ndarray
    braking0: np.ndarray
    squat_rel0: np.ndarray
    nordic0: np.ndarray
    nordic_asym: np.ndarray
    prev_ham: np.ndarray
    mss: np.ndarray
    fd: np.ndarray  # flying distance of a standing start behind the first gate (m)
    t10_base: np.ndarray
    hsr_norm: np.ndarray  # m per pitch session
    expo_habit: np.ndarray  # weekly probability of near-maximal sprint exposure
    sleep_base: np.ndarray
    report_rate: np.ndarray
    positions: np.ndarray
    birth: list[date]


def draw_traits(rng: np.random.Generator, n: int, male: bool, start: date) -> Traits:
    """Athletes' traits (distributions in ``docs/simulator.md``, *Athletes*)."""
    age0 = rng.uniform(18, 33, n)
    height = rng.normal(181 if male else 168, 6.5, n).clip(160, 205)
    bmi = rng.normal(24.3 if male else 22.0, 1.6, n).clip(19.5, 29)
    control0 = rng.normal(0, 1, n).clip(-2.2, 2.2)
    braking0 = (-0.3 * control0 + rng.normal(0, 0.95, n)).clip(-2.2, 2.2)
    squat_rel0 = rng.normal(1.55, 0.2, n).clip(1.05, 2.2)
    nordic0 = rng.normal(330 if male else 270, 50, n).clip(215, 470)
    nordic_asym = rng.normal(0, 0.05, n)
    prev_ham = rng.random(n) < 0.25
    mss = rng.normal(8.7 if male else 7.7, 0.4, n).clip(7.0, 10.0)
    fd = rng.uniform(0.25, 0.5, n)
    t10_base = rng.normal(1.83 if male else 1.98, 0.06, n) + 0.02 * braking0 - 0.015 * control0
    return Traits(
        ids=np.array([f"SIM{i + 1:04d}" for i in range(n)]),
        male=male,
        age0=age0,
        height_cm=height,
        mass_kg=(bmi * (height / 100) ** 2).round(1),
        control0=control0,
        braking0=braking0,
        squat_rel0=squat_rel0,
        nordic0=nordic0,
        nordic_asym=nordic_asym,
        prev_ham=prev_ham,
        mss=mss,
        fd=fd,
        t10_base=t10_base,
        hsr_norm=rng.uniform(120, 320, n),
        expo_habit=rng.uniform(0.15, 0.75, n),
        sleep_base=rng.normal(7.7, 0.5, n).clip(6.3, 9.0),
        report_rate=rng.uniform(0.65, 0.98, n),
        positions=rng.choice(["defender", "midfielder", "forward", "wide"], n),
        birth=[start - timedelta(days=int(a * 365.25)) for a in age0],
    )


@dataclass(frozen=True)
class TrainingPlan:
    """Sprint test weeks (n x blocks; ``n_weeks`` = outside the window) and the weekly strength,
    control and braking paths (n x weeks) with each block's relative strength gain (n x blocks)."""

    test_weeks: np.ndarray
    squat_rel: np.ndarray
    control: np.ndarray
    braking: np.ndarray
    block_gain: np.ndarray

    @property
    def n_blocks(self) -> int:
        return int(self.test_weeks.shape[1])

    def block_weeks(self, block: int) -> tuple[np.ndarray, np.ndarray]:
        """First week of ``block`` and the first week after it, per athlete."""
        n, n_weeks = self.squat_rel.shape
        end = self.test_weeks[:, block + 1] if block + 1 < self.n_blocks else np.full(n, n_weeks)
        return self.test_weeks[:, block], end


def draw_test_weeks(rng: np.random.Generator, n: int, n_weeks: int, block_weeks: int) -> np.ndarray:
    """Sprint test weeks per athlete: every ``block_weeks`` with +-1 week jitter after the first."""
    weeks = [np.zeros(n, dtype=int)]
    while True:
        nxt = weeks[-1] + block_weeks + rng.integers(*BLOCKS.test_jitter_weeks, n)
        if (nxt >= n_weeks).all():
            break
        weeks.append(np.minimum(nxt, n_weeks))  # n_weeks = never (outside the window)
    return np.stack(weeks, axis=1)


def draw_training_plan(
    rng: np.random.Generator, traits: Traits, n_weeks: int, block_weeks: int
) -> TrainingPlan:
    """Blocks of strength or detraining; control drifts and braking is re-drawn every block.

    Within a block the squat 1RM and control move linearly to the block's end value; braking
    during a block is the state measured at its opening test.
    """
    n = traits.ids.size
    test_weeks = draw_test_weeks(rng, n, n_weeks, block_weeks)
    plan = TrainingPlan(
        test_weeks=test_weeks,
        squat_rel=np.zeros((n, n_weeks)),
        control=np.zeros((n, n_weeks)),
        braking=np.zeros((n, n_weeks)),
        block_gain=np.full((n, test_weeks.shape[1]), np.nan),
    )
    s_level, c_level, k_level = traits.squat_rel0.copy(), traits.control0.copy(), traits.braking0.copy()
    for block in range(plan.n_blocks):
        g, c_new, k_new = _draw_block_change(rng, traits, s_level, c_level, k_level)
        first, end = plan.block_weeks(block)
        for i in np.flatnonzero(first < n_weeks):
            span = np.arange(first[i], min(end[i], n_weeks))
            frac = (span - first[i] + 1) / max(end[i] - first[i], 1)
            plan.squat_rel[i, span] = s_level[i] * (1 + g[i] * frac)
            plan.control[i, span] = c_level[i] + (c_new[i] - c_level[i]) * frac
            plan.braking[i, span] = k_new[i]
        plan.block_gain[:, block] = np.where(first < n_weeks, g, np.nan)
        s_level, c_level, k_level = s_level * (1 + g), c_new, k_new
    return plan


def _draw_block_change(
    rng: np.random.Generator, traits: Traits, squat_rel: np.ndarray, control: np.ndarray, braking: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A block's relative strength gain and the control and braking at its end."""
    b = BLOCKS
    n = squat_rel.size
    is_strength_block = rng.random(n) < b.strength_block_probability
    strength_gain = rng.uniform(*b.strength_gain_range, n) * strength_headroom(squat_rel)
    detraining_gain = rng.normal(b.detraining_gain_mean, b.detraining_gain_sd, n)
    gain = block_strength_gain(is_strength_block, strength_gain, detraining_gain)
    control_end = control_step(control, traits.control0, rng.normal(0, b.control_shock_sd, n))
    braking_end = braking_step(braking, traits.braking0, rng.normal(0, b.braking_shock_sd, n))
    return gain, control_end, braking_end


@dataclass(frozen=True)
class WeeklyProcesses:
    """Weekly latent processes (n x weeks): Nordic force, HSR factor and its AR(1) log state,
    near-maximal exposure weeks, sleep deficit and soreness."""

    nordic: np.ndarray
    hsr_factor: np.ndarray
    hsr_log: np.ndarray
    exposure_week: np.ndarray
    sleep_dev: np.ndarray
    sore: np.ndarray


def draw_hsr_factor(rng: np.random.Generator, n: int, n_weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """Weekly HSR factor ``exp(x) x spike x low`` and its AR(1) log state ``x`` (n x weeks)."""
    factor = np.ones((n, n_weeks))
    hsr_log = np.zeros((n, n_weeks))
    x = np.zeros(n)
    for w in range(n_weeks):
        x = hsr_log_step(x, rng.normal(0, HSR.shock_sd, n))
        hsr_log[:, w] = x
        is_spike = rng.random(n) < HSR.spike_probability
        is_low = rng.random(n) < HSR.low_week_probability
        spike = hsr_spike_multiplier(is_spike, rng.uniform(*HSR.spike_size, n))
        factor[:, w] = np.exp(x) * spike * hsr_low_week_multiplier(is_low)
    return factor, hsr_log


def draw_wellness(rng: np.random.Generator, hsr_factor: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sleep deficit and soreness (n x weeks; soreness driven by the HSR factor)."""
    n, n_weeks = int(hsr_factor.shape[0]), int(hsr_factor.shape[1])
    sleep_dev = np.zeros((n, n_weeks))
    sore = np.zeros((n, n_weeks))
    sleep, soreness = np.zeros(n), np.zeros(n)
    for w in range(n_weeks):
        sleep = sleep_deficit_step(sleep, rng.normal(0, WELLNESS.sleep_shock_sd, n))
        sleep_dev[:, w] = sleep
        soreness = soreness_step(soreness, hsr_factor[:, w], rng.normal(0, WELLNESS.soreness_shock_sd, n))
        sore[:, w] = soreness
    return sleep_dev, sore


def draw_weekly_processes(rng: np.random.Generator, traits: Traits, n_weeks: int) -> WeeklyProcesses:
    """Nordic random walk, HSR factor, near-maximal exposure weeks, sleep and soreness."""
    n = traits.ids.size
    nordic = nordic_walk_n(traits.nordic0, rng.normal(0, NORDIC.weekly_sd_n, (n, n_weeks)))
    hsr_factor, hsr_log = draw_hsr_factor(rng, n, n_weeks)
    exposure_week = rng.random((n, n_weeks)) < traits.expo_habit[:, None]
    sleep_dev, sore = draw_wellness(rng, hsr_factor)
    return WeeklyProcesses(nordic, hsr_factor, hsr_log, exposure_week, sleep_dev, sore)


class InjuryRecord(TypedDict):
    """One injury as the contract's ``injuries`` table records it (onset as a day index)."""

    athlete_id: str
    onset_day: int
    body_part: str
    side: str
    days_lost: int
    mechanism: str


def draw_injury(
    rng: np.random.Generator, athlete_id: str, week_start_day: int, hamstring: bool
) -> InjuryRecord:
    """An onset in the week starting on ``week_start_day``: a hamstring strain (log-normal, median
    20 days lost) or another lower-limb injury (median 12 days)."""
    inj = INJURIES
    onset = week_start_day + int(rng.integers(0, DAYS_PER_WEEK))
    if hamstring:
        lost = int(
            np.clip(
                rng.lognormal(math.log(inj.hamstring_median_days), inj.hamstring_log_sd),
                *inj.hamstring_days_bounds,
            )
        )
        return InjuryRecord(
            athlete_id=athlete_id,
            onset_day=onset,
            body_part="hamstring",
            side=str(rng.choice(["left", "right"])),
            days_lost=lost,
            mechanism=str(rng.choice(["sprinting", "sprinting", "stretching"])),
        )
    lost = int(
        np.clip(rng.lognormal(math.log(inj.other_median_days), inj.other_log_sd), *inj.other_days_bounds)
    )
    return InjuryRecord(
        athlete_id=athlete_id,
        onset_day=onset,
        body_part=str(rng.choice(["ankle", "knee", "calf", "adductor", "quadriceps"])),
        side=str(rng.choice(["left", "right"])),
        days_lost=lost,
        mechanism=str(rng.choice(["contact", "overuse", "landing"])),
    )


@dataclass(frozen=True)
class HamstringWeeks:
    """The hamstring process week by week (n x weeks): the hazard acting in each week, availability,
    the hazard's inputs at the end of each week, each family's part of its logit, and the injuries
    in the window (hamstring and other)."""

    hazard: np.ndarray
    available: np.ndarray
    hsr_week: np.ndarray
    spike_state: np.ndarray
    days_since_expo: np.ndarray
    prev_ham: np.ndarray
    logit_terms: dict[str, np.ndarray]
    injuries: list[InjuryRecord]


def _empty_hamstring_weeks(n: int, n_weeks: int) -> HamstringWeeks:
    return HamstringWeeks(
        hazard=np.zeros((n, n_weeks)),
        available=np.ones((n, n_weeks), dtype=bool),
        hsr_week=np.zeros((n, n_weeks)),
        spike_state=np.zeros((n, n_weeks)),
        days_since_expo=np.zeros((n, n_weeks)),
        prev_ham=np.zeros((n, n_weeks)),
        logit_terms={fam: np.zeros((n, n_weeks)) for fam in HAZARD_FAMILIES},
        injuries=[],
    )


def simulate_hamstring_weeks(
    rng: np.random.Generator, traits: Traits, plan: TrainingPlan, weekly: WeeklyProcesses
) -> HamstringWeeks:
    """Week by week: availability, the week's HSR and spike state, days since near-maximal
    sprinting, the hazard logit from the state at the end of the week (it acts in the next week;
    week 0 uses its own), and the onsets it and other injuries cause (athletes out until return)."""
    n, n_weeks = traits.ids.size, int(weekly.hsr_factor.shape[1])
    out = _empty_hamstring_weeks(n, n_weeks)
    injured_until = np.full(n, -1)  # day index until which the athlete is out
    prev_ham_recent = traits.prev_ham.astype(float)
    days_since = np.full(n, INITIAL_DAYS_SINCE_NEAR_MAX)
    spike_state = np.zeros(n)
    for w in range(n_weeks):
        week_start_day = w * DAYS_PER_WEEK
        is_out = injured_until >= week_start_day
        out.available[:, w] = ~is_out
        out.hsr_week[:, w] = np.where(is_out, 0.0, week_hsr_m(traits.hsr_norm, weekly.hsr_factor[:, w]))
        spike = np.zeros(n)
        if w > 0:
            recent = out.hsr_week[:, max(0, w - HSR.norm_window_weeks) : w]
            spike = hsr_spike(out.hsr_week[:, w] / hsr_own_norm_m(recent, traits.hsr_norm))
        spike_state = spike_state_step(spike_state, spike)
        days_since = days_since_near_max_step(
            days_since, weekly.exposure_week[:, w] & ~is_out, rng.integers(0, DAYS_PER_WEEK, n)
        )
        out.days_since_expo[:, w] = days_since
        out.spike_state[:, w] = spike_state
        out.prev_ham[:, w] = prev_ham_recent
        terms = hazard_terms(
            prev_ham_recent,
            age_at_week_years(traits.age0, w),
            effective_nordic_n(weekly.nordic[:, w], traits.nordic_asym),
            spike_state,
            days_since,
            weekly.sleep_dev[:, w],
            weekly.sore[:, w],
            strength_control_gap_at_week(plan.squat_rel, plan.control, w),
        )
        logit = hazard_logit(terms)
        for fam, term in hazard_families(terms).items():
            out.logit_terms[fam][:, w] = term
        _set_hazards(out.hazard, w, weekly_hazard(logit))
        hit = (~is_out) & (rng.random(n) < out.hazard[:, w])
        other = (~is_out) & ~hit & (rng.random(n) < INJURIES.other_weekly_probability)
        for i in np.flatnonzero(hit | other):
            injury = draw_injury(rng, str(traits.ids[i]), week_start_day, bool(hit[i]))
            out.injuries.append(injury)
            if hit[i]:
                prev_ham_recent[i] = 1.0
            injured_until[i] = injury["onset_day"] + injury["days_lost"]
    return out


def _set_hazards(hazard: np.ndarray, week: int, hazard_from_week: np.ndarray) -> None:
    """The hazard acting in week w+1 comes from the state at the end of week w (week 0 uses its own)."""
    if week + 1 < hazard.shape[1]:
        hazard[:, week + 1] = hazard_from_week
    if week == 0:
        hazard[:, 0] = hazard_from_week


@dataclass(frozen=True)
class LatentSquad:
    """Everything the simulation drew before writing records: traits, the training plan, the weekly
    processes and the hamstring weeks (what the lever truth pushes through the generator's
    equations, :mod:`sprintlab.simulate.causal`)."""

    traits: Traits
    plan: TrainingPlan
    weekly: WeeklyProcesses
    hamstring: HamstringWeeks
    start: date
