"""DVC stage: SHAP explanations by factor family and truth recovery on simulated data."""

from _common import params, paths
from sprintlab.explain import truth_report_text
from sprintlab.pipeline.explain import run_explain

if __name__ == "__main__":
    targets, models, out, metrics = paths("targets_dir", "models_dir", "out_dir", "metrics_dir")
    print(truth_report_text(run_explain(params(), targets, models, out, metrics)))
