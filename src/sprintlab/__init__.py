"""sprintlab: will gym strength transfer to 0-10 m sprint speed, and who carries raised hamstring risk - and why."""

import os

__version__ = "0.1.0"

# No usage telemetry from MLflow in any sprintlab entry point (set MLFLOW_DISABLE_TELEMETRY=false to allow it).
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
