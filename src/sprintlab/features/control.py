"""Control builders (access to strength): movement-screen scores, how horizontally sprint force is
applied, and how much of the gym strength shows up in it."""

from __future__ import annotations

import numpy as np

from sprintlab.features.builder import Builder, Features, Need, PanelInputs
from sprintlab.features.grid import forward_fill, lagged, rolling_mean

CONTROL_SCREEN_DAYS = 56  # control_score_8w averages the movement screens of the last 8 weeks
CONTROL_CHANGE_DAYS = 56
STANDARD_GRAVITY_M_S2 = 9.81
FORCE_ORIENTATION_FEATURES = ("rf_max", "drf", "f0_rel_n_kg")


def movement_screens(inputs: PanelInputs) -> Features:
    """Pelvic and trunk control scores of the latest screen (1-5), the screen's age (days), the
    8-week control score and the change of (pelvic + trunk) / 2 over 56 days (points).

    ``control_score_8w`` averages (pelvic + trunk) / 2 over the screens of the last 8 weeks
    (repeated ratings average out rater noise), or the latest screen when none falls in them.
    """
    screens = inputs.tables["movement_screens"]
    grid = inputs.grid
    pelvic = grid.scatter(screens, "pelvic_control_score", "mean")
    trunk = grid.scatter(screens, "trunk_control_score", "mean")
    latest_pelvic, age_days = forward_fill(pelvic)
    latest_trunk, _ = forward_fill(trunk)
    with np.errstate(invalid="ignore"):
        per_screen = np.where(
            np.isfinite(pelvic) & np.isfinite(trunk),
            (pelvic + trunk) / 2,
            np.where(np.isfinite(pelvic), pelvic, trunk),
        )
    control = (latest_pelvic + latest_trunk) / 2
    return {
        "pelvic_control_score": grid.at_week_ends(latest_pelvic),
        "trunk_control_score": grid.at_week_ends(latest_trunk),
        "screen_age_days": grid.at_week_ends(age_days),
        "control_score_8w": grid.latest_at_week_ends(rolling_mean(per_screen, CONTROL_SCREEN_DAYS)),
        "control_change_8w": grid.at_week_ends(control - lagged(control, CONTROL_CHANGE_DAYS)),
    }


def strength_control_gap(inputs: PanelInputs) -> Features:
    """How much faster strength rose than control over 8 weeks:
    max(0, strength change % / 10 - control change / 0.3) (index)."""
    built = inputs.features
    gap = built["strength_change_8w_pct"] / 10 - built["control_change_8w"] / 0.3
    return {"strength_control_gap": np.clip(gap, 0, None)}


def force_orientation(inputs: PanelInputs) -> Features:
    """Ratio of forces (RF max, its decline DRF) and relative horizontal force F0 (N/kg) of the
    latest sprint session (Morin et al. 2011; Samozino et al. 2016)."""
    return {f: inputs.latest(inputs.sprint_sessions, f) for f in FORCE_ORIENTATION_FEATURES}


def access_ratio(inputs: PanelInputs) -> Features:
    """Share of gym strength that shows up as horizontal sprint force:
    F0 (N/kg) / (squat e1RM (kg/kg) x 9.81 m/s^2)."""
    built = inputs.features
    return {"access_ratio": built["f0_rel_n_kg"] / (built["squat_e1rm_rel"] * STANDARD_GRAVITY_M_S2)}


BUILDERS = (
    Builder(
        (
            "pelvic_control_score",
            "trunk_control_score",
            "screen_age_days",
            "control_score_8w",
            "control_change_8w",
        ),
        movement_screens,
        needs=(Need("movement_screens"),),
    ),
    Builder(
        ("strength_control_gap",),
        strength_control_gap,
        uses=("control_change_8w", "strength_change_8w_pct"),
    ),
    Builder(FORCE_ORIENTATION_FEATURES, force_orientation, needs=(Need("sprint_splits"),)),
    Builder(("access_ratio",), access_ratio, uses=("f0_rel_n_kg", "squat_e1rm_rel")),
)
