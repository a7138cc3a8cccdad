"""``sprintlab levers``: the "What to change first" box for one athlete, in the terminal."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import typer
from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from sprintlab.domain import TARGETS, target
from sprintlab.levers import RANGES_FILE, STEPS_FILE
from sprintlab.registry import MODEL_FILE, LoadedModel, ModelNotFoundError


def _read_tables(data_dir: Path) -> dict[str, pd.DataFrame]:
    from sprintlab.pipeline.validate import load_validated

    tables = load_validated(data_dir)
    if "athletes" in tables:
        return tables
    from sprintlab.contract.validate import validate_folder

    return validate_folder(data_dir, None).tables


def _load_models(models_dir: Path, registry: bool, root: Path | None) -> dict[str, LoadedModel]:
    """Each target's model from ``models_dir/<target>/`` (those present), or the registry's
    champions with ``registry`` (the project ``root``'s store by default; those registered);
    lever artifacts travel with each model."""
    from sprintlab.registry import load_pipeline_model, load_registered_model

    if not registry:
        return {
            t: load_pipeline_model(models_dir, t) for t in TARGETS if (models_dir / t / MODEL_FILE).exists()
        }
    from sprintlab.tracking import project_store

    models = {}
    with project_store(root or Path.cwd()):
        for t, spec in TARGETS.items():
            try:
                models[t] = load_registered_model(spec.registered_name)
            except ModelNotFoundError as err:
                Console(stderr=True).print(f"[yellow]note:[/yellow] {escape(str(err))}", highlight=False)
    return models


def _locations(project: Path | None, models_dir: Path | None, registry: bool) -> tuple[Path | None, Path]:
    """The project folder (``None`` when not needed and not found) and the models folder: the
    given one, else the project's ``models/``. Exits 2 when a project is needed but not found."""
    from sprintlab.cli import ProjectError, project_paths

    try:
        root = project_paths(project)[0]
    except ProjectError as err:
        if models_dir is not None and not registry:
            return None, models_dir
        Console(stderr=True).print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(2) from None
    return root, models_dir if models_dir is not None else root / "models"


def _status(
    week: pd.DataFrame,
    athlete: str,
    tables: dict[str, pd.DataFrame],
    models: dict[str, LoadedModel],
    root: Path | None,
) -> tuple[bool, bool] | None:
    """Whether the athlete is in a strength block and flagged, by the report's definitions
    (:func:`sprintlab.scoring.in_strength_block`; the hamstring flag of ``sprintlab score``,
    :func:`sprintlab.scoring.week_hamstring_flags`, over the whole squad of the week ``week``
    holds, since a weekly top share ranks everyone) and the project's ``params.yaml``; ``None``
    without a project (not known)."""
    if root is None:
        return None
    from sprintlab.config import load_params
    from sprintlab.scoring import in_strength_block, recent_activity, week_hamstring_flags
    from sprintlab.tracking import PROJECT_FILE

    params = load_params(root / PROJECT_FILE)
    rows = week[week["athlete_id"].astype(str) == athlete]
    in_block = bool(in_strength_block(rows, params.targets.transfer.min_strength_gain)[0])
    if "hamstring" not in models:
        return in_block, False
    week_end = pd.Timestamp(week["week_end"].iloc[0])
    activity = recent_activity(tables, week_end, params.score.recent_days)
    flags = week_hamstring_flags(params, week, models["hamstring"].model, week_end, activity)
    return in_block, bool(flags.get(athlete, False))


def _lever_grid(t: pd.DataFrame) -> Table:
    """The levers of one outcome: change, before, after, likely range, note."""
    grid = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("change", "before", "after", "likely range", "note"):
        grid.add_column(col)
    for r in t.itertuples():
        rng = (
            f"{100 * r.low:.0f}-{100 * r.high:.0f}%" if np.isfinite(r.low) and np.isfinite(r.high) else "n/a"
        )
        grid.add_row(
            r.text.split(" raises ")[0].split(" lowers ")[0].split(":")[0],
            f"{100 * r.baseline_prob:.0f}%",
            f"{100 * r.new_prob:.0f}%",
            rng,
            "clipped to training range" if r.clipped else "",
        )
    return grid


def render_box(
    table: pd.DataFrame,
    athlete: str,
    week_end,
    *,
    top: int = 3,
    status: tuple[bool, bool] | None = (True, False),
) -> Panel:
    """A rich panel as the report's "What to change first" box: one "Priority: ..." line, then per
    outcome the athlete has a number for (transfer only in a strength block) the best ``top``
    distinct levers with their ranges; ``status`` = (in a strength block, flagged), ``None`` when
    not known (every outcome shown)."""
    from sprintlab.levers import GUARD_RAIL, athlete_outcomes, best_levers, priority_line

    in_block, flagged = status if status is not None else (True, False)
    outcomes = athlete_outcomes(in_block, flagged)
    best = best_levers(table[table["athlete_id"] == athlete], top)
    parts: list = [Text(priority_line(best, athlete, outcomes) or "No modelled lever helps noticeably.")]
    if status is None:
        parts.append(
            Text("No params.yaml found: whether a strength block is running is not known.", style="italic")
        )
    for model in TARGETS:
        title = target(model).outcome_words.capitalize()
        if model not in outcomes:
            parts.append(Text(f"{title}: not estimated (no strength block running)", style="bold"))
            continue
        now = table.loc[(table["athlete_id"] == athlete) & (table["model"] == model), "baseline_prob"]
        if now.empty:
            continue
        parts.append(Text(f"{title}: now {100 * now.iloc[0]:.0f}%", style="bold"))
        t = best[best["model"] == model]
        parts.append(
            _lever_grid(t) if len(t) else Text(f"No modelled lever changes the {title.lower()} noticeably.")
        )
        parts.append(Text(""))
    parts.append(Text(GUARD_RAIL, style="italic"))
    return Panel(
        Group(*parts),
        title=f"What to change first - {escape(athlete)} (week ending {pd.Timestamp(week_end).date()})",
        expand=False,
    )


def levers(
    data_dir: Path = typer.Argument(
        ..., help="Folder of contract tables (CSV exports or validated parquet)."
    ),
    athlete: str = typer.Option(..., "--athlete", help="Athlete ID."),
    models_dir: Path | None = typer.Option(
        None,
        "--models-dir",
        help="Folder with <target>/model.joblib "
        "(and training_ranges.json, levers_bootstrap.joblib when present); default: the project's models/.",
    ),
    registry: bool = typer.Option(
        False,
        "--registry",
        help="Load the MLflow champion models (lever artifacts from their runs) instead; "
        "default store: the project's mlflow.db.",
    ),
    project: Path | None = typer.Option(
        None,
        "--project",
        help="The sprintlab project (folder with params.yaml, models/ and mlflow.db); default: the "
        "nearest folder with params.yaml from the working directory upwards.",
    ),
    top: int = typer.Option(3, "--top", min=1, help="Levers shown per outcome."),
) -> None:
    """Show which realistic change would move this athlete's transfer chance and hamstring risk most."""
    from sprintlab.features.panel import build_panel
    from sprintlab.levers import levers_table

    console = Console(width=120)
    root, models_dir = _locations(project, models_dir, registry)
    try:
        tables = _read_tables(data_dir)
        panel = build_panel(tables).panel
    except Exception as err:  # noqa: BLE001 - one clear message for any unreadable folder
        console.print(
            f"[red]error:[/red] cannot build features from {escape(str(data_dir))}: {escape(str(err))}",
            highlight=False,
        )
        raise typer.Exit(2) from None
    week_end = panel["week_end"].max()
    week = panel[panel["week_end"] == week_end]
    rows = week[week["athlete_id"].astype(str) == athlete]
    if rows.empty:
        console.print(
            f"[red]error:[/red] athlete {escape(repr(athlete))} has no record in the week ending {week_end.date()}",
            highlight=False,
        )
        raise typer.Exit(2)
    try:
        models = _load_models(models_dir, registry, root)
    except ModelNotFoundError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(2) from None
    if not models:
        where = "the MLflow registry" if registry else f"{models_dir} (expected <target>/{MODEL_FILE})"
        console.print(f"[red]error:[/red] no models in {escape(where)}", highlight=False)
        raise typer.Exit(2)
    table = levers_table(
        rows,
        {t: m.model for t, m in models.items()},
        {t: m.lever_ranges for t, m in models.items() if m.lever_ranges is not None},
        boosters={t: list(m.lever_boosters) for t, m in models.items() if m.lever_boosters},
        steps={t: m.lever_steps for t, m in models.items() if m.lever_steps},
    )
    console.print(
        render_box(table, athlete, week_end, top=top, status=_status(week, athlete, tables, models, root))
    )
    _artifact_notes(console, models)


def _artifact_notes(console: Console, models: Mapping[str, LoadedModel]) -> None:
    """Say which models lack a lever artifact: no steps (the catalogue's steps were used), no
    training ranges (changes were not clipped)."""
    catalogue_steps = [t for t, m in models.items() if not m.lever_steps]
    if catalogue_steps:
        console.print(
            f"[yellow]note:[/yellow] no {STEPS_FILE} for {', '.join(catalogue_steps)} (a model trained before "
            "it was saved): its changes are the catalogue's steps, not effort-equivalent ones",
            highlight=False,
        )
    missing = [t for t, m in models.items() if m.lever_ranges is None]
    if missing:
        console.print(
            f"[yellow]note:[/yellow] no {RANGES_FILE} for {', '.join(missing)}: changes were not clipped "
            "to the training range",
            highlight=False,
        )
