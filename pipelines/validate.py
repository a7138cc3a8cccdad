"""DVC stage: validate the raw exports against the data contract (rejected rows kept with reasons)."""

import sys

from _common import params, paths
from sprintlab.pipeline.validate import run_validate

if __name__ == "__main__":
    simulated, folder, out = paths("simulated_raw", "folder_raw", "out_dir")
    result = run_validate(params(), simulated, folder, out)
    print(f"validated: {result.counts}")
    if "athletes" not in result.tables:
        sys.exit(f"validation produced no athletes table; see {out / 'validation_report.json'}")
