"""Benchmark: batched Levenberg-Marquardt vs a naive per-trial ``scipy.optimize.curve_fit`` loop.

    .venv/bin/python benchmarks/bench_sprint.py [--trials 10000] [--loop-subset 1000] [--correction none]

Simulates noisy timing-gate trials (gates 5/10/20/30/40 m, 0.01 s timing noise, 0.1-0.5 m
flying start), fits all of them with :func:`sprintlab.sprint.fit_timing_gates` (one batched call)
and with a Python loop of ``curve_fit`` calls on the first ``--loop-subset`` trials (time scaled
to all trials), and prints throughput, the ratio measured in this run and the maximum
parameter difference on the subset. Prints figures only; no asserts on timing.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.optimize import curve_fit

from sprintlab.sprint import fit_timing_gates
from sprintlab.sprint.model import time_at_distance

GATES = np.array([5.0, 10.0, 20.0, 30.0, 40.0])


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


def _model(kind: str):
    if kind == "none":
        return (lambda x, m, tau: time_at_distance(x, m, tau)), [7.0, 0.8]
    if kind == "tc":
        return (lambda x, m, tau, tc: time_at_distance(x, m, tau) - tc), [7.0, 0.8, 0.0]
    raise SystemExit(f"benchmark supports --correction none|tc, not {kind}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--loop-subset", type=int, default=1_000)
    ap.add_argument("--correction", default="none")
    args = ap.parse_args()
    d, t = simulate(args.trials)
    kind = args.correction

    fit_timing_gates(d[:10], t[:10], kind)  # warm-up (imports, caches)
    t0 = time.perf_counter()
    res = fit_timing_gates(d, t, kind)
    t_batch = time.perf_counter() - t0

    model, p0 = _model(kind)
    n_loop = min(args.loop_subset, args.trials)
    loop_params = np.full((n_loop, len(p0)), np.nan)
    t0 = time.perf_counter()
    for i in range(n_loop):
        try:
            # MINPACK LM (unbounded, as nlsLM without bounds); tolerances tightened so that both
            # solvers are converged well below the 1e-6 comparison threshold
            loop_params[i], _ = curve_fit(model, d[i], t[i], p0=p0, method="lm", xtol=1e-12, ftol=1e-12)
        except RuntimeError:
            pass
    t_loop_subset = time.perf_counter() - t0
    t_loop = t_loop_subset * args.trials / n_loop

    ours = np.stack([res.mss_m_s, res.tau_s] + ([res.time_correction_s] if kind == "tc" else []), axis=1)[
        :n_loop
    ]
    both = np.isfinite(loop_params).all(axis=1) & np.isfinite(ours).all(axis=1)
    max_diff = float(np.max(np.abs(ours[both] - loop_params[both]))) if both.any() else float("nan")

    print(f"sprint benchmark: {args.trials} simulated gate trials, correction={kind}")
    print(
        f"  batched LM (sprintlab):  {t_batch:8.3f} s  -> {args.trials / t_batch:12,.0f} trials/s "
        f"(fit_ok {int(res.fit_ok.sum())}/{args.trials}, converged {int(res.converged.sum())})"
    )
    print(
        f"  curve_fit loop:          {t_loop:8.3f} s  -> {args.trials / t_loop:12,.0f} trials/s "
        f"(timed on {n_loop} trials in {t_loop_subset:.3f} s, scaled x{args.trials / n_loop:g})"
    )
    print(f"  speed-up ratio (same run): {t_loop / t_batch:8.1f}x")
    print(f"  max |parameter difference| on the {int(both.sum())} compared trials: {max_diff:.2e}")


if __name__ == "__main__":
    main()
