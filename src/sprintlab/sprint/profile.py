"""Table-level API: profile every sprint trial of a ``sprint_splits`` table (or radar traces) at once.

* :func:`profile_splits` - one row per (athlete_id, date, trial) with the mono-exponential fit,
  its start correction, the force-velocity profile and 5/10 m times.
* :func:`summarise_sessions` - one row per (athlete_id, date): best/mean 5 and 10 m times,
  trial-to-trial typical error and the median parameters of the trials that fitted.
* :func:`profile_radar` - the same parameter columns from velocity-time (or distance-time)
  traces.

All trials are fitted together by the batched solver in :mod:`sprintlab.sprint.lm`; a bad
trial gets ``fit_ok = False`` and a ``fit_issue`` text and never stops the others.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from sprintlab.sprint.fit import (
    GateFit,
    TraceFit,
    fit_distance_trace,
    fit_radar,
    fit_timing_gates,
    parse_correction,
)
from sprintlab.sprint.fvp import fv_profile
from sprintlab.sprint.model import time_at_distance

FloatArray = NDArray[np.float64]

TRIAL_KEY = ["athlete_id", "date", "trial"]
SPLIT_COLUMNS = ["athlete_id", "date", "trial", "distance_m", "time_s"]
FD_FLYING_M = 0.5
# TAU below which a non-flying start looks flying (uncorrected gate fits); see docs/sprint-model.md
TAU_FLYING_S = {"block": 0.8, "crouch": 0.65, "three_point": 0.65, "standing": 0.6}
TAU_FLYING_DEFAULT_S = 0.6
#: distances (m) of the ``t5_*`` and ``t10_*`` columns
GATE_DISTANCES_M = np.array([5.0, 10.0])
#: observation column of each trace model
TRACE_COLUMNS = {"velocity": "velocity_m_s", "distance": "distance_m"}
#: force-velocity profile columns (:func:`sprintlab.sprint.fvp.fv_profile`, Pmax per kg renamed)
FVP_COLUMNS = ["f0_n", "f0_rel_n_kg", "v0_m_s", "pmax_w", "fvp_pmax_rel_w_kg", "fv_slope", "rf_max", "drf"]

PROFILE_COLUMNS = [
    "athlete_id",
    "date",
    "trial",
    "start_type",
    "n_splits",
    "correction",
    "mss_m_s",
    "tau_s",
    "mac_m_s2",
    "pmax_rel_w_kg",
    *FVP_COLUMNS,
    "rmse_s",
    "rse_s",
    "time_correction_s",
    "flying_distance_m",
    "distance_correction_m",
    "mss_se",
    "tau_se",
    "t5_pred_s",
    "t10_pred_s",
    "t5_obs_s",
    "t10_obs_s",
    "t5_motion_s",
    "t10_motion_s",
    "body_mass_kg",
    "height_cm",
    "flying_start_flag",
    "fit_ok",
    "fit_issue",
]


def _pad_trials(
    df: pd.DataFrame, key: list[str], *values: FloatArray
) -> tuple[list[FloatArray], NDArray[np.intp]]:
    """Place per-row ``values`` in ``(trials, samples)`` arrays padded with NaN.

    A trial is a group of ``key`` (numbered in order of first appearance, NaN keys included);
    samples keep the row order. Also returns the number of rows of each trial.
    """
    grp = df.groupby(key, sort=False, dropna=False)
    trial = grp.ngroup().to_numpy()
    sample = grp.cumcount().to_numpy()
    shape = (int(trial.max()) + 1, int(sample.max()) + 1)
    arrays = []
    for v in values:
        a = np.full(shape, np.nan)
        a[trial, sample] = v
        arrays.append(a)
    return arrays, np.bincount(trial, minlength=shape[0])


def _body_size(
    keys: pd.DataFrame, athletes: pd.DataFrame | None, default_body_mass_kg: float, default_height_cm: float
) -> tuple[FloatArray, FloatArray]:
    """Body mass (kg) and height (cm) per row of ``keys`` from the athletes table, defaults for
    athletes not listed (or when ``keys`` has no ``athlete_id``)."""
    mass = np.full(len(keys), float(default_body_mass_kg))
    height = np.full(len(keys), float(default_height_cm))
    if athletes is not None and len(athletes) and "athlete_id" in keys:
        a = athletes.drop_duplicates("athlete_id").set_index("athlete_id")
        ids = keys["athlete_id"]
        if "body_mass_kg" in a:
            mass = ids.map(a["body_mass_kg"]).astype(float).fillna(default_body_mass_kg).to_numpy()
        if "height_cm" in a:
            height = ids.map(a["height_cm"]).astype(float).fillna(default_height_cm).to_numpy()
    return mass, height


def _model_columns(fit: GateFit | TraceFit, mass: FloatArray, height_cm: FloatArray) -> dict[str, FloatArray]:
    """Columns derived from the fitted model, shared by gate and trace profiles: MSS, TAU, MAC,
    PMAX, the force-velocity profile (``fvp_pmax_rel_w_kg`` = FVP Pmax / body mass), corrections,
    standard errors and model times from the start of motion at 5 and 10 m, ``t(d; MSS, TAU)``."""
    fv = fv_profile(fit.mss_m_s, fit.mac_m_s2, mass, height_cm / 100.0)
    fv["fvp_pmax_rel_w_kg"] = fv.pop("pmax_rel_w_kg")
    motion = time_at_distance(GATE_DISTANCES_M[None, :], fit.mss_m_s[:, None], fit.tau_s[:, None])
    return {
        "mss_m_s": fit.mss_m_s,
        "tau_s": fit.tau_s,
        "mac_m_s2": fit.mac_m_s2,
        "pmax_rel_w_kg": fit.pmax_rel_w_kg,
        **fv,
        "time_correction_s": fit.time_correction_s,
        "distance_correction_m": fit.distance_correction_m,
        "mss_se": fit.mss_se,
        "tau_se": fit.tau_se,
        "t5_motion_s": motion[:, 0],
        "t10_motion_s": motion[:, 1],
    }


def _profile_table(
    keys: pd.DataFrame, fitted: dict[str, Any], described: dict[str, Any], fit_ok: NDArray[np.bool_]
) -> pd.DataFrame:
    """``keys`` plus one column per entry of ``fitted`` and ``described``.

    Failed fits carry no parameters (never a silent nonsense number): the ``fitted`` columns are
    NaN where ``fit_ok`` is False; the ``described`` ones (counts, observations, body size, flags)
    keep their values.
    """
    out = keys.copy()
    for name, values in {**fitted, **described}.items():
        out[name] = values
    out.loc[~fit_ok, list(fitted)] = np.nan
    return out


# ---------------------------------------------------------------------------------------------
# timing-gate splits
# ---------------------------------------------------------------------------------------------


def profile_splits(
    splits: pd.DataFrame,
    athletes: pd.DataFrame | None = None,
    correction: str = "none",
    default_body_mass_kg: float = 75.0,
    default_height_cm: float = 177.0,
) -> pd.DataFrame:
    """Fit every trial of a ``sprint_splits`` table at once; one output row per (athlete_id, date, trial).

    ``correction``: ``none`` | ``tc`` | ``fd`` | ``dc`` | ``fixed:SECONDS`` (see
    :func:`sprintlab.sprint.fit.fit_timing_gates`). Body mass / height come from ``athletes``
    (athlete_id, body_mass_kg, height_cm) with the defaults for athletes not listed; they only
    affect the force-velocity columns (Samozino et al. 2016, {shorts} ``create_FVP``).

    ``pmax_rel_w_kg`` is the {shorts} ``PMAX = MSS * MAC / 4`` (no air resistance);
    ``fvp_pmax_rel_w_kg`` is the FVP ``Pmax / body mass`` (with air resistance).
    ``t5_pred_s``/``t10_pred_s`` are predicted on the device clock (comparable with
    ``t5_obs_s``/``t10_obs_s``); ``t5_motion_s``/``t10_motion_s`` are model times from the
    start of motion, ``t(d; MSS, TAU)``.

    ``flying_start_flag`` is True when start_type is ``flying``, when the estimated flying
    distance exceeds 0.5 m, or when TAU is below the start-type threshold in ``TAU_FLYING_S``.
    """
    missing = [c for c in SPLIT_COLUMNS if c not in splits.columns]
    if missing:
        raise ValueError(f"sprint_splits table is missing columns: {missing}")
    parse_correction(correction)  # fail fast on a bad name
    if len(splits) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PROFILE_COLUMNS})

    df = _sorted_splits(splits)
    keys = df.drop_duplicates(TRIAL_KEY)[TRIAL_KEY + ["start_type"]].reset_index(drop=True)
    d_arr, t_arr = _split_arrays(df)
    fit = fit_timing_gates(d_arr, t_arr, correction)
    mass, height = _body_size(keys, athletes, default_body_mass_kg, default_height_cm)
    pred = fit.predict_gate_time(GATE_DISTANCES_M)
    obs = _observed_gate_times(d_arr, t_arr, GATE_DISTANCES_M)
    fitted = {
        **_model_columns(fit, mass, height),
        "rmse_s": fit.rmse_s,
        "rse_s": fit.rse_s,
        "flying_distance_m": fit.flying_distance_m,
        "t5_pred_s": pred[:, 0],
        "t10_pred_s": pred[:, 1],
    }
    described = {
        "n_splits": fit.n_splits,
        "correction": correction,
        "t5_obs_s": obs[:, 0],
        "t10_obs_s": obs[:, 1],
        "body_mass_kg": mass,
        "height_cm": height,
        "flying_start_flag": _flying_start_flag(keys["start_type"], fit),
        "fit_ok": fit.fit_ok,
        "fit_issue": fit.fit_issue.astype(str),
    }
    return _profile_table(keys, fitted, described, fit.fit_ok)[PROFILE_COLUMNS]


def _sorted_splits(splits: pd.DataFrame) -> pd.DataFrame:
    """Numeric distance and time (unparseable -> NaN), start type ``standing`` when the column is
    absent, rows sorted by trial and distance (missing distances last)."""
    df = splits.copy()
    df["distance_m"] = pd.to_numeric(df["distance_m"], errors="coerce")
    df["time_s"] = pd.to_numeric(df["time_s"], errors="coerce")
    if "start_type" not in df:
        df["start_type"] = "standing"
    return df.sort_values(TRIAL_KEY + ["distance_m"], kind="stable", na_position="last")


def _split_arrays(df: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """``(trials, gates)`` distance and time arrays for :func:`fit_timing_gates`, NaN-padded.

    A row with a missing value must not look like padding: it keeps exactly one side NaN
    (distance NaN, time -1), which the fit reports as "missing distance or time value".
    """
    dv = df["distance_m"].to_numpy(dtype=float)
    tv = df["time_s"].to_numpy(dtype=float)
    row_missing = ~np.isfinite(dv) | ~np.isfinite(tv)
    (d_arr, t_arr), _ = _pad_trials(
        df, TRIAL_KEY, np.where(row_missing, np.nan, dv), np.where(row_missing, -1.0, tv)
    )
    return d_arr, t_arr


def _observed_gate_times(d_arr: FloatArray, t_arr: FloatArray, gates_m: FloatArray) -> FloatArray:
    """Observed device time at each gate distance per trial (the latest positive time recorded
    within 1e-6 m of it), NaN when the trial has no such gate."""
    obs = np.full((d_arr.shape[0], gates_m.size), np.nan)
    for j, gate in enumerate(gates_m):
        hit = np.isclose(d_arr, gate, atol=1e-6, rtol=0) & (t_arr > 0)
        latest = np.nanmax(np.where(hit, t_arr, np.nan), axis=1, initial=-np.inf)
        obs[:, j] = np.where(hit.any(axis=1), latest, np.nan)
    return obs


def _flying_start_flag(start_type: pd.Series, fit: GateFit) -> NDArray[np.bool_]:
    """Declared flying start, or (for trials that fitted) an estimated flying distance above
    ``FD_FLYING_M`` or TAU below the start type's threshold in ``TAU_FLYING_S``."""
    start = start_type.astype(str).str.lower().to_numpy()
    tau_threshold_s = np.array([TAU_FLYING_S.get(s, TAU_FLYING_DEFAULT_S) for s in start])
    with np.errstate(invalid="ignore"):
        estimated = (fit.flying_distance_m > FD_FLYING_M) | (fit.tau_s < tau_threshold_s)
    return (start == "flying") | (fit.fit_ok & estimated)


SUMMARY_MEDIANS = [
    "mss_m_s",
    "tau_s",
    "mac_m_s2",
    "pmax_rel_w_kg",
    "f0_n",
    "f0_rel_n_kg",
    "v0_m_s",
    "pmax_w",
    "fv_slope",
    "rf_max",
    "drf",
    "time_correction_s",
    "flying_distance_m",
    "distance_correction_m",
]


def summarise_sessions(profiles: pd.DataFrame) -> pd.DataFrame:
    """One row per (athlete_id, date) from :func:`profile_splits` output.

    Uses only trials with ``fit_ok``. The 5/10 m time of a trial is the observed gate time when
    a gate exists at that distance, else the model prediction (device clock). Columns:
    ``n_trials``, ``n_ok``, ``t5_best_s`` (min), ``t5_mean_s``, ``t5_typical_error_s``
    (within-session SD across trials, = SD(diff)/sqrt(2) for two trials; Hopkins 2000), the same
    for 10 m, ``any_flying_start``, and the medians of the parameter columns.
    """
    keys = ["athlete_id", "date"]
    p = profiles.copy()
    p["t5_s"] = p["t5_obs_s"].where(p["t5_obs_s"].notna(), p["t5_pred_s"])
    p["t10_s"] = p["t10_obs_s"].where(p["t10_obs_s"].notna(), p["t10_pred_s"])
    counts = p.groupby(keys, sort=True, dropna=False).agg(n_trials=("trial", "size"), n_ok=("fit_ok", "sum"))
    ok = p[p["fit_ok"].astype(bool)]
    g = ok.groupby(keys, sort=True, dropna=False)
    agg = g.agg(
        t5_best_s=("t5_s", "min"),
        t5_mean_s=("t5_s", "mean"),
        t5_typical_error_s=("t5_s", "std"),
        t10_best_s=("t10_s", "min"),
        t10_mean_s=("t10_s", "mean"),
        t10_typical_error_s=("t10_s", "std"),
        any_flying_start=("flying_start_flag", "any"),
        **{c: (c, "median") for c in SUMMARY_MEDIANS if c in ok.columns},
    )
    out = counts.join(agg, how="left").reset_index()
    out["n_ok"] = out["n_ok"].astype(int)
    out["any_flying_start"] = (
        out["any_flying_start"].map(lambda x: bool(x) if pd.notna(x) else False).astype(bool)
    )
    return out


# ---------------------------------------------------------------------------------------------
# radar / laser traces
# ---------------------------------------------------------------------------------------------

RADAR_COLUMNS = [
    "n_points",
    "model",
    "mss_m_s",
    "tau_s",
    "mac_m_s2",
    "pmax_rel_w_kg",
    *FVP_COLUMNS,
    "rmse",
    "rse",
    "time_correction_s",
    "distance_correction_m",
    "mss_se",
    "tau_se",
    "t5_motion_s",
    "t10_motion_s",
    "body_mass_kg",
    "height_cm",
    "fit_ok",
    "fit_issue",
]


def profile_radar(
    trace: pd.DataFrame,
    athletes: pd.DataFrame | None = None,
    *,
    model: str = "auto",
    time_correction: bool = True,
    distance_correction: bool = True,
    clamp_before_start: bool = True,
    max_dropout_fraction: float = 0.2,
    max_gap_s: float = 0.5,
    default_body_mass_kg: float = 75.0,
    default_height_cm: float = 177.0,
) -> pd.DataFrame:
    """Fit radar/laser traces; one output row per trace.

    Trace columns: ``time_s`` (s) and ``velocity_m_s`` (m/s) and/or ``distance_m`` (m); optional
    ``athlete_id``, ``date``, ``trial`` identify several traces in one table (a table without them
    is one trace). ``model``: ``velocity`` (v-t, {shorts} ``model_radar_gun``), ``distance``
    (d-t, ``model_time_distance_TC_DC``) or ``auto`` (velocity when the column exists).

    Dropouts (NaN samples) are ignored; a trace with more than ``max_dropout_fraction`` missing
    samples, or a gap longer than ``max_gap_s`` between valid samples, gets ``fit_ok = False``.
    ``rmse``/``rse`` are in m/s (velocity model) or m (distance model); ``t5_motion_s`` and
    ``t10_motion_s`` are model times from the start of motion.
    """
    model = _trace_model(trace, model)
    df = trace.copy()
    key = [c for c in TRIAL_KEY if c in df.columns]
    if not key:
        df["_trace"] = 0
        key = ["_trace"]
    time_s = pd.to_numeric(df["time_s"], errors="coerce").to_numpy(dtype=float)
    observed = pd.to_numeric(df[TRACE_COLUMNS[model]], errors="coerce").to_numpy(dtype=float)
    (t_arr, y_arr), n_samples = _pad_trials(df, key, time_s, observed)
    if model == "velocity":
        fit = fit_radar(t_arr, y_arr, time_correction=time_correction, clamp_before_start=clamp_before_start)
    else:
        fit = fit_distance_trace(
            t_arr, y_arr, time_correction=time_correction, distance_correction=distance_correction
        )
    dropouts = _dropout_issues(t_arr, y_arr, n_samples, max_dropout_fraction, max_gap_s)
    issues = np.where(fit.fit_issue == "", dropouts, fit.fit_issue)
    fit_ok = issues == ""

    keys = df.drop_duplicates(key)[key].reset_index(drop=True)
    mass, height = _body_size(keys, athletes, default_body_mass_kg, default_height_cm)
    fitted = {**_model_columns(fit, mass, height), "rmse": fit.rmse, "rse": fit.rse}
    described = {
        "n_points": fit.n_points,
        "model": model,
        "body_mass_kg": mass,
        "height_cm": height,
        "fit_ok": fit_ok,
        "fit_issue": issues.astype(str),
    }
    out = _profile_table(keys.drop(columns=["_trace"], errors="ignore"), fitted, described, fit_ok)
    return out[[c for c in key if c != "_trace"] + RADAR_COLUMNS]


def _trace_model(trace: pd.DataFrame, model: str) -> str:
    """The trace model to fit (``auto`` -> ``velocity`` when the column exists, else ``distance``),
    checked against the trace's columns."""
    if "time_s" not in trace:
        raise ValueError("radar trace needs a time_s column")
    if model == "auto":
        model = "velocity" if "velocity_m_s" in trace else "distance"
    column = TRACE_COLUMNS.get(model)
    if column is None:
        raise ValueError(f"unknown trace model {model!r}; use velocity, distance or auto")
    if column not in trace:
        raise ValueError(f"{model} model needs a {column} column")
    return model


def _dropout_issues(
    t_arr: FloatArray,
    y_arr: FloatArray,
    n_samples: NDArray[np.intp],
    max_dropout_fraction: float,
    max_gap_s: float,
) -> NDArray[np.str_]:
    """Per trace: ``""``, or "dropouts: X% of samples missing" when more than
    ``max_dropout_fraction`` of its samples are not finite, else "dropout gap of G s in trace" when
    two consecutive valid samples are more than ``max_gap_s`` apart."""
    valid = np.isfinite(t_arr) & np.isfinite(y_arr)
    frac_missing = 1.0 - valid.sum(axis=1) / np.maximum(n_samples, 1)
    gaps = np.zeros(t_arr.shape[0])
    enough = valid.sum(axis=1) >= 2
    if enough.any():
        # gap between consecutive valid samples, vectorised: sort valid times per row (NaN last)
        st = np.sort(np.where(valid, t_arr, np.nan)[enough], axis=1)
        with np.errstate(invalid="ignore"):
            gaps[enough] = np.nanmax(np.diff(st, axis=1), axis=1, initial=0.0)
    issue = np.where(
        frac_missing > max_dropout_fraction,
        [f"dropouts: {f:.0%} of samples missing" for f in frac_missing],
        "",
    )
    return np.where(
        (issue == "") & (gaps > max_gap_s), [f"dropout gap of {g:.2f} s in trace" for g in gaps], issue
    )
