"""Sprint tests at the opening of every block: the true 0-10 m time moves by the transfer process
between tests, and each test records splits, step kinematics, IMTP and CMJ."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np
import pandas as pd

from sprintlab.simulate.coefficients import MEASUREMENT, TRANSFER
from sprintlab.simulate.latent import TrainingPlan, Traits, WeeklyProcesses
from sprintlab.simulate.processes import (
    block_load_excess,
    block_sleep_deficit,
    gate_time_s,
    tau_for_t10,
    transfer_mean_change,
)


@dataclass(frozen=True)
class TransferBlock:
    """The truth of one block for every athlete: latent inputs of the transfer model, the expected
    change ``mu`` and the true 0-10 m time at the opening test; ``valid`` where both tests ran."""

    block: int
    g: np.ndarray
    c: np.ndarray
    k: np.ndarray
    rev: np.ndarray
    load: np.ndarray
    sleep: np.ndarray
    mu: np.ndarray
    t10_start: np.ndarray
    valid: np.ndarray


@dataclass(frozen=True)
class SprintTests:
    """Recorded test frames, each test's day index (n x blocks; -1 = not tested), the true 0-10 m
    time at each test (NaN = not tested) and block truths."""

    test_day: np.ndarray
    t10_true: np.ndarray
    splits: pd.DataFrame = field(default_factory=pd.DataFrame)
    steps: pd.DataFrame = field(default_factory=pd.DataFrame)
    strength: pd.DataFrame = field(default_factory=pd.DataFrame)
    blocks: list[TransferBlock] = field(default_factory=list)


def block_excess(plan: TrainingPlan, weekly: WeeklyProcesses) -> tuple[np.ndarray, np.ndarray]:
    """Each block's load excess and sleep deficit (n x blocks, SD units; 0 outside the window)."""
    n, n_weeks = plan.squat_rel.shape
    load_ex = np.zeros((n, plan.n_blocks))
    sleep_ex = np.zeros((n, plan.n_blocks))
    for b in range(plan.n_blocks):
        first, end = plan.block_weeks(b)
        for i in np.flatnonzero(first < n_weeks):
            weeks = np.arange(first[i], min(end[i], n_weeks))
            load_ex[i, b] = block_load_excess(weekly.hsr_factor[i, weeks])
            sleep_ex[i, b] = block_sleep_deficit(weekly.sleep_dev[i, weeks])
    return load_ex, sleep_ex


def _transfer_over_block(
    rng: np.random.Generator,
    traits: Traits,
    plan: TrainingPlan,
    block: int,
    t10_true: np.ndarray,
    excess: tuple[np.ndarray, np.ndarray],
) -> tuple[TransferBlock, np.ndarray]:
    """The block's truth and the true 0-10 m time at its closing test: ``t10 + mu + e_bio``."""
    n, n_weeks = plan.squat_rel.shape
    opening = plan.test_weeks[:, block]
    at_opening = (np.arange(n), np.minimum(opening, n_weeks - 1))
    load_ex, sleep_ex = excess
    g, c, k = plan.block_gain[:, block], plan.control[at_opening], plan.braking[at_opening]
    rev = t10_true - traits.t10_base
    mu = transfer_mean_change(g, c, k, rev, load_ex[:, block], sleep_ex[:, block])
    truth = TransferBlock(
        block=block,
        g=g,
        c=c,
        k=k,
        rev=rev,
        load=load_ex[:, block],
        sleep=sleep_ex[:, block],
        mu=mu,
        t10_start=t10_true.copy(),
        valid=(plan.test_weeks[:, block + 1] < n_weeks) & (opening < n_weeks),
    )
    return truth, t10_true + mu + rng.normal(0, TRANSFER["bio_sd_s"], n)


class _Rows:
    """Rows of one table, kept column by column as plain lists and framed once at the end: a
    DataFrame per trial cost ~70 % of the simulator's time (27,000 small frames for the default
    squad)."""

    def __init__(self, *columns: str) -> None:
        self.columns: dict[str, list] = {c: [] for c in columns}

    def add(self, n: int, **values: object) -> None:
        """Append ``n`` rows; a value is a sequence of ``n`` or one scalar repeated."""
        for name, value in values.items():
            col = self.columns[name]
            if isinstance(value, np.ndarray):
                col.extend(value.tolist())
            elif isinstance(value, list):
                col.extend(value)
            else:
                col.extend([value] * n)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.columns)


@dataclass
class _TestRows:
    """The rows every test session adds: sprint splits, first steps, IMTP and CMJ."""

    splits: _Rows = field(
        default_factory=lambda: _Rows(
            "athlete_id", "date", "trial", "distance_m", "time_s", "start_type", "timing_system"
        )
    )
    steps: _Rows = field(
        default_factory=lambda: _Rows(
            "athlete_id",
            "date",
            "trial",
            "step",
            "side",
            "contact_time_ms",
            "flight_time_ms",
            "step_length_m",
            "touchdown_distance_m",
        )
    )
    strength: _Rows = field(
        default_factory=lambda: _Rows("athlete_id", "date", "test", "side", "value", "unit")
    )


def _record_trial(
    rng: np.random.Generator,
    athlete_id: str,
    the_date: date,
    trial: int,
    gate_times_s: np.ndarray,
    braking: float,
    rows: _TestRows,
) -> None:
    """One trial's splits (gate noise, ms rounding, non-decreasing) and its first steps."""
    m = MEASUREMENT
    gates = np.array(m.gates_m)
    t = gate_times_s + rng.normal(0, TRANSFER["gate_sd_s"], gate_times_s.size)
    rows.splits.add(
        gates.size,
        athlete_id=athlete_id,
        date=the_date,
        trial=trial,
        distance_m=gates,
        time_s=np.maximum.accumulate(np.round(t, 3)),
        start_type="standing",
        timing_system="photocell",
    )
    step = np.arange(m.steps)
    contact = (
        m.contact_base_ms
        + m.contact_per_braking_ms * braking
        - m.contact_per_step_ms * step
        + rng.normal(0, m.contact_sd_ms, m.steps)
    )
    rows.steps.add(
        m.steps,
        athlete_id=athlete_id,
        date=the_date,
        trial=trial,
        step=np.arange(1, m.steps + 1),
        side=["left" if k % 2 == 0 else "right" for k in range(m.steps)],
        contact_time_ms=contact.round(0),
        flight_time_ms=(
            m.flight_base_ms + m.flight_per_step_ms * step + rng.normal(0, m.flight_sd_ms, m.steps)
        ).round(0),
        step_length_m=(
            m.step_length_base_m
            + m.step_length_per_step_m * step
            - m.step_length_per_braking_m * braking
            + rng.normal(0, m.step_length_sd_m, m.steps)
        ).round(2),
        touchdown_distance_m=(
            m.touchdown_base_m
            + m.touchdown_per_braking_m * braking
            + m.touchdown_per_step_m * step
            + rng.normal(0, m.touchdown_sd_m, m.steps)
        ).round(3),
    )


def _record_session(
    rng: np.random.Generator,
    traits: Traits,
    squat_rel: float,
    i: int,
    the_date: date,
    tau_trials: np.ndarray,
    braking: float,
    rows: _TestRows,
) -> None:
    """Athlete ``i``'s test session: every trial's splits and steps, then IMTP and CMJ."""
    athlete_id = str(traits.ids[i])
    gates = np.array(MEASUREMENT.gates_m)
    for trial in range(1, MEASUREMENT.trials + 1):
        gate_times = gate_time_s(gates, traits.mss[i], tau_trials[trial - 1], traits.fd[i])
        _record_trial(rng, athlete_id, the_date, trial, gate_times, braking, rows)
    imtp = squat_rel * traits.mass_kg[i] * 9.81 * 1.35 + rng.normal(0, 60)
    cmj = 36 + 6 * (traits.mss[i] - 8.7) + 8 * (squat_rel - 1.55) + rng.normal(0, 1.5)
    rows.strength.add(
        2,
        athlete_id=athlete_id,
        date=the_date,
        test=["imtp", "cmj_height"],
        side="both",
        value=[float(round(imtp, 0)), float(round(cmj, 1))],
        unit=["N", "cm"],
    )


def simulate_sprint_tests(
    rng: np.random.Generator,
    traits: Traits,
    plan: TrainingPlan,
    weekly: WeeklyProcesses,
    date_of: np.ndarray,
    out_day: np.ndarray,
) -> SprintTests:
    """Block by block: the true 0-10 m time moves by the transfer process, then every athlete
    tested in the window runs ``trials`` trials on Tuesday or Wednesday of the test week (two days
    later when injured that day); each trial's TAU matches its true 10 m time (+ trial noise)."""
    n, n_weeks = plan.squat_rel.shape
    days = date_of.size
    excess = block_excess(plan, weekly)
    out = SprintTests(test_day=np.full((n, plan.n_blocks), -1), t10_true=np.full((n, plan.n_blocks), np.nan))
    t10_true = traits.t10_base.copy()
    rows = _TestRows()
    for b in range(plan.n_blocks):
        week = plan.test_weeks[:, b]
        tested = week < n_weeks
        braking = plan.braking[np.arange(n), np.minimum(week, n_weeks - 1)]
        if b > 0:
            truth, t10_end = _transfer_over_block(rng, traits, plan, b - 1, t10_true, excess)
            out.blocks.append(truth)
            t10_true = np.where(tested, t10_end, t10_true)
        t10_day = t10_true[:, None] + rng.normal(0, TRANSFER["trial_sd_s"], (n, MEASUREMENT.trials))
        tau_day = tau_for_t10(t10_day, traits.mss[:, None], traits.fd[:, None])
        for i in np.flatnonzero(tested):
            d_i = int(week[i] * 7 + 1 + rng.integers(0, 2))
            if d_i >= days:
                continue
            if out_day[i, d_i]:
                d_i = min(d_i + 2, days - 1)
            out.test_day[i, b] = d_i
            out.t10_true[i, b] = t10_true[i]
            squat_rel = float(plan.squat_rel[i, min(week[i], n_weeks - 1)])
            _record_session(rng, traits, squat_rel, int(i), date_of[d_i], tau_day[i], float(braking[i]), rows)
    return replace(out, splits=rows.splits.frame(), steps=rows.steps.frame(), strength=rows.strength.frame())
