"""SHAP explanations in log-odds space, summed into the catalogue's factor families."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shap

from sprintlab.features.catalogue import FAMILIES, load_catalogue
from sprintlab.models.estimator import CalibratedLGBMClassifier

TARGET_WORDS = {"hamstring": "hamstring risk", "transfer": "transfer chance"}


def shap_matrix(model: CalibratedLGBMClassifier, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """TreeExplainer SHAP values (n_rows x n_features) and base value, in LightGBM log-odds.

    shap has returned binary LightGBM output as a list of two arrays, as one (n, f) array and as
    an (n, f, 2) array across versions; this function always returns the positive class as
    (n, f). Additivity: base + row sum = ``model.decision_function(X)`` (for a model that learns
    the outcome, the booster's SHAP values are scaled by the calibration slope into log-odds).
    """
    Xc = X[list(model.feature_names_in_)].astype(float)
    explainer = shap.TreeExplainer(model.booster_)
    explanation = explainer(Xc)
    values = explanation.values
    base = explanation.base_values
    if isinstance(values, list):
        values = values[1]
    values = np.asarray(values, dtype=float)
    base = np.asarray(base, dtype=float)
    if values.ndim == 3:
        values = values[:, :, 1]
        base = base[..., 1] if base.ndim == 2 else base
    base_value = float(np.ravel(base)[0]) if base.size else float("nan")
    # the model's log-odds are affine in the booster output (identity unless learn_from="outcome")
    intercept, slope = getattr(model, "margin_affine_", (0.0, 1.0))
    return values * slope, intercept + slope * base_value


def family_contributions(values: np.ndarray, features: list[str]) -> pd.DataFrame:
    """Sum SHAP values per factor family (columns in ``FAMILIES`` order; absent families are 0)."""
    cat = load_catalogue()
    fam = np.array([cat.family_of(f) for f in features])
    return pd.DataFrame({f: values[:, fam == f].sum(axis=1) for f in FAMILIES})


def dominant_family(contrib: pd.DataFrame) -> pd.Series:
    """The family with the largest absolute summed contribution per row."""
    return contrib.abs().idxmax(axis=1)


def _fmt(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return "not measured"
    if unit in ("flag",):
        return "yes" if value >= 0.5 else "no"
    if unit in ("share",):
        return f"{100 * value:.0f}%"
    if unit in ("1-5", "0-10"):
        return f"{value:.1f}/{unit.split('-')[1]}"
    digits = 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2)
    u = "" if unit in ("ratio", "index", "z", "count") else f" {unit}"
    return f"{value:.{digits}f}{u}"


def driver_sentence(feature: str, value: float, squad_median: float, shap_value: float, target: str) -> str:
    """Plain-language driver: "<description> <value>, <diff> above squad median: raises hamstring risk"."""
    spec = load_catalogue().get(feature)
    text = f"{spec.description}: {_fmt(value, spec.unit)}"
    if np.isfinite(value) and np.isfinite(squad_median) and spec.unit not in ("flag",):
        diff = value - squad_median
        if abs(diff) > 1e-9:
            side = "above" if diff > 0 else "below"
            size = f"{abs(diff):.1f} points" if spec.unit in ("1-5", "0-10") else _fmt(abs(diff), spec.unit)
            text += f", {size} {side} the squad median"
        else:
            text += ", level with the squad median"
    verb = "raises" if shap_value > 0 else "lowers"
    return f"{text} - {verb} {TARGET_WORDS[target]}"


def explain_units(
    model: CalibratedLGBMClassifier, units: pd.DataFrame, target: str, top_k: int = 3
) -> dict[str, pd.DataFrame]:
    """Explain each row of ``units`` (which carry athlete_id and the model's features).

    Returns ``long`` (athlete_id, feature, family, value, shap), ``families`` (athlete_id plus
    one column per family and ``dominant_family``) and ``drivers`` (top-k features by |SHAP|
    with plain-language text), all keyed by the units' row order.
    """
    feats = list(model.feature_names_in_)
    X = units.reindex(columns=feats).astype(float)
    values, base = shap_matrix(model, X)
    fam = family_contributions(values, feats)
    fam.insert(0, "athlete_id", units["athlete_id"].to_numpy())
    fam["dominant_family"] = dominant_family(fam[list(FAMILIES)])
    fam["base_value"] = base
    cat = load_catalogue()
    long = pd.DataFrame({
        "row": np.repeat(np.arange(len(units)), len(feats)),
        "athlete_id": np.repeat(units["athlete_id"].to_numpy(), len(feats)),
        "feature": np.tile(feats, len(units)),
        "family": np.tile([cat.family_of(f) for f in feats], len(units)),
        "value": X.to_numpy().reshape(-1),
        "shap": values.reshape(-1),
    })
    medians = X.median()
    rows = []
    order = np.argsort(-np.abs(values), axis=1)[:, :top_k]
    for r in range(len(units)):
        for rank, j in enumerate(order[r], start=1):
            f = feats[j]
            rows.append({
                "row": r, "athlete_id": units["athlete_id"].iloc[r], "model": target, "rank": rank, "feature": f,
                "family": cat.family_of(f), "value": float(X.iloc[r, j]), "unit": cat.get(f).unit,
                "shap": float(values[r, j]),
                "text": driver_sentence(f, float(X.iloc[r, j]), float(medians[f]), float(values[r, j]), target),
            })
    return {"long": long, "families": fam, "drivers": pd.DataFrame(rows)}


def family_importance(families: pd.DataFrame) -> pd.DataFrame:
    """Squad-level mean |summed SHAP| per family."""
    return pd.DataFrame({"family": list(FAMILIES),
                         "mean_abs_shap": [float(families[f].abs().mean()) for f in FAMILIES]})


def truth_agreement(predicted: pd.Series, truth: pd.Series) -> tuple[float, pd.DataFrame]:
    """Share of units whose explained dominant family equals the simulator's true one, and the
    confusion table (rows: truth, columns: explanation)."""
    ok = truth.notna()
    agree = float((predicted[ok].to_numpy() == truth[ok].to_numpy()).mean()) if ok.any() else float("nan")
    table = pd.crosstab(truth[ok].rename("true_family"), predicted[ok].rename("explained_family"))
    return agree, table
