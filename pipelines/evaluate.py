"""DVC stage: publish evaluation metrics and curves."""

from _common import paths
from sprintlab.pipeline.evaluate import run_evaluate

if __name__ == "__main__":
    models, metrics, plots = paths("models_dir", "metrics_dir", "plots_dir")
    run_evaluate(models, metrics, plots)
