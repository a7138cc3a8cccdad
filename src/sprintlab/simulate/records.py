"""The contract's daily records, read from the latent state with noise: training load, gym sets,
wellness reports, strength tests, sprint tests, movement screens, athletes and injuries.

Observation coefficients that the oracles invert come from ``coefficients.py``; the noise of
records nothing else reads is written where it is drawn (``docs/simulator.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sprintlab.simulate.coefficients import MEASUREMENT, WELLNESS
from sprintlab.simulate.latent import HamstringWeeks, InjuryRecord, TrainingPlan, Traits, WeeklyProcesses
from sprintlab.simulate.sprint_tests import SprintTests, simulate_sprint_tests

# training load: Mon pitch+gym, Tue pitch, Thu pitch+gym, Fri pitch, Sat match
PITCH_DAYS = {0: "pitch", 1: "pitch", 3: "pitch", 4: "pitch", 5: "match"}
GYM_DAYS = (0, 3)
_SORT_KEYS = (
    "athlete_id",
    "date",
    "onset_date",
    "trial",
    "distance_m",
    "step",
    "exercise",
    "test",
    "side",
    "session_type",
)


@dataclass(frozen=True)
class Calendar:
    """The window's days: week index, weekday (0 = Monday) and date of every day index."""

    start: date
    week_of_day: np.ndarray
    dow: np.ndarray
    date_of: np.ndarray

    @property
    def days(self) -> int:
        return int(self.date_of.size)

    @property
    def n_weeks(self) -> int:
        return self.days // 7


def calendar(start: date, n_weeks: int) -> Calendar:
    """The calendar of ``n_weeks`` weeks from the Monday ``start``."""
    day_idx = np.arange(n_weeks * 7)
    date_of = np.array([start + timedelta(days=int(d)) for d in day_idx])
    return Calendar(start=start, week_of_day=day_idx // 7, dow=day_idx % 7, date_of=date_of)


def days_out(ids: np.ndarray, injuries: list[InjuryRecord], days: int) -> np.ndarray:
    """Whether each athlete is out injured on each day (n x days)."""
    out_day = np.zeros((ids.size, days), dtype=bool)
    for inj in injuries:
        i = int(np.flatnonzero(ids == inj["athlete_id"])[0])
        out_day[i, inj["onset_day"] : inj["onset_day"] + inj["days_lost"]] = True
    return out_day


def _pitch_sessions(
    rng: np.random.Generator,
    traits: Traits,
    weekly: WeeklyProcesses,
    aidx: np.ndarray,
    week: int,
    kind: str,
    dow: int,
) -> dict[str, np.ndarray | float | str]:
    """One pitch session or match for the available athletes ``aidx``; near-maximal exposure happens
    on Tuesday's pitch session of an exposure week."""
    n_act = aidx.size
    factor = weekly.hsr_factor[aidx, week]
    hsr = traits.hsr_norm[aidx] * factor * rng.lognormal(0, 0.15, n_act) * (1.5 if kind == "match" else 1)
    dur = np.where(kind == "match", 95, rng.normal(75, 10, n_act)).clip(40, 120)
    hsr = np.minimum(hsr, 2500.0)
    tot = (hsr * rng.normal(24, 3, n_act).clip(15, 35)).clip(1500, 14000)
    sprint_d = hsr * rng.uniform(0.1, 0.25, n_act)
    expo = weekly.exposure_week[aidx, week] & (dow == (1 if kind == "pitch" else -1))
    vmax = np.where(expo, rng.uniform(0.91, 0.98, n_act), rng.uniform(0.70, 0.88, n_act)) * traits.mss[aidx]
    rpe = (4.5 + 1.5 * np.log(factor) + (1.5 if kind == "match" else 0) + rng.normal(0, 0.7, n_act)).clip(
        1, 10
    )
    return dict(
        session_type=kind,
        duration_min=dur.round(0),
        rpe=rpe.round(0),
        total_distance_m=tot.round(0),
        hsr_distance_m=hsr.round(0),
        sprint_distance_m=sprint_d.round(0),
        max_speed_m_s=vmax.round(2),
    )


def _gym_session_load(rng: np.random.Generator, n_act: int) -> dict[str, np.ndarray | float | str]:
    """A 60-minute gym session's load record (no running)."""
    return dict(
        session_type="gym",
        duration_min=60.0,
        rpe=rng.normal(6.5, 0.8, n_act).clip(1, 10).round(0),
        total_distance_m=np.nan,
        hsr_distance_m=np.nan,
        sprint_distance_m=np.nan,
        max_speed_m_s=np.nan,
    )


def training_load_table(
    rng: np.random.Generator, traits: Traits, weekly: WeeklyProcesses, cal: Calendar, out_day: np.ndarray
) -> pd.DataFrame:
    """Every session of every available athlete (pitch, match, gym)."""
    rows = []
    for d_i in range(cal.days):
        aidx = np.flatnonzero(~out_day[:, d_i])
        kind = PITCH_DAYS.get(int(cal.dow[d_i]))
        sessions = []
        if kind and aidx.size:
            week, dow = int(cal.week_of_day[d_i]), int(cal.dow[d_i])
            sessions.append(_pitch_sessions(rng, traits, weekly, aidx, week, kind, dow))
        if cal.dow[d_i] in GYM_DAYS and aidx.size:
            sessions.append(_gym_session_load(rng, aidx.size))
        for session in sessions:
            rows.append(pd.DataFrame(dict(athlete_id=traits.ids[aidx], date=cal.date_of[d_i], **session)))
    return pd.concat(rows, ignore_index=True)


def gym_sets_table(
    rng: np.random.Generator, traits: Traits, plan: TrainingPlan, cal: Calendar, out_day: np.ndarray
) -> pd.DataFrame:
    """Back squat and trap-bar deadlift on Mon/Thu, loads from the true 1RM (Epley inverse)."""
    rows = []
    for d_i in np.flatnonzero(np.isin(cal.dow, GYM_DAYS)):
        week = cal.week_of_day[d_i]
        aidx = np.flatnonzero(~out_day[:, d_i])
        if aidx.size == 0:
            continue
        reps = rng.choice([3, 4, 5, 6], aidx.size)
        for exercise, ratio in (("back_squat", 1.0), ("trap_bar_deadlift", 1.2)):
            one_rm = plan.squat_rel[aidx, week] * traits.mass_kg[aidx] * ratio
            load = one_rm / (1 + reps / 30) * rng.normal(1.0, 0.012, aidx.size)
            rows.append(
                pd.DataFrame(
                    dict(
                        athlete_id=traits.ids[aidx],
                        date=cal.date_of[d_i],
                        exercise=exercise,
                        load_kg=(np.round(load / 2.5) * 2.5),
                        reps=reps,
                        sets=rng.integers(3, 6, aidx.size),
                        rpe=rng.normal(8.5, 0.5, aidx.size).clip(6, 10).round(1),
                    )
                )
            )
    return pd.concat(rows, ignore_index=True)


def _wellness_day(
    rng: np.random.Generator,
    traits: Traits,
    weekly: WeeklyProcesses,
    aidx: np.ndarray,
    week: int,
    out_today: np.ndarray,
) -> dict[str, np.ndarray]:
    """One day's wellness reports of athletes ``aidx``: noisy readings of sleep deficit, soreness
    and load (0-10 scales, sleep in hours)."""
    m = aidx.size
    sleep_dev, sore = weekly.sleep_dev[aidx, week], weekly.sore[aidx, week]
    sl = traits.sleep_base[aidx] - WELLNESS.sleep_hours_per_deficit_sd * sleep_dev + rng.normal(0, 0.45, m)
    sq = 7 - 1.2 * sleep_dev + rng.normal(0, 0.8, m)
    so = 3 + 1.3 * sore + rng.normal(0, 0.7, m)
    fa = 3.5 + 1.0 * np.log(weekly.hsr_factor[aidx, week]) * 2 + 0.5 * sleep_dev + rng.normal(0, 0.8, m)
    st = 3 + 0.4 * sleep_dev + rng.normal(0, 1.0, m)
    mo = 7 - 0.4 * sleep_dev - 0.3 * sore + rng.normal(0, 0.8, m)
    ht = 2 + 0.8 * sore + 1.5 * out_today + rng.normal(0, 0.8, m)
    return dict(
        sleep_hours=sl.clip(3, 12).round(1),
        sleep_quality=sq.clip(0, 10).round(0),
        fatigue=fa.clip(0, 10).round(0),
        soreness=so.clip(0, 10).round(0),
        stress=st.clip(0, 10).round(0),
        mood=mo.clip(0, 10).round(0),
        hamstring_tightness=ht.clip(0, 10).round(0),
    )


def wellness_table(
    rng: np.random.Generator, traits: Traits, weekly: WeeklyProcesses, cal: Calendar, out_day: np.ndarray
) -> pd.DataFrame:
    """Daily wellness reports with athlete-specific missingness (report rate)."""
    rows = []
    for d_i in range(cal.days):
        aidx = np.flatnonzero(rng.random(traits.ids.size) < traits.report_rate)
        day = _wellness_day(rng, traits, weekly, aidx, int(cal.week_of_day[d_i]), out_day[aidx, d_i])
        rows.append(pd.DataFrame(dict(athlete_id=traits.ids[aidx], date=cal.date_of[d_i], **day)))
    return pd.concat(rows, ignore_index=True)


def nordic_test_frames(
    rng: np.random.Generator, traits: Traits, weekly: WeeklyProcesses, cal: Calendar, out_day: np.ndarray
) -> list[pd.DataFrame]:
    """Nordic eccentric tests every 4 weeks (Wednesday), left and right."""
    frames = []
    for w in range(1, cal.n_weeks, 4):
        d_i = w * 7 + 2
        aidx = np.flatnonzero(~out_day[:, d_i])
        for side, sgn in (("left", 1), ("right", -1)):
            val = weekly.nordic[aidx, w] * (1 + sgn * traits.nordic_asym[aidx]) + rng.normal(0, 10, aidx.size)
            frames.append(
                pd.DataFrame(
                    dict(
                        athlete_id=traits.ids[aidx],
                        date=cal.date_of[d_i],
                        test="nordic_eccentric",
                        side=side,
                        value=val.clip(150, 600).round(0),
                        unit="N",
                    )
                )
            )
    return frames


def movement_screens_table(
    rng: np.random.Generator, traits: Traits, plan: TrainingPlan, cal: Calendar, out_day: np.ndarray
) -> pd.DataFrame:
    """Pelvic and trunk control scores every 4 weeks (Wednesday): ``3 + 0.95 c`` and ``3 + 0.85 c``
    plus noise, in half points from 1 to 5."""
    m = MEASUREMENT
    frames = []
    for w in range(0, cal.n_weeks, 4):
        d_i = w * 7 + 2
        aidx = np.flatnonzero(~out_day[:, d_i])
        control = plan.control[aidx, w]
        pelvic = m.screen_base_score + m.pelvic_per_control * control + rng.normal(0, m.pelvic_sd, aidx.size)
        trunk = m.screen_base_score + m.trunk_per_control * control + rng.normal(0, m.trunk_sd, aidx.size)
        frames.append(
            pd.DataFrame(
                dict(
                    athlete_id=traits.ids[aidx],
                    date=cal.date_of[d_i],
                    pelvic_control_score=np.clip(np.round(pelvic * 2) / 2, *m.screen_score_bounds),
                    trunk_control_score=np.clip(np.round(trunk * 2) / 2, *m.screen_score_bounds),
                    notes=None,
                )
            )
        )
    return pd.concat(frames, ignore_index=True)


def athletes_table(traits: Traits) -> pd.DataFrame:
    """One row per athlete: sex, birth date, height, body mass, position."""
    return pd.DataFrame(
        dict(
            athlete_id=traits.ids,
            sex="M" if traits.male else "F",
            birth_date=traits.birth,
            height_cm=traits.height_cm.round(1),
            body_mass_kg=traits.mass_kg,
            position=traits.positions,
        )
    )


def prior_hamstring_injuries(rng: np.random.Generator, traits: Traits) -> list[InjuryRecord]:
    """The "previous hamstring injury" history: one hamstring injury 60-700 days before the window."""
    return [
        InjuryRecord(
            athlete_id=str(traits.ids[i]),
            onset_day=-int(rng.integers(60, 700)),
            body_part="hamstring",
            side=str(rng.choice(["left", "right"])),
            days_lost=int(rng.integers(10, 45)),
            mechanism="sprinting",
        )
        for i in np.flatnonzero(traits.prev_ham)
    ]


def injuries_table(injuries: list[InjuryRecord], start: date) -> pd.DataFrame:
    """The injuries with onset dates instead of day indices."""
    inj = pd.DataFrame(
        injuries, columns=["athlete_id", "onset_day", "body_part", "side", "days_lost", "mechanism"]
    )
    inj["onset_date"] = [start + timedelta(days=int(d)) for d in inj["onset_day"]]
    return inj[["athlete_id", "onset_date", "body_part", "side", "days_lost", "mechanism"]]


def sorted_contract_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Dates as timestamps; rows sorted by athlete, date and the table's own keys."""
    out = {}
    for name, df in tables.items():
        for col in df.columns:
            if col in ("date", "birth_date", "onset_date"):
                df[col] = pd.to_datetime(df[col])
        out[name] = df.sort_values([c for c in _SORT_KEYS if c in df.columns]).reset_index(drop=True)
    return out


def contract_records(
    rng: np.random.Generator,
    traits: Traits,
    plan: TrainingPlan,
    weekly: WeeklyProcesses,
    ham: HamstringWeeks,
    start: date,
) -> tuple[dict[str, pd.DataFrame], SprintTests]:
    """The nine contract tables and the sprint tests behind them (for the transfer truth)."""
    cal = calendar(start, plan.squat_rel.shape[1])
    out_day = days_out(traits.ids, ham.injuries, cal.days)
    training_load = training_load_table(rng, traits, weekly, cal, out_day)
    gym_sets = gym_sets_table(rng, traits, plan, cal, out_day)
    wellness = wellness_table(rng, traits, weekly, cal, out_day)
    nordic_tests = nordic_test_frames(rng, traits, weekly, cal, out_day)
    tests = simulate_sprint_tests(rng, traits, plan, weekly, cal.date_of, out_day)
    screens = movement_screens_table(rng, traits, plan, cal, out_day)
    athletes = athletes_table(traits)
    injuries = ham.injuries + prior_hamstring_injuries(rng, traits)
    tables = {
        "athletes": athletes,
        "gym_sets": gym_sets,
        "strength_tests": pd.concat([*nordic_tests, tests.strength], ignore_index=True),
        "sprint_splits": tests.splits,
        "sprint_steps": tests.steps,
        "movement_screens": screens,
        "wellness": wellness,
        "training_load": training_load,
        "injuries": injuries_table(injuries, start),
    }
    return sorted_contract_tables(tables), tests
