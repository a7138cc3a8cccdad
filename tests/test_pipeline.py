"""One full pipeline run on a small simulated squad, with MLflow in a temporary store."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    from sprintlab.contract.validate import validate_folder
    from sprintlab.pipeline.evaluate import run_evaluate
    from sprintlab.pipeline.explain import run_explain
    from sprintlab.pipeline.features import run_features
    from sprintlab.pipeline.report import run_report
    from sprintlab.pipeline.simulate import run_simulate
    from sprintlab.pipeline.targets import run_targets
    from sprintlab.pipeline.train import run_train

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("pipeline")
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    mp.chdir(tmp)
    base = load_params(ROOT / "params.yaml")
    params = base.model_copy(
        update={
            "simulate": base.simulate.model_copy(update={"athletes": 40, "weeks": 60, "seed": 5}),
            "evaluate": base.evaluate.model_copy(update={"bootstrap": 50}),
            "report": base.report.model_copy(update={"max_athletes": 8}),
        }
    )
    run_simulate(params, tmp / "sim")
    _replace_ids_with_names(tmp / "sim" / "raw")
    result = validate_folder(tmp / "sim" / "raw", tmp / "val", today="2026-11-24")
    run_features(params, tmp / "val", tmp / "feat")
    run_targets(params, tmp / "val", tmp / "feat", tmp / "sim" / "truth", tmp / "tg")
    reg = {
        t: run_train(params, t, tmp / "tg", tmp / "models" / t)["registry"] for t in ("transfer", "hamstring")
    }
    run_evaluate(tmp / "models", tmp / "metrics", tmp / "plots")
    explained = run_explain(params, tmp / "tg", tmp / "models", tmp / "expl", tmp / "metrics")
    report = run_report(
        params, tmp / "feat", tmp / "models", tmp / "metrics", tmp / "report.html", simulated=True
    )
    mp.setenv("SPRINTLAB_PSEUDONYM_KEY", "test-key-not-secret-0123456789")
    shared = run_report(
        params,
        tmp / "feat",
        tmp / "models",
        tmp / "metrics",
        tmp / "report-shared.html",
        simulated=True,
        pseudonymise=True,
    )
    yield {
        "tmp": tmp,
        "validation": result,
        "registry": reg,
        "explained": explained,
        "report": report,
        "shared_report": shared,
        "params": params,
    }
    mp.undo()


FIRST = ["Ada", "Bea", "Cleo", "Dana", "Eve", "Fay", "Gia", "Hana", "Ines", "Jo"]
LAST = ["Moreau", "Okafor", "Lindqvist", "Haddad", "Novak", "Ferreira", "Tanaka", "Walsh"]


def _replace_ids_with_names(raw: Path) -> None:
    """Real exports often key athletes by name: rename every simulated id to a person's name."""
    ids = sorted(pd.read_csv(raw / "athletes.csv")["athlete_id"])
    names = {a: f"{FIRST[i % 10]} {LAST[(i // 10) % 8]}-{i}" for i, a in enumerate(ids)}
    for f in raw.glob("*.csv"):
        df = pd.read_csv(f, dtype=str)
        df["athlete_id"] = df["athlete_id"].map(names)
        df.to_csv(f, index=False)
    for f in (raw.parent / "truth").glob("*.parquet"):
        df = pd.read_parquet(f)
        df["athlete_id"] = df["athlete_id"].map(names)
        df.to_parquet(f, index=False)


def test_simulated_data_pass_validation(pipeline_run):
    res = pipeline_run["validation"]
    assert res.ok, res.problems.head()
    assert set(res.tables) >= {"athletes", "sprint_splits", "gym_sets", "training_load", "injuries"}


def test_metrics_files_have_model_baselines_and_oracle(pipeline_run):
    for target in ("transfer", "hamstring"):
        m = json.loads((pipeline_run["tmp"] / "metrics" / f"{target}.json").read_text())
        for block in [m["model"], m["oracle"], *m["baselines"].values()]:
            assert {"roc_auc", "pr_auc", "brier", "calibration_slope", "roc_auc_ci"} <= set(block)
        assert m["n_test_units"] > 0 and m["n_test_events"] > 0
        assert m["baselines"]["prevalence"]["roc_auc"] == pytest.approx(0.5)
        # the truth ranks the units better than chance on the same test units
        assert m["oracle"]["roc_auc"] > 0.6
    assert (
        "acwr_threshold"
        in json.loads((pipeline_run["tmp"] / "metrics" / "hamstring.json").read_text())["baselines"]
    )


def test_models_saved_and_registered_as_champion(pipeline_run):
    import mlflow

    tmp = pipeline_run["tmp"]
    for target, reg in pipeline_run["registry"].items():
        d = tmp / "models" / target
        assert (d / "model.joblib").exists() and (d / "booster.txt").exists()
        assert json.loads((d / "features.json").read_text())
        assert "Intended use" in (d / "model_card.md").read_text()
        assert reg["champion"] and reg["version"] == "1"
        model = mlflow.sklearn.load_model(f"models:/sprintlab-{target}@champion")
        assert hasattr(model, "predict_proba")


def test_mlflow_run_logs_params_metrics_signature_and_shap(pipeline_run):
    import mlflow
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    mv = client.get_model_version_by_alias("sprintlab-hamstring", "champion")
    run = client.get_run(mv.run_id)
    assert "num_leaves" in run.data.params and "model.roc_auc" in run.data.metrics
    assert run.data.tags["dvc_experiment"]
    arts = {a.path for a in client.list_artifacts(mv.run_id)}
    assert {"model_card", "evaluation", "shap_summary"} <= arts
    info = mlflow.models.get_model_info("models:/sprintlab-hamstring@champion")
    assert info.signature is not None and info.signature.inputs.input_names()


def test_mlflow_store_holds_no_athlete_ids(pipeline_run):
    tmp = pipeline_run["tmp"]
    ids = pd.read_csv(tmp / "sim" / "raw" / "athletes.csv")["athlete_id"].tolist()
    blobs = [(tmp / "mlflow.db").read_bytes()]
    blobs += [
        p.read_bytes()
        for p in (tmp / "mlartifacts").rglob("*")
        if p.is_file() and p.suffix in (".json", ".md", ".csv", ".txt", ".yaml", "")
    ]
    for aid in ids:
        assert not any(aid.encode() in b for b in blobs), aid


def test_names_never_reach_logs_outputs_or_shared_report(pipeline_run, capfd):
    tmp = pipeline_run["tmp"]
    names = pd.read_csv(tmp / "sim" / "raw" / "athletes.csv")["athlete_id"].tolist()
    assert all(" " in n for n in names)  # they really are names
    shared = Path(pipeline_run["shared_report"]).read_text(encoding="utf-8")
    assert "ATH-" in shared
    scanned = [shared.encode()]
    for sub in ("models", "metrics", "plots", "expl"):
        scanned += [
            p.read_bytes()
            for p in (tmp / sub).rglob("*")
            if p.is_file() and p.suffix in (".json", ".md", ".csv", ".txt")
        ]
    captured = capfd.readouterr()
    scanned.append((captured.out + captured.err).encode())
    for name in names:
        assert not any(name.encode() in blob for blob in scanned), name


def test_explanations_and_report(pipeline_run):
    ex = json.loads((pipeline_run["tmp"] / "metrics" / "explanations.json").read_text())
    assert 0 <= ex["dominant_family_agreement"] <= 1 and ex["n_units"] > 0
    bands = ex["by_explanation_dominance"]
    assert (
        set(bands) == {"clear", "leading", "close"}
        and sum(b["n_units"] for b in bands.values()) == ex["n_units"]
    )
    assert 0 < ex["majority_family_baseline"] <= 1
    if bands["close"]["n_units"]:
        assert bands["close"]["truth_among_named"] >= bands["close"]["agreement"]
    else:  # the small test squad may have no close call: nothing to state
        assert bands["close"]["truth_among_named"] is None
    # on a close call the report names two families, so what it says holds at least as often
    assert ex["dominant_family_agreement"] <= ex["report_statement_agreement"] <= 1
    truth_bands = ex["by_truth_dominance"]
    assert sum(b["n_units"] for b in truth_bands.values()) == ex["n_units"]
    assert abs(sum(b["share"] for b in truth_bands.values()) - 1) < 1e-9
    # hamstring athlete-weeks against the true main factor of the 28-day risk
    ham = ex["hamstring"]
    assert 0 <= ham["dominant_family_agreement"] <= 1 and ham["n_units"] > 100
    assert sum(sum(row.values()) for row in ham["confusion"].values()) == ham["n_units"]
    assert set(ham["confusion"]) <= {"strength", "control", "load", "wellness", "history"}
    html = Path(pipeline_run["report"]).read_text(encoding="utf-8")
    # the squad's strength x control dependence plot (the model's control measure is control_score_8w)
    assert (
        "<h3>Strength gains and control</h3>" in html
        and "Scatter chart: the effect of squat strength" in html
    )
    assert "own usual" in html
    assert f"true main factor for {ex['dominant_family_agreement']:.0%} of them" in html  # known limits
    assert f"of the 28-day risk for {ham['dominant_family_agreement']:.0%} of them" in html
    among = bands["close"]["truth_among_named"]
    assert (among is None) == ("On a close call the report names two factors" not in html)
    if among is not None:
        assert f"the true one was among them {among:.0%} of the time" in html
    assert "SIMULATED" in html and "<img" in html and "http://" not in html and "https://" not in html
    athletes = sorted(pd.read_csv(pipeline_run["tmp"] / "sim" / "raw" / "athletes.csv")["athlete_id"])[:8]
    assert all(a in html for a in athletes)


def test_dvc_yaml_stages_declare_code_params_and_outputs():
    dvc = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    order = [
        "simulate",
        "validate",
        "features",
        "targets",
        "train_transfer",
        "train_hamstring",
        "evaluate",
        "explain",
        "report",
    ]
    assert list(dvc["stages"]) == order
    for name, stage in dvc["stages"].items():
        assert "src/sprintlab" in stage["deps"], name
        assert f"pipelines/{name}.py" in stage["deps"], name
        assert (ROOT / f"pipelines/{name}.py").exists()
        for p in stage.get("params", []):
            node = params
            for part in p.split("."):
                assert part in node, (name, p)
                node = node[part]
        assert stage.get("outs") or stage.get("metrics"), name
    load_params(ROOT / "params.yaml")


def test_main_factor_limit_states_the_truth_figures_in_words(tmp_path):
    from sprintlab.pipeline.report import _main_factor_limit

    path = tmp_path / "explanations.json"
    assert _main_factor_limit(path) == []  # no explain output yet: nothing to state
    path.write_text(json.dumps({"dominant_family_agreement": None}))
    assert _main_factor_limit(path) == []  # real data: no simulator truth
    path.write_text(
        json.dumps(
            {
                "dominant_family_agreement": 0.673,
                "by_explanation_dominance": {
                    "clear": {"agreement": 0.872},
                    "leading": {"agreement": 0.637},
                    "close": {"agreement": 0.486, "truth_among_named": 0.841},
                },
            }
        )
    )
    (text,) = _main_factor_limit(path)
    assert (
        "true main factor for 67% of them (87% where the lead is clear, 49% where it is a close call)."
        in text
    )
    assert "the true one was among them 84% of the time." in text
    ex = json.loads(path.read_text())
    ex["hamstring"] = {
        "dominant_family_agreement": 0.582,
        "majority_family_baseline": 0.621,
        "by_explanation_dominance": {"clear": {"agreement": 0.74}},
        "confusion": {"strength": {"strength": 40, "wellness": 9}, "history": {"strength": 12}},
    }
    path.write_text(json.dumps(ex))
    transfer, hamstring = _main_factor_limit(path)
    assert transfer == text
    assert (
        "true main factor of the 28-day risk for 58% of them (74% where the lead is clear); naming the most "
        "common true factor (Strength) every week would match 62%."
    ) in hamstring
