"""A club's own data, Monday to Monday, end to end as staff would run it from the shell:

``sprintlab import`` of a realistic multi-vendor export folder (``tests/contract/club_exports.py``:
``;`` + decimal comma, ``hh:mm:ss``, one GPS file per week, per-set gym rows, return dates, a name
register) -> ``dvc repro`` with ``data.source: folder`` in a scratch copy of the project ->
``sprintlab score`` of the latest week with the champions trained on the club's own history.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.contract.club_exports import write_club_folder

ROOT = Path(__file__).resolve().parents[1]
TODAY = "2026-11-24"

pytestmark = pytest.mark.slow


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def _scratch_project(root: Path) -> Path:
    """A copy of the project's pipeline (code, dvc.yaml, params.yaml) reading the club's exports:
    ``data.source: folder``, small models, the validator's 'today' fixed."""
    project = root / "project"
    for name in ("src", "pipelines"):
        shutil.copytree(
            ROOT / name, project / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
        )
    shutil.copy(ROOT / "dvc.yaml", project / "dvc.yaml")
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["data"]["source"] = "folder"
    params["validate"]["today"] = TODAY
    params["evaluate"]["bootstrap"] = 20
    for target in ("transfer", "hamstring"):
        params["train"][target].update(n_estimators=60, cv_folds=3)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    (project / "data" / "raw").mkdir(parents=True)
    return project


@pytest.fixture(scope="module")
def monday(tmp_path_factory):
    root = tmp_path_factory.mktemp("monday")
    club = write_club_folder(root / "exports", n_athletes=40, n_weeks=66, seed=6)
    project = _scratch_project(root)
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",  # DVC runs `python`
        "PYTHONPATH": str(project / "src"),  # the stages run the scratch copy's code
    }
    sprintlab = str(Path(sys.executable).with_name("sprintlab"))
    dvc = str(Path(sys.executable).with_name("dvc"))
    imported = _run(
        [
            sprintlab,
            "import",
            str(club.path),
            "--mapping",
            str(club.mapping),
            "--out",
            "data/raw",
            "--validated",
            str(root / "import_check"),
            "--today",
            TODAY,
        ],
        project,
        env,
    )
    for cmd in (["git", "init", "-q"], [dvc, "init", "-q"]):
        _run(cmd, project, env).check_returncode()
    repro = _run([dvc, "repro"], project, env)
    score = _run([sprintlab, "score", "data/raw", "--out", str(root / "monday")], project, env)
    yield {"root": root, "project": project, "club": club, "import": imported, "repro": repro, "score": score}


def test_import_accepts_99_percent_of_source_rows_and_accounts_for_every_row(monday):
    assert monday["import"].returncode == 0, monday["import"].stdout + monday["import"].stderr
    report = json.loads((monday["project"] / "data" / "raw" / "import_report.json").read_text())
    files = report["files"]
    assert len(files) >= 20  # one GPS file per week, each named
    for f in files:  # every source row is accepted, rejected (with a reason), merged or filtered
        assert f["accepted"] + f["rejected"] + f["merged"] + f["filtered"] == f["rows_read"], f
    written = sum(f["rows_read"] - f["merged"] - f["filtered"] for f in files)
    assert sum(f["accepted"] for f in files) / written >= 0.99


def test_dvc_repro_trains_on_the_club_history(monday):
    repro = monday["repro"]
    assert repro.returncode == 0, repro.stdout[-3000:] + repro.stderr[-3000:]
    project = monday["project"]
    assert (project / "reports" / "weekly_report.html").exists()
    for target in ("transfer", "hamstring"):
        registry = json.loads((project / "models" / target / "registry.json").read_text())
        assert registry.get("registered"), registry


def test_monday_score_exits_0_with_every_athlete(monday):
    score = monday["score"]
    assert score.returncode == 0, score.stdout[-3000:] + score.stderr[-3000:]
    summary = json.loads((monday["root"] / "monday" / "score_summary.json").read_text())
    assert summary["athletes"] == 40 and summary["exit_code"] == 0
    assert "Traceback" not in score.stderr


def test_no_athlete_name_outside_the_exports(monday):
    names = list(monday["club"].names.values())
    for folder in (monday["project"] / "data", monday["project"] / "reports", monday["root"] / "monday"):
        for f in folder.rglob("*"):
            if f.is_file() and f.suffix in (".csv", ".json", ".html", ".md"):
                text = f.read_text(encoding="utf-8", errors="replace")
                assert not any(n in text for n in names), f
