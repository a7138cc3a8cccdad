"""Wellness builders: 7-day means of the daily questionnaire items, against the athlete's own
baseline and long-term norm, sleep since the last sprint test, and how often reports are missing."""

from __future__ import annotations

from functools import partial

import numpy as np

from sprintlab.features.builder import Builder, Features, Need, PanelInputs
from sprintlab.features.grid import (
    RunningSums,
    baseline_before,
    long_term_norm,
    rolling_count,
    segment_mean,
)

WELLNESS_ITEMS = (
    "sleep_hours",
    "sleep_quality",
    "fatigue",
    "soreness",
    "stress",
    "mood",
    "hamstring_tightness",
)
NORM_ITEMS = ("sleep_hours", "soreness")  # items also compared with the athlete's long-term norm
RECENT_DAYS = 7
MISSING_RATE_DAYS = 28


def _daily(inputs: PanelInputs, item: str) -> np.ndarray:
    """Daily value of one wellness item (mean of the day's reports; NaN without a report)."""
    return inputs.shared(
        f"wellness/{item}", lambda: inputs.grid.scatter(inputs.tables["wellness"], item, "mean")
    )


def item_trend(inputs: PanelInputs, item: str) -> Features:
    """``<item>_7d``: mean over the last 7 days; ``<item>_z``: that mean against the athlete's
    baseline, (7-day mean - baseline mean) / baseline SD over ``wellness_baseline_days``."""
    sums = RunningSums(_daily(inputs, item))
    recent = sums.mean(RECENT_DAYS)
    baseline_mean = sums.mean(inputs.wellness_baseline_days)
    baseline_sd = sums.std(inputs.wellness_baseline_days)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(baseline_sd > 0, (recent - baseline_mean) / baseline_sd, np.nan)
    return {f"{item}_7d": inputs.grid.at_week_ends(recent), f"{item}_z": inputs.grid.at_week_ends(z)}


def item_vs_norm(inputs: PanelInputs, item: str) -> Features:
    """7-day mean against the athlete's long-term norm (:func:`long_term_norm`, the days before
    the last 7): a 56-day baseline follows slow swings (weeks of poor sleep) and hides them."""
    daily = _daily(inputs, item)
    gap = RunningSums(daily).mean(RECENT_DAYS) - long_term_norm(daily, RECENT_DAYS)
    return {f"{item}_vs_norm": inputs.grid.at_week_ends(gap)}


def sleep_deficit_since_test(inputs: PanelInputs) -> Features:
    """Mean nightly sleep since the last sprint test below the athlete's long-term norm before
    that test (h; positive = less sleep), not the 56-day window that overlaps the block."""
    sleep_h = _daily(inputs, "sleep_hours")
    test_days = inputs.sprint_test_days
    deviation_h = np.where(np.isfinite(sleep_h), sleep_h - baseline_before(sleep_h, test_days), np.nan)
    return {"sleep_deficit_since_test_h": inputs.grid.at_week_ends(-segment_mean(deviation_h, test_days))}


def missing_reports(inputs: PanelInputs) -> Features:
    """Share of the last 28 days (fewer since the athlete's first report) without any wellness
    report; NaN before the first report."""
    grid = inputs.grid
    reported = np.zeros((grid.n_athletes, grid.n_days), dtype=bool)
    for item in WELLNESS_ITEMS:
        if Need("wellness", item).unmet(inputs.tables) is None:
            reported |= np.isfinite(_daily(inputs, item))
    first = np.argmax(reported, axis=1)
    day = np.arange(grid.n_days)[None, :]
    reports = rolling_count(np.where(reported, 1.0, np.nan), MISSING_RATE_DAYS)
    span = np.minimum(day - first[:, None] + 1, MISSING_RATE_DAYS)
    rate = np.where(day >= first[:, None], 1 - reports / np.maximum(span, 1), np.nan)
    return {"wellness_missing_rate_28d": grid.at_week_ends(rate)}


BUILDERS = (
    *(
        Builder((f"{item}_7d", f"{item}_z"), partial(item_trend, item=item), needs=(Need("wellness", item),))
        for item in WELLNESS_ITEMS
    ),
    *(
        Builder((f"{item}_vs_norm",), partial(item_vs_norm, item=item), needs=(Need("wellness", item),))
        for item in NORM_ITEMS
    ),
    Builder(
        ("sleep_deficit_since_test_h",),
        sleep_deficit_since_test,
        needs=(Need("wellness", "sleep_hours"), Need("sprint_splits")),
    ),
    Builder(("wellness_missing_rate_28d",), missing_reports, needs=(Need("wellness"),)),
)
