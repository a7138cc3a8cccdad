"""LightGBM estimators with athlete-grouped cross-fitting, as scikit-learn estimators.

* :class:`CalibratedLGBMClassifier` - binary classifier whose probabilities are calibrated on
  out-of-fold predictions inside the training data.
* :class:`ConformalLGBMRegressor` - regression with a cross-conformal prediction interval.

Both validate their input the scikit-learn way (``validate_data``: 2-d numeric ``X``, NaN and inf
allowed because LightGBM routes missing values; the feature names of a DataFrame are recorded at
fit and must match at prediction) and pass ``sklearn.utils.estimator_checks``
(``tests/models/test_estimator.py``).
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.utils import Tags
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from sprintlab.group_shapley import AdditiveMargin

log = logging.getLogger(__name__)

CALIBRATIONS = ("isotonic", "sigmoid", "none")
LEARN_FROM = ("label", "outcome")
#: the range an isotonic calibrator's probabilities are kept in (never exactly 0 or 1)
ISOTONIC_RANGE = (1e-4, 1 - 1e-4)
#: rows from which a prediction runs on every core (LightGBM's ``num_threads=0``: OpenMP's default)
PARALLEL_PREDICTION_ROWS = 20_000
#: a fold's fitted booster and the row positions it predicts out of fold
FoldModel = tuple[np.ndarray, Any]


# ------------------------------------------------------------------ shared steps
def _eval_kwargs(X: pd.DataFrame, y: np.ndarray) -> dict[str, Any]:
    """Validation data in the form this LightGBM accepts (``eval_X`` from 4.6, ``eval_set`` before)."""
    if "eval_X" in inspect.signature(lgb.LGBMClassifier.fit).parameters:
        return {"eval_X": (X,), "eval_y": (y,)}
    return {"eval_set": [(X, y)]}


def check_monotone(monotone: dict[str, int] | None) -> None:
    """``ValueError`` unless every monotone constraint (feature -> direction) is -1, 0 or 1."""
    bad = {k: v for k, v in (monotone or {}).items() if v not in (-1, 0, 1)}
    if bad:
        raise ValueError(f"monotone constraints must be -1, 0 or 1, got {bad}")


def _logit(p: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)) with p clipped to [1e-6, 1 - 1e-6]."""
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


#: LightGBM's missing-value handling of a numerical split (``missing_type`` in a dumped tree)
_MISSING_TYPES = {"None": 0, "Zero": 1, "NaN": 2}
#: LightGBM's ``kZeroThreshold``: |x| at most this counts as zero
_ZERO_THRESHOLD = 1e-35


@dataclass(frozen=True)
class LeafPaths:
    """Every leaf of an ensemble's trees with the conditions on its path, padded to the deepest path
    (``active`` False where padded): ``value`` and LightGBM's ``leaf_index`` per leaf (leaves of a
    tree contiguous, trees in order, ``first_leaf``: each tree's first leaf), per condition the
    ``feature`` index, ``threshold``, ``goes_left`` (the path takes the left child), ``missing``
    (0 None, 1 Zero, 2 NaN) and ``default_left``."""

    first_leaf: np.ndarray
    value: np.ndarray
    leaf_index: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    goes_left: np.ndarray
    missing: np.ndarray
    default_left: np.ndarray
    active: np.ndarray

    def tree_of_leaf(self) -> np.ndarray:
        """The tree index of every leaf."""
        return np.repeat(np.arange(len(self.first_leaf)), np.diff([*self.first_leaf, len(self.value)]))

    def leaf_values(self) -> np.ndarray:
        """``values[tree, leaf_index]``: each tree's leaf values by LightGBM's leaf index."""
        values = np.zeros((len(self.first_leaf), int(self.leaf_index.max()) + 1))
        values[self.tree_of_leaf(), self.leaf_index] = self.value
        return values

    def split_features(self, names: list[str]) -> list[frozenset[str]]:
        """Per tree the names of the features it splits on."""
        tree = np.repeat(self.tree_of_leaf()[:, None], self.feature.shape[1], axis=1)[self.active]
        used: list[set[str]] = [set() for _ in self.first_leaf]
        for t, f in zip(tree, self.feature[self.active], strict=True):
            used[t].add(names[f])
        return [frozenset(u) for u in used]


def leaf_paths(trees: list[dict]) -> LeafPaths:
    """:class:`LeafPaths` of dumped LightGBM trees (``Booster.dump_model()["tree_info"]``); numerical
    ``<=`` splits only (``ValueError`` on a categorical one)."""
    leaves: list[tuple[float, int, list[tuple[int, float, bool, int, bool]]]] = []
    first = []

    def walk(node: dict, path: list[tuple[int, float, bool, int, bool]]) -> None:
        if "leaf_value" in node:  # a tree without a split is one leaf without an index
            leaves.append((float(node["leaf_value"]), int(node.get("leaf_index", 0)), path))
            return
        if node["decision_type"] != "<=":
            raise ValueError(f"only numerical splits are supported, got {node['decision_type']!r}")
        split = (int(node["split_feature"]), float(node["threshold"]))
        flags = (_MISSING_TYPES[node["missing_type"]], bool(node["default_left"]))
        walk(node["left_child"], [*path, (*split, True, *flags)])
        walk(node["right_child"], [*path, (*split, False, *flags)])

    for tree in trees:
        first.append(len(leaves))
        walk(tree["tree_structure"], [])
    depth = max(1, max(len(path) for *_, path in leaves))
    cond = np.zeros((len(leaves), depth, 5))
    active = np.zeros((len(leaves), depth), dtype=bool)
    for i, (*_, path) in enumerate(leaves):
        if path:
            cond[i, : len(path)] = np.array(path, dtype=float)
            active[i, : len(path)] = True
    return LeafPaths(
        np.array(first, dtype=int),
        np.array([value for value, *_ in leaves]),
        np.array([index for _, index, _ in leaves], dtype=int),
        cond[:, :, 0].astype(int),
        cond[:, :, 1],
        cond[:, :, 2].astype(bool),
        cond[:, :, 3].astype(int),
        cond[:, :, 4].astype(bool),
        active,
    )


def _conditions_hold(paths: LeafPaths, values: np.ndarray) -> np.ndarray:
    """Per row, leaf and condition whether the row satisfies it, as LightGBM decides a numerical split
    (``NumericalDecision`` in LightGBM's ``tree.h``): a missing value counts as 0 unless the split
    has missing type NaN; a zero (type Zero) or missing (type NaN) value goes the default way, any
    other ``x <= threshold`` left. Padded conditions hold. Shape ``(rows, leaves, depth)``."""
    v = values[:, paths.feature]
    nan = np.isnan(v)
    v = np.where(nan & (paths.missing != 2), 0.0, v)
    default = np.where(paths.missing == 1, np.abs(v) <= _ZERO_THRESHOLD, (paths.missing == 2) & nan)
    left = np.where(default, paths.default_left, v <= paths.threshold)
    return (left == paths.goes_left) | ~paths.active


def tree_term_means(paths: LeafPaths, xv: np.ndarray, rv: np.ndarray, in_s: np.ndarray) -> np.ndarray:
    """``mean_r tree_t(x_S, r_{-S})`` per row of ``xv`` and tree, exactly: a leaf is reached when every
    condition on its path holds, those on features in ``S`` (``in_s`` per feature) decided by the
    row and the others by the reference row, so the mean over the reference is
    ``sum_leaf value x [row's conditions hold] x mean_r [reference's conditions hold]``."""
    from_row = in_s[paths.feature] & paths.active
    rows_per_chunk = max(1, 2_000_000 // paths.feature.size)
    reference_share = np.zeros(len(paths.value))
    for start in range(0, len(rv), rows_per_chunk):
        held = _conditions_hold(paths, rv[start : start + rows_per_chunk])
        reference_share += (held | from_row).all(axis=2).sum(axis=0)
    weight = paths.value * reference_share / len(rv)
    out = np.empty((len(xv), len(paths.first_leaf)))
    for start in range(0, len(xv), rows_per_chunk):
        held = (_conditions_hold(paths, xv[start : start + rows_per_chunk]) | ~from_row).all(axis=2)
        out[start : start + len(held)] = np.add.reduceat(held * weight, paths.first_leaf, axis=1)
    return out


def _prediction_features(estimator: BaseEstimator, X: Any) -> pd.DataFrame:
    """``X`` checked the scikit-learn way against the fitted features (same count, and for a
    DataFrame the same names in the same order) as the float DataFrame the boosters see."""
    values = validate_data(estimator, X, reset=False, dtype=np.float64, ensure_all_finite=False)
    return _feature_frame(estimator, values)


def _feature_frame(estimator: BaseEstimator, values: np.ndarray) -> pd.DataFrame:
    """A validated feature array as the DataFrame the boosters see (fitted names, else x0, x1, ...)."""
    names = getattr(estimator, "feature_names_in_", None)
    columns = list(names) if names is not None else [f"x{j}" for j in range(values.shape[1])]
    return pd.DataFrame(values, columns=columns)


def _groups(groups: Any, n_rows: int) -> np.ndarray:
    """Group label per row (athlete ids); without groups every row is its own group."""
    return np.asarray(groups) if groups is not None else np.arange(n_rows)


def _fit_fold(
    model: Any,
    X: pd.DataFrame,
    target: np.ndarray,
    train: np.ndarray,
    held_out: np.ndarray,
    metric: str | None,
) -> np.ndarray | None:
    """Fit ``model`` on the ``train`` rows. With a ``metric`` the held-out rows only monitor the loss:
    their ``metric`` curve times the fold size is returned (summed over folds, every row counts once)."""
    if metric is None:
        model.fit(X.iloc[train], target[train])
        return None
    model.fit(
        X.iloc[train], target[train], eval_metric=metric, **_eval_kwargs(X.iloc[held_out], target[held_out])
    )
    return np.asarray(model.evals_result_["valid_0"][metric], dtype=float) * held_out.size


def _rounds_from_curves(curves: list[np.ndarray], default: int) -> int:
    """Cross-validated early stopping: 1 + argmin of the held-out loss curves summed over folds."""
    return int(np.argmin(np.sum(curves, axis=0))) + 1 if curves else default


def _out_of_fold(
    X: pd.DataFrame, fold_models: list[FoldModel], n_rounds: int, *, raw_score: bool
) -> np.ndarray:
    """Each row predicted by the fold model that did not see it (NaN for rows no fold predicted)."""
    out = np.full(len(X), np.nan)
    for held_out, model in fold_models:
        out[held_out] = model.predict(X.iloc[held_out], raw_score=raw_score, num_iteration=n_rounds)
    return out


def _binary_labels(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two classes (sorted) and ``y`` coded 0/1, 1 = ``classes[1]`` (the event)."""
    check_classification_targets(y)
    kind = type_of_target(y, input_name="y")
    if kind != "binary":
        raise ValueError(f"Only binary classification is supported. The type of the target is {kind}.")
    classes, coded = np.unique(y, return_inverse=True)
    if classes.size < 2:
        raise ValueError(f"y must be binary with both classes present; got one class ({classes[0]!r})")
    return classes, coded.astype(int)


def _platt_affine(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling ``logit p = a + b * margin`` (unpenalised logistic regression), returned as
    ``(a, b)``. If the margin does not rank the labels (``b <= 0``), the honest model is the base
    rate: ``a = logit(mean y)``, ``b = 0`` (with a log warning)."""
    platt = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)
    slope, intercept = float(platt.coef_[0, 0]), float(platt.intercept_[0])
    if slope > 0:
        return intercept, slope
    rate = float(np.clip(y.mean(), 1e-4, 1 - 1e-4))
    log.warning(
        "the learned outcome does not rank the labels out of fold (calibration slope <= 0; "
        "check outcome_sign and the outcome column): predicting the base rate %.3f",
        rate,
    )
    return float(np.log(rate / (1 - rate))), 0.0


def _increasing_platt(margin: np.ndarray, y: np.ndarray) -> LogisticRegression | None:
    """Platt sigmoid calibrator, or None when its slope is not positive (it would invert the ranking)."""
    platt = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y)
    return platt if platt.coef_[0, 0] > 0 else None


def _isotonic(margin: np.ndarray, y: np.ndarray) -> IsotonicRegression:
    """Monotone increasing isotonic calibrator kept inside :data:`ISOTONIC_RANGE`."""
    low, high = ISOTONIC_RANGE
    return IsotonicRegression(out_of_bounds="clip", y_min=low, y_max=high, increasing=True).fit(margin, y)


# ------------------------------------------------------------------ classifier
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
    training data). ``monotone`` maps feature names to +1/-1 monotone constraints.

    ``margin`` is the model's log-odds margin from the final booster - the space SHAP explains;
    ``predict_proba`` applies the calibrator to it; ``decision_function`` is the calibrated log-odds
    ``logit(predict_proba)``, so ``predict`` (probability >= 0.5) agrees with its sign.

    ``learn_from="outcome"``: when the label is a threshold on a measured quantity (transfer: the
    0-10 m change beyond the smallest worthwhile change), the boosters learn that quantity
    (``outcome_sign * outcome``, L2 loss) instead of the 0/1 label, which keeps the information
    the threshold throws away. The label is then used only for the Platt calibration on the
    out-of-fold predictions: ``logit p = a + b * f(x)`` with ``b > 0`` (if the out-of-fold ranking is
    inverted or absent, ``b = 0`` and the model predicts the training base rate, with a log warning), so
    ``margin`` - already the calibrated log-odds - is linear in the booster output and SHAP
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

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False  # one event against its absence
        tags.input_tags.allow_nan = True  # LightGBM routes missing values
        return tags

    # ---------------------------------------------------------------- fitting
    def fit(self, X: Any, y: Any, groups: Any = None, outcome: Any = None) -> CalibratedLGBMClassifier:
        """Fit on features ``X`` and binary labels ``y``; ``groups`` (athlete ids) keep an athlete's
        units in one fold; ``outcome`` (same rows) is required with ``learn_from="outcome"``."""
        self._check_settings()
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=2)
        self.classes_, labels = _binary_labels(y)
        target = self._boosting_target(labels, outcome)
        if self.learn_from == "outcome":
            self.outcome_name_ = str(getattr(outcome, "name", None) or "outcome")
        frame = _feature_frame(self, X)
        fold_models, curves = self._fit_folds(frame, labels, target, _groups(groups, labels.size))
        self.n_rounds_ = _rounds_from_curves(curves, self.n_estimators)
        self.oof_margin_ = _out_of_fold(frame, fold_models, self.n_rounds_, raw_score=True)
        scored = np.isfinite(self.oof_margin_)
        if self.calibration != "none" and np.unique(labels[scored]).size < 2:
            raise ValueError(
                "too few positive units to calibrate on out-of-fold predictions; "
                "add data or set calibration: none"
            )
        booster = self._booster(labels, self.n_rounds_, columns=list(frame.columns))
        self.booster_ = booster.fit(frame, target)
        self._calibrate(self.oof_margin_[scored], labels[scored])
        return self

    def _check_settings(self) -> None:
        """Reject settings fit cannot honour (scikit-learn validates parameters in fit)."""
        if self.calibration not in CALIBRATIONS:
            raise ValueError(f"calibration must be isotonic, sigmoid or none, got {self.calibration!r}")
        if self.learn_from not in LEARN_FROM:
            raise ValueError(f"learn_from must be label or outcome, got {self.learn_from!r}")
        if self.outcome_sign not in (-1, 1):
            raise ValueError(f"outcome_sign must be -1 or 1, got {self.outcome_sign!r}")
        if self.learn_from == "outcome" and self.calibration != "sigmoid":
            raise ValueError("learn_from=outcome needs calibration: sigmoid (log-odds linear in the outcome)")
        if self.cv_folds < 2:
            raise ValueError("cv_folds must be at least 2")
        check_monotone(self.monotone)

    def _boosting_target(self, labels: np.ndarray, outcome: Any) -> np.ndarray:
        """What the boosters learn: the 0/1 labels, or ``outcome_sign * outcome`` (learn_from="outcome")."""
        if self.learn_from == "label":
            return labels
        if outcome is None:
            raise ValueError("learn_from=outcome needs the outcome values in fit(..., outcome=...)")
        target = self.outcome_sign * np.asarray(outcome, dtype=float)
        if target.shape != labels.shape or not np.isfinite(target).all():
            raise ValueError("outcome must be one finite value per training row")
        return target

    def _fit_folds(
        self, X: pd.DataFrame, labels: np.ndarray, target: np.ndarray, groups: np.ndarray
    ) -> tuple[list[FoldModel], list[np.ndarray]]:
        """One booster per athlete-grouped, label-stratified fold (folds whose training part lacks a
        class are skipped) and, with early stopping, each held-out fold's loss curve."""
        metric = "l2" if self.learn_from == "outcome" else "binary_logloss"
        n_splits = min(self.cv_folds, np.unique(groups).size)
        folds = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        fold_models: list[FoldModel] = []
        curves: list[np.ndarray] = []
        for train, held_out in folds.split(X, labels, groups):
            if np.unique(labels[train]).size < 2:
                continue
            model = self._booster(labels[train], columns=list(X.columns))
            # the held-out fold only monitors the loss; the rounds come from all folds' curves
            monitor = self.early_stopping and np.unique(labels[held_out]).size == 2
            curve = _fit_fold(model, X, target, train, held_out, metric if monitor else None)
            if curve is not None:
                curves.append(curve)
            fold_models.append((held_out, model))
        return fold_models, curves

    def _monotone_vector(self, columns: list[str]) -> list[int] | None:
        """LightGBM's per-column monotone constraints from ``monotone`` (None without constraints, or
        when every constraint names a feature the model does not have)."""
        if not self.monotone:
            return None
        vector = [int(self.monotone.get(c, 0)) for c in columns]
        if not any(vector) and set(self.monotone) - set(columns):
            return None
        return vector

    def _booster(
        self, labels: np.ndarray, n_estimators: int | None = None, columns: list[str] | None = None
    ) -> lgb.LGBMModel:
        """An unfitted booster with this model's settings: a regressor of the outcome
        (learn_from="outcome") or a classifier of the labels (``scale_pos_weight`` = negatives /
        positives of ``labels`` when ``balance``)."""
        monotone = self._monotone_vector(columns) if columns is not None else None
        extra: dict[str, Any] = (
            {"monotone_constraints": monotone, "monotone_constraints_method": "advanced"} if monotone else {}
        )
        booster_class: type[lgb.LGBMModel] = lgb.LGBMRegressor
        if self.learn_from != "outcome":
            positives = max(int(labels.sum()), 1)
            negatives = max(int((1 - labels).sum()), 1)
            booster_class = lgb.LGBMClassifier
            extra["scale_pos_weight"] = (negatives / positives) if self.balance else 1.0
        return booster_class(
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

    def _calibrate(self, margin: np.ndarray, labels: np.ndarray) -> None:
        """Calibration from out-of-fold margins and labels only: ``margin_affine_`` for a model that
        learns the outcome, else ``calibrator_`` (Platt sigmoid, isotonic when Platt would invert
        the ranking, or none)."""
        self.calibrator_: LogisticRegression | IsotonicRegression | None = None
        self.margin_affine_ = (0.0, 1.0)
        if self.learn_from == "outcome":
            self.margin_affine_ = _platt_affine(margin, labels)
        elif self.calibration == "sigmoid":
            platt = _increasing_platt(margin, labels)
            self.calibrator_ = platt if platt is not None else _isotonic(margin, labels)
        elif self.calibration == "isotonic":
            self.calibrator_ = _isotonic(margin, labels)

    # ---------------------------------------------------------------- prediction
    def _raw(self, X: Any) -> np.ndarray:
        """The final booster's raw output for validated ``X``; a batch of at least
        :data:`PARALLEL_PREDICTION_ROWS` rows (group Shapley's coalitions) on every core - each row is
        one thread's sum over the trees, so the values do not depend on the thread count."""
        check_is_fitted(self, "booster_")
        frame = _prediction_features(self, X)
        threads = 0 if len(frame) >= PARALLEL_PREDICTION_ROWS else self.booster_.n_jobs
        return np.asarray(self.booster_.predict(frame, raw_score=True, num_threads=threads))

    def margin(self, X: Any) -> np.ndarray:
        """Log-odds margin - the space SHAP explains: the raw LightGBM margin, or ``a + b f(x)`` with
        ``learn_from="outcome"`` (then already the calibrated log-odds)."""
        return self.margin_from_raw(self._raw(X))

    def additive_margin(self) -> AdditiveMargin:
        """The margin as ``a + b * sum of the final booster's trees`` (``margin_affine_``), each tree
        with the features it splits on: exact group Shapley without every coalition
        (:func:`sprintlab.group_shapley.additive_group_shapley`). A tree's value per row comes from
        LightGBM's leaf indices (``pred_leaf``) and the dumped leaf values."""
        check_is_fitted(self, "booster_")
        booster = self.booster_.booster_
        names = booster.feature_name()
        trees = booster.dump_model()["tree_info"][: self._n_trees()]
        paths = leaf_paths(trees)
        leaf_values, features = paths.leaf_values(), paths.split_features(names)
        intercept, slope = getattr(self, "margin_affine_", (0.0, 1.0))

        def term_values(frame: pd.DataFrame) -> np.ndarray:
            x = _prediction_features(self, frame)
            threads = 0 if len(x) >= PARALLEL_PREDICTION_ROWS else self.booster_.n_jobs
            leaves = np.asarray(self.booster_.predict(x, pred_leaf=True, num_threads=threads)).reshape(
                len(x), -1
            )
            return leaf_values[np.arange(len(trees))[None, :], leaves]

        def term_means(x: pd.DataFrame, reference: pd.DataFrame, taken: frozenset[str]) -> np.ndarray:
            xv = _prediction_features(self, x).to_numpy(dtype=float)
            rv = _prediction_features(self, reference).to_numpy(dtype=float)
            return tree_term_means(paths, xv, rv, np.array([n in taken for n in names]))

        return AdditiveMargin(float(intercept), float(slope), tuple(features), term_values, term_means)

    def _n_trees(self) -> int:
        """How many trees a prediction uses (LightGBM's best iteration when it kept one)."""
        best = getattr(self.booster_, "best_iteration_", None)
        return int(best) if best else int(self.booster_.booster_.num_trees())

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

    def predict_proba(self, X: Any) -> np.ndarray:
        """Columns: probability of ``classes_[0]`` and of ``classes_[1]`` (the calibrated event)."""
        p = self.proba_from_raw(self._raw(X))
        return np.column_stack([1 - p, p])

    def decision_function(self, X: Any) -> np.ndarray:
        """Calibrated log-odds of the event, ``logit(predict_proba(X)[:, 1])`` (the margin itself
        when there is no separate calibrator); positive where ``predict`` names ``classes_[1]``."""
        raw = self._raw(X)
        if self.calibrator_ is None:
            return self.margin_from_raw(raw)
        return _logit(self.proba_from_raw(raw))

    def predict(self, X: Any, threshold: float = 0.5) -> np.ndarray:
        """``classes_[1]`` where the calibrated event probability exceeds ``threshold``, else
        ``classes_[0]`` (a tie goes to ``classes_[0]``, as ``argmax`` of ``predict_proba`` does)."""
        event = self.predict_proba(X)[:, 1] > threshold
        return self.classes_[event.astype(int)]

    # ---------------------------------------------------------------- explanation
    def feature_contributions(self, X: Any) -> tuple[np.ndarray, float]:
        """Tree SHAP values (rows x features, log-odds of :meth:`margin`) and the base value.

        LightGBM's own Tree SHAP (``predict(pred_contrib=True)``: the path-dependent algorithm of
        shap's ``TreeExplainer``, the expected value in the last column). Additivity: base + row sum
        = ``margin(X)`` (for a model that learns the outcome, the booster's SHAP values are scaled by
        the calibration slope into log-odds).
        """
        check_is_fitted(self, "booster_")
        contrib = np.asarray(
            self.booster_.booster_.predict(_prediction_features(self, X), pred_contrib=True), dtype=float
        )
        base_value = float(contrib[0, -1]) if len(contrib) else float("nan")
        # the model's log-odds are affine in the booster output (identity unless learn_from="outcome")
        intercept, slope = getattr(self, "margin_affine_", (0.0, 1.0))
        return contrib[:, :-1] * slope, intercept + slope * base_value

    # ---------------------------------------------------------------- bootstrap members
    def fit_member(self, X: pd.DataFrame, y: np.ndarray, outcome: Any, offset: int) -> lgb.LGBMModel:
        """A bootstrap member (:func:`sprintlab.levers.fit_bootstrap_boosters`): the final booster's
        settings refitted on a resample, ``random_state`` moved by ``offset``; it learns
        ``outcome_sign * outcome`` with ``learn_from="outcome"``, else the labels ``y``."""
        import lightgbm as lgb

        check_is_fitted(self, "booster_")
        params = self.booster_.get_params()
        by_outcome = getattr(self, "learn_from", "label") == "outcome"
        target = self.outcome_sign * np.asarray(outcome, dtype=float) if by_outcome else np.asarray(y)
        booster_class: type[lgb.LGBMModel] = lgb.LGBMRegressor if by_outcome else lgb.LGBMClassifier
        member = booster_class(**{**params, "random_state": int(params.get("random_state") or 0) + offset})
        return member.fit(X, target)

    def member_proba(self, member: lgb.LGBMModel, X: pd.DataFrame) -> np.ndarray:
        """A bootstrap member's calibrated event probability: its raw output through this model's
        calibration (:meth:`proba_from_raw`)."""
        return self.proba_from_raw(np.asarray(member.predict(X, raw_score=True)))


# ------------------------------------------------------------------ regressor
class ConformalLGBMRegressor(RegressorMixin, BaseEstimator):
    """LightGBM regression with a split-free conformal prediction interval.

    The interval half-width is the finite-sample ``coverage`` quantile of the absolute
    out-of-fold residuals of athlete-grouped K-fold inside the training data (cross-conformal,
    "CV+"-style with a common width): the ``ceil((n + 1) coverage) / n`` quantile of the ``n``
    residuals; test data never enter the width. The final booster is trained on all training rows;
    its number of rounds is chosen on the same folds' held-out L2 curves when ``early_stopping=True``.
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

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True  # LightGBM routes missing values
        return tags

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

    def fit(self, X: Any, y: Any, groups: Any = None) -> ConformalLGBMRegressor:
        """Fit on features ``X`` and values ``y``; ``groups`` (athlete ids) keep an athlete's rows in
        one fold."""
        if not 0 < self.coverage < 1:
            raise ValueError("coverage must lie strictly between 0 and 1")
        X, y = validate_data(
            self, X, y, dtype=np.float64, ensure_all_finite=False, ensure_min_samples=2, y_numeric=True
        )
        frame, y = _feature_frame(self, X), np.asarray(y, dtype=float)
        groups = _groups(groups, y.size)
        n_splits = min(self.cv_folds, np.unique(groups).size)
        if n_splits < 2:
            raise ValueError("need at least two groups for out-of-fold residuals")
        fold_models: list[FoldModel] = []
        curves: list[np.ndarray] = []
        for train, held_out in GroupKFold(n_splits=n_splits).split(frame, y, groups):
            model = self._booster(self.n_estimators)
            curve = _fit_fold(model, frame, y, train, held_out, "l2" if self.early_stopping else None)
            if curve is not None:
                curves.append(curve)
            fold_models.append((held_out, model))
        self.n_rounds_ = _rounds_from_curves(curves, self.n_estimators)
        residuals = np.abs(y - _out_of_fold(frame, fold_models, self.n_rounds_, raw_score=False))
        n = residuals.size
        level = min(1.0, np.ceil((n + 1) * self.coverage) / n)
        self.half_width_ = float(np.quantile(residuals, level, method="higher"))
        self.oof_mae_ = float(residuals.mean())
        self.booster_ = self._booster(self.n_rounds_).fit(frame, y)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Point prediction of the final booster."""
        check_is_fitted(self, "booster_")
        return np.asarray(self.booster_.predict(_prediction_features(self, X)))

    def predict_interval(self, X: Any) -> np.ndarray:
        """Columns: point prediction, lower and upper bound of the ``coverage`` interval."""
        p = self.predict(X)
        return np.column_stack([p, p - self.half_width_, p + self.half_width_])
