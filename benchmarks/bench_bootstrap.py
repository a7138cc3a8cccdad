"""Benchmark: the cluster bootstrap as multiplicity weights vs the row-copying loop it replaced.

    .venv/bin/python benchmarks/bench_bootstrap.py [--boot 500] [--repeats 3] [--train]

Builds test sets shaped like the default squad's held-out units (``params.yaml``: 200 athletes x
104 weeks, split 0.4 / 0.4 -> hamstring 3,193 units of 80 athletes at 2.4 % prevalence, transfer
172 units of 76 athletes at 59 %) with the predictions ``train`` scores on them: the model, the
oracle and the strength-only logistic (continuous), the prevalence baseline (one value) and the
ACWR rule (two values). Times :func:`sprintlab.models.evaluation.bootstrap_cis` and the previous
row-copying loop (sklearn ``roc_auc_score`` + Newton slope on the copied rows, kept below as
:func:`row_copying_bootstrap_cis`) interleaved, best of ``--repeats``, and prints both, their
ratio and the largest interval difference. ``--train`` also simulates the ``params.yaml`` squad
and times ``train_and_evaluate`` for both targets (the work of the ``train_*`` stages before
registering) with each bootstrap. Prints figures only; no asserts on timing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
from sklearn.metrics import roc_auc_score

from _squad import ROOT  # noqa: F401  (puts this checkout's src first on sys.path)
from sprintlab.models import evaluation
from sprintlab.models.evaluation import bootstrap_cis, calibration_slope_intercept

# (units, athletes, prevalence) of the default squad's test split (measured with params.yaml)
TEST_SETS = {"hamstring": (3193, 80, 0.024), "transfer": (172, 76, 0.59)}
Scorer = Callable[[np.ndarray, np.ndarray, np.ndarray, int, int], dict[str, list[float]]]


def row_copying_bootstrap_cis(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int = 500, seed: int = 0
) -> dict[str, list[float]]:
    """The previous implementation: copy each drawn athlete's rows, then sklearn's AUC and the
    Newton calibration slope on the copies."""
    rng = np.random.default_rng(seed)
    uniq, inv = np.unique(np.asarray(groups), return_inverse=True)
    members = [np.flatnonzero(inv == k) for k in range(uniq.size)]
    aucs, slopes = [], []
    for _ in range(n_boot):
        pick = rng.integers(0, uniq.size, uniq.size)
        idx = np.concatenate([members[k] for k in pick])
        if np.unique(y[idx]).size == 2:
            aucs.append(roc_auc_score(y[idx], p[idx]))
            slopes.append(calibration_slope_intercept(y[idx], p[idx])[0])

    def ci(v: list[float]) -> list[float]:
        v = [x for x in v if np.isfinite(x)]
        return [float(x) for x in np.percentile(v, [2.5, 97.5])] if len(v) >= 10 else [float("nan")] * 2

    return {"roc_auc_ci": ci(aucs), "calibration_slope_ci": ci(slopes)}


def held_out_set(
    n: int, n_athletes: int, prevalence: float, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, dict]:
    """Labels, athlete ids and the five prediction vectors scored in ``train``."""
    rng = np.random.default_rng(seed)
    groups = np.sort(rng.integers(0, n_athletes, n)).astype(str)
    risk = rng.normal(0, 1, n)
    a = np.log(prevalence / (1 - prevalence))
    y = (rng.random(n) < 1 / (1 + np.exp(-(a + risk)))).astype(int)
    flag = risk + rng.normal(0, 1, n) > 1.5
    preds = {
        "model": 1 / (1 + np.exp(-(a + 0.7 * risk + rng.normal(0, 0.5, n)))),
        "oracle": 1 / (1 + np.exp(-(a + risk))),
        "strength_only": 1 / (1 + np.exp(-(a + 0.2 * risk + rng.normal(0, 0.3, n)))),
        "prevalence": np.full(n, y.mean()),
        "acwr_rule": np.where(flag, y[flag].mean(), y[~flag].mean()),
    }
    return y, groups, preds


def _best_of(fn: Scorer, args: tuple, times: list[float]) -> dict[str, list[float]]:
    t0 = time.perf_counter()
    out = fn(*args)
    times.append(time.perf_counter() - t0)
    return out


def time_training(repeats: int) -> None:
    """``train_and_evaluate`` on the ``params.yaml`` squad for both targets, with the row-copying
    and with the weighted bootstrap (interleaved, best of ``repeats``)."""
    from _squad import simulate_units
    from sprintlab.domain import TARGETS
    from sprintlab.models.training import train_and_evaluate

    params, units, _ = simulate_units(
        argparse.Namespace(params=ROOT / "params.yaml", athletes=None, weeks=None)
    )
    for target in TARGETS:
        mp = getattr(params.train, target)
        best: dict[str, float] = {}
        cis: dict[str, dict] = {}
        for _ in range(repeats):
            for name, fn in (("old", row_copying_bootstrap_cis), ("new", bootstrap_cis)):
                evaluation.bootstrap_cis = fn  # score_block looks it up at call time
                t0 = time.perf_counter()
                res = train_and_evaluate(
                    units[target],
                    target=target,
                    features=mp.features,
                    family=mp.model_family,
                    model_params=mp.estimator_kwargs(),
                    split_params=params.split.model_dump(exclude={"seed"}),
                    flag_threshold=mp.flag_threshold,
                    n_boot=params.evaluate.bootstrap,
                    acwr_threshold=params.evaluate.acwr_threshold,
                    seed=params.split.seed,
                    outcome=mp.outcome_column(),
                )
                best[name] = min(best.get(name, np.inf), time.perf_counter() - t0)
                cis[name] = res.metrics
        evaluation.bootstrap_cis = bootstrap_cis
        diff = max(
            abs(a - b)
            for block in ("model", "oracle")
            if block in cis["old"]
            for key in ("roc_auc_ci", "calibration_slope_ci")
            for a, b in zip(cis["old"][block][key], cis["new"][block][key], strict=True)
            if np.isfinite(a)
        )
        print(
            f"train_and_evaluate({target}, n_boot={params.evaluate.bootstrap}): row-copying {best['old']:.1f} s, "
            f"weighted {best['new']:.1f} s ({best['old'] / best['new']:.1f}x); max |CI diff| model/oracle {diff:.1e}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--boot", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--train", action="store_true", help="also time train_and_evaluate on the params.yaml squad"
    )
    args = ap.parse_args()
    print(f"cluster bootstrap, {args.boot} resamples; best of {args.repeats}, old and new interleaved")
    print(f"{'test set':<28}{'rows':>6}{'old s':>9}{'new s':>9}{'ratio':>8}{'max |CI diff|':>15}")
    total_old = total_new = 0.0
    for target, (n, n_athletes, prevalence) in TEST_SETS.items():
        y, groups, preds = held_out_set(n, n_athletes, prevalence)
        for name, p in preds.items():
            t_old: list[float] = []
            t_new: list[float] = []
            for _ in range(args.repeats):
                old = _best_of(row_copying_bootstrap_cis, (y, p, groups, args.boot, 7), t_old)
                new = _best_of(bootstrap_cis, (y, p, groups, args.boot, 7), t_new)
            diff = max(
                (
                    float(np.max(np.abs(np.subtract(old[k], new[k]))))
                    for k in old
                    if np.isfinite(old[k]).all()
                ),
                default=0.0,
            )
            same_nan = all(np.array_equal(np.isnan(old[k]), np.isnan(new[k])) for k in old)
            total_old += min(t_old)
            total_new += min(t_new)
            print(
                f"{target + ' / ' + name:<28}{n:>6}{min(t_old):>9.3f}{min(t_new):>9.3f}"
                f"{min(t_old) / min(t_new):>7.1f}x{diff:>15.1e}{'' if same_nan else '  NaN pattern differs'}"
            )
    print(f"{'all ten scorings':<34}{total_old:>9.3f}{total_new:>9.3f}{total_old / total_new:>7.1f}x")
    if args.train:
        time_training(args.repeats)


if __name__ == "__main__":
    main()
