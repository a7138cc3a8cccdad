"""Feature drift: population stability index (PSI) of scoring data against the training data.

At training time :func:`log_training_reference` stores, per model feature, fine quantile bins of
the training distribution (interior cut points at every 5 %, counts per bin and the count of
missing values) as ``drift_reference.json`` beside the model and as the MLflow artifact
``drift/drift_reference.json`` of the model's run. At scoring time :func:`drift_table` compares
the week's feature values with that reference.

PSI = sum over bins of (a - e) * ln(a / e), with ``e`` the training share and ``a`` the scoring
share of a bin; missing values form their own bin (a feature that suddenly goes missing is drift
too). A squad scores only a few dozen athletes a week, so the fine bins are merged into
contiguous groups of roughly equal training mass until every group expects at least
``min_per_bin`` scored values (4 groups for 40 athletes), and half a count is added to every bin
of both sides so that an empty bin does not make the index infinite. Rough reading: < 0.1 stable,
0.1-0.25 moderate shift, > 0.25 a shift worth a look.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from sprintlab.io import write_text_atomic

log = logging.getLogger(__name__)

REFERENCE_FILE = "drift_reference.json"
#: key of the summary of the validated training tables' contract columns inside the reference
#: (:mod:`sprintlab.contract.plausibility`: unit slips of new exports against the training data)
CONTRACT_KEY = "contract_columns"
ARTIFACT_DIR = "drift"
FINE_BINS = 20
SMOOTHING = 0.5
DRIFT_COLUMNS = [
    "feature",
    "psi",
    "n_scored",
    "bins",
    "train_missing_share",
    "scored_missing_share",
    "train_median",
    "scored_median",
]


def feature_reference(values: np.ndarray, n_bins: int = FINE_BINS) -> dict:
    """Fine quantile bins of one feature: ``edges`` (interior cut points, bins are (e[i-1], e[i]]),
    ``counts`` per bin, ``missing`` count, ``n`` and ``median`` of the finite values."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    if finite.size == 0:
        return {"edges": [], "counts": [], "missing": int(v.size), "n": int(v.size), "median": None}
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, n_bins + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=edges.size + 1)
    return {
        "edges": [float(e) for e in edges],
        "counts": [int(c) for c in counts],
        "missing": int(v.size - finite.size),
        "n": int(v.size),
        "median": float(np.median(finite)),
    }


def reference_distribution(X: pd.DataFrame, n_bins: int = FINE_BINS) -> dict:
    """The training reference of every column of ``X`` (the model's feature matrix)."""
    return {
        "version": 1,
        "n_rows": int(len(X)),
        "n_bins": n_bins,
        "features": {c: feature_reference(X[c].to_numpy(dtype=float), n_bins) for c in X.columns},
    }


def _groups(counts: np.ndarray, k: int) -> np.ndarray:
    """Assign each fine bin to one of ``k`` contiguous groups of roughly equal reference mass."""
    total = counts.sum()
    if total == 0 or k <= 1:
        return np.zeros(counts.size, dtype=int)
    mid = (np.cumsum(counts) - counts / 2) / total
    return np.minimum((mid * k).astype(int), k - 1)


def _grouped_counts(ref: dict, finite: np.ndarray, min_per_bin: int) -> tuple[np.ndarray, np.ndarray]:
    """Expected (training) and actual (scored) counts of the finite values in contiguous groups of
    the reference's fine bins, ``k = min(fine bins, max(1, n_scored // min_per_bin))`` groups."""
    edges = np.asarray(ref["edges"], dtype=float)
    ref_counts = np.asarray(ref["counts"], dtype=float)
    if not ref_counts.size:
        # no finite training values at all: finite values now are one bin of pure drift
        return (np.zeros(1), np.array([float(finite.size)])) if finite.size else (np.zeros(0), np.zeros(0))
    k = int(min(ref_counts.size, max(1, finite.size // max(min_per_bin, 1))))
    grp = _groups(ref_counts, k)
    n_grp = int(grp.max()) + 1
    fine_cur = np.bincount(np.searchsorted(edges, finite, side="left"), minlength=ref_counts.size)
    expected = np.bincount(grp, weights=ref_counts, minlength=n_grp)
    actual = np.bincount(grp, weights=fine_cur.astype(float), minlength=n_grp)
    return expected, actual


def population_stability_index(ref: dict, values: np.ndarray, *, min_per_bin: int = 10) -> tuple[float, int]:
    """PSI of ``values`` against one feature's reference; returns ``(psi, number_of_bins_used)``."""
    v = np.asarray(values, dtype=float)
    finite = v[np.isfinite(v)]
    e, a = _grouped_counts(ref, finite, min_per_bin)
    ref_missing, cur_missing = float(ref["missing"]), float(v.size - finite.size)
    if ref_missing > 0 or cur_missing > 0:
        e = np.append(e, ref_missing)
        a = np.append(a, cur_missing)
    if e.size < 2 or v.size == 0:
        return 0.0, int(e.size)
    es = (e + SMOOTHING) / (e.sum() + SMOOTHING * e.size)
    as_ = (a + SMOOTHING) / (a.sum() + SMOOTHING * a.size)
    return float(np.sum((as_ - es) * np.log(as_ / es))), int(e.size)


def drift_table(reference: dict, X: pd.DataFrame, *, min_per_bin: int = 10) -> pd.DataFrame:
    """PSI per feature of ``X`` that the reference knows (sorted by PSI, largest first)."""
    rows = []
    feats = reference.get("features", {})
    for c in X.columns:
        if c not in feats:
            continue
        ref = feats[c]
        v = X[c].to_numpy(dtype=float)
        psi, bins = population_stability_index(ref, v, min_per_bin=min_per_bin)
        finite = v[np.isfinite(v)]
        rows.append(
            {
                "feature": c,
                "psi": psi,
                "n_scored": int(v.size),
                "bins": bins,
                "train_missing_share": ref["missing"] / ref["n"] if ref["n"] else np.nan,
                "scored_missing_share": (v.size - finite.size) / v.size if v.size else np.nan,
                "train_median": np.nan if ref["median"] is None else ref["median"],
                "scored_median": float(np.median(finite)) if finite.size else np.nan,
            }
        )
    out = pd.DataFrame(rows, columns=DRIFT_COLUMNS)
    return out.sort_values(["psi", "feature"], ascending=[False, True], kind="mergesort").reset_index(
        drop=True
    )


def save_reference(reference: dict, path: str | Path) -> Path:
    """Write a reference as JSON atomically."""
    return write_text_atomic(path, json.dumps(reference, indent=1, sort_keys=True) + "\n")


def log_training_reference(
    run_id: str | None,
    X_train: pd.DataFrame,
    model_dir: str | Path | None = None,
    contract: dict | None = None,
) -> dict:
    """Compute the training reference of ``X_train``; write it to ``model_dir/drift_reference.json``
    and log it to the MLflow run ``run_id`` (artifact ``drift/drift_reference.json``). ``contract``:
    the summary of the validated training tables' columns, stored under :data:`CONTRACT_KEY`.

    This is the hook ``run_train`` calls after registering a model; either destination may be
    ``None``.
    """
    ref = reference_distribution(X_train)
    if contract is not None:
        ref[CONTRACT_KEY] = contract
    path = None
    if model_dir is not None:
        path = save_reference(ref, Path(model_dir) / REFERENCE_FILE)
    if run_id:
        from sprintlab.tracking import _client

        _mlflow, client = _client()
        if path is None:
            import tempfile

            path = save_reference(ref, Path(tempfile.mkdtemp()) / REFERENCE_FILE)
        client.log_artifact(run_id, str(path), artifact_path=ARTIFACT_DIR)
    return ref


def load_reference(run_id: str | None, model_dir: str | Path | None = None) -> dict | None:
    """The training reference of a model: from its MLflow run, else from ``model_dir``; ``None``
    when neither has one (drift is then reported as not checked)."""
    if run_id:
        try:
            from sprintlab.tracking import _client

            mlflow, _ = _client()
            local = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=f"{ARTIFACT_DIR}/{REFERENCE_FILE}"
            )
            return json.loads(Path(local).read_text(encoding="utf-8"))
        except Exception as err:  # noqa: BLE001 - absent artifact: fall back, then report "not checked"
            log.info("no drift reference in run %s: %s", run_id, err)
    if model_dir is not None and (Path(model_dir) / REFERENCE_FILE).exists():
        return json.loads((Path(model_dir) / REFERENCE_FILE).read_text(encoding="utf-8"))
    return None
