"""Targets: labels with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.targets import (
    hamstring_labels,
    regression_to_own_level,
    smallest_worthwhile_change,
    transfer_blocks,
)


def test_swc_is_a_fifth_of_between_athlete_sd_of_first_tests():
    best = pd.DataFrame(
        {
            "athlete_id": ["a", "a", "b", "b"],
            "date": pd.to_datetime(["2025-02-01", "2025-01-01", "2025-01-01", "2025-02-01"]),
            "t10_best_s": [1.90, 1.70, 1.80, 1.50],
        }
    )
    # first tests 1.70 (a, 1 Jan) and 1.80 (b) -> SD 0.0707107; the later tests do not enter
    assert smallest_worthwhile_change(best) == pytest.approx(0.2 * 0.0707107, rel=1e-5)


def _four_test_splits(shift_s: float) -> pd.DataFrame:
    """Two athletes, four tests six weeks apart, two trials each; tests 3 and 4 (the "test period")
    slower by ``shift_s``."""
    dates = pd.date_range("2025-01-07", periods=4, freq="42D")
    rows = []
    for aid, base in {"a": 1.80, "b": 1.90, "c": 1.70}.items():
        for j, d in enumerate(dates):
            for trial in (1, 2):
                t = base - 0.01 * j + (shift_s if j >= 2 else 0.0) + 0.004 * trial * (j + 1)
                rows.append((aid, d, trial, 10.0, t, "standing", "photocell"))
    return pd.DataFrame(
        rows, columns=["athlete_id", "date", "trial", "distance_m", "time_s", "start_type", "timing_system"]
    )


def _flat_gym() -> pd.DataFrame:
    days = pd.date_range("2025-01-07", periods=60, freq="3D")
    return pd.DataFrame(
        [(aid, d, "back_squat", 100.0, 5, 3, 8.0) for aid in ("a", "b", "c") for d in days],
        columns=["athlete_id", "date", "exercise", "load_kg", "reps", "sets", "rpe"],
    )


@pytest.mark.parametrize("method", ["between_sd", "typical_error"])
def test_swc_ignores_test_period_data(method):
    """Moving every later test (the test period) by 0.3 s changes the times and labels, never the SWC
    of any block: the SWC is fixed from baseline data (between_sd) or the tests up to the block's
    opening test (typical_error)."""
    base = transfer_blocks(_four_test_splits(0.0), _flat_gym(), swc_method=method)
    moved = transfer_blocks(_four_test_splits(0.3), _flat_gym(), swc_method=method)
    assert not np.allclose(base["t10_end_s"], moved["t10_end_s"])
    np.testing.assert_allclose(base["swc_s"], moved["swc_s"])
    if method == "between_sd":
        # first-test bests 1.804, 1.904, 1.704 -> between SD 0.1
        assert base["swc_s"].iloc[0] == pytest.approx(0.2 * 0.1)
    else:
        # trial SD at test j is 0.004 (j+1) / sqrt(2): the first block of "a" sees test 1 only
        assert base["swc_s"].iloc[0] == pytest.approx(0.004 / np.sqrt(2))
        assert base["swc_s"].iloc[1] == pytest.approx(0.006 / np.sqrt(2))


def test_hamstring_label_window_and_exclusions():
    weeks = pd.DataFrame(
        {"athlete_id": ["a"] * 8, "week_end": pd.date_range("2025-01-05", periods=8, freq="7D")}
    )
    inj = pd.DataFrame(
        {
            "athlete_id": ["a"],
            "onset_date": [pd.Timestamp("2025-02-05")],
            "body_part": ["hamstring"],
            "side": ["left"],
            "days_lost": [10],
            "mechanism": ["sprinting"],
        }
    )
    lab = hamstring_labels(weeks, inj, horizon_days=28).set_index("week_end")
    # onset 5 Feb: weeks ending 12 Jan (24 d before) .. 2 Feb (3 d before) are positive; 5 Jan (31 d) is not
    assert lab.loc["2025-01-05", "hamstring_injury"] == 0
    assert lab.loc[pd.Timestamp("2025-01-12") : pd.Timestamp("2025-02-02"), "hamstring_injury"].eq(1).all()
    # injured on the week end of 9 Feb (onset 5 Feb, out 10 days) -> excluded flag
    assert lab.loc["2025-02-09", "injured"] and not lab.loc["2025-02-16", "injured"]
    assert lab.loc["2025-02-09", "hamstring_injury"] == 0
    assert not lab.loc["2025-02-23", "label_complete"]


def test_transfer_blocks_known_answer():
    dates = pd.to_datetime(["2025-01-07", "2025-02-18"])
    rows = []
    for aid, (t0, t1) in {"a": (1.80, 1.70), "b": (1.90, 1.91)}.items():
        for d, t in zip(dates, (t0, t1), strict=True):
            for trial in (1, 2):
                rows.append((aid, d, trial, 10.0, t + 0.01 * (trial - 1), "standing", "photocell"))
    splits = pd.DataFrame(
        rows, columns=["athlete_id", "date", "trial", "distance_m", "time_s", "start_type", "timing_system"]
    )
    gym_days = pd.date_range("2025-01-07", "2025-02-17", freq="3D")
    gym = pd.DataFrame(
        [
            (aid, d, "back_squat", 100 * (1 + 0.10 * i / len(gym_days)) / (1 + 5 / 30), 5, 3, 8.0)
            for aid in ("a", "b")
            for i, d in enumerate(gym_days)
        ],
        columns=["athlete_id", "date", "exercise", "load_kg", "reps", "sets", "rpe"],
    )
    b = transfer_blocks(splits, gym, adjust_for_own_level=False).set_index("athlete_id")
    assert b.loc["a", "strength_gain"] == pytest.approx(
        0.10 * (len(gym_days) - 1) / len(gym_days) * 42 / 39, rel=0.05
    )
    assert b["is_unit"].all()
    assert b.loc["a", "transfer"] == 1 and b.loc["b", "transfer"] == 0


def _regressing_splits(b_true: float, n_tests: int, later_shift_s: float = 0.0) -> pd.DataFrame:
    """Eight athletes whose every next test is ``next = O - b_true (O - L) - 0.005`` exactly (``O`` the
    opening test, ``L`` the mean of the earlier tests), two random opening tests each; tests from the
    sixth on are moved by ``later_shift_s`` (the "test period")."""
    rng = np.random.default_rng(0)
    dates = pd.date_range("2025-01-07", periods=n_tests, freq="42D")
    rows = []
    for i in range(8):
        t = list(1.75 + rng.normal(0, 0.03, 2))
        while len(t) < n_tests:
            own = float(np.mean(t[:-1]))
            t.append(t[-1] - b_true * (t[-1] - own) - 0.005)
        for j, (d, tj) in enumerate(zip(dates, t, strict=True)):
            shift = later_shift_s * (j >= 5) * (1 + 0.5 * i)
            rows.append((f"a{i}", d, 1, 10.0, tj + shift, "standing", "photocell"))
    return pd.DataFrame(
        rows, columns=["athlete_id", "date", "trial", "distance_m", "time_s", "start_type", "timing_system"]
    )


def _rising_gym(athletes: int) -> pd.DataFrame:
    days = pd.date_range("2025-01-07", periods=120, freq="3D")
    return pd.DataFrame(
        [
            (f"a{i}", d, "back_squat", 100.0 + 0.5 * k, 5, 3, 8.0)
            for i in range(athletes)
            for k, d in enumerate(days)
        ],
        columns=["athlete_id", "date", "exercise", "load_kg", "reps", "sets", "rpe"],
    )


def test_regression_to_own_level_recovers_the_slope_and_adjusts_the_label():
    """Known answer: every next test regresses by exactly half the opening test's deviation from the
    athlete's own level, so b = 0.5, the adjusted change is the constant drift -0.005 s for every
    block with an own level, and the label is "faster than expected from own level by > SWC"."""
    blocks = transfer_blocks(_regressing_splits(0.5, 5), _rising_gym(8), baseline_tests=4)
    assert blocks["own_level_slope"].iloc[0] == pytest.approx(0.5, abs=1e-9)
    has_own = blocks["own_level_s"].notna()
    assert (blocks.loc[~has_own, "n_prior_tests"] == 0).all() and not blocks.loc[~has_own, "is_unit"].any()
    np.testing.assert_allclose(blocks.loc[has_own, "t10_change_adjusted_s"], -0.005, atol=1e-9)
    swc = blocks["swc_s"].iloc[0]
    assert blocks.loc[has_own, "transfer"].eq(int(0.005 > swc)).all()
    raw = transfer_blocks(_regressing_splits(0.5, 5), _rising_gym(8), adjust_for_own_level=False)
    assert (raw["own_level_slope"] == 0).all()
    np.testing.assert_allclose(raw["t10_change_adjusted_s"], raw["t10_change_s"])


def test_regression_to_own_level_ignores_blocks_after_the_baseline_window():
    """b is fixed from each athlete's first ``baseline_tests`` tests: moving the later tests (the test
    period) changes their labels' inputs but not b; too few baseline blocks give b = 0."""
    base = transfer_blocks(_regressing_splits(0.5, 8), _rising_gym(8), baseline_tests=4)
    moved = transfer_blocks(_regressing_splits(0.5, 8, later_shift_s=0.2), _rising_gym(8), baseline_tests=4)
    assert not np.allclose(base["t10_end_s"], moved["t10_end_s"])
    assert moved["own_level_slope"].iloc[0] == base["own_level_slope"].iloc[0] == pytest.approx(0.5)
    few = base[base["athlete_id"].isin(["a0", "a1"])]
    assert regression_to_own_level(few, baseline_tests=4) == 0.0
