"""sprintlab score's output folder changes as one unit: a failure at any file write leaves the
previous week's folder, two runs on one --out lose nothing, faults of the environment are refused
before any work with one line and a documented exit code."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import sprintlab.io as sio
from sprintlab.cli import app
from sprintlab.io import MANIFEST_FILE, folder_manifest, output_lock
from sprintlab.scoring import (
    EXIT_BUSY,
    EXIT_ENVIRONMENT,
    EXIT_INVALID_DATA,
    EXIT_OK,
    EXIT_OUTPUT,
    HISTORY_FILE,
    ScoringError,
    latest_complete_week,
    score,
)

from .conftest import copy_raw

runner = CliRunner()


def _week(trained, back: int = 0) -> str:
    from sprintlab.domain import iso_week_label
    from sprintlab.pipeline.validate import load_validated

    we = latest_complete_week(load_validated(trained["tmp"] / "val"))
    return iso_week_label(we - pd.Timedelta(weeks=back))


def _cli(trained, data, out, *extra):
    return runner.invoke(
        app, ["score", str(data), "--out", str(out), "--params", str(trained["params_file"]), *extra]
    )


def _few_athletes(trained, dst: Path, n: int = 6) -> Path:
    """The squad's contract folder cut to its first ``n`` athletes (every table, every write of a
    scoring run, in a fraction of the time: the loop below scores once per file write)."""
    raw = copy_raw(trained["raw"], dst)
    keep = sorted(pd.read_csv(raw / "athletes.csv", dtype=str)["athlete_id"])[:n]
    for f in raw.glob("*.csv"):
        df = pd.read_csv(f, dtype=str, keep_default_na=False)
        df[df["athlete_id"].isin(keep)].to_csv(f, index=False)
    return raw


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class _FailAt:
    """A write hook that counts file writes and fails the k-th one like a full disk."""

    def __init__(self, k: int | None) -> None:
        self.k, self.n = k, 0

    def __call__(self, path: Path) -> None:
        self.n += 1
        if self.n == self.k:
            raise OSError(errno.ENOSPC, "No space left on device (injected)", str(path))


def test_a_failure_at_any_write_leaves_the_previous_week_never_a_mix(trained, tmp_path, monkeypatch):
    out = tmp_path / "out"
    w1, w0 = _week(trained), _week(trained, 1)
    params = trained["params"]
    raw = _few_athletes(trained, tmp_path / "squad" / "raw")
    score(raw, out, params, week=w0, simulated=True)
    previous = _tree(out)
    manifest = json.loads(previous[MANIFEST_FILE])
    assert manifest["week"] == w0 and set(manifest["files"]) == set(previous) - {MANIFEST_FILE}

    counter = _FailAt(None)
    scratch = tmp_path / "scratch"
    shutil.copytree(out, scratch)
    monkeypatch.setattr(sio, "WRITE_HOOK", counter)
    score(raw, scratch, params, week=w1, simulated=True)
    writes = counter.n
    assert writes >= 10  # validated tables, rejected rows/cells, report, scores, summary, history, commit
    for k in range(1, writes + 1):
        monkeypatch.setattr(sio, "WRITE_HOOK", _FailAt(k))
        with pytest.raises(OSError, match="injected"):
            score(raw, out, params, week=w1, simulated=True)
        assert _tree(out) == previous, f"write {k} of {writes} left a mix"
        assert not list(tmp_path.glob(".out.staging-*")), k
    monkeypatch.setattr(sio, "WRITE_HOOK", None)
    score(raw, out, params, week=w1, simulated=True)
    new = _tree(out)
    assert json.loads(new[MANIFEST_FILE])["week"] == w1
    assert json.loads(new["score_summary.json"])["week"] == w1
    assert set(pd.read_parquet(out / HISTORY_FILE)["week"]) == {w0, w1}
    # rollback material: the replaced generation and the previous history
    assert _tree(tmp_path / ".out.previous") == previous
    assert (out / "score_history.previous.parquet").read_bytes() == previous[HISTORY_FILE]
    assert {k: v for k, v in folder_manifest(out).items()} == json.loads(new[MANIFEST_FILE])["files"]


def test_a_full_disk_on_the_command_line_is_one_line_and_exit_7(trained, tmp_path, monkeypatch):
    monkeypatch.setattr(sio, "WRITE_HOOK", _FailAt(3))
    r = _cli(trained, trained["raw"], tmp_path / "out", "--week", _week(trained), "--no-report")
    assert r.exit_code == EXIT_OUTPUT, r.output
    assert "No space left on device" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "out").exists()


def test_two_runs_on_one_out_at_once_lose_nothing(trained, tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    cmd = [sys.executable, "-c", "from sprintlab.cli import app; app()", "score", str(trained["raw"])]
    cmd += ["--out", str(out), "--params", str(trained["params_file"]), "--no-report"]
    procs = [
        subprocess.Popen([*cmd, "--week", w], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for w in (_week(trained, 1), _week(trained, 2))
    ]
    for p in procs:
        output = p.communicate(timeout=600)[0].decode()
        assert p.returncode == EXIT_OK, output
    hist = pd.read_parquet(out / HISTORY_FILE)
    assert set(hist["week"]) == {_week(trained, 1), _week(trained, 2)}
    assert len(hist) == 2 * 40


KILL_AT = """
import os, sys
import sprintlab.io as sio
from sprintlab.cli import app
count = [0]
def hook(path):
    count[0] += 1
    if count[0] == int(os.environ["KILL_AT"]):
        os._exit(137)  # like SIGKILL: no cleanup, no finally
sio.WRITE_HOOK = hook
app(sys.argv[1:])
"""


def test_a_killed_run_leaves_the_previous_week_and_the_next_run_cleans_up(trained, tmp_path):
    out = tmp_path / "out"
    w1, w0 = _week(trained), _week(trained, 1)
    assert _cli(trained, trained["raw"], out, "--week", w0, "--no-report").exit_code == EXIT_OK
    previous = _tree(out)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "KILL_AT": "14"}
    args = ["score", str(trained["raw"]), "--out", str(out), "--params", str(trained["params_file"])]
    proc = subprocess.run([sys.executable, "-c", KILL_AT, *args, "--week", w1], env=env, capture_output=True)
    assert proc.returncode == 137, proc.stderr.decode()[-2000:]
    assert _tree(out) == previous
    assert list(tmp_path.glob(".out.staging-*"))  # left behind by the kill
    assert _cli(trained, trained["raw"], out, "--week", w1, "--no-report").exit_code == EXIT_OK
    assert not list(tmp_path.glob(".out.staging-*"))
    assert json.loads((out / MANIFEST_FILE).read_text())["week"] == w1


def test_a_second_run_that_cannot_wait_exits_8(trained, tmp_path):
    out = tmp_path / "out"
    params = trained["params"].model_copy(
        update={"score": trained["params"].score.model_copy(update={"lock_wait_seconds": 0.2})}
    )
    with output_lock(out, 0), pytest.raises(ScoringError, match="another run") as err:
        score(trained["raw"], out, params, week=_week(trained), simulated=True)
    assert err.value.exit_code == EXIT_BUSY
    assert not out.exists()


def test_a_corrupted_history_is_named_and_nothing_is_touched(trained, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / HISTORY_FILE).write_bytes(b"PAR1 truncated")
    before = _tree(out)
    r = _cli(trained, trained["raw"], out, "--week", _week(trained))
    assert r.exit_code == EXIT_OUTPUT, r.output
    assert "corrupted" in r.output and HISTORY_FILE in r.output
    assert _tree(out) == before


@pytest.mark.parametrize("fault", ["no_key", "no_pyspark", "out_is_a_file", "disk_full", "registry_locked"])
def test_environment_faults_are_refused_before_any_work(trained, tmp_path, monkeypatch, fault):
    out = tmp_path / "out"
    extra: list[str] = ["--week", _week(trained)]
    code = EXIT_ENVIRONMENT
    if fault == "no_key":
        monkeypatch.delenv("SPRINTLAB_PSEUDONYM_KEY", raising=False)
        monkeypatch.delenv("SPRINTLAB_PSEUDONYM_KEY_FILE", raising=False)
        extra.append("--pseudonymise")
        text = "SPRINTLAB_PSEUDONYM_KEY"
    elif fault == "no_pyspark":
        import importlib.util

        real = importlib.util.find_spec
        monkeypatch.setattr(
            importlib.util, "find_spec", lambda n, *a: None if n == "pyspark" else real(n, *a)
        )
        extra += ["--engine", "spark"]
        text = "pyspark"
    elif fault == "out_is_a_file":
        (tmp_path / "blocker").write_text("a file where the output folder's parent should be")
        out = tmp_path / "blocker" / "out"
        code, text = EXIT_OUTPUT, "not writable"
    elif fault == "disk_full":
        monkeypatch.setattr(
            shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(10**9, 10**9 - 4096, 4096)
        )
        code, text = EXIT_OUTPUT, "not enough disk space"
    else:
        db = tmp_path / "mlflow.db"
        holder = sqlite3.connect(db)
        holder.execute("create table registered_models (name text)")
        holder.commit()
        holder.execute("BEGIN EXCLUSIVE")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
        text = "database is locked"
    r = _cli(trained, trained["raw"], out, *extra)
    assert r.exit_code == code, r.output
    assert text in r.output and "Traceback" not in r.output
    assert len([line for line in r.output.splitlines() if "exit" in line]) == 1
    assert not out.exists() or not any(out.iterdir())


def test_markup_in_data_strings_is_printed_not_interpreted(trained, tmp_path):
    r = _cli(trained, trained["raw"], tmp_path / "out", "--week", "[/x]2026-W[bold]1")
    assert r.exit_code == EXIT_INVALID_DATA, r.output
    assert "[/x]2026-W[bold]1" in r.output and "Traceback" not in r.output


def test_a_refused_run_keeps_its_validation_outputs_apart_and_the_week_untouched(trained, tmp_path):
    out = tmp_path / "out"
    assert _cli(trained, trained["raw"], out, "--week", _week(trained), "--no-report").exit_code == EXIT_OK
    before = _tree(out)
    data = copy_raw(trained["raw"], tmp_path / "club" / "raw", drop=("athletes",))
    r = _cli(trained, data, out, "--week", _week(trained))
    assert r.exit_code == EXIT_INVALID_DATA, r.output
    report = out / "last_refusal" / "validated" / "validation_report.json"
    assert json.loads(report.read_text())["ok"] is False
    assert {k: v for k, v in _tree(out).items() if not k.startswith("last_refusal/")} == before
