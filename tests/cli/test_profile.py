"""The ``profile`` command, through a tiny Typer app (the main CLI registers the same function)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sprintlab.cli.profile import profile
from sprintlab.sprint.model import time_at_distance, velocity

GATES = np.array([5.0, 10.0, 20.0, 30.0])


@pytest.fixture()
def splits() -> pd.DataFrame:
    """Five exact trials (two athletes, one with a 1 m flying start) on gates at 5-30 m."""
    trials = [
        ("a1", "2024-01-01", 1, 8.0, 1.0, 0.0, "standing"),
        ("a1", "2024-01-01", 2, 8.2, 1.0, 0.0, "standing"),
        ("a1", "2024-01-08", 1, 8.5, 1.1, 0.0, "standing"),
        ("a2", "2024-01-01", 1, 9.0, 1.2, 1.0, "standing"),
        ("a2", "2024-01-01", 2, 9.0, 1.2, 0.0, "flying"),
    ]
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "athlete_id": athlete,
                    "date": date,
                    "trial": trial,
                    "distance_m": GATES,
                    "time_s": time_at_distance(GATES + fd, mss, tau) - time_at_distance(fd, mss, tau),
                    "start_type": start,
                    "timing_system": "photocell",
                }
            )
            for athlete, date, trial, mss, tau, fd, start in trials
        ],
        ignore_index=True,
    )


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("profile")(profile)

    @app.command("noop")
    def noop() -> None:  # second command so typer keeps the sub-command name
        pass

    return app


def test_cli_splits_csv_to_parquet(tmp_path: Path, splits):
    src = tmp_path / "splits.csv"
    splits.to_csv(src, index=False)
    ath = tmp_path / "athletes.parquet"
    pd.DataFrame({"athlete_id": ["a1"], "height_cm": [180.0], "body_mass_kg": [80.0]}).to_parquet(ath)
    out = tmp_path / "sub" / "profiles.parquet"
    res = CliRunner().invoke(
        _app(), ["profile", str(src), "--out", str(out), "--correction", "fixed:0.3", "--athletes", str(ath)]
    )
    assert res.exit_code == 0, res.output
    assert "wrote 5 profiles" in res.output
    got = pd.read_parquet(out)
    assert (got["correction"] == "fixed:0.3").all() and (got["time_correction_s"] == 0.3).all()
    assert got.loc[got.athlete_id == "a1", "body_mass_kg"].eq(80.0).all()
    assert [p.name for p in out.parent.iterdir()] == ["profiles.parquet"]  # no temp file left behind


def test_cli_radar_and_errors(tmp_path: Path):
    t = np.arange(0, 5, 0.01)
    trace = pd.DataFrame({"time_s": t, "velocity_m_s": velocity(t, 8.0, 0.9)})
    src = tmp_path / "radar.csv"
    trace.to_csv(src, index=False)
    out = tmp_path / "radar_profile.csv"
    runner = CliRunner()
    res = runner.invoke(_app(), ["profile", "--radar", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert got["mss_m_s"].iloc[0] == pytest.approx(8.0, abs=1e-6)
    bad = runner.invoke(_app(), ["profile", str(src), "--out", str(out), "--correction", "nope"])
    assert bad.exit_code != 0
    neither = runner.invoke(_app(), ["profile", "--out", str(out)])
    assert neither.exit_code != 0
    missing_cols = runner.invoke(_app(), ["profile", str(src), "--out", str(tmp_path / "x.csv")])
    assert missing_cols.exit_code == 2 and not (tmp_path / "x.csv").exists()


def test_cli_types_numbers_and_reports_read_errors(tmp_path: Path):
    t = np.arange(0, 5, 0.01)
    trace = pd.concat(
        [
            pd.DataFrame({"athlete_id": "a1", "trial": k, "time_s": t, "velocity_m_s": velocity(t, 8.0, 0.9)})
            for k in (2, 10)
        ]
    )
    src = tmp_path / "radar.csv"
    trace.to_csv(src, index=False)
    out = tmp_path / "radar.pq"
    runner = CliRunner()
    res = runner.invoke(_app(), ["profile", "--radar", str(src), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert pd.read_parquet(out)["trial"].tolist() == [2, 10]  # numbers, as in the input
    unsupported = runner.invoke(_app(), ["profile", str(tmp_path / "s.txt"), "--out", str(out)])
    assert unsupported.exit_code == 2 and "unsupported table format '.txt'" in unsupported.output
    bad_out = runner.invoke(_app(), ["profile", "--radar", str(src), "--out", str(tmp_path / "p.json")])
    assert bad_out.exit_code == 2 and "unsupported output format '.json'" in bad_out.output
    missing = runner.invoke(_app(), ["profile", str(tmp_path / "none.csv"), "--out", str(out)])
    assert missing.exit_code == 2 and "file not found" in missing.output
