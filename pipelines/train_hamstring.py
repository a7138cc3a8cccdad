"""DVC stage: train, evaluate, save and register the hamstring model."""

import sys

from _common import MODELS, TARGETS, params
from sprintlab.pipeline.train import run_train
from sprintlab.tracking import TrackingError

if __name__ == "__main__":
    try:
        out = run_train(params(), "hamstring", TARGETS, MODELS / "hamstring")
    except TrackingError as err:
        sys.exit(
            f"train_hamstring: {err}\nSet MLFLOW_TRACKING_URI to a reachable store (default: sqlite:///mlflow.db)."
        )
    print(out["registry"])
