"""Known answers of the plausibility checks: the training reference's column summary, unit slips
against it, swapped columns; the fast and the per-cell validation paths agree on them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sprintlab.config import load_params
from sprintlab.contract.plausibility import (
    REFERENCE_KEY,
    column_summary,
    contract_reference,
    likely_unit,
    strength_key,
)
from sprintlab.contract.validate import validate_folder
from sprintlab.drift import CONTRACT_KEY, log_training_reference

from .conftest import TODAY, valid_contract_tables, write_folder

ROOT = Path(__file__).resolve().parents[2]
SCORE = load_params(ROOT / "params.yaml").score
REF = {"median": 300.0, "q05": 250.0, "q50": 300.0, "q95": 350.0, "n": 100}


def test_column_summary_known_answer():
    s = column_summary(np.array([1.0, 2.0, 3.0, 4.0, np.nan, 5.0]))
    assert s == {"median": 3.0, "q05": 1.2, "q50": 3.0, "q95": 4.8, "n": 5}
    assert column_summary(np.array([np.nan])) is None


def test_contract_reference_summarises_number_columns_and_each_strength_test(tmp_path):
    res = validate_folder(write_folder(tmp_path, valid_contract_tables()), today=TODAY)
    ref = contract_reference(res.tables)
    cols = ref["columns"]
    assert cols["athletes.height_cm"]["median"] == pytest.approx((171.0 + 176.2) / 2)
    assert cols["athletes.height_cm"]["n"] == 4
    nordic = cols[strength_key("nordic_eccentric")]
    assert nordic["median"] == 301.5 and nordic["unit"] == "N" and nordic["n"] == 8
    assert "athletes.sex" not in cols and "strength_tests.value" in cols


@pytest.mark.parametrize(
    ("observed", "unit", "expected"),
    [
        (300 * 0.224809, "N", "pounds-force (x 0.2248)"),
        (300 * 0.102, "N", "kilograms-force (x 0.102)"),
        (300 * 2.2, "kg", "pounds (x 2.2046)"),
        (300 * 1000, "s", "milliseconds (x 1000)"),
        (30.0, "0-10", "a 0-1 scale (x 0.1)"),
        (320.0, "N", None),  # inside the training 5-95 % range: ordinary squad difference
        (300 * 1.5, "N", None),  # off, but by no unit factor: drift, not a unit slip
        (300 * 0.2248, "kg", None),  # a factor of another unit
    ],
)
def test_likely_unit_known_answers(observed, unit, expected):
    assert likely_unit(observed, REF, unit, SCORE.reference_ratio_tolerance) == expected


def _folder(tmp: Path, edit) -> Path:
    t = valid_contract_tables()
    edit(t)
    return write_folder(tmp, t)


def _both_paths(folder: Path, **kw):
    """The fast and the per-cell validation: same tables, same problems."""
    fast = validate_folder(folder, today=TODAY, **kw)
    slow = validate_folder(folder, today=TODAY, fast=False, **kw)
    pd.testing.assert_frame_equal(fast.problems, slow.problems)
    for name in fast.tables:
        pd.testing.assert_frame_equal(fast.tables[name], slow.tables[name])
    return fast


def _training(tmp: Path) -> dict:
    base = validate_folder(write_folder(tmp / "training", valid_contract_tables()), today=TODAY)
    return {"reference": contract_reference(base.tables), "reference_params": SCORE}


def test_unit_slip_inside_the_bounds_is_rejected_only_against_the_training_data(tmp_path):
    def in_hours(t):  # session durations in hours: 1.25, inside 0..300 min (no typical range)
        t["training_load"]["duration_min"] = "1.25"

    folder = _folder(tmp_path / "in", in_hours)
    assert _both_paths(folder).ok  # the contract alone cannot tell
    res = _both_paths(folder, **_training(tmp_path))
    assert set(res.problems["reason"]) == {
        "training_load.csv: duration_min: median 1.25 vs training median 75 min (training 5-95 %: "
        "75..75, n=12): looks like hours (x 1/60) - convert the column and import again"
    }
    # an optional column: the cells emptied and listed, the rows kept
    assert res.counts["training_load"]["cells_emptied"] == 12 and res.counts["training_load"]["rejected"] == 0
    assert res.tables["training_load"]["duration_min"].isna().all()


def test_too_few_values_are_not_judged(tmp_path):
    def few(t):
        t["strength_tests"] = t["strength_tests"].head(SCORE.reference_min_values - 1).assign(value="67.4")

    assert _both_paths(_folder(tmp_path / "in", few), **_training(tmp_path)).ok


def test_height_and_body_mass_swapped_by_the_typical_ranges(tmp_path):
    """Swapped, each column also looks like a unit slip (inches, pounds): the swap is the finding."""

    def swap(t):
        a = t["athletes"]
        a["height_cm"], a["body_mass_kg"] = a["body_mass_kg"], a["height_cm"]

    res = _both_paths(_folder(tmp_path / "in", swap))
    athletes = res.problems[res.problems["table"] == "athletes"]
    assert set(athletes["column"]) == {"height_cm", "body_mass_kg"} and len(athletes) == 8
    assert set(athletes["reason"]) == {
        "athletes.csv: height_cm and body_mass_kg look swapped: median height_cm 68.2 fits the contract's "
        "typical median range of body_mass_kg and median body_mass_kg 174 that of height_cm (4 rows) - "
        "swap the columns (or fix the mapping) and import again"
    }
    assert res.counts["athletes"]["accepted"] == 0  # nothing lost: every row in rejected_rows


def test_contact_and_flight_time_swapped_by_the_training_ranges(tmp_path):
    def swap(t):
        s = t["sprint_steps"]
        s["contact_time_ms"], s["flight_time_ms"] = s["flight_time_ms"], s["contact_time_ms"]

    folder = _folder(tmp_path / "in", swap)
    # contact 45..60 ms is below the contract's bounds (60..400): rejected cell by cell without a reference
    assert not _both_paths(folder).problems["reason"].str.contains("swapped").any()
    res = _both_paths(folder, **_training(tmp_path))
    hits = res.problems[res.problems["reason"].str.contains("look swapped", regex=False)]
    assert set(hits["column"]) == {"contact_time_ms", "flight_time_ms"} and len(hits) == 8
    assert "fits the training 5-95 % range of flight_time_ms" in hits["reason"].iloc[0]


def test_valid_folder_has_no_plausibility_finding(tmp_path):
    res = _both_paths(write_folder(tmp_path / "in", valid_contract_tables()), **_training(tmp_path))
    assert res.ok, res.problems.to_string()


def test_the_train_stage_stores_the_summary_in_the_drift_reference(tmp_path):
    assert CONTRACT_KEY == REFERENCE_KEY
    summary = {"version": 1, "columns": {"athletes.height_cm": REF}}
    ref = log_training_reference(None, pd.DataFrame({"x": [1.0, 2.0]}), tmp_path, summary)
    assert ref[REFERENCE_KEY] == summary
    assert '"contract_columns"' in (tmp_path / "drift_reference.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "reference",
    [
        {"columns": []},
        {"columns": {"athletes.height_cm": {"median": "tall"}}},
        {"columns": {"strength_tests.value[test=nordic_eccentric]": {"median": 300, "q05": None}}},
        {"version": 1},
    ],
)
def test_a_malformed_reference_is_left_out_never_a_traceback(reference, tmp_path):
    res = validate_folder(
        write_folder(tmp_path / "in", valid_contract_tables()),
        today=TODAY,
        reference=reference,
        reference_params=SCORE,
    )
    assert res.ok
