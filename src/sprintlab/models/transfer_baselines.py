"""The transfer model's hard baselines: logistic regressions a boosted model must beat.

Each is fitted on the training blocks and scored on the held-out blocks like the model
(``reports/metrics/transfer.json`` ``baselines``), next to ``prevalence`` and
``strength_only_logistic`` (:mod:`sprintlab.models.evaluation`):

* ``opening_test_only`` - the opening test's 0-10 m level alone (``t10_vs_own_typical_s``,
  ``t10_vs_first_test_s``, ``t10_best_s``): how much a slow opening test (bounce-back) predicts;
* ``logistic_all_features`` - a plain logistic regression on exactly the model's features;
* ``linear_interaction`` - the same plus the explicit product of the standardised strength change and
  control score (the simulator's ``-gamma g A(c)`` term is a strength x access product).

All impute the training median, standardise with the training mean and SD and fit an L2
logistic regression (scikit-learn defaults, C = 1).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

#: the opening test's 0-10 m level as the panel states it (the "bounce-back" features)
OPENING_TEST_FEATURES: tuple[str, ...] = ("t10_vs_own_typical_s", "t10_vs_first_test_s", "t10_best_s")
#: the two features whose product is the strength x access interaction
INTERACTION_PAIR: tuple[str, str] = ("strength_change_since_test_pct", "control_score_8w")


def _logistic() -> Pipeline:
    return make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=2000)
    )


class FeatureLogistic:
    """Logistic regression on the listed features that have a training value (``ValueError`` when
    none has); with ``interaction`` = (a, b) also on ``z_a * z_b``, the product of the two features
    standardised with the training mean and SD (missing -> 0, the mean)."""

    def __init__(self, features: list[str], interaction: tuple[str, str] | None = None):
        self.features = list(features)
        self.interaction = interaction

    def _design(self, X: pd.DataFrame) -> pd.DataFrame:
        d = X[self.cols_].copy()
        if self.interaction is not None and self.moments_ is not None:
            (a, b), (ma, sa, mb, sb) = self.interaction, self.moments_
            d["strength_x_control"] = ((X[a] - ma) / sa).fillna(0.0) * ((X[b] - mb) / sb).fillna(0.0)
        return d

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> FeatureLogistic:
        cols = [f for f in self.features if f in X and X[f].notna().any()]
        if not cols:
            raise ValueError(f"none of {self.features} has a value in the training data")
        self.cols_ = cols
        self.moments_: tuple[float, float, float, float] | None = None
        if self.interaction is not None:
            a, b = self.interaction
            if not all(f in X and X[f].notna().sum() > 1 for f in (a, b)):
                raise ValueError(f"the interaction needs {a} and {b} in the training data")
            sd_a, sd_b = float(X[a].std()) or 1.0, float(X[b].std()) or 1.0
            self.moments_ = (float(X[a].mean()), sd_a, float(X[b].mean()), sd_b)
        self.model_ = _logistic().fit(self._design(X), np.asarray(y))
        return self

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.model_.predict_proba(self._design(X))

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds margin ``b0 + sum_j b_j z_j`` (the logistic regression's ``decision_function``
        on the imputed, standardised design): the space group Shapley explains, as the model's
        :meth:`~sprintlab.models.estimator.CalibratedLGBMClassifier.margin`."""
        return np.asarray(self.model_.decision_function(self._design(X)), dtype=float)


def transfer_baselines(model_features: list[str]) -> dict[str, FeatureLogistic]:
    """The transfer-only baselines by name, for a model on ``model_features``."""
    return {
        "opening_test_only": FeatureLogistic(list(OPENING_TEST_FEATURES)),
        "logistic_all_features": FeatureLogistic(model_features),
        "linear_interaction": FeatureLogistic(model_features, interaction=INTERACTION_PAIR),
    }
