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
    assert cov.families_not_assessed == {"wellness": "no wellness table", "load": NO_TRAINING_VALUES}
    assert cov.families_partly_assessed == {"timing": ("first_step_contact_ms", "touchdown_distance_m")}
    assert cov.sentences() == [
        f"not assessed: Training load ({NO_TRAINING_VALUES})",
        "not assessed: Wellness (no wellness table)",
        "partly assessed: Sprint timing and braking, without first_step_contact_ms and "
        "touchdown_distance_m (no sprint_steps table)",
    ]
    doc = cov.to_json()
    assert doc["features"] == ["squat_e1rm_rel", "t10_best_s"] and doc["families_not_assessed"]["wellness"]


def test_everything_provided_says_nothing_and_unknown_names_are_reported():
    cov = feature_coverage(_units(), ["squat_e1rm_rel", "t10_best_s"])
    assert cov.not_assessed == {} and cov.sentences() == []
    odd = feature_coverage(_units(), ["squat_e1rm_rel", "my_vendor_score"])
    assert odd.not_assessed == {"my_vendor_score": NOT_IN_PANEL}
    assert odd.sentences() == [f"not assessed: features outside the catalogue ({NOT_IN_PANEL})"]
