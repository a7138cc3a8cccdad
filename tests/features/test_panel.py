"""The athlete-week panel: as-of correctness, catalogue schema, graceful degradation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.domain import FAMILIES
from sprintlab.features.catalogue import load_catalogue
from sprintlab.features.panel import build_panel
from sprintlab.features.strength import estimated_one_rm_epley

DATE_COL = {"injuries": "onset_date"}


def _corrupt_after(
    tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, seed: int = 0
) -> dict[str, pd.DataFrame]:
    """Scramble every numeric value and drop/duplicate rows dated after ``cutoff``."""
    rng = np.random.default_rng(seed)
    out = {}
    for name, df in tables.items():
        col = DATE_COL.get(name, "date")
        if col not in df:
            out[name] = df
            continue
        late = pd.to_datetime(df[col]) > cutoff
        early, after = df[~late], df[late].copy()
        for c in after.columns:
            if pd.api.types.is_float_dtype(after[c]):
                after[c] = rng.permutation(after[c].to_numpy()) * rng.uniform(0.5, 1.5, len(after))
        after = after.sample(frac=0.7, random_state=seed)
        out[name] = pd.concat([early, after], ignore_index=True)
    return out


def test_features_for_week_w_ignore_every_record_after_w(small_squad):
    tables = small_squad.tables
    full = build_panel(tables).panel
    cutoff_week_end = pd.Timestamp("2025-01-19")  # a Sunday inside the window
    corrupted = build_panel(_corrupt_after(tables, cutoff_week_end)).panel
    a = full[full["week_end"] <= cutoff_week_end].reset_index(drop=True)
    b = corrupted[corrupted["week_end"] <= cutoff_week_end].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    # and the corruption did change later weeks (the test can fail)
    later_a = full[full["week_end"] > cutoff_week_end].reset_index(drop=True)
    later_b = corrupted[corrupted["week_end"] > cutoff_week_end].reset_index(drop=True)
    assert not later_a.equals(later_b)


def test_panel_matches_schema_generated_from_catalogue(small_panel):
    panel = small_panel.panel
    cat = load_catalogue()
    cat.panel_schema(list(panel.columns)).validate(panel)
    assert [c for c in panel.columns[3:]] == [n for n in cat.names if n in panel.columns]
    extra = panel.assign(not_in_catalogue=1.0)
    with pytest.raises(Exception, match="not_in_catalogue"):
        cat.panel_schema(list(panel.columns)).validate(extra)


def test_catalogue_entries_are_complete():
    cat = load_catalogue()
    assert set(cat.families) == set(FAMILIES)
    for f in cat.features:
        assert f.description and f.unit and f.family in FAMILIES
        if f.modifiable:  # a step (worded for the effort-equivalent size too) or an action
            assert f.change_label and (f.change is None) != (f.reset_to is None)
            assert f.change is None or f.step_label


def test_every_family_is_built_from_the_simulated_squad(small_panel):
    cat = load_catalogue()
    built = {cat.family_of(c) for c in small_panel.panel.columns[3:]}
    assert built == set(FAMILIES)
    assert small_panel.skipped == {}


def test_missing_tables_degrade_gracefully(small_squad):
    tables = {
        k: v
        for k, v in small_squad.tables.items()
        if k not in ("wellness", "sprint_steps", "movement_screens")
    }
    res = build_panel(tables)
    assert "sleep_hours_7d" not in res.panel and res.skipped["sleep_hours_7d"] == "no wellness table"
    assert "pelvic_control_score" not in res.panel
    assert "first_step_contact_ms" not in res.panel
    assert "nordic_force_n" in res.panel and "acwr_ewma" in res.panel


def test_skipped_features_carry_their_builders_first_unmet_need(small_squad):
    tables = {k: v for k, v in small_squad.tables.items() if k not in ("sprint_splits", "sprint_steps")}
    load = tables["training_load"].drop(columns=["max_speed_m_s"])
    res = build_panel({**tables, "training_load": load})
    assert sorted([*res.panel.columns[3:], *res.skipped, *res.not_recorded]) == sorted(load_catalogue().names)
    assert set(res.not_recorded.values()) == {"no tracking_samples table"}  # GPS traces: an optional stream
    since_test = ("strength_change_since_test_pct", "hsr_excess_since_test", "sleep_deficit_since_test_h")
    for f in (*since_test, "t10_vs_first_test_s", "first_step_contact_ms", "access_ratio"):
        assert res.skipped[f] == "no sprint_splits table"
    assert res.skipped["days_since_near_max_speed"] == "training_load has no max_speed_m_s"
    assert "hsr_week_m" in res.panel and "squat_e1rm_rel" in res.panel


def test_a_combined_feature_is_skipped_for_the_reason_of_its_part(small_squad):
    res = build_panel({k: v for k, v in small_squad.tables.items() if k != "gym_sets"})
    assert res.skipped["access_ratio"] == res.skipped["strength_control_gap"] == "no gym_sets table"
    assert "f0_rel_n_kg" in res.panel and "control_change_8w" in res.panel


def test_carry_forward_with_age_never_interpolates(small_squad):
    tables = small_squad.tables
    panel = build_panel(tables).panel
    screens = tables["movement_screens"]
    aid = screens["athlete_id"].iloc[0]
    sc = screens[screens["athlete_id"] == aid].sort_values("date")
    rows = panel[panel["athlete_id"] == aid]
    for r in rows.itertuples():
        past = sc[sc["date"] <= r.week_end]
        if past.empty:
            assert np.isnan(r.pelvic_control_score)
            continue
        last = past.iloc[-1]
        assert r.pelvic_control_score == last["pelvic_control_score"]
        assert r.screen_age_days == (r.week_end - last["date"]).days


def test_epley_known_answers():
    np.testing.assert_allclose(
        estimated_one_rm_epley([100.0, 100.0], [1, 10]), [100 * 31 / 30, 100 * 40 / 30]
    )
    assert np.isnan(estimated_one_rm_epley([60.0], [15])[0])


def test_ewma_acute_load_known_answer():
    from sprintlab.features.grid import ewma

    x = np.array([[100.0, 0.0, 0.0]])
    a = 2 / 8
    np.testing.assert_allclose(ewma(x, 7)[0], [a * 100, (1 - a) * a * 100, (1 - a) ** 2 * a * 100])


def test_chunked_build_equals_whole_build(small_squad):
    whole = build_panel(small_squad.tables).panel
    chunked = build_panel(small_squad.tables, chunk_athletes=7).panel
    pd.testing.assert_frame_equal(whole, chunked)


def test_chunked_build_fills_a_feature_one_chunk_could_not_build(small_squad):
    """A chunk without any sprint records builds no sprint features; the league panel still has
    them (NaN for that chunk's athletes), exactly as the whole build has."""
    tables = dict(small_squad.tables)
    first = sorted(tables["athletes"]["athlete_id"].astype(str))[:7]
    for name in ("sprint_splits", "sprint_steps"):
        tables[name] = tables[name][~tables[name]["athlete_id"].isin(first)].reset_index(drop=True)
    whole = build_panel(tables).panel
    chunked = build_panel(tables, chunk_athletes=7)
    pd.testing.assert_frame_equal(whole, chunked.panel, check_exact=True)
    assert list(chunked.panel.columns) == list(whole.columns)


def test_grid_starts_at_the_first_record_not_at_the_injury_history(small_squad):
    """An injury register reaching years back no longer stretches the day grid: the panel equals
    the one built on a grid from the first injury, and the early injuries still count."""
    tables = {name: df.copy() for name, df in small_squad.tables.items()}
    first_record = min(pd.to_datetime(df["date"]).min() for df in tables.values() if "date" in df)
    athlete = tables["athletes"]["athlete_id"].iloc[0]
    old = pd.DataFrame(
        {
            "athlete_id": [athlete],
            "onset_date": [first_record - pd.Timedelta(days=900)],
            "body_part": ["hamstring"],
            "days_lost": [21],
        }
    )
    tables["injuries"] = pd.concat([tables["injuries"], old], ignore_index=True)
    earliest = pd.to_datetime(tables["injuries"]["onset_date"]).min()
    panel = build_panel(tables).panel
    long_grid = build_panel(tables, start=earliest).panel
    pd.testing.assert_frame_equal(panel, long_grid, check_exact=True)
    assert panel["week_start"].min() <= first_record < panel["week_start"].min() + pd.Timedelta(days=7)
    mine = panel[panel["athlete_id"] == athlete]
    assert (mine["previous_hamstring_injury"] == 1).all()
