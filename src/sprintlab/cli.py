"""The ``sprintlab`` command line."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from sprintlab.contract.cli import import_data, validate
from sprintlab.levers_cli import levers
from sprintlab.scoring_cli import score
from sprintlab.sprint.cli import profile

app = typer.Typer(
    help="sprintlab: strength-to-sprint transfer and hamstring risk, and why.", no_args_is_help=True
)
console = Console(stderr=True)

app.command("validate")(validate)
app.command("profile")(profile)
app.command("score")(score)
app.command("levers")(levers)
app.command("import")(import_data)


@app.command("simulate")
def simulate(
    out: Path = typer.Option(..., "--out", help="Folder to write the contract tables (and truth/) into."),
    athletes: int = typer.Option(30, "--athletes", min=2, help="Number of athletes."),
    weeks: int = typer.Option(52, "--weeks", min=12, help="Number of weeks."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    block_weeks: int = typer.Option(6, "--block-weeks", min=2, help="Weeks between sprint tests."),
) -> None:
    """Simulate a squad (clearly labelled SIMULATED) in the data contract, with ground truth in truth/."""
    from sprintlab.config import DataParams, Params, SimulateParams, TrainParams
    from sprintlab.stages import run_simulate

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


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
