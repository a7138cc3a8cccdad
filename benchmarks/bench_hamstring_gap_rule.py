"""Does the observed strength-control gap tell whom "better control" helps more than "better sleep"?

    PYTHONPATH=src .venv/bin/python benchmarks/bench_hamstring_gap_rule.py [--seed S]

A diagnosis for issue #24's lever goal, not a chooser to ship: on the hamstring lever benchmark's
athletes, rows and truth (``bench_levers.py``: the latest complete week of each test athlete,
effort-equivalent steps, the generator's hazard run with each bundle's latent change), it scores
the two-bundle rules "better control where the athlete's observed ``strength_control_gap`` (or its
squat and control parts) is in the top ``1 - q`` of the test athletes, else better sleep" for q on a
grid, beside "always better sleep" (the best constant) and the shipped model. The best q is chosen
**with the truth** (in hindsight), so its regret is what the observed gap could give at most with
this form of rule, not an honest estimate. It also scales the deployed model's and its bootstrap
members' gap coefficient by ``--gap-factors`` to see whether a larger learned gap effect would
choose better (the model's own choice, only that coefficient changed). No timing figures.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

import bench_levers as bl
from sprintlab.config import load_params
from sprintlab.domain import HAMSTRING
from sprintlab.lever_choice import always, choice_scores, threshold_rule
from sprintlab.levers import catalogue_levers, effort_equivalent_levers

#: observed feature -> whether a *high* value points at "better control"
RULE_FEATURES = {"strength_control_gap": True, "strength_change_8w_pct": True, "control_change_8w": False}
QUANTILES = np.round(np.linspace(0.50, 0.98, 25), 2)


def rule_scores(truth: pd.DataFrame, values: pd.Series, high_means_control: bool) -> list[dict]:
    """Regret and top agreement of the rule at each quantile of ``values`` (over the test athletes)."""
    out = []
    for q in QUANTILES:
        v = values if high_means_control else -values
        cut = float(v.quantile(q))
        # threshold_rule: "below" where value < cut; control goes to the values above the cut
        chosen = threshold_rule(v, cut, "better_sleep", "better_control")
        out.append({"quantile": float(q), **choice_scores(truth, chosen)})
    return out


def scaled_gap_choices(squad: bl.TrainedSquad, levers: list, factors: list[float]) -> dict[str, dict]:
    """The model's own bundle choice with its (and its members') gap coefficient times each factor."""
    models = [squad.models["hamstring"], *squad.boosters["hamstring"]]
    original = [m.pipeline_[-1].coef_.copy() for m in models]
    out = {}
    try:
        for f in factors:
            for m, coef in zip(models, original, strict=True):
                scaled = coef.copy()
                scaled[0, list(m.used_features_).index("strength_control_gap")] *= f
                m.pipeline_[-1].coef_ = scaled
            res = bl.hamstring_check(squad, levers)
            out[str(f)] = {**res["model"], "chosen": res["bundles"]["modelled_top_counts"]}
    finally:
        for m, coef in zip(models, original, strict=True):
            m.pipeline_[-1].coef_ = coef
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p = load_params("params.yaml")
    ap.add_argument("--seed", type=int, default=p.simulate.seed)
    ap.add_argument("--gap-factors", type=float, nargs="+", default=[1, 2, 3, 5, 8])
    a = ap.parse_args()
    squad = bl.train_squad(p, p.simulate.athletes, p.simulate.weeks, a.seed, p.train.lever_members)
    catalogue = catalogue_levers()
    levers = effort_equivalent_levers(catalogue, bl._steps(squad, catalogue)["hamstring"])
    _, bundles, _ = bl._lever_groups(levers)
    rows, true_effects, _ = bl.hamstring_truth(squad, levers)
    truth = float(HAMSTRING.benefit_sign) * true_effects[bundles]
    rows = rows.set_index("athlete_id").reindex(truth.index)
    sleep = choice_scores(truth, always("better_sleep", truth.index))
    print(f"squad seed {a.seed}, {len(truth)} test athletes")
    print(f"always better sleep: regret {sleep['mean_regret']:.4f}, top {sleep['top_agreement']:.2f}")
    for feature, high in RULE_FEATURES.items():
        scores = rule_scores(truth, rows[feature].astype(float), high)
        best = min(scores, key=lambda s: s["mean_regret"])
        print(
            f"control where {feature} is in the top {1 - best['quantile']:.2f} (best q in hindsight "
            f"{best['quantile']:.2f}): regret {best['mean_regret']:.4f}, top {best['top_agreement']:.2f}"
        )
    for f, res in scaled_gap_choices(squad, levers, a.gap_factors).items():
        print(
            f"model, gap coefficient x {f}: regret {res['mean_regret']:.4f}, top {res['top_agreement']:.2f}, "
            f"chosen {res['chosen']}"
        )


if __name__ == "__main__":
    main()
