"""DVC stage: build the athlete-week feature panel."""

from _common import FEATURES, VALIDATED, params
from sprintlab.pipeline.features import run_features

if __name__ == "__main__":
    panel = run_features(params(), VALIDATED, FEATURES)
    print(f"panel: {panel.shape[0]} athlete-weeks x {panel.shape[1] - 3} features")
