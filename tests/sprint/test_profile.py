"""Table API: profile_splits and summarise_sessions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.sprint import profile_splits, summarise_sessions
from sprintlab.sprint.model import time_at_distance
from sprintlab.sprint.profile import PROFILE_COLUMNS

GATES = np.array([5.0, 10.0, 20.0, 30.0])


def _trial(athlete, date, trial, mss, tau, fd=0.0, start="standing", gates=GATES):
    t = time_at_distance(gates + fd, mss, tau) - time_at_distance(fd, mss, tau)
    return pd.DataFrame(
        {
            "athlete_id": athlete,
            "date": date,
            "trial": trial,
            "distance_m": gates,
            "time_s": t,
            "start_type": start,
            "timing_system": "photocell",
        }
    )


@pytest.fixture()
def splits() -> pd.DataFrame:
    return pd.concat(
        [
            _trial("a1", "2024-01-01", 1, 8.0, 1.0),
            _trial("a1", "2024-01-01", 2, 8.2, 1.0),
            _trial("a1", "2024-01-08", 1, 8.5, 1.1),
            _trial("a2", "2024-01-01", 1, 9.0, 1.2, fd=1.0),
            _trial("a2", "2024-01-01", 2, 9.0, 1.2, start="flying"),
        ],
        ignore_index=True,
    )


def test_profile_splits_columns_and_values(splits):
    athletes = pd.DataFrame({"athlete_id": ["a1"], "height_cm": [180.0], "body_mass_kg": [80.0]})
    out = profile_splits(splits, athletes, correction="none")
    assert list(out.columns) == PROFILE_COLUMNS
    assert len(out) == 5 and out["fit_ok"].all()
    r = out[(out.athlete_id == "a1") & (out.date == "2024-01-01") & (out.trial == 1)].iloc[0]
    assert r["mss_m_s"] == pytest.approx(8.0, abs=1e-6) and r["tau_s"] == pytest.approx(1.0, abs=1e-6)
    assert r["pmax_rel_w_kg"] == pytest.approx(8.0 * 8.0 / 4, abs=1e-5)
    assert r["f0_n"] == pytest.approx(80.0 * 8.0, abs=1e-4)  # F0 = m * MAC (no wind)
    assert r["t5_obs_s"] == pytest.approx(time_at_distance(5.0, 8.0, 1.0), abs=1e-12)
    assert r["t5_pred_s"] == pytest.approx(r["t5_obs_s"], abs=1e-8)
    assert r["body_mass_kg"] == 80.0 and r["height_cm"] == 180.0
    assert not r["flying_start_flag"]
    # defaults for athletes not in the table
    a2 = out[out.athlete_id == "a2"].iloc[0]
    assert a2["body_mass_kg"] == 75.0 and a2["height_cm"] == 177.0
    assert np.isnan(r["time_correction_s"]) and np.isnan(r["flying_distance_m"])


def test_flying_start_flag(splits):
    out = profile_splits(splits, correction="fd").set_index(["athlete_id", "date", "trial"])
    fd_trial = out.loc[("a2", "2024-01-01", 1)]
    assert fd_trial["flying_distance_m"] == pytest.approx(1.0, abs=1e-6)
    assert fd_trial["mss_m_s"] == pytest.approx(9.0, abs=1e-6)
    assert fd_trial["t5_motion_s"] == pytest.approx(time_at_distance(5.0, 9.0, 1.2), abs=1e-9)
    assert fd_trial["flying_start_flag"]
    assert out.loc[("a2", "2024-01-01", 2), "flying_start_flag"]  # declared flying start
    assert not out.loc[("a1", "2024-01-01", 1), "flying_start_flag"]
    # uncorrected fit of the 1 m flying start gives a small TAU -> flagged too
    none = profile_splits(splits, correction="none").set_index(["athlete_id", "date", "trial"])
    assert none.loc[("a2", "2024-01-01", 1), "tau_s"] < 0.6
    assert none.loc[("a2", "2024-01-01", 1), "flying_start_flag"]


def test_summarise_sessions_best_mean_typical_error(splits):
    prof = profile_splits(splits)
    s = summarise_sessions(prof).set_index(["athlete_id", "date"])
    assert len(s) == 3
    row = s.loc[("a1", "2024-01-01")]
    t10 = [time_at_distance(10.0, 8.0, 1.0), time_at_distance(10.0, 8.2, 1.0)]
    assert row["n_trials"] == 2 and row["n_ok"] == 2
    assert row["t10_best_s"] == pytest.approx(min(t10), abs=1e-12)
    assert row["t10_mean_s"] == pytest.approx(np.mean(t10), abs=1e-12)
    assert row["t10_typical_error_s"] == pytest.approx(abs(t10[0] - t10[1]) / np.sqrt(2), abs=1e-12)
    assert row["mss_m_s"] == pytest.approx(8.1, abs=1e-6)  # median of 8.0 and 8.2
    assert np.isnan(s.loc[("a1", "2024-01-08"), "t10_typical_error_s"])  # single trial
    # a session whose trials all failed still appears, with n_ok = 0
    bad = prof.copy()
    bad.loc[bad.athlete_id == "a2", "fit_ok"] = False
    s2 = summarise_sessions(bad).set_index(["athlete_id", "date"])
    assert s2.loc[("a2", "2024-01-01"), "n_ok"] == 0 and np.isnan(s2.loc[("a2", "2024-01-01"), "t5_best_s"])


def test_t5_pred_when_no_gate_at_5m():
    df = _trial("a1", "2024-01-01", 1, 8.0, 1.0, gates=np.array([10.0, 20.0, 30.0]))
    out = profile_splits(df)
    assert np.isnan(out["t5_obs_s"].iloc[0])
    assert out["t5_pred_s"].iloc[0] == pytest.approx(time_at_distance(5.0, 8.0, 1.0), abs=1e-7)
