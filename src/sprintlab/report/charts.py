"""Report charts: squad charts as matplotlib PNG ``data:`` URIs, per-athlete charts as inline SVG.

Squad-level figures are built with ``matplotlib.figure.Figure`` (Agg canvas) rather than pyplot, so no
global figure registry, no interactive backend and nothing to close; output is byte-stable for
the same inputs. Coach-facing axes never show log-odds numbers: the waterfall is in percent /
percentage points, importance is a share of the model's explanation, and the beeswarm and
dependence plots show direction ("raises" / "lowers") instead of SHAP tick values.
"""

from __future__ import annotations

import base64
import html
import io
import math
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure

from sprintlab.domain import FAMILIES, sigmoid
from sprintlab.report.context import MODEL_WORDS, OTHER_COLOUR, family_colour

DPI = 110
TEXT = "#1A1A1A"
MUTED = "#4D4D4D"
GRID = "#D9D9D9"
# low value -> high value; both ends distinguishable for red-green colour blindness
VALUE_CMAP = LinearSegmentedColormap.from_list(
    "sprintlab_value", ["#2C7BB6", "#ABD9E9", "#FDAE61", "#D7191C"]
)

_RC: dict[Any, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.edgecolor": MUTED,
    "axes.labelcolor": TEXT,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.titlecolor": TEXT,
    "xtick.color": TEXT,
    "ytick.color": TEXT,
    "text.color": TEXT,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "svg.hashsalt": "sprintlab",
}


# matplotlib's defaults without ``backend``: setting the global backend back to its "auto" default
# makes matplotlib resolve it, which imports pyplot and its style library (~0.3 s); the charts are
# drawn on a Figure's own canvas and never use the global backend
_DEFAULTS: dict[Any, Any] = {k: v for k, v in mpl.rcParamsDefault.items() if k != "backend"}


@contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(rc=_DEFAULTS), mpl.rc_context(rc=_RC):
        yield


def to_data_uri(fig: Figure) -> str:
    """The figure as a PNG data URI. Every chart is laid out by ``fig.tight_layout()`` before, so no
    ``bbox_inches="tight"``: it draws the figure twice (a quarter of a report's rendering) to trim a
    few pixels of margin."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def pct(p: float) -> str:
    """Whole percent for coaches: ``"23%"``, ``"<1%"``, ``">99%"``."""
    if p is None or not np.isfinite(p):
        return "n/a"
    if p < 0.005:
        return "<1%"
    if p > 0.995:
        return ">99%"
    return f"{100 * p:.0f}%"


def _short(text: str, n: int = 46) -> str:
    return text if len(text) <= n else text[: n - 1].rstrip() + "…"


def _wrap(text: str, width: int = 34, lines: int = 2) -> str:
    """Wrap a label onto at most ``lines`` lines (the last one shortened with an ellipsis)."""
    parts = textwrap.wrap(text, width=width) or [""]
    if len(parts) > lines:
        parts = parts[: lines - 1] + [_short(" ".join(parts[lines - 1 :]), width)]
    return "\n".join(parts)


def waterfall_steps(
    final_prob: float, driver_shap: list[float], total_shap: float
) -> list[tuple[float, float]]:
    """Probability-space waterfall: (start, end) for each driver, then for "all other factors".

    The start is ``sigmoid(logit(final) - total_shap)`` (the model's squad baseline); each driver
    moves the running log-odds by its SHAP value; the last step lands exactly on ``final_prob``, so
    a calibrated probability is honoured even when it differs from the raw model output.
    """
    z = _logit(final_prob) - float(total_shap)
    steps = []
    for s in driver_shap:
        start = float(sigmoid(z))
        z += float(s)
        steps.append((start, float(sigmoid(z))))
    steps.append((float(sigmoid(z)), float(final_prob)))
    return steps


def family_importance_bars(fi: pd.DataFrame, model: str, family_labels: dict[str, str]) -> str:
    """Share of the model's explanation carried by each family (mean |SHAP| / total)."""
    d = fi[fi["model"] == model].copy()
    total = d["mean_abs_shap"].sum()
    d["share"] = d["mean_abs_shap"] / total if total > 0 else 0.0
    d = d.sort_values("share", ascending=True)
    with _style():
        fig = Figure(figsize=(5.6, 0.38 * len(d) + 1.0))
        ax = fig.add_subplot()
        ax.barh(
            range(len(d)),
            d["share"] * 100,
            color=[family_colour(f) for f in d["family"]],
            height=0.62,
        )
        for i, s in enumerate(d["share"]):
            ax.text(s * 100 + 0.8, i, f"{100 * s:.0f}%", va="center", fontsize=8)
        ax.set_yticks(range(len(d)))
        ax.set_yticklabels([_wrap(family_labels.get(f, f), 30) for f in d["family"]])
        ax.set_xlim(0, max(float(d["share"].max()) * 100 * 1.2, 10) if len(d) else 100)
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        ax.set_xlabel(f"Share of what drives {MODEL_WORDS.get(model, model)} across the squad")
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        fig.tight_layout()
        return to_data_uri(fig)


def _swarm_offsets(x: np.ndarray, nbins: int = 60, width: float = 0.38) -> np.ndarray:
    """Deterministic beeswarm offsets: points in the same x-bin are stacked alternately up/down."""
    n = len(x)
    if n == 0:
        return np.zeros(0)
    span = float(np.ptp(x)) or 1.0
    bins = np.floor((x - x.min()) / span * nbins).astype(int)
    order = np.lexsort((np.arange(n), bins))
    offsets = np.zeros(n)
    layer = 0
    prev = None
    for idx in order:
        layer = layer + 1 if bins[idx] == prev else 0
        prev = bins[idx]
        k = (layer + 1) // 2
        offsets[idx] = k * (1 if layer % 2 else -1)
    m = np.abs(offsets).max()
    return offsets * (width / m) if m > 0 else offsets


def top_features(shap_long: pd.DataFrame, model: str, k: int = 10) -> list[str]:
    d = shap_long[shap_long["model"] == model]
    imp = d.assign(a=d["shap"].abs()).groupby("feature", sort=True)["a"].mean()
    return imp.sort_values(ascending=False, kind="mergesort").index[:k].tolist()


def beeswarm(shap_long: pd.DataFrame, model: str, labels: dict[str, str], k: int = 10) -> str:
    """Top-k features by mean |SHAP|: x = effect (direction only), colour = value percentile."""
    d = shap_long[shap_long["model"] == model]
    feats = top_features(shap_long, model, k)
    with _style():
        fig = Figure(figsize=(7.2, 0.5 * len(feats) + 1.3))
        ax = fig.add_subplot()
        sc = None
        for i, f in enumerate(feats):
            y = len(feats) - 1 - i
            g = d[d["feature"] == f]
            x = g["shap"].to_numpy(float)
            v = g["value"].to_numpy(float)
            pctl = pd.Series(v).rank(pct=True).to_numpy()
            missing = ~np.isfinite(pctl)
            off = _swarm_offsets(x)
            if missing.any():
                ax.scatter(x[missing], y + off[missing], s=9, color="#9E9E9E", linewidths=0)
            sc = ax.scatter(
                x[~missing],
                y + off[~missing],
                c=pctl[~missing],
                cmap=VALUE_CMAP,
                vmin=0,
                vmax=1,
                s=11,
                linewidths=0,
                alpha=0.9,
            )
        ax.axvline(0, color=MUTED, linewidth=1)
        ax.set_yticks(range(len(feats)))
        ax.set_yticklabels([_wrap(labels.get(f, f), 36) for f in feats][::-1], fontsize=8)
        ax.set_xticks([])
        lo, hi = ax.get_xlim()
        word = MODEL_WORDS.get(model, model)
        ax.set_xlabel(f"← lowers {word}          each dot = one athlete          raises {word} →")
        ax.grid(axis="y", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        if sc is not None:
            cb = fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.035, ticks=[0, 1])
            cb.ax.set_yticklabels(["low", "high"])
            cb.set_label("Measured value (within squad)")
        fig.tight_layout()
        return to_data_uri(fig)


def dependence_plot(inter: pd.DataFrame, title: str) -> str:
    """Strength-gain effect on transfer vs strength change, coloured by the control score, under
    ``title`` (the caller's sentence of what these dots show)."""
    d = inter.dropna(subset=["strength_change_since_test_pct", "shap_strength"]).sort_values(
        ["strength_change_since_test_pct", "shap_strength"], kind="mergesort"
    )
    with _style():
        fig = Figure(figsize=(6.6, 3.9))
        ax = fig.add_subplot()
        sc = ax.scatter(
            d["strength_change_since_test_pct"],
            d["shap_strength"],
            c=d["control_score"],
            cmap=VALUE_CMAP,
            s=18,
            linewidths=0.3,
            edgecolors="white",
        )
        ax.axhline(0, color=MUTED, linewidth=1)
        ax.set_yticks([])
        ax.set_ylabel("← lowers   transfer chance   raises →")
        ax.set_xlabel("Squat strength change since the last sprint test (%)")
        ax.set_title(_wrap(title, 70), loc="left")
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        cb = fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.05)
        cb.set_label("Pelvic and trunk control (1 = poor, 5 = excellent)")
        fig.tight_layout()
        return to_data_uri(fig)


# ---------------------------------------------------------------- per-athlete charts: inline SVG
#
# The per-athlete waterfall and risk trend are drawn as hand-written SVG: there are two or three
# of them per athlete, and a matplotlib PNG costs ~0.1 s each while this costs well under 1 ms.
# The SVG is crisp at any zoom and in print, has no external references (no xmlns, no href, no
# url()), and is byte-stable. Accessibility: ``role="img"``, an ``aria-label`` and a ``<title>``
# carrying the same text alternative the PNG ``alt`` used to; the text inside is dark on white.

SVG_FONT = 13  # label size in SVG user units (px at 100 % zoom)
SVG_SMALL = 12
SVG_FAMILY = "DejaVu Sans, Segoe UI, Arial, Helvetica, sans-serif"  # as the page; explicit for standalone use
FLAG_COLOUR = "#B2182B"  # 6.9:1 on white
TREND_COLOUR = "#0072B2"
WATERFALL_ROW_H = 24.0  # one driver row of the waterfall (taller for a three-line name)
WATERFALL_BAR_H = 15.0
WATERFALL_NAME_LINE = 13.0
WATERFALL_WIDTH = 760


def _num(x: float) -> str:
    """Coordinate with one decimal, no ``-0.0``."""
    return f"{x + 0.0:.1f}".replace("-0.0", "0.0")


def _attr(text: str) -> str:
    return html.escape(str(text), quote=True)


def nice_step(hi: float, max_ticks: int = 7) -> int:
    """Whole-number tick step (1, 2, 5, 10, 20, 25, 50) giving at most ``max_ticks`` intervals up to ``hi``."""
    for step in (1, 2, 5, 10, 20, 25, 50):
        if hi / step <= max_ticks:
            return step
    return 100


def _svg_open(width: int, height: int, alt: str, kind: str) -> list[str]:
    a = _attr(alt)
    return [
        f'<svg class="chart chart-{kind}" role="img" aria-label="{a}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="{SVG_FAMILY}" font-size="{SVG_FONT}" fill="{TEXT}">',
        f"<title>{a}</title>",
        f'<rect class="bg" x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>',
    ]


def _svg_text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int | None = None,
    colour: str | None = None,
    extra: str = "",
) -> str:
    attrs = f'x="{_num(x)}" y="{_num(y)}"'
    if anchor != "start":
        attrs += f' text-anchor="{anchor}"'
    if size is not None:
        attrs += f' font-size="{size}"'
    if colour is not None:
        attrs += f' fill="{colour}"'
    return f"<text {attrs}{extra}>{html.escape(text, quote=False)}</text>"


def _svg_lines(x: float, y_mid: float, lines: list[str], *, anchor: str, size: int, line_h: float) -> str:
    """Multi-line text vertically centred on ``y_mid`` (one ``tspan`` per line)."""
    y0 = y_mid - (len(lines) - 1) * line_h / 2 + size * 0.35
    spans = "".join(
        f'<tspan x="{_num(x)}" y="{_num(y0 + i * line_h)}">{html.escape(t, quote=False)}</tspan>'
        for i, t in enumerate(lines)
    )
    anchor_attr = f' text-anchor="{anchor}"' if anchor != "start" else ""
    return f'<text font-size="{size}"{anchor_attr}>{spans}</text>'


def _waterfall_legend(
    families: list[str], family_labels: dict[str, str], other: bool
) -> tuple[list[str], float]:
    """Family swatches in the fixed family order (rank order of first appearance is noisy), three
    four per row, then "Other factors" when that bar is drawn; returns the SVG parts and the y below."""
    present = [f for f in FAMILIES if f in set(families)]
    items = [(family_colour(f), _wrap(family_labels.get(f, f), 26, 3).split("\n")) for f in present]
    if other:
        items.append((OTHER_COLOUR, ["Other factors"]))
    ncol, col_w, leg_line = 4, 186.0, 13.0
    legend, y = [], 8.0
    for row in [items[i : i + ncol] for i in range(0, len(items), ncol)]:
        row_h = max(len(t) for _, t in row) * leg_line
        for j, (colour, text) in enumerate(row):
            lx = 16 + j * col_w
            legend.append(
                f'<rect x="{_num(lx)}" y="{_num(y + row_h / 2 - 6)}" width="12" height="12" fill="{colour}"/>'
            )
            legend.append(
                _svg_lines(lx + 18, y + row_h / 2, text, anchor="start", size=SVG_SMALL - 1, line_h=leg_line)
            )
        y += row_h + 6
    return legend, y


def _percent_axis(sx: Callable[[float], float], xmax: float, top: float, bottom: float) -> tuple[str, str]:
    """Vertical grid lines and the labelled ticks of a 0-``xmax`` % axis."""
    grid, ticks = [], []
    for t in range(0, int(xmax) + 1, nice_step(xmax)):
        gx = sx(t)
        grid.append(
            f'<line x1="{_num(gx)}" y1="{_num(top)}" x2="{_num(gx)}" y2="{_num(bottom)}" stroke="{GRID}"/>'
        )
        ticks.append(
            f'<line x1="{_num(gx)}" y1="{_num(bottom)}" x2="{_num(gx)}" y2="{_num(bottom + 4)}" stroke="{MUTED}"/>'
        )
        ticks.append(_svg_text(gx, bottom + 18, f"{t}%", anchor="middle", size=SVG_SMALL))
    return '<g class="grid">' + "".join(grid) + "</g>", '<g class="ticks">' + "".join(ticks) + "</g>"


def delta_words(delta_pts: float) -> str:
    """A bar's label in whole percentage points: "+8 pts", "−3 pts" (never zero: such bars are not drawn)."""
    return f"{'+' if delta_pts > 0 else '−'}{max(abs(delta_pts), 0.5):.0f} pts"


def _row_tops(names: list[list[str]], top: float) -> list[tuple[float, float]]:
    """Each waterfall row's (centre y, height): taller rows for three-line names."""
    rows, y = [], top
    for name in names:
        h = max(WATERFALL_ROW_H, WATERFALL_NAME_LINE * len(name) + 6)
        rows.append((y + h / 2, h))
        y += h
    return rows


def _arrow(left: float, right: float, yc: float, rising: bool, colour: str) -> str:
    """A small arrowhead at the moving end of a bar, pointing the way the number moves."""
    base, tip = (right, right + 6) if rising else (left, left - 6)
    return (
        f'<path class="arrow" d="M{_num(base)} {_num(yc - WATERFALL_BAR_H / 2)}L{_num(tip)} {_num(yc)}'
        f'L{_num(base)} {_num(yc + WATERFALL_BAR_H / 2)}Z" fill="{colour}"/>'
    )


def _waterfall_bars(
    steps: list[tuple[float, float]],
    families: list[str],
    names: list[list[str]],
    sx: Callable[[float], float],
    rows: list[tuple[float, float]],
    x_labels: float,
) -> tuple[str, str]:
    """One family-coloured ``rect.bar`` per step with an arrowhead the way the number moves, its
    "+N pts" label (after the arrow, or before the bar when it would run off the chart) and its
    row name."""
    colours = [family_colour(f) if f != "other" else OTHER_COLOUR for f in families]
    bars, values = [], []
    for (a, b), c, key, name, (yc, _h) in zip(steps, colours, families, names, rows, strict=True):
        left, right = sx(min(a, b) * 100), sx(max(a, b) * 100)
        w = max(right - left, 1.5)
        delta = (b - a) * 100
        bars.append(
            f'<rect class="bar" data-family="{key}" data-delta="{delta:.2f}" x="{_num(left)}" '
            f'y="{_num(yc - WATERFALL_BAR_H / 2)}" width="{_num(w)}" height="{_num(WATERFALL_BAR_H)}" fill="{c}"/>'
        )
        bars.append(_arrow(left, left + w, yc, delta > 0, c))
        word = delta_words(delta)
        after = left + w + 10
        fits = after + len(word) * SVG_SMALL * 0.62 <= WATERFALL_WIDTH - 4
        values.append(
            _svg_text(
                after if fits else left - 10,
                yc + SVG_SMALL * 0.35,
                word,
                anchor="start" if fits else "end",
                size=SVG_SMALL,
                extra=' class="delta" stroke="#FFFFFF" stroke-width="3" paint-order="stroke"',
            )
        )
        values.append(
            _svg_lines(x_labels, yc, name, anchor="end", size=SVG_SMALL, line_h=WATERFALL_NAME_LINE)
        )
    return '<g class="bars">' + "".join(bars) + "</g>", '<g class="labels">' + "".join(values) + "</g>"


def _vertical_line(kind: str, x: float, top: float, bottom: float, style: str) -> str:
    return (
        f'<line class="{kind}" x1="{_num(x)}" y1="{_num(top)}" x2="{_num(x)}" y2="{_num(bottom)}" {style}/>'
    )


def waterfall_svg(
    drivers: pd.DataFrame,
    final_prob: float,
    total_shap: float,
    model: str,
    labels: list[str],
    family_labels: dict[str, str],
    alt: str,
    other_label: str = "Other factors",
) -> str:
    """An athlete's named drivers (rank order) as an inline-SVG horizontal waterfall in percent.

    One ``rect.bar`` per driver plus one for ``other_label`` (the rest of the model's features;
    left out when it moves the number by less than half a point), spanning the step of
    :func:`waterfall_steps` on a 0-``xmax`` % axis, family-coloured, with an arrowhead the way the
    number moves and labelled ``+N pts`` / ``−N pts``; a dotted line marks the squad starting point
    and a solid line the athlete's estimate. Each bar carries ``data-family`` and ``data-delta``
    (percentage points, signed) for tests and tooling.
    """
    d = drivers.sort_values("rank", kind="mergesort")
    steps = waterfall_steps(final_prob, d["shap"].tolist(), total_shap)
    families = [str(f) if f in FAMILIES else "other" for f in d["family"]] + ["other"]
    names = [_wrap(x, 42, 3).split("\n") for x in labels] + [_wrap(other_label, 42, 3).split("\n")]
    if abs(steps[-1][1] - steps[-1][0]) * 100 < 0.5:
        steps, families, names = steps[:-1], families[:-1], names[:-1]
    base = steps[0][0]
    x0, x1 = 290.0, 700.0
    legend, legend_bottom = _waterfall_legend(families, family_labels, "other" in families)
    top = legend_bottom + 8
    rows = _row_tops(names, top)
    bottom = top + sum(h for _, h in rows)
    xmax = min(100.0, max(max(a, b) for a, b in steps) * 100 * 1.2 + 3)

    def sx(v: float) -> float:
        return x0 + (x1 - x0) * min(max(v, 0.0), xmax) / xmax

    grid, ticks = _percent_axis(sx, xmax, top, bottom)
    bars, values = _waterfall_bars(steps, families, names, sx, rows, x0 - 10)
    caption = (
        f"{MODEL_WORDS.get(model, model).capitalize()}: squad starting point {pct(base)} (dotted) "
        f"→ this athlete {pct(final_prob)} (solid)"
    )
    return "".join(
        [
            *_svg_open(WATERFALL_WIDTH, int(math.ceil(bottom + 44)), alt, "waterfall"),
            '<g class="legend">' + "".join(legend) + "</g>",
            grid,
            bars,
            _vertical_line(
                "base",
                sx(base * 100),
                top - 4,
                bottom,
                f'stroke="{MUTED}" stroke-width="1.2" stroke-dasharray="2 3"',
            ),
            _vertical_line(
                "final", sx(final_prob * 100), top - 4, bottom, f'stroke="{TEXT}" stroke-width="1.6"'
            ),
            values,
            f'<path class="axes" d="M{_num(x0)} {_num(top)}V{_num(bottom)}H{_num(x1)}" fill="none" stroke="{MUTED}"/>',
            ticks,
            _svg_text((x0 + x1) / 2, bottom + 38, caption, anchor="middle"),
            "</svg>",
        ]
    )


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _trend_segments(x: list[float], y: np.ndarray, finite: np.ndarray) -> list[str]:
    """One ``polyline`` per run of at least two weeks with a finite risk (missing weeks break the line)."""
    segments, current = [], []
    for i in range(len(y)):
        if finite[i]:
            current.append(f"{_num(x[i])} {_num(y[i])}")
        elif current:
            segments.append(current)
            current = []
    if current:
        segments.append(current)
    return [
        f'<polyline class="line" points="{" ".join(seg)}" fill="none" stroke="{TREND_COLOUR}" '
        'stroke-width="2.2" stroke-linejoin="round"/>'
        for seg in segments
        if len(seg) > 1
    ]


def _trend_axes(
    sx: Callable[[int], float],
    sy: Callable[[float], float],
    ymax: float,
    ticks: list[str],
    box: tuple[float, ...],
) -> tuple[str, str]:
    """Horizontal grid lines with percent labels and at most eight week-ending ticks."""
    x0, x1, bottom = box
    grid, labels = [], []
    for t in range(0, int(ymax) + 1, nice_step(ymax, 5)):
        gy = sy(t)
        grid.append(
            f'<line x1="{_num(x0)}" y1="{_num(gy)}" x2="{_num(x1)}" y2="{_num(gy)}" stroke="{GRID}"/>'
        )
        labels.append(_svg_text(x0 - 8, gy + SVG_SMALL * 0.35, f"{t}%", anchor="end", size=SVG_SMALL))
    n = len(ticks)
    for i in range(0, n, max(1, math.ceil(n / 8))):
        gx = sx(i)
        labels.append(
            f'<line x1="{_num(gx)}" y1="{_num(bottom)}" x2="{_num(gx)}" y2="{_num(bottom + 4)}" stroke="{MUTED}"/>'
        )
        labels.append(_svg_text(gx, bottom + 18, ticks[i], anchor="middle", size=SVG_SMALL))
    return '<g class="grid">' + "".join(grid) + "</g>", '<g class="ticks">' + "".join(labels) + "</g>"


def _threshold_line(ty: float | None, x0: float, x1: float, label: str) -> list[str]:
    """The dashed flag line at height ``ty`` labelled ``label`` (nothing when ``ty`` is ``None``)."""
    if ty is None:
        return []
    return [
        f'<line class="threshold" x1="{_num(x0)}" y1="{_num(ty)}" x2="{_num(x1)}" y2="{_num(ty)}" '
        f'stroke="{FLAG_COLOUR}" stroke-width="1.2" stroke-dasharray="5 3"/>',
        _svg_text(x1 + 6, ty + SVG_SMALL * 0.35, label, size=SVG_SMALL, colour=FLAG_COLOUR),
    ]


def risk_trend_svg(hist: pd.DataFrame, line: float | None, label: str, alt: str) -> str:
    """Weekly hamstring-risk line with the flag line, as inline SVG.

    One ``circle.point`` per week with a finite risk (``data-risk`` in percent); the line breaks
    at missing weeks; the dashed flag line at risk ``line`` is labelled ``label`` (the report's
    words: "flag at N%" for a threshold, this week's cut-off for a weekly top share); no line when
    ``line`` is ``None``.
    """
    h = hist.sort_values("week_end", kind="mergesort")
    y = h["hamstring_risk"].to_numpy(float) * 100
    n = len(y)
    finite = np.isfinite(y)
    ymax_data = float(y[finite].max()) if finite.any() else 0.0
    ymax = min(100.0, max(max(ymax_data, 0.0 if line is None else line * 100) * 1.25, 10.0))
    width, height = 660, 214
    x0, x1, top, bottom = 72.0, 560.0, 14.0, 160.0
    pad = 14.0

    def sx(i: int) -> float:
        return x0 + pad + (x1 - x0 - 2 * pad) * (i / (n - 1) if n > 1 else 0.5)

    def sy(v: float) -> float:
        return bottom - (bottom - top) * min(max(v, 0.0), ymax) / ymax

    ticks = [f"{d.day} {_MONTHS[d.month - 1]}" for d in pd.to_datetime(h["week_end"])]
    grid, labels = _trend_axes(sx, sy, ymax, ticks, (x0, x1, bottom))
    xs = [sx(i) for i in range(n)]
    ys = [sy(v) for v in y]
    points = "".join(
        f'<circle class="point" data-risk="{y[i]:.2f}" cx="{_num(xs[i])}" cy="{_num(ys[i])}" r="4" '
        f'fill="{TREND_COLOUR}"/>'
        for i in range(n)
        if finite[i]
    )
    mid = (top + bottom) / 2
    return "".join(
        [
            *_svg_open(width, height, alt, "trend"),
            grid,
            *_threshold_line(None if line is None else sy(line * 100), x0, x1, label),
            *_trend_segments(xs, np.asarray(ys), finite),
            '<g class="points">' + points + "</g>",
            f'<path class="axes" d="M{_num(x0)} {_num(top)}V{_num(bottom)}H{_num(x1)}" fill="none" stroke="{MUTED}"/>',
            labels,
            _svg_text((x0 + x1) / 2, bottom + 44, "Week ending", anchor="middle"),
            _svg_text(
                20, mid, "Hamstring risk", anchor="middle", extra=f' transform="rotate(-90 20 {_num(mid)})"'
            ),
            "</svg>",
        ]
    )
