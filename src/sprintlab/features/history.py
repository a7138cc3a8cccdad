"""History and profile builders: age, body mass and the injury history as of each week end."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sprintlab.features.builder import Builder, Features, Need, PanelInputs

DAYS_PER_YEAR = 365.25
LOWER_LIMB = ("hamstring", "quadriceps", "calf", "adductor", "groin", "knee", "ankle", "hip", "thigh", "foot")


def age(inputs: PanelInputs) -> Features:
    """Age in years at each week end: (week end - birth date) / 365.25 days."""
    birth = pd.to_datetime(inputs.register["birth_date"]).to_numpy()
    week_ends = inputs.grid.week_end_dates.to_numpy()
    days = (week_ends[None, :] - birth[:, None]) / np.timedelta64(1, "D")
    return {"age_years": days / DAYS_PER_YEAR}


def body_mass(inputs: PanelInputs) -> Features:
    """Body mass from the athletes register, the same every week."""
    return {"body_mass_kg": np.repeat(inputs.body_mass_kg[:, None], inputs.grid.week_end_days.size, axis=1)}


def injury_history(inputs: PanelInputs) -> Features:
    """Injury history as of each week end; only onsets on or before the week end count.

    ``previous_hamstring_injury`` (0/1), ``hamstring_injuries_12m`` and
    ``other_lower_limb_injuries_12m`` (onsets within 365 days before the week end) and
    ``days_since_return_to_play`` (return = onset + days lost; NaN before the first return).
    """
    ids = inputs.grid.athlete_ids
    week_ends = inputs.grid.week_end_dates.to_numpy()
    shape = (ids.size, week_ends.size)
    had_hamstring, hamstring_12m, other_12m = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    since_return = np.full(shape, np.nan)
    row_of = {a: i for i, a in enumerate(ids)}
    year = np.timedelta64(365, "D")
    for injury in inputs.tables["injuries"].itertuples(index=False):
        i = row_of.get(injury.athlete_id)
        if i is None:
            continue
        onset = np.datetime64(pd.Timestamp(injury.onset_date), "ns")
        seen = onset <= week_ends
        within_year = seen & (week_ends - onset <= year)
        part = str(injury.body_part).lower()
        if "hamstring" in part:
            had_hamstring[i] = np.maximum(had_hamstring[i], seen)
            hamstring_12m[i] += within_year
        elif any(p in part for p in LOWER_LIMB):
            other_12m[i] += within_year
        returned = onset + np.timedelta64(int(injury.days_lost), "D")
        days = (week_ends - returned) / np.timedelta64(1, "D")
        since_return[i] = np.where(
            (returned <= week_ends) & seen, np.fmin(since_return[i], days), since_return[i]
        )
    return {
        "previous_hamstring_injury": had_hamstring,
        "hamstring_injuries_12m": hamstring_12m,
        "other_lower_limb_injuries_12m": other_12m,
        "days_since_return_to_play": since_return,
    }


BUILDERS = (
    Builder(("age_years",), age, needs=(Need("athletes", "birth_date"),)),
    Builder(("body_mass_kg",), body_mass, needs=(Need("athletes", "body_mass_kg"),)),
    Builder(
        (
            "previous_hamstring_injury",
            "hamstring_injuries_12m",
            "other_lower_limb_injuries_12m",
            "days_since_return_to_play",
        ),
        injury_history,
        needs=(Need("injuries", empty_ok=True),),
    ),
)
