"""``sprintlab validate`` (check a data folder against the contract and explain every problem) and
``sprintlab import`` (vendor exports -> contract tables with a mapping file)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from sprintlab.contract.mapping import import_with_mapping, write_imported
from sprintlab.contract.validate import ValidationResult, validate_folder
from sprintlab.io import DataError

MAX_LINES = 50


def validate(
    data_dir: Path = typer.Argument(
        ..., help="Folder with the club's exports (athletes.csv, gym_sets.csv, ...)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write accepted tables, rejected_rows.csv and validation_report.json here."
    ),
    today: str | None = typer.Option(
        None,
        "--today",
        help="Reference date (YYYY-MM-DD) for the 'date in the future' check; default: today.",
    ),
) -> None:
    """Validate a data folder against the data contract. Exit 0 when valid, 2 when not."""
    console = Console(width=160)
    try:
        res = validate_folder(data_dir, out, today=today)
    except DataError as exc:
        console.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        raise typer.Exit(2) from None
    summary = ", ".join(f"{t}: {c['accepted']}/{c['input']} rows accepted" for t, c in res.counts.items())
    console.print(summary or "no contract tables found", highlight=False)
    for note in res.skipped:
        console.print(f"[dim]{note}[/dim]", highlight=False)
    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {w}", highlight=False)
    if out is not None:
        console.print(f"outputs written to {out}", highlight=False)
    if res.ok:
        console.print("[green]valid[/green]: no problems found")
        return
    console.print(_problems_table(res, MAX_LINES))
    rest = len(res.problems) - MAX_LINES
    if rest > 0:
        where = (
            f"all are in {out}/rejected_rows.csv"
            if out
            else "use --out to write them all to rejected_rows.csv"
        )
        console.print(f"... and {rest} more problem(s); {where}")
    raise typer.Exit(2)


def _problems_table(res: ValidationResult, max_lines: int) -> Table:
    """The first ``max_lines`` problems as a table: file, row, column, reason."""
    table = Table(title=f"{len(res.problems)} problem(s)", show_lines=False)
    for col in ("file", "row", "column", "reason"):
        table.add_column(col, overflow="fold")
    for rec in res.problems.head(max_lines).itertuples(index=False):
        row = "" if pd.isna(rec.row) else str(rec.row)
        table.add_row(str(rec.file), row, "" if pd.isna(rec.column) else str(rec.column), str(rec.reason))
    return table


def import_data(
    source_dir: Path = typer.Argument(..., help="Folder with the vendor's or club's exports."),
    mapping: Path = typer.Option(
        ...,
        "--mapping",
        help="Mapping YAML (a path, or the name of a shipped mapping in sprintlab/contract/mappings/).",
    ),
    out: Path = typer.Option(..., "--out", help="Folder to write the contract CSVs into."),
) -> None:
    """Convert exports into contract tables with a mapping file (then run `validate` on --out)."""
    console = Console(width=160)
    try:
        tables = import_with_mapping(mapping, source_dir)
    except DataError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    write_imported(tables, out)
    for name, df in tables.items():
        console.print(f"{name}: {len(df)} rows -> {out / (name + '.csv')}", highlight=False)
    console.print(f"next: sprintlab validate {out}", highlight=False)
