"""A small valid data folder in the contract (hand-made, independent of the simulator)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

TODAY = "2024-06-30"

ATHLETES = pd.DataFrame(
    {
        "athlete_id": ["A01", "A02", "A03", "A04"],
        "sex": ["F", "M", "M", "F"],
        "birth_date": ["2000-01-15", "1998-05-02", "2001-11-30", "1999-07-07"],
        "height_cm": ["168.5", "181.0", "176.2", "171.0"],
        "body_mass_kg": ["61.2", "79.5", "72.0", "64.3"],
        "position": ["midfield", "forward", "", "defence"],
    }
)


def valid_contract_tables() -> dict[str, pd.DataFrame]:
    days = ["2024-03-04", "2024-03-06", "2024-03-11"]
    gym = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": d,
                "exercise": ex,
                "load_kg": str(60 + 5 * k),
                "reps": "5",
                "sets": "3",
                "rpe": "7",
            }
            for k, a in enumerate(ATHLETES["athlete_id"])
            for d in days
            for ex in ("back_squat", "hip_thrust")
        ]
    )
    strength = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": "2024-03-01",
                "test": "nordic_eccentric",
                "side": s,
                "value": str(300 + k),
                "unit": "N",
            }
            for k, a in enumerate(ATHLETES["athlete_id"])
            for s in ("left", "right")
        ]
    )
    splits = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": "2024-03-02",
                "trial": str(t),
                "distance_m": str(dist),
                "time_s": str(tm),
                "start_type": "standing",
                "timing_system": "photocell",
            }
            for a in ATHLETES["athlete_id"]
            for t in (1, 2)
            for dist, tm in ((5, 1.1 + 0.01 * t), (10, 1.9 + 0.01 * t))
        ]
    )
    steps = pd.DataFrame(
        [
            {
                "athlete_id": "A01",
                "date": "2024-03-02",
                "trial": "1",
                "step": str(s),
                "side": "left" if s % 2 else "right",
                "contact_time_ms": str(200 - 10 * s),
                "flight_time_ms": str(40 + 5 * s),
                "step_length_m": str(0.9 + 0.1 * s),
                "touchdown_distance_m": "",
            }
            for s in (1, 2, 3, 4)
        ]
    )
    screens = pd.DataFrame(
        {
            "athlete_id": ["A01", "A02"],
            "date": ["2024-02-20", "2024-02-20"],
            "pelvic_control_score": ["3", "4"],
            "trunk_control_score": ["4", "2.5"],
            "notes": ["", "weak left side"],
        }
    )
    wellness = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": d,
                "sleep_hours": "7.5",
                "sleep_quality": "6",
                "fatigue": "4",
                "soreness": "3",
                "stress": "2",
                "mood": "7",
                "hamstring_tightness": "" if a == "A03" else "2",
            }
            for a in ATHLETES["athlete_id"]
            for d in days
        ]
    )
    load = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": d,
                "session_type": "pitch",
                "duration_min": "75",
                "rpe": "6",
                "total_distance_m": "6200",
                "hsr_distance_m": "480",
                "sprint_distance_m": "120",
                "max_speed_m_s": "8.4",
            }
            for a in ATHLETES["athlete_id"]
            for d in days
        ]
    )
    injuries = pd.DataFrame(
        {
            "athlete_id": ["A02"],
            "onset_date": ["2024-03-12"],
            "body_part": ["hamstring"],
            "side": ["right"],
            "days_lost": ["14"],
            "mechanism": ["sprinting"],
        }
    )
    tracking = pd.DataFrame(
        [
            {
                "athlete_id": a,
                "date": "2024-03-06",
                "session_id": "pitch",
                "time_s": f"{0.1 * k:.1f}",
                "velocity_m_s": "" if k == 3 else f"{1.0 + 0.4 * k:.2f}",
                "acceleration_m_s2": "" if k == 3 else "4.0",
                "x_m": f"{10 + 0.2 * k:.2f}",
                "y_m": "20.0",
            }
            for a in ("A01", "A02")
            for k in range(8)
        ]
    )
    return {
        "athletes": ATHLETES.copy(),
        "gym_sets": gym,
        "strength_tests": strength,
        "sprint_splits": splits,
        "sprint_steps": steps,
        "movement_screens": screens,
        "wellness": wellness,
        "training_load": load,
        "injuries": injuries,
        "tracking_samples": tracking,
    }


@pytest.fixture
def valid_tables() -> dict[str, pd.DataFrame]:
    """Contract tables as strings, as a club would export them (fresh copy per test)."""
    return valid_contract_tables()


def write_folder(folder: Path, tables: dict[str, pd.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    return folder


@pytest.fixture
def valid_dir(tmp_path, valid_tables) -> Path:
    return write_folder(tmp_path / "in", valid_tables)
