"""The transfer model's hard baselines: logistic regressions a model must beat.

Each is fitted on the training blocks and scored on the held-out blocks like the model
(``reports/metrics/transfer.json`` ``baselines``), next to ``prevalence`` and
``strength_only_logistic`` (:mod:`sprintlab.models.evaluation`):

* ``opening_test_only`` - the opening test's 0-10 m level alone (``t10_vs_own_level_s``,
  ``t10_vs_first_test_s``, ``t10_best_s``, ``t10_trend_s``): how much a slow opening test (bounce-back) predicts;
* ``logistic_all_features`` - a plain logistic regression on exactly the model's features;
* ``linear_interaction`` - the same plus the explicit product of the standardised strength change and
  control score (the simulator's ``-gamma g A(c)`` term is a strength x access product). With
  ``train.transfer.model_family: linear_interaction`` it is the shipped model (same estimator, same
  rows: the same probabilities).

All are :class:`~sprintlab.models.linear.InteractionLogisticClassifier` (one definition): training
median imputation, standardisation with the training mean and SD, L2 logistic regression (C = 1).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sprintlab.group_shapley import AdditiveMargin

if TYPE_CHECKING:
    from sprintlab.models.linear import InteractionLogisticClassifier

#: the opening test's 0-10 m level as the panel states it (the "bounce-back" features)
OPENING_TEST_FEATURES: tuple[str, ...] = (
    "t10_vs_own_level_s",
    "t10_vs_first_test_s",
    "t10_best_s",
    "t10_trend_s",
)
#: the two features whose product is the strength x access interaction
INTERACTION_PAIR: tuple[str, str] = ("strength_change_since_test_pct", "control_score_8w")


class FeatureLogistic:
    """:class:`~sprintlab.models.linear.InteractionLogisticClassifier` on the listed features of a
    wider frame (those present in it; ``ValueError`` when none has a training value); with
    ``interaction`` = (a, b) also on the standardised product ``z_a * z_b``."""

    def __init__(self, features: list[str], interaction: tuple[str, str] | None = None):
        self.features = list(features)
        self.interaction = interaction

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> FeatureLogistic:
        from sprintlab.models.linear import InteractionLogisticClassifier

        cols = [f for f in self.features if f in X and X[f].notna().any()]
        if not cols:
            raise ValueError(f"none of {self.features} has a value in the training data")
        self.cols_ = cols
        self.model_: InteractionLogisticClassifier = InteractionLogisticClassifier(
            interaction=self.interaction
        ).fit(X[cols], np.asarray(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(X[self.cols_])

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds margin ``b0 + sum_j b_j z_j`` on the imputed, standardised design: the space
        group Shapley explains, as the shipped model's ``margin``."""
        return self.model_.margin(X[self.cols_])

    def additive_margin(self) -> AdditiveMargin:
        """The fitted model's additive terms (:meth:`InteractionLogisticClassifier.additive_margin`)
        on a frame with any further columns (the features it does not use are null players)."""
        inner, cols = self.model_.additive_margin(), self.cols_

        def term_means(x: pd.DataFrame, reference: pd.DataFrame, taken: frozenset[str]) -> np.ndarray:
            assert inner.term_means is not None
            return inner.term_means(x[cols], reference[cols], taken & frozenset(cols))

        return replace(inner, term_values=lambda frame: inner.term_values(frame[cols]), term_means=term_means)


def transfer_baselines(model_features: list[str]) -> dict[str, FeatureLogistic]:
    """The transfer-only baselines by name, for a model on ``model_features``."""
    return {
        "opening_test_only": FeatureLogistic(list(OPENING_TEST_FEATURES)),
        "logistic_all_features": FeatureLogistic(model_features),
        "linear_interaction": FeatureLogistic(model_features, interaction=INTERACTION_PAIR),
    }
