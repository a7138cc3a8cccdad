"""DVC stage: train, evaluate, save and register the transfer model."""

from _common import MODELS, TARGETS, params
from sprintlab.stages import run_train

if __name__ == "__main__":
    out = run_train(params(), "transfer", TARGETS, MODELS / "transfer")
    print(out["registry"])
