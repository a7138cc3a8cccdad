"""DVC stage: the weekly coach report (self-contained HTML)."""

from _common import FEATURES, METRICS, MODELS, REPORT, params
from sprintlab.pipeline.report import run_report

if __name__ == "__main__":
    p = params()
    path = run_report(p, FEATURES, MODELS, METRICS, REPORT, simulated=p.data.source == "simulated")
    print(f"report written: {path}")
