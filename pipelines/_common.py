"""What the DVC entry points share: their paths from the command line and ``params.yaml``.

``dvc.yaml`` passes every path a stage reads or writes in its ``cmd``; DVC runs each stage from the
project root, where ``params.yaml`` lives.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from sprintlab.config import Params, load_params


def paths(*names: str) -> list[Path]:
    """The stage's paths, in the order its ``cmd`` in ``dvc.yaml`` passes them."""
    if len(sys.argv) != len(names) + 1:
        sys.exit(f"usage: python {sys.argv[0]} {' '.join(n.upper() for n in names)}")
    return [Path(a) for a in sys.argv[1:]]


def params() -> Params:
    """``params.yaml`` of the working directory; also sets up logging for the stage."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return load_params("params.yaml")
    except (OSError, ValueError) as err:  # missing file, bad YAML, invalid values (pydantic)
        sys.exit(f"{sys.argv[0]}: cannot read params.yaml in {Path.cwd()}: {err}")
