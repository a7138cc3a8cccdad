"""The bad-input corpus (tests/data/bad/ + a few cases built here): every case is either rejected
with file, row and column (a bad cell in a column that may be empty is emptied and listed, the row
is kept), or repaired in a documented and counted way - never a traceback.

The list of cases lives in docs/data-contract.md ("Bad input we tried"); this test checks that the
list and the expectations below are the same set.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sprintlab.cli.data import validate
from sprintlab.config import load_params
from sprintlab.contract.plausibility import REFERENCE_KEY, contract_reference
from sprintlab.contract.validate import REPAIRS, validate_folder

from .conftest import TODAY, valid_contract_tables, write_folder

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
DOC = Path(__file__).resolve().parents[2] / "docs" / "data-contract.md"

# case -> (handling, table, row, column, text in the reason / repair name / warning text)
EXPECT: dict[str, tuple[str, str, int | None, str | None, str]] = {
    "wrong_type_number": ("reject", "gym_sets", 3, "load_kg", "not a number"),
    "wrong_type_int": ("reject", "gym_sets", 3, "reps", "not a whole number"),
    "body_mass_in_grams": ("reject", "athletes", 3, "body_mass_kg", "looks like grams"),
    "body_mass_in_pounds": ("reject", "athletes", 3, "body_mass_kg", "looks like pounds"),
    "time_in_ms": ("reject", "sprint_splits", 3, "time_s", "looks like ms"),
    "height_in_metres": ("reject", "athletes", 3, "height_cm", "looks like metres"),
    "impossible_value": ("reject", "athletes", 3, "height_cm", "impossible value"),
    "negative_value": ("reject", "gym_sets", 3, "load_kg", "impossible value"),
    "value_not_allowed": ("reject", "athletes", 3, "sex", "value not allowed"),
    "future_date": ("reject", "wellness", 3, "date", "date in the future"),
    "impossible_date": ("reject", "wellness", 3, "date", "not a valid date"),
    "date_unknown_format": ("reject", "wellness", 3, "date", "not a date"),
    "date_with_time_of_day": ("reject", "wellness", 3, "date", "has a time of day"),
    "unknown_athlete": ("reject", "training_load", 3, "athlete_id", "unknown athlete"),
    "missing_required_value": ("reject", "gym_sets", 3, "exercise", "missing value"),
    "ambiguous_thousands": ("cell", "training_load", 3, "total_distance_m", "ambiguous number"),
    "not_finite": ("cell", "training_load", 3, "max_speed_m_s", "not a number"),
    "exact_duplicate_row": ("reject", "gym_sets", 26, "athlete_id, date, exercise", "duplicate row"),
    "conflicting_key_duplicate": ("reject", "gym_sets", 26, "load_kg", "duplicate key"),
    "empty_file": ("table_error", "gym_sets", None, None, "empty"),
    "missing_required_column": ("table_error", "gym_sets", None, "reps", "missing required column"),
    "duplicate_column_header": ("table_error", "injuries", None, "onset_date", "appears more than once"),
    "duplicate_table_files": ("table_error", "gym_sets", None, None, "more than once"),
    "corrupt_parquet": ("table_error", "injuries", None, None, "cannot read Parquet"),
    "corrupt_xlsx": ("table_error", "athletes", None, None, "cannot read Excel"),
    "missing_required_table": ("table_error", "athletes", None, None, "required table 'athletes' is missing"),
    "category_case": ("repair", "strength_tests", 3, "side", "category_case"),
    "date_dotted": ("repair", "wellness", 3, "date", "date_dd.mm.yyyy"),
    "date_slashed": ("repair", "wellness", 3, "date", "date_dd/mm/yyyy"),
    "date_excel_serial": ("repair", "wellness", 3, "date", "date_excel_serial"),
    "whitespace": ("repair", "training_load", 3, "athlete_id", "whitespace_trimmed"),
    "semicolon_decimal_comma": ("repair", "wellness", 3, "sleep_hours", "decimal_comma"),
    "tab_delimiter": ("repair", "wellness", None, None, "delimiter_detected"),
    "utf8_bom": ("repair", "athletes", None, None, "bom_stripped"),
    "latin1_encoding": ("repair", "athletes", 5, "position", "cp1252_decoded"),
    "header_case_spaces": ("repair", "training_load", None, "date", "header_normalised"),
    "blank_lines": ("repair", "injuries", None, None, "blank_rows_dropped"),
    "xlsx_input": ("repair", "athletes", None, None, ""),
    "header_only": ("warning", "movement_screens", None, None, "header only"),
    "extra_column": ("warning", "gym_sets", None, "coach_comment", "extra column"),
    "missing_optional_table": ("note", "wellness", None, None, "skipped: no wellness table"),
    # issue 19: tracebacks, silent changes and exposure of the second round
    "date_before_1677": ("reject", "wellness", 3, "date", "date out of range"),
    "markup_in_id": ("reject", "training_load", 3, "athlete_id", "unknown athlete: '[/bold]A02'"),
    "markup_in_header": ("warning", "gym_sets", None, "[/x]", "extra column"),
    "birth_date_implausible": ("reject", "athletes", 3, "birth_date", "implausible birth_date"),
    "formula_in_cell": ("reject", "gym_sets", 3, "load_kg", "not a number"),
    "windows1252_encoding": ("repair", "athletes", 5, "position", "cp1252_decoded"),
    "unit_slip_in_range": ("column", "athletes", 2, "body_mass_kg", "body_mass_kg looks like pounds: median"),
    "scale_0_to_1": ("column", "wellness", 2, "fatigue", "fatigue looks like a 0-1 scale"),
    "date_month_first": ("column", "wellness", 2, "date", "ambiguous date order in date: row 6 '03/13/2024'"),
    "id_case_differs": ("reject", "athletes", 6, "athlete_id", "equals 'A01' (row 2) up to case"),
    "near_miss_name": (
        "warning",
        "wellness",
        None,
        "wellness_2026-W48.csv",
        "near-miss name of the 'wellness'",
    ),
    "second_sheet": ("warning", "athletes", None, "athletes.xlsx [sheet 'old']", "only the first sheet"),
    # issue 19, plausibility: against the training reference (the base folder), swapped columns
    "unit_slip_vs_training_data": (
        "column",
        "strength_tests",
        2,
        "value",
        "strength_tests.csv: value (test 'nordic_eccentric'): median 67.8 vs training median 302 N",
    ),
    "swapped_columns": (
        "column",
        "training_load",
        2,
        "hsr_distance_m, sprint_distance_m",
        "training_load.csv: hsr_distance_m and sprint_distance_m look swapped: sprint_distance_m > "
        "hsr_distance_m on 12 of 12 rows (100%; medians hsr_distance_m 120, sprint_distance_m 480)",
    ),
}
#: rows (or cells) a column-level finding rejects (or empties): case -> count
COLUMN_REJECTS = {
    "unit_slip_in_range": 4,
    "scale_0_to_1": 12,
    "date_month_first": 2,
    "unit_slip_vs_training_data": 8,
    "swapped_columns": 24,
}
#: cases checked against a training reference: the base folder's (as `sprintlab score` passes the
#: models' summary of their training tables)
WITH_REFERENCE = {"unit_slip_vs_training_data"}

# value the repaired cell must hold after validation: case -> (table, column, row in the sorted output selector, value)
REPAIRED_VALUE = {
    "category_case": ("strength_tests", "side", {"athlete_id": "A01", "side": "right"}),
    "date_dotted": ("wellness", "date", {"athlete_id": "A01", "date": pd.Timestamp("2024-03-06")}),
    "date_slashed": ("wellness", "date", {"athlete_id": "A01", "date": pd.Timestamp("2024-03-06")}),
    "date_excel_serial": ("wellness", "date", {"athlete_id": "A01", "date": pd.Timestamp("2024-03-06")}),
    "semicolon_decimal_comma": ("wellness", "sleep_hours", {"athlete_id": "A01", "sleep_hours": 7.25}),
    "latin1_encoding": ("athletes", "position", {"athlete_id": "A04", "position": "défense"}),
    "windows1252_encoding": ("athletes", "position", {"athlete_id": "A04", "position": "défense ’ŠŒ€"}),
}


def doc_cases() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Bad input we tried", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| *\d+ *\| *`([^`]+)` *\|", section, flags=re.M)


def test_doc_lists_every_case_once():
    ids = doc_cases()
    assert len(ids) == len(set(ids))
    assert set(ids) == set(EXPECT), set(ids) ^ set(EXPECT)
    assert len(ids) >= 40


def test_corpus_folders_match_cases():
    folders = {p.name for p in BAD.iterdir() if p.is_dir() and not p.name.startswith("__")}
    built_here = {
        "xlsx_input",
        "corrupt_xlsx",
        "missing_required_table",
        "missing_optional_table",
        "second_sheet",
    }
    assert folders == set(EXPECT) - built_here


def test_corpus_is_what_make_corpus_writes():
    """tests/data/bad/ is written by make_corpus.py: the files on disk are its output, byte for byte."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for case, files in module.cases(valid_contract_tables()).items():
        for name, data in files.items():
            if data is None:
                assert (BAD / case / f"{name}.remove").is_file(), case
            else:
                assert (BAD / case / name).read_bytes() == data, (case, name)


def build_case(case: str, root: Path) -> Path:
    folder = write_folder(root / case, valid_contract_tables())
    src = BAD / case
    if src.is_dir():
        for f in src.iterdir():
            if f.name.endswith(".remove"):
                (folder / f.name.removesuffix(".remove")).unlink()
            else:
                shutil.copyfile(f, folder / f.name)
    if case == "xlsx_input":
        a = valid_contract_tables()["athletes"]
        a = a.assign(
            birth_date=pd.to_datetime(a["birth_date"]),
            height_cm=a["height_cm"].astype(float),
            body_mass_kg=a["body_mass_kg"].astype(float),
        )
        (folder / "athletes.csv").unlink()
        a.to_excel(folder / "athletes.xlsx", index=False)
    elif case == "corrupt_xlsx":
        (folder / "athletes.csv").unlink()
        (folder / "athletes.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    elif case == "missing_required_table":
        (folder / "athletes.csv").unlink()
    elif case == "missing_optional_table":
        (folder / "wellness.csv").unlink()
    elif case == "second_sheet":
        a = valid_contract_tables()["athletes"]
        (folder / "athletes.csv").unlink()
        with pd.ExcelWriter(folder / "athletes.xlsx") as xw:
            a.to_excel(xw, sheet_name="athletes", index=False)
            a.head(2).to_excel(xw, sheet_name="old", index=False)
    return folder


def check_row_rejected(res, out: Path, table: str, row: int) -> None:
    """Exactly one row rejected, in rejected_rows.csv with its raw row."""
    probs = res.problems
    assert res.counts[table]["rejected"] == 1
    rej = pd.read_csv(out / "rejected_rows.csv")
    assert ((rej["table"] == table) & (rej["row"] == row)).any()
    others = probs[probs["table"] != table]
    if table == "athletes":  # the athlete's rows elsewhere are rejected, pointing at that row
        assert (
            others["reason"]
            .str.startswith(f"athlete rejected: 'A02' was rejected in the athletes table (row {row})")
            .all()
        )
    assert len(probs) - len(others) == 1, probs.to_string()
    assert table == "athletes" or others.empty, probs.to_string()


def check_cell_emptied(res, out: Path, hit: pd.Series, where: tuple[str, int, str]) -> None:
    """The row is kept with the cell emptied, listed in rejected_cells.csv."""
    table, row, column = where
    assert res.counts[table]["rejected"] == 0 and res.counts[table]["cells_emptied"] == 1
    assert len(res.problems) == 1 and hit["level"] == "cell", res.problems.to_string()
    cells = pd.read_csv(out / "rejected_cells.csv")
    assert cells[["table", "row", "column"]].values.tolist() == [[table, row, column]]
    assert res.tables[table][column].isna().sum() == 1  # the fixture has no other empty cell there


def check_case_specifics(case: str, res, out: Path) -> None:
    """Values a repair must produce and the outputs of a few cases."""
    if case in REPAIRED_VALUE:
        t, _, sel = REPAIRED_VALUE[case]
        df = res.tables[t]
        mask = pd.Series(True, index=df.index)
        for k, v in sel.items():
            mask &= df[k] == v
        assert mask.sum() >= 1
    if case == "extra_column":
        assert "coach_comment" not in res.tables["gym_sets"].columns
    if case == "xlsx_input":
        assert res.tables["athletes"]["birth_date"].iloc[0] == pd.Timestamp("2000-01-15")
        assert res.tables["athletes"]["height_cm"].iloc[0] == 168.5
    if case in ("latin1_encoding", "windows1252_encoding"):
        assert res.repairs["athletes"]["cp1252_decoded"] == 1
    if case == "formula_in_cell":  # written for a spreadsheet: the formula is text, not run
        rejected = (out / "rejected_rows.csv").read_text(encoding="utf-8")
        assert ",'=1+1," in rejected and ",=1+1," not in rejected


def check_column_rejected(res, case: str) -> None:
    """A column-level finding: every cell of the column rejected (or emptied) with the column's
    reason, the first at the expected row."""
    _, table, row, column, text = EXPECT[case]
    probs = res.problems[res.problems["table"] == table]
    hits = probs[probs["reason"].str.contains(text, regex=False)]
    assert len(hits) == COLUMN_REJECTS[case], probs.to_string()
    assert hits["row"].iloc[0] == row and set(hits["column"]) == set(column.split(", "))
    kind = "cells_emptied" if hits["level"].eq("cell").all() else "rejected"
    assert res.counts[table][kind] == COLUMN_REJECTS[case]


def reference_for(case: str, root: Path) -> dict:
    """``validate_folder`` keywords of a case checked against the training reference: the summary
    of the valid base folder, with params.yaml's thresholds."""
    if case not in WITH_REFERENCE:
        return {}
    base = validate_folder(write_folder(root / "training", valid_contract_tables()), today=TODAY)
    params = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
    return {"reference": contract_reference(base.tables), "reference_params": params.score}


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_case_is_handled(case, tmp_path):
    handling, table, row, column, text = EXPECT[case]
    folder = build_case(case, tmp_path)
    res = validate_folder(folder, tmp_path / "out", today=TODAY, **reference_for(case, tmp_path))
    for name, c in res.counts.items():
        assert c["accepted"] + c["rejected"] == c["input"], name
    probs = res.problems
    if handling == "column":
        check_column_rejected(res, case)
    elif handling in ("reject", "table_error", "cell"):
        hits = probs[(probs["table"] == table) & probs["reason"].str.contains(text, regex=False)]
        assert len(hits) >= 1, probs.to_string()
        hit = hits.iloc[0]
        assert hit["file"].startswith(table) or handling == "table_error"
        assert pd.isna(hit["row"]) if row is None else hit["row"] == row
        if column is not None:
            assert column in str(hit["column"])
        if handling == "reject":
            check_row_rejected(res, tmp_path / "out", table, row)
        if handling == "cell":
            check_cell_emptied(res, tmp_path / "out", hit, (table, row, column))
        if case == "missing_required_column":  # the other tables go on
            assert "wellness" in res.tables and "gym_sets" not in res.tables
            assert res.counts["gym_sets"]["rejected"] == res.counts["gym_sets"]["input"] == 24
    else:
        assert res.ok, probs.to_string()
        if handling == "repair" and text:
            assert text in REPAIRS
            assert res.repairs[table][text] >= 1
        if handling == "warning":
            assert any(text in w and (column is None or column in w) for w in res.warnings)
        if handling == "note":
            assert text in res.skipped
    check_case_specifics(case, res, tmp_path / "out")


@pytest.fixture(scope="module")
def cli_app():
    app = typer.Typer()
    app.command("validate")(validate)
    app.command("noop")(lambda: None)
    return app


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_cli_never_tracebacks(case, tmp_path, cli_app):
    folder = build_case(case, tmp_path)
    args = ["validate", str(folder), "--today", TODAY]
    if case in WITH_REFERENCE:
        ref = reference_for(case, tmp_path)["reference"]
        (tmp_path / "reference.json").write_text(json.dumps({REFERENCE_KEY: ref}), encoding="utf-8")
        args += ["--reference", str(tmp_path / "reference.json")]
    res = CliRunner().invoke(cli_app, args)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    handling = EXPECT[case][0]
    assert res.exit_code == (2 if handling in ("reject", "table_error", "cell", "column") else 0), res.output
    if handling in ("reject", "table_error", "cell", "column"):
        assert EXPECT[case][1] in res.output
