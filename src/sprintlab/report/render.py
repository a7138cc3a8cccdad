"""Render a :class:`ReportContext` into one self-contained, offline, printable HTML file."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from sprintlab.domain import FAMILIES
from sprintlab.io import write_text_atomic
from sprintlab.privacy import is_alias, load_pseudonym_key, pseudonymise_ids
from sprintlab.report import charts
from sprintlab.report.charts import pct
from sprintlab.report.context import FAMILY_COLOURS, MODEL_WORDS, OTHER_COLOUR, ReportContext

__all__ = ["render_html", "render_report"]

GUARD_RAIL = "These are modelled associations, not proven causes."
_ID_FRAMES = ("squad", "drivers", "family_contributions", "shap_long", "history", "levers")
_METRIC_COLUMNS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("brier", "Brier score"),
    ("calibration_slope", "Calibration slope"),
)


# ---------------------------------------------------------------- helpers


def _is_missing(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or (x is pd.NA)


def _feature_labels(features: list[str]) -> dict[str, str]:
    """Coach wording of features: the catalogue's description, else a tidied feature name."""
    try:
        from sprintlab.features.catalogue import load_catalogue

        cat = load_catalogue()
        known = {f.name: f.description for f in cat.features}
    except Exception:  # the report must render even if the catalogue cannot be loaded
        known = {}
    return {f: known.get(f) or f.replace("_", " ").capitalize() for f in features}


def _transfer_words(p: float) -> str:
    if p >= 0.6:
        return "likely"
    if p >= 0.4:
        return "uncertain"
    return "unlikely"


def _freshness(days: float) -> str:
    if _is_missing(days) or not np.isfinite(days):
        return "unknown"
    d = int(round(float(days)))
    if d <= 0:
        return "today"
    return "1 day old" if d == 1 else f"{d} days old"


def _anchor(athlete_id: str) -> str:
    return "athlete-" + re.sub(r"[^A-Za-z0-9_-]+", "-", athlete_id).strip("-").lower()


def _pseudonymise_ctx(ctx: ReportContext, key: bytes | None) -> ReportContext:
    """Replace every real athlete id (frames and free text) by its alias; aliases are kept as they are."""
    ids: set[str] = set()
    for name in _ID_FRAMES:
        frame = getattr(ctx, name)
        if frame is not None and "athlete_id" in frame:
            ids.update(str(x) for x in frame["athlete_id"].dropna())
    real = sorted(i for i in ids if not is_alias(i))
    if not real:
        return ctx
    if key is None:
        key = load_pseudonym_key(required=True)
    mapping = pseudonymise_ids(real, key=key)
    pattern = re.compile(
        r"(?<![\w-])(" + "|".join(re.escape(i) for i in sorted(real, key=len, reverse=True)) + r")(?![\w-])"
    )

    def scrub(text: object) -> object:
        return pattern.sub(lambda m: mapping[m.group(1)], text) if isinstance(text, str) else text

    changes: dict[str, Any] = {}
    for name in _ID_FRAMES:
        frame = getattr(ctx, name)
        if frame is None or "athlete_id" not in frame:
            continue
        f = frame.copy()
        f["athlete_id"] = f["athlete_id"].map(lambda x: mapping.get(str(x), x) if not _is_missing(x) else x)
        if "text" in f:
            f["text"] = f["text"].map(scrub)
        changes[name] = f
    changes["drift_warnings"] = [scrub(w) for w in ctx.drift_warnings]
    changes["known_limits"] = [scrub(w) for w in ctx.known_limits]
    changes["title"] = scrub(ctx.title)
    return replace(ctx, **changes)


# ---------------------------------------------------------------- view model


def _metric_cell(block: dict, key: str) -> str:
    v = block.get(key)
    if _is_missing(v) or not isinstance(v, int | float) or not np.isfinite(v):
        return "–"
    text = f"{v:.2f}" if key != "brier" else f"{v:.3f}"
    ci = block.get(f"{key}_ci")
    if ci is not None and len(ci) == 2 and all(isinstance(c, int | float) and np.isfinite(c) for c in ci):
        fmt = "{:.3f}" if key == "brier" else "{:.2f}"
        text += f" ({fmt.format(ci[0])}–{fmt.format(ci[1])})"
    return text


def _metrics_view(metrics: dict) -> list[dict]:
    out = []
    for model in ("hamstring", "transfer"):
        m = metrics.get(model)
        if not m:
            continue
        rows = []
        if "model" in m:
            rows.append(
                {
                    "name": "sprintlab model",
                    "kind": "model",
                    "cells": [_metric_cell(m["model"], k) for k, _ in _METRIC_COLUMNS],
                }
            )
        for name, block in (m.get("baselines") or {}).items():
            rows.append(
                {
                    "name": f"Baseline: {name}",
                    "kind": "baseline",
                    "cells": [_metric_cell(block, k) for k, _ in _METRIC_COLUMNS],
                }
            )
        if m.get("oracle"):
            rows.append(
                {
                    "name": "Simulator truth (oracle)",
                    "kind": "oracle",
                    "cells": [_metric_cell(m["oracle"], k) for k, _ in _METRIC_COLUMNS],
                }
            )
        out.append(
            {
                "model": model,
                "title": MODEL_WORDS[model].capitalize(),
                "rows": rows,
                "n_units": m.get("n_test_units"),
                "n_events": m.get("n_test_events"),
            }
        )
    return out


def _squad_order(squad: pd.DataFrame) -> pd.DataFrame:
    s = squad.copy()
    s["_thin"] = s["insufficient_data"].fillna(False).astype(bool)
    s["_risk"] = pd.to_numeric(s["hamstring_risk"], errors="coerce").fillna(-1.0)
    s["_id"] = s["athlete_id"].astype(str)
    return s.sort_values(["_thin", "_risk", "_id"], ascending=[True, False, True], kind="mergesort")


def _main_factor(ctx: ReportContext, aid: str, model: str, family) -> str:
    """The main factor family's label; a close call names the runner-up too
    ("Strength, about level with Sprint timing and braking", :func:`sprintlab.explain.dominance`)."""
    from sprintlab.explain import dominance

    label = ctx.family_label(family)
    fc = ctx.family_contributions
    fc = fc[(fc["athlete_id"].astype(str) == aid) & (fc["model"] == model)]
    if _is_missing(family) or fc.empty:
        return label
    wide = fc.groupby("family")["shap"].sum().reindex(FAMILIES, fill_value=0.0).to_frame().T
    d = dominance(wide).iloc[0]
    if d["dominance"] == "close" and d["runner_up_family"] != family:
        return f"{label}, about level with {ctx.family_label(d['runner_up_family'])}"
    return label


def _athlete_rows(frame: pd.DataFrame, aid: str, model: str | None = None) -> pd.DataFrame:
    """The rows of ``frame`` for athlete ``aid`` (and ``model``, when given)."""
    keep = frame["athlete_id"].astype(str) == aid
    if model is not None:
        keep &= frame["model"] == model
    return frame[keep]


def _shown_probabilities(row: pd.Series) -> dict[str, float]:
    """The athlete's hamstring risk and transfer chance as shown (NaN where none is shown)."""
    risk = float(row["hamstring_risk"]) if not _is_missing(row["hamstring_risk"]) else float("nan")
    in_block = bool(row["in_strength_block"]) and not _is_missing(row["transfer_probability"])
    return {"hamstring": risk, "transfer": float(row["transfer_probability"]) if in_block else float("nan")}


def _athlete_summary(ctx: ReportContext, row: pd.Series) -> dict[str, Any]:
    """The athlete's numbers and words for the squad table and the section header."""
    aid = str(row["athlete_id"])
    probs = _shown_probabilities(row)
    tp = probs["transfer"]
    in_block = bool(np.isfinite(tp))
    return {
        "id": aid,
        "anchor": _anchor(aid),
        "hamstring_modelled": "hamstring" not in ctx.not_modelled,
        "transfer_modelled": "transfer" not in ctx.not_modelled,
        "risk": pct(probs["hamstring"]),
        "flag": bool(row["hamstring_flag"]) and not bool(row["insufficient_data"]),
        "insufficient": bool(row["insufficient_data"]),
        "freshness": _freshness(row["data_freshness_days"]),
        "in_block": in_block,
        "transfer": pct(tp) if in_block else None,
        "transfer_words": _transfer_words(tp) if in_block else None,
        "dominant_hamstring": _main_factor(ctx, aid, "hamstring", row["dominant_family_hamstring"]),
        "dominant_transfer": _main_factor(ctx, aid, "transfer", row["dominant_family_transfer"])
        if in_block
        else "Not estimated",
    }


def _driver_chart(
    ctx: ReportContext,
    aid: str,
    model: str,
    p: float,
    labels: dict[str, str],
    fam_labels: dict[str, str],
) -> dict[str, Any] | None:
    """One outcome's waterfall of the athlete's top drivers with its text alternative and the
    driver sentences; ``None`` when the outcome has no number or no drivers."""
    d = _athlete_rows(ctx.drivers, aid, model).sort_values("rank", kind="mergesort")
    if d.empty or not np.isfinite(p):
        return None
    fc = _athlete_rows(ctx.family_contributions, aid, model)
    total = float(fc["shap"].sum()) if not fc.empty else float(d["shap"].sum())
    feat_labels = [labels.get(f, f) for f in d["feature"]]
    steps = charts.waterfall_steps(p, d["shap"].tolist(), total)
    moves = "; ".join(
        f"{lab} {'+' if b >= a else '−'}{abs(b - a) * 100:.0f} points"
        for lab, (a, b) in zip(feat_labels, steps[:-1], strict=True)
    )
    word = MODEL_WORDS[model]
    alt = (
        f"Bar chart for {aid}: {word} goes from the squad starting point of {pct(steps[0][0])} "
        f"to {pct(p)}. Main drivers: {moves}."
    )
    return {
        "model": model,
        "title": f"What moves {word} for {aid}",
        "svg": Markup(charts.waterfall_svg(d, p, total, model, feat_labels, fam_labels, alt)),
        "alt": alt,
        "drivers": [
            {
                "text": str(r["text"]),
                "family": fam_labels.get(r["family"], str(r["family"])),
                "family_key": r["family"] if r["family"] in FAMILY_COLOURS else "other",
                "direction": "raises" if r["shap"] > 0 else "lowers",
            }
            for _, r in d.iterrows()
        ],
    }


def _risk_trend(ctx: ReportContext, aid: str) -> dict[str, Any] | None:
    """The week-by-week hamstring-risk line (two weeks of history at least)."""
    if ctx.history is None:
        return None
    h = _athlete_rows(ctx.history, aid)
    if len(h) < 2:
        return None
    hs = h.sort_values("week_end")
    first, last = float(hs["hamstring_risk"].iloc[0]), float(hs["hamstring_risk"].iloc[-1])
    alt = (
        f"Line chart of {aid}'s weekly hamstring risk over {len(hs)} weeks: from {pct(first)} to "
        f"{pct(last)}, peak {pct(float(hs['hamstring_risk'].max()))}; flag line at {pct(ctx.flag_threshold)}."
    )
    return {"svg": Markup(charts.risk_trend_svg(hs, ctx.flag_threshold, alt)), "alt": alt}


def _athlete_levers(ctx: ReportContext, aid: str) -> list[dict[str, Any]]:
    """The athlete's "What to change first" lines."""
    if ctx.levers is None:
        return []
    return [
        {
            "text": str(r["text"]),
            "outcome": MODEL_WORDS.get(str(r["model"]), str(r["model"])),
            "before": pct(float(r["baseline_prob"])),
            "after": pct(float(r["new_prob"])),
            "low": pct(float(r["low"])) if not _is_missing(r["low"]) else None,
            "high": pct(float(r["high"])) if not _is_missing(r["high"]) else None,
        }
        for _, r in _athlete_rows(ctx.levers, aid).iterrows()
    ]


def _athlete_view(
    ctx: ReportContext, row: pd.Series, labels: dict[str, str], fam_labels: dict[str, str]
) -> dict[str, Any]:
    """Everything the template shows for one athlete."""
    view = _athlete_summary(ctx, row)
    probs = _shown_probabilities(row)
    view["charts"] = [
        chart
        for model in ("hamstring", "transfer")
        if (chart := _driver_chart(ctx, view["id"], model, probs[model], labels, fam_labels)) is not None
    ]
    view["trend"] = _risk_trend(ctx, view["id"])
    view["levers"] = _athlete_levers(ctx, view["id"])
    return view


def _family_share_charts(ctx: ReportContext, fam_labels: dict[str, str]) -> list[dict[str, str]]:
    """Per outcome, each factor family's share of what drives it across the squad."""
    out = []
    for model in ("hamstring", "transfer"):
        fi = ctx.family_importance[ctx.family_importance["model"] == model]
        if fi.empty or not (fi["mean_abs_shap"] > 0).any():
            continue
        share = fi.set_index("family")["mean_abs_shap"] / fi["mean_abs_shap"].sum()
        top = share.sort_values(ascending=False, kind="mergesort")
        desc = ", ".join(f"{fam_labels.get(f, f)} {100 * s:.0f}%" for f, s in top.items())
        out.append(
            {
                "title": f"{MODEL_WORDS[model].capitalize()}: which factor families matter most",
                "uri": charts.family_importance_bars(ctx.family_importance, model, fam_labels),
                "alt": f"Bar chart of each factor family's share of what drives {MODEL_WORDS[model]} across the squad: {desc}.",
            }
        )
    return out


def _swarm_charts(ctx: ReportContext, labels: dict[str, str]) -> list[dict[str, str]]:
    """Per outcome, the ten most influential measurements as a dot chart."""
    out = []
    for model in ("hamstring", "transfer"):
        if (ctx.shap_long["model"] == model).sum() == 0:
            continue
        top = charts.top_features(ctx.shap_long, model, 10)
        out.append(
            {
                "title": f"{MODEL_WORDS[model].capitalize()}: the ten most influential measurements",
                "uri": charts.beeswarm(ctx.shap_long, model, labels, 10),
                "alt": (
                    f"Dot chart of the {len(top)} measurements that most move {MODEL_WORDS[model]}, most influential first: "
                    + "; ".join(labels.get(f, f) for f in top)
                    + ". Dots right of the centre line raise it, dots left lower it; red dots are high values, blue low."
                ),
            }
        )
    return out


def _dependence_chart(ctx: ReportContext) -> dict[str, str] | None:
    """The strength-gain x control interaction (three points at least)."""
    if ctx.interaction is None or len(ctx.interaction.dropna()) < 3:
        return None
    return {
        "uri": charts.dependence_plot(ctx.interaction),
        "alt": (
            "Scatter chart: the effect of squat strength gains on transfer chance against the size of the gain, "
            "coloured by the pelvic and trunk control score. Bigger gains raise transfer chance mostly for "
            "athletes with good control (red dots); with poor control (blue dots) the effect stays flat or turns "
            "negative."
        ),
    }


def _squad_scope(athletes: list[dict[str, Any]], not_modelled: dict[str, str]) -> str:
    """Whose numbers the squad charts explain."""
    n_risk = sum(not a["insufficient"] for a in athletes)
    n_block = sum(a["in_block"] for a in athletes)
    risk = (
        "Hamstring risk: not modelled, so there is no hamstring picture. "
        if "hamstring" in not_modelled
        else f"Hamstring risk: the {n_risk} athlete{'s' if n_risk != 1 else ''} with enough data. "
    )
    if "transfer" in not_modelled:
        return risk + "Transfer chance: not modelled, so there is no transfer picture."
    return risk + (
        f"Transfer chance: the {n_block} athlete{'s' if n_block != 1 else ''} in a strength block."
        if n_block
        else "Transfer chance: no athlete is in a strength block this week, so there is no transfer picture."
    )


def _sentence(text: str) -> str:
    """``text`` with its first letter upper case (the rest as it is, unlike ``str.capitalize``)."""
    return text[:1].upper() + text[1:]


def _outcome_notes(ctx: ReportContext) -> dict[str, list[dict[str, Any]]]:
    """The outcomes without a model (and why) and the factor families a model could not assess."""
    return {
        "not_modelled": [
            {"title": MODEL_WORDS[t].capitalize(), "why": _sentence(why)}
            for t in ("hamstring", "transfer")
            if (why := ctx.not_modelled.get(t))
        ],
        "not_assessed": [
            {"title": MODEL_WORDS[t].capitalize(), "lines": lines}
            for t in ("hamstring", "transfer")
            if (lines := ctx.not_assessed.get(t))
        ],
    }


def _view(ctx: ReportContext) -> dict[str, Any]:
    """The template's variables."""
    fam_labels = {f: ctx.family_label(f) for f in FAMILIES}
    fam_labels.update({k: v for k, v in ctx.family_labels.items()})
    labels = _feature_labels(sorted(set(ctx.drivers["feature"]) | set(ctx.shap_long["feature"])))
    athletes = [_athlete_view(ctx, r, labels, fam_labels) for _, r in _squad_order(ctx.squad).iterrows()]
    metrics = ctx.metrics or {}
    return {
        "ctx": ctx,
        "guard_rail": GUARD_RAIL,
        "own_usual_weeks": ctx.own_usual_weeks,
        "squad_scope": _squad_scope(athletes, ctx.not_modelled),
        **_outcome_notes(ctx),
        "model_note": _sentence(ctx.model_note) if ctx.model_note else None,
        "threshold": pct(ctx.flag_threshold),
        "families": [{"key": f, "label": fam_labels[f], "colour": FAMILY_COLOURS[f]} for f in FAMILIES],
        "family_colours": FAMILY_COLOURS,
        "other_colour": OTHER_COLOUR,
        "athletes": athletes,
        "n_flag": sum(a["flag"] for a in athletes),
        "squad_charts": _family_share_charts(ctx, fam_labels),
        "swarms": _swarm_charts(ctx, labels),
        "dependence": _dependence_chart(ctx),
        "metrics": _metrics_view(metrics),
        "has_oracle": any(bool(metrics.get(m, {}).get("oracle")) for m in ("hamstring", "transfer")),
        "metric_columns": [label for _, label in _METRIC_COLUMNS],
        "models": ctx.models or [],
    }


# ---------------------------------------------------------------- rendering


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sprintlab.report", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def render_html(ctx: ReportContext, *, pseudonym_key: bytes | None = None) -> str:
    """The report as an HTML string (see :func:`render_report`)."""
    ctx.validate()
    if ctx.pseudonymised:
        ctx = _pseudonymise_ctx(ctx, pseudonym_key)
    css = resources.files("sprintlab.report").joinpath("templates/report.css").read_text(encoding="utf-8")
    return _env().get_template("report.html.j2").render(css=Markup(css), **_view(ctx))


def render_report(ctx: ReportContext, out_path: Path, *, pseudonym_key: bytes | None = None) -> Path:
    """Write the report to ``out_path`` atomically (:func:`sprintlab.io.write_text_atomic`).

    With ``ctx.pseudonymised`` every athlete id that is not already an alias is replaced by its
    keyed alias; the key is ``pseudonym_key`` or :func:`sprintlab.privacy.load_pseudonym_key`.
    """
    return write_text_atomic(Path(out_path), render_html(ctx, pseudonym_key=pseudonym_key))
