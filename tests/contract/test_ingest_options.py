"""The import's options one by one: declared number locale, durations, register lookup, days between
dates, aggregation, concat vs join, globs, mapping errors; and the validator's side of the import
(provenance, per-cell rejection, central injuries)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sprintlab.contract.aggregate import aggregate
from sprintlab.contract.convert import Locale, Unconvertible, duration_seconds, locale_from, number
from sprintlab.contract.importer import add_validation, import_folder, import_report, write_import
from sprintlab.contract.mapping import apply_mapping, load_mapping, map_source, resolve_mapping
from sprintlab.contract.provenance import PROVENANCE_COLUMN, Provenance, rows_text
from sprintlab.contract.steps import PROV, with_provenance
from sprintlab.contract.validate import validate_folder
from sprintlab.io import DataError

from .conftest import TODAY, valid_contract_tables, write_folder

DE = Locale(",", ".")


@pytest.mark.parametrize(
    ("cell", "locale", "value"),
    [
        ("1,040", DE, 1.04),
        ("1.234,5", DE, 1234.5),
        ("-0,5", DE, -0.5),
        ("12", DE, 12.0),
        ("1,234.5", Locale(".", ","), 1234.5),
        ("6,200", Locale(".", ","), 6200.0),
        ("7.25", None, 7.25),
        (3.5, DE, 3.5),
    ],
)
def test_numbers_in_a_declared_locale(cell, locale, value):
    assert number(cell, locale) == value


@pytest.mark.parametrize(
    ("cell", "locale"),
    [
        ("1.040", Locale(",", None)),
        ("1.04", DE),
        ("12.345.6", DE),
        ("1,2,3", DE),
        ("abc", DE),
        ("6,200", None),
    ],
)
def test_numbers_that_do_not_fit_the_locale_are_not_guessed(cell, locale):
    with pytest.raises(Unconvertible):
        number(cell, locale)


def test_locale_declaration_is_checked():
    assert locale_from({"delimiter": ";"}) is None
    assert locale_from({"decimal": ","}) == Locale(",", None)
    for bad in ({"decimal": ";"}, {"decimal": ",", "thousands": ","}):
        with pytest.raises(DataError):
            locale_from(bad)


@pytest.mark.parametrize(
    ("cell", "kind", "seconds"),
    [
        ("01:17:41", "hms", 4661),
        ("1:17:41.5", "hms", 4661.5),
        ("77:41", "mmss", 4661),
        ("4:05,3", "mmss", 245.3),
        ("8h37", "hm", 8 * 3600 + 37 * 60),
        ("8:37", "hm", 8 * 3600 + 37 * 60),
        ("8 h 5 min", "hm", 8 * 3600 + 300),
        ("8h", "hm", 8 * 3600),
        ("8.5", "hm", 8.5 * 3600),
    ],
)
def test_durations(cell, kind, seconds):
    assert duration_seconds(cell, kind, None) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("cell", "kind"), [("01:77:41", "hms"), ("77:41", "hms"), ("1:17:41", "mmss"), ("8h77", "hm")]
)
def test_bad_durations(cell, kind):
    with pytest.raises(Unconvertible, match="not a duration"):
        duration_seconds(cell, kind, None)


def _folder(tmp_path, files: dict[str, str]):
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return tmp_path


REG = "name,id\nAnna Berg,A01\nBea Holm,A02\n"


def test_lookup_days_between_and_problems_reach_the_validator(tmp_path):
    src = _folder(
        tmp_path / "src",
        {
            "register.csv": REG,
            "injuries.csv": "Who;Onset;Back;Side\nAnna Berg;01.03.2024;15.03.2024;C\n"
            "Zed Unknown;02.03.2024;05.03.2024;L\nbea holm;03.03.2024;;R\n",
        },
    )
    m = {
        "tables": [
            {
                "table": "injuries",
                "file": "injuries.csv",
                "columns": {
                    "athlete_id": {
                        "from": "Who",
                        "lookup": {"file": "register.csv", "key": "name", "value": "id"},
                    },
                    "onset_date": {"from": "Onset", "date_format": "%d.%m.%Y"},
                    "side": {"from": "Side", "values": {"L": "left", "R": "right", "C": "central"}},
                    "days_lost": {
                        "days_between": {"start": "Onset", "end": "Back"},
                        "date_format": "%d.%m.%Y",
                    },
                },
                "constants": {"body_part": "lumbar_spine"},
            }
        ]
    }
    result = import_folder(m, src)
    df = result.frames["injuries"]
    assert df["athlete_id"].tolist() == ["A01", None, "A02"] and df["days_lost"].tolist() == [14, 3, None]
    assert "Zed" not in json.dumps([p.to_json() for p in df[PROV]])
    write_import(result, tmp_path / "imp")
    folder = write_folder(tmp_path / "imp", {"athletes": valid_contract_tables()["athletes"]})
    res = validate_folder(folder, today=TODAY)
    add_validation(result, res)
    assert res.tables["injuries"][["athlete_id", "side", "days_lost"]].values.tolist() == [
        ["A01", "central", 14]
    ]
    probs = res.problems.set_index("row")
    assert probs.loc[3, "reason"].startswith("not in the register register.csv (column 'name')")
    assert probs.loc[3, "file"] == "injuries.csv" and pd.isna(probs.loc[3, "value"])
    assert probs.loc[4, "reason"] == "no date in 'Back'" and probs.loc[4, "column"] == "days_lost"
    assert import_report(result)["files"][0] | {"filtered_by_reason": {}} == {
        "table": "injuries", "file": "injuries.csv", "file_rows": 3, "rows_read": 3, "filtered": 0,
        "filtered_by_reason": {}, "merged": 0, "written": 3, "accepted": 1, "rejected": 2, "cells_emptied": 0,
        "balanced": True,
    }  # fmt: skip


def test_register_with_one_name_for_two_ids_is_an_error(tmp_path):
    src = _folder(
        tmp_path, {"register.csv": "name,id\nAnna Berg,A01\nanna  berg,A09\n", "x.csv": "Who\nAnna Berg\n"}
    )
    m = {
        "table": "athletes",
        "file": "x.csv",
        "columns": {
            "athlete_id": {"from": "Who", "lookup": {"file": "register.csv", "key": "name", "value": "id"}}
        },
    }
    with pytest.raises(DataError, match=r"appears twice .*rows 2 and 3"):
        import_folder({"tables": [m]}, src)


def test_glob_concat_and_aggregation_account_for_every_row(tmp_path):
    src = _folder(
        tmp_path,
        {
            "w1/gym.csv": "who,day,ex,kg,reps,rpe\nA01,2024-03-04,squat,100,5,8\nA01,2024-03-04,squat,110,3,9\n"
            "A01,2024-03-04,squat,110,2,9.5\n,2024-03-04,squat,90,5,7\n",
            "w2/gym.csv": "who,day,ex,kg,reps,rpe\nA01,2024-03-11,squat,x,5,8\nA01,2024-03-11,squat,120,5,8\n",
        },
    )
    m = {
        "table": "gym_sets",
        "file": "w*/gym.csv",
        "columns": {
            "athlete_id": "who",
            "date": "day",
            "exercise": "ex",
            "load_kg": "kg",
            "reps": "reps",
            "rpe": "rpe",
        },
        "aggregate": {
            "columns": {"load_kg": "max", "reps": {"at_max": "load_kg"}, "sets": "count", "rpe": "mean"}
        },
    }
    result = import_folder({"tables": [m]}, src)
    df = result.frames["gym_sets"]
    assert df.drop(columns=PROV).assign(athlete_id=df["athlete_id"].fillna("")).values.tolist() == [
        ["A01", "2024-03-04", "squat", 110, "3", 3, pytest.approx(26.5 / 3)],
        ["A01", "2024-03-11", "squat", None, None, 2, 8],
        ["", "2024-03-04", "squat", 90, "5", 1, 7],
    ]  # an empty key is never merged; a non-number leaves the aggregate empty with the reason
    assert df[PROV].iloc[0].sources == (("w1/gym.csv", (2, 3, 4)),)
    assert "cannot aggregate" in df[PROV].iloc[1].problems[0]["reason"]
    acc = {a.file: (a.rows_read, a.merged, a.written) for a in result.accounts}
    assert acc == {"w1/gym.csv": (4, 2, 2), "w2/gym.csv": (2, 1, 1)}


def test_join_merges_provenance_and_keeps_duplicate_keys_apart(tmp_path):
    src = _folder(
        tmp_path,
        {
            "pelvic.csv": "who,day,p\nA01,2024-03-04,3\nA01,2024-03-04,4\nA02,2024-03-04,2\n",
            "trunk.csv": "who,day,t\nA01,2024-03-04,3.5\nA02,2024-03-04,2\n",
        },
    )
    m = {
        "table": "movement_screens",
        "sources": [
            {
                "file": "pelvic.csv",
                "columns": {"athlete_id": "who", "date": "day", "pelvic_control_score": "p"},
            },
            {
                "file": "trunk.csv",
                "columns": {"athlete_id": "who", "date": "day", "trunk_control_score": "t"},
            },
        ],
    }
    result = import_folder({"tables": [m]}, src)
    df = result.frames["movement_screens"]
    assert len(df) == 3 and df[PROV].iloc[0].files == ["pelvic.csv", "trunk.csv"]
    write_import(result, tmp_path / "imp")
    res = validate_folder(
        write_folder(tmp_path / "imp", {"athletes": valid_contract_tables()["athletes"]}), today=TODAY
    )
    add_validation(result, res)
    loose = res.problems.iloc[0]  # the second A01 row of pelvic.csv is not joined: no trunk score
    assert (loose["file"], loose["row"], loose["column"]) == ("pelvic.csv", 3, "trunk_control_score")
    assert import_report(result)["balanced"] is True
    assert {a.file: (a.accepted, a.rejected) for a in result.accounts} == {
        "pelvic.csv": (2, 1),
        "trunk.csv": (2, 0),
    }


def test_mapping_errors_are_clear(tmp_path):
    src = _folder(tmp_path, {"a.csv": "x,y\n1,2\n"})
    cases = [
        ({"table": "athletes", "file": "a.csv", "read": {"sep": ";"}}, "unknown read option"),
        ({"table": "gym_sets", "file": "a.csv", "aggregate": {"columns": {"sets": "median"}}}, "unknown function"),
        ({"table": "wellness", "file": "a.csv", "unpivot": {"as": "side"}}, "needs as, groups"),
        ({"table": "wellness", "file": "a.csv", "filter": {"equals": {"zz": 1}}}, "'zz' not found"),
        ({"table": "wellness", "file": "a.csv", "columns": {"sleep_hours": {"from": "x", "duration": "hh"}}}, "duration"),
        ({"table": "wellness", "file": "nope_*.csv"}, "no file matches"),
        ({"table": "wellness", "file": "a.csv", "columns": {"athlete_id": {"from": "x", "lookup": {"file": "r.csv"}}}}, "lookup"),
    ]  # fmt: skip
    for m, text in cases:
        with pytest.raises(DataError, match=text):
            import_folder({"tables": [m]}, src)
    joined = {"table": "wellness", "sources": [{"file": "a.csv", "columns": {"mood": "x"}}] * 2}
    with pytest.raises(DataError, match="combine: concat"):
        import_folder({"tables": [joined]}, src)


def test_shipped_mapping_by_name_with_or_without_yaml():
    assert resolve_mapping("vescovi_sprint_splits") == resolve_mapping("vescovi_sprint_splits.yaml")
    assert load_mapping("vald_nordbord_hub")["tables"]
    with pytest.raises(DataError, match="mapping not found"):
        resolve_mapping("nope")


def test_locale_applies_to_numeric_columns_only_when_declared():
    raw = pd.DataFrame({"a": ["A01"], "t": ["1,040"], "d": ["5"]})
    m = {"table": "sprint_splits", "columns": {"athlete_id": "a", "time_s": "t", "distance_m": "d"}}
    assert apply_mapping(raw, m)["time_s"].tolist() == ["1,040"]  # undeclared: left to the validator
    m["read"] = {"decimal": ",", "thousands": "."}
    out = map_source(with_provenance(raw, "gates.csv"), m)
    assert out["time_s"].tolist() == [1.04] and out["distance_m"].tolist() == [5]
    raw2 = pd.DataFrame({"a": ["A01"], "t": ["1.040"], "d": ["5"]})
    out2 = map_source(with_provenance(raw2, "gates.csv"), {**m, "read": {"decimal": ","}})
    assert out2["time_s"].tolist() == [None]
    assert "declared format" in out2[PROV].iloc[0].problems[0]["reason"]


def test_aggregate_functions():
    df = pd.DataFrame(
        {
            "athlete_id": ["A"] * 4,
            "date": ["2024-03-04"] * 4,
            "session_type": ["s"] * 4,
            "total_distance_m": [100, 101, 103, 106],
            "hsr_distance_m": [100, 101, 103, 106],
            "max_speed_m_s": [5.0, 6.0, 5.0, 7.0],
            PROV: [Provenance((("f.csv", (k,)),)) for k in range(2, 6)],
        }
    ).astype(object)
    spec = {
        "columns": {
            "total_distance_m": "last_minus_first",
            "hsr_distance_m": {"increase_where": {"column": "max_speed_m_s", "above": 5.5}},
            "max_speed_m_s": "max",
        }
    }
    out = aggregate(df, spec, ("athlete_id", "date", "session_type"))
    assert out.drop(columns=PROV).values.tolist() == [["A", "2024-03-04", "s", 6, 4, 7]]
    assert out[PROV].iloc[0].sources == (("f.csv", (2, 3, 4, 5)),)


def test_provenance_round_trip_and_rows_text():
    p = Provenance((("a.csv", (2, 3, 4, 9)),), ({"column": "rpe", "value": None, "reason": "r"},))
    assert Provenance.from_json(p.to_json()) == p
    assert rows_text([2, 3, 4, 9, 9]) == "2-4, 9"
    with pytest.raises(ValueError):
        Provenance.from_json('{"x": 1}')


def test_unreadable_provenance_falls_back_to_the_table_file(valid_tables, tmp_path):
    valid_tables["movement_screens"][PROVENANCE_COLUMN] = [
        "not json",
        Provenance((("s.xlsx", (7,)),)).to_json(),
    ]
    valid_tables["movement_screens"].loc[1, "pelvic_control_score"] = "9"
    res = validate_folder(write_folder(tmp_path / "in", valid_tables), today=TODAY)
    assert res.problems[["file", "row"]].values.tolist() == [["s.xlsx", 7]]
    assert any("unreadable _provenance" in w for w in res.warnings)
    assert PROVENANCE_COLUMN not in res.tables["movement_screens"].columns
    assert res.counts["movement_screens"]["sources"] == {
        "movement_screens.csv": {"input": 1, "accepted": 1, "rejected": 0, "cells_emptied": 0},
        "s.xlsx": {"input": 1, "accepted": 0, "rejected": 1, "cells_emptied": 0},
    }


def test_cells_of_a_rejected_row_are_listed_with_the_row(valid_tables, tmp_path):
    valid_tables["training_load"].loc[0, "rpe"] = "hard"  # optional cell
    valid_tables["training_load"].loc[0, "session_type"] = ""  # required cell: the row goes
    valid_tables["training_load"].loc[1, "rpe"] = "hard"  # optional cell only: the row stays
    res = validate_folder(write_folder(tmp_path / "in", valid_tables), tmp_path / "out", today=TODAY)
    assert res.counts["training_load"] | {"file": ""} == {
        "input": 12, "accepted": 11, "rejected": 1, "cells_emptied": 1, "file": "",
    }  # fmt: skip
    rej = pd.read_csv(tmp_path / "out" / "rejected_rows.csv")
    assert sorted(rej["column"]) == ["rpe", "session_type"] and set(rej["row"]) == {2}
    cells = pd.read_csv(tmp_path / "out" / "rejected_cells.csv")
    assert cells[["row", "column", "value"]].values.tolist() == [[3, "rpe", "hard"]]
    report = json.loads((tmp_path / "out" / "validation_report.json").read_text())
    assert report["cells_emptied"] == 1


def test_an_export_that_is_not_utf8_is_read_and_the_repair_named(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    text = "who,born,sex\nA01,2000-01-15,F\nA02,1998-05-02,M\n"
    (src / "club.csv").write_bytes(text.replace("who", "whö").encode("cp1252"))
    (src / "plain.csv").write_text(text, encoding="utf-8")
    for name, column in (("club.csv", "whö"), ("plain.csv", "who")):
        m = {"table": "athletes", "file": name, "columns": {"athlete_id": column, "sex": "sex"}}
        result = import_folder({"tables": [m]}, src)
        assert list(result.frames["athletes"]["athlete_id"]) == ["A01", "A02"]
        said = [w for w in result.warnings if "cp1252_decoded" in w]
        assert said == (
            ["club.csv: read as cp1252 (cp1252_decoded), not plain UTF-8"] if name == "club.csv" else []
        )
