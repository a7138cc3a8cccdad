"""Sprint mechanics engine: mono-exponential sprint model, start corrections and FV profiling.

Reference implementation: the R package {shorts} (Jovanovic & Vescovi 2022) and the
macroscopic sprint method of Samozino et al. (2016). See ``docs/sprint-model.md``.
"""

from sprintlab.sprint.fit import (
    GateFit,
    TraceFit,
    fit_distance_trace,
    fit_radar,
    fit_timing_gates,
    gate_time,
    parse_correction,
)
from sprintlab.sprint.fvp import air_resistance_k, air_resistance_n, fv_profile
from sprintlab.sprint.lm import batched_lm
from sprintlab.sprint.model import acceleration, distance, time_at_distance, velocity
from sprintlab.sprint.profile import profile_radar, profile_splits, summarise_sessions

__all__ = [
    "GateFit",
    "TraceFit",
    "acceleration",
    "air_resistance_k",
    "air_resistance_n",
    "batched_lm",
    "distance",
    "fit_distance_trace",
    "fit_radar",
    "fit_timing_gates",
    "fv_profile",
    "gate_time",
    "parse_correction",
    "profile_radar",
    "profile_splits",
    "summarise_sessions",
    "time_at_distance",
    "velocity",
]
