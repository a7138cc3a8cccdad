"""In-situ acceleration-speed profiles: {shorts} parity on the real LPS session, the vectorised
engine against straightforward per-group references, and bad traces (a message, never a traceback)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import curve_fit

from sprintlab.config import load_params
from sprintlab.sprint.insitu import (
    fit_top_points,
    merge_top_points,
    reduce_traces,
    settings_from_params,
    speed_bin,
    top_points,
    window_fits,
)
from sprintlab.sprint.insitu_profile import profile_in_situ, profile_in_situ_windows
from sprintlab.sprint.model import acceleration as model_acceleration
from sprintlab.sprint.model import velocity as model_velocity

ROOT = Path(__file__).resolve().parents[2]
LPS = ROOT.parent / "shared" / "datasets" / "lps_basketball_session" / "LPS_session.csv.gz"
PARAMS = load_params(ROOT / "params.yaml").insitu
FIT, CLEAN = settings_from_params(PARAMS)
#: no quality veto: parity and reference tests compare the raw line
OPEN = dataclasses.replace(FIT, max_mss_over_top_speed=100.0, min_bins=2)


# ---------------------------------------------------------------------------------------------
# an independent, straightforward reading of {shorts} R/model-in-situ.R (commit 5f8ce55)
# ---------------------------------------------------------------------------------------------


def shorts_model_in_situ(
    velocity: np.ndarray,
    acceleration: np.ndarray,
    velocity_threshold: float | None,
    step: float = 0.2,
    n: int = 2,
) -> dict[str, float]:
    """``prepare_in_situ_data`` (bins from 0 via ``seq``/``cut``, top ``n`` per bin with R's stable
    ``order(decreasing = TRUE)``), the threshold (``which.max`` when NULL) and ``nlsLM`` of
    ``acceleration ~ MAC * (1 - velocity / MSS)`` from MSS = MAC = 7."""
    df = pd.DataFrame({"velocity": velocity, "acceleration": acceleration})
    df = df[df["acceleration"] >= 0]
    df = df[df["velocity"] >= 0]
    top = df["velocity"].max() + 1
    n_breaks = int(top / step + 1e-10)
    breaks = [k * step for k in range(n_breaks + 1)]
    groups = []
    for v in df["velocity"]:
        g = None
        for k in range(1, len(breaks)):
            lo, hi = breaks[k - 1], breaks[k]
            if lo < v <= hi or (k == 1 and v == lo):
                g = k
                break
        groups.append(g)
    df = df.assign(group=groups)
    kept = []
    for _, part in sorted(df.groupby("group"), key=lambda kv: kv[0]):
        best = part.iloc[np.argsort(-part["acceleration"].to_numpy(), kind="stable")]
        kept.append(best.iloc[:n])
    train = pd.concat(kept)
    if velocity_threshold is None:
        velocity_threshold = float(train["velocity"].iloc[int(np.argmax(train["acceleration"].to_numpy()))])
    train = train[train["velocity"] >= velocity_threshold]
    (mss, mac), _ = curve_fit(
        lambda v, mss, mac: mac * (1 - v / mss),
        train["velocity"].to_numpy(),
        train["acceleration"].to_numpy(),
        p0=(7.0, 7.0),
        bounds=(0, np.inf),
        xtol=1e-12,
        ftol=1e-12,
    )
    return {
        "MSS": mss,
        "MAC": mac,
        "TAU": mss / mac,
        "PMAX": mss * mac / 4,
        "n": len(train),
        "thr": velocity_threshold,
    }


@pytest.fixture(scope="module")
def lps() -> pd.DataFrame:
    if not LPS.exists():
        pytest.skip(f"{LPS} is not available on this machine (real-data test)")
    return pd.read_csv(LPS)


@pytest.mark.parametrize("threshold", [4.0, 3.0, None])
def test_parity_with_shorts_on_the_lps_session(lps, threshold):
    ref = shorts_model_in_situ(lps["velocity"].to_numpy(), lps["acceleration"].to_numpy(), threshold)
    got = profile_in_situ(lps, dataclasses.replace(OPEN, velocity_threshold_m_s=threshold), CLEAN, 250_000)
    row = got.profiles.iloc[0]
    assert row["fit_ok"], row["fit_issue"]
    assert row["n_points"] == ref["n"] and row["velocity_threshold_m_s"] == pytest.approx(ref["thr"], abs=0)
    for ours, theirs in (
        ("mss_m_s", "MSS"),
        ("mac_m_s2", "MAC"),
        ("tau_s", "TAU"),
        ("pmax_rel_w_kg", "PMAX"),
    ):
        assert row[ours] == pytest.approx(ref[theirs], rel=1e-3), ours


def test_lps_session_at_4_m_s_gives_the_documented_profile(lps):
    row = profile_in_situ(
        lps, dataclasses.replace(FIT, velocity_threshold_m_s=4.0), CLEAN, 250_000
    ).profiles.iloc[0]
    assert row["fit_ok"] and (row["n_points"], row["n_bins"]) == (32, 16)
    assert (round(row["mss_m_s"], 3), round(row["mac_m_s2"], 3)) == (8.175, 7.892)
    # with the default threshold (speed of the highest acceleration, 1.88 m/s) the line reaches far
    # beyond the 7.22 m/s this basketball player ever ran: flagged, not reported
    auto = profile_in_situ(lps, FIT, CLEAN, 250_000).profiles.iloc[0]
    assert not auto["fit_ok"] and "above the fastest speed recorded (7.22 m/s)" in auto["fit_issue"]
    assert np.isnan(auto["mss_m_s"])


def test_standard_errors_match_nls_on_the_mss_mac_parametrisation(lps):
    thr = 4.0
    got = profile_in_situ(lps, dataclasses.replace(OPEN, velocity_threshold_m_s=thr), CLEAN, 250_000)
    pts = got.points[got.points["used"]]
    popt, pcov = curve_fit(
        lambda v, mss, mac: mac * (1 - v / mss), pts["velocity_m_s"], pts["acceleration_m_s2"], p0=(7, 7)
    )
    row = got.profiles.iloc[0]
    assert row["mss_se"] == pytest.approx(np.sqrt(pcov[0, 0]), rel=1e-4)
    assert row["mac_se"] == pytest.approx(np.sqrt(pcov[1, 1]), rel=1e-4)


# ---------------------------------------------------------------------------------------------
# the vectorised engine against per-group loops
# ---------------------------------------------------------------------------------------------


def test_speed_bins_follow_r_cut_on_the_breaks():
    v = np.array([0.0, 1e-9, 0.2, 0.2000001, 0.4, 4.0, 4.2, 4.2000001, 7.22])
    expected = [1, 1, 1, 2, 2, 20, 21, 22, 37]
    assert speed_bin(v, 0.2).tolist() == expected
    breaks = np.arange(0, 60) * 0.2
    for k in range(1, 60):  # every break falls in the bin it closes, as R's right-closed cut
        assert speed_bin(np.array([breaks[k]]), 0.2)[0] == k


def _random_traces(seed: int, n_groups: int = 7, n: int = 5000):
    rng = np.random.default_rng(seed)
    group = np.sort(rng.integers(0, n_groups, n))
    velocity = np.round(rng.uniform(0, 9, n), 2)  # coarse values: many ties across bins
    acceleration = np.round(3.0 - 0.35 * velocity + rng.normal(0, 1.5, n), 1)  # coarse: ties within bins
    velocity[rng.random(n) < 0.02] = np.nan
    return group, velocity, acceleration


def test_top_points_match_a_sort_per_group_and_bin_including_ties():
    group, v, a = _random_traces(1)
    got = merge_top_points([top_points(group, v, a, FIT)], FIT.top_n)
    df = pd.DataFrame({"g": group, "v": v, "a": a, "row": np.arange(v.size)}).dropna()
    df = df[(df.a >= 0) & (df.v >= 0)].assign(b=lambda d: speed_bin(d.v.to_numpy(), 0.2))
    want = (
        df.sort_values(["g", "b", "a", "row"], ascending=[True, True, False, True])
        .groupby(["g", "b"])
        .head(2)
    )
    assert got.order.tolist() == want["row"].tolist()


def test_chunks_merge_exactly():
    group, v, a = _random_traces(2, n_groups=40, n=20_000)
    args = (group, None, v, a, 40, FIT, dataclasses.replace(CLEAN, max_abs_acceleration_m_s2=100.0))
    whole = reduce_traces(*args, chunk_samples=10**9)
    pieces = reduce_traces(*args, chunk_samples=1000)
    for f in ("group", "bin", "velocity_m_s", "acceleration_m_s2", "order"):
        np.testing.assert_array_equal(getattr(whole.points, f), getattr(pieces.points, f))
    for c in whole.counts:
        np.testing.assert_array_equal(whole.counts[c], pieces.counts[c])


def test_grouped_fit_equals_one_fit_per_group():
    rng = np.random.default_rng(3)
    traces = []
    for g, (mss, mac) in enumerate([(8.0, 7.0), (9.2, 8.5), (7.1, 6.0)]):
        v = rng.uniform(2, mss - 0.3, 4000)
        a = mac * (1 - v / mss) - np.abs(rng.normal(0, 0.4, v.size))  # submaximal cloud under the line
        traces.append(pd.DataFrame({"session_id": f"s{g}", "velocity_m_s": v, "acceleration_m_s2": a}))
    df = pd.concat(traces, ignore_index=True)
    got = profile_in_situ(df, dataclasses.replace(OPEN, velocity_threshold_m_s=3.0), CLEAN, 250_000)
    for (_, prof), (_, trace) in zip(got.profiles.iterrows(), df.groupby("session_id"), strict=True):
        ref = shorts_model_in_situ(
            trace["velocity_m_s"].to_numpy(), trace["acceleration_m_s2"].to_numpy(), 3.0
        )
        assert prof["mss_m_s"] == pytest.approx(ref["MSS"], rel=1e-6)
        assert prof["mac_m_s2"] == pytest.approx(ref["MAC"], rel=1e-6)


def test_a_window_profile_is_the_profile_of_all_its_samples():
    group, v, a = _random_traces(4, n_groups=6, n=12_000)
    clean = dataclasses.replace(CLEAN, max_abs_acceleration_m_s2=100.0)
    reduced = reduce_traces(group, None, v, a, 6, OPEN, clean, 2000)
    athlete = np.array([0, 0, 0, 1, 1, 1])
    day = np.array([0, 10, 20, 0, 3, 40])
    fits = window_fits(reduced, athlete, day, np.array([0, 1]), np.array([20, 40]), 28, OPEN)
    in_window = np.isin(group, [0, 1, 2])  # athlete 0: all three traces; athlete 1: only day 40
    alone = reduce_traces(
        np.zeros(int(in_window.sum()), np.int64), None, v[in_window], a[in_window], 1, OPEN, clean, 10**9
    )
    direct = fit_top_points(alone.points, 1, alone.top_speed_m_s, OPEN)
    assert fits.mss_m_s[0] == pytest.approx(direct.mss_m_s[0], rel=1e-12)
    single = reduce_traces(
        np.zeros(int((group == 5).sum()), np.int64), None, v[group == 5], a[group == 5], 1, OPEN, clean, 10**9
    )
    assert fits.mac_m_s2[1] == pytest.approx(
        fit_top_points(single.points, 1, single.top_speed_m_s, OPEN).mac_m_s2[0]
    )


def test_windows_by_date_from_a_table():
    t = np.arange(0, 60, 0.1)
    rows = []
    for day, start in (("2024-01-01", 3.0), ("2024-01-10", 10.0), ("2024-03-01", 20.0)):
        run = t - start
        v = np.where(run > 0, model_velocity(np.clip(run, 0, None), 8.5, 1.1), 0.0)
        a = np.where(run > 0, model_acceleration(np.clip(run, 0, None), 8.5, 1.1), 0.0)
        rows.append(
            pd.DataFrame(
                {
                    "athlete_id": "a1",
                    "date": day,
                    "session_id": "pitch",
                    "time_s": t,
                    "velocity_m_s": v,
                    "acceleration_m_s2": a,
                }
            )
        )
    res = profile_in_situ_windows(pd.concat(rows), FIT, CLEAN, 250_000, window_days=28).profiles
    assert res["n_traces"].tolist() == [1, 2, 1] and res["window_days"].eq(28).all()
    assert res["mss_m_s"].to_numpy() == pytest.approx(8.5, rel=1e-6)
    assert res["mac_m_s2"].to_numpy() == pytest.approx(8.5 / 1.1, rel=1e-6)


def test_outlier_rejection_drops_a_spike_and_refits():
    v = np.linspace(3.0, 8.0, 400)
    a = 8.0 * (1 - v / 9.0)
    a[200] += 2.5  # one implausibly fast point in the middle of the line
    df = pd.DataFrame({"velocity_m_s": v, "acceleration_m_s2": a})
    plain = profile_in_situ(
        df, dataclasses.replace(OPEN, velocity_threshold_m_s=3.0), CLEAN, 250_000
    ).profiles.iloc[0]
    robust = profile_in_situ(
        df, dataclasses.replace(OPEN, velocity_threshold_m_s=3.0, outlier_z=2.0), CLEAN, 250_000
    ).profiles.iloc[0]
    assert robust["n_rejected"] == 1 and plain["n_rejected"] == 0
    assert abs(robust["mss_m_s"] - 9.0) < 1e-9 < abs(plain["mss_m_s"] - 9.0)


# ---------------------------------------------------------------------------------------------
# bad traces: a clear message or a flagged profile, never a traceback
# ---------------------------------------------------------------------------------------------


def _trace(n: int = 600, rate_hz: float = 10.0, **columns) -> pd.DataFrame:
    t = np.arange(n) / rate_hz
    return pd.DataFrame({"time_s": t, **{k: (v(t) if callable(v) else v) for k, v in columns.items()}})


def _sprint(t: np.ndarray) -> np.ndarray:
    return np.where(t > 5, model_velocity(np.clip(t - 5, 0, None), 8.5, 1.1), 0.5)


@pytest.mark.parametrize(
    ("samples", "message"),
    [
        (pd.DataFrame({"time_s": [], "velocity_m_s": []}), "no samples"),
        (pd.DataFrame({"time_s": [0.0, 0.1], "speed": [1.0, 2.0]}), "need a velocity_m_s"),
        (pd.DataFrame({"velocity_m_s": [1.0, 2.0]}), "time_s (or time) is needed"),
    ],
)
def test_unusable_tables_raise_a_clear_error(samples, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        profile_in_situ(samples, FIT, CLEAN, 250_000)


@pytest.mark.parametrize(
    ("samples", "issue"),
    [
        (_trace(velocity_m_s=lambda t: np.full(t.size, 3.0)), "too few speed bins"),
        (_trace(velocity_m_s=lambda t: np.full(t.size, np.nan)), "no usable samples"),
        (_trace(velocity_m_s=_sprint), ""),
    ],
)
def test_constant_and_empty_traces_are_flagged(samples, issue):
    row = profile_in_situ(samples, FIT, CLEAN, 250_000).profiles.iloc[0]
    assert row["fit_issue"].startswith(issue) and bool(row["fit_ok"]) == (issue == "")


def test_all_below_the_threshold_is_flagged():
    row = profile_in_situ(
        _trace(velocity_m_s=_sprint), dataclasses.replace(FIT, velocity_threshold_m_s=9.0), CLEAN, 250_000
    ).profiles.iloc[0]
    assert row["fit_issue"] == "no accelerating samples at or above the velocity threshold"
    assert row["n_points"] == 0 and np.isnan(row["mss_m_s"])


def test_nan_bursts_spikes_and_text_are_counted_not_fatal():
    df = _trace(n=1200, velocity_m_s=_sprint)
    df.loc[100:130, "velocity_m_s"] = np.nan  # a 3 s dropout
    df.loc[700, "velocity_m_s"] = 12.8  # a spike
    df["velocity_m_s"] = df["velocity_m_s"].astype(object)
    df.loc[900, "velocity_m_s"] = "n/a"
    row = profile_in_situ(df, FIT, CLEAN, 250_000).profiles.iloc[0]
    assert row["n_missing"] == 32 and row["n_implausible_speed"] == 1 and row["n_gaps"] == 1
    counts = [
        "n_usable",
        "n_missing",
        "n_duplicate",
        "n_implausible_speed",
        "n_implausible_acceleration",
        "n_no_acceleration",
    ]
    assert row[counts].sum() == row["n_samples"] == 1200
    assert row["fit_ok"] and row["mss_m_s"] == pytest.approx(8.5, rel=0.02)


def test_50_hz_with_duplicated_rows_profiles_the_same_as_the_clean_trace():
    clean_trace = _trace(n=3000, rate_hz=50.0, velocity_m_s=_sprint)
    doubled = pd.concat([clean_trace, clean_trace]).sort_values("time_s", kind="stable")
    a = profile_in_situ(clean_trace, FIT, CLEAN, 250_000).profiles.iloc[0]
    b = profile_in_situ(doubled, FIT, CLEAN, 250_000).profiles.iloc[0]
    assert b["n_duplicate"] == 3000 and b["n_samples"] == 6000
    assert b["mss_m_s"] == pytest.approx(a["mss_m_s"], rel=1e-12) and a["fit_ok"]
    assert a["mss_m_s"] == pytest.approx(8.5, rel=0.02)
