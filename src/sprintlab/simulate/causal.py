"""The simulator's causal truth for a lever: what a change of an observed feature really does.

Each observed feature is generated from a latent state (``generator.py``); a lever on the feature
is mapped to the latent change it implies and pushed through the generating equations with the
same random draws:

* transfer (per block, :func:`~sprintlab.simulate.generator.transfer_mean_change`):
  ``strength_change_since_test_pct`` +d points -> ``dg = d/100`` (relative block gain);
  ``pelvic_control_score`` +d -> ``dc = d/0.95``; ``trunk_control_score`` +d -> ``dc = d/0.85``;
  ``first_step_contact_ms`` +d -> ``dk = d/14``; ``touchdown_distance_m`` +d -> ``dk = d/0.035``;
  ``hsr_excess_since_test`` +d (log ratio) -> ``dload = d/0.15``; ``sleep_hours_7d`` +d ->
  ``dsleep = -(d/0.8)/0.55``. Several measures of the same latent in one lever (pelvic and trunk;
  contact and touchdown) imply the mean of their latent changes. Nordic force, this week's HSR
  ratio and days since near-maximal speed have no path to transfer (change 0). The true
  probability is ``1 - F_Z(SWC + mu)`` with the generator's own 200,000 noise draws ``Z``.
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
from sprintlab.simulate.generator import HAZARD, transfer_mean_change, transfer_noise  # noqa: F401 (re-exported)

# observed feature -> (latent, latent change per unit of the feature)
TRANSFER_MAP: dict[str, tuple[str, float]] = {
    "strength_change_since_test_pct": ("g", 1 / 100),
    "pelvic_control_score": ("c", 1 / 0.95),
    "trunk_control_score": ("c", 1 / 0.85),
    "first_step_contact_ms": ("k", 1 / 14),
    "touchdown_distance_m": ("k", 1 / 0.035),
    "hsr_excess_since_test": ("load", 1 / 0.15),
    "sleep_hours_7d": ("sleep", -1 / 0.8 / 0.55),
}
LATENTS = ("g", "c", "k", "rev", "load", "sleep")
BLOCK_COLUMNS = {
    "g": "strength_gain",
    "c": "control_state",
    "k": "braking_state",
    "rev": "t10_above_typical_s",
    "load": "load_excess",
    "sleep": "sleep_deficit",
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
        for k, c in BLOCK_COLUMNS.items()
    }
    mu = transfer_mean_change(lat["g"], lat["c"], lat["k"], lat["rev"], lat["load"], lat["sleep"])
    thresh = blocks["swc_s"].to_numpy(dtype=float) + mu
    return 1 - np.searchsorted(z, thresh, side="right") / z.size


def _f(rows: pd.DataFrame, name: str, default: float = np.nan) -> np.ndarray:
    return rows[name].to_numpy(dtype=float) if name in rows else np.full(len(rows), default)


def hamstring_logit_change(changes: Mapping[str, float], rows: pd.DataFrame) -> np.ndarray:
    """Change of the weekly hazard logit for each of the next four weeks (n_rows x 4)."""
    hz = HAZARD
    n = len(rows)
    out = np.zeros((n, 4))
    decay = 0.5 ** np.arange(4)
    if "nordic_force_n" in changes:
        out += hz["nordic_per_sd"] * changes["nordic_force_n"] / 50
    if "sleep_hours_7d" in changes:
        out += hz["sleep_deficit"] * (-changes["sleep_hours_7d"] / 0.8)
    if "days_since_near_max_speed" in changes:
        dd = np.nan_to_num(_f(rows, "days_since_near_max_speed"), nan=21.0)
        out += (
            hz["sprint_gap"]
            * (np.clip(dd + changes["days_since_near_max_speed"], 0, 42) - np.clip(dd, 0, 42))
            / 14
        )[:, None]
    if "hsr_vs_own_norm" in changes:
        r = np.nan_to_num(_f(rows, "hsr_vs_own_norm"), nan=1.0)
        spike = np.maximum(np.clip(r + changes["hsr_vs_own_norm"] - 1, -1, 2), 0) - np.maximum(
            np.clip(r - 1, -1, 2), 0
        )
        out += hz["hsr_spike"] * spike[:, None] * decay[None, :]
    ds = changes.get("strength_change_since_test_pct", 0.0)
    dc = changes.get("pelvic_control_score", 0.0) / 0.95 + changes.get("trunk_control_score", 0.0) / 0.85
    n_c = ("pelvic_control_score" in changes) + ("trunk_control_score" in changes)
    dc = dc / n_c if n_c else 0.0
    if ds or dc:
        g8 = np.nan_to_num(_f(rows, "strength_change_8w_pct"), nan=0.0) / 100
        dc8 = np.nan_to_num(_f(rows, "control_change_8w"), nan=0.0) / 0.9
        s = _f(rows, "strength_change_since_test_pct")
        dg8 = np.where(np.isfinite(s), (1 + g8) * ds / 100 / (1 + np.nan_to_num(s) / 100), ds / 100)
        gap0 = np.clip(g8 / 0.10 - dc8 / 0.30, 0, 3)
        gap1 = np.clip((g8 + dg8) / 0.10 - (dc8 + dc) / 0.30, 0, 3)
        out += (hz["strength_control_gap"] * (gap1 - gap0))[:, None]
    return out


def true_hamstring_probability(future_hazards: np.ndarray, dlogit: np.ndarray | None = None) -> np.ndarray:
    """28-day probability ``1 - prod(1 - h_j)`` from the next four weekly hazards, logits shifted."""
    h = np.clip(np.asarray(future_hazards, dtype=float), 1e-12, 1 - 1e-12)
    if dlogit is not None:
        h = sigmoid(np.log(h / (1 - h)) + dlogit)
    return 1 - np.prod(1 - h, axis=1)


def future_hazards(weekly_truth: pd.DataFrame, athlete_ids: np.ndarray, week_ends: np.ndarray) -> np.ndarray:
    """The next four weekly hazards after each athlete-week (rows x 4; NaN past the window)."""
    t = weekly_truth.assign(week_end=pd.to_datetime(weekly_truth["week_start"]) + pd.Timedelta(days=6))
    t = t.set_index(["athlete_id", "week_end"])["hazard_next_week"]
    out = np.full((len(athlete_ids), 4), np.nan)
    for j in range(4):
        keys = pd.MultiIndex.from_arrays(
            [np.asarray(athlete_ids), pd.to_datetime(week_ends) + pd.Timedelta(weeks=j)]
        )
        out[:, j] = t.reindex(keys).to_numpy(dtype=float)
    return out
