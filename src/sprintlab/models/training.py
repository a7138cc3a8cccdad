"""Train one model with its baselines on an athlete- and time-grouped split and score it all."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from sprintlab.models.datasets import feature_matrix
from sprintlab.models.estimator import CalibratedLGBMClassifier, ConformalLGBMRegressor
from sprintlab.models.evaluation import (
    AcwrThresholdRule,
    PrevalenceBaseline,
    Split,
    StrengthOnlyLogistic,
    athlete_time_split,
    score_block,
)

STRENGTH_BASELINE_FEATURES = [
    "squat_e1rm_rel",
    "strength_change_since_test_pct",
    "strength_change_8w_pct",
    "deadlift_e1rm_rel",
    "nordic_force_n",
    "imtp_peak_force_n",
    "cmj_height_cm",
]


@dataclass
class TrainResult:
    """A fitted model, its evaluation and the predictions behind it."""

    model: CalibratedLGBMClassifier
    features: list[str]
    metrics: dict
    split: Split
    test_predictions: pd.DataFrame
    curves: dict[str, pd.DataFrame] = field(default_factory=dict)


def train_and_evaluate(
    units: pd.DataFrame,
    *,
    target: str,
    features: list[str],
    model_params: dict,
    split_params: dict,
    flag_threshold: float,
    n_boot: int = 500,
    acwr_threshold: float = 1.5,
    seed: int = 0,
    interval_coverage: float = 0.9,
    outcome: str | None = None,
) -> TrainResult:
    """Fit the calibrated LightGBM model on the training split and score it beside baselines.

    Baselines are fitted on the same training rows and scored on the same test rows:
    ``prevalence``, ``strength_only_logistic`` and (hamstring) ``acwr_threshold``. When
    ``p_true`` (the simulator's truth) is present the ``oracle`` is scored too. For transfer
    units with the observed change ``t10_change_s`` a regression of that change with a conformal
    ``interval_coverage`` prediction interval is fitted on the same training rows and scored under
    ``regression``. ``outcome`` names the unit column a ``learn_from="outcome"`` model learns.
    """
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in features if f in usable and usable[f].notna().any()]
    if not feats:
        raise ValueError(f"{target}: none of the configured features are available")
    split = athlete_time_split(usable, seed=seed, **split_params)
    train, test = usable.iloc[split.train], usable.iloc[split.test]
    for name, part in (("training", train), ("test", test)):
        if part["y"].nunique() < 2:
            raise ValueError(
                f"{target}: the {name} split has only one class ({len(part)} units); "
                "simulate more athletes/weeks or change split.* in params.yaml"
            )
    x_tr, x_te = feature_matrix(train, feats), feature_matrix(test, feats)
    model = CalibratedLGBMClassifier(random_state=seed, **model_params)
    model.fit(
        x_tr,
        train["y"].to_numpy(),
        groups=train["athlete_id"].to_numpy(),
        outcome=train[outcome] if outcome else None,
    )
    y_te = test["y"].to_numpy()
    groups = test["athlete_id"].to_numpy()
    p_model = model.predict_proba(x_te)[:, 1]
    metrics: dict = {"model": score_block(y_te, p_model, groups, flag_threshold, n_boot, seed)}
    baselines: dict = {
        "prevalence": PrevalenceBaseline(),
        "strength_only_logistic": StrengthOnlyLogistic(STRENGTH_BASELINE_FEATURES),
    }
    if target == "hamstring":
        baselines["acwr_threshold"] = AcwrThresholdRule(acwr_threshold)
    full_tr = feature_matrix(train, sorted(set(feats) | set(STRENGTH_BASELINE_FEATURES) | {"acwr_ewma"}))
    full_te = feature_matrix(test, list(full_tr.columns))
    preds = pd.DataFrame(
        {"athlete_id": groups, "unit_date": test["unit_date"].to_numpy(), "y": y_te, "p_model": p_model}
    )
    metrics["baselines"] = {}
    for name, base in baselines.items():
        try:
            base.fit(full_tr, train["y"].to_numpy())
        except ValueError as err:
            metrics["baselines"][name] = {"error": str(err)}
            continue
        p_b = base.predict_proba(full_te)[:, 1]
        preds[f"p_{name}"] = p_b
        metrics["baselines"][name] = score_block(y_te, p_b, groups, flag_threshold, n_boot, seed)
    if "p_true" in test and test["p_true"].notna().all():
        preds["p_oracle"] = test["p_true"].to_numpy()
        metrics["oracle"] = score_block(
            y_te, preds["p_oracle"].to_numpy(), groups, flag_threshold, n_boot, seed
        )
    if "p_true_realised" in test and test["p_true_realised"].notna().all():
        # the probability along the weeks that actually followed: knows future draws, no model can reach it
        metrics["oracle_realised_path"] = score_block(
            y_te, test["p_true_realised"].to_numpy(), groups, flag_threshold, n_boot, seed
        )
    if target == "transfer" and "t10_change_s" in usable:
        metrics["regression"] = _regression(train, test, feats, interval_coverage, seed)
        reg_pred = metrics["regression"].pop("_pred")
        preds["t10_change_s"] = test["t10_change_s"].to_numpy()
        preds["t10_change_pred_s"] = reg_pred[:, 0]
        preds["t10_change_lo_s"] = reg_pred[:, 1]
        preds["t10_change_hi_s"] = reg_pred[:, 2]
    metrics.update(
        n_train_units=int(len(train)),
        n_train_events=int(train["y"].sum()),
        n_test_units=int(len(test)),
        n_test_events=int(y_te.sum()),
        n_test_athletes=int(pd.Series(groups).nunique()),
        split_cutoff=str(split.cutoff.date()),
        features=feats,
    )
    curves = _curves(y_te, preds)
    return TrainResult(
        model=model, features=feats, metrics=metrics, split=split, test_predictions=preds, curves=curves
    )


def _regression(
    train: pd.DataFrame, test: pd.DataFrame, feats: list[str], coverage: float, seed: int
) -> dict:
    """Regression of the 0-10 m change (s) with a conformal interval, scored on the test units."""
    tr = train[train["t10_change_s"].notna()]
    y_tr = tr["t10_change_s"].to_numpy(dtype=float)
    reg = ConformalLGBMRegressor(coverage=coverage, random_state=seed)
    reg.fit(feature_matrix(tr, feats), y_tr, groups=tr["athlete_id"].to_numpy())
    pred = reg.predict_interval(feature_matrix(test, feats))
    y = test["t10_change_s"].to_numpy(dtype=float)
    ok = np.isfinite(y)
    inside = (y[ok] >= pred[ok, 1]) & (y[ok] <= pred[ok, 2])
    return {
        "mae_s": float(np.mean(np.abs(y[ok] - pred[ok, 0]))),
        "mae_train_mean_baseline_s": float(np.mean(np.abs(y[ok] - y_tr.mean()))),
        "interval_coverage": float(inside.mean()),
        "interval_nominal_coverage": float(coverage),
        "interval_width_s": float(np.mean(pred[ok, 2] - pred[ok, 1])),
        "oof_mae_s": reg.oof_mae_,
        "n_rounds": int(reg.n_rounds_),
        "_pred": pred,
    }


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
