"""LightGBM classifier with leakage-safe imbalance handling and out-of-fold calibration."""

from __future__ import annotations

import inspect
import logging

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

log = logging.getLogger(__name__)


def _eval_kwargs(X: pd.DataFrame, y: np.ndarray) -> dict:
    """Validation data in the form this LightGBM accepts (``eval_X`` from 4.6, ``eval_set`` before)."""
    if "eval_X" in inspect.signature(lgb.LGBMClassifier.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}


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
    final booster is trained on all training rows with the same settings. With
    ``early_stopping=True`` the number of boosting rounds is the minimum of the held-out-fold
    log-loss curves summed over the same folds (cross-validated early stopping inside the
    training data). ``monotone`` maps feature names to +1/-1 monotone constraints. ``predict_proba``
    applies the calibrator to the final booster's margin. ``decision_function`` returns the raw
    LightGBM margin (log-odds), the space SHAP explains.

    ``learn_from="outcome"``: when the label is a threshold on a measured quantity (transfer: the
    0-10 m change beyond the smallest worthwhile change), the boosters learn that quantity
    (``outcome_sign * outcome``, L2 loss) instead of the 0/1 label, which keeps the information
    the threshold throws away. The label is then used only for the Platt calibration on the
    out-of-fold predictions: ``logit p = a + b * f(x)`` with ``b > 0`` (if the out-of-fold ranking is
    inverted or absent, ``b = 0`` and the model predicts the training base rate, with a log warning), so
    ``decision_function`` - the calibrated log-odds - is linear in the booster output and SHAP
    values of ``f`` scaled by ``b`` are exact log-odds contributions (``margin_affine_ = (a, b)``).
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
        max_depth: int = -1,
        reg_alpha: float = 0.0,
        monotone: dict[str, int] | None = None,
        early_stopping: bool = False,
        learn_from: str = "label",
        outcome_sign: int = 1,
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
        self.max_depth = max_depth
        self.reg_alpha = reg_alpha
        self.monotone = monotone
        self.early_stopping = early_stopping
        self.learn_from = learn_from
        self.outcome_sign = outcome_sign
        self.random_state = random_state

    def _monotone_vector(self, columns) -> list[int] | None:
        if not self.monotone:
            return None
        unknown = set(self.monotone) - set(columns)
        bad = {k: v for k, v in self.monotone.items() if v not in (-1, 0, 1)}
        if bad:
            raise ValueError(f"monotone constraints must be -1, 0 or 1, got {bad}")
        vec = [int(self.monotone.get(c, 0)) for c in columns]
        if unknown and not any(vec):
            return None
        return vec

    def _booster(self, y: np.ndarray, n_estimators: int | None = None, columns=None):
        mono = self._monotone_vector(columns) if columns is not None else None
        extra = {"monotone_constraints": mono, "monotone_constraints_method": "advanced"} if mono else {}
        cls = lgb.LGBMRegressor
        if self.learn_from != "outcome":
            pos = max(int(y.sum()), 1)
            neg = max(int((1 - y).sum()), 1)
            cls, extra = (
                lgb.LGBMClassifier,
                {**extra, "scale_pos_weight": (neg / pos) if self.balance else 1.0},
            )
        return cls(
            n_estimators=n_estimators or self.n_estimators,
            max_depth=self.max_depth,
            reg_alpha=self.reg_alpha,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            subsample=self.subsample,
            subsample_freq=1 if self.subsample < 1 else 0,
            colsample_bytree=self.colsample_bytree,
            reg_lambda=self.reg_lambda,
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
            **extra,
        )

    def fit(self, X: pd.DataFrame, y, groups=None, outcome=None) -> CalibratedLGBMClassifier:
        """Fit on features ``X`` and 0/1 labels ``y``; ``groups`` (athlete ids) keep an athlete's
        units in one fold; ``outcome`` (same rows) is required with ``learn_from="outcome"``."""
        if self.calibration not in ("isotonic", "sigmoid", "none"):
            raise ValueError(f"calibration must be isotonic, sigmoid or none, got {self.calibration!r}")
        if self.learn_from not in ("label", "outcome"):
            raise ValueError(f"learn_from must be label or outcome, got {self.learn_from!r}")
        if self.outcome_sign not in (-1, 1):
            raise ValueError(f"outcome_sign must be -1 or 1, got {self.outcome_sign!r}")
        by_outcome = self.learn_from == "outcome"
        if by_outcome:
            if self.calibration != "sigmoid":
                raise ValueError(
                    "learn_from=outcome needs calibration: sigmoid (log-odds linear in the outcome)"
                )
            if outcome is None:
                raise ValueError("learn_from=outcome needs the outcome values in fit(..., outcome=...)")
            target = self.outcome_sign * np.asarray(outcome, dtype=float)
            if target.shape != (len(X),) or not np.isfinite(target).all():
                raise ValueError("outcome must be one finite value per training row")
            self.outcome_name_ = str(getattr(outcome, "name", None) or "outcome")
        if self.cv_folds < 2:
            raise ValueError("cv_folds must be at least 2")
        if not isinstance(X, pd.DataFrame):
            raise TypeError("X must be a pandas DataFrame with named feature columns")
        y = np.asarray(y, dtype=int)
        if set(np.unique(y)) - {0, 1} or y.sum() == 0 or y.sum() == y.size:
            raise ValueError("y must be binary 0/1 with both classes present")
        if not by_outcome:
            target = y
        metric = "l2" if by_outcome else "binary_logloss"
        groups = np.asarray(groups) if groups is not None else np.arange(y.size)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.classes_ = np.array([0, 1])
        n_splits = min(self.cv_folds, np.unique(groups).size)
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        cols = list(X.columns)
        fitted, curves = [], []
        for tr, te in folds.split(X, y, groups):
            if y[tr].sum() == 0 or y[tr].sum() == tr.size:
                continue
            m = self._booster(y[tr], columns=cols)
            if self.early_stopping and np.unique(y[te]).size == 2:
                # the held-out fold only monitors the loss curve; the number of rounds is chosen
                # from the curves averaged over all folds (never from test data)
                m.fit(X.iloc[tr], target[tr], eval_metric=metric, **_eval_kwargs(X.iloc[te], target[te]))
                curve = np.asarray(m.evals_result_["valid_0"][metric], dtype=float)
                curves.append(curve * te.size)
            else:
                m.fit(X.iloc[tr], target[tr])
            fitted.append((te, m))
        n_rounds = self.n_estimators
        if self.early_stopping and curves:
            n_rounds = int(np.argmin(np.sum(curves, axis=0))) + 1
        self.n_rounds_ = n_rounds
        oof = np.full(y.size, np.nan)
        for te, m in fitted:
            oof[te] = m.predict(X.iloc[te], raw_score=True, num_iteration=n_rounds)
        ok = np.isfinite(oof)
        self.oof_margin_ = oof
        if self.calibration != "none" and np.unique(y[ok]).size < 2:
            raise ValueError(
                "too few positive units to calibrate on out-of-fold predictions; "
                "add data or set calibration: none"
            )
        self.booster_ = self._booster(y, n_rounds, columns=cols).fit(X, target)
        self.calibrator_ = None
        self.margin_affine_ = (0.0, 1.0)
        platt = None
        if by_outcome or self.calibration == "sigmoid":
            platt = LogisticRegression(C=1e6).fit(oof[ok].reshape(-1, 1), y[ok])
        if by_outcome:
            slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
            if slope <= 0:
                # no usable ranking out of fold (tiny training data or a wrong outcome_sign): the
                # honest model is the training base rate, not an inverted one
                rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
                intercept, slope = float(np.log(rate / (1 - rate))), 0.0
                log.warning(
                    "the learned outcome does not rank the labels out of fold (calibration slope <= 0; "
                    "check outcome_sign and the outcome column): predicting the base rate %.3f",
                    rate,
                )
            self.margin_affine_ = (intercept, slope)
            return self
        if self.calibration == "sigmoid":
            # a calibrator must never invert the ranking: fall back to isotonic (monotone increasing)
            self.calibrator_ = platt if platt.coef_[0, 0] > 0 else None
        if self.calibration == "isotonic" or (self.calibration == "sigmoid" and self.calibrator_ is None):
            self.calibrator_ = IsotonicRegression(
                out_of_bounds="clip", y_min=1e-4, y_max=1 - 1e-4, increasing=True
            ).fit(oof[ok], y[ok])
        return self

    def decision_function(self, X: pd.DataFrame) -> np.ndarray:
        """Log-odds: the raw LightGBM margin, or ``a + b f(x)`` with ``learn_from="outcome"``."""
        return self.margin_from_raw(self.booster_.predict(self._check(X), raw_score=True))

    def margin_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """The model's log-odds margin from a booster's raw output (``margin_affine_``)."""
        # models pickled before learn_from existed have neither attribute: plain label models
        intercept, slope = getattr(self, "margin_affine_", (0.0, 1.0))
        return intercept + slope * np.asarray(raw, dtype=float)

    def proba_from_raw(self, raw: np.ndarray) -> np.ndarray:
        """Calibrated event probability from a booster's raw output (this model's or a bootstrap
        member's trained the same way)."""
        margin = self.margin_from_raw(raw)
        if self.calibrator_ is None:  # includes learn_from="outcome": the margin is already calibrated
            return 1 / (1 + np.exp(-margin))
        if isinstance(self.calibrator_, IsotonicRegression):
            return self.calibrator_.predict(margin)
        return self.calibrator_.predict_proba(margin.reshape(-1, 1))[:, 1]

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        p = self.proba_from_raw(self.booster_.predict(self._check(X), raw_score=True))
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


class ConformalLGBMRegressor(RegressorMixin, BaseEstimator):
    """LightGBM regression with a split-free conformal prediction interval.

    The interval half-width is the finite-sample ``coverage`` quantile of the absolute
    out-of-fold residuals of athlete-grouped K-fold inside the training data (cross-conformal,
    "CV+"-style with a common width); test data never enter the width. The final booster is
    trained on all training rows; its number of rounds is chosen on the same folds' held-out
    L2 curves when ``early_stopping=True``.
    """

    def __init__(
        self,
        n_estimators: int = 600,
        learning_rate: float = 0.03,
        num_leaves: int = 4,
        min_child_samples: int = 20,
        reg_lambda: float = 1.0,
        coverage: float = 0.9,
        cv_folds: int = 5,
        early_stopping: bool = True,
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.min_child_samples = min_child_samples
        self.reg_lambda = reg_lambda
        self.coverage = coverage
        self.cv_folds = cv_folds
        self.early_stopping = early_stopping
        self.random_state = random_state

    def _booster(self, n_estimators: int) -> lgb.LGBMRegressor:
        return lgb.LGBMRegressor(
            n_estimators=n_estimators,
            learning_rate=self.learning_rate,
            num_leaves=self.num_leaves,
            min_child_samples=self.min_child_samples,
            reg_lambda=self.reg_lambda,
            subsample=0.8,
            subsample_freq=1,
            colsample_bytree=0.8,
            random_state=self.random_state,
            n_jobs=1,
            deterministic=True,
            force_row_wise=True,
            verbose=-1,
        )

    def fit(self, X: pd.DataFrame, y, groups=None) -> ConformalLGBMRegressor:
        if not 0 < self.coverage < 1:
            raise ValueError("coverage must lie strictly between 0 and 1")
        y = np.asarray(y, dtype=float)
        groups = np.asarray(groups) if groups is not None else np.arange(y.size)
        self.feature_names_in_ = np.array(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        n_splits = min(self.cv_folds, np.unique(groups).size)
        if n_splits < 2:
            raise ValueError("need at least two groups for out-of-fold residuals")
        fitted, curves = [], []
        for tr, te in GroupKFold(n_splits=n_splits).split(X, y, groups):
            m = self._booster(self.n_estimators)
            if self.early_stopping:
                m.fit(X.iloc[tr], y[tr], eval_metric="l2", **_eval_kwargs(X.iloc[te], y[te]))
                curves.append(np.asarray(m.evals_result_["valid_0"]["l2"], dtype=float) * te.size)
            else:
                m.fit(X.iloc[tr], y[tr])
            fitted.append((te, m))
        n_rounds = int(np.argmin(np.sum(curves, axis=0))) + 1 if curves else self.n_estimators
        self.n_rounds_ = n_rounds
        oof = np.full(y.size, np.nan)
        for te, m in fitted:
            oof[te] = m.predict(X.iloc[te], num_iteration=n_rounds)
        res = np.abs(y - oof)
        n = res.size
        level = min(1.0, np.ceil((n + 1) * self.coverage) / n)
        self.half_width_ = float(np.quantile(res, level, method="higher"))
        self.oof_mae_ = float(res.mean())
        self.booster_ = self._booster(n_rounds).fit(X, y)
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "booster_"):
            raise RuntimeError("this model is not fitted yet")
        return self.booster_.predict(X[list(self.feature_names_in_)].astype(float))

    def predict_interval(self, X: pd.DataFrame) -> np.ndarray:
        """Columns: point prediction, lower and upper bound of the ``coverage`` interval."""
        p = self.predict(X)
        return np.column_stack([p, p - self.half_width_, p + self.half_width_])
