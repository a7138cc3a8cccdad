"""DVC stage: train, evaluate, save and register the hamstring model (or say why it was skipped)."""

import sys

from _common import params, paths
from sprintlab.pipeline.train import run_train
from sprintlab.tracking import TrackingError

if __name__ == "__main__":
    targets, out = paths("targets_dir", "model_dir")
    try:
        result = run_train(params(), "hamstring", targets, out)
    except TrackingError as err:
        sys.exit(
            f"train_hamstring: {err}\nSet MLFLOW_TRACKING_URI to a reachable store (default: the project's mlflow.db)."
        )
    registry = result["registry"]
    print(f"skipped: {registry['skipped']}" if "skipped" in registry else registry)
