"""Bounce-back builders: the 0-10 m level of the latest sprint test, alone and against the athlete's
own earlier tests.

A test slower than the athlete's own level is followed, on average, by a faster one whatever the
training (regression to the mean: test-day variation). These features predict the next change well
but name nothing a coach can train, so their family (``bounce_back``, "Test-day variation (regression
to own level)") is explained on its own and never offered as a lever (``domain.NOT_TRAINABLE_FAMILIES``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sprintlab.features.builder import Builder, Features, PanelInputs
from sprintlab.features.grid import expanding_mean_std
from sprintlab.features.timing import SPRINT


def own_level_before(session_best: pd.DataFrame, blocks: pd.DataFrame) -> pd.DataFrame:
    """Each block's own level: the mean best-of-trials 0-10 m time (s) of the athlete's sessions
    *before* the block's opening test (``own_level_s``, NaN for a first test) and how many there
    were (``n_prior_tests``). Rows aligned with ``blocks`` (athlete_id, block_start_date)."""
    s = session_best.sort_values(["athlete_id", "date"])
    by_athlete = s.groupby("athlete_id")["t10_best_s"]
    n_prior = by_athlete.cumcount()
    prior_sum = by_athlete.cumsum() - s["t10_best_s"]
    prior = pd.DataFrame(
        {
            "athlete_id": s["athlete_id"],
            "block_start_date": s["date"],
            "own_level_s": prior_sum / n_prior.replace(0, np.nan),
            "n_prior_tests": n_prior,
        }
    )
    keyed = blocks[["athlete_id", "block_start_date"]].merge(
        prior, on=["athlete_id", "block_start_date"], how="left"
    )
    return keyed[["own_level_s", "n_prior_tests"]].set_axis(blocks.index)


def latest_t10(inputs: PanelInputs) -> Features:
    """Best 10 m time of the latest sprint session (s)."""
    return {"t10_best_s": inputs.latest(inputs.sprint_sessions, "t10_best_s")}


def t10_against_own_tests(inputs: PanelInputs) -> Features:
    """Latest best 10 m time (s) minus: the mean of all the athlete's tests so far
    (``t10_vs_own_typical_s``), the mean of the tests *before* it (``t10_vs_own_level_s``: the
    deviation the transfer label's own-level adjustment uses, :func:`own_level_before`;
    NaN at a first test), the first test (``t10_vs_first_test_s``) and the previous test
    (``t10_trend_s``). Positive = slower."""
    sessions = inputs.sprint_sessions
    grid = inputs.grid
    t10_s = grid.scatter(sessions, "t10_best_s", "mean")
    latest_s = grid.latest_at_week_ends(t10_s)
    typical_s = grid.latest_at_week_ends(expanding_mean_std(t10_s)[0])
    first_s = t10_s[np.arange(t10_s.shape[0]), np.argmax(np.isfinite(t10_s), axis=1)]
    previous = sessions.sort_values(["athlete_id", "date"]).assign(
        t10_prev=lambda d: d.groupby("athlete_id")["t10_best_s"].shift(1),
        own_level=lambda d: own_level_before(d, d.rename(columns={"date": "block_start_date"}))[
            "own_level_s"
        ],
    )
    previous_s = grid.latest_at_week_ends(grid.scatter(previous, "t10_prev", "mean"))
    own_level_s = grid.latest_at_week_ends(grid.scatter(previous, "own_level", "mean"))
    return {
        "t10_vs_own_typical_s": latest_s - typical_s,
        "t10_vs_own_level_s": latest_s - own_level_s,
        "t10_vs_first_test_s": latest_s - first_s[:, None],
        "t10_trend_s": latest_s - previous_s,
    }


BUILDERS = (
    Builder(("t10_best_s",), latest_t10, needs=(SPRINT,)),
    Builder(
        ("t10_vs_own_typical_s", "t10_vs_own_level_s", "t10_vs_first_test_s", "t10_trend_s"),
        t10_against_own_tests,
        needs=(SPRINT,),
    ),
)
