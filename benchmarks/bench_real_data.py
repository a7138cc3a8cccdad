"""Hamstring-style evaluation on real public data (Jovanovic sample, SoccerMon subjective).

    .venv/bin/python benchmarks/bench_real_data.py [--json PATH] [--bootstrap 1000] [--week-shifts]
        [--protocol all|published|rolling] [--leakage-audit]

Reads ../shared/datasets (never copied into the repo), maps it into the data contract with the
vendor mappings (``src/sprintlab/contract/mappings/``) through ``benchmarks/realdata.py``, builds the
panel and athlete-week units, and scores the model - the shipped hamstring family
(``train.hamstring.model_family`` of params.yaml, since issue #24 the logistic regression with its
``C`` chosen by grouped CV) with the ``train.hamstring`` settings and the real-data feature list -
beside the calibrated LightGBM (``lightgbm``, the model before issue #24, fitted as it was) and the
prevalence and ACWR-threshold baselines. Prints the results tables of
reports/benchmarks/real-data.md (the report's text is written by hand).
``--week-shifts`` also re-runs the two Jovanovic protocols with the placeholder calendar moved by
0-6 days (every possible alignment of the Monday-Sunday weeks; point AUCs only).
``--protocol rolling`` runs only the rolling-origin protocol (origins every 8 weeks, train on all
athletes' labelled history, predict the next 8 weeks; model beside LightGBM and the prevalence,
ACWR, logistic (C = 1) and athlete-identity baselines), ``published`` only the three earlier
protocols, ``all`` (default)
both; ``--json`` holds every protocol run. ``--leakage-audit`` adds to each rolling run its purge check,
the features rebuilt from the data as of every origin, and the test onsets of athletes with an
earlier training event (reports/benchmarks/real-data.md, leakage audit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def main(argv: list[str] | None = None) -> list[dict]:
    from sprintlab.config import load_params

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bootstrap", type=int, default=1000)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--week-shifts", action="store_true")
    ap.add_argument("--protocol", choices=("all", "published", "rolling"), default="all")
    ap.add_argument("--leakage-audit", action="store_true")
    a = ap.parse_args(argv)
    params = load_params(ROOT / "params.yaml")
    mp = params.train.hamstring.estimator_kwargs()
    family = params.train.hamstring.model_family
    results: list[dict] = []
    if a.protocol != "rolling":
        kw = dict(
            model_family=family,
            model_params=mp,
            flag_threshold=params.train.hamstring.flag_threshold,
            acwr_threshold=params.evaluate.acwr_threshold,
            n_boot=a.bootstrap,
            seed=0,
        )
        results += published_results(kw, a.week_shifts)
        print(table(results))
    if a.protocol != "published":
        rkw = dict(
            model_family=family,
            model_params=mp,
            acwr_threshold=params.evaluate.acwr_threshold,
            n_boot=a.bootstrap,
            seed=params.split.seed,
            min_train_units=params.train.min_units.training,
        )
        rolling = rolling_results(rkw, a.leakage_audit)
        print(rolling_table(rolling))
        results += rolling
    _write_json(a.json, results)
    return results


def published_results(kw: dict, week_shifts: bool = False) -> list[dict]:
    """Protocols 1-3: the Jovanovic source split and leave-one-athlete-out over later time, and the
    SoccerMon athlete groups over later time (thigh, any injury)."""
    from realdata import (
        JOVANOVIC_CSV,
        SOCCERMON_DIR,
        evaluate_folds,
        grouped_time_folds,
        load_jovanovic,
        load_soccermon,
        loao_time_folds,
        real_units,
        source_split_folds,
    )

    results = []
    if JOVANOVIC_CSV.exists():
        tables, split = load_jovanovic()
        u = real_units(tables, "hamstring")
        test_ath = list(split[split == "Test"].index)
        results.append(
            evaluate_folds(
                u,
                source_split_folds(u, test_ath),
                protocol=(
                    f"Jovanovic: source athlete split (train {sorted(set(split.index) - set(test_ath))}, test {test_ath}, all weeks)"
                ),
                **kw,
            ).metrics
        )
        results.append(
            evaluate_folds(
                u,
                loao_time_folds(u, 0.5, 28),
                protocol=(
                    "Jovanovic: leave-one-athlete-out over later time (test = held-out athlete's later 50 % of weeks)"
                ),
                **kw,
            ).metrics
        )
        if week_shifts:
            print(week_shift_table(tables, test_ath, {**kw, "n_boot": 0}))
    else:
        print(f"skipped Jovanovic: {JOVANOVIC_CSV} not found")
    if SOCCERMON_DIR.exists():
        tables = load_soccermon()
        for label in ("thigh", "any"):
            u = real_units(tables, label)
            results.append(
                evaluate_folds(
                    u,
                    grouped_time_folds(u, 5, 0.5, 28, seed=0),
                    protocol=(
                        f"SoccerMon, label {label} injury in 28 d: 5 athlete groups x later time (test = held-out group's later 50 %)"
                    ),
                    **kw,
                ).metrics
            )
    else:
        print(f"skipped SoccerMon: {SOCCERMON_DIR} not found")
    return results


def _write_json(path: Path | None, results: list[dict]) -> None:
    if path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(results, indent=2, default=float), encoding="utf-8")


def rolling_results(kw: dict, audit: bool = False) -> list[dict]:
    """The rolling-origin protocol on Jovanovic (hamstring) and SoccerMon (thigh, any injury); with
    ``audit`` each result also carries its ``leakage_audit`` (:func:`leakage_audit`)."""
    from realdata import (
        JOVANOVIC_CSV,
        SOCCERMON_DIR,
        evaluate_rolling,
        load_jovanovic,
        load_soccermon,
        real_units,
    )

    runs = []
    if JOVANOVIC_CSV.exists():
        runs.append(("Jovanovic, hamstring", load_jovanovic()[0], "hamstring"))
    else:
        print(f"skipped Jovanovic (rolling): {JOVANOVIC_CSV} not found")
    if SOCCERMON_DIR.exists():
        tables = load_soccermon()
        runs += [(f"SoccerMon, {label} injury", tables, label) for label in ("thigh", "any")]
    else:
        print(f"skipped SoccerMon (rolling): {SOCCERMON_DIR} not found")
    what = "origins every 8 weeks, train on all athletes' weeks ending >= 28 d before the origin, test the next 8 weeks"
    out = []
    for name, tables, label in runs:
        u = real_units(tables, label)
        m = evaluate_rolling(u, protocol=f"{name}: {what}", **kw).metrics
        if audit:
            m["leakage_audit"] = leakage_audit(tables, u, kw["min_train_units"])
            print(f"leakage audit, {name}: {m['leakage_audit']}")
        out.append(m)
    return out


def leakage_audit(tables: dict, units, min_train_units: int) -> dict:
    """Purge violations of the rolling split, features rebuilt from the data as of every origin
    against the full-data features (differing cells = a feature looking ahead), and how many test
    onsets the athlete-identity baseline could anticipate from the athlete's own training events."""
    from realdata import future_feature_cells, purge_violations, repeat_onsets, rolling_origin_folds

    folds = rolling_origin_folds(units, min_train_units=min_train_units)
    return {
        "purge_violations": purge_violations(units, folds),
        **future_feature_cells(tables, [origin for origin, _, _ in folds]),
        **repeat_onsets(units, folds),
    }


def rolling_table(results: list[dict]) -> str:
    """One row per data set x method: pooled out-of-time AUC [95 % athlete-cluster CI], Brier skill
    against the origin's training prevalence, O/E, net benefit at the flag threshold (and flagging
    everyone), share of test weeks flagged, and onsets caught / test onsets."""

    def cell(v: float, fmt: str = ".3f") -> str:
        return "-" if v is None or v != v else format(v, fmt)

    lines = [
        "| data, label | origins | test units / positive weeks / onsets (athletes) | method | AUC [95% CI] | "
        "BSS | O/E | NB at p >= 2 % (flag all) | flagged weeks | onsets caught |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        head = r["protocol"].split(":")[0]
        size = f"{r['n_test_units']} / {r['n_test_events']} / {r['n_test_onsets']} ({r['n_test_injury_athletes']})"
        for name, m in [("model", r["model"]), *r["baselines"].items()]:
            lo, hi = m.get("roc_auc_ci", [float("nan")] * 2)
            auc = f"{cell(m.get('roc_auc'))} [{cell(lo, '.2f')}, {cell(hi, '.2f')}]"
            lines.append(
                f"| {head} | {r['n_origins']} | {size} | {name} | {auc} | {cell(m['brier_skill'])} | "
                f"{cell(m['o_e'], '.2f')} | {cell(m['net_benefit'], '.4f')} ({cell(m['flag_all'], '.4f')}) | "
                f"{cell(m['flag_rate'], '.0%')} | {m['onsets_caught']} / {r['n_test_onsets']} |"
            )
    return "\n".join(lines)


def week_shift_table(tables: dict, test_ath: list[str], kw: dict) -> str:
    """Jovanovic protocols 1-2 with every table's dates moved by 0-6 days (the calendar anchor is a
    placeholder, so every alignment of the weeks on the day indices is equally valid): test units and
    the point AUCs of the model, the LightGBM comparison (when the model is not LightGBM) and the ACWR
    rule."""
    import pandas as pd

    from realdata import evaluate_folds, loao_time_folds, real_units, source_split_folds

    lines = [
        "| shift (first day) | 1: units | 1: model AUC | 1: LightGBM AUC | 1: ACWR AUC | 2: units | "
        "2: model AUC | 2: LightGBM AUC | 2: ACWR AUC |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d in range(7):
        dt = pd.Timedelta(days=d)
        moved = {
            **tables,
            "training_load": tables["training_load"].assign(date=tables["training_load"]["date"] + dt),
            "injuries": tables["injuries"].assign(onset_date=tables["injuries"]["onset_date"] + dt),
        }
        u = real_units(moved, "hamstring")
        cells = []
        for folds in (source_split_folds(u, test_ath), loao_time_folds(u, 0.5, 28)):
            m = evaluate_folds(u, folds, protocol=f"shift {d}", **kw).metrics
            lgbm = m["baselines"].get("lightgbm")
            cells += [
                str(m["n_test_units"]),
                f"{m['model']['roc_auc']:.3f}",
                f"{lgbm['roc_auc']:.3f}" if lgbm else "-",
                f"{m['baselines']['acwr_threshold']['roc_auc']:.3f}",
            ]
        first = (tables["training_load"]["date"].min() + dt).day_name()
        lines.append(f"| +{d} d ({first}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def table(results: list[dict]) -> str:
    """One row per protocol: test units / events, the model's AUC [95 % athlete-cluster CI] and PR AUC,
    the LightGBM comparison's (``-`` when the model is LightGBM), the prevalence and ACWR baselines'
    AUC; the ``error`` of a protocol whose test units have one class."""

    def auc(m: dict | None) -> str:
        if not m:
            return "-"
        lo, hi = m.get("roc_auc_ci", [None, None])
        ci = f" [{lo:.2f}, {hi:.2f}]" if lo is not None and lo == lo else ""
        return f"{m['roc_auc']:.3f}{ci}"

    lines = [
        "| protocol | test units / events (athletes with events) | model AUC [95% CI] | model PR AUC | "
        "LightGBM AUC [95% CI] | LightGBM PR AUC | prevalence AUC | ACWR >= 1.5 AUC [95% CI] |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, m = r.get("baselines", {}), r.get("model")
        if not m:
            lines.append(
                f"| {r['protocol']} | {r['n_test_units']} / {r['n_test_events']} | {r.get('error')} | - | - | - | "
                f"{auc(b.get('prevalence'))} | {auc(b.get('acwr_threshold'))} |"
            )
            continue
        lgbm = b.get("lightgbm")
        lgbm_pr = f"{lgbm['pr_auc']:.3f}" if lgbm else "-"
        lines.append(
            f"| {r['protocol']} | {r['n_test_units']} / {r['n_test_events']} ({r['n_test_injury_athletes']}) | "
            f"{auc(m)} | {m['pr_auc']:.3f} | {auc(lgbm)} | {lgbm_pr} | "
            f"{auc(b.get('prevalence'))} | {auc(b.get('acwr_threshold'))} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
