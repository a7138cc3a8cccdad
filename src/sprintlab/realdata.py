"""Real-data adapters and the hamstring-style evaluation on them (see reports/benchmarks/real-data.md).

Two public data sets are mapped into the sprintlab data contract (``athletes``,
``training_load``, ``wellness``, ``injuries``) without inventing values:

* **Jovanovic hamstring sample** (6 athletes, daily sRPE load, total and high-speed distance,
  hamstring injury days). Dates are day indices within two unnamed seasons.
* **SoccerMon subjective** (50 players of two Norwegian women's teams, daily wellness and sRPE
  load, self-reported injuries with JSON body parts).

Placeholders, all documented where they are made:

* ``athletes``: only ``athlete_id`` is known; ``sex``, ``birth_date``, ``height_cm`` and
  ``body_mass_kg`` are left missing (unknown), so age and mass features are absent.
* ``training_load``: both sources give only the session-RPE *load* (duration x RPE). It is stored
  as ``rpe = 10`` and ``duration_min = load / 10`` so that ``duration_min * rpe`` - the only
  quantity the panel uses - reproduces the load exactly; neither column means anything alone.
  ``session_type`` is ``"session"`` (unknown).
* Jovanovic dates: day ``d`` of Season 1 is ``JOVANOVIC_ANCHOR + d - 1`` and of Season 2 is
  ``JOVANOVIC_ANCHOR + 365 + d - 1``. The calendar anchor is arbitrary; only intervals matter.
* Jovanovic injuries: ``days_lost`` is unknown and stored as 0 (no weeks excluded as injured);
  ``side`` is ``both`` (unknown).
* SoccerMon injuries are repeated daily self-reports. Reports of one player less than
  ``EPISODE_GAP_DAYS`` apart form one episode: onset = first report, ``days_lost`` = report span
  in days (reported, not confirmed time loss). Front/back of the thigh is not recorded, so
  "thigh" is the closest available proxy for hamstring.

Nothing here copies the data into the repository: the functions read from the given paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.features.panel import build_panel
from sprintlab.models.datasets import feature_matrix, hamstring_units
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.evaluation import AcwrThresholdRule, PrevalenceBaseline, score_block

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"
JOVANOVIC_CSV = SHARED / "jovanovic_hamstring_sample" / "raw_data_sample.csv"
SOCCERMON_DIR = SHARED / "soccermon_subjective"
JOVANOVIC_ANCHOR = pd.Timestamp("2001-01-01")  # arbitrary placeholder calendar anchor (a Monday)
EPISODE_GAP_DAYS = 7

# features the real data can support (the panel leaves the rest absent); load and history only,
# plus wellness z-scores for SoccerMon
REAL_FEATURES = ["acute_load_ewma_au", "chronic_load_ewma_au", "acwr_ewma", "weekly_load_au", "weekly_load_change_pct",
                 "monotony", "strain_au", "hsr_week_m", "hsr_vs_own_norm", "hsr_vs_own_norm_prev_week",
                 "sleep_hours_z", "sleep_quality_z", "fatigue_z", "soreness_z", "stress_z", "mood_z",
                 "previous_hamstring_injury", "hamstring_injuries_12m", "other_lower_limb_injuries_12m",
                 "days_since_return_to_play"]
# monotone directions that hold on any scale (wellness scales/directions differ from the contract)
REAL_MONOTONE = {"hsr_vs_own_norm": 1, "hsr_vs_own_norm_prev_week": 1, "previous_hamstring_injury": 1,
                 "hamstring_injuries_12m": 1}


def _athletes(ids) -> pd.DataFrame:
    ids = sorted(set(ids))
    return pd.DataFrame({"athlete_id": ids, "sex": pd.Series([None] * len(ids), dtype="object"),
                         "birth_date": pd.Series([pd.NaT] * len(ids), dtype="datetime64[ns]"),
                         "height_cm": np.nan, "body_mass_kg": np.nan, "position": None})


def _load_rows(athlete_id, date, load_au, **extra) -> pd.DataFrame:
    load_au = np.asarray(load_au, dtype=float)
    # the exports give session-RPE load (RPE x minutes) as one number: the contract's srpe_load_au
    return pd.DataFrame({"athlete_id": athlete_id, "date": pd.to_datetime(date), "session_type": "session",
                         "duration_min": np.nan, "rpe": np.nan, "srpe_load_au": load_au, **extra})


# ------------------------------------------------------------------ Jovanovic
def load_jovanovic(path: Path = JOVANOVIC_CSV) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Contract tables from ``raw_data_sample.csv`` and the athletes' source split (Train/Test)."""
    raw = pd.read_csv(path)
    season2 = raw["Season"].str.strip().eq("Season 2").to_numpy()
    date = JOVANOVIC_ANCHOR + pd.to_timedelta(raw["Date"].to_numpy() - 1 + np.where(season2, 365, 0), unit="D")
    raw = raw.assign(date=date, athlete_id=raw["Player.Name"].str.replace(" ", "_"))
    on = raw["LoadMetric01"] > 0  # 0 = day off: no session
    tl = _load_rows(raw.loc[on, "athlete_id"].to_numpy(), raw.loc[on, "date"].to_numpy(),
                    raw.loc[on, "LoadMetric01"].to_numpy(),
                    total_distance_m=raw.loc[on, "LoadMetric02"].astype(float).to_numpy(),
                    hsr_distance_m=raw.loc[on, "LoadMetric03"].astype(float).to_numpy(),
                    sprint_distance_m=np.nan, max_speed_m_s=np.nan)
    ham = raw[raw["Injury.Location"].fillna("").str.lower().eq("hamstring")]
    inj = pd.DataFrame({"athlete_id": ham["athlete_id"].to_numpy(), "onset_date": ham["date"].to_numpy(),
                        "body_part": "hamstring", "side": "both", "days_lost": 0, "mechanism": None})
    split = raw.groupby("athlete_id")["Data.Split"].first()
    tables = {"athletes": _athletes(raw["athlete_id"]), "training_load": tl.reset_index(drop=True), "injuries": inj}
    return tables, split


# ------------------------------------------------------------------ SoccerMon
def _wide(path: Path, value: str) -> pd.DataFrame:
    w = pd.read_csv(path)
    w = w.rename(columns={w.columns[0]: "date"})
    long = w.melt(id_vars="date", var_name="athlete_id", value_name=value).dropna(subset=[value])
    long["date"] = pd.to_datetime(long["date"], format="%d.%m.%Y")
    return long


def load_soccermon(folder: Path = SOCCERMON_DIR) -> dict[str, pd.DataFrame]:
    """Contract tables from the SoccerMon subjective block (wide CSVs, dd.mm.yyyy dates).

    Wellness items keep their source scales (sleep_duration in hours; the others 1-5), which
    differ from the contract's 0-10 items; the panel uses them as z-scores against each
    athlete's own baseline, which are scale-free.
    """
    folder = Path(folder)
    load = _wide(folder / "training-load" / "daily_load.csv", "load")
    load = load[load["load"] > 0]
    tl = _load_rows(load["athlete_id"].to_numpy(), load["date"].to_numpy(), load["load"].to_numpy(),
                    total_distance_m=np.nan, hsr_distance_m=np.nan, sprint_distance_m=np.nan, max_speed_m_s=np.nan)
    items = {"sleep_duration": "sleep_hours", "sleep_quality": "sleep_quality", "fatigue": "fatigue",
             "soreness": "soreness", "stress": "stress", "mood": "mood"}
    well = None
    for src, dst in items.items():
        part = _wide(folder / "wellness" / f"{src}.csv", dst)
        well = part if well is None else well.merge(part, on=["athlete_id", "date"], how="outer")
    well["hamstring_tightness"] = np.nan
    inj = soccermon_injury_episodes(folder / "injury" / "injury.csv")
    ids = set(tl["athlete_id"]) | set(well["athlete_id"]) | set(inj["athlete_id"])
    return {"athletes": _athletes(ids), "training_load": tl.reset_index(drop=True),
            "wellness": well.sort_values(["athlete_id", "date"]).reset_index(drop=True), "injuries": inj}


def soccermon_injury_episodes(path: Path) -> pd.DataFrame:
    """Collapse repeated daily injury self-reports into episodes (see module docstring)."""
    raw = pd.read_csv(path)
    raw["date"] = pd.to_datetime(raw["timestamp"], format="%d.%m.%Y")
    raw["parts"] = raw["type"].map(lambda s: sorted(json.loads(s)))
    raw = raw.sort_values(["player_name", "date"])
    new = raw.groupby("player_name")["date"].diff().dt.days.fillna(np.inf) >= EPISODE_GAP_DAYS
    raw["episode"] = new.cumsum()
    rows = []
    for (player, _), g in raw.groupby(["player_name", "episode"]):
        parts = sorted({p for ps in g["parts"] for p in ps})
        thigh = any("thigh" in p for p in parts)
        rows.append({"athlete_id": player, "onset_date": g["date"].min(),
                     "body_part": "thigh" if thigh else "+".join(parts), "side": "both",
                     "days_lost": int((g["date"].max() - g["date"].min()).days) + 1, "mechanism": None})
    return pd.DataFrame(rows, columns=["athlete_id", "onset_date", "body_part", "side", "days_lost", "mechanism"])


# ------------------------------------------------------------------ units and evaluation
def real_units(tables: dict[str, pd.DataFrame], label: str = "hamstring", horizon_days: int = 28) -> pd.DataFrame:
    """Athlete-week units via :func:`build_panel` and :func:`hamstring_units`.

    ``label``: ``hamstring`` (hamstring injuries), ``thigh`` (thigh injuries as the hamstring
    proxy) or ``any`` (any injury). For ``thigh``/``any`` the labelling copy of the injuries
    table marks the labelled episodes as ``hamstring`` - only for the label; the panel's injury
    history uses the recorded body parts.
    """
    panel = build_panel(tables).panel
    inj = tables["injuries"].copy()
    if label == "thigh":
        inj["body_part"] = np.where(inj["body_part"].str.contains("thigh"), "hamstring", inj["body_part"])
    elif label == "any":
        inj["body_part"] = "hamstring"
    elif label != "hamstring":
        raise ValueError(f"label must be hamstring, thigh or any, got {label!r}")
    return hamstring_units(panel, inj, horizon_days)


@dataclass
class RealResult:
    protocol: str
    metrics: dict
    predictions: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


def _fit_model(x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, model_params: dict, seed: int):
    params = {**model_params, "monotone": {k: v for k, v in REAL_MONOTONE.items() if k in x}}
    try:
        return CalibratedLGBMClassifier(random_state=seed, **params).fit(x, y, groups=groups), "sigmoid"
    except ValueError:
        # too few positives for out-of-fold calibration: keep the ranking, skip calibration
        params["calibration"] = "none"
        return CalibratedLGBMClassifier(random_state=seed, **params).fit(x, y, groups=groups), "none"


def evaluate_folds(units: pd.DataFrame, folds: list[tuple[np.ndarray, np.ndarray]], *, protocol: str,
                   model_params: dict, features: list[str] = REAL_FEATURES, flag_threshold: float = 0.1,
                   acwr_threshold: float = 1.5, n_boot: int = 1000, seed: int = 0) -> RealResult:
    """Fit model and baselines on each fold's training rows, predict its test rows, score pooled.

    ``folds`` are (train positions, test positions) into ``units[label_complete]``; the pooled
    test predictions are scored with the athlete cluster bootstrap.
    """
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in features if f in usable and usable[f].notna().any()]
    parts, notes = [], []
    for k, (tr, te) in enumerate(folds):
        train, test = usable.iloc[tr], usable.iloc[te]
        if train["y"].sum() == 0 or len(test) == 0:
            notes.append(f"fold {k}: skipped ({int(train['y'].sum())} training events, {len(test)} test units)")
            continue
        x_tr, x_te = feature_matrix(train, feats), feature_matrix(test, feats)
        y_tr = train["y"].to_numpy()
        model, cal = _fit_model(x_tr, y_tr, train["athlete_id"].to_numpy(), model_params, seed)
        out = pd.DataFrame({"athlete_id": test["athlete_id"].to_numpy(), "unit_date": test["unit_date"].to_numpy(),
                            "y": test["y"].to_numpy(), "p_model": model.predict_proba(x_te)[:, 1], "fold": k})
        out["p_prevalence"] = PrevalenceBaseline().fit(x_tr, y_tr).predict_proba(x_te)[:, 1]
        if "acwr_ewma" in x_tr:
            out["p_acwr_threshold"] = AcwrThresholdRule(acwr_threshold).fit(x_tr, y_tr).predict_proba(x_te)[:, 1]
        notes.append(f"fold {k}: {len(train)} training units / {int(y_tr.sum())} events, "
                     f"{len(test)} test units / {int(out['y'].sum())} events, calibration {cal}, "
                     f"{model.n_rounds_} rounds")
        parts.append(out)
    if not parts:
        raise ValueError(f"{protocol}: no fold had training events")
    pred = pd.concat(parts, ignore_index=True)
    y, g = pred["y"].to_numpy(), pred["athlete_id"].to_numpy()
    metrics: dict = {"protocol": protocol, "features": feats, "folds": notes,
                     "n_test_units": int(len(pred)), "n_test_events": int(y.sum()),
                     "n_test_athletes": int(pd.Series(g).nunique()),
                     "n_test_injury_athletes": int(pred.loc[pred["y"] == 1, "athlete_id"].nunique())}
    if np.unique(y).size < 2:
        metrics["error"] = "test units have one class only: AUC undefined"
        return RealResult(protocol, metrics, pred)
    metrics["model"] = score_block(y, pred["p_model"].to_numpy(), g, flag_threshold, n_boot, seed)
    metrics["baselines"] = {c[2:]: score_block(y, pred[c].to_numpy(), g, flag_threshold, n_boot, seed)
                            for c in pred.columns if c.startswith("p_") and c != "p_model"}
    return RealResult(protocol, metrics, pred)


def source_split_folds(units: pd.DataFrame, test_athletes) -> list[tuple[np.ndarray, np.ndarray]]:
    """The source's own athlete split: train on the other athletes, test on ``test_athletes`` (all weeks)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    te = usable["athlete_id"].isin(list(test_athletes)).to_numpy()
    return [(np.flatnonzero(~te), np.flatnonzero(te))]


def loao_time_folds(units: pd.DataFrame, test_time_fraction: float = 0.5,
                    purge_days: int = 28) -> list[tuple[np.ndarray, np.ndarray]]:
    """Leave-one-athlete-out over later time: for each athlete, test = its units on or after
    the cutoff (the ``1 - test_time_fraction`` date quantile); train = the other athletes' units
    dated at least ``purge_days`` before the cutoff."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    dates = pd.to_datetime(usable["unit_date"])
    cutoff = dates.quantile(1 - test_time_fraction)
    early = (dates < cutoff - pd.Timedelta(days=purge_days)).to_numpy()
    late = (dates >= cutoff).to_numpy()
    folds = []
    for a in np.sort(usable["athlete_id"].unique()):
        mine = (usable["athlete_id"] == a).to_numpy()
        folds.append((np.flatnonzero(~mine & early), np.flatnonzero(mine & late)))
    return folds


def grouped_time_folds(units: pd.DataFrame, n_groups: int = 5, test_time_fraction: float = 0.5,
                       purge_days: int = 28, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """Like :func:`loao_time_folds` with athletes in ``n_groups`` random groups (for squads of 50)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    ids = np.sort(usable["athlete_id"].unique())
    group = dict(zip(np.random.default_rng(seed).permutation(ids), np.arange(ids.size) % n_groups, strict=True))
    gid = usable["athlete_id"].map(group).to_numpy()
    dates = pd.to_datetime(usable["unit_date"])
    cutoff = dates.quantile(1 - test_time_fraction)
    early = (dates < cutoff - pd.Timedelta(days=purge_days)).to_numpy()
    late = (dates >= cutoff).to_numpy()
    return [(np.flatnonzero((gid != k) & early), np.flatnonzero((gid == k) & late)) for k in range(n_groups)]
