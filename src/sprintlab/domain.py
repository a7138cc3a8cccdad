"""The domain's vocabulary, defined once: factor families, the two outcomes, ISO week labels.

Every module that needs a family name, an outcome's registry name, its probability column or the
direction that counts as a benefit reads it here instead of spelling it out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import pandas as pd

#: Factor families, in the order the report and the explanations list them.
FAMILIES: tuple[str, ...] = ("strength", "control", "timing", "bounce_back", "load", "wellness", "history")

#: Families no training can change: ``bounce_back`` is the regression of a test result towards the
#: athlete's own level after a slow (or fast) opening test - test-day variation, never a lever.
NOT_TRAINABLE_FAMILIES: frozenset[str] = frozenset({"bounce_back"})

#: Coach-facing names of the families (the report's legend and every sentence).
FAMILY_LABELS: dict[str, str] = {
    "strength": "Strength",
    "control": "Access to strength (control and force orientation)",
    "timing": "Sprint timing and braking",
    "bounce_back": "Test-day variation (regression to own level)",
    "load": "Training load",
    "wellness": "Wellness",
    "history": "History and profile",
}

#: Prefix of the reason a feature is absent when it comes from an optional data stream the club does
#: not record (GPS/LPS traces): such a feature leaves no family "partly assessed".
NOT_RECORDED = "not recorded"

TargetName = Literal["transfer", "hamstring"]
#: a change in probability: one number, an array or a column of them
Effect = TypeVar("Effect", float, np.ndarray, pd.Series)


@dataclass(frozen=True)
class Target:
    """One modelled outcome.

    ``benefit_sign`` is +1 when a higher probability is the good direction (transfer), -1 when a
    lower one is (hamstring risk); ``needs_strength_block``: scored only while a strength block runs.
    ``outcome_words``: the outcome in the coach's words. ``measured_change_column``: the unit
    column of the measured quantity behind the label, in seconds (transfer: the 0-10 m change),
    whose conformal regression is scored beside the classifier. ``acwr_baseline``: also scored
    against the acute:chronic workload ratio rule (Gabbett 2016), the load-injury heuristic.
    ``flag_column``: the weekly score's flag (:class:`sprintlab.models.flag_policy.FlagPolicy`: the
    week's top share of the squad, or a probability at or above the flag threshold).
    """

    name: TargetName
    registered_name: str
    probability_column: str
    benefit_sign: int
    needs_strength_block: bool
    unit_label: str
    intended_use: str
    outcome_words: str = ""
    measured_change_column: str | None = None
    acwr_baseline: bool = False
    flag_column: str | None = None

    def benefit(self, effect: Effect) -> Effect:
        """A change in probability expressed as a benefit: ``benefit_sign * effect`` (positive =
        better for the athlete)."""
        return self.benefit_sign * effect


TRANSFER = Target(
    name="transfer",
    registered_name="sprintlab-transfer",
    probability_column="transfer_probability",
    benefit_sign=1,
    needs_strength_block=True,
    unit_label="block",
    intended_use="estimating whether the current strength block will show up as a faster 0-10 m time; "
    "supports coaching decisions, does not replace testing.",
    outcome_words="transfer chance",
    measured_change_column="t10_change_s",
)
HAMSTRING = Target(
    name="hamstring",
    registered_name="sprintlab-hamstring",
    probability_column="hamstring_risk",
    benefit_sign=-1,
    needs_strength_block=False,
    unit_label="athlete-week",
    intended_use="ranking athletes by hamstring injury risk over the next 28 days to prioritise staff "
    "attention; not a diagnosis.",
    outcome_words="hamstring risk",
    acwr_baseline=True,
    flag_column="hamstring_flag",
)

#: Both outcomes by name, in pipeline order.
TARGETS: dict[str, Target] = {t.name: t for t in (TRANSFER, HAMSTRING)}
TARGET_NAMES: tuple[str, ...] = tuple(TARGETS)


def target(name: str) -> Target:
    """The :class:`Target` called ``name`` (a clear error for an unknown outcome)."""
    try:
        return TARGETS[name]
    except KeyError:
        raise ValueError(f"unknown outcome {name!r}; expected one of {', '.join(TARGET_NAMES)}") from None


def iso_week_label(ts) -> str:
    """ISO 8601 week label of a date, e.g. ``2026-W48``."""
    y, w, _ = pd.Timestamp(ts).isocalendar()
    return f"{y}-W{w:02d}"


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    """Logistic function 1 / (1 + exp(-x)), element-wise (a 0-d array for a scalar)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
