"""validate_folder on the valid fixture: typed outputs, report, determinism, schemas."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pandera.errors
import pytest

from sprintlab.contract.schemas import schema_for
from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import CellError, parse_date, parse_number, validate_folder
from sprintlab.io import DataError

from .conftest import TODAY, write_folder


def test_valid_folder_accepts_everything(valid_dir, tmp_path):
    out = tmp_path / "out"
    res = validate_folder(valid_dir, out, today=TODAY)
    assert res.ok and res.problems.empty and res.warnings == [] and res.skipped == []
    assert set(res.tables) == set(TABLES)
    for name, df in res.tables.items():
        assert res.counts[name]["accepted"] == res.counts[name]["input"] > 0
        schema_for(name).validate(df)
        back = pd.read_parquet(out / f"{name}.parquet")
        pd.testing.assert_frame_equal(back, df)
        assert back[list(TABLES[name].key)].equals(
            back[list(TABLES[name].key)].sort_values(list(TABLES[name].key)).reset_index(drop=True)
        )
    ath = res.tables["athletes"]
    assert ath["birth_date"].dtype == "datetime64[ns]" and ath["height_cm"].dtype == "float64"
    assert pd.isna(ath.set_index("athlete_id").loc["A03", "position"])
    assert res.tables["gym_sets"]["reps"].dtype == "int64"
    report = json.loads((out / "validation_report.json").read_text())
    assert report["ok"] is True and report["today"] == TODAY
    assert report["tables"]["gym_sets"] == {
        "input": 24,
        "accepted": 24,
        "rejected": 0,
        "cells_emptied": 0,
        "file": "gym_sets.csv",
    }
    rej = pd.read_csv(out / "rejected_rows.csv")
    assert list(rej.columns) == ["table", "file", "row", "column", "value", "reason", "raw"] and rej.empty


def test_rerun_is_byte_identical_and_stale_outputs_removed(valid_tables, tmp_path):
    valid_tables["gym_sets"].loc[2, "load_kg"] = "abc"
    src = write_folder(tmp_path / "in", valid_tables)
    out1, out2 = tmp_path / "o1", tmp_path / "o2"
    validate_folder(src, out1, today=TODAY)
    validate_folder(src, out2, today=TODAY)
    names = sorted(p.name for p in out1.iterdir())
    assert names == sorted(p.name for p in out2.iterdir())
    for n in names:
        assert (out1 / n).read_bytes() == (out2 / n).read_bytes(), n
    (src / "wellness.csv").unlink()
    res = validate_folder(src, out1, today=TODAY)
    assert not (out1 / "wellness.parquet").exists()
    assert "skipped: no wellness table" in res.skipped


def test_rejected_rows_file_keeps_raw_row(valid_tables, tmp_path):
    valid_tables["gym_sets"].loc[4, "load_kg"] = "12000"
    valid_tables["gym_sets"].loc[4, "reps"] = "x"
    res = validate_folder(write_folder(tmp_path / "in", valid_tables), tmp_path / "out", today=TODAY)
    assert res.counts["gym_sets"] == {
        "input": 24,
        "accepted": 23,
        "rejected": 1,
        "cells_emptied": 0,
        "file": "gym_sets.csv",
    }
    rej = pd.read_csv(tmp_path / "out" / "rejected_rows.csv")
    assert set(rej["column"]) == {"load_kg", "reps"} and set(rej["row"]) == {6}
    raw = json.loads(rej["raw"].iloc[0])
    assert raw["load_kg"] == "12000" and raw["athlete_id"] == "A01"
    report = json.loads((tmp_path / "out" / "validation_report.json").read_text())
    assert report["ok"] is False and report["problems"] == 2


def test_today_controls_future_check(valid_dir):
    assert not validate_folder(valid_dir, today="2024-03-05").ok  # records dated 2024-03-06 and later
    assert validate_folder(valid_dir, today="2024-03-31").ok
    with pytest.raises(DataError, match="ISO date"):
        validate_folder(valid_dir, today="31.03.2024")
    with pytest.raises(DataError, match="not found"):
        validate_folder(valid_dir / "nope")


def test_parquet_input_with_native_types(valid_tables, tmp_path):
    src = write_folder(tmp_path / "in", valid_tables)
    first = validate_folder(src, tmp_path / "out", today=TODAY)
    (src / "athletes.csv").unlink()
    first.tables["athletes"].to_parquet(src / "athletes.parquet")
    res = validate_folder(src, today=TODAY)
    assert res.ok
    pd.testing.assert_frame_equal(res.tables["athletes"], first.tables["athletes"])


@pytest.mark.parametrize(
    ("raw", "value", "repair"),
    [
        ("2024-03-06", "2024-03-06", None),
        ("6.3.2024", "2024-03-06", "date_dd.mm.yyyy"),
        ("06/03/2024", "2024-03-06", "date_dd/mm/yyyy"),
        ("45357", "2024-03-06", "date_excel_serial"),
        ("2024-03-06 00:00:00", "2024-03-06", "date_midnight_time"),
        (45357, "2024-03-06", "date_excel_serial"),
        (pd.Timestamp("2024-03-06"), "2024-03-06", None),
    ],
)
def test_parse_date(raw, value, repair):
    d, rep = parse_date(raw)
    assert d.isoformat() == value and rep == repair


@pytest.mark.parametrize("raw", ["2024", "12/31/2024", "2024-03-06T10:00", "06-03-24", "", "1e5"])
def test_parse_date_rejects(raw):
    with pytest.raises(CellError):
        parse_date(raw)


def test_parse_number():
    assert parse_number("7,25") == (7.25, "decimal_comma")
    assert parse_number("-0.5") == (-0.5, None)
    assert parse_number("1e3") == (1000.0, None)
    for bad in ("6,200", "1.234,5", "inf", "nan", "12 kg", "True"):
        with pytest.raises(CellError):
            parse_number(bad)


def test_schema_catches_bad_outputs(valid_dir):
    res = validate_folder(valid_dir, today=TODAY)
    gym = res.tables["gym_sets"]
    with pytest.raises(pandera.errors.SchemaError):
        schema_for("gym_sets").validate(pd.concat([gym, gym.iloc[[0]]], ignore_index=True))  # duplicate key
    with pytest.raises(pandera.errors.SchemaError):
        schema_for("gym_sets").validate(gym.assign(load_kg=gym["load_kg"] * 1000))
    with pytest.raises(pandera.errors.SchemaError):
        schema_for("athletes").validate(res.tables["athletes"].assign(sex="X"))
    with pytest.raises((pandera.errors.SchemaError, pandera.errors.SchemaErrors)):
        schema_for("athletes").validate(res.tables["athletes"].assign(extra=1))  # strict: no extra columns


def test_schema_check_can_be_left_out_without_changing_the_tables(valid_tables, tmp_path, monkeypatch):
    """``check_schema=False`` (``sprintlab score``) skips only the pandera assertion: the same
    tables, problems and counts, and the tables still pass their schemas."""
    import sprintlab.contract.validate as validate_module

    valid_tables["gym_sets"].loc[2, "load_kg"] = "abc"  # one rejected row
    src = write_folder(tmp_path / "in", valid_tables)
    checked = validate_folder(src, today=TODAY)

    def no_schema(name):
        raise AssertionError(f"schema_for({name!r}) called")

    monkeypatch.setattr(validate_module, "schema_for", no_schema)
    unchecked = validate_folder(src, today=TODAY, check_schema=False)
    with pytest.raises(AssertionError, match="schema_for"):
        validate_folder(src, today=TODAY)
    assert sorted(unchecked.tables) == sorted(checked.tables) and unchecked.counts == checked.counts
    pd.testing.assert_frame_equal(unchecked.problems, checked.problems)
    for name, df in unchecked.tables.items():
        pd.testing.assert_frame_equal(df, checked.tables[name], check_exact=True)
        schema_for(name).validate(df)


def test_outputs_do_not_depend_on_the_run_date(valid_dir, tmp_path, monkeypatch):
    """Without a ``today`` given, the cut-off is the run date, which the outputs must not carry:
    the same export validated on two days writes byte-identical files (a DVC lock reproduces)."""
    import sprintlab.contract.validate as validate_module

    written = []
    for day in ("2026-11-30", "2026-12-01"):
        monkeypatch.setattr(validate_module.dt, "date", _FixedDate(day))
        out = tmp_path / day
        validate_folder(valid_dir, out)
        written.append({f.name: f.read_bytes() for f in sorted(out.iterdir())})
    assert written[0] == written[1]
    assert json.loads(written[0]["validation_report.json"])["today"] is None


def _FixedDate(day: str) -> type:
    class Fixed(dt.date):
        @classmethod
        def today(cls) -> dt.date:
            return dt.date.fromisoformat(day)

    return Fixed
