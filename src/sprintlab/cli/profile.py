"""``sprintlab profile`` sub-command (registered by ``sprintlab.cli`` as ``app.command("profile")(profile)``).

    sprintlab profile SPLITS_FILE --out FILE [--correction none|tc|fd|dc|fixed:SECONDS] [--athletes FILE]
    sprintlab profile --radar TRACE_FILE --out FILE [--athletes FILE]

Reads CSV or Parquet (by extension, numeric columns typed as pandas reads them), writes CSV or
Parquet (by extension) atomically with :func:`sprintlab.io.write_table_atomic`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from sprintlab.io import DataError, read_table, write_table_atomic
from sprintlab.sprint.fit import parse_correction
from sprintlab.sprint.profile import profile_radar, profile_splits

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def _read_input(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet table chosen by file extension."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise typer.BadParameter(f"{path}: unsupported table format {suffix!r} (use .csv or .parquet)")
    return read_table(path, infer_types=True)


def _write_output(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as CSV or Parquet (by extension), atomically."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise typer.BadParameter(f"{path}: unsupported output format {suffix!r} (use .csv or .parquet)")
    write_table_atomic(df, path)


def profile(
    splits_file: Annotated[Path | None, typer.Argument(help="sprint_splits table (CSV or Parquet).")] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Output table (.csv or .parquet).")] = Path(
        "profiles.csv"
    ),
    correction: Annotated[
        str, typer.Option(help="Start correction: none, tc, fd, dc or fixed:SECONDS.")
    ] = "none",
    athletes: Annotated[
        Path | None, typer.Option(help="athletes table with body_mass_kg and height_cm.")
    ] = None,
    radar: Annotated[
        Path | None,
        typer.Option(
            help="Radar/laser trace table (time_s, velocity_m_s and/or distance_m) instead of splits."
        ),
    ] = None,
) -> None:
    """Fit mono-exponential sprint profiles (MSS, TAU, MAC, FV profile) to gate splits or radar traces."""
    if (splits_file is None) == (radar is None):
        raise typer.BadParameter("give either SPLITS_FILE or --radar TRACE_FILE (exactly one)")
    try:
        parse_correction(correction)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--correction") from exc
    ath = _read_input(athletes) if athletes is not None else None
    try:
        if radar is not None:
            result = profile_radar(_read_input(radar), ath)
        else:
            assert splits_file is not None
            result = profile_splits(_read_input(splits_file), ath, correction=correction)
    except (ValueError, DataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    _write_output(result, out)
    n_ok = int(result["fit_ok"].sum()) if len(result) else 0
    typer.echo(f"wrote {len(result)} profiles ({n_ok} fitted ok) to {out}")
