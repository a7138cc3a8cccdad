"""Benchmark: batched Levenberg-Marquardt vs per-trial ``scipy.optimize.curve_fit`` loops.

    .venv/bin/python benchmarks/bench_sprint.py [--trials 10000] [--loop-subset 1000] [--correction none|tc|fd] [--repeats 3]

Simulates noisy timing-gate trials (gates 5/10/20/30/40 m, 0.01 s timing noise, 0.1-0.5 m
flying start) and fits them three ways, interleaved and best of ``--repeats``:

* :func:`sprintlab.sprint.fit_timing_gates` on all trials in one batched call;
* the reference: an independent loop of ``curve_fit`` calls (MINPACK LM, numerical Jacobian) on
  the plain closed-form model ``t(d) = TAU W0(-e^(-d/(MSS TAU) - 1)) + d/MSS + TAU`` with
  ``scipy.special.lambertw`` - what one would write without sprintlab;
* the same loop around sprintlab's own :func:`~sprintlab.sprint.model.time_at_distance` (the
  benchmark's earlier "naive loop": it shares sprintlab's model code, so it is not independent).

Loops run on the first ``--loop-subset`` trials and are scaled to all trials. Prints throughput,
the ratios measured in this run and the largest parameter difference to each loop on the subset
(absolute over all parameters, and relative for MSS and TAU).
Prints figures only; no asserts on timing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from typing import TypeVar

import numpy as np
from scipy.optimize import curve_fit
from scipy.special import lambertw

from _squad import ROOT  # noqa: F401  (puts this checkout's src first on sys.path)
from sprintlab.sprint import fit_timing_gates
from sprintlab.sprint.model import time_at_distance

GATES = np.array([5.0, 10.0, 20.0, 30.0, 40.0])
Model = Callable[..., np.ndarray]


def simulate(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    mss = rng.uniform(6.5, 10.5, n)
    tau = rng.uniform(0.8, 1.5, n)
    fd = rng.uniform(0.1, 0.5, n)
    d = np.broadcast_to(GATES, (n, GATES.size)).copy()
    t = (
        time_at_distance(d + fd[:, None], mss[:, None], tau[:, None])
        - time_at_distance(fd, mss, tau)[:, None]
    )
    return d, t + rng.normal(0, 0.01, t.shape)


def lambert_time(d: np.ndarray, mss: float, tau: float) -> np.ndarray:
    """The plain closed form ``t(d) = TAU W0(-e^(-d/(MSS TAU) - 1)) + d/MSS + TAU`` (Jovanovic & Vescovi 2022)."""
    return tau * lambertw(-np.exp(-d / (mss * tau) - 1.0), k=0).real + d / mss + tau


def loop_models(kind: str, t_of_d: Model) -> tuple[Model, list[float]]:
    """The gate model of correction ``kind`` built on ``t_of_d(d, mss, tau)`` and its start values."""
    if kind == "none":
        return (lambda x, m, tau: t_of_d(x, m, tau)), [7.0, 0.8]
    if kind == "tc":
        return (lambda x, m, tau, tc: t_of_d(x, m, tau) - tc), [7.0, 0.8, 0.0]
    if kind == "fd":
        return (lambda x, m, tau, fd: t_of_d(x + fd, m, tau) - t_of_d(fd, m, tau)), [7.0, 0.8, 0.2]
    raise SystemExit(f"benchmark supports --correction none|tc|fd, not {kind}")


def curve_fit_loop(model: Model, p0: list[float], d: np.ndarray, t: np.ndarray, bounded: bool) -> np.ndarray:
    """One ``curve_fit`` per trial; NaN where it fails. MINPACK LM (unbounded, as nlsLM without
    bounds) with tolerances tightened so that both solvers converge well below the compared
    differences; trust-region reflective when the flying distance must stay >= 0."""
    out = np.full((len(d), len(p0)), np.nan)
    for i in range(len(d)):
        try:
            if bounded:
                out[i], _ = curve_fit(
                    model, d[i], t[i], p0=p0, bounds=([0.5, 0.02, 0.0], [25, 10, 20]), xtol=1e-12, ftol=1e-12
                )
            else:
                out[i], _ = curve_fit(model, d[i], t[i], p0=p0, method="lm", xtol=1e-12, ftol=1e-12)
        except (RuntimeError, ValueError):
            pass
    return out


def rss_excess(model: Model, d: np.ndarray, t: np.ndarray, ours: np.ndarray, loop: np.ndarray) -> float:
    """Largest ``(RSS_batched - RSS_loop) / RSS_loop`` over the trials, both evaluated with the
    loop's model: <= 0 means the batched fit is at least as close to the least-squares optimum."""
    worst = -np.inf
    for i in range(len(ours)):
        rss_b = float(np.sum((model(d[i], *ours[i]) - t[i]) ** 2))
        rss_l = float(np.sum((model(d[i], *loop[i]) - t[i]) ** 2))
        worst = max(worst, (rss_b - rss_l) / rss_l)
    return worst


T = TypeVar("T")


def _timed(fn: Callable[[], T], times: list[float]) -> T:
    t0 = time.perf_counter()
    out = fn()
    times.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--loop-subset", type=int, default=1_000)
    ap.add_argument("--correction", default="none")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    d, t = simulate(args.trials)
    kind = args.correction
    n_loop = min(args.loop_subset, args.trials)
    loops = {
        "independent curve_fit loop (scipy lambertw)": loop_models(kind, lambert_time),
        "curve_fit loop on sprintlab time_at_distance": loop_models(kind, time_at_distance),
    }
    fit_timing_gates(d[:10], t[:10], kind)  # warm-up (imports, caches)
    times: dict[str, list[float]] = {"batched": [], **{name: [] for name in loops}}
    params: dict[str, np.ndarray] = {}
    for _ in range(args.repeats):
        res = _timed(lambda: fit_timing_gates(d, t, kind), times["batched"])
        for name, (model, p0) in loops.items():
            params[name] = _timed(
                partial(curve_fit_loop, model, p0, d[:n_loop], t[:n_loop], kind == "fd"), times[name]
            )
    extra = {"none": [], "tc": [res.time_correction_s], "fd": [res.flying_distance_m]}[kind]
    ours = np.stack([res.mss_m_s, res.tau_s, *extra], axis=1)[:n_loop]
    t_batch = min(times["batched"])
    print(f"sprint benchmark: {args.trials} simulated gate trials, correction={kind}, best of {args.repeats}")
    print(
        f"  batched LM (sprintlab): {t_batch:8.3f} s -> {args.trials / t_batch:10,.0f} trials/s "
        f"(fit_ok {int(res.fit_ok.sum())}/{args.trials}, converged {int(res.converged.sum())})"
    )
    for name in loops:
        t_loop = min(times[name]) * args.trials / n_loop
        both = np.isfinite(params[name]).all(axis=1) & np.isfinite(ours).all(axis=1)
        diff = float(np.max(np.abs(ours[both] - params[name][both]))) if both.any() else float("nan")
        rel = (
            np.max(np.abs(ours[both, :2] / params[name][both, :2] - 1.0), axis=0)
            if both.any()
            else [np.nan] * 2
        )
        model = loops[name][0]
        excess = rss_excess(model, d[:n_loop][both], t[:n_loop][both], ours[both], params[name][both])
        print(
            f"  {name}: {t_loop:8.3f} s -> {args.trials / t_loop:8,.0f} trials/s "
            f"({1e3 * min(times[name]) / n_loop:.3f} ms/trial on {n_loop} trials); "
            f"batched is {t_loop / t_batch:5.1f}x faster\n"
            f"      max |param diff| {diff:.1e} (relative: MSS {rel[0]:.1e}, TAU {rel[1]:.1e}) "
            f"on {int(both.sum())} trials; "
            f"max relative RSS excess of the batched fit {excess:+.1e}"
        )


if __name__ == "__main__":
    main()
