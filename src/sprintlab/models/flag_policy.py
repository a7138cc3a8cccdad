"""Hamstring flags as a decision: who staff look at this week, and what that catches.

A risk score is useful to staff only through the athletes it puts in front of them. The policy here
flags, in every week, the athletes whose risk ranks in the squad's top ``share`` (``params.yaml``
``train.hamstring.flag_top_share``): ``k_w = ceil(share * n_w)`` of the ``n_w`` athletes scored in
week ``w``, highest first, ties broken at random with a fixed seed (so a constant score flags a
random ``share``, not the first athlete ids). Every baseline and every rule ranked by its own
quantity is held to the same ``k_w``, so all of them spend the same staff attention.

Figures of a set of flags over test athlete-weeks (``y`` = hamstring onset within the horizon):

* ``flag_rate`` = flags / athlete-weeks; ``flags_per_week`` = flags / weeks;
* ``sensitivity`` = flagged positive weeks / positive weeks; ``precision`` = flagged positive weeks /
  flags (positive weeks, as the label);
* ``injuries_caught`` = injury onsets with at least one flagged athlete-week in the horizon before
  them; ``injury_sensitivity`` = ``injuries_caught / n_injuries``. An onset, not a positive week, is
  what staff prevent: one injury is up to four positive weeks with a 28-day horizon.

Rule baselines (published screening cut-offs, each a flag at its own cut-off):

* acute:chronic workload ratio ``acwr_ewma >= 1.5`` (Gabbett 2016, Br J Sports Med 50:273-280);
* Nordic eccentric force below 256 N and 279 N (Opar et al. 2015, Med Sci Sports Exerc 47:857-865:
  pre- and end-of-preseason cut-offs) and below 337 N (Timmins et al. 2016, Br J Sports Med
  50:1524-1535);
* no sprint above 90 % of maximal speed for more than 10 days (``days_since_near_max_speed > 10``;
  Malone et al. 2017, J Sci Med Sport 20:250-254: exposure to near-maximal speed protects);
* a previous hamstring injury (Green et al. 2020, Br J Sports Med 54:1081-1088).

Net benefit of flagging ``p >= p_t`` (Vickers & Elkin 2006, Med Decis Making 26:565-574)::

    NB(p_t) = TP / n - FP / n * p_t / (1 - p_t)

and the Brier skill score against the training prevalence ``pi``: ``BSS = 1 - Brier(p) / Brier(pi)``
with ``Brier(pi) = mean((y - pi)^2)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: the unit column with the date of the hamstring onset a positive athlete-week counts towards
ONSET_COLUMN = "hamstring_onset_date"


@dataclass(frozen=True)
class Rule:
    """A screening rule: flag when ``sign * column`` is at or above ``sign * cutoff`` (``strict``: above).

    ``sign`` is +1 when a higher value is the risk (ACWR, days since exposure), -1 when a lower one
    is (Nordic force). A missing value never flags and ranks last."""

    name: str
    column: str
    cutoff: float
    sign: int
    strict: bool
    source: str

    def risk(self, frame: pd.DataFrame) -> np.ndarray:
        """The rule's quantity oriented so that higher = riskier (missing: ``-inf``)."""
        if self.column not in frame:
            return np.full(len(frame), -np.inf)
        x = self.sign * pd.to_numeric(frame[self.column], errors="coerce").to_numpy(dtype=float)
        return np.where(np.isnan(x), -np.inf, x)

    def flags(self, frame: pd.DataFrame) -> np.ndarray:
        """The rule at its own cut-off."""
        r, c = self.risk(frame), self.sign * self.cutoff
        return (r > c) if self.strict else (r >= c)


def hamstring_rules(
    acwr_threshold: float, nordic_cutoffs_n: Sequence[float], near_max_speed_days: int
) -> list[Rule]:
    """The rule baselines of the module docstring, with the cut-offs of ``params.yaml``."""
    rules = [Rule("acwr_rule", "acwr_ewma", acwr_threshold, 1, False, "Gabbett 2016")]
    for cut in nordic_cutoffs_n:
        source = "Timmins et al. 2016" if cut > 300 else "Opar et al. 2015"
        rules.append(Rule(f"nordic_below_{cut:g}n", "nordic_force_n", float(cut), -1, True, source))
    rules.append(
        Rule(
            f"no_near_max_speed_{near_max_speed_days}d",
            "days_since_near_max_speed",
            float(near_max_speed_days),
            1,
            True,
            "Malone et al. 2017",
        )
    )
    rules.append(
        Rule("previous_hamstring_injury", "previous_hamstring_injury", 1.0, 1, False, "Green et al. 2020")
    )
    return rules


def _ranked(score: np.ndarray, seed: int) -> np.ndarray:
    """Row order by ``score`` descending, ties in a random order drawn with ``seed``."""
    tie = np.random.default_rng(seed).random(len(score))
    return np.lexsort((tie, -np.asarray(score, dtype=float)))


def flag_count(share: float, n: int) -> int:
    """``k = ceil(share * n)``: how many of ``n`` athletes a week's top ``share`` flags (at least one
    of any squad, so one of a squad of 1 to ``1 / share``)."""
    if not 0 < share < 1:
        raise ValueError(f"the flagged share must lie strictly between 0 and 1, got {share}")
    return int(np.ceil(share * n - 1e-9))


def policy_label(share: float) -> str:
    """The evaluation's name of the weekly top-``share`` policy (``model.flag_policy`` in the metrics)."""
    return f"top {share:g} of the squad per week"


def top_share_flags(score: np.ndarray, week: np.ndarray, share: float, seed: int) -> np.ndarray:
    """Flag ``ceil(share * n_w)`` highest-scoring rows of each week ``w`` (ties at random, ``seed``)."""
    flag_count(share, 0)
    score = np.where(np.isnan(np.asarray(score, dtype=float)), -np.inf, score)
    flags = np.zeros(len(score), dtype=bool)
    for _, rows in pd.Series(np.arange(len(score))).groupby(np.asarray(week)):
        idx = rows.to_numpy()
        flags[idx[_ranked(score[idx], seed)[: flag_count(share, idx.size)]]] = True
    return flags


@dataclass(frozen=True)
class FlagPolicy:
    """The hamstring flag staff see, the one definition every consumer uses.

    With ``share`` (``params.yaml`` ``train.hamstring.flag_top_share``) the flag is the decision
    policy the evaluation measures: the ``ceil(share * n)`` highest risks of the week's ``n``
    athletes with a risk (:func:`top_share_flags`, ties at random with ``seed``, the split seed the
    evaluation ranks with). Without it (``null``), a risk of ``threshold``
    (``train.hamstring.flag_threshold``) or more. An athlete without a risk (insufficient data) is
    never flagged and does not count in ``n``."""

    threshold: float
    share: float | None
    seed: int

    def flags(self, risk: np.ndarray, eligible: np.ndarray) -> np.ndarray:
        """One week's flags: ``risk`` of the scored squad, ``eligible`` False for insufficient data."""
        risk = np.asarray(risk, dtype=float)
        ranked = np.asarray(eligible, dtype=bool) & np.isfinite(risk)
        out = np.zeros(risk.size, dtype=bool)
        if self.share is None:
            out[ranked] = risk[ranked] >= self.threshold
        elif ranked.any():
            out[ranked] = top_share_flags(risk[ranked], np.zeros(int(ranked.sum())), self.share, self.seed)
        return out

    def describe(self, n: int) -> str:
        """The rule in a few words for a week of ``n`` athletes with a risk."""
        if self.share is None:
            return f"hamstring risk {self.threshold:.0%} or more"
        top = f"the squad's top {self.share:.0%}"
        if n == 0:
            return f"{top} of hamstring risks; nobody has one this week"
        k = flag_count(self.share, n)
        highest = "the highest" if k == 1 else f"the {k} highest"
        return f"{highest} of {n} hamstring risks: {top}, at least one athlete"


def top_k_flags(score: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Flag the ``k`` highest-scoring rows overall (ties at random, ``seed``)."""
    flags = np.zeros(len(score), dtype=bool)
    flags[_ranked(np.where(np.isnan(score), -np.inf, score), seed)[:k]] = True
    return flags


def training_threshold(p_train: np.ndarray, share: float) -> float:
    """The risk above which ``share`` of the training athlete-weeks lie: their ``1 - share`` quantile."""
    return float(np.quantile(np.asarray(p_train, dtype=float), 1 - share))


def injury_ids(
    athlete: np.ndarray, week_end: np.ndarray, y: np.ndarray, onset: np.ndarray | None
) -> np.ndarray:
    """One id per injury onset for each positive athlete-week (-1 for negative weeks).

    With the onset dates (``onset``, the targets stage's ``hamstring_onset_date``) an injury is an
    (athlete, onset date) pair. Without them, consecutive positive weeks of an athlete (7 days apart)
    are taken as one injury - exact unless two onsets fall within one horizon."""
    y = np.asarray(y).astype(bool)
    frame = pd.DataFrame({"a": np.asarray(athlete), "w": pd.to_datetime(week_end), "y": y})
    if onset is not None:
        frame["key"] = pd.to_datetime(onset)
        ids = frame.groupby(["a", "key"], sort=True).ngroup().to_numpy()
        return np.where(y & frame["key"].notna().to_numpy(), ids, -1)
    pos = frame[frame["y"]].sort_values(["a", "w"])
    new = (pos["a"] != pos["a"].shift()) | (pos["w"] - pos["w"].shift() != pd.Timedelta(days=7))
    out = np.full(len(frame), -1)
    out[pos.index.to_numpy()] = np.cumsum(new.to_numpy()) - 1
    return out


def flag_figures(y: np.ndarray, flags: np.ndarray, injury: np.ndarray, week: np.ndarray) -> dict[str, Any]:
    """Flag rate, flags per week, sensitivity and precision (positive weeks) and injuries caught."""
    y = np.asarray(y).astype(bool)
    flags = np.asarray(flags, dtype=bool)
    tp = int((flags & y).sum())
    onsets = np.unique(injury[injury >= 0])
    caught = np.unique(injury[flags & (injury >= 0)])
    return {
        "flag_rate": float(flags.mean()) if flags.size else float("nan"),
        "flags_per_week": float(flags.sum() / max(np.unique(week).size, 1)),
        "sensitivity": float(tp / y.sum()) if y.any() else float("nan"),
        "precision": float(tp / flags.sum()) if flags.any() else float("nan"),
        "injuries_caught": int(caught.size),
        "injury_sensitivity": float(caught.size / onsets.size) if onsets.size else float("nan"),
    }


def net_benefit(y: np.ndarray, p: np.ndarray, thresholds: Sequence[float]) -> list[dict[str, float]]:
    """``NB(p_t) = TP/n - FP/n * p_t/(1 - p_t)`` of flagging ``p >= p_t``, beside flagging everyone."""
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    n = max(y.size, 1)
    out = []
    for pt in thresholds:
        odds = pt / (1 - pt)
        flag = p >= pt
        nb = ((flag & y).sum() - (flag & ~y).sum() * odds) / n
        out.append(
            {
                "threshold": float(pt),
                "net_benefit": float(nb),
                "flag_all": float((y.sum() - (~y).sum() * odds) / n),
                "flag_rate": float(flag.mean()) if y.size else float("nan"),
            }
        )
    return out


def skill_of_brier(brier: float, reference_brier: float) -> float:
    """Brier skill from two Brier scores, ``1 - brier / reference_brier`` (NaN when the reference is
    0 or either is not finite); with the prevalence baseline's Brier as the reference this is
    :func:`brier_skill`."""
    if not (np.isfinite(brier) and np.isfinite(reference_brier)) or reference_brier == 0:
        return float("nan")
    return float(1 - brier / reference_brier)


def brier_skill(y: np.ndarray, p: np.ndarray, prevalence: float | np.ndarray) -> float:
    """``1 - mean((y - p)^2) / mean((y - prevalence)^2)`` (0: no better than the prevalence).

    ``prevalence`` is one rate, or one per row (predictions pooled over several training sets, each
    row against the prevalence of the training set that predicted it)."""
    y = np.asarray(y, dtype=float)
    ref = float(np.mean((y - np.asarray(prevalence, dtype=float)) ** 2))
    return float(1 - np.mean((y - np.asarray(p, dtype=float)) ** 2) / ref) if ref > 0 else float("nan")


@dataclass(frozen=True)
class HeldOut:
    """The test athlete-weeks a policy is judged on: labels, weeks and injury ids."""

    y: np.ndarray
    week: np.ndarray
    injury: np.ndarray
    seed: int

    @classmethod
    def of(cls, test: pd.DataFrame, seed: int) -> HeldOut:
        """From test units (``athlete_id``, ``unit_date``, ``y`` and, when present, the onset date)."""
        onset = test[ONSET_COLUMN].to_numpy() if ONSET_COLUMN in test else None
        y = test["y"].to_numpy()
        week = pd.to_datetime(test["unit_date"]).to_numpy()
        return cls(y, week, injury_ids(test["athlete_id"].to_numpy(), week, y, onset), seed)

    def figures(self, flags: np.ndarray) -> dict[str, Any]:
        return flag_figures(self.y, flags, self.injury, self.week)

    def at_share(self, score: np.ndarray, share: float) -> dict[str, Any]:
        return self.figures(top_share_flags(score, self.week, share, self.seed))


def rule_entry(
    rule: Rule, test: pd.DataFrame, p_model: np.ndarray, share: float, held: HeldOut
) -> dict[str, Any]:
    """A rule ranked by its quantity at the model's share (the top level), at its own cut-off
    (``at_cutoff``) and the model flagging as many athlete-weeks as the rule does there
    (``model_at_cutoff_rate``: the pooled top ``k`` of the test athlete-weeks)."""
    own = rule.flags(test)
    return {
        **held.at_share(rule.risk(test), share),
        "rule": f"{rule.column} {'<' if rule.sign < 0 else '>'}{'' if rule.strict else '='} {rule.cutoff:g}",
        "source": rule.source,
        "at_cutoff": held.figures(own),
        "model_at_cutoff_rate": held.figures(top_k_flags(p_model, int(own.sum()), held.seed)),
    }


def decision_metrics(
    test: pd.DataFrame,
    p_model: np.ndarray,
    p_baselines: dict[str, np.ndarray],
    p_train: np.ndarray,
    *,
    share: float,
    rules: Sequence[Rule],
    thresholds: Sequence[float],
    prevalence: float,
    seed: int,
) -> dict[str, Any]:
    """The flag policy's figures for the model, each fitted baseline and each rule, with net benefit
    and Brier skill (module docstring). ``p_train``: the model's risks of the training athlete-weeks,
    which fix the ``threshold_policy`` (the training risk above which ``share`` of weeks lie)."""
    held = HeldOut.of(test, seed)
    cut = training_threshold(p_train, share)
    p_all = {"model": p_model, **p_baselines}
    return {
        "model": {**held.at_share(p_model, share), "flag_policy": policy_label(share)},
        "baselines": {name: held.at_share(p, share) for name, p in p_baselines.items()},
        "rules": {rule.name: rule_entry(rule, test, p_model, share, held) for rule in rules},
        "threshold_policy": {"threshold": cut, "target_flag_rate": share, **held.figures(p_model >= cut)},
        "n_test_injuries": int(np.unique(held.injury[held.injury >= 0]).size),
        "n_test_positive_weeks": int(np.asarray(held.y).sum()),
        "net_benefit": {name: net_benefit(held.y, p, thresholds) for name, p in p_all.items()},
        "brier_skill": {name: brier_skill(held.y, p, prevalence) for name, p in p_all.items()},
    }
