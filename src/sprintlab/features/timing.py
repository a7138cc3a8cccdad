"""Timing builders: the latest sprint test's 0-5 m time and age, the first-step kinematics of that test, and - from GPS/LPS traces, without a test - the in-situ
acceleration-speed profile (built only when the club records ``tracking_samples``)."""

from __future__ import annotations

import numpy as np

from sprintlab.features.builder import Builder, Features, Need, PanelInputs
from sprintlab.features.grid import forward_fill

FIRST_STEP_FEATURES = ("first_step_contact_ms", "step_length_m", "step_frequency_hz")


def latest_sprint_test(inputs: PanelInputs) -> Features:
    """Best 5 m time of the latest sprint session (s), the session's age (days) and whether it looks
    like a flying start (0/1). (The 0-10 m level is bounce-back: :mod:`sprintlab.features.bounce_back`.)"""
    sessions = inputs.sprint_sessions
    grid = inputs.grid
    _, age_days = forward_fill(grid.scatter(sessions, "t10_best_s", "mean"))
    flying = sessions.assign(flying=sessions["flying_start_flag"].astype(float))
    return {
        "t5_best_s": inputs.latest(sessions, "t5_best_s"),
        "sprint_test_age_days": grid.at_week_ends(age_days),
        "flying_start_flag": inputs.latest(flying, "flying", "max"),
    }


def first_steps(inputs: PanelInputs) -> Features:
    """First-step contact time (ms), step length (m) and step frequency (Hz) of the latest
    session with steps 1-4 recorded."""
    return {f: inputs.latest(inputs.sprint_sessions, f) for f in FIRST_STEP_FEATURES}


def touchdown(inputs: PanelInputs) -> Features:
    """Touchdown distance ahead of the centre of mass over steps 1-4 of the latest session (m)."""
    return {"touchdown_distance_m": inputs.latest(inputs.sprint_sessions, "touchdown_distance_m")}


def contact_asymmetry(inputs: PanelInputs) -> Features:
    """Left-right first-step contact-time asymmetry of the latest session (%)."""
    return {"contact_asymmetry_pct": inputs.latest(inputs.sprint_sessions, "contact_asymmetry_pct")}


def insitu_profile(inputs: PanelInputs) -> Features:
    """MSS (m/s) and MAC (m/s^2) of the in-situ acceleration-speed profile of the traces of the
    last ``insitu.window_days`` (28) days; NaN when those traces give no acceptable fit."""
    weeks = inputs.insitu_weeks
    return {"insitu_mss_m_s": weeks.mss_m_s, "insitu_mac_m_s2": weeks.mac_m_s2}


def _at_latest_test(daily: np.ndarray, test_days: np.ndarray) -> np.ndarray:
    """Each day's value of ``daily`` on the latest test day up to it (NaN before the first test
    and when that test's value is missing: never an older test's value)."""
    n_d = test_days.shape[1]
    last = np.maximum.accumulate(np.where(test_days, np.arange(n_d)[None, :], -1), axis=1)
    return np.where(last >= 0, np.take_along_axis(daily, np.maximum(last, 0), axis=1), np.nan)


def insitu_change_since_test(inputs: PanelInputs) -> Features:
    """Change (%) of the in-situ MSS and MAC since the latest sprint test: the profile of the
    last ``window_days`` against the profile of the ``window_days`` up to the test day,
    ``100 (now / at test - 1)``."""
    weeks, grid = inputs.insitu_weeks, inputs.grid
    test_days = inputs.sprint_test_days
    mss_then = grid.at_week_ends(_at_latest_test(weeks.mss_at_test_m_s, test_days))
    mac_then = grid.at_week_ends(_at_latest_test(weeks.mac_at_test_m_s2, test_days))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {
            "insitu_mss_change_since_test_pct": 100.0 * (weeks.mss_m_s / mss_then - 1.0),
            "insitu_mac_change_since_test_pct": 100.0 * (weeks.mac_m_s2 / mac_then - 1.0),
        }


SPRINT = Need("sprint_splits")
#: GPS/LPS traces: an optional data stream (without it the in-situ features are not recorded, not skipped)
TRACKING = Need("tracking_samples", optional_stream=True)
STEPS = Need("sprint_steps")
BUILDERS = (
    Builder(("t5_best_s", "sprint_test_age_days", "flying_start_flag"), latest_sprint_test, needs=(SPRINT,)),
    Builder(FIRST_STEP_FEATURES, first_steps, needs=(SPRINT, STEPS)),
    Builder(
        ("touchdown_distance_m",), touchdown, needs=(SPRINT, Need("sprint_steps", "touchdown_distance_m"))
    ),
    Builder(
        ("contact_asymmetry_pct",),
        contact_asymmetry,
        needs=(SPRINT, Need("sprint_steps", "side", "left"), Need("sprint_steps", "side", "right")),
    ),
    Builder(("insitu_mss_m_s", "insitu_mac_m_s2"), insitu_profile, needs=(TRACKING,), settings=("insitu",)),
    Builder(
        ("insitu_mss_change_since_test_pct", "insitu_mac_change_since_test_pct"),
        insitu_change_since_test,
        needs=(TRACKING, SPRINT),
        settings=("insitu",),
    ),
)
