"""The linear-interaction transfer model as a scikit-learn estimator (issue #23: the shipped family).

:class:`InteractionLogisticClassifier` - an L2 logistic regression (scikit-learn defaults, C = 1) on
the features imputed with their training median and standardised with the training mean and SD, plus,
with ``interaction = (a, b)``, the product ``z_a z_b`` of the two features standardised with their
training mean and SD (missing -> 0, the mean), itself standardised like the other columns. With
(strength change, control score) that product is the simulator's strength x access term
(``-gamma g A(c)``). It is the one definition of the transfer baselines ``logistic_all_features``,
``opening_test_only`` and ``linear_interaction`` (:mod:`sprintlab.models.transfer_baselines`) and of
the shipped transfer model (``params.yaml`` ``train.transfer.model_family: linear_interaction``).

The probabilities are the logistic regression's own (no separate calibrator): ``margin`` (log-odds),
``decision_function`` and ``logit(predict_proba)`` are the same numbers.

With ``learn_from="outcome"`` (the shipped transfer model, ``params.yaml`` ``train.transfer.learn_from``)
the coefficients come from the measured outcome instead of the 0/1 label: a ridge regression of
``outcome_sign x outcome`` (the adjusted 0-10 m change, faster = higher) on the same standardised
design, its penalty chosen by grouped cross-validation, put on the log-odds scale by a logistic
recalibration of its out-of-fold predictions (:func:`ridge_outcome_fit`). The label only calibrates:
the 0/1 threshold throws away how far past the SWC a block landed, as the LightGBM family's boosters
learning the outcome do. The model stays one linear margin, so every method below is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Tags
from sklearn.utils.validation import check_is_fitted, validate_data

from sprintlab.group_shapley import AdditiveMargin
from sprintlab.models.estimator import _binary_labels, _feature_frame, _prediction_features, check_monotone

#: the name of the product column in the design (after the features)
INTERACTION_COLUMN = "strength_x_control"


def sign_bounded_logistic(
    d: np.ndarray, y: np.ndarray, signs: np.ndarray, C: float, max_iter: int
) -> tuple[np.ndarray, float]:
    """L2 logistic regression with sign bounds: minimise ``0.5 |w|^2 + C sum_i [log(1 + e^z_i) - y_i z_i]``,
    ``z = d w + b`` (scikit-learn's ``lbfgs`` objective: the intercept is not penalised), subject to
    ``w_j >= 0`` where ``signs_j = +1`` and ``w_j <= 0`` where ``signs_j = -1``, by L-BFGS-B (a convex
    problem: one optimum). Returns ``(w, b)``."""
    from scipy.optimize import minimize
    from scipy.special import expit

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:-1], theta[-1]
        z = d @ w + b
        residual = expit(z) - y
        value = C * float(np.sum(np.logaddexp(0.0, z) - y * z)) + 0.5 * float(w @ w)
        return value, np.append(C * (d.T @ residual) + w, C * residual.sum())

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    start = np.zeros(d.shape[1] + 1)
    res = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        bounds=[*bounds, (None, None)],
        options={"maxiter": max_iter, "gtol": 1e-10, "ftol": 1e-15},
    )
    return np.asarray(res.x[:-1], dtype=float), float(res.x[-1])


#: ridge penalties (per unit of the standardised design) the outcome fit chooses from by grouped CV
RIDGE_ALPHAS: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)
#: inverse L2 strengths the shipped label fit chooses from by grouped CV (``C_grid``)
LOGISTIC_CS: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0)


def bounded_ridge(d: np.ndarray, y: np.ndarray, alpha: float, signs: np.ndarray) -> tuple[np.ndarray, float]:
    """Ridge regression with sign bounds on a centred-by-construction design ``d``: minimise
    ``|y - b - d w|^2 + alpha |w|^2`` (intercept unpenalised) subject to ``w_j >= 0`` where
    ``signs_j = +1`` and ``w_j <= 0`` where ``-1``, as bounded least squares on the augmented system
    ``[d - mean(d); sqrt(alpha) I] w = [y - mean(y); 0]`` (``scipy.optimize.lsq_linear``; convex, one
    optimum). Returns ``(w, b)``."""
    from scipy.optimize import lsq_linear

    centre = d.mean(axis=0)
    k = d.shape[1]
    a = np.vstack([d - centre, np.sqrt(alpha) * np.eye(k)])
    target = np.concatenate([y - y.mean(), np.zeros(k)])
    lower = np.where(signs > 0, 0.0, -np.inf)
    upper = np.where(signs < 0, 0.0, np.inf)
    res = lsq_linear(a, target, bounds=(lower, upper))
    w = np.where(res.active_mask != 0, 0.0, np.asarray(res.x, dtype=float))  # a held weight is exactly 0
    return w, float(y.mean() - centre @ w)


@dataclass(frozen=True)
class OutcomeFit:
    """A ridge fit of the outcome put on the log-odds scale: ``margin = a + s (b + d w)``."""

    alpha: float
    weights: np.ndarray
    intercept: float
    calibration_slope: float
    calibration_intercept: float
    oof_mse: float


def _folds(n: int, groups: np.ndarray | None, n_splits: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Grouped folds (athletes never split) when ``groups`` is given, else contiguous folds."""
    if groups is not None and np.unique(groups).size >= 2:
        splitter = GroupKFold(n_splits=min(n_splits, int(np.unique(groups).size)))
        return list(splitter.split(np.zeros(n), groups=groups))
    return list(KFold(n_splits=max(2, min(n_splits, n))).split(np.zeros(n)))


def ridge_outcome_fit(
    d: np.ndarray,
    outcome: np.ndarray,
    labels: np.ndarray,
    signs: np.ndarray,
    *,
    alphas: tuple[float, ...],
    groups: np.ndarray | None,
    n_splits: int,
) -> OutcomeFit:
    """Learn the (signed) outcome, calibrate on the label.

    The penalty ``alpha`` minimises the out-of-fold mean squared error of :func:`bounded_ridge`
    over ``alphas`` (grouped folds: no athlete in both parts); a logistic regression of the labels on
    those out-of-fold predictions gives ``a`` and ``s`` (Platt 1999; ``s`` floored at 0: a fit with
    no signal predicts the prevalence); the final weights are refitted on every row."""
    folds = _folds(len(outcome), groups, n_splits)

    def out_of_fold(alpha: float) -> np.ndarray:
        pred = np.empty(len(outcome))
        for train, held in folds:
            w, b = bounded_ridge(d[train], outcome[train], alpha, signs)
            pred[held] = b + d[held] @ w
        return pred

    errors = {alpha: float(np.mean((out_of_fold(alpha) - outcome) ** 2)) for alpha in alphas}
    alpha = min(errors, key=lambda a: errors[a])
    oof = out_of_fold(alpha)
    platt = LogisticRegression(C=np.inf, max_iter=1000).fit(oof[:, None], labels)
    slope = max(float(platt.coef_[0, 0]), 0.0)
    intercept = (
        float(platt.intercept_[0]) if slope > 0 else float(np.log(labels.mean() / (1 - labels.mean())))
    )
    w, b = bounded_ridge(d, outcome, alpha, signs)
    return OutcomeFit(alpha, w, b, slope, intercept, errors[alpha])


class InteractionLogisticClassifier(ClassifierMixin, BaseEstimator):
    """L2 logistic regression on standardised features and, optionally, one standardised product.

    Fitting: the columns with a finite training value are used (the others get no coefficient and
    are ignored at prediction); ``interaction`` names two feature columns (``ValueError`` when either
    is absent or has fewer than two training values) whose product ``z_a z_b`` joins the design, with
    ``z = (x - mean) / sd`` over the training values (``sd``: sample SD, 1 when 0; missing -> 0).
    The design is imputed with the training median, standardised (``StandardScaler``) and fitted by
    ``LogisticRegression(C=C, max_iter=max_iter)``. ``monotone`` (feature -> +1/-1, the directions
    the thesis fixes, as LightGBM's monotone constraints in ``params.yaml``; the product keeps the
    product of its pair's signs): when the free fit gives a coefficient the opposite sign, the model is refitted with those signs as bounds
    (:func:`sign_bounded_logistic`), so a small squad cannot tell a coach that sleep debt raises the
    transfer chance; ``sign_bounded_`` lists the features held at 0 (empty: the free fit stood).

    ``fit(X, y, groups=None, outcome=None)`` has the signature of
    :class:`~sprintlab.models.estimator.CalibratedLGBMClassifier`. With ``learn_from="label"`` (the
    default; every baseline) ``outcome`` is ignored and the model learns the 0/1 label with ``C``, or, with
    ``C_grid`` (the shipped hamstring model), with the grid's ``C`` of lowest out-of-fold log loss over
    ``cv_folds`` folds grouped by ``groups`` (``C_``: the one used; ``C_by_cv_``: whether CV chose it).
    With ``learn_from="outcome"`` it learns ``outcome_sign x outcome`` by :func:`ridge_outcome_fit`
    (penalty from ``ridge_alphas`` by ``cv_folds``-fold CV grouped by ``groups``; the ``monotone``
    signs always bound it) and the logistic step carries the calibrated weights ``s w`` and intercept
    ``a + s b`` (``outcome_fit_``, plain numbers: the penalty, the regression's weights per
    standardised unit and intercept in outcome units, the calibration, the out-of-fold MSE).

    Explanations (:meth:`feature_contributions`): exact Shapley values of the margin against one
    reference point, the training design mean (every standardised coordinate's training mean, 0 up
    to rounding).
    """

    def __init__(
        self,
        interaction: tuple[str, str] | None = None,
        C: float = 1.0,
        max_iter: int = 2000,
        monotone: dict[str, int] | None = None,
        learn_from: str = "label",
        outcome_sign: int = 1,
        ridge_alphas: tuple[float, ...] = RIDGE_ALPHAS,
        cv_folds: int = 5,
        C_grid: tuple[float, ...] | None = None,
    ) -> None:
        self.interaction = interaction
        self.C = C
        self.max_iter = max_iter
        self.monotone = monotone
        self.learn_from = learn_from
        self.outcome_sign = outcome_sign
        self.ridge_alphas = ridge_alphas
        self.cv_folds = cv_folds
        self.C_grid = C_grid

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # one event against its absence
        tags.input_tags.allow_nan = True  # missing values are imputed with the training median
        return tags

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, groups: Any = None, outcome: Any = None) -> InteractionLogisticClassifier:
        """Fit on features ``X`` and binary labels ``y`` (and, learning the outcome, ``outcome`` with
        CV folds grouped by ``groups``)."""
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite="allow-nan", ensure_min_samples=2
        )
        self.classes_, labels = _binary_labels(y)
        frame = _feature_frame(self, X)
        used = np.isfinite(X).any(axis=0)
        if not used.any():
            raise ValueError("no feature has a value in the training data")
        self.used_features_ = [c for c, u in zip(frame.columns, used, strict=True) if u]
        values = frame[self.used_features_].to_numpy(dtype=float)
        self.feature_range_ = (np.nanmin(values, axis=0), np.nanmax(values, axis=0))
        self.pair_moments_ = self._pair_moments(frame)
        design = self._design(frame)
        self.C_, self.C_by_cv_ = self._choose_C(frame, labels, groups)
        self.pipeline_: Pipeline = make_pipeline(
            SimpleImputer(strategy="median"),
            StandardScaler(),
            LogisticRegression(C=self.C_, max_iter=self.max_iter),
        ).fit(design, labels)
        self.n_iter_ = int(self.pipeline_[-1].n_iter_[0])
        self.outcome_fit_: dict[str, Any] | None = None
        self.outcome_name_: str | None = None
        if self.learn_from == "outcome":
            self.sign_bounded_ = self._learn_outcome(design, labels, outcome, groups)
        elif self.learn_from == "label":
            self.sign_bounded_ = self._bound_signs(design, labels)
        else:
            raise ValueError(f"learn_from must be 'label' or 'outcome', got {self.learn_from!r}")
        self.reference_ = self._coordinates(frame).mean(axis=0)
        return self

    def _choose_C(self, frame: pd.DataFrame, labels: np.ndarray, groups: Any) -> tuple[float, bool]:
        """``(C, False)``, or (label fit with ``C_grid``) ``(c, True)`` with ``c`` the grid value of lowest
        out-of-fold log loss over ``cv_folds`` folds grouped by ``groups`` (no athlete in both parts),
        each fold refitted with that ``C`` (sign bounds included); ``(C, False)`` too when a CV training
        fold holds one class only."""
        if self.C_grid is None or self.learn_from != "label":
            return float(self.C), False
        from sklearn.metrics import log_loss

        folds = _folds(len(labels), None if groups is None else np.asarray(groups), self.cv_folds)
        if any(np.unique(labels[train]).size < 2 for train, _ in folds):
            return float(self.C), False
        losses: dict[float, float] = {}
        for c in self.C_grid:
            oof = np.empty(len(labels))
            for train, held in folds:
                fold = clone(self).set_params(C=c, C_grid=None).fit(frame.iloc[train], labels[train])
                oof[held] = fold.predict_proba(frame.iloc[held])[:, 1]
            losses[float(c)] = float(log_loss(labels, oof, labels=[0, 1]))
        return min(losses, key=lambda c: losses[c]), True

    def _learn_outcome(
        self, design: pd.DataFrame, labels: np.ndarray, outcome: Any, groups: Any
    ) -> list[str]:
        """The outcome fit (:func:`ridge_outcome_fit`) written into the logistic step; returns the
        features the sign bounds hold at 0."""
        if outcome is None:
            raise ValueError("learn_from='outcome' needs the outcome: fit(X, y, outcome=...)")
        target = self.outcome_sign * np.asarray(outcome, dtype=float)
        if target.shape != labels.shape or not np.isfinite(target).all():
            raise ValueError("the outcome must be finite and have one value per row of X")
        signs = self._signs()
        fit = ridge_outcome_fit(
            self.pipeline_[:-1].transform(design),
            target,
            labels,
            signs,
            alphas=tuple(self.ridge_alphas),
            groups=None if groups is None else np.asarray(groups),
            n_splits=self.cv_folds,
        )
        self.outcome_name_ = str(getattr(outcome, "name", None) or "outcome")  # the unit column members learn
        logistic = self.pipeline_[-1]
        logistic.coef_ = fit.calibration_slope * fit.weights[None, :]
        logistic.intercept_ = np.array([fit.calibration_intercept + fit.calibration_slope * fit.intercept])
        # plain numbers only: the MLflow flavour (skops) loads builtins and arrays, not our classes
        self.outcome_fit_ = {
            "alpha": fit.alpha,
            "calibration_slope": fit.calibration_slope,
            "calibration_intercept": fit.calibration_intercept,
            "intercept": fit.intercept,
            "oof_mse": fit.oof_mse,
            "weights": [float(w) for w in fit.weights],
        }
        names = list(self.used_features_) + ([INTERACTION_COLUMN] if self.interaction is not None else [])
        return [n for n, sg, wj in zip(names, signs, fit.weights, strict=True) if sg != 0 and wj == 0.0]

    def _signs(self) -> np.ndarray:
        """Per design column the sign its coefficient must keep (``monotone``: +1 = the event grows
        with the feature, -1 = falls, 0 or absent = free); the product ``z_a z_b`` keeps the product of
        the pair's signs (strength +1 x control +1: strength helps more with better control)."""
        check_monotone(self.monotone)
        monotone = self.monotone or {}
        signs = [int(monotone.get(c, 0)) for c in self.used_features_]
        if self.interaction is not None:
            signs.append(
                int(monotone.get(self.interaction[0], 0)) * int(monotone.get(self.interaction[1], 0))
            )
        return np.array(signs, dtype=float)

    def _bound_signs(self, design: pd.DataFrame, labels: np.ndarray) -> list[str]:
        """Refit with the ``monotone`` signs as bounds when the free fit breaks one; returns the
        features whose coefficient the bound holds at 0 or moved (empty: the free fit kept)."""
        signs = self._signs()
        logistic = self.pipeline_[-1]
        if not np.any(signs * logistic.coef_[0] < 0):
            return []
        d = self.pipeline_[:-1].transform(design)
        w, b = sign_bounded_logistic(d, labels.astype(float), signs, self.C_, self.max_iter)
        logistic.coef_ = w[None, :]
        logistic.intercept_ = np.array([b])
        names = list(self.used_features_) + ([INTERACTION_COLUMN] if self.interaction is not None else [])
        return [n for n, s, wj in zip(names, signs, w, strict=True) if s != 0 and wj == 0.0]

    def _pair_moments(self, frame: pd.DataFrame) -> tuple[float, float, float, float] | None:
        """(mean_a, sd_a, mean_b, sd_b) of the interaction pair over its training values."""
        if self.interaction is None:
            return None
        a, b = self.interaction
        present = [f for f in (a, b) if f in self.used_features_ and frame[f].notna().sum() > 1]
        if len(present) < 2:
            raise ValueError(
                f"the interaction needs features {a} and {b} with two or more training values; "
                f"X has {frame.shape[1]} feature(s): {', '.join(map(str, frame.columns))}"
            )
        sd_a, sd_b = float(frame[a].std()) or 1.0, float(frame[b].std()) or 1.0
        return float(frame[a].mean()), sd_a, float(frame[b].mean()), sd_b

    def _pair_z(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """The interaction pair standardised with the training moments (missing -> 0)."""
        assert self.interaction is not None and self.pair_moments_ is not None
        (a, b), (ma, sa, mb, sb) = self.interaction, self.pair_moments_
        za = np.nan_to_num((frame[a].to_numpy(dtype=float) - ma) / sa, nan=0.0)
        zb = np.nan_to_num((frame[b].to_numpy(dtype=float) - mb) / sb, nan=0.0)
        return za, zb

    def _design(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The used feature columns, then the product column (with an interaction)."""
        d = frame[self.used_features_].copy()
        if self.interaction is not None:
            za, zb = self._pair_z(frame)
            d[INTERACTION_COLUMN] = za * zb
        return d

    # ---------------------------------------------------------------- prediction
    def _frame(self, X: Any) -> pd.DataFrame:
        """The features to score, each used one clipped to its training range: a linear margin
        extrapolates without bound (a ratio against a near-empty norm, a value no training row had),
        so a value beyond the training data counts as the nearest one it saw (missing stays missing)."""
        check_is_fitted(self, "pipeline_")
        frame = _prediction_features(self, X).copy()
        low, high = self.feature_range_
        frame[self.used_features_] = np.clip(frame[self.used_features_].to_numpy(dtype=float), low, high)
        return frame

    def margin(self, X: Any) -> np.ndarray:
        """Log-odds ``b0 + sum_j w_j d_j`` of the standardised design ``d`` (the explained space)."""
        design = self._design(self._frame(X))
        return np.asarray(self.pipeline_.decision_function(design), dtype=float)

    def decision_function(self, X: Any) -> np.ndarray:
        """The log-odds of ``classes_[1]`` (= :meth:`margin`; no separate calibrator)."""
        return self.margin(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: probability of ``classes_[0]`` and of ``classes_[1]`` (the event)."""
        design = self._design(self._frame(X))
        return np.asarray(self.pipeline_.predict_proba(design), dtype=float)

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """``classes_[1]`` where the event probability exceeds ``threshold``, else ``classes_[0]``."""
        event = self.predict_proba(X)[:, 1] > threshold
        return self.classes_[event.astype(int)]

    # ---------------------------------------------------------------- explanation
    def _weights(self) -> tuple[np.ndarray, float, float, float]:
        """Per used feature the log-odds per standardised unit ``w_j``; the product's ``v`` per unit
        of ``z_a z_b`` and its offset ``c`` (the product term is ``v z_a z_b + c``); the intercept."""
        scaler, logistic = self.pipeline_.steps[1][1], self.pipeline_[-1]
        coef, k = logistic.coef_[0], len(self.used_features_)
        if self.interaction is None:
            return coef, 0.0, 0.0, float(logistic.intercept_[0])
        v = float(coef[k] / scaler.scale_[k])
        return coef[:k], v, -v * float(scaler.mean_[k]), float(logistic.intercept_[0])

    def _coordinates(self, frame: pd.DataFrame) -> np.ndarray:
        """Per row the standardised linear coordinates ``u_j = (imputed x_j - mean_j) / sd_j`` of the
        used features, then ``z_a``, ``z_b`` of the interaction pair (with one)."""
        imputer, scaler = self.pipeline_.steps[0][1], self.pipeline_.steps[1][1]
        k = len(self.used_features_)
        x = frame[self.used_features_].to_numpy(dtype=float)
        x = np.where(np.isnan(x), imputer.statistics_[:k], x)
        u = (x - scaler.mean_[:k]) / scaler.scale_[:k]
        if self.interaction is None:
            return u
        za, zb = self._pair_z(frame)
        return np.column_stack([u, za, zb])

    def feature_contributions(self, X: Any) -> tuple[np.ndarray, float]:
        """Exact Shapley values of :meth:`margin` (rows x features of ``X``, log-odds) and the base
        value, against one reference point ``r``: the training design mean.

        The margin is ``b0 + sum_j w_j u_j + v z_a z_b + c``. Linear term: ``w_j (u_j - r_j)`` to
        feature j; the product splits exactly (Shapley of a two-player product):
        ``phi_a = v/2 (z_a - r_a)(z_b + r_b)``, ``phi_b = v/2 (z_b - r_b)(z_a + r_a)`` (sum
        ``v (z_a z_b - r_a r_b)``). Base value = the margin at ``r``, so base + row sum = margin.
        Features without a training value contribute 0.
        """
        frame = self._frame(X)
        w, v, c, b0 = self._weights()
        coords, r = self._coordinates(frame), self.reference_
        k = len(self.used_features_)
        values = np.zeros((len(frame), frame.shape[1]))
        position = {name: j for j, name in enumerate(frame.columns)}
        for j, name in enumerate(self.used_features_):
            values[:, position[name]] = w[j] * (coords[:, j] - r[j])
        base = b0 + float(w @ r[:k]) + c
        if self.interaction is not None:
            (a, b), za, zb, ra, rb = self.interaction, coords[:, k], coords[:, k + 1], r[k], r[k + 1]
            values[:, position[a]] += v / 2 * (za - ra) * (zb + rb)
            values[:, position[b]] += v / 2 * (zb - rb) * (za + ra)
            base += v * ra * rb
        return values, float(base)

    def additive_margin(self) -> AdditiveMargin:
        """The margin as ``b0 + c + sum_j w_j u_j + v z_a z_b``: one term per used feature and one for
        the product (reading the pair), for exact group Shapley without every coalition
        (:func:`sprintlab.group_shapley.additive_group_shapley`). ``term_means`` is closed-form: a
        feature's term in the coalition is its own value, else its reference mean; the product takes
        ``z_a`` and ``z_b`` each from the row or, outside the coalition, averages over the reference
        (both outside: ``mean_r z_a z_b``)."""
        check_is_fitted(self, "pipeline_")
        w, v, c, b0 = self._weights()
        k = len(self.used_features_)
        pair = self.interaction
        features = tuple(frozenset({f}) for f in self.used_features_)
        if pair is not None:
            features += (frozenset(pair),)

        def coordinates(frame: pd.DataFrame) -> np.ndarray:
            return self._coordinates(self._frame(frame))

        def term_values(frame: pd.DataFrame) -> np.ndarray:
            u = coordinates(frame)
            linear = u[:, :k] * w
            return linear if pair is None else np.column_stack([linear, v * u[:, k] * u[:, k + 1]])

        def term_means(x: pd.DataFrame, reference: pd.DataFrame, taken: frozenset[str]) -> np.ndarray:
            ux, ur = coordinates(x), coordinates(reference)
            in_s = np.array([f in taken for f in self.used_features_])
            linear = np.where(in_s, ux[:, :k] * w, (ur[:, :k] * w).mean(axis=0))
            if pair is None:
                return linear
            a_in, b_in = pair[0] in taken, pair[1] in taken
            za = ux[:, k] if a_in else np.full(len(x), ur[:, k].mean())
            zb = ux[:, k + 1] if b_in else np.full(len(x), ur[:, k + 1].mean())
            product = v * za * zb if a_in or b_in else np.full(len(x), v * (ur[:, k] * ur[:, k + 1]).mean())
            return np.column_stack([linear, product])

        return AdditiveMargin(b0 + c, 1.0, features, term_values, term_means)

    def coefficient_table(self) -> pd.DataFrame:
        """The fitted model in plain numbers: per design column (features, then the product) the
        standardised coefficient (log-odds per training SD), the training mean and SD of the
        column, and the intercept as the first row."""
        scaler, logistic = self.pipeline_.steps[1][1], self.pipeline_[-1]
        names = list(self.used_features_) + ([INTERACTION_COLUMN] if self.interaction is not None else [])
        table = pd.DataFrame(
            {
                "feature": names,
                "standardised_coefficient": logistic.coef_[0],
                "training_mean": scaler.mean_,
                "training_sd": scaler.scale_,
            }
        )
        intercept = pd.DataFrame(
            {
                "feature": ["(intercept)"],
                "standardised_coefficient": [float(logistic.intercept_[0])],
                "training_mean": [np.nan],
                "training_sd": [np.nan],
            }
        )
        return pd.concat([intercept, table], ignore_index=True)

    # ---------------------------------------------------------------- bootstrap members
    def fit_member(
        self, X: pd.DataFrame, y: np.ndarray, outcome: Any, offset: int
    ) -> InteractionLogisticClassifier:
        """A bootstrap member (:func:`sprintlab.levers.fit_bootstrap_boosters`): the same estimator
        refitted on a resample (``offset`` unused: the fit is deterministic). Learning the outcome, the
        member keeps the deployed model's penalty (a resample repeats athletes, so it has no clean
        grouped folds to choose one) and recalibrates on contiguous folds; learning the label, it keeps
        the deployed model's ``C_``."""
        if self.learn_from == "outcome" and self.outcome_fit_ is not None:
            penalty = (float(self.outcome_fit_["alpha"]),)
            return clone(self).set_params(ridge_alphas=penalty).fit(X, y, outcome=outcome)
        return clone(self).set_params(C=self.C_, C_grid=None).fit(X, y)

    def member_proba(self, member: InteractionLogisticClassifier, X: pd.DataFrame) -> np.ndarray:
        """A bootstrap member's event probability (its own logistic; no calibrator to share)."""
        return member.predict_proba(X)[:, 1]
