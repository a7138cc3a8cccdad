"""Prediction targets: transfer per training block, hamstring injury per athlete-week.

* **Transfer** - unit: athlete x training block, from one sprint test session to the next with at
  least ``min_block_weeks`` between them. Among blocks where relative strength (back-squat
  estimated 1RM, Epley) rose by at least ``min_strength_gain`` (default 5 %), the label is 1 when
  the best-of-trials 0-10 m time improved by more than the smallest worthwhile change (SWC).
  SWC is fixed in advance from baseline data only (no look-ahead into the blocks it labels):
  0.2 x the between-athlete SD of each athlete's *first* best-of-trials 0-10 m time (Hopkins
  2004, "How to interpret changes in an athletic performance test"); ``swc_method="typical_error"``
  uses the athlete's own typical error of repeated trials, averaged over the sessions up to and
  including the block's opening test.
  **Own-level adjustment** (``adjust_for_own_level``): a slow opening test is followed by a faster
  one whatever the training (regression to the athlete's own level: test-day variation and the
  test's limited reliability). The label therefore compares the next test with what the athlete's
  own level predicts: own level ``L`` = mean best 0-10 m time of the athlete's tests *before* the
  opening test ``O``; adjusted change = ``(next - O) + b (O - L)``, where ``b`` is the
  regression-to-own-level coefficient, the least-squares slope of ``-(next - O)`` on ``O - L`` over
  the blocks inside each athlete's first ``baseline_tests`` tests (fixed in advance, never from the
  blocks it labels later; Bland & Altman 1994, BMJ 309:780: ``b = 1 - r`` with ``r`` the test-retest
  reliability of the deviation, so it carries the typical error of repeated tests). In words: "the
  next test is at least one SWC faster than expected from the athlete's own level", with SWC and
  ``b`` known before any later block starts. An athlete's first test has no own level and opens no
  unit.
* **Hamstring** - unit: athlete-week (ISO week, Monday to Sunday). Label: a hamstring injury
  onset within ``horizon_days`` (default 28) after the week's end. Weeks in which the athlete is
  injured (any time-loss injury active on the week's last day) are excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sprintlab.features.bounce_back import own_level_before
from sprintlab.features.strength import block_strength_change, estimated_one_rm_epley


def session_best_times(splits: pd.DataFrame, distance_m: float = 10.0) -> pd.DataFrame:
    """Best-of-trials and mean-of-trials observed time to the gate at ``distance_m`` per session.

    Returns columns athlete_id, date, t10_best_s, t10_mean_s, t10_trial_sd_s, n_trials.
    """
    at = splits[np.isclose(splits["distance_m"].astype(float), distance_m)]
    g = at.groupby(["athlete_id", "date"])["time_s"]
    out = pd.DataFrame(
        {
            "t10_best_s": g.min(),
            "t10_mean_s": g.mean(),
            "t10_trial_sd_s": g.std(ddof=1),
            "n_trials": g.size(),
        }
    ).reset_index()
    return out.sort_values(["athlete_id", "date"]).reset_index(drop=True)


def smallest_worthwhile_change(session_best: pd.DataFrame, factor: float = 0.2) -> float:
    """SWC = factor x SD (between athletes) of each athlete's first best-of-trials 0-10 m time.

    Hopkins WG (2004) Sportscience 8:1-7; 0.2 x between-subject SD is the conventional
    smallest worthwhile change for team-sport athletes. Only the baseline (first) test of each
    athlete enters, so the SWC is fixed before any block it labels and no later session - in
    particular none of the test period - moves it. ``session_best`` needs athlete_id, date and
    t10_best_s (:func:`session_best_times`).
    """
    first = session_best.sort_values(["athlete_id", "date"]).groupby("athlete_id", sort=True).head(1)
    per_athlete = first.set_index("athlete_id")["t10_best_s"]
    if per_athlete.size < 2:
        raise ValueError("the smallest worthwhile change needs at least two athletes with 0-10 m times")
    return float(factor * per_athlete.std(ddof=1))


#: fewer baseline blocks than this with an own level: no adjustment (b = 0), logged
MIN_BASELINE_BLOCKS = 10


def regression_to_own_level(blocks: pd.DataFrame, baseline_tests: int) -> float:
    """The regression-to-own-level coefficient ``b`` = least-squares slope of the improvement
    ``-(t10_change_s)`` on the opening test's deviation from own level ``O - L``
    (``opening_vs_own_s``), over the blocks that close within each athlete's first
    ``baseline_tests`` tests (``n_prior_tests + 1 < baseline_tests``); clipped to [0, 1].

    ``E[next - O | O - L] = -b (O - L)``: with ``O = T + e`` (true level plus test error) and ``L``
    the own level, ``b = (var e + rho var(T - L)) / var(O - L) = 1 - r`` (Bland & Altman 1994,
    BMJ 309:780), ``r`` the test-retest reliability of the deviation; estimated only from the
    baseline window, so no block after it moves ``b``. With fewer than
    :data:`MIN_BASELINE_BLOCKS` such blocks ``b = 0`` (the label is the raw change)."""
    window = blocks[(blocks["n_prior_tests"] >= 1) & (blocks["n_prior_tests"] + 1 < baseline_tests)]
    window = window[np.isfinite(window["opening_vs_own_s"]) & np.isfinite(window["t10_change_s"])]
    if len(window) < MIN_BASELINE_BLOCKS:
        return 0.0
    dev = window["opening_vs_own_s"].to_numpy(dtype=float)
    gain = -window["t10_change_s"].to_numpy(dtype=float)
    dev_c = dev - dev.mean()
    var = float(dev_c @ dev_c)
    if var <= 0:
        return 0.0
    return float(np.clip(dev_c @ (gain - gain.mean()) / var, 0.0, 1.0))


def typical_error_to_date(session_best: pd.DataFrame, blocks: pd.DataFrame) -> pd.Series:
    """Each block's typical error: the mean within-session trial SD of the athlete's sessions up to
    and including the block's opening test (``block_start_date``), so no later test enters
    (Hopkins 2000, Sports Med 30:1-15: typical error = within-subject SD of repeated trials).
    Returns a Series aligned with ``blocks`` (NaN where no session had two trials)."""
    s = session_best.sort_values(["athlete_id", "date"])
    sd = s["t10_trial_sd_s"]
    cum_n = sd.notna().astype(float).groupby(s["athlete_id"]).cumsum()
    cum_sum = sd.fillna(0.0).groupby(s["athlete_id"]).cumsum()
    to_date = pd.DataFrame(
        {
            "athlete_id": s["athlete_id"],
            "block_start_date": s["date"],
            "te": cum_sum / cum_n.replace(0, np.nan),
        }
    )
    keyed = blocks[["athlete_id", "block_start_date"]].merge(
        to_date, on=["athlete_id", "block_start_date"], how="left"
    )
    return pd.Series(keyed["te"].to_numpy(), index=blocks.index)


def transfer_blocks(
    splits: pd.DataFrame,
    gym_sets: pd.DataFrame,
    *,
    min_block_weeks: float = 3.0,
    min_strength_gain: float = 0.05,
    swc_factor: float = 0.2,
    swc_method: str = "between_sd",
    adjust_for_own_level: bool = True,
    baseline_tests: int = 6,
    exercise: str = "back_squat",
) -> pd.DataFrame:
    """One row per athlete x block (consecutive sprint test sessions) with strength change and label.

    Columns: athlete_id, block_start_date, block_end_date, t10_start_s, t10_end_s,
    t10_change_s (end - start; negative = faster), own_level_s / n_prior_tests
    (:func:`own_level_before`), opening_vs_own_s (``O - L``), own_level_slope (``b``,
    :func:`regression_to_own_level`; 0 without the adjustment), t10_change_adjusted_s
    (``t10_change_s + b (O - L)``: the change against what the own level predicts), strength_gain
    (relative change of the back-squat estimated 1RM over the block, from a least-squares line
    through the block's sessions), swc_s, is_unit (strength rose by >= min_strength_gain and, with
    the adjustment, the athlete has an own level) and transfer (0/1 label: ``-adjusted change >
    SWC``, meaningful where is_unit).
    """
    if swc_method not in ("between_sd", "typical_error"):
        raise ValueError(f"swc_method must be 'between_sd' or 'typical_error', got {swc_method!r}")
    best = session_best_times(splits)
    swc_between = smallest_worthwhile_change(best, swc_factor)
    rows = []
    for athlete, sess in best.groupby("athlete_id", sort=True):
        sess = sess.sort_values("date")
        d = sess["date"].to_numpy()
        t = sess["t10_best_s"].to_numpy()
        for j in range(len(sess) - 1):
            weeks = (d[j + 1] - d[j]) / np.timedelta64(7, "D")
            if weeks < min_block_weeks:
                continue
            rows.append((athlete, d[j], d[j + 1], t[j], t[j + 1]))
    blocks = pd.DataFrame(
        rows, columns=["athlete_id", "block_start_date", "block_end_date", "t10_start_s", "t10_end_s"]
    )
    if blocks.empty:
        return blocks.assign(
            t10_change_s=[],
            own_level_s=[],
            n_prior_tests=[],
            opening_vs_own_s=[],
            own_level_slope=[],
            t10_change_adjusted_s=[],
            strength_gain=[],
            swc_s=[],
            is_unit=[],
            transfer=[],
        )
    blocks["t10_change_s"] = blocks["t10_end_s"] - blocks["t10_start_s"]
    blocks = _with_own_level(blocks, best, adjust_for_own_level, baseline_tests)
    lifts = gym_sets[gym_sets["exercise"] == exercise].copy()
    lifts["e1rm_kg"] = estimated_one_rm_epley(lifts["load_kg"], lifts["reps"])
    blocks["strength_gain"] = block_strength_change(lifts, blocks)
    if swc_method == "between_sd":
        blocks["swc_s"] = swc_between
    else:
        blocks["swc_s"] = typical_error_to_date(best, blocks).fillna(swc_between).to_numpy()
    blocks["is_unit"] = blocks["strength_gain"] >= min_strength_gain
    if adjust_for_own_level:
        blocks["is_unit"] &= blocks["own_level_s"].notna()
    blocks["transfer"] = (-blocks["t10_change_adjusted_s"] > blocks["swc_s"]).astype(int)
    return blocks


def _with_own_level(
    blocks: pd.DataFrame, best: pd.DataFrame, adjust: bool, baseline_tests: int
) -> pd.DataFrame:
    """``blocks`` with own level, deviation, ``b`` and the adjusted change (``b = 0`` unadjusted)."""
    blocks = pd.concat([blocks, own_level_before(best, blocks)], axis=1)
    blocks["opening_vs_own_s"] = blocks["t10_start_s"] - blocks["own_level_s"]
    b = regression_to_own_level(blocks, baseline_tests) if adjust else 0.0
    blocks["own_level_slope"] = b
    deviation = blocks["opening_vs_own_s"].fillna(0.0) if b == 0.0 else blocks["opening_vs_own_s"]
    blocks["t10_change_adjusted_s"] = blocks["t10_change_s"] + b * deviation
    return blocks


def injured_days(injuries: pd.DataFrame) -> pd.DataFrame:
    """Time-loss intervals [onset_date, onset_date + days_lost) per injury."""
    inj = injuries.copy()
    inj["return_date"] = inj["onset_date"] + pd.to_timedelta(inj["days_lost"], unit="D")
    return inj


def hamstring_labels(weeks: pd.DataFrame, injuries: pd.DataFrame, horizon_days: int = 28) -> pd.DataFrame:
    """Label each athlete-week: hamstring onset in (week_end, week_end + horizon_days].

    ``weeks`` needs athlete_id and week_end (the Sunday, inclusive). Adds ``hamstring_injury``
    (0/1), ``hamstring_onset_date`` (the first onset in that window: which injury a positive week
    counts towards, so that injuries - not positive weeks - can be counted), ``injured`` (a
    time-loss injury active on week_end; such weeks are excluded from training and scoring) and
    ``label_complete`` (the horizon lies inside the data window).
    """
    out = weeks[["athlete_id", "week_end"]].copy()
    out["hamstring_injury"] = 0
    out["hamstring_onset_date"] = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    out["injured"] = False
    inj = (
        injured_days(injuries)
        if len(injuries)
        else injuries.assign(return_date=pd.Series(dtype="datetime64[ns]"))
    )
    ham = inj[inj["body_part"].str.lower().str.contains("hamstring", na=False)]
    we = out["week_end"].to_numpy()
    aid = out["athlete_id"].to_numpy()
    for row in ham.sort_values("onset_date").itertuples(index=False):
        mask = (
            (aid == row.athlete_id)
            & (row.onset_date > we)
            & (row.onset_date <= we + np.timedelta64(horizon_days, "D"))
        )
        out.loc[mask, "hamstring_injury"] = 1
        out.loc[mask & out["hamstring_onset_date"].isna().to_numpy(), "hamstring_onset_date"] = row.onset_date
    for row in inj.itertuples(index=False):
        mask = (aid == row.athlete_id) & (row.onset_date <= we) & (row.return_date > we)
        out.loc[mask, "injured"] = True
    data_end = weeks["week_end"].max()
    out["label_complete"] = out["week_end"] + pd.Timedelta(days=horizon_days) <= data_end
    return out
