"""The registry rule: champion only when the new model beats the champion on the same data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tests.conftest import new_store

from sprintlab.models.estimator import CalibratedLGBMClassifier

pytest.importorskip("mlflow")


def _data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"signal": rng.normal(size=n), "noise": rng.normal(size=n)})
    y = (rng.random(n) < 1 / (1 + np.exp(-(-0.5 + 1.5 * X["signal"])))).astype(int).to_numpy()
    return X, y, np.repeat(np.arange(n // 10), 10)


def test_first_model_is_champion_worse_model_is_not_and_champion_loads(tmp_path, monkeypatch):
    new_store(monkeypatch, tmp_path)
    from sprintlab.registry import load_registered_model
    from sprintlab.tracking import log_and_register

    X, y, groups = _data(600, 0)
    X_te, y_te, _ = _data(300, 1)
    good = CalibratedLGBMClassifier(n_estimators=30, num_leaves=3, random_state=0).fit(X, y, groups=groups)
    # the worse model sees only the noise column as its "signal": same inputs, no information
    shuffled = X.assign(signal=np.random.default_rng(5).permutation(X["signal"].to_numpy()))
    worse = CalibratedLGBMClassifier(n_estimators=30, num_leaves=3, random_state=0).fit(
        shuffled, y, groups=groups
    )
    name = "sprintlab-registry-test"
    common = dict(
        experiment="registry-test",
        registered_name=name,
        X_example=X_te.head(5),
        params={"n": 1},
        metrics={"model": {"roc_auc": 0.0}},
        artifacts={},
        compare=(X_te, y_te),
        metric="roc_auc",
        min_improvement=0.0,
    )

    first = log_and_register(model=good, **common)
    assert first.champion and first.version == "1"
    assert "first champion" in first.reason

    second = log_and_register(model=worse, **common)
    assert not second.champion and second.version == "2"
    assert "not promoted" in second.reason and "does not beat champion v1" in second.reason

    import mlflow

    client = mlflow.tracking.MlflowClient()
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"
    assert client.get_model_version(name, "2").tags["promotion"] == second.reason

    tie = log_and_register(model=good, **common)  # the same model again: equal, not better
    assert not tie.champion and "does not beat champion v1" in tie.reason
    # the same model trained again is recognised as the champion's twin; a worse one is not
    assert tie.promotion.identical and tie.promotion.champion_version == "1"
    assert not second.promotion.identical and second.promotion.champion_score > second.promotion.score
    assert str(client.get_model_version_by_alias(name, "champion").version) == "1"

    # the requirements are stated from the installed versions (tracking.MODEL_REQUIREMENTS), not inferred
    from importlib.metadata import version as installed

    from sprintlab.tracking import MODEL_REQUIREMENTS

    reqs_file = mlflow.artifacts.download_artifacts(f"models:/{name}/1") + "/requirements.txt"
    reqs = Path(reqs_file).read_text().split()
    assert [f"{d}=={installed(d)}" for d in MODEL_REQUIREMENTS] == [r for r in reqs if "==" in r]

    loaded = mlflow.sklearn.load_model(f"models:/{name}@champion")
    np.testing.assert_allclose(loaded.predict_proba(X_te)[:, 1], good.predict_proba(X_te)[:, 1])
    loaded = load_registered_model(name)
    model, version = loaded.model, loaded.version
    assert version == "1" and isinstance(model, CalibratedLGBMClassifier)


def test_a_champion_of_another_data_source_is_replaced_and_the_source_travels(tmp_path, monkeypatch):
    """A model trained on a club's exports is never measured against a champion trained on simulated
    athletes: it replaces it; the loaded model knows its source and the features it lacks."""
    new_store(monkeypatch, tmp_path)
    import json

    from sprintlab.registry import load_registered_model
    from sprintlab.tracking import log_and_register

    X, y, groups = _data(600, 0)
    X_te, y_te, _ = _data(300, 1)
    good = CalibratedLGBMClassifier(n_estimators=30, num_leaves=3, random_state=0).fit(X, y, groups=groups)
    noise = CalibratedLGBMClassifier(n_estimators=30, num_leaves=3, random_state=0).fit(
        X[["noise"]], y, groups=groups
    )
    common = dict(
        experiment="source-test",
        registered_name="sprintlab-source-test",
        params={"n": 1},
        metrics={"model": {"roc_auc": 0.0}},
        artifacts={},
        metric="roc_auc",
        min_improvement=0.0,
    )
    first = log_and_register(
        model=good, X_example=X_te.head(5), compare=(X_te, y_te), tags={"data_source": "simulated"}, **common
    )
    lacks = {"signal": "no sprint_steps table"}
    club = log_and_register(
        model=noise,
        X_example=X_te[["noise"]].head(5),
        compare=(X_te[["noise"]], y_te),
        tags={"data_source": "folder", "features_not_assessed": json.dumps(lacks)},
        **common,
    )
    assert first.champion and club.champion  # worse on these data, but the first one is simulated
    assert "trained on simulated data, this model on folder data" in club.reason
    loaded = load_registered_model("sprintlab-source-test")
    assert loaded.version == club.version and loaded.data_source == "folder"
    assert loaded.not_assessed == lacks and loaded.trained_on_folder_data
    assert load_registered_model("sprintlab-source-test", first.version).data_source == "simulated"
