"""``sprintlab profile`` sub-command (registered by ``sprintlab.cli`` as ``app.command("profile")(profile)``).

    sprintlab profile SPLITS_FILE --out FILE [--correction none|tc|fd|dc|fixed:SECONDS] [--athletes FILE]
    sprintlab profile --radar TRACE_FILE --out FILE [--athletes FILE]

Reads CSV or Parquet (by extension), writes CSV or Parquet (by extension) atomically: the table
is written to a temporary file in the destination folder, then moved into place with
``os.replace``.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from sprintlab.sprint.fit import parse_correction
from sprintlab.sprint.profile import profile_radar, profile_splits

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def read_table(path: Path) -> pd.DataFrame:
    """Read a CSV or Parquet table chosen by file extension."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise typer.BadParameter(f"{path}: unsupported table format {suffix!r} (use .csv or .parquet)")


def write_table_atomic(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as CSV or Parquet (by extension) via a temp file in the same folder + ``os.replace``."""
    suffix = path.suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        raise typer.BadParameter(f"{path}: unsupported output format {suffix!r} (use .csv or .parquet)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    ath = read_table(athletes) if athletes is not None else None
    try:
        if radar is not None:
            result = profile_radar(read_table(radar), ath)
        else:
            assert splits_file is not None
            result = profile_splits(read_table(splits_file), ath, correction=correction)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    write_table_atomic(result, out)
    n_ok = int(result["fit_ok"].sum()) if len(result) else 0
    typer.echo(f"wrote {len(result)} profiles ({n_ok} fitted ok) to {out}")
