"""Prediction targets: transfer per training block, hamstring injury per athlete-week.

* **Transfer** - unit: athlete x training block, from one sprint test session to the next with at
  least ``min_block_weeks`` between them. Among blocks where relative strength (back-squat
  estimated 1RM, Epley) rose by at least ``min_strength_gain`` (default 5 %), the label is 1 when
  the best-of-trials 0-10 m time improved by more than the smallest worthwhile change (SWC).
  SWC is fixed in advance from baseline data only (no look-ahead into the blocks it labels):
  0.2 x the between-athlete SD of each athlete's *first* best-of-trials 0-10 m time (Hopkins
  2004, "How to interpret changes in an athletic performance test"); ``swc_method="typical_error"``
  uses the athlete's own typical error of repeated trials, averaged over the sessions up to and
  including the block's opening test. In words: "the next test is at least one SWC faster than
  the opening test", with the SWC known before any block starts.
* **Hamstring** - unit: athlete-week (ISO week, Monday to Sunday). Label: a hamstring injury
  onset within ``horizon_days`` (default 28) after the week's end. Weeks in which the athlete is
  injured (any time-loss injury active on the week's last day) are excluded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

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
    exercise: str = "back_squat",
) -> pd.DataFrame:
    """One row per athlete x block (consecutive sprint test sessions) with strength change and label.

    Columns: athlete_id, block_start_date, block_end_date, t10_start_s, t10_end_s,
    t10_change_s (end - start; negative = faster), strength_gain (relative change of the
    back-squat estimated 1RM over the block, from a least-squares line through the block's
    sessions), swc_s, is_unit (strength rose by >= min_strength_gain) and transfer (0/1 label,
    meaningful where is_unit).
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
        return blocks.assign(t10_change_s=[], strength_gain=[], swc_s=[], is_unit=[], transfer=[])
    blocks["t10_change_s"] = blocks["t10_end_s"] - blocks["t10_start_s"]
    lifts = gym_sets[gym_sets["exercise"] == exercise].copy()
    lifts["e1rm_kg"] = estimated_one_rm_epley(lifts["load_kg"], lifts["reps"])
    blocks["strength_gain"] = block_strength_change(lifts, blocks)
    if swc_method == "between_sd":
        blocks["swc_s"] = swc_between
    else:
        blocks["swc_s"] = typical_error_to_date(best, blocks).fillna(swc_between).to_numpy()
    blocks["is_unit"] = blocks["strength_gain"] >= min_strength_gain
    blocks["transfer"] = (-blocks["t10_change_s"] > blocks["swc_s"]).astype(int)
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
