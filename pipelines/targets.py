"""DVC stage: modelling units and labels (truth attached on simulated data)."""

from _common import params, paths
from sprintlab.pipeline.targets import run_targets

if __name__ == "__main__":
    validated, features, truth, out = paths("validated_dir", "features_dir", "truth_dir", "out_dir")
    print(run_targets(params(), validated, features, truth, out))
