"""DVC stage: simulate the default squad (only when data.source is 'simulated')."""

from _common import SIMULATED, params
from sprintlab.pipeline.simulate import run_simulate

if __name__ == "__main__":
    run_simulate(params(), SIMULATED)
