"""The simulator writes the data contract with realistic ranges and a known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sprintlab.contract.tables import TABLES
from sprintlab.simulate.generator import simulate_squad
from sprintlab.targets import session_best_times

#: contract tables the simulator writes only on request (GPS/LPS traces: tests/simulate/test_tracking.py)
ON_REQUEST = {"tracking_samples"}


def test_writes_exactly_the_contract_columns(small_squad):
    assert set(small_squad.tables) == set(TABLES) - ON_REQUEST
    for name, spec in TABLES.items():
        if name in ON_REQUEST:
            continue
        df = small_squad.tables[name]
        optional_not_simulated = {"srpe_load_au"}  # only for exports that give RPE x minutes as one number
        assert list(df.columns) == [c for c in spec.column_names if c not in optional_not_simulated], name
        assert len(df) > 0, name


def test_values_inside_contract_bounds(small_squad):
    for name, spec in TABLES.items():
        if name in ON_REQUEST:
            continue
        df = small_squad.tables[name]
        for col in spec.columns:
            if col.name not in df:
                continue
            if col.min_value is not None:
                v = pd.to_numeric(df[col.name], errors="coerce").dropna()
                assert v.between(col.min_value, col.max_value).all(), (name, col.name)
            if col.allowed is not None:
                assert set(df[col.name].dropna()) <= set(col.allowed), (name, col.name)


def test_realistic_sprint_and_nordic_ranges():
    sim = simulate_squad(60, 52, seed=3)
    best = session_best_times(sim.tables["sprint_splits"])["t10_best_s"]
    # 0-10 m times from the mono-exponential model with gate noise: 1.6-2.3 s for the bulk
    assert 1.6 <= best.quantile(0.02) and best.quantile(0.98) <= 2.3
    assert 1.4 <= best.min() and best.max() <= 2.4
    nordic = sim.tables["strength_tests"].query("test == 'nordic_eccentric'")["value"]
    assert 200 <= nordic.quantile(0.02) and nordic.quantile(0.98) <= 500


def test_hamstring_injuries_per_squad_season_are_realistic():
    per_season = []
    for seed in range(4):
        sim = simulate_squad(30, 52, seed=seed)
        inj = sim.tables["injuries"]
        in_window = inj[(inj["onset_date"] >= pd.Timestamp("2024-07-01")) & (inj["body_part"] == "hamstring")]
        per_season.append(len(in_window))
    assert 3 <= np.mean(per_season) <= 10, per_season


def test_same_seed_same_data_other_seed_other_data():
    a = simulate_squad(6, 14, seed=5)
    b = simulate_squad(6, 14, seed=5)
    c = simulate_squad(6, 14, seed=6)
    for name in a.tables:
        pd.testing.assert_frame_equal(a.tables[name], b.tables[name])
    assert not a.tables["gym_sets"].equals(c.tables["gym_sets"])


def test_truth_is_separate_and_complete(small_squad):
    truth = small_squad.truth
    assert set(truth) == {"athlete_traits", "hamstring_weekly", "transfer_blocks"}
    tb = truth["transfer_blocks"]
    assert tb["p_transfer"].between(0, 1).all()
    fams = ["strength", "control", "timing", "bounce_back", "load", "wellness"]
    assert set(tb["dominant_family"]) <= set(fams)
    # the runner-up and its ratio are the second-largest |Shapley value| over the largest
    phi = tb[[f"phi_{f}_s" for f in fams]].abs().to_numpy()
    top = np.sort(phi, axis=1)
    np.testing.assert_allclose(tb["runner_up_ratio"], top[:, -2] / top[:, -1])
    assert (tb["runner_up_family"] != tb["dominant_family"]).all()
    second = phi[
        np.arange(len(tb)),
        [fams.index(f) for f in tb["runner_up_family"]],
    ]
    np.testing.assert_allclose(second, top[:, -2])
    hw = truth["hamstring_weekly"]
    assert hw["p_hamstring_28d"].dropna().between(0, 1).all()
    for df in small_squad.tables.values():
        assert not any(c.startswith(("p_", "phi_", "control_latent")) for c in df.columns)


@pytest.mark.parametrize("bad", [dict(n_athletes=1), dict(n_weeks=5)])
def test_rejects_impossible_sizes(bad):
    with pytest.raises(ValueError):
        simulate_squad(**{"n_athletes": 5, "n_weeks": 20, **bad})
