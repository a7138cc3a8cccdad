"""Faults: interrupted writes keep the previous output, re-runs are byte-identical, an unreachable
MLflow store fails clearly and registers nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sprintlab.io import write_table_atomic

ROOT = Path(__file__).resolve().parents[1]


def _frame(n: int, value: float) -> pd.DataFrame:
    return pd.DataFrame({"athlete_id": [f"A{i}" for i in range(n)], "x": np.full(n, value)})


def test_failed_write_leaves_previous_file_and_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "panel.parquet"
    write_table_atomic(_frame(10, 1.0), target)
    before = target.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        write_table_atomic(_frame(10, 2.0), target)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["panel.parquet"]


def test_killed_writer_never_leaves_a_half_written_output(tmp_path):
    """A real SIGKILL in the middle of repeated large writes: the output is always a whole table."""
    target = tmp_path / "scores.parquet"
    write_table_atomic(_frame(200_000, 1.0), target)
    script = textwrap.dedent(f"""
        import numpy as np, pandas as pd
        from sprintlab.io import write_table_atomic
        k = 2.0
        while True:
            write_table_atomic(pd.DataFrame({{"athlete_id": ["A"] * 400_000, "x": np.full(400_000, k)}}), {str(target)!r})
            k += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    time.sleep(2.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    df = pd.read_parquet(target)  # readable: never a torn file
    assert len(df) in (200_000, 400_000)
    assert df["x"].nunique() == 1


def test_stages_rerun_byte_identical(tmp_path, small_squad):
    from sprintlab.config import load_params
    from sprintlab.contract.validate import validate_folder
    from sprintlab.pipeline.features import run_features
    from sprintlab.pipeline.simulate import run_simulate
    from sprintlab.pipeline.targets import run_targets

    base = load_params(ROOT / "params.yaml")
    params = base.model_copy(
        update={"simulate": base.simulate.model_copy(update={"athletes": 12, "weeks": 30})}
    )
    outputs = []
    for run in ("a", "b"):
        d = tmp_path / run
        run_simulate(params, d / "sim")
        validate_folder(d / "sim" / "raw", d / "val", today="2026-11-24")
        run_features(params, d / "val", d / "feat")
        run_targets(params, d / "val", d / "feat", d / "sim" / "truth", d / "tg")
        outputs.append({p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()})
    assert outputs[0].keys() == outputs[1].keys() and len(outputs[0]) > 15
    different = [str(k) for k in outputs[0] if outputs[0][k] != outputs[1][k]]
    assert different == []


def test_unreachable_mlflow_store_fails_clearly_before_training(tmp_path, monkeypatch):
    from sprintlab.config import load_params
    from sprintlab.pipeline.train import run_train
    from sprintlab.tracking import TrackingError

    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{blocker}/mlflow.db")
    with pytest.raises(TrackingError, match="unavailable"):
        run_train(
            load_params(ROOT / "params.yaml"), "hamstring", tmp_path / "targets", tmp_path / "models" / "h"
        )
    assert not (tmp_path / "models").exists()


def test_train_entry_point_exits_nonzero_with_message(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    (tmp_path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    env = {**os.environ, "MLFLOW_TRACKING_URI": f"sqlite:///{blocker}/mlflow.db"}
    proc = subprocess.run(
        [sys.executable, str(ROOT / "pipelines" / "train_hamstring.py"), "data/targets", "models/hamstring"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "MLflow store" in proc.stderr and "Traceback" not in proc.stderr


def test_locked_mlflow_store_gives_a_clear_error(tmp_path, monkeypatch):
    import sqlite3

    from sprintlab.tracking import LOCK_WAIT_VARIABLE, TrackingError, ensure_experiment

    db = tmp_path / "mlflow.db"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{db}")
    monkeypatch.setenv(LOCK_WAIT_VARIABLE, "0.5")  # the default waits MLflow's 20 s
    ensure_experiment("sprintlab")
    holder = sqlite3.connect(db, timeout=1)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the store (e.g. a second writer)
    try:
        with pytest.raises(TrackingError, match="locked"):
            ensure_experiment("sprintlab-other")
    finally:
        holder.rollback()
        holder.close()


def test_store_lock_wait_setting(monkeypatch):
    from sprintlab.tracking import DEFAULT_LOCK_WAIT_S, LOCK_WAIT_VARIABLE, TrackingError, lock_wait_s

    monkeypatch.delenv(LOCK_WAIT_VARIABLE, raising=False)
    assert lock_wait_s() == DEFAULT_LOCK_WAIT_S == 20.0
    monkeypatch.setenv(LOCK_WAIT_VARIABLE, "2.5")
    assert lock_wait_s() == 2.5
    for bad in ("soon", "-1", "nan"):
        monkeypatch.setenv(LOCK_WAIT_VARIABLE, bad)
        with pytest.raises(TrackingError, match=LOCK_WAIT_VARIABLE):
            lock_wait_s()
