"""sprintlab.io: tolerant reading, atomic and deterministic writing."""

from __future__ import annotations

import os

import pandas as pd
import pytest

from sprintlab.io import (
    DataError,
    ReadOptions,
    find_table,
    read_table,
    write_bytes_atomic,
    write_table_atomic,
    write_text_atomic,
)


def test_read_csv_variants_as_strings(tmp_path):
    text = "id;mass;note\nA1;72,5;ok\n\nA2;80;été\n"
    for enc, prefix in (("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("latin-1", b"")):
        p = tmp_path / f"t_{enc}_{len(prefix)}.csv"
        p.write_bytes(prefix + text.encode(enc))
        df = read_table(p)
        assert list(df.columns) == ["id", "mass", "note"]
        assert df["mass"].tolist() == ["72,5", "80"]  # strings: validation decides types
        assert df["note"].tolist() == ["ok", "été"]
        assert df.attrs["row_numbers"] == [2, 4]  # the blank line still counts
        assert df.attrs["read_info"]["delimiter"] == ";"
    tab = tmp_path / "tab.csv"
    tab.write_text("a\tb\n1\t2\n")
    assert read_table(tab).to_dict("list") == {"a": ["1"], "b": ["2"]}


def test_declared_read_options(tmp_path):
    meta = tmp_path / "trace.csv"  # 3 metadata lines (commas in them), then a ';' table
    meta.write_text("Session: A, B\nAthlete: X, Y\nexported 1/2/2024\nt;v\n0,1;5,5\n0,2;6,0\n")
    df = read_table(meta, options=ReadOptions(skip_lines=3, delimiter=";"))
    assert df.to_dict("list") == {"t": ["0,1", "0,2"], "v": ["5,5", "6,0"]}
    assert df.attrs["row_numbers"] == [5, 6]  # the metadata lines count
    cp = tmp_path / "cp.csv"
    cp.write_bytes("name,n\nJosé,1\n".encode("cp1252"))
    assert read_table(cp, options=ReadOptions(encoding="cp1252"))["name"].tolist() == ["José"]
    with pytest.raises(DataError, match="cannot decode the file as ascii"):
        read_table(cp, options=ReadOptions(encoding="ascii"))
    with pytest.raises(DataError, match="empty"):
        read_table(meta, options=ReadOptions(skip_lines=10))
    xl = tmp_path / "book.xlsx"
    with pd.ExcelWriter(xl) as w:
        pd.DataFrame({"a": [1]}).to_excel(w, sheet_name="first", index=False)
        pd.DataFrame({"b": ["x", "y"]}).to_excel(w, sheet_name="screens", index=False)
    assert read_table(xl, options=ReadOptions(sheet="screens"))["b"].tolist() == ["x", "y"]
    with pytest.raises(DataError, match="sheet 'nope'"):
        read_table(xl, options=ReadOptions(sheet="nope"))


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file_is_a_clear_error(tmp_path, content):
    p = tmp_path / "gym_sets.csv"
    p.write_bytes(content)
    with pytest.raises(DataError) as exc:
        read_table(p)
    assert exc.value.file == str(p) and "empty" in exc.value.reason
    assert str(p) in str(exc.value)


def test_read_errors(tmp_path):
    with pytest.raises(DataError, match="not found"):
        read_table(tmp_path / "nope.csv")
    (tmp_path / "x.txt").write_text("a\n1\n")
    with pytest.raises(DataError, match="unsupported"):
        read_table(tmp_path / "x.txt")
    (tmp_path / "x.xlsx").write_bytes(b"junk")
    with pytest.raises(DataError, match="Excel"):
        read_table(tmp_path / "x.xlsx")


def test_xlsx_and_parquet(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "d": pd.to_datetime(["2024-01-02", "2024-01-03"])})
    df.to_excel(tmp_path / "t.xlsx", index=False)
    x = read_table(tmp_path / "t.xlsx")
    assert x["a"].tolist() == ["1", "2"] and x["d"].iloc[0].startswith("2024-01-02")
    write_table_atomic(df, tmp_path / "t.parquet")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.parquet"), df)


def test_infer_types_reads_numbers_as_pandas_does(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("id;trial;mass;note\n007;2;NA;ok\n\n008;10;80,5;NA\n009;1;;x\n")
    typed = read_table(p, infer_types=True)
    assert typed["id"].tolist() == [7, 8, 9] and typed["trial"].dtype == "int64"
    assert typed["mass"].dtype == object  # '80,5' is not a number: the column stays text
    assert typed["mass"].isna().tolist() == [True, False, True]  # pandas' NA markers are missing
    assert typed["note"].tolist()[0] == "ok" and pd.isna(typed["note"].iloc[1])
    assert typed.attrs["row_numbers"] == [2, 4, 5]
    text = read_table(p)  # default: strings, only empty cells missing
    assert text["trial"].tolist() == ["2", "10", "1"] and text["mass"].tolist()[0] == "NA"


def test_pq_suffix_is_parquet(tmp_path):
    df = pd.DataFrame({"a": [1, 2], "s": ["x", "y"]})
    write_table_atomic(df, tmp_path / "t.pq")
    pd.testing.assert_frame_equal(read_table(tmp_path / "t.pq"), df)
    assert find_table(tmp_path, "t") is None  # contract tables are .csv, .parquet or .xlsx


def test_error_message_names_file_row_column():
    e = DataError("not a number", file="gym.csv", row=7, column="load_kg")
    assert str(e) == "file gym.csv, row 7, column 'load_kg': not a number"
    assert (e.file, e.row, e.column, e.reason) == ("gym.csv", 7, "load_kg", "not a number")


def test_find_table(tmp_path):
    assert find_table(tmp_path, "athletes") is None
    (tmp_path / "athletes.csv").write_text("a\n")
    assert find_table(tmp_path, "athletes") == tmp_path / "athletes.csv"
    (tmp_path / "athletes.xlsx").write_text("a\n")
    with pytest.raises(DataError, match="more than once"):
        find_table(tmp_path, "athletes")


def test_parquet_is_byte_deterministic(tmp_path):
    df = pd.DataFrame(
        {"x": [1.5, 2.5], "s": ["a", None], "d": pd.to_datetime(["2024-01-01", "2024-02-01"])}, index=[10, 3]
    )
    a = write_table_atomic(df, tmp_path / "a.parquet").read_bytes()
    b = write_table_atomic(df.copy().reset_index(drop=True), tmp_path / "b.parquet").read_bytes()
    assert a == b
    assert b"pandas" not in a  # no pandas metadata / index
    write_table_atomic(df, tmp_path / "c.csv")
    assert (tmp_path / "c.csv").read_text() == "x,s,d\n1.5,a,2024-01-01\n2.5,,2024-02-01\n"
    with pytest.raises(ValueError):
        write_table_atomic(df, tmp_path / "c.json")


def test_atomic_write_keeps_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "out.txt"
    write_text_atomic(target, "old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_bytes_atomic(target, b"new")
    monkeypatch.undo()
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temp file left
    write_bytes_atomic(tmp_path / "sub" / "n.bin", b"\x00\x01")
    assert (tmp_path / "sub" / "n.bin").read_bytes() == b"\x00\x01"


def test_csv_output_neutralises_formula_cells_but_not_numbers(tmp_path):
    from sprintlab.io import neutralise_formula

    df = pd.DataFrame(
        {
            "athlete_id": ['=HYPERLINK("http://x","y")', "@SUM(A1)", "+1+1", "-2+3", "\tA", "A01"],
            "note": ["-20", "+5", "1e3", "=1", None, "-"],
            "x": [-1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    path = write_table_atomic(df, tmp_path / "scores.csv")
    back = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert back["athlete_id"].tolist() == [
        '\'=HYPERLINK("http://x","y")',
        "'@SUM(A1)",
        "'+1+1",
        "'-2+3",
        "'\tA",
        "A01",
    ]
    assert back["note"].tolist() == ["-20", "+5", "1e3", "'=1", "", "'-"]
    assert back["x"].iloc[0] == "-1.0"  # numbers are written as numbers
    assert neutralise_formula(3) == 3 and neutralise_formula("x=1") == "x=1"
    assert neutralise_formula("\rB") == "'\rB"
    # Parquet keeps the values as they are (it is not opened by a spreadsheet)
    write_table_atomic(df, tmp_path / "scores.parquet")
    assert pd.read_parquet(tmp_path / "scores.parquet")["athlete_id"].iloc[2] == "+1+1"


def test_decoding_order_utf8_then_windows_1252_then_latin1():
    from sprintlab.io import decode_text

    assert decode_text("é".encode()) == ("é", "utf-8")
    assert decode_text(b"\xef\xbb\xbfa") == ("a", "utf-8-sig")
    assert decode_text("’Š€".encode("cp1252")) == ("’Š€", "cp1252")
    assert decode_text(b"a\x81b") == ("a\x81b", "latin-1")  # 0x81 is not Windows-1252


def test_a_vertical_tab_and_nul_byte_is_a_clear_error(tmp_path):
    """Found by the random-bytes property test: ``\\x0b`` splits lines but pandas sees no column."""
    p = tmp_path / "athletes.csv"
    p.write_bytes(b"\x0b\x00")
    with pytest.raises(DataError, match="cannot parse CSV"):
        read_table(p)
