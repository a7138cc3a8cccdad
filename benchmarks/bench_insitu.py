"""Benchmark: vectorised in-situ acceleration-speed profiles vs a naive per-session pandas loop.

    .venv/bin/python benchmarks/bench_insitu.py [--athletes 30] [--weeks 40] [--sessions-per-week 5]
        [--minutes 85] [--hz 10] [--kernel-samples 20000000] [--loop-sessions 60]

Traces come from the simulator's session generator (``sprintlab.simulate.tracking.speed_traces``:
jogging baseline, all-out and submaximal efforts, speed noise, dropouts, spikes): a pool of 64
sessions is generated once and streamed chunk by chunk (generation is not timed). Prints:

1. the in-situ fit itself (speed bins + top-n per bin + grouped line fit) on clean velocity and
   acceleration, samples per second;
2. the whole profile from raw samples: cleaning and Savitzky-Golay acceleration from velocity,
   then the fit (and with exported acceleration);
3. a season of a squad (default 30 athletes x 40 weeks x 5 sessions x 85 min at 10 Hz, about 306
   million samples) profiled per session and per 4-week window, chunk by chunk;
4. a naive loop - one pandas groupby per session (bin, sort, head(2), polyfit) - on
   ``--loop-sessions`` sessions of the same data, scaled per sample, and the ratio in this run.

numpy runs these on one core. Prints figures only; no asserts on timing.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.config import load_params
from sprintlab.simulate.coefficients import TRACKING_TRACES
from sprintlab.simulate.tracking import speed_traces
from sprintlab.sprint.insitu import (
    ReducedTraces,
    fit_top_points,
    merge_top_points,
    reduce_traces,
    settings_from_params,
    top_points,
    window_fits,
)
from sprintlab.sprint.tracking import clean_trace

ROOT = Path(__file__).resolve().parents[1]
POOL_SESSIONS = 64


@dataclasses.dataclass(frozen=True)
class Pool:
    """Generated sessions, flat: time (s), exported speed, and the cleaned speed/acceleration."""

    n_samples: int  # per session
    time_s: np.ndarray
    speed_m_s: np.ndarray
    clean_speed_m_s: np.ndarray
    clean_acceleration_m_s2: np.ndarray


def make_pool(minutes: float, hz: float, seed: int = 7) -> Pool:
    """``POOL_SESSIONS`` sessions of athletes with MSS 7.5-9.5 m/s and TAU 0.9-1.3 s."""
    rng = np.random.default_rng(seed)
    coef = dataclasses.replace(TRACKING_TRACES, session_minutes=minutes, rate_hz=hz)
    speed, _ = speed_traces(
        rng, rng.uniform(7.5, 9.5, POOL_SESSIONS), rng.uniform(0.9, 1.3, POOL_SESSIONS), coef
    )
    n = speed.shape[1]
    time_s = np.tile(np.arange(n) / hz, POOL_SESSIONS)
    group = np.repeat(np.arange(POOL_SESSIONS), n)
    _, cleaning = settings_from_params(load_params(ROOT / "params.yaml").insitu)
    clean = clean_trace(group, time_s, speed.ravel(), None, POOL_SESSIONS, cleaning)
    return Pool(n, time_s, speed.ravel(), clean.velocity_m_s, clean.acceleration_m_s2)


def stream(pool: Pool, n_sessions: int, chunk_samples: int):
    """Chunks of whole sessions cycling through the pool: (first session number, sessions, rows)."""
    per_chunk = max(1, chunk_samples // pool.n_samples)
    for first in range(0, n_sessions, per_chunk):
        k = min(per_chunk, n_sessions - first)
        lo = (first % POOL_SESSIONS) * pool.n_samples
        if (first % POOL_SESSIONS) + k > POOL_SESSIONS:
            lo = 0
        yield first, k, slice(lo, lo + k * pool.n_samples)


def bench_kernel(pool: Pool, n_samples: int, chunk_samples: int) -> float:
    """Samples/s of binning + top-n + fit on clean arrays (the in-situ fit alone)."""
    settings, _ = settings_from_params(load_params(ROOT / "params.yaml").insitu)
    n_sessions = max(1, n_samples // pool.n_samples)
    t0 = time.perf_counter()
    parts = []
    for first, k, rows in stream(pool, n_sessions, chunk_samples):
        group = np.repeat(np.arange(k), pool.n_samples)
        pts = top_points(group, pool.clean_speed_m_s[rows], pool.clean_acceleration_m_s2[rows], settings)
        parts.append(dataclasses.replace(pts, group=pts.group + first))
    merged = merge_top_points(parts, settings.top_n)
    fit = fit_top_points(merged, n_sessions, np.full(n_sessions, 10.0), settings)
    elapsed = time.perf_counter() - t0
    assert fit.fit_ok.mean() > 0.5
    return n_sessions * pool.n_samples / elapsed


def bench_profile(pool: Pool, n_sessions: int, chunk_samples: int, exported: bool) -> tuple[float, int]:
    """Samples/s of the whole profile from raw samples (cleaning + acceleration + fit)."""
    settings, cleaning = settings_from_params(load_params(ROOT / "params.yaml").insitu)
    t0 = time.perf_counter()
    parts, tops = [], []
    for first, k, rows in stream(pool, n_sessions, chunk_samples):
        group = np.repeat(np.arange(k), pool.n_samples)
        red = reduce_traces(
            group,
            pool.time_s[rows],
            pool.speed_m_s[rows],
            pool.clean_acceleration_m_s2[rows] if exported else None,
            k,
            settings,
            cleaning,
            chunk_samples,
        )
        parts.append(dataclasses.replace(red.points, group=red.points.group + first))
        tops.append(red.top_speed_m_s)
    fit = fit_top_points(merge_top_points(parts, settings.top_n), n_sessions, np.concatenate(tops), settings)
    return n_sessions * pool.n_samples / (time.perf_counter() - t0), int(fit.fit_ok.sum())


def bench_season(
    pool: Pool, athletes: int, weeks: int, per_week: int, chunk_samples: int
) -> dict[str, float]:
    """A season profiled per session and per 4-week window (every week end, every athlete)."""
    params = load_params(ROOT / "params.yaml").insitu
    settings, cleaning = settings_from_params(params)
    n_sessions = athletes * weeks * per_week
    session_athlete = np.repeat(np.arange(athletes), weeks * per_week)
    session_day = np.tile(
        np.repeat(np.arange(weeks) * 7, per_week) + np.tile(np.arange(per_week), weeks), athletes
    )
    t0 = time.perf_counter()
    parts, tops = [], []
    for first, k, rows in stream(pool, n_sessions, chunk_samples):
        group = np.repeat(np.arange(k), pool.n_samples)
        red = reduce_traces(
            group, pool.time_s[rows], pool.speed_m_s[rows], None, k, settings, cleaning, chunk_samples
        )
        parts.append(dataclasses.replace(red.points, group=red.points.group + first))
        tops.append(red.top_speed_m_s)
    t_reduce = time.perf_counter() - t0
    points = merge_top_points(parts, settings.top_n)
    top = np.concatenate(tops)
    sessions = fit_top_points(points, n_sessions, top, settings)
    reduced = ReducedTraces(points=points, counts={}, top_speed_m_s=top, n_groups=n_sessions)
    ends = np.arange(weeks) * 7 + 6
    windows = window_fits(
        reduced,
        session_athlete,
        session_day,
        np.repeat(np.arange(athletes), weeks),
        np.tile(ends, athletes),
        params.window_days,
        settings,
    )
    total = time.perf_counter() - t0
    return {
        "samples": n_sessions * pool.n_samples,
        "seconds": total,
        "reduce_seconds": t_reduce,
        "sessions_ok": float(sessions.fit_ok.mean()),
        "windows_ok": float(windows.fit_ok.mean()),
        "n_windows": float(windows.fit_ok.size),
    }


def naive_loop(pool: Pool, n_sessions: int, threshold_m_s: float = 3.0) -> float:
    """Samples/s of a per-session pandas loop on clean samples: filter, bin, sort, head(2), polyfit."""
    n = n_sessions * pool.n_samples
    df = pd.DataFrame(
        {
            "session": np.repeat(np.arange(n_sessions), pool.n_samples),
            "v": pool.clean_speed_m_s[:n],
            "a": pool.clean_acceleration_m_s2[:n],
        }
    )
    t0 = time.perf_counter()
    out = []
    for _, s in df.groupby("session"):
        s = s[(s["a"] >= 0) & (s["v"] >= 0)]
        s = s.assign(bin=np.ceil(s["v"] / 0.2))
        top = s.sort_values(["bin", "a"], ascending=[True, False]).groupby("bin").head(2)
        top = top[top["v"] >= threshold_m_s]
        slope, intercept = np.polyfit(top["v"], top["a"], 1)
        out.append((-intercept / slope, intercept))
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--athletes", type=int, default=30)
    ap.add_argument("--weeks", type=int, default=40)
    ap.add_argument("--sessions-per-week", type=int, default=5)
    ap.add_argument("--minutes", type=float, default=85.0)
    ap.add_argument("--hz", type=float, default=10.0)
    ap.add_argument("--kernel-samples", type=int, default=20_000_000)
    ap.add_argument("--loop-sessions", type=int, default=60)
    args = ap.parse_args()
    chunk = load_params(ROOT / "params.yaml").insitu.chunk_samples
    pool = make_pool(args.minutes, args.hz)
    print(
        f"session: {args.minutes:g} min at {args.hz:g} Hz = {pool.n_samples:,} samples; chunks of {chunk:,}"
    )
    kernel = bench_kernel(pool, args.kernel_samples, chunk)
    print(f"in-situ fit (bins + top-2 + line) on clean samples: {kernel / 1e6:6.1f} M samples/s")
    n_sessions = max(1, args.kernel_samples // pool.n_samples)
    derived, ok = bench_profile(pool, n_sessions, chunk, exported=False)
    exported, _ = bench_profile(pool, n_sessions, chunk, exported=True)
    print(
        f"whole profile from raw samples, acceleration derived: {derived / 1e6:6.1f} M samples/s ({ok}/{n_sessions} fitted)"
    )
    print(f"whole profile from raw samples, acceleration exported: {exported / 1e6:6.1f} M samples/s")
    naive = naive_loop(pool, min(args.loop_sessions, POOL_SESSIONS))
    print(f"naive per-session pandas loop (fit only, clean samples): {naive / 1e6:6.2f} M samples/s")
    print(
        f"ratio in this run: fit {kernel / naive:.0f}x, whole profile {derived / naive:.0f}x the naive loop"
    )
    season = bench_season(pool, args.athletes, args.weeks, args.sessions_per_week, chunk)
    print(
        f"season: {args.athletes} athletes x {args.weeks} weeks x {args.sessions_per_week} sessions = "
        f"{season['samples'] / 1e6:.0f} M samples profiled in {season['seconds']:.1f} s "
        f"({season['samples'] / season['seconds'] / 1e6:.1f} M samples/s; cleaning + top points "
        f"{season['reduce_seconds']:.1f} s); {season['sessions_ok']:.0%} of sessions and "
        f"{season['windows_ok']:.0%} of {season['n_windows']:.0f} 4-week windows fitted"
    )
    naive_season = season["samples"] / naive
    print(f"the naive loop would take about {naive_season:.0f} s for the season (fit only)")


if __name__ == "__main__":
    main()
