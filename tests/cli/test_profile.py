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


# ---------------------------------------------------------------------------------------------
# --in-situ: GPS/LPS sessions
# ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
PARAMS = str(ROOT / "params.yaml")
LPS = ROOT.parent / "shared" / "datasets" / "lps_basketball_session" / "LPS_session.csv.gz"


def _session(athlete: str, day: str, start_s: float, mss: float = 8.5, tau: float = 1.1) -> pd.DataFrame:
    """A 60 s trace at 10 Hz: jogging, one all-out sprint from ``start_s``, then a stop."""
    t = np.round(np.arange(0, 60, 0.1), 1)
    run = np.clip(t - start_s, 0, None)
    v = np.where(t > start_s, velocity(run, mss, tau), 1.0)
    v = np.where(t > start_s + 6, np.maximum(velocity(6, mss, tau) - 4 * (t - start_s - 6), 1.0), v)
    return pd.DataFrame(
        {"athlete_id": athlete, "date": day, "session_id": "pitch", "time_s": t, "velocity_m_s": v}
    )


def test_cli_in_situ_on_the_lps_session(tmp_path: Path):
    if not LPS.exists():
        pytest.skip(f"{LPS} is not available on this machine (real-data test)")
    out = tmp_path / "lps.csv"
    runner = CliRunner()
    res = runner.invoke(
        _app(),
        [
            "profile",
            "--in-situ",
            str(LPS),
            "--velocity-threshold",
            "4",
            "--params",
            PARAMS,
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert (
        "MSS 8.18 m/s, MAC 7.89 m/s^2, TAU 1.036 s, PMAX 16.13 W/kg (32 points in 16 speed bins" in res.output
    )
    assert "points used (32)" in res.output and "91,099 samples" in res.output
    got = pd.read_csv(out)
    assert {"mss_m_s", "mac_m_s2", "tau_s", "pmax_rel_w_kg", "n_points", "fit_ok"} <= set(got.columns)
    # the default threshold (speed of the highest acceleration) reaches far beyond this player's top speed
    auto = runner.invoke(_app(), ["profile", "--in-situ", str(LPS), "--params", PARAMS])
    assert (
        auto.exit_code == 1
        and "not fitted: MSS 10.15 m/s" in auto.output
        and "--velocity-threshold" in auto.output
    )


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
def test_cli_in_situ_reads_csv_gzip_and_parquet(tmp_path: Path, suffix: str):
    samples = pd.concat([_session("a1", "2024-05-01", 10.0), _session("a2", "2024-05-01", 20.0, mss=9.0)])
    src = tmp_path / f"tracking{suffix}"
    if suffix == ".parquet":
        samples.to_parquet(src)
    else:
        samples.to_csv(src, index=False)
    out = tmp_path / "insitu.parquet"
    res = CliRunner().invoke(
        _app(), ["profile", "--in-situ", str(src), "--params", PARAMS, "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    got = pd.read_parquet(out)
    assert got["athlete_id"].tolist() == ["a1", "a2"] and got["fit_ok"].all()
    assert got["mss_m_s"].to_numpy() == pytest.approx([8.5, 9.0], rel=0.02)
    assert "a1 2024-05-01 pitch: MSS" in res.output


def test_cli_in_situ_rolling_windows(tmp_path: Path):
    samples = pd.concat([_session("a1", day, 10.0) for day in ("2024-05-01", "2024-05-08", "2024-06-20")])
    src = tmp_path / "tracking.csv"
    samples.to_csv(src, index=False)
    out = tmp_path / "windows.csv"
    res = CliRunner().invoke(
        _app(),
        ["profile", "--in-situ", str(src), "--window-days", "28", "--params", PARAMS, "--out", str(out)],
    )
    assert res.exit_code == 0, res.output
    assert pd.read_csv(out)["n_traces"].tolist() == [1, 2, 1]


def test_cli_in_situ_bad_input_exits_without_traceback(tmp_path: Path):
    runner = CliRunner()
    cases = {
        "empty.csv": b"",
        "header_only.csv": b"time,velocity\n",
        "no_speed.csv": b"time,heart_rate\n0,120\n0.1,121\n",
        "broken.csv.gz": b"not gzip at all",
        "broken.parquet": b"not parquet",
        "samples.txt": b"time,velocity\n0,1\n",
    }
    expected = {
        "empty.csv": "the file is empty",
        "header_only.csv": "no samples",
        "no_speed.csv": "need a velocity_m_s",
        "broken.csv.gz": "cannot parse",
        "broken.parquet": "cannot read",
        "samples.txt": "unsupported tracking file type",
    }
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content)
        res = runner.invoke(_app(), ["profile", "--in-situ", str(path), "--params", PARAMS])
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit), (name, res.output)
        assert expected[name] in res.output, (name, res.output)
    missing = runner.invoke(_app(), ["profile", "--in-situ", str(tmp_path / "none.csv"), "--params", PARAMS])
    assert missing.exit_code == 2 and "file not found" in missing.output
    no_params = runner.invoke(
        _app(), ["profile", "--in-situ", str(tmp_path / "x.csv"), "--params", "nope.yaml"]
    )
    assert no_params.exit_code == 2 and "cannot read nope.yaml" in no_params.output
    both = runner.invoke(
        _app(), ["profile", "--radar", str(tmp_path / "x.csv"), "--in-situ", str(tmp_path / "x.csv")]
    )
    assert both.exit_code == 2 and "exactly one" in both.output


def test_cli_in_situ_constant_speed_is_not_fitted_with_exit_1(tmp_path: Path):
    t = np.arange(0, 120, 0.1)
    src = tmp_path / "jog.csv"
    pd.DataFrame({"time": t, "velocity": np.full(t.size, 3.0)}).to_csv(src, index=False)
    res = CliRunner().invoke(_app(), ["profile", "--in-situ", str(src), "--params", PARAMS])
    assert res.exit_code == 1 and "not fitted: too few speed bins" in res.output
    assert res.exception is None or isinstance(res.exception, SystemExit)
