"""Pipeline stage ``report``: score the latest week and render the coach's HTML report."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import joblib
import pandas as pd

from sprintlab.config import Params
from sprintlab.domain import TARGETS, iso_week_label
from sprintlab.scoring import score_week

log = logging.getLogger(__name__)


def _main_factor_limit(path: Path) -> list[str]:
    """The explain stage's truth checks as known limits for coaches (simulated data only)."""
    ex = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    if ex.get("dominant_family_agreement") is None:
        return []
    b = ex.get("by_explanation_dominance", {})
    parts = [
        f"{b[k]['agreement']:.0%} where {w}"
        for k, w in (("clear", "the lead is clear"), ("close", "it is a close call"))
        if b.get(k, {}).get("agreement") is not None
    ]
    among = b.get("close", {}).get("truth_among_named")
    close = (
        f" On a close call the report names two factors; the true one was among them {among:.0%} of the time."
        if among is not None
        else ""
    )
    out = [
        f"Main factor: on held-out simulated blocks the transfer explanation named the simulator's true main "
        f"factor for {ex['dominant_family_agreement']:.0%} of them"
        + (f" ({', '.join(parts)})" if parts else "")
        + "."
        + close
        + " Read a close call as two factors that matter about equally."
    ]
    ham = ex.get("hamstring") or {}
    if ham.get("dominant_family_agreement") is not None:
        clear = ham.get("by_explanation_dominance", {}).get("clear", {}).get("agreement")
        from sprintlab.features.catalogue import load_catalogue

        top = max(ham["confusion"].items(), key=lambda kv: sum(kv[1].values()))[0]
        top = load_catalogue().families.get(top, top)
        out.append(
            f"Hamstring main factor: on held-out simulated athlete-weeks it matched the simulator's true main factor "
            f"of the 28-day risk for {ham['dominant_family_agreement']:.0%} of them"
            + (f" ({clear:.0%} where the lead is clear)" if clear is not None else "")
            + f"; naming the most common true factor ({top}) every week would match "
            f"{ham['majority_family_baseline']:.0%}. A squad has too few hamstring injuries to pin down each "
            "factor's size: use the hamstring main factor as a starting point for the conversation, not a diagnosis."
        )
    return out


def run_report(
    params: Params,
    features_dir: Path,
    models_dir: Path,
    metrics_dir: Path,
    out_path: Path,
    *,
    simulated: bool,
    pseudonymise: bool = False,
    generated_at: str | None = None,
) -> Path:
    """Score the latest complete week for the report's athletes and render the HTML report."""
    from sprintlab.explain import squad_family_importance, strength_control_interaction
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.levers import report_levers
    from sprintlab.models.datasets import feature_matrix
    from sprintlab.report.context import ReportContext
    from sprintlab.report.render import render_report

    panel = pd.read_parquet(Path(features_dir) / "panel.parquet")
    models = {t: joblib.load(Path(models_dir) / t / "model.joblib") for t in TARGETS}
    week_end = panel["week_end"].max()
    athletes = sorted(panel["athlete_id"].unique())[: params.report.max_athletes]
    scored = score_week(
        panel,
        models,
        week_end,
        min_strength_gain=params.targets.transfer.min_strength_gain,
        flag_threshold=params.train.hamstring.flag_threshold,
        top_k=params.report.top_drivers,
        athletes=athletes,
        own_usual_weeks=params.score.own_usual_weeks,
    )
    hist_rows = panel[
        panel["athlete_id"].isin(athletes) & (panel["week_end"] > week_end - pd.Timedelta(weeks=26))
    ]
    hm = models["hamstring"]
    history = hist_rows[["athlete_id", "week_end"]].assign(
        hamstring_risk=hm.predict_proba(feature_matrix(hist_rows, list(hm.feature_names_in_)))[:, 1]
    )
    metrics = {t: json.loads((Path(metrics_dir) / f"{t}.json").read_text(encoding="utf-8")) for t in TARGETS}
    reg = []
    for t in TARGETS:
        r = json.loads((Path(models_dir) / t / "registry.json").read_text(encoding="utf-8"))
        reg.append(
            {
                "name": TARGETS[t].registered_name,
                "version": r.get("version", "unregistered"),
                "alias": "champion" if r.get("champion") else "-",
                "trained_on": metrics[t].get("split_cutoff", ""),
            }
        )
    cat = load_catalogue()
    fam_imp = squad_family_importance(scored["families"])
    long = scored["long"]
    inter = strength_control_interaction(
        models["transfer"], panel[panel["week_end"] > week_end - pd.Timedelta(weeks=26)]
    )
    squad, drivers, fams, hist = scored["squad"], scored["drivers"], scored["families"], history
    ctx = ReportContext(
        title="sprintlab weekly report",
        week_label=iso_week_label(week_end),
        data_window=(
            str(pd.to_datetime(panel["week_start"]).min().date()),
            str(pd.Timestamp(week_end).date()),
        ),
        generated_at=generated_at or str(pd.Timestamp(week_end).date()),
        simulated=simulated,
        pseudonymised=pseudonymise,
        squad=squad,
        drivers=drivers,
        family_contributions=fams,
        family_importance=fam_imp,
        shap_long=long,
        interaction=inter,
        metrics=metrics,
        models=reg,
        family_labels=dict(cat.families),
        history=hist,
        known_limits=[
            "Associations learned from this squad's records; they are not proven causes.",
            "Athletes with more than half of a model's inputs missing are marked 'insufficient data'.",
        ]
        + _main_factor_limit(Path(metrics_dir) / "explanations.json"),
        flag_threshold=params.train.hamstring.flag_threshold,
        own_usual_weeks=params.score.own_usual_weeks,
        levers=report_levers(panel, models, models_dir, scored["squad"], week_end),
    )
    return render_report(ctx, Path(out_path))
