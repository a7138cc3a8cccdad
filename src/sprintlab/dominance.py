"""Which factor family leads a row of family contributions, and how clearly (no model, no SHAP).

Shared by the simulator's truth (true Shapley values) and the explanations (summed SHAP values), so
both sides rank families and measure a lead in exactly the same way.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def dominance_columns(contrib: pd.DataFrame) -> pd.DataFrame:
    """Per row of family contributions: ``dominant_family`` (largest |value|; the first family wins
    a tie), ``runner_up_family`` and ``runner_up_ratio = |2nd| / |1st|`` (0: one family alone, near
    1: two families of about equal size; 0 when every family is 0)."""
    a = contrib.abs().to_numpy(dtype=float)
    order = np.argsort(-a, axis=1, kind="stable")
    rows = np.arange(a.shape[0])
    first, second = a[rows, order[:, 0]], a[rows, order[:, 1]]
    names = np.asarray(contrib.columns)
    return pd.DataFrame(
        {
            "dominant_family": names[order[:, 0]],
            "runner_up_family": names[order[:, 1]],
            "runner_up_ratio": np.divide(second, first, out=np.zeros_like(first), where=first > 0),
        },
        index=contrib.index,
    )
