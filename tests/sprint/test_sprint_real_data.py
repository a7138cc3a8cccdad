"""Real data from ../shared/datasets: Vescovi gate splits (52 athletes) and radar/laser traces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sprintlab.sprint import profile_radar, profile_splits

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
pytestmark = [
    pytest.mark.real_data,
    pytest.mark.skipif(
        not (SHARED / "vescovi_sprint_splits").is_dir(),
        reason=f"{SHARED} absent: real data sets live in ../shared/datasets (not in the repo)",
    ),
]
CORRECTIONS = ["none", "fixed:0.3", "tc", "fd", "dc"]


@pytest.fixture(scope="module")
def vescovi() -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.read_csv(SHARED / "vescovi_sprint_splits" / "vescovi_raw.csv")
    long = raw.melt(
        id_vars=["Athlete"],
        value_vars=["5m", "10m", "20m", "30m", "35m"],
        var_name="gate",
        value_name="time_s",
    )
    long["distance_m"] = long["gate"].str.rstrip("m").astype(float)
    splits = long.rename(columns={"Athlete": "athlete_id"}).assign(
        date="2020-01-01", trial=1, start_type="standing", timing_system="photocell"
    )
    athletes = raw.rename(
        columns={"Athlete": "athlete_id", "Height": "height_cm", "Bodyweight": "body_mass_kg"}
    )
    return splits, athletes[["athlete_id", "height_cm", "body_mass_kg"]]


@pytest.fixture(scope="module")
def vescovi_profiles(vescovi) -> dict[str, pd.DataFrame]:
    splits, athletes = vescovi
    return {c: profile_splits(splits, athletes, correction=c) for c in CORRECTIONS}


@pytest.mark.parametrize("correction", CORRECTIONS)
def test_vescovi_all_52_fit_with_plausible_values(vescovi_profiles, correction):
    p = vescovi_profiles[correction]
    assert len(p) == 52 and p["fit_ok"].all(), p.loc[~p["fit_ok"], "fit_issue"].tolist()
    assert p["mss_m_s"].between(6.0, 9.5).all()  # female field-sport athletes, 35 m sprints
    assert p["tau_s"].between(0.4, 2.0).all()
    assert p["mac_m_s2"].between(4.0, 16.0).all()
    assert p["rse_s"].lt(0.06).all()
    assert p["f0_rel_n_kg"].between(4.0, 16.0).all() and p["v0_m_s"].between(6.0, 10.5).all()
    assert p["rf_max"].between(0.3, 0.7).all() and p["drf"].lt(0).all()
    np.testing.assert_allclose(p["t10_obs_s"].median(), 2.02, atol=0.03)


def test_vescovi_corrections_remove_flying_start_bias(vescovi_profiles):
    base = vescovi_profiles["none"]
    for c in ["fixed:0.3", "tc", "fd", "dc"]:
        p = vescovi_profiles[c]
        assert p["tau_s"].median() > base["tau_s"].median() + 0.2, c
        assert p["mac_m_s2"].median() < base["mac_m_s2"].median() - 2.0, c
        assert p["pmax_rel_w_kg"].median() < base["pmax_rel_w_kg"].median(), c
    # estimated corrections are in the published range (Vescovi & Jovanovic 2021: TC about 0.2-0.3 s)
    assert 0.15 < vescovi_profiles["tc"]["time_correction_s"].median() < 0.35
    assert 0.1 < vescovi_profiles["fd"]["flying_distance_m"].median() < 0.8
    # uncorrected fits look like flying starts for a good share of the squad; corrected ones do not
    assert base["flying_start_flag"].sum() >= 10
    assert vescovi_profiles["tc"]["flying_start_flag"].sum() == 0


def _trace(folder: str, name: str) -> pd.DataFrame:
    df = pd.read_csv(SHARED / folder / name)
    return df.rename(columns={"time": "time_s", "velocity": "velocity_m_s", "distance": "distance_m"})


@pytest.mark.parametrize(
    "folder,name,mass,height,models",
    [
        ("jb_morin_radar", "jb_morin.csv", 75.0, 172.0, ["velocity"]),
        ("laser_gun_sprint", "laser_gun_raw.csv", 75.0, 177.0, ["velocity", "distance"]),
        ("dynaspeed_sprint", "dynaspeed_raw.csv", 64.0, 177.0, ["velocity", "distance"]),
    ],
)
def test_radar_laser_traces_plausible(folder, name, mass, height, models):
    if not (SHARED / folder / name).exists():
        pytest.skip(f"{SHARED / folder / name} absent")
    tr = _trace(folder, name)[lambda d: d.columns.intersection(["time_s", "velocity_m_s", "distance_m"])]
    tr = tr.assign(athlete_id="x")
    ath = pd.DataFrame({"athlete_id": ["x"], "body_mass_kg": [mass], "height_cm": [height]})
    mss = {}
    for model in models:
        r = profile_radar(tr, ath, model=model).iloc[0]
        assert r["fit_ok"], r["fit_issue"]
        assert 7.5 < r["mss_m_s"] < 10.0 and 0.8 < r["tau_s"] < 1.6 and 5.0 < r["mac_m_s2"] < 10.0
        assert 300 < r["f0_n"] < 800 and 800 < r["pmax_w"] < 1600
        assert -1.0 < r["time_correction_s"] < 1.0
        mss[model] = r["mss_m_s"]
    if len(mss) == 2:  # velocity and distance channels of the same sprint agree on MSS
        assert abs(mss["velocity"] - mss["distance"]) < 0.3
