"""The lever benchmark's records-only reference: its bundle choice is scored on the model's own
athletes and truth (known answers with two stub logistic models)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmarks.bench_levers import LeverModels, modelled_effects, records_only_reference

from sprintlab.levers import Lever


class _Logistic:
    """A stub model: probability (w_a sigmoid(a) + w_b sigmoid(b)) / 2 (a lever on a saturated feature
    barely moves it); a bootstrap member is another weight vector."""

    feature_names_in_ = np.array(["a", "b"], dtype=object)

    def __init__(self, w: tuple[float, float]) -> None:
        self.w = np.asarray(w, dtype=float)

    def member_proba(self, member: tuple[float, float], X: pd.DataFrame) -> np.ndarray:
        return (1 / (1 + np.exp(-X.to_numpy(dtype=float)))) @ np.asarray(member, dtype=float) / 2

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.member_proba(tuple(self.w), X)
        return np.column_stack([1 - p, p])


def _models(model: _Logistic, members: list) -> LeverModels:
    return LeverModels({"transfer": model}, {"transfer": {}}, {"transfer": members})  # type: ignore[dict-item]


LEVERS = [
    Lever("lever_a", "strength", "a up", {"a": 1.0}, bundle=True),
    Lever("lever_b", "control", "b up", {"b": 1.0}, bundle=True),
]


def test_reference_is_scored_on_the_models_athletes_and_truth():
    # the model (both features) picks a for A1 and A2, b for A3 (a saturated feature barely moves)
    rows = pd.DataFrame({"athlete_id": ["A1", "A2", "A3"], "a": [-0.5, -0.5, 5.0], "b": [5.0, 5.0, -0.5]})
    # the truth lists the athletes in another order than the rows
    truth = pd.DataFrame(
        {"lever_a": [0.0, 0.03, 0.05], "lever_b": [0.05, 0.01, 0.02]}, index=pd.Index(["A3", "A1", "A2"])
    )
    model = _models(_Logistic((1.0, 1.0)), [])
    # the reference alone looks at b only (b, b, b); with its member (a only) bagged it picks a, a, b
    reference = _models(_Logistic((0.0, 1.0)), [(1.0, 0.0)])
    effects, _ = modelled_effects(rows, "transfer", model, LEVERS, truth.index)
    res = records_only_reference(rows, "transfer", model, reference, LEVERS, effects, truth)

    assert res["top_agreement"] == 1.0 and res["mean_regret"] == 0.0  # a, a, b: every choice right
    vs = res["model_vs_reference"]
    assert vs["model"] == {"top_agreement": 1.0, "mean_regret": 0.0}
    assert vs["same_choice_share"] == 1.0 and vs["same_features"]
    # without members the reference picks b for A1 and A2 (true margins 0.02 and 0.03)
    alone = res["without_members"]
    assert alone["reference"]["top_agreement"] == pytest.approx(1 / 3)
    assert alone["reference"]["mean_regret"] == pytest.approx(0.05 / 3)
    assert alone["model"] == {"top_agreement": 1.0, "mean_regret": 0.0}  # no members: the same model
    margins = res["by_true_margin"]
    assert margins["margin_quartiles"][1] == pytest.approx(0.03)
    assert margins["below_median"]["n_athletes"] == 1 and margins["at_or_above_median"]["n_athletes"] == 2
