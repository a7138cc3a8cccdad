"""The one model loader: pipeline model folders and the MLflow registry give the same LoadedModel."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from tests.conftest import new_store

from sprintlab.levers import BOOTSTRAP_FILE, RANGES_FILE, STEPS_FILE, save_lever_artifacts
from sprintlab.models.estimator import CalibratedLGBMClassifier
from sprintlab.registry import (
    EVALUATION_FILE,
    REGISTRY_FILE,
    ModelNotFoundError,
    load_pipeline_model,
    load_registered_model,
    save_estimator,
)


@pytest.fixture(scope="module")
def fitted():
    rng = np.random.default_rng(0)
    n = 400
    units = pd.DataFrame(
        {
            "athlete_id": np.repeat([f"A{i:02d}" for i in range(40)], n // 40),
            "signal": rng.normal(size=n),
            "noise": rng.normal(size=n),
            # a lever's feature in the training units (not a model input): its step is saved
            "sleep_hours_7d": np.tile([7.0, 8.0], n // 2),
        }
    )
    units["y"] = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.5 * units["signal"])))).astype(int)
    model = CalibratedLGBMClassifier(n_estimators=20, num_leaves=3, random_state=0).fit(
        units[["signal", "noise"]], units["y"].to_numpy(), groups=units["athlete_id"].to_numpy()
    )
    return model, units


def _model_folder(tmp_path, fitted, registration: dict | None):
    model, units = fitted
    folder = tmp_path / "models" / "hamstring"
    save_estimator(model, folder)
    save_lever_artifacts(model, units, folder, k=2, seed=0)
    (folder / EVALUATION_FILE).write_text(
        json.dumps({"split_cutoff": "2025-01-05", "model": {"roc_auc": 0.7}})
    )
    if registration is not None:
        (folder / REGISTRY_FILE).write_text(json.dumps(registration))
    return folder


def test_pipeline_folder_gives_model_identity_evaluation_and_lever_artifacts(tmp_path, fitted):
    folder = _model_folder(
        tmp_path, fitted, {"registered": True, "version": "4", "champion": True, "run_id": "r1"}
    )
    loaded = load_pipeline_model(tmp_path / "models", "hamstring")
    assert (loaded.name, loaded.version, loaded.alias, loaded.run_id) == (
        "sprintlab-hamstring",
        "4",
        "champion",
        "r1",
    )
    assert loaded.feature_names == ["signal", "noise"] and loaded.signature == ()
    assert loaded.trained_on == "2025-01-05" and loaded.metrics["model"]["roc_auc"] == 0.7
    assert set(loaded.lever_ranges) == {"signal", "noise"} and len(loaded.lever_boosters) == 2
    # one night in two at 7 h, the other at 8 h: within-athlete SD sqrt(10 x 0.25 / 9) per athlete
    assert loaded.lever_steps == {"sleep_hours_7d": pytest.approx(np.sqrt(2.5 / 9))}
    assert loaded.drift_reference is None  # no drift_reference.json in the folder
    X = fitted[1][["signal", "noise"]]
    np.testing.assert_allclose(loaded.model.predict_proba(X), fitted[0].predict_proba(X))
    (folder / REGISTRY_FILE).unlink()
    (folder / RANGES_FILE).unlink()
    (folder / BOOTSTRAP_FILE).unlink()
    (folder / STEPS_FILE).unlink()
    bare = load_pipeline_model(tmp_path / "models", "hamstring")
    assert (bare.version, bare.alias, bare.run_id) == ("unregistered", "-", None)
    assert bare.lever_ranges is None and bare.lever_boosters is None and bare.lever_steps is None
    with pytest.raises(ModelNotFoundError, match="model.joblib"):
        load_pipeline_model(tmp_path / "models", "transfer")


def test_registered_model_carries_its_run_artifacts(tmp_path, monkeypatch, fitted):
    new_store(monkeypatch, tmp_path)
    from sprintlab.drift import log_training_reference
    from sprintlab.tracking import log_and_register

    model, units = fitted
    folder = _model_folder(tmp_path, fitted, None)
    X = units[["signal", "noise"]]
    reg = log_and_register(
        experiment="loader-test",
        registered_name="sprintlab-loader-test",
        model=model,
        X_example=X.head(5),
        params={"n": 1},
        metrics={"model": {"roc_auc": 0.7}},
        artifacts={
            "evaluation": folder / EVALUATION_FILE,
            "levers": [folder / RANGES_FILE, folder / STEPS_FILE, folder / BOOTSTRAP_FILE],
        },
        compare=(X, units["y"].to_numpy()),
    )
    log_training_reference(reg.run_id, X)
    champion = load_registered_model("sprintlab-loader-test")
    assert (champion.version, champion.alias, champion.run_id) == ("1", "champion", reg.run_id)
    assert champion.uri == "models:/sprintlab-loader-test/1"
    assert [name for name, _ in champion.signature] == ["signal", "noise"]
    assert champion.trained_on == "2025-01-05"
    assert set(champion.lever_ranges) == {"signal", "noise"} and len(champion.lever_boosters) == 2
    assert champion.lever_steps == {"sleep_hours_7d": pytest.approx(np.sqrt(2.5 / 9))}
    assert set(champion.drift_reference["features"]) == {"signal", "noise"}
    np.testing.assert_allclose(champion.model.predict_proba(X), model.predict_proba(X))
    assert load_registered_model("sprintlab-loader-test", "1").alias == "-"
    with pytest.raises(ModelNotFoundError, match="no model sprintlab-loader-test version 9"):
        load_registered_model("sprintlab-loader-test", "9")


def test_a_registered_version_is_loaded_from_the_local_cache_without_mlflow(tmp_path, monkeypatch, fitted):
    """The second load of a version comes from ``model_cache/`` beside the SQLite store: the same
    model and artifacts, current tags, and in a fresh process neither MLflow nor skops imported; a
    cache entry of another run (a re-created store) is not used."""
    import subprocess
    import sys

    import joblib

    from sprintlab import registry
    from sprintlab.tracking import log_and_register

    new_store(monkeypatch, tmp_path)
    model, units = fitted
    folder = _model_folder(tmp_path, fitted, None)
    X = units[["signal", "noise"]]
    reg = log_and_register(
        experiment="cache-test",
        registered_name="sprintlab-cache-test",
        model=model,
        X_example=X.head(5),
        params={"n": 1},
        metrics={"model": {"roc_auc": 0.7}},
        artifacts={
            "evaluation": folder / EVALUATION_FILE,
            "levers": [folder / RANGES_FILE, folder / STEPS_FILE, folder / BOOTSTRAP_FILE],
        },
        compare=(X, units["y"].to_numpy()),
    )
    first = load_registered_model("sprintlab-cache-test")
    entry = tmp_path / registry.CACHE_DIR / "sprintlab-cache-test" / "1" / registry.CACHE_ENTRY
    assert entry.is_file()
    with monkeypatch.context() as m:  # the registry is not asked for the model again
        m.setattr(registry, "_registry_model", lambda *a: pytest.fail("loaded from the registry"))
        cached = load_registered_model("sprintlab-cache-test")
        by_version = load_registered_model("sprintlab-cache-test", "1")
    assert (cached.version, cached.alias, cached.run_id, cached.uri) == (
        "1",
        "champion",
        reg.run_id,
        first.uri,
    )
    assert by_version.alias == "-"
    assert (cached.signature, cached.metrics, cached.lever_ranges, cached.lever_steps) == (
        first.signature,
        first.metrics,
        first.lever_ranges,
        first.lever_steps,
    )
    assert cached.drift_reference == first.drift_reference and len(cached.lever_boosters) == 2
    assert (cached.data_source, cached.not_assessed) == (first.data_source, first.not_assessed)
    np.testing.assert_array_equal(cached.model.predict_proba(X), first.model.predict_proba(X))
    code = (
        "import sys; from sprintlab.registry import load_registered_model; "
        "m = load_registered_model('sprintlab-cache-test'); "
        "print(m.version, 'mlflow' in sys.modules, 'skops' in sys.modules)"
    )
    import os
    from pathlib import Path

    import sprintlab

    env = {**os.environ, "PYTHONPATH": str(Path(sprintlab.__file__).parents[1])}  # this checkout's code
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert out.split() == ["1", "False", "False"]
    stale = joblib.load(entry)
    joblib.dump(type(stale)(**{**stale.__dict__, "run_id": "another-run"}), entry)
    reloaded = load_registered_model("sprintlab-cache-test")  # from the registry, and cached again
    assert reloaded.run_id == reg.run_id and joblib.load(entry).run_id == reg.run_id
