"""Every coefficient of the simulator's generating model, defined once.

The simulation (``latent.py``, ``records.py``), its oracles (``truth.py``: the 28-day hamstring
Monte Carlo, the transfer truth) and the lever truth (``causal.py``) read their numbers here, so a
change of a coefficient changes the data and the truth together. ``docs/simulator.md`` states the
equations. Distributions of the athletes' traits and the noise of records that nothing else reads
stay beside the one function that draws them (``latent.draw_traits``, ``records``).
"""

from __future__ import annotations

from dataclasses import dataclass

# --- transfer: expected change of the true 0-10 m time over a block (seconds) ------------------
TRANSFER: dict[str, float] = {
    "d0_s": 0.012,  # detraining / fatigue drift per block
    "gamma_s": 0.80,  # seconds per unit relative strength gain at full access
    "access_slope": 1.6,  # A(c) = sigmoid(access_slope * c)
    "delta_s": 0.020,  # seconds per braking SD
    "rho_rev": 0.40,  # regression towards the athlete's own typical 0-10 m time
    "lam_s": 0.006,  # seconds per SD of block load excess
    "omega_s": 0.006,  # seconds per SD of block sleep deficit
    "bio_sd_s": 0.018,  # block-to-block biological variation of the true 0-10 m time
    "trial_sd_s": 0.015,  # trial-to-trial variation of the 0-10 m time within a session
    "gate_sd_s": 0.008,  # timing-gate noise per split
}

# --- hamstring: coefficients of the weekly hazard logit -----------------------------------------
HAZARD: dict[str, float] = {
    "h0": -7.9,
    "prev_hamstring": 0.95,
    "age_per_year": 0.05,
    "nordic_per_sd": -0.85,
    "hsr_spike": 0.95,
    "sprint_gap": 0.45,
    "sleep_deficit": 0.45,
    "soreness": 0.40,
    "strength_control_gap": 0.55,
}

#: Which terms of the weekly hamstring logit (``processes.hazard_terms``) belong to which family.
HAZARD_FAMILIES: dict[str, tuple[str, ...]] = {
    "strength": ("nordic",),
    "control": ("strength_control_gap",),
    "load": ("hsr_spike", "sprint_gap"),
    "wellness": ("sleep_deficit", "soreness"),
    "history": ("prev_hamstring", "age"),
}

#: Weeks of the hamstring horizon (28 days).
HORIZON_WEEKS = 4
DAYS_PER_WEEK = 7
#: Days since the last near-maximal sprint exposure at the start of the window.
INITIAL_DAYS_SINCE_NEAR_MAX = 21.0
#: Weeks per year of age (the hazard's age term moves every week).
WEEKS_PER_YEAR = 52.18


@dataclass(frozen=True)
class HazardScales:
    """Reference points and scales of the hazard's inputs."""

    age_reference_years: int = 25
    nordic_reference_n: int = 330  # effective Nordic force of a typical male athlete
    nordic_sd_n: int = 50
    sprint_gap_cap_days: int = 42  # days without near-maximal sprinting stop adding risk here
    sprint_gap_scale_days: int = 14


@dataclass(frozen=True)
class StrengthControlGap:
    """Strength rising faster than control: ``clip(g8 / gain_scale - dc8 / control_scale, 0, cap)``
    with ``g8`` the relative squat gain and ``dc8`` the control change over ``lookback_weeks``."""

    lookback_weeks: int = 8
    gain_scale: float = 0.10
    control_scale: float = 0.30
    cap: int = 3


@dataclass(frozen=True)
class TrainingBlocks:
    """Strength, control and braking across training blocks (one sprint test to the next)."""

    test_jitter_weeks: tuple[int, int] = (-1, 2)  # rng.integers bounds: -1, 0 or +1 week
    strength_block_probability: float = 0.55
    strength_gain_range: tuple[float, float] = (0.03, 0.15)  # relative gain at headroom 1
    headroom_ceiling_rel: float = 2.45  # squat 1RM / body mass where gains dry up
    headroom_scale_rel: float = 0.9
    headroom_bounds: tuple[float, float] = (0.35, 1.2)
    detraining_gain_mean: float = -0.045
    detraining_gain_sd: float = 0.02
    control_persistence: float = 0.85  # c <- 0.85 c + 0.15 c0 + N(0, 0.3)
    control_baseline_pull: float = 0.15
    control_shock_sd: float = 0.3
    braking_persistence: float = 0.5  # k <- k0 + 0.5 (k - k0) + N(0, 0.45)
    braking_shock_sd: float = 0.45
    latent_bounds: tuple[float, float] = (-2.5, 2.5)


@dataclass(frozen=True)
class NordicWalk:
    """Nordic eccentric force: a weekly random walk, reported inside bounds."""

    weekly_sd_n: int = 5
    bounds_n: tuple[int, int] = (200, 500)


@dataclass(frozen=True)
class HighSpeedRunning:
    """Weekly high-speed-running factor: ``exp(x) x spike x low`` with ``x`` an AR(1)."""

    persistence: float = 0.5
    shock_sd: float = 0.12
    spike_probability: float = 0.07
    spike_size: tuple[float, float] = (1.6, 2.3)
    low_week_probability: float = 0.04
    low_week_factor: float = 0.45
    sessions_in_week: int = 4  # the week's HSR the hazard sees: 4 sessions at the athlete's norm
    norm_window_weeks: int = 4  # the athlete's own norm: mean of the non-zero weeks of the last 4
    spike_ratio_bounds: tuple[int, int] = (-1, 2)  # HSR / own norm - 1, clipped
    spike_state_decay: float = 0.5  # the spike state halves every week
    log_factor_per_load_sd: float = 0.15  # block load excess = mean log factor / 0.15


@dataclass(frozen=True)
class WellnessProcesses:
    """Sleep deficit and soreness (latent, SD units) and how the daily sleep report reads them."""

    sleep_persistence: float = 0.75
    sleep_shock_sd: float = 0.55
    sleep_per_block_sd: float = 0.55  # block sleep deficit = mean weekly deficit / 0.55
    soreness_persistence: float = 0.6
    soreness_per_log_hsr: float = 0.9
    soreness_shock_sd: float = 0.5
    sleep_hours_per_deficit_sd: float = 0.8  # reported sleep = own norm - 0.8 x deficit + noise


@dataclass(frozen=True)
class Injuries:
    """Onsets and time lost (days lost log-normal around a median, clipped)."""

    other_weekly_probability: float = 0.004
    hamstring_median_days: int = 20
    hamstring_log_sd: float = 0.5
    hamstring_days_bounds: tuple[int, int] = (7, 90)
    other_median_days: int = 12
    other_log_sd: float = 0.6
    other_days_bounds: tuple[int, int] = (2, 60)


@dataclass(frozen=True)
class Measurement:
    """How the tests read the latents: sprint trials and timing gates, step kinematics from braking
    ``k``, movement screens from control ``c`` (per unit of the latent)."""

    trials: int = 3
    gates_m: tuple[float, ...] = (5.0, 10.0, 20.0, 30.0)
    steps: int = 4
    contact_base_ms: int = 195
    contact_per_braking_ms: int = 14
    contact_per_step_ms: int = 7
    contact_sd_ms: int = 7
    touchdown_base_m: float = 0.12
    touchdown_per_braking_m: float = 0.035
    touchdown_per_step_m: float = 0.02
    touchdown_sd_m: float = 0.015
    step_length_base_m: float = 1.05
    step_length_per_step_m: float = 0.12
    step_length_per_braking_m: float = 0.04
    step_length_sd_m: float = 0.03
    flight_base_ms: int = 45
    flight_per_step_ms: int = 12
    flight_sd_ms: int = 5
    screen_base_score: int = 3
    screen_score_bounds: tuple[int, int] = (1, 5)  # half points
    pelvic_per_control: float = 0.95
    pelvic_sd: float = 0.35
    trunk_per_control: float = 0.85
    trunk_sd: float = 0.4
    control_score_per_control: float = 0.9  # the panel's control score: mean of pelvic and trunk


@dataclass(frozen=True)
class TrackingTraces:
    """Optional GPS/LPS speed traces of a few sessions a week (``simulate_squad(tracking=...)``).

    A session is ``session_minutes`` of tracked drills at ``rate_hz``: a jogging/walking baseline
    (Ornstein-Uhlenbeck: mean, SD, time constant) with ``efforts_per_session`` accelerations
    started from the baseline speed. An all-out effort (probability ``max_effort_share``) follows
    the athlete's own sprint curve ``v = MSS - (MSS - v0) exp(-t/TAU)``, so its samples lie on
    ``a = MAC (1 - v/MSS)``; a submaximal one aims at a fraction of MSS with a longer time
    constant (below that line). Efforts accelerate for ``effort_s`` seconds, then decelerate
    until they meet the baseline. Speed noise, dropout bursts and implausible spikes are added."""

    rate_hz: float = 10.0
    session_minutes: float = 20.0
    session_weekdays: tuple[int, ...] = (1, 3, 5)  # Tue, Thu, Sat (0 = Monday)
    efforts_per_session: int = 10
    max_effort_share: float = 0.3
    submax_speed_fraction: tuple[float, float] = (0.70, 0.95)
    submax_tau_factor: tuple[float, float] = (1.05, 1.5)
    effort_s: tuple[float, float] = (2.0, 6.0)
    deceleration_m_s2: tuple[float, float] = (2.5, 4.5)
    baseline_mean_m_s: float = 1.6
    baseline_sd_m_s: float = 0.6
    baseline_tau_s: float = 8.0
    baseline_max_m_s: float = 3.5
    speed_noise_sd_m_s: float = 0.03  # error of the exported speed: low-passed by the device's filter,
    speed_noise_tau_s: float = 0.3  # so an AR(1) process with this time constant, not white noise
    speed_resolution_m_s: float = 0.01
    dropout_share: float = 0.3  # sessions with one dropout burst
    dropout_s: tuple[float, float] = (0.5, 3.0)
    spike_share: float = 0.2  # sessions with one implausible speed spike (12.6-13 m/s)


HAZARD_SCALES = HazardScales()
STRENGTH_CONTROL_GAP = StrengthControlGap()
BLOCKS = TrainingBlocks()
NORDIC = NordicWalk()
HSR = HighSpeedRunning()
WELLNESS = WellnessProcesses()
INJURIES = Injuries()
MEASUREMENT = Measurement()
TRACKING_TRACES = TrackingTraces()
