"""``sprintlab profile`` sub-command (registered by ``sprintlab.cli`` as ``app.command("profile")(profile)``).

    sprintlab profile SPLITS_FILE --out FILE [--correction none|tc|fd|dc|fixed:SECONDS] [--athletes FILE]
    sprintlab profile --radar TRACE_FILE --out FILE [--athletes FILE]
    sprintlab profile --in-situ TRACKING_FILE [--velocity-threshold V] [--window-days N] [--out FILE]

Reads CSV or Parquet (by extension, numeric columns typed as pandas reads them; tracking files
may also be ``.csv.gz``), writes CSV or Parquet (by extension) atomically with
:func:`sprintlab.io.write_table_atomic`.
"""

from __future__ import annotations

import dataclasses
import gzip
import zlib
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from sprintlab.io import DataError, read_table, write_table_atomic
from sprintlab.sprint.fit import parse_correction
from sprintlab.sprint.profile import profile_radar, profile_splits

TABLE_SUFFIXES = (".csv", ".parquet", ".pq")
TRACKING_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".pq")
#: profiles printed in full; more are summarised
PRINT_ROWS = 20


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


def read_tracking_file(path: Path) -> pd.DataFrame:
    """A tracking table (``.csv``, ``.csv.gz``, ``.parquet``/``.pq``) as pandas types it.

    Raises :class:`DataError` for a missing, empty, unreadable or unsupported file."""
    name = path.name.lower()
    if not any(name.endswith(s) for s in TRACKING_SUFFIXES):
        raise DataError("unsupported tracking file type (use .csv, .csv.gz, .parquet or .pq)", file=path)
    if not path.is_file():
        raise DataError("file not found", file=path)
    if path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes): expected a header row and samples", file=path)
    try:
        if name.endswith((".parquet", ".pq")):
            return pd.read_parquet(path)
        return pd.read_csv(path, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        raise DataError("the file has no header row", file=path) from exc
    except (pd.errors.ParserError, UnicodeDecodeError, gzip.BadGzipFile, zlib.error, EOFError) as exc:
        raise DataError(f"cannot parse the file: {exc}", file=path) from exc
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for corrupt Parquet files
        raise DataError(f"cannot read the file: {exc}", file=path) from exc


def _load_insitu_params(params_file: Path):
    """The ``insitu`` block of the parameter file (exit 2 with a message when unreadable)."""
    from sprintlab.config import load_params

    try:
        return load_params(params_file).insitu
    except Exception as err:  # noqa: BLE001 - missing or invalid params file
        typer.echo(f"error: cannot read {params_file}: {err}", err=True)
        raise typer.Exit(code=2) from None


def _fmt(x: object, digits: int = 2) -> str:
    """A number with ``digits`` decimals, '-' when missing."""
    return "-" if pd.isna(x) else f"{float(x):.{digits}f}"  # type: ignore[arg-type]


def _print_profiles(profiles: pd.DataFrame, keys: list[str]) -> None:
    """One line per profile (the first :data:`PRINT_ROWS`): keys, MSS, MAC, TAU, PMAX, points."""
    for _, row in profiles.head(PRINT_ROWS).iterrows():
        where = " ".join(str(row[k]) for k in keys) or "trace"
        head = f"{where}: "
        if row["fit_ok"]:
            typer.echo(
                f"{head}MSS {_fmt(row['mss_m_s'])} m/s, MAC {_fmt(row['mac_m_s2'])} m/s^2, "
                f"TAU {_fmt(row['tau_s'], 3)} s, PMAX {_fmt(row['pmax_rel_w_kg'])} W/kg "
                f"({row['n_points']} points in {row['n_bins']} speed bins at >= "
                f"{_fmt(row['velocity_threshold_m_s'])} m/s; top speed {_fmt(row['top_speed_m_s'])} m/s)"
            )
        else:
            typer.echo(f"{head}not fitted: {row['fit_issue']}")
    if len(profiles) > PRINT_ROWS:
        typer.echo(f"... and {len(profiles) - PRINT_ROWS} more profiles")


def _print_samples(profiles: pd.DataFrame) -> None:
    """What the cleaning did with the samples, summed over the traces."""
    from sprintlab.sprint.tracking import COUNT_COLUMNS

    total = {c: int(profiles[c].sum()) for c in COUNT_COLUMNS}
    typer.echo(
        f"{len(profiles)} trace(s), {total['n_samples']:,} samples: {total['n_usable']:,} usable, "
        f"{total['n_missing']:,} missing, {total['n_duplicate']:,} duplicate, "
        f"{total['n_implausible_speed'] + total['n_implausible_acceleration']:,} implausible, "
        f"{total['n_no_acceleration']:,} without acceleration; {total['n_gaps']:,} gaps"
    )


def _print_points(points: pd.DataFrame) -> None:
    """The points used by a single profile."""
    used = points[points["used"]]
    typer.echo(f"points used ({len(used)}):  velocity_m_s  acceleration_m_s2")
    for v, a in zip(used["velocity_m_s"], used["acceleration_m_s2"], strict=True):
        typer.echo(f"  {v:10.3f}  {a:10.3f}")


def _in_situ(
    tracking: Path,
    out: Path | None,
    velocity_threshold: float | None,
    window_days: int | None,
    params_file: Path,
) -> None:
    """The ``--in-situ`` mode: profile, print, write; exit 1 when no profile could be fitted."""
    from sprintlab.sprint.insitu import settings_from_params
    from sprintlab.sprint.insitu_profile import TRACE_KEYS, profile_in_situ, profile_in_situ_windows

    if out is not None and out.suffix.lower() not in TABLE_SUFFIXES:
        raise typer.BadParameter(f"{out}: unsupported output format {out.suffix!r} (use .csv or .parquet)")
    p = _load_insitu_params(params_file)
    settings, cleaning = settings_from_params(p)
    if velocity_threshold is not None:
        settings = dataclasses.replace(settings, velocity_threshold_m_s=velocity_threshold)
    try:
        samples = read_tracking_file(tracking)
        if window_days is None:
            res = profile_in_situ(samples, settings, cleaning, p.chunk_samples)
        else:
            res = profile_in_situ_windows(samples, settings, cleaning, p.chunk_samples, window_days)
    except (ValueError, DataError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    profiles = res.profiles
    keys = [k for k in TRACE_KEYS if k in profiles.columns]
    if window_days is None:
        _print_samples(profiles)
    _print_profiles(profiles, keys)
    if len(profiles) == 1 and bool(profiles["fit_ok"].iloc[0]):
        _print_points(res.points)
    if out is not None:
        _write_output(profiles, out)
        typer.echo(f"wrote {len(profiles)} in-situ profiles to {out}")
    if not profiles["fit_ok"].any():
        typer.echo(
            "error: no in-situ profile could be fitted (reasons above); when the highest acceleration "
            "came at a low speed, a fixed --velocity-threshold (e.g. 3 or 4 m/s) keeps the fit to faster efforts",
            err=True,
        )
        raise typer.Exit(code=1)


def _gates_or_radar(
    splits_file: Path | None, radar: Path | None, out: Path, correction: str, athletes: Path | None
) -> None:
    """The gate-split and radar modes: fit, write ``out``, say how many fitted."""
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


def profile(
    splits_file: Annotated[Path | None, typer.Argument(help="sprint_splits table (CSV or Parquet).")] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Output table (.csv or .parquet). Splits and radar profiles default to profiles.csv; "
            "in-situ profiles are only printed without it.",
        ),
    ] = None,
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
    in_situ: Annotated[
        Path | None,
        typer.Option(
            "--in-situ",
            help="GPS/LPS tracking samples (.csv, .csv.gz, .parquet): velocity_m_s (or velocity), "
            "acceleration_m_s2 (or acceleration; derived from velocity and time_s when absent), optional "
            "athlete_id, date, session_id. Fits an in-situ acceleration-speed profile per session.",
        ),
    ] = None,
    velocity_threshold: Annotated[
        float | None,
        typer.Option(
            "--velocity-threshold",
            min=0,
            help="In-situ: fit the speed bins at or above V m/s (default: insitu.velocity_threshold_m_s "
            "in --params; null there = the speed of the highest acceleration).",
        ),
    ] = None,
    window_days: Annotated[
        int | None,
        typer.Option(
            "--window-days",
            min=1,
            help="In-situ: one profile per athlete and date from the traces of the last N days "
            "(needs athlete_id and date columns).",
        ),
    ] = None,
    params_file: Annotated[
        Path, typer.Option("--params", help="Parameter file (insitu: section; --in-situ only).")
    ] = Path("params.yaml"),
) -> None:
    """Fit sprint profiles (MSS, TAU, MAC, FV profile) to gate splits, radar traces or GPS/LPS sessions.

    Exit codes: 0 = done, 1 = no in-situ profile could be fitted, 2 = bad input."""
    if sum(x is not None for x in (splits_file, radar, in_situ)) != 1:
        raise typer.BadParameter(
            "give exactly one of SPLITS_FILE, --radar TRACE_FILE or --in-situ TRACKING_FILE"
        )
    if in_situ is not None:
        _in_situ(in_situ, out, velocity_threshold, window_days, params_file)
        return
    _gates_or_radar(
        splits_file, radar, out if out is not None else Path("profiles.csv"), correction, athletes
    )
