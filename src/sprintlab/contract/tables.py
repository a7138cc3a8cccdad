"""The sprintlab data contract: which tables a data folder holds and what each column means.

This module is the single source for table names, column names, types, units and plausible
ranges. The pandera schemas (:mod:`sprintlab.contract.schemas`), the validator
(:mod:`sprintlab.contract.validate`), the simulator and ``docs/data-contract.md`` all derive from
it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ColumnKind = Literal["str", "int", "float", "date", "category"]


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a contract table.

    ``min_value``/``max_value`` are inclusive physiological or logical bounds: a value outside
    them is rejected as impossible (not clipped). ``typical`` is the range a column's *median*
    falls in for a squad; a median outside it that a unit slip would explain rejects the column
    ("looks like seconds"). ``age_years`` (dates of birth): the plausible age on the reference day.
    Every date must also fall on or after :data:`EARLIEST_DATE`.
    """

    name: str
    kind: ColumnKind
    description: str
    unit: str | None = None
    required: bool = True
    nullable: bool = False
    min_value: float | None = None
    max_value: float | None = None
    allowed: tuple[str, ...] | None = None
    typical: tuple[float, float] | None = None
    age_years: tuple[float, float] | None = None


#: no date in a contract table is earlier than this (a year before 1900 is a typo or a unit slip)
EARLIEST_DATE = "1900-01-01"


@dataclass(frozen=True)
class TableSpec:
    """One contract table: its columns, its primary key and whether the table itself is optional."""

    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...]
    required: bool = True
    date_column: str | None = "date"
    has_athlete: bool = True
    extra_notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def column(self, name: str) -> ColumnSpec:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}")


def _athlete() -> ColumnSpec:
    return ColumnSpec("athlete_id", "str", "Athlete identifier (stable across tables).")


def _date(desc: str = "Calendar date of the record (ISO 8601, YYYY-MM-DD).") -> ColumnSpec:
    return ColumnSpec("date", "date", desc)


SIDES = ("left", "right", "both")
#: an injury can also be central: a midline structure (lumbar spine, pubic symphysis, head, trunk)
INJURY_SIDES = (*SIDES, "central")

TABLES: dict[str, TableSpec] = {
    "athletes": TableSpec(
        name="athletes",
        description="One row per athlete: the squad register.",
        columns=(
            _athlete(),
            ColumnSpec("sex", "category", "Sex recorded for the athlete.", allowed=("F", "M")),
            ColumnSpec("birth_date", "date", "Date of birth (ISO 8601).", age_years=(8, 90)),
            ColumnSpec(
                "height_cm",
                "float",
                "Standing height.",
                "cm",
                min_value=130,
                max_value=220,
                typical=(150, 205),
            ),
            ColumnSpec(
                "body_mass_kg", "float", "Body mass.", "kg", min_value=35, max_value=160, typical=(50, 110)
            ),
            ColumnSpec("position", "str", "Playing position or event group.", required=False, nullable=True),
        ),
        key=("athlete_id",),
        date_column=None,
    ),
    "gym_sets": TableSpec(
        name="gym_sets",
        description="Gym work: one row per exercise prescription performed on a day.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec("exercise", "str", "Exercise name, e.g. back_squat, trap_bar_deadlift, hip_thrust."),
            ColumnSpec(
                "load_kg", "float", "External load lifted per repetition.", "kg", min_value=0, max_value=400
            ),
            ColumnSpec("reps", "int", "Repetitions per set.", "count", min_value=1, max_value=30),
            ColumnSpec("sets", "int", "Number of sets.", "count", min_value=1, max_value=15),
            ColumnSpec(
                "rpe",
                "float",
                "Rating of perceived exertion of the set (CR-10).",
                "0-10",
                required=False,
                nullable=True,
                min_value=0,
                max_value=10,
            ),
        ),
        key=("athlete_id", "date", "exercise"),
        required=False,
    ),
    "strength_tests": TableSpec(
        name="strength_tests",
        description="Strength and jump tests: one row per test, side and day.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec("test", "str", "Test name, e.g. nordic_eccentric, imtp, cmj_height."),
            ColumnSpec("side", "category", "Limb tested.", allowed=SIDES),
            ColumnSpec("value", "float", "Test result in the given unit.", min_value=0, max_value=10000),
            ColumnSpec("unit", "str", "Unit of value, e.g. N, cm."),
        ),
        key=("athlete_id", "date", "test", "side"),
        required=False,
    ),
    "sprint_splits": TableSpec(
        name="sprint_splits",
        description="Timing-gate split times: one row per gate of a sprint trial.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec(
                "trial", "int", "Trial number within the session.", "count", min_value=1, max_value=20
            ),
            ColumnSpec(
                "distance_m", "float", "Gate distance from the start line.", "m", min_value=0.5, max_value=100
            ),
            ColumnSpec("time_s", "float", "Time from start to the gate.", "s", min_value=0.2, max_value=15),
            ColumnSpec(
                "start_type",
                "category",
                "Start: standing, crouch, three_point, block or flying.",
                allowed=("standing", "crouch", "three_point", "block", "flying"),
            ),
            ColumnSpec("timing_system", "str", "Timing system, e.g. photocell, radar, laser."),
        ),
        key=("athlete_id", "date", "trial", "distance_m"),
        required=False,
    ),
    "sprint_steps": TableSpec(
        name="sprint_steps",
        description="Step-by-step kinematics of the first steps of a sprint (optical or IMU system).",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec(
                "trial", "int", "Trial number within the session.", "count", min_value=1, max_value=20
            ),
            ColumnSpec(
                "step",
                "int",
                "Step number from the start (1 = first step).",
                "count",
                min_value=1,
                max_value=60,
            ),
            ColumnSpec("side", "category", "Stance leg.", allowed=("left", "right")),
            ColumnSpec(
                "contact_time_ms",
                "float",
                "Ground contact time.",
                "ms",
                min_value=60,
                max_value=400,
                typical=(80, 260),
            ),
            ColumnSpec(
                "flight_time_ms",
                "float",
                "Flight time after the contact.",
                "ms",
                min_value=0,
                max_value=250,
                typical=(30, 200),
            ),
            ColumnSpec("step_length_m", "float", "Step length.", "m", min_value=0.3, max_value=3.0),
            ColumnSpec(
                "touchdown_distance_m",
                "float",
                "Horizontal distance of foot ahead of the centre of mass at touchdown.",
                "m",
                required=False,
                nullable=True,
                min_value=-0.3,
                max_value=0.8,
            ),
        ),
        key=("athlete_id", "date", "trial", "step"),
        required=False,
    ),
    "movement_screens": TableSpec(
        name="movement_screens",
        description="Movement control screens scored by staff.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec(
                "pelvic_control_score",
                "float",
                "Pelvic control (1 = poor, 5 = excellent).",
                "1-5",
                min_value=1,
                max_value=5,
            ),
            ColumnSpec(
                "trunk_control_score",
                "float",
                "Trunk control (1 = poor, 5 = excellent).",
                "1-5",
                min_value=1,
                max_value=5,
            ),
            ColumnSpec("notes", "str", "Free-text notes of the screen.", required=False, nullable=True),
        ),
        key=("athlete_id", "date"),
        required=False,
    ),
    "wellness": TableSpec(
        name="wellness",
        description="Daily self-reported wellness questionnaire.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec(
                "sleep_hours",
                "float",
                "Sleep duration last night.",
                "h",
                nullable=True,
                min_value=0,
                max_value=16,
                typical=(5, 10.5),
            ),
            ColumnSpec(
                "sleep_quality",
                "float",
                "Sleep quality (0 = very poor, 10 = excellent).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "fatigue",
                "float",
                "Fatigue (0 = fresh, 10 = exhausted).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "soreness",
                "float",
                "Muscle soreness (0 = none, 10 = extreme).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "stress",
                "float",
                "Stress (0 = none, 10 = extreme).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "mood",
                "float",
                "Mood (0 = very low, 10 = excellent).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "hamstring_tightness",
                "float",
                "Perceived hamstring tightness (0 = none, 10 = extreme).",
                "0-10",
                nullable=True,
                min_value=0,
                max_value=10,
            ),
        ),
        key=("athlete_id", "date"),
        required=False,
    ),
    "training_load": TableSpec(
        name="training_load",
        description="Training and match sessions: one row per session.",
        columns=(
            _athlete(),
            _date(),
            ColumnSpec("session_type", "str", "Session type, e.g. pitch, gym, match, sprint, recovery."),
            ColumnSpec(
                "duration_min",
                "float",
                "Session duration.",
                "min",
                required=False,
                nullable=True,
                min_value=0,
                max_value=300,
            ),
            ColumnSpec(
                "rpe",
                "float",
                "Session rating of perceived exertion (CR-10).",
                "0-10",
                required=False,
                nullable=True,
                min_value=0,
                max_value=10,
            ),
            ColumnSpec(
                "srpe_load_au",
                "float",
                "Session-RPE load (RPE x minutes) when only the product is exported; used where "
                "duration_min or rpe is missing.",
                "AU",
                required=False,
                nullable=True,
                min_value=0,
                max_value=5000,
            ),
            ColumnSpec(
                "total_distance_m",
                "float",
                "Total distance covered.",
                "m",
                required=False,
                nullable=True,
                min_value=0,
                max_value=20000,
            ),
            ColumnSpec(
                "hsr_distance_m",
                "float",
                "High-speed running distance (> 5.5 m/s).",
                "m",
                required=False,
                nullable=True,
                min_value=0,
                max_value=5000,
            ),
            ColumnSpec(
                "sprint_distance_m",
                "float",
                "Sprint distance (> 7 m/s).",
                "m",
                required=False,
                nullable=True,
                min_value=0,
                max_value=3000,
            ),
            ColumnSpec(
                "max_speed_m_s",
                "float",
                "Peak speed in the session.",
                "m/s",
                required=False,
                nullable=True,
                min_value=0,
                max_value=13,
            ),
        ),
        key=("athlete_id", "date", "session_type"),
        required=False,
    ),
    "injuries": TableSpec(
        name="injuries",
        description="Time-loss injuries: one row per injury event.",
        columns=(
            _athlete(),
            ColumnSpec("onset_date", "date", "Date of injury onset (ISO 8601)."),
            ColumnSpec(
                "body_part", "str", "Body part, e.g. hamstring, quadriceps, calf, adductor, ankle, knee."
            ),
            ColumnSpec(
                "side",
                "category",
                "Side; central for a midline injury (e.g. lumbar spine).",
                allowed=INJURY_SIDES,
            ),
            ColumnSpec(
                "days_lost",
                "int",
                "Days of time loss until return to play.",
                "days",
                min_value=0,
                max_value=720,
            ),
            ColumnSpec(
                "mechanism",
                "str",
                "Mechanism, e.g. sprinting, stretching, contact, overuse.",
                required=False,
                nullable=True,
            ),
        ),
        key=("athlete_id", "onset_date", "body_part", "side"),
        required=False,
        date_column="onset_date",
    ),
    "tracking_samples": TableSpec(
        name="tracking_samples",
        description="GPS/LPS tracking samples of training sessions and matches: one row per sample (10-20 Hz).",
        columns=(
            _athlete(),
            _date("Calendar date of the session (ISO 8601, YYYY-MM-DD)."),
            ColumnSpec(
                "session_id",
                "str",
                "Session identifier within the day (e.g. the tracking system's activity name or am/pm).",
            ),
            ColumnSpec(
                "time_s",
                "float",
                "Time of the sample from the session start.",
                "s",
                min_value=0,
                max_value=86400,
            ),
            ColumnSpec(
                "velocity_m_s",
                "float",
                "Speed of the sample; empty = dropout. The in-situ profile drops and counts speeds above "
                "params.yaml insitu.max_speed_m_s (12.5 m/s) as implausible.",
                "m/s",
                nullable=True,
                min_value=0,
                max_value=13,
            ),
            ColumnSpec(
                "acceleration_m_s2",
                "float",
                "Acceleration as exported; when the column is absent it is derived from velocity "
                "(Savitzky-Golay, params.yaml insitu).",
                "m/s^2",
                required=False,
                nullable=True,
                min_value=-50,
                max_value=50,
            ),
            ColumnSpec("x_m", "float", "Position along the pitch.", "m", required=False, nullable=True),
            ColumnSpec("y_m", "float", "Position across the pitch.", "m", required=False, nullable=True),
        ),
        key=("athlete_id", "date", "session_id", "time_s"),
        required=False,
    ),
}

# The athletes table is the register every other table's athlete_id must appear in.
REGISTER_TABLE = "athletes"
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)
