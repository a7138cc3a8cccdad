"""The hamstring flag policy (issue #24) per split seed, for ``bench_models.py``: the model, the
simulator's oracles and each rule at the weekly top ``flag_top_share``, and every rule at its own
cut-off beside the model and the oracles flagging as many athlete-weeks; whether the issue's goal
holds for the model and for the oracle; the figures pooled over the split seeds.

Issue #24's goal, as checked here for a scorer ``s`` (the model, or an oracle in its place):
``sensitivity(s) >= max over ranked rules of sensitivity(rule)`` and ``> 0`` at the weekly top share
(sensitivity over positive athlete-weeks, as ``hamstring.json``), and at each rule's own cut-off
``injuries_caught(s at that flag rate) >= injuries_caught(rule)``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from _squad import fmt

#: the flag figures kept from a metrics entry (the AUC and calibration figures stay in ``model``)
FIGURES = ("flag_rate", "flags_per_week", "sensitivity", "precision", "injuries_caught", "injury_sensitivity")
#: the scorers held to the goal: the model and the two simulator oracles (docs/models.md)
SCORERS = ("model", "oracle", "oracle_realised_path")
_ORACLE_COLUMNS = {"oracle": "p_true", "oracle_realised_path": "p_true_realised"}


def _keep(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in FIGURES if k in entry}


def seed_flags(params: Any, target: str, res: Any, units: pd.DataFrame, seed: int) -> dict[str, Any] | None:
    """The flag figures of one split seed, computed by the pipeline's own ``add_flag_policy`` (ties
    ranked with ``seed``, as the pipeline does with ``split.seed``), plus each oracle flagging as many
    test athlete-weeks as each rule at its own cut-off. None without ``flag_top_share``."""
    from sprintlab.models.flag_policy import HeldOut, hamstring_rules, top_k_flags
    from sprintlab.pipeline.train import add_flag_policy

    if getattr(params.train, target).flag_top_share is None:
        return None
    seeded = params.model_copy(update={"split": params.split.model_copy(update={"seed": seed})})
    add_flag_policy(seeded, target, res, units)
    m = res.metrics
    test = units[units["label_complete"]].reset_index(drop=True).iloc[res.split.test]
    held = HeldOut.of(test, seed)
    ev = params.evaluate
    rules: dict[str, Any] = {}
    for rule in hamstring_rules(ev.acwr_threshold, ev.nordic_cutoffs_n, ev.near_max_speed_days):
        r = m["rule_baselines"][rule.name]
        k = int(rule.flags(test).sum())
        entry = {"rule": r["rule"], "ranked": _keep(r), "at_cutoff": _keep(r["at_cutoff"])}
        entry["model"] = _keep(r["model_at_cutoff_rate"])
        for name, column in _ORACLE_COLUMNS.items():
            if column in test and test[column].notna().all():
                entry[name] = held.figures(top_k_flags(test[column].to_numpy(dtype=float), k, seed))
        rules[rule.name] = entry
    out = {
        "n_test_injuries": m["n_test_injuries"],
        "n_test_positive_weeks": m["n_test_positive_weeks"],
        "at_share": {s: _keep(m[s]) for s in SCORERS if s in m and "injuries_caught" in m[s]},
        "baselines": {name: _keep(b) for name, b in m["baselines"].items() if "injuries_caught" in b},
        "rules": rules,
    }
    out["goal"] = {s: goal(out, s) for s in out["at_share"]}
    return out


def goal(flags: dict[str, Any], scorer: str) -> dict[str, Any]:
    """Issue #24's goal for ``scorer`` on one split (module docstring), with its margins: weekly
    sensitivity minus the best ranked rule's, and the smallest injuries-caught margin over the
    rules' own cut-offs."""
    sens = flags["at_share"][scorer]["sensitivity"]
    best = max(flags["rules"], key=lambda n: flags["rules"][n]["ranked"]["sensitivity"])
    best_sens = flags["rules"][best]["ranked"]["sensitivity"]
    margins = {
        n: r[scorer]["injuries_caught"] - r["at_cutoff"]["injuries_caught"]
        for n, r in flags["rules"].items()
        if scorer in r
    }
    share_ok = bool(sens >= best_sens and sens > 0)
    cutoff_ok = bool(all(v >= 0 for v in margins.values()))
    return {
        "best_rule": best,
        "sensitivity_minus_best_rule": sens - best_sens,
        "at_share": share_ok,
        "cutoff_injury_margins": margins,
        "at_cutoffs": cutoff_ok,
        "met": share_ok and cutoff_ok,
    }


def _caught(f: dict[str, Any]) -> str:
    return f"{fmt(f['sensitivity'])} ({f['injuries_caught']})"


def _yes_no(g: dict[str, Any]) -> str:
    return ", ".join("yes" if g[part] else "no" for part in ("at_share", "at_cutoffs"))


def share_table(rows: list[dict[str, Any]], share: float) -> str:
    """Per split seed, at the weekly top ``share``: sensitivity (weeks) and injuries caught of the
    model, the oracles and each rule ranked by its quantity, the best rule, and whether the goal
    holds for the model and for the oracle."""
    runs = [(r["seed"], r["flags"]) for r in rows if r.get("flags")]
    names = list(runs[0][1]["rules"])
    head = ["split seed", "test injuries (pos. weeks)", *SCORERS, "random (prevalence)"]
    head += [f"ranked: {n}" for n in names]
    head += ["best ranked rule", *(f"goal ({s}): top share, cut-offs" for s in SCORERS)]
    lines = [
        f"\nhamstring flags at the weekly top {share:.0%}: sensitivity (weeks) (injuries caught)\n",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for seed, f in runs:
        best = f["goal"]["model"]["best_rule"]
        cells = [str(seed), f"{f['n_test_injuries']} ({f['n_test_positive_weeks']})"]
        cells += [_caught(f["at_share"][s]) if s in f["at_share"] else "-" for s in SCORERS]
        cells.append(_caught(f["baselines"]["prevalence"]) if "prevalence" in f["baselines"] else "-")
        cells += [_caught(f["rules"][n]["ranked"]) for n in names]
        cells.append(f"{best}: {_caught(f['rules'][best]['ranked'])}")
        cells += [_yes_no(f["goal"][s]) if s in f["goal"] else "-" for s in SCORERS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def cutoff_table(rows: list[dict[str, Any]]) -> str:
    """Per split seed and rule at its own cut-off: flag rate and injuries caught by the rule, by the
    model and by each oracle flagging as many test athlete-weeks."""
    head = ["split seed", "rule at its own cut-off", "flag rate", "rule", *SCORERS]
    lines = [
        "\ninjuries caught at each rule's own cut-off (the others flag as many athlete-weeks)\n",
        "| " + " | ".join(head) + " |",
        "|" + "---|" * len(head),
    ]
    for r in rows:
        f = r.get("flags")
        for rule in (f or {}).get("rules", {}).values():
            cells = [str(r["seed"]), rule["rule"], f"{rule['at_cutoff']['flag_rate']:.1%}"]
            cells += [str(rule[s]["injuries_caught"]) if s in rule else "-" for s in ("at_cutoff", *SCORERS)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def pooled(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Injuries caught and positive weeks flagged summed over the split seeds (the test sets of
    different seeds overlap, so this smooths the tie-breaking and split noise, not the squad's):
    at the weekly top share per scorer and ranked rule, and at each rule's own cut-off."""
    runs = [r["flags"] for r in rows if r.get("flags")]
    n_inj = sum(f["n_test_injuries"] for f in runs)
    n_pos = sum(f["n_test_positive_weeks"] for f in runs)

    def total(get) -> dict[str, Any]:
        figs = [get(f) for f in runs]
        caught = sum(g["injuries_caught"] for g in figs)
        weeks = sum(g["sensitivity"] * f["n_test_positive_weeks"] for g, f in zip(figs, runs, strict=True))
        return {"injuries_caught": caught, "injury_sensitivity": caught / n_inj, "sensitivity": weeks / n_pos}

    share = {s: total(lambda f, s=s: f["at_share"][s]) for s in runs[0]["at_share"]}
    for n in runs[0]["rules"]:
        share[f"ranked: {n}"] = total(lambda f, n=n: f["rules"][n]["ranked"])
    cutoff = {
        n: {
            who: total(lambda f, n=n, who=who: f["rules"][n][who])["injuries_caught"]
            for who in ("at_cutoff", *SCORERS)
            if who in runs[0]["rules"][n]
        }
        for n in runs[0]["rules"]
    }
    parts = ("met", "at_share", "at_cutoffs")
    met = {s: {k: sum(f["goal"][s][k] for f in runs) for k in parts} for s in runs[0]["goal"]}
    return {
        "n_seeds": len(runs),
        "n_test_injuries": n_inj,
        "n_test_positive_weeks": n_pos,
        "at_share": share,
        "at_cutoff": cutoff,
        "seeds_goal_met": met,
    }


def pooled_table(p: dict[str, Any]) -> str:
    """:func:`pooled` as two small tables."""
    lines = [
        f"\npooled over {p['n_seeds']} split seeds: {p['n_test_injuries']} test injuries, "
        f"{p['n_test_positive_weeks']} positive weeks; seeds where the goal holds (all / at the top "
        "share / at every cut-off): "
        + "; ".join(
            f"{s} {v['met']} / {v['at_share']} / {v['at_cutoffs']} of {p['n_seeds']}"
            for s, v in p["seeds_goal_met"].items()
        ),
        "\n| at the weekly top share | sensitivity (weeks) | injuries caught | injury sensitivity |",
        "|---|---|---|---|",
    ]
    for name, t in p["at_share"].items():
        lines.append(
            f"| {name} | {fmt(t['sensitivity'])} | {t['injuries_caught']} | {fmt(t['injury_sensitivity'])} |"
        )
    whos = list(next(iter(p["at_cutoff"].values())))
    lines += ["\n| rule at its own cut-off | " + " | ".join(whos) + " |", "|---|" + "---|" * len(whos)]
    for name, c in p["at_cutoff"].items():
        lines.append(f"| {name} | " + " | ".join(str(c[w]) for w in whos) + " |")
    return "\n".join(lines)


def differences(rows: list[dict[str, Any]], figure: str = "sensitivity") -> dict[str, list[float]]:
    """Per split seed, ``figure`` at the weekly top share (``sensitivity``: weeks;
    ``injury_sensitivity``: injuries) of the model and each oracle minus the best ranked rule (best
    by that figure), and of the model minus each ranked rule."""
    out: dict[str, list[float]] = {}
    for r in rows:
        f = r.get("flags")
        if not f:
            continue
        sens = {s: v[figure] for s, v in f["at_share"].items()}
        ranked = {n: v["ranked"][figure] for n, v in f["rules"].items()}
        best = max(ranked.values())
        pairs = {f"{s} - best rule": sens[s] - best for s in sens}
        pairs.update({f"model - {n}": sens["model"] - v for n, v in ranked.items()})
        for k, v in pairs.items():
            out.setdefault(k, []).append(float(v))
    return out


def differences_table(diffs: dict[str, list[float]], label: str) -> str:
    """Mean, SD, min and max of :func:`differences` (one value per split seed, or per squad x seed)."""
    lines = [
        f"\nweekly top-share differences ({label})\n",
        "| difference | n | mean | SD | min | max |",
        "|---|---|---|---|---|---|",
    ]
    for k, v in diffs.items():
        sd = float(np.std(v, ddof=1)) if len(v) > 1 else float("nan")
        lines.append(f"| {k} | {len(v)} | {fmt(np.mean(v))} | {fmt(sd)} | {fmt(min(v))} | {fmt(max(v))} |")
    return "\n".join(lines)
