"""Regenerate the bad-input corpus: ``python tests/data/bad/make_corpus.py``.

Each sub-folder holds only the broken file(s) of one case; the tests lay them over a small valid
folder (``tests/contract/conftest.py``). The cases and their expected handling are listed in
``docs/data-contract.md`` ("Bad input we tried") and checked by ``tests/contract/test_bad_inputs.py``.
Excel cases are built inside the tests (no binaries in git).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).parent


def _tables() -> dict[str, pd.DataFrame]:
    """The small valid folder of ``tests/contract/conftest.py`` (imported as a script's module)."""
    sys.path.insert(0, str(HERE.parents[1] / "contract"))
    from conftest import valid_contract_tables

    return valid_contract_tables()


def _csv(df, **kw) -> str:
    return df.to_csv(index=False, lineterminator="\n", **kw)


def cases(t: dict[str, pd.DataFrame] | None = None) -> dict[str, dict[str, bytes]]:
    """Case -> file name -> bytes (``None``: remove that file from the base folder)."""
    t = _tables() if t is None else t
    out: dict[str, dict[str, bytes]] = {}

    def edit(case, table, row, col, value):
        df = t[table].copy()
        df.loc[row, col] = value
        out[case] = {f"{table}.csv": _csv(df).encode()}

    edit("wrong_type_number", "gym_sets", 1, "load_kg", "heavy")
    edit("wrong_type_int", "gym_sets", 1, "reps", "5.5")
    edit("body_mass_in_grams", "athletes", 1, "body_mass_kg", "79500")
    edit("body_mass_in_pounds", "athletes", 1, "body_mass_kg", "175")
    edit("time_in_ms", "sprint_splits", 1, "time_s", "1910")
    edit("height_in_metres", "athletes", 1, "height_cm", "1.81")
    edit("impossible_value", "athletes", 1, "height_cm", "300")
    edit("negative_value", "gym_sets", 1, "load_kg", "-20")
    edit("value_not_allowed", "athletes", 1, "sex", "X")
    edit("category_case", "strength_tests", 1, "side", " Right")
    edit("future_date", "wellness", 1, "date", "2030-03-06")
    edit("date_dotted", "wellness", 1, "date", "06.03.2024")
    edit("date_slashed", "wellness", 1, "date", "06/03/2024")
    edit("date_excel_serial", "wellness", 1, "date", "45357")
    edit("impossible_date", "wellness", 1, "date", "31.02.2024")
    edit("date_unknown_format", "wellness", 1, "date", "March 6 2024")
    edit("date_with_time_of_day", "wellness", 1, "date", "2024-03-06 14:30")
    edit("unknown_athlete", "training_load", 1, "athlete_id", "Z99")
    edit("missing_required_value", "gym_sets", 1, "exercise", "")
    edit("ambiguous_thousands", "training_load", 1, "total_distance_m", "6,200")
    edit("not_finite", "training_load", 1, "max_speed_m_s", "NaN")
    edit("whitespace", "training_load", 1, "athlete_id", "  A01 ")

    g = t["gym_sets"]
    out["exact_duplicate_row"] = {"gym_sets.csv": _csv(pd.concat([g, g.iloc[[1]]])).encode()}
    dup = g.iloc[[1]].copy()
    dup["load_kg"] = "99"
    out["conflicting_key_duplicate"] = {"gym_sets.csv": _csv(pd.concat([g, dup])).encode()}
    out["empty_file"] = {"gym_sets.csv": b""}
    out["header_only"] = {"movement_screens.csv": (",".join(t["movement_screens"].columns) + "\n").encode()}
    w = t["wellness"].copy()
    w.loc[1, "sleep_hours"] = "7,25"
    out["semicolon_decimal_comma"] = {"wellness.csv": _csv(w, sep=";").encode()}
    out["tab_delimiter"] = {"wellness.csv": _csv(t["wellness"], sep="\t").encode()}
    out["utf8_bom"] = {"athletes.csv": b"\xef\xbb\xbf" + _csv(t["athletes"]).encode()}
    a = t["athletes"].copy()
    a.loc[3, "position"] = "défense"
    out["latin1_encoding"] = {"athletes.csv": _csv(a).encode("latin-1")}
    e = t["gym_sets"].copy()
    e["coach_comment"] = "ok"
    out["extra_column"] = {"gym_sets.csv": _csv(e).encode()}
    out["missing_required_column"] = {"gym_sets.csv": _csv(t["gym_sets"].drop(columns=["reps"])).encode()}
    h = t["training_load"].rename(columns={"date": " Date "})
    out["header_case_spaces"] = {"training_load.csv": _csv(h).encode()}
    lines = _csv(t["injuries"]).splitlines()
    out["blank_lines"] = {"injuries.csv": ("\n".join([lines[0], "", lines[1]]) + "\n").encode()}
    d = t["injuries"].copy()
    d.insert(2, "onset_date_", d["onset_date"])
    text = _csv(d).replace("onset_date_", "onset_date", 1)
    out["duplicate_column_header"] = {"injuries.csv": text.encode()}
    out["duplicate_table_files"] = {"gym_sets.parquet": b"placeholder: two files for one table"}
    out["corrupt_parquet"] = {"injuries.csv": None, "injuries.parquet": b"this is not parquet"}
    out |= second_round(t)
    out |= third_round(t)
    return out


def third_round(t: dict[str, pd.DataFrame]) -> dict[str, dict[str, bytes]]:
    """Issue 19's plausibility classes: a unit slip that stays inside the contract's bounds but not
    the training data's (checked against the base folder as the training reference), and two
    columns whose values are swapped."""
    s = t["strength_tests"].copy()
    s["value"] = (s["value"].astype(float) * 0.224809).round(1).astype(str)  # N written as lbf
    out = {"unit_slip_vs_training_data": {"strength_tests.csv": _csv(s).encode()}}
    g = t["training_load"].copy()
    g["hsr_distance_m"], g["sprint_distance_m"] = g["sprint_distance_m"], g["hsr_distance_m"]
    out["swapped_columns"] = {"training_load.csv": _csv(g).encode()}
    return out


def second_round(t: dict[str, pd.DataFrame]) -> dict[str, dict[str, bytes]]:
    """Issue 19's classes: tracebacks (dates before 1677, rich markup in data), silent changes
    (Windows-1252, a unit or scale slip inside the bounds, month-first dates, ids equal up to case,
    birth dates, files not read) and exposure (a formula in a cell)."""
    out: dict[str, dict[str, bytes]] = {}

    def edit(case, table, row, col, value):
        df = t[table].copy()
        df.loc[row, col] = value
        out[case] = {f"{table}.csv": _csv(df).encode()}

    edit("date_before_1677", "wellness", 1, "date", "1500-03-06")
    edit("markup_in_id", "training_load", 1, "athlete_id", "[/bold]A02")
    edit("birth_date_implausible", "athletes", 1, "birth_date", "2023-05-02")
    edit("formula_in_cell", "gym_sets", 1, "load_kg", "=1+1")
    g = t["gym_sets"].copy()
    g["[/x]"] = "ok"
    out["markup_in_header"] = {"gym_sets.csv": _csv(g).encode()}
    a = t["athletes"].copy()
    a.loc[3, "position"] = "d\u00e9fense \u2019\u0160\u0152\u20ac"
    out["windows1252_encoding"] = {"athletes.csv": _csv(a).encode("cp1252")}
    a = t["athletes"].copy()
    a["body_mass_kg"] = (a["body_mass_kg"].astype(float) / 0.45359237).round(1).astype(str)
    out["unit_slip_in_range"] = {"athletes.csv": _csv(a).encode()}
    w = t["wellness"].copy()
    w["fatigue"] = (w["fatigue"].astype(float) / 10).astype(str)
    out["scale_0_to_1"] = {"wellness.csv": _csv(w).encode()}
    w = t["wellness"].copy()
    w.loc[0, "date"] = "03/04/2024"
    w.loc[4, "date"] = "03/13/2024"
    out["date_month_first"] = {"wellness.csv": _csv(w).encode()}
    a = t["athletes"].copy()
    a = pd.concat([a, a.iloc[[0]].assign(athlete_id="a01")], ignore_index=True)
    out["id_case_differs"] = {"athletes.csv": _csv(a).encode()}
    out["near_miss_name"] = {"wellness_2026-W48.csv": _csv(t["wellness"]).encode()}
    return out


def main() -> None:
    for case, files in cases().items():
        folder = HERE / case
        folder.mkdir(exist_ok=True)
        for name, data in files.items():
            if data is None:  # marker: this case removes the base file of that name
                (folder / f"{name}.remove").write_text("remove this file from the base folder\n")
            else:
                (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
