"""Effort-equivalent lever steps and the benchmark's decision-time rows: known answers."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from benchmarks.bench_levers import KEYS, block_start_rows, with_planned_strength

from sprintlab import domain
from sprintlab.levers import catalogue_levers, effort_equivalent_levers, lever_steps, within_athlete_sd


def test_within_athlete_sd_pools_the_athletes_deviations():
    units = pd.DataFrame(
        {
            "athlete_id": ["A", "A", "A", "B", "B", "C"],
            "x": [1.0, 2.0, 3.0, 10.0, 14.0, 100.0],
            "flat": [1.0] * 6,
        }
    )
    # A: deviations -1, 0, 1 (2 dof); B: -2, 2 (1 dof); C alone adds nothing
    assert within_athlete_sd(units, ["x", "flat", "absent"]) == {"x": pytest.approx(math.sqrt(10 / 3))}


def test_effort_equivalent_levers_take_one_step_in_the_catalogues_direction():
    levers = catalogue_levers()
    steps = {"strength_change_since_test_pct": 2.5, "first_step_contact_ms": 6.0, "nordic_force_n": 16.0}
    moved = {lv.name: lv for lv in effort_equivalent_levers(levers, steps)}
    assert moved["strength_change_since_test_pct"].changes == {"strength_change_since_test_pct": 2.5}
    assert moved["first_step_contact_ms"].changes == {"first_step_contact_ms": -6.0}  # shorter contacts
    assert moved["more_strength"].changes == {"strength_change_since_test_pct": 2.5, "nordic_force_n": 16.0}
    assert moved["more_strength"].bundle and moved["more_strength"].label.startswith("More strength")
    # without a step the catalogue's change stays
    assert moved["sleep_hours_7d"].changes == {"sleep_hours_7d": 0.5}
    assert all(lv.family not in domain.NOT_TRAINABLE_FAMILIES for lv in moved.values())


def _day(d: str) -> pd.Timestamp:
    return pd.Timestamp(d)


def test_decision_time_rows_are_the_opening_week_with_the_blocks_strength_plan():
    end_units = pd.DataFrame(
        {
            "athlete_id": ["A"],
            "block_start_date": [_day("2025-01-08")],
            "block_end_date": [_day("2025-02-19")],
            "strength_change_since_test_pct": [7.0],
            "squat_e1rm_rel": [2.0],
            "control_score_8w": [3.5],
        }
    )
    panel = pd.DataFrame(
        {
            "athlete_id": ["A", "A", "A"],
            "week_end": [_day("2025-01-05"), _day("2025-01-12"), _day("2025-02-16")],
            "strength_change_since_test_pct": [3.0, 0.2, 7.0],
            "squat_e1rm_rel": [1.9, 1.87, 2.0],
            "control_score_8w": [2.0, 2.5, 3.5],
        }
    )
    start = block_start_rows(end_units, panel)
    assert start["week_end"].tolist() == [_day("2025-01-12")]  # first week ending on/after the test
    assert start["control_score_8w"].tolist() == [2.5]
    planned = with_planned_strength(start, end_units)
    assert planned[KEYS].equals(end_units[KEYS])
    assert planned["strength_change_since_test_pct"].tolist() == [7.0]  # the block's plan
    assert planned["control_score_8w"].tolist() == [2.5]  # known at the opening test


def test_effort_steps_are_worded_for_the_coach_from_the_catalogue():
    """Known answers: each step in the catalogue's display unit (h -> min, m -> cm, ratio -> %,
    a log ratio as its percent change 100 (1 - exp(-0.172)) = 15.8 %)."""
    steps = {
        "sleep_hours_7d": 0.65,
        "nordic_force_n": 16.76,
        "strength_change_since_test_pct": 3.56,
        "touchdown_distance_m": 0.0157,
        "first_step_contact_ms": 6.29,
        "hsr_vs_own_norm": 0.357,
        "hsr_excess_since_test": 0.172,
        "pelvic_control_score": 0.44,
        "trunk_control_score": 0.46,
    }
    moved = {lv.name: lv for lv in effort_equivalent_levers(catalogue_levers(), steps)}
    assert moved["sleep_hours_7d"].label == "+39 min sleep a night"
    assert moved["better_sleep"].label == "+39 min sleep a night"  # a one-member bundle: its member's words
    assert moved["nordic_force_n"].label == "+17 N Nordic force"
    assert moved["touchdown_distance_m"].label == "touchdown 1.6 cm closer under the body"
    assert moved["first_step_contact_ms"].label == "6 ms shorter first-step contacts"
    assert moved["hsr_vs_own_norm"].label == "this week's high-speed running 36% of a normal week lower"
    assert (
        moved["hsr_excess_since_test"].label == "about 16% less high-speed running for the rest of the block"
    )
    assert (
        moved["better_control"].label
        == "Better control (+0.4 pelvic control points and +0.5 trunk control points)"
    )
    assert (
        moved["more_strength"].label
        == "More strength (+3.6% more squat strength this block and +17 N Nordic force)"
    )
    # a feature without a step keeps the catalogue's change and words
    assert moved["days_since_near_max_speed"].label == "one near-maximal sprint exposure this week"


def test_lever_steps_are_the_within_athlete_sd_of_every_moved_feature():
    units = pd.DataFrame(
        {
            "athlete_id": ["A", "A", "B", "B"],
            "sleep_hours_7d": [7.0, 8.0, 6.0, 6.5],
            "nordic_force_n": [300.0, 310.0, 280.0, 280.0],
            "squat_e1rm_kg": [100.0, 120.0, 90.0, 95.0],  # not moved by a lever: no step
        }
    )
    steps = lever_steps(units)
    # sleep: deviations +-0.5 (A) and +-0.25 (B), 2 dof -> sqrt((0.5 + 0.125) / 2)
    assert steps == {
        "sleep_hours_7d": pytest.approx(math.sqrt(0.625 / 2)),
        "nordic_force_n": pytest.approx(math.sqrt(50 / 2)),
    }
