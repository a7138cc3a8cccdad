"""DVC stage: modelling units and labels (truth attached on simulated data)."""

from _common import FEATURES, SIMULATED, TARGETS, VALIDATED, params
from sprintlab.pipeline.targets import run_targets

if __name__ == "__main__":
    print(run_targets(params(), VALIDATED, FEATURES, SIMULATED / "truth", TARGETS))
