"""The analyst's loop: an experiment whose model loses the comparison is labelled as a challenger
and never changes what staff see (the report's models are the registry's champions)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from tests.conftest import new_store

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-24"
LIMIT = "true main factor"  # the explain stage's figures, which describe the pipeline folder's models

pytestmark = pytest.mark.slow


def _report_text(path: Path) -> list[str]:
    from tests.test_golden import report_text

    return report_text(path).splitlines()


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    from sprintlab.pipeline.chain import quick_params, run_training_chain
    from sprintlab.pipeline.evaluate import run_evaluate
    from sprintlab.pipeline.explain import run_explain
    from sprintlab.pipeline.headline import run_headline
    from sprintlab.pipeline.report import run_report
    from sprintlab.pipeline.train import run_train

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("loop")
    new_store(mp, tmp)
    mp.chdir(tmp)
    # a squad big enough for a transfer model with signal (AUC ~0.8), so that a model without one loses
    params = quick_params(load_params(ROOT / "params.yaml"), athletes=100, weeks=80)

    def stages_after_training(name: str) -> tuple[dict, Path]:
        run_evaluate(tmp / "models", tmp / "metrics", tmp / "plots")
        run_explain(params, tmp / "tg", tmp / "models", tmp / "expl", tmp / "metrics")
        headline = run_headline(tmp / "models", tmp / "metrics")
        report = run_report(
            params,
            tmp / "feat",
            tmp / "models",
            tmp / "metrics",
            tmp / name,
            simulated=True,
            generated_at=TODAY,
        )
        return headline, report

    run_training_chain(params, tmp, today=TODAY)
    before = stages_after_training("before.html")
    shutil.copytree(tmp / "models" / "transfer", tmp / "champion_transfer")
    # the experiment: LightGBM whose leaves need at least 100,000 units cannot split a few hundred
    # blocks - no signal (the shipped family is the linear model, which has no leaves to restrict)
    transfer = params.train.transfer.model_copy(
        update={"model_family": "lightgbm", "min_child_samples": 100_000}
    )
    worse = params.model_copy(update={"train": params.train.model_copy(update={"transfer": transfer})})
    lost = run_train(worse, "transfer", tmp / "tg", tmp / "models" / "transfer")["registry"]
    after = stages_after_training("after.html")
    yield {"tmp": tmp, "before": before, "after": after, "lost": lost}
    mp.undo()


def test_a_losing_experiment_is_labelled_a_challenger(loop):
    lost = loop["lost"]
    assert lost["registered"] and not lost["champion"] and lost["version"] == "2"
    assert lost["champion_version"] == "1" and lost["score"] < lost["champion_score"]
    headline, _ = loop["after"]
    assert headline["transfer"]["status"] == (
        f"challenger, not promoted: AUC {lost['score']:.3f} vs champion {lost['champion_score']:.3f}"
    )
    assert headline["hamstring"]["status"] == "champion"
    # the experiment's own metrics are the challenger's: the file says so beside its numbers
    on_disk = json.loads((loop["tmp"] / "metrics" / "transfer_headline.json").read_text())
    assert on_disk == headline["transfer"] and on_disk["auc"] == pytest.approx(lost["score"], abs=1e-4)
    assert loop["before"][0]["transfer"]["status"] == "champion"


def test_the_staff_report_still_shows_the_champion(loop):
    from sprintlab.registry import load_registered_model

    before, after = _report_text(loop["before"][1]), _report_text(loop["after"][1])
    # the model versions table names champion v1 (the shipped linear model), not the challenger v2
    table = after[after.index("Model versions used for this report") :]
    assert table[table.index("sprintlab-transfer") + 1 : table.index("sprintlab-transfer") + 4] == [
        "linear model of the measured change (ridge, calibrated on the label) with the strength x control interaction",
        "1",
        "champion",
    ]
    assert load_registered_model("sprintlab-transfer").version == "1"
    # every risk, driver and lever is the champion's: the page is the one staff saw before the
    # experiment, less the explain stage's figures (they describe the challenger now)
    assert [line for line in before if LIMIT not in line] == after
    assert any(LIMIT in line for line in before)


def test_after_an_undo_the_folder_champion_is_recognised_by_its_hash(loop, tmp_path):
    from sprintlab.pipeline.report import staff_model
    from sprintlab.registry import registration

    models = tmp_path / "models"
    shutil.copytree(loop["tmp"] / "models", models)
    assert staff_model(models, "transfer")[1] is False  # the challenger: the champion comes from MLflow
    # undo as `git restore dvc.lock && dvc checkout` does: the champion's files come back, the
    # challenger's registry record (outside DVC) stays
    for f in (loop["tmp"] / "champion_transfer").iterdir():
        if f.name != "registry.json":
            shutil.copy2(f, models / "transfer" / f.name)
    assert registration(models, "transfer") is None
    model, own = staff_model(models, "transfer")
    assert own and (model.version, model.alias) == ("1", "champion")


def test_a_model_record_of_another_model_is_not_trusted(loop, tmp_path):
    from sprintlab.pipeline.headline import model_status
    from sprintlab.registry import load_pipeline_model, registration

    models = tmp_path / "models"
    shutil.copytree(loop["tmp"] / "models", models)
    assert registration(models, "hamstring")["champion"]
    # as after `dvc exp apply` of another experiment: the model changed, the untracked record did not
    record = json.loads((models / "hamstring" / "registry.json").read_text())
    record["model_sha256"] = "0" * 64
    (models / "hamstring" / "registry.json").write_text(json.dumps(record))
    assert registration(models, "hamstring") is None
    assert load_pipeline_model(models, "hamstring").version == "unregistered"
    # the registry still knows the model by its hash: the champion
    assert model_status(models, "hamstring") == "champion"
    (models / "hamstring" / "registry.json").unlink()
    assert model_status(models, "hamstring") == "champion"
    assert model_status(models, "transfer").startswith("challenger, not promoted: AUC")


def test_headline_reads_the_detailed_files_by_key():
    from sprintlab.pipeline.headline import headline

    evaluation = {
        "model": {"roc_auc": 0.71234, "brier": 0.2, "calibration_slope": 0.9, "sensitivity": 0.5, "new": [1]},
        "oracle": {"roc_auc": 0.8},
        "baselines": {"prevalence": {"brier": 0.25}, "added_baseline": {"roc_auc": 0.6}},
        "a_field_added_later": {"nested": True},
    }
    explanations = {"dominant_family_agreement": 0.6, "hamstring": {"dominant_family_agreement": 0.55}}
    assert headline(evaluation, explanations, "transfer", "champion") == {
        "status": "champion",
        "auc": 0.7123,
        "gap_to_ceiling": 0.0877,
        "brier_skill": 0.2,
        "calibration_slope": 0.9,
        "flag_sensitivity": 0.5,
        "explanation_agreement": 0.6,
    }
    assert headline(evaluation, explanations, "hamstring", "champion")["explanation_agreement"] == 0.55
    # real data (no oracle, no truth) and a skipped model: the numbers it lacks are null
    bare = headline({"skipped": "too few units"}, {}, "hamstring", "not trained: too few units")
    assert set(bare) == {"status", *headline(evaluation, explanations, "transfer", "x")}
    assert all(v is None for k, v in bare.items() if k != "status")


def test_headline_files_are_one_row_each_in_dvc_metrics_show():
    import yaml

    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    declared = [next(iter(m)) for s in stages.values() for m in s.get("metrics", [])]
    assert declared == ["reports/metrics/transfer_headline.json", "reports/metrics/hamstring_headline.json"]
    for path in declared:
        doc = json.loads((ROOT / path).read_text())
        assert not any(isinstance(v, dict | list) for v in doc.values())  # flat: one row
        assert re.fullmatch(r"champion|challenger, not promoted: .*|not .*", doc["status"])


def test_a_promotion_by_hand_makes_the_folder_model_the_champion(loop):
    from mlflow import MlflowClient

    from sprintlab.pipeline.headline import model_status
    from sprintlab.pipeline.report import staff_model

    client = MlflowClient()
    client.set_registered_model_alias("sprintlab-transfer", "champion", "2")  # as the MLflow UI does
    try:
        model, own = staff_model(loop["tmp"] / "models", "transfer")
        assert own and (model.version, model.alias) == ("2", "champion")
        assert model_status(loop["tmp"] / "models", "transfer") == "champion"
    finally:
        client.set_registered_model_alias("sprintlab-transfer", "champion", "1")
