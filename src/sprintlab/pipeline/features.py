"""Pipeline stage ``features``: the athlete-week feature panel."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from sprintlab.config import Params
from sprintlab.io import write_json_atomic, write_table_atomic
from sprintlab.pipeline.validate import load_validated

log = logging.getLogger(__name__)


def run_features(params: Params, validated: Path, out_dir: Path) -> pd.DataFrame:
    """Build the athlete-week panel; write ``panel.parquet`` and ``feature_log.json``."""
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.features.panel import build_panel

    res = build_panel(
        load_validated(validated),
        wellness_baseline_days=params.features.wellness_baseline_days,
        chunk_athletes=params.features.chunk_athletes,
    )
    load_catalogue().panel_schema(list(res.panel.columns)).validate(res.panel)
    write_table_atomic(res.panel, Path(out_dir) / "panel.parquet")
    write_json_atomic(
        Path(out_dir) / "feature_log.json",
        {
            "n_rows": len(res.panel),
            "n_athletes": int(res.panel["athlete_id"].nunique()),
            "features": [c for c in res.panel.columns if c not in ("athlete_id", "week_start", "week_end")],
            "skipped": res.skipped,
        },
    )
    return res.panel
