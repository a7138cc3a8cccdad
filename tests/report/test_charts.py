"""Chart helpers: percent formatting, waterfall arithmetic, PNG output."""

from __future__ import annotations

import base64
import math

import pandas as pd
import pytest

from sprintlab.report import charts


@pytest.mark.parametrize(
    ("p", "text"),
    [(0.234, "23%"), (0.0, "<1%"), (0.004, "<1%"), (0.999, ">99%"), (float("nan"), "n/a"), (0.5, "50%")],
)
def test_pct(p, text):
    assert charts.pct(p) == text


def test_waterfall_lands_on_the_shown_probability():
    steps = charts.waterfall_steps(0.3, [0.8, -0.2, 0.1], total_shap=0.9)
    assert math.isclose(steps[-1][1], 0.3)
    assert all(math.isclose(steps[i][1], steps[i + 1][0]) for i in range(len(steps) - 1))
    base = 1 / (1 + math.exp(-(math.log(0.3 / 0.7) - 0.9)))
    assert math.isclose(steps[0][0], base)
    assert steps[0][1] > steps[0][0] and steps[1][1] < steps[1][0]


def test_charts_are_png_data_uris():
    d = pd.DataFrame({"rank": [1, 2], "family": ["load", "nope"], "shap": [0.5, -0.2]})
    uri = charts.driver_waterfall(d, 0.25, 0.4, "hamstring", ["a", "b"], {"load": "Training load"})
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 2000
    h = pd.DataFrame(
        {
            "athlete_id": "x",
            "week_end": pd.date_range("2026-01-04", periods=3, freq="7D"),
            "hamstring_risk": [0.1, 0.2, 0.15],
        }
    )
    assert charts.risk_trend(h, 0.2).startswith("data:image/png;base64,")
