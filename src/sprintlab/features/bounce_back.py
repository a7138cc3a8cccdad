"""Bounce-back builders: the 0-10 m level of the latest sprint test, alone and against the athlete's
own earlier tests.

A test slower than the athlete's own level is followed, on average, by a faster one whatever the
training (regression to the mean: test-day variation). These features predict the next change well
but name nothing a coach can train, so their family (``bounce_back``, "Test-day variation (regression
to own level)") is explained on its own and never offered as a lever (``domain.NOT_TRAINABLE_FAMILIES``).
"""

from __future__ import annotations

import numpy as np

from sprintlab.features.builder import Builder, Features, PanelInputs
from sprintlab.features.grid import expanding_mean_std
from sprintlab.features.timing import SPRINT


def latest_t10(inputs: PanelInputs) -> Features:
    """Best 10 m time of the latest sprint session (s)."""
    return {"t10_best_s": inputs.latest(inputs.sprint_sessions, "t10_best_s")}


def t10_against_own_tests(inputs: PanelInputs) -> Features:
    """Latest best 10 m time (s) minus: the mean of all the athlete's tests so far
    (``t10_vs_own_typical_s``), the first test (``t10_vs_first_test_s``) and the previous test
    (``t10_trend_s``). Positive = slower."""
    sessions = inputs.sprint_sessions
    grid = inputs.grid
    t10_s = grid.scatter(sessions, "t10_best_s", "mean")
    latest_s = grid.latest_at_week_ends(t10_s)
    typical_s = grid.latest_at_week_ends(expanding_mean_std(t10_s)[0])
    first_s = t10_s[np.arange(t10_s.shape[0]), np.argmax(np.isfinite(t10_s), axis=1)]
    previous = sessions.sort_values(["athlete_id", "date"]).assign(
        t10_prev=lambda d: d.groupby("athlete_id")["t10_best_s"].shift(1)
    )
    previous_s = grid.latest_at_week_ends(grid.scatter(previous, "t10_prev", "mean"))
    return {
        "t10_vs_own_typical_s": latest_s - typical_s,
        "t10_vs_first_test_s": latest_s - first_s[:, None],
        "t10_trend_s": latest_s - previous_s,
    }


BUILDERS = (
    Builder(("t10_best_s",), latest_t10, needs=(SPRINT,)),
    Builder(
        ("t10_vs_own_typical_s", "t10_vs_first_test_s", "t10_trend_s"), t10_against_own_tests, needs=(SPRINT,)
    ),
)
