"""What to change first: re-score each athlete with one realistic change at a time.

A *lever* is a realistic change of one or more modifiable features (catalogue ``modifiable``,
``change`` in the feature's own unit, ``change_label`` in the coach's words) or a family bundle
("more strength", "better control", "better timing", "less load spike", "better sleep"). For each
athlete the lever is applied to the current feature row, features computed from the same
measurement move with it (e.g. more squat strength also raises ``squat_e1rm_rel`` and the 8-week
change; +1 pelvic and +1 trunk control point raise the 8-week control score by 1 and shrink the
strength-control gap), each changed feature is
clipped to the range seen in training, and both models are re-scored. The effect is the change in
calibrated probability; its uncertainty is the spread over K bootstrap boosters (refitted on
athlete-bootstrap resamples of the training units, margins passed through the deployed model's
calibrator).

These are modelled associations, not proven causes: the model says how the predicted chance
moves when a feature moves, everything else held fixed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.features.catalogue import load_catalogue

GUARD_RAIL = (
    "These are modelled associations, not proven causes: the model's predicted chance with one "
    "change made and everything else held fixed."
)
MODEL_WORDS = {"transfer": "transfer chance", "hamstring": "hamstring risk"}
# within-athlete SD (h) of nightly sleep that turns a change in hours into a change of the sleep z-score
SLEEP_Z_SD_H = 0.8
LEVER_COLUMNS = [
    "athlete_id",
    "model",
    "lever",
    "family",
    "text",
    "effect",
    "baseline_prob",
    "new_prob",
    "low",
    "high",
    "clipped",
]

# family bundles: (id, family, coach wording, member features)
BUNDLES: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("more_strength", "strength", "More strength", ("strength_change_since_test_pct", "nordic_force_n")),
    ("better_control", "control", "Better control", ("pelvic_control_score", "trunk_control_score")),
    ("better_timing", "timing", "Better timing", ("first_step_contact_ms", "touchdown_distance_m")),
    ("less_load_spike", "load", "Less load spike", ("hsr_vs_own_norm", "hsr_excess_since_test")),
    ("better_sleep", "wellness", "Better sleep", ("sleep_hours_7d",)),
)


@dataclass(frozen=True)
class Lever:
    """One realistic change: ``changes`` maps feature -> delta in the feature's own unit."""

    name: str
    family: str
    label: str
    changes: Mapping[str, float] = field(default_factory=dict)
    bundle: bool = False


def catalogue_levers(include_bundles: bool = True) -> list[Lever]:
    """Single-feature levers from the catalogue's modifiable features, then the family bundles."""
    cat = load_catalogue()
    singles = [
        Lever(f.name, f.family, f.change_label or f.name, {f.name: float(f.change)})
        for f in cat.features
        if f.modifiable and f.change is not None
    ]
    out = list(singles)
    if include_bundles:
        by_name = {lv.name: lv for lv in singles}
        for name, fam, words, members in BUNDLES:
            parts = [by_name[m] for m in members if m in by_name]
            if not parts:
                continue
            changes = {k: v for p in parts for k, v in p.changes.items()}
            label = f"{words} ({' and '.join(p.label for p in parts)})" if len(parts) > 1 else parts[0].label
            out.append(Lever(name, fam, label, changes, bundle=True))
    return out


# ------------------------------------------------------------------ training ranges
def save_training_ranges(units: pd.DataFrame, features: Sequence[str], path: str | Path) -> dict:
    """Write min/max of every feature (and the linked features a lever can move) seen in training."""
    cols = sorted(set(features) | {c for c in _LINKED if c in units})
    ranges = {}
    for c in cols:
        if c in units:
            v = pd.to_numeric(units[c], errors="coerce").astype(float)
            v = v[np.isfinite(v)]
            if len(v):
                ranges[c] = [float(v.min()), float(v.max())]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(ranges, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(path)
    return ranges


def load_training_ranges(path: str | Path) -> dict[str, tuple[float, float]]:
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {k: (float(v[0]), float(v[1])) for k, v in raw.items()}


# ------------------------------------------------------------------ applying a lever
_LINKED = (
    "squat_e1rm_kg",
    "squat_e1rm_rel",
    "strength_change_8w_pct",
    "control_change_8w",
    "control_score_8w",
    "strength_control_gap",
    "sleep_hours_z",
    "sleep_deficit_since_test_h",
    "nordic_force_rel_n_kg",
)


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    return df[name].to_numpy(dtype=float) if name in df else np.full(len(df), np.nan)


def apply_lever(
    rows: pd.DataFrame, lever: Lever, ranges: Mapping[str, Sequence[float]] | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply ``lever`` to each row; return the changed rows and a per-row "clipped" flag.

    Features computed from the same measurement move together (see module docstring). Every
    changed feature is then clipped to its training range; a value that already lies outside the
    range is never pushed further out (and never pulled back in). A missing value stays missing.
    """
    new = rows.copy()
    for f, d in lever.changes.items():
        if f in new:
            new[f] = _col(rows, f) + d
    ch = lever.changes
    if "strength_change_since_test_pct" in ch:
        s = _col(rows, "strength_change_since_test_pct")
        ratio = (1 + (s + ch["strength_change_since_test_pct"]) / 100) / (1 + s / 100)
        for f in ("squat_e1rm_kg", "squat_e1rm_rel"):
            if f in new:
                new[f] = _col(rows, f) * ratio
        if "strength_change_8w_pct" in new:
            new["strength_change_8w_pct"] = 100 * (
                (1 + _col(rows, "strength_change_8w_pct") / 100) * ratio - 1
            )
    dctrl = (ch.get("pelvic_control_score", 0.0) + ch.get("trunk_control_score", 0.0)) / 2
    if dctrl:
        # the screens' mean control score and its 8-week change move with a sustained change
        for f in ("control_change_8w", "control_score_8w"):
            if f in new:
                new[f] = _col(rows, f) + dctrl
    if "strength_control_gap" in new and ("strength_change_since_test_pct" in ch or dctrl):
        gap = np.clip(
            _col(new, "strength_change_8w_pct") / 10 - _col(new, "control_change_8w") / 0.3, 0, None
        )
        new["strength_control_gap"] = np.where(np.isfinite(gap), gap, _col(rows, "strength_control_gap"))
    if "sleep_hours_7d" in ch:
        d = ch["sleep_hours_7d"]
        if "sleep_hours_z" in new:
            new["sleep_hours_z"] = _col(rows, "sleep_hours_z") + d / SLEEP_Z_SD_H
        if "sleep_deficit_since_test_h" in new:
            new["sleep_deficit_since_test_h"] = _col(rows, "sleep_deficit_since_test_h") - d
    if "nordic_force_n" in ch and "nordic_force_rel_n_kg" in new:
        new["nordic_force_rel_n_kg"] = _col(rows, "nordic_force_rel_n_kg") + ch["nordic_force_n"] / _col(
            rows, "body_mass_kg"
        )
    clipped = np.zeros(len(rows), dtype=bool)
    if ranges:
        for f in new.columns:
            if f not in ranges or f in ("athlete_id",):
                continue
            old, val = _col(rows, f), _col(new, f)
            if np.allclose(old, val, equal_nan=True):
                continue
            lo = np.fmin(ranges[f][0], old)
            hi = np.fmax(ranges[f][1], old)
            fixed = np.clip(val, lo, hi)
            clipped |= np.isfinite(val) & (np.abs(fixed - val) > 1e-12)
            new[f] = fixed
    return new, clipped


# ------------------------------------------------------------------ uncertainty: bootstrap boosters
def fit_bootstrap_boosters(model, units: pd.DataFrame, k: int = 8, seed: int = 0) -> list:
    """Refit the model's booster on ``k`` athlete-bootstrap resamples of the training ``units``.

    Same hyperparameters as the deployed booster; their margins are put through the deployed
    model's calibrator, so each member is a plausible alternative calibrated model.
    """
    from sprintlab.models.datasets import feature_matrix

    feats = list(model.feature_names_in_)
    X = feature_matrix(units, feats)
    y = units["y"].to_numpy(dtype=int)
    ids = units["athlete_id"].to_numpy()
    uniq = np.unique(ids)
    pos = {a: np.flatnonzero(ids == a) for a in uniq}
    rng = np.random.default_rng(seed)
    members = []
    params = model.booster_.get_params()
    by_outcome = getattr(model, "learn_from", "label") == "outcome"
    target = model.outcome_sign * units[model.outcome_name_].to_numpy(dtype=float) if by_outcome else y
    import lightgbm as lgb

    cls = lgb.LGBMRegressor if by_outcome else lgb.LGBMClassifier

    for b in range(k):
        pick = rng.choice(uniq, uniq.size, replace=True)
        idx = np.concatenate([pos[a] for a in pick])
        if np.unique(y[idx]).size < 2:
            continue
        m = cls(**{**params, "random_state": int(params.get("random_state") or 0) + b + 1})
        members.append(m.fit(X.iloc[idx], target[idx]))
    return members


def save_bootstrap_boosters(model, units: pd.DataFrame, path: str | Path, k: int = 8, seed: int = 0) -> Path:
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(fit_bootstrap_boosters(model, units, k, seed), path)
    return path


def _member_proba(model, booster, X: pd.DataFrame) -> np.ndarray:
    return model.proba_from_raw(booster.predict(X, raw_score=True))


# ------------------------------------------------------------------ the table
def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def lever_sentence(label: str, model: str, p0: float, p1: float, clipped: bool) -> str:
    """ "<label>: transfer chance from 31% to 48%" (+ a note when the change was clipped)."""
    words = MODEL_WORDS.get(model, model)
    if _pct(p0) == _pct(p1):
        text = f"{label}: {words} stays at {_pct(p0)}"
    else:
        verb = "raises" if p1 > p0 else "lowers"
        text = f"{label} {verb} {words} from {_pct(p0)} to {_pct(p1)}"
    if clipped:
        text += " (change limited to the range seen in training)"
    return text


def levers_table(
    panel_rows: pd.DataFrame,
    models: Mapping[str, object],
    training_ranges: Mapping[str, Mapping[str, Sequence[float]]] | Mapping[str, Sequence[float]] | None,
    *,
    levers: Sequence[Lever] | None = None,
    boosters: Mapping[str, Sequence] | None = None,
    interval: float = 0.8,
    top_n: int | None = None,
) -> pd.DataFrame:
    """Every lever's modelled effect for every athlete row and model.

    ``panel_rows``: one row per athlete (the current week) with the models' features.
    ``models``: target -> fitted :class:`CalibratedLGBMClassifier`.
    ``training_ranges``: either target -> {feature: (min, max)} or one {feature: (min, max)}.
    ``boosters``: target -> bootstrap members (:func:`fit_bootstrap_boosters`); without them
    ``low``/``high`` are NaN. ``low``/``high`` bound the new probability: baseline plus the
    ``interval`` central range of the members' modelled effects.
    ``effect`` is the new minus the baseline probability (helpful = positive for transfer,
    negative for hamstring); with bootstrap members it is the mean effect over the deployed model
    and the members (bagging), otherwise the deployed model's own. Rows are sorted by athlete, model and helpfulness; ``top_n`` keeps the
    best n levers per athlete and model (those that help at all).
    """
    from sprintlab.models.datasets import feature_matrix

    levers = list(levers) if levers is not None else catalogue_levers()
    rows = panel_rows.reset_index(drop=True)
    q = ((1 - interval) / 2, 1 - (1 - interval) / 2)
    out = []
    for target, model in models.items():
        if model is None:
            continue
        rng_t = _ranges_for(training_ranges, target)
        feats = list(model.feature_names_in_)
        X0 = feature_matrix(rows, feats)
        p0 = model.predict_proba(X0)[:, 1]
        members = list((boosters or {}).get(target) or [])
        m0 = np.array([_member_proba(model, b, X0) for b in members]) if members else None
        rng_m = {f: r for f, r in (rng_t or {}).items() if f in feats}
        for lv in levers:
            new, clipped = apply_lever(rows, lv, rng_m)
            X1 = feature_matrix(new, feats)
            p1 = model.predict_proba(X1)[:, 1]
            if members:
                eff = np.array([_member_proba(model, b, X1) for b in members]) - m0
                # bagged effect: the mean over the deployed model and its bootstrap refits smooths
                # the trees' steps (a 15 ms change may or may not cross one model's split)
                p1 = np.clip(p0 + (eff.sum(axis=0) + (p1 - p0)) / (len(members) + 1), 0, 1)
                lo_e, hi_e = np.quantile(eff, q[0], axis=0), np.quantile(eff, q[1], axis=0)
                low, high = np.clip(p0 + lo_e, 0, 1), np.clip(p0 + hi_e, 0, 1)
            else:
                low = high = np.full(len(rows), np.nan)
            for i in range(len(rows)):
                c = bool(clipped[i])
                out.append(
                    {
                        "athlete_id": rows["athlete_id"].iloc[i],
                        "model": target,
                        "lever": lv.name,
                        "family": lv.family,
                        "text": lever_sentence(lv.label, target, float(p0[i]), float(p1[i]), c),
                        "effect": float(p1[i] - p0[i]),
                        "baseline_prob": float(p0[i]),
                        "new_prob": float(p1[i]),
                        "low": float(low[i]),
                        "high": float(high[i]),
                        "clipped": c,
                    }
                )
    df = pd.DataFrame(out, columns=LEVER_COLUMNS)
    if df.empty:
        return df
    df["_benefit"] = np.where(df["model"] == "hamstring", -df["effect"], df["effect"])
    df = df.sort_values(
        ["athlete_id", "model", "_benefit", "lever"], ascending=[True, True, False, True], kind="mergesort"
    )
    if top_n is not None:
        df = df[df["_benefit"] > 1e-4].groupby(["athlete_id", "model"], sort=False).head(top_n)
    return df.drop(columns="_benefit").reset_index(drop=True)


def _ranges_for(training_ranges, target: str):
    if not training_ranges:
        return None
    if target in training_ranges and isinstance(training_ranges[target], Mapping):
        return training_ranges[target]
    if all(isinstance(v, Mapping) for v in training_ranges.values()):
        return None
    return training_ranges


def priority_summary(table: pd.DataFrame, athlete_id: str, model: str = "transfer", n: int = 2) -> str:
    """ "Priority: timing. <best lever sentence>; <next lever sentence>." for one athlete and model."""
    t = table[(table["athlete_id"] == athlete_id) & (table["model"] == model)]
    benefit = -t["effect"] if model == "hamstring" else t["effect"]
    t = t.assign(_b=benefit.to_numpy()).sort_values("_b", ascending=False, kind="mergesort")
    t = t[t["_b"] > 1e-4]
    if t.empty:
        return f"No modelled lever changes the {MODEL_WORDS.get(model, model)} noticeably."
    return f"Priority: {t['family'].iloc[0]}. " + "; ".join(t["text"].head(n)) + "."


# ------------------------------------------------------------------ pipeline hooks
RANGES_FILE = "training_ranges.json"
BOOTSTRAP_FILE = "levers_bootstrap.joblib"


def save_lever_artifacts(
    model, train_units: pd.DataFrame, model_dir: str | Path, *, k: int = 8, seed: int = 0
) -> None:
    """Write ``training_ranges.json`` and ``levers_bootstrap.joblib`` (k bootstrap boosters) beside the model."""
    model_dir = Path(model_dir)
    save_training_ranges(train_units, list(model.feature_names_in_), model_dir / RANGES_FILE)
    save_bootstrap_boosters(model, train_units, model_dir / BOOTSTRAP_FILE, k=k, seed=seed)


def report_levers(
    panel: pd.DataFrame,
    models: Mapping[str, object],
    models_dir: str | Path,
    squad: pd.DataFrame,
    week_end,
    *,
    top_n: int = 2,
) -> pd.DataFrame | None:
    """The report's "What to change first" rows: transfer levers for athletes in a strength block,
    hamstring levers for flagged athletes (``squad`` from :func:`sprintlab.scoring.score_week`)."""
    import joblib

    models_dir = Path(models_dir)
    ranges = {
        t: load_training_ranges(models_dir / t / RANGES_FILE)
        for t in models
        if (models_dir / t / RANGES_FILE).exists()
    }
    boots = {
        t: joblib.load(models_dir / t / BOOTSTRAP_FILE)
        for t in models
        if (models_dir / t / BOOTSTRAP_FILE).exists()
    }
    want = {
        "transfer": squad.loc[
            squad.get("in_strength_block", pd.Series(False, index=squad.index)).fillna(False).astype(bool),
            "athlete_id",
        ],
        "hamstring": squad.loc[
            squad.get("hamstring_flag", pd.Series(False, index=squad.index)).fillna(False).astype(bool),
            "athlete_id",
        ],
    }
    parts = []
    for t, ids in want.items():
        rows = panel[(panel["week_end"] == week_end) & panel["athlete_id"].isin(ids)]
        if t in models and len(rows):
            parts.append(levers_table(rows, {t: models[t]}, ranges, boosters=boots, top_n=top_n))
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else None
