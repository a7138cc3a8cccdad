"""The one report-context builder: athletes shown, model table, levers where available, data checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sprintlab.config import load_params
from sprintlab.domain import TARGETS
from sprintlab.registry import load_pipeline_model, save_estimator
from sprintlab.report.build import (
    LEVER_STEP_WORDS,
    ReportInputs,
    build_report_context,
    model_rows,
    report_levers,
)
from sprintlab.report.render import render_html
from sprintlab.scoring import score_week_with

ROOT = Path(__file__).resolve().parents[2]
PARAMS = load_params(ROOT / "params.yaml")


@pytest.fixture(scope="module")
def squad(tmp_path_factory):
    """A small simulated squad with both models saved as pipeline model folders (lever artifacts included)."""
    from sprintlab.features.panel import build_panel
    from sprintlab.levers import save_lever_artifacts
    from sprintlab.models.datasets import feature_matrix, hamstring_units, transfer_units
    from sprintlab.models.estimator import CalibratedLGBMClassifier
    from sprintlab.simulate.generator import simulate_squad

    sim = simulate_squad(n_athletes=40, n_weeks=60, seed=5)
    panel = build_panel(sim.tables).panel
    ham = hamstring_units(panel, sim.tables["injuries"])
    units = {
        "transfer": transfer_units(panel, sim.tables["sprint_splits"], sim.tables["gym_sets"]),
        "hamstring": ham[ham["label_complete"]].reset_index(drop=True),
    }
    models_dir = tmp_path_factory.mktemp("build") / "models"
    for target in TARGETS:
        feats = list(getattr(PARAMS.train, target).features)
        u = units[target]
        model = CalibratedLGBMClassifier(n_estimators=60, random_state=1).fit(
            feature_matrix(u, feats), u["y"].to_numpy(), groups=u["athlete_id"].to_numpy()
        )
        save_estimator(model, models_dir / target)
        save_lever_artifacts(model, u, models_dir / target, k=2, seed=0)
    models = {t: load_pipeline_model(models_dir, t) for t in TARGETS}
    week_end = pd.Timestamp(panel["week_end"].max())
    scored = score_week_with(PARAMS, panel, {t: m.model for t, m in models.items()}, week_end)
    return {"panel": panel, "models": models, "week_end": week_end, "scored": scored}


def _inputs(squad, **changes) -> ReportInputs:
    base = dict(
        scored=squad["scored"],
        panel=squad["panel"],
        models=squad["models"],
        week_end=squad["week_end"],
        history=None,
        drift_warnings=("age_years (hamstring model) has shifted from the training data",),
        known_limits=("A caller's limit.",),
        simulated=True,
        pseudonymised=False,
    )
    return ReportInputs(**{**base, **changes})


def test_a_cap_keeps_the_highest_risks_and_names_who_is_left_out(squad):
    params = PARAMS.model_copy(update={"report": PARAMS.report.model_copy(update={"max_athletes": 20})})
    history = squad["panel"][["athlete_id", "week_end"]].assign(hamstring_risk=0.05)
    ctx = build_report_context(_inputs(squad, history=history), params)
    sq = squad["scored"].squad
    ok = sq[~sq["insufficient_data"]].sort_values("hamstring_risk", ascending=False)
    assert len(ctx.squad) == 20 and len(ctx.left_out) == len(sq) - 20
    assert set(ctx.squad["athlete_id"]) | set(ctx.left_out) == set(sq["athlete_id"])
    shown_min = ctx.squad["hamstring_risk"].min()
    assert (sq.loc[sq["athlete_id"].isin(ctx.left_out), "hamstring_risk"].fillna(-1) <= shown_min).all()
    assert set(ok["athlete_id"].head(5)) <= set(ctx.squad["athlete_id"])
    for frame in (ctx.drivers, ctx.family_contributions, ctx.shap_long, ctx.history):
        assert set(frame["athlete_id"]) <= set(ctx.squad["athlete_id"])
    assert (
        ctx.models
        == model_rows(squad["models"])
        == [
            {
                "name": TARGETS[t].registered_name,
                "kind": "LightGBM (calibrated)",  # this fixture's models are both LightGBM
                "version": "unregistered",
                "alias": "-",
                "trained_on": "",
                "changes": LEVER_STEP_WORDS[True],  # the fixture saves the lever steps with each model
            }
            for t in TARGETS
        ]
    )
    assert ctx.drift_warnings == ["age_years (hamstring model) has shifted from the training data"]
    assert ctx.known_limits == ["A caller's limit."]
    assert ctx.generated_at == str(date.today()) and ctx.data_window[1] == str(squad["week_end"].date())
    assert ctx.week_label.endswith(f"W{squad['week_end'].isocalendar()[1]:02d}")
    asked = set(ctx.squad.loc[ctx.squad["in_strength_block"] | ctx.squad["hamstring_flag"], "athlete_id"])
    assert asked and ctx.levers is not None and set(ctx.levers["athlete_id"]) <= asked
    html = render_html(ctx)
    assert f"generated on {date.today()}" in html
    undated = render_html(replace(ctx, generated_at=""))  # the DVC stage's report: no run date
    assert "generated on" not in undated and str(date.today()) not in undated
    assert "Data checks raised 1 warning this week" in html and "A caller&#39;s limit." in html
    assert f"{len(ctx.left_out)} more athletes were scored but are not shown" in html
    assert "Scored but not shown" in html  # the ids: in the methods appendix, after page one
    assert html.index(ctx.left_out[0]) > html.index('id="methods"')
    assert all(aid in html for aid in ctx.left_out)


def test_every_scored_athlete_is_shown_under_the_default_cap(squad):
    ctx = build_report_context(_inputs(squad), PARAMS)
    assert sorted(ctx.squad["athlete_id"]) == sorted(squad["scored"].squad["athlete_id"])
    assert ctx.left_out == []


def test_levers_box_for_every_flagged_and_block_athlete_with_one_priority_line(squad):
    from sprintlab.report.render import _view

    flagged = squad["scored"].squad.assign(
        hamstring_flag=squad["scored"].squad["hamstring_risk"].rank(ascending=False, method="first") <= 2
    )
    scored = replace(squad["scored"], squad=flagged)
    ctx = build_report_context(_inputs(squad, scored=scored), PARAMS)
    view = _view(ctx)
    for a in view["athletes"]:
        if not (a["flag"] or a["in_block"]):
            assert a["levers"] is None
            continue
        assert a["levers"] is not None, a["id"]
        texts = [item["text"] for item in a["levers"]["items"]]
        assert len(texts) == len(set(texts))
        assert a["levers"]["priority"] is None or a["levers"]["priority"].startswith("Priority: ")
        outcomes = {item["outcome"] for item in a["levers"]["items"]}
        assert outcomes <= {"hamstring risk"} | ({"transfer chance"} if a["in_block"] else set())
    html = render_html(ctx)
    assert html.count('class="priority"') == sum(
        bool(a["levers"] and a["levers"]["priority"]) for a in view["athletes"]
    )
    flagged_ids = [a["id"] for a in view["answer"]["flagged"]]
    assert len(flagged_ids) == 2
    for a in view["answer"]["flagged"]:
        assert a["first"] == a["levers"]["first"] and (a["first"] is not None) == bool(
            a["levers"]["priority"]
        )


def test_levers_for_athletes_in_a_block_and_flagged_athletes_only(squad):
    latest = squad["panel"][squad["panel"]["week_end"] == squad["week_end"]]
    ids = latest["athlete_id"].to_numpy()
    chosen = pd.DataFrame(
        {
            "athlete_id": ids,
            "in_strength_block": np.arange(ids.size) < 3,
            "hamstring_flag": np.arange(ids.size) == 5,
        }
    )
    out = report_levers(squad["panel"], squad["models"], chosen, squad["week_end"])
    assert set(out.loc[out["model"] == "transfer", "athlete_id"]) <= set(ids[:3])
    # both outcomes for an athlete in a block; hamstring only for a flagged athlete outside one
    assert set(out.loc[out["model"] == "hamstring", "athlete_id"]) <= {*ids[:3], ids[5]}
    assert out.groupby(["athlete_id", "model"]).size().max() <= 2
    assert out[["low", "high"]].notna().all().all()


def test_levers_move_by_the_models_saved_steps_else_the_catalogues(squad):
    """The report's changes are effort-equivalent - each feature moves by the step saved with the
    model (``lever_steps.json``) - and a model saved without steps falls back to the catalogue's,
    which the methods appendix's model table says."""
    latest = squad["panel"][squad["panel"]["week_end"] == squad["week_end"]]
    ids = latest["athlete_id"].tolist()
    chosen = pd.DataFrame({"athlete_id": ids, "in_strength_block": True, "hamstring_flag": True})
    models = {
        t: replace(m, lever_steps={"sleep_hours_7d": 0.75, "nordic_force_n": 20.0})
        for t, m in squad["models"].items()
    }
    stepped = report_levers(squad["panel"], models, chosen, squad["week_end"], top_n=20)
    assert stepped["text"].str.contains("+45 min sleep a night", regex=False).any()
    assert not stepped["text"].str.contains("+30 min sleep a night", regex=False).any()
    bare = {t: replace(m, lever_steps=None) for t, m in squad["models"].items()}
    catalogue = report_levers(squad["panel"], bare, chosen, squad["week_end"], top_n=20)
    assert catalogue["text"].str.contains("+30 min sleep a night", regex=False).any()
    assert set(stepped["athlete_id"]) <= set(ids)
    assert {r["changes"] for r in model_rows(bare)} == {LEVER_STEP_WORDS[False]}


def test_no_levers_without_training_ranges(squad):
    bare = {t: replace(m, lever_ranges=None, lever_boosters=None) for t, m in squad["models"].items()}
    ctx = build_report_context(_inputs(squad, models=bare), PARAMS)
    assert ctx.levers is None
    assert "What to change first" not in render_html(ctx)


def test_report_flags_are_the_weekly_top_share_of_the_scored_squad(squad):
    """params.yaml flags the top 10 % of the week's athletes with a risk - the policy hamstring.json
    evaluates (``top_share_flags``, split seed) - and the report says so with the count."""
    import html as html_lib

    from sprintlab.models.flag_policy import top_share_flags

    sq = squad["scored"].squad
    ranked = (sq["hamstring_risk"].notna() & ~sq["insufficient_data"]).to_numpy()
    n, k = int(ranked.sum()), int(np.ceil(PARAMS.train.hamstring.flag_top_share * ranked.sum()))
    evaluated = top_share_flags(sq["hamstring_risk"].to_numpy()[ranked], np.zeros(n), 0.10, PARAMS.split.seed)
    assert sq["hamstring_flag"].sum() == k == evaluated.sum() >= 1
    assert set(sq.loc[sq["hamstring_flag"], "athlete_id"]) == set(
        sq["athlete_id"].to_numpy()[ranked][evaluated]
    )
    ctx = build_report_context(_inputs(squad), PARAMS)
    assert ctx.flag_top_share == 0.10 and ctx.flag_ranked == n
    text = html_lib.unescape(render_html(ctx))
    highest = "the highest" if k == 1 else f"the {k} highest"
    assert f"{k} flagged for hamstring risk" in text and f"{highest} of {n} hamstring risks this week" in text
    assert f"this week {k} of {n}" in text
