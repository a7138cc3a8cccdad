"""The transfer baselines: known answers on data with a known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from sprintlab.models.transfer_baselines import FeatureLogistic, transfer_baselines

FEATS = ["strength_change_since_test_pct", "control_score_8w", "t10_vs_own_typical_s"]


def _interaction_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """y depends on strength x control only (no main effects): logit = 3 z_s z_c."""
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(
        {
            "strength_change_since_test_pct": rng.normal(8, 2, n),
            "control_score_8w": rng.normal(0, 1, n),
            "t10_vs_own_typical_s": rng.normal(0, 0.02, n),
            "t10_vs_first_test_s": rng.normal(0, 0.02, n),
            "t10_best_s": rng.normal(1.8, 0.05, n),
        }
    )
    zs = (x["strength_change_since_test_pct"] - 8) / 2
    logit = 3 * zs * x["control_score_8w"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return x, y.to_numpy()


def test_only_the_interaction_baseline_finds_a_pure_product_effect():
    x, y = _interaction_data(4000, 1)
    xt, yt = _interaction_data(2000, 2)
    models = transfer_baselines(FEATS)
    auc = {name: roc_auc_score(yt, m.fit(x, y).predict_proba(xt)[:, 1]) for name, m in models.items()}
    assert auc["linear_interaction"] > 0.75
    assert auc["logistic_all_features"] < 0.56
    assert auc["opening_test_only"] < 0.56


def test_logistic_uses_only_features_with_training_values_and_refuses_none():
    x, y = _interaction_data(200, 3)
    x["empty"] = np.nan
    m = FeatureLogistic(["control_score_8w", "empty"]).fit(x, y)
    assert m.cols_ == ["control_score_8w"]
    with pytest.raises(ValueError, match="none of"):
        FeatureLogistic(["empty"]).fit(x, y)
