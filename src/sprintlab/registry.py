"""The one model loader: a trained model with everything that travels with it.

A model is loaded either from a pipeline model folder (``models/<target>/``, written by the
``train_<target>`` stage) or from the MLflow model registry (``models:/<name>@champion`` or an
explicit version). Both give a :class:`LoadedModel`: the fitted estimator, its registry identity
(name, version, alias, run), its input signature, its held-out evaluation, its training drift
reference and its lever artifacts (training ranges and bootstrap boosters) where they exist.

Folder layout (file names defined here once)::

    models/<target>/model.joblib              the fitted estimator
    models/<target>/registry.json             {"registered", "name", "version", "champion", "run_id",
                                              "model_sha256", ...} or {"registered": false, "skipped": why};
                                              outside DVC (``.dvcignore``: run ids and versions differ
                                              from store to store), trusted only while its
                                              ``model_sha256`` is that of ``model.joblib``
    models/<target>/features.json             features used, features and families not assessed (with
                                              why) and the training data source (``data.source``)
    models/<target>/evaluation.json           held-out evaluation (``sprintlab.models.training``)
    models/<target>/drift_reference.json      training distribution (``sprintlab.drift``)
    models/<target>/training_ranges.json      lever artifacts (``sprintlab.levers``)
    models/<target>/lever_steps.json
    models/<target>/levers_bootstrap.joblib

A registered model's run carries ``evaluation/evaluation.json``, ``drift/drift_reference.json`` and,
when logged, ``levers/training_ranges.json``, ``levers/lever_steps.json`` and
``levers/levers_bootstrap.joblib``; its registry
version carries the tags ``data_source`` (simulated or folder) and ``features_not_assessed`` (JSON:
feature -> why). MLflow is imported only when a registered model is loaded from the registry.

**Local champion cache.** A registry version is immutable (its estimator, signature and run
artifacts never change), so the first load of a version from a SQLite store writes them to
``<store folder>/model_cache/<name>/<version>/entry.joblib``. A later load resolves the alias (or
the version) and reads its tags with ``sqlite3`` - the store is asked every time, so a newly
promoted champion is picked up at once - and, when the cached entry's run id matches, loads the
entry without importing MLflow or skops. Anything the SQLite lookup cannot answer unambiguously
(another store type, a schema it does not know, a missing alias) goes through MLflow as before.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sprintlab.domain import TARGETS
from sprintlab.io import write_bytes_atomic
from sprintlab.tracking import CHAMPION, SOURCE_TAG, _client, tracking_uri

if TYPE_CHECKING:
    from sprintlab.models.datasets import FeatureCoverage
    from sprintlab.models.families import Classifier

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
REGISTRY_FILE = "registry.json"
EVALUATION_FILE = "evaluation.json"
FEATURES_FILE = "features.json"
EVALUATION_ARTIFACT = f"evaluation/{EVALUATION_FILE}"
LEVERS_ARTIFACT_DIR = "levers"
UNREGISTERED = "unregistered"
NO_ALIAS = "-"
#: the key of ``registry.json`` / ``evaluation.json`` that says why a model was not trained
SKIPPED = "skipped"
#: registry tag (model version and run; :data:`sprintlab.tracking.SOURCE_TAG` holds the training
#: data source) with the configured features the training data did not provide, as JSON
NOT_ASSESSED_TAG = "features_not_assessed"
#: registry tag (model version) with the SHA-256 of the model's ``model.joblib`` in its pipeline folder
SHA_TAG = "model_sha256"
#: the training data source of a model that does not record one (trained before it was recorded)
UNKNOWN_SOURCE = "unknown"

#: the local cache of registered models, beside a SQLite store (``<store folder>/model_cache``)
CACHE_DIR = "model_cache"
CACHE_ENTRY = "entry.joblib"
#: MLflow's stage of a soft-deleted model version and the status of a usable one
_DELETED_STAGE = "Deleted_Internal"
_READY = "READY"

LeverRanges = dict[str, tuple[float, float]]


class ModelNotFoundError(LookupError):
    """The requested model is not in the folder or the registry."""


class ModelSkippedError(ModelNotFoundError):
    """The pipeline did not train the model (too little data); the message says why."""


@dataclass(frozen=True)
class LoadedModel:
    """A fitted model with its identity, evaluation, drift reference and lever artifacts.

    ``signature``: the logged input signature as (feature, type) pairs, empty for a folder model;
    ``metrics``: the held-out evaluation (empty when none was stored); ``drift_reference``,
    ``lever_ranges``, ``lever_steps`` (effort-equivalent steps, :func:`sprintlab.levers.lever_steps`)
    and ``lever_boosters`` are ``None`` when the model carries none.
    ``data_source``: what the model was trained on (``data.source``: simulated or folder;
    ``unknown`` for a model that does not record it); ``not_assessed``: configured features the
    training data did not provide -> why.
    """

    name: str
    version: str
    alias: str
    run_id: str | None
    uri: str
    model: Classifier
    signature: tuple[tuple[str, str], ...] = ()
    metrics: dict[str, Any] = field(default_factory=dict)
    drift_reference: dict[str, Any] | None = None
    lever_ranges: LeverRanges | None = None
    lever_boosters: tuple[Any, ...] | None = None
    lever_steps: dict[str, float] | None = None
    data_source: str = UNKNOWN_SOURCE
    not_assessed: dict[str, str] = field(default_factory=dict)

    @property
    def feature_names(self) -> list[str]:
        """The features the estimator was fitted with, in order."""
        return list(self.model.feature_names_in_)

    @property
    def coverage(self) -> FeatureCoverage:
        """The features the model uses and those its training data did not provide, with why."""
        from sprintlab.models.datasets import FeatureCoverage

        return FeatureCoverage(tuple(self.feature_names), dict(self.not_assessed))

    @property
    def trained_on_folder_data(self) -> bool:
        """Whether the model records that it was trained on a club's exports (``data.source: folder``)."""
        return self.data_source == "folder"

    @property
    def trained_on(self) -> str:
        """The evaluation's split cutoff date ('' when unknown)."""
        return str(self.metrics.get("split_cutoff", ""))


# ------------------------------------------------------------------ pipeline model folders
def model_folder(models_dir: str | Path, target: str) -> Path:
    """The folder of ``target``'s model inside a pipeline models folder."""
    return Path(models_dir) / target


def save_estimator(model: object, model_dir: str | Path) -> Path:
    """Write the fitted estimator to ``model_dir/model.joblib`` atomically."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer)
    return write_bytes_atomic(Path(model_dir) / MODEL_FILE, buffer.getvalue())


def _read_json(path: Path | None) -> dict[str, Any] | None:
    return json.loads(path.read_text(encoding="utf-8")) if path is not None and path.exists() else None


#: training ranges, bootstrap boosters and effort-equivalent steps of a model (each None when absent)
_LeverArtifacts = tuple[LeverRanges | None, tuple[Any, ...] | None, dict[str, float] | None]


def _folder_levers(folder: Path) -> _LeverArtifacts:
    """Training ranges, bootstrap boosters and lever steps stored in ``folder`` (``None`` for each one absent)."""
    import joblib

    from sprintlab.levers import (
        BOOTSTRAP_FILE,
        RANGES_FILE,
        STEPS_FILE,
        load_lever_steps,
        load_training_ranges,
    )

    ranges = load_training_ranges(folder / RANGES_FILE) if (folder / RANGES_FILE).exists() else None
    boosters = tuple(joblib.load(folder / BOOTSTRAP_FILE)) if (folder / BOOTSTRAP_FILE).exists() else None
    steps = load_lever_steps(folder / STEPS_FILE) if (folder / STEPS_FILE).exists() else None
    return ranges, boosters, steps


def skip_reason(models_dir: str | Path, target: str) -> str | None:
    """Why the pipeline did not train ``target``'s model (``None`` when it did, or never ran)."""
    folder = model_folder(models_dir, target)
    reason = (_read_json(folder / EVALUATION_FILE) or _read_json(folder / REGISTRY_FILE) or {}).get(SKIPPED)
    return None if reason is None else str(reason)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex)."""
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def registration(models_dir: str | Path, target: str) -> dict[str, Any] | None:
    """The registry record (``registry.json``) of the model now in ``models_dir/<target>/``;
    ``None`` when there is none or it belongs to another model (e.g. after ``dvc exp apply`` or
    ``dvc checkout`` brought back another experiment's model: its ``model_sha256`` differs)."""
    folder = model_folder(models_dir, target)
    record = _read_json(folder / REGISTRY_FILE)
    if record is None or SHA_TAG not in record:
        return record
    model = folder / MODEL_FILE
    return record if model.exists() and file_sha256(model) == record[SHA_TAG] else None


def _model_info(folder: Path) -> tuple[str, dict[str, str]]:
    """Training data source and absent features recorded in ``features.json`` (older folders
    hold only the feature list: source unknown, nothing recorded as absent)."""
    info = _read_json(folder / FEATURES_FILE)
    if not isinstance(info, dict):
        return UNKNOWN_SOURCE, {}
    return str(info.get(SOURCE_TAG, UNKNOWN_SOURCE)), dict(info.get(NOT_ASSESSED_TAG) or {})


def load_pipeline_model(models_dir: str | Path, target: str) -> LoadedModel:
    """``target``'s model from a pipeline models folder (``models_dir/<target>/``).

    Version and alias come from the folder's ``registry.json`` (``unregistered`` / ``-`` when the
    model was not registered). Raises :class:`ModelSkippedError` (with the reason) when the stage
    did not train it, :class:`ModelNotFoundError` when ``model.joblib`` is absent otherwise.
    """
    import joblib

    from sprintlab.drift import load_reference

    folder = model_folder(models_dir, target)
    skipped = skip_reason(models_dir, target)
    if skipped is not None:
        raise ModelSkippedError(f"{target} model not trained: {skipped}")
    if not (folder / MODEL_FILE).exists():
        raise ModelNotFoundError(f"no model in {folder} (expected {MODEL_FILE})")
    record = registration(models_dir, target) or {}
    ranges, boosters, steps = _folder_levers(folder)
    source, not_assessed = _model_info(folder)
    return LoadedModel(
        name=TARGETS[target].registered_name,
        version=str(record.get("version", UNREGISTERED)),
        alias=CHAMPION if record.get("champion") else NO_ALIAS,
        run_id=record.get("run_id"),
        uri=(folder / MODEL_FILE).resolve().as_uri(),
        model=joblib.load(folder / MODEL_FILE),
        metrics=_read_json(folder / EVALUATION_FILE) or {},
        drift_reference=load_reference(None, folder),
        lever_ranges=ranges,
        lever_boosters=boosters,
        lever_steps=steps,
        data_source=source,
        not_assessed=not_assessed,
    )


# ------------------------------------------------------------------ the MLflow registry
def _registered_version(client: Any, name: str, version: str | None) -> Any:
    label = f"{name} version {version}" if version else f"{name}@{CHAMPION}"
    try:
        if version:
            return client.get_model_version(name, version)
        return client.get_model_version_by_alias(name, CHAMPION)
    except Exception as err:  # noqa: BLE001 - every registry failure means "this model is not there"
        detail = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelNotFoundError(
            f"no model {label} in the MLflow registry at {tracking_uri()}. Detail: {detail}"
        ) from err


def _signature(info: Any) -> tuple[tuple[str, str], ...]:
    if info.signature is None or info.signature.inputs is None:
        return ()
    return tuple((c.name, str(getattr(c.type, "name", c.type))) for c in info.signature.inputs.inputs)


def _registered_estimator(mlflow: Any, uri: str) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """The estimator stored at ``uri`` and its logged input signature."""
    try:
        return mlflow.sklearn.load_model(uri), _signature(mlflow.models.get_model_info(uri))
    except Exception as err:  # noqa: BLE001 - a registered but unloadable model is a missing model
        raise ModelNotFoundError(f"model {uri} is registered but cannot be loaded: {err}") from err


def _run_artifact(mlflow: Any, run_id: str | None, path: str) -> Path | None:
    """A local copy of one artifact of ``run_id``; ``None`` when the run or the artifact is absent."""
    if not run_id:
        return None
    try:
        return Path(mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path=path))
    except Exception as err:  # noqa: BLE001 - an absent artifact is reported as "not available"
        log.info("no artifact %s in run %s: %s", path, run_id, err)
        return None


def _run_levers(mlflow: Any, run_id: str | None) -> _LeverArtifacts:
    folder = _run_artifact(mlflow, run_id, LEVERS_ARTIFACT_DIR)
    return _folder_levers(folder) if folder is not None else (None, None, None)


def champion_version(name: str) -> tuple[str, str | None] | None:
    """The version of ``name`` holding the ``champion`` alias and the SHA-256 of its
    ``model.joblib`` (its ``model_sha256`` tag; ``None`` for a version registered before the tag
    was); ``None`` when there is no champion or the registry cannot be reached."""
    try:
        _, client = _client()
        current = client.get_model_version_by_alias(name, CHAMPION)
    except Exception as err:  # noqa: BLE001 - no model, no alias or no store: no champion to name
        log.info("no champion of %s in the MLflow registry: %s", name, err)
        return None
    return str(current.version), dict(getattr(current, "tags", None) or {}).get(SHA_TAG)


def _claims_champion(record: dict[str, Any] | None) -> bool:
    """Whether a folder's registry record says its model was the champion when it was trained."""
    return record is not None and bool(record.get("champion") or record.get("identical_to_champion"))


def folder_champion(models_dir: str | Path, target: str) -> tuple[str | None, bool]:
    """The registry's champion version of ``target`` (``None``: no champion, or no registry) and
    whether it is the model in ``models_dir/<target>/``: the champion's ``model_sha256`` tag is the
    hash of the folder's ``model.joblib``, or, for a champion registered before that tag, the
    folder's registry record names it. With no champion, whether the record says it was one."""
    folder = model_folder(models_dir, target)
    record = registration(models_dir, target)
    current = champion_version(TARGETS[target].registered_name)
    if current is None:
        return None, _claims_champion(record)
    version, sha = current
    if sha is not None:
        return version, (folder / MODEL_FILE).exists() and file_sha256(folder / MODEL_FILE) == sha
    named = str((record or {}).get("champion_version") or (record or {}).get("version"))
    return version, _claims_champion(record) and named == version


def load_registered_model(name: str, version: str | None = None) -> LoadedModel:
    """The registered model ``name`` by alias ``champion`` (or an explicit ``version``), with its
    signature, evaluation, drift reference and lever artifacts from its MLflow run.

    From the local cache when the store is SQLite and the version was loaded before (see the
    module docstring), else from the registry (then cached). Raises :class:`ModelNotFoundError`
    when the registry has no such model.
    """
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    store = _sqlite_store(tracking_uri())
    resolved = _sqlite_version(store, name, version) if store is not None else None
    if store is not None and resolved is not None:
        cached = _cached_model(store, name, resolved, version)
        if cached is not None:
            return cached
    loaded = _registry_model(name, version)
    if store is not None:
        _write_cache(store, loaded)
    return loaded


def _registry_model(name: str, version: str | None) -> LoadedModel:
    """``name``'s champion (or ``version``) loaded through MLflow."""
    from sprintlab.drift import load_reference

    mlflow, client = _client()
    registered = _registered_version(client, name, version)
    uri = f"models:/{name}/{registered.version}"
    model, signature = _registered_estimator(mlflow, uri)
    ranges, boosters, steps = _run_levers(mlflow, registered.run_id)
    tags = dict(getattr(registered, "tags", None) or {})
    return LoadedModel(
        name=name,
        version=str(registered.version),
        alias=NO_ALIAS if version else CHAMPION,
        run_id=registered.run_id,
        uri=uri,
        model=model,
        signature=signature,
        metrics=_read_json(_run_artifact(mlflow, registered.run_id, EVALUATION_ARTIFACT)) or {},
        drift_reference=load_reference(registered.run_id),
        lever_ranges=ranges,
        lever_boosters=boosters,
        lever_steps=steps,
        data_source=str(tags.get(SOURCE_TAG, UNKNOWN_SOURCE)),
        not_assessed=_json_tag(tags.get(NOT_ASSESSED_TAG)),
    )


# ------------------------------------------------------------------ the local cache
@dataclass(frozen=True)
class _Resolved:
    """A registry version as the SQLite store records it: number, run and (mutable) tags."""

    version: str
    run_id: str | None
    tags: dict[str, str]


def _sqlite_store(uri: str) -> Path | None:
    """The database file of a ``sqlite:///`` tracking URI (``None`` for other stores)."""
    return Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None


def _sqlite_version(db: Path, name: str, version: str | None) -> _Resolved | None:
    """``name``'s champion (or ``version``) read from MLflow's SQLite tables without MLflow;
    ``None`` whenever the answer is not one usable version (MLflow then resolves, and words the
    error)."""
    if not db.is_file():
        return None
    try:
        with closing(sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)) as con:
            if version is None:
                sql = "SELECT version FROM registered_model_aliases WHERE name = ? AND alias = ?"
                rows = con.execute(sql, (name, CHAMPION)).fetchall()
                if len(rows) != 1:
                    return None
                version = str(rows[0][0])
            key = (name, int(version))
            sql = "SELECT run_id, current_stage, status FROM model_versions WHERE name = ? AND version = ?"
            rows = con.execute(sql, key).fetchall()
            if len(rows) != 1 or rows[0][1] == _DELETED_STAGE or rows[0][2] != _READY:
                return None
            sql = "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?"
            tags = {str(k): str(v) for k, v in con.execute(sql, key).fetchall()}
    except (sqlite3.Error, ValueError) as err:
        log.info("registry lookup in %s without MLflow failed (%s); asking MLflow", db, err)
        return None
    return _Resolved(version, rows[0][0], tags)


def _cache_path(db: Path, name: str, version: str) -> Path:
    return db.resolve().parent / CACHE_DIR / name / version / CACHE_ENTRY


def _cached_model(db: Path, name: str, resolved: _Resolved, version: str | None) -> LoadedModel | None:
    """The cached entry of ``resolved`` with its current tags; ``None`` when there is none, it
    belongs to another run (a re-created store) or cannot be read."""
    import joblib

    path = _cache_path(db, name, resolved.version)
    if not path.is_file():
        return None
    try:
        cached = joblib.load(path)
    except Exception as err:  # noqa: BLE001 - an unreadable cache entry is reloaded from the registry
        log.warning("model cache %s unreadable (%s); loading from the registry", path, err)
        return None
    if not isinstance(cached, LoadedModel) or cached.run_id != resolved.run_id or cached.name != name:
        return None
    return replace(
        cached,
        alias=NO_ALIAS if version else CHAMPION,
        data_source=str(resolved.tags.get(SOURCE_TAG, UNKNOWN_SOURCE)),
        not_assessed=_json_tag(resolved.tags.get(NOT_ASSESSED_TAG)),
    )


def _write_cache(db: Path, loaded: LoadedModel) -> None:
    """Store ``loaded`` as the cache entry of its version (a failure only costs the next load)."""
    import joblib

    buffer = io.BytesIO()
    try:
        joblib.dump(loaded, buffer)
        write_bytes_atomic(_cache_path(db, loaded.name, loaded.version), buffer.getvalue())
    except Exception as err:  # noqa: BLE001 - the cache is an optimisation, never a failure
        log.warning("could not cache model %s version %s: %s", loaded.name, loaded.version, err)


def _json_tag(value: str | None) -> dict[str, str]:
    """A JSON object stored as a tag (empty when absent or unreadable)."""
    try:
        doc = json.loads(value) if value else {}
    except json.JSONDecodeError:
        log.warning("unreadable registry tag %s: %r", NOT_ASSESSED_TAG, value)
        return {}
    return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
