"""Pipeline stage ``targets``: both unit tables (transfer blocks, hamstring athlete-weeks)."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sprintlab.config import Params
from sprintlab.contract.tables import TABLES
from sprintlab.io import write_json_atomic, write_table_atomic
from sprintlab.pipeline.features import panel_skipped
from sprintlab.pipeline.simulate import simulate_params_squad
from sprintlab.pipeline.validate import load_validated

log = logging.getLogger(__name__)


def run_targets(
    params: Params, validated: Path, features_dir: Path, truth_dir: Path | None, out_dir: Path
) -> dict:
    """Build both unit tables (with the simulator's truth attached when available); beside them the
    features the panel could not build, with why (:data:`SKIPPED_FEATURES_FILE`, for training), and
    the summary of the validated tables' number columns (``contract_reference.json``, stored with
    each model by the train stage)."""
    from sprintlab.contract.plausibility import REFERENCE_FILE, contract_reference
    from sprintlab.models.datasets import SKIPPED_FEATURES_FILE

    tables = load_validated(validated)
    panel = pd.read_parquet(Path(features_dir) / "panel.parquet")
    truth = None
    if truth_dir is not None and (Path(truth_dir) / "hamstring_weekly.parquet").exists():
        truth = {
            name: pd.read_parquet(Path(truth_dir) / f"{name}.parquet")
            for name in ("hamstring_weekly", "transfer_blocks")
        }
    units = unit_tables(params, panel, tables, truth)
    ham, tr = units["hamstring"], units["transfer"]
    out_dir = Path(out_dir)
    write_table_atomic(ham, out_dir / "hamstring_units.parquet")
    write_table_atomic(tr, out_dir / "transfer_units.parquet")
    write_json_atomic(out_dir / SKIPPED_FEATURES_FILE, panel_skipped(Path(features_dir)))
    # the training data's contract columns, for the unit-slip check of new exports at scoring
    write_json_atomic(out_dir / REFERENCE_FILE, contract_reference(tables))
    summary = {
        "hamstring": {
            "units": len(ham),
            "events": int(ham["y"].sum()),
            "complete_units": int(ham["label_complete"].sum()),
        },
        "transfer": {"units": len(tr), "events": int(tr["y"].sum()) if len(tr) else 0},
    }
    write_json_atomic(out_dir / "summary.json", summary)
    return summary


def unit_tables(
    params: Params,
    panel: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    truth: dict[str, pd.DataFrame] | None = None,
) -> dict[str, pd.DataFrame]:
    """Both unit tables from the feature panel and the contract tables (``params.yaml`` ``targets:``),
    with the simulator's truth tables (``hamstring_weekly``, ``transfer_blocks``) attached when given.
    No injuries table: no hamstring events; no sprint splits or gym sets: no transfer units."""
    from sprintlab.models.datasets import (
        attach_truth_hamstring,
        attach_truth_transfer,
        hamstring_units,
        transfer_units,
    )

    t = params.targets
    empty_inj = pd.DataFrame({c: pd.Series(dtype="object") for c in TABLES["injuries"].column_names})
    ham = hamstring_units(panel, tables.get("injuries", empty_inj), t.hamstring.horizon_days)
    tr = (
        transfer_units(
            panel,
            tables["sprint_splits"],
            tables["gym_sets"],
            min_block_weeks=t.transfer.min_block_weeks,
            min_strength_gain=t.transfer.min_strength_gain,
            swc_factor=t.transfer.swc_factor,
            swc_method=t.transfer.swc_method,
            adjust_for_own_level=t.transfer.adjust_for_own_level,
            baseline_tests=t.transfer.baseline_tests,
        )
        if {"sprint_splits", "gym_sets"} <= set(tables)
        else pd.DataFrame()
    )
    if truth is not None:
        ham = attach_truth_hamstring(ham, truth["hamstring_weekly"])
        if len(tr):
            tr = attach_truth_transfer(tr, transfer_truth_for_label(truth["transfer_blocks"], tr))
    return {"hamstring": ham, "transfer": tr}


def transfer_truth_for_label(block_truth: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """The simulator's block truth for the units' own label: relabelled for the own-level adjusted
    change (:func:`sprintlab.simulate.truth.label_transfer_truth`) when the truth keeps its noise
    seed; truth tables written before that are used as they are (the raw change)."""
    if "noise_seed" not in block_truth or "own_level_slope" not in units:
        return block_truth
    from sprintlab.simulate.truth import label_transfer_truth

    return label_transfer_truth(block_truth, units)


def simulated_units(
    params: Params, athletes: int | None = None, weeks: int | None = None
) -> dict[str, pd.DataFrame]:
    """Both unit tables of a simulated squad with the simulator's truth attached, built exactly like
    the pipeline (``params.yaml`` ``simulate:`` / ``features:`` / ``targets:``; ``athletes`` and
    ``weeks`` override the squad size), in memory - for benchmarks and truth-recovery tests."""
    from sprintlab.features.panel import build_panel

    sim = simulate_params_squad(params, athletes, weeks)
    panel = build_panel(sim.tables, wellness_baseline_days=params.features.wellness_baseline_days).panel
    return unit_tables(params, panel, sim.tables, sim.truth)
