"""No traceback on any input, and the bulk fast path equals the per-cell parser.

A hypothesis property test feeds random bytes (as a CSV, Parquet or Excel file), random cells
(any text: markup, formulas, control characters) and random dates (any year, several formats) to
:func:`validate_folder`: it never raises, every row is accepted or rejected, and the results of the
fast path (``fast=True``) are the same as those of the per-cell parser (``fast=False``) - accepted
tables, rejected rows, rejected cells, repairs and counts.
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sprintlab.contract.validate import validate_folder

from .conftest import TODAY, valid_contract_tables, write_folder
from .test_bad_inputs import EXPECT, build_case


def assert_same(a, b) -> None:
    """Two validation results are equal in everything they write."""
    assert set(a.tables) == set(b.tables)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    for attr in ("problems", "rejected", "cells"):
        pd.testing.assert_frame_equal(getattr(a, attr), getattr(b, attr))
    assert a.report() == b.report()


def _both(folder: Path):
    fast = validate_folder(folder, today=TODAY)
    slow = validate_folder(folder, today=TODAY, fast=False)
    for c in fast.counts.values():
        assert c["accepted"] + c["rejected"] == c["input"]
    assert_same(fast, slow)
    return fast


@pytest.mark.parametrize("case", sorted(EXPECT))
def test_fast_path_equals_per_cell_parser_on_every_bad_input(case, tmp_path):
    _both(build_case(case, tmp_path))


def test_fast_path_writes_the_same_files(tmp_path):
    folder = build_case("conflicting_key_duplicate", tmp_path)
    validate_folder(folder, tmp_path / "fast", today=TODAY)
    validate_folder(folder, tmp_path / "slow", today=TODAY, fast=False)
    for f in sorted((tmp_path / "fast").iterdir()):
        assert f.read_bytes() == (tmp_path / "slow" / f.name).read_bytes(), f.name


TABLE_FILES = ["athletes", "wellness", "gym_sets", "sprint_splits", "training_load"]
text_cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        ["[/x]", "[bold]", '=HYPERLINK("x")', "@SUM(A1)", "+1+1", "-", "\t1", "\r", "NaN", "inf"]
    ),
    st.sampled_from(["1e400", "-0", "0x10", "1_000", "١٢", "7,5", "6,200", "1.2.3", " 5 ", "5."]),
)


def date_text(d: dt.date, style: str) -> str:
    return {
        "iso": f"{d.year:04d}-{d.month:02d}-{d.day:02d}",
        "dot": f"{d.day:02d}.{d.month:02d}.{d.year:04d}",
        "slash_dm": f"{d.day:02d}/{d.month:02d}/{d.year:04d}",
        "slash_md": f"{d.month:02d}/{d.day:02d}/{d.year:04d}",
        "serial": str((d - dt.date(1899, 12, 30)).days),
        "time": f"{d.isoformat()} 00:00:00",
    }[style]


date_cell = st.builds(
    date_text,
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
    st.sampled_from(["iso", "dot", "slash_dm", "slash_md", "serial", "time"]),
)
edit = st.tuples(
    st.sampled_from(TABLE_FILES), st.integers(0, 30), st.integers(0, 8), st.one_of(text_cell, date_cell)
)


def _apply(tables: dict[str, pd.DataFrame], edits) -> None:
    for table, row, col, value in edits:
        df = tables[table]
        df.loc[row % len(df), df.columns[col % len(df.columns)]] = value


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=st.lists(edit, max_size=30), dates=st.lists(date_cell, min_size=1, max_size=12))
def test_random_cells_and_dates_never_give_a_traceback(edits, dates):
    tables = valid_contract_tables()
    w = tables["wellness"]
    for k, d in enumerate(dates):
        w.loc[k % len(w), "date"] = d
    _apply(tables, edits)
    with tempfile.TemporaryDirectory() as tmp:
        _both(write_folder(Path(tmp) / "in", tables))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=400),
    name=st.sampled_from(["athletes.csv", "gym_sets.csv", "injuries.parquet", "wellness.xlsx"]),
    keep_header=st.booleans(),
)
def test_random_bytes_as_a_table_file_never_give_a_traceback(data, name, keep_header):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_folder(Path(tmp) / "in", valid_contract_tables())
        stem = name.split(".")[0]
        base = folder / f"{stem}.csv"
        header = base.read_bytes().split(b"\n")[0] + b"\n" if keep_header and name.endswith(".csv") else b""
        base.unlink()
        (folder / name).write_bytes(header + data)
        res = _both(folder)
        assert stem in res.counts or (res.problems["table"] == stem).any()  # read, or named as unreadable


def test_a_folder_of_anything_is_listed_not_read(tmp_path):
    folder = write_folder(tmp_path / "in", valid_contract_tables())
    shutil.copy(folder / "athletes.csv", folder / "Athletes.CSV")
    (folder / "notes.txt").write_text("coach notes")
    (folder / "gym_sets (1).csv").write_text("x")
    res = validate_folder(folder, today=TODAY)
    reasons = {r["file"]: r["reason"] for r in res.not_read}
    assert "near-miss name of the 'athletes' table" in reasons["Athletes.CSV"]
    assert "near-miss name of the 'gym_sets' table" in reasons["gym_sets (1).csv"]
    assert "file type '.txt' is not read" in reasons["notes.txt"]
    assert len(res.not_read) == 3 and res.report()["not_read"] == res.not_read
