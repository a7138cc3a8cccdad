"""Targets: labels with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.targets import hamstring_labels, smallest_worthwhile_change, transfer_blocks


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
    b = transfer_blocks(splits, gym).set_index("athlete_id")
    assert b.loc["a", "strength_gain"] == pytest.approx(
        0.10 * (len(gym_days) - 1) / len(gym_days) * 42 / 39, rel=0.05
    )
    assert b["is_unit"].all()
    assert b.loc["a", "transfer"] == 1 and b.loc["b", "transfer"] == 0
