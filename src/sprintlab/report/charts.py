"""Report charts: matplotlib figures rendered to PNG ``data:`` URIs.

Figures are built with ``matplotlib.figure.Figure`` (Agg canvas) rather than pyplot, so no
global figure registry, no interactive backend and nothing to close; output is byte-stable for
the same inputs. Coach-facing axes never show log-odds numbers: the waterfall is in percent /
percentage points, importance is a share of the model's explanation, and the beeswarm and
dependence plots show direction ("raises" / "lowers") instead of SHAP tick values.
"""

from __future__ import annotations

import base64
import io
import math
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sprintlab.report.context import FAMILY_COLOURS, FAMILY_ORDER, MODEL_WORDS, OTHER_COLOUR

DPI = 110
TEXT = "#1A1A1A"
MUTED = "#4D4D4D"
GRID = "#D9D9D9"
# low value -> high value; both ends distinguishable for red-green colour blindness
VALUE_CMAP = LinearSegmentedColormap.from_list(
    "sprintlab_value", ["#2C7BB6", "#ABD9E9", "#FDAE61", "#D7191C"]
)

_RC = {
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


@contextmanager
def _style() -> Iterator[None]:
    with mpl.rc_context(rc=mpl.rcParamsDefault), mpl.rc_context(rc=_RC):
        yield


def to_data_uri(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None}, bbox_inches="tight", pad_inches=0.08)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _logit(p: float) -> float:
    p = min(max(float(p), 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


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
        start = _sigmoid(z)
        z += float(s)
        steps.append((start, _sigmoid(z)))
    steps.append((_sigmoid(z), float(final_prob)))
    return steps


def driver_waterfall(
    drivers: pd.DataFrame,
    final_prob: float,
    total_shap: float,
    model: str,
    labels: list[str],
    family_labels: dict[str, str],
) -> str:
    """Horizontal waterfall of an athlete's top drivers (rank order), family-coloured, in percent."""
    d = drivers.sort_values("rank")
    steps = waterfall_steps(final_prob, d["shap"].tolist(), total_shap)
    names = [_wrap(x) for x in labels] + ["All other factors"]
    colours = [FAMILY_COLOURS.get(f, OTHER_COLOUR) for f in d["family"]] + [OTHER_COLOUR]
    n = len(steps)
    base = steps[0][0]
    with _style():
        fig = Figure(figsize=(7.2, 0.5 * n + 1.2))
        ax = fig.add_subplot()
        for i, ((a, b), c) in enumerate(zip(steps, colours, strict=True)):
            y = n - 1 - i
            left, width = min(a, b) * 100, abs(b - a) * 100
            ax.barh(y, max(width, 0.15), left=left, color=c, edgecolor="white", height=0.62)
            delta = (b - a) * 100
            sign = "+" if delta >= 0 else "−"
            ax.text(
                max(a, b) * 100 + 0.4,
                y,
                f"{sign}{abs(delta):.0f} pts" if abs(delta) >= 0.5 else "±0 pts",
                va="center",
                ha="left",
                fontsize=8,
                color=TEXT,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6},
                zorder=4,
            )
        ax.axvline(base * 100, color=MUTED, linestyle=":", linewidth=1)
        ax.axvline(final_prob * 100, color=TEXT, linewidth=1.2)
        ax.set_yticks(range(n))
        ax.set_yticklabels(names[::-1])
        hi = max(max(a, b) for a, b in steps) * 100
        ax.set_xlim(0, min(100, hi * 1.25 + 4))
        ax.xaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        ax.set_xlabel(
            f"{MODEL_WORDS.get(model, model).capitalize()}: squad starting point {pct(base)} (dotted) "
            f"→ this athlete {pct(final_prob)} (solid)"
        )
        ax.grid(axis="x", color=GRID, linewidth=0.6)
        ax.set_axisbelow(True)
        present = [f for f in FAMILY_ORDER if f in set(d["family"])]
        handles = [Patch(color=FAMILY_COLOURS[f], label=_wrap(family_labels.get(f, f), 30)) for f in present]
        handles.append(Patch(color=OTHER_COLOUR, label="All other factors"))
        ax.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=7.5)
        fig.tight_layout()
        return to_data_uri(fig)


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
            color=[FAMILY_COLOURS.get(f, OTHER_COLOUR) for f in d["family"]],
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
        ax.set_xlabel(f"← lowers {word}          each dot = one athlete-week          raises {word} →")
        ax.grid(axis="y", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        if sc is not None:
            cb = fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.035, ticks=[0, 1])
            cb.ax.set_yticklabels(["low", "high"])
            cb.set_label("Measured value (within squad)")
        fig.tight_layout()
        return to_data_uri(fig)


def dependence_plot(inter: pd.DataFrame) -> str:
    """Strength-gain effect on transfer vs strength change, coloured by pelvic control."""
    d = inter.dropna(subset=["strength_change_since_test_pct", "shap_strength"]).sort_values(
        ["strength_change_since_test_pct", "shap_strength"], kind="mergesort"
    )
    with _style():
        fig = Figure(figsize=(6.6, 3.9))
        ax = fig.add_subplot()
        sc = ax.scatter(
            d["strength_change_since_test_pct"],
            d["shap_strength"],
            c=d["pelvic_control_score"],
            cmap=VALUE_CMAP,
            s=18,
            linewidths=0.3,
            edgecolors="white",
        )
        ax.axhline(0, color=MUTED, linewidth=1)
        ax.set_yticks([])
        ax.set_ylabel("← lowers   transfer chance   raises →")
        ax.set_xlabel("Squat strength change since the last sprint test (%)")
        ax.set_title("Strength gains help the sprint mainly when pelvic control is good", loc="left")
        ax.grid(axis="x", color=GRID, linewidth=0.5)
        ax.set_axisbelow(True)
        cb = fig.colorbar(sc, ax=ax, pad=0.01, fraction=0.05)
        cb.set_label("Pelvic control score (1 = poor, 5 = excellent)")
        fig.tight_layout()
        return to_data_uri(fig)


def risk_trend(hist: pd.DataFrame, threshold: float) -> str:
    """Weekly hamstring-risk line with the flag threshold."""
    h = hist.sort_values("week_end")
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    dates = pd.to_datetime(h["week_end"])
    ticks = [f"{d.day} {months[d.month - 1]}" for d in dates]
    y = h["hamstring_risk"].to_numpy(float) * 100
    x = np.arange(len(y))
    with _style():
        fig = Figure(figsize=(6.0, 2.4))
        ax = fig.add_subplot()
        ax.plot(x, y, color="#0072B2", marker="o", markersize=4, linewidth=1.8)
        ax.axhline(threshold * 100, color="#B2182B", linestyle="--", linewidth=1)
        ax.text(
            1.01,
            threshold * 100,
            f"flag at {pct(threshold)}",
            transform=ax.get_yaxis_transform(),
            va="center",
            ha="left",
            fontsize=8,
            color="#B2182B",
        )
        step = max(1, math.ceil(len(x) / 8))
        ax.set_xticks(x[::step])
        ax.set_xticklabels(ticks[::step], fontsize=8)
        top = max(float(np.nanmax(y)) if len(y) else 0, threshold * 100) * 1.25
        ax.set_ylim(0, min(100, max(top, 10)))
        ax.yaxis.set_major_formatter(mpl.ticker.FuncFormatter(lambda v, _pos: f"{v:.0f}%"))
        ax.set_ylabel("Hamstring risk")
        ax.set_xlabel("Week ending")
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        fig.tight_layout()
        return to_data_uri(fig)
