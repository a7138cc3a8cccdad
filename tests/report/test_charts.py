"""Chart helpers: percent formatting, waterfall arithmetic, PNG squad charts, inline-SVG athlete charts."""

from __future__ import annotations

import base64
import math
import re
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from sprintlab.report import charts
from sprintlab.report.context import FAMILY_COLOURS, OTHER_COLOUR

ALT = 'Bar chart for A-1: risk <goes> from "6%" to 25% & more'


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


def test_squad_charts_are_png_data_uris():
    fi = pd.DataFrame({"model": "hamstring", "family": ["load", "strength"], "mean_abs_shap": [0.3, 0.1]})
    uri = charts.family_importance_bars(fi, "hamstring", {"load": "Training load"})
    assert uri.startswith("data:image/png;base64,")
    raw = base64.b64decode(uri.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 2000


@pytest.mark.parametrize(
    ("hi", "step"), [(5, 1), (8, 2), (14, 2), (15, 5), (34, 5), (52, 10), (100, 20), (1000, 100)]
)
def test_nice_step_gives_whole_number_ticks(hi, step):
    assert charts.nice_step(hi) == step
    assert hi / step <= 7 or step == 100


# ---------------------------------------------------------------- inline-SVG waterfall


def _drivers():
    # rank order deliberately not the row order; one family outside the palette
    return pd.DataFrame(
        {
            "rank": [2, 1, 3, 4],
            "family": ["control", "load", "nope", "strength"],
            "shap": [-0.6, 0.9, 0.3, -0.1],
        }
    )


def _waterfall(final=0.25, total=0.4, alt=ALT):
    return charts.waterfall_svg(
        _drivers(),
        final,
        total,
        "hamstring",
        ["load thing", "control thing", "other thing", "strength thing"],
        {"load": "Training load"},
        alt,
    )


def _bars(root):
    return root.findall(".//rect[@class='bar']")


def _edges(bar):
    x, w = float(bar.get("x")), float(bar.get("width"))
    return x, x + w


def test_waterfall_svg_is_valid_xml_with_a_text_alternative():
    svg = _waterfall()
    root = ET.fromstring(svg)  # well-formed XML, escaping included
    assert root.tag == "svg"
    assert root.get("role") == "img"
    assert root.get("aria-label") == ALT
    assert root.find("title").text == ALT
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    # self-contained: no namespace URL, links, external references or scripts
    assert not re.search(r"https?:|href|url\(|<script|<image", svg)


def test_waterfall_svg_has_one_bar_per_driver_in_rank_order_with_family_colours():
    root = ET.fromstring(_waterfall())
    bars = _bars(root)
    d = _drivers().sort_values("rank")
    assert len(bars) == len(d) + 1  # drivers + "All other factors"
    expected = [FAMILY_COLOURS.get(f, OTHER_COLOUR) for f in d["family"]] + [OTHER_COLOUR]
    assert [b.get("fill") for b in bars] == expected
    assert [b.get("data-family") for b in bars] == ["load", "control", "other", "strength", "other"]
    # rank order top to bottom
    ys = [float(b.get("y")) for b in bars]
    assert ys == sorted(ys)
    labels = [
        " ".join(t.itertext())
        for t in root.findall(".//g[@class='labels']/text")
        if t.get("class") != "delta"
    ]
    assert labels == ["load thing", "control thing", "other thing", "strength thing", "Other factors"]


def test_waterfall_svg_bar_lengths_and_signs_follow_the_steps():
    final, total = 0.25, 0.4
    root = ET.fromstring(_waterfall(final, total))
    bars = _bars(root)
    d = _drivers().sort_values("rank")
    steps = charts.waterfall_steps(final, d["shap"].tolist(), total)
    deltas = [(b - a) * 100 for a, b in steps]
    # the sign of each bar is the sign of the driver's SHAP value (sigmoid is monotonic)
    shown = [float(b.get("data-delta")) for b in bars]
    assert np.allclose(shown, deltas, atol=0.01)
    assert [np.sign(v) for v in shown[:-1]] == [np.sign(s) for s in d["shap"]]
    # bar length proportional to the size of the step (one pixels-per-point scale for every bar)
    widths = np.array([_edges(b)[1] - _edges(b)[0] for b in bars])
    scale = widths / np.abs(deltas)
    assert np.allclose(scale, scale[0], rtol=0.02)
    # waterfall: each bar starts where the previous one ended
    ends = [_edges(b)[1] if v >= 0 else _edges(b)[0] for b, v in zip(bars, shown, strict=True)]
    starts = [_edges(b)[0] if v >= 0 else _edges(b)[1] for b, v in zip(bars, shown, strict=True)]
    assert np.allclose(ends[:-1], starts[1:], atol=0.15)
    # the solid line marks the athlete's estimate, where the last bar lands; dotted line = squad start
    final_line = root.find(".//line[@class='final']")
    base_line = root.find(".//line[@class='base']")
    assert math.isclose(float(final_line.get("x1")), ends[-1], abs_tol=0.15)
    assert math.isclose(float(base_line.get("x1")), starts[0], abs_tol=0.15)
    assert base_line.get("stroke-dasharray") and not final_line.get("stroke-dasharray")
    # value labels: signed whole points
    words = [t.text for t in root.findall(".//text[@class='delta']")]
    assert words == [
        ("+" if v >= 0 else "−") + f"{abs(v):.0f} pts" if abs(v) >= 0.5 else "±0 pts" for v in shown
    ]
    assert words[0].startswith("+") and words[1].startswith("−")


def test_waterfall_svg_text_is_dark_on_white():
    root = ET.fromstring(_waterfall())
    assert root.find("rect[@class='bg']").get("fill") == "#FFFFFF"
    fills = {t.get("fill") or root.get("fill") for t in root.iter("text")}
    for f in fills:
        assert _contrast(f, "#FFFFFF") >= 4.5, f


def test_waterfall_svg_is_byte_stable_and_shows_no_decimal_percents():
    a, b = _waterfall(), _waterfall()
    assert a == b
    assert not re.search(r"\d+\.\d+%", a)


# ---------------------------------------------------------------- inline-SVG risk trend


def _hist(risks):
    return pd.DataFrame(
        {
            "athlete_id": "x",
            "week_end": pd.date_range("2026-01-04", periods=len(risks), freq="7D")[::-1],  # unsorted input
            "hamstring_risk": risks[::-1],
        }
    )


def test_risk_trend_svg_points_line_and_threshold():
    risks = [0.1, 0.3, float("nan"), 0.15, 0.05]
    root = ET.fromstring(charts.risk_trend_svg(_hist(risks), 0.2, "flag at 20%", "Line chart of x"))
    assert root.get("role") == "img" and root.get("aria-label") == "Line chart of x"
    assert root.find("title").text == "Line chart of x"
    pts = root.findall(".//circle[@class='point']")
    finite = [r for r in risks if np.isfinite(r)]
    assert [float(p.get("data-risk")) for p in pts] == pytest.approx([100 * r for r in finite])
    xs = [float(p.get("cx")) for p in pts]
    assert xs == sorted(xs)  # chronological, left to right
    ys = np.array([float(p.get("cy")) for p in pts])
    # higher risk is higher up (smaller y), linear in the risk
    slope = np.polyfit(np.array(finite), ys, 1)[0]
    assert slope < 0 and np.allclose(ys, np.polyval(np.polyfit(np.array(finite), ys, 1), finite), atol=0.1)
    # the line breaks at the missing week: two segments (weeks 1-2 and 4-5)
    lines = root.findall(".//polyline[@class='line']")
    assert [len(pl.get("points").split()) // 2 for pl in lines] == [2, 2]
    thr = float(root.find(".//line[@class='threshold']").get("y1"))
    assert math.isclose(thr, float(np.polyval(np.polyfit(np.array(finite), ys, 1), 0.2)), abs_tol=0.1)
    texts = [" ".join(t.itertext()) for t in root.iter("text")]
    assert "flag at 20%" in texts and "Week ending" in texts and "Hamstring risk" in texts
    assert "4 Jan" in texts
    for t in root.iter("text"):  # the red "flag at" label included
        assert _contrast(t.get("fill") or root.get("fill"), "#FFFFFF") >= 4.5


def test_risk_trend_svg_thins_tick_labels_and_handles_all_missing():
    h = _hist([0.1] * 20)
    root = ET.fromstring(charts.risk_trend_svg(h, 0.2, "flag at 20%", "alt text"))
    dates = [t for t in root.iter("text") if re.fullmatch(r"\d+ [A-Z][a-z]{2}", t.text or "")]
    assert 2 <= len(dates) <= 8
    empty = ET.fromstring(charts.risk_trend_svg(_hist([float("nan")] * 3), 0.2, "flag at 20%", "alt text"))
    assert not empty.findall(".//circle") and not empty.findall(".//polyline")


# ---------------------------------------------------------------- helpers


def _contrast(a: str, b: str) -> float:
    def lum(h: str) -> float:
        rgb = [int(h.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    la, lb = lum(a), lum(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def test_risk_trend_svg_without_a_flag_line():
    """A weekly top share has no fixed line: with ``None`` nothing is drawn or labelled."""
    root = ET.fromstring(charts.risk_trend_svg(_hist([0.1, 0.3, 0.2]), None, "", "alt text"))
    assert root.find(".//line[@class='threshold']") is None
    assert not [t for t in root.iter("text") if "flag" in " ".join(t.itertext())]
    cut = ET.fromstring(charts.risk_trend_svg(_hist([0.1, 0.3, 0.2]), 0.25, "this week's cut-off 25%", "alt"))
    assert "this week's cut-off 25%" in [" ".join(t.itertext()) for t in cut.iter("text")]
