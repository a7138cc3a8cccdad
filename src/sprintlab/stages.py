"""Pipeline stages as plain functions: read inputs, call library code, write outputs atomically.

``pipelines/*.py`` (the DVC entry points) and the ``sprintlab`` CLI call these; each takes the
validated :class:`sprintlab.config.Params` and explicit paths, so tests run them on temporary
folders.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import joblib
import numpy as np
import pandas as pd

from sprintlab.config import Params
from sprintlab.contract.tables import TABLES
from sprintlab.domain import TARGETS, iso_week_label
from sprintlab.io import write_table_atomic, write_text_atomic
from sprintlab.scoring import score_week  # noqa: F401 - moved to sprintlab.scoring; re-exported here

log = logging.getLogger(__name__)


def _json(path: Path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def _jsonable(x):
    if isinstance(x, np.integer | np.floating):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def _nan_to_none(obj):
    if isinstance(obj, dict):
        return {k: _nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_nan_to_none(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


# ------------------------------------------------------------------ simulate
def run_simulate(params: Params, out_dir: Path) -> Path:
    """Write the simulated squad (contract CSVs in ``out_dir/raw``, truth in ``out_dir/truth``)."""
    from sprintlab.simulate.generator import SIMULATED_LABEL

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if params.data.source != "simulated":
        write_text_atomic(
            out_dir / "README.md",
            f"Simulation skipped: data.source = {params.data.source}; "
            f"the pipeline reads {params.data.raw_dir}.\n",
        )
        return out_dir
    s = params.simulate
    res = simulate_params_squad(params)
    for name, df in res.tables.items():
        write_table_atomic(_dates_iso(df), out_dir / "raw" / f"{name}.csv")
    for name, df in res.truth.items():
        write_table_atomic(df, out_dir / "truth" / f"{name}.parquet")
    write_text_atomic(
        out_dir / "README.md",
        f"{SIMULATED_LABEL}\n\nathletes={s.athletes} weeks={s.weeks} "
        f"seed={s.seed}. truth/ is the generator's ground truth and is never read as features.\n",
    )
    return out_dir


def _dates_iso(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


def raw_dir(params: Params, simulated_dir: Path) -> Path:
    return Path(simulated_dir) / "raw" if params.data.source == "simulated" else Path(params.data.raw_dir)


# ------------------------------------------------------------------ validate / features / targets
def load_validated(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the accepted tables written by the validate stage."""
    tables = {}
    for name in TABLES:
        p = Path(folder) / f"{name}.parquet"
        if p.exists():
            tables[name] = pd.read_parquet(p)
    return tables


def run_features(params: Params, validated: Path, out_dir: Path) -> pd.DataFrame:
    """Build the athlete-week panel; write ``panel.parquet`` and ``feature_log.json``."""
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.features.panel import build_panel

    res = build_panel(
        load_validated(validated),
        wellness_baseline_days=params.features.wellness_baseline_days,
        chunk_athletes=params.features.chunk_athletes,
    )
    load_catalogue().panel_schema(list(res.panel.columns)).validate(res.panel)
    write_table_atomic(res.panel, Path(out_dir) / "panel.parquet")
    _json(
        Path(out_dir) / "feature_log.json",
        {
            "n_rows": len(res.panel),
            "n_athletes": int(res.panel["athlete_id"].nunique()),
            "features": [c for c in res.panel.columns if c not in ("athlete_id", "week_start", "week_end")],
            "skipped": res.skipped,
        },
    )
    return res.panel


def run_targets(
    params: Params, validated: Path, features_dir: Path, truth_dir: Path | None, out_dir: Path
) -> dict:
    """Build both unit tables (with the simulator's truth attached when available)."""
    tables = load_validated(validated)
    panel = pd.read_parquet(Path(features_dir) / "panel.parquet")
    truth = None
    if truth_dir is not None and (Path(truth_dir) / "hamstring_weekly.parquet").exists():
        truth = {
            name: pd.read_parquet(Path(truth_dir) / f"{name}.parquet")
            for name in ("hamstring_weekly", "transfer_blocks")
        }
    units = unit_tables(params, panel, tables, truth)
    ham, tr = units["hamstring"], units["transfer"]
    out_dir = Path(out_dir)
    write_table_atomic(ham, out_dir / "hamstring_units.parquet")
    write_table_atomic(tr, out_dir / "transfer_units.parquet")
    summary = {
        "hamstring": {
            "units": len(ham),
            "events": int(ham["y"].sum()),
            "complete_units": int(ham["label_complete"].sum()),
        },
        "transfer": {"units": len(tr), "events": int(tr["y"].sum()) if len(tr) else 0},
    }
    _json(out_dir / "summary.json", summary)
    return summary


# ------------------------------------------------------------------ train
def run_train(
    params: Params, target: str, targets_dir: Path, model_dir: Path, *, register: bool = True
) -> dict:
    """Train, evaluate and save one model; log and register it in MLflow."""
    from sprintlab.explain import explain_units, family_importance
    from sprintlab.levers import save_lever_artifacts
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.models.training import train_and_evaluate
    from sprintlab.tracking import log_and_register

    mp = getattr(params.train, target)
    if register:
        from sprintlab.tracking import ensure_experiment

        ensure_experiment(
            params.mlflow.experiment
        )  # fail fast, before training, when the store is unreachable
    units = pd.read_parquet(Path(targets_dir) / f"{target}_units.parquet")
    res = train_and_evaluate(
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
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    _dump_atomic(res.model, model_dir / "model.joblib")
    save_lever_artifacts(
        res.model,
        units[units["label_complete"]].reset_index(drop=True).iloc[res.split.train],
        model_dir,
        seed=params.split.seed,
    )
    write_text_atomic(model_dir / "booster.txt", res.model.booster_.booster_.model_to_string())
    _json(model_dir / "features.json", res.features)
    metrics = _nan_to_none(res.metrics)
    _json(model_dir / "evaluation.json", metrics)
    write_table_atomic(
        res.test_predictions.drop(columns=["athlete_id"]), model_dir / "test_predictions.parquet"
    )
    for name, df in res.curves.items():
        write_table_atomic(df, model_dir / f"curve_{name}.csv")
    usable = units[units["label_complete"]].reset_index(drop=True)
    test = usable.iloc[res.split.test]
    ex = explain_units(res.model, test, target, top_k=params.report.top_drivers)
    fam_imp = family_importance(ex["families"])
    write_text_atomic(model_dir / "model_card.md", _model_card(target, res, units, fam_imp))
    info = {"registered": False}
    if register:
        X_te = feature_matrix(test, res.features)
        reg = log_and_register(
            experiment=params.mlflow.experiment,
            registered_name=TARGETS[target].registered_name,
            model=res.model,
            X_example=X_te.head(20),
            params={"target": target, **mp.model_dump(), "split": params.split.model_dump()},
            metrics={
                k: v
                for k, v in metrics.items()
                if k in ("model", "baselines", "oracle", "n_test_units", "n_test_events")
            },
            artifacts={
                "model_card": model_dir / "model_card.md",
                "evaluation": model_dir / "evaluation.json",
                "shap_summary": _tmp_csv(fam_imp, "shap_family_importance.csv"),
            },
            compare=(X_te, test["y"].to_numpy()),
            metric=params.registry.metric,
            min_improvement=params.registry.min_improvement,
            tags={"target": target},
        )
        info = {
            "registered": True,
            "name": reg.name,
            "version": reg.version,
            "champion": reg.champion,
            "reason": reg.reason,
            "run_id": reg.run_id,
        }
    _json(model_dir / "registry.json", info)
    from sprintlab.drift import log_training_reference

    # drift reference: the whole data window the model was built and evaluated on (not only the
    # earlier training split, else slowly trending features such as age always look drifted)
    log_training_reference(info.get("run_id"), feature_matrix(units, res.features), model_dir)
    return {"metrics": metrics, "registry": info}


def _tmp_csv(df: pd.DataFrame, name: str) -> Path:
    import tempfile

    p = Path(tempfile.mkdtemp()) / name
    df.to_csv(p, index=False)
    return p


def _dump_atomic(obj, path: Path) -> None:
    import io

    buf = io.BytesIO()
    joblib.dump(obj, buf)
    from sprintlab.io import write_bytes_atomic

    write_bytes_atomic(path, buf.getvalue())


def _model_card(target: str, res, units: pd.DataFrame, fam_imp: pd.DataFrame) -> str:
    m = res.metrics
    lines = [
        f"# Model card: sprintlab-{target}",
        "",
        "**Intended use**: "
        + (
            "ranking athletes by hamstring injury risk over the next 28 days to prioritise "
            "staff attention; not a diagnosis."
            if target == "hamstring"
            else "estimating whether the current strength block will show up as a faster 0-10 m "
            "time; supports coaching decisions, does not replace testing."
        ),
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


# ------------------------------------------------------------------ evaluate
def run_evaluate(models_dir: Path, metrics_dir: Path, plots_dir: Path) -> dict:
    """Publish each model's evaluation as DVC metrics and its curves as DVC plots."""
    out = {}
    for target in TARGETS:
        mdir = Path(models_dir) / target
        ev = json.loads((mdir / "evaluation.json").read_text(encoding="utf-8"))
        _json(Path(metrics_dir) / f"{target}.json", ev)
        for curve in ("roc", "pr", "calibration"):
            src = mdir / f"curve_{curve}.csv"
            if src.exists():
                write_table_atomic(pd.read_csv(src), Path(plots_dir) / f"{target}_{curve}.csv")
        out[target] = ev
    return out


# ------------------------------------------------------------------ explain
def run_explain(
    params: Params, targets_dir: Path, models_dir: Path, out_dir: Path, metrics_dir: Path
) -> dict:
    """SHAP explanations of the test units; truth recovery of the dominant family (simulated data):
    transfer blocks at the top level (``dominant_family_agreement``), hamstring athlete-weeks under
    ``hamstring``."""
    from sprintlab.explain import explain_units, family_importance, truth_recovery

    result: dict = {}
    for target in TARGETS:
        model = joblib.load(Path(models_dir) / target / "model.joblib")
        units = pd.read_parquet(Path(targets_dir) / f"{target}_units.parquet")
        ev = json.loads((Path(models_dir) / target / "evaluation.json").read_text(encoding="utf-8"))
        cutoff = pd.Timestamp(ev["split_cutoff"])
        test = units[units["label_complete"] & (pd.to_datetime(units["unit_date"]) >= cutoff)].reset_index(
            drop=True
        )
        ex = explain_units(model, test, target, top_k=params.report.top_drivers)
        fam = ex["families"]
        write_table_atomic(
            fam.assign(unit_date=test["unit_date"].to_numpy()), Path(out_dir) / f"{target}_families.parquet"
        )
        write_table_atomic(family_importance(fam), Path(out_dir) / f"{target}_family_importance.csv")
        if "true_dominant_family" in test and test["true_dominant_family"].notna().any():
            rec = truth_recovery(fam, test)
            if target == "transfer":
                result.update(rec)
            else:
                result[target] = rec
    if "dominant_family_agreement" not in result:
        result["dominant_family_agreement"] = None
        result["note"] = "no simulator truth: agreement is measured on simulated data only"
    _json(Path(metrics_dir) / "explanations.json", _nan_to_none(result))
    return result


# ------------------------------------------------------------------ score + report
def _main_factor_limit(path: Path) -> list[str]:
    """The explain stage's truth checks as known limits for coaches (simulated data only)."""
    ex = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if ex.get("dominant_family_agreement") is None:
        return []
    b = ex.get("by_explanation_dominance", {})
    parts = [
        f"{b[k]['agreement']:.0%} where {w}"
        for k, w in (("clear", "the lead is clear"), ("close", "it is a close call"))
        if b.get(k, {}).get("agreement") is not None
    ]
    among = b.get("close", {}).get("truth_among_named")
    close = (
        f" On a close call the report names two factors; the true one was among them {among:.0%} of the time."
        if among is not None
        else ""
    )
    out = [
        f"Main factor: on held-out simulated blocks the transfer explanation named the simulator's true main "
        f"factor for {ex['dominant_family_agreement']:.0%} of them"
        + (f" ({', '.join(parts)})" if parts else "")
        + "."
        + close
        + " Read a close call as two factors that matter about equally."
    ]
    ham = ex.get("hamstring") or {}
    if ham.get("dominant_family_agreement") is not None:
        clear = ham.get("by_explanation_dominance", {}).get("clear", {}).get("agreement")
        from sprintlab.features.catalogue import load_catalogue

        top = max(ham["confusion"].items(), key=lambda kv: sum(kv[1].values()))[0]
        top = load_catalogue().families.get(top, top)
        out.append(
            f"Hamstring main factor: on held-out simulated athlete-weeks it matched the simulator's true main factor "
            f"of the 28-day risk for {ham['dominant_family_agreement']:.0%} of them"
            + (f" ({clear:.0%} where the lead is clear)" if clear is not None else "")
            + f"; naming the most common true factor ({top}) every week would match "
            f"{ham['majority_family_baseline']:.0%}. A squad has too few hamstring injuries to pin down each "
            "factor's size: use the hamstring main factor as a starting point for the conversation, not a diagnosis."
        )
    return out


def run_report(
    params: Params,
    features_dir: Path,
    models_dir: Path,
    metrics_dir: Path,
    out_path: Path,
    *,
    simulated: bool,
    pseudonymise: bool = False,
    generated_at: str | None = None,
) -> Path:
    """Score the latest complete week for the report's athletes and render the HTML report."""
    from sprintlab.explain import squad_family_importance, strength_control_interaction
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.levers import report_levers
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.report.context import ReportContext
    from sprintlab.report.render import render_report

    panel = pd.read_parquet(Path(features_dir) / "panel.parquet")
    models = {t: joblib.load(Path(models_dir) / t / "model.joblib") for t in TARGETS}
    week_end = panel["week_end"].max()
    athletes = sorted(panel["athlete_id"].unique())[: params.report.max_athletes]
    scored = score_week(
        panel,
        models,
        week_end,
        min_strength_gain=params.targets.transfer.min_strength_gain,
        flag_threshold=params.train.hamstring.flag_threshold,
        top_k=params.report.top_drivers,
        athletes=athletes,
        own_usual_weeks=params.score.own_usual_weeks,
    )
    hist_rows = panel[
        panel["athlete_id"].isin(athletes) & (panel["week_end"] > week_end - pd.Timedelta(weeks=26))
    ]
    hm = models["hamstring"]
    history = hist_rows[["athlete_id", "week_end"]].assign(
        hamstring_risk=hm.predict_proba(feature_matrix(hist_rows, list(hm.feature_names_in_)))[:, 1]
    )
    metrics = {t: json.loads((Path(metrics_dir) / f"{t}.json").read_text(encoding="utf-8")) for t in TARGETS}
    reg = []
    for t in TARGETS:
        r = json.loads((Path(models_dir) / t / "registry.json").read_text(encoding="utf-8"))
        reg.append(
            {
                "name": TARGETS[t].registered_name,
                "version": r.get("version", "unregistered"),
                "alias": "champion" if r.get("champion") else "-",
                "trained_on": metrics[t].get("split_cutoff", ""),
            }
        )
    cat = load_catalogue()
    fam_imp = squad_family_importance(scored["families"])
    long = scored["long"]
    inter = strength_control_interaction(
        models["transfer"], panel[panel["week_end"] > week_end - pd.Timedelta(weeks=26)]
    )
    squad, drivers, fams, hist = scored["squad"], scored["drivers"], scored["families"], history
    ctx = ReportContext(
        title="sprintlab weekly report",
        week_label=iso_week_label(week_end),
        data_window=(
            str(pd.to_datetime(panel["week_start"]).min().date()),
            str(pd.Timestamp(week_end).date()),
        ),
        generated_at=generated_at or str(pd.Timestamp(week_end).date()),
        simulated=simulated,
        pseudonymised=pseudonymise,
        squad=squad,
        drivers=drivers,
        family_contributions=fams,
        family_importance=fam_imp,
        shap_long=long,
        interaction=inter,
        metrics=metrics,
        models=reg,
        family_labels=dict(cat.families),
        history=hist,
        known_limits=[
            "Associations learned from this squad's records; they are not proven causes.",
            "Athletes with more than half of a model's inputs missing are marked 'insufficient data'.",
        ]
        + _main_factor_limit(Path(metrics_dir) / "explanations.json"),
        flag_threshold=params.train.hamstring.flag_threshold,
        own_usual_weeks=params.score.own_usual_weeks,
        levers=report_levers(panel, models, models_dir, scored["squad"], week_end),
    )
    return render_report(ctx, Path(out_path))


def simulated_units(
    params: Params, athletes: int | None = None, weeks: int | None = None
) -> dict[str, pd.DataFrame]:
    """Both unit tables of a simulated squad with the simulator's truth attached, built exactly like
    the pipeline (``params.yaml`` ``simulate:`` / ``features:`` / ``targets:``; ``athletes`` and
    ``weeks`` override the squad size), in memory - for benchmarks and truth-recovery tests."""
    from sprintlab.features.panel import build_panel

    sim = simulate_params_squad(params, athletes, weeks)
    panel = build_panel(sim.tables, wellness_baseline_days=params.features.wellness_baseline_days).panel
    return unit_tables(params, panel, sim.tables, sim.truth)


def simulate_params_squad(params: Params, athletes: int | None = None, weeks: int | None = None):
    """The ``params.yaml`` ``simulate:`` squad (``athletes`` / ``weeks`` override its size)."""
    from sprintlab.simulate.generator import simulate_squad

    s = params.simulate
    return simulate_squad(
        athletes or s.athletes, weeks or s.weeks, s.seed, block_weeks=s.block_weeks, sex=s.sex
    )


def unit_tables(
    params: Params,
    panel: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    truth: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """Both unit tables from the feature panel and the contract tables (``params.yaml`` ``targets:``),
    with the simulator's truth tables (``hamstring_weekly``, ``transfer_blocks``) attached when given.
    No injuries table: no hamstring events; no sprint splits or gym sets: no transfer units."""
    from sprintlab.models.datasets import (
        attach_truth_hamstring,
        attach_truth_transfer,
        hamstring_units,
        transfer_units,
    )

    t = params.targets
    empty_inj = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["injuries"].column_names})
    ham = hamstring_units(panel, tables.get("injuries", empty_inj), t.hamstring.horizon_days)
    tr = (
        transfer_units(
            panel,
            tables["sprint_splits"],
            tables["gym_sets"],
            min_block_weeks=t.transfer.min_block_weeks,
            min_strength_gain=t.transfer.min_strength_gain,
            swc_factor=t.transfer.swc_factor,
            swc_method=t.transfer.swc_method,
        )
        if {"sprint_splits", "gym_sets"} <= set(tables)
        else pd.DataFrame()
    )
    if truth is not None:
        ham = attach_truth_hamstring(ham, truth["hamstring_weekly"])
        if len(tr):
            tr = attach_truth_transfer(tr, truth["transfer_blocks"])
    return {"hamstring": ham, "transfer": tr}


def quick_params(base: Params, *, athletes: int = 40, weeks: int = 60, seed: int = 5) -> Params:
    """A small, fast variant of ``base`` (squad size, 60 boosting rounds, 3 folds, 20 bootstraps)
    for tests and benchmarks that need trained models but not the default squad."""
    small = {"n_estimators": 60, "cv_folds": 3}
    return base.model_copy(
        update={
            "simulate": base.simulate.model_copy(update={"athletes": athletes, "weeks": weeks, "seed": seed}),
            "evaluate": base.evaluate.model_copy(update={"bootstrap": 20}),
            "train": base.train.model_copy(
                update={t: getattr(base.train, t).model_copy(update=small) for t in TARGETS}
            ),
        }
    )


def run_training_chain(params: Params, root: Path, *, today: str | None = None) -> dict:
    """simulate -> validate -> features -> targets -> train both models, all under ``root``.

    The same steps as ``dvc repro`` up to training, for tests and benchmarks that need trained,
    registered models on a simulated squad (MLflow store from ``MLFLOW_TRACKING_URI``).
    """
    from sprintlab.contract.validate import validate_folder

    root = Path(root)
    run_simulate(params, root / "sim")
    validation = validate_folder(root / "sim" / "raw", root / "val", today=today)
    run_features(params, root / "val", root / "feat")
    run_targets(params, root / "val", root / "feat", root / "sim" / "truth", root / "tg")
    trained = {t: run_train(params, t, root / "tg", root / "models" / t) for t in TARGETS}
    return {"validation": validation, "trained": trained}
