"""One row per sprint session: the sprint engine's parameters and the first-step kinematics.

Shared by the timing builders (times, steps) and the control builders (force orientation); the
session days are the sprint test days that the "since the last test" features start from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SPRINT_CHUNK_ATHLETES = 250  # athletes profiled at a time: the engine is vectorised over trials
FIRST_STEPS = 4  # the first-step kinematics average steps 1-4
SESSION_COLUMNS = [
    "athlete_id",
    "date",
    "t5_best_s",
    "t10_best_s",
    "t10_mean_s",
    "typical_error_s",
    "rf_max",
    "drf",
    "f0_rel_n_kg",
    "mss_m_s",
    "tau_s",
    "any_flying_start",
]


def sprint_sessions(splits: pd.DataFrame, steps: pd.DataFrame | None, athletes: pd.DataFrame) -> pd.DataFrame:
    """Per (athlete_id, date): best and mean split times, force-velocity parameters,
    ``flying_start_flag`` and, when ``steps`` has records, the first-step kinematics of
    :func:`first_step_kinematics` (NaN on session days without steps)."""
    from sprintlab.sprint import profile_splits, summarise_sessions

    ids = np.sort(splits["athlete_id"].unique())
    parts = []
    for lo in range(0, ids.size, SPRINT_CHUNK_ATHLETES):
        chunk = splits[splits["athlete_id"].isin(ids[lo : lo + SPRINT_CHUNK_ATHLETES])]
        parts.append(profile_splits(chunk, athletes=athletes, correction="fd"))
    # one summary of all the trials: its groups are (athlete, date), so the same rows in the same order
    sessions = summarise_sessions(pd.concat(parts, ignore_index=True))
    sessions = sessions[[c for c in SESSION_COLUMNS if c in sessions.columns]].rename(
        columns={"any_flying_start": "flying_start_flag"}
    )
    if steps is None or steps.empty:
        return sessions
    return sessions.merge(first_step_kinematics(steps).reset_index(), on=["athlete_id", "date"], how="left")


def first_step_kinematics(steps: pd.DataFrame) -> pd.DataFrame:
    """Per (athlete_id, date), over steps 1-4 of every trial: mean contact time (ms), mean step
    length (m), step frequency = 1000 / (mean contact + mean flight time in ms) (Hz), mean
    touchdown distance (m, when recorded) and the contact-time asymmetry
    100 x |left - right| / mean(left, right) (%)."""
    first = steps[steps["step"] <= FIRST_STEPS]
    by_session = first.groupby(["athlete_id", "date"])
    contact_ms = by_session["contact_time_ms"].mean()
    kinematics = pd.DataFrame(
        {
            "first_step_contact_ms": contact_ms,
            "step_length_m": by_session["step_length_m"].mean(),
            "step_frequency_hz": 1000.0 / (contact_ms + by_session["flight_time_ms"].mean()),
        }
    )
    if "touchdown_distance_m" in first:
        kinematics["touchdown_distance_m"] = by_session["touchdown_distance_m"].mean()
    side = first.groupby(["athlete_id", "date", "side"])["contact_time_ms"].mean().unstack("side")
    side = side.reindex(columns=["left", "right"])
    kinematics["contact_asymmetry_pct"] = (
        100 * (side["left"] - side["right"]).abs() / side[["left", "right"]].mean(axis=1)
    )
    return kinematics
