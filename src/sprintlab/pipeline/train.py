"""Pipeline stage ``train_<target>``: train, evaluate, save and register one model."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sprintlab import domain
from sprintlab.config import ModelParams, Params
from sprintlab.io import nan_to_none, write_json_atomic, write_table_atomic, write_text_atomic
from sprintlab.levers import BOOTSTRAP_FILE, RANGES_FILE
from sprintlab.registry import save_estimator

if TYPE_CHECKING:
    from sprintlab.models.training import TrainResult

log = logging.getLogger(__name__)

#: the evaluation entries logged as MLflow metrics of the run
REGISTERED_METRICS = ("model", "baselines", "oracle", "n_test_units", "n_test_events")


def run_train(
    params: Params, target: str, targets_dir: Path, model_dir: Path, *, register: bool = True
) -> dict[str, Any]:
    """Train, evaluate and save one model; log and register it in MLflow."""
    from sprintlab.drift import log_training_reference
    from sprintlab.models.datasets import feature_matrix

    if register:
        from sprintlab.tracking import ensure_experiment

        ensure_experiment(
            params.mlflow.experiment
        )  # fail fast, before training, when the store is unreachable
    units = pd.read_parquet(Path(targets_dir) / f"{target}_units.parquet")
    res = _train(params, target, units)
    model_dir = Path(model_dir)
    metrics = _write_model_files(res, units, model_dir, seed=params.split.seed)
    test = units[units["label_complete"]].reset_index(drop=True).iloc[res.split.test]
    fam_imp = _family_importance(res, test, target, top_k=params.report.top_drivers)
    write_text_atomic(model_dir / "model_card.md", _model_card(target, res, units, fam_imp))
    info: dict[str, Any] = {"registered": False}
    if register:
        info = _register(params, target, res, test, metrics, model_dir, fam_imp)
    write_json_atomic(model_dir / "registry.json", info)
    # drift reference: the whole data window the model was built and evaluated on (not only the
    # earlier training split, else slowly trending features such as age always look drifted)
    log_training_reference(info.get("run_id"), feature_matrix(units, res.features), model_dir)
    return {"metrics": metrics, "registry": info}


def _train(params: Params, target: str, units: pd.DataFrame) -> TrainResult:
    """:func:`train_and_evaluate` with the settings of ``params.yaml`` for ``target``."""
    from sprintlab.models.training import train_and_evaluate

    mp = _model_params(params, target)
    return train_and_evaluate(
        units,
        target=target,
        features=mp.features,
        model_params=mp.estimator_kwargs(),
        split_params=params.split.model_dump(exclude={"seed"}),
        flag_threshold=mp.flag_threshold,
        n_boot=params.evaluate.bootstrap,
        acwr_threshold=params.evaluate.acwr_threshold,
        seed=params.split.seed,
        outcome=mp.outcome_column(),
    )


def _model_params(params: Params, target: str) -> ModelParams:
    """The ``train.<target>`` section of ``params.yaml``."""
    return getattr(params.train, domain.target(target).name)


def _write_model_files(
    res: TrainResult, units: pd.DataFrame, model_dir: Path, *, seed: int
) -> dict[str, Any]:
    """Model, lever artifacts, booster text, features, evaluation (returned, NaN as None), test
    predictions and curves, written atomically into ``model_dir``."""
    from sprintlab.levers import save_lever_artifacts

    model_dir.mkdir(parents=True, exist_ok=True)
    save_estimator(res.model, model_dir)
    train = units[units["label_complete"]].reset_index(drop=True).iloc[res.split.train]
    save_lever_artifacts(res.model, train, model_dir, seed=seed)
    write_text_atomic(model_dir / "booster.txt", res.model.booster_.booster_.model_to_string())
    write_json_atomic(model_dir / "features.json", res.features)
    metrics = nan_to_none(res.metrics)
    write_json_atomic(model_dir / "evaluation.json", metrics)
    write_table_atomic(
        res.test_predictions.drop(columns=["athlete_id"]), model_dir / "test_predictions.parquet"
    )
    for name, df in res.curves.items():
        write_table_atomic(df, model_dir / f"curve_{name}.csv")
    return metrics


def _family_importance(res: TrainResult, test: pd.DataFrame, target: str, *, top_k: int) -> pd.DataFrame:
    """Squad-level mean |SHAP| per factor family on the test units."""
    from sprintlab.explain import explain_units, family_importance

    return family_importance(explain_units(res.model, test, target, top_k=top_k).families)


def _register(
    params: Params,
    target: str,
    res: TrainResult,
    test: pd.DataFrame,
    metrics: dict[str, Any],
    model_dir: Path,
    fam_imp: pd.DataFrame,
) -> dict[str, Any]:
    """Log the run and register the model in MLflow (champion by rule on the test units)."""
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.tracking import log_and_register

    X_te = feature_matrix(test, res.features)
    reg = log_and_register(
        experiment=params.mlflow.experiment,
        registered_name=domain.target(target).registered_name,
        model=res.model,
        X_example=X_te.head(20),
        params={
            "target": target,
            **_model_params(params, target).model_dump(),
            "split": params.split.model_dump(),
        },
        metrics={k: v for k, v in metrics.items() if k in REGISTERED_METRICS},
        artifacts={
            "model_card": model_dir / "model_card.md",
            "evaluation": model_dir / "evaluation.json",
            "shap_summary": _tmp_csv(fam_imp, "shap_family_importance.csv"),
            "levers": [model_dir / RANGES_FILE, model_dir / BOOTSTRAP_FILE],
        },
        compare=(X_te, test["y"].to_numpy()),
        metric=params.registry.metric,
        min_improvement=params.registry.min_improvement,
        tags={"target": target},
    )
    return {
        "registered": True,
        "name": reg.name,
        "version": reg.version,
        "champion": reg.champion,
        "reason": reg.reason,
        "run_id": reg.run_id,
    }


def _tmp_csv(df: pd.DataFrame, name: str) -> Path:
    """``df`` as CSV file ``name`` in a fresh temporary directory (an MLflow artifact to log)."""
    import tempfile

    p = Path(tempfile.mkdtemp()) / name
    df.to_csv(p, index=False)
    return p


def _model_card(target: str, res: TrainResult, units: pd.DataFrame, fam_imp: pd.DataFrame) -> str:
    """The model card (markdown): intended use, data window, test metrics beside the baselines and
    the oracle, features, factor families, limits."""
    spec = domain.target(target)
    m = res.metrics
    lines = [
        f"# Model card: {spec.registered_name}",
        "",
        f"**Intended use**: {spec.intended_use}",
        f"**Data window**: {pd.to_datetime(units['unit_date']).min().date()} to {pd.to_datetime(units['unit_date']).max().date()}; "
        f"{units['athlete_id'].nunique()} athletes, {len(units)} units.",
        f"**Evaluation**: athlete- and time-grouped split (test = later units of unseen athletes, cutoff {m['split_cutoff']}); "
        f"{m['n_test_units']} test units, {m['n_test_events']} events.",
        "",
        "| model | ROC AUC (95% CI) | PR AUC | Brier | calibration slope (95% CI) |",
        "|---|---|---|---|---|",
    ]
    rows = [("LightGBM (calibrated)", m["model"])] + [
        (f"baseline: {k}", v) for k, v in m["baselines"].items() if "roc_auc" in v
    ]
    if "oracle" in m:
        rows.append(("oracle (simulator truth)", m["oracle"]))
    for name, v in rows:
        ci = v.get("roc_auc_ci", [np.nan, np.nan])
        sci = v.get("calibration_slope_ci", [np.nan, np.nan])
        lines.append(
            f"| {name} | {v['roc_auc']:.3f} ({ci[0]:.3f}-{ci[1]:.3f}) | {v['pr_auc']:.3f} | {v['brier']:.4f} | "
            f"{v['calibration_slope']:.2f} ({sci[0]:.2f}-{sci[1]:.2f}) |"
        )
    lines += [
        "",
        "**Features**: " + ", ".join(res.features),
        "",
        "**Factor families (mean |SHAP|, log-odds)**: "
        + ", ".join(f"{r.family} {r.mean_abs_shap:.3f}" for r in fam_imp.itertuples()),
        "",
        "**Limits**: modelled associations, not causes; trained on the data window above only.",
    ]
    return "\n".join(lines) + "\n"
