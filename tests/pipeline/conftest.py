"""A club's own exports, as a club would have them: the quick simulated squad without the
``sprint_steps`` table (no step kinematics from video) and with the ``rpe`` column of
``training_load`` emptied, with ``data.source: folder`` and no simulator label - validated,
turned into features and units, and both models trained in a temporary MLflow store (once)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from tests.conftest import new_store

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[2]
TODAY = "2026-11-24"


def club_exports(simulated_raw: Path, out: Path) -> Path:
    """The simulated contract tables as a club without step kinematics and RPE exports them."""
    out.mkdir(parents=True, exist_ok=True)
    for f in simulated_raw.glob("*.csv"):
        if f.stem == "sprint_steps":
            continue
        table = pd.read_csv(f, dtype=str, keep_default_na=False)
        if f.stem == "training_load":
            table["rpe"] = ""
        table.to_csv(out / f.name, index=False)
    return out


@pytest.fixture(scope="session")
def club(tmp_path_factory, trained_squad):
    from sprintlab.pipeline.chain import quick_params
    from sprintlab.pipeline.features import run_features
    from sprintlab.pipeline.targets import run_targets
    from sprintlab.pipeline.train import run_train
    from sprintlab.pipeline.validate import run_validate

    mp = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("club")
    new_store(mp, tmp)
    mp.chdir(tmp)
    base = quick_params(load_params(ROOT / "params.yaml"))
    params = base.model_copy(
        update={
            "data": base.data.model_copy(update={"source": "folder"}),
            "validate_": base.validate_.model_copy(update={"today": TODAY}),
            "report": base.report.model_copy(update={"max_athletes": 6}),
        }
    )
    sim_raw = trained_squad["raw"]  # the quick squad's exports, simulated once per session
    raw = club_exports(sim_raw, tmp / "club" / "raw")
    run_validate(params, sim_raw, raw, tmp / "val")
    run_features(params, tmp / "val", tmp / "feat")
    run_targets(params, tmp / "val", tmp / "feat", None, tmp / "tg")
    trained = {t: run_train(params, t, tmp / "tg", tmp / "models" / t) for t in ("transfer", "hamstring")}
    raw_params = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw_params["data"]["source"] = "folder"
    raw_params["report"]["max_athletes"] = 6
    (tmp / "params.yaml").write_text(yaml.safe_dump(raw_params))
    yield {"tmp": tmp, "raw": raw, "params": params, "trained": trained}
    mp.undo()
