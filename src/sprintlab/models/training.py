"""Train one model with its baselines on an athlete- and time-grouped split and score it all."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from sprintlab import domain
from sprintlab.domain import Target
from sprintlab.models.datasets import feature_matrix
from sprintlab.models.estimator import ConformalLGBMRegressor
from sprintlab.models.evaluation import (
    AcwrThresholdRule,
    PrevalenceBaseline,
    Split,
    StrengthOnlyLogistic,
    athlete_time_split,
    score_block,
)
from sprintlab.models.families import LIGHTGBM, Classifier, make_classifier, other_family
from sprintlab.models.transfer_baselines import OPENING_TEST_FEATURES, transfer_baselines
from sprintlab.models.transfer_selection import FamilyFit, best_baseline_explanations, transfer_selection

STRENGTH_BASELINE_FEATURES = [
    "squat_e1rm_rel",
    "strength_change_since_test_pct",
    "strength_change_8w_pct",
    "deadlift_e1rm_rel",
    "nordic_force_n",
    "imtp_peak_force_n",
    "cmj_height_cm",
]


#: the split sizes below which a model is not trained (``params.yaml`` ``train.min_units`` /
#: ``train.min_events`` override them); at least one unit of each outcome in each split
SPLITS = ("training", "test")
AT_LEAST_ONE = {"training": 1, "test": 1}


class TooLittleData(ValueError):
    """The units cannot train and evaluate the model: no feature with a value, or a split with
    fewer units, or fewer units of either outcome, than the minimum."""


class Baseline(Protocol):
    """A simple model scored beside the calibrated one (:mod:`sprintlab.models.evaluation`)."""

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> Baseline: ...

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray: ...


@dataclass
class TrainResult:
    """A fitted model, its evaluation and the predictions behind it."""

    model: Classifier
    features: list[str]
    metrics: dict[str, Any]
    split: Split
    test_predictions: pd.DataFrame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)


def train_and_evaluate(
    units: pd.DataFrame,
    *,
    target: str,
    features: list[str],
    family: str,
    model_params: dict[str, Any],
    split_params: dict[str, Any],
    flag_threshold: float,
    n_boot: int = 500,
    acwr_threshold: float = 1.5,
    seed: int = 0,
    interval_coverage: float = 0.9,
    outcome: str | None = None,
    min_units: Mapping[str, int] = AT_LEAST_ONE,
    min_events: Mapping[str, int] = AT_LEAST_ONE,
) -> TrainResult:
    """Fit the model of ``family`` (:mod:`sprintlab.models.families`: ``linear_interaction`` or
    ``lightgbm`` with the LightGBM settings ``model_params``) on the training split and score it beside
    baselines (``metrics["model"]["family"]`` names it).

    Baselines are fitted on the same training rows and scored on the same test rows:
    ``prevalence``, ``strength_only_logistic``, for an outcome with ``acwr_baseline``
    (hamstring) ``acwr_threshold``, for transfer ``opening_test_only``, ``logistic_all_features`` and
    ``linear_interaction`` (:mod:`sprintlab.models.transfer_baselines`). When ``p_true`` (the simulator's truth) is present the
    ``oracle`` is scored too. For an outcome with a ``measured_change_column`` (transfer: the
    0-10 m change ``t10_change_s``) a regression of that change with a conformal
    ``interval_coverage`` prediction interval is fitted on the same training rows and scored under
    ``regression``. Transfer: ``selection``, the shipped family against the other one fitted on the
    same training rows (:mod:`sprintlab.models.transfer_selection`). ``outcome`` names the unit column a ``learn_from="outcome"`` model learns.

    Raises :class:`TooLittleData` when no feature has a value or a split ("training", "test") holds
    fewer than ``min_units`` units or fewer than ``min_events`` units of either outcome.
    """
    spec = domain.target(target)
    if units.empty or "label_complete" not in units:
        raise TooLittleData(f"no {spec.unit_label}s to train on")
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in features if f in usable and usable[f].notna().any()]
    if not feats:
        raise TooLittleData("none of the configured features has a value in the training data")
    split = athlete_time_split(usable, seed=seed, **split_params)
    train, test = usable.iloc[split.train], usable.iloc[split.test]
    require_enough_data(target, {"training": train, "test": test}, min_units, min_events)
    fit_family = _FamilyFitter(train, test, feats, model_params, seed, outcome)
    model = fit_family(family)
    score = HeldOutScorer(test["y"].to_numpy(), test["athlete_id"].to_numpy(), flag_threshold, n_boot, seed)
    p_model = model.predict_proba(feature_matrix(test, feats))[:, 1]
    metrics: dict[str, Any] = {"model": {"family": family, **score(p_model)}}
    baselines = _baselines(spec, acwr_threshold, feats)
    metrics["baselines"], p_baselines = _score_baselines(baselines, train, test, feats, score)
    p_test = {"p_model": p_model, **p_baselines}
    if spec.name == "transfer":
        shipped = FamilyFit(family, model, p_model, metrics["model"])
        metrics.update(
            _selection(shipped, baselines, usable, split, feats, metrics, p_test, score, fit_family)
        )
        best = best_baseline_explanations(baselines, metrics["baselines"], usable, split.cutoff, feats)
        if best is not None:
            metrics["best_baseline_explanations"] = best
    oracles, p_oracle = _score_oracles(test, score)
    metrics.update(oracles)
    ids = {"athlete_id": score.groups, "unit_date": test["unit_date"].to_numpy(), "y": score.y}
    preds = pd.DataFrame({**ids, **p_test, **p_oracle})
    change = spec.measured_change_column
    if change is not None and change in usable:
        metrics["regression"], interval = _change_regression(
            train, test, feats, change, interval_coverage, seed
        )
        preds = pd.concat([preds, interval], axis=1)
    metrics.update(_split_summary(train, test, split, feats))
    return TrainResult(
        model=model,
        features=feats,
        metrics=metrics,
        split=split,
        test_predictions=preds,
        curves=_curves(score.y, preds),
    )


@dataclass(frozen=True)
class _FamilyFitter:
    """Fits a model of a family on the training units (the same rows, features and seed for each)."""

    train: pd.DataFrame
    test: pd.DataFrame
    features: list[str]
    lgbm_params: Mapping[str, Any]
    seed: int
    outcome: str | None

    def __call__(self, family: str) -> Classifier:
        return make_classifier(family, self.lgbm_params, self.seed, self.features).fit(
            feature_matrix(self.train, self.features),
            self.train["y"].to_numpy(),
            groups=self.train["athlete_id"].to_numpy(),
            outcome=self.train[self.outcome] if self.outcome else None,
        )


def _selection(
    shipped: FamilyFit,
    baselines: Mapping[str, Baseline],
    usable: pd.DataFrame,
    split: Split,
    feats: list[str],
    metrics: Mapping[str, Any],
    p_test: Mapping[str, np.ndarray],
    score: HeldOutScorer,
    fit_family: _FamilyFitter,
) -> dict[str, Any]:
    """Transfer: the model-family selection record (:func:`sprintlab.models.transfer_selection.
    transfer_selection`, the scorer's bootstrap size and seed) of the shipped family against the other
    one: LightGBM fitted here on the same training rows with the ``train.transfer`` LightGBM settings,
    or the fitted ``linear_interaction`` baseline (empty when it could not be fitted)."""
    other = other_family(shipped.name)
    if other == LIGHTGBM:
        model = fit_family(LIGHTGBM)
        p_other = model.predict_proba(feature_matrix(fit_family.test, feats))[:, 1]
        other_fit = FamilyFit(other, model, p_other, score(p_other))
    elif f"p_{other}" in p_test:
        other_fit = FamilyFit(other, baselines[other], p_test[f"p_{other}"], metrics["baselines"][other])
    else:
        return {}
    return transfer_selection(shipped, other_fit, usable, split, feats, n_boot=score.n_boot, seed=score.seed)


@dataclass(frozen=True)
class HeldOutScorer:
    """Scores probabilities of the test units ``y`` (athletes ``groups``): :func:`score_block`."""

    y: np.ndarray
    groups: np.ndarray
    threshold: float
    n_boot: int
    seed: int

    def __call__(self, p: np.ndarray) -> dict[str, Any]:
        return score_block(self.y, p, self.groups, self.threshold, self.n_boot, self.seed)


def require_enough_data(
    target: str,
    parts: Mapping[str, pd.DataFrame],
    min_units: Mapping[str, int],
    min_events: Mapping[str, int],
) -> None:
    """Raise :class:`TooLittleData` saying what each split holds and needs, when a split (by name,
    "training" or "test") has fewer than ``min_units[name]`` units or fewer than
    ``min_events[name]`` units with the outcome or without it."""
    unit = domain.target(target).unit_label
    held, short = [], False
    for name, part in parts.items():
        n = len(part)
        events = int(part["y"].sum()) if n else 0
        short |= n < min_units[name] or min(events, n - events) < min_events[name]
        held.append(f"{name} {n} {unit}s ({events} with the outcome, {n - events} without)")
    if short:
        needs = "; ".join(
            f"{name} {min_units[name]} {unit}s, {min_events[name]} of each outcome" for name in parts
        )
        raise TooLittleData(
            f"too little data to train and evaluate: the split gives {', '.join(held)}; each split needs "
            f"at least: {needs} (train.min_units, train.min_events in params.yaml; docs/minimum-data.md "
            "lists the squad sizes that reach this)"
        )


def _baselines(spec: Target, acwr_threshold: float, feats: list[str]) -> dict[str, Baseline]:
    """The simple models the calibrated model must beat, by name (transfer also:
    :func:`sprintlab.models.transfer_baselines.transfer_baselines` on the model's features)."""
    baselines: dict[str, Baseline] = {
        "prevalence": PrevalenceBaseline(),
        "strength_only_logistic": StrengthOnlyLogistic(STRENGTH_BASELINE_FEATURES),
    }
    if spec.acwr_baseline:
        baselines["acwr_threshold"] = AcwrThresholdRule(acwr_threshold)
    if spec.name == "transfer":
        baselines.update(transfer_baselines(feats))
    return baselines


def _score_baselines(
    baselines: dict[str, Baseline],
    train: pd.DataFrame,
    test: pd.DataFrame,
    feats: list[str],
    score: HeldOutScorer,
) -> tuple[dict[str, dict[str, Any]], dict[str, np.ndarray]]:
    """Fit each baseline on the training units (the model's features, the strength features and
    ``acwr_ewma``) and score it on the test units: metrics by name (``{"error": ...}`` when it cannot
    be fitted) and test probabilities by column ``p_<name>``."""
    x_train = feature_matrix(
        train,
        sorted(set(feats) | set(STRENGTH_BASELINE_FEATURES) | set(OPENING_TEST_FEATURES) | {"acwr_ewma"}),
    )
    x_test = feature_matrix(test, list(x_train.columns))
    metrics: dict[str, dict[str, Any]] = {}
    probabilities: dict[str, np.ndarray] = {}
    for name, baseline in baselines.items():
        try:
            baseline.fit(x_train, train["y"].to_numpy())
        except ValueError as err:
            metrics[name] = {"error": str(err)}
            continue
        probabilities[f"p_{name}"] = baseline.predict_proba(x_test)[:, 1]
        metrics[name] = score(probabilities[f"p_{name}"])
    return metrics, probabilities


def _score_oracles(test: pd.DataFrame, score: HeldOutScorer) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The simulator's true probabilities scored like a model, where every test unit has one:
    ``oracle`` (``p_true``, also returned as column ``p_oracle``) and ``oracle_realised_path``
    (``p_true_realised``: knows the weeks that actually followed, no model can reach it) and
    ``oracle_conditional`` (``p_true_conditional``: transfer given the latent state and the observed
    opening test - the ceiling for a model that sees the opening test)."""
    metrics: dict[str, Any] = {}
    columns: dict[str, np.ndarray] = {}
    if "p_true" in test and test["p_true"].notna().all():
        columns["p_oracle"] = test["p_true"].to_numpy()
        metrics["oracle"] = score(columns["p_oracle"])
    if "p_true_realised" in test and test["p_true_realised"].notna().all():
        metrics["oracle_realised_path"] = score(test["p_true_realised"].to_numpy())
    if "p_true_conditional" in test and test["p_true_conditional"].notna().all():
        metrics["oracle_conditional"] = score(test["p_true_conditional"].to_numpy())
    return metrics, columns


def _split_summary(train: pd.DataFrame, test: pd.DataFrame, split: Split, feats: list[str]) -> dict[str, Any]:
    """Sizes of the training and test parts, the split's cutoff date and the features used."""
    return {
        "n_train_units": int(len(train)),
        "n_train_events": int(train["y"].sum()),
        "n_test_units": int(len(test)),
        "n_test_events": int(test["y"].sum()),
        "n_test_athletes": int(test["athlete_id"].nunique()),
        "split_cutoff": str(split.cutoff.date()),
        "features": feats,
    }


def _change_regression(
    train: pd.DataFrame, test: pd.DataFrame, feats: list[str], column: str, coverage: float, seed: int
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Regression of a measured change in seconds (``column``, e.g. ``t10_change_s``) with a conformal
    ``coverage`` interval, scored on the test units. Returns the metrics and the test units' observed
    change beside the prediction and its bounds (``<stem>_pred_s``, ``<stem>_lo_s``, ``<stem>_hi_s``
    with ``stem`` the column name without ``_s``)."""
    tr = train[train[column].notna()]
    y_tr = tr[column].to_numpy(dtype=float)
    reg = ConformalLGBMRegressor(coverage=coverage, random_state=seed)
    reg.fit(feature_matrix(tr, feats), y_tr, groups=tr["athlete_id"].to_numpy())
    pred = reg.predict_interval(feature_matrix(test, feats))
    y = test[column].to_numpy(dtype=float)
    ok = np.isfinite(y)
    inside = (y[ok] >= pred[ok, 1]) & (y[ok] <= pred[ok, 2])
    metrics = {
        "mae_s": float(np.mean(np.abs(y[ok] - pred[ok, 0]))),
        "mae_train_mean_baseline_s": float(np.mean(np.abs(y[ok] - y_tr.mean()))),
        "interval_coverage": float(inside.mean()),
        "interval_nominal_coverage": float(coverage),
        "interval_width_s": float(np.mean(pred[ok, 2] - pred[ok, 1])),
        "oof_mae_s": reg.oof_mae_,
        "n_rounds": int(reg.n_rounds_),
    }
    stem = column.removesuffix("_s")
    interval = pd.DataFrame(
        {column: y, f"{stem}_pred_s": pred[:, 0], f"{stem}_lo_s": pred[:, 1], f"{stem}_hi_s": pred[:, 2]}
    )
    return metrics, interval


def _curves(y: np.ndarray, preds: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """ROC, PR and calibration curves for DVC plots (long format with a ``model`` column)."""
    roc, pr, cal = [], [], []
    for col in [c for c in preds.columns if c.startswith("p_")]:
        name = col[2:]
        p = preds[col].to_numpy()
        if np.unique(y).size == 2:
            fpr, tpr, _ = roc_curve(y, p)
            roc.append(pd.DataFrame({"model": name, "fpr": fpr, "tpr": tpr}))
            prec, rec, _ = precision_recall_curve(y, p)
            pr.append(pd.DataFrame({"model": name, "recall": rec, "precision": prec}))
        if np.unique(p).size > 2:
            frac, mean_p = calibration_curve(y, p, n_bins=8, strategy="quantile")
            cal.append(pd.DataFrame({"model": name, "predicted": mean_p, "observed": frac}))
    out = {}
    for key, parts in (("roc", roc), ("pr", pr), ("calibration", cal)):
        if parts:
            out[key] = pd.concat(parts, ignore_index=True).round(6)
    return out
