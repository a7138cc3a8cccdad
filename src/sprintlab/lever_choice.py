"""Scoring a choice of lever bundle against the truth: top agreement and regret, plus the simple
rules a coach could use instead of a model (the baselines a lever model has to beat).

All functions take ``truth``: one row per athlete, one column per candidate bundle, holding the
bundle's *true benefit* (``Target.benefit`` of the true change in probability: a rise of the
transfer chance, a fall of the hamstring risk; probability units). A *chooser* is a Series of
chosen bundle names on the same index.

* true best bundle ``b*_i = argmax_b truth[i, b]``;
* ``top_agreement = mean_i 1[chosen_i == b*_i]``;
* ``mean_regret = mean_i (truth[i, b*_i] - truth[i, chosen_i])`` (>= 0; 0 for the oracle).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd


def true_best(truth: pd.DataFrame) -> pd.Series:
    """The true best bundle of each athlete, ``argmax_b truth[i, b]`` (first column on ties)."""
    return truth.idxmax(axis=1)


def choice_scores(truth: pd.DataFrame, chosen: pd.Series) -> dict[str, float]:
    """``top_agreement`` and ``mean_regret`` of a chooser (module docstring for the formulas).

    ``chosen`` is aligned to ``truth``'s index; every chosen name must be a column of ``truth``.
    """
    chosen = chosen.reindex(truth.index)
    unknown = set(chosen.unique()) - set(truth.columns)
    if unknown:
        raise ValueError(f"chosen bundles not among the candidates: {sorted(map(str, unknown))}")
    cols = truth.columns.get_indexer(chosen.to_numpy())
    values = truth.to_numpy(dtype=float)
    picked = values[np.arange(len(truth)), cols]
    best = values.max(axis=1)
    return {
        "top_agreement": float((chosen == true_best(truth)).mean()),
        "mean_regret": float(np.mean(best - picked)),
    }


def regret_by_choice(truth: pd.DataFrame, chosen: pd.Series) -> list[dict[str, object]]:
    """Where a chooser's regret comes from: per (chosen, true best) pair with any athlete, the
    number of athletes, the summed regret ``sum_i (truth[i, b*_i] - truth[i, chosen_i])`` and its
    share of the chooser's total regret (0 when the total is 0); largest sum first."""
    chosen = chosen.reindex(truth.index)
    choice_scores(truth, chosen)  # the same checks on the chosen names
    values = truth.to_numpy(dtype=float)
    picked = values[np.arange(len(truth)), truth.columns.get_indexer(chosen.to_numpy())]
    frame = pd.DataFrame(
        {
            "chosen": chosen.to_numpy(),
            "true_best": true_best(truth).to_numpy(),
            "regret": values.max(axis=1) - picked,
        }
    )
    pairs = frame.groupby(["chosen", "true_best"], sort=True)["regret"].agg(["size", "sum"]).reset_index()
    total = float(frame["regret"].sum())
    pairs = pairs.sort_values("sum", ascending=False, kind="stable")
    return [
        {
            "chosen": str(r.chosen),
            "true_best": str(r.true_best),
            "athletes": int(r.size),
            "regret_sum": float(r.sum),
            "regret_share": float(r.sum / total) if total > 0 else 0.0,
        }
        for r in pairs.itertuples(index=False)
    ]


def always(bundle: str, index: pd.Index) -> pd.Series:
    """The constant chooser: ``bundle`` for every athlete."""
    return pd.Series(bundle, index=index, dtype=object)


def threshold_rule(values: pd.Series, threshold: float, below: str, otherwise: str) -> pd.Series:
    """The one-feature rule: ``below`` where ``value < threshold``, else ``otherwise`` (a missing
    value counts as not below)."""
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    return pd.Series(np.where(v < threshold, below, otherwise), index=values.index, dtype=object)


def model_choice(modelled_benefit: pd.DataFrame) -> pd.Series:
    """The model's pick: the bundle with the largest modelled benefit, ``argmax_b model[i, b]``."""
    return modelled_benefit.idxmax(axis=1)


def compare_choosers(truth: pd.DataFrame, choosers: Mapping[str, pd.Series]) -> dict[str, dict[str, float]]:
    """:func:`choice_scores` of every named chooser."""
    return {name: choice_scores(truth, chosen) for name, chosen in choosers.items()}
