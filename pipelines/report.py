"""DVC stage: the weekly coach report (self-contained HTML)."""

from _common import params, paths
from sprintlab.pipeline.report import run_report

if __name__ == "__main__":
    features, models, metrics, out = paths("features_dir", "models_dir", "metrics_dir", "report_html")
    p = params()
    # No generation date: the stage's output must be the same file whenever `dvc repro` rebuilds it
    # from the same data and models (the lock reproduces on another day).
    path = run_report(
        p, features, models, metrics, out, simulated=p.data.source == "simulated", generated_at=""
    )
    print(f"report written: {path}")
