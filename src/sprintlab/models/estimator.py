"""LightGBM classifier with leakage-safe imbalance handling and out-of-fold calibration."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class CalibratedLGBMClassifier(ClassifierMixin, BaseEstimator):
    """LightGBM binary classifier whose probabilities are calibrated on out-of-fold predictions.

    Fitting: (1) athlete-grouped K-fold inside the training data; in each fold a booster is
    trained on the other folds - class imbalance is handled there only, by
    ``scale_pos_weight = negatives / positives`` of that fold's training part when
    ``balance=True`` - and predicts the held-out fold; (2) a calibrator (isotonic or Platt
    sigmoid) is fitted on those out-of-fold margins and labels only, never on test data; (3) the
    final booster is trained on all training rows with the same settings. ``predict_proba``
    applies the calibrator to the final booster's margin. ``decision_function`` returns the raw
    LightGBM margin (log-odds), the space SHAP explains.
    """

    def __init__(
        self,
        n_estimators: int = 300,
        learning_rate: float = 0.03,
        num_leaves: int = 7,
        min_child_samples: int = 20,
        subsample: float = 0.8,
        colsample_bytree: float = 0.8,
        reg_lambda: float = 1.0,
        balance: bool = False,
        calibration: str = "sigmoid",
        cv_folds: int = 5,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.balance = balance
        self.calibration = calibration
        self.cv_folds = cv_folds
        self.random_state = random_state

    def _booster(self, y: np.ndarray) -> lgb.LGBMClassifier:
        pos = max(int(y.sum()), 1)
        neg = max(int((1 - y).sum()), 1)
        return lgb.LGBMClassifier(
            n_estimators=self.n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            scale_pos_weight=(neg / pos) if self.balance else 1.0,
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(self, X: pd.DataFrame, y, groups=None) -> CalibratedLGBMClassifier:
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(f"calibration must be isotonic, sigmoid or none, got {self.calibration!r}")
        if self.cv_folds < 2:
            raise ValueError("cv_folds must be at least 2")
        if not isinstance(X, pd.DataFrame):
            raise TypeError("X must be a pandas DataFrame with named feature columns")
        y = np.asarray(y, dtype=int)
        if set(np.unique(y)) - {0, 1} or y.sum() == 0 or y.sum() == y.size:
            raise ValueError("y must be binary 0/1 with both classes present")
        groups = np.asarray(groups) if groups is not None else np.arange(y.size)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        n_splits = min(self.cv_folds, np.unique(groups).size)
        oof = np.full(y.size, np.nan)
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        for tr, te in folds.split(X, y, groups):
            if y[tr].sum() == 0 or y[tr].sum() == tr.size:
                continue
            m = self._booster(y[tr]).fit(X.iloc[tr], y[tr])
            oof[te] = m.predict(X.iloc[te], raw_score=True)
        ok = np.isfinite(oof)
        self.oof_margin_ = oof
        if self.calibration != "none" and np.unique(y[ok]).size < 2:
            raise ValueError("too few positive units to calibrate on out-of-fold predictions; "
                             "add data or set calibration: none")
        self.calibrator_ = None
        if self.calibration == "sigmoid":
            platt = LogisticRegression(C=1e6).fit(oof[ok].reshape(-1, 1), y[ok])
            # a calibrator must never invert the ranking: fall back to isotonic (monotone increasing)
            self.calibrator_ = platt if platt.coef_[0, 0] > 0 else None
        if self.calibration == "isotonic" or (self.calibration == "sigmoid" and self.calibrator_ is None):
            self.calibrator_ = IsotonicRegression(out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4,
                                                  increasing=True).fit(oof[ok], y[ok])
        self.booster_ = self._booster(y).fit(X, y)
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster_.predict(self._check(X), raw_score=True)

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        margin = self.decision_function(X)
        if self.calibrator_ is None:
            p = 1 / (1 + np.exp(-margin))
        elif isinstance(self.calibrator_, IsotonicRegression):
            p = self.calibrator_.predict(margin)
        else:
            p = self.calibrator_.predict_proba(margin.reshape(-1, 1))[:, 1]
        return np.column_stack([1 - p, p])

    def predict(self, X: pd.DataFrame, threshold: float = 0.5) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= threshold).astype(int)

    def _check(self, X: pd.DataFrame) -> pd.DataFrame:
        if not hasattr(self, "booster_"):
            raise RuntimeError("this model is not fitted yet")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise ValueError(f"feature columns missing for the model: {missing}")
        return X[list(self.feature_names_in_)].astype(float)
