"""Feature builders: needs give the reason a feature is skipped; a builder returns what it declares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.features.builder import Builder, Need, PanelInputs
from sprintlab.features.grid import DayGrid

TABLES = {
    "training_load": pd.DataFrame({"athlete_id": ["a"], "rpe": [5.0], "hsr_distance_m": [np.nan]}),
    "strength_tests": pd.DataFrame({"athlete_id": ["a"], "test": ["imtp"], "value": [2500.0]}),
    "injuries": pd.DataFrame({"athlete_id": pd.Series(dtype=str)}),
}


@pytest.mark.parametrize(
    ("need", "reason"),
    [
        (Need("wellness"), "no wellness table"),
        (Need("injuries"), "no injuries table"),
        (Need("injuries", empty_ok=True), None),
        (Need("training_load"), None),
        (Need("training_load", "rpe"), None),
        (Need("training_load", "max_speed_m_s"), "training_load has no max_speed_m_s"),
        (Need("training_load", "hsr_distance_m"), "training_load has no hsr_distance_m"),
        (Need("strength_tests", "test", "imtp"), None),
        (Need("strength_tests", "test", "cmj_height"), "no cmj_height rows in strength_tests"),
    ],
)
def test_need_says_what_is_missing(need, reason):
    assert need.unmet(TABLES) == reason


def _constant(inputs: PanelInputs) -> dict[str, np.ndarray]:
    return {"x": np.zeros((inputs.grid.n_athletes, inputs.grid.week_end_days.size))}


def test_skip_reason_is_the_first_unmet_need_then_a_used_feature_reason():
    builder = Builder(("x",), _constant, needs=(Need("training_load"), Need("wellness"), Need("gym_sets")))
    assert builder.skip_reason(TABLES, {}) == "no wellness table"
    combining = Builder(("y",), _constant, uses=("x", "z"))
    assert combining.skip_reason(TABLES, {"z": "no gym_sets table"}) == "no gym_sets table"
    assert combining.skip_reason(TABLES, {}) is None


def test_a_builder_must_return_exactly_what_it_declares():
    inputs = PanelInputs(TABLES, DayGrid(np.array(["a"]), pd.Timestamp("2025-01-06"), 14), 56)
    assert set(Builder(("x",), _constant).run(inputs)) == {"x"}
    with pytest.raises(RuntimeError, match="_constant returned"):
        Builder(("x", "y"), _constant).run(inputs)
