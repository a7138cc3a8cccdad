"""MLflow tracking and model registry: log runs, register models, promote champions by rule.

The default store is the project's SQLite file (``sqlite:///<project>/mlflow.db``, artifacts in
``<project>/mlartifacts``), the project being the nearest folder from the working directory upwards
that holds ``params.yaml`` (:func:`find_project`; the command line's ``--project DIR`` names it with
:func:`project_store`) - never a stray ``mlflow.db`` wherever a command happens to run.
``MLFLOW_TRACKING_URI`` overrides it. Athlete identifiers are never logged: runs carry parameters,
metrics, the model and squad-level explanation summaries only.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

CHAMPION = "champion"
PROJECT_FILE = "params.yaml"
STORE_FILE = "mlflow.db"
URI_VARIABLE = "MLFLOW_TRACKING_URI"
#: the tag with a model's training data source; a champion is compared only with models of its own
SOURCE_TAG = "data_source"
#: seconds to wait for another writer's lock on a SQLite store before failing with
#: :class:`TrackingError`; ``SPRINTLAB_STORE_LOCK_WAIT_S`` overrides the default, which is MLflow's own
#: SQLite ``busy_timeout`` (20 s)
LOCK_WAIT_VARIABLE = "SPRINTLAB_STORE_LOCK_WAIT_S"
DEFAULT_LOCK_WAIT_S = 20.0
# types inside either model family (CalibratedLGBMClassifier, InteractionLogisticClassifier) that
# skops (MLflow's sklearn serialiser) may load
SKOPS_TRUSTED_TYPES = [
    "collections.OrderedDict",
    "lightgbm.basic.Booster",
    "lightgbm.sklearn.LGBMClassifier",
    "lightgbm.sklearn.LGBMRegressor",
    "sprintlab.models.estimator.CalibratedLGBMClassifier",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.isotonic.IsotonicRegression",
    "sprintlab.models.linear.InteractionLogisticClassifier",
    "sklearn.pipeline.Pipeline",
    "sklearn.impute._base.SimpleImputer",
    "sklearn.preprocessing._data.StandardScaler",
    "numpy.dtype",  # SimpleImputer's fitted dtype
]


class TrackingError(RuntimeError):
    """The MLflow store is unavailable, locked or inconsistent."""


def find_project(start: str | Path | None = None) -> Path | None:
    """The nearest folder from ``start`` (default: the working directory) upwards that holds
    ``params.yaml``; ``None`` when there is none."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    return next((d for d in (here, *here.parents) if (d / PROJECT_FILE).is_file()), None)


def project_uri(root: str | Path) -> str:
    """The default MLflow store of the project in ``root``: its ``mlflow.db``."""
    return f"sqlite:///{Path(root).resolve() / STORE_FILE}"


def tracking_uri() -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the SQLite store of the project around the working
    directory (:func:`find_project`). Raises :class:`TrackingError` outside any project."""
    if os.environ.get(URI_VARIABLE):
        return os.environ[URI_VARIABLE]
    root = find_project()
    if root is None:
        raise TrackingError(
            f"no sprintlab project at {Path.cwd()}: no {PROJECT_FILE} there or in any folder above it. "
            f"Run from the project, pass --project DIR, or set {URI_VARIABLE}."
        )
    return project_uri(root)


@contextmanager
def project_store(root: str | Path) -> Iterator[str]:
    """Within the block the default store is ``root``'s ``mlflow.db`` (``MLFLOW_TRACKING_URI``, when
    set, still wins); the variable is restored afterwards. Yields the store's URI."""
    before = os.environ.get(URI_VARIABLE)
    if not before:
        os.environ[URI_VARIABLE] = project_uri(root)
    try:
        yield os.environ[URI_VARIABLE]
    finally:
        if before is None:
            os.environ.pop(URI_VARIABLE, None)
        else:
            os.environ[URI_VARIABLE] = before


def _artifact_root(uri: str) -> str | None:
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
    return None


def _client():
    import mlflow

    uri = tracking_uri()
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return mlflow, mlflow.tracking.MlflowClient(uri)


def lock_wait_s() -> float:
    """The SQLite store's lock wait in seconds: ``SPRINTLAB_STORE_LOCK_WAIT_S`` when set (a number
    >= 0, else :class:`TrackingError`), else :data:`DEFAULT_LOCK_WAIT_S`."""
    text = os.environ.get(LOCK_WAIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LOCK_WAIT_S
    try:
        wait = float(text)
    except ValueError:
        wait = -1.0
    if not wait >= 0:
        raise TrackingError(f"{LOCK_WAIT_VARIABLE} must be a number of seconds >= 0, got {text!r}")
    return wait


def _check_store_unlocked(uri: str) -> None:
    """Fail with :class:`TrackingError` when another connection holds an existing SQLite store's
    write lock for longer than :func:`lock_wait_s` (a ``BEGIN IMMEDIATE`` probe, rolled back)."""
    import sqlite3

    path = Path(uri.removeprefix("sqlite:///")) if uri.startswith("sqlite:///") else None
    if path is None or not path.is_file():
        return
    try:
        probe = sqlite3.connect(path, timeout=lock_wait_s())
        try:
            probe.execute("BEGIN IMMEDIATE")
            probe.rollback()
        finally:
            probe.close()
    except sqlite3.OperationalError as err:
        raise TrackingError(f"MLflow store at {uri} is unavailable or locked: {err}") from err


def ensure_experiment(name: str) -> str:
    """Create the experiment (artifacts beside the SQLite file) if needed; return its id. A store
    another writer keeps locked fails after :func:`lock_wait_s` seconds."""
    _check_store_unlocked(tracking_uri())
    try:
        mlflow, client = _client()
        exp = client.get_experiment_by_name(name)
        if exp is None:
            return client.create_experiment(name, artifact_location=_artifact_root(tracking_uri()))
        return exp.experiment_id
    except Exception as err:  # noqa: BLE001 - any store failure becomes one clear error
        raise TrackingError(f"MLflow store at {tracking_uri()} is unavailable: {err}") from err


@dataclass(frozen=True)
class Promotion:
    """The rule's verdict on a new version: whether it takes the ``champion`` alias, why, its score
    and the champion's on the same evaluation data (``None`` when there was no comparable one),
    the version holding the alias afterwards, and whether the new model scores every evaluation
    unit exactly as that champion does (the same model trained again)."""

    champion: bool
    reason: str
    score: float
    champion_score: float | None = None
    champion_version: str | None = None
    identical: bool = False


@dataclass(frozen=True)
class RegisteredModel:
    name: str
    version: str
    run_id: str
    model_uri: str
    champion: bool
    reason: str
    promotion: Promotion | None = None


def log_and_register(
    *,
    experiment: str,
    registered_name: str,
    model,
    X_example: pd.DataFrame,
    params: dict,
    metrics: dict,
    artifacts: Mapping[str, Path | Sequence[Path]],
    compare: tuple[pd.DataFrame, np.ndarray],
    metric: str = "roc_auc",
    min_improvement: float = 0.0,
    tags: dict[str, str] | None = None,
) -> RegisteredModel:
    """Log a training run, register the model and move the ``champion`` alias by rule.

    ``artifacts`` maps an artifact folder of the run to the file (or files) logged into it.
    The new version becomes champion only when its ``metric`` on the evaluation data
    ``compare = (X_test, y_test)`` beats the current champion's on the same data by at least
    ``min_improvement`` (or when there is no comparable champion: none yet, one that cannot score
    these data, or one trained on another data source, ``tags["data_source"]``). Otherwise it stays
    registered without the alias and the reason is logged and returned. ``tags`` go to the run and
    to the new model version.
    """
    from sklearn.metrics import average_precision_score, roc_auc_score

    mlflow, client = _client()
    exp_id = ensure_experiment(experiment)
    score = roc_auc_score if metric == "roc_auc" else average_precision_score
    try:
        with mlflow.start_run(experiment_id=exp_id) as run:
            mlflow.set_tags({**(tags or {}), "dvc_experiment": os.environ.get("DVC_EXP_NAME", "workspace")})
            mlflow.log_params(
                {k: (json.dumps(v) if isinstance(v, list | dict) else v) for k, v in params.items()}
            )
            mlflow.log_metrics(_flat_metrics(metrics))
            for folder, paths in artifacts.items():
                for path in [paths] if isinstance(paths, Path) else paths:
                    mlflow.log_artifact(str(path), artifact_path=folder)
            info = _log_model(mlflow, model, X_example, registered_name)
            version = str(info.registered_model_version)
            for key, value in (tags or {}).items():
                client.set_model_version_tag(registered_name, version, key, value)
            verdict = _promote(
                client,
                registered_name,
                version,
                model,
                compare,
                score,
                min_improvement,
                (tags or {}).get(SOURCE_TAG),
            )
            mlflow.set_tag("promotion", verdict.reason)
            log.info("%s v%s: %s", registered_name, version, verdict.reason)
            return RegisteredModel(
                registered_name,
                version,
                run.info.run_id,
                info.model_uri,
                verdict.champion,
                verdict.reason,
                verdict,
            )
    except TrackingError:
        raise
    except Exception as err:  # noqa: BLE001
        text = f"{type(err).__name__}: {err}".lower()
        if any(
            k in text for k in ("locked", "unable to open", "operationalerror", "connection", "permission")
        ):
            raise TrackingError(f"MLflow store at {tracking_uri()} is unavailable or locked: {err}") from err
        raise


#: what a logged model needs besides sprintlab itself (whose estimators it holds), pinned to the
#: installed versions: stated, not inferred - MLflow's inference reloads the model in a fresh Python
#: process (~4 s per logged model) and its answer depends on what that process happens to import
MODEL_REQUIREMENTS = ("mlflow", "scikit-learn", "skops", "lightgbm", "numpy", "pandas", "scipy")


def model_pip_requirements() -> list[str]:
    """``name==version`` of :data:`MODEL_REQUIREMENTS` as installed here."""
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def _log_model(mlflow, model, X_example: pd.DataFrame, registered_name: str):
    """Log ``model`` with its signature, an input example and its pip requirements
    (:func:`model_pip_requirements`), registered as ``registered_name``."""
    from mlflow.models import infer_signature

    return mlflow.sklearn.log_model(
        model,
        name="model",
        pip_requirements=model_pip_requirements(),
        signature=infer_signature(X_example, model.predict_proba(X_example)),
        input_example=X_example.head(3),
        pyfunc_predict_fn="predict_proba",
        registered_model_name=registered_name,
        skops_trusted_types=SKOPS_TRUSTED_TYPES,
    )


def _promote(
    client, name: str, version: str, model, compare, score, margin: float, source: str | None
) -> Promotion:
    """Move the ``champion`` alias to ``version`` when it beats the champion; tag the reason.

    On any failure the new version is removed again (the run stays for the record).
    """
    X_cmp, y_cmp = compare
    try:
        p_new = model.predict_proba(X_cmp)[:, 1]
        verdict = _decide(client, name, X_cmp, y_cmp, score, p_new, margin, source)
        if verdict.champion:
            client.set_registered_model_alias(name, CHAMPION, version)
            verdict = replace(verdict, champion_version=version)
        client.set_model_version_tag(name, version, "promotion", verdict.reason)
        return verdict
    except Exception:
        try:
            client.delete_model_version(name, version)
        except Exception:  # noqa: BLE001 - best effort; the original error matters
            log.error("could not remove model version %s v%s after a failure", name, version)
        raise


def _decide(client, name, X, y, score, p_new, margin, source=None) -> Promotion:
    """Whether the new model (probabilities ``p_new`` on ``X``, scored against ``y``; trained on
    data ``source``) replaces the current champion, and why."""
    from sprintlab.registry import load_registered_model

    new_score = float(score(y, p_new))
    try:
        current = client.get_model_version_by_alias(name, CHAMPION)
    except Exception:  # noqa: BLE001 - no alias yet
        return Promotion(
            True, f"first champion ({score.__name__} {new_score:.3f} on this evaluation data)", new_score
        )
    old_source = (getattr(current, "tags", None) or {}).get(SOURCE_TAG)
    if source is not None and old_source != source:
        return Promotion(
            True,
            f"champion v{current.version} was trained on {old_source or 'unrecorded'} data, this model on "
            f"{source} data: models of different data sources are not compared; replaced",
            new_score,
        )
    try:
        p_old = load_registered_model(name, str(current.version)).model.predict_proba(X)[:, 1]
        old_score = float(score(y, p_old))
    except Exception as err:  # noqa: BLE001 - incompatible champion (e.g. other features)
        return Promotion(
            True,
            f"champion v{current.version} cannot score this evaluation data ({type(err).__name__}); replaced",
            new_score,
        )
    kept = Promotion(False, "", new_score, old_score, str(current.version))
    if new_score > old_score and new_score - old_score >= margin:  # a tie does not beat the champion
        return replace(
            kept,
            champion=True,
            reason=f"beats champion v{current.version}: {new_score:.3f} vs {old_score:.3f} (margin {margin})",
        )
    same = bool(np.array_equal(p_new, p_old))  # the same model trained again
    return replace(
        kept,
        reason=f"not promoted: {new_score:.3f} does not beat champion v{current.version} "
        f"({old_score:.3f}) by {margin} on the same evaluation data"
        + ("; it predicts exactly as the champion" if same else ""),
        identical=same,
    )


def _flat_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat_metrics(v, key + "."))
        elif isinstance(v, list) and len(v) == 2 and all(isinstance(x, float) for x in v):
            out[key + ".lo"], out[key + ".hi"] = v
        elif isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v):
            out[key] = float(v)
    return out


def write_json_tmp(data: dict, name: str) -> Path:
    """Write ``data`` as JSON to a fresh temporary file (for logging as an artifact)."""
    path = Path(tempfile.mkdtemp()) / name
    path.write_text(json.dumps(data, indent=2, sort_keys=True, default=str), encoding="utf-8")
    return path
