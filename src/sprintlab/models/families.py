"""The model families a model can ship as (``params.yaml`` ``train.<target>.model_family``).

* ``linear_interaction`` - :class:`~sprintlab.models.linear.InteractionLogisticClassifier` on the
  model's features with the strength x control product (``INTERACTION_PAIR``) when both features are
  among them; the transfer model's family by the selection rule of issue #23
  (:mod:`sprintlab.models.transfer_selection`, ``docs/models.md``).
* ``lightgbm`` - :class:`~sprintlab.models.estimator.CalibratedLGBMClassifier` with the section's
  LightGBM settings (the hamstring model's family; the transfer model's before issue #23).

Both expose ``margin`` (log-odds), ``feature_contributions`` (per-feature log-odds and base value),
``predict_proba`` and the bootstrap-member pair ``fit_member`` / ``member_proba`` (levers).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.linear import LOGISTIC_CS, InteractionLogisticClassifier
from sprintlab.models.transfer_baselines import INTERACTION_PAIR

log = logging.getLogger(__name__)

LINEAR_INTERACTION = "linear_interaction"
LIGHTGBM = "lightgbm"
#: the families, the simple one first (a tie under the selection rule goes to it)
MODEL_FAMILIES: tuple[str, ...] = (LINEAR_INTERACTION, LIGHTGBM)
#: a fitted model of either family
Classifier = CalibratedLGBMClassifier | InteractionLogisticClassifier
#: how the report and model card name each family
FAMILY_WORDS = {
    LINEAR_INTERACTION: "logistic regression with the strength x control interaction",
    LIGHTGBM: "LightGBM (calibrated)",
}


def make_classifier(
    family: str, lgbm_params: Mapping[str, Any], seed: int, features: list[str]
) -> Classifier:
    """An unfitted model of ``family``: LightGBM with ``lgbm_params`` and ``random_state=seed``, or
    the linear-interaction logistic regression on ``features`` (with the strength x control product
    when both are among them, else plain; logged), the section's ``monotone`` signs as bounds and its
    ``learn_from`` / ``outcome_sign`` / ``cv_folds`` (learning the outcome: a calibrated ridge fit;
    learning the label: ``C`` from :data:`~sprintlab.models.linear.LOGISTIC_CS` by grouped CV). ``ValueError`` for an unknown family."""
    if family == LIGHTGBM:
        return CalibratedLGBMClassifier(random_state=seed, **lgbm_params)
    if family == LINEAR_INTERACTION:
        settings = {
            "monotone": lgbm_params.get("monotone"),
            "learn_from": lgbm_params.get("learn_from", "label"),
            "outcome_sign": int(lgbm_params.get("outcome_sign", 1)),
            "cv_folds": int(lgbm_params.get("cv_folds", 5)),
            # the shipped label fit chooses its L2 strength by grouped CV (baselines keep C = 1)
            "C_grid": LOGISTIC_CS,
        }
        if all(f in features for f in INTERACTION_PAIR):
            return InteractionLogisticClassifier(interaction=INTERACTION_PAIR, **settings)
        log.info(  # the hamstring model by design; a transfer model when a club records no control screen
            "linear_interaction without its interaction: %s and %s are not both among the features",
            *INTERACTION_PAIR,
        )
        return InteractionLogisticClassifier(**settings)
    raise ValueError(f"model_family must be one of {', '.join(MODEL_FAMILIES)}, got {family!r}")


def family_words(model: Any) -> str:
    """How the report and model card name a fitted model: :data:`FAMILY_WORDS`, made exact for the
    linear family (with or without the strength x control product; learning the label or the change)."""
    if not isinstance(model, InteractionLogisticClassifier):
        return FAMILY_WORDS[family_of(model)]
    kind = (
        "linear model of the measured change (ridge, calibrated on the label)"
        if model.learn_from == "outcome"
        else "logistic regression"
    )
    return f"{kind} with the strength x control interaction" if model.interaction is not None else kind


def family_of(model: Any) -> str:
    """The family of a fitted model (``lightgbm`` or ``linear_interaction``)."""
    if isinstance(model, InteractionLogisticClassifier):
        return LINEAR_INTERACTION
    if isinstance(model, CalibratedLGBMClassifier):
        return LIGHTGBM
    raise TypeError(f"not a sprintlab model: {type(model).__name__}")


def other_family(family: str) -> str:
    """The family the selection compares ``family`` with."""
    return LIGHTGBM if family == LINEAR_INTERACTION else LINEAR_INTERACTION
