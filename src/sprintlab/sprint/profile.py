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

import numpy as np
import pandas as pd

from sprintlab.sprint.fit import fit_distance_trace, fit_radar, fit_timing_gates, parse_correction
from sprintlab.sprint.fvp import fv_profile
from sprintlab.sprint.model import time_at_distance

TRIAL_KEY = ["athlete_id", "date", "trial"]
SPLIT_COLUMNS = ["athlete_id", "date", "trial", "distance_m", "time_s"]
FD_FLYING_M = 0.5
# TAU below which a non-flying start looks flying (uncorrected gate fits); see docs/sprint-model.md
TAU_FLYING_S = {"block": 0.8, "crouch": 0.65, "three_point": 0.65, "standing": 0.6}
TAU_FLYING_DEFAULT_S = 0.6
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
    "f0_n",
    "f0_rel_n_kg",
    "v0_m_s",
    "pmax_w",
    "fvp_pmax_rel_w_kg",
    "fv_slope",
    "rf_max",
    "drf",
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


def _body_size(
    keys: pd.DataFrame, athletes: pd.DataFrame | None, default_body_mass_kg: float, default_height_cm: float
) -> tuple[np.ndarray, np.ndarray]:
    mass = np.full(len(keys), float(default_body_mass_kg))
    height = np.full(len(keys), float(default_height_cm))
    if athletes is not None and len(athletes):
        a = athletes.drop_duplicates("athlete_id").set_index("athlete_id")
        ids = keys["athlete_id"]
        if "body_mass_kg" in a:
            mass = ids.map(a["body_mass_kg"]).astype(float).fillna(default_body_mass_kg).to_numpy()
        if "height_cm" in a:
            height = ids.map(a["height_cm"]).astype(float).fillna(default_height_cm).to_numpy()
    return mass, height


def _fvp_columns(
    mss: np.ndarray, mac: np.ndarray, mass: np.ndarray, height_cm: np.ndarray
) -> dict[str, np.ndarray]:
    fv = fv_profile(mss, mac, mass, height_cm / 100.0)
    fv["fvp_pmax_rel_w_kg"] = fv.pop("pmax_rel_w_kg")
    return fv


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

    df = splits.copy()
    df["distance_m"] = pd.to_numeric(df["distance_m"], errors="coerce")
    df["time_s"] = pd.to_numeric(df["time_s"], errors="coerce")
    if "start_type" not in df:
        df["start_type"] = "standing"
    df = df.sort_values(TRIAL_KEY + ["distance_m"], kind="stable", na_position="last")
    grp = df.groupby(TRIAL_KEY, sort=False, dropna=False)
    tid = grp.ngroup().to_numpy()
    pos = grp.cumcount().to_numpy()
    n_trials = int(tid.max()) + 1
    n_max = int(pos.max()) + 1
    d_arr = np.full((n_trials, n_max), np.nan)
    t_arr = np.full((n_trials, n_max), np.nan)
    dv = df["distance_m"].to_numpy(dtype=float)
    tv = df["time_s"].to_numpy(dtype=float)
    # a row with a missing value must not look like padding: keep exactly one side NaN
    row_missing = ~np.isfinite(dv) | ~np.isfinite(tv)
    dv = np.where(row_missing, np.nan, dv)
    tv = np.where(row_missing, -1.0, tv)
    d_arr[tid, pos] = dv
    t_arr[tid, pos] = tv

    keys = df.drop_duplicates(TRIAL_KEY)[TRIAL_KEY + ["start_type"]].reset_index(drop=True)
    fit = fit_timing_gates(d_arr, t_arr, correction)
    mass, height = _body_size(keys, athletes, default_body_mass_kg, default_height_cm)
    fv = _fvp_columns(fit.mss_m_s, fit.mac_m_s2, mass, height)

    gates = np.array([5.0, 10.0])
    pred = fit.predict_gate_time(gates)
    motion = time_at_distance(gates[None, :], fit.mss_m_s[:, None], fit.tau_s[:, None])
    obs = np.full((n_trials, 2), np.nan)
    for j, g in enumerate(gates):
        hit = np.isclose(d_arr, g, atol=1e-6, rtol=0) & (t_arr > 0)
        obs[:, j] = np.where(
            hit.any(axis=1), np.nanmax(np.where(hit, t_arr, np.nan), axis=1, initial=-np.inf), np.nan
        )

    start = keys["start_type"].astype(str).str.lower().to_numpy()
    tau_thr = np.array([TAU_FLYING_S.get(s, TAU_FLYING_DEFAULT_S) for s in start])
    with np.errstate(invalid="ignore"):
        flying = (
            (start == "flying")
            | (fit.flying_distance_m > FD_FLYING_M)
            | ((start != "flying") & (fit.tau_s < tau_thr))
        )

    out = keys.copy()
    out["n_splits"] = fit.n_splits
    out["correction"] = correction
    cols = {
        "mss_m_s": fit.mss_m_s,
        "tau_s": fit.tau_s,
        "mac_m_s2": fit.mac_m_s2,
        "pmax_rel_w_kg": fit.pmax_rel_w_kg,
        **fv,
        "rmse_s": fit.rmse_s,
        "rse_s": fit.rse_s,
        "time_correction_s": fit.time_correction_s,
        "flying_distance_m": fit.flying_distance_m,
        "distance_correction_m": fit.distance_correction_m,
        "mss_se": fit.mss_se,
        "tau_se": fit.tau_se,
        "t5_pred_s": pred[:, 0],
        "t10_pred_s": pred[:, 1],
        "t5_obs_s": obs[:, 0],
        "t10_obs_s": obs[:, 1],
        "t5_motion_s": motion[:, 0],
        "t10_motion_s": motion[:, 1],
        "body_mass_kg": mass,
        "height_cm": height,
        "flying_start_flag": flying,
        "fit_ok": fit.fit_ok,
        "fit_issue": fit.fit_issue.astype(str),
    }
    for k, v in cols.items():
        out[k] = v
    # failed fits carry no parameters: never a silent nonsense number
    bad = ~out["fit_ok"].to_numpy()
    num_cols = [
        c
        for c in cols
        if c
        not in (
            "flying_start_flag",
            "fit_ok",
            "fit_issue",
            "t5_obs_s",
            "t10_obs_s",
            "body_mass_kg",
            "height_cm",
        )
    ]
    out.loc[bad, num_cols] = np.nan
    out.loc[bad, "flying_start_flag"] = start[bad] == "flying"
    return out[PROFILE_COLUMNS]


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
    "f0_n",
    "f0_rel_n_kg",
    "v0_m_s",
    "pmax_w",
    "fvp_pmax_rel_w_kg",
    "fv_slope",
    "rf_max",
    "drf",
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
    if "time_s" not in trace:
        raise ValueError("radar trace needs a time_s column")
    if model == "auto":
        model = "velocity" if "velocity_m_s" in trace else "distance"
    ycol = {"velocity": "velocity_m_s", "distance": "distance_m"}.get(model)
    if ycol is None:
        raise ValueError(f"unknown trace model {model!r}; use velocity, distance or auto")
    if ycol not in trace:
        raise ValueError(f"{model} model needs a {ycol} column")
    key = [c for c in TRIAL_KEY if c in trace.columns]
    df = trace.copy()
    if not key:
        df["_trace"] = 0
        key = ["_trace"]
    grp = df.groupby(key, sort=False, dropna=False)
    tid = grp.ngroup().to_numpy()
    pos = grp.cumcount().to_numpy()
    n_tr, n_max = int(tid.max()) + 1, int(pos.max()) + 1
    t_arr = np.full((n_tr, n_max), np.nan)
    y_arr = np.full((n_tr, n_max), np.nan)
    t_arr[tid, pos] = pd.to_numeric(df["time_s"], errors="coerce").to_numpy(dtype=float)
    y_arr[tid, pos] = pd.to_numeric(df[ycol], errors="coerce").to_numpy(dtype=float)
    size = np.bincount(tid, minlength=n_tr)

    if model == "velocity":
        fit = fit_radar(t_arr, y_arr, time_correction=time_correction, clamp_before_start=clamp_before_start)
    else:
        fit = fit_distance_trace(
            t_arr, y_arr, time_correction=time_correction, distance_correction=distance_correction
        )
    issues = fit.fit_issue.copy()
    valid = np.isfinite(t_arr) & np.isfinite(y_arr)
    frac_missing = 1.0 - valid.sum(axis=1) / np.maximum(size, 1)
    tv = np.where(valid, t_arr, np.nan)
    gaps = np.zeros(n_tr)
    for_rows = valid.sum(axis=1) >= 2
    if for_rows.any():
        # gap between consecutive valid samples, vectorised: sort valid times per row (NaN last)
        st = np.sort(tv[for_rows], axis=1)
        with np.errstate(invalid="ignore"):
            gaps[for_rows] = np.nanmax(np.diff(st, axis=1), axis=1, initial=0.0)
    new_issue = np.where(
        frac_missing > max_dropout_fraction,
        [f"dropouts: {f:.0%} of samples missing" for f in frac_missing],
        "",
    )
    new_issue = np.where(
        (new_issue == "") & (gaps > max_gap_s),
        [f"dropout gap of {g:.2f} s in trace" for g in gaps],
        new_issue,
    )
    issues = np.where(issues == "", new_issue, issues)
    fit_ok = issues == ""

    keys = df.drop_duplicates(key)[key].reset_index(drop=True)
    mass, height = (
        _body_size(keys, athletes, default_body_mass_kg, default_height_cm)
        if "athlete_id" in keys
        else (np.full(n_tr, default_body_mass_kg), np.full(n_tr, default_height_cm))
    )
    fv = _fvp_columns(fit.mss_m_s, fit.mac_m_s2, mass, height)
    motion = time_at_distance(np.array([[5.0, 10.0]]), fit.mss_m_s[:, None], fit.tau_s[:, None])
    out = keys.drop(columns=["_trace"], errors="ignore").copy()
    cols = {
        "n_points": fit.n_points,
        "model": model,
        "mss_m_s": fit.mss_m_s,
        "tau_s": fit.tau_s,
        "mac_m_s2": fit.mac_m_s2,
        "pmax_rel_w_kg": fit.pmax_rel_w_kg,
        **fv,
        "rmse": fit.rmse,
        "rse": fit.rse,
        "time_correction_s": fit.time_correction_s,
        "distance_correction_m": fit.distance_correction_m,
        "mss_se": fit.mss_se,
        "tau_se": fit.tau_se,
        "t5_motion_s": motion[:, 0],
        "t10_motion_s": motion[:, 1],
        "body_mass_kg": mass,
        "height_cm": height,
        "fit_ok": fit_ok,
        "fit_issue": issues.astype(str),
    }
    for k, v in cols.items():
        out[k] = v
    num = [
        c for c in cols if c not in ("n_points", "model", "fit_ok", "fit_issue", "body_mass_kg", "height_cm")
    ]
    out.loc[~fit_ok, num] = np.nan
    return out[[c for c in key if c != "_trace"] + RADAR_COLUMNS]
