"""The shipped vendor templates (src/sprintlab/contract/mappings/): each imports a header-only sample
written from the documented column names (/work/shared/reference/vendor-exports.md) and a small
sample with the vendor's quirks (calibration offsets, zero-rep sides, BW -1, asymmetry text, 8
metadata lines, decimal commas, sleep as 8h37)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sprintlab.contract.importer import add_validation, import_folder, import_report, write_import
from sprintlab.contract.mapping import MAPPINGS_DIR, load_mapping
from sprintlab.contract.validate import validate_folder

TODAY = "2025-06-30"
REGISTER = "name,athlete_id,vald_profile_id\nAnna Berg,A1,p-1\nBea Holm,A2,p-2\n"

# template -> (file name, documented header, metadata lines above it, delimiter, byte-order mark)
HEADERS: dict[str, tuple[str, list[str], int, str, bool]] = {
    "vald_nordbord_hub": (
        "NordBord.csv",
        [
            "Name", "Date UTC", "Time UTC (12 h)", "Device", "Test", "L Reps", "R Reps", "L Max Force (N)",
            "R Max Force (N)", "Max Imbalance (%)", "L Avg Force (N)", "R Avg Force (N)", "Avg Imbalance (%)",
            "L Max Torque (Nm)", "R Max Torque (Nm)", "L Max Impulse (Ns)", "R Max Impulse (Ns)",
            "Impulse Imbalance (%)", "L Min Time to Peak Force (s)", "R Min Time to PeakForce (s)",
            "L Avg Time to Peak Force (s)", "R Avg Time to Peak Force (s)",
        ],
        0, ",", True,
    ),
    "vald_nordbord_api": (
        "nordbord_tests.csv",
        [
            "profileId", "testId", "modifiedDateUtc", "testDateUtc", "testTypeId", "testTypeName", "notes",
            "device", "leftAvgForce", "leftImpulse", "leftMaxForce", "leftTorque", "leftCalibration",
            "leftRepetitions", "rightAvgForce", "rightImpulse", "rightMaxForce", "rightTorque",
            "rightCalibration", "rightRepetitions",
        ],
        0, ",", False,
    ),
    "vald_forcedecks_cmj_hub": (
        "ForceDecks.csv",
        [
            "Name", "ExternalId", "Test Type", "Date", "Time", "BW [KG]", "Reps", "Additional Load [lb]", "Tags",
            "Jump Height (Imp-Mom) [cm]", "Jump Height (Imp-Mom) in Inches [in] ", "RSI-modified [m/s] ",
            "Concentric Peak Force [N] ", "Eccentric Braking RFD % (Asym) (%)", "Countermovement Depth [cm] ",
        ],
        0, ",", True,
    ),
    "catapult_openfield_session": (
        "session_report.csv",
        [
            "Name", "Date", "Activity Name", "Position Name", "Average Player Load (Session)",
            "Player Load Per Minute", "Total Distance (y)", "Walking %", "Maximum Velocity (mph)",
            "Percentage of Max Velocity",
        ],
        0, ",", False,
    ),
    "catapult_10hz": (
        "Training Export for Anna Berg 4711.csv",
        [
            "Timestamp", "Seconds", "Velocity", "Acceleration", "Odometer", "Latitude", "Longitude",
            "Heart Rate", "Player Load", "Positional Quality (%)", "HDOP", "#Sats",
        ],
        8, ",", False,
    ),
    "forms_wellness": (
        "Wellness (Responses).csv",
        [
            "Timestamp", "Name", "How long did you sleep?", "Sleep quality (0-10)", "Fatigue (0-10)",
            "Muscle soreness (0-10)", "Stress (0-10)", "Mood (0-10)", "Hamstring tightness (0-10)",
        ],
        0, ",", False,
    ),
    "timing_gates_generic": (
        "gates.csv", ["Athlete", "Date", "Run", "5 m", "10 m", "20 m", "30 m"], 0, ";", False,
    ),
}  # fmt: skip


def write_sample(folder: Path, template: str, rows: list[list[object]] | None = None) -> Path:
    """The template's export with its documented header (and ``rows``), beside the register."""
    name, header, meta, sep, bom = HEADERS[template]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "athlete_register.csv").write_text(REGISTER, encoding="utf-8")
    lines = [f"metadata line {k + 1}" for k in range(meta)]
    lines += [sep.join(header)] + [sep.join("" if v is None else str(v) for v in r) for r in rows or []]
    (folder / name).write_bytes(("\ufeff" if bom else "").encode() + ("\n".join(lines) + "\n").encode())
    return folder


def run(folder: Path, template: str):
    result = import_folder(template, folder)
    write_import(result, folder / "out")
    res = validate_folder(folder / "out", today=TODAY)
    add_validation(result, res)
    assert import_report(result)["balanced"] is True
    return result, res


@pytest.mark.parametrize("template", sorted(HEADERS))
def test_template_imports_its_header_only_sample(template, tmp_path):
    assert (MAPPINGS_DIR / f"{template}.yaml").is_file() and load_mapping(template)["tables"]
    result, res = run(write_sample(tmp_path, template), template)
    assert result.frames and all(len(df) == 0 for df in result.frames.values())
    assert all(c["input"] == 0 for c in res.counts.values())
    assert {a.file for a in result.accounts} == {HEADERS[template][0]}  # the register is not a source


def _row(template: str, **cells: object) -> list[object]:
    return [cells.get(h.strip(), "") for h in HEADERS[template][1]]


def test_nordbord_hub_zero_rep_side_is_left_out(tmp_path):
    t = "vald_nordbord_hub"
    rows = [
        _row(t, **{"Name": "Anna Berg", "Date UTC": "04/03/2024", "L Reps": 3, "R Reps": 3,
                   "L Max Force (N)": "351.5", "R Max Force (N)": "330.0"}),
        _row(t, **{"Name": "bea  holm", "Date UTC": "04/03/2024", "L Reps": 0, "R Reps": 2,
                   "L Max Force (N)": "0", "R Max Force (N)": "298.2"}),
    ]  # fmt: skip
    result, res = run(write_sample(tmp_path, t, rows), t)
    df = res.tables["strength_tests"]
    assert sorted(zip(df["athlete_id"], df["side"], df["value"], strict=True)) == [
        ("A1", "left", 351.5),
        ("A1", "right", 330.0),
        ("A2", "right", 298.2),
    ]
    acc = result.accounts[0]
    assert (acc.rows_read, acc.filtered, acc.accepted) == (4, {"filter: reps: all zero or empty": 1}, 3)


def test_nordbord_api_subtracts_the_calibration_offset(tmp_path):
    t = "vald_nordbord_api"
    rows = [
        _row(t, profileId="p-1", testDateUtc="2024-03-04T10:22:33Z", leftMaxForce="350", leftCalibration="12",
             leftRepetitions=3, rightMaxForce="0", rightCalibration="0", rightRepetitions=0),
    ]  # fmt: skip
    _, res = run(write_sample(tmp_path, t, rows), t)
    df = res.tables["strength_tests"]
    assert df[["athlete_id", "side", "value"]].values.tolist() == [["A1", "left", 338.0]]
    assert df["date"].iloc[0] == pd.Timestamp("2024-03-04")


def test_forcedecks_weight_minus_one_and_asymmetry_text(tmp_path):
    t = "vald_forcedecks_cmj_hub"
    rows = [
        _row(t, **{"Name": "Anna Berg", "Test Type": "CMJ", "Date": "04/03/2024", "BW [KG]": "-1",
                   "Jump Height (Imp-Mom) [cm]": "34.2", "Eccentric Braking RFD % (Asym) (%)": "12.3 L"}),
        _row(t, **{"Name": "Bea Holm", "Test Type": "CMJ", "Date": "04/03/2024", "BW [KG]": "61.4",
                   "Jump Height (Imp-Mom) [cm]": "29.0", "Eccentric Braking RFD % (Asym) (%)": "4.1 R"}),
        _row(t, **{"Name": "Bea Holm", "Test Type": "SJ", "Date": "04/03/2024", "BW [KG]": "61.4"}),
    ]  # fmt: skip
    result, res = run(write_sample(tmp_path, t, rows), t)
    df = res.tables["strength_tests"].set_index(["athlete_id", "test", "side"])["value"]
    assert df.to_dict() == {
        ("A1", "cmj_eccentric_braking_rfd_asymmetry", "left"): 12.3,
        ("A1", "cmj_height", "both"): 34.2,
        ("A2", "body_mass_forcedecks", "both"): 61.4,
        ("A2", "cmj_eccentric_braking_rfd_asymmetry", "right"): 4.1,
        ("A2", "cmj_height", "both"): 29.0,
    }  # Anna's BW of -1 (not weighed) gives no body-mass row
    assert res.problems["table"].eq("athletes").all()  # only: no athletes table in this sample
    filtered = sum(sum(a.filtered.values()) for a in result.accounts)
    assert filtered == 3 + 1  # the SJ row in each of the three sources, Anna's -1 weight


def test_catapult_session_report_units_and_us_dates(tmp_path):
    t = "catapult_openfield_session"
    rows = [
        _row(t, **{"Name": "Anna Berg", "Date": "3/14/2024", "Activity Name": "Practice 12",
                   "Total Distance (y)": "6000", "Maximum Velocity (mph)": "18.5"}),
    ]  # fmt: skip
    _, res = run(write_sample(tmp_path, t, rows), t)
    r = res.tables["training_load"].iloc[0]
    assert r["date"] == pd.Timestamp("2024-03-14") and r["session_type"] == "Practice 12"
    assert r["total_distance_m"] == pytest.approx(5486.4) and r["max_speed_m_s"] == pytest.approx(8.27024)


def test_catapult_10hz_trace_is_aggregated_to_one_session(tmp_path):
    t = "catapult_10hz"
    speeds = [4.0] * 50 + [6.0] * 30 + [8.2] * 10 + [5.0] * 11  # m/s at 10 Hz, 101 samples
    odo, rows = 100.0, []
    for k, v in enumerate(speeds):
        if k:
            odo += v * 0.1
        secs = round(k * 0.1, 1)
        rows.append(
            _row(
                t,
                Timestamp=f"14/03/2024 10:00:{secs:04.1f}",
                Seconds=secs,
                Velocity=v,
                Odometer=round(odo, 2),
            )
        )
    result, res = run(write_sample(tmp_path, t, rows), t)
    r = res.tables["training_load"].iloc[0]
    assert (r["athlete_id"], r["session_type"]) == ("A1", "Training")
    assert r["total_distance_m"] == pytest.approx(sum(v * 0.1 for v in speeds[1:]), abs=0.02)
    assert r["hsr_distance_m"] == pytest.approx(0.1 * (30 * 6.0 + 10 * 8.2), abs=0.02)
    assert r["max_speed_m_s"] == 8.2 and r["duration_min"] == pytest.approx(10 / 60)
    acc = result.accounts[0]
    assert (acc.rows_read, acc.merged, acc.accepted) == (101, 100, 1)


def test_forms_wellness_sleep_formats(tmp_path):
    t = "forms_wellness"
    rows = [
        _row(t, **{"Timestamp": f"0{d}/03/2024 07:1{d}:00", "Name": n, "How long did you sleep?": s, "Fatigue (0-10)": "4"})
        for d, n, s in ((4, "Anna Berg", "8h37"), (5, "ANNA BERG", "8:37"), (6, "Anna Berg", "8.5"), (7, "Anna Berg", "lots"))
    ]  # fmt: skip
    _, res = run(write_sample(tmp_path, t, rows), t)
    sleep = res.tables["wellness"].set_index("date")["sleep_hours"]
    assert sleep.iloc[:3].tolist() == pytest.approx([8 + 37 / 60, 8 + 37 / 60, 8.5])
    assert (
        pd.isna(sleep.iloc[3]) and res.counts["wellness"]["accepted"] == 4
    )  # a bad optional cell costs the cell
    cell = res.cells.iloc[0]
    assert (cell["file"], cell["row"], cell["column"], cell["value"]) == (
        "Wellness (Responses).csv",
        5,
        "sleep_hours",
        "lots",
    )


def test_generic_timing_gates_decimal_comma(tmp_path):
    t = "timing_gates_generic"
    rows = [["Anna Berg", "04.03.2024", 1, "1,040", "1,812", "3,105", "4,301"]]
    _, res = run(write_sample(tmp_path, t, rows), t)
    df = res.tables["sprint_splits"]
    assert df["time_s"].tolist() == [1.04, 1.812, 3.105, 4.301] and df["distance_m"].tolist() == [
        5,
        10,
        20,
        30,
    ]


def test_vendors_without_public_columns_have_no_template():
    shipped = {p.stem for p in MAPPINGS_DIR.glob("*.yaml")}
    assert not any(v in s for s in shipped for v in ("freelap", "witty", "brower", "statsports"))
