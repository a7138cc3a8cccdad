"""DVC stage: SHAP explanations by factor family and truth recovery on simulated data."""

from _common import EXPLANATIONS, METRICS, MODELS, TARGETS, params
from sprintlab.explain import truth_report_text
from sprintlab.pipeline.explain import run_explain

if __name__ == "__main__":
    print(truth_report_text(run_explain(params(), TARGETS, MODELS, EXPLANATIONS, METRICS)))
