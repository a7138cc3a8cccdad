"""The validate and import commands, through tiny Typer apps (the main CLI registers the same functions)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from contract.conftest import TODAY, valid_contract_tables, write_folder
from sprintlab.cli.data import MAX_LINES, import_data, validate


@pytest.fixture
def valid_tables() -> dict[str, pd.DataFrame]:
    """Contract tables as strings, as a club would export them (fresh copy per test)."""
    return valid_contract_tables()


@pytest.fixture
def valid_dir(tmp_path, valid_tables) -> Path:
    return write_folder(tmp_path / "in", valid_tables)


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("validate")(validate)
    app.command("other")(lambda: None)
    return app


def test_valid_folder_exits_0(valid_dir, tmp_path):
    res = CliRunner().invoke(
        _app(), ["validate", str(valid_dir), "--out", str(tmp_path / "o"), "--today", TODAY]
    )
    assert res.exit_code == 0, res.output
    assert "valid" in res.output
    assert json.loads((tmp_path / "o" / "validation_report.json").read_text())["ok"] is True


def test_problems_are_listed_and_capped(valid_tables, tmp_path):
    valid_tables["wellness"]["fatigue"] = "11"  # 12 rows
    valid_tables["training_load"]["rpe"] = "-1"  # 12 rows
    valid_tables["gym_sets"]["reps"] = "many"  # 24 rows
    valid_tables["strength_tests"]["side"] = "middle"  # 8 rows
    src = write_folder(tmp_path / "in", valid_tables)
    res = CliRunner().invoke(_app(), ["validate", str(src), "--today", TODAY])
    assert res.exit_code == 2
    assert "56 problem(s)" in res.output
    assert f"and {56 - MAX_LINES} more problem(s)" in res.output
    assert "gym_sets.csv" in res.output and "not a number" in res.output


def test_bad_today_and_missing_folder_exit_2_without_traceback(valid_dir, tmp_path):
    for args in (
        ["validate", str(valid_dir), "--today", "tomorrow"],
        ["validate", str(tmp_path / "missing")],
    ):
        res = CliRunner().invoke(_app(), args)
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
        assert "error" in res.output


def test_import_command(tmp_path):
    app = typer.Typer()
    app.command("import")(import_data)
    app.command("other")(lambda: None)
    src = tmp_path / "src"
    src.mkdir()
    (src / "players.csv").write_text("Name;Mass g;Height\nAnna;61200;168\n")
    m = tmp_path / "m.yaml"
    m.write_text(
        "tables:\n  - table: athletes\n    file: players.csv\n    columns:\n      athlete_id: Name\n"
        "      body_mass_kg: {from: Mass g, unit: g}\n      height_cm: Height\n    constants: {sex: F}\n"
    )
    res = CliRunner().invoke(app, ["import", str(src), "--mapping", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert (
        tmp_path / "o" / "athletes.csv"
    ).read_text() == "athlete_id,sex,height_cm,body_mass_kg\nAnna,F,168,61.2\n"
    m.write_text("tables:\n  - table: athletes\n    file: players.csv\n    columns: {weight: Name}\n")
    res = CliRunner().invoke(app, ["import", str(src), "--mapping", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "not a column" in res.output
