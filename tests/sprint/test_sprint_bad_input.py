"""Bad input: a clear error or a per-trial fit_ok/fit_issue flag, never a silent nonsense fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.sprint import fit_radar, fit_timing_gates, profile_radar, profile_splits
from sprintlab.sprint.model import time_at_distance, velocity

GATES = [5.0, 10.0, 20.0, 30.0, 40.0]
MSS, TAU = 9.0, 1.1


def _good_times() -> np.ndarray:
    return time_at_distance(np.array(GATES), MSS, TAU)


def _splits(trials: dict[int, tuple[list[float], list[float]]]) -> pd.DataFrame:
    rows = []
    for trial, (ds, ts) in trials.items():
        for d, t in zip(ds, ts, strict=True):
            rows.append(
                {
                    "athlete_id": "a1",
                    "date": "2024-01-01",
                    "trial": trial,
                    "distance_m": d,
                    "time_s": t,
                    "start_type": "standing",
                    "timing_system": "photocell",
                }
            )
    return pd.DataFrame(rows)


def test_bad_trials_are_flagged_and_do_not_stop_the_good_one():
    good = list(_good_times())
    nonincreasing = good.copy()
    nonincreasing[2] = nonincreasing[1] - 0.05
    negative = good.copy()
    negative[0] = -1.2
    missing = good.copy()
    missing[3] = np.nan
    df = _splits(
        {
            1: (GATES, good),
            2: (GATES, nonincreasing),
            3: (GATES[:1], good[:1]),  # 1 split < 2 parameters
            4: (GATES, negative),
            5: (GATES, missing),
            6: ([5.0, 10.0, 10.0, 30.0, 40.0], good),  # duplicate gate
        }
    )
    out = profile_splits(df).set_index("trial")
    assert out.loc[1, "fit_ok"] and out.loc[1, "fit_issue"] == ""
    assert out.loc[1, "mss_m_s"] == pytest.approx(MSS, abs=1e-6)
    assert out.loc[1, "tau_s"] == pytest.approx(TAU, abs=1e-6)
    expected = {
        2: "times not increasing with distance",
        3: "fewer splits than the 2 model parameters",
        4: "non-positive distance or time",
        5: "missing distance or time value",
        6: "duplicate gate distance",
    }
    for trial, issue in expected.items():
        assert not out.loc[trial, "fit_ok"]
        assert out.loc[trial, "fit_issue"] == issue
        assert np.isnan(out.loc[trial, "mss_m_s"]) and np.isnan(out.loc[trial, "f0_n"])


def test_too_few_splits_for_correction_parameter():
    df = _splits({1: (GATES[:2], list(_good_times()[:2]))})
    out = profile_splits(df, correction="fd")
    assert not out["fit_ok"].iloc[0]
    assert out["fit_issue"].iloc[0] == "fewer splits than the 3 model parameters"
    # exactly determined no-correction fit is allowed but has no residual SE
    ok = profile_splits(df, correction="none")
    assert ok["fit_ok"].iloc[0] and np.isnan(ok["rse_s"].iloc[0])
    assert ok["mss_m_s"].iloc[0] == pytest.approx(MSS, abs=1e-6)


def test_row_order_does_not_matter():
    df = _splits({1: (GATES, list(_good_times()))})
    shuffled = df.sample(frac=1.0, random_state=1)
    a, b = profile_splits(df), profile_splits(shuffled)
    assert b["mss_m_s"].iloc[0] == pytest.approx(a["mss_m_s"].iloc[0], abs=1e-12)
    # raw arrays with distances out of order are sorted by distance (times travel with them)
    f = fit_timing_gates(np.array(GATES)[::-1], _good_times()[::-1])
    assert f.fit_ok[0] and f.mss_m_s[0] == pytest.approx(MSS, abs=1e-6)
    np.testing.assert_allclose(f.pred_time_s[0], _good_times()[::-1], atol=1e-9)


def test_implausible_fit_is_flagged():
    # constant 20 m/s between gates: not a human sprint
    d = np.array(GATES)
    f = fit_timing_gates(d, d / 20.0 + 0.01)
    assert not f.fit_ok[0]
    assert "MSS" in f.fit_issue[0] or "TAU" in f.fit_issue[0]


def test_errors_for_bad_tables_and_names():
    with pytest.raises(ValueError, match="missing columns"):
        profile_splits(pd.DataFrame({"athlete_id": ["a"], "time_s": [1.0]}))
    with pytest.raises(ValueError, match="unknown correction"):
        profile_splits(_splits({1: (GATES, list(_good_times()))}), correction="magic")
    with pytest.raises(ValueError, match="fixed"):
        fit_timing_gates(GATES, _good_times(), "fixed:abc")
    with pytest.raises(ValueError, match="shapes differ"):
        fit_timing_gates(GATES, _good_times()[:3])
    with pytest.raises(ValueError, match="time_s"):
        profile_radar(pd.DataFrame({"velocity_m_s": [1.0]}))
    assert (
        len(
            profile_splits(
                _splits({}).reindex(columns=["athlete_id", "date", "trial", "distance_m", "time_s"])
            )
        )
        == 0
    )


def _trace(trial: int, t: np.ndarray, v: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {"athlete_id": "a1", "date": "2024-01-01", "trial": trial, "time_s": t, "velocity_m_s": v}
    )


def test_radar_dropouts_and_time_errors():
    rng = np.random.default_rng(0)
    t = np.arange(0, 5, 0.02)
    v = velocity(t, 8.5, 1.0) + rng.normal(0, 0.02, t.size)
    few_drop = v.copy()
    few_drop[rng.choice(t.size, 10, replace=False)] = np.nan
    many_drop = v.copy()
    many_drop[rng.choice(t.size, 100, replace=False)] = np.nan
    gap = v.copy()
    gap[100:140] = np.nan  # 0.8 s hole
    t_back = t.copy()
    t_back[50] = t_back[10]
    df = pd.concat(
        [
            _trace(1, t, v),
            _trace(2, t, few_drop),
            _trace(3, t, many_drop),
            _trace(4, t, gap),
            _trace(5, t_back, v),
            _trace(6, t[:4], v[:4]),
        ]
    )
    out = profile_radar(df).set_index("trial")
    assert out.loc[1, "fit_ok"] and out.loc[2, "fit_ok"]
    assert out.loc[1, "mss_m_s"] == pytest.approx(8.5, abs=0.05)
    assert out.loc[2, "mss_m_s"] == pytest.approx(out.loc[1, "mss_m_s"], abs=0.02)
    assert out.loc[3, "fit_issue"] == "dropouts: 40% of samples missing"
    assert out.loc[4, "fit_issue"] == "dropout gap of 0.82 s in trace"
    assert out.loc[5, "fit_issue"] == "time not strictly increasing in trace"
    assert out.loc[6, "fit_issue"] == "too few valid samples in trace"
    assert out.loc[[3, 4, 5, 6], "mss_m_s"].isna().all()


def test_radar_pure_function_flags_nonfinite_start():
    f = fit_radar(np.array([0.0, 0.1, 0.2]), np.array([0.0, 1.0, 2.0]))
    assert not f.fit_ok[0] and f.fit_issue[0] == "too few valid samples in trace"
