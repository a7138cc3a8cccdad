"""First-step kinematics of a sprint session, with known answers."""

from __future__ import annotations

import pandas as pd
import pytest

from sprintlab.features.sprint_sessions import first_step_kinematics


def test_first_step_kinematics_average_steps_one_to_four():
    steps = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": pd.Timestamp("2025-01-07"),
            "step": [1, 2, 3, 4, 5],
            "side": ["left", "right", "left", "right", "left"],
            "contact_time_ms": [200.0, 180.0, 160.0, 140.0, 100.0],
            "flight_time_ms": [50.0, 60.0, 70.0, 80.0, 120.0],
            "step_length_m": [1.0, 1.2, 1.4, 1.6, 2.0],
            "touchdown_distance_m": [0.30, 0.28, 0.26, 0.24, 0.20],
        }
    )
    row = first_step_kinematics(steps).iloc[0]
    assert row["first_step_contact_ms"] == pytest.approx(170.0)
    assert row["step_length_m"] == pytest.approx(1.3)
    assert row["step_frequency_hz"] == pytest.approx(1000.0 / (170.0 + 65.0))
    assert row["touchdown_distance_m"] == pytest.approx(0.27)
    # left 180 ms, right 160 ms: 100 x 20 / 170
    assert row["contact_asymmetry_pct"] == pytest.approx(100 * 20 / 170)


def test_one_sided_steps_give_no_asymmetry():
    steps = pd.DataFrame(
        {
            "athlete_id": "a",
            "date": pd.Timestamp("2025-01-07"),
            "step": [1, 3],
            "side": ["left", "left"],
            "contact_time_ms": [200.0, 160.0],
            "flight_time_ms": [50.0, 70.0],
            "step_length_m": [1.0, 1.4],
        }
    )
    out = first_step_kinematics(steps)
    assert "touchdown_distance_m" not in out and out["contact_asymmetry_pct"].isna().all()
