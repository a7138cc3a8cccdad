"""Which configured features a model's training data provide, and the families left out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sprintlab.models.datasets import NO_TRAINING_VALUES, NOT_IN_PANEL, feature_coverage

FEATURES = [
    "squat_e1rm_rel",
    "first_step_contact_ms",
    "touchdown_distance_m",
    "t10_best_s",
    "sleep_deficit_since_test_h",
    "acwr_ewma",
]


def _units() -> pd.DataFrame:
    n = 6
    return pd.DataFrame(
        {
            "label_complete": [True] * 5 + [False],
            "squat_e1rm_rel": np.linspace(1, 2, n),
            "t10_best_s": np.linspace(1.7, 1.9, n),
            "acwr_ewma": [np.nan] * 5 + [1.2],  # a value only where the label is incomplete
        }
    )


def test_absent_features_get_the_panels_reason_or_their_own():
    skipped = {
        "first_step_contact_ms": "no sprint_steps table",
        "touchdown_distance_m": "no sprint_steps table",
        "sleep_deficit_since_test_h": "no wellness table",
    }
    cov = feature_coverage(_units(), FEATURES, skipped)
    assert cov.used == ("squat_e1rm_rel", "t10_best_s")
    assert cov.not_assessed == {**skipped, "acwr_ewma": NO_TRAINING_VALUES}
    # t10_best_s is bounce-back (test-day variation), so without step data no timing feature is left
    assert cov.families_not_assessed == {
        "timing": "no sprint_steps table",
        "wellness": "no wellness table",
        "load": NO_TRAINING_VALUES,
    }
    assert cov.families_partly_assessed == {}
    assert cov.sentences() == [
        "not assessed: Sprint timing and braking (no sprint_steps table)",
        f"not assessed: Training load ({NO_TRAINING_VALUES})",
        "not assessed: Wellness (no wellness table)",
    ]
    doc = cov.to_json()
    assert doc["features"] == ["squat_e1rm_rel", "t10_best_s"] and doc["families_not_assessed"]["wellness"]


def test_everything_provided_says_nothing_and_unknown_names_are_reported():
    cov = feature_coverage(_units(), ["squat_e1rm_rel", "t10_best_s"])
    assert cov.not_assessed == {} and cov.sentences() == []
    odd = feature_coverage(_units(), ["squat_e1rm_rel", "my_vendor_score"])
    assert odd.not_assessed == {"my_vendor_score": NOT_IN_PANEL}
    assert odd.sentences() == [f"not assessed: features outside the catalogue ({NOT_IN_PANEL})"]


def test_an_unrecorded_optional_stream_leaves_no_family_partly_assessed(tmp_path) -> None:
    import json

    from sprintlab.pipeline.features import FEATURE_LOG, panel_skipped

    (tmp_path / FEATURE_LOG).write_text(
        json.dumps(
            {
                "skipped": {"first_step_contact_ms": "no sprint_steps table"},
                "not_recorded": {"insitu_mss_m_s": "no tracking_samples table"},
            }
        )
    )
    skipped = panel_skipped(tmp_path)
    assert skipped["insitu_mss_m_s"] == "not recorded: no tracking_samples table"
    units = pd.DataFrame({"t5_best_s": [1.1, 1.2], "label_complete": [True, True]})
    cov = feature_coverage(units, ["t5_best_s", "first_step_contact_ms", "insitu_mss_m_s"], skipped)
    assert cov.used == ("t5_best_s",)
    assert cov.streams_not_recorded == {"no tracking_samples table": ("insitu_mss_m_s",)}
    # timing is partly assessed because sprint_steps is missing, not because GPS/LPS traces are
    assert cov.families_partly_assessed == {"timing": ("first_step_contact_ms",)}
    assert all("tracking" not in line for line in cov.sentences())
    assert cov.to_json()["streams_not_recorded"] == {"no tracking_samples table": ["insitu_mss_m_s"]}
