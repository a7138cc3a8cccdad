"""Dense athlete x day helpers: long-term norms, lags and week-end samples with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sprintlab.features.grid import DayGrid, baseline_before, lagged, long_term_norm, segment_mean


def test_baseline_before_uses_only_days_before_the_running_segment():
    # 40 days at 8 h, then a block starting on day 40 at 6 h: the norm stays 8 h inside the block
    x = np.r_[np.full(40, 8.0), np.full(20, 6.0)][None, :]
    starts = np.zeros_like(x, dtype=bool)
    starts[0, [0, 40]] = True
    norm = baseline_before(x, starts, min_days=28)
    np.testing.assert_allclose(norm[0, 40:], 8.0)
    # before 28 days of history precede a start, the expanding mean to date is used instead
    np.testing.assert_allclose(norm[0, :40], 8.0)
    late = np.zeros_like(starts)
    late[0, [0, 20]] = True  # only 20 days before the second start: fall back to the mean to date
    np.testing.assert_allclose(baseline_before(x, late, min_days=28)[0, 45], (40 * 8 + 6 * 6) / 46)


def test_long_term_norm_excludes_the_recent_window():
    x = np.r_[np.full(35, 3.0), np.full(7, 7.0)][None, :]
    norm = long_term_norm(x, exclude_last_days=7, min_days=28)
    assert norm[0, -1] == 3.0  # the last week's 7s are compared against the earlier norm
    assert norm[0, 10] == 3.0  # too little history: expanding mean to date


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(30, 80))
def test_norms_are_causal(seed, cut):
    rng = np.random.default_rng(seed)
    x = rng.normal(7, 1, (2, 90))
    x[rng.random(x.shape) < 0.2] = np.nan
    starts = rng.random(x.shape) < 0.05
    y = x.copy()
    y[:, cut:] = rng.normal(0, 5, (2, 90 - cut))  # rewrite the future
    for f in (lambda a: baseline_before(a, starts), lambda a: long_term_norm(a)):
        np.testing.assert_array_equal(f(x)[:, :cut], f(y)[:, :cut])


def test_segment_mean_since_last_test_known_answer():
    x = np.array([[1.0, 2.0, 3.0, np.nan, 5.0, 6.0]])
    starts = np.array([[False, True, False, False, True, False]])
    np.testing.assert_allclose(segment_mean(x, starts), [[np.nan, 2.0, 2.5, 2.5, 5.0, 5.5]])


def test_lagged_gives_the_value_days_earlier():
    x = np.arange(5.0)[None, :]
    np.testing.assert_array_equal(lagged(x, 2), [[np.nan, np.nan, 0.0, 1.0, 2.0]])
    assert np.isnan(lagged(x, 9)).all()  # a window shorter than the lag has no earlier values


def test_week_ends_are_the_sundays_of_the_window():
    grid = DayGrid(np.array(["a"]), pd.Timestamp("2025-01-06"), 21)  # a Monday, three weeks
    assert list(grid.week_end_dates.day_name()) == ["Sunday"] * 3
    daily = np.arange(21.0)[None, :]
    np.testing.assert_array_equal(grid.at_week_ends(daily), [[6.0, 13.0, 20.0]])
