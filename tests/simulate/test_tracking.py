"""Simulated GPS/LPS traces: off by default, their own random stream, inside the contract, and a
known truth that the in-situ profile recovers."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from sprintlab.config import load_params
from sprintlab.contract.tables import TABLES
from sprintlab.simulate.coefficients import TRACKING_TRACES
from sprintlab.simulate.generator import simulate_squad
from sprintlab.sprint.insitu import settings_from_params
from sprintlab.sprint.insitu_profile import profile_in_situ, profile_in_situ_windows

ROOT = Path(__file__).resolve().parents[2]
PARAMS = load_params(ROOT / "params.yaml").insitu


@pytest.fixture(scope="module")
def traced():
    """12 athletes x 12 weeks with traces (3 sessions a week of 20 min at 10 Hz)."""
    return simulate_squad(n_athletes=12, n_weeks=12, seed=21, tracking=TRACKING_TRACES)


def test_traces_are_off_by_default_and_change_nothing_else(traced):
    plain = simulate_squad(n_athletes=12, n_weeks=12, seed=21)
    assert "tracking_samples" not in plain.tables and "tracking_sessions" not in plain.truth
    for name, df in plain.tables.items():
        pd.testing.assert_frame_equal(traced.tables[name], df, obj=name)
    for name, df in plain.truth.items():
        pd.testing.assert_frame_equal(traced.truth[name], df, obj=name)


def test_traces_follow_the_contract_and_the_seed(traced):
    samples = traced.tables["tracking_samples"]
    spec = TABLES["tracking_samples"]
    assert list(samples.columns) == [c for c in spec.column_names if spec.column(c).required]
    assert not samples.duplicated(list(spec.key)).any()
    speed = samples["velocity_m_s"].dropna()
    assert speed.between(spec.column("velocity_m_s").min_value, spec.column("velocity_m_s").max_value).all()
    assert samples["velocity_m_s"].isna().any() and (speed > PARAMS.max_speed_m_s).any()  # dropouts, spikes
    again = simulate_squad(n_athletes=12, n_weeks=12, seed=21, tracking=TRACKING_TRACES)
    pd.testing.assert_frame_equal(again.tables["tracking_samples"], samples)
    sessions = traced.truth["tracking_sessions"]
    assert len(sessions) * 12_000 == len(samples) and (sessions["n_all_out_efforts"] > 0).mean() > 0.9


def test_in_situ_profiles_recover_the_true_mss_and_mac_over_4_weeks(traced):
    """Per athlete, the 4-week window ending on the last tracked day against the mean truth of
    the sessions in it: median |MSS error| < 3 %, median |MAC error| < 8 %."""
    fit, clean = settings_from_params(PARAMS)
    samples = traced.tables["tracking_samples"]
    windows = profile_in_situ_windows(samples, fit, clean, PARAMS.chunk_samples, 28).profiles
    last = windows.sort_values("date").groupby("athlete_id").tail(1).set_index("athlete_id")
    truth = traced.truth["tracking_sessions"]
    start = last["date"] - pd.Timedelta(days=27)
    in_window = truth[truth["date"] >= truth["athlete_id"].map(start)]
    true = in_window.groupby("athlete_id")[["mss_m_s", "mac_m_s2"]].mean()
    mss_err = 100 * (last["mss_m_s"] / true["mss_m_s"] - 1)
    mac_err = 100 * (last["mac_m_s2"] / true["mac_m_s2"] - 1)
    assert last["fit_ok"].all() and (last["n_traces"] == 12).all()
    assert mss_err.abs().median() < 3.0, mss_err.round(2).to_dict()
    assert mac_err.abs().median() < 8.0, mac_err.round(2).to_dict()


def test_single_sessions_are_noisier_but_flagged_honestly(traced):
    """One 20-minute session has fewer all-out efforts: every profile is either fitted or says why."""
    fit, clean = settings_from_params(PARAMS)
    profiles = profile_in_situ(traced.tables["tracking_samples"], fit, clean, PARAMS.chunk_samples).profiles
    assert (profiles["fit_ok"] | (profiles["fit_issue"] != "")).all()
    assert profiles["fit_ok"].mean() > 0.8
    counted = profiles[["n_usable", "n_missing", "n_duplicate", "n_implausible_speed"]].sum(axis=1)
    assert (counted + profiles["n_implausible_acceleration"] + profiles["n_no_acceleration"]).equals(
        profiles["n_samples"]
    )
    assert profiles["n_implausible_speed"].sum() > 0 and profiles["n_missing"].sum() > 0


def test_sessions_too_short_for_their_efforts_are_refused():
    short = dataclasses.replace(TRACKING_TRACES, session_minutes=0.5)
    with pytest.raises(ValueError, match="sessions too short"):
        simulate_squad(n_athletes=2, n_weeks=12, seed=1, tracking=short)
