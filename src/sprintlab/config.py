"""Typed, frozen views of ``params.yaml`` (unknown keys are errors)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DataParams(_Frozen):
    source: Literal["simulated", "folder"] = "simulated"
    raw_dir: str = "data/raw"


class SimulateParams(_Frozen):
    athletes: int = Field(120, ge=2)
    weeks: int = Field(104, ge=12)
    seed: int = 0
    block_weeks: int = Field(6, ge=2)
    sex: Literal["M", "F"] = "M"


class ValidateParams(_Frozen):
    today: str | None = None


class FeatureParams(_Frozen):
    wellness_baseline_days: int = Field(56, ge=14)
    chunk_athletes: int = Field(1000, ge=1)


class TransferTargetParams(_Frozen):
    min_block_weeks: float = 3
    min_strength_gain: float = 0.05
    swc_factor: float = 0.2
    swc_method: Literal["between_sd", "typical_error"] = "between_sd"


class HamstringTargetParams(_Frozen):
    horizon_days: int = Field(28, ge=1)


class TargetParams(_Frozen):
    transfer: TransferTargetParams = TransferTargetParams()
    hamstring: HamstringTargetParams = HamstringTargetParams()


class SplitParams(_Frozen):
    test_athlete_fraction: float = 0.5
    test_time_fraction: float = 0.5
    purge_days: int = 28
    seed: int = 0


class ModelParams(_Frozen):
    flag_threshold: float = 0.5
    n_estimators: int = 300
    learning_rate: float = 0.03
    num_leaves: int = 7
    min_child_samples: int = 20
    subsample: float = 0.8
    colsample_bytree: float = 0.8
    reg_lambda: float = 1.0
    balance: bool = False
    calibration: Literal["isotonic", "sigmoid", "none"] = "sigmoid"
    cv_folds: int = 5
    max_depth: int = -1
    reg_alpha: float = 0.0
    monotone: dict[str, Literal[-1, 0, 1]] = Field(default_factory=dict)
    early_stopping: bool = False
    learn_from: Literal["label", "outcome"] = "label"  # outcome: boosters learn the measured quantity
    outcome: str | None = None  # the unit column learned with learn_from=outcome (e.g. t10_change_s)
    outcome_sign: Literal[-1, 1] = 1  # -1 when a lower outcome means the event (a faster 0-10 m time)
    features: list[str]

    @model_validator(mode="after")
    def _outcome_named(self) -> ModelParams:
        if self.learn_from == "outcome" and not self.outcome:
            raise ValueError("learn_from: outcome needs outcome: <unit column>")
        return self

    def estimator_kwargs(self) -> dict:
        return self.model_dump(exclude={"flag_threshold", "features", "outcome"})

    def outcome_column(self) -> str | None:
        """The unit column the boosters learn (None when they learn the 0/1 label)."""
        return self.outcome if self.learn_from == "outcome" else None


class TrainParams(_Frozen):
    seed: int = 0
    transfer: ModelParams
    hamstring: ModelParams


class EvaluateParams(_Frozen):
    bootstrap: int = Field(500, ge=0)
    acwr_threshold: float = 1.5


class RegistryParams(_Frozen):
    metric: Literal["roc_auc", "pr_auc"] = "roc_auc"
    min_improvement: float = 0.0


class MlflowParams(_Frozen):
    experiment: str = "sprintlab"


class ReportParams(_Frozen):
    max_athletes: int = 30
    top_drivers: int = 3


class ScoreParams(_Frozen):
    psi_warn: float = Field(0.5, gt=0)  # PSI above this: warning in the output and the report
    psi_fail: float = Field(2.0, gt=0)  # PSI above this: exit code 5, history not updated
    psi_min_per_bin: int = Field(10, ge=1)  # merge training bins until each expects this many scored values
    psi_min_rows: int = Field(10, ge=1)  # fewer scored rows than this: drift not computed for that model
    drift_weeks: int = Field(4, ge=1)  # weeks of scored athletes' rows compared with the training data
    recent_days: int = Field(28, ge=1)  # look-back window for "enough recent data"
    min_recent_days: int = Field(3, ge=0)  # days with any record in that window, else "insufficient data"
    max_missing_share: float = Field(
        0.5, ge=0, le=1
    )  # share of a model's inputs missing -> "insufficient data"
    history_weeks: int = Field(26, ge=1)  # weeks of the risk trend in the report
    own_usual_weeks: int = Field(
        26, ge=1
    )  # "own usual" in driver sentences: median of this many previous weeks


class Params(_Frozen):
    data: DataParams = DataParams()
    simulate: SimulateParams = SimulateParams()
    validate_: ValidateParams = Field(ValidateParams(), alias="validate")
    features: FeatureParams = FeatureParams()
    targets: TargetParams = TargetParams()
    split: SplitParams = SplitParams()
    train: TrainParams
    evaluate: EvaluateParams = EvaluateParams()
    registry: RegistryParams = RegistryParams()
    mlflow: MlflowParams = MlflowParams()
    report: ReportParams = ReportParams()
    score: ScoreParams = ScoreParams()


def load_params(path: str | Path = "params.yaml") -> Params:
    """Read and validate ``params.yaml``."""
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return Params.model_validate(raw)
