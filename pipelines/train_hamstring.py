"""DVC stage: train, evaluate, save and register the hamstring model."""

from _common import MODELS, TARGETS, params
from sprintlab.stages import run_train

if __name__ == "__main__":
    out = run_train(params(), "hamstring", TARGETS, MODELS / "hamstring")
    print(out["registry"])
