"""How well the transfer model's family attributions match the simulator's, one definition for both.

Both sides are exact group Shapley values with the factor families as players against the same
reference, the **training-period blocks** (units dated before the split's cutoff):

* model: :func:`sprintlab.group_shapley.family_shapley` of the model's log-odds margin, the
  reference the training-period blocks' features;
* truth: :func:`sprintlab.simulate.truth.transfer_shapley` of the expected block change ``mu``
  against the training-period blocks' mean latent state, sign turned so that positive favours
  transfer (as in the model's log-odds).

Metrics over the held-out blocks (``reports/metrics/explanations.json`` ``transfer``):

* ``named_share_ge_80pct`` - share of blocks whose named family (the model's largest |phi|) carries at
  least 80 % of the true leader's |phi| (naming a near-equal family counts as right);
* ``family_cosine_median`` - median cosine between the model's and the truth's family vectors;
* ``clear_truth_agreement`` - named family = true leader, on blocks where the truth's runner-up is
  under half the leader (``explain.CLEAR_LEAD_BELOW``);
* ``all_blocks_agreement`` - the same on every block.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from sprintlab.dominance import dominance_columns
from sprintlab.group_shapley import AdditiveMargin, additive_margin_of, family_shapley

#: the simulator's latent inputs of ``mu`` (``transfer_shapley`` argument -> unit column, attached
#: by :func:`sprintlab.models.datasets.attach_truth_transfer`)
TRUE_LATENT_UNIT_COLUMNS: dict[str, str] = {
    "g": "true_strength_gain",
    "c": "true_control_state",
    "k": "true_braking_state",
    "rev": "true_t10_above_typical_s",
    "load": "true_load_excess",
    "sleep": "true_sleep_deficit",
}
#: the own-level adjustment's latent part ``b (T - L)`` (bounce-back family; absent: raw label)
TRUE_SHIFT_COLUMN = "true_own_level_shift_s"
NAMED_SHARE = 0.8
CLEAR_LEAD_BELOW = 0.5


def truth_family_values(units: pd.DataFrame, reference: pd.DataFrame) -> pd.DataFrame:
    """The truth's family Shapley values of ``units`` against the mean latent state of ``reference``,
    in seconds with the sign turned (positive = a faster next test = favours transfer)."""
    from sprintlab.simulate.truth import transfer_shapley

    ref = {k: float(reference[c].mean()) for k, c in TRUE_LATENT_UNIT_COLUMNS.items()}
    g, c, k, rev, load, sleep = (
        units[col].to_numpy(dtype=float) for col in TRUE_LATENT_UNIT_COLUMNS.values()
    )
    shift = None
    if TRUE_SHIFT_COLUMN in units and TRUE_SHIFT_COLUMN in reference:
        shift = units[TRUE_SHIFT_COLUMN].to_numpy(dtype=float)
        ref["shift"] = float(reference[TRUE_SHIFT_COLUMN].mean())
    return -transfer_shapley(g, c, k, rev, load, sleep, ref, shift).set_index(units.index)


def model_family_values(
    margin: Callable[[pd.DataFrame], np.ndarray],
    x: pd.DataFrame,
    reference: pd.DataFrame,
    terms: AdditiveMargin | None = None,
) -> pd.DataFrame:
    """The model's family Shapley values (log-odds) of the rows of ``x`` against ``reference``
    (``terms``: the margin's additive terms, for a tree ensemble's faster exact path)."""
    phi = family_shapley(lambda frame: np.asarray(margin(frame), dtype=float), x, reference, terms)
    return phi.drop(columns=["reference_value", "full_value"])


def agreement_metrics(model_phi: pd.DataFrame, truth_phi: pd.DataFrame) -> dict[str, Any]:
    """The four explanation metrics (module docstring) for aligned rows of family values."""
    fams = list(dict.fromkeys([*truth_phi.columns, *model_phi.columns]))
    m = model_phi.reindex(columns=fams, fill_value=0.0).to_numpy(dtype=float)
    t = truth_phi.reindex(columns=fams, fill_value=0.0).to_numpy(dtype=float)
    rows = np.arange(len(m))
    named, leader = np.abs(m).argmax(axis=1), np.abs(t).argmax(axis=1)
    lead_size = np.abs(t[rows, leader])
    share_ok = np.abs(t[rows, named]) >= NAMED_SHARE * lead_size
    norms = np.linalg.norm(m, axis=1) * np.linalg.norm(t, axis=1)
    cosine = np.divide((m * t).sum(axis=1), norms, out=np.zeros(len(m)), where=norms > 0)
    ratio = dominance_columns(truth_phi.reindex(columns=fams, fill_value=0.0))["runner_up_ratio"].to_numpy()
    clear = ratio < CLEAR_LEAD_BELOW
    agree = named == leader
    return {
        "named_share_ge_80pct": float(share_ok.mean()),
        "family_cosine_median": float(np.median(cosine)),
        "clear_truth_agreement": float(agree[clear].mean()) if clear.any() else float("nan"),
        "all_blocks_agreement": float(agree.mean()),
        "n_blocks": int(len(m)),
        "n_clear_blocks": int(clear.sum()),
        "reference": "training-period blocks (dated before the split's cutoff)",
    }


def explanation_blocks(units: pd.DataFrame, cutoff: pd.Timestamp) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The held-out blocks explained (complete labels dated on or after ``cutoff``'s day, every
    athlete) and the reference (complete labels dated before it), both re-indexed from 0; the cutoff
    is taken at day resolution, as ``evaluation.json`` ``split_cutoff`` records it."""
    day = pd.Timestamp(pd.Timestamp(cutoff).date())
    done = units[units["label_complete"].astype(bool)]
    later = pd.to_datetime(done["unit_date"]) >= day
    return done[later].reset_index(drop=True), done[~later].reset_index(drop=True)


def has_truth(units: pd.DataFrame) -> bool:
    """Whether ``units`` carry the simulator's latent state (:data:`TRUE_LATENT_UNIT_COLUMNS`)."""
    return set(TRUE_LATENT_UNIT_COLUMNS.values()) <= set(units.columns)


def transfer_explanation_metrics(
    model: Any, features: list[str], test: pd.DataFrame, reference: pd.DataFrame
) -> dict[str, Any]:
    """Model and truth family values of the held-out ``test`` blocks against the training-period
    ``reference`` blocks, and :func:`agreement_metrics` (``model.margin``: log-odds)."""
    ref_x = reference[features].astype(float)
    model_phi = model_family_values(
        model.margin, test[features].astype(float), ref_x, additive_margin_of(model)
    )
    truth_phi = truth_family_values(test, reference)
    return agreement_metrics(model_phi, truth_phi)
