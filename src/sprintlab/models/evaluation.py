"""Honest evaluation: athlete- and time-grouped split, baselines, metrics with bootstrap intervals."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@dataclass(frozen=True)
class Split:
    """Row positions of training and test units."""

    train: np.ndarray
    test: np.ndarray
    cutoff: pd.Timestamp
    test_athletes: tuple[str, ...]


def athlete_time_split(
    units: pd.DataFrame,
    *,
    test_athlete_fraction: float = 0.3,
    test_time_fraction: float = 0.3,
    purge_days: int = 0,
    seed: int = 0,
) -> Split:
    """Train on earlier units of some athletes, test on later units of *other* athletes.

    The cutoff is the ``1 - test_time_fraction`` quantile of ``unit_date``. Training units are
    those of non-test athletes dated at least ``purge_days`` before the cutoff (so no training
    label window reaches into the test period); test units are those of test athletes on or after
    the cutoff.
    """
    if not 0 < test_athlete_fraction < 1 or not 0 < test_time_fraction < 1:
        raise ValueError("test fractions must lie strictly between 0 and 1")
    rng = np.random.default_rng(seed)
    athletes = np.sort(units["athlete_id"].unique())
    n_test = max(1, int(round(test_athlete_fraction * athletes.size)))
    test_ath = np.sort(rng.choice(athletes, n_test, replace=False))
    dates = pd.to_datetime(units["unit_date"])
    cutoff = dates.quantile(1 - test_time_fraction)
    in_test = units["athlete_id"].isin(test_ath).to_numpy()
    train = np.flatnonzero(~in_test & (dates < cutoff - pd.Timedelta(days=purge_days)).to_numpy())
    test = np.flatnonzero(in_test & (dates >= cutoff).to_numpy())
    return Split(train=train, test=test, cutoff=cutoff, test_athletes=tuple(test_ath))


def calibration_slope_intercept(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    """Logistic recalibration: logit P(y=1) = a + b * logit(p) (Cox 1958); ideal b = 1, a = 0.

    Unpenalised maximum likelihood by Newton-Raphson on the two parameters (NaN when y has one
    class, p is constant, or Newton does not converge in 100 steps as under complete separation).
    """
    y = np.asarray(y, dtype=float)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    lp = np.log(p / (1 - p))
    if np.unique(y).size < 2 or np.std(lp) == 0:
        return float("nan"), float("nan")
    X = np.column_stack([np.ones_like(lp), lp])
    beta = np.array([np.log(y.mean() / (1 - y.mean())), 0.0])
    for _ in range(100):
        mu = 1 / (1 + np.exp(-np.clip(X @ beta, -35, 35)))
        w = mu * (1 - mu)
        try:
            step = np.linalg.solve(X.T @ (X * w[:, None]), X.T @ (y - mu))
        except np.linalg.LinAlgError:  # e.g. two distinct predictions and separation
            return float("nan"), float("nan")
        beta = beta + step
        if np.max(np.abs(step)) < 1e-10:
            return float(beta[1]), float(beta[0])
    return float("nan"), float("nan")  # no convergence: separation, no finite maximum


def point_metrics(y: np.ndarray, p: np.ndarray, threshold: float) -> dict[str, float]:
    """ROC AUC, PR AUC, Brier, log loss, calibration slope/intercept, sensitivity/precision at threshold."""
    y = np.asarray(y, dtype=int)
    p = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    both = np.unique(y).size == 2
    slope, intercept = calibration_slope_intercept(y, p)
    flag = p >= threshold
    tp = int((flag & (y == 1)).sum())
    return {
        "roc_auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y, p)) if both else float("nan"),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, p, labels=[0, 1])),
        "calibration_slope": slope,
        "calibration_intercept": intercept,
        "sensitivity": float(tp / max(int(y.sum()), 1)),
        "precision": float(tp / max(int(flag.sum()), 1)) if flag.any() else float("nan"),
        "flag_threshold": float(threshold),
    }


BOOT_CHUNK_CELLS = 1 << 17  # resamples x rows per batch of :func:`bootstrap_cis` (fits the CPU cache)
NEWTON_MAX_STEPS = 100  # as :func:`calibration_slope_intercept`
NEWTON_STEP_TOL = 1e-10


def weighted_roc_auc(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC of ``p`` for labels ``y`` (0/1) when row i counts ``w_i`` times, for every row of
    ``weights`` (shape ``(n,)`` or ``(n_sets, n)``, non-negative integers).

    Mann-Whitney U with tied ranks (Hanley & McNeil 1982):

        AUC = sum_{i: y=1} sum_{j: y=0} w_i w_j (1[p_j < p_i] + 1/2 1[p_j = p_i]) / (W+ W-)

    with ``W+``, ``W-`` the weighted class totals. After one sort of ``p``, with ``P_t`` and ``N_t``
    the weighted positives and negatives of the t-th block of equal scores,
    ``AUC = sum_t P_t (N_1 + ... + N_{t-1} + N_t / 2) / (W+ W-)``. With integer weights every sum
    is an exact integer (or half-integer) in floating point, so the result is the correctly
    rounded ratio - equal to ``sklearn.metrics.roc_auc_score`` on the explicitly repeated rows up
    to that function's own rounding. Returns one AUC per weight set (shape ``(n_sets,)``, ``(1,)``
    for 1-D weights); NaN for a set without both classes.
    """
    w = np.atleast_2d(np.asarray(weights, dtype=float))
    order = np.argsort(np.asarray(p, dtype=float), kind="stable")
    ps = np.asarray(p, dtype=float)[order]
    starts = np.flatnonzero(np.r_[True, ps[1:] != ps[:-1]])
    wo = w[:, order]
    all_t = np.add.reduceat(wo, starts, axis=1)
    wo *= (np.asarray(y) == 1)[order]
    pos_t = np.add.reduceat(wo, starts, axis=1)
    neg_t = all_t - pos_t  # integers: exact
    below = np.cumsum(neg_t, axis=1) - neg_t
    num = np.sum(pos_t * (below + 0.5 * neg_t), axis=1)
    den = pos_t.sum(axis=1) * neg_t.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = np.where(den > 0, num / den, np.nan)
    return auc


def _solve_2x2(h: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Newton steps ``h_b^-1 g_b`` of a batch ``(m, 2, 2)``; ``ok`` is False where ``h_b`` is
    singular (``numpy.linalg.solve`` raises), as in :func:`calibration_slope_intercept`."""
    try:
        return np.linalg.solve(h, g[:, :, None])[:, :, 0], np.ones(len(h), dtype=bool)
    except np.linalg.LinAlgError:
        steps, ok = np.zeros_like(g), np.ones(len(h), dtype=bool)
        for b in range(len(h)):
            try:
                steps[b] = np.linalg.solve(h[b], g[b])
            except np.linalg.LinAlgError:
                ok[b] = False
        return steps, ok


def _logit(p: np.ndarray) -> np.ndarray:
    """``log(p / (1 - p))`` after clipping ``p`` to ``[1e-6, 1 - 1e-6]`` (as the point metrics)."""
    pc = np.clip(np.asarray(p, dtype=float), 1e-6, 1 - 1e-6)
    return np.log(pc / (1 - pc))


def _newton_sums(
    beta: np.ndarray, lp: np.ndarray, w: np.ndarray, wy: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted Hessian ``(m, 2, 2)`` and score ``(m, 2)`` of the logistic recalibration at ``beta``:
    ``H = sum_i w_i mu_i (1 - mu_i) x_i x_i'`` and ``g = sum_i w_i (y_i - mu_i) x_i`` with
    ``x_i = (1, lp_i)``, ``mu_i = 1 / (1 + e^(-clip(x_i beta, -35, 35)))``; ``wy = w * y``.

    Row-wise sums (not matrix products), so a resample's fit never depends on its batch."""
    mu = beta[:, 1:] * lp
    mu += beta[:, :1]
    np.clip(mu, -35, 35, out=mu)
    np.negative(mu, out=mu)
    np.exp(mu, out=mu)
    mu += 1
    np.reciprocal(mu, out=mu)
    r = w * mu
    hw = r - r * mu  # w mu (1 - mu)
    np.subtract(wy, r, out=r)  # w (y - mu)
    hl = hw * lp
    h01 = hl.sum(axis=1)
    hl *= lp
    h = np.stack([np.stack([hw.sum(axis=1), h01], axis=1), np.stack([h01, hl.sum(axis=1)], axis=1)], axis=1)
    g0 = r.sum(axis=1)
    r *= lp
    return h, np.stack([g0, r.sum(axis=1)], axis=1)


def weighted_calibration_slopes(y: np.ndarray, p: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Calibration slope b of ``logit P(y=1) = a + b logit(p)`` (Cox 1958) when row i counts
    ``w_i`` times, for every row of ``weights`` ``(n_sets, n)``: the batched, weighted form of
    :func:`calibration_slope_intercept` (same start, steps, tolerance and NaN rules).

    Newton-Raphson on ``beta = (a, b)`` with ``x_i = (1, logit p_i)``, ``mu_i = 1 / (1 + e^(-x_i beta))``:

        H = sum_i w_i mu_i (1 - mu_i) x_i x_i',   g = sum_i w_i (y_i - mu_i) x_i,   beta += H^-1 g

    from ``a = logit(ybar_w)``, ``b = 0``, until every component of the step is below 1e-10 (at
    most 100 steps). NaN when a set has one class or one distinct prediction, when ``H`` is
    singular or when Newton does not converge (complete separation: no finite maximum).
    """
    y = np.asarray(y, dtype=float)
    lp = _logit(p)
    w = np.asarray(weights, dtype=float)
    wy = w * y
    ybar = wy.sum(axis=1) / w.sum(axis=1)
    seen = w > 0
    varies = np.where(seen, lp, np.inf).min(axis=1) < np.where(seen, lp, -np.inf).max(axis=1)
    running = varies & (ybar > 0) & (ybar < 1)
    beta = np.zeros((len(w), 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        beta[:, 0] = np.log(ybar / (1 - ybar))
    slopes = np.full(len(w), np.nan)
    for _ in range(NEWTON_MAX_STEPS):
        act = np.flatnonzero(running)
        if act.size == 0:
            break
        if act.size == len(w):
            h, g = _newton_sums(beta, lp, w, wy)
        else:
            h, g = _newton_sums(beta[act], lp, w[act], wy[act])
        step, ok = _solve_2x2(h, g)
        beta[act] += step
        done = ok & (np.max(np.abs(step), axis=1) < NEWTON_STEP_TOL)
        slopes[act[done]] = beta[act[done], 1]
        running[act[~ok | done]] = False
    return slopes


def cluster_weights(groups: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """``(n_boot, n_rows)`` multiplicity of every row in each cluster bootstrap resample: a row
    counts as often as its athlete was drawn (``n_athletes`` draws with replacement); no rows of
    weights for ``n_boot = 0``."""
    rng = np.random.default_rng(seed)
    uniq, inv = np.unique(np.asarray(groups), return_inverse=True)
    if n_boot <= 0:
        return np.zeros((0, inv.size), dtype=int)
    counts = np.stack(
        [np.bincount(rng.integers(0, uniq.size, uniq.size), minlength=uniq.size) for _ in range(n_boot)]
    )
    return counts[:, inv.reshape(-1)]


def bootstrap_cis(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int = 500, seed: int = 0
) -> dict[str, list[float]]:
    """95 % percentile intervals of ROC AUC and of the calibration slope from one cluster
    bootstrap over athletes (resamples where a class is missing are skipped; NaN with fewer than
    10 usable resamples).

    A resample is a vector of multiplicity weights (how often each athlete was drawn, given to
    each of their rows), so the metrics are computed without materialising the resampled rows:
    :func:`weighted_roc_auc` (exactly the AUC of the repeated rows) and
    :func:`weighted_calibration_slopes` (the same Newton fit, batched over resamples).
    """
    y = np.asarray(y)
    p = np.asarray(p)
    weights = cluster_weights(groups, n_boot, seed)
    aucs, slopes = [], []
    chunk = max(1, BOOT_CHUNK_CELLS // max(y.size, 1))
    for lo in range(0, n_boot, chunk):
        w = weights[lo : lo + chunk]
        n_pos = w @ (y == 1)
        both = (n_pos > 0) & (n_pos < w.sum(axis=1)) if np.unique(y).size == 2 else np.zeros(len(w), bool)
        if both.any():
            aucs.append(weighted_roc_auc(y, p, w[both]))
            slopes.append(weighted_calibration_slopes(y, p, w[both]))

    def ci(v: list[np.ndarray]) -> list[float]:
        x = np.concatenate(v) if v else np.zeros(0)
        x = x[np.isfinite(x)]
        return [float(q) for q in np.percentile(x, [2.5, 97.5])] if x.size >= 10 else [float("nan")] * 2

    return {"roc_auc_ci": ci(aucs), "calibration_slope_ci": ci(slopes)}


def score_block(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, threshold: float, n_boot: int, seed: int
) -> dict[str, Any]:
    """Point metrics plus bootstrap intervals of ROC AUC and calibration slope."""
    return {**point_metrics(y, p, threshold), **bootstrap_cis(y, p, groups, n_boot, seed)}


# ------------------------------------------------------------------ baselines
class PrevalenceBaseline:
    """Predicts the training prevalence for everyone (AUC 0.5 by construction)."""

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> PrevalenceBaseline:
        self.p_ = float(np.mean(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = np.full(len(X), self.p_)
        return np.column_stack([1 - p, p])


class StrengthOnlyLogistic:
    """Logistic regression on strength features only - the "more strength" view."""

    def __init__(self, features: list[str]):
        self.features = features

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> StrengthOnlyLogistic:
        cols = [f for f in self.features if f in X and X[f].notna().any()]
        if not cols:
            raise ValueError("no strength features available for the strength-only baseline")
        self.cols_ = cols
        self.model_ = make_pipeline(
            SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=1000)
        )
        self.model_.fit(X[cols], y)
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(X[self.cols_])


class AcwrThresholdRule:
    """Acute:chronic workload ratio rule: flag when ACWR >= threshold (Gabbett 2016).

    Probabilities are the training-set injury rates of the flagged and unflagged groups, so the
    rule is scored on the same probability scale as the models.
    """

    def __init__(self, threshold: float = 1.5, column: str = "acwr_ewma"):
        self.threshold = threshold
        self.column = column

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> AcwrThresholdRule:
        y = np.asarray(y)
        flag = X[self.column].fillna(0).to_numpy() >= self.threshold
        base = float(y.mean())
        self.p_flag_ = float(y[flag].mean()) if flag.any() else base
        self.p_no_ = float(y[~flag].mean()) if (~flag).any() else base
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        flag = X[self.column].fillna(0).to_numpy() >= self.threshold
        p = np.where(flag, self.p_flag_, self.p_no_)
        return np.column_stack([1 - p, p])
