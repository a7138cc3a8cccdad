"""DVC stage: the headline numbers per model for `dvc metrics show` and `dvc exp show`."""

from _common import paths
from sprintlab.pipeline.headline import run_headline

if __name__ == "__main__":
    models, metrics = paths("models_dir", "metrics_dir")
    for target, numbers in run_headline(models, metrics).items():
        print(f"{target}: {numbers}")
