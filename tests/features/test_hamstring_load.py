"""The hamstring model's load features with known answers: this week's high-speed running per
recorded session against the 4 weeks before (``hsr_vs_own_norm``; days without a session are
missing, not zero HSR) and the days since 90 % of the athlete's maximal speed, the sprint tests'
fitted MSS where there is one (``days_since_near_max_speed``)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.features.builder import PanelInputs
from sprintlab.features.grid import DayGrid
from sprintlab.features.load import (
    HSR_NORM_FLOOR_M_PER_SESSION,
    days_since_near_max,
    high_speed_running,
    hsr_ratio_per_session,
    near_max_speed,
)

START = pd.Timestamp("2024-01-01")  # a Monday


def test_hsr_ratio_per_session_known_answers():
    week_m = np.array([[600.0, 600.0, 0.0, 300.0, 300.0, 2460.0]])
    week_sessions = np.array([[5.0, 3.0, 0.0, 2.0, 2.0, 2.0]])
    norm_m = np.array([[2000.0, 2000.0, 2000.0, 0.0, 0.0, 600.0]])
    norm_sessions = np.array([[20.0, 20.0, 20.0, 0.0, 20.0, 20.0]])
    out = hsr_ratio_per_session(week_m, week_sessions, norm_m, norm_sessions)
    # 120 / 100 m per session; 200 / 100 (a short week with the same HSR is not "less"); no session
    # this week; no session in the norm window
    np.testing.assert_allclose(out[0, :2], [1.2, 2.0])
    assert np.isnan(out[0, 2]) and np.isnan(out[0, 3])
    # a norm below the floor (100 m per session) counts as the floor: 20 rehab sessions without HSR,
    # then 150 m per session -> 1.5; 30 m per session (off-season), then 1,230 m -> 12.3, not 41
    assert HSR_NORM_FLOOR_M_PER_SESSION == 100.0
    np.testing.assert_allclose(out[0, 4:], [1.5, 12.3])


def _load_inputs(days: list[int], hsr_m: list[float], n_days: int) -> PanelInputs:
    pitch = pd.DataFrame(
        {"athlete_id": "a", "date": START + pd.to_timedelta(days, unit="D"), "hsr_distance_m": hsr_m}
    )
    gym = pitch.assign(hsr_distance_m=np.nan)  # gym sessions carry no HSR record
    return PanelInputs(
        {"training_load": pd.concat([pitch, gym], ignore_index=True)},
        DayGrid(np.array(["a"]), START, n_days),
        56,
    )


def test_an_absent_week_does_not_inflate_the_next_ratio():
    # 100 m a day for 3 weeks, absent in week 4 (days 21-27), then 100 m a day in week 5 and 150 m
    # in week 6: week 5 is level with the norm (the old 4-week-sum norm read it as 4/3) and week 6 is
    # 1.5 x; the absent week itself has no ratio
    days = [*range(21), *range(28, 42)]
    inputs = _load_inputs(days, [150.0 if d >= 35 else 100.0 for d in days], 42)
    out = high_speed_running(inputs)
    ratio, prev = out["hsr_vs_own_norm"][0], out["hsr_vs_own_norm_prev_week"][0]
    assert np.isnan(ratio[3])
    assert ratio[4] == pytest.approx(1.0)
    assert ratio[5] == pytest.approx(1.5)
    assert prev[5] == pytest.approx(1.0)
    np.testing.assert_allclose(ratio[1:3], 1.0)  # the first weeks against the days recorded so far
    assert out["hsr_week_m"][0, 5] == pytest.approx(7 * 150.0)


def test_days_since_near_max_known_answers():
    top = np.array([[8.0, 7.5, np.nan, 7.3, 7.0, 8.2, 7.0]])
    # without a sprint test: the best session so far (8.0 on day 0, then 8.2): day 1 (7.5 >= 7.2)
    # and day 3 (7.3) count as near-maximal, day 5 (8.2) is a new best
    np.testing.assert_array_equal(
        days_since_near_max(top, np.full_like(top, np.nan)), [[0, 0, 1, 0, 1, 0, 1]]
    )
    # a sprint test from day 2 on with MSS 9.0 m/s: 90 % is 8.1 m/s; before it the best so far
    mss = np.array([[np.nan, np.nan, 9.0, 9.0, 9.0, 9.0, 9.0]])
    np.testing.assert_array_equal(days_since_near_max(top, mss), [[0, 0, 1, 2, 3, 0, 1]])
    # a session faster than the test's MSS raises the reference
    faster = np.array([[7.0, 9.5, 8.2, 8.6, np.nan, np.nan, np.nan]])
    np.testing.assert_array_equal(days_since_near_max(faster, np.full((1, 7), 9.0))[0, :4], [np.nan, 0, 1, 0])


def test_near_max_speed_reads_the_sprint_tests_mss():
    # a session at 7.8 m/s every day; sprint tests (MSS 9.0 m/s: 90 % = 8.1) from day 7 on, one
    # session at 8.5 m/s on day 10: 0 days until the test, then days since day 10
    days = list(range(21))
    load = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": START + pd.to_timedelta(days, unit="D"),
            "max_speed_m_s": [8.5 if d == 10 else 7.8 for d in days],
        }
    )
    grid = DayGrid(np.array(["a"]), START, 21)
    tables = {"training_load": load, "sprint_splits": pd.DataFrame({"athlete_id": ["a"]})}
    inputs = PanelInputs(tables, grid, 56)
    inputs.__dict__["sprint_sessions"] = pd.DataFrame(
        {"athlete_id": ["a"], "date": [START + pd.Timedelta(days=7)], "mss_m_s": [9.0]}
    )
    np.testing.assert_array_equal(near_max_speed(inputs)["days_since_near_max_speed"][0], [0, 3, 10])
    without_tests = PanelInputs({"training_load": load}, grid, 56)
    np.testing.assert_array_equal(near_max_speed(without_tests)["days_since_near_max_speed"][0], [0, 0, 0])
