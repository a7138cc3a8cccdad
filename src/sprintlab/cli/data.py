"""``sprintlab validate`` (check a data folder against the contract and explain every problem) and
``sprintlab import`` (vendor exports -> contract tables with a mapping file, then validated, with
row accounting per source file)."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from sprintlab.contract.importer import (
    add_validation,
    import_folder,
    import_report,
    write_import,
    write_import_report,
)
from sprintlab.contract.summary import problem_groups, table_shares
from sprintlab.contract.validate import ValidationResult, validate_folder
from sprintlab.io import DataError

#: problem groups printed (the rest are counted; all are in rejected_rows.csv / rejected_cells.csv)
MAX_GROUPS = 25
LEVEL_TEXT = {"table": "table rejected", "row": "rows rejected", "cell": "cells emptied"}


def _console() -> Console:
    return Console(width=160, highlight=False)


def print_validation(
    console: Console, res: ValidationResult, out: Path | None, max_groups: int = MAX_GROUPS
) -> None:
    """Accepted share per table (worst first; nothing accepted in red), notes and warnings, then the
    problems grouped by (table, column, kind) with counts and three examples. Data is never read
    as markup."""
    say = partial(console.print, highlight=False)
    if not res.counts:
        say("no contract tables found")
    for s in table_shares(res.counts):
        style = "red" if s.input and s.accepted == 0 else "yellow" if s.share < 1 else "green"
        cells = f", {s.cells_emptied} cell(s) emptied" if s.cells_emptied else ""
        line = f"{s.table}: {s.accepted}/{s.input} rows accepted ({100 * s.share:.1f} %){cells}"
        say(f"[{style}]{escape(line)}[/{style}]")
    for note in res.skipped:
        say(f"[dim]{escape(note)}[/dim]")
    for w in res.warnings:
        say(f"[yellow]warning:[/yellow] {escape(w)}")
    if out is not None:
        say(f"outputs written to {escape(str(out))}")
    if res.ok:
        say("[green]valid[/green]: no problems found")
        return
    groups = problem_groups(res.problems)
    say(f"[bold]{len(res.problems)} problem(s)[/bold] in {len(groups)} group(s), largest first:")
    for g in groups[:max_groups]:
        column = f".{g.column}" if g.column else ""
        head = f"{g.count} x {g.table}{column} ({LEVEL_TEXT.get(g.level, g.level)}): {g.kind}"
        say(escape(head))
        say(f"    e.g. {escape(g.first_reason)}", style="dim")
        say(f"    at {escape('; '.join(g.examples))}", style="dim")
    rest = len(groups) - max_groups
    if rest > 0:
        where = (
            f"all are in {out}/rejected_rows.csv"
            if out
            else "use --out to write them all to rejected_rows.csv"
        )
        say(f"... and {rest} more group(s); {escape(where)}")


def _reference_checks(path: Path | None) -> dict[str, Any]:
    """``validate_folder`` keywords for ``--reference``: the training summary of the contract
    columns in the file and the project's ``score:`` thresholds. Raises :class:`DataError`."""
    if path is None:
        return {}
    from sprintlab.cli import ProjectError, project_paths
    from sprintlab.config import load_params
    from sprintlab.contract.plausibility import REFERENCE_KEY

    try:
        found = json.loads(Path(path).read_text(encoding="utf-8")).get(REFERENCE_KEY)
    except (OSError, ValueError, AttributeError) as err:
        raise DataError(f"cannot read the training reference: {err}", file=path) from None
    if not found:
        raise DataError(
            f"no {REFERENCE_KEY!r} summary in the file: the model was trained before it was stored", file=path
        )
    try:
        params = load_params(project_paths(None)[1])
    except (ProjectError, OSError, ValueError) as err:
        raise DataError(f"--reference needs the project's params.yaml: {err}") from None
    return {"reference": found, "reference_params": params.score}


def validate(
    data_dir: Path = typer.Argument(
        ..., help="Folder with the club's exports (athletes.csv, gym_sets.csv, ...)."
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write accepted tables, rejected_rows.csv, rejected_cells.csv and validation_report.json here.",
    ),
    today: str | None = typer.Option(
        None,
        "--today",
        help="Reference date (YYYY-MM-DD) for the 'date in the future' check; default: today.",
    ),
    reference: Path | None = typer.Option(
        None,
        "--reference",
        help="A model's drift_reference.json (e.g. models/hamstring/drift_reference.json): also reject "
        "number columns that look like a unit slip against the model's training data, as "
        "`sprintlab score` does (thresholds: score.reference_* in the project's params.yaml).",
    ),
) -> None:
    """Validate a data folder against the data contract. Exit 0 when valid, 2 when not."""
    console = _console()
    try:
        checks = _reference_checks(reference)
        res = validate_folder(data_dir, out, today=today, **checks)
    except DataError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    print_validation(console, res, out)
    if not res.ok:
        raise typer.Exit(2)


def import_data(
    source_dir: Path = typer.Argument(..., help="Folder with the vendor's or club's exports."),
    mapping: str = typer.Option(
        ...,
        "--mapping",
        help="Mapping YAML: a path, or the name of a shipped mapping (with or without .yaml).",
    ),
    out: Path = typer.Option(
        ..., "--out", help="Folder to write the contract CSVs and import_report.json into."
    ),
    validated: Path | None = typer.Option(
        None, "--validated", help="Also write the validation outputs (accepted tables, rejected rows) here."
    ),
    today: str | None = typer.Option(
        None, "--today", help="Reference date (YYYY-MM-DD) for the validation; default: today."
    ),
) -> None:
    """Convert exports into contract tables with a mapping file, validate them and account for every
    source row (import_report.json). Exit 0 when imported (rejected rows are reported), 2 on error."""
    console = _console()
    try:
        result = import_folder(mapping, source_dir)
        write_import(result, out)
        res = validate_folder(out, validated, today=today)
    except DataError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    except (KeyError, TypeError, ValueError) as exc:  # a malformed option value in the mapping
        msg = f"mapping {mapping}: cannot apply an option ({type(exc).__name__}: {exc}); check it against docs/importing.md"
        console.print(f"[red]error:[/red] {escape(msg)}")
        raise typer.Exit(2) from None
    add_validation(result, res)
    write_import_report(result, out)
    report = import_report(result)
    for table, t in report["tables"].items():
        line = (
            f"{table}: {t['files']} file(s), {t['rows_read']} rows read, {t['filtered']} filtered, "
            f"{t['merged']} merged, {t['written']} written -> {out / (table + '.csv')}"
        )
        console.print(escape(line))
    for w in result.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}")
    state = (
        "[green]every source row accounted for[/green]"
        if report["balanced"]
        else "[red]rows do not add up[/red]"
    )
    console.print(f"{state}: see {escape(str(out / 'import_report.json'))}")
    print_validation(console, res, validated)
