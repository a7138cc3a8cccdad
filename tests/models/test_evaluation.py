"""The cluster bootstrap as multiplicity weights: weighted AUC and calibration slope equal the
metrics of the explicitly repeated rows, and the intervals equal those of the row-copying loop."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from sprintlab.models import evaluation
from sprintlab.models.evaluation import (
    bootstrap_cis,
    calibration_slope_intercept,
    weighted_calibration_slopes,
    weighted_roc_auc,
)


def reference_bootstrap_cis(
    y: np.ndarray, p: np.ndarray, groups: np.ndarray, n_boot: int = 500, seed: int = 0
) -> dict[str, list[float]]:
    """The previous implementation: copy each drawn athlete's rows, then sklearn's AUC and the
    Newton slope on the copies (kept here as the reference the weighted version must equal)."""
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


def _test_set(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Athlete-clustered labels and predictions of one kind (the shapes the baselines produce)."""
    rng = np.random.default_rng(seed)
    groups = np.repeat([f"A{k:03d}" for k in range(int(rng.integers(5, 60)))], int(rng.integers(2, 40)))
    n = groups.size
    lp = rng.normal(-2.0, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.4 + 0.8 * lp)))).astype(int)
    p = {
        "continuous": 1 / (1 + np.exp(-lp)),
        "ties": np.round(1 / (1 + np.exp(-lp)), 2),
        "constant": np.full(n, 0.07),
        "two_values": np.where(rng.random(n) < 0.2, 0.05, 0.02),
        "separated": np.where(y == 1, 0.3, 0.01),
    }[kind]
    return y, p, groups


def test_weighted_auc_equals_sklearn_on_repeated_rows_with_ties():
    rng = np.random.default_rng(0)
    n = 300
    y = (rng.random(n) < 0.3).astype(int)
    p = np.round(rng.random(n) * 0.5 + 0.3 * y, 1)  # few distinct scores: many ties across classes
    w = rng.integers(0, 4, (20, n))
    got = weighted_roc_auc(y, p, w)
    want = [roc_auc_score(np.repeat(y, wk), np.repeat(p, wk)) for wk in w]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-14)
    assert weighted_roc_auc(y, p, w[0]).shape == (1,)
    assert weighted_roc_auc(y, p, np.ones(n))[0] == pytest.approx(roc_auc_score(y, p), abs=1e-15)
    assert np.isnan(weighted_roc_auc(y, p, np.where(y == 1, 0, 1))[0])  # one class left


def test_weighted_calibration_slope_equals_newton_on_repeated_rows():
    rng = np.random.default_rng(1)
    n = 400
    lp = rng.normal(-1.5, 1.0, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(0.2 + 0.6 * lp)))).astype(int)
    p = 1 / (1 + np.exp(-lp))
    w = rng.integers(0, 3, (15, n))
    got = weighted_calibration_slopes(y, p, w)
    want = [calibration_slope_intercept(np.repeat(y, wk), np.repeat(p, wk))[0] for wk in w]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    ones = np.ones((1, n))
    assert np.isnan(weighted_calibration_slopes(y, np.full(n, 0.2), ones)[0])  # one prediction
    assert np.isnan(weighted_calibration_slopes(np.zeros(n), p, ones)[0])  # one class
    assert np.isnan(weighted_calibration_slopes(y, np.where(y == 1, 0.9, 0.1), ones)[0])  # separation


@pytest.mark.parametrize("kind", ["continuous", "ties", "constant", "two_values", "separated"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bootstrap_intervals_equal_the_row_copying_implementation(kind, seed):
    y, p, groups = _test_set(kind, seed)
    got = bootstrap_cis(y, p, groups, n_boot=200, seed=seed)
    want = reference_bootstrap_cis(y, p, groups, n_boot=200, seed=seed)
    for key, interval in want.items():
        np.testing.assert_allclose(got[key], interval, rtol=0, atol=1e-12, equal_nan=True)


def test_bootstrap_intervals_do_not_depend_on_the_chunk_size(monkeypatch):
    y, p, groups = _test_set("continuous", 3)
    whole = bootstrap_cis(y, p, groups, n_boot=100, seed=5)
    monkeypatch.setattr(evaluation, "BOOT_CHUNK_CELLS", 7 * y.size)  # 7 resamples at a time
    assert bootstrap_cis(y, p, groups, n_boot=100, seed=5) == whole
