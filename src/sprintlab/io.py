"""Robust table IO: tolerant reading of club exports and atomic, deterministic writing."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")


class DataError(Exception):
    """Bad input, located as precisely as known: file, row (spreadsheet numbering), column."""

    def __init__(self, reason: str, *, file: str | Path | None = None, row: int | None = None,
                 column: str | None = None) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        where = ", ".join(p for p in (
            f"file {self.file}" if self.file else "",
            f"row {row}" if row is not None else "",
            f"column {column!r}" if column else "",
        ) if p)
        super().__init__(f"{where}: {reason}" if where else reason)


def _decode(raw: bytes, path: Path) -> str:
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV, Parquet or Excel table. CSV and Excel cells are read as strings so that the
    data contract, not pandas, decides types; CSV encoding (UTF-8, UTF-8 with BOM, Latin-1) and
    delimiter (``,`` ``;`` tab) are detected. An empty file raises :class:`DataError`.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError("file not found", file=path)
    if path.stat().st_size == 0:
        raise DataError("the file is empty", file=path)
    if suffix == ".parquet":
        return pd.read_parquet(path)
    if suffix == ".xlsx":
        df = pd.read_excel(path, dtype=str, engine="openpyxl")
        if df.empty and len(df.columns) == 0:
            raise DataError("the sheet is empty", file=path)
        return df
    if suffix != ".csv":
        raise DataError(f"unsupported file type {suffix!r} (use .csv, .parquet or .xlsx)", file=path)
    text = _decode(path.read_bytes(), path)
    if not text.strip():
        raise DataError("the file is empty", file=path)
    first = text.splitlines()[0]
    try:
        delim = csv.Sniffer().sniff(first, delimiters=",;\t").delimiter
    except csv.Error:
        delim = ","
    df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, na_values=[""])
    df.columns = [str(c).strip() for c in df.columns]
    return df


def find_table(folder: str | Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``folder`` (name.csv / .parquet / .xlsx), if any."""
    hits = [Path(folder) / f"{name}{s}" for s in TABLE_SUFFIXES if (Path(folder) / f"{name}{s}").exists()]
    if len(hits) > 1:
        raise DataError(f"table {name!r} is given more than once: {', '.join(h.name for h in hits)}", file=folder)
    return hits[0] if hits else None


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, fsync, then rename over ``path``.

    A crash leaves either the previous file or the new one, never a half-written file; the temp
    file is removed on failure.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Atomic UTF-8 text write (see :func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def table_bytes(df: pd.DataFrame, suffix: str) -> bytes:
    """Serialise a table deterministically: CSV (no index) or Parquet (no pandas index metadata)."""
    if suffix == ".csv":
        return df.to_csv(index=False, lineterminator="\n").encode("utf-8")
    if suffix == ".parquet":
        table = pa.Table.from_pandas(df, preserve_index=False)
        table = table.replace_schema_metadata(None)
        buf = pa.BufferOutputStream()
        pq.write_table(table, buf, compression="zstd", write_statistics=True)
        return buf.getvalue().to_pybytes()
    raise ValueError(f"cannot write tables as {suffix!r}")


def write_table_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table (CSV or Parquet by extension) atomically and byte-deterministically."""
    path = Path(path)
    return write_bytes_atomic(path, table_bytes(df, path.suffix.lower()))
