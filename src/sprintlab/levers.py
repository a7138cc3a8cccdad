"""What to change first: re-score each athlete with one realistic change at a time.

A *lever* is a realistic change of one or more modifiable features (catalogue ``modifiable``,
``change`` in the feature's own unit, ``change_label`` in the coach's words) or a family bundle
("more strength", "better control", "better timing", "less load spike", "better sleep", "near-maximal
sprint exposure"). With the steps saved beside a model (:func:`lever_steps`) each change is of
comparable effort - one within-athlete SD of every feature it moves; an action (``reset_to`` in the
catalogue: a near-maximal sprint this week) sets its feature instead of stepping it. For each
athlete the lever is applied to the current feature row, features computed from the same
measurement move with it (e.g. more squat strength also raises ``squat_e1rm_rel`` and the 8-week
change; +1 pelvic and +1 trunk control point raise the 8-week control score by 1 and shrink the
strength-control gap), each changed feature is
clipped to the range seen in training, and both models are re-scored. The effect is the change in
calibrated probability; its uncertainty is the spread over K bootstrap members (the model refitted
on athlete-bootstrap resamples of the training units: LightGBM boosters whose margins pass through
the deployed model's calibrator, or the linear model refitted).

These are modelled associations, not proven causes: the model says how the predicted chance
moves when a feature moves, everything else held fixed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sprintlab import domain
from sprintlab.domain import Target
from sprintlab.features.catalogue import load_catalogue
from sprintlab.io import write_json_atomic

if TYPE_CHECKING:
    from sprintlab.models.families import Classifier

GUARD_RAIL = (
    "These are modelled associations, not proven causes: the model's predicted chance with one "
    "change made and everything else held fixed."
)
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
    ("sprint_exposure", "load", "Near-maximal sprint exposure", ("days_since_near_max_speed",)),
)


@dataclass(frozen=True)
class Lever:
    """One realistic change: ``changes`` maps feature -> delta in the feature's own unit; ``resets``
    maps feature -> the value an action brings it down to, ``new = min(current, value)`` (e.g. a
    near-maximal sprint this week: days since one at most 3)."""

    name: str
    family: str
    label: str
    changes: Mapping[str, float] = field(default_factory=dict)
    bundle: bool = False
    resets: Mapping[str, float] = field(default_factory=dict)


def catalogue_levers(include_bundles: bool = True) -> list[Lever]:
    """Single-feature levers from the catalogue's modifiable features, then the family bundles.
    Families no training changes (``domain.NOT_TRAINABLE_FAMILIES``: bounce-back, i.e. test-day
    variation) never give a lever."""
    cat = load_catalogue()
    singles = [
        Lever(
            f.name,
            f.family,
            f.change_label or f.name,
            {} if f.change is None else {f.name: float(f.change)},
            resets={} if f.reset_to is None else {f.name: float(f.reset_to)},
        )
        for f in cat.features
        if f.modifiable
        and (f.change is not None or f.reset_to is not None)
        and f.family not in domain.NOT_TRAINABLE_FAMILIES
    ]
    out = list(singles)
    if include_bundles:
        by_name = {lv.name: lv for lv in singles}
        for name, fam, words, members in BUNDLES:
            if fam in domain.NOT_TRAINABLE_FAMILIES:
                continue
            parts = [by_name[m] for m in members if m in by_name]
            if not parts:
                continue
            changes = {k: v for p in parts for k, v in p.changes.items()}
            resets = {k: v for p in parts for k, v in p.resets.items()}
            label = f"{words} ({' and '.join(p.label for p in parts)})" if len(parts) > 1 else parts[0].label
            out.append(Lever(name, fam, label, changes, bundle=True, resets=resets))
    return out


# ------------------------------------------------------------------ effort-equivalent steps
def within_athlete_sd(units: pd.DataFrame, features: Sequence[str]) -> dict[str, float]:
    """Pooled within-athlete SD of each feature over the training ``units``:
    ``sqrt(sum_a sum_i (x_ai - mean_a)^2 / sum_a (n_a - 1))`` over athletes with two or more finite
    values (what usually varies within one athlete, not between athletes). Features with no such
    athlete, or an SD of 0, are left out."""
    out: dict[str, float] = {}
    for f in features:
        if f not in units:
            continue
        v = pd.to_numeric(units[f], errors="coerce").astype(float)
        g = pd.DataFrame({"a": units["athlete_id"].to_numpy(), "v": v.to_numpy()}).dropna()
        grp = g.groupby("a")["v"]
        n = grp.transform("size")
        dev = (g["v"] - grp.transform("mean"))[n > 1]
        dof = float((grp.size() - 1).clip(lower=0).sum())
        if dof > 0 and float((dev**2).sum()) > 0:
            out[f] = float(np.sqrt((dev**2).sum() / dof))
    return out


def lever_steps(units: pd.DataFrame, levers: Sequence[Lever] | None = None) -> dict[str, float]:
    """The effort-equivalent step of every feature a single lever moves (``levers``: default the
    catalogue's): its pooled within-athlete SD over the training ``units`` (:func:`within_athlete_sd`).
    Saved beside each model (``lever_steps.json``) and used by the report and ``sprintlab levers``."""
    chosen = catalogue_levers() if levers is None else levers
    return within_athlete_sd(units, sorted({f for lv in chosen if not lv.bundle for f in lv.changes}))


def effort_equivalent_levers(levers: Sequence[Lever], steps: Mapping[str, float]) -> list[Lever]:
    """The same levers with every change set to one step of its feature in the catalogue's
    direction: ``change_f -> sign(change_f) * steps[f]`` (``steps``: :func:`lever_steps`, one
    within-athlete SD of each quantity, so "more strength" and "better control" ask for a comparable
    effort). A bundle moves each member by its own step. Features without a step keep the
    catalogue's change and label, an action (``Lever.resets``: one near-maximal sprint this week)
    stays as it is; the others are worded by the catalogue's ``step_label``
    (e.g. "+39 min sleep a night")."""
    cat = load_catalogue()

    def words(f: str, change: float, lv: Lever) -> str:
        known = f in cat.names
        if f not in steps:
            return (cat.get(f).change_label or f) if lv.bundle and known else lv.label
        return cat.get(f).step_words(change) if known else f"{f} {change:+.3g}"

    def moved(lv: Lever) -> Lever:
        changes = {f: float(np.sign(d)) * steps[f] if f in steps else d for f, d in lv.changes.items()}
        if not any(f in steps for f in changes):
            return lv
        parts = " and ".join(words(f, changes[f], lv) for f in changes)
        label = f"{lv.label.split(' (')[0]} ({parts})" if lv.bundle and len(changes) > 1 else parts
        return Lever(lv.name, lv.family, label, changes, lv.bundle, lv.resets)

    return [moved(lv) for lv in levers]


def load_lever_steps(path: str | Path) -> dict[str, float]:
    """The steps :func:`save_lever_artifacts` wrote (feature -> step in the feature's unit)."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    return {str(k): float(v) for k, v in raw.items()}


# ------------------------------------------------------------------ training ranges
#: feature -> (min, max) seen in training
FeatureRanges = Mapping[str, Sequence[float]]


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
    write_json_atomic(path, ranges)
    return ranges


def load_training_ranges(path: str | Path) -> dict[str, tuple[float, float]]:
    """The ranges :func:`save_training_ranges` wrote."""
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
    "sleep_hours_vs_norm",
    "sleep_deficit_since_test_h",
    "nordic_force_rel_n_kg",
)
#: one step of a lever: (original rows, rows moved so far, the lever's changes) -> new column values
LeverStep = Callable[[pd.DataFrame, pd.DataFrame, Mapping[str, float]], dict[str, np.ndarray]]


def _col(df: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats (all NaN when absent)."""
    return df[name].to_numpy(dtype=float) if name in df else np.full(len(df), np.nan)


def _direct_changes(
    rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """Each changed feature plus its delta."""
    return {f: _col(rows, f) + d for f, d in changes.items()}


def _strength_links(
    rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """More squat strength since the last test (s -> s + d, in %) scales the squat 1RM columns by
    ``r = (1 + (s + d) / 100) / (1 + s / 100)`` and the 8-week change c to ``100 ((1 + c / 100) r - 1)``."""
    if "strength_change_since_test_pct" not in changes:
        return {}
    s = _col(rows, "strength_change_since_test_pct")
    ratio = (1 + (s + changes["strength_change_since_test_pct"]) / 100) / (1 + s / 100)
    out = {f: _col(rows, f) * ratio for f in ("squat_e1rm_kg", "squat_e1rm_rel")}
    out["strength_change_8w_pct"] = 100 * ((1 + _col(rows, "strength_change_8w_pct") / 100) * ratio - 1)
    return out


def _control_shift(changes: Mapping[str, float]) -> float:
    """Change of the screens' mean control score: the mean of the pelvic and trunk score changes."""
    return (changes.get("pelvic_control_score", 0.0) + changes.get("trunk_control_score", 0.0)) / 2


def _control_links(
    rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """A sustained control change moves the 8-week control score and its 8-week change with it."""
    shift = _control_shift(changes)
    if not shift:
        return {}
    return {f: _col(rows, f) + shift for f in ("control_change_8w", "control_score_8w")}


def _gap_link(rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]) -> dict[str, np.ndarray]:
    """The strength-control gap recomputed from the moved values:
    ``max(0, strength_change_8w_pct / 10 - control_change_8w / 0.3)`` (unchanged where not computable)."""
    if "strength_control_gap" not in moved:
        return {}
    if "strength_change_since_test_pct" not in changes and not _control_shift(changes):
        return {}
    gap = np.clip(
        _col(moved, "strength_change_8w_pct") / 10 - _col(moved, "control_change_8w") / 0.3, 0, None
    )
    return {"strength_control_gap": np.where(np.isfinite(gap), gap, _col(rows, "strength_control_gap"))}


def _sleep_links(
    rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """More nightly sleep (d hours) raises the sleep z-score by ``d / SLEEP_Z_SD_H`` and the 7-day
    mean against the long-term norm (``sleep_hours_vs_norm``, h) by d, and lowers the sleep deficit
    since the last test by d."""
    if "sleep_hours_7d" not in changes:
        return {}
    d = changes["sleep_hours_7d"]
    return {
        "sleep_hours_z": _col(rows, "sleep_hours_z") + d / SLEEP_Z_SD_H,
        "sleep_hours_vs_norm": _col(rows, "sleep_hours_vs_norm") + d,
        "sleep_deficit_since_test_h": _col(rows, "sleep_deficit_since_test_h") - d,
    }


def _nordic_link(
    rows: pd.DataFrame, moved: pd.DataFrame, changes: Mapping[str, float]
) -> dict[str, np.ndarray]:
    """More Nordic force (d newtons) raises the force per kilogram by ``d / body_mass_kg``."""
    if "nordic_force_n" not in changes or "nordic_force_rel_n_kg" not in moved:
        return {}
    per_kg = changes["nordic_force_n"] / _col(rows, "body_mass_kg")
    return {"nordic_force_rel_n_kg": _col(rows, "nordic_force_rel_n_kg") + per_kg}


#: in order: the gap is recomputed from the strength and control values moved before it
LEVER_STEPS: tuple[LeverStep, ...] = (
    _direct_changes,
    _strength_links,
    _control_links,
    _gap_link,
    _sleep_links,
    _nordic_link,
)


def apply_lever(
    rows: pd.DataFrame, lever: Lever, ranges: FeatureRanges | None = None
) -> tuple[pd.DataFrame, np.ndarray]:
    """Apply ``lever`` to each row; return the changed rows and a per-row "clipped" flag.

    Features computed from the same measurement move together (:data:`LEVER_STEPS`; only columns
    the rows have). Every changed feature is then clipped to its training range; a value that
    already lies outside the range is never pushed further out (and never pulled back in). A
    missing value stays missing.
    """
    moved = rows.copy()
    for step in LEVER_STEPS:
        for column, values in step(rows, moved, lever.changes).items():
            if column in moved:
                moved[column] = values
    for column, value in lever.resets.items():  # an action: the feature comes down to ``value`` at most
        if column in moved:
            moved[column] = np.minimum(_col(moved, column), value)  # NaN stays NaN
    if not ranges:
        return moved, np.zeros(len(rows), dtype=bool)
    return _clip_to_ranges(rows, moved, ranges)


def _clip_to_ranges(
    rows: pd.DataFrame, moved: pd.DataFrame, ranges: FeatureRanges
) -> tuple[pd.DataFrame, np.ndarray]:
    """Clip every changed feature of ``moved`` to ``[min(range low, old), max(range high, old)]``;
    the flag marks rows where a finite value was cut."""
    clipped = np.zeros(len(rows), dtype=bool)
    for f in moved.columns:
        if f not in ranges or f == "athlete_id":
            continue
        old, val = _col(rows, f), _col(moved, f)
        if np.allclose(old, val, equal_nan=True):
            continue
        fixed = np.clip(val, np.fmin(ranges[f][0], old), np.fmax(ranges[f][1], old))
        clipped |= np.isfinite(val) & (np.abs(fixed - val) > 1e-12)
        moved[f] = fixed
    return moved, clipped


# ------------------------------------------------------------------ uncertainty: bootstrap boosters
def fit_bootstrap_boosters(model: Classifier, units: pd.DataFrame, k: int, seed: int) -> list[Any]:
    """Refit the model on ``k`` athlete-bootstrap resamples of the training ``units`` (the members).

    One code path for both families: resample ``b`` draws the athletes with replacement
    (``numpy.random.default_rng(seed)``) and ``model.fit_member`` refits on its rows - LightGBM: the
    deployed booster's settings (``random_state`` + b + 1), its margins put through the deployed
    model's calibrator; the linear model: the same estimator refitted (its own logistic
    probabilities). Each member is a plausible alternative model; ``model.member_proba`` scores it.
    Resamples with one class only are skipped.
    """
    from sprintlab.models.datasets import feature_matrix

    X = feature_matrix(units, list(model.feature_names_in_))
    y = units["y"].to_numpy(dtype=int)
    outcome_name = getattr(model, "outcome_name_", None)
    outcome = units[outcome_name].to_numpy(dtype=float) if outcome_name else None
    ids = units["athlete_id"].to_numpy()
    uniq = np.unique(ids)
    pos = {a: np.flatnonzero(ids == a) for a in uniq}
    rng = np.random.default_rng(seed)
    members = []
    for b in range(k):
        pick = rng.choice(uniq, uniq.size, replace=True)
        idx = np.concatenate([pos[a] for a in pick])
        if np.unique(y[idx]).size < 2:
            continue
        part = None if outcome is None else outcome[idx]
        members.append(model.fit_member(X.iloc[idx], y[idx], part, b + 1))
    return members


def save_bootstrap_boosters(
    model: Classifier, units: pd.DataFrame, path: str | Path, k: int, seed: int
) -> Path:
    """Fit :func:`fit_bootstrap_boosters` and store them with joblib at ``path``."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(fit_bootstrap_boosters(model, units, k, seed), path)
    return path


def _members_proba(model: Classifier, members: Sequence[Any], X: pd.DataFrame) -> np.ndarray:
    """Event probabilities of each bootstrap member (rows: members), ``model.member_proba``."""
    return np.array([model.member_proba(member, X) for member in members])


# ------------------------------------------------------------------ the table
def _pct(p: float) -> str:
    return f"{100 * p:.0f}%"


def lever_sentence(label: str, model: str, p0: float, p1: float, clipped: bool) -> str:
    """ "<Label> raises transfer chance from 31% to 48%" (+ a note when the change was clipped); the
    label's first letter capitalised, as the sentence's start ("One near-maximal sprint ...")."""
    words = domain.target(model).outcome_words
    label = label[:1].upper() + label[1:]
    if _pct(p0) == _pct(p1):
        text = f"{label}: {words} stays at {_pct(p0)}"
    else:
        verb = "raises" if p1 > p0 else "lowers"
        text = f"{label} {verb} {words} from {_pct(p0)} to {_pct(p1)}"
    if clipped:
        text += " (change limited to the range seen in training)"
    return text


@dataclass(frozen=True)
class CurrentScores:
    """The athletes' current rows scored once by a model and its bootstrap members; every lever is
    measured against these."""

    model: Classifier
    members: Sequence[Any]
    features: list[str]
    proba: np.ndarray
    members_proba: np.ndarray

    @classmethod
    def of(cls, rows: pd.DataFrame, model: Classifier, members: Sequence[Any]) -> CurrentScores:
        """Score ``rows`` (members' probabilities: one row per member, empty without members)."""
        from sprintlab.models.datasets import feature_matrix

        features = list(model.feature_names_in_)
        X = feature_matrix(rows, features)
        proba = model.predict_proba(X)[:, 1]
        return cls(model, members, features, proba, _members_proba(model, members, X))


@dataclass(frozen=True)
class LeverEffect:
    """One lever's modelled effect on one model, per athlete row: probabilities before and after,
    the bounds of the after value and whether the change was clipped to the training range."""

    baseline: np.ndarray
    new: np.ndarray
    low: np.ndarray
    high: np.ndarray
    clipped: np.ndarray

    def records(self, athletes: pd.Series, spec: Target, lever: Lever) -> list[dict[str, Any]]:
        """The table rows (:data:`LEVER_COLUMNS`) of this effect."""
        return [
            {
                "athlete_id": athletes.iloc[i],
                "model": spec.name,
                "lever": lever.name,
                "family": lever.family,
                "text": lever_sentence(
                    lever.label, spec.name, float(self.baseline[i]), float(self.new[i]), bool(self.clipped[i])
                ),
                "effect": float(self.new[i] - self.baseline[i]),
                "baseline_prob": float(self.baseline[i]),
                "new_prob": float(self.new[i]),
                "low": float(self.low[i]),
                "high": float(self.high[i]),
                "clipped": bool(self.clipped[i]),
            }
            for i in range(len(athletes))
        ]


def levers_table(
    panel_rows: pd.DataFrame,
    models: Mapping[str, Classifier | None],
    training_ranges: Mapping[str, Any] | None,
    *,
    levers: Sequence[Lever] | None = None,
    boosters: Mapping[str, Sequence[Any]] | None = None,
    steps: Mapping[str, Mapping[str, float]] | None = None,
    interval: float = 0.8,
    top_n: int | None = None,
) -> pd.DataFrame:
    """Every lever's modelled effect for every athlete row and model.

    ``panel_rows``: one row per athlete (the current week) with the models' features.
    ``models``: target -> fitted model (either family, :mod:`sprintlab.models.families`).
    ``training_ranges``: either target -> {feature: (min, max)} or one {feature: (min, max)}.
    ``boosters``: target -> bootstrap members (:func:`fit_bootstrap_boosters`); without them
    ``low``/``high`` are NaN. ``low``/``high`` bound the new probability: baseline plus the
    ``interval`` central range of the members' modelled effects.
    ``steps``: target -> the effort-equivalent steps saved with its model (:func:`lever_steps`); a
    target's levers then move each feature by its step (:func:`effort_equivalent_levers`), else by
    the catalogue's change.
    ``effect`` is the new minus the baseline probability (helpful = :meth:`Target.benefit` positive:
    a rise for transfer, a fall for hamstring); with bootstrap members it is the mean effect over the
    deployed model and the members (bagging), otherwise the deployed model's own. Rows are sorted by
    athlete, model and helpfulness; ``top_n`` keeps the best n levers per athlete and model (those
    that help at all).
    """
    levers = list(levers) if levers is not None else catalogue_levers()
    rows = panel_rows.reset_index(drop=True)
    records: list[dict[str, Any]] = []
    for name, model in models.items():
        if model is None:
            continue
        current = CurrentScores.of(rows, model, list((boosters or {}).get(name) or []))
        ranges = {
            f: r for f, r in (_ranges_for(training_ranges, name) or {}).items() if f in current.features
        }
        chosen = effort_equivalent_levers(levers, steps[name]) if steps and steps.get(name) else levers
        for lever, effect in zip(
            chosen, _lever_effects(rows, current, chosen, ranges, interval), strict=True
        ):
            records += effect.records(rows["athlete_id"], domain.target(name), lever)
    table = pd.DataFrame(records, columns=LEVER_COLUMNS)
    return table if table.empty else _rank_by_benefit(table, top_n)


def _lever_effects(
    rows: pd.DataFrame,
    current: CurrentScores,
    levers: Sequence[Lever],
    ranges: FeatureRanges,
    interval: float,
) -> list[LeverEffect]:
    """Every lever applied to ``rows`` and re-scored, all levers in one prediction per model and member
    (rows are scored independently, so the values are those of one call per lever)."""
    from sprintlab.models.datasets import feature_matrix

    if not levers:
        return []
    moved = [apply_lever(rows, lever, ranges) for lever in levers]
    X = pd.concat([feature_matrix(m, current.features) for m, _ in moved], ignore_index=True)
    p1 = current.model.predict_proba(X)[:, 1]
    members_p1 = _members_proba(current.model, current.members, X) if current.members else None
    n = len(rows)
    return [
        _lever_effect(
            current,
            p1[j * n : (j + 1) * n],
            None if members_p1 is None else members_p1[:, j * n : (j + 1) * n],
            clipped,
            interval,
        )
        for j, (_, clipped) in enumerate(moved)
    ]


def _lever_effect(
    current: CurrentScores,
    p1: np.ndarray,
    members_p1: np.ndarray | None,
    clipped: np.ndarray,
    interval: float,
) -> LeverEffect:
    """One lever's effect from the re-scored probabilities (``p1``: the model's, ``members_p1``: one
    row per bootstrap member). With K bootstrap members the new probability is bagged,
    ``p1 = p0 + (e_model + sum_k e_k) / (K + 1)``, and ``low``/``high`` are ``p0`` plus the members'
    ``interval`` effect quantiles (all clipped to [0, 1]); without members they are NaN."""
    p0 = current.proba
    if members_p1 is None:
        nan = np.full(len(p0), np.nan)
        return LeverEffect(p0, p1, nan, nan, clipped)
    effects = members_p1 - current.members_proba
    # bagged effect: the mean over the deployed model and its bootstrap refits smooths the trees'
    # steps (a 15 ms change may or may not cross one model's split)
    bagged = np.clip(p0 + (effects.sum(axis=0) + (p1 - p0)) / (len(current.members) + 1), 0, 1)
    tail = (1 - interval) / 2
    low = np.clip(p0 + np.quantile(effects, tail, axis=0), 0, 1)
    high = np.clip(p0 + np.quantile(effects, 1 - tail, axis=0), 0, 1)
    return LeverEffect(p0, bagged, low, high, clipped)


def _benefit(table: pd.DataFrame) -> pd.Series:
    """Each row's ``effect`` as a benefit for the athlete (:meth:`Target.benefit` of its model)."""
    benefit = table["effect"].copy()
    for name in table["model"].unique():
        of_model = table["model"] == name
        benefit[of_model] = domain.target(name).benefit(table.loc[of_model, "effect"])
    return benefit


def _rank_by_benefit(table: pd.DataFrame, top_n: int | None) -> pd.DataFrame:
    """Sort by athlete, model and benefit (best first, then lever name); ``top_n`` keeps the best
    n helpful levers (benefit above 1e-4) per athlete and model."""
    ranked = table.assign(_benefit=_benefit(table)).sort_values(
        ["athlete_id", "model", "_benefit", "lever"], ascending=[True, True, False, True], kind="mergesort"
    )
    if top_n is not None:
        ranked = ranked[ranked["_benefit"] > 1e-4].groupby(["athlete_id", "model"], sort=False).head(top_n)
    return ranked.drop(columns="_benefit").reset_index(drop=True)


def _ranges_for(training_ranges: Mapping[str, Any] | None, target: str) -> FeatureRanges | None:
    """The feature ranges of ``target`` from either layout of ``training_ranges`` (see
    :func:`levers_table`); None when there are none for it."""
    if not training_ranges:
        return None
    if target in training_ranges and isinstance(training_ranges[target], Mapping):
        return training_ranges[target]
    if all(isinstance(v, Mapping) for v in training_ranges.values()):
        return None
    return training_ranges


def _helpful(table: pd.DataFrame, athlete_id: str, model: str) -> pd.DataFrame:
    """The athlete's levers for ``model`` that help at all, most helpful first."""
    spec = domain.target(model)
    t = table[(table["athlete_id"] == athlete_id) & (table["model"] == model)]
    t = t.assign(_b=spec.benefit(t["effect"]).to_numpy()).sort_values("_b", ascending=False, kind="mergesort")
    return t[t["_b"] > 1e-4]


def family_words(family: str) -> str:
    """A lever family in the coach's words (:data:`sprintlab.domain.FAMILY_LABELS`), lower case."""
    label = domain.FAMILY_LABELS.get(family, family.replace("_", " "))
    return label[:1].lower() + label[1:]


def priority_words(lever: pd.Series) -> str:
    """A lever row's priority in the coach's words: its family (:func:`family_words`) and, for a
    bundle or one of its members, the bundle's words - "training load: near-maximal sprint
    exposure", not just "training load", which would read as "less load"."""
    name = str(lever.get("lever", ""))
    words = next((w for b, _f, w, members in BUNDLES if name == b or name in members), None)
    family = family_words(str(lever["family"]))
    return f"{family}: {words[:1].lower() + words[1:]}" if words else family


def priority_summary(table: pd.DataFrame, athlete_id: str, model: str = "transfer", n: int = 2) -> str:
    """ "Priority: sprint timing and braking: better timing. <best lever sentence>; <next lever
    sentence>." for one athlete and model (:func:`priority_words`)."""
    t = _helpful(table, athlete_id, model)
    if t.empty:
        return f"No modelled lever changes the {domain.target(model).outcome_words} noticeably."
    return f"Priority: {priority_words(t.iloc[0])}. " + "; ".join(t["text"].head(n)) + "."


def first_lever(table: pd.DataFrame, athlete_id: str, models: Sequence[str]) -> pd.Series | None:
    """The athlete's first thing to change: the most helpful lever of the first outcome in ``models``
    (the one that matters most for the athlete) that has a helpful lever; ``None`` when no lever
    helps any of them."""
    for model in models:
        t = _helpful(table, athlete_id, model)
        if len(t):
            return t.iloc[0]
    return None


def priority_line(table: pd.DataFrame, athlete_id: str, models: Sequence[str]) -> str | None:
    """The one "Priority: <family>: <bundle>." line of an athlete: :func:`priority_words` of
    :func:`first_lever`."""
    best = first_lever(table, athlete_id, models)
    return None if best is None else f"Priority: {priority_words(best)}."


def athlete_outcomes(in_block: bool, flagged: bool) -> list[str]:
    """The outcomes whose levers are shown for an athlete, the one that matters most first:
    hamstring risk first when flagged, transfer chance (only while a strength block runs) otherwise."""
    shown = [t for t, spec in domain.TARGETS.items() if in_block or not spec.needs_strength_block]
    first = next((t for t, s in domain.TARGETS.items() if s.flag_column), None) if flagged else None
    return sorted(shown, key=lambda t: (t != first, not domain.TARGETS[t].needs_strength_block))


def distinct_levers(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without levers that repeat another: a family bundle whose shown result (whole
    percent before and after) equals one of its own parts' (the simpler single change says the
    same), then repeated sentences for the same athlete and outcome."""
    shown = table.assign(_b=table["baseline_prob"].map(_pct), _n=table["new_prob"].map(_pct))
    members = {name: set(parts) for name, _fam, _words, parts in BUNDLES}
    key = ["athlete_id", "model", "_b", "_n"]
    singles = shown.loc[~shown["lever"].isin(members), [*key, "lever"]]
    paired = shown.reset_index().merge(singles, on=key, how="left", suffixes=("", "_part"))
    same = paired.apply(lambda r: r["lever_part"] in members.get(r["lever"], ()), axis=1)
    drop = set(paired.loc[same.astype(bool), "index"])
    kept = table.drop(index=sorted(drop))
    return kept.drop_duplicates(subset=["athlete_id", "model", "text"]).reset_index(drop=True)


def best_levers(table: pd.DataFrame, top_n: int) -> pd.DataFrame:
    """The ``top_n`` most helpful distinct levers (:func:`distinct_levers`) per athlete and outcome."""
    return _rank_by_benefit(distinct_levers(table), top_n) if len(table) else table


# ------------------------------------------------------------------ pipeline hooks
RANGES_FILE = "training_ranges.json"
BOOTSTRAP_FILE = "levers_bootstrap.joblib"
STEPS_FILE = "lever_steps.json"


def save_lever_artifacts(
    model: Classifier,
    train_units: pd.DataFrame,
    model_dir: str | Path,
    *,
    k: int,
    seed: int,
) -> None:
    """Write ``training_ranges.json``, ``lever_steps.json`` (:func:`lever_steps` of the training
    units) and ``levers_bootstrap.joblib`` (k bootstrap boosters, ``train.lever_members``) beside the model."""
    model_dir = Path(model_dir)
    save_training_ranges(train_units, list(model.feature_names_in_), model_dir / RANGES_FILE)
    write_json_atomic(model_dir / STEPS_FILE, lever_steps(train_units))
    save_bootstrap_boosters(model, train_units, model_dir / BOOTSTRAP_FILE, k=k, seed=seed)


def lever_athletes(squad: pd.DataFrame, spec: Target) -> pd.Series:
    """Whose levers the report shows: athletes in a strength block for an outcome scored only then
    (transfer), flagged athletes for an outcome with a flag (hamstring)."""
    column = "in_strength_block" if spec.needs_strength_block else spec.flag_column
    chosen = squad.get(column, pd.Series(False, index=squad.index)).fillna(False).astype(bool)
    return squad.loc[chosen, "athlete_id"]
