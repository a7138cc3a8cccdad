"""DVC stage: publish evaluation metrics and curves."""

from _common import METRICS, MODELS, PLOTS
from sprintlab.pipeline.evaluate import run_evaluate

if __name__ == "__main__":
    run_evaluate(MODELS, METRICS, PLOTS)
