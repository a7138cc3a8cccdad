"""Strength: Epley estimates from gym sets and the strength-family feature builders."""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from sprintlab.features.builder import Builder, Features, Need, PanelInputs
from sprintlab.features.grid import carry_forward, forward_fill, lagged, rolling_mean

EPLEY_MAX_REPS = 10
E1RM_SMOOTHING_DAYS = 14  # the e1RM features are 14-day means of the session bests
STRENGTH_CHANGE_DAYS = 56


def estimated_one_rm_epley(load_kg: pd.Series | np.ndarray, reps: pd.Series | np.ndarray) -> np.ndarray:
    """Epley (1985) estimated one-repetition maximum: 1RM = load x (1 + reps / 30).

    Valid for sets of 1-10 repetitions taken close to failure (LeSuer et al. 1997 report errors
    under ~5 % in that range); sets above 10 reps give NaN rather than an extrapolation.
    """
    load = np.asarray(load_kg, dtype=float)
    r = np.asarray(reps, dtype=float)
    e1rm = load * (1.0 + r / 30.0)
    return np.where((r >= 1) & (r <= EPLEY_MAX_REPS), e1rm, np.nan)


def block_strength_change(lifts: pd.DataFrame, blocks: pd.DataFrame) -> np.ndarray:
    """Relative strength change over each block from a least-squares line through its sessions.

    For sessions dated in [block_start_date, block_end_date), fit e1rm = a + b * days and return
    ``b * block_days / (a + b * 0)`` - the change from the block's first to its last day relative
    to the fitted start value. Blocks with fewer than 3 sessions give NaN. Each athlete's sessions
    are sorted once; a block's sessions are the contiguous run between its dates (``searchsorted``).
    """
    out = np.full(len(blocks), np.nan)
    day_ns = pd.Timedelta(days=1).value
    by_athlete = {}
    for a, g in lifts[lifts["date"].notna()].groupby("athlete_id"):
        g = g.sort_values("date")
        by_athlete[a] = (g["date"].to_numpy("datetime64[ns]").view("i8"), g["e1rm_kg"].to_numpy(dtype=float))
    blocks_start = blocks["block_start_date"].to_numpy("datetime64[ns]")
    blocks_end = blocks["block_end_date"].to_numpy("datetime64[ns]")
    starts, ends = blocks_start.view("i8"), blocks_end.view("i8")
    for i, athlete in enumerate(blocks["athlete_id"].tolist()):
        if athlete not in by_athlete or np.isnat(blocks_start[i]) or np.isnat(blocks_end[i]):
            continue
        dates_ns, e1rm = by_athlete[athlete]
        lo, hi = np.searchsorted(dates_ns, [starts[i], ends[i]], side="left")
        if hi - lo < 3:
            continue
        x = (dates_ns[lo:hi] - starts[i]) / day_ns
        slope, intercept = np.polyfit(x, e1rm[lo:hi], 1)
        if intercept > 0:
            out[i] = slope * ((ends[i] - starts[i]) / day_ns) / intercept
    return out


def _daily_e1rm_kg(inputs: PanelInputs, exercise: str) -> np.ndarray:
    """Daily estimated 1RM of ``exercise``: the 14-day mean of the session bests (each day's
    best Epley estimate), carried forward."""

    def compute() -> np.ndarray:
        gym_sets = inputs.tables["gym_sets"]
        lifts = gym_sets[gym_sets["exercise"] == exercise]
        bests = inputs.grid.scatter(lifts, estimated_one_rm_epley(lifts["load_kg"], lifts["reps"]), "max")
        return carry_forward(rolling_mean(bests, E1RM_SMOOTHING_DAYS))

    return inputs.shared(f"e1rm/{exercise}", compute)


def squat(inputs: PanelInputs) -> Features:
    """Back-squat e1RM (kg), relative to body mass (kg/kg) and its change over 8 weeks
    100 x (e1RM / e1RM 56 days earlier - 1) (%)."""
    squat_kg = _daily_e1rm_kg(inputs, "back_squat")
    weekly_kg = inputs.grid.at_week_ends(squat_kg)
    return {
        "squat_e1rm_kg": weekly_kg,
        "squat_e1rm_rel": weekly_kg / inputs.body_mass_kg[:, None],
        "strength_change_8w_pct": inputs.grid.at_week_ends(
            100 * (squat_kg / lagged(squat_kg, STRENGTH_CHANGE_DAYS) - 1)
        ),
    }


def strength_since_test(inputs: PanelInputs) -> Features:
    """Back-squat e1RM change since the last sprint test: 100 x (e1RM / e1RM on the test day - 1) (%)."""
    squat_kg = _daily_e1rm_kg(inputs, "back_squat")
    at_test = carry_forward(np.where(inputs.sprint_test_days, squat_kg, np.nan))
    return {"strength_change_since_test_pct": inputs.grid.at_week_ends(100 * (squat_kg / at_test - 1))}


def deadlift(inputs: PanelInputs) -> Features:
    """Trap-bar deadlift e1RM relative to body mass (kg/kg)."""
    deadlift_kg = _daily_e1rm_kg(inputs, "trap_bar_deadlift")
    return {"deadlift_e1rm_rel": inputs.grid.at_week_ends(deadlift_kg) / inputs.body_mass_kg[:, None]}


def nordic(inputs: PanelInputs) -> Features:
    """Latest Nordic eccentric test: force (mean of the legs, N), per kg body mass, left-right
    asymmetry 100 x |left - right| / mean(left, right) (%) and the test's age (days)."""
    tests = inputs.tables["strength_tests"]
    nordics = tests[tests["test"] == "nordic_eccentric"]
    grid = inputs.grid
    force_n, age_days = forward_fill(grid.scatter(nordics, "value", "mean"))
    left_n = grid.latest_at_week_ends(grid.scatter(nordics[nordics["side"] == "left"], "value", "mean"))
    right_n = grid.latest_at_week_ends(grid.scatter(nordics[nordics["side"] == "right"], "value", "mean"))
    weekly_force_n = grid.at_week_ends(force_n)
    return {
        "nordic_force_n": weekly_force_n,
        "nordic_force_rel_n_kg": weekly_force_n / inputs.body_mass_kg[:, None],
        "nordic_asymmetry_pct": 100 * np.abs(left_n - right_n) / ((left_n + right_n) / 2),
        "nordic_test_age_days": grid.at_week_ends(age_days),
    }


def latest_test_result(inputs: PanelInputs, test: str, feature: str) -> Features:
    """The latest result of one ``strength_tests`` test (mean of the day's results), carried forward."""
    tests = inputs.tables["strength_tests"]
    return {feature: inputs.latest(tests[tests["test"] == test], "value")}


BUILDERS = (
    Builder(("squat_e1rm_kg", "squat_e1rm_rel", "strength_change_8w_pct"), squat, needs=(Need("gym_sets"),)),
    Builder(
        ("strength_change_since_test_pct",),
        strength_since_test,
        needs=(Need("gym_sets"), Need("sprint_splits")),
    ),
    Builder(("deadlift_e1rm_rel",), deadlift, needs=(Need("gym_sets", "exercise", "trap_bar_deadlift"),)),
    Builder(
        ("nordic_force_n", "nordic_force_rel_n_kg", "nordic_asymmetry_pct", "nordic_test_age_days"),
        nordic,
        needs=(Need("strength_tests", "test", "nordic_eccentric"),),
    ),
    *(
        Builder(
            (feature,),
            partial(latest_test_result, test=test, feature=feature),
            needs=(Need("strength_tests", "test", test),),
        )
        for test, feature in (("imtp", "imtp_peak_force_n"), ("cmj_height", "cmj_height_cm"))
    ),
)
