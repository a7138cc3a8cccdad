"""DVC stage: simulate the default squad (only when data.source is 'simulated')."""

from _common import params, paths
from sprintlab.pipeline.simulate import run_simulate

if __name__ == "__main__":
    (out,) = paths("out_dir")
    run_simulate(params(), out)
