"""DVC stage: build the athlete-week feature panel."""

from _common import params, paths
from sprintlab.pipeline.features import run_features

if __name__ == "__main__":
    validated, out = paths("validated_dir", "out_dir")
    panel = run_features(params(), validated, out)
    print(f"panel: {panel.shape[0]} athlete-weeks x {panel.shape[1] - 3} features")
