"""Pipeline stage ``validate``: the raw exports against the data contract; reading its output."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sprintlab.config import Params
from sprintlab.contract.tables import TABLES

log = logging.getLogger(__name__)


def load_validated(folder: Path) -> dict[str, pd.DataFrame]:
    """Read the accepted tables written by the validate stage."""
    tables = {}
    for name in TABLES:
        p = Path(folder) / f"{name}.parquet"
        if p.exists():
            tables[name] = pd.read_parquet(p)
    return tables


def run_validate(params: Params, simulated: Path, folder: Path, out_dir: Path):
    """Validate the exports ``data.source`` names - the simulator's contract tables (``simulated``)
    or the club's folder (``folder``) - into ``out_dir`` (accepted tables, rejected rows, report)."""
    from sprintlab.contract.validate import validate_folder

    raw = simulated if params.data.source == "simulated" else folder
    return validate_folder(Path(raw), out_dir, today=params.validate_.today)
