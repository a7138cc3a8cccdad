"""Load and wellness features from real club exports, imported through the example mappings.

The mappings in ``src/sprintlab/contract/mappings/`` are the documented way to bring a club's own
exports into the contract (``docs/importing.md``); these tests run them on the public data sets in
``../shared/datasets`` and build the feature panel from what they give.
"""

from __future__ import annotations

import numpy as np
import pytest
from tests.conftest import shared_dataset

from sprintlab.contract.mapping import import_with_mapping, write_imported
from sprintlab.contract.validate import validate_folder
from sprintlab.features.panel import build_panel

pytestmark = pytest.mark.real_data


def _panel(mapping: str, dataset: str, tmp_path):
    tables = import_with_mapping(mapping, shared_dataset(dataset))
    write_imported(tables, tmp_path)
    res = validate_folder(tmp_path, tmp_path / "validated", today="2026-11-24")
    return res, build_panel(res.tables)


def test_soccermon_wellness_and_load_features(tmp_path):
    res, built = _panel("soccermon_subjective.yaml", "soccermon_subjective", tmp_path)
    panel = built.panel
    assert panel["athlete_id"].nunique() >= 40
    assert (
        "athletes" not in res.tables
    )  # no register in this export: profile features are skipped, not invented
    assert "age_years" in built.skipped and "body_mass_kg" in built.skipped
    # SOURCE.md: sleep duration mean 8.1 h
    assert 7.3 < panel["sleep_hours_7d"].mean() < 8.9
    z = panel["soreness_z"].dropna()
    assert len(z) > 1000 and abs(z.median()) < 0.5
    acwr = panel["acwr_ewma"].replace([np.inf, -np.inf], np.nan).dropna()
    assert 0.7 < acwr.median() < 1.3  # acute ~ chronic for a team in steady training
    assert panel["wellness_missing_rate_28d"].dropna().between(0, 1).all()
    assert "hsr_week_m" not in panel and "no hsr" in built.skipped["hsr_week_m"].lower().replace(
        "_distance_m", ""
    )


def test_jovanovic_load_features_from_session_rpe_load(tmp_path):
    res, built = _panel("jovanovic_hamstring_sample.yaml", "jovanovic_hamstring_sample", tmp_path)
    panel = built.panel
    assert panel["athlete_id"].nunique() == 6
    assert res.counts["training_load"]["accepted"] > 1500  # days off (all loads 0) are not sessions
    # weekly session-RPE load from LoadMetric01 and high-speed running from LoadMetric03
    assert panel["weekly_load_au"].max() > 1000
    assert panel["hsr_vs_own_norm"].dropna().median() == pytest.approx(1.0, abs=0.35)
    assert 0.7 < panel["acwr_ewma"].dropna().median() < 1.3
