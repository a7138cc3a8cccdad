"""A tiny trained squad for the scoring tests: simulate, validate, features, targets, train and
register both models in a temporary MLflow store (once per session)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    from sprintlab.pipeline.chain import quick_params, run_training_chain

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("scoring")
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    mp.chdir(tmp)
    base = load_params(ROOT / "params.yaml")
    params = quick_params(base)
    params = params.model_copy(update={"report": base.report.model_copy(update={"max_athletes": 6})})
    run_training_chain(params, tmp, today="2026-11-24")
    params_file = tmp / "params.yaml"
    import yaml

    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["report"]["max_athletes"] = 6
    params_file.write_text(yaml.safe_dump(raw))
    yield {
        "tmp": tmp,
        "raw": tmp / "sim" / "raw",
        "params": load_params(params_file),
        "params_file": params_file,
    }
    mp.undo()


def copy_raw(src: Path, dst: Path, drop: tuple[str, ...] = (), *, simulated: bool = True) -> Path:
    """A copy of a contract folder without the tables in ``drop``; labelled as the simulator labels
    its output (a README beside it beginning with SIMULATED) unless ``simulated`` is false."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.stem not in drop:
            shutil.copy(f, dst / f.name)
    if simulated:
        (dst.parent / "README.md").write_text("SIMULATED test data\n")
    return dst
