"""``sprintlab import``: a club's export folder -> contract tables, with exact row accounting.

:func:`import_folder` reads every source of a mapping file - a file name or a glob (``GPS_*.csv``,
one file per week; files are read in name order) - applies its steps
(:func:`sprintlab.contract.mapping.map_source`), combines several sources of one table (outer
``join`` on the table key, the default, or ``concat``) and keeps, for every contract row, the
source files and rows it came from (:mod:`sprintlab.contract.provenance`).

Row accounting, per table and source file (:class:`FileAccount`), in source records (rows of the
file; for a ``wide`` or ``unpivot`` source, the records after reshaping)::

    read = filtered + merged + written          (the import)
    written = accepted + rejected               (validation of the written table)

``filtered`` rows were dropped by a step, with the reason; ``merged`` rows were folded into
another row (aggregation, episodes, joining two sources). :func:`add_validation` fills in
validation's counts and checks both identities; :func:`import_report` is the JSON written as
``import_report.json``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sprintlab.contract.convert import decode_json_rows, locale_from, read_options
from sprintlab.contract.mapping import MapContext, check_entry, load_mapping, map_source
from sprintlab.contract.provenance import PROVENANCE_COLUMN, merge
from sprintlab.contract.steps import PROV, StepLog, with_provenance
from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import ValidationResult, is_missing
from sprintlab.io import DataError, read_table, write_json_atomic, write_table_atomic

GLOB_CHARS = set("*?[")
ACCOUNTING = (
    "per table and source file: rows_read = filtered + merged + written; written = accepted + rejected"
)


@dataclass
class FileAccount:
    """Row accounting of one source file for one table (see the module docstring)."""

    table: str
    file: str
    file_rows: int = 0
    rows_read: int = 0
    filtered: dict[str, int] = field(default_factory=dict)
    merged: int = 0
    written: int = 0
    accepted: int | None = None
    rejected: int | None = None
    cells_emptied: int | None = None

    @property
    def balanced(self) -> bool:
        """Whether the rows add up (both identities once validation's counts are in)."""
        ok = self.rows_read == sum(self.filtered.values()) + self.merged + self.written
        if self.accepted is not None and self.rejected is not None:
            ok = ok and self.written == self.accepted + self.rejected
        return ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.file,
            "file_rows": self.file_rows,
            "rows_read": self.rows_read,
            "filtered": sum(self.filtered.values()),
            "filtered_by_reason": dict(sorted(self.filtered.items())),
            "merged": self.merged,
            "written": self.written,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "cells_emptied": self.cells_emptied,
            "balanced": self.balanced,
        }


@dataclass
class ImportResult:
    """Contract tables with their provenance column (:data:`PROV`, Provenance objects), the row
    accounting per table and source file, and warnings."""

    frames: dict[str, pd.DataFrame]
    accounts: list[FileAccount]
    warnings: list[str]
    mapping: str

    def csv_tables(self) -> dict[str, pd.DataFrame]:
        """The tables as written: provenance as JSON text in :data:`PROVENANCE_COLUMN`."""
        return {
            name: df.drop(columns=PROV).assign(**{PROVENANCE_COLUMN: [p.to_json() for p in df[PROV]]})
            for name, df in self.frames.items()
        }


# ----------------------------------------------------------------------------- reading
def lookup_files(mapping: dict) -> set[str]:
    """The files a mapping reads as ``lookup`` registers (relative to the exports folder)."""
    out: set[str] = set()
    for entry in mapping["tables"]:
        for src in entry.get("sources") or [entry]:
            for rule in (src.get("columns") or {}).values():
                if isinstance(rule, dict) and isinstance(rule.get("lookup"), dict):
                    out.add(Path(str(rule["lookup"]["file"])).as_posix())
    return out


def source_files(source_dir: Path, pattern: str, exclude: set[str] | None = None) -> list[Path]:
    """The files a source names: the file itself, or every match of a glob in name order (Excel
    lock files ``~$...``, hidden files and the ``exclude`` files - the lookup registers - left out)."""
    if not GLOB_CHARS & set(pattern):
        return [source_dir / pattern]
    skip = exclude or set()
    hits = sorted(
        p
        for p in source_dir.glob(pattern)
        if p.is_file()
        and not p.name.startswith(("~$", "."))
        and p.relative_to(source_dir).as_posix() not in skip
    )
    if not hits:
        raise DataError(f"no file matches {pattern!r}", file=source_dir)
    return hits


def _read_one(path: Path, label: str, read: dict | None) -> pd.DataFrame:
    """One source file as raw text cells with its provenance column."""
    read = read or {}
    fmt = read.get("format", "table")
    if fmt == "table":
        df = read_table(path, options=read_options(read))
    elif fmt == "json_by_key":
        df = decode_json_rows(path, str(read.get("key_as", "key")))
    else:
        raise DataError(f"unknown read format {fmt!r} (use table or json_by_key)", file=path)
    encoding = df.attrs.get("read_info", {}).get("encoding")
    df = with_provenance(df, label)
    if name_as := read.get("file_name_as"):
        df[str(name_as)] = path.name
    df.attrs = {"encoding": encoding}
    return df


#: encodings a CSV was read with that are a repair (name in the validator's REPAIRS)
ENCODING_REPAIRS = {"utf-8-sig": "bom_stripped", "cp1252": "cp1252_decoded", "latin-1": "latin1_decoded"}


def _read_source(
    source_dir: Path, src: dict, warnings: list[str], exclude: set[str]
) -> tuple[pd.DataFrame, dict[str, int]]:
    """All files of one source, concatenated (union of columns), and the data rows per file."""
    frames, rows = [], {}
    for path in source_files(source_dir, str(src["file"]), exclude):
        label = path.relative_to(source_dir).as_posix() if path.is_relative_to(source_dir) else path.name
        df = _read_one(path, label, src.get("read"))
        repair = ENCODING_REPAIRS.get(df.attrs.get("encoding") or "")
        if repair is not None and not (src.get("read") or {}).get("encoding"):
            warnings.append(f"{label}: read as {df.attrs['encoding']} ({repair}), not plain UTF-8")
        frames.append(df)
        rows[label] = len(df)
    union = list(dict.fromkeys(c for df in frames for c in df.columns))
    for df, label in zip(frames, rows, strict=True):
        lacking = [c for c in union if c not in df.columns]
        if lacking and len(frames) > 1:
            warnings.append(
                f"{label}: no column(s) {', '.join(map(repr, lacking))} (other files of {src['file']!r} have them)"
            )
    return pd.concat(frames, ignore_index=True).astype(object), rows


# ----------------------------------------------------------------------------- combining
def _key_text(values: tuple) -> tuple | None:
    if any(is_missing(v) for v in values):
        return None
    return tuple(str(v).strip() for v in values)


def join_sources(frames: list[pd.DataFrame], key: tuple[str, ...]) -> pd.DataFrame:
    """Outer join of several sources on the table key; provenance merged. A row whose key is empty
    or repeats within its own source is not joined (validation then rejects it)."""
    rows: dict[tuple, dict[str, Any]] = {}
    loose: list[dict[str, Any]] = []
    for df in frames:
        seen: set[tuple] = set()
        for rec in df.to_dict("records"):
            k = _key_text(tuple(rec.get(c) for c in key))
            if k is None or k in seen:
                loose.append(rec)
                continue
            seen.add(k)
            if k in rows:
                prov = merge([rows[k][PROV], rec[PROV]])
                rows[k].update({c: v for c, v in rec.items() if c not in key})
                rows[k][PROV] = prov
            else:
                rows[k] = dict(rec)
    cols = list(dict.fromkeys(c for df in frames for c in df.columns))
    out = pd.DataFrame([*rows.values(), *loose], columns=cols).astype(object)
    try:
        return out.sort_values(list(key), kind="mergesort").reset_index(drop=True)
    except TypeError:  # mixed numbers and text in a key column: sort as text
        return out.sort_values(list(key), kind="mergesort", key=lambda s: s.astype(str)).reset_index(
            drop=True
        )


def _ordered(df: pd.DataFrame, table: str) -> pd.DataFrame:
    order = [c for c in TABLES[table].column_names if c in df.columns]
    return df[[*order, PROV]]


# ----------------------------------------------------------------------------- accounting
def _accounts(table: str, frame: pd.DataFrame, file_rows: dict[str, int], log: StepLog) -> list[FileAccount]:
    """Accounting of one table per source file from the step log and the rows' provenance."""
    written: Counter[str] = Counter()
    merged: Counter[str] = Counter()
    for p in frame[PROV]:
        for f in p.files:
            written[f] += 1
            merged[f] += p.n_rows(f) - 1
    out = []
    for f, n in file_rows.items():
        filtered = {reason: c for (g, reason), c in log.filtered.items() if g == f}
        out.append(
            FileAccount(
                table,
                f,
                file_rows=n,
                rows_read=log.records[f],
                filtered=filtered,
                merged=merged[f],
                written=written[f],
            )
        )
    return out


def import_folder(mapping: str | Path | dict, source_dir: str | Path) -> ImportResult:
    """Import every table of a mapping from ``source_dir`` (see the module docstring)."""
    m = load_mapping(mapping) if not isinstance(mapping, dict) else mapping
    if not isinstance(m.get("tables"), list):
        raise DataError("a mapping needs a 'tables:' list")
    for entry in m["tables"]:
        check_entry(entry)
    source_dir = Path(source_dir)
    if not source_dir.is_dir():
        raise DataError("exports folder not found (or not a folder)", file=source_dir)
    frames: dict[str, pd.DataFrame] = {}
    accounts: list[FileAccount] = []
    warnings: list[str] = []
    registers: dict = {}
    registers_read = lookup_files(m)
    for entry in m["tables"]:
        table = entry["table"]
        log, file_rows, parts = StepLog(), dict[str, int](), list[pd.DataFrame]()
        for src in entry.get("sources") or [entry]:
            raw, rows = _read_source(source_dir, src, warnings, registers_read)
            for f, n in rows.items():
                file_rows[f] = file_rows.get(f, 0) + n
            ctx = MapContext(source_dir, locale_from(src.get("read")), registers)
            try:
                parts.append(map_source(raw, {**src, "table": table}, ctx, log))
            except DataError as exc:
                where = exc.file or str(src["file"])
                raise DataError(
                    f"table {table!r}: {exc.reason}", file=where, row=exc.row, column=exc.column
                ) from None
        if entry.get("combine", "join") == "join" and len(parts) > 1:
            df = join_sources(parts, TABLES[table].key)
        else:
            df = pd.concat(parts, ignore_index=True).astype(object)
        df = _ordered(df, table)
        accounts += _accounts(table, df, file_rows, log)
        frames[table] = (
            _ordered(pd.concat([frames[table], df], ignore_index=True), table) if table in frames else df
        )
    name = str(mapping) if not isinstance(mapping, dict) else str(m.get("dataset", "mapping"))
    return ImportResult(frames, accounts, warnings, Path(name).name)


def add_validation(result: ImportResult, validation: ValidationResult) -> None:
    """Fill in validation's accepted, rejected and emptied cells per table and source file."""
    for acc in result.accounts:
        counts = validation.counts.get(acc.table)
        src = counts.get("sources", {}).get(acc.file) if counts is not None else None
        if src is None:  # the table could not be read at all, or the file wrote no rows
            acc.accepted, acc.rejected, acc.cells_emptied = 0, acc.written, 0
            continue
        acc.accepted, acc.rejected, acc.cells_emptied = src["accepted"], src["rejected"], src["cells_emptied"]


def import_report(result: ImportResult) -> dict[str, Any]:
    """The JSON-able ``import_report.json``: per file and per table, with the accounting rule."""
    tables: dict[str, dict[str, Any]] = {}
    for acc in result.accounts:
        t = tables.setdefault(
            acc.table, {"files": 0, "rows_read": 0, "filtered": 0, "merged": 0, "written": 0}
        )
        t["files"] += 1
        t["rows_read"] += acc.rows_read
        t["filtered"] += sum(acc.filtered.values())
        t["merged"] += acc.merged
        t["written"] += acc.written
    return {
        "mapping": result.mapping,
        "accounting": ACCOUNTING,
        "balanced": all(a.balanced for a in result.accounts),
        "tables": tables,
        "files": [a.as_dict() for a in result.accounts],
        "warnings": result.warnings,
    }


def write_import(result: ImportResult, out_dir: str | Path) -> list[Path]:
    """Write ``<table>.csv`` (contract columns + provenance) for every imported table; stale
    contract CSVs of tables this mapping does not produce are removed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tables = result.csv_tables()
    for name in TABLES:
        stale = out_dir / f"{name}.csv"
        if name not in tables and stale.exists():
            stale.unlink()
    return [write_table_atomic(df, out_dir / f"{name}.csv") for name, df in tables.items()]


def write_import_report(result: ImportResult, out_dir: str | Path) -> Path:
    """Write ``import_report.json`` (key-sorted, deterministic)."""
    return write_json_atomic(Path(out_dir) / "import_report.json", import_report(result))
