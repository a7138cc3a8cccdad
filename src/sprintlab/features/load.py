"""Load builders: session-RPE load (acute, chronic, weekly, monotony, strain), high-speed running
against the athlete's own norm, and exposure to near-maximal speed (from the sessions' top speeds
and, when the club records ``tracking_samples``, against the in-situ maximal speed)."""

from __future__ import annotations

import numpy as np

from sprintlab.features.builder import Builder, Features, Need, PanelInputs
from sprintlab.features.grid import (
    RunningSums,
    baseline_before,
    carry_forward,
    days_since,
    ewma,
    forward_fill,
    lagged,
    rolling_sum,
    segment_mean,
)

ACUTE_SPAN_DAYS = 7
CHRONIC_SPAN_DAYS = 28
NEAR_MAX_SPEED_FRACTION = 0.90


def _daily_srpe_load_au(inputs: PanelInputs) -> np.ndarray:
    """Daily session-RPE load = duration (min) x RPE (Foster et al. 2001), or the exported
    ``srpe_load_au`` where either is missing; summed per day. Days without a session count as 0
    from the athlete's first recorded day on, NaN before it."""
    return inputs.shared("srpe_load_au", lambda: _srpe_load_au(inputs))


def _srpe_load_au(inputs: PanelInputs) -> np.ndarray:
    """The daily session-RPE load of :func:`_daily_srpe_load_au`, computed."""
    sessions = inputs.tables["training_load"]
    missing = np.full(len(sessions), np.nan)
    duration_min = sessions["duration_min"].to_numpy(dtype=float) if "duration_min" in sessions else missing
    rpe = sessions["rpe"].to_numpy(dtype=float) if "rpe" in sessions else missing
    srpe_au = duration_min * rpe
    if "srpe_load_au" in sessions:
        srpe_au = np.where(np.isfinite(srpe_au), srpe_au, sessions["srpe_load_au"].to_numpy(dtype=float))
    load_au = inputs.grid.scatter(sessions, srpe_au, "sum")
    first_day = np.argmax(np.isfinite(load_au), axis=1)
    active = np.arange(inputs.grid.n_days)[None, :] >= first_day[:, None]
    return np.where(active, np.nan_to_num(load_au), np.nan)


def acute_chronic_load(inputs: PanelInputs) -> Features:
    """Acute (7-day) and chronic (28-day) exponentially weighted session-RPE load (AU) and their
    ratio acute / chronic (Williams et al. 2017)."""
    load_au = _daily_srpe_load_au(inputs)
    acute_au = ewma(load_au, ACUTE_SPAN_DAYS)
    chronic_au = ewma(load_au, CHRONIC_SPAN_DAYS)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(chronic_au > 0, acute_au / chronic_au, np.nan)
    grid = inputs.grid
    return {
        "acute_load_ewma_au": grid.at_week_ends(acute_au),
        "chronic_load_ewma_au": grid.at_week_ends(chronic_au),
        "acwr_ewma": grid.at_week_ends(ratio),
    }


def weekly_load(inputs: PanelInputs) -> Features:
    """Session-RPE load over the last 7 days (AU), its change from the previous 7 days (%),
    monotony = 7-day mean / 7-day SD of daily load and strain = weekly load x monotony
    (Foster 1998)."""
    load_au = _daily_srpe_load_au(inputs)
    week_au = rolling_sum(load_au, 7)
    previous_au = lagged(week_au, 7)
    with np.errstate(invalid="ignore", divide="ignore"):
        change_pct = np.where(previous_au > 0, 100 * (week_au / previous_au - 1), np.nan)
        load_sums = RunningSums(np.nan_to_num(load_au))
        mean_au = load_sums.mean(7)
        sd_au = load_sums.std(7)
        monotony = np.where(sd_au > 0, mean_au / sd_au, np.nan)
    grid = inputs.grid
    return {
        "weekly_load_au": grid.at_week_ends(week_au),
        "weekly_load_change_pct": grid.at_week_ends(change_pct),
        "monotony": grid.at_week_ends(monotony),
        "strain_au": grid.at_week_ends(week_au * monotony),
    }


def _hsr_sums(inputs: PanelInputs) -> RunningSums:
    """Running sums of the high-speed running distance per day (m); days without records count as 0."""
    return inputs.shared(
        "hsr_m",
        lambda: RunningSums(
            np.nan_to_num(inputs.grid.scatter(inputs.tables["training_load"], "hsr_distance_m", "sum"))
        ),
    )


# The norm's floor (m of HSR per recorded session): a team-sport training session holds a few hundred
# metres of HSR (the simulated squad's sessions: 5th percentile 114 m), so a 4-week norm below
# 100 m per session is a rehab or off-season block, against which any full session reads as a
# ratio of 10-100+ (Jovanovic's data: 123 after an off-season). Floored, the ratio still says "far
# above a normal week" (1,000 m sessions -> 10) without a value no training season shows.
HSR_NORM_FLOOR_M_PER_SESSION = 100.0


def hsr_ratio_per_session(
    week_m: np.ndarray, week_sessions: np.ndarray, norm_m: np.ndarray, norm_sessions: np.ndarray
) -> np.ndarray:
    """This window's high-speed running per recorded session against the norm window's:
    ``(week_m / week_sessions) / max(norm_m / norm_sessions, HSR_NORM_FLOOR_M_PER_SESSION)``. NaN
    where either window has no recorded session: a day without a session (absent, injured, before
    the first record) carries no load information, rather than counting as a day of zero HSR."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (week_sessions > 0) & (norm_sessions > 0)
        norm_per_session = np.maximum(norm_m / norm_sessions, HSR_NORM_FLOOR_M_PER_SESSION)
        return np.where(ok, (week_m / week_sessions) / norm_per_session, np.nan)


def high_speed_running(inputs: PanelInputs) -> Features:
    """High-speed running over the last 7 days (m), and per recorded session against the athlete's
    own norm - the HSR per recorded session of the 4 weeks before (:func:`hsr_ratio_per_session`,
    ratio) - this week and the week before. Per session, so that injured or absent days and the
    days before the first record do not read as weeks of almost no HSR (inflating the next ratio)."""
    daily_m, sessions = _hsr_sums(inputs), _hsr_session_sums(inputs)
    week_m = daily_m.sum(7)
    ratio = hsr_ratio_per_session(
        week_m, sessions.sum(7), lagged(daily_m.sum(28), 7), lagged(sessions.sum(28), 7)
    )
    grid = inputs.grid
    return {
        "hsr_week_m": grid.at_week_ends(week_m),
        "hsr_vs_own_norm": grid.at_week_ends(ratio),
        "hsr_vs_own_norm_prev_week": grid.at_week_ends(lagged(ratio, 7)),
    }


def _hsr_session_sums(inputs: PanelInputs) -> RunningSums:
    """Running sums of the sessions with a high-speed running record per day (gym sessions without
    one and days without sessions, e.g. absent or injured days, count 0)."""

    def sessions() -> RunningSums:
        load = inputs.tables["training_load"]
        recorded = np.where(np.isfinite(load["hsr_distance_m"].to_numpy(dtype=float)), 1.0, np.nan)
        return RunningSums(np.nan_to_num(inputs.grid.scatter(load, recorded, "sum")))

    return inputs.shared("hsr_sessions", sessions)


def hsr_log_excess(week_m: np.ndarray, week_sessions: np.ndarray, test_days: np.ndarray) -> np.ndarray:
    """Daily mean log ratio since the latest test day (``test_days``) of the high-speed running per
    recorded session over the trailing 7 days (``week_m / week_sessions``) against its norm before
    that test (:func:`baseline_before`):

        mean over the days d since the test with a session in the 7 days to d of
        log((hsr_m(d-6..d) / sessions(d-6..d)) / norm),  norm = mean of the same before the test.

    Windows without a recorded session (absent, injured) are missing, not zero: they carry no
    information about the load of the sessions trained. NaN before the first test, without a norm,
    or when no session was recorded since the test."""
    with np.errstate(invalid="ignore", divide="ignore"):
        per_session_m = np.where(week_sessions > 0, week_m / week_sessions, np.nan)
        norm_m = baseline_before(per_session_m, test_days)
        log_ratio = np.log(np.where((per_session_m > 0) & (norm_m > 0), per_session_m / norm_m, np.nan))
    return segment_mean(log_ratio, test_days)


def hsr_excess_since_test(inputs: PanelInputs) -> Features:
    """High-speed running since the last sprint test against the athlete's long-term norm before
    that test, as a mean log ratio (:func:`hsr_log_excess`): the HSR per recorded running session
    of each trailing 7-day window since the test against the per-session mean before the test.
    Per session, so that days without a session (absent or injured) are missing rather than weeks
    of almost no load; a rolling 4-week norm would follow the block itself."""
    week_m = _hsr_sums(inputs).sum(7)
    week_sessions = _hsr_session_sums(inputs).sum(7)
    log_excess = hsr_log_excess(week_m, week_sessions, inputs.sprint_test_days)
    return {"hsr_excess_since_test": inputs.grid.at_week_ends(log_excess)}


def days_since_near_max(top_m_s: np.ndarray, test_mss_m_s: np.ndarray) -> np.ndarray:
    """Days since the last day whose top speed reached 90 % of the athlete's maximal speed, taken
    as the faster of the latest sprint test's fitted MSS (``test_mss_m_s``, carried forward; NaN
    before any) and the fastest session so far (NaN before the first day with a top speed)."""
    top = np.nan_to_num(top_m_s, nan=0.0)
    best_m_s = np.fmax(np.fmax.accumulate(top, axis=1), np.nan_to_num(test_mss_m_s, nan=0.0))
    near = top >= NEAR_MAX_SPEED_FRACTION * np.where(best_m_s > 0, best_m_s, np.inf)
    return days_since(near)


def near_max_speed(inputs: PanelInputs) -> Features:
    """Days since the last session above 90 % of the athlete's maximal speed
    (:func:`days_since_near_max`): the sprint tests' fitted MSS where the club records sprint
    splits, else (and when a session was faster) the best session top speed so far - which alone
    reads a sub-maximal session as near-maximal until a truly fast one has been recorded."""
    grid = inputs.grid
    top_m_s = grid.scatter(inputs.tables["training_load"], "max_speed_m_s", "max")
    test_mss = np.full(top_m_s.shape, np.nan)
    if Need("sprint_splits").unmet(inputs.tables) is None and "mss_m_s" in inputs.sprint_sessions:
        test_mss = carry_forward(grid.scatter(inputs.sprint_sessions, "mss_m_s", "mean"))
    return {"days_since_near_max_speed": grid.at_week_ends(days_since_near_max(top_m_s, test_mss))}


def _week_max(daily: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Maximum of the 7 days ending at each week end (NaN when all are missing)."""
    window = np.stack([daily[:, np.maximum(ends - k, 0)] for k in range(7)])
    return np.fmax.reduce(window, axis=0)


def _days_since_reaching(top_m_s: np.ndarray, threshold_m_s: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Days from the latest day up to each week end with a top speed at or above that week's
    threshold (NaN without a threshold or such a day); one numpy pass per week."""
    out = np.full(threshold_m_s.shape, np.nan)
    reached = np.nan_to_num(top_m_s, nan=-np.inf)
    for w, end in enumerate(ends):
        hit = reached[:, end::-1] >= threshold_m_s[:, w : w + 1]  # day ``end`` first, going back
        out[:, w] = np.where(hit.any(axis=1), np.argmax(hit, axis=1), np.nan)
    return out


def insitu_speed_exposure(inputs: PanelInputs) -> Features:
    """The fastest speed in the traces of the last 7 days as % of the in-situ MSS, and the days
    since the traces last reached ``insitu.near_max_fraction`` (90 %) of it (the latest fitted
    in-situ MSS when this week's window gives none)."""
    weeks, ends = inputs.insitu_weeks, inputs.grid.week_end_days
    assert inputs.insitu is not None
    reference = forward_fill(weeks.mss_m_s)[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = 100.0 * _week_max(weeks.top_speed_m_s, ends) / weeks.mss_m_s
    return {
        "top_speed_vs_insitu_mss_pct": share,
        "days_since_90pct_insitu_mss": _days_since_reaching(
            weeks.top_speed_m_s, inputs.insitu.near_max_fraction * reference, ends
        ),
    }


LOAD = Need("training_load")
HSR = Need("training_load", "hsr_distance_m")
BUILDERS = (
    Builder(("acute_load_ewma_au", "chronic_load_ewma_au", "acwr_ewma"), acute_chronic_load, needs=(LOAD,)),
    Builder(
        ("weekly_load_au", "weekly_load_change_pct", "monotony", "strain_au"), weekly_load, needs=(LOAD,)
    ),
    Builder(("hsr_week_m", "hsr_vs_own_norm", "hsr_vs_own_norm_prev_week"), high_speed_running, needs=(HSR,)),
    Builder(("hsr_excess_since_test",), hsr_excess_since_test, needs=(HSR, Need("sprint_splits"))),
    Builder(("days_since_near_max_speed",), near_max_speed, needs=(Need("training_load", "max_speed_m_s"),)),
    Builder(
        ("top_speed_vs_insitu_mss_pct", "days_since_90pct_insitu_mss"),
        insitu_speed_exposure,
        needs=(Need("tracking_samples", optional_stream=True),),
        settings=("insitu",),
    ),
)
