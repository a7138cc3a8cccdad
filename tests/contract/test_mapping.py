"""Vendor mappings: unit conversions, wide->long, day index, JSON explode, episodes; real data sets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sprintlab.contract.mapping import (
    MAPPINGS_DIR,
    apply_mapping,
    import_with_mapping,
    load_mapping,
    write_imported,
)
from sprintlab.contract.validate import validate_folder
from sprintlab.io import DataError

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"


def shared(name: str) -> Path:
    p = SHARED / name
    if not p.exists():
        pytest.skip(f"{p} is not available on this machine (real-data test)")
    return p


def test_units_constants_and_unconvertible_passthrough():
    raw = pd.DataFrame(
        {
            "Player": ["p1", "p2", "p3"],
            "Mass (g)": ["72500", "80100", "n/a"],
            "Height in": ["70", "72", "68"],
            "DOB": ["01.02.2000", "15.06.1999", "bad"],
        }
    )
    m = {
        "table": "athletes",
        "columns": {
            "athlete_id": "Player",
            "body_mass_kg": {"from": "Mass (g)", "unit": "g"},
            "height_cm": {"from": "Height in", "unit": "in"},
            "birth_date": {"from": "DOB", "date_format": "%d.%m.%Y"},
        },
        "constants": {"sex": "M"},
    }
    out = apply_mapping(raw, m)
    assert list(out.columns) == ["athlete_id", "sex", "birth_date", "height_cm", "body_mass_kg"]
    assert out["body_mass_kg"].tolist() == [72.5, 80.1, "n/a"]  # left for the validator to reject
    assert out["height_cm"].tolist() == [177.8, 182.88, 172.72]
    assert out["birth_date"].tolist() == ["2000-02-01", "1999-06-15", "bad"]
    assert out["sex"].tolist() == ["M"] * 3


def test_wide_melt_rescale_and_ms():
    raw = pd.DataFrame({"Date": ["01.03.2024", "02.03.2024"], "p1": ["1", ""], "p2": ["5", "3"]})
    m = {
        "table": "wellness",
        "wide": {"id_columns": [0], "columns_as": "player", "value_as": "v"},
        "columns": {
            "athlete_id": "player",
            "date": {"from": "Date", "date_format": "%d.%m.%Y"},
            "fatigue": {"from": "v", "rescale": {"from": [1, 5], "to": [10, 0]}},
        },
    }
    out = apply_mapping(raw, m)
    assert out.to_dict("list") == {
        "athlete_id": ["p1", "p2", "p2"],
        "date": ["2024-03-01", "2024-03-01", "2024-03-02"],
        "fatigue": [10, 0, 5],
    }  # blank cell = no report, dropped
    splits = pd.DataFrame({"id": ["a"], "5m": ["1150"], "10m": ["1980"]})
    m2 = {
        "table": "sprint_splits",
        "wide": {"id_columns": ["id"], "columns_as": "gate", "value_as": "t", "column_regex": r"^(\d+)m$"},
        "columns": {
            "athlete_id": "id",
            "distance_m": {"from": "gate", "unit": "m"},
            "time_s": {"from": "t", "unit": "ms"},
        },
    }
    out2 = apply_mapping(splits, m2)
    assert out2["distance_m"].tolist() == [5, 10] and out2["time_s"].tolist() == [1.15, 1.98]


def test_other_units():
    raw = pd.DataFrame({"a": ["x"], "d": ["12.5"], "s": ["36"], "m": ["176"]})
    m = {
        "table": "training_load",
        "columns": {
            "athlete_id": "a",
            "total_distance_m": {"from": "d", "unit": "km"},
            "max_speed_m_s": {"from": "s", "unit": "km/h"},
        },
    }
    out = apply_mapping(raw, m)
    assert out["total_distance_m"].tolist() == [12500] and out["max_speed_m_s"].tolist() == [10]
    lb = apply_mapping(
        pd.DataFrame({"a": ["x"], "w": ["176"]}),
        {"table": "athletes", "columns": {"athlete_id": "a", "body_mass_kg": {"from": "w", "unit": "lb"}}},
    )
    assert lb["body_mass_kg"].iloc[0] == pytest.approx(79.832, abs=1e-3)


def test_day_index_json_explode_and_episodes():
    raw = pd.DataFrame(
        {
            "who": ["a", "a", "a", "b"],
            "Season": ["S1", "S1", "S2", "S1"],
            "Day": ["1", "2", "10", "3"],
            "type": [
                '{"left_thigh": "minor"}',
                '{"left_thigh": "minor", "right_knee": "major"}',
                '{"left_thigh": "minor"}',
                "not json",
            ],
        }
    )
    m = {
        "table": "injuries",
        "explode_json": {"column": "type", "key_as": "loc", "value_as": "sev"},
        "columns": {
            "athlete_id": "who",
            "onset_date": {
                "from": "Day",
                "day_index": {
                    "start": 1,
                    "anchor_column": "Season",
                    "anchors": {"S1": "2020-07-01", "S2": "2021-07-01"},
                },
            },
            "body_part": {"from": "loc", "regex": "^(?:left|right)_(.+)$"},
            "side": {"from": "loc", "regex": "^(left|right)_"},
        },
        "episodes": {
            "by": ["athlete_id", "body_part", "side"],
            "date": "onset_date",
            "length_as": "days_lost",
        },
    }
    out = apply_mapping(raw, m)
    recs = {(r.athlete_id, r.onset_date, r.body_part, r.side, r.days_lost) for r in out.itertuples()}
    assert ("a", "2020-07-01", "thigh", "left", 2) in recs  # days 1 and 2 merged
    assert ("a", "2021-07-10", "thigh", "left", 1) in recs
    assert ("a", "2020-07-02", "knee", "right", 1) in recs
    assert ("b", "2020-07-03", "not json", "not json", 1) in recs  # passed through, validator rejects


def test_mapping_errors(tmp_path):
    with pytest.raises(DataError, match="not a column"):
        apply_mapping(pd.DataFrame({"a": [1]}), {"table": "athletes", "columns": {"weight": "a"}})
    with pytest.raises(DataError, match="no conversion"):
        apply_mapping(
            pd.DataFrame({"a": [1]}),
            {"table": "athletes", "columns": {"body_mass_kg": {"from": "a", "unit": "stone"}}},
        )
    with pytest.raises(DataError, match="source column 'zz' not found"):
        apply_mapping(pd.DataFrame({"a": [1]}), {"table": "athletes", "columns": {"athlete_id": "zz"}})
    with pytest.raises(DataError, match="unknown contract table"):
        apply_mapping(pd.DataFrame({"a": [1]}), {"table": "players"})
    bad = tmp_path / "m.yaml"
    bad.write_text("dataset: x\n")
    with pytest.raises(DataError, match="tables"):
        load_mapping(bad)


@pytest.mark.parametrize(
    "name", ["soccermon_subjective.yaml", "jovanovic_hamstring_sample.yaml", "vescovi_sprint_splits.yaml"]
)
def test_shipped_mappings_load(name):
    assert load_mapping(MAPPINGS_DIR / name)["tables"]


@pytest.mark.real_data
def test_vescovi_real(tmp_path):
    tabs = import_with_mapping("vescovi_sprint_splits.yaml", shared("vescovi_sprint_splits"))
    write_imported(tabs, tmp_path)
    res = validate_folder(tmp_path, today="2024-01-01")
    assert res.counts["athletes"] == {
        "input": 52,
        "accepted": 52,
        "rejected": 0,
        "cells_emptied": 0,
        "file": "athletes.csv",
    }
    assert res.counts["sprint_splits"]["accepted"] == 260
    sp = res.tables["sprint_splits"]
    first = sp[(sp["athlete_id"] == "FMSS-011") & (sp["distance_m"] == 10)]
    assert first["time_s"].item() == 1.99
    assert res.tables["athletes"].set_index("athlete_id").loc["FMSS-011", "height_cm"] == 165
    # the tables this data set does not have are optional: noted as skipped, not errors
    assert res.problems.empty
    assert any("gym_sets" in note for note in res.skipped) and any(
        "strength_tests" in note for note in res.skipped
    )


@pytest.mark.real_data
def test_jovanovic_real_gaps_are_reported(tmp_path):
    tabs = import_with_mapping("jovanovic_hamstring_sample.yaml", shared("jovanovic_hamstring_sample"))
    tl = tabs["training_load"]
    assert tl.iloc[0].to_dict() == {
        "athlete_id": "Athlete 01",
        "date": "2016-07-01",
        "session_type": "training",
        "total_distance_m": 6944,
        "hsr_distance_m": 169,
        "srpe_load_au": "496",
    }
    assert len(tabs["injuries"]) == 6 and set(tabs["injuries"]["body_part"]) == {"hamstring"}
    write_imported(tabs, tmp_path)
    res = validate_folder(tmp_path, today="2024-01-01")
    reasons = res.problems.set_index("table")["reason"]
    assert "training_load" not in reasons.index  # session-RPE load arrives as srpe_load_au
    assert "side, days_lost" in reasons["injuries"]


@pytest.mark.real_data
def test_soccermon_real(tmp_path):
    tabs = import_with_mapping("soccermon_subjective.yaml", shared("soccermon_subjective"))
    assert len(tabs["training_load"]) == 16265
    w = tabs["wellness"]
    assert w["athlete_id"].str.startswith(("TeamA-", "TeamB-")).all()
    write_imported(tabs, tmp_path)
    res = validate_folder(tmp_path, today="2024-01-01")
    for t in ("wellness", "training_load", "injuries"):
        c = res.counts[t]
        assert c["accepted"] + c["rejected"] == c["input"]
    assert res.counts["wellness"]["rejected"] == 0 and res.counts["training_load"]["rejected"] == 0
    inj = res.problems[res.problems["table"] == "injuries"]
    assert inj["reason"].str.startswith("value not allowed").all()  # groin_hip etc. have no side
    assert res.tables["wellness"]["fatigue"].dropna().between(0, 10).all()
