"""The athlete-week feature panel used by both models.

Every feature for week W (Monday..Sunday) uses only records dated on or before W's Sunday:
daily series are scattered on a dense athlete x day grid and all windows are causal; irregular
tests (sprint sessions, screens, Nordic tests) are carried forward with their age in days as a
separate feature, never interpolated. Names, units, families and descriptions live in
``catalogue.yaml``; :func:`build_panel` returns exactly the catalogue's columns that the
available tables allow and says why the others are absent.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sprintlab.features.catalogue import load_catalogue
from sprintlab.features.grid import (
    DayGrid,
    baseline_before,
    days_since,
    ewma,
    expanding_mean_std,
    forward_fill,
    long_term_norm,
    rolling_count,
    rolling_mean,
    rolling_std,
    rolling_sum,
    segment_mean,
)
from sprintlab.features.strength import session_e1rm

log = logging.getLogger(__name__)

ID_COLUMNS = ["athlete_id", "week_start", "week_end"]
NEAR_MAX_SPEED_FRACTION = 0.90
SPRINT_CHUNK_ATHLETES = 250
CONTROL_SCREEN_DAYS = 56  # control_score_8w averages the movement screens of the last 8 weeks
LONG_TERM_MIN_DAYS = 28  # an athlete's long-term norm needs at least 4 weeks of records before the test
LOWER_LIMB = ("hamstring", "quadriceps", "calf", "adductor", "groin", "knee", "ankle", "hip", "thigh", "foot")


@dataclass
class PanelResult:
    """The panel and the catalogue features that could not be built, with the reason."""

    panel: pd.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)


def _window(
    tables: dict[str, pd.DataFrame], end: pd.Timestamp | None, start: pd.Timestamp | None = None
) -> tuple[pd.Timestamp, pd.Timestamp]:
    dates = []
    for name, df in tables.items():
        col = "onset_date" if name == "injuries" else "date"
        if name != "athletes" and col in df and len(df):
            dates.append(pd.to_datetime(df[col]))
    if not dates:
        raise ValueError("no dated records: the feature panel needs at least one dated table")
    allv = pd.concat(dates)
    lo = allv[allv.notna()].min() if start is None else pd.Timestamp(start)
    hi = allv.max() if end is None else pd.Timestamp(end)
    start = (lo - pd.Timedelta(days=lo.weekday())).normalize()
    stop = (hi + pd.Timedelta(days=6 - hi.weekday())).normalize()
    return start, stop


def _sessions_table(tables: dict[str, pd.DataFrame], athletes: pd.DataFrame) -> pd.DataFrame | None:
    """Per sprint session: engine parameters and step kinematics (one row per athlete_id, date)."""
    splits = tables.get("sprint_splits")
    if splits is None or splits.empty:
        return None
    from sprintlab.sprint import profile_splits, summarise_sessions

    # profile in athlete chunks: the engine is vectorised over trials, chunks bound its memory
    ids = np.sort(splits["athlete_id"].unique())
    parts = []
    for lo in range(0, ids.size, SPRINT_CHUNK_ATHLETES):
        chunk = splits[splits["athlete_id"].isin(ids[lo : lo + SPRINT_CHUNK_ATHLETES])]
        parts.append(summarise_sessions(profile_splits(chunk, athletes=athletes, correction="fd")))
    sess = pd.concat(parts, ignore_index=True)
    keep = [
        "athlete_id",
        "date",
        "t5_best_s",
        "t10_best_s",
        "t10_mean_s",
        "typical_error_s",
        "rf_max",
        "drf",
        "f0_rel_n_kg",
        "mss_m_s",
        "tau_s",
        "any_flying_start",
    ]
    sess = sess[[c for c in keep if c in sess.columns]].rename(
        columns={"any_flying_start": "flying_start_flag"}
    )
    steps = tables.get("sprint_steps")
    if steps is not None and len(steps):
        first = steps[steps["step"] <= 4]
        g = first.groupby(["athlete_id", "date"])
        kin = pd.DataFrame(
            {
                "first_step_contact_ms": g["contact_time_ms"].mean(),
                "step_length_m": g["step_length_m"].mean(),
                "step_frequency_hz": 1000.0 / (g["contact_time_ms"].mean() + g["flight_time_ms"].mean()),
            }
        )
        if "touchdown_distance_m" in first:
            kin["touchdown_distance_m"] = g["touchdown_distance_m"].mean()
        side = first.groupby(["athlete_id", "date", "side"])["contact_time_ms"].mean().unstack("side")
        if {"left", "right"} <= set(side.columns):
            kin["contact_asymmetry_pct"] = (
                100 * (side["left"] - side["right"]).abs() / side[["left", "right"]].mean(axis=1)
            )
        sess = sess.merge(kin.reset_index(), on=["athlete_id", "date"], how="left")
    return sess


def build_panel(
    tables: dict[str, pd.DataFrame],
    *,
    end: pd.Timestamp | None = None,
    start: pd.Timestamp | None = None,
    wellness_baseline_days: int = 56,
    chunk_athletes: int | None = None,
) -> PanelResult:
    """Build the athlete-week panel from validated contract tables.

    ``end`` (optional) truncates the panel after the week containing ``end``; records after the
    last week-end are never read by any feature. ``chunk_athletes`` builds the panel for that many
    athletes at a time (same window, same result) to bound memory on a whole league.
    """
    tables = _with_register(tables)
    if chunk_athletes is not None and tables["athletes"]["athlete_id"].nunique() > chunk_athletes:
        return _build_chunked(
            tables,
            end=end,
            start=start,
            wellness_baseline_days=wellness_baseline_days,
            chunk_athletes=chunk_athletes,
        )
    catalogue = load_catalogue()
    athletes = tables["athletes"].copy()
    start, stop = _window(tables, end, start)
    n_days = int((stop - start) / pd.Timedelta(days=1)) + 1
    grid = DayGrid(np.sort(athletes["athlete_id"].astype(str).unique()), start, n_days)
    we = grid.week_end_days
    feats: dict[str, np.ndarray] = {}
    skipped: dict[str, str] = {}

    def sample(x: np.ndarray) -> np.ndarray:
        return x[:, we]

    # ---------------- profile ----------------------------------------------------------------
    ath = athletes.set_index("athlete_id").reindex(grid.athlete_ids)
    week_end_dates = start + pd.to_timedelta(we, unit="D")
    if "birth_date" in ath and ath["birth_date"].notna().any():
        bd = pd.to_datetime(ath["birth_date"]).to_numpy()
        feats["age_years"] = (
            (week_end_dates.to_numpy()[None, :] - bd[:, None]) / np.timedelta64(1, "D") / 365.25
        )
    mass = (
        ath["body_mass_kg"].to_numpy(dtype=float)
        if "body_mass_kg" in ath
        else np.full(grid.n_athletes, np.nan)
    )
    if np.isfinite(mass).any():
        feats["body_mass_kg"] = np.repeat(mass[:, None], we.size, axis=1)
    else:
        skipped["body_mass_kg"] = "no body mass in the athletes table"
    if "age_years" not in feats:
        skipped["age_years"] = "no birth dates in the athletes table"

    # ---------------- strength: gym -----------------------------------------------------------
    gym = tables.get("gym_sets")
    sess = _sessions_table(tables, athletes)
    test_day = None
    if sess is not None:
        test_day = np.isfinite(grid.scatter(sess.assign(one=1.0), "one", "max"))
    if gym is not None and len(gym):
        e = session_e1rm(gym, "back_squat")
        sq = rolling_mean(grid.scatter(e, "e1rm_kg", "max"), 14)
        sq_ff, sq_age = forward_fill(sq)
        feats["squat_e1rm_kg"] = sample(sq_ff)
        feats["squat_e1rm_rel"] = sample(sq_ff) / mass[:, None]
        lag56 = np.full_like(sq_ff, np.nan)
        lag56[:, 56:] = sq_ff[:, :-56]
        feats["strength_change_8w_pct"] = sample(100 * (sq_ff / lag56 - 1))
        if test_day is not None:
            at_test, _ = forward_fill(np.where(test_day, sq_ff, np.nan))
            feats["strength_change_since_test_pct"] = sample(100 * (sq_ff / at_test - 1))
        else:
            skipped["strength_change_since_test_pct"] = "no sprint_splits table: no sprint test dates"
        dl = session_e1rm(gym, "trap_bar_deadlift")
        if len(dl):
            dl_ff, _ = forward_fill(rolling_mean(grid.scatter(dl, "e1rm_kg", "max"), 14))
            feats["deadlift_e1rm_rel"] = sample(dl_ff) / mass[:, None]
        else:
            skipped["deadlift_e1rm_rel"] = "no trap_bar_deadlift sets in gym_sets"
    else:
        for f in (
            "squat_e1rm_kg",
            "squat_e1rm_rel",
            "strength_change_8w_pct",
            "strength_change_since_test_pct",
            "deadlift_e1rm_rel",
        ):
            skipped[f] = "no gym_sets table"

    # ---------------- strength: tests ---------------------------------------------------------
    st = tables.get("strength_tests")
    if st is not None and len(st):
        nord = st[st["test"] == "nordic_eccentric"]
        if len(nord):
            left = grid.scatter(nord[nord["side"] == "left"], "value", "mean")
            right = grid.scatter(nord[nord["side"] == "right"], "value", "mean")
            both = grid.scatter(nord, "value", "mean")
            n_ff, n_age = forward_fill(both)
            l_ff, _ = forward_fill(left)
            r_ff, _ = forward_fill(right)
            feats["nordic_force_n"] = sample(n_ff)
            feats["nordic_force_rel_n_kg"] = sample(n_ff) / mass[:, None]
            feats["nordic_asymmetry_pct"] = sample(100 * np.abs(l_ff - r_ff) / ((l_ff + r_ff) / 2))
            feats["nordic_test_age_days"] = sample(n_age)
        for test, name in (("imtp", "imtp_peak_force_n"), ("cmj_height", "cmj_height_cm")):
            sub = st[st["test"] == test]
            if len(sub):
                feats[name] = sample(forward_fill(grid.scatter(sub, "value", "mean"))[0])
            else:
                skipped[name] = f"no {test} results in strength_tests"
    else:
        for f in (
            "nordic_force_n",
            "nordic_force_rel_n_kg",
            "nordic_asymmetry_pct",
            "nordic_test_age_days",
            "imtp_peak_force_n",
            "cmj_height_cm",
        ):
            skipped[f] = "no strength_tests table"

    # ---------------- sprint sessions: timing + force orientation ----------------------------
    if sess is not None:
        for col in (
            "t5_best_s",
            "t10_best_s",
            "first_step_contact_ms",
            "contact_asymmetry_pct",
            "touchdown_distance_m",
            "step_length_m",
            "step_frequency_hz",
            "rf_max",
            "drf",
            "f0_rel_n_kg",
        ):
            if col in sess:
                feats[col] = sample(forward_fill(grid.scatter(sess, col, "mean"))[0])
            else:
                skipped[col] = "not available from sprint_splits / sprint_steps"
        t10 = grid.scatter(sess, "t10_best_s", "mean")
        t10_ff, t10_age = forward_fill(t10)
        feats["sprint_test_age_days"] = sample(t10_age)
        mean_t10, _ = expanding_mean_std(t10)
        mean_ff, _ = forward_fill(mean_t10)
        feats["t10_vs_own_typical_s"] = sample(t10_ff - mean_ff)
        first_idx = np.argmax(np.isfinite(t10), axis=1)
        first_val = t10[np.arange(t10.shape[0]), first_idx]
        feats["t10_vs_first_test_s"] = sample(t10_ff - first_val[:, None])
        prev = sess.sort_values(["athlete_id", "date"]).assign(
            t10_prev=lambda d: d.groupby("athlete_id")["t10_best_s"].shift(1)
        )
        feats["t10_trend_s"] = sample(t10_ff - forward_fill(grid.scatter(prev, "t10_prev", "mean"))[0])
        if "flying_start_flag" in sess:
            feats["flying_start_flag"] = sample(
                forward_fill(
                    grid.scatter(sess.assign(f=sess["flying_start_flag"].astype(float)), "f", "max")
                )[0]
            )
        if "squat_e1rm_rel" in feats and "f0_rel_n_kg" in feats:
            feats["access_ratio"] = feats["f0_rel_n_kg"] / (feats["squat_e1rm_rel"] * 9.81)
    else:
        for f in (
            "t5_best_s",
            "t10_best_s",
            "first_step_contact_ms",
            "contact_asymmetry_pct",
            "touchdown_distance_m",
            "step_length_m",
            "step_frequency_hz",
            "rf_max",
            "drf",
            "f0_rel_n_kg",
            "sprint_test_age_days",
            "t10_vs_own_typical_s",
            "t10_trend_s",
            "flying_start_flag",
            "access_ratio",
        ):
            skipped[f] = "no sprint_splits table"

    # ---------------- control -----------------------------------------------------------------
    scr = tables.get("movement_screens")
    if scr is not None and len(scr):
        pel = grid.scatter(scr, "pelvic_control_score", "mean")
        tru = grid.scatter(scr, "trunk_control_score", "mean")
        p_ff, p_age = forward_fill(pel)
        t_ff, _ = forward_fill(tru)
        feats["pelvic_control_score"] = sample(p_ff)
        feats["trunk_control_score"] = sample(t_ff)
        feats["screen_age_days"] = sample(p_age)
        # control score: pelvic and trunk averaged over the screens of the last 8 weeks (repeated
        # ratings average out rater noise); the latest one when none falls in that window
        with np.errstate(invalid="ignore"):
            per_screen = np.where(
                np.isfinite(pel) & np.isfinite(tru), (pel + tru) / 2, np.where(np.isfinite(pel), pel, tru)
            )
        feats["control_score_8w"] = sample(forward_fill(rolling_mean(per_screen, CONTROL_SCREEN_DAYS))[0])
        ctrl = (p_ff + t_ff) / 2
        lag = np.full_like(ctrl, np.nan)
        lag[:, 56:] = ctrl[:, :-56]
        feats["control_change_8w"] = sample(ctrl - lag)
        if "strength_change_8w_pct" in feats:
            feats["strength_control_gap"] = np.clip(
                feats["strength_change_8w_pct"] / 10 - feats["control_change_8w"] / 0.3, 0, None
            )
    else:
        for f in (
            "pelvic_control_score",
            "trunk_control_score",
            "control_score_8w",
            "screen_age_days",
            "control_change_8w",
            "strength_control_gap",
        ):
            skipped[f] = "no movement_screens table"

    # ---------------- load --------------------------------------------------------------------
    tl = tables.get("training_load")
    if tl is not None and len(tl):
        nan = np.full(len(tl), np.nan)
        srpe = (tl["duration_min"].to_numpy(dtype=float) if "duration_min" in tl else nan) * (
            tl["rpe"].to_numpy(dtype=float) if "rpe" in tl else nan
        )
        if "srpe_load_au" in tl:
            srpe = np.where(np.isfinite(srpe), srpe, tl["srpe_load_au"].to_numpy(dtype=float))
        load = grid.scatter(tl, srpe, "sum")
        first_day = np.argmax(np.isfinite(load), axis=1)
        active = np.arange(grid.n_days)[None, :] >= first_day[:, None]
        load0 = np.where(active, np.nan_to_num(load), np.nan)
        acute = ewma(load0, 7)
        chronic = ewma(load0, 28)
        feats["acute_load_ewma_au"] = sample(acute)
        feats["chronic_load_ewma_au"] = sample(chronic)
        with np.errstate(invalid="ignore", divide="ignore"):
            feats["acwr_ewma"] = sample(np.where(chronic > 0, acute / chronic, np.nan))
        week = rolling_sum(load0, 7)
        feats["weekly_load_au"] = sample(week)
        prev_week = np.full_like(week, np.nan)
        prev_week[:, 7:] = week[:, :-7]
        with np.errstate(invalid="ignore", divide="ignore"):
            feats["weekly_load_change_pct"] = sample(
                np.where(prev_week > 0, 100 * (week / prev_week - 1), np.nan)
            )
            m7 = rolling_mean(np.nan_to_num(load0), 7)
            s7 = rolling_std(np.nan_to_num(load0), 7)
            mono = np.where(s7 > 0, m7 / s7, np.nan)
        feats["monotony"] = sample(mono)
        feats["strain_au"] = sample(week * mono)
        if "hsr_distance_m" in tl and tl["hsr_distance_m"].notna().any():
            hsr = np.nan_to_num(grid.scatter(tl, "hsr_distance_m", "sum"))
            h7 = rolling_sum(hsr, 7)
            prev28 = np.full_like(h7, np.nan)
            prev28[:, 7:] = rolling_sum(hsr, 28)[:, :-7] / 4
            with np.errstate(invalid="ignore", divide="ignore"):
                ratio = np.where(prev28 > 0, h7 / prev28, np.nan)
            feats["hsr_week_m"] = sample(h7)
            feats["hsr_vs_own_norm"] = sample(ratio)
            prev_ratio = np.full_like(ratio, np.nan)
            prev_ratio[:, 7:] = ratio[:, :-7]
            feats["hsr_vs_own_norm_prev_week"] = sample(prev_ratio)
            if test_day is not None:
                # mean log ratio of weekly HSR since the last sprint test against the athlete's
                # long-term norm before that test (a rolling 4-week norm would follow the block itself)
                norm = baseline_before(np.where(h7 > 0, h7, np.nan), test_day, min_days=LONG_TERM_MIN_DAYS)
                with np.errstate(invalid="ignore", divide="ignore"):
                    lr = np.log(np.clip(np.where(norm > 0, h7 / norm, np.nan), 0.05, None))
                since = segment_mean(lr, test_day)
                feats["hsr_excess_since_test"] = sample(since)
            else:
                skipped["hsr_excess_since_test"] = "no sprint_splits table: no sprint test dates"
        else:
            for f in ("hsr_week_m", "hsr_vs_own_norm", "hsr_vs_own_norm_prev_week", "hsr_excess_since_test"):
                skipped[f] = "training_load has no hsr_distance_m"
        if "max_speed_m_s" in tl and tl["max_speed_m_s"].notna().any():
            vmax = grid.scatter(tl, "max_speed_m_s", "max")
            best = np.fmax.accumulate(np.nan_to_num(vmax, nan=0.0), axis=1)
            near = np.nan_to_num(vmax, nan=0.0) >= NEAR_MAX_SPEED_FRACTION * np.where(best > 0, best, np.inf)
            feats["days_since_near_max_speed"] = sample(days_since(near))
        else:
            skipped["days_since_near_max_speed"] = "training_load has no max_speed_m_s"
    else:
        for f in (
            "acute_load_ewma_au",
            "chronic_load_ewma_au",
            "acwr_ewma",
            "weekly_load_au",
            "weekly_load_change_pct",
            "monotony",
            "strain_au",
            "hsr_week_m",
            "hsr_vs_own_norm",
            "hsr_vs_own_norm_prev_week",
            "hsr_excess_since_test",
            "days_since_near_max_speed",
        ):
            skipped[f] = "no training_load table"

    # ---------------- wellness ----------------------------------------------------------------
    wl = tables.get("wellness")
    well_items = (
        "sleep_hours",
        "sleep_quality",
        "fatigue",
        "soreness",
        "stress",
        "mood",
        "hamstring_tightness",
    )
    if wl is not None and len(wl):
        any_report = np.zeros((grid.n_athletes, grid.n_days), dtype=bool)
        for item in well_items:
            if item not in wl or wl[item].isna().all():
                skipped[f"{item}_7d"] = f"wellness has no {item}"
                skipped[f"{item}_z"] = f"wellness has no {item}"
                if item in ("sleep_hours", "soreness"):
                    skipped[f"{item}_vs_norm"] = f"wellness has no {item}"
                continue
            x = grid.scatter(wl, item, "mean")
            any_report |= np.isfinite(x)
            m7 = rolling_mean(x, 7)
            base_m = rolling_mean(x, wellness_baseline_days)
            base_s = rolling_std(x, wellness_baseline_days)
            feats[f"{item}_7d"] = sample(m7)
            with np.errstate(invalid="ignore", divide="ignore"):
                feats[f"{item}_z"] = sample(np.where(base_s > 0, (m7 - base_m) / base_s, np.nan))
            if item in ("sleep_hours", "soreness"):
                # 7-day mean against the athlete's long-term norm: a 56-day baseline follows slow
                # swings (weeks of poor sleep) and hides them
                feats[f"{item}_vs_norm"] = sample(m7 - long_term_norm(x, 7, LONG_TERM_MIN_DAYS))
            if item == "sleep_hours" and test_day is not None:
                # against the long-term sleep norm before the test, not the 56-day window that
                # overlaps the block being described
                norm = baseline_before(x, test_day, min_days=LONG_TERM_MIN_DAYS)
                dev = np.where(np.isfinite(x), x - norm, np.nan)
                feats["sleep_deficit_since_test_h"] = sample(-segment_mean(dev, test_day))
        first = np.argmax(any_report, axis=1)
        started = np.arange(grid.n_days)[None, :] >= first[:, None]
        reports = rolling_count(np.where(any_report, 1.0, np.nan), 28)
        span = np.minimum(np.arange(grid.n_days)[None, :] - first[:, None] + 1, 28)
        feats["wellness_missing_rate_28d"] = sample(
            np.where(started, 1 - reports / np.maximum(span, 1), np.nan)
        )
    else:
        for item in well_items:
            skipped[f"{item}_7d"] = skipped[f"{item}_z"] = "no wellness table"
            if item in ("sleep_hours", "soreness"):
                skipped[f"{item}_vs_norm"] = "no wellness table"
        skipped["wellness_missing_rate_28d"] = "no wellness table"
        skipped["sleep_deficit_since_test_h"] = "no wellness table"

    # ---------------- history -----------------------------------------------------------------
    inj = tables.get("injuries")
    we_dates = week_end_dates.to_numpy()
    if inj is not None:
        feats.update(_history_features(inj, grid.athlete_ids, we_dates))
    else:
        for f in (
            "previous_hamstring_injury",
            "hamstring_injuries_12m",
            "other_lower_limb_injuries_12m",
            "days_since_return_to_play",
        ):
            skipped[f] = "no injuries table"

    # ---------------- assemble ----------------------------------------------------------------
    n_w = we.size
    panel = pd.DataFrame(
        {
            "athlete_id": np.repeat(grid.athlete_ids, n_w),
            "week_start": np.tile((week_end_dates - pd.Timedelta(days=6)).to_numpy(), grid.n_athletes),
            "week_end": np.tile(we_dates, grid.n_athletes),
        }
    )
    ordered = [f for f in catalogue.names if f in feats]
    for f in ordered:
        panel[f] = np.asarray(feats[f], dtype=float).reshape(-1)
    for f in catalogue.names:
        if f not in feats and f not in skipped:
            skipped[f] = "not computed from the available tables"
    # keep weeks from each athlete's first record onwards
    first_seen = _first_record(tables, grid)
    keep = panel["week_end"].to_numpy() >= np.repeat(first_seen, n_w)
    panel = panel[keep].reset_index(drop=True)
    for f, why in sorted(skipped.items()):
        log.info("feature %s skipped: %s", f, why)
    return PanelResult(panel=panel, skipped=skipped)


def _with_register(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Tables with an ``athletes`` register: exports without one (e.g. a wellness app) get a
    register of the ids found in the other tables, with unknown profile values (NaN)."""
    if "athletes" in tables and len(tables["athletes"]):
        return tables
    ids = sorted(
        {str(a) for name, df in tables.items() if "athlete_id" in df for a in df["athlete_id"].dropna()}
    )
    if not ids:
        raise ValueError("no athletes: neither an athletes table nor athlete_id values in any table")
    log.info("no athletes table: %d athletes taken from the other tables; profile features skipped", len(ids))
    register = pd.DataFrame(
        {"athlete_id": ids, "birth_date": pd.NaT, "body_mass_kg": np.nan, "height_cm": np.nan}
    )
    return {**tables, "athletes": register}


def _build_chunked(
    tables: dict[str, pd.DataFrame], *, end, start, wellness_baseline_days: int, chunk_athletes: int
) -> PanelResult:
    """Build the panel athlete chunk by athlete chunk over one common window."""
    lo, hi = _window(tables, end, start)
    ids = np.sort(tables["athletes"]["athlete_id"].astype(str).unique())
    codes = {name: pd.Index(ids).get_indexer(df["athlete_id"].astype(str)) for name, df in tables.items()}
    panels, skipped = [], {}
    for first in range(0, ids.size, chunk_athletes):
        part = {
            name: df[(codes[name] >= first) & (codes[name] < first + chunk_athletes)]
            for name, df in tables.items()
        }
        res = build_panel(part, end=hi, start=lo, wellness_baseline_days=wellness_baseline_days)
        panels.append(res.panel)
        skipped.update(res.skipped)
    panel = pd.concat(panels, ignore_index=True)
    cols = ["athlete_id", "week_start", "week_end"] + [
        c for c in load_catalogue().names if c in panel.columns
    ]
    return PanelResult(panel=panel[cols], skipped=skipped)


def _first_record(tables: dict[str, pd.DataFrame], grid: DayGrid) -> np.ndarray:
    """Week-end date from which each athlete's panel rows start: the athlete's first dated record."""
    first = np.full(grid.n_athletes, grid.n_days)
    for name, df in tables.items():
        if name in ("athletes", "injuries") or "date" not in df or df.empty:
            continue
        first = np.minimum(first, grid.first_day(df))
    first = np.where(first >= grid.n_days, 0, first)
    return (np.datetime64(grid.start, "ns") + first.astype("timedelta64[D]")).astype("datetime64[ns]")


def _history_features(inj: pd.DataFrame, ids: np.ndarray, we_dates: np.ndarray) -> dict[str, np.ndarray]:
    """Injury history as of each week end (only onsets on or before the week end count)."""
    n_a, n_w = ids.size, we_dates.size
    prev_ham = np.zeros((n_a, n_w))
    ham12 = np.zeros((n_a, n_w))
    other12 = np.zeros((n_a, n_w))
    since_rtp = np.full((n_a, n_w), np.nan)
    pos = {a: i for i, a in enumerate(ids)}
    year = np.timedelta64(365, "D")
    for row in inj.itertuples(index=False):
        i = pos.get(row.athlete_id)
        if i is None:
            continue
        onset = np.datetime64(pd.Timestamp(row.onset_date), "ns")
        rtp = onset + np.timedelta64(int(row.days_lost), "D")
        seen = onset <= we_dates
        part = str(row.body_part).lower()
        if "hamstring" in part:
            prev_ham[i] = np.maximum(prev_ham[i], seen)
            ham12[i] += seen & (we_dates - onset <= year)
        elif any(p in part for p in LOWER_LIMB):
            other12[i] += seen & (we_dates - onset <= year)
        returned = rtp <= we_dates
        d = (we_dates - rtp) / np.timedelta64(1, "D")
        since_rtp[i] = np.where(returned & seen, np.fmin(since_rtp[i], d), since_rtp[i])
    return {
        "previous_hamstring_injury": prev_ham,
        "hamstring_injuries_12m": ham12,
        "other_lower_limb_injuries_12m": other12,
        "days_since_return_to_play": since_rtp,
    }
