"""A club's own data, Monday to Monday: each model trains on the factor families the exports
provide, says which it could not assess, and scores the club's week with exit 0."""

from __future__ import annotations

import json

import pandas as pd
from typer.testing import CliRunner

from sprintlab.cli import app
from sprintlab.domain import NOT_RECORDED
from sprintlab.registry import load_pipeline_model
from sprintlab.scoring import EXIT_OK, MODEL_NOTE_COLUMN

STEP_FEATURES = {
    "first_step_contact_ms": "no sprint_steps table",
    "touchdown_distance_m": "no sprint_steps table",
}
runner = CliRunner()


def missing(not_assessed: dict[str, str]) -> dict[str, str]:
    """The absences that are missing exports, without the optional GPS/LPS stream's features (the club
    records no traces: those are "not recorded", checked in test_an_unrecorded_stream_is_named)."""
    return {f: why for f, why in not_assessed.items() if not why.startswith(NOT_RECORDED)}


def test_an_unrecorded_stream_is_named(club):
    info = json.loads((club["tmp"] / "models" / "transfer" / "features.json").read_text())
    recorded = {
        f: why
        for f, why in info["features_not_assessed"].items()
        if f not in missing(info["features_not_assessed"])
    }
    assert recorded == dict.fromkeys(
        [
            "insitu_mss_m_s",
            "insitu_mac_m_s2",
            "insitu_mss_change_since_test_pct",
            "insitu_mac_change_since_test_pct",
        ],
        "not recorded: no tracking_samples table",
    )
    assert {k: sorted(v) for k, v in info["streams_not_recorded"].items()} == {
        "no tracking_samples table": sorted(recorded)
    }


def test_transfer_trains_without_the_step_features_and_says_so(club):
    folder = club["tmp"] / "models" / "transfer"
    assert club["trained"]["transfer"]["registry"]["registered"]
    info = json.loads((folder / "features.json").read_text())
    assert info["data_source"] == "folder"
    assert missing(info["features_not_assessed"]) == STEP_FEATURES
    # without step data no braking/timing feature is left: the 0-10 m level features that stay are
    # bounce-back (test-day variation), a family of their own
    assert info["families_partly_assessed"] == {}
    assert info["families_not_assessed"] == {"timing": "no sprint_steps table"}
    model = load_pipeline_model(club["tmp"] / "models", "transfer")
    assert not set(STEP_FEATURES) & set(model.feature_names)
    assert "t10_vs_first_test_s" in model.feature_names  # the bounce-back family stays
    assert not set(STEP_FEATURES) & set(model.model.monotone)  # their constraints went with them
    assert model.data_source == "folder" and missing(dict(model.not_assessed)) == STEP_FEATURES
    card = (folder / "model_card.md").read_text()
    assert "first_step_contact_ms (no sprint_steps table)" in card and "the club's exports" in card


def test_hamstring_trains_without_the_rpe_load_ratio(club):
    info = json.loads((club["tmp"] / "models" / "hamstring" / "features.json").read_text())
    assert club["trained"]["hamstring"]["registry"]["registered"]
    assert missing(info["features_not_assessed"]) == {"acwr_ewma": "no value in the training data"}
    assert info["families_partly_assessed"] == {"load": ["acwr_ewma"]}
    assert "acwr_ewma" not in load_pipeline_model(club["tmp"] / "models", "hamstring").feature_names


def test_registry_tags_carry_source_and_absent_features(club):
    from mlflow.tracking import MlflowClient

    version = MlflowClient().get_model_version_by_alias("sprintlab-transfer", "champion")
    assert version.tags["data_source"] == "folder"
    assert missing(json.loads(version.tags["features_not_assessed"])) == STEP_FEATURES


def test_club_week_scores_with_exit_0_and_names_what_was_not_assessed(club):
    out = club["tmp"] / "score"
    r = runner.invoke(app, ["score", str(club["raw"]), "--out", str(out), "--project", str(club["tmp"])])
    assert r.exit_code == EXIT_OK, r.output
    summary = json.loads((out / "score_summary.json").read_text())
    assert summary["exit_code"] == EXIT_OK and "models_refused" not in summary
    assert missing(summary["features_not_assessed"]["transfer"]) == STEP_FEATURES
    assert not [w for w in summary["drift_warnings"] if "PSI" in w and "fail" in w and "acwr" in w]
    scores = pd.read_csv(out / "scores.csv")
    assert scores["hamstring_risk"].notna().any() and MODEL_NOTE_COLUMN not in scores
    html = next(out.glob("report_*.html")).read_text(encoding="utf-8")
    assert "Not every factor family could be assessed with these data" in html
    assert "Transfer chance — not assessed: Sprint timing and braking (no sprint_steps table)" in html
    assert "(no sprint_steps table)" in html
    assert "Hamstring risk — partly assessed: Training load, without" in html
    assert "SIMULATED" not in html  # the club's exports, scored by models trained on them
