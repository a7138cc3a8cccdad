"""Modelling units: athlete-weeks for hamstring risk, athlete-blocks for transfer.

Both tables carry the feature columns from the athlete-week panel, the label, the unit's time
(``unit_date``) and, when the simulator's truth is available, the true probability (``p_true``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sprintlab.domain import FAMILIES, FAMILY_LABELS, NOT_RECORDED
from sprintlab.targets import hamstring_labels, transfer_blocks

#: why a configured feature is not used, when the feature panel gives no reason of its own
NOT_IN_PANEL = "not in the feature panel"
NO_TRAINING_VALUES = "no value in the training data"
NO_TRAINING_UNITS = "no training units"
#: beside the unit tables: the catalogue features the panel could not build -> why (written by the
#: targets stage from the features stage's log, read by the train stages)
SKIPPED_FEATURES_FILE = "skipped_features.json"
OUTSIDE_CATALOGUE = "outside_catalogue"


def hamstring_units(panel: pd.DataFrame, injuries: pd.DataFrame, horizon_days: int = 28) -> pd.DataFrame:
    """Athlete-weeks with the label ``y`` (hamstring onset within ``horizon_days`` after week end).

    Weeks while injured are dropped; ``label_complete`` says whether the whole horizon lies in
    the data window (incomplete weeks are scored but never trained or evaluated on).
    """
    labels = hamstring_labels(panel[["athlete_id", "week_end"]], injuries, horizon_days)
    units = panel.merge(labels, on=["athlete_id", "week_end"], how="left", validate="one_to_one")
    units = units[~units["injured"]].drop(columns=["injured"]).rename(columns={"hamstring_injury": "y"})
    units["unit_date"] = units["week_end"]
    return units.reset_index(drop=True)


def transfer_units(
    panel: pd.DataFrame,
    splits: pd.DataFrame,
    gym_sets: pd.DataFrame,
    *,
    min_block_weeks: float = 3.0,
    min_strength_gain: float = 0.05,
    swc_factor: float = 0.2,
    swc_method: str = "between_sd",
    adjust_for_own_level: bool = True,
    baseline_tests: int = 6,
) -> pd.DataFrame:
    """Blocks in which strength rose by ``min_strength_gain`` or more (and, with the own-level
    adjustment, whose athlete has an own level), labelled as :func:`sprintlab.targets.transfer_blocks`
    does, with features as of the last week that ended before the closing sprint test (no record of
    the closing test is used).
    """
    blocks = transfer_blocks(
        splits,
        gym_sets,
        min_block_weeks=min_block_weeks,
        min_strength_gain=min_strength_gain,
        swc_factor=swc_factor,
        swc_method=swc_method,
        adjust_for_own_level=adjust_for_own_level,
        baseline_tests=baseline_tests,
    )
    blocks = blocks[blocks["is_unit"]].copy()
    if blocks.empty:
        return blocks
    blocks["asof"] = blocks["block_end_date"] - pd.Timedelta(days=1)
    left = blocks.sort_values("asof")
    right = panel.sort_values("week_end")
    units = pd.merge_asof(
        left, right, left_on="asof", right_on="week_end", by="athlete_id", direction="backward"
    )
    units = units[units["week_end"].notna() & (units["week_end"] >= units["block_start_date"])]
    units = units.rename(columns={"transfer": "y"})
    units["y"] = units["y"].astype(int)
    units["unit_date"] = units["block_end_date"]
    units["label_complete"] = True
    return units.sort_values(["athlete_id", "block_end_date"]).reset_index(drop=True)


def attach_truth_hamstring(units: pd.DataFrame, weekly_truth: pd.DataFrame) -> pd.DataFrame:
    """Add the simulator's true 28-day probability ``p_true`` to hamstring units.

    ``p_true`` is the probability given the athlete's latent state at the end of the week
    (``p_hamstring_28d_given_state``: what the best model that knows the present could say) and
    ``p_true_realised`` the probability along the weeks that actually followed (it also knows the
    next weeks' load spikes and sleep). Truth tables from before the state-conditional column
    existed give the realised one as ``p_true``. Where the truth has it, the true main factor family
    of the week's 28-day risk (``true_dominant_family``, ``true_runner_up_ratio``) comes along.
    """
    t = weekly_truth.assign(week_end=weekly_truth["week_start"] + pd.Timedelta(days=6))
    state = "p_hamstring_28d_given_state" if "p_hamstring_28d_given_state" in t else "p_hamstring_28d"
    cols = t[["athlete_id", "week_end", state, "p_hamstring_28d"]].copy()
    cols.columns = ["athlete_id", "week_end", "p_true", "p_true_realised"]
    if "dominant_family" in t:  # the true main factor of the 28-day risk and how clearly it leads
        cols["true_dominant_family"] = t["dominant_family"].to_numpy()
        cols["true_runner_up_ratio"] = t["runner_up_ratio"].to_numpy()
    return units.merge(cols, on=["athlete_id", "week_end"], how="left")


#: the truth's latent inputs of the expected block change, attached as ``true_<column>`` (for the
#: truth's family values: :mod:`sprintlab.transfer_explanations`)
TRUE_LATENT = (
    "strength_gain",
    "control_state",
    "braking_state",
    "t10_above_typical_s",
    "load_excess",
    "sleep_deficit",
    "own_level_shift_s",
)


def attach_truth_transfer(units: pd.DataFrame, block_truth: pd.DataFrame) -> pd.DataFrame:
    """Add the simulator's true transfer probability, dominant family and how clearly it leads
    (``true_runner_up_ratio``; absent from truth tables written before it existed) to transfer units,
    and, where the truth has it, the conditional oracle ``p_true_conditional`` (latent state and the
    observed opening test: :func:`sprintlab.simulate.truth.p_transfer_given_opening`). Give it the
    truth of the units' own label (:func:`sprintlab.simulate.truth.label_transfer_truth`: the
    own-level adjusted change, with ``own_level_shift_s``)."""
    cols = ["athlete_id", "block_start_date", "block_end_date", "p_transfer", "dominant_family"]
    cols += [c for c in ("runner_up_ratio", "p_transfer_given_opening", *TRUE_LATENT) if c in block_truth]
    t = block_truth[cols].rename(
        columns={
            **{c: f"true_{c}" for c in TRUE_LATENT},
            "p_transfer": "p_true",
            "p_transfer_given_opening": "p_true_conditional",
            "dominant_family": "true_dominant_family",
            "runner_up_ratio": "true_runner_up_ratio",
        }
    )
    return units.merge(t, on=["athlete_id", "block_start_date", "block_end_date"], how="left")


def feature_matrix(units: pd.DataFrame, features: list[str]) -> pd.DataFrame:
    """The model's input matrix: the listed features, float, in a fixed order (missing -> NaN)."""
    x = pd.DataFrame(index=units.index)
    for f in features:
        x[f] = units[f].astype(float) if f in units else np.nan
    return x


@dataclass(frozen=True)
class FeatureCoverage:
    """Which of a model's configured features the data provide, and why the others are absent.

    ``used``: the features the model is trained (and scored) on, in configured order;
    ``not_assessed``: feature -> reason, e.g. ``"no sprint_steps table"`` (the panel's own skip
    reason), ``"not in the feature panel"`` or ``"no value in any training unit"``. A factor family
    whose configured features are all absent is *not assessed*; one with some absent is *partly
    assessed*. Families the configuration never gave the model are neither. Features of an optional
    data stream the club does not record (reason ``"not recorded: ..."``) count for neither: they are
    named once per stream (:attr:`streams_not_recorded`).
    """

    used: tuple[str, ...]
    not_assessed: Mapping[str, str] = field(default_factory=dict)

    @property
    def families_not_assessed(self) -> dict[str, str]:
        """Family -> the reasons (joined) of the families with no configured feature left."""
        used = {_family(f) for f in self.used}
        return {
            fam: "; ".join(dict.fromkeys(why for f, why in self._missing().items() if _family(f) == fam))
            for fam in self._absent_families()
            if fam not in used
        }

    @property
    def families_partly_assessed(self) -> dict[str, tuple[str, ...]]:
        """Family -> its absent features, for the families that keep at least one feature."""
        used = {_family(f) for f in self.used}
        return {
            fam: tuple(f for f in self._missing() if _family(f) == fam)
            for fam in self._absent_families()
            if fam in used
        }

    @property
    def streams_not_recorded(self) -> dict[str, tuple[str, ...]]:
        """Reason (e.g. ``"no tracking_samples table"``) -> the features left out because the club
        does not record that optional data stream."""
        out: dict[str, list[str]] = {}
        for f, why in self.not_assessed.items():
            if why.startswith(NOT_RECORDED):
                out.setdefault(why.removeprefix(NOT_RECORDED).lstrip(": "), []).append(f)
        return {why: tuple(feats) for why, feats in out.items()}

    def _missing(self) -> dict[str, str]:
        """The absent features that are not merely an unrecorded optional stream."""
        return {f: why for f, why in self.not_assessed.items() if not why.startswith(NOT_RECORDED)}

    def _absent_families(self) -> list[str]:
        """Families with an absent feature, in the report's order (outside the catalogue last)."""
        absent = {_family(f) for f in self._missing()}
        return [f for f in (*FAMILIES, OUTSIDE_CATALOGUE) if f in absent]

    def sentences(self, feature_label: Callable[[str], str] = str) -> list[str]:
        """The absences in words, one line per family, e.g. ``"not assessed: Sprint timing and
        braking (no sprint_steps table)"``; empty when every configured feature is used or left out
        only because an optional stream is not recorded (those are in :meth:`to_json`)."""
        lines = [
            f"not assessed: {_family_label(fam)} ({why})" for fam, why in self.families_not_assessed.items()
        ]
        for fam, feats in self.families_partly_assessed.items():
            whys = "; ".join(dict.fromkeys(self.not_assessed[f] for f in feats))
            lines.append(
                f"partly assessed: {_family_label(fam)}, without {_and_list([feature_label(f) for f in feats])} "
                f"({whys})"
            )
        return lines

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: used features, absent features with reasons, and the families they leave out."""
        return {
            "features": list(self.used),
            "features_not_assessed": dict(self.not_assessed),
            "families_not_assessed": self.families_not_assessed,
            "families_partly_assessed": {k: list(v) for k, v in self.families_partly_assessed.items()},
            "streams_not_recorded": {k: list(v) for k, v in self.streams_not_recorded.items()},
        }


def _family(feature: str) -> str:
    """The catalogue family of ``feature`` (:data:`OUTSIDE_CATALOGUE` for an unknown name)."""
    from sprintlab.features.catalogue import load_catalogue

    try:
        return load_catalogue().family_of(feature)
    except KeyError:
        return OUTSIDE_CATALOGUE


def _family_label(family: str) -> str:
    return "features outside the catalogue" if family == OUTSIDE_CATALOGUE else FAMILY_LABELS[family]


def _and_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def feature_coverage(
    units: pd.DataFrame, features: list[str], skipped: Mapping[str, str] | None = None
) -> FeatureCoverage:
    """Which of ``features`` the training ``units`` provide: a feature in the panel's ``skipped``
    (feature -> reason, :class:`sprintlab.features.panel.PanelResult`), absent from the units, or
    without a value in any unit with a complete label is not used, with that reason."""
    usable = units[units["label_complete"].astype(bool)] if "label_complete" in units else units
    used: list[str] = []
    absent: dict[str, str] = {}
    for f in features:
        if skipped and f in skipped:
            absent[f] = skipped[f]
        elif usable.empty:
            absent[f] = NO_TRAINING_UNITS
        elif f not in usable:
            absent[f] = NOT_IN_PANEL
        elif usable[f].notna().any():
            used.append(f)
        else:
            absent[f] = NO_TRAINING_VALUES
    return FeatureCoverage(tuple(used), absent)
