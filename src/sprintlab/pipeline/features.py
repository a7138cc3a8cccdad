"""Pipeline stage ``features``: the athlete-week feature panel."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from sprintlab.config import Params
from sprintlab.io import write_json_atomic, write_table_atomic
from sprintlab.pipeline.validate import load_validated

log = logging.getLogger(__name__)

#: the stage's log: panel size, the features built and those skipped with why
FEATURE_LOG = "feature_log.json"


def panel_skipped(features_dir: Path) -> dict[str, str]:
    """The catalogue features the panel could not build, with why (``feature_log.json`` of the
    features stage; empty without one); the features of an optional data stream the club does not
    record carry the reason ``"not recorded: ..."``."""
    from sprintlab.domain import NOT_RECORDED

    path = Path(features_dir) / FEATURE_LOG
    if not path.exists():
        return {}
    log = json.loads(path.read_text(encoding="utf-8"))
    not_recorded = {f: f"{NOT_RECORDED}: {why}" for f, why in (log.get("not_recorded") or {}).items()}
    return {**not_recorded, **(log.get("skipped") or {})}


def run_features(params: Params, validated: Path, out_dir: Path) -> pd.DataFrame:
    """Build the athlete-week panel; write ``panel.parquet`` and ``feature_log.json``."""
    from sprintlab.features.catalogue import load_catalogue
    from sprintlab.features.panel import build_panel

    res = build_panel(
        load_validated(validated),
        wellness_baseline_days=params.features.wellness_baseline_days,
        chunk_athletes=params.features.chunk_athletes,
        insitu=params.insitu.model_copy(),  # the whole insitu: section goes to the in-situ builder
    )
    load_catalogue().panel_schema(list(res.panel.columns)).validate(res.panel)
    write_table_atomic(res.panel, Path(out_dir) / "panel.parquet")
    write_json_atomic(
        Path(out_dir) / FEATURE_LOG,
        {
            "n_rows": len(res.panel),
            "n_athletes": int(res.panel["athlete_id"].nunique()),
            "features": [c for c in res.panel.columns if c not in ("athlete_id", "week_start", "week_end")],
            "skipped": res.skipped,
            "not_recorded": res.not_recorded,
        },
    )
    return res.panel
