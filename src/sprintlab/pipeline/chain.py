"""The chain up to training in one call, and a small fast parameter variant (tests, benchmarks)."""

from __future__ import annotations

import logging
from pathlib import Path

from sprintlab.config import Params
from sprintlab.domain import TARGETS
from sprintlab.pipeline.features import run_features
from sprintlab.pipeline.simulate import run_simulate
from sprintlab.pipeline.targets import run_targets
from sprintlab.pipeline.train import run_train

log = logging.getLogger(__name__)


# quick_params: a small squad and fast models for tests and benchmarks that need trained models.
# Test conveniences, not pipeline defaults (those live in params.yaml only).
QUICK_ATHLETES = 40
QUICK_WEEKS = 66
QUICK_SEED = 6
QUICK_MODEL = {"n_estimators": 60, "cv_folds": 3}
QUICK_BOOTSTRAP = 20


def quick_params(
    base: Params,
    *,
    athletes: int = QUICK_ATHLETES,
    weeks: int = QUICK_WEEKS,
    seed: int = QUICK_SEED,
) -> Params:
    """``base`` with the quick squad, model and bootstrap above (the keywords override the squad)."""
    return base.model_copy(
        update={
            "simulate": base.simulate.model_copy(update={"athletes": athletes, "weeks": weeks, "seed": seed}),
            "evaluate": base.evaluate.model_copy(update={"bootstrap": QUICK_BOOTSTRAP}),
            "train": base.train.model_copy(
                update={t: getattr(base.train, t).model_copy(update=QUICK_MODEL) for t in TARGETS}
            ),
        }
    )


def run_training_chain(params: Params, root: Path, *, today: str | None = None) -> dict:
    """simulate -> validate -> features -> targets -> train both models, all under ``root``.

    The same steps as ``dvc repro`` up to training, for tests and benchmarks that need trained,
    registered models on a simulated squad (MLflow store from ``MLFLOW_TRACKING_URI``).
    """
    from sprintlab.contract.validate import validate_folder

    root = Path(root)
    run_simulate(params, root / "sim")
    validation = validate_folder(root / "sim" / "raw", root / "val", today=today)
    run_features(params, root / "val", root / "feat")
    run_targets(params, root / "val", root / "feat", root / "sim" / "truth", root / "tg")
    trained = {t: run_train(params, t, root / "tg", root / "models" / t) for t in TARGETS}
    return {"validation": validation, "trained": trained}
