"""``sprintlab score``: score one ISO week of new exports with the champion models."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sprintlab.config import Params
    from sprintlab.scoring import ScoreResult

#: young-generation collections before a full one during a run (the interpreter's default is 10):
#: a full collection walks every object the run keeps (the modules of pandas, LightGBM,
#: scikit-learn and matplotlib, the week's tables) and a squad run made six to eight of them, ~10 %
#: of its time. The young generations are still collected as usual, so short-lived cycles are freed.
FULL_GC_AFTER = 1_000_000


def score(
    data_dir: Path = typer.Argument(
        ..., help="Folder with the club's exports (athletes.csv, gym_sets.csv, ...)."
    ),
    out: Path = typer.Option(
        ...,
        "--out",
        help="Folder for scores.csv, scores.parquet, the report, drift.csv, "
        "validated/ and (by default) score_history.parquet.",
    ),
    week: str | None = typer.Option(
        None,
        "--week",
        help="ISO week to score, e.g. 2026-W48; default: the latest complete ISO week in the data.",
    ),
    model_version: str | None = typer.Option(
        None,
        "--model-version",
        help="Registry version instead of the 'champion' alias: N for both models or hamstring=N,transfer=M.",
    ),
    engine: str = typer.Option(
        "local", "--engine", help="local (pandas) or spark (applyInPandas + spark_udf)."
    ),
    master: str | None = typer.Option(
        None, "--master", help="Spark master URL (default local[2]); --engine spark only."
    ),
    pseudonymise: bool = typer.Option(
        False,
        "--pseudonymise",
        help="Also write the scores and the report with keyed aliases instead of athlete ids to OUT/share/ "
        "(key from $SPRINTLAB_PSEUDONYM_KEY or $SPRINTLAB_PSEUDONYM_KEY_FILE); the rest stays staff-only.",
    ),
    history: Path | None = typer.Option(
        None, "--history", help="Score history Parquet (default OUT/score_history.parquet)."
    ),
    no_report: bool = typer.Option(False, "--no-report", help="Skip the HTML report (large leagues)."),
    allow_simulated_model: bool = typer.Option(
        False,
        "--allow-simulated-model",
        help="Score exports that are not simulated with a model trained on simulated athletes; every "
        "report page and scores.csv then say so. Without it such a model is refused (exit 6).",
    ),
    project: Path | None = typer.Option(
        None,
        "--project",
        help="The sprintlab project (folder with params.yaml; its mlflow.db is the default model store). "
        "Default: the nearest folder with params.yaml from the working directory upwards.",
    ),
    params_file: Path | None = typer.Option(
        None, "--params", help="Parameter file (score: section); default: the project's params.yaml."
    ),
) -> None:
    """Score a week: hamstring risk and transfer chance per athlete, drivers, drift, report.

    Each model is scored or refused on its own (its exit code and reason in score_summary.json);
    the run is refused only when no model is left. Exit codes: 0 ok, 2 invalid data, 3 missing
    model, 4 feature schema mismatch, 5 drift beyond score.psi_fail, 6 a model trained on simulated
    athletes for real exports without --allow-simulated-model, 7 output folder not writable, disk
    full or score history corrupted, 8 another run writing the same --out, 9 environment (no
    pseudonym key, no pyspark, registry locked), 1 internal error (see docs/scoring.md). The --out
    folder changes as one unit (staging folder, one rename, manifest.json); with --pseudonymise
    the aliased scores and report go to OUT/share/.
    """
    with _full_collections_deferred():
        from sprintlab.scoring import EXIT_INVALID_DATA

        logging.basicConfig(level=logging.WARNING)
        console = Console(stderr=True, width=160)
        if engine not in ("local", "spark"):
            message = f"--engine must be local or spark, got {engine!r}"
            console.print(f"[red]error:[/red] {escape(message)}", highlight=False)
            raise typer.Exit(EXIT_INVALID_DATA)
        root, params = _project_or_exit(project, params_file, console)
        options: dict[str, Any] = dict(week=week, model_version=model_version, engine=engine, master=master)
        options |= dict(pseudonymise=pseudonymise, report=not no_report, history_path=history)
        res = _run(
            console, root, data_dir, out, params, allow_simulated_model=allow_simulated_model, **options
        )
        _print_outcome(console, res, out)


@contextmanager
def _full_collections_deferred() -> Iterator[None]:
    """The garbage collector's full collections deferred while the command runs
    (:data:`FULL_GC_AFTER`); the thresholds are restored after it."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*thresholds[:2], FULL_GC_AFTER)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _run(
    console: Console, root: Path, data_dir: Path, out: Path, params: Params, **options: Any
) -> ScoreResult:
    """:func:`sprintlab.scoring.score` with a progress display and the project's MLflow store. A
    refusal, or any fault of the input or the environment, is printed as one line and becomes its
    documented exit code (``SPRINTLAB_DEBUG=1`` shows the traceback of an internal error)."""
    from sprintlab.scoring import EXIT_INTERNAL, ScoringError, score
    from sprintlab.tracking import project_store

    try:
        with _progress(console) as bar, project_store(root):
            return score(data_dir, out, params, progress=bar, **options)
    except ScoringError as err:
        console.print(f"[red]refused (exit {err.exit_code}):[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(err.exit_code) from None
    except Exception as err:  # noqa: BLE001 - every other fault becomes one line and an exit code
        code, line = fault_line(err)
        if code == EXIT_INTERNAL and os.environ.get("SPRINTLAB_DEBUG"):
            raise
        console.print(f"[red]error (exit {code}):[/red] {escape(line)}", highlight=False)
        raise typer.Exit(code) from None


def fault_line(err: BaseException) -> tuple[int, str]:
    """The exit code and one-line message of a fault that is not a refusal: a file-system error
    (7, naming the file), a data error (2), a registry/database error (9), else an internal
    error (1)."""
    from sprintlab.io import DataError
    from sprintlab.scoring import EXIT_ENVIRONMENT, EXIT_INTERNAL, EXIT_INVALID_DATA, EXIT_OUTPUT

    first = (str(err).splitlines() or [type(err).__name__])[0]
    if isinstance(err, DataError):
        return EXIT_INVALID_DATA, f"invalid data: {first}"
    if isinstance(err, OSError):
        where = f" ({err.filename})" if err.filename else ""
        return EXIT_OUTPUT, f"cannot write the outputs{where}: {err.strerror or first}; nothing was changed"
    if "database is locked" in first or type(err).__module__.startswith(("sqlite3", "sqlalchemy", "mlflow")):
        return EXIT_ENVIRONMENT, f"model registry error: {type(err).__name__}: {first}"
    return (
        EXIT_INTERNAL,
        f"internal error: {type(err).__name__}: {first} (SPRINTLAB_DEBUG=1 shows the traceback)",
    )


def _project_or_exit(project: Path | None, params_file: Path | None, console: Console) -> tuple[Path, Params]:
    """The project folder and its parameters, or exit 2 with a one-line error."""
    from sprintlab.cli import ProjectError, project_paths
    from sprintlab.config import load_params
    from sprintlab.scoring import EXIT_INVALID_DATA

    try:
        root, params_file = project_paths(project, params_file)
    except ProjectError as err:
        console.print(f"[red]error:[/red] {escape(str(err))}", highlight=False)
        raise typer.Exit(EXIT_INVALID_DATA) from None
    try:
        return root, load_params(params_file)
    except Exception as err:  # noqa: BLE001 - missing or invalid params file
        console.print(f"[red]error:[/red] {escape(f'cannot read {params_file}: {err}')}", highlight=False)
        raise typer.Exit(EXIT_INVALID_DATA) from None


def _progress(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _print_outcome(console: Console, res: ScoreResult, out: Path) -> None:
    """Warnings, notes, the simulated-model label, the one-line summary, and exit 5 on hard drift."""
    for w in res.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(w)}", highlight=False)
    for n in res.notes:
        console.print(f"note: {escape(n)}", highlight=False)
    if res.model_note:
        console.print(
            f"[yellow]{escape(res.model_note)}[/yellow]: labelled in scores.csv and the report",
            highlight=False,
        )
    s = res.scores
    console.print(
        f"week {res.week}: {len(s)} athletes scored, {int(s['hamstring_flag'].fillna(False).sum())} flagged "
        + escape(f"({res.flag_rule}), " if res.flag_rule else "")
        + escape(f"{int(s['insufficient_data'].sum())} with insufficient data; outputs in {out}"),
        highlight=False,
    )
    if res.exit_code:
        console.print(
            f"[red]exit {res.exit_code}:[/red] {escape(res.message)}; scores and report were written and "
            "flagged, the score history was not updated",
            highlight=False,
        )
        raise typer.Exit(res.exit_code)
