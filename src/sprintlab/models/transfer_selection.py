"""Model-family selection for transfer: the shipped family against the other one (issue #23).

The rule (``DECISION_RULE``): keep the model family that wins on held-out AUC **and** on explanation
agreement; if the simple one wins (or ties within the AUC interval), ship the simple one. The families
(:mod:`sprintlab.models.families`): ``linear_interaction`` (the simple one) and ``lightgbm``. The
shipped one is ``params.yaml`` ``train.transfer.model_family``; the other is fitted on the same
training rows (LightGBM with the ``train.transfer`` LightGBM settings, or the ``linear_interaction``
baseline) and the record (``reports/metrics/transfer.json`` ``selection``) says which family the rule
keeps, which is shipped, and plainly when the two differ.

* **AUC difference** - ``AUC(shipped) - AUC(other)`` on the held-out blocks with a 95 % percentile
  interval from a *paired* athlete-cluster bootstrap (:func:`paired_auc_difference`: both AUCs on the
  same resample, Efron & Tibshirani 1993 ch. 16; athletes resampled as in
  :func:`sprintlab.models.evaluation.bootstrap_cis`). An interval containing 0 is a tie.
* **Explanation agreement** - the four metrics of :mod:`sprintlab.transfer_explanations` for both,
  one definition: exact family group Shapley of each one's log-odds margin against the
  training-period blocks, on the explain stage's held-out blocks (:func:`explanation_blocks`).

Split in two: the train stage records the AUC part (:func:`transfer_selection`, :func:`auc_selection`)
and the other family's explanation metrics in ``evaluation.json``; the explain stage computes the
shipped model's and completes the record with the decision (:func:`complete_selection`) in
``explanations.json`` ``transfer.selection``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sprintlab.models.evaluation import Split, cluster_weights, weighted_roc_auc
from sprintlab.models.families import LINEAR_INTERACTION

DECISION_RULE = (
    "Keep the model family that wins on held-out AUC and explanation agreement; if the simple one wins "
    "(or ties within the AUC interval), ship the simple one."
)
#: the simple family of the rule (a tie goes to it)
SIMPLE_FAMILY = LINEAR_INTERACTION
CI_LEVELS = (2.5, 97.5)
MIN_RESAMPLES = 10  # as bootstrap_cis: fewer usable resamples give no interval


@dataclass(frozen=True)
class FamilyFit:
    """One family fitted on the training blocks: its name, the fitted model (``margin``: log-odds),
    its held-out probabilities and their scores (:func:`sprintlab.models.evaluation.score_block`)."""

    name: str
    model: Any
    p_test: np.ndarray
    scores: Mapping[str, Any]


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
    "transfer.selection (the explain stage computes the shipped model's group Shapley values)"
)


def _simple_and_other(m: str, b: str) -> tuple[str, str]:
    """(the simple family, the other) of the two compared (the first when neither is the simple one)."""
    return (b, m) if b == SIMPLE_FAMILY else (m, b)


def auc_selection(
    model: Mapping[str, Any], other: Mapping[str, Any], difference: Mapping[str, Any]
) -> dict[str, Any]:
    """The AUC part of the comparison under ``DECISION_RULE`` (train stage): ``model`` (the shipped
    family) and ``other`` carry ``name`` and ``auc``, ``difference`` is :func:`paired_auc_difference`
    of shipped minus other. ``winner_auc`` - the simple family on a tie within the interval, else the
    higher AUC. Completed by :func:`complete_selection` with the explanation agreements."""
    m, b = str(model["name"]), str(other["name"])
    if difference["tie_within_interval"]:
        winner_auc = _simple_and_other(m, b)[0]
    else:
        winner_auc = m if difference["model_minus_baseline"] > 0 else b
    return {
        "model": {**model, "shipped": True},
        "other_family": dict(other),
        "auc_difference": dict(difference),
        "winner_auc": winner_auc,
        "rule": DECISION_RULE,
        "note": EXPLANATIONS_NOTE,
    }


def complete_selection(
    auc_record: Mapping[str, Any], model_agreement: float | None, other_agreement: float | None
) -> dict[str, Any]:
    """The whole record: :func:`auc_selection`'s ``auc_record`` with both ``all_blocks_agreement``
    figures (None: not measured) and the decision (explain stage; train stage without the truth).

    * ``winner_explanations`` - the higher all-blocks agreement, the simple family on equality, None
      when either is not measured;
    * ``rule_keeps`` - the other (complex) family only when it wins both (AUC alone without
      explanation figures), else the simple one; ``shipped`` - the shipped family;
      ``shipped_is_rule_choice`` - whether they are the same.
    """
    rec = {k: v for k, v in auc_record.items() if k != "note"}
    model = {**auc_record["model"], "all_blocks_agreement": model_agreement}
    other = {**auc_record["other_family"], "all_blocks_agreement": other_agreement}
    difference, winner_auc = auc_record["auc_difference"], str(auc_record["winner_auc"])
    m = str(model["name"])
    simple, complex_ = _simple_and_other(m, str(other["name"]))
    winner_expl = None
    if _finite(model_agreement) and _finite(other_agreement):
        by_name = {m: float(model_agreement), str(other["name"]): float(other_agreement)}  # type: ignore[arg-type]
        winner_expl = complex_ if by_name[complex_] > by_name[simple] else simple
    keeps = complex_ if winner_auc == complex_ and winner_expl in (complex_, None) else simple
    rec.update(
        model=model,
        other_family=other,
        winner_explanations=winner_expl,
        rule_keeps=keeps,
        shipped=m,
        shipped_is_rule_choice=keeps == m,
        decision=decision_text(model, other, difference, winner_auc, winner_expl, keeps),
    )
    return rec


def decision_text(
    model: Mapping[str, Any],
    other: Mapping[str, Any],
    difference: Mapping[str, Any],
    winner_auc: str,
    winner_expl: str | None,
    keeps: str,
) -> str:
    """The rule, the measured figures, what the rule keeps and what is shipped, in words."""
    lo, hi = difference["ci"]
    interval = f"{lo:+.3f} to {hi:+.3f}" if _finite(lo) and _finite(hi) else "not measured"
    auc_words = (
        f"the interval contains 0, a tie within the AUC interval (goes to {winner_auc})"
        if difference["tie_within_interval"]
        else f"the interval excludes 0: {winner_auc} wins on AUC"
    )
    ma, oa = model.get("all_blocks_agreement"), other.get("all_blocks_agreement")
    expl_words = (
        f"explanation agreement (all blocks) {ma:.3f} vs {oa:.3f}: {winner_expl} wins"
        if winner_expl is not None
        else "explanation agreement not measured (no simulator truth): the rule is applied on AUC alone"
    )
    shipped = str(model["name"])
    verdict = (
        f"Shipped: {shipped} (train.transfer.model_family), the family the rule keeps."
        if keeps == shipped
        else f"Shipped: {shipped} (train.transfer.model_family), NOT the family the rule keeps ({keeps}): "
        f"set train.transfer.model_family: {keeps} to follow the rule."
    )
    return (
        f"Rule: {DECISION_RULE} Measured on the held-out blocks: ROC AUC {shipped} (shipped) "
        f"{model['auc']:.3f} vs {other['name']} {other['auc']:.3f}, difference "
        f"{difference['model_minus_baseline']:+.3f} (95 % paired athlete-cluster bootstrap interval "
        f"{interval}, {difference['n_resamples']} resamples, seed {difference['seed']}): {auc_words}; "
        f"{expl_words}. By the rule: {keeps}. {verdict}"
    )


def _other_explanations(
    other: Any, units: pd.DataFrame, cutoff: pd.Timestamp, features: list[str]
) -> dict[str, Any] | None:
    """:func:`sprintlab.transfer_explanations.transfer_explanation_metrics` of the other family on the
    explain stage's held-out blocks against the training-period blocks (None without the simulator's
    truth). The shipped model's are the explain stage's."""
    from sprintlab.transfer_explanations import explanation_blocks, has_truth, transfer_explanation_metrics

    if not has_truth(units):
        return None
    blocks, reference = explanation_blocks(units, cutoff)
    return transfer_explanation_metrics(other, features, blocks, reference)


def best_baseline_explanations(
    baselines: Mapping[str, Any],
    baseline_metrics: Mapping[str, Mapping[str, Any]],
    units: pd.DataFrame,
    cutoff: pd.Timestamp,
    features: list[str],
) -> dict[str, Any] | None:
    """The four explanation metrics (:func:`_other_explanations`: the explain stage's blocks and
    reference) of the baseline with the highest held-out ROC AUC among those with a log-odds
    ``margin`` (the logistic baselines; first in ``baselines``' order on a tie), with its name and
    AUC - issue #23's "the same figures for the best baseline model". None without the simulator's
    truth or without such a baseline."""
    scored = [
        (float(baseline_metrics[name]["roc_auc"]), -i, name)
        for i, (name, model) in enumerate(baselines.items())
        if callable(getattr(model, "margin", None))
        and np.isfinite(float((baseline_metrics.get(name) or {}).get("roc_auc", np.nan)))
    ]
    if not scored:
        return None
    auc, _, name = max(scored)
    expl = _other_explanations(baselines[name], units, cutoff, features)
    return None if expl is None else {"name": name, **expl, "auc": auc}


def _family_record(fit: FamilyFit) -> dict[str, Any]:
    return {"name": fit.name, "auc": fit.scores["roc_auc"], "auc_ci": fit.scores.get("roc_auc_ci")}


def transfer_selection(
    shipped: FamilyFit,
    other: FamilyFit,
    usable: pd.DataFrame,
    split: Split,
    features: list[str],
    *,
    n_boot: int,
    seed: int,
) -> dict[str, Any]:
    """``{"selection": ..., "other_family_explanations": ...}`` for ``evaluation.json`` (train stage):
    the paired AUC difference of the ``shipped`` family with the ``other`` one on the held-out blocks
    as :func:`auc_selection`, and the other family's explanation agreement. The explain stage completes
    the record (:func:`complete_selection`) with the shipped model's agreement; without the simulator's
    truth the record is completed here on AUC alone. ``usable``: the complete-label units ``split``
    indexes."""
    test = usable.iloc[split.test]
    diff = paired_auc_difference(
        test["y"].to_numpy(), shipped.p_test, other.p_test, test["athlete_id"].to_numpy(), n_boot, seed
    )
    expl = _other_explanations(other.model, usable, split.cutoff, features)
    other_rec = {**_family_record(other), "fitted_on": "the same training blocks as the shipped model"}
    record = auc_selection(_family_record(shipped), other_rec, diff)
    if expl is None:  # no truth: nothing for the explain stage to add
        record = complete_selection(record, None, None)
    record["blocks"] = {
        "auc": f"{len(test)} blocks of the held-out athletes from the split's cutoff (as `model`, `baselines`)",
        "explanations": (
            f"{expl['n_blocks']} blocks of every athlete from the cutoff's day (as explanations.json)"
            if expl
            else "not measured: no simulator truth"
        ),
    }
    out: dict[str, Any] = {"selection": record}
    if expl is not None:
        out["other_family_explanations"] = {"name": other.name, **expl, "auc": other.scores["roc_auc"]}
    return out
