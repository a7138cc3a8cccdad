"""Robust table IO: tolerant reading of club exports and atomic, deterministic writing.

Reading
    :func:`read_table` reads ``.csv``, ``.parquet`` and ``.xlsx``. CSV and Excel cells are read as
    *strings* so that the data contract (:mod:`sprintlab.contract.validate`), not pandas, decides
    types (tools that take numbers directly, such as ``sprintlab profile``, ask for pandas' typing
    with ``infer_types=True``). CSV encoding (UTF-8, UTF-8 with a byte-order mark, then Windows-1252,
    then Latin-1) and delimiter
    (``,`` ``;`` tab) are detected unless the caller declares them (:class:`ReadOptions`, as a
    mapping file's ``read:`` does); metadata lines above the header can be skipped. Fully blank
    lines are dropped; the spreadsheet row number of every remaining row (header = row 1 of the
    file, first data row = row 2; skipped metadata lines count) is kept in
    ``df.attrs["row_numbers"]`` so that problems can be reported where the user sees them.

Writing
    :func:`write_bytes_atomic`, :func:`write_text_atomic` and :func:`write_table_atomic` write to a
    temporary file in the target directory, ``fsync`` it and ``os.replace`` it over the target: a
    failure leaves the previous file intact and no temporary file behind. Parquet output carries
    no pandas index or pandas metadata and is byte-identical for identical frames. CSV output
    neutralises formula-leading text cells (:func:`neutralise_formula`).

Output folders
    :class:`StagedFolder` builds a new generation of an output folder beside it and commits it as
    one unit (``manifest.json`` last, one atomic rename, the previous generation kept);
    :func:`output_lock` is the folder's writer lock; :data:`WRITE_HOOK` lets tests fail any write.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

#: file types of a contract table in a data folder (:func:`find_table`)
TABLE_SUFFIXES = (".csv", ".parquet", ".xlsx")
PARQUET_SUFFIXES = (".parquet", ".pq")
DELIMITERS = ",;\t"
ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16")


@dataclass(frozen=True)
class ReadOptions:
    """How to read one file when detection is not wanted: ``delimiter`` (CSV), ``encoding`` (CSV;
    one of :data:`ENCODINGS`), ``skip_lines`` (metadata lines above the header, CSV and Excel) and
    ``sheet`` (Excel sheet name or 0-based index; default the first)."""

    delimiter: str | None = None
    encoding: str | None = None
    skip_lines: int = 0
    sheet: str | int | None = None


class DataError(Exception):
    """Bad input, located as precisely as known: file, row (spreadsheet numbering), column."""

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        row: int | None = None,
        column: str | None = None,
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.row = row
        self.column = column
        where = ", ".join(
            p
            for p in (
                f"file {self.file}" if self.file else "",
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column else "",
            )
            if p
        )
        super().__init__(f"{where}: {reason}" if where else reason)


def decode_text(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode bytes as UTF-8 (a leading byte-order mark is stripped), failing that as Windows-1252
    (Excel's Western European CSV: curly quotes, the euro sign, Š Œ), failing that as Latin-1.

    Returns ``(text, encoding)``: ``"utf-8"``, ``"utf-8-sig"``, ``"cp1252"`` or ``"latin-1"``.
    With a declared ``encoding`` the bytes are decoded with it (a UTF-8 byte-order mark is still
    stripped); bytes that do not decode raise ``UnicodeDecodeError``.
    """
    if encoding is not None and encoding.lower().replace("_", "-") not in ("utf-8", "utf8"):
        text = raw.decode(encoding)
        return text.removeprefix("\ufeff"), encoding
    enc = "utf-8"
    if raw.startswith(b"\xef\xbb\xbf"):
        raw, enc = raw[3:], "utf-8-sig"
    try:
        return raw.decode("utf-8"), enc
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:  # bytes 0x81 0x8D 0x8F 0x90 0x9D are not Windows-1252
        return raw.decode("latin-1"), "latin-1"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV header line: the most frequent of ``,`` ``;`` tab (``,`` if none)."""
    counts = {d: header_line.count(d) for d in DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    if counts[best] == 0:
        try:
            return csv.Sniffer().sniff(header_line, delimiters=DELIMITERS).delimiter
        except csv.Error:
            return ","
    return best


def _blank(v: object) -> bool:
    return (
        v is None or v is pd.NA or (isinstance(v, float) and v != v) or (isinstance(v, str) and not v.strip())
    )


def _blank_rows(df: pd.DataFrame) -> np.ndarray:
    """Rows whose every cell is blank; each column is checked only on the rows still blank so far."""
    rows = np.arange(len(df))
    for j in range(len(df.columns)):
        if not len(rows):
            break
        rows = rows[_blank_column(df.iloc[rows, j])]
    blank = np.zeros(len(df), dtype=bool)
    blank[rows] = True
    return blank


def _blank_column(col: pd.Series) -> np.ndarray:
    """Per cell: missing or blank text (:func:`_blank`), vectorised for text cells."""
    if col.dtype != object:
        return col.isna().to_numpy()
    arr = col.to_numpy()
    text = np.fromiter((type(v) is str for v in arr), bool, len(arr))
    out = np.zeros(len(arr), dtype=bool)
    out[text] = pd.Series(arr[text], dtype=object).str.strip().eq("").to_numpy()
    others = np.flatnonzero(~text)
    out[others] = [_blank(v) for v in arr[others]]
    return out


def _finish(df: pd.DataFrame, path: Path, first_row: int, info: dict[str, Any]) -> pd.DataFrame:
    """Clean headers, drop fully blank rows and record file, row numbers and read info in ``attrs``."""
    df.columns = [str(c).replace("\ufeff", "").strip() for c in df.columns]
    df.attrs = {}
    rows = [first_row + i for i in range(len(df))]
    keep = np.ones(len(df), dtype=bool)
    if len(df) and len(df.columns):
        keep = ~_blank_rows(df)
    df = df.loc[keep].reset_index(drop=True)
    info["blank_rows_dropped"] = int((~keep).sum())
    df.attrs["row_numbers"] = [r for r, k in zip(rows, keep, strict=True) if k]
    df.attrs["file"] = str(path)
    df.attrs["read_info"] = info
    return df


def _missing_markers(infer_types: bool) -> dict[str, Any]:
    """pandas options for missing cells: only empty cells (text mode) or pandas' defaults (NA, NaN, null, ...)."""
    return {} if infer_types else {"keep_default_na": False, "na_values": [""]}


def _numbers_typed(df: pd.DataFrame) -> pd.DataFrame:
    """Columns whose every non-missing cell is a number become numeric, as pandas' CSV reader types
    them (int64 when all whole and none missing, else float64); other columns stay text."""
    out = df.copy()
    for column in out.columns:
        try:
            out[column] = pd.to_numeric(out[column])
        except (ValueError, TypeError):
            continue
    return out


def _read_parquet(path: Path, infer_types: bool, opts: ReadOptions) -> pd.DataFrame:
    try:
        df = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"cannot read Parquet file: {exc}", file=path) from exc
    return _finish(df.reset_index(drop=True), path, 2, {"format": "parquet"})


def _read_xlsx(path: Path, infer_types: bool, opts: ReadOptions) -> pd.DataFrame:
    sheet = 0 if opts.sheet is None else opts.sheet
    try:
        df = pd.read_excel(
            path,
            sheet_name=sheet,
            dtype=str,
            engine="openpyxl",
            skiprows=opts.skip_lines,
            **_missing_markers(infer_types),
        )
    except Exception as exc:  # openpyxl raises zipfile/KeyError/ValueError for broken workbooks
        raise DataError(f"cannot read Excel workbook (sheet {sheet!r}): {exc}", file=path) from exc
    if len(df.columns) == 0:
        raise DataError(f"sheet {sheet!r} is empty: expected a header row and data rows", file=path)
    df = _finish(df, path, opts.skip_lines + 2, {"format": "xlsx"})
    return _numbers_typed(df) if infer_types else df


def _read_csv(path: Path, infer_types: bool, opts: ReadOptions) -> pd.DataFrame:
    try:
        text, encoding = decode_text(path.read_bytes(), opts.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(f"cannot decode the file as {opts.encoding}: {exc}", file=path) from exc
    lines = text.splitlines()
    if len(lines) <= opts.skip_lines or not "".join(lines[opts.skip_lines :]).strip():
        raise DataError(
            "the file is empty (only blank lines): expected a header row and data rows", file=path
        )
    lead = opts.skip_lines
    while not lines[lead].strip():
        lead += 1
    delim = opts.delimiter or sniff_delimiter(lines[lead])
    try:
        df = pd.read_csv(
            io.StringIO(text),
            sep=delim,
            dtype=str,
            skip_blank_lines=False,
            skiprows=lead,
            **_missing_markers(infer_types),
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise DataError(f"cannot parse CSV (delimiter {delim!r}): {exc}", file=path) from exc
    df = _finish(df, path, lead + 2, {"format": "csv", "encoding": encoding, "delimiter": delim})
    return _numbers_typed(df) if infer_types else df


_READERS: dict[str, Callable[[Path, bool, ReadOptions], pd.DataFrame]] = {
    ".csv": _read_csv,
    ".parquet": _read_parquet,
    ".pq": _read_parquet,
    ".xlsx": _read_xlsx,
}


def read_table(
    path: str | Path, *, infer_types: bool = False, options: ReadOptions | None = None
) -> pd.DataFrame:
    """Read a CSV, Parquet (``.parquet``/``.pq``) or Excel (.xlsx, first sheet) table.

    By default CSV and Excel cells come back as strings (only empty cells missing), so that the
    data contract decides types. ``infer_types=True`` reads them as pandas does by default: its
    missing-value markers (``NA``, ``NaN``, ``null``, ...) are missing and all-number columns are
    numeric. Raises :class:`DataError` for a missing, empty or unreadable file. ``df.attrs`` holds
    ``file``, ``row_numbers`` (spreadsheet row of each data row) and ``read_info`` (encoding,
    delimiter, blank rows dropped). ``options`` declares delimiter, encoding, metadata lines to
    skip and Excel sheet instead of detecting them.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError("file not found", file=path)
    reader = _READERS.get(suffix)
    if reader is None:
        raise DataError(f"unsupported file type {suffix!r} (use .csv, .parquet or .xlsx)", file=path)
    if path.stat().st_size == 0:
        raise DataError("the file is empty (0 bytes): expected a header row and data rows", file=path)
    return reader(path, infer_types, options or ReadOptions())


def find_table(folder: str | Path, name: str) -> Path | None:
    """The file holding table ``name`` in ``folder`` (name.csv / .parquet / .xlsx), if any.

    Two files for the same table (e.g. ``athletes.csv`` and ``athletes.xlsx``) raise
    :class:`DataError`: the validator must not guess which one is current.
    """
    folder = Path(folder)
    hits = [folder / f"{name}{s}" for s in TABLE_SUFFIXES if (folder / f"{name}{s}").is_file()]
    if len(hits) > 1:
        raise DataError(
            f"table {name!r} is given more than once ({', '.join(h.name for h in hits)}); "
            "keep one file per table",
            file=folder,
        )
    return hits[0] if hits else None


def write_bytes_atomic(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to a temp file beside ``path``, fsync, then ``os.replace`` it over ``path``.

    A failure leaves the previous file (if any) untouched and removes the temp file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _before_write(path)
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
    fsync_dir(path.parent)
    return path


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Atomic UTF-8 text write (see :func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def table_bytes(df: pd.DataFrame, suffix: str) -> bytes:
    """Serialise a table deterministically: CSV (no index, ``\\n`` line ends, formula-leading text
    cells neutralised by :func:`neutralise_formula`) or Parquet (no index, no pandas/schema
    metadata, fixed compression and writer options)."""
    suffix = suffix.lower()
    if suffix == ".csv":
        return _csv_safe(df).to_csv(index=False, lineterminator="\n").encode("utf-8")
    if suffix in PARQUET_SUFFIXES:
        table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
        buf = pa.BufferOutputStream()
        pq.write_table(
            table, buf, compression="zstd", write_statistics=True, version="2.6", store_schema=False
        )
        return buf.getvalue().to_pybytes()
    raise ValueError(f"cannot write tables as {suffix!r} (use .csv or .parquet)")


def write_table_atomic(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a table (CSV or Parquet by extension) atomically and byte-deterministically."""
    path = Path(path)
    return write_bytes_atomic(path, table_bytes(df, path.suffix))


def _jsonable(x: object) -> object:
    if isinstance(x, np.integer | np.floating):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    return str(x)


def nan_to_none(obj: Any) -> Any:
    """The same nested dicts/lists with non-finite floats as ``None`` (JSON has no NaN)."""
    if isinstance(obj, dict):
        return {k: nan_to_none(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [nan_to_none(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json_atomic(path: str | Path, data: Any) -> Path:
    """Write ``data`` as indented, key-sorted JSON (numpy scalars and arrays converted), atomically."""
    return write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


# ----------------------------------------------------------------------------- output folders
#: test hook: called with the target path before every file write and before a folder commit
#: (fault injection, ``tests/test_output_transaction.py``); ``None`` in normal runs
WRITE_HOOK: Callable[[Path], None] | None = None
MANIFEST_FILE = "manifest.json"
#: cells of CSV outputs that a spreadsheet would read as a formula (OWASP "CSV injection")
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


class OutputBusy(RuntimeError):
    """Another run holds the writer lock of an output folder."""


def fsync_dir(folder: str | Path) -> None:
    """``fsync`` a directory so that renames inside it survive a power cut (no-op where the OS
    cannot open directories)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _before_write(path: Path) -> None:
    if WRITE_HOOK is not None:
        WRITE_HOOK(path)


def neutralise_formula(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with ``'`` (OWASP); plain
    numbers such as ``-20`` and every other value are returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_LEADS) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` with :func:`neutralise_formula` applied to its text columns (a copy when any changed)."""
    text = [c for c in df.columns if df[c].dtype == object or pd.api.types.is_string_dtype(df[c].dtype)]
    if not text:
        return df
    out = df.copy()
    for c in text:
        out[c] = out[c].map(neutralise_formula, na_action="ignore")
    return out


@contextmanager
def output_lock(folder: str | Path, wait_s: float) -> Iterator[Path]:
    """Hold the writer lock of output ``folder`` (``.<name>.lock`` beside it, ``flock``); wait up
    to ``wait_s`` seconds for another holder, then raise :class:`OutputBusy`. The lock is released
    when the holder exits, even when it is killed."""
    import fcntl

    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    lock = folder.parent / f".{folder.name}.lock"
    fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
    try:
        deadline = time.monotonic() + wait_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(
                        f"output folder {folder} is being written by another run (lock {lock}); "
                        f"waited {wait_s:g} s"
                    ) from None
                time.sleep(0.1)
        yield lock
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def folder_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Every file under ``folder`` (except the manifest) -> size and SHA-256."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST_FILE)
    return {
        p.relative_to(folder).as_posix(): {"bytes": p.stat().st_size, "sha256": _file_digest(p)}
        for p in files
    }


class StagedFolder:
    """A new generation of an output folder, built beside it and committed as one unit.

    :meth:`carry` brings over (hard links, else copies) the files of the current generation that
    the run does not rewrite; the run writes its files under :attr:`path`; :meth:`commit` writes
    ``manifest.json`` last (every file with size and SHA-256), ``fsync`` s and swaps the staging
    folder with the target in one atomic rename (``renameat2`` exchange; elsewhere two renames,
    repaired by :func:`recover_folder`). The replaced generation is kept as ``.<name>.previous``
    beside the target for rollback. :meth:`discard` (or leaving the ``with`` block with an
    exception) removes the staging folder and leaves the target untouched.
    """

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.staging-", dir=self.target.parent))
        self.previous = self.target.parent / f".{self.target.name}.previous"

    def __enter__(self) -> StagedFolder:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.discard()

    def carry(self, keep: Callable[[str], bool]) -> None:
        """Link the target's files whose relative path ``keep`` accepts into the staging folder
        (files the run has already written there are left alone)."""
        if not self.target.is_dir():
            return
        for src in sorted(self.target.rglob("*")):
            rel = src.relative_to(self.target).as_posix()
            if not src.is_file() or rel == MANIFEST_FILE or not keep(rel):
                continue
            dst = self.path / rel
            if dst.exists():  # written by this run
                continue
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)

    def commit(self, info: dict[str, Any]) -> Path:
        """Write the manifest (``info`` + the file list) last, then swap the folder in."""
        manifest = {**info, "files": folder_manifest(self.path)}
        write_text_atomic(self.path / MANIFEST_FILE, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        for sub in sorted({p.parent for p in self.path.rglob("*") if p.is_file()}):
            fsync_dir(sub)
        _before_write(self.target)
        if self.target.exists() and _exchange(self.path, self.target):
            old = self.path
        elif self.target.exists():
            old = self.target.parent / f".{self.target.name}.replaced-{os.getpid()}"
            os.rename(self.target, old)
            os.rename(self.path, self.target)
        else:
            os.rename(self.path, self.target)
            old = None
        fsync_dir(self.target.parent)
        if old is not None:
            shutil.rmtree(self.previous, ignore_errors=True)
            os.rename(old, self.previous)
            fsync_dir(self.target.parent)
        return self.target

    def discard(self) -> None:
        """Remove the staging folder (the target is left as it was)."""
        shutil.rmtree(self.path, ignore_errors=True)


def recover_folder(target: str | Path) -> bool:
    """Under the writer lock, before a new run: remove staging folders left by a killed run, and
    put the replaced generation back when a commit without an atomic exchange was interrupted
    between its two renames (the target missing). True when a generation was restored."""
    target = Path(target)
    for stale in target.parent.glob(f".{target.name}.staging-*"):
        shutil.rmtree(stale, ignore_errors=True)
    if target.exists():
        return False
    for old in sorted(target.parent.glob(f".{target.name}.replaced-*")):
        os.rename(old, target)
        fsync_dir(target.parent)
        return True
    return False
