"""A simulated squad large enough to learn the levers from, with both models fitted on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from sprintlab.config import load_params
from sprintlab.features.panel import build_panel
from sprintlab.models.datasets import feature_matrix, hamstring_units, transfer_units
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.simulate.generator import simulate_squad

PARAMS = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
# transfer features plus one with no causal path to transfer in the simulator
TRANSFER_FEATURES = [*PARAMS.train.transfer.features, "nordic_force_n"]
HAMSTRING_FEATURES = list(PARAMS.train.hamstring.features)


@pytest.fixture(scope="session")
def lever_squad():
    sim = simulate_squad(n_athletes=90, n_weeks=60, seed=5)
    panel = build_panel(sim.tables).panel
    tr = transfer_units(panel, sim.tables["sprint_splits"], sim.tables["gym_sets"])
    ham = hamstring_units(panel, sim.tables["injuries"])
    ham = ham[ham["label_complete"]].reset_index(drop=True)
    models = {}
    for target, units, feats in (("transfer", tr, TRANSFER_FEATURES), ("hamstring", ham, HAMSTRING_FEATURES)):
        m = CalibratedLGBMClassifier(n_estimators=150, random_state=1)
        models[target] = m.fit(
            feature_matrix(units, feats), units["y"].to_numpy(), groups=units["athlete_id"].to_numpy()
        )
    latest = panel[panel["week_end"] == panel["week_end"].max()].reset_index(drop=True)
    return {
        "sim": sim,
        "panel": panel,
        "units": {"transfer": tr, "hamstring": ham},
        "models": models,
        "latest": latest,
    }
