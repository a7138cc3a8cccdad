"""SHAP explanations in log-odds space, summed into the catalogue's factor families."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sprintlab import domain
from sprintlab.domain import FAMILIES, TARGETS, TRANSFER
from sprintlab.dominance import dominance_columns
from sprintlab.features.catalogue import load_catalogue
from sprintlab.models.families import Classifier

CLEAR_LEAD_BELOW = 0.5  # runner-up family under half the leading family's size: a clear main factor
CLOSE_CALL_FROM = 0.8  # runner-up at 80 % of the leader or more: a close call between two families
DOMINANCE_BANDS = ("clear", "leading", "close")
UNIT_DECIMALS = {
    "ms": 0,
    "N": 0,
    "AU": 0,
    "days": 0,
    "count": 0,
    "years": 1,
    "h": 1,
    "kg": 1,
    "%": 1,
    "points": 1,
}


def shap_matrix(model: Classifier, X: pd.DataFrame) -> tuple[np.ndarray, float]:
    """Per-feature contributions (n_rows x n_features) and base value, in the model's log-odds:
    ``model.feature_contributions`` on the model's features. LightGBM: Tree SHAP
    (:meth:`~sprintlab.models.estimator.CalibratedLGBMClassifier.feature_contributions`); the linear
    model: exact Shapley values against the training design mean
    (:meth:`~sprintlab.models.linear.InteractionLogisticClassifier.feature_contributions`).
    Additivity: base + row sum = ``model.margin(X)``.
    """
    return model.feature_contributions(X[list(model.feature_names_in_)].astype(float))


def family_contributions(values: np.ndarray, features: list[str]) -> pd.DataFrame:
    """Sum SHAP values per factor family (columns in ``FAMILIES`` order; absent families are 0)."""
    cat = load_catalogue()
    fam = np.array([cat.family_of(f) for f in features])
    return pd.DataFrame({f: values[:, fam == f].sum(axis=1) for f in FAMILIES})


def dominant_family(contrib: pd.DataFrame) -> pd.Series:
    """The family with the largest absolute summed contribution per row."""
    return contrib.abs().idxmax(axis=1)


def dominance(contrib: pd.DataFrame) -> pd.DataFrame:
    """How clearly the main family leads, per row.

    ``runner_up_ratio = |second-largest family| / |largest family|`` (0: one family alone, 1: a
    tie; 0 when every family is 0) and ``dominance``: "clear" below ``CLEAR_LEAD_BELOW``, "close"
    from ``CLOSE_CALL_FROM``, else "leading". The leader is :func:`dominant_family` (first family
    wins a tie).
    """
    d = dominance_columns(contrib).drop(columns="dominant_family")
    return d.assign(dominance=_bands(d["runner_up_ratio"].to_numpy()))


def _fmt(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return "not measured"
    if unit in ("flag",):
        return "yes" if value >= 0.5 else "no"
    if unit in ("share",):
        return f"{100 * value:.0f}%"
    if unit in ("1-5", "0-10"):
        return f"{value:.1f}/{unit.split('-')[1]}"
    digits = UNIT_DECIMALS.get(unit, 0 if abs(value) >= 100 else (1 if abs(value) >= 10 else 2))
    u = "" if unit in ("ratio", "index", "z", "count") else f" {unit}"
    return f"{value:.{digits}f}{u}"


def _against(value: float, reference: float, unit: str, what: str) -> str | None:
    if not (np.isfinite(value) and np.isfinite(reference)) or unit in ("flag",):
        return None
    diff = value - reference
    if abs(diff) < 1e-9 or _fmt(abs(diff), unit) == _fmt(0.0, unit):
        return f"level with {what}"
    if unit in ("1-5", "0-10"):
        size = f"{abs(diff):.1f} points"
    elif unit == "%":  # a difference of two percentages is in percentage points
        size = f"{abs(diff):.1f} percentage points"
    else:
        size = _fmt(abs(diff), unit)
    return f"{size} {'above' if diff > 0 else 'below'} {what}"


#: a z-score in words: below 0.25 SD "at" the baseline, then "a little", "clearly", "far" above or below
Z_LEVEL_BELOW = 0.25
Z_WORDS = ((1.0, "a little"), (2.0, "clearly"), (float("inf"), "far"))


def _relative(value: float, unit: str, words: tuple[str, str, str]) -> str:
    """A difference or ratio measure in words: "0.8 h less than the norm", "25% less than the
    4-week norm" (ratio r shown as 100 (r - 1) %, log ratio l as 100 (e^l - 1) %), "a little above
    own baseline" (z-score, :data:`Z_WORDS`); ``words`` = (more, less, level)."""
    if not np.isfinite(value):
        return "not measured"
    more, less, level = words
    if unit == "ratio":
        x, size = 100 * (value - 1), lambda v: f"{v:.0f}%"
    elif unit == "log ratio":
        x, size = 100 * float(np.expm1(value)), lambda v: f"{v:.0f}%"
    elif unit == "z":  # coach words for a z-score, not "0.6 SD"
        if abs(value) < Z_LEVEL_BELOW:
            return level
        qualifier = next(words for limit, words in Z_WORDS if abs(value) < limit)
        return f"{qualifier} {more if value > 0 else less}"
    else:
        x, size = value, lambda v: _fmt(v, unit)
    if size(abs(x)) == size(0.0):
        return level
    return f"{size(abs(x))} {more if x > 0 else less}"


def driver_sentence(
    feature: str,
    value: float,
    squad_median: float,
    shap_value: float,
    target: str,
    own_usual: float = float("nan"),
) -> str:
    """Plain-language driver: "<description>: <value>, <diff> above the squad median and <diff>
    below own usual - raises hamstring risk". ``own_usual`` is the athlete's own usual value (the
    median of their previous weeks); it is left out for features that are already against the
    athlete's own norm (catalogue ``own_usual: false``) and when there is no history. A measure
    that is itself a difference or ratio (catalogue ``relative``) is put in words instead:
    "<description>: 0.8 h less than the norm (squad median: level with the norm) - raises ..."."""
    spec = load_catalogue().get(feature)
    verb = "raises" if shap_value > 0 else "lowers"
    words = domain.target(target).outcome_words
    if spec.relative is not None:  # the value is itself against a norm: say it in words
        text = f"{spec.description}: {_relative(value, spec.unit, spec.relative)}"
        if np.isfinite(value) and np.isfinite(squad_median):
            text += f" (squad median: {_relative(squad_median, spec.unit, spec.relative)})"
        return f"{text} - {verb} {words}"
    text = f"{spec.description}: {_fmt(value, spec.unit)}"
    comparisons = [_against(value, squad_median, spec.unit, "the squad median")]
    if spec.own_usual:
        comparisons.append(_against(value, own_usual, spec.unit, "own usual"))
    parts = [c for c in comparisons if c]
    if parts:
        text += ", " + " and ".join(parts)
    return f"{text} - {verb} {words}"


@dataclass(frozen=True)
class UnitExplanation:
    """SHAP explanation of a set of units, every table keyed by the units' row order (``row``).

    ``long``: one row per unit and feature (row, athlete_id, feature, family, value, shap).
    ``families``: one row per unit - athlete_id, the summed SHAP value of each family, the
    ``dominant_family`` with its :func:`dominance` columns and the ``base_value``.
    ``drivers``: the top-k features by |SHAP| per unit (row, athlete_id, model, rank, feature,
    family, value, unit, shap, plain-language ``text``).
    """

    long: pd.DataFrame
    families: pd.DataFrame
    drivers: pd.DataFrame


def explain_units(
    model: Classifier,
    units: pd.DataFrame,
    target: str,
    top_k: int = 3,
    own_usual: pd.DataFrame | None = None,
) -> UnitExplanation:
    """Explain each row of ``units`` (which carry athlete_id and the model's features).

    ``own_usual`` (index athlete_id, one column per feature; :func:`own_usual_values`) adds the
    athlete's own usual value to the driver sentences.
    """
    feats = list(model.feature_names_in_)
    X = units.reindex(columns=feats).astype(float)
    values, base = shap_matrix(model, X)
    athletes = units["athlete_id"].to_numpy()
    return UnitExplanation(
        long=_long_contributions(athletes, X, values),
        families=_family_table(athletes, values, feats, base),
        drivers=_driver_table(units, X, values, target, top_k, own_usual),
    )


def _long_contributions(athletes: np.ndarray, X: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """One row per unit and feature: its value and SHAP contribution."""
    cat = load_catalogue()
    feats = list(X.columns)
    n_units = len(athletes)
    return pd.DataFrame(
        {
            "row": np.repeat(np.arange(n_units), len(feats)),
            "athlete_id": np.repeat(athletes, len(feats)),
            "feature": np.tile(feats, n_units),
            "family": np.tile([cat.family_of(f) for f in feats], n_units),
            "value": X.to_numpy().reshape(-1),
            "shap": values.reshape(-1),
        }
    )


def _family_table(athletes: np.ndarray, values: np.ndarray, feats: list[str], base: float) -> pd.DataFrame:
    """Per unit: the family sums, the dominant family and how clearly it leads, the base value."""
    fam = family_contributions(values, feats)
    fam.insert(0, "athlete_id", athletes)
    fam["dominant_family"] = dominant_family(fam[list(FAMILIES)])
    fam = pd.concat([fam, dominance(fam[list(FAMILIES)])], axis=1)
    fam["base_value"] = base
    return fam


def _driver_table(
    units: pd.DataFrame,
    X: pd.DataFrame,
    values: np.ndarray,
    target: str,
    top_k: int,
    own_usual: pd.DataFrame | None,
) -> pd.DataFrame:
    """The ``top_k`` features by |SHAP| of each unit with their :func:`driver_sentence`."""
    cat = load_catalogue()
    feats = list(X.columns)
    medians = X.median()
    order = np.argsort(-np.abs(values), axis=1)[:, :top_k]
    ids = units["athlete_id"].to_numpy()
    rows = []
    for r in range(len(units)):
        for rank, j in enumerate(order[r], start=1):
            f = feats[j]
            value, shap_value = float(X.iloc[r, j]), float(values[r, j])
            usual = _own_usual_of(own_usual, ids[r], f)
            rows.append(
                {
                    "row": r,
                    "athlete_id": units["athlete_id"].iloc[r],
                    "model": target,
                    "rank": rank,
                    "feature": f,
                    "family": cat.family_of(f),
                    "value": value,
                    "unit": cat.get(f).unit,
                    "shap": shap_value,
                    "text": driver_sentence(f, value, float(medians[f]), shap_value, target, own_usual=usual),
                }
            )
    return pd.DataFrame(rows)


def _own_usual_of(own_usual: pd.DataFrame | None, athlete: object, feature: str) -> float:
    """The athlete's own usual value of a feature (NaN when not known)."""
    if own_usual is None or feature not in own_usual.columns or athlete not in own_usual.index:
        return float("nan")
    return float(own_usual.at[athlete, feature])


def own_usual_values(
    panel: pd.DataFrame, before: pd.Timestamp, weeks: int, features: list[str]
) -> pd.DataFrame:
    """Each athlete's usual value of each feature: the median over their panel weeks that end in
    the ``weeks`` weeks before ``before`` (the scored week itself excluded, missing values
    skipped). Index athlete_id, one column per feature present in the panel."""
    end = pd.to_datetime(panel["week_end"])
    hist = panel[(end < before) & (end >= before - pd.Timedelta(weeks=weeks))]
    cols = [f for f in features if f in panel.columns]
    return hist.groupby("athlete_id")[cols].median()


STRENGTH_GAIN_FEATURE = "strength_change_since_test_pct"
CONTROL_COLOUR_FEATURES = ("control_score_8w", "pelvic_control_score")  # first one present colours the plot


def strength_control_interaction(model: Classifier, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The thesis' key interaction for a dependence plot: per row the strength change since the
    last sprint test, its SHAP value on the transfer model and the athlete's control score
    (``control_score_8w``, else the latest ``pelvic_control_score``), with the row's
    ``athlete_id`` and ``week_end`` when ``rows`` carry them. None when the model does not use the
    strength change or the rows carry no control score."""
    feats = list(model.feature_names_in_)
    ctrl = next((c for c in CONTROL_COLOUR_FEATURES if c in rows.columns), None)
    if STRENGTH_GAIN_FEATURE not in feats or ctrl is None or rows.empty:
        return None
    X = rows.reindex(columns=feats).astype(float)
    values, _ = shap_matrix(model, X)
    j = feats.index(STRENGTH_GAIN_FEATURE)
    frame = pd.DataFrame(
        {
            STRENGTH_GAIN_FEATURE: X.iloc[:, j].to_numpy(),
            "control_score": rows[ctrl].to_numpy(dtype=float),
            "shap_strength": values[:, j],
        }
    )
    for key in ("athlete_id", "week_end"):  # whose weeks the plot shows, for its caption
        if key in rows.columns:
            frame[key] = rows[key].to_numpy()
    return frame.dropna().reset_index(drop=True)


def family_importance(families: pd.DataFrame) -> pd.DataFrame:
    """Squad-level mean |summed SHAP| per family."""
    return pd.DataFrame(
        {"family": list(FAMILIES), "mean_abs_shap": [float(families[f].abs().mean()) for f in FAMILIES]}
    )


def squad_family_importance(families_long: pd.DataFrame) -> pd.DataFrame:
    """The report's squad importance from long family contributions (``model, athlete_id, family,
    shap``): mean |summed SHAP| per model and family (columns ``model, family, mean_abs_shap``)."""
    return (
        families_long.assign(abs_shap=families_long["shap"].abs())
        .groupby(["model", "family"], as_index=False)["abs_shap"]
        .mean()
        .rename(columns={"abs_shap": "mean_abs_shap"})
    )


def _bands(ratio: np.ndarray) -> np.ndarray:
    """Dominance band of a runner-up ratio (the thresholds of :func:`dominance`)."""
    return np.where(ratio < CLEAR_LEAD_BELOW, "clear", np.where(ratio >= CLOSE_CALL_FROM, "close", "leading"))


def _agreement_in_bands(match: np.ndarray, bands: np.ndarray, ok: np.ndarray) -> dict[str, dict[str, float]]:
    out = {}
    for band in DOMINANCE_BANDS:
        sel = ok & (bands == band)
        out[band] = {
            "n_units": int(sel.sum()),
            "agreement": float(match[sel].mean()) if sel.any() else float("nan"),
        }
    return out


def agreement_by_dominance(families: pd.DataFrame, truth: pd.Series) -> dict[str, dict[str, float]]:
    """Truth agreement split by how clearly the explanation's main family leads
    (:func:`dominance`): per band the number of units and the share that match the truth. The
    "close" band also gives ``truth_among_named``: the share whose true family is one of the two
    the report names on a close call (leader or runner-up)."""
    ok = truth.notna().to_numpy()
    match = families["dominant_family"].to_numpy() == truth.to_numpy()
    bands = families["dominance"].to_numpy()
    out = _agreement_in_bands(match, bands, ok)
    close = ok & (bands == "close")
    named = _report_names_truth(families, truth)
    out["close"]["truth_among_named"] = float(named[close].mean()) if close.any() else float("nan")
    return out


def _report_names_truth(families: pd.DataFrame, truth: pd.Series) -> np.ndarray:
    """Per unit: the report's main-factor wording names the true family - the leader, or on a
    close call ("Strength, about level with Control") either of the two."""
    t = truth.to_numpy()
    return (families["dominant_family"].to_numpy() == t) | (
        (families["dominance"].to_numpy() == "close") & (families["runner_up_family"].to_numpy() == t)
    )


def agreement_by_truth_dominance(
    families: pd.DataFrame, truth: pd.Series, truth_runner_up_ratio: pd.Series
) -> dict[str, dict[str, float]]:
    """Truth agreement split by how clearly the *simulator's own* main family leads: the same
    bands as :func:`dominance` applied to ``|phi_2nd| / |phi_1st|`` of the true Shapley values.
    Per band the number of units, their share of all units and the agreement. Where the truth
    itself is a near tie ("close") its main family is close to arbitrary and agreement is bounded
    by that; where it is "clear" the block has one factor that dominates."""
    ratio = truth_runner_up_ratio.to_numpy(dtype=float)
    ok = truth.notna().to_numpy() & np.isfinite(ratio)
    match = families["dominant_family"].to_numpy() == truth.to_numpy()
    out = _agreement_in_bands(match, _bands(np.nan_to_num(ratio, nan=0.0)), ok)
    for r in out.values():
        r["share"] = r["n_units"] / int(ok.sum()) if ok.any() else float("nan")
    return out


def report_statement_agreement(families: pd.DataFrame, truth: pd.Series) -> float:
    """Share of units where what the report says about the main factor holds: the named family is
    the true one, or - on a close call, where the report names two ("Strength, about level with
    Control") - the true one is either of them."""
    ok = truth.notna().to_numpy()
    return float(_report_names_truth(families, truth)[ok].mean()) if ok.any() else float("nan")


def truth_agreement(predicted: pd.Series, truth: pd.Series) -> tuple[float, pd.DataFrame]:
    """Share of units whose explained dominant family equals the simulator's true one, and the
    confusion table (rows: truth, columns: explanation)."""
    ok = truth.notna()
    agree = float((predicted[ok].to_numpy() == truth[ok].to_numpy()).mean()) if ok.any() else float("nan")
    table = pd.crosstab(truth[ok].rename("true_family"), predicted[ok].rename("explained_family"))
    return agree, table


def truth_recovery(families: pd.DataFrame, units: pd.DataFrame) -> dict:
    """How well the explanation's main family (``families`` from :func:`explain_units`) matches
    the simulator's (``units["true_dominant_family"]``; units without one are left out): agreement,
    majority-family baseline, agreement by the explanation's and (with ``true_runner_up_ratio``)
    the truth's dominance band, what the report's sentence gets right, and the confusion table."""
    truth = units["true_dominant_family"]
    ok = truth.notna()
    agree, table = truth_agreement(families["dominant_family"], truth)
    out = {
        "dominant_family_agreement": agree,
        "n_units": int(ok.sum()),
        "majority_family_baseline": float(truth[ok].value_counts(normalize=True).iloc[0]),
        # how far the report's "clear" / "close call" wording can be trusted
        "by_explanation_dominance": agreement_by_dominance(families, truth),
        "report_statement_agreement": report_statement_agreement(families, truth),
    }
    if "true_runner_up_ratio" in units:
        out["by_truth_dominance"] = agreement_by_truth_dominance(
            families, truth, units["true_runner_up_ratio"]
        )
    out["confusion"] = {str(i): {str(c): int(table.loc[i, c]) for c in table.columns} for i in table.index}
    return out


#: explanations.json keeps this outcome's truth recovery at its top level (read there by the report);
#: every other outcome's sits under its name
TRUTH_TOP_LEVEL = TRANSFER


def truth_report_text(result: dict) -> str:
    """The truth-recovery result of the explain stage as plain text: per outcome the agreement,
    baseline, the confusion table (rows: simulator truth, columns: explanation) and agreement by
    dominance."""
    agree = result.get("dominant_family_agreement")
    if agree is None:
        return str(result.get("note", "no simulator truth"))
    lines = []
    for spec in TARGETS.values():
        part = result if spec is TRUTH_TOP_LEVEL else result.get(spec.name)
        if part:
            lines += [f"{spec.name} ({spec.unit_label}s):", *_truth_lines(part)]
    return "\n".join(lines)


def _truth_lines(result: dict) -> list[str]:
    lines = [
        f"dominant_family_agreement {result['dominant_family_agreement']:.3f} on {result['n_units']} units "
        f"(majority-family baseline {result['majority_family_baseline']:.3f})"
    ]
    conf = pd.DataFrame(result["confusion"]).T.fillna(0).astype(int)
    conf.index.name = "truth \\ explained"
    lines.append(conf.to_string())
    if "report_statement_agreement" in result:
        lines.append(
            f"report statement (the named family, or either of the two on a close call) "
            f"{result['report_statement_agreement']:.3f}"
        )
    lines.append("by how clearly the explanation's main family leads:")
    for band, r in result.get("by_explanation_dominance", {}).items():
        extra = (
            f", truth among the two named {r['truth_among_named']:.3f}" if "truth_among_named" in r else ""
        )
        lines.append(f"  {band:<8} n={r['n_units']:<4} agreement {r['agreement']:.3f}{extra}")
    if "by_truth_dominance" in result:
        lines.append("by how clearly the simulator's true main family leads:")
        for band, r in result["by_truth_dominance"].items():
            lines.append(
                f"  {band:<8} n={r['n_units']:<4} ({r['share']:.0%} of units) agreement {r['agreement']:.3f}"
            )
    return lines
