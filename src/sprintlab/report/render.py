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

from sprintlab.domain import FAMILIES, FAMILY_LABELS, NOT_TRAINABLE_FAMILIES
from sprintlab.io import write_text_atomic
from sprintlab.models.flag_policy import skill_of_brier
from sprintlab.privacy import is_alias, load_pseudonym_key, pseudonymise_ids
from sprintlab.report import charts
from sprintlab.report.charts import pct
from sprintlab.report.context import (
    INTERACTION_COLUMNS,
    MODEL_WORDS,
    OTHER_COLOUR,
    ReportContext,
    family_colour,
)
from sprintlab.report.flag_words import flag_words

__all__ = ["render_html", "render_report"]

GUARD_RAIL = "These are modelled associations, not proven causes."
_ID_FRAMES = ("squad", "drivers", "family_contributions", "shap_long", "history", "levers")
#: the evaluation's baselines in the coach's words (models/training.py names them)
BASELINE_WORDS = {
    "prevalence": "Everyone gets the squad's average chance",
    "strength_only_logistic": "Strength gain only (a simple rule)",
    "acwr_threshold": "Load-ratio rule (acute:chronic workload high)",
}
_METRIC_COLUMNS = (
    ("roc_auc", "ROC AUC"),
    ("pr_auc", "PR AUC"),
    ("brier", "Brier score"),
    ("calibration_slope", "Calibration slope"),
)
BRIER_SKILL_LABEL = "Brier skill"
#: net benefit is shown per this many athlete-weeks
NET_BENEFIT_PER = 1000


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
    ids.update(str(x) for x in ctx.left_out)
    if ctx.interaction is not None and "athlete_id" in ctx.interaction:
        ids.update(str(x) for x in ctx.interaction["athlete_id"].dropna())
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
    changes["left_out"] = [mapping.get(str(i), i) for i in ctx.left_out]
    if ctx.interaction is not None and "athlete_id" in ctx.interaction:
        changes["interaction"] = ctx.interaction.assign(
            athlete_id=ctx.interaction["athlete_id"].map(lambda x: mapping.get(str(x), x))
        )
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


def _skill_cell(block: dict, reference_brier: object) -> str:
    """Brier skill against the prevalence baseline (:func:`skill_of_brier`), signed, 2 decimals."""
    return _signed(skill_of_brier(_as_float(block.get("brier")), _as_float(reference_brier)), ".2f")


def _metrics_view(metrics: dict) -> list[dict]:
    out = []
    for model in ("hamstring", "transfer"):
        m = metrics.get(model)
        if not m:
            continue
        reference = ((m.get("baselines") or {}).get("prevalence") or {}).get("brier")
        blocks = [("sprintlab model", "model", m.get("model"))]
        blocks += [
            (f"Baseline: {_baseline_words(name)}", "baseline", block)
            for name, block in (m.get("baselines") or {}).items()
        ]
        blocks.append(("Simulator truth (oracle)", "oracle", m.get("oracle")))
        rows = [
            {
                "name": name,
                "kind": kind,
                "cells": [_metric_cell(block, k) for k, _ in _METRIC_COLUMNS]
                + [_skill_cell(block, reference)],
            }
            for name, kind, block in blocks
            if block
        ]
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


def _net_benefit_view(metrics: dict) -> list[dict]:
    """Per model with a decision curve (``net_benefit`` in its metrics): a table of net benefit per
    :data:`NET_BENEFIT_PER` athlete-weeks at each risk threshold - the model, each rule baseline,
    flagging every athlete-week and flagging none - and a sentence computed from it."""
    out = []
    for model in ("hamstring", "transfer"):
        curves = (metrics.get(model) or {}).get("net_benefit") or {}
        if "model" not in curves or not curves["model"]:
            continue
        thresholds = [c["threshold"] for c in curves["model"]]
        rows = [("sprintlab model", [c["net_benefit"] for c in curves["model"]])]
        rows += [(_rule_name(n), [c["net_benefit"] for c in cs]) for n, cs in _rule_curves(curves)]
        rows += [("Flag every athlete-week", [c["flag_all"] for c in curves["model"]])]
        rows += [("Flag no one", [0.0] * len(thresholds))]
        out.append(
            {
                "title": MODEL_WORDS[model].capitalize(),
                "thresholds": [f"{t:.0%}" for t in thresholds],
                "rows": [{"name": name, "cells": [_per_weeks(v) for v in values]} for name, values in rows],
                "sentence": _net_benefit_sentence(thresholds, curves),
            }
        )
    return out


def _baseline_words(name: str) -> str:
    """A baseline's name for coaches (:data:`BASELINE_WORDS`, else the name without underscores)."""
    return BASELINE_WORDS.get(name, name.replace("_", " "))


def _rule_name(name: str) -> str:
    """A rule baseline's name without its explanation in brackets (the metrics table gives it whole)."""
    return _baseline_words(name).split(" (")[0]


def _rule_curves(curves: dict) -> list[tuple[str, list]]:
    """The rule baselines' decision curves: every curve but the model's and the base rate's (which
    flags everyone or no one: the table's last two rows)."""
    return [(n, cs) for n, cs in curves.items() if n not in ("model", "prevalence")]


def _per_weeks(value: object) -> str:
    """A net benefit per :data:`NET_BENEFIT_PER` athlete-weeks, signed, one decimal ("–" if missing)."""
    return _signed(_as_float(value) * NET_BENEFIT_PER, ".1f")


def _signed(value: float, spec: str) -> str:
    """``value`` with its sign (a typographic minus), "–" when it is not a finite number."""
    return "–" if not np.isfinite(value) else format(value, "+" + spec).replace("-", "−")


def _as_float(value: object) -> float:
    """A number from the metrics JSON (None or text -> NaN)."""
    return float(value) if isinstance(value, int | float) else float("nan")


def _net_benefit_sentence(thresholds: list[float], curves: dict) -> str:
    """Where the model's flag beats both flagging everyone and flagging no one, and where a rule
    baseline beats the model, in the thresholds of the curve."""
    model = np.array([_as_float(c["net_benefit"]) for c in curves["model"]])
    flag_all = np.array([_as_float(c["flag_all"]) for c in curves["model"]])
    useful = [t for t, nb, fa in zip(thresholds, model, flag_all, strict=True) if nb > max(fa, 0.0)]
    span = f"{thresholds[0]:.0%} to {thresholds[-1]:.0%}"
    if useful:
        named = [f"{t:.0%}" for t in useful]
        where = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        text = (
            "Flagging by the model's risk is worth more than flagging everyone or no one at "
            f"{'a threshold' if len(named) == 1 else 'thresholds'} of {where}"
        )
    else:
        text = f"At no threshold from {span} is flagging by the model's risk worth more than flagging everyone or no one"
    better = []
    for name, cs in _rule_curves(curves):
        wins = sum(_as_float(c["net_benefit"]) > nb for c, nb in zip(cs, model, strict=True))
        if wins:
            better.append(f"{_rule_name(name).lower()} at {wins} of the {len(thresholds)} thresholds")
    tail = (
        f"; over the same thresholds a rule has the higher net benefit: {'; '.join(better)}" if better else ""
    )
    return text + tail + "."


def _squad_order(squad: pd.DataFrame) -> pd.DataFrame:
    s = squad.copy()
    s["_thin"] = s["insufficient_data"].fillna(False).astype(bool)
    s["_risk"] = pd.to_numeric(s["hamstring_risk"], errors="coerce").fillna(-1.0)
    s["_flag"] = s["hamstring_flag"].fillna(False).astype(bool)  # a flagged athlete first among equal risks
    s["_id"] = s["athlete_id"].astype(str)
    return s.sort_values(
        ["_thin", "_risk", "_flag", "_id"], ascending=[True, False, False, True], kind="mergesort"
    )


def close_calls(fc: pd.DataFrame) -> dict[tuple[str, str], str]:
    """(athlete id, outcome) -> the runner-up family, for each athlete and outcome whose main factor
    family is a close call (:func:`sprintlab.explain.dominance` of the athlete's contributions summed
    per family of ``domain.FAMILIES``, 0 for a family without any)."""
    from sprintlab.explain import dominance

    if fc.empty:
        return {}
    sums = fc.groupby([fc["athlete_id"].astype(str), fc["model"], fc["family"]])["shap"].sum()
    wide = sums.unstack("family").reindex(columns=list(FAMILIES)).fillna(0.0)
    d = dominance(wide)
    close = d[d["dominance"] == "close"]
    return dict(zip(close.index, close["runner_up_family"], strict=True))


def _main_factor(ctx: ReportContext, close: dict[tuple[str, str], str], aid: str, model: str, family) -> str:
    """The main factor family's label; a close call (``close``: :func:`close_calls`) names the
    runner-up too ("Strength, about level with Sprint timing and braking")."""
    label = ctx.family_label(family)
    runner_up = close.get((aid, model))
    if _is_missing(family) or runner_up is None or runner_up == family:
        return label
    return f"{label}, about level with {ctx.family_label(runner_up)}"


def _shown_probabilities(row: pd.Series) -> dict[str, float]:
    """The athlete's hamstring risk and transfer chance as shown (NaN where none is shown)."""
    risk = float(row["hamstring_risk"]) if not _is_missing(row["hamstring_risk"]) else float("nan")
    in_block = bool(row["in_strength_block"]) and not _is_missing(row["transfer_probability"])
    return {"hamstring": risk, "transfer": float(row["transfer_probability"]) if in_block else float("nan")}


def _sort_key(x: float) -> str:
    """A number the squad table sorts by (``-1`` for none)."""
    return f"{x:.4f}" if not _is_missing(x) and np.isfinite(x) else "-1"


def _athlete_summary(ctx: ReportContext, row: pd.Series, close: dict[tuple[str, str], str]) -> dict[str, Any]:
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
        "sort": {  # the squad table's sort keys (numbers; -1 where there is none)
            "risk": _sort_key(float("nan") if bool(row["insufficient_data"]) else probs["hamstring"]),
            "transfer": _sort_key(tp if in_block else float("nan")),
            "fresh": _sort_key(float(row["data_freshness_days"])),
        },
        "in_block": in_block,
        "transfer": pct(tp) if in_block else None,
        "transfer_words": _transfer_words(tp) if in_block else None,
        "dominant_hamstring": _main_factor(ctx, close, aid, "hamstring", row["dominant_family_hamstring"]),
        "dominant_transfer": _main_factor(ctx, close, aid, "transfer", row["dominant_family_transfer"])
        if in_block
        else "Not estimated",
    }


MAX_NAMED_BARS = 8  # the most drivers a waterfall names before "Other factors" names its families


def _candidates(drivers: pd.DataFrame, long: pd.DataFrame) -> pd.DataFrame:
    """Every feature of the athlete's explanation by size (|SHAP|, largest first): the full SHAP
    rows when there is one per feature, else the driver table."""
    if len(long) and not long["feature"].duplicated().any():
        c = long.assign(_a=-long["shap"].abs()).sort_values(["_a", "feature"], kind="mergesort")
        return c[["feature", "family", "shap"]].reset_index(drop=True)
    return drivers.sort_values("rank", kind="mergesort")[["feature", "family", "shap"]].reset_index(drop=True)


def _visible(shap: list[float], p: float, total: float) -> list[int]:
    """The positions in ``shap`` (drivers in order) left once the drivers whose bar would be under
    half a percentage point are dropped (their share goes to "Other factors"), the steps recomputed
    until none is."""
    keep = list(range(len(shap)))
    while keep:
        steps = charts.waterfall_steps(p, [shap[i] for i in keep], total)[:-1]
        small = [abs(b - a) * 100 < 0.5 for a, b in steps]
        if not any(small):
            break
        keep = [i for i, drop in zip(keep, small, strict=True) if not drop]
    return keep


def named_bars(
    drivers: pd.DataFrame, long: pd.DataFrame, p: float, total: float, fam_labels: dict[str, str]
) -> tuple[pd.DataFrame, str]:
    """The drivers a waterfall names and the label of its last bar: named drivers are added (largest
    first, at least the driver table's) until "Other factors" is no larger than the largest named
    bar, at most :data:`MAX_NAMED_BARS`; bars under half a point are not drawn. When "Other factors"
    holds anything, its label names its largest families."""
    cand = _candidates(drivers, long)
    shap = cand["shap"].tolist()
    k = max(len(drivers), 1)
    while True:
        keep = _visible(shap[:k], p, total)
        steps = charts.waterfall_steps(p, [shap[i] for i in keep], total)
        moves = [abs(b - a) for a, b in steps]
        if k >= min(len(cand), MAX_NAMED_BARS) or (len(moves) > 1 and moves[-1] <= max(moves[:-1])):
            break
        k += 1
    chosen = cand.iloc[keep].assign(rank=np.arange(1, len(keep) + 1)).reset_index(drop=True)
    rest = cand[~cand["feature"].isin(chosen["feature"])]
    by_family = rest.groupby("family")["shap"].sum().abs().sort_values(ascending=False, kind="mergesort")
    top = [fam_labels.get(f, str(f)) for f, v in by_family.head(2).items() if v > 0]
    return chosen, ("Other factors (mostly " + " and ".join(top) + ")") if top else "Other factors"


def _driver_chart(
    ctx: ReportContext,
    aid: str,
    model: str,
    p: float,
    labels: dict[str, str],
    fam_labels: dict[str, str],
) -> dict[str, Any] | None:
    """One outcome's waterfall of the athlete's named drivers (:func:`named_bars`) with its text
    alternative and the drawn drivers' sentences; ``None`` when the outcome has no number or no
    explanation."""
    d = ctx.athlete_rows("drivers", aid, model).sort_values("rank", kind="mergesort")
    long = ctx.athlete_rows("shap_long", aid, model)
    if (d.empty and long.empty) or not np.isfinite(p):
        return None
    fc = ctx.athlete_rows("family_contributions", aid, model)
    total = float(fc["shap"].sum()) if not fc.empty else float((long if len(long) else d)["shap"].sum())
    bars, other = named_bars(d, long, p, total, fam_labels)
    feat_labels = [labels.get(f, f) for f in bars["feature"]]
    steps = charts.waterfall_steps(p, bars["shap"].tolist(), total)
    names = [*feat_labels, other] if abs(steps[-1][1] - steps[-1][0]) * 100 >= 0.5 else feat_labels
    word = MODEL_WORDS[model]
    if not names:
        return {
            "model": model,
            "title": f"What moves {word} for {aid}",
            "svg": None,
            "note": f"No measurement moves {word} by half a point or more: {aid} sits at the squad's "
            f"starting point of {pct(p)}.",
            "drivers": [],
        }
    moves = "; ".join(
        f"{lab} {charts.delta_words((b - a) * 100).replace(' pts', ' points')}"
        for lab, (a, b) in zip(names, steps, strict=False)
    )
    alt = (
        f"Bar chart for {aid}: {word} goes from the squad starting point of {pct(steps[0][0])} "
        f"to {pct(p)}. {moves}."
    )
    shown = d[d["feature"].isin(set(bars["feature"]))]
    return {
        "model": model,
        "title": f"What moves {word} for {aid}",
        "svg": Markup(charts.waterfall_svg(bars, p, total, model, feat_labels, fam_labels, alt, other)),
        "alt": alt,
        "drivers": [
            {
                "text": str(r["text"]),
                "family": fam_labels.get(r["family"], str(r["family"])),
                "family_key": _family_key(r["family"]),
                "direction": "raises" if r["shap"] > 0 else "lowers",
            }
            for _, r in shown.iterrows()
        ],
    }


def _family_key(family: object) -> str:
    """The CSS class suffix of a family's swatch ("other" outside ``domain.FAMILIES``)."""
    return str(family) if family in FAMILIES else "other"


def _risk_trend(ctx: ReportContext, aid: str) -> dict[str, Any] | None:
    """The week-by-week hamstring-risk line (two weeks of history at least)."""
    if ctx.history is None:
        return None
    h = ctx.athlete_rows("history", aid)
    if len(h) < 2:
        return None
    hs = h.sort_values("week_end")
    first, last = float(hs["hamstring_risk"].iloc[0]), float(hs["hamstring_risk"].iloc[-1])
    words = flag_words(ctx)
    alt = (
        f"Line chart of {aid}'s weekly hamstring risk over {len(hs)} weeks: from {pct(first)} to "
        f"{pct(last)}, peak {pct(float(hs['hamstring_risk'].max()))}; {words.line_alt}."
    )
    return {"svg": Markup(charts.risk_trend_svg(hs, words.line, words.line_label, alt)), "alt": alt}


def _athlete_levers(ctx: ReportContext, aid: str, in_block: bool, flagged: bool) -> dict[str, Any] | None:
    """The "What to change first" box of a flagged athlete or one in a strength block: one
    "Priority: ..." line, the first change and the levers of each outcome the athlete has a number
    for, the outcome that matters most first (:func:`sprintlab.levers.athlete_outcomes`); empty
    when no lever helps; ``None`` for other athletes or when the models carry no levers."""
    from sprintlab.levers import athlete_outcomes, first_lever, priority_line

    if ctx.levers is None or not (in_block or flagged):
        return None
    outcomes = athlete_outcomes(in_block, flagged)
    order = {m: i for i, m in enumerate(outcomes)}
    rows = ctx.athlete_rows("levers", aid)
    rows = rows[rows["model"].isin(order)].sort_values("model", key=lambda m: m.map(order), kind="mergesort")
    items = [
        {
            "text": str(r["text"]),
            "outcome": MODEL_WORDS.get(str(r["model"]), str(r["model"])),
            "low": pct(float(r["low"])) if not _is_missing(r["low"]) else None,
            "high": pct(float(r["high"])) if not _is_missing(r["high"]) else None,
        }
        for _, r in rows.iterrows()
    ]
    of_outcome = {m: first_lever(rows, aid, [m]) for m in outcomes}
    # the athlete's first change: that of the first outcome (the one that matters most) with one
    first = next((r for r in of_outcome.values() if r is not None), None)
    return {
        "priority": priority_line(rows, aid, outcomes) if first is not None and "family" in rows else None,
        "first": str(first["text"]) if first is not None else None,
        # page one's tables: each shows the first change for its own outcome
        "first_for": {m: str(r["text"]) for m, r in of_outcome.items() if r is not None},
        "items": items,
        "none": "No single realistic change moves "
        + " or ".join(MODEL_WORDS[m] for m in outcomes)
        + " by a point or more.",
    }


def _athlete_view(
    ctx: ReportContext,
    row: pd.Series,
    labels: dict[str, str],
    fam_labels: dict[str, str],
    close: dict[tuple[str, str], str],
) -> dict[str, Any]:
    """Everything the template shows for one athlete (``close``: :func:`close_calls`)."""
    view = _athlete_summary(ctx, row, close)
    probs = _shown_probabilities(row)
    view["charts"] = [
        chart
        for model in ("hamstring", "transfer")
        if (chart := _driver_chart(ctx, view["id"], model, probs[model], labels, fam_labels)) is not None
    ]
    view["trend"] = _risk_trend(ctx, view["id"])
    view["levers"] = _athlete_levers(ctx, view["id"], view["in_block"], view["flag"])
    view["dense"] = _page_lines(view) > DENSE_PAGE_LINES
    return view


#: an athlete page with more lines than this (:func:`_page_lines`) is printed a little smaller
DENSE_PAGE_LINES = 28


def _page_lines(view: dict[str, Any]) -> int:
    """A rough size of an athlete's page: chart rows, driver sentences (two lines each), levers and
    the insufficient-data notice."""
    bars = sum(str(c["svg"]).count('class="bar"') for c in view["charts"])
    sentences = sum(len(c["drivers"]) for c in view["charts"])
    levers = len(view["levers"]["items"]) if view["levers"] else 0
    return bars + 2 * sentences + levers + 3 * view["insufficient"]


def _why(ctx: ReportContext, aid: str, model: str, raising: bool) -> str | None:
    """One line on why: the athlete's largest driver (that raises the number, with ``raising``),
    its sentence without the "- raises ..." ending."""
    d = ctx.athlete_rows("drivers", aid, model).sort_values("rank", kind="mergesort")
    if raising:
        d = d[d["shap"] > 0]
    if not len(d):
        return None
    line = str(d["text"].iloc[0]).rsplit(" - ", 1)[0]
    family = str(d["family"].iloc[0]) if "family" in d else ""
    if family in NOT_TRAINABLE_FAMILIES:  # bounce-back: never read as a cause to train
        return f"{FAMILY_LABELS[family]}, not a training effect: {line[:1].lower()}{line[1:]}"
    return line


def _answer(ctx: ReportContext, athletes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Page one: the flagged athletes and those in a strength block, each with a one-line why and
    the first thing to change for that table's outcome (hamstring risk; transfer chance)."""

    def line(a: dict[str, Any], model: str, raising: bool) -> dict[str, Any]:
        first = ((a["levers"] or {}).get("first_for") or {}).get(model)
        return {**a, "why": _why(ctx, a["id"], model, raising), "first": first}

    return {
        "flagged": [line(a, "hamstring", True) for a in athletes if a["flag"]],
        "block": [line(a, "transfer", False) for a in athletes if a["in_block"]],
    }


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


#: a strength-gain effect below this (log-odds; about half a point at a 50 % chance) is "hardly moved"
NEGLIGIBLE_LOG_ODDS = 0.02


def interaction_finding(inter: pd.DataFrame) -> str:
    """What the strength-control dots show, in one sentence computed from them: whether strength
    gains raised or lowered transfer chance, and more with good or with poor control (good: at or
    above the dots' median control score), over the dots with a strength gain; "hardly moved" when
    no dot moves it noticeably."""
    gains = inter[inter["strength_change_since_test_pct"] > 0]  # strength lost is not a gain
    if gains.empty:
        return "In these weeks nobody's squat strength had gone up since their last sprint test"
    shap, ctrl = gains["shap_strength"].to_numpy(float), gains["control_score"].to_numpy(float)
    if np.abs(shap).max() < NEGLIGIBLE_LOG_ODDS:
        return "In these weeks strength gains hardly moved transfer chance, whatever the control"
    good = ctrl >= np.median(ctrl)
    if good.all() or not good.any():
        verb = "raised" if shap.mean() > 0 else "lowered"
        return f"In these weeks strength gains {verb} transfer chance (control was the same for every dot)"
    mg, mp = float(shap[good].mean()), float(shap[~good].mean())
    if (mg > 0) != (mp > 0):
        up, down = ("good", "poor") if mg > 0 else ("poor", "good")
        return f"In these weeks strength gains raised transfer chance with {up} control and lowered it with {down} control"
    verb = "raised" if mg > 0 else "lowered"
    if abs(abs(mg) - abs(mp)) < 0.2 * max(abs(mg), abs(mp)):
        return f"In these weeks strength gains {verb} transfer chance about as much with good as with poor control"
    return f"In these weeks strength gains {verb} transfer chance, more with {'good' if abs(mg) > abs(mp) else 'poor'} control"


def _dependence_chart(ctx: ReportContext, n_block: int) -> dict[str, Any]:
    """The strength-gain x control chart of the athletes in a strength block, titled with what its
    dots show (:func:`interaction_finding`); without three dots, only a sentence saying why not."""
    inter = ctx.interaction.dropna(subset=list(INTERACTION_COLUMNS)) if ctx.interaction is not None else None
    if "transfer" in ctx.not_modelled or inter is None:
        return {"uri": None, "why": "There is no strength-control picture: transfer chance is not modelled."}
    if not n_block or len(inter) < 3:
        who = (
            "no athlete is in a strength block"
            if not n_block
            else "fewer than three block weeks are on record"
        )
        return {"uri": None, "why": f"There is no strength-control picture this week: {who}."}
    finding = interaction_finding(inter)
    n_ath = inter["athlete_id"].nunique() if "athlete_id" in inter else n_block
    weeks = ""
    if "week_end" in inter:
        ends = pd.to_datetime(inter["week_end"])
        weeks = f", weeks ending {ends.min().date()} to {ends.max().date()}"
    scope = (
        f"{len(inter)} athlete-weeks of the {n_ath} athlete{'s' if n_ath != 1 else ''} in a strength block this "
        f"week{weeks} (only weeks in which the block was running)"
    )
    return {
        "uri": charts.dependence_plot(inter, finding),
        "title": finding,
        "scope": scope,
        "alt": (
            f"Scatter chart of {scope}: the effect of the squat strength gain on transfer chance (up raises it, "
            f"down lowers it) against the size of the gain, coloured by pelvic and trunk control. {finding}."
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
    close = close_calls(ctx.family_contributions)
    athletes = [
        _athlete_view(ctx, r, labels, fam_labels, close) for _, r in _squad_order(ctx.squad).iterrows()
    ]
    metrics = ctx.metrics or {}
    return {
        "ctx": ctx,
        "guard_rail": GUARD_RAIL,
        "own_usual_weeks": ctx.own_usual_weeks,
        "squad_scope": _squad_scope(athletes, ctx.not_modelled),
        **_outcome_notes(ctx),
        "model_note": _sentence(ctx.model_note) if ctx.model_note else None,
        "flag": flag_words(ctx),
        "families": [{"key": f, "label": fam_labels[f], "colour": family_colour(f)} for f in FAMILIES],
        "other_colour": OTHER_COLOUR,
        "athletes": athletes,
        "answer": _answer(ctx, athletes),
        "left_out": _left_out(ctx),
        "left_out_ids": _left_out_ids(ctx),
        "n_flag": sum(a["flag"] for a in athletes),
        "n_block": sum(a["in_block"] for a in athletes),
        "main_hamstring_column": ctx.squad["dominant_family_hamstring"].notna().any()
        and "hamstring" not in ctx.main_factor_hidden,
        "squad_charts": _family_share_charts(ctx, fam_labels),
        "swarms": _swarm_charts(ctx, labels),
        "dependence": _dependence_chart(ctx, sum(a["in_block"] for a in athletes)),
        "metrics": _metrics_view(metrics),
        "has_oracle": any(bool(metrics.get(m, {}).get("oracle")) for m in ("hamstring", "transfer")),
        "metric_columns": [label for _, label in _METRIC_COLUMNS] + [BRIER_SKILL_LABEL],
        "net_benefit": _net_benefit_view(metrics),
        "net_benefit_per": f"{NET_BENEFIT_PER:,}",
        "models": ctx.models or [],
    }


def _left_out(ctx: ReportContext) -> str | None:
    """Page one's sentence on the scored athletes a ``report.max_athletes`` cap left out (their ids
    are listed in the methods appendix, :func:`_left_out_ids`)."""
    n = len(ctx.left_out)
    if not n:
        return None
    return (
        f"{n} more athlete{'s were' if n != 1 else ' was'} scored but {'are' if n != 1 else 'is'} not shown "
        f"(the report is limited to {len(ctx.squad)} athletes and shows the highest hamstring risks; "
        f"{'their ids are' if n != 1 else 'the id is'} listed under “Scored but not shown” in the methods appendix)."
    )


def _left_out_ids(ctx: ReportContext) -> str | None:
    """The ids of the athletes a ``report.max_athletes`` cap left out, for the methods appendix."""
    return ", ".join(ctx.left_out) + "." if ctx.left_out else None


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
