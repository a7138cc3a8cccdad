"""Shared fixtures: a small simulated squad (session-scoped, deterministic), the quick squad trained
and registered once per session - once per pytest-xdist worker that needs it (``trained``: the
scoring, engine, golden and squad-report tests), and the shared data path."""

from __future__ import annotations

import atexit
import functools
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

from sprintlab.config import load_params
from sprintlab.simulate.generator import simulate_squad

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
# the real-data tests import the benchmarks' protocols (benchmarks/realdata.py, not in the package)
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def shared_dataset(name: str) -> Path:
    """Path of a ../shared data set, or skip the test with the reason."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"../shared/datasets/{name} is not available on this machine (real-data test)")
    return path


@pytest.fixture(scope="session")
def small_squad():
    """24 athletes x 40 weeks: enough blocks and injuries for every stage, fast to build."""
    return simulate_squad(n_athletes=24, n_weeks=40, seed=11)


@pytest.fixture(scope="session")
def small_panel(small_squad):
    from sprintlab.features.panel import build_panel

    return build_panel(small_squad.tables)


@pytest.fixture(scope="session")
def trained_squad(tmp_path_factory):
    """The quick squad (``quick_params``: 40 athletes x 66 weeks, seed 6) simulated, validated,
    featurised and both models trained and registered in a temporary MLflow store - once per
    session (per xdist worker) for every test that reads it (scoring, the Spark engine, the golden
    outputs, the squad reports in Chromium).

    ``chain_params``: the parameters of that chain; ``params`` / ``params_file``: the scoring
    tests' parameters (the report limited to 6 athletes, which the chain does not read). The
    store and the working directory are set only while training: a test sets them with
    :func:`trained` (other session fixtures point MLFLOW_TRACKING_URI at their own stores).
    """
    import yaml

    from sprintlab.pipeline.chain import quick_params, run_training_chain

    tmp = tmp_path_factory.mktemp("scoring")
    chain_params = quick_params(load_params(ROOT / "params.yaml"))
    with pytest.MonkeyPatch.context() as mp:
        use_store(mp, tmp)
        run_training_chain(chain_params, tmp, today="2026-11-24")
    params_file = tmp / "params.yaml"
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["report"]["max_athletes"] = 6
    params_file.write_text(yaml.safe_dump(raw))
    return {
        "tmp": tmp,
        "raw": tmp / "sim" / "raw",
        "params": load_params(params_file),
        "params_file": params_file,
        "chain_params": chain_params,
    }


@functools.cache
def _empty_store_template() -> Path:
    """An empty MLflow SQLite store, created (schema migrated) by MLflow itself once per process."""
    from mlflow.tracking import MlflowClient  # telemetry is off: conftest imported sprintlab first

    folder = tempfile.mkdtemp(prefix="mlflow-template-")
    atexit.register(shutil.rmtree, folder, True)
    db = Path(folder) / "mlflow.db"
    MlflowClient(tracking_uri=f"sqlite:///{db}").search_experiments()  # creates and migrates the store
    return db


def new_store(mp: pytest.MonkeyPatch, folder: Path) -> Path:
    """MLflow store ``folder/mlflow.db`` (until ``mp`` is undone), started as a copy of an empty store
    MLflow created: the same schema without the ~1 s of migrations each new store costs. The club's
    Monday test (``test_club_monday.py``) and the pipeline's ``dvc repro`` keep creating theirs."""
    db = Path(folder) / "mlflow.db"
    if not db.exists():
        shutil.copy(_empty_store_template(), db)
    mp.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    mp.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return db


def use_store(mp: pytest.MonkeyPatch, tmp: Path) -> None:
    """MLflow store ``tmp/mlflow.db`` (:func:`new_store`) and working directory ``tmp`` until ``mp``
    is undone."""
    new_store(mp, tmp)
    mp.chdir(tmp)


@pytest.fixture
def trained(trained_squad, monkeypatch):
    """:func:`trained_squad` with its MLflow store and folder set for this test."""
    use_store(monkeypatch, trained_squad["tmp"])
    return trained_squad
