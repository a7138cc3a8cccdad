"""Pipeline stage ``train_<target>``: train, evaluate, save and register one model.

A model trains on the configured features (``train.<target>.features``) the data provide
(:func:`sprintlab.models.datasets.feature_coverage`): a feature the panel could not build (the
targets stage's ``skipped_features.json`` says why, e.g. "no sprint_steps table") or without a
value in the training units is left out together with its monotone constraint, logged, and named
with its reason in the model card, ``features.json`` and the registry tags, as are the factor
families it leaves not (or partly) assessed. The model records its training data source (``data.source``).

When the units are too few to train and evaluate (``train.min_units`` / ``train.min_events`` per
split) the stage writes the model folder saying "skipped" and why, without a model, and the chain
goes on without it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sprintlab import domain
from sprintlab.config import ModelParams, Params
from sprintlab.io import nan_to_none, write_json_atomic, write_table_atomic, write_text_atomic
from sprintlab.levers import BOOTSTRAP_FILE, RANGES_FILE, STEPS_FILE
from sprintlab.registry import (
    EVALUATION_FILE,
    FEATURES_FILE,
    MODEL_FILE,
    NOT_ASSESSED_TAG,
    REGISTRY_FILE,
    SHA_TAG,
    SKIPPED,
    SOURCE_TAG,
    file_sha256,
    save_estimator,
)

if TYPE_CHECKING:
    from sprintlab.models.datasets import FeatureCoverage
    from sprintlab.models.families import Classifier
    from sprintlab.models.training import TrainResult

log = logging.getLogger(__name__)

#: the evaluation entries logged as MLflow metrics of the run
REGISTERED_METRICS = (
    "model",
    "baselines",
    "oracle",
    "n_test_units",
    "n_test_events",
    "n_test_injuries",
    "rule_baselines",
)
CARD_FILE = "model_card.md"
#: the targets stage's summary of the validated training tables (``sprintlab.contract.plausibility``)
CONTRACT_REFERENCE_FILE = "contract_reference.json"
#: what a trained model leaves in its folder besides the registry, evaluation, features and card
#: files (removed when the stage skips, so that no stale model outlives a skip)
MODEL_ONLY_FILES = (
    MODEL_FILE,
    "booster.txt",
    "coefficients.csv",
    "test_predictions.parquet",
    "drift_reference.json",
    RANGES_FILE,
    STEPS_FILE,
    BOOTSTRAP_FILE,
    "curve_roc.csv",
    "curve_pr.csv",
    "curve_calibration.csv",
)
SOURCE_WORDS = {
    "simulated": "simulated athletes (data.source: simulated); sprintlab score refuses to score real "
    "athletes with it unless --allow-simulated-model is given",
    "folder": "the club's exports (data.source: folder)",
}


def _read_json_or_none(path: Path) -> dict | None:
    """A JSON object from ``path``, ``None`` when the file is absent."""
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else None


def units_skipped(targets_dir: Path) -> dict[str, str]:
    """The features the panel could not build, with why, as the targets stage recorded them beside
    the units (empty when it recorded none)."""
    from sprintlab.models.datasets import SKIPPED_FEATURES_FILE

    path = Path(targets_dir) / SKIPPED_FEATURES_FILE
    return dict(json.loads(path.read_text(encoding="utf-8"))) if path.exists() else {}


def run_train(
    params: Params, target: str, targets_dir: Path, model_dir: Path, *, register: bool = True
) -> dict[str, Any]:
    """Train, evaluate and save one model on the features the data provide; log and register it
    in MLflow. Returns ``{"metrics", "registry"}``; when the data are too few to train,
    ``registry["skipped"]`` says why and no model is written."""
    from sprintlab.drift import log_training_reference
    from sprintlab.models.datasets import feature_coverage, feature_matrix
    from sprintlab.models.training import TooLittleData

    if register:
        from sprintlab.tracking import ensure_experiment

        ensure_experiment(
            params.mlflow.experiment
        )  # fail fast, before training, when the store is unreachable
    units = pd.read_parquet(Path(targets_dir) / f"{target}_units.parquet")
    model_dir = Path(model_dir)
    coverage = feature_coverage(units, _model_params(params, target).features, units_skipped(targets_dir))
    _log_coverage(target, coverage, _model_params(params, target))
    try:
        res = _train(params, target, units, coverage)
    except TooLittleData as err:
        return _write_skipped(model_dir, target, str(err), coverage, params.data.source)
    add_flag_policy(params, target, res, units)
    metrics = _write_model_files(
        res, units, model_dir, seed=params.split.seed, members=params.train.lever_members
    )
    write_json_atomic(model_dir / FEATURES_FILE, {**coverage.to_json(), SOURCE_TAG: params.data.source})
    test = units[units["label_complete"]].reset_index(drop=True).iloc[res.split.test]
    fam_imp = _family_importance(res, test, target, top_k=params.report.top_drivers)
    card = _model_card(target, res, units, fam_imp, coverage, params.data.source)
    write_text_atomic(model_dir / CARD_FILE, card)
    info: dict[str, Any] = {"registered": False}
    if register:
        info = _register(params, target, res, test, metrics, model_dir, fam_imp, coverage)
    # outside DVC (.dvcignore): run ids and versions differ from one MLflow store to another
    info[SHA_TAG] = file_sha256(model_dir / MODEL_FILE)
    write_json_atomic(model_dir / REGISTRY_FILE, info)
    # drift reference: the whole data window the model was built and evaluated on (not only the
    # earlier training split, else slowly trending features such as age always look drifted)
    # with the summary of the validated training tables (targets stage): unit slips at scoring
    contract = _read_json_or_none(Path(targets_dir) / CONTRACT_REFERENCE_FILE)
    log_training_reference(info.get("run_id"), feature_matrix(units, res.features), model_dir, contract)
    return {"metrics": metrics, "registry": info}


def _log_coverage(target: str, coverage: FeatureCoverage, mp: ModelParams) -> None:
    """One log line per configured feature left out (with its monotone constraint) and per family."""
    for feature, why in coverage.not_assessed.items():
        constraint = mp.monotone.get(feature)
        dropped = f"; its monotone constraint {constraint:+d} dropped" if constraint else ""
        log.warning("%s model: feature %s left out: %s%s", target, feature, why, dropped)
    for line in coverage.sentences():
        log.warning("%s model: %s", target, line)


def _write_skipped(
    model_dir: Path, target: str, reason: str, coverage: FeatureCoverage, source: str
) -> dict[str, Any]:
    """The model folder of a model not trained: registry, evaluation, features and card files saying
    "skipped" and why; files of an earlier trained model removed."""
    log.warning("%s model not trained (skipped): %s", target, reason)
    model_dir.mkdir(parents=True, exist_ok=True)
    for name in MODEL_ONLY_FILES:
        (model_dir / name).unlink(missing_ok=True)
    info = {"registered": False, SKIPPED: reason}
    write_json_atomic(model_dir / REGISTRY_FILE, info)
    write_json_atomic(model_dir / EVALUATION_FILE, {SKIPPED: reason})
    write_json_atomic(model_dir / FEATURES_FILE, {**coverage.to_json(), SOURCE_TAG: source})
    spec = domain.target(target)
    write_text_atomic(
        model_dir / CARD_FILE,
        f"# Model card: {spec.registered_name}\n\n**Not trained (skipped)**: {reason}\n\n"
        f"**Intended use**: {spec.intended_use}\n\n**Training data**: {SOURCE_WORDS[source]}.\n",
    )
    return {"metrics": {SKIPPED: reason}, "registry": info}


def _train(params: Params, target: str, units: pd.DataFrame, coverage: FeatureCoverage) -> TrainResult:
    """:func:`train_and_evaluate` with the settings of ``params.yaml`` for ``target``, on the
    features ``coverage`` keeps (the monotone constraints of the others dropped)."""
    from sprintlab.models.training import train_and_evaluate

    mp = _model_params(params, target)
    monotone = {f: c for f, c in mp.monotone.items() if f not in coverage.not_assessed}
    return train_and_evaluate(
        units,
        target=target,
        features=list(coverage.used),
        family=mp.model_family,
        model_params={**mp.estimator_kwargs(), "monotone": monotone},
        split_params=params.split.model_dump(exclude={"seed"}),
        flag_threshold=mp.flag_threshold,
        n_boot=params.evaluate.bootstrap,
        acwr_threshold=params.evaluate.acwr_threshold,
        seed=params.split.seed,
        outcome=mp.outcome_column(),
        min_units=params.train.min_units.model_dump(),
        min_events=params.train.min_events.model_dump(),
    )


def add_flag_policy(params: Params, target: str, res: TrainResult, units: pd.DataFrame) -> None:
    """With ``train.<target>.flag_top_share`` set, the flag policy's figures in the evaluation
    (:func:`sprintlab.models.flag_policy.decision_metrics`): ``model`` and every fitted baseline
    report ``flag_rate``, ``sensitivity``, ``precision`` and ``injuries_caught`` at the model's flag
    rate; the rule baselines under ``rule_baselines``; net benefit, Brier skill and injury counts.
    Ties are ranked with ``params.split.seed`` (``benchmarks/bench_models.py`` calls it per split seed)."""
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.flag_policy import decision_metrics, hamstring_rules

    share = _model_params(params, target).flag_top_share
    if share is None:
        return
    usable = units[units["label_complete"]].reset_index(drop=True)
    train, test = usable.iloc[res.split.train], usable.iloc[res.split.test]
    preds = res.test_predictions
    fitted = [c for c in preds.columns if c.startswith("p_") and c not in ("p_model", "p_oracle")]
    ev = params.evaluate
    dm = decision_metrics(
        test,
        preds["p_model"].to_numpy(),
        {c[2:]: preds[c].to_numpy() for c in fitted},
        res.model.predict_proba(feature_matrix(train, res.features))[:, 1],
        share=share,
        rules=hamstring_rules(ev.acwr_threshold, ev.nordic_cutoffs_n, ev.near_max_speed_days),
        thresholds=ev.net_benefit_thresholds,
        prevalence=float(train["y"].mean()),
        seed=params.split.seed,
    )
    res.metrics["model"].update(dm.pop("model"))
    for name, figures in dm.pop("baselines").items():
        res.metrics["baselines"][name].update(figures)
    res.metrics["rule_baselines"] = dm.pop("rules")
    res.metrics.update(dm)
    _add_ceiling_flags(res, test, share, params.split.seed)


def _add_ceiling_flags(res: TrainResult, test: pd.DataFrame, share: float, seed: int) -> None:
    """The ceiling at the policy's flag rate: each simulator oracle (``oracle``: the latent risk;
    ``oracle_realised_path``: the risk given the load actually done) flagged by the same top-share
    rule, so "injuries caught" of the model and the rules can be read against what the best
    flags could catch on the same test weeks. Absent (nothing added) without the simulator truth."""
    from sprintlab.models.flag_policy import HeldOut

    columns = {"oracle": "p_true", "oracle_realised_path": "p_true_realised"}
    held = HeldOut.of(test, seed)
    for name, column in columns.items():
        if name in res.metrics and column in test.columns:
            res.metrics[name].update(held.at_share(test[column].to_numpy(dtype=float), share))


def _model_params(params: Params, target: str) -> ModelParams:
    """The ``train.<target>`` section of ``params.yaml``."""
    return getattr(params.train, domain.target(target).name)


def _write_model_files(
    res: TrainResult, units: pd.DataFrame, model_dir: Path, *, seed: int, members: int
) -> dict[str, Any]:
    """Model, lever artifacts, the model in plain text (:func:`_write_model_text`), evaluation
    (returned, NaN as None), test predictions and curves, written atomically into ``model_dir``."""
    from sprintlab.levers import save_lever_artifacts

    model_dir.mkdir(parents=True, exist_ok=True)
    save_estimator(res.model, model_dir)
    train = units[units["label_complete"]].reset_index(drop=True).iloc[res.split.train]
    save_lever_artifacts(res.model, train, model_dir, k=members, seed=seed)
    _write_model_text(res.model, model_dir)
    metrics = nan_to_none(res.metrics)
    write_json_atomic(model_dir / EVALUATION_FILE, metrics)
    write_table_atomic(
        res.test_predictions.drop(columns=["athlete_id"]), model_dir / "test_predictions.parquet"
    )
    for name, df in res.curves.items():
        write_table_atomic(df, model_dir / f"curve_{name}.csv")
    return metrics


def _write_model_text(model: Classifier, model_dir: Path) -> None:
    """The fitted model in plain text beside ``model.joblib``: LightGBM's ``booster.txt``, or for the
    linear model ``coefficients.csv`` (feature, standardised coefficient, training mean and SD; the
    intercept first); the other family's file is removed so no stale one outlives a switch."""
    from sprintlab.models.estimator import CalibratedLGBMClassifier

    if isinstance(model, CalibratedLGBMClassifier):
        write_text_atomic(model_dir / "booster.txt", model.booster_.booster_.model_to_string())
        (model_dir / "coefficients.csv").unlink(missing_ok=True)
        return
    write_table_atomic(model.coefficient_table(), model_dir / "coefficients.csv")
    (model_dir / "booster.txt").unlink(missing_ok=True)


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
    coverage: FeatureCoverage,
) -> dict[str, Any]:
    """Log the run and register the model in MLflow (champion by rule on the test units), tagged
    with its training data source and the features its data did not provide."""
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
            "model_card": model_dir / CARD_FILE,
            "evaluation": model_dir / EVALUATION_FILE,
            "shap_summary": _tmp_csv(fam_imp, "shap_family_importance.csv"),
            "levers": [model_dir / RANGES_FILE, model_dir / STEPS_FILE, model_dir / BOOTSTRAP_FILE],
        },
        compare=(X_te, test["y"].to_numpy()),
        metric=params.registry.metric,
        min_improvement=params.registry.min_improvement,
        tags={
            "target": target,
            SOURCE_TAG: params.data.source,
            NOT_ASSESSED_TAG: json.dumps(dict(coverage.not_assessed), sort_keys=True),
            SHA_TAG: file_sha256(model_dir / MODEL_FILE),
        },
    )
    verdict = reg.promotion
    return {
        "registered": True,
        "name": reg.name,
        "version": reg.version,
        "champion": reg.champion,
        "reason": reg.reason,
        "run_id": reg.run_id,
        # the rule's figures, for the challenger's label (evaluate stage) and `sprintlab --version`
        "metric": params.registry.metric,
        "score": verdict.score if verdict else None,
        "champion_score": verdict.champion_score if verdict else None,
        "champion_version": verdict.champion_version if verdict else None,
        "identical_to_champion": verdict.identical if verdict else False,
    }


def _tmp_csv(df: pd.DataFrame, name: str) -> Path:
    """``df`` as CSV file ``name`` in a fresh temporary directory (an MLflow artifact to log)."""
    import tempfile

    p = Path(tempfile.mkdtemp()) / name
    df.to_csv(p, index=False)
    return p


def _model_card(
    target: str,
    res: TrainResult,
    units: pd.DataFrame,
    fam_imp: pd.DataFrame,
    coverage: FeatureCoverage,
    source: str,
) -> str:
    """The model card (markdown): intended use, training data, data window, test metrics beside the
    baselines and the oracle, features (and those not assessed), factor families, limits."""
    from sprintlab.models.families import family_words

    spec = domain.target(target)
    m = res.metrics
    lines = [
        f"# Model card: {spec.registered_name}",
        "",
        f"**Intended use**: {spec.intended_use}",
        f"**Training data**: {SOURCE_WORDS[source]}.",
        f"**Data window**: {pd.to_datetime(units['unit_date']).min().date()} to {pd.to_datetime(units['unit_date']).max().date()}; "
        f"{units['athlete_id'].nunique()} athletes, {len(units)} units.",
        f"**Evaluation**: athlete- and time-grouped split (test = later units of unseen athletes, cutoff {m['split_cutoff']}); "
        f"{m['n_test_units']} test units, {m['n_test_events']} events.",
        "",
        "| model | ROC AUC (95% CI) | PR AUC | Brier | calibration slope (95% CI) |",
        "|---|---|---|---|---|",
    ]
    rows = [(family_words(res.model), m["model"])] + [
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
        "**Not assessed**: "
        + (
            "; ".join(f"{f} ({why})" for f, why in coverage.not_assessed.items())
            + ". Factor families: "
            + "; ".join(coverage.sentences())
            if coverage.not_assessed
            else "none: the data provided every configured feature."
        ),
        "",
        "**Factor families (mean |SHAP|, log-odds)**: "
        + ", ".join(f"{r.family} {r.mean_abs_shap:.3f}" for r in fam_imp.itertuples()),
        "",
        "**Limits**: modelled associations, not causes; trained on the data window above only."
        + _no_signal(res),
    ]
    return "\n".join(lines) + "\n"


def _no_signal(res: TrainResult) -> str:
    """A warning for the card when the model gives every test unit the same probability: it found
    no pattern it could confirm out of fold and predicts the training base rate."""
    p = res.test_predictions["p_model"]
    if p.nunique() > 1:
        return ""
    return (
        f" **No signal**: the model gives every test unit the same probability ({p.iloc[0]:.0%}, the "
        "training base rate): the training data held no pattern it could confirm out of fold "
        "(docs/minimum-data.md)."
    )
