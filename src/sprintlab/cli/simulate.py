"""``sprintlab simulate``: a simulated squad (clearly labelled) in the data contract, with its truth."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console(stderr=True)


def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the contract tables (and truth/) into."),
    athletes: int = typer.Option(30, "--athletes", min=2, help="Number of athletes."),
    weeks: int = typer.Option(52, "--weeks", min=12, help="Number of weeks."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    block_weeks: int = typer.Option(6, "--block-weeks", min=2, help="Weeks between sprint tests."),
) -> None:
    """Simulate a squad (clearly labelled SIMULATED) in the data contract, with ground truth in truth/."""
    from sprintlab.config import DataParams, Params, SimulateParams, TrainParams
    from sprintlab.pipeline.simulate import run_simulate

    logging.basicConfig(level=logging.WARNING)
    dummy_model = {"features": ["age_years"]}
    params = Params(
        data=DataParams(source="simulated"),
        simulate=SimulateParams(athletes=athletes, weeks=weeks, seed=seed, block_weeks=block_weeks),
        train=TrainParams(transfer=dummy_model, hamstring=dummy_model),
    )
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as bar:
        bar.add_task(f"simulating {athletes} athletes x {weeks} weeks", total=None)
        run_simulate(params, out)
    console.print(
        f"[green]wrote[/green] {out}/raw (contract tables) and {out}/truth (ground truth) - SIMULATED data"
    )
