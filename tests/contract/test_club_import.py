"""A club's own export folder, Monday to Monday: import + validate the realistic multi-vendor folder
(tests/contract/club_exports.py) and get the simulator's contract tables back, with every source
row accounted for and no name in any output."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from sprintlab.cli.data import import_data
from sprintlab.contract.importer import add_validation, import_folder, import_report, write_import
from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import validate_folder

from .club_exports import write_club_folder

TODAY = "2025-06-30"
#: the simulated club exports no GPS/LPS traces (the simulator writes them only on request)
EXPORTED = [t for t in TABLES if t != "tracking_samples"]


@pytest.fixture(scope="module")
def club(tmp_path_factory):
    root = tmp_path_factory.mktemp("club")
    folder = write_club_folder(root / "exports")
    result = import_folder(folder.mapping, folder.path)
    write_import(result, root / "imported")
    validation = validate_folder(root / "imported", root / "validated", today=TODAY)
    add_validation(result, validation)
    return {"root": root, "folder": folder, "result": result, "validation": validation}


def test_at_least_99_percent_of_source_rows_accepted(club):
    res = club["validation"]
    assert set(res.tables) == set(EXPORTED)
    for name, c in res.counts.items():
        assert c["input"] > 0 and c["accepted"] / c["input"] >= 0.99, (name, c)
    report = import_report(club["result"])
    read = sum(a["rows_read"] for a in report["files"])
    dropped_on_purpose = sum(a["filtered"] for a in report["files"])  # warm-up sets, aborted Nordics
    in_accepted = sum(a["rows_read"] - a["filtered"] - a["rejected"] for a in report["files"])
    assert in_accepted / (read - dropped_on_purpose) >= 0.99


def test_row_accounting_is_exact_per_file(club):
    report = import_report(club["result"])
    assert report["balanced"] is True
    files = {(a["table"], a["file"]) for a in report["files"]}
    exported = {
        p.relative_to(club["folder"].path).as_posix()
        for p in club["folder"].path.rglob("*")
        if p.is_file() and p.name != "club_mapping.yaml"
    }
    assert {f for _, f in files} == exported  # every export is named in the accounting
    assert len([f for t, f in files if t == "training_load"]) == 20  # one GPS file per ISO week
    for a in report["files"]:
        assert a["rows_read"] == a["filtered"] + a["merged"] + a["accepted"] + a["rejected"], a
        if a["table"] not in ("sprint_splits", "strength_tests"):  # no reshaping: records are file rows
            assert a["rows_read"] == a["file_rows"], a
    gym = next(a for a in report["files"] if a["table"] == "gym_sets")
    assert gym["filtered_by_reason"] == {"filter: Set type is not 'Work'": 950}
    assert gym["merged"] == gym["rows_read"] - 950 - 950 and gym["accepted"] == 950
    nordbord = next(a for a in report["files"] if a["file"].startswith("nordbord/"))
    assert nordbord["rows_read"] == 2 * nordbord["file_rows"]  # one record per side
    assert set(nordbord["filtered_by_reason"]) == {"filter: reps: all zero or empty"}
    # validation's own per-source counts agree with the import's rows written
    counts = club["validation"].counts
    for a in report["files"]:
        assert counts[a["table"]]["sources"][a["file"]]["input"] == a["written"]


def _comparable(df: pd.DataFrame, table: str) -> pd.DataFrame:
    spec = TABLES[table]
    out = df[[c for c in spec.column_names if c in df.columns]].copy()
    for c in spec.columns:
        if c.kind in ("str", "category") and c.name in out:
            out[c.name] = out[c.name].astype(object).where(out[c.name].notna(), None)
        elif c.kind == "int" and c.name in out:
            out[c.name] = out[c.name].astype("int64")
        elif c.kind == "date" and c.name in out:
            out[c.name] = pd.to_datetime(out[c.name]).astype("datetime64[ns]")
    return out.sort_values(list(spec.key), kind="mergesort").reset_index(drop=True)


@pytest.mark.parametrize("table", EXPORTED)
def test_round_trip_gives_the_simulated_tables(club, table):
    want = _comparable(club["folder"].tables[table], table)
    got = _comparable(club["validation"].tables[table], table)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=0, atol=1e-9, check_dtype=False)


def test_names_never_leave_the_import(club):
    names = {n.casefold() for n in club["folder"].names.values()}
    texts = [
        p.read_text(encoding="utf-8").casefold()
        for d in ("imported", "validated")
        for p in (club["root"] / d).iterdir()
        if p.suffix in (".csv", ".json")
    ]
    texts += [df.astype(str).to_csv().casefold() for df in club["validation"].tables.values()]
    assert len(texts) > 10
    for text in texts:
        assert not any(name in text for name in names)


def test_cli_import_prints_shares_and_accounting(tmp_path):
    folder = write_club_folder(
        tmp_path / "exports", n_athletes=4, n_weeks=12, seed=3, with_steps=False, with_rpe=False
    )
    app = typer.Typer()
    app.command("import")(import_data)
    app.command("other")(lambda: None)
    args = ["import", str(folder.path), "--mapping", str(folder.mapping), "--out", str(tmp_path / "imp")]
    res = CliRunner().invoke(app, [*args, "--validated", str(tmp_path / "val"), "--today", TODAY])
    assert res.exit_code == 0, res.output
    assert "every source row accounted for" in res.output
    assert "valid: no problems found" in res.output
    assert "skipped: no sprint_steps table" in res.output
    report = json.loads((tmp_path / "imp" / "import_report.json").read_text())
    assert report["balanced"] and "sprint_steps" not in report["tables"]
    load = pd.read_parquet(tmp_path / "val" / "training_load.parquet")
    assert "rpe" not in load.columns and load["duration_min"].notna().all()


def test_bad_cells_are_located_in_the_source_file(tmp_path):
    folder = write_club_folder(tmp_path / "exports", n_athletes=4, n_weeks=12, seed=3)
    gps = sorted((folder.path / "gps").glob("*.csv"))[2]
    lines = gps.read_text(encoding="utf-8").splitlines()
    lines[3] = (
        lines[3].replace(",01:", ",01:7", 1) if ",01:" in lines[3] else lines[3].replace(",00:", ",00:7", 1)
    )
    lines[5] = "Nobody Known" + lines[5][lines[5].index(",") :]
    gps.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = import_folder(folder.mapping, folder.path)
    write_import(result, tmp_path / "imp")
    res = validate_folder(tmp_path / "imp", tmp_path / "val", today=TODAY)
    add_validation(result, res)
    cell = res.cells.iloc[0]
    assert (cell["file"], cell["row"], cell["column"]) == (f"gps/{gps.name}", 4, "duration_min")
    assert cell["reason"].startswith("not a duration h:mm:ss")
    row = res.rejected[res.rejected["column"] == "athlete_id"].iloc[0]
    assert (row["file"], row["row"]) == (f"gps/{gps.name}", 6)
    assert "not in the register squad.csv" in row["reason"] and "Nobody" not in row.to_json()
    assert import_report(result)["balanced"] is True
