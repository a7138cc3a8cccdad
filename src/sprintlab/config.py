"""Typed, frozen views of ``params.yaml``.

Every value and its meaning live in ``params.yaml`` only: these models declare types and bounds but
no defaults, so a missing key is an error just like an unknown one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataParams(_Frozen):
    source: Literal["simulated", "folder"]


class SimulateParams(_Frozen):
    athletes: int = Field(ge=2)
    weeks: int = Field(ge=12)
    seed: int
    block_weeks: int = Field(ge=2)
    sex: Literal["M", "F"]


class ValidateParams(_Frozen):
    today: str | None


class FeatureParams(_Frozen):
    wellness_baseline_days: int = Field(ge=14)
    chunk_athletes: int = Field(ge=1)


class TransferTargetParams(_Frozen):
    min_block_weeks: float
    min_strength_gain: float
    swc_factor: float
    swc_method: Literal["between_sd", "typical_error"]
    adjust_for_own_level: bool
    baseline_tests: int = Field(ge=3)


class HamstringTargetParams(_Frozen):
    horizon_days: int = Field(ge=1)


class TargetParams(_Frozen):
    transfer: TransferTargetParams
    hamstring: HamstringTargetParams


class SplitParams(_Frozen):
    test_athlete_fraction: float
    test_time_fraction: float
    purge_days: int
    seed: int


class ModelParams(_Frozen):
    #: the shipped model's family (:mod:`sprintlab.models.families`); the LightGBM settings below are
    #: used when it is ``lightgbm`` (and for the transfer selection's LightGBM fit)
    model_family: Literal["linear_interaction", "lightgbm"]
    flag_threshold: float
    flag_top_share: float | None = Field(gt=0, lt=1)
    n_estimators: int
    learning_rate: float
    num_leaves: int
    min_child_samples: int
    subsample: float
    colsample_bytree: float
    reg_lambda: float
    balance: bool
    calibration: Literal["isotonic", "sigmoid", "none"]
    cv_folds: int
    max_depth: int
    reg_alpha: float
    monotone: dict[str, Literal[-1, 0, 1]]
    early_stopping: bool
    learn_from: Literal["label", "outcome"]
    outcome: str | None
    outcome_sign: Literal[-1, 1]
    features: list[str]

    @model_validator(mode="after")
    def _outcome_named(self) -> ModelParams:
        if self.learn_from == "outcome" and not self.outcome:
            raise ValueError("learn_from: outcome needs outcome: <unit column>")
        return self

    def estimator_kwargs(self) -> dict:
        """The LightGBM estimator's settings (:class:`~sprintlab.models.estimator.CalibratedLGBMClassifier`)."""
        return self.model_dump(
            exclude={"model_family", "flag_threshold", "flag_top_share", "features", "outcome"}
        )

    def outcome_column(self) -> str | None:
        """The unit column the boosters learn (None when they learn the 0/1 label)."""
        return self.outcome if self.learn_from == "outcome" else None


class SplitMinimum(_Frozen):
    """A count each split of the athlete- and time-grouped split must reach."""

    training: int = Field(ge=1)
    test: int = Field(ge=1)


class TrainParams(_Frozen):
    min_units: SplitMinimum
    min_events: SplitMinimum
    #: bootstrap refits of each model behind the lever ranges and the bagged lever choice
    lever_members: int = Field(ge=1)
    transfer: ModelParams
    hamstring: ModelParams


class EvaluateParams(_Frozen):
    bootstrap: int = Field(ge=0)
    acwr_threshold: float
    nordic_cutoffs_n: list[float]
    near_max_speed_days: int = Field(ge=1)
    net_benefit_thresholds: list[float]


class RegistryParams(_Frozen):
    metric: Literal["roc_auc", "pr_auc"]
    min_improvement: float


class MlflowParams(_Frozen):
    experiment: str


class ReportParams(_Frozen):
    max_athletes: int
    top_drivers: int


class ScoreParams(_Frozen):
    psi_warn: float = Field(gt=0)
    psi_fail: float = Field(gt=0)
    psi_min_per_bin: int = Field(ge=1)
    psi_min_rows: int = Field(ge=1)
    drift_weeks: int = Field(ge=1)
    recent_days: int = Field(ge=1)
    min_recent_days: int = Field(ge=0)
    max_missing_share: float = Field(ge=0, le=1)
    history_weeks: int = Field(ge=1)
    own_usual_weeks: int = Field(ge=1)
    lock_wait_seconds: float = Field(ge=0)
    reference_min_values: int = Field(ge=1)
    reference_ratio_tolerance: float = Field(gt=0, lt=1)


class InSituParams(_Frozen):
    """In-situ acceleration-speed profiles from GPS/LPS traces (``docs/sprint-model.md`` section 8)."""

    velocity_step_m_s: float = Field(gt=0)
    top_n: int = Field(ge=1)
    acceleration_min_m_s2: float = Field(ge=0)
    velocity_threshold_m_s: float | None = Field(ge=0)
    outlier_z: float | None = Field(gt=0)
    min_bins: int = Field(ge=2)
    max_mss_over_top_speed: float = Field(ge=0)
    max_speed_m_s: float = Field(gt=0)
    max_abs_acceleration_m_s2: float = Field(gt=0)
    max_gap_s: float = Field(gt=0)
    savgol_window_s: float = Field(gt=0)
    savgol_polyorder: int = Field(ge=1, le=5)
    chunk_samples: int = Field(ge=1000)
    window_days: int = Field(ge=7)
    near_max_fraction: float = Field(gt=0, le=1)


class Params(_Frozen):
    data: DataParams
    simulate: SimulateParams
    validate_: ValidateParams = Field(alias="validate")
    features: FeatureParams
    targets: TargetParams
    split: SplitParams
    train: TrainParams
    evaluate: EvaluateParams
    registry: RegistryParams
    mlflow: MlflowParams
    report: ReportParams
    score: ScoreParams
    insitu: InSituParams


def load_params(path: str | Path) -> Params:
    """Read and validate a parameter file (the project's is ``params.yaml``)."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Params.model_validate(raw)
