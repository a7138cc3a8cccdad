"""The simulator's causal truth for a lever: what a change of an observed feature really does.

Each observed feature is generated from a latent state (``latent.py``, ``records.py``); a lever on
the feature is mapped to the latent change it implies (the inverse of the observation coefficients
in ``coefficients.py``) and pushed through the generating equations (``processes.py``) with the
same random draws:

* transfer (per block, :func:`~sprintlab.simulate.processes.transfer_mean_change`):
  ``strength_change_since_test_pct`` +d points -> ``dg = d/100`` (relative block gain);
  ``pelvic_control_score`` +d -> ``dc = d/0.95``; ``trunk_control_score`` +d -> ``dc = d/0.85``;
  ``first_step_contact_ms`` +d -> ``dk = d/14``; ``touchdown_distance_m`` +d -> ``dk = d/0.035``;
  ``hsr_excess_since_test`` +d (log ratio) -> ``dload = d/0.15``; ``sleep_hours_7d`` +d ->
  ``dsleep = -(d/0.8)/0.55``. Several measures of the same latent in one lever (pelvic and trunk;
  contact and touchdown) imply the mean of their latent changes. Nordic force, this week's HSR
  ratio and days since near-maximal speed have no path to transfer (change 0). The true
  probability is ``1 - F_Z(SWC + mu)`` with the generator's own 200,000 noise draws ``Z``
  (:func:`~sprintlab.simulate.truth.transfer_noise`).
* hamstring (weekly logit, ``HAZARD``), applied to the four weeks of the 28-day horizon:
  Nordic +d N -> ``-0.85 d/50``; sleep +d h -> ``0.45 * (-d/0.8)``; days since near-maximal
  speed -> ``0.45 * (clip(D+d, 0, 42) - clip(D, 0, 42))/14``; this week's HSR ratio r -> the
  spike term ``0.95 * (max(r+d-1, 0) - max(r-1, 0))``, halving each following week (the
  simulator's spike state decays by 0.5 a week); strength and control through the
  strength-control gap ``0.55 * clip(g8/0.10 - dc8/0.30, 0, 3)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sprintlab.domain import sigmoid
from sprintlab.simulate.coefficients import (
    DAYS_PER_WEEK,
    HAZARD,
    HAZARD_SCALES,
    HORIZON_WEEKS,
    HSR,
    INITIAL_DAYS_SINCE_NEAR_MAX,
    MEASUREMENT,
    NORDIC,
    STRENGTH_CONTROL_GAP,
    WEEKS_PER_YEAR,
    WELLNESS,
)
from sprintlab.simulate.latent import LatentSquad
from sprintlab.simulate.processes import (
    age_at_week_years,
    capped_sprint_gap_days,
    effective_nordic_n,
    hazard_logit,
    hazard_terms,
    hsr_own_norm_m,
    hsr_spike,
    onset_probability,
    spike_state_step,
    strength_control_gap_from_changes,
    transfer_mean_change,
    weekly_hazard,
)
from sprintlab.simulate.truth import TRANSFER_LATENT_COLUMNS, p_transfer_from_noise

_M, _W = MEASUREMENT, WELLNESS
# observed feature -> (latent, latent change per unit of the feature)
TRANSFER_MAP: dict[str, tuple[str, float]] = {
    "strength_change_since_test_pct": ("g", 1 / 100),
    "pelvic_control_score": ("c", 1 / _M.pelvic_per_control),
    "trunk_control_score": ("c", 1 / _M.trunk_per_control),
    "first_step_contact_ms": ("k", 1 / _M.contact_per_braking_ms),
    "touchdown_distance_m": ("k", 1 / _M.touchdown_per_braking_m),
    "hsr_excess_since_test": ("load", 1 / HSR.log_factor_per_load_sd),
    "sleep_hours_7d": ("sleep", -1 / _W.sleep_hours_per_deficit_sd / _W.sleep_per_block_sd),
}


def transfer_latent_change(changes: Mapping[str, float]) -> dict[str, float]:
    """Latent changes implied by a lever's feature changes (mean over measures of one latent)."""
    acc: dict[str, list[float]] = {}
    for f, d in changes.items():
        if f in TRANSFER_MAP:
            lat, per = TRANSFER_MAP[f]
            acc.setdefault(lat, []).append(d * per)
    return {lat: float(np.mean(v)) for lat, v in acc.items()}


def true_transfer_probability(
    blocks: pd.DataFrame, delta: Mapping[str, float | np.ndarray], z: np.ndarray
) -> np.ndarray:
    """True transfer probability of each truth block after shifting its latents by ``delta``."""
    lat = {
        k: blocks[c].to_numpy(dtype=float) + np.asarray(delta.get(k, 0.0), dtype=float)
        for k, c in TRANSFER_LATENT_COLUMNS.items()
    }
    mu = transfer_mean_change(lat["g"], lat["c"], lat["k"], lat["rev"], lat["load"], lat["sleep"])
    if "own_level_shift_s" in blocks:  # the own-level adjusted label (truth.label_transfer_truth)
        mu = mu + blocks["own_level_shift_s"].to_numpy(dtype=float)
    return p_transfer_from_noise(z, blocks["swc_s"].to_numpy(dtype=float), mu)


def _f(rows: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    return rows[name].to_numpy(dtype=float) if name in rows else np.full(len(rows), default)


def _strength_and_control_change(changes: Mapping[str, float]) -> tuple[float, float]:
    """A lever's strength change since the test (points of %) and latent control change (mean
    over the pelvic and trunk scores it moves)."""
    ds = changes.get("strength_change_since_test_pct", 0.0)
    dc = (
        changes.get("pelvic_control_score", 0.0) / _M.pelvic_per_control
        + changes.get("trunk_control_score", 0.0) / _M.trunk_per_control
    )
    n_c = ("pelvic_control_score" in changes) + ("trunk_control_score" in changes)
    return ds, (dc / n_c if n_c else 0.0)


def _strength_control_gap_change(ds: float, dc: float, rows: pd.DataFrame) -> np.ndarray:
    """Change of the strength-control gap (``processes.strength_control_gap_from_changes``) when the
    strength gain since the test moves by ``ds`` points and control by ``dc``."""
    g8 = np.nan_to_num(_f(rows, "strength_change_8w_pct"), nan=0.0) / 100
    dc8 = np.nan_to_num(_f(rows, "control_change_8w"), nan=0.0) / _M.control_score_per_control
    s = _f(rows, "strength_change_since_test_pct")
    dg8 = np.where(np.isfinite(s), (1 + g8) * ds / 100 / (1 + np.nan_to_num(s) / 100), ds / 100)
    return strength_control_gap_from_changes(g8 + dg8, dc8 + dc) - strength_control_gap_from_changes(g8, dc8)


def hamstring_logit_change(changes: Mapping[str, float], rows: pd.DataFrame) -> np.ndarray:
    """Change of the weekly hazard logit for each of the next four weeks (n_rows x 4)."""
    hz = HAZARD
    out = np.zeros((len(rows), HORIZON_WEEKS))
    decay = HSR.spike_state_decay ** np.arange(HORIZON_WEEKS)
    if "nordic_force_n" in changes:
        out += hz["nordic_per_sd"] * changes["nordic_force_n"] / HAZARD_SCALES.nordic_sd_n
    if "sleep_hours_7d" in changes:
        out += hz["sleep_deficit"] * (-changes["sleep_hours_7d"] / _W.sleep_hours_per_deficit_sd)
    if "days_since_near_max_speed" in changes:
        dd = np.nan_to_num(_f(rows, "days_since_near_max_speed"), nan=INITIAL_DAYS_SINCE_NEAR_MAX)
        gap_change = capped_sprint_gap_days(
            dd + changes["days_since_near_max_speed"]
        ) - capped_sprint_gap_days(dd)
        out += (hz["sprint_gap"] * gap_change / HAZARD_SCALES.sprint_gap_scale_days)[:, None]
    if "hsr_vs_own_norm" in changes:
        r = np.nan_to_num(_f(rows, "hsr_vs_own_norm"), nan=1.0)
        spike = hsr_spike(r + changes["hsr_vs_own_norm"]) - hsr_spike(r)
        out += hz["hsr_spike"] * spike[:, None] * decay[None, :]
    ds, dc = _strength_and_control_change(changes)
    if ds or dc:
        out += (hz["strength_control_gap"] * _strength_control_gap_change(ds, dc, rows))[:, None]
    return out


def true_hamstring_probability(future_hazards: np.ndarray, dlogit: np.ndarray | None = None) -> np.ndarray:
    """28-day probability ``1 - prod(1 - h_j)`` from the next four weekly hazards, logits shifted."""
    h = np.clip(np.asarray(future_hazards, dtype=float), 1e-12, 1 - 1e-12)
    if dlogit is not None:
        h = sigmoid(np.log(h / (1 - h)) + dlogit)
    return onset_probability(h)


def future_hazards(weekly_truth: pd.DataFrame, athlete_ids: np.ndarray, week_ends: np.ndarray) -> np.ndarray:
    """The next four weekly hazards after each athlete-week (rows x 4; NaN past the window)."""
    t = weekly_truth.assign(week_end=pd.to_datetime(weekly_truth["week_start"]) + pd.Timedelta(days=6))
    t = t.set_index(["athlete_id", "week_end"])["hazard_next_week"]
    out = np.full((len(athlete_ids), HORIZON_WEEKS), np.nan)
    for j in range(HORIZON_WEEKS):
        keys = pd.MultiIndex.from_arrays(
            [np.asarray(athlete_ids), pd.to_datetime(week_ends) + pd.Timedelta(weeks=j)]
        )
        out[:, j] = t.reindex(keys).to_numpy(dtype=float)
    return out


# ------------------------------------------------------------------ hamstring truth from the latent states
@dataclass(frozen=True)
class HamstringLatentChange:
    """A lever as changes of the hamstring hazard's latent inputs (from the week of the decision on):

    ``nordic_n`` latent Nordic force (N; the observed force is the latent plus test noise);
    ``hsr_ratio`` this week's HSR in units of the athlete's own weekly norm; ``hsr_log`` the log
    factor of every week's HSR (the rest of the block, i.e. the four weeks of the horizon);
    ``days`` days since near-maximal sprinting at the end of this week; ``sleep_deficit`` the
    sleep deficit (SD units, ``-hours / 0.8``); ``strength_pct`` points of % added to the squat
    strength gain since the block's opening test (from this week on); ``control`` the latent
    control (mean over the screens it moves), from this week on."""

    nordic_n: float = 0.0
    hsr_ratio: float = 0.0
    hsr_log: float = 0.0
    days: float = 0.0
    sleep_deficit: float = 0.0
    strength_pct: float = 0.0
    control: float = 0.0
    days_reset: float | None = None  # an exposure this week: days since near-maximal sprinting <= this


def hamstring_latent_change(
    changes: Mapping[str, float], resets: Mapping[str, float] | None = None
) -> HamstringLatentChange:
    """The latent changes a lever's feature changes imply (inverse of the observation equations:
    Nordic N -> N; sleep +d h -> deficit ``-d / 0.8``; pelvic/trunk +d -> control ``d / 0.95``,
    ``d / 0.85``, mean over both; ``hsr_excess_since_test`` is already a log ratio). ``resets``
    (:attr:`sprintlab.levers.Lever.resets`): a near-maximal sprint this week brings the latent days
    since one down to ``resets["days_since_near_max_speed"]`` at most."""
    reset = (resets or {}).get("days_since_near_max_speed")
    _, dc = _strength_and_control_change(changes)
    return HamstringLatentChange(
        nordic_n=changes.get("nordic_force_n", 0.0),
        hsr_ratio=changes.get("hsr_vs_own_norm", 0.0),
        hsr_log=changes.get("hsr_excess_since_test", 0.0),
        days=changes.get("days_since_near_max_speed", 0.0),
        sleep_deficit=-changes.get("sleep_hours_7d", 0.0) / _W.sleep_hours_per_deficit_sd,
        strength_pct=changes.get("strength_change_since_test_pct", 0.0),
        control=dc,
        days_reset=None if reset is None else float(reset),
    )


def _horizon(a: np.ndarray, rows: np.ndarray, week: np.ndarray) -> np.ndarray:
    """``a[row, week + j]`` for j = 0..3 (rows x 4)."""
    return a[rows[:, None], week[:, None] + np.arange(HORIZON_WEEKS)[None, :]]


def _load_path(
    lat: LatentSquad, rows: np.ndarray, week: np.ndarray, ch: HamstringLatentChange
) -> tuple[np.ndarray, np.ndarray]:
    """Spike state and soreness over weeks w..w+3 with the week's HSR moved as the lever says.

    ``hsr'_w = max(hsr_w + r N_w, 0) e^x`` (N_w the own norm of week w, r = ``hsr_ratio``,
    x = ``hsr_log``), ``hsr'_t = hsr_t e^x`` after; the spike state re-runs the generator's steps
    ``s_t = 0.5 s_{t-1} + spike(hsr'_t / norm'_t)`` (norm': :func:`hsr_own_norm_m` of the moved
    weeks) from the realised ``s_{w-1}``; soreness ``r'_t = r_t + D_t``,
    ``D_t = 0.6 D_{t-1} + 0.9 log(max(hsr'_t / hsr_t, 0.45))`` (the HSR factor ratio, 1 for weeks
    out; a week cut to nothing counts as the generator's low week, factor 0.45)."""
    ham, norm = lat.hamstring, lat.traits.hsr_norm[rows]
    window = HSR.norm_window_weeks
    weeks = ham.hsr_week[rows].copy()
    span = np.arange(HORIZON_WEEKS)
    own_w = hsr_own_norm_m(_take(weeks, week[:, None] - window + np.arange(window)[None, :]), norm)
    cols = week[:, None] + span[None, :]
    base = weeks[np.arange(len(rows))[:, None], cols]
    moved = base * np.exp(ch.hsr_log)
    moved[:, 0] = np.maximum(base[:, 0] + ch.hsr_ratio * own_w, 0) * np.exp(ch.hsr_log)
    weeks[np.arange(len(rows))[:, None], cols] = moved
    state = np.where(week > 0, ham.spike_state[rows, np.maximum(week - 1, 0)], 0.0)
    spikes, sore_shift = np.zeros_like(moved), np.zeros(len(rows))
    sore = _horizon(lat.weekly.sore, rows, week).copy()
    for j in span:
        t = week + j
        own = hsr_own_norm_m(_take(weeks, t[:, None] - window + np.arange(window)[None, :]), norm)
        state = spike_state_step(state, hsr_spike(moved[:, j] / own))
        spikes[:, j] = state
        ratio = np.where(base[:, j] > 0, moved[:, j] / np.where(base[:, j] > 0, base[:, j], 1), 1.0)
        sore_shift = _W.soreness_persistence * sore_shift + _W.soreness_per_log_hsr * np.log(
            np.maximum(ratio, HSR.low_week_factor)
        )
        sore[:, j] += sore_shift
    return spikes, sore


def _take(a: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``a[i, cols[i, k]]`` with columns before week 0 read as zero weeks (no HSR yet)."""
    out = a[np.arange(a.shape[0])[:, None], np.clip(cols, 0, None)]
    return np.where(cols >= 0, out, 0.0)


def _gap_path(lat: LatentSquad, rows: np.ndarray, week: np.ndarray, ch: HamstringLatentChange) -> np.ndarray:
    """Strength-control gap over weeks w..w+3 from the plan's squat and control paths, the squat
    1RM from week w on scaled by ``(1 + s + ds/100) / (1 + s)`` (s: the latent strength change since
    the block's opening test, ds: ``strength_pct``) and control raised by ``control``:
    ``clip((S'_t / S_{t-8} - 1) / 0.10 - (C'_t - C_{t-8}) / 0.30, 0, 3)``."""
    plan = lat.plan
    tests = plan.test_weeks[rows]
    opening = np.max(np.where(tests <= week[:, None], tests, -1), axis=1)
    s = plan.squat_rel[rows, week] / plan.squat_rel[rows, np.maximum(opening, 0)] - 1
    ratio = (1 + s + ch.strength_pct / 100) / (1 + s)
    t = week[:, None] + np.arange(HORIZON_WEEKS)[None, :]
    before = np.maximum(t - STRENGTH_CONTROL_GAP.lookback_weeks, 0)
    squat, control = _horizon(plan.squat_rel, rows, week), _horizon(plan.control, rows, week)
    gain = squat * ratio[:, None] / plan.squat_rel[rows[:, None], before] - 1
    dc8 = control + ch.control - plan.control[rows[:, None], before]
    return strength_control_gap_from_changes(gain, dc8)


def latent_hamstring_probability(
    lat: LatentSquad, rows: np.ndarray, week: np.ndarray, ch: HamstringLatentChange | None = None
) -> np.ndarray:
    """True 28-day hamstring probability after the end of week ``week`` of athlete ``rows`` (indices
    into the squad) along the realised path, with the lever's latent change ``ch``.

    The hazard of week t+1 comes from the state at the end of week t (``latent.py``), so
    ``p = 1 - prod_{t=w..w+3} (1 - sigmoid(h0 + sum terms(state'_t)))`` with
    :func:`~sprintlab.simulate.processes.hazard_terms` of the moved states: Nordic
    ``clip(N_t + dN, 200, 500) (1 - |asym|)``; spike state and soreness (:func:`_load_path`);
    days since near-maximal sprinting ``min(D_t, max(D_w + dD, 0) + 7 (t - w))`` (an exposure this
    week: ``D_w + dD`` replaced by ``min(D_w + dD, days_reset)``); sleep deficit
    ``S_t + dS``; the strength-control gap (:func:`_gap_path`). With no change it is the
    realised-path probability ``p_hamstring_28d`` of the truth table.
    """
    ch = ch or HamstringLatentChange()
    rows, week = np.asarray(rows, dtype=int), np.asarray(week, dtype=int)
    ham, weekly, traits = lat.hamstring, lat.weekly, lat.traits
    spikes, sore = _load_path(lat, rows, week, ch)
    days = _horizon(ham.days_since_expo, rows, week)
    step = np.arange(HORIZON_WEEKS)[None, :] * DAYS_PER_WEEK
    start = days[:, :1] + ch.days
    if ch.days_reset is not None:  # an exposure this week
        start = np.minimum(start, ch.days_reset)
    days = np.minimum(days, np.maximum(start, 0) + step)
    if np.any(week + HORIZON_WEEKS >= ham.hazard.shape[1]):
        raise ValueError("the 28 days after a week run past the simulated window")
    ages = (
        age_at_week_years(traits.age0[rows], 0)[:, None]
        + (week[:, None] + step / DAYS_PER_WEEK) / WEEKS_PER_YEAR
    )
    nordic = np.clip(_horizon(weekly.nordic, rows, week) + ch.nordic_n, *NORDIC.bounds_n)
    terms = hazard_terms(
        _horizon(ham.prev_ham, rows, week),
        ages,
        effective_nordic_n(nordic, traits.nordic_asym[rows][:, None]),
        spikes,
        days,
        _horizon(weekly.sleep_dev, rows, week) + ch.sleep_deficit,
        sore,
        _gap_path(lat, rows, week, ch),
    )
    return onset_probability(weekly_hazard(hazard_logit(terms)))


def latent_index(
    lat: LatentSquad, athlete_ids: np.ndarray, week_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Squad row and week index of each (athlete, week ending on ``week_end``):
    ``week = (week_end - 6 days - start) / 7 days``."""
    pos = {a: i for i, a in enumerate(lat.traits.ids)}
    rows = np.array([pos[a] for a in np.asarray(athlete_ids)], dtype=int)
    days = (pd.to_datetime(week_ends) - pd.Timedelta(days=6) - pd.Timestamp(lat.start)).days
    return rows, np.asarray(days, dtype=int) // DAYS_PER_WEEK
