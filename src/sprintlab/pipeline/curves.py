"""Static SVG charts of the evaluation curves (ROC, precision-recall, calibration) for ``dvc plots``.

Hand-written SVG, no plotting library and no script: ``dvc plots show`` embeds them as images, so
its page needs no vega from the internet, and the bytes depend only on the curve tables (fixed
one-decimal coordinates), so a fresh clone reproduces them exactly.
"""

from __future__ import annotations

from html import escape

import pandas as pd

#: plot box inside the 480 x 330 canvas (left, top, width, height)
BOX = (52.0, 34.0, 250.0, 250.0)
#: series colours and dash patterns: the model first, then the ceiling and the baselines
STYLES = {
    "model": ("#1f4e79", "", 2.5),
    "oracle": ("#6b6b6b", "6 4", 1.5),
}
BASELINE_COLOURS = ("#b35806", "#7b3294", "#1b7837", "#c51b7d")
#: x column, y column, axis labels, title and whether the chance / perfect-calibration diagonal helps
CURVES = {
    "roc": ("fpr", "tpr", "false positive rate", "true positive rate", "ROC curve", True),
    "pr": ("recall", "precision", "recall", "precision", "Precision-recall curve", False),
    "calibration": ("predicted", "observed", "predicted risk", "observed rate", "Calibration", True),
}


def _xy(x: float, y: float) -> str:
    left, top, width, height = BOX
    return f"{left + x * width:.1f},{top + (1 - y) * height:.1f}"


def _axes(x_label: str, y_label: str, diagonal: bool) -> list[str]:
    left, top, width, height = BOX
    out = [f'<rect x="{left}" y="{top}" width="{width}" height="{height}" fill="#ffffff" stroke="#333333"/>']
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x, y = _xy(tick, 0).split(",")[0], _xy(0, tick).split(",")[1]
        out += [
            f'<line x1="{x}" y1="{top + height}" x2="{x}" y2="{top + height + 4}" stroke="#333333"/>',
            f'<text x="{x}" y="{top + height + 16}" text-anchor="middle">{tick:g}</text>',
            f'<line x1="{left - 4}" y1="{y}" x2="{left}" y2="{y}" stroke="#333333"/>',
            f'<text x="{left - 7}" y="{float(y) + 4:.1f}" text-anchor="end">{tick:g}</text>',
        ]
    out += [
        f'<text x="{left + width / 2}" y="{top + height + 34}" text-anchor="middle">{escape(x_label)}</text>',
        f'<text transform="translate(14,{top + height / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(y_label)}</text>",
    ]
    if diagonal:
        out.append(
            f'<line x1="{left}" y1="{top + height}" x2="{left + width}" y2="{top}" stroke="#bbbbbb" '
            'stroke-dasharray="2 3"/>'
        )
    return out


def _style(series: str, baselines: list[str]) -> tuple[str, str, float]:
    if series in STYLES:
        return STYLES[series]
    return BASELINE_COLOURS[baselines.index(series) % len(BASELINE_COLOURS)], "3 3", 1.5


def curve_svg(table: pd.DataFrame, curve: str, target: str) -> str:
    """An SVG chart of one curve table (columns ``model`` plus the curve's x and y), one line per
    series (the model, the oracle, the baselines) with a legend; a chart saying "no curve" when the
    table is empty (a skipped model, a test split without both classes)."""
    x_col, y_col, x_label, y_label, title, diagonal = CURVES[curve]
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="330" viewBox="0 0 480 330" '
        'font-family="sans-serif" font-size="11" fill="#222222">',
        f"<title>{escape(f'{title}: {target} model')}</title>",
        f'<text x="{BOX[0]}" y="20" font-size="13" font-weight="bold">{escape(f"{title}: {target}")}</text>',
        *_axes(x_label, y_label, diagonal),
    ]
    names = list(dict.fromkeys(table["model"])) if len(table) else []
    baselines = sorted(n for n in names if n not in STYLES)
    for i, name in enumerate([*(n for n in STYLES if n in names), *baselines]):
        rows = table[table["model"] == name].dropna(subset=[x_col, y_col])
        colour, dash, width = _style(name, baselines)
        points = " ".join(_xy(float(x), float(y)) for x, y in zip(rows[x_col], rows[y_col], strict=True))
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<polyline class="series" data-series="{escape(name)}" points="{points}" fill="none" '
            f'stroke="{colour}" stroke-width="{width}"{dashed}/>'
        )
        y = BOX[1] + 8 + 16 * i
        parts += [
            f'<line x1="312" y1="{y}" x2="332" y2="{y}" stroke="{colour}" stroke-width="{width}"{dashed}/>',
            f'<text x="336" y="{y + 4}" font-size="10">{escape(name.replace("_", " "))}</text>',
        ]
    if not names:
        parts.append(
            f'<text x="{BOX[0] + BOX[2] / 2}" y="{BOX[1] + BOX[3] / 2}" text-anchor="middle">no curve</text>'
        )
    return "\n".join([*parts, "</svg>"]) + "\n"
