"""Model-family selection for transfer: the boosted model against its best simple baseline (issue #23).

The rule (``DECISION_RULE``): keep the model family that wins on held-out AUC **and** on explanation
agreement; if the simple one wins (or ties within the AUC interval), ship the simple one. This module
only *measures and records* the comparison (``reports/metrics/transfer.json`` ``selection``); the
shipped model is not switched here.

* **Best baseline** - among the baselines on the model's own features (``FAMILY_BASELINES``:
  ``logistic_all_features``, ``linear_interaction``), the highest out-of-fold ROC AUC on the
  *training* blocks (athlete-grouped K-fold, :func:`training_cv_auc`), so the choice never looks at
  the held-out blocks it is then compared on (no winner's curse); ties go to the simpler (first) one.
* **AUC difference** - ``AUC(model) - AUC(baseline)`` on the held-out blocks with a 95 % percentile
  interval from a *paired* athlete-cluster bootstrap (:func:`paired_auc_difference`: both AUCs on the
  same resample, Efron & Tibshirani 1993 ch. 16; athletes resampled as in
  :func:`sprintlab.models.evaluation.bootstrap_cis`). An interval containing 0 is a tie.
* **Explanation agreement** - the four metrics of :mod:`sprintlab.transfer_explanations` for both,
  one definition: exact family group Shapley of each one's log-odds margin against the
  training-period blocks, on the explain stage's held-out blocks (:func:`explanation_blocks`).

Split in two so the model's group Shapley values (minutes on the default squad) are computed once,
in the explain stage: the train stage records the AUC part (:func:`transfer_selection`,
:func:`auc_selection`, and the baseline's cheap logit explanations) in ``evaluation.json``; the
explain stage completes it with both agreements and the decision (:func:`complete_selection`) in
``explanations.json`` ``transfer.selection``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import GroupKFold

from sprintlab.models.datasets import feature_matrix
from sprintlab.models.evaluation import Split, cluster_weights, weighted_roc_auc
from sprintlab.models.transfer_baselines import FeatureLogistic, transfer_baselines

#: the baselines on the model's features, simplest first (a tie in training AUC goes to the first)
FAMILY_BASELINES: tuple[str, ...] = ("logistic_all_features", "linear_interaction")
MODEL_NAME = "lightgbm"
DECISION_RULE = (
    "Keep the model family that wins on held-out AUC and explanation agreement; if the simple one wins "
    "(or ties within the AUC interval), ship the simple one."
)
CI_LEVELS = (2.5, 97.5)
MIN_RESAMPLES = 10  # as bootstrap_cis: fewer usable resamples give no interval
#: training AUCs closer than this are a tie (float rounding of equal AUCs must not pick a baseline)
AUC_TIE_TOL = 1e-9


def training_cv_auc(
    make: Callable[[], FeatureLogistic], x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, folds: int
) -> float:
    """Pooled out-of-fold ROC AUC on the training blocks: ``GroupKFold(min(folds, n_athletes))`` over
    athletes, a fresh ``make()`` fitted on each fold's other athletes (NaN with fewer than 2 athletes
    or one class)."""
    y = np.asarray(y)
    n_splits = min(folds, np.unique(groups).size)
    if n_splits < 2 or np.unique(y).size < 2:
        return float("nan")
    oof = np.empty(len(y))
    for fit_rows, held in GroupKFold(n_splits=n_splits).split(x, y, groups):
        oof[held] = make().fit(x.iloc[fit_rows], y[fit_rows]).predict_proba(x.iloc[held])[:, 1]
    return float(roc_auc_score(y, oof))


def choose_best_baseline(
    x: pd.DataFrame,
    y: np.ndarray,
    groups: np.ndarray,
    features: list[str],
    folds: int,
    candidates: tuple[str, ...] = FAMILY_BASELINES,
) -> tuple[str, dict[str, float]]:
    """The ``candidates`` member (simplest first) with the highest :func:`training_cv_auc` on the
    training blocks ``x`` (ties within ``AUC_TIE_TOL`` and NaN: the simpler, earlier one), and every
    candidate's training AUC."""

    def maker(name: str) -> Callable[[], FeatureLogistic]:
        return lambda: transfer_baselines(features)[name]

    aucs = {name: training_cv_auc(maker(name), x, y, groups, folds) for name in candidates}
    best = candidates[0]
    for name in candidates[1:]:
        if np.isfinite(aucs[name]) and not aucs[name] <= aucs[best] + AUC_TIE_TOL:
            best = name
    return best, aucs


def paired_auc_difference(
    y: np.ndarray, p_model: np.ndarray, p_baseline: np.ndarray, groups: np.ndarray, n_boot: int, seed: int
) -> dict[str, Any]:
    """``AUC(p_model) - AUC(p_baseline)`` and its 95 % paired athlete-cluster bootstrap interval.

    Each resample draws the athletes with replacement (:func:`cluster_weights`, seed ``seed``) and
    scores both on it (:func:`weighted_roc_auc`), so ``d_b = AUC_b(model) - AUC_b(baseline)``; the
    interval is the 2.5 and 97.5 percentiles of ``d_b`` over resamples with both classes (NaN with
    fewer than ``MIN_RESAMPLES``). ``tie_within_interval``: the interval contains 0 (or is NaN).
    """
    y = np.asarray(y)
    point = (
        weighted_roc_auc(y, p_model, np.ones(len(y)))[0] - weighted_roc_auc(y, p_baseline, np.ones(len(y)))[0]
    )
    w = cluster_weights(groups, n_boot, seed)
    n_pos = w @ (y == 1)
    w = w[(n_pos > 0) & (n_pos < w.sum(axis=1))]
    d = weighted_roc_auc(y, p_model, w) - weighted_roc_auc(y, p_baseline, w) if len(w) else np.zeros(0)
    d = d[np.isfinite(d)]
    ci = [float(q) for q in np.percentile(d, CI_LEVELS)] if d.size >= MIN_RESAMPLES else [float("nan")] * 2
    tie = not (ci[0] > 0 or ci[1] < 0)  # NaN compares False: no interval counts as a tie
    return {
        "model_minus_baseline": float(point),
        "ci": ci,
        "tie_within_interval": bool(tie),
        "n_resamples": int(d.size),
        "seed": int(seed),
    }


def _finite(v: Any) -> bool:
    return v is not None and bool(np.isfinite(v))


#: where the AUC part of the record (train stage, ``evaluation.json``) says the rest is
EXPLANATIONS_NOTE = (
    "explanation agreement (winner_explanations), rule_keeps and the decision: explanations.json "
    "transfer.selection (the explain stage computes the model's group Shapley values once)"
)


def auc_selection(
    model: Mapping[str, Any], baseline: Mapping[str, Any], difference: Mapping[str, Any]
) -> dict[str, Any]:
    """The AUC part of the comparison under ``DECISION_RULE`` (train stage): ``model`` and
    ``baseline`` carry ``name`` and ``auc``, ``difference`` is :func:`paired_auc_difference`.
    ``winner_auc`` - the simple one on a tie within the interval, else the higher AUC. Completed by
    :func:`complete_selection` with the explanation agreements."""
    m, b = str(model["name"]), str(baseline["name"])
    if difference["tie_within_interval"]:
        winner_auc = b
    else:
        winner_auc = m if difference["model_minus_baseline"] > 0 else b
    return {
        "model": dict(model),
        "best_baseline": dict(baseline),
        "auc_difference": dict(difference),
        "winner_auc": winner_auc,
        "rule": DECISION_RULE,
        "note": EXPLANATIONS_NOTE,
    }


def complete_selection(
    auc_record: Mapping[str, Any], model_agreement: float | None, baseline_agreement: float | None
) -> dict[str, Any]:
    """The whole record: :func:`auc_selection`'s ``auc_record`` with both ``all_blocks_agreement``
    figures (None: not measured) and the decision (explain stage; train stage without the truth).

    * ``winner_explanations`` - the higher all-blocks agreement, the simple one on equality, None when
      either is not measured;
    * ``rule_keeps`` - the model only when it wins both (AUC alone without explanation figures).
    """
    rec = {k: v for k, v in auc_record.items() if k != "note"}
    model = {**auc_record["model"], "all_blocks_agreement": model_agreement}
    baseline = {**auc_record["best_baseline"], "all_blocks_agreement": baseline_agreement}
    difference, winner_auc = auc_record["auc_difference"], str(auc_record["winner_auc"])
    m, b = str(model["name"]), str(baseline["name"])
    winner_expl = None
    if model_agreement is not None and baseline_agreement is not None:
        if _finite(model_agreement) and _finite(baseline_agreement):
            winner_expl = m if float(model_agreement) > float(baseline_agreement) else b
    keeps = m if winner_auc == m and winner_expl in (m, None) else b
    rec.update(
        model=model,
        best_baseline=baseline,
        winner_explanations=winner_expl,
        rule_keeps=keeps,
        decision=decision_text(model, baseline, difference, winner_auc, winner_expl, keeps),
    )
    return rec


def decision_text(
    model: Mapping[str, Any],
    baseline: Mapping[str, Any],
    difference: Mapping[str, Any],
    winner_auc: str,
    winner_expl: str | None,
    keeps: str,
) -> str:
    """The rule, the measured figures and what the rule names, in words (shipped model unchanged)."""
    lo, hi = difference["ci"]
    interval = f"{lo:+.3f} to {hi:+.3f}" if _finite(lo) and _finite(hi) else "not measured"
    auc_words = (
        f"the interval contains 0, a tie within the AUC interval (goes to {winner_auc})"
        if difference["tie_within_interval"]
        else f"the interval excludes 0: {winner_auc} wins on AUC"
    )
    ma, ba = model.get("all_blocks_agreement"), baseline.get("all_blocks_agreement")
    expl_words = (
        f"explanation agreement (all blocks) {ma:.3f} vs {ba:.3f}: {winner_expl} wins"
        if winner_expl is not None
        else "explanation agreement not measured (no simulator truth): the rule is applied on AUC alone"
    )
    return (
        f"Rule: {DECISION_RULE} Measured on the held-out blocks: ROC AUC {model['name']} "
        f"{model['auc']:.3f} vs {baseline['name']} {baseline['auc']:.3f}, difference "
        f"{difference['model_minus_baseline']:+.3f} (95 % paired athlete-cluster bootstrap interval "
        f"{interval}, {difference['n_resamples']} resamples, seed {difference['seed']}): {auc_words}; "
        f"{expl_words}. By the rule: {keeps}. Recorded only: the shipped model is unchanged (the lead decides)."
    )


def _baseline_explanations(
    baseline: FeatureLogistic, units: pd.DataFrame, cutoff: pd.Timestamp, features: list[str]
) -> dict[str, Any] | None:
    """:func:`sprintlab.transfer_explanations.transfer_explanation_metrics` of the baseline on the
    explain stage's held-out blocks against the training-period blocks (None without the simulator's
    truth). The model's are the explain stage's (its group Shapley values are computed once, there)."""
    from sprintlab.transfer_explanations import explanation_blocks, has_truth, transfer_explanation_metrics

    if not has_truth(units):
        return None
    blocks, reference = explanation_blocks(units, cutoff)
    return transfer_explanation_metrics(baseline, features, blocks, reference)


def transfer_selection(
    baselines: Mapping[str, Any],
    usable: pd.DataFrame,
    split: Split,
    features: list[str],
    metrics: Mapping[str, Any],
    p_test: Mapping[str, np.ndarray],
    *,
    n_boot: int,
    seed: int,
    folds: int,
) -> dict[str, Any]:
    """``{"selection": ..., "best_baseline_explanations": ...}`` for ``evaluation.json`` (train
    stage, no group Shapley of the model): the best family baseline chosen on the training blocks,
    its paired AUC difference with the model on the held-out blocks (``p_test``: ``p_model`` and
    ``p_<baseline>``) as :func:`auc_selection`, and the baseline's explanation agreement (cheap: a
    logistic logit). The explain stage completes the record (:func:`complete_selection`) with the
    model's agreement; without the simulator's truth there is none to wait for, and the record is
    completed here on AUC alone. ``usable``: the complete-label units ``split`` indexes; ``metrics``:
    the evaluation so far (``model``, ``baselines``). Empty when no family baseline was fitted."""
    fitted = tuple(n for n in FAMILY_BASELINES if f"p_{n}" in p_test and n in baselines)
    if not fitted:
        return {}
    train, test = usable.iloc[split.train], usable.iloc[split.test]
    best, cv = choose_best_baseline(
        feature_matrix(train, features), train["y"].to_numpy(), train["athlete_id"].to_numpy(),
        features, folds, fitted,
    )  # fmt: skip
    groups = test["athlete_id"].to_numpy()
    diff = paired_auc_difference(
        test["y"].to_numpy(), p_test["p_model"], p_test[f"p_{best}"], groups, n_boot, seed
    )
    expl_b = _baseline_explanations(baselines[best], usable, split.cutoff, features)
    mm, bm = metrics["model"], metrics["baselines"][best]
    model_rec = {"name": MODEL_NAME, "auc": mm["roc_auc"], "auc_ci": mm.get("roc_auc_ci")}
    base_rec = {"name": best, "auc": bm["roc_auc"], "auc_ci": bm.get("roc_auc_ci")}
    base_rec["chosen_by"] = (
        f"highest out-of-fold ROC AUC on the training blocks ({folds} athlete-grouped folds)"
    )
    base_rec["training_cv_auc"] = cv
    record = auc_selection(model_rec, base_rec, diff)
    if expl_b is None:  # no truth: nothing for the explain stage to add
        record = complete_selection(record, None, None)
    record["blocks"] = {
        "auc": f"{len(test)} blocks of the held-out athletes from the split's cutoff (as `model`, `baselines`)",
        "explanations": (
            f"{expl_b['n_blocks']} blocks of every athlete from the cutoff's day (as explanations.json)"
            if expl_b
            else "not measured: no simulator truth"
        ),
    }
    out: dict[str, Any] = {"selection": record}
    if expl_b is not None:
        out["best_baseline_explanations"] = {"name": best, **expl_b, "auc": bm["roc_auc"]}
    return out
