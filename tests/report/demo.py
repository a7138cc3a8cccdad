"""A deterministic, realistic synthetic :class:`ReportContext` for the report tests.

SHAP values come from a small additive logistic model (exact SHAP for a linear model in
log-odds), with one built-in interaction: squat-strength gains only push transfer up when pelvic
control is good. No trained model, simulator or registry is needed.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from sprintlab.domain import FAMILY_LABELS, sigmoid
from sprintlab.report.context import ReportContext

# name, family, unit, description, mean, sd, beta_hamstring, beta_transfer, lever change, lever label
_FEATURES: tuple[tuple, ...] = (
    (
        "hsr_vs_own_norm",
        "load",
        "ratio",
        "This week's high-speed running against the athlete's own 4-week norm",
        1.0,
        0.25,
        0.55,
        0.0,
        -0.3,
        "High-speed running back towards the athlete's norm",
    ),
    (
        "acwr_ewma",
        "load",
        "ratio",
        "Acute to chronic load ratio (weighted)",
        1.05,
        0.2,
        0.3,
        -0.15,
        None,
        None,
    ),
    (
        "hamstring_tightness_z",
        "wellness",
        "z",
        "Hamstring tightness against the athlete's own baseline",
        0.0,
        1.0,
        0.45,
        0.0,
        None,
        None,
    ),
    (
        "sleep_hours_7d",
        "wellness",
        "h",
        "Mean sleep over the last 7 days",
        7.4,
        0.6,
        -0.3,
        0.2,
        0.5,
        "+30 min sleep a night",
    ),
    (
        "nordic_force_n",
        "strength",
        "N",
        "Nordic hamstring eccentric force, mean of both legs (latest test)",
        340.0,
        45.0,
        -0.45,
        0.0,
        30.0,
        "+30 N Nordic force",
    ),
    (
        "strength_change_since_test_pct",
        "strength",
        "%",
        "Squat strength change since the last sprint test",
        4.0,
        3.0,
        0.0,
        0.0,
        5.0,
        "+5 percentage points of strength gain this block",
    ),
    (
        "squat_e1rm_rel",
        "strength",
        "kg/kg",
        "Back-squat estimated 1RM relative to body mass",
        1.7,
        0.2,
        0.0,
        0.2,
        None,
        None,
    ),
    (
        "pelvic_control_score",
        "control",
        "1-5",
        "Pelvic control score at the latest movement screen",
        3.0,
        0.9,
        -0.3,
        0.45,
        1.0,
        "+1 pelvic control point",
    ),
    (
        "rf_max",
        "control",
        "ratio",
        "Maximal ratio of forces: how horizontally force is applied at the start",
        0.42,
        0.04,
        0.0,
        0.35,
        None,
        None,
    ),
    (
        "first_step_contact_ms",
        "timing",
        "ms",
        "Mean ground-contact time of the first four steps",
        190.0,
        15.0,
        0.2,
        -0.35,
        -15.0,
        "15 ms shorter first-step contacts",
    ),
    (
        "touchdown_distance_m",
        "timing",
        "m",
        "Foot touchdown ahead of the centre of mass (braking)",
        0.28,
        0.05,
        0.25,
        -0.2,
        None,
        None,
    ),
    (
        "previous_hamstring_injury",
        "history",
        "flag",
        "Has had a hamstring injury before",
        0.3,
        0.46,
        0.5,
        0.0,
        None,
        None,
    ),
    ("age_years", "history", "years", "Age", 24.0, 3.5, 0.12, -0.05, None, None),
)
_BASE = {"hamstring": math.log(0.06 / 0.94), "transfer": math.log(0.45 / 0.55)}
_STRENGTH_GAIN = "strength_change_since_test_pct"
_N_WEEKS = 12
_WEEK_END = pd.Timestamp("2026-06-21")  # Sunday closing ISO week 2026-W25


def _fmt(value: float, unit: str) -> str:
    if unit == "flag":
        return "yes" if value >= 0.5 else "no"
    digits = 0 if abs(value) >= 100 or unit == "%" else (1 if abs(value) >= 10 else 2)
    suffix = "" if unit in ("ratio", "z", "1-5") else f" {unit}" if unit != "%" else "%"
    if unit == "1-5":
        return f"{value:.1f} of 5"
    return f"{value:.{digits}f}{suffix}"


def _shap(values: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Exact SHAP (log-odds) of the additive demo model for every row of ``values``."""
    out = {}
    for model in ("hamstring", "transfer"):
        cols = {}
        for name, _fam, _unit, _desc, mu, sd, bh, bt, *_ in _FEATURES:
            z = (values[name] - mu) / sd
            beta = bh if model == "hamstring" else bt
            cols[name] = beta * z
        if model == "transfer":
            gain = (values[_STRENGTH_GAIN] - 4.0) / 3.0
            control = values["pelvic_control_score"] - 3.0
            cols[_STRENGTH_GAIN] = 0.35 * gain * (1.0 + 0.9 * control) + 0.2 * gain
        out[model] = pd.DataFrame(cols, index=values.index)
    return out


def _athlete_traits(a: int, rng: np.random.Generator) -> dict[str, float]:
    """One athlete's usual values; athletes 0-2 are the demo's storylines."""
    trait = {name: rng.normal(mu, 0.7 * sd) for name, _f, _u, _d, mu, sd, *_ in _FEATURES}
    trait["previous_hamstring_injury"] = float(rng.random() < 0.3)
    trait["pelvic_control_score"] = float(np.clip(rng.normal(3.0, 1.0), 1, 5))
    if a == 0:  # a clearly flagged athlete: load spike, tight hamstrings, old injury
        trait.update(
            hsr_vs_own_norm=1.3,
            hamstring_tightness_z=1.1,
            previous_hamstring_injury=1.0,
            nordic_force_n=290.0,
        )
    if a == 1:  # strong gains that transfer thanks to good control
        trait.update(strength_change_since_test_pct=9.0, pelvic_control_score=4.6)
    if a == 2:  # strong gains that do NOT transfer (poor control)
        trait.update(strength_change_since_test_pct=8.5, pelvic_control_score=1.6)
    return trait


def _athlete_weeks(
    a: int, aid: str, rng: np.random.Generator, weeks: pd.DatetimeIndex
) -> list[dict[str, object]]:
    """The athlete's weekly panel rows around their traits."""
    trait = _athlete_traits(a, rng)
    rows = []
    for w, week_end in enumerate(weeks):
        r: dict[str, object] = {"athlete_id": aid, "week_end": week_end}
        ramp = (w - (_N_WEEKS - 1)) / _N_WEEKS  # -0.9..0: latest week = the athlete's trait
        for name, _f, _u, _d, _mu, sd, *_ in _FEATURES:
            v = trait[name] + rng.normal(0, 0.35 * sd)
            if name in ("hsr_vs_own_norm", "hamstring_tightness_z") and a == 0:
                v = trait[name] + ramp * 1.2 * sd
            if name == "previous_hamstring_injury":
                v = trait[name]
            if name == "pelvic_control_score":
                v = float(np.clip(round(trait[name] * 2) / 2, 1, 5))
            if name == _STRENGTH_GAIN:
                v = trait[name] * (w + 1) / _N_WEEKS + rng.normal(0, 0.4)
            r[name] = float(v)
        rows.append(r)
    return rows


def _driver_rows(panel: pd.DataFrame, idx: int, model: str, s: pd.Series, medians: pd.Series) -> list[dict]:
    """The athlete's four top drivers with their sentences."""
    spec = {f[0]: f for f in _FEATURES}
    rows = []
    top = s.abs().sort_values(ascending=False, kind="mergesort").index[:4]
    for rank, feat in enumerate(top, start=1):
        _n, fam, unit, desc, *_ = spec[feat]
        value = float(panel.at[idx, feat])
        text = f"{desc}: {_fmt(value, unit)}"
        diff = value - medians[feat]
        if unit != "flag" and abs(diff) > 1e-9:
            gap = f"{abs(diff):.1f} points" if unit == "1-5" else _fmt(abs(diff), unit)
            text += f", {gap} {'above' if diff > 0 else 'below'} the squad median"
        verb = "raises" if s[feat] > 0 else "lowers"
        text += f" - {verb} {'hamstring risk' if model == 'hamstring' else 'transfer chance'}"
        rows.append(
            {
                "athlete_id": panel.at[idx, "athlete_id"],
                "model": model,
                "rank": rank,
                "feature": feat,
                "family": fam,
                "value": value,
                "unit": unit,
                "shap": float(s[feat]),
                "text": text,
            }
        )
    return rows


def _best_lever(panel: pd.DataFrame, idx: int, model: str, p0: float) -> dict | None:
    """The lever with the biggest helpful effect among the modifiable features."""
    best = None
    for feat, *_, change, label in _FEATURES:
        if change is None:
            continue
        new_vals = panel.loc[[idx]].copy()
        new_vals[feat] = new_vals[feat] + change
        z_new = _BASE[model] + _shap(new_vals)[model].sum(axis=1).iloc[0]
        p1 = float(sigmoid(z_new))
        gain = (p0 - p1) if model == "hamstring" else (p1 - p0)
        if gain > 0.005 and (best is None or gain > best[0]):
            best = (gain, feat, label, p1)
    if best is None or not (model == "transfer" or p0 >= 0.15):
        return None
    _gain, feat, label, p1 = best
    return {
        "athlete_id": panel.at[idx, "athlete_id"],
        "model": model,
        "lever": feat,
        "text": f"{label}",
        "effect": float(p1 - p0),
        "baseline_prob": p0,
        "new_prob": p1,
        "low": float(max(0.0, p1 - 0.6 * abs(p1 - p0) - 0.02)),
        "high": float(min(1.0, p1 + 0.6 * abs(p1 - p0) + 0.02)),
    }


def _latest_week(
    panel: pd.DataFrame, shap: dict, probs: dict, no_block, thin
) -> dict[str, pd.DataFrame | None]:
    """Squad rows, drivers, family contributions and levers of the latest week."""
    spec = {f[0]: f for f in _FEATURES}
    latest = panel["week_end"] == panel["week_end"].max()
    squad_rows, driver_rows, fam_rows, lever_rows = [], [], [], []
    medians = panel.loc[latest, [f[0] for f in _FEATURES]].median()
    for idx in panel.index[latest]:
        aid = panel.at[idx, "athlete_id"]
        in_block = aid != no_block
        fams: dict[str, str | None] = {"transfer": None}
        for model in ("hamstring", "transfer") if in_block else ("hamstring",):
            s = shap[model].loc[idx]
            by_fam = s.groupby(lambda f: spec[f][1]).sum()
            fams[model] = str(by_fam.abs().idxmax())
            fam_rows += [
                {"athlete_id": aid, "model": model, "family": f, "shap": float(v)} for f, v in by_fam.items()
            ]
            driver_rows += _driver_rows(panel, idx, model, s, medians)
            lever = _best_lever(panel, idx, model, float(probs[model][idx]))
            lever_rows += [lever] if lever is not None else []
        risk = float(probs["hamstring"][idx])
        squad_rows.append(
            {
                "athlete_id": aid,
                "hamstring_risk": risk,
                "hamstring_flag": bool(risk >= 0.2),
                "transfer_probability": float(probs["transfer"][idx]) if in_block else float("nan"),
                "in_strength_block": bool(in_block),
                "dominant_family_hamstring": fams["hamstring"],
                "dominant_family_transfer": fams["transfer"],
                "insufficient_data": bool(aid == thin),
                "data_freshness_days": 16.0 if aid == thin else float(1 + (len(squad_rows) % 3)),
            }
        )
    return {
        "squad": pd.DataFrame(squad_rows),
        "drivers": pd.DataFrame(driver_rows),
        "family_contributions": pd.DataFrame(fam_rows),
        "levers": pd.DataFrame(lever_rows) if lever_rows else None,
    }


def _shap_long(panel: pd.DataFrame, shap: dict, no_block) -> pd.DataFrame:
    """Every feature's SHAP value per athlete in the latest week (no transfer rows outside a strength
    block), as a scored week carries them."""
    spec = {f[0]: f for f in _FEATURES}
    long_rows = [
        pd.DataFrame(
            {
                "model": model,
                "athlete_id": panel["athlete_id"],
                "feature": feat,
                "family": spec[feat][1],
                "value": panel[feat].astype(float),
                "shap": shap[model][feat].astype(float),
            }
        )
        for model in ("hamstring", "transfer")
        for feat in shap[model].columns
    ]
    shap_long = pd.concat(long_rows, ignore_index=True)
    shap_long = shap_long[(shap_long["shap"] != 0) | (shap_long["model"] == "hamstring")]
    shap_long = shap_long[~((shap_long["model"] == "transfer") & (shap_long["athlete_id"] == no_block))]
    latest = pd.concat([panel["week_end"]] * (len(long_rows)), ignore_index=True)
    return shap_long[latest.loc[shap_long.index] == panel["week_end"].max()].reset_index(drop=True)


def _metric_block(auc, lo, hi, pr, brier, slope) -> dict:
    return {"roc_auc": auc, "roc_auc_ci": [lo, hi], "pr_auc": pr, "brier": brier, "calibration_slope": slope}


def _demo_metrics() -> dict:
    m = _metric_block
    return {
        "hamstring": {
            "model": m(0.74, 0.66, 0.81, 0.31, 0.071, 0.93),
            "baselines": {
                "Squad base rate": m(0.50, 0.50, 0.50, 0.09, 0.082, float("nan")),
                "Load ratio only (ACWR)": m(0.61, 0.52, 0.69, 0.15, 0.079, 0.81),
            },
            "oracle": m(0.80, 0.73, 0.86, 0.40, 0.066, 1.0),
            "n_test_units": 1240,
            "n_test_events": 112,
        },
        "transfer": {
            "model": m(0.71, 0.63, 0.78, 0.62, 0.211, 0.88),
            "baselines": {
                "Strength gain only": m(0.58, 0.49, 0.66, 0.51, 0.241, 0.74),
                "Squad base rate": m(0.50, 0.50, 0.50, 0.45, 0.248, float("nan")),
            },
            "oracle": m(0.79, 0.72, 0.85, 0.70, 0.188, 1.0),
            "n_test_units": 380,
            "n_test_events": 171,
        },
    }


_DEMO_MODELS = [
    {"name": "sprintlab-hamstring", "version": "3", "alias": "champion", "trained_on": "2026-06-14"},
    {"name": "sprintlab-transfer", "version": "2", "alias": "champion", "trained_on": "2026-06-14"},
]


def build_demo_context(n_athletes: int = 6, seed: int = 0) -> ReportContext:
    """A realistic synthetic :class:`ReportContext` (deterministic for ``n_athletes`` and ``seed``)."""
    from sprintlab.explain import squad_family_importance

    if n_athletes < 1:
        raise ValueError("n_athletes must be at least 1")
    rng = np.random.default_rng(seed)
    ids = [f"SQD-{i + 1:03d}" for i in range(n_athletes)]
    weeks = pd.date_range(end=_WEEK_END, periods=_N_WEEKS, freq="7D")
    panel = pd.DataFrame([r for a, aid in enumerate(ids) for r in _athlete_weeks(a, aid, rng, weeks)])
    shap = _shap(panel)
    probs = {m: sigmoid(_BASE[m] + shap[m].sum(axis=1)) for m in shap}
    no_block = ids[-1] if n_athletes > 3 else None
    week = _latest_week(panel, shap, probs, no_block, ids[4] if n_athletes > 4 else None)
    shap_long = _shap_long(panel, shap, no_block)
    fam_long = shap_long.groupby(["model", "athlete_id", "family"], sort=True)["shap"].sum().reset_index()
    iso = _WEEK_END.isocalendar()
    return ReportContext(
        title="sprintlab weekly report",
        week_label=f"{iso.year}-W{iso.week:02d}",
        data_window=(weeks[0].date().isoformat(), weeks[-1].date().isoformat()),
        generated_at="2026-06-22T07:00:00+00:00",
        simulated=True,
        pseudonymised=False,
        squad=week["squad"],
        drivers=week["drivers"],
        family_contributions=week["family_contributions"],
        family_importance=squad_family_importance(fam_long),
        shap_long=shap_long,
        interaction=pd.DataFrame(
            {
                "strength_change_since_test_pct": panel[_STRENGTH_GAIN],
                "control_score": panel["pelvic_control_score"],
                "shap_strength": shap["transfer"][_STRENGTH_GAIN],
                "athlete_id": panel["athlete_id"],
                "week_end": panel["week_end"],
            }
        ),
        metrics=_demo_metrics(),
        models=_DEMO_MODELS,
        family_labels=dict(FAMILY_LABELS),
        history=pd.DataFrame(
            {
                "athlete_id": panel["athlete_id"],
                "week_end": panel["week_end"],
                "hamstring_risk": probs["hamstring"].astype(float),
            }
        ),
        levers=week["levers"],
        drift_warnings=["Wellness questionnaires were missing on 18% of days this week (usual: 6%)."],
        known_limits=[
            "Trained on simulated athlete data; real-squad performance is not yet known.",
            "Hamstring injuries are rare, so the risk figures carry wide uncertainty.",
            "Transfer is only estimated while a strength block is running.",
        ],
        flag_threshold=0.2,
    )
