"""Block strength change (:func:`sprintlab.features.strength.block_strength_change`): known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.features.strength import block_strength_change


def _lifts(athlete: str, days: list[int], e1rm: list[float]) -> pd.DataFrame:
    dates = pd.Timestamp("2026-01-05") + pd.to_timedelta(days, unit="D")
    return pd.DataFrame({"athlete_id": athlete, "date": dates, "e1rm_kg": e1rm})


def test_a_line_through_the_blocks_sessions_gives_slope_times_days_over_start():
    # e1rm = 100 + 0.5 x day on days 0, 7, 14, 21: over a 28-day block, +14 kg on 100 kg
    lifts = pd.concat(
        [
            _lifts(
                "a", [0, 7, 14, 21, 28, 35], [100, 103.5, 107, 110.5, 0.0, 0.0]
            ),  # day 28 is the next block
            _lifts("b", [3, 10], [90, 95]),  # two sessions only
        ],
        ignore_index=True,
    ).sample(frac=1.0, random_state=0)  # order of the rows does not matter
    start = pd.Timestamp("2026-01-05")
    blocks = pd.DataFrame(
        {
            "athlete_id": ["a", "b", "c", "a"],
            "block_start_date": [start, start, start, pd.NaT],
            "block_end_date": [start + pd.Timedelta(days=28)] * 3 + [start + pd.Timedelta(days=28)],
        }
    )
    out = block_strength_change(lifts, blocks)
    assert out[0] == pytest.approx(0.5 * 28 / 100, rel=1e-12)
    assert np.isnan(out[1:]).all()  # fewer than 3 sessions, no lifts, no start date
