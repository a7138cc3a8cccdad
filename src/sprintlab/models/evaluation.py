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


def bootstrap_cis(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int = 500, seed: int = 0
) -> dict[str, list[float]]:
    """95 % percentile intervals of ROC AUC and of the calibration slope from one cluster
    bootstrap over athletes (resamples where a class is missing are skipped; NaN with fewer than
    10 usable resamples)."""
    rng = np.random.default_rng(seed)
    y = np.asarray(y)
    p = np.asarray(p)
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
