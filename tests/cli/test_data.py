"""The validate and import commands, through tiny Typer apps (the main CLI registers the same functions)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from contract.conftest import TODAY, valid_contract_tables, write_folder
from sprintlab.cli.data import MAX_GROUPS, import_data, print_validation, validate
from sprintlab.contract.validate import validate_folder


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


def test_problems_are_grouped_worst_table_first(valid_tables, tmp_path):
    valid_tables["wellness"]["fatigue"] = "-3"  # 12 cells (the column may be empty: cells emptied)
    valid_tables["training_load"]["rpe"] = "-1"  # 12 cells (optional column: cells emptied)
    valid_tables["gym_sets"]["reps"] = "many"  # 24 rows rejected: nothing accepted
    valid_tables["strength_tests"]["side"] = "middle"  # 8 rows rejected
    valid_tables["athletes"].loc[0, "position"] = "[bold]wing[/bold]"  # markup in data is printed as text
    src = write_folder(tmp_path / "in", valid_tables)
    res = CliRunner().invoke(_app(), ["validate", str(src), "--today", TODAY])
    assert res.exit_code == 2
    lines = res.output.splitlines()
    assert lines[0].startswith("gym_sets: 0/24 rows accepted (0.0 %)")  # the table at 0 % leads
    assert lines[1].startswith("strength_tests: 0/8 rows accepted")
    assert "wellness: 12/12 rows accepted (100.0 %), 12 cell(s) emptied" in res.output
    assert "56 problem(s) in 4 group(s)" in res.output
    assert "24 x gym_sets.reps (rows rejected): not a number" in res.output
    assert "12 x wellness.fatigue (cells emptied): impossible value" in res.output
    assert "gym_sets.csv row 2: 'many'; gym_sets.csv row 3: 'many'; gym_sets.csv row 4: 'many'" in res.output


def test_zero_share_table_is_red_and_groups_are_capped(valid_tables, tmp_path):
    from io import StringIO

    from rich.console import Console

    for k, col in enumerate(("sleep_hours", "sleep_quality", "fatigue", "soreness", "stress", "mood")):
        valid_tables["wellness"][col] = "x" * (k + 1)
    valid_tables["gym_sets"]["reps"] = "many"
    res = validate_folder(write_folder(tmp_path / "in", valid_tables), today=TODAY)
    buf = StringIO()
    print_validation(Console(file=buf, force_terminal=True, width=160), res, None, max_groups=3)
    text = buf.getvalue()
    assert text.splitlines()[0].startswith("\x1b[31m") and "gym_sets: 0/24" in text.splitlines()[0]
    assert "... and 4 more group(s); use --out" in text
    assert MAX_GROUPS >= 10


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
    res = CliRunner().invoke(
        app, ["import", str(src), "--mapping", str(m), "--out", str(tmp_path / "o"), "--today", TODAY]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "o" / "athletes.csv").read_text() == (
        "athlete_id,sex,height_cm,body_mass_kg,_provenance\n"
        'Anna,F,168,61.2,"{""sources"":[{""file"":""players.csv"",""rows"":[2]}]}"\n'
    )
    report = json.loads((tmp_path / "o" / "import_report.json").read_text())
    assert report["balanced"] is True
    assert report["files"][0] | {"filtered_by_reason": {}} == {
        "table": "athletes",
        "file": "players.csv",
        "file_rows": 1,
        "rows_read": 1,
        "filtered": 0,
        "filtered_by_reason": {},
        "merged": 0,
        "written": 1,
        "accepted": 0,
        "rejected": 1,
        "cells_emptied": 0,
        "balanced": True,
    }  # rejected: no birth date (a required column) - validation runs as part of the import
    assert "athletes: 0/1 rows accepted (0.0 %)" in res.output
    assert "every source row accounted for" in res.output
    m.write_text("tables:\n  - table: athletes\n    file: players.csv\n    columns: {weight: Name}\n")
    res = CliRunner().invoke(app, ["import", str(src), "--mapping", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "not a column" in res.output
    res = CliRunner().invoke(
        app, ["import", str(src), "--mapping", "no_such_mapping", "--out", str(tmp_path / "o")]
    )
    assert res.exit_code == 2 and "mapping not found" in res.output and "vald_nordbord_hub" in res.output


def test_import_malformed_option_value_is_an_error_not_a_traceback(tmp_path):
    app = typer.Typer()
    app.command("import")(import_data)
    app.command("other")(lambda: None)
    src = tmp_path / "src"
    src.mkdir()
    (src / "w.csv").write_text("who,day,f\nA,2024-03-04,3\n")
    m = tmp_path / "m.yaml"
    m.write_text(
        "tables:\n  - table: wellness\n    file: w.csv\n    columns:\n      athlete_id: who\n"
        "      date: day\n      fatigue: {from: f, rescale: {from: [1], to: [0, 10]}}\n"
    )
    res = CliRunner().invoke(app, ["import", str(src), "--mapping", str(m), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and isinstance(res.exception, SystemExit)
    assert "cannot apply an option" in res.output


def test_reference_that_cannot_be_used_exits_2_with_the_reason(valid_dir, tmp_path):
    """--reference: a missing file, or a model's reference without the training tables' summary."""
    old = tmp_path / "drift_reference.json"
    old.write_text(json.dumps({"features": {}}), encoding="utf-8")
    for ref, text in (
        (tmp_path / "none[/x].json", "cannot read the training reference"),
        (old, "no 'contract_columns'"),
    ):
        res = CliRunner().invoke(
            _app(), ["validate", str(valid_dir), "--today", TODAY, "--reference", str(ref)]
        )
        assert res.exit_code == 2 and isinstance(res.exception, SystemExit), res.output
        assert text in res.output.replace("\n", "")
