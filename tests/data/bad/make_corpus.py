"""Regenerate the bad-input corpus: ``python tests/data/bad/make_corpus.py``.

Each sub-folder holds only the broken file(s) of one case; the tests lay them over a small valid
folder (``tests/contract/conftest.py``). The cases and their expected handling are listed in
``docs/data-contract.md`` ("Bad input we tried") and checked by ``tests/contract/test_bad_inputs.py``.
Excel cases are built inside the tests (no binaries in git).
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[1] / "contract"))

import pandas as pd  # noqa: E402

from conftest import _tables  # noqa: E402


def _csv(df, **kw) -> str:
    return df.to_csv(index=False, lineterminator="\n", **kw)


def cases() -> dict[str, dict[str, bytes]]:
    t = _tables()
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
