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

import numpy as np
import pandas as pd

from sprintlab.domain import sigmoid
from sprintlab.simulate.coefficients import (
    HAZARD,
    HAZARD_SCALES,
    HORIZON_WEEKS,
    HSR,
    INITIAL_DAYS_SINCE_NEAR_MAX,
    MEASUREMENT,
    WELLNESS,
)
from sprintlab.simulate.processes import (
    capped_sprint_gap_days,
    hsr_spike,
    onset_probability,
    strength_control_gap_from_changes,
    transfer_mean_change,
)
from sprintlab.simulate.truth import TRANSFER_LATENT_COLUMNS

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
    thresh = blocks["swc_s"].to_numpy(dtype=float) + mu
    return 1 - np.searchsorted(z, thresh, side="right") / z.size


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
