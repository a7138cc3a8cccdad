"""The feature catalogue (``catalogue.yaml``): names, units, families, descriptions, levers."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from sprintlab.domain import FAMILIES, FAMILY_LABELS, NOT_TRAINABLE_FAMILIES

if TYPE_CHECKING:  # pandera is imported only when a schema is built (not on the scoring path)
    import pandera.pandas as pa


class FeatureSpec(BaseModel):
    """One catalogue entry."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    family: str
    unit: str
    description: str
    modifiable: bool = False
    change: float | None = None
    change_label: str | None = None
    # an action rather than a step: the lever brings the feature down to this value at most
    # (days since a near-maximal sprint after one this week); sprintlab.levers.Lever.resets
    reset_to: float | None = None
    # the coach's wording of an effort-equivalent step (sprintlab.levers.effort_equivalent_levers):
    # a format string with one field ``amount`` = |step| x step_scale (e.g. 60: hours shown as
    # minutes), or with step_scale "log_ratio_pct" the percent change 100 (1 - exp(-|step|)) of a log ratio
    step_label: str | None = None
    step_scale: float | Literal["log_ratio_pct"] = 1.0
    own_usual: bool = True  # explanations compare the value with the athlete's own usual value
    relative: tuple[str, str, str] | None = None  # (more, less, level) words for a difference/ratio measure

    def step_words(self, step: float) -> str:
        """The coach's wording of a step of ``step`` (feature units) of this feature: ``step_label``
        with its ``amount``; without a ``step_label``, the name and the signed step."""
        if self.step_label is None:
            return f"{self.name} {step:+.3g}"
        size = abs(step)
        amount = 100 * (1 - np.exp(-size)) if self.step_scale == "log_ratio_pct" else size * self.step_scale
        return self.step_label.format(amount=float(amount))

    @model_validator(mode="after")
    def _relative_is_own_norm(self) -> FeatureSpec:
        if self.relative is not None and self.own_usual:
            raise ValueError(
                f"{self.name}: a 'relative' measure is already against a norm; set own_usual: false"
            )
        return self


class Catalogue(BaseModel):
    """All features and the display names of the factor families."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    families: dict[str, str]
    features: tuple[FeatureSpec, ...]

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.features]

    def get(self, name: str) -> FeatureSpec:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(f"{name!r} is not in the feature catalogue")

    def family_of(self, name: str) -> str:
        return self.get(name).family

    def panel_schema(self, columns: list[str] | None = None) -> pa.DataFrameSchema:
        """pandera schema of the athlete-week panel, generated from the catalogue.

        Identifier columns are required; each catalogue feature present is a nullable float.
        Columns outside the catalogue are rejected (strict).
        """
        import pandera.pandas as pa

        cols: dict[str, pa.Column] = {
            "athlete_id": pa.Column(str, nullable=False),
            "week_start": pa.Column("datetime64[ns]", nullable=False),
            "week_end": pa.Column("datetime64[ns]", nullable=False),
        }
        for f in self.features:
            if columns is None or f.name in columns:
                cols[f.name] = pa.Column(float, nullable=True, required=columns is not None)
        return pa.DataFrameSchema(cols, strict=True, unique=["athlete_id", "week_end"])


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    """Load and validate ``catalogue.yaml`` (each feature's family must be a known family)."""
    text = resources.files("sprintlab.features").joinpath("catalogue.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    cat = Catalogue(families=dict(FAMILY_LABELS), features=tuple(FeatureSpec(**f) for f in raw["features"]))
    bad = [f.name for f in cat.features if f.family not in FAMILIES]
    if bad:
        raise ValueError(f"catalogue families must be {FAMILIES}; offending features: {bad}")
    trainable = [f.name for f in cat.features if f.family in NOT_TRAINABLE_FAMILIES and f.modifiable]
    if trainable:
        raise ValueError(f"features of a family no training changes cannot be modifiable: {trainable}")
    dupes = {n for n in cat.names if cat.names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate feature names in catalogue: {sorted(dupes)}")
    return cat
