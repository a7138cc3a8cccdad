"""``hsr_excess_since_test``: the mean log ratio of HSR per recorded session since the last sprint
test against the norm before it, with known answers; absent days are missing, not zero load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.features.builder import PanelInputs
from sprintlab.features.grid import DayGrid
from sprintlab.features.load import hsr_excess_since_test, hsr_log_excess


def test_hsr_log_excess_known_answer_with_an_absent_window():
    # trailing 7-day sums given directly: 30 days before the test on day 30 at 500 m over 5 sessions
    # (norm 100 m per session), then 120 m/session, 2 windows without a session (absent), 2 sessions
    # of 90 m and a window with one 200 m session
    week_m = np.r_[np.full(30, 500.0), 600.0, 600.0, 0.0, 0.0, 180.0, 200.0][None, :]
    sessions = np.r_[np.full(30, 5.0), 5.0, 5.0, 0.0, 0.0, 2.0, 1.0][None, :]
    test_days = np.zeros_like(week_m, dtype=bool)
    test_days[0, [0, 30]] = True
    out = hsr_log_excess(week_m, sessions, test_days)
    expected = (2 * np.log(1.2) + np.log(0.9) + np.log(2.0)) / 4  # the absent windows are left out
    assert out[0, -1] == pytest.approx(expected)
    assert out[0, 31] == pytest.approx(np.log(1.2))
    assert out[0, 33] == pytest.approx(np.log(1.2))  # two absent windows change nothing
    assert out[0, 29] == pytest.approx(0.0)  # the first segment against its own expanding mean


def test_hsr_log_excess_is_missing_without_a_session_since_the_test():
    week_m = np.r_[np.full(30, 500.0), 0.0, 0.0][None, :]
    sessions = np.r_[np.full(30, 5.0), 0.0, 0.0][None, :]
    test_days = np.zeros_like(week_m, dtype=bool)
    test_days[0, [0, 30]] = True
    assert np.isnan(hsr_log_excess(week_m, sessions, test_days)[0, 31])


def test_an_absent_week_in_the_block_does_not_count_as_no_load():
    # one athlete, 10 weeks: a pitch session (100 m HSR) and a gym session (no HSR record) every day
    # up to day 35, absent days 36-41, a sprint test on days 0 and 42, then 120 m a day with the
    # athlete absent for the whole week of days 49-55: every recorded session of the block is 1.2 x
    # the per-session norm, so the feature is log(1.2) at every week end of the block
    start = pd.Timestamp("2024-01-01")  # a Monday
    days = [*range(36), *range(42, 49), *range(56, 70)]
    hsr = [100.0 if d < 36 else 120.0 for d in days]
    pitch = pd.DataFrame(
        {"athlete_id": "a", "date": start + pd.to_timedelta(days, unit="D"), "hsr_distance_m": hsr}
    )
    gym = pitch.assign(hsr_distance_m=np.nan)
    grid = DayGrid(np.array(["a"]), start, 70)
    inputs = PanelInputs({"training_load": pd.concat([pitch, gym], ignore_index=True)}, grid, 56)
    test_days = np.zeros((1, 70), dtype=bool)
    test_days[0, [0, 42]] = True
    inputs.__dict__["sprint_test_days"] = test_days  # the cached property, without sprint splits
    out = hsr_excess_since_test(inputs)["hsr_excess_since_test"]
    week_ends = grid.week_end_days
    np.testing.assert_allclose(out[0, week_ends >= 42], np.log(1.2))
    np.testing.assert_allclose(out[0, week_ends < 42], 0.0, atol=1e-12)
