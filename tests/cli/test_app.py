"""The ``sprintlab`` app: every command listed, lazily imported, ``--version``, telemetry off."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import sprintlab
from sprintlab.cli import COMMANDS, app

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "numpy", "lightgbm", "mlflow", "sklearn", "shap")
runner = CliRunner()


def _python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter (this one's environment plus ``env``); its stdout."""
    full = {k: v for k, v in os.environ.items() if k != "MLFLOW_DISABLE_TELEMETRY"} | env
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full, check=True, timeout=120
    )
    return done.stdout


def test_help_lists_every_command_without_importing_heavy_libraries():
    out = _python(
        "import sys\nfrom sprintlab.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    assert "HEAVY []" in out
    listed = re.findall(r"^│ (\w+) ", out, flags=re.MULTILINE)
    assert listed == list(COMMANDS)


def test_each_command_runs_its_own_module():
    for name in COMMANDS:
        res = runner.invoke(app, [name, "--help"], prog_name="sprintlab")
        assert res.exit_code == 0, res.output
        assert f"Usage: sprintlab {name}" in res.output
    assert runner.invoke(app, ["nope"]).exit_code == 2


def test_version_names_the_package_version_and_commit():
    out = _python(
        "import sys\nfrom sprintlab.cli import app\n"
        "try:\n    app(['--version'])\nexcept SystemExit:\n    pass\n"
        f"print('HEAVY', sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    version, *champions, heavy = out.splitlines()
    assert re.fullmatch(rf"sprintlab {re.escape(sprintlab.__version__)}( \(git [0-9a-f]{{12}}\))?", version)
    assert all(re.fullmatch(r"champions: (sprintlab-\w+ v\d+(, )?)+ \(as .*\)", c) for c in champions)
    assert heavy == "HEAVY []"


def test_version_names_the_champions_the_last_training_recorded(tmp_path, monkeypatch):
    import json
    import time

    from sprintlab.cli import champions_text, version_text

    (tmp_path / "params.yaml").write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert champions_text() == "" and "champions" not in version_text()
    records = {
        # the folder's model lost: the champion is the older version
        "transfer": {
            "name": "sprintlab-transfer",
            "version": "3",
            "champion": False,
            "champion_version": "2",
        },
        # a record written before champion_version was: the folder's model is the champion
        "hamstring": {"name": "sprintlab-hamstring", "version": "1", "champion": True},
        "skipped": {"registered": False, "skipped": "too few units"},
    }
    for target, record in records.items():
        (tmp_path / "models" / target).mkdir(parents=True)
        (tmp_path / "models" / target / "registry.json").write_text(json.dumps(record))
    (tmp_path / "models" / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "models" / "sub")  # from anywhere inside the project
    assert champions_text() == (
        f"champions: sprintlab-hamstring v1, sprintlab-transfer v2 (as the last training in {tmp_path.resolve()} left them)"
    )
    start = time.perf_counter()
    assert version_text().splitlines()[1] == champions_text()
    assert time.perf_counter() - start < 0.5


def test_mlflow_telemetry_is_off_unless_the_user_says_otherwise():
    code = "import os, sprintlab\nprint(os.environ['MLFLOW_DISABLE_TELEMETRY'])"
    assert _python(code).strip() == "true"
    assert _python(code, MLFLOW_DISABLE_TELEMETRY="false").strip() == "false"


def test_simulate_reads_its_defaults_from_the_params_file(tmp_path):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    raw["simulate"].update(athletes=3, weeks=12, seed=9)
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump(raw))
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path / "a"), "--params", str(params)])
    assert res.exit_code == 0, res.output
    assert "athletes=3 weeks=12 seed=9" in (tmp_path / "a" / "README.md").read_text()
    res = runner.invoke(
        app, ["simulate", "--out", str(tmp_path / "b"), "--params", str(params), "--athletes", "2"]
    )
    assert res.exit_code == 0, res.output
    assert "athletes=2 weeks=12 seed=9" in (tmp_path / "b" / "README.md").read_text()
    res = runner.invoke(app, ["simulate", "--out", str(tmp_path / "c"), "--params", str(tmp_path / "none")])
    assert res.exit_code == 2 and "cannot read" in res.output


def test_data_strings_are_printed_literally_never_as_markup(tmp_path):
    """A file or folder name holding rich markup ('[/x]' closes a tag that was never opened: a
    MarkupError traceback when printed as markup) is printed as it is by simulate, validate and score."""
    odd = tmp_path / "club[" / "x]"
    res = runner.invoke(app, ["simulate", "--out", str(odd), "--params", str(odd / "params.yaml")])
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit)
    # the console wraps a long path at its width (here inside "[/x]" once the tmp path grew by a digit)
    assert "[/x]" in res.output.replace("\n", "") and "cannot read" in res.output
    res = runner.invoke(app, ["validate", str(odd / "missing[/x]")])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
    assert "missing[/x]" in res.output.replace("\n", "")
    res = runner.invoke(
        app, ["score", str(odd), "--out", str(tmp_path / "o"), "--project", str(ROOT), "--engine", "[/x]"]
    )
    assert isinstance(res.exception, SystemExit), res.output
    assert "got '[/x]'" in res.output


def test_score_defers_full_garbage_collections_only_while_it_runs():
    import gc

    from sprintlab.cli.score import FULL_GC_AFTER, _full_collections_deferred

    before = gc.get_threshold()
    with _full_collections_deferred():
        assert gc.get_threshold() == (*before[:2], FULL_GC_AFTER)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), _full_collections_deferred():
        raise RuntimeError("a failed run")
    assert gc.get_threshold() == before
