"""A 12-athlete, 20-week squad: too little data for either model. Each train stage says why and
how much it needs, writes its outputs saying "skipped", and the chain goes on to the report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import new_store

from sprintlab.config import load_params
from sprintlab.registry import ModelSkippedError, load_pipeline_model, skip_reason

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from sprintlab.pipeline.chain import quick_params, run_training_chain
    from sprintlab.pipeline.evaluate import run_evaluate
    from sprintlab.pipeline.explain import run_explain
    from sprintlab.pipeline.report import run_report

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("small")
    new_store(mp, tmp)
    mp.chdir(tmp)
    params = quick_params(load_params(ROOT / "params.yaml"), athletes=12, weeks=20, seed=5)
    trained = run_training_chain(params, tmp, today="2026-11-24")["trained"]
    evaluated = run_evaluate(tmp / "models", tmp / "metrics", tmp / "plots")
    explained = run_explain(params, tmp / "tg", tmp / "models", tmp / "expl", tmp / "metrics")
    report = run_report(
        params, tmp / "feat", tmp / "models", tmp / "metrics", tmp / "report.html", simulated=True
    )
    yield {"tmp": tmp, "trained": trained, "evaluated": evaluated, "explained": explained, "report": report}
    mp.undo()


def test_transfer_is_skipped_saying_what_it_has_and_needs(small):
    reason = small["trained"]["transfer"]["registry"]["skipped"]
    assert reason.startswith("too little data to train and evaluate")
    assert "training 30 blocks, 10 of each outcome" in reason and "train.min_units" in reason
    assert "docs/minimum-data.md" in reason
    folder = small["tmp"] / "models" / "transfer"
    assert not (folder / "model.joblib").exists()
    assert skip_reason(small["tmp"] / "models", "transfer") == reason
    assert json.loads((folder / "evaluation.json").read_text()) == {"skipped": reason}
    assert "Not trained (skipped)" in (folder / "model_card.md").read_text()
    with pytest.raises(ModelSkippedError, match="transfer model not trained: too little data"):
        load_pipeline_model(small["tmp"] / "models", "transfer")


def test_hamstring_is_trained_or_skipped_with_its_own_message(small):
    result = small["trained"]["hamstring"]
    if "skipped" in result["registry"]:  # 12 athletes x 20 weeks: no injury in the training split
        assert "athlete-weeks" in result["registry"]["skipped"]
    else:
        assert result["registry"]["registered"]


def test_the_chain_goes_on_evaluate_explain_and_report(small):
    tmp = small["tmp"]
    assert small["evaluated"]["transfer"] == {"skipped": small["trained"]["transfer"]["registry"]["skipped"]}
    for curve in ("roc", "pr", "calibration"):  # every plot dvc.yaml declares exists
        assert (tmp / "plots" / f"transfer_{curve}.csv").read_text().startswith("model,")
    assert "transfer" in small["explained"]["not_modelled"]
    assert (tmp / "metrics" / "explanations.json").exists() and (tmp / "expl").is_dir()
    html = Path(small["report"]).read_text(encoding="utf-8")
    assert "Transfer chance: not modelled." in html and "too little data to train and evaluate" in html
    assert "Not modelled" in html  # the squad table says so for every athlete
