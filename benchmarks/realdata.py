"""Real-data adapters and the hamstring-style evaluation on them (see reports/benchmarks/real-data.md).

Benchmark code, not part of the ``sprintlab`` package: ``benchmarks/bench_real_data.py`` runs it and
the real-data tests import it as ``benchmarks.realdata``.

Two public data sets are brought into the sprintlab data contract by their vendor mappings
(``src/sprintlab/contract/mappings/*.yaml``, applied with
:func:`sprintlab.contract.mapping.import_with_mapping`) - the single source of truth for what each
source column means, its unit, scale direction and date:

* **Jovanovic hamstring sample** (``jovanovic_hamstring_sample.yaml``; 6 athletes, daily
  session-RPE load, total and high-speed distance, hamstring injury days). Dates are day indices
  within two unnamed seasons, anchored by the mapping on an assumed 2016-07-01 / 2017-07-01.
* **SoccerMon subjective** (``soccermon_subjective.yaml``; 50 players of two Norwegian women's
  teams: daily wellness rescaled to the contract's 0-10 items with fatigue, soreness and stress
  reversed so that 10 = worst, sessions with RPE and minutes from ``session.json``, self-reported
  injuries with JSON body parts).

``training_load`` and ``wellness`` are then passed through the contract validator
(:func:`sprintlab.contract.validate.validate_folder`), which types them; a rejected row is an
error here, never a silent drop. What this module adds on top of the mappings is only what the
evaluation needs, each item documented where it is made:

* ``athletes``: neither source has a register. One is built from the ids seen in the other tables;
  ``sex``, ``birth_date``, ``height_cm`` and ``body_mass_kg`` are missing (unknown), so age and
  mass features are absent. (Not validated: the contract requires those columns.)
* Jovanovic ``injuries``: the mapping leaves ``side`` and ``days_lost`` missing (not in the
  export; validation rejects the table). For the evaluation they get **label-only placeholders**:
  ``side = "both"`` and ``days_lost = 0`` (no week excluded as injured, return to play = onset).
* Jovanovic source split (``Data.Split``, Train/Test per athlete): not a contract column; read
  from the CSV by :func:`jovanovic_split`.
* SoccerMon ``injuries``: the mapping turns the repeated daily self-reports into one event per
  run of consecutive days of one player, body part and side. The evaluation keeps the episode
  rule of its published protocol (:func:`soccermon_injury_episodes`): the mapping's rows are
  expanded back to report days (exact: a run has no gaps), and reports of one player less than
  ``EPISODE_GAP_DAYS`` apart, whatever the body part, form one episode: onset = first report,
  ``days_lost`` = report span in days (reported, not confirmed time loss), ``side = "both"``,
  ``body_part = "thigh"`` if any report mentions a thigh (front/back is not recorded: the
  closest proxy for hamstring), else the locations joined with ``+``.

The model scored on these units is the shipped hamstring family (``params.yaml``
``train.hamstring.model_family``; since issue #24 ``linear_interaction``, here an L2 logistic
regression on the standardised features learning the 0/1 label, its ``C`` chosen by CV grouped by
athlete), built by :func:`sprintlab.models.families.make_classifier` with the ``train.hamstring``
settings and the real-data monotone signs (``REAL_MONOTONE``). The calibrated LightGBM - the model
before issue #24 - is fitted beside it on the same rows as the ``lightgbm`` comparison
(:func:`_fit_family`, :func:`_fold_predictions`).

Nothing here copies the data into the repository: the functions read from the given folders.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.contract.mapping import import_with_mapping, write_imported
from sprintlab.contract.validate import validate_folder
from sprintlab.features.panel import build_panel
from sprintlab.models.datasets import feature_matrix, hamstring_units
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.models.evaluation import AcwrThresholdRule, PrevalenceBaseline, score_block
from sprintlab.models.families import LIGHTGBM, Classifier, make_classifier
from sprintlab.models.flag_policy import ONSET_COLUMN, HeldOut, brier_skill, net_benefit
from sprintlab.models.linear import InteractionLogisticClassifier

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
JOVANOVIC_DIR = SHARED / "jovanovic_hamstring_sample"
JOVANOVIC_CSV = JOVANOVIC_DIR / "raw_data_sample.csv"
SOCCERMON_DIR = SHARED / "soccermon_subjective"
JOVANOVIC_MAPPING = "jovanovic_hamstring_sample.yaml"
SOCCERMON_MAPPING = "soccermon_subjective.yaml"
EPISODE_GAP_DAYS = 7
# fixed reference day for the validator's "date in the future" check (the data end in 2021), so
# that the tables do not depend on the day the benchmark runs
VALIDATION_TODAY = "2026-01-01"
INJURY_COLUMNS = ["athlete_id", "onset_date", "body_part", "side", "days_lost", "mechanism"]

# features the real data can support (the panel leaves the rest absent); load and history only,
# plus wellness z-scores for SoccerMon
REAL_FEATURES = [
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
    "sleep_hours_z",
    "sleep_quality_z",
    "fatigue_z",
    "soreness_z",
    "stress_z",
    "mood_z",
    "previous_hamstring_injury",
    "hamstring_injuries_12m",
    "other_lower_limb_injuries_12m",
    "days_since_return_to_play",
]
# monotone constraints only on load/history features; the wellness z-scores (now in the contract's
# directions, see the module docstring) stay unconstrained as in the published protocol
REAL_MONOTONE = {
    "hsr_vs_own_norm": 1,
    "hsr_vs_own_norm_prev_week": 1,
    "previous_hamstring_injury": 1,
    "hamstring_injuries_12m": 1,
    "days_since_return_to_play": -1,  # as params.yaml: re-injury risk falls with time since return
}


def _athletes(ids) -> pd.DataFrame:
    """Register of the ids seen in the other tables; the profile is unknown (missing), not invented."""
    ids = sorted({str(a) for a in ids})
    return pd.DataFrame(
        {
            "athlete_id": ids,
            "sex": pd.Series([None] * len(ids), dtype="object"),
            "birth_date": pd.Series([pd.NaT] * len(ids), dtype="datetime64[ns]"),
            "height_cm": np.nan,
            "body_mass_kg": np.nan,
            "position": None,
        }
    )


def _validated(imported: dict[str, pd.DataFrame], names: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """The mapping's tables ``names`` typed by the contract validator; any rejected row is an error."""
    with tempfile.TemporaryDirectory(prefix="sprintlab-realdata-") as tmp:
        write_imported({n: imported[n] for n in names}, tmp)
        res = validate_folder(tmp, today=VALIDATION_TODAY)
    for n in names:
        if n not in res.tables or res.counts[n]["rejected"]:
            probs = res.problems[res.problems["table"] == n]["reason"].value_counts().head(5).to_dict()
            raise ValueError(f"{n}: the contract validator rejected rows of the mapped data: {probs}")
    return {n: res.tables[n] for n in names}


def _typed_injuries(df: pd.DataFrame) -> pd.DataFrame:
    out = df[INJURY_COLUMNS].copy()
    out["onset_date"] = pd.to_datetime(out["onset_date"], format="%Y-%m-%d")
    out["days_lost"] = out["days_lost"].astype(int)
    return out.sort_values(["athlete_id", "onset_date", "body_part"], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------ Jovanovic
def load_jovanovic(folder: Path = JOVANOVIC_DIR) -> tuple[dict[str, pd.DataFrame], pd.Series]:
    """Contract tables of the Jovanovic sample (via its mapping) and the source athlete split.

    ``injuries`` carries the label-only placeholders ``side = "both"``, ``days_lost = 0``.
    """
    imported = import_with_mapping(JOVANOVIC_MAPPING, folder)
    tables = _validated(imported, ("training_load",))
    inj = imported["injuries"].assign(side="both", days_lost=0)  # label-only placeholders (module docstring)
    tables["injuries"] = _typed_injuries(inj)
    tables["athletes"] = _athletes(tables["training_load"]["athlete_id"])
    return tables, jovanovic_split(Path(folder) / JOVANOVIC_CSV.name)


def jovanovic_split(path: Path = JOVANOVIC_CSV) -> pd.Series:
    """``Data.Split`` (Train/Test) per athlete id, as the source assigns it (not a contract column)."""
    raw = pd.read_csv(path, usecols=["Player.Name", "Data.Split"])
    split = raw.groupby("Player.Name")["Data.Split"].agg(lambda s: s.str.strip().unique())
    if (split.map(len) != 1).any():
        raise ValueError(f"{path}: an athlete has more than one Data.Split value")
    return split.map(lambda v: v[0]).rename_axis("athlete_id").rename("split")


# ------------------------------------------------------------------ SoccerMon
def load_soccermon(folder: Path = SOCCERMON_DIR) -> dict[str, pd.DataFrame]:
    """Contract tables of the SoccerMon subjective block (via its mapping); injuries as episodes
    of the published protocol (:func:`soccermon_injury_episodes`)."""
    imported = import_with_mapping(SOCCERMON_MAPPING, folder)
    tables = _validated(imported, ("training_load", "wellness"))
    tables["injuries"] = soccermon_injury_episodes(imported["injuries"])
    ids = (
        set(tables["training_load"]["athlete_id"])
        | set(tables["wellness"]["athlete_id"])
        | set(tables["injuries"]["athlete_id"])
    )
    tables["athletes"] = _athletes(ids)
    return tables


def soccermon_report_days(mapped: pd.DataFrame) -> pd.DataFrame:
    """The self-report days behind the mapping's injury events: one row per (athlete, day, location).

    The mapping merges reports of one player, body part and side on consecutive days (gap <= 1)
    into one event of ``days_lost`` days, so every day of ``[onset, onset + days_lost - 1]`` was
    reported. ``location`` is the PmSys key (``left_thigh``; ``groin_hip`` has no side).
    """
    days = mapped["days_lost"].astype(int).to_numpy()
    onset = pd.to_datetime(mapped["onset_date"], format="%Y-%m-%d").to_numpy().repeat(days)
    offset = np.concatenate([np.arange(n) for n in days]) if len(days) else np.array([], dtype=int)
    side, part = mapped["side"].astype(str), mapped["body_part"].astype(str)
    location = np.where(side.isin(["left", "right"]), side + "_" + part, part)
    return pd.DataFrame(
        {
            "athlete_id": mapped["athlete_id"].to_numpy().repeat(days),
            "date": onset + offset.astype("timedelta64[D]"),
            "location": location.repeat(days),
        }
    )


def soccermon_injury_episodes(mapped: pd.DataFrame, gap_days: int = EPISODE_GAP_DAYS) -> pd.DataFrame:
    """Episodes of the published protocol from the mapping's injury rows (see module docstring):
    report days of one player less than ``gap_days`` apart, over all body parts, are one episode."""
    rep = soccermon_report_days(mapped).sort_values(["athlete_id", "date"], kind="mergesort")
    dates = rep.drop_duplicates(["athlete_id", "date"])
    new = dates.groupby("athlete_id")["date"].diff().dt.days.fillna(np.inf) >= gap_days
    rep = rep.merge(
        dates.assign(episode=new.cumsum())[["athlete_id", "date", "episode"]], on=["athlete_id", "date"]
    )
    rows = []
    for (player, _), g in rep.groupby(["athlete_id", "episode"]):
        parts = sorted(set(g["location"]))
        rows.append(
            {
                "athlete_id": player,
                "onset_date": g["date"].min(),
                "body_part": "thigh" if any("thigh" in p for p in parts) else "+".join(parts),
                "side": "both",
                "days_lost": int((g["date"].max() - g["date"].min()).days) + 1,
                "mechanism": None,
            }
        )
    return _typed_injuries(pd.DataFrame(rows, columns=INJURY_COLUMNS))


# ------------------------------------------------------------------ units and evaluation
def real_units(
    tables: dict[str, pd.DataFrame], label: str = "hamstring", horizon_days: int = 28
) -> pd.DataFrame:
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
    """One protocol's pooled test metrics and the test predictions behind them."""

    protocol: str
    metrics: dict
    predictions: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)


def _real_params(model_params: dict, x: pd.DataFrame) -> dict:
    """``model_params`` with the real-data monotone signs (:data:`REAL_MONOTONE`) of the features in ``x``."""
    return {**model_params, "monotone": {k: v for k, v in REAL_MONOTONE.items() if k in x}}


def _c_note(model: InteractionLogisticClassifier) -> str:
    """How the logistic's ``C_`` came about (``C_by_cv_``): chosen by its grouped CV, or ``C`` itself
    when a CV training fold holds one class only (the estimator's fallback)."""
    how = "grouped CV" if model.C_by_cv_ else "C of the estimator: a CV training fold has one class"
    return f"C {model.C_:g} ({how})"


def _fit_family(
    family: str, x: pd.DataFrame, y: np.ndarray, groups: np.ndarray, model_params: dict, seed: int
) -> tuple[Classifier, str]:
    """A model of ``family`` (:func:`~sprintlab.models.families.make_classifier`) with the real-data
    monotone signs, fitted with the athlete ``groups``, and a note on the fit.

    * ``linear_interaction`` (the shipped hamstring family): the L2 logistic regression with ``C``
      chosen by grouped CV; no out-of-fold calibration, so no fallback is needed - when a CV
      training fold holds one class the estimator keeps ``C`` itself (noted).
    * ``lightgbm``: calibrated by ``sigmoid``, or ``calibration none`` (raw LightGBM probabilities)
      when there are too few positives to calibrate out of fold.
    """
    params = _real_params(model_params, x)
    if family != LIGHTGBM:
        model = make_classifier(family, params, seed, list(x.columns)).fit(x, y, groups=groups)
        assert isinstance(model, InteractionLogisticClassifier)
        return model, _c_note(model)
    try:
        lgbm = make_classifier(LIGHTGBM, params, seed, list(x.columns)).fit(x, y, groups=groups)
        cal = "sigmoid"
    except ValueError:
        # too few positives for out-of-fold calibration: keep the ranking, skip calibration
        params["calibration"] = "none"
        lgbm = make_classifier(LIGHTGBM, params, seed, list(x.columns)).fit(x, y, groups=groups)
        cal = "none"
    assert isinstance(lgbm, CalibratedLGBMClassifier)
    return lgbm, f"calibration {cal}, {lgbm.n_rounds_} rounds"


def _fold_predictions(
    train: pd.DataFrame,
    test: pd.DataFrame,
    feats: list[str],
    *,
    fold: int,
    model_family: str,
    model_params: dict,
    acwr_threshold: float,
    seed: int,
) -> tuple[pd.DataFrame, str]:
    """Model and baselines fitted on one fold's training units, their test-unit probabilities and a
    note: ``p_model`` (``model_family``), ``p_lightgbm`` (the calibrated LightGBM, the model before
    issue #24; left out when the model is LightGBM itself), ``p_prevalence`` and
    ``p_acwr_threshold`` (when ACWR is available)."""
    x_tr, x_te = feature_matrix(train, feats), feature_matrix(test, feats)
    y_tr, g_tr = train["y"].to_numpy(), train["athlete_id"].to_numpy()
    model, how = _fit_family(model_family, x_tr, y_tr, g_tr, model_params, seed)
    out = pd.DataFrame(
        {
            "athlete_id": test["athlete_id"].to_numpy(),
            "unit_date": test["unit_date"].to_numpy(),
            "y": test["y"].to_numpy(),
            "p_model": model.predict_proba(x_te)[:, 1],
            "fold": fold,
        }
    )
    notes = [f"model {model_family} {how}"]
    if model_family != LIGHTGBM:
        lgbm, lgbm_how = _fit_family(LIGHTGBM, x_tr, y_tr, g_tr, model_params, seed)
        out["p_lightgbm"] = lgbm.predict_proba(x_te)[:, 1]
        notes.append(f"lightgbm {lgbm_how}")
    out["p_prevalence"] = PrevalenceBaseline().fit(x_tr, y_tr).predict_proba(x_te)[:, 1]
    if "acwr_ewma" in x_tr:
        out["p_acwr_threshold"] = AcwrThresholdRule(acwr_threshold).fit(x_tr, y_tr).predict_proba(x_te)[:, 1]
    note = (
        f"fold {fold}: {len(train)} training units / {int(y_tr.sum())} events, "
        f"{len(test)} test units / {int(out['y'].sum())} events; " + "; ".join(notes)
    )
    return out, note


def evaluate_folds(
    units: pd.DataFrame,
    folds: list[tuple[np.ndarray, np.ndarray]],
    *,
    protocol: str,
    model_family: str,
    model_params: dict,
    features: list[str] = REAL_FEATURES,
    flag_threshold: float = 0.1,
    acwr_threshold: float = 1.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> RealResult:
    """Fit model and baselines on each fold's training rows, predict its test rows, score pooled.

    ``folds`` are (train positions, test positions) into ``units[label_complete]``; the model is of
    ``model_family`` (``params.yaml`` ``train.hamstring.model_family``) with ``model_params``
    (``train.hamstring.estimator_kwargs()``), the baselines those of :func:`_fold_predictions`; the
    pooled test predictions are scored with the athlete cluster bootstrap.
    """
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in features if f in usable and usable[f].notna().any()]
    parts, notes = [], []
    for k, (tr, te) in enumerate(folds):
        train, test = usable.iloc[tr], usable.iloc[te]
        if train["y"].sum() == 0 or len(test) == 0:
            notes.append(
                f"fold {k}: skipped ({int(train['y'].sum())} training events, {len(test)} test units)"
            )
            continue
        out, note = _fold_predictions(
            train,
            test,
            feats,
            fold=k,
            model_family=model_family,
            model_params=model_params,
            acwr_threshold=acwr_threshold,
            seed=seed,
        )
        parts.append(out)
        notes.append(note)
    if not parts:
        raise ValueError(f"{protocol}: no fold had training events")
    pred = pd.concat(parts, ignore_index=True)
    metrics = _pooled_metrics(pred, protocol, feats, notes, flag_threshold, n_boot, seed)
    return RealResult(protocol, {**metrics, "model_family": model_family}, pred)


def _pooled_metrics(
    pred: pd.DataFrame,
    protocol: str,
    feats: list[str],
    notes: list[str],
    flag_threshold: float,
    n_boot: int,
    seed: int,
) -> dict:
    """Counts of the pooled test predictions and, when both classes occur, the model's and each
    baseline's :func:`score_block` (``baselines`` includes the ``lightgbm`` comparison)."""
    y, g = pred["y"].to_numpy(), pred["athlete_id"].to_numpy()
    metrics: dict = {
        "protocol": protocol,
        "features": feats,
        "folds": notes,
        "n_test_units": int(len(pred)),
        "n_test_events": int(y.sum()),
        "n_test_athletes": int(pd.Series(g).nunique()),
        "n_test_injury_athletes": int(pred.loc[pred["y"] == 1, "athlete_id"].nunique()),
    }
    if np.unique(y).size < 2:
        metrics["error"] = "test units have one class only: AUC undefined"
        return metrics
    metrics["model"] = score_block(y, pred["p_model"].to_numpy(), g, flag_threshold, n_boot, seed)
    metrics["baselines"] = {
        c[2:]: score_block(y, pred[c].to_numpy(), g, flag_threshold, n_boot, seed)
        for c in pred.columns
        if c.startswith("p_") and c != "p_model"
    }
    return metrics


def source_split_folds(units: pd.DataFrame, test_athletes) -> list[tuple[np.ndarray, np.ndarray]]:
    """The source's own athlete split: train on the other athletes, test on ``test_athletes`` (all weeks)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    te = usable["athlete_id"].isin(list(test_athletes)).to_numpy()
    return [(np.flatnonzero(~te), np.flatnonzero(te))]


def loao_time_folds(
    units: pd.DataFrame, test_time_fraction: float = 0.5, purge_days: int = 28
) -> list[tuple[np.ndarray, np.ndarray]]:
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


def grouped_time_folds(
    units: pd.DataFrame,
    n_groups: int = 5,
    test_time_fraction: float = 0.5,
    purge_days: int = 28,
    seed: int = 0,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Like :func:`loao_time_folds` with athletes in ``n_groups`` random groups (for squads of 50)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    ids = np.sort(usable["athlete_id"].unique())
    group = dict(
        zip(np.random.default_rng(seed).permutation(ids), np.arange(ids.size) % n_groups, strict=True)
    )
    gid = usable["athlete_id"].map(group).to_numpy()
    dates = pd.to_datetime(usable["unit_date"])
    cutoff = dates.quantile(1 - test_time_fraction)
    early = (dates < cutoff - pd.Timedelta(days=purge_days)).to_numpy()
    late = (dates >= cutoff).to_numpy()
    return [(np.flatnonzero((gid != k) & early), np.flatnonzero((gid == k) & late)) for k in range(n_groups)]


# ------------------------------------------------------------------ rolling origins (issue #24)
#: weeks between two rolling origins, and the width of each origin's test window
ROLLING_STEP_WEEKS = 8
#: net-benefit / flag threshold of the rolling protocol (a 2 % risk of a hamstring onset in 28 d)
ROLLING_FLAG_THRESHOLD = 0.02
#: pseudo-count ``m`` of the athlete-identity baseline, in athlete-weeks (about one half-season)
IDENTITY_PSEUDO_WEEKS = 20.0


def rolling_origin_folds(
    units: pd.DataFrame,
    step_weeks: int = ROLLING_STEP_WEEKS,
    purge_days: int = 28,
    min_train_events: int = 1,
    min_train_units: int = 30,
) -> list[tuple[pd.Timestamp, np.ndarray, np.ndarray]]:
    """Rolling origins every ``step_weeks`` weeks: ``(origin, train positions, test positions)``.

    Positions index ``units[label_complete]`` (reset index). For an origin ``t``, with ``D =
    purge_days`` (the label horizon: a unit's label looks at ``(week_end, week_end + D]``):

    * train = every athlete's units with ``week_end <= t - D`` (labels known at ``t``);
    * test = every athlete's units with ``t <= week_end < t + step_weeks`` weeks.

    The first origin is the earliest ``t = d + D`` (``d`` a unit date) whose training part holds at
    least ``min_train_events`` events and ``min_train_units`` units (the bench passes
    ``train.min_units.training`` of params.yaml); the next ones follow every ``step_weeks`` weeks
    while ``t`` is on or before the last unit date. Origins whose window holds no unit are left out.
    """
    usable = units[units["label_complete"]].reset_index(drop=True)
    dates = pd.to_datetime(usable["unit_date"])
    purge, step = pd.Timedelta(days=purge_days), pd.Timedelta(weeks=step_weeks)
    per_date = usable.groupby(dates)["y"].agg(["sum", "count"]).sort_index().cumsum()
    ready = per_date[(per_date["sum"] >= max(min_train_events, 1)) & (per_date["count"] >= min_train_units)]
    if ready.empty:
        return []
    origin = pd.Timestamp(ready.index[0]) + purge
    folds = []
    while origin <= dates.max():
        train = (dates <= origin - purge).to_numpy()
        test = ((dates >= origin) & (dates < origin + step)).to_numpy()
        if test.any():
            folds.append((origin, np.flatnonzero(train), np.flatnonzero(test)))
        origin += step
    return folds


def athlete_identity_risk(
    train_ids: np.ndarray, train_y: np.ndarray, test_ids: np.ndarray, m: float = IDENTITY_PSEUDO_WEEKS
) -> np.ndarray:
    """Athlete-identity baseline: a risk that knows only who the athlete is.

    ``p_a = (e_a + pi * m) / (n_a + m)`` with ``e_a`` the athlete's training events (positive
    athlete-weeks), ``n_a`` their training athlete-weeks, ``pi`` the training prevalence of all
    athletes and ``m`` a pseudo-count in athlete-weeks (default 20, about half a season: an athlete
    with 20 weeks of history is weighted equally with the squad rate). This is the beta-binomial
    posterior mean of the athlete's rate under a Beta(``pi m``, ``(1 - pi) m``) prior (additive
    smoothing; e.g. Gelman et al., *Bayesian Data Analysis*, 3rd ed., ch. 2). An athlete without
    training weeks gets ``pi``.
    """
    if m <= 0:
        raise ValueError(f"the pseudo-count m must be positive, got {m}")
    y = np.asarray(train_y, dtype=float)
    prevalence = float(y.mean()) if y.size else float("nan")
    stats = pd.DataFrame({"a": np.asarray(train_ids), "y": y}).groupby("a")["y"].agg(["sum", "count"])
    rate = (stats["sum"] + prevalence * m) / (stats["count"] + m)
    return pd.Series(np.asarray(test_ids)).map(rate).fillna(prevalence).to_numpy(dtype=float)


def calibration_in_the_large(y: np.ndarray, p: np.ndarray) -> float:
    """Calibration-in-the-large as observed / expected events: ``O/E = sum(y) / sum(p)``.

    1 = as many events as predicted; above 1 = risk under-predicted (Riley et al. 2024, BMJ
    384:e074820, "Evaluation of clinical prediction models (part 2)"). NaN when ``sum(p) = 0``.
    """
    expected = float(np.sum(np.asarray(p, dtype=float)))
    return float(np.sum(np.asarray(y, dtype=float)) / expected) if expected > 0 else float("nan")


def _logistic_risk(x_tr: pd.DataFrame, y_tr: np.ndarray, x_te: pd.DataFrame, seed: int) -> np.ndarray:
    """Logistic regression on the same features (median imputation, standardisation), fitted on the
    training rows; features without any training value are left out."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cols = [c for c in x_tr if x_tr[c].notna().any()]
    pipe = make_pipeline(
        SimpleImputer(strategy="median"),
        StandardScaler(),
        LogisticRegression(max_iter=1000, random_state=seed),
    )
    return pipe.fit(x_tr[cols], y_tr).predict_proba(x_te[cols])[:, 1]


def _rolling_predictions(
    train: pd.DataFrame,
    test: pd.DataFrame,
    feats: list[str],
    *,
    fold: int,
    origin: pd.Timestamp,
    model_family: str,
    model_params: dict,
    acwr_threshold: float,
    seed: int,
) -> tuple[pd.DataFrame, str]:
    """One origin: the model, LightGBM, prevalence and ACWR columns of :func:`_fold_predictions`
    plus the logistic (C = 1, :func:`_logistic_risk`) and athlete-identity baselines, all fitted on
    the same training units."""
    out, note = _fold_predictions(
        train,
        test,
        feats,
        fold=fold,
        model_family=model_family,
        model_params=model_params,
        acwr_threshold=acwr_threshold,
        seed=seed,
    )
    y_tr = train["y"].to_numpy()
    x_tr, x_te = feature_matrix(train, feats), feature_matrix(test, feats)
    out["p_logistic"] = _logistic_risk(x_tr, y_tr, x_te, seed)
    out["p_athlete_identity"] = athlete_identity_risk(
        train["athlete_id"].to_numpy(), y_tr, test["athlete_id"].to_numpy()
    )
    out["origin"] = origin
    out["train_prevalence"] = float(y_tr.mean())
    out[ONSET_COLUMN] = pd.to_datetime(test[ONSET_COLUMN]).to_numpy()
    return out, f"origin {origin.date()}: " + note.split(": ", 1)[1]


def rolling_method_metrics(pred: pd.DataFrame, column: str, threshold: float, n_boot: int, seed: int) -> dict:
    """Pooled out-of-time figures of one method's risks ``pred[column]``.

    * ``roc_auc`` and its 95 % athlete cluster bootstrap interval (:func:`score_block`);
    * ``brier_skill`` = ``1 - Brier(p) / Brier(pi)``, ``pi`` = each row's origin training prevalence;
    * ``o_e`` = :func:`calibration_in_the_large` (sum y / sum p);
    * ``net_benefit`` of flagging ``p >= threshold``: ``TP/n - FP/n * pt/(1 - pt)`` (Vickers & Elkin
      2006), beside ``flag_all`` (everyone flagged) and the ``flag_rate``;
    * ``onsets_caught``: test injury onsets with at least one athlete-week flagged (``p >= threshold``)
      among the weeks whose 28-day horizon holds the onset (:class:`HeldOut`, by ``ONSET_COLUMN``).
    """
    y, p, g = pred["y"].to_numpy(), pred[column].to_numpy(dtype=float), pred["athlete_id"].to_numpy()
    out: dict = {}
    if np.unique(y).size == 2:
        block = score_block(y, p, g, threshold, n_boot, seed)
        out.update(roc_auc=block["roc_auc"], roc_auc_ci=block["roc_auc_ci"], brier=block["brier"])
    out["brier_skill"] = brier_skill(y, p, pred["train_prevalence"].to_numpy(dtype=float))
    out["o_e"] = calibration_in_the_large(y, p)
    nb = net_benefit(y, p, [threshold])[0]
    out.update(net_benefit=nb["net_benefit"], flag_all=nb["flag_all"], flag_rate=nb["flag_rate"])
    out["onsets_caught"] = HeldOut.of(pred, seed).figures(p >= threshold)["injuries_caught"]
    return out


def evaluate_rolling(
    units: pd.DataFrame,
    *,
    protocol: str,
    model_family: str,
    model_params: dict,
    features: list[str] = REAL_FEATURES,
    step_weeks: int = ROLLING_STEP_WEEKS,
    purge_days: int = 28,
    min_train_units: int = 30,
    threshold: float = ROLLING_FLAG_THRESHOLD,
    acwr_threshold: float = 1.5,
    n_boot: int = 1000,
    seed: int = 0,
) -> RealResult:
    """The rolling-origin protocol (:func:`rolling_origin_folds`): at each origin the model (of
    ``model_family``, as in :func:`evaluate_folds`) and every baseline are fitted on all athletes'
    labelled history and predict the next ``step_weeks`` weeks; the out-of-time predictions are
    pooled over origins and scored by :func:`rolling_method_metrics` for each method (``model`` and
    ``baselines``, which include the ``lightgbm`` comparison)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    feats = [f for f in features if f in usable and usable[f].notna().any()]
    parts, notes = [], []
    for k, (origin, tr, te) in enumerate(
        rolling_origin_folds(units, step_weeks, purge_days, 1, min_train_units)
    ):
        out, note = _rolling_predictions(
            usable.iloc[tr],
            usable.iloc[te],
            feats,
            fold=k,
            origin=origin,
            model_family=model_family,
            model_params=model_params,
            acwr_threshold=acwr_threshold,
            seed=seed,
        )
        parts.append(out)
        notes.append(note)
    if not parts:
        raise ValueError(f"{protocol}: no origin has a training event and test units")
    pred = pd.concat(parts, ignore_index=True)
    held = HeldOut.of(pred, seed)
    metrics: dict = {
        "protocol": protocol,
        "kind": "rolling_origin",
        "model_family": model_family,
        "step_weeks": step_weeks,
        "purge_days": purge_days,
        "min_train_units": min_train_units,
        "threshold": threshold,
        "features": feats,
        "folds": notes,
        "n_origins": len(parts),
        "n_test_units": int(len(pred)),
        "n_test_events": int(pred["y"].sum()),
        "n_test_onsets": int(np.unique(held.injury[held.injury >= 0]).size),
        "n_test_athletes": int(pred["athlete_id"].nunique()),
        "n_test_injury_athletes": int(pred.loc[pred["y"] == 1, "athlete_id"].nunique()),
        "model": rolling_method_metrics(pred, "p_model", threshold, n_boot, seed),
        "baselines": {
            c[2:]: rolling_method_metrics(pred, c, threshold, n_boot, seed)
            for c in pred.columns
            if c.startswith("p_") and c != "p_model"
        },
    }
    return RealResult(protocol, metrics, pred)


# ------------------------------------------------------------------ leakage audit of the rolling protocol
def purge_violations(units: pd.DataFrame, folds: list[tuple[pd.Timestamp, np.ndarray, np.ndarray]]) -> int:
    """Rows breaking the rolling split's time order, summed over origins ``t`` (0 = clean): training
    units whose horizon ends after ``t`` (``week_end + 28 d > t``) or whose labelled onset is after
    ``t``, and positive test units whose onset is on or before ``t`` (an injury seen in training)."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    bad = 0
    for origin, tr, te in folds:
        train, test = usable.iloc[tr], usable.iloc[te]
        bad += int((pd.to_datetime(train["unit_date"]) + pd.Timedelta(days=28) > origin).sum())
        bad += int((train.loc[train["y"] == 1, ONSET_COLUMN] > origin).sum())
        bad += int((test.loc[test["y"] == 1, ONSET_COLUMN] <= origin).sum())
    return bad


def tables_as_of(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp) -> dict[str, pd.DataFrame]:
    """The tables a club would hold on ``cutoff``: load and wellness dated on or before it, injuries
    with onset on or before it and their days lost cut at ``cutoff`` (the return is not yet known)."""
    out = dict(tables)
    for name in ("training_load", "wellness"):
        if name in tables:
            out[name] = tables[name][tables[name]["date"] <= cutoff]
    inj = tables["injuries"][tables["injuries"]["onset_date"] <= cutoff]
    known = (cutoff - inj["onset_date"]).dt.days + 1
    out["injuries"] = inj.assign(days_lost=np.minimum(inj["days_lost"], known))
    return out


def future_feature_cells(
    tables: dict[str, pd.DataFrame], cutoffs: list[pd.Timestamp], features: list[str] = REAL_FEATURES
) -> dict[str, int]:
    """Features of every athlete-week ending on or before each cutoff, from the full tables and from
    :func:`tables_as_of` the cutoff: ``feature_cells_compared`` and ``feature_cells_differing`` (a
    feature built from data after its week differs; 0 = no feature looks ahead).

    Only the athlete-weeks of both panels are compared: the as-of panel ends at the last record
    before the cutoff (weeks of an off-season gap after it are in the full panel only:
    ``weeks_only_in_full_panel``) and gives athletes of the register weeks before their first record.
    """
    full = build_panel(tables).panel
    feats = [f for f in features if f in full]
    compared = differ = only_full = 0
    for cutoff in cutoffs:
        past = build_panel(tables_as_of(tables, cutoff)).panel
        a = full[full["week_end"] <= cutoff].set_index(["athlete_id", "week_end"])[feats]
        b = past[past["week_end"] <= cutoff].set_index(["athlete_id", "week_end"])[feats]
        a, b = a.align(b, join="inner", axis=0)
        only_full += int((full["week_end"] <= cutoff).sum()) - len(a)
        same = np.isclose(a.to_numpy(float), b.to_numpy(float), equal_nan=True)
        compared, differ = compared + same.size, differ + int((~same).sum())
    return {
        "feature_cells_compared": compared,
        "feature_cells_differing": differ,
        "weeks_only_in_full_panel": only_full,
    }


def repeat_onsets(units: pd.DataFrame, folds: list[tuple[pd.Timestamp, np.ndarray, np.ndarray]]) -> dict:
    """What the athlete-identity baseline can use: test onsets (counted once) whose athlete already
    had a positive training week at that onset's origin, and the athletes with any event."""
    usable = units[units["label_complete"]].reset_index(drop=True)
    rows = []
    for _, tr, te in folds:
        train, test = usable.iloc[tr], usable.iloc[te]
        onsets = test.loc[test["y"] == 1, ["athlete_id", ONSET_COLUMN]].drop_duplicates()
        rows.append(
            onsets.assign(seen=onsets["athlete_id"].isin(set(train.loc[train["y"] == 1, "athlete_id"])))
        )
    onsets = pd.concat(rows).drop_duplicates(["athlete_id", ONSET_COLUMN]) if rows else pd.DataFrame()
    return {
        "test_onsets": len(onsets),
        "test_onsets_of_athletes_with_a_training_event": int(onsets["seen"].sum()) if rows else 0,
        "athletes_with_an_event": int(usable.loc[usable["y"] == 1, "athlete_id"].nunique()),
        "athletes": int(usable["athlete_id"].nunique()),
    }
