"""The ``sprintlab`` command line: the typer app; one module per command in this package.

A command's module is imported only when that command runs, so ``sprintlab --help`` and
``sprintlab --version`` answer without loading pandas, LightGBM or MLflow.
"""

from __future__ import annotations

import ast
import atexit
import gc
import json
import subprocess
from importlib import import_module
from pathlib import Path

import typer
from typer.core import TyperCommand, TyperGroup

import sprintlab

# At exit the interpreter's final garbage collections walk every object pandas, LightGBM and
# scikit-learn allocated: ~0.7 s of a 7 s `sprintlab score` on 2 cores. The process is ending, so
# the objects are frozen instead (gc.freeze: left out of collections; reference counting still
# finalises them, open files included, and the memory goes back to the OS with the process).
atexit.register(gc.freeze)

# command name -> (module in this package, function); the order of `sprintlab --help`
COMMANDS = {
    "validate": ("data", "validate"),
    "profile": ("profile", "profile"),
    "score": ("score", "score"),
    "levers": ("levers", "levers"),
    "import": ("data", "import_data"),
    "simulate": ("simulate", "simulate"),
}


def _docstring(module: str, function: str) -> str:
    """A command function's docstring, read from its source without importing the module."""
    tree = ast.parse((Path(__file__).parent / f"{module}.py").read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    return ast.get_docstring(node) or ""


def _load(name: str) -> TyperCommand:
    """The real command: its module imported, its options built by typer."""
    module, function = COMMANDS[name]
    single = typer.Typer(add_completion=False)
    single.command(name)(getattr(import_module(f"{__name__}.{module}"), function))
    command = typer.main.get_command(single)
    assert isinstance(command, TyperCommand)
    return command


class _LazyGroup(TyperGroup):
    """Lists every command with its help text; imports a command's module only to run it."""

    def __init__(self, **attrs) -> None:
        super().__init__(**attrs)
        for name, (module, function) in COMMANDS.items():
            self.add_command(TyperCommand(name, help=_docstring(module, function)))

    def resolve_command(self, ctx, args):
        name, command, rest = super().resolve_command(ctx, args)
        return name, (_load(name) if name in COMMANDS else command), rest


class ProjectError(ValueError):
    """No sprintlab project (a folder with ``params.yaml``) where a command looked for one."""


def project_paths(project: Path | None, params_file: Path | None = None) -> tuple[Path, Path]:
    """A command's project folder and parameter file, from any working directory.

    The project is ``--project DIR``, else the nearest folder from the working directory upwards
    that holds ``params.yaml``, else the folder of ``--params``; the parameter file is ``--params``
    when given, else the project's ``params.yaml``. The project's ``mlflow.db`` is then the default
    MLflow store (:func:`sprintlab.tracking.project_store`). Raises :class:`ProjectError`.
    """
    from sprintlab.tracking import PROJECT_FILE, find_project

    if project is not None:
        root: Path | None = project.resolve()
        if not (project / PROJECT_FILE).is_file() and params_file is None:
            raise ProjectError(f"--project {project}: no {PROJECT_FILE} there")
    else:
        root = find_project() or (params_file.resolve().parent if params_file is not None else None)
    if root is None:
        raise ProjectError(
            f"no sprintlab project: no {PROJECT_FILE} in {Path.cwd()} or any folder above it; "
            "pass --project DIR (the folder with params.yaml, dvc.yaml and mlflow.db)"
        )
    return root, params_file if params_file is not None else root / PROJECT_FILE


def champions_text(start: Path | None = None) -> str:
    """The registry's champions as the project's last training runs recorded them (each model
    folder's ``registry.json``; the project is the nearest folder from ``start``, default the
    working directory, upwards that holds ``params.yaml``). Plain JSON, no MLflow: fast.
    Empty when there is no project or no recorded champion."""
    here = (start or Path.cwd()).resolve()
    root = next((d for d in (here, *here.parents) if (d / "params.yaml").is_file()), None)
    if root is None:
        return ""
    found = []
    for path in sorted((root / "models").glob("*/registry.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        version = record.get("champion_version") or (
            record.get("version") if record.get("champion") else None
        )
        if record.get("name") and version:
            found.append(f"{record['name']} v{version}")
    return f"champions: {', '.join(found)} (as the last training in {root} left them)" if found else ""


def _git_commit() -> str:
    """The short commit of the checkout the package runs from ('' when not from a git checkout)."""
    git = ["git", "-C", str(Path(sprintlab.__file__).parent)]
    try:
        tracked = subprocess.run(
            [*git, "ls-files", "--error-unmatch", "__init__.py"], capture_output=True, timeout=5
        )
        head = subprocess.run([*git, "rev-parse", "--short=12", "HEAD"], capture_output=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return ""
    return head.stdout.decode().strip() if tracked.returncode == 0 and head.returncode == 0 else ""


def version_text() -> str:
    """``sprintlab <version>``, plus the git commit when the package runs from a git checkout, and
    on a second line the champions (:func:`champions_text`) when run inside a project."""
    champions = champions_text()
    commit = _git_commit()
    return (
        f"sprintlab {sprintlab.__version__}"
        + (f" (git {commit})" if commit else "")
        + (f"\n{champions}" if champions else "")
    )


def _print_version(value: bool) -> None:
    if value:
        typer.echo(version_text())
        raise typer.Exit()


app = typer.Typer(
    cls=_LazyGroup,
    help="sprintlab: strength-to-sprint transfer and hamstring risk, and why.",
    no_args_is_help=True,
)


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """The options before a command (``--version``)."""


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    app()
