"""``sprintlab simulate``: a simulated squad (clearly labelled) in the data contract, with its truth."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the contract tables (and truth/) into."),
    athletes: int | None = typer.Option(
        None, "--athletes", min=2, help="Number of athletes (default: simulate.athletes in --params)."
    ),
    weeks: int | None = typer.Option(
        None, "--weeks", min=12, help="Number of weeks (default: simulate.weeks in --params)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Random seed (default: simulate.seed in --params)."),
    block_weeks: int | None = typer.Option(
        None,
        "--block-weeks",
        min=2,
        help="Weeks between sprint tests (default: simulate.block_weeks in --params).",
    ),
    params_file: Path = typer.Option(
        Path("params.yaml"),
        "--params",
        help="Parameter file whose simulate: section gives every value not set here "
        "(a relative path is read from the working directory).",
    ),
) -> None:
    """Simulate a squad (clearly labelled SIMULATED) in the data contract, with ground truth in truth/."""
    from sprintlab.config import load_params
    from sprintlab.pipeline.simulate import run_simulate

    logging.basicConfig(level=logging.WARNING)
    try:
        params = load_params(params_file)
    except Exception as err:  # noqa: BLE001 - missing or invalid params file
        console.print(f"[red]error:[/red] {escape(f'cannot read {params_file}: {err}')}", highlight=False)
        raise typer.Exit(2) from None
    given = {"athletes": athletes, "weeks": weeks, "seed": seed, "block_weeks": block_weeks}
    squad = params.simulate.model_copy(update={k: v for k, v in given.items() if v is not None})
    data = params.data.model_copy(update={"source": "simulated"})
    params = params.model_copy(update={"data": data, "simulate": squad})
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        bar.add_task(f"simulating {squad.athletes} athletes x {squad.weeks} weeks", total=None)
        run_simulate(params, out)
    console.print(
        "[green]wrote[/green] "
        + escape(f"{out}/raw (contract tables) and {out}/truth (ground truth) - SIMULATED data"),
        highlight=False,
    )
