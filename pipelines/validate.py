"""DVC stage: validate the raw exports against the data contract (rejected rows kept with reasons)."""

import sys

from _common import SIMULATED, VALIDATED, params
from sprintlab.contract.validate import validate_folder
from sprintlab.pipeline.simulate import raw_dir

if __name__ == "__main__":
    p = params()
    result = validate_folder(raw_dir(p, SIMULATED), VALIDATED, today=p.validate_.today)
    print(f"validated: {result.counts}")
    if "athletes" not in result.tables:
        sys.exit("validation produced no athletes table; see data/validated/validation_report.json")
