"""Pipeline stage ``simulate``: the simulated squad as contract CSVs plus the generator's truth."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sprintlab.config import Params
from sprintlab.io import write_table_atomic, write_text_atomic

log = logging.getLogger(__name__)


def run_simulate(params: Params, out_dir: Path) -> Path:
    """Write the simulated squad (contract CSVs in ``out_dir/raw``, truth in ``out_dir/truth``)."""
    from sprintlab.simulate.generator import SIMULATED_LABEL

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if params.data.source != "simulated":
        write_text_atomic(
            out_dir / "README.md",
            f"Simulation skipped: data.source = {params.data.source}; "
            "the validate stage reads the club's exports instead.\n",
        )
        return out_dir
    s = params.simulate
    res = simulate_params_squad(params)
    for name, df in res.tables.items():
        write_table_atomic(_dates_iso(df), out_dir / "raw" / f"{name}.csv")
    for name, df in res.truth.items():
        write_table_atomic(df, out_dir / "truth" / f"{name}.parquet")
    write_text_atomic(
        out_dir / "README.md",
        f"{SIMULATED_LABEL}\n\nathletes={s.athletes} weeks={s.weeks} "
        f"seed={s.seed}. truth/ is the generator's ground truth and is never read as features.\n",
    )
    return out_dir


def _dates_iso(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    return out


def simulate_params_squad(params: Params, athletes: int | None = None, weeks: int | None = None):
    """The ``params.yaml`` ``simulate:`` squad (``athletes`` / ``weeks`` override its size)."""
    from sprintlab.simulate.generator import simulate_squad

    s = params.simulate
    return simulate_squad(
        athletes or s.athletes, weeks or s.weeks, s.seed, block_weeks=s.block_weeks, sex=s.sex
    )
