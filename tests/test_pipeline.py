"""One full pipeline run on a small simulated squad, with MLflow in a temporary store."""

from __future__ import annotations

import ast
import json
import re
import shlex
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pydantic import BaseModel
from tests.conftest import new_store

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    from sprintlab.pipeline.evaluate import run_evaluate
    from sprintlab.pipeline.explain import run_explain
    from sprintlab.pipeline.features import run_features
    from sprintlab.pipeline.report import run_report
    from sprintlab.pipeline.simulate import run_simulate
    from sprintlab.pipeline.targets import run_targets
    from sprintlab.pipeline.train import run_train
    from sprintlab.pipeline.validate import run_validate

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("pipeline")
    new_store(mp, tmp)
    mp.chdir(tmp)
    base = load_params(ROOT / "params.yaml")
    params = base.model_copy(
        update={
            "simulate": base.simulate.model_copy(update={"athletes": 40, "weeks": 60, "seed": 5}),
            "evaluate": base.evaluate.model_copy(update={"bootstrap": 50}),
            "report": base.report.model_copy(update={"max_athletes": 8}),
            "validate_": base.validate_.model_copy(update={"today": "2026-11-24"}),
        }
    )
    reads: dict[str, set[str]] = defaultdict(set)  # stage -> the params.yaml keys it read

    def view(stage: str):
        return _Reads(params, reads[stage])

    run_simulate(view("simulate"), tmp / "sim")
    _replace_ids_with_names(tmp / "sim" / "raw")
    result = run_validate(view("validate"), tmp / "sim" / "raw", tmp / "no-club-folder", tmp / "val")
    run_features(view("features"), tmp / "val", tmp / "feat")
    run_targets(view("targets"), tmp / "val", tmp / "feat", tmp / "sim" / "truth", tmp / "tg")
    reg = {
        t: run_train(view(f"train_{t}"), t, tmp / "tg", tmp / "models" / t)["registry"]
        for t in ("transfer", "hamstring")
    }
    run_evaluate(tmp / "models", tmp / "metrics", tmp / "plots")
    explained = run_explain(view("explain"), tmp / "tg", tmp / "models", tmp / "expl", tmp / "metrics")
    as_stage = view("report")  # as pipelines/report.py calls it
    report = run_report(
        as_stage,
        tmp / "feat",
        tmp / "models",
        tmp / "metrics",
        tmp / "report.html",
        simulated=as_stage.data.source == "simulated",
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
        "reads": reads,
    }
    mp.undo()


class _Reads:
    """A read-only view of :class:`Params` that records which ``params.yaml`` keys are read (a
    method such as ``model_dump`` reads its whole section)."""

    def __init__(self, model: BaseModel, log: set[str], path: str = "") -> None:
        self._model, self._log, self._path = model, log, path

    def __getattr__(self, name: str):
        value = getattr(self._model, name)
        field = type(self._model).model_fields.get(name)
        if field is None:
            self._log.add(self._path)
            return value
        path = ".".join(filter(None, (self._path, field.alias or name)))
        if isinstance(value, BaseModel):
            return _Reads(value, self._log, path)
        self._log.add(path)
        return value


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
    ham = json.loads((pipeline_run["tmp"] / "metrics" / "hamstring.json").read_text())
    assert "acwr_threshold" in ham["baselines"]
    # the flag policy: every block at the model's flag rate, injuries (onsets) counted
    decision = {"flag_rate", "sensitivity", "precision", "injuries_caught"}
    # the ceiling at the same flag rate: the simulator's oracles flagged by the same top-share rule
    for block in [ham["model"], ham["oracle"], *ham["baselines"].values(), *ham["rule_baselines"].values()]:
        assert decision <= set(block)
        assert block["flag_rate"] == pytest.approx(ham["model"]["flag_rate"])
    for rule in ham["rule_baselines"].values():
        assert rule["at_cutoff"]["flag_rate"] == pytest.approx(rule["model_at_cutoff_rate"]["flag_rate"])
    assert 0 < ham["n_test_injuries"] <= ham["n_test_events"]
    assert {"model", "prevalence"} <= set(ham["net_benefit"]) and "model" in ham["brier_skill"]


def test_models_saved_and_registered_as_champion(pipeline_run):
    import mlflow

    tmp = pipeline_run["tmp"]
    for target, reg in pipeline_run["registry"].items():
        d = tmp / "models" / target
        # the model in plain text: both shipped models are linear (coefficients, no booster)
        text, other = "coefficients.csv", "booster.txt"
        assert (d / "model.joblib").exists() and (d / text).exists() and not (d / other).exists()
        assert json.loads((d / "features.json").read_text())
        assert "Intended use" in (d / "model_card.md").read_text()
        assert reg["champion"] and reg["version"] == "1"
        model = mlflow.sklearn.load_model(f"models:/sprintlab-{target}@champion")
        assert hasattr(model, "predict_proba")


def test_transfer_ships_the_linear_family_and_records_the_comparison_with_lightgbm(pipeline_run):
    """``model_family: linear_interaction``: the shipped model is the linear_interaction baseline with
    the thesis's signs as bounds (where no bound binds: the same probabilities, so the same figures;
    where one does: that coefficient is 0), its coefficient table lists the product term, and the
    selection record compares it with LightGBM fitted on the same rows and says what is shipped."""
    from sprintlab.registry import load_pipeline_model

    tmp = pipeline_run["tmp"]
    m = json.loads((tmp / "metrics" / "transfer.json").read_text())
    assert m["model"]["family"] == "linear_interaction"
    coef = pd.read_csv(tmp / "models" / "transfer" / "coefficients.csv")
    assert list(coef.columns) == ["feature", "standardised_coefficient", "training_mean", "training_sd"]
    assert coef["feature"].iloc[0] == "(intercept)" and "strength_x_control" in set(coef["feature"])
    bounded = load_pipeline_model(tmp / "models", "transfer").model.sign_bounded_
    if bounded:
        assert (coef.set_index("feature").loc[bounded, "standardised_coefficient"] == 0).all()
    else:
        assert m["model"]["roc_auc"] == m["baselines"]["linear_interaction"]["roc_auc"]
        assert m["model"]["brier"] == m["baselines"]["linear_interaction"]["brier"]
    sel = json.loads((tmp / "metrics" / "explanations.json").read_text())["transfer"]["selection"]
    assert sel["shipped"] == sel["model"]["name"] == "linear_interaction"
    assert sel["other_family"]["name"] == "lightgbm" and sel["rule_keeps"] in (
        "linear_interaction",
        "lightgbm",
    )
    assert sel["shipped_is_rule_choice"] == (sel["rule_keeps"] == "linear_interaction")
    assert "Shipped: linear_interaction" in sel["decision"] and "Recorded only" not in sel["decision"]


def test_explanations_give_the_best_baseline_beside_the_model(pipeline_run):
    """explanations.json ``transfer.best_baseline``: the four metrics of the logistic baseline with the
    best held-out AUC in transfer.json (issue #23)."""
    tmp = pipeline_run["tmp"]
    baselines = json.loads((tmp / "metrics" / "transfer.json").read_text())["baselines"]
    best = json.loads((tmp / "metrics" / "explanations.json").read_text())["transfer"]["best_baseline"]
    logistic = ("opening_test_only", "logistic_all_features", "linear_interaction")  # with a log-odds margin
    auc = {n: baselines[n]["roc_auc"] for n in logistic if n in baselines}
    assert best["auc"] == max(auc.values()) == auc[best["name"]]
    for key in (
        "named_share_ge_80pct",
        "family_cosine_median",
        "clear_truth_agreement",
        "all_blocks_agreement",
    ):
        assert 0 <= best[key] <= 1


def test_the_lightgbm_family_still_trains_by_the_parameter(pipeline_run, tmp_path):
    """``train.transfer.model_family: lightgbm`` gives the calibrated LightGBM back (booster text, the
    linear_interaction baseline as the other family)."""
    from sprintlab.models.estimator import CalibratedLGBMClassifier
    from sprintlab.pipeline.train import run_train
    from sprintlab.registry import load_pipeline_model

    params = pipeline_run["params"]
    lgbm = params.train.transfer.model_copy(update={"model_family": "lightgbm"})
    params = params.model_copy(update={"train": params.train.model_copy(update={"transfer": lgbm})})
    out = run_train(params, "transfer", pipeline_run["tmp"] / "tg", tmp_path / "transfer", register=False)
    assert out["metrics"]["model"]["family"] == "lightgbm"
    assert isinstance(load_pipeline_model(tmp_path, "transfer").model, CalibratedLGBMClassifier)
    assert (tmp_path / "transfer" / "booster.txt").exists()
    assert not (tmp_path / "transfer" / "coefficients.csv").exists()
    sel = out["metrics"]["selection"]
    assert sel["model"]["name"] == "lightgbm" and sel["other_family"]["name"] == "linear_interaction"
    assert sel["other_family"]["auc"] == out["metrics"]["baselines"]["linear_interaction"]["roc_auc"]


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
    # (over the athletes in a strength block this week; its alt text says what the dots show)
    assert "<h3>Strength gains and control</h3>" in html
    assert re.search(
        r"Scatter chart of \d+ athlete-weeks of the \d+ athletes? in a strength block", html
    ) or ("There is no strength-control picture this week" in html)
    assert "Strength gains help the sprint mainly when control is good" not in html
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
        "headline",
        "report",
    ]
    assert list(dvc["stages"]) == order
    for name, stage in dvc["stages"].items():
        assert f"pipelines/{name}.py" in stage["deps"], name
        assert (ROOT / f"pipelines/{name}.py").exists()
        for p in stage.get("params", []):
            node = params
            for part in p.split("."):
                assert part in node, (name, p)
                node = node[part]
        assert stage.get("outs") or stage.get("metrics"), name
    load_params(ROOT / "params.yaml")


def test_bytecode_caches_are_not_stage_dependencies():
    """Python writes ``__pycache__`` beside the code on first import; DVC must not hash it, or the
    second ``dvc repro`` on a machine that keeps bytecode re-runs every stage."""
    from dvc.repo import Repo

    ignore = Repo(str(ROOT)).dvcignore
    package = ROOT / "src" / "sprintlab"
    assert ignore.is_ignored_dir(str(package / "__pycache__"))
    assert ignore.is_ignored_file(str(package / "__pycache__" / "levers.cpython-311.pyc"))
    assert ignore.is_ignored_file(str(package / "levers.pyc"))
    assert not ignore.is_ignored_file(str(package / "levers.py"))


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


def _stages() -> dict[str, dict]:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


def _module_file(module: str) -> Path | None:
    base = ROOT / "src" / Path(*module.split("."))
    for f in (base / "__init__.py", base.with_suffix(".py")):
        if f.exists():
            return f
    return None


def _imported_files(path: Path) -> set[Path]:
    """Files of the sprintlab modules (and pipelines/ helpers) ``path`` imports, anywhere in it;
    importing ``a.b.c`` also runs ``a/__init__.py`` and ``a/b/__init__.py``."""
    names: set[str] = set()
    src = ROOT / "src"
    package = ".".join(path.relative_to(src).parent.parts) if path.is_relative_to(src) else ""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            names |= {module} | {f"{module}.{a.name}" for a in node.names}
    files = {ROOT / "pipelines" / f"{n}.py" for n in names if (ROOT / "pipelines" / f"{n}.py").exists()}
    for name in (n for n in names if n.split(".")[0] == "sprintlab"):
        parts = name.split(".")
        files |= {f for i in range(1, len(parts) + 1) if (f := _module_file(".".join(parts[:i])))}
    return files


def code_deps(entry: Path) -> set[str]:
    """What a stage must declare for its entry script: the script, the pipelines/ helpers and every
    sprintlab module it imports transitively - a library subpackage as its folder (with its data
    files), a top-level module or a ``pipeline/`` stage module as its file."""
    seen: set[Path] = set()
    todo = [entry]
    while todo:
        f = todo.pop()
        if f not in seen:
            seen.add(f)
            todo += _imported_files(f)
    src = ROOT / "src" / "sprintlab"
    deps = set()
    for f in seen:
        rel = f.relative_to(src).parts if f.is_relative_to(src) else ()
        keep_file = len(rel) <= 1 or rel[0] == "pipeline"
        deps.add(str((f if keep_file else src / rel[0]).relative_to(ROOT)))
    return deps


def test_each_stage_depends_on_exactly_the_code_it_imports():
    """Editing the report's CSS must not re-simulate: a stage lists the code its entry script
    imports (transitively, lazy imports included) and no other."""
    wrong = []
    for name, stage in _stages().items():
        declared = {d for d in stage["deps"] if d.startswith(("src/", "pipelines/"))}
        expected = code_deps(ROOT / f"pipelines/{name}.py")
        if declared != expected:
            wrong.append(
                f"{name}: declare exactly these code deps:" + "".join(f"\n  - {d}" for d in sorted(expected))
            )
    assert not wrong, "\n".join(wrong)


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def test_each_stage_passes_exactly_its_declared_paths():
    """The paths in a stage's ``cmd`` are its declared data deps and outputs, and vice versa (a
    folder passed for the files under it, a file under a declared folder, count)."""
    for name, stage in _stages().items():
        python, script, *args = shlex.split(stage["cmd"])
        assert (python, script) == ("python", f"pipelines/{name}.py"), name
        declared = [d for d in stage["deps"] if not d.startswith(("src/", "pipelines/"))]
        for kind in ("outs", "metrics", "plots"):
            declared += [next(iter(o)) if isinstance(o, dict) else o for o in stage.get(kind, [])]
        for arg in args:
            assert any(_related(arg, d) for d in declared), (name, arg)
        for path in declared:
            assert any(_related(path, a) for a in args), (name, path)


def _leaves(node, path: str):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}")
    else:
        yield path


def test_each_stage_declares_exactly_the_params_it_reads(pipeline_run):
    """Each stage's ``params`` in dvc.yaml cover every key its code read in the run above, and each
    declared key was read (a section counts when its code read all of it)."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    wrong = []
    for name, stage in _stages().items():
        read = pipeline_run["reads"][name]
        declared = stage.get("params", [])
        wrong += [
            f"{name} reads undeclared {key}"
            for key in sorted(read)
            if not any(key == d or key.startswith(d + ".") for d in declared)
        ]
        for d in declared:
            node = raw
            for part in d.split("."):
                node = node[part]
            wrong += [
                f"{name} declares unread {leaf}"
                for leaf in _leaves(node, d)
                if not any(leaf == k or leaf.startswith(k + ".") for k in read)
            ]
    assert not wrong, "\n".join(wrong)
