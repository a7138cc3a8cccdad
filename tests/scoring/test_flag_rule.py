"""The hamstring flag staff see is the policy the evaluation measures (models/flag_policy.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.config import load_params
from sprintlab.models.flag_policy import FlagPolicy, top_share_flags
from sprintlab.scoring import ScoredWeek, hamstring_flag_policy, mark_insufficient, with_flags

ROOT = Path(__file__).resolve().parents[2]
SHARE = FlagPolicy(threshold=0.1, share=0.10, seed=7)


def _squad(risk, thin=None) -> pd.DataFrame:
    risk = np.asarray(risk, dtype=float)
    thin = np.zeros(risk.size, dtype=bool) if thin is None else np.asarray(thin, dtype=bool)
    return pd.DataFrame(
        {
            "athlete_id": [f"A{i:02d}" for i in range(risk.size)],
            "hamstring_risk": np.where(thin, np.nan, risk),
            "hamstring_flag": False,
            "insufficient_data": thin,
        }
    )


def _flagged(squad: pd.DataFrame) -> set[str]:
    return set(squad.loc[squad["hamstring_flag"], "athlete_id"])


def test_params_yaml_flag_is_the_evaluated_top_share_with_the_split_seed():
    params = load_params(ROOT / "params.yaml")
    policy = hamstring_flag_policy(params)
    assert policy.share == params.train.hamstring.flag_top_share == 0.10
    assert policy.seed == params.split.seed  # the seed pipeline/train.py ranks the evaluation with


def test_a_week_of_20_athletes_flags_exactly_the_2_highest():
    risk = np.linspace(0.01, 0.20, 20)[np.random.default_rng(3).permutation(20)]
    out = with_flags(_squad(risk), SHARE)
    assert out["hamstring_flag"].sum() == 2
    assert _flagged(out) == set(out.nlargest(2, "hamstring_risk")["athlete_id"])
    # a risk far below the old threshold is still flagged when it ranks in the top share
    low = with_flags(_squad(risk / 100), SHARE)
    assert _flagged(low) == _flagged(out)


def test_ties_are_broken_deterministically_by_the_seed():
    tied = _squad(np.full(20, 0.05))
    a, b = with_flags(tied, SHARE), with_flags(tied, SHARE)
    assert a["hamstring_flag"].sum() == 2 and _flagged(a) == _flagged(b)
    others = {frozenset(_flagged(with_flags(tied, FlagPolicy(0.1, 0.10, s)))) for s in range(20)}
    assert len(others) > 1  # the seed, not the athlete order, picks among equal risks


def test_insufficient_data_is_never_flagged_and_does_not_count():
    risk = np.linspace(0.01, 0.20, 20)
    thin = np.zeros(20, dtype=bool)
    thin[[18, 19]] = True  # the two highest risks: insufficient data
    out = with_flags(_squad(risk, thin), SHARE)
    assert _flagged(out) == {"A16", "A17"}  # ceil(0.1 * 18) = 2 of the 18 with a risk
    eleven = np.zeros(11, dtype=bool)
    eleven[0] = True  # 10 left with a risk: ceil(0.1 * 10) = 1, not ceil(0.1 * 11) = 2
    assert with_flags(_squad(np.linspace(0.1, 0.2, 11), eleven), SHARE)["hamstring_flag"].sum() == 1


def test_tiny_squads_flag_one_athlete():
    for n in (1, 2, 7, 10):
        assert with_flags(_squad(np.linspace(0.01, 0.02, n)), SHARE)["hamstring_flag"].sum() == 1
    assert with_flags(_squad(np.linspace(0.01, 0.02, 11)), SHARE)["hamstring_flag"].sum() == 2
    assert not with_flags(_squad([0.3, 0.4], [True, True]), SHARE)["hamstring_flag"].any()


def test_threshold_mode_when_the_share_is_null():
    policy = FlagPolicy(threshold=0.1, share=None, seed=7)
    out = with_flags(_squad([0.05, 0.1, 0.3, 0.5], [False, False, False, True]), policy)
    assert out["hamstring_flag"].tolist() == [False, True, True, False]


def test_scoring_flags_equal_flag_policy_flags_on_the_same_risks():
    """Week by week, the scores' flag is the evaluation's ``top_share_flags`` on the same risks."""
    rng = np.random.default_rng(11)
    risk = np.round(rng.beta(1, 12, 300), 2)  # rounded: ties
    week = np.repeat(np.arange(12), 25)
    evaluated = top_share_flags(risk, week, 0.10, 7)
    scored = np.concatenate([with_flags(_squad(risk[week == w]), SHARE)["hamstring_flag"] for w in range(12)])
    np.testing.assert_array_equal(scored, evaluated)


def test_marking_an_athlete_insufficient_draws_the_flags_again():
    empty = pd.DataFrame({"athlete_id": pd.Series(dtype=str)})
    squad = with_flags(_squad(np.linspace(0.01, 0.20, 20)), SHARE).assign(
        transfer_probability=np.nan,
        dominant_family_hamstring=None,
        dominant_family_transfer=None,
        insufficient_reason=pd.Series(pd.NA, index=range(20), dtype="string"),
    )
    assert _flagged(squad) == {"A18", "A19"}
    out = mark_insufficient(ScoredWeek(squad, empty, empty, empty), {"A19"}, "test", SHARE)
    assert _flagged(out.squad) == {"A17", "A18"}
