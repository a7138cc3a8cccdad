"""Strength estimates from gym sets."""

from __future__ import annotations

import numpy as np
import pandas as pd

EPLEY_MAX_REPS = 10


def estimated_one_rm_epley(load_kg: pd.Series | np.ndarray, reps: pd.Series | np.ndarray) -> np.ndarray:
    """Epley (1985) estimated one-repetition maximum: 1RM = load x (1 + reps / 30).

    Valid for sets of 1-10 repetitions taken close to failure (LeSuer et al. 1997 report errors
    under ~5 % in that range); sets above 10 reps give NaN rather than an extrapolation.
    """
    load = np.asarray(load_kg, dtype=float)
    r = np.asarray(reps, dtype=float)
    e1rm = load * (1.0 + r / 30.0)
    return np.where((r >= 1) & (r <= EPLEY_MAX_REPS), e1rm, np.nan)


def session_e1rm(gym_sets: pd.DataFrame, exercise: str) -> pd.DataFrame:
    """Best Epley 1RM per athlete and day for one exercise (athlete_id, date, e1rm_kg)."""
    lifts = gym_sets[gym_sets["exercise"] == exercise]
    if lifts.empty:
        return pd.DataFrame(
            {
                "athlete_id": pd.Series(dtype=str),
                "date": pd.Series(dtype="datetime64[ns]"),
                "e1rm_kg": pd.Series(dtype=float),
            }
        )
    e = lifts.assign(e1rm_kg=estimated_one_rm_epley(lifts["load_kg"], lifts["reps"]))
    return e.groupby(["athlete_id", "date"], as_index=False)["e1rm_kg"].max().dropna()


def block_strength_change(lifts: pd.DataFrame, blocks: pd.DataFrame) -> np.ndarray:
    """Relative strength change over each block from a least-squares line through its sessions.

    For sessions dated in [block_start_date, block_end_date), fit e1rm = a + b * days and return
    ``b * block_days / (a + b * 0)`` - the change from the block's first to its last day relative
    to the fitted start value. Blocks with fewer than 3 sessions give NaN.
    """
    out = np.full(len(blocks), np.nan)
    by_athlete = {a: g.sort_values("date") for a, g in lifts.groupby("athlete_id")}
    for i, row in enumerate(blocks.itertuples(index=False)):
        g = by_athlete.get(row.athlete_id)
        if g is None:
            continue
        m = (g["date"] >= row.block_start_date) & (g["date"] < row.block_end_date)
        y = g.loc[m, "e1rm_kg"].to_numpy(dtype=float)
        if y.size < 3:
            continue
        x = ((g.loc[m, "date"] - row.block_start_date) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        slope, intercept = np.polyfit(x, y, 1)
        span = (row.block_end_date - row.block_start_date) / pd.Timedelta(days=1)
        if intercept > 0:
            out[i] = slope * span / intercept
    return out
