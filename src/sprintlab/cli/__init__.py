"""The ``sprintlab`` command line: the typer app; one module per command in this package."""

from __future__ import annotations

import typer

from sprintlab.cli.data import import_data, validate
from sprintlab.cli.levers import levers
from sprintlab.cli.profile import profile
from sprintlab.cli.score import score
from sprintlab.cli.simulate import simulate

app = typer.Typer(
    help="sprintlab: strength-to-sprint transfer and hamstring risk, and why.", no_args_is_help=True
)

app.command("validate")(validate)
app.command("profile")(profile)
app.command("score")(score)
app.command("levers")(levers)
app.command("import")(import_data)
app.command("simulate")(simulate)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
