"""In-situ features: built only from GPS/LPS traces, causal, and the panel of a club without
traces is unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sprintlab.config import load_params
from sprintlab.features.panel import build_panel
from sprintlab.simulate.coefficients import TRACKING_TRACES
from sprintlab.simulate.generator import simulate_squad

ROOT = Path(__file__).resolve().parents[2]
INSITU = load_params(ROOT / "params.yaml").insitu
FEATURES = [
    "insitu_mss_m_s",
    "insitu_mac_m_s2",
    "insitu_mss_change_since_test_pct",
    "insitu_mac_change_since_test_pct",
    "top_speed_vs_insitu_mss_pct",
    "days_since_90pct_insitu_mss",
]


@pytest.fixture(scope="module")
def traced():
    return simulate_squad(n_athletes=5, n_weeks=14, seed=8, tracking=TRACKING_TRACES)


@pytest.fixture(scope="module")
def with_traces(traced):
    return build_panel(traced.tables, insitu=INSITU)


def test_traces_add_the_in_situ_features_and_change_nothing_else(traced, with_traces):
    without = build_panel({k: v for k, v in traced.tables.items() if k != "tracking_samples"}, insitu=INSITU)
    assert with_traces.skipped == without.skipped == {} and with_traces.not_recorded == {}
    assert without.not_recorded == dict.fromkeys(FEATURES, "no tracking_samples table")
    assert not set(FEATURES) & set(without.panel.columns)
    pd.testing.assert_frame_equal(with_traces.panel.drop(columns=FEATURES), without.panel)
    # without the settings the features are skipped with the reason, never guessed
    bare = build_panel(traced.tables)
    assert bare.skipped["insitu_mss_m_s"].startswith("no insitu settings")


def test_in_situ_profile_tracks_the_truth(traced, with_traces):
    panel = with_traces.panel.set_index(["athlete_id", "week_end"])
    truth = traced.truth["tracking_sessions"].groupby("athlete_id")[["mss_m_s", "mac_m_s2"]].mean()
    late = panel[panel.index.get_level_values("week_end") >= panel.index.get_level_values("week_end").max()]
    got = late.reset_index("week_end")
    err = (got["insitu_mss_m_s"] / truth["mss_m_s"] - 1).abs()
    assert err.median() < 0.05 and got["insitu_mac_m_s2"].notna().all()
    assert panel["top_speed_vs_insitu_mss_pct"].between(50, 110).all()
    assert panel["days_since_90pct_insitu_mss"].dropna().between(0, 98).all()
    change = panel["insitu_mss_change_since_test_pct"].dropna()
    assert len(change) > 0 and change.abs().median() < 10


def test_in_situ_features_never_read_traces_after_the_week(traced, with_traces):
    cutoff = pd.Timestamp("2024-08-25")  # a Sunday inside the window
    tables = dict(traced.tables)
    samples = tables["tracking_samples"].copy()
    late = samples["date"] > cutoff
    rng = np.random.default_rng(0)
    samples.loc[late, "velocity_m_s"] = rng.permutation(samples.loc[late, "velocity_m_s"].to_numpy())
    tables["tracking_samples"] = samples
    corrupted = build_panel(tables, insitu=INSITU).panel
    before = with_traces.panel["week_end"] <= cutoff
    pd.testing.assert_frame_equal(
        with_traces.panel.loc[before, FEATURES].reset_index(drop=True),
        corrupted.loc[corrupted["week_end"] <= cutoff, FEATURES].reset_index(drop=True),
    )
    after = with_traces.panel["week_end"] > cutoff
    assert not with_traces.panel.loc[after, FEATURES].equals(corrupted.loc[after, FEATURES])


def test_chunked_panel_builds_the_same_in_situ_features(traced, with_traces):
    chunked = build_panel(traced.tables, insitu=INSITU, chunk_athletes=2)
    pd.testing.assert_frame_equal(chunked.panel, with_traces.panel)


def test_the_change_since_test_needs_sprint_tests(traced):
    tables = {k: v for k, v in traced.tables.items() if k not in ("sprint_splits", "sprint_steps")}
    res = build_panel(tables, insitu=INSITU)
    assert res.skipped["insitu_mss_change_since_test_pct"] == "no sprint_splits table"
    assert "insitu_mss_m_s" in res.panel and "days_since_90pct_insitu_mss" in res.panel


def test_the_models_are_configured_to_use_the_in_situ_features_where_traces_exist(with_traces):
    from sprintlab.models.datasets import feature_coverage

    train = load_params(ROOT / "params.yaml").train
    configured = set(train.transfer.features) | set(train.hamstring.features)
    assert set(FEATURES) <= configured
    for model in (train.transfer, train.hamstring):
        insitu = [f for f in model.features if f in FEATURES]
        coverage = feature_coverage(with_traces.panel, list(model.features), with_traces.skipped)
        assert set(insitu) <= set(coverage.used), f"{insitu} not all used: {coverage.not_assessed}"
