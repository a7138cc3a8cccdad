"""Validate a folder of club exports against the data contract.

:func:`validate_folder` reads every contract table present in a folder, applies the documented
safe repairs (:data:`REPAIRS`), coerces types and checks every row. Each row ends up either
*accepted* (written typed to ``<table>.parquet``) or *rejected* (written to ``rejected_rows.csv``
with the reason and the raw row) - never dropped silently; ``accepted + rejected == input rows``
is asserted for every table. A bad cell in a column that may be empty (an optional measurement)
does not cost the row: the cell is emptied and listed in ``rejected_cells.csv``.

A table written by ``sprintlab import`` carries a provenance column (:data:`PROVENANCE_COLUMN`):
per row, the source files and rows it came from and the cells the import could not convert. The
validator then names the *source* file and row in every problem, counts rows per source file and
treats an import problem like its own (row rejected, or cell emptied in an optional column).

Row numbers are spreadsheet row numbers: the header is row 1 and the first data row is row 2
(fully blank lines still count, as they do in a spreadsheet). See ``docs/data-contract.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, NotRequired, TypedDict

import numpy as np
import pandas as pd

from sprintlab.contract.plausibility import ReferenceThresholds, reference_findings, swap_findings
from sprintlab.contract.provenance import PROVENANCE_COLUMN, ImportProblem, Provenance
from sprintlab.contract.schemas import dtype_for, schema_for
from sprintlab.contract.tables import EARLIEST_DATE, REGISTER_TABLE, TABLES, ColumnSpec, TableSpec
from sprintlab.io import DataError, find_table, read_table, write_table_atomic, write_text_atomic

#: Every repair the validator may apply, with what it does. Each applied repair is counted per
#: table in ``ValidationResult.repairs`` and ``validation_report.json``.
REPAIRS: dict[str, str] = {
    "bom_stripped": "UTF-8 byte-order mark at the start of a CSV removed.",
    "cp1252_decoded": "CSV that is not valid UTF-8 decoded as Windows-1252 (curly quotes, euro sign, "
    "accented letters of Excel's Western European CSV).",
    "latin1_decoded": "CSV that is neither UTF-8 nor Windows-1252 decoded as Latin-1 (ISO-8859-1).",
    "delimiter_detected": "CSV separated by ';' or tab (not ',') read with its own delimiter.",
    "blank_rows_dropped": "Fully blank lines skipped (they still count for row numbering).",
    "header_normalised": "Header matched to a contract column after trimming spaces and ignoring case.",
    "whitespace_trimmed": "Leading/trailing spaces removed from a cell.",
    "date_dd.mm.yyyy": "Date written dd.mm.yyyy converted to ISO yyyy-mm-dd.",
    "date_dd/mm/yyyy": "Date written dd/mm/yyyy (day first) converted to ISO yyyy-mm-dd.",
    "date_excel_serial": "Excel serial day number (10000-80000, i.e. 1927-2119) converted to a date.",
    "date_midnight_time": "Date-time at exactly 00:00:00 (as Excel writes dates) reduced to the date.",
    "decimal_comma": "Decimal comma ('12,5') read as a decimal point, only when unambiguous "
    "(not exactly three digits after the comma, no other separator).",
    "category_case": "Allowed value matched ignoring case and surrounding spaces ('Left' -> 'left').",
}

#: When a value is outside its bounds but a unit slip would make it plausible, the rejection
#: says so ("looks like grams"). Nothing is converted: rescale the column (e.g. with a mapping
#: file) and import again.
SCALE_HINTS: dict[str, tuple[tuple[float, str], ...]] = {
    "kg": ((1e-3, "grams"), (0.45359237, "pounds")),
    "s": ((1e-3, "ms"),),
    "ms": ((1e3, "seconds"),),
    "cm": ((100.0, "metres"), (0.1, "millimetres"), (2.54, "inches")),
    "m": ((1e3, "kilometres"),),
    "h": ((1 / 60, "minutes"),),
    "min": ((1 / 60, "seconds"),),
    "m/s": ((1 / 3.6, "km/h"),),
    "0-10": ((10.0, "a 0-1 scale"), (0.1, "a 0-100 scale")),
}
#: a column-level check needs at least this many numbers in the column (the 0-1 scale check:
#: :data:`MIN_SCALE_VALUES`, since a few low 0-10 ratings are ordinary)
MIN_COLUMN_VALUES = 4
MIN_SCALE_VALUES = 10
#: share of a column's numbers outside its bounds from which one unit slip is suspected for all
OUT_OF_RANGE_SHARE = 0.25

PROBLEM_COLUMNS = ["table", "file", "row", "column", "value", "reason", "level"]
REJECTED_COLUMNS = ["table", "file", "row", "column", "value", "reason", "raw"]
CELL_COLUMNS = ["table", "file", "row", "column", "value", "reason"]

#: ``level`` of a problem: the whole table rejected, one row rejected, or one cell emptied
LEVELS = ("table", "row", "cell")

_NUM = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_DEC_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_ISO_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{2}):(\d{2})(:(\d{2})(\.\d+)?)?$")
_DOT = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_SLASH = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_SERIAL = re.compile(r"^(\d{5})(\.0+)?$")
_ISO_STRICT = r"\d{4}-\d{2}-\d{2}"
_EARLIEST = dt.date.fromisoformat(EARLIEST_DATE)
_EXCEL_EPOCH = dt.date(1899, 12, 30)
SERIAL_RANGE = (10000, 80000)


class CellError(Exception):
    """A cell that cannot be accepted; the message is the user-facing reason."""


@dataclass
class ValidationResult:
    """Outcome of :func:`validate_folder`.

    ``tables``: accepted rows per table (typed, sorted by key). ``problems``: one record per problem
    (table, file, row, column, value, reason, level; row/column empty for table-level problems).
    ``rejected``: one record per rejected row and reason, with the raw row as JSON. ``cells``: one
    record per emptied cell (the row was kept). ``counts``: per table ``input``, ``accepted``,
    ``rejected``, ``cells_emptied`` (and per source file for imported tables). ``repairs``: per
    table, repair name -> count.
    ``warnings``: non-fatal findings (extra columns, files not read ...). ``skipped``: notes on
    optional tables that are absent. ``not_read``: every file or workbook sheet of the folder that
    is not a contract table, with the reason (``file``, ``reason``).
    """

    tables: dict[str, pd.DataFrame]
    problems: pd.DataFrame
    counts: dict[str, TableCounts]
    repairs: dict[str, dict[str, int]]
    warnings: list[str]
    skipped: list[str] = field(default_factory=list)
    rejected: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REJECTED_COLUMNS))
    today: dt.date | None = None
    cells: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=CELL_COLUMNS))
    not_read: list[dict[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found (warnings and repairs do not count)."""
        return self.problems.empty

    def report(self) -> dict[str, Any]:
        """The JSON-able summary written to ``validation_report.json``."""
        return {
            "ok": self.ok,
            "today": self.today.isoformat() if self.today else None,
            "tables": self.counts,
            "problems": int(len(self.problems)),
            "cells_emptied": int(len(self.cells)),
            "problems_by_reason": _reason_counts(self.problems),
            "repairs": self.repairs,
            "repair_descriptions": {
                k: REPAIRS[k] for k in sorted({r for t in self.repairs.values() for r in t})
            },
            "warnings": self.warnings,
            "skipped": self.skipped,
            "not_read": self.not_read,
            "row_numbering": "spreadsheet rows: header = row 1, first data row = row 2",
        }


def _reason_counts(problems: pd.DataFrame) -> dict[str, int]:
    if problems.empty:
        return {}
    kinds = problems["reason"].str.split(":").str[0]
    return {k: int(v) for k, v in sorted(kinds.value_counts().items())}


# ----------------------------------------------------------------------------- cell parsers
def is_missing(v: Any) -> bool:
    """True for None, NA, NaT, NaN and blank (whitespace-only) strings."""
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and v.strip() == ""


def parse_number(v: Any) -> tuple[float, str | None]:
    """A float from a cell, with the repair applied (``decimal_comma``) if any; :class:`CellError` if
    the cell is not an unambiguous finite number."""
    if isinstance(v, bool | np.bool_):
        raise CellError(f"not a number: {v!r}")
    if isinstance(v, int | float | np.integer | np.floating):
        f = float(v)
        if not math.isfinite(f):
            raise CellError(f"not a finite number: {v!r}")
        return f, None
    s = str(v)
    if _NUM.match(s):
        f = float(s)
        if not math.isfinite(f):
            raise CellError(f"not a finite number: {s!r}")
        return f, None
    if _DEC_COMMA.match(s):
        if len(s.split(",")[1]) == 3:
            raise CellError(f"ambiguous number {s!r}: ',' may be a decimal comma or a thousands separator")
        return float(s.replace(",", ".")), "decimal_comma"
    if "," in s and "." in s and re.fullmatch(r"[+-]?[\d.,]+", s):
        raise CellError(f"ambiguous number {s!r}: mixes '.' and ',' (thousands separators are not accepted)")
    raise CellError(f"not a number: {s!r}")


def parse_int(v: Any) -> tuple[int, str | None]:
    f, rep = parse_number(v)
    if f != int(f):
        raise CellError(f"not a whole number: {v!r}")
    return int(f), rep


def _mk_date(y: int, m: int, d: int, raw: Any) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError as exc:
        raise CellError(f"not a valid date: {raw!r} ({exc})") from exc


def parse_date(v: Any) -> tuple[dt.date, str | None]:
    """A date from a cell: ISO, dd.mm.yyyy, dd/mm/yyyy (day first), Excel serial, or a date-time
    at midnight; :class:`CellError` otherwise (including a date-time with a time of day)."""
    if isinstance(v, pd.Timestamp | dt.datetime):
        ts = pd.Timestamp(v)
        if ts.tzinfo is not None or ts != ts.normalize():
            raise CellError(f"has a time of day, expected a date: {v!r}")
        return ts.date(), None
    if isinstance(v, dt.date):
        return v, None
    if isinstance(v, np.datetime64):
        return parse_date(pd.Timestamp(v))
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_):
        v = repr(float(v)) if isinstance(v, float | np.floating) else str(int(v))
    s = str(v)
    if m := _ISO.match(s):
        return _mk_date(int(m[1]), int(m[2]), int(m[3]), s), None
    if m := _ISO_TIME.match(s):
        if int(m[4]) or int(m[5]) or (m[7] and int(m[7])) or (m[8] and float(m[8])):
            raise CellError(f"has a time of day, expected a date: {s!r}")
        return _mk_date(int(m[1]), int(m[2]), int(m[3]), s), "date_midnight_time"
    if m := _DOT.match(s):
        return _mk_date(int(m[3]), int(m[2]), int(m[1]), s), "date_dd.mm.yyyy"
    if m := _SLASH.match(s):
        return _mk_date(int(m[3]), int(m[2]), int(m[1]), s), "date_dd/mm/yyyy"
    if m := _SERIAL.match(s):
        n = int(m[1])
        if SERIAL_RANGE[0] <= n <= SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + dt.timedelta(days=n), "date_excel_serial"
    raise CellError(
        f"not a date: {s!r} (use YYYY-MM-DD; dd.mm.yyyy, dd/mm/yyyy and Excel serials are also read)"
    )


def _parse_cell(col: ColumnSpec, v: Any) -> tuple[Any, str | None]:
    if col.kind == "float":
        return parse_number(v)
    if col.kind == "int":
        return parse_int(v)
    if col.kind == "date":
        return parse_date(v)
    s = v if isinstance(v, str) else str(v)
    if col.kind == "category" and col.allowed is not None and s not in col.allowed:
        for a in col.allowed:
            if s.lower() == a.lower():
                return a, "category_case"
        raise CellError(f"value not allowed: {s!r} (allowed: {', '.join(col.allowed)})")
    return s, None


def _fmt(x: float) -> str:
    return f"{x:g}"


def _check_bounds(col: ColumnSpec, x: float) -> None:
    lo, hi = col.min_value, col.max_value
    if (lo is None or x >= lo) and (hi is None or x <= hi):
        return
    unit = col.unit or ""
    rng = f"{_fmt(lo) if lo is not None else '-inf'}..{_fmt(hi) if hi is not None else 'inf'}"
    for factor, label in SCALE_HINTS.get(unit, ()):
        y = x * factor
        if (lo is None or y >= lo) and (hi is None or y <= hi) and y != x:
            raise CellError(
                f"looks like {label}: {_fmt(x)} is impossible in {unit} (plausible {rng}); "
                f"{_fmt(y)} {unit} would be plausible - convert the column and import again"
            )
    raise CellError(f"impossible value: {_fmt(x)}{(' ' + unit) if unit else ''} is outside {rng}")


# ----------------------------------------------------------------------------- one table
class SourceCounts(TypedDict):
    """Rows of an imported table that came from one source file (a row merged from several files
    counts once for each)."""

    input: int
    accepted: int
    rejected: int
    cells_emptied: int


class TableCounts(TypedDict):
    """Rows of one table: ``input == accepted + rejected``; ``file`` once the table was validated;
    ``sources`` per source file for a table written by ``sprintlab import``."""

    input: int
    accepted: int
    rejected: int
    cells_emptied: NotRequired[int]
    file: NotRequired[str]
    sources: NotRequired[dict[str, SourceCounts]]


class _Reference(NamedTuple):
    """The training reference of the contract columns and its thresholds (``score.reference_*``)."""

    summary: dict[str, Any]
    params: ReferenceThresholds


@dataclass
class _TableOutcome:
    accepted: pd.DataFrame | None
    problems: list[dict]
    rejected: list[dict]
    counts: TableCounts
    repairs: Counter[str]
    warnings: list[str]
    cells: list[dict] = field(default_factory=list)


@dataclass
class _RowProblems:
    """Problems of one table by row index, in the order found: a row with a row-level problem is
    rejected; a cell-level problem empties the cell and keeps the row. ``files``/``row_numbers``
    locate each row (the source file and row for an imported table)."""

    table: str
    files: list[str]
    row_numbers: list[int | None]
    by_row: dict[int, list[dict]] = field(default_factory=dict)
    cells: list[tuple[int, dict]] = field(default_factory=list)

    def add(self, i: int, column: str, value: Any, reason: str) -> None:
        problem = _problem(self.table, self.files[i], self.row_numbers[i], column, value, reason, "row")
        self.by_row.setdefault(i, []).append(problem)

    def add_cell(self, i: int, column: str, value: Any, reason: str) -> None:
        problem = _problem(self.table, self.files[i], self.row_numbers[i], column, value, reason, "cell")
        self.cells.append((i, problem))

    def settle(self) -> Counter[int]:
        """After every check: the cell problems of a row rejected anyway become row problems (listed
        with the row in ``rejected_rows.csv``); returns the emptied cells per kept row."""
        kept: list[tuple[int, dict]] = []
        for i, p in self.cells:
            if i in self.by_row:
                self.by_row[i].append({**p, "level": "row"})
            else:
                kept.append((i, p))
        self.cells = kept
        return Counter(i for i, _ in kept)

    def where(self, j: int, i: int) -> str:
        """Row ``j`` as seen from row ``i``: ``row 7``, or ``file.csv row 7`` when the files differ."""
        return (
            f"row {self.row_numbers[j]}"
            if self.files[j] == self.files[i]
            else (f"{self.files[j]} row {self.row_numbers[j]}")
        )

    def rejected(self, raw: pd.DataFrame) -> list[dict]:
        """One record per problem, with the raw row as JSON."""
        rows = sorted(self.by_row)
        records = raw.iloc[rows].astype(object).to_dict("records") if rows else []
        return [{**p, "raw": _raw_json(records, k)} for k, i in enumerate(rows) for p in self.by_row[i]]


def _raw_json(records: list[dict], i: int) -> str:
    rec = {str(c): (None if is_missing(v) else str(v)) for c, v in records[i].items()}
    return json.dumps(rec, ensure_ascii=False)


def _read_repairs(read_info: dict[str, Any]) -> Counter[str]:
    """Repairs :func:`sprintlab.io.read_table` applied while reading (see :data:`REPAIRS`)."""
    repairs: Counter[str] = Counter()
    if read_info.get("encoding") == "utf-8-sig":
        repairs["bom_stripped"] = 1
    if read_info.get("encoding") == "cp1252":
        repairs["cp1252_decoded"] = 1
    if read_info.get("encoding") == "latin-1":
        repairs["latin1_decoded"] = 1
    if read_info.get("delimiter") in (";", "\t"):
        repairs["delimiter_detected"] = 1
    if read_info.get("blank_rows_dropped"):
        repairs["blank_rows_dropped"] = int(read_info["blank_rows_dropped"])
    return repairs


def _match_columns(
    spec: TableSpec, raw: pd.DataFrame, fname: str, repairs: Counter[str]
) -> tuple[dict[str, str], list[str], list[dict]]:
    """Map contract column -> raw header. Returns (mapping, extra headers, table-level problems)."""
    wanted = {c.lower(): c for c in spec.column_names}
    mapping: dict[str, str] = {}
    extra: list[str] = []
    problems: list[dict] = []
    headers = [str(h) for h in raw.columns]
    for h in headers:
        base = re.sub(r"\.\d+$", "", h)  # pandas renames a repeated header 'x' to 'x.1'
        if base != h and base in headers and base.strip().lower() in wanted:
            problems.append(_header_problem(spec, fname, base))
            continue
        key = h.strip().lower()
        if h == PROVENANCE_COLUMN:
            continue
        if key not in wanted:
            extra.append(h)
        elif wanted[key] in mapping:
            problems.append(_header_problem(spec, fname, wanted[key]))
        else:
            if h != wanted[key]:
                repairs["header_normalised"] += 1
            mapping[wanted[key]] = h
    return mapping, extra, problems


def _header_problem(spec: TableSpec, fname: str, column: str) -> dict:
    return _problem(
        spec.name, fname, None, column, None, f"column {column!r} appears more than once in the header"
    )


def _problem(
    table: str,
    file: str,
    row: int | None,
    column: str | None,
    value: Any,
    reason: str,
    level: str = "table",
) -> dict:
    return {
        "table": table,
        "file": file,
        "row": row,
        "column": column,
        "value": None if is_missing(value) else str(value),
        "reason": reason,
        "level": level,
    }


@dataclass
class _Located:
    """Where each raw row came from: file and spreadsheet row, plus the import's cell problems
    (row index -> contract column -> problem) and per-row provenance of imported tables."""

    files: list[str]
    rows: list[int | None]
    import_problems: dict[int, dict[str, ImportProblem]]
    provenance: list[Provenance] | None
    warnings: list[str]


def _locate(raw: pd.DataFrame, fname: str) -> _Located:
    """Rows of the table file itself, or - for a table written by ``sprintlab import`` - the
    source file and row of each row as recorded in its provenance column."""
    n = len(raw)
    rows: list[int | None] = list(raw.attrs.get("row_numbers") or range(2, n + 2))
    if PROVENANCE_COLUMN not in raw.columns:
        return _Located([fname] * n, rows, {}, None, [])
    files = [fname] * n
    provs: list[Provenance] = []
    problems: dict[int, dict[str, ImportProblem]] = {}
    bad = 0
    for i, cell in enumerate(raw[PROVENANCE_COLUMN].tolist()):
        try:
            p = Provenance.from_json(str(cell))
        except (ValueError, KeyError, TypeError):
            here = rows[i]
            p = Provenance(((fname, () if here is None else (here,)),))
            bad += 1
        provs.append(p)
        if p.sources:
            files[i], rows[i] = p.file, p.row
        for q in p.problems:
            problems.setdefault(i, {})[q["column"]] = q
    warn = [f"{fname}: {bad} row(s) with an unreadable {PROVENANCE_COLUMN} cell are located in {fname}"]
    return _Located(files, rows, problems, provs, warn if bad else [])


def _validate_table(
    spec: TableSpec,
    raw: pd.DataFrame,
    fname: str,
    register: set[str] | None,
    today: dt.date,
    rejected_register: dict[str, int] | None = None,
    fast: bool = True,
    reference: _Reference | None = None,
) -> _TableOutcome:
    """Check one raw table: its header, every cell, athlete ids against ``register`` and duplicates.

    A header problem (repeated or missing required column) rejects the whole table; otherwise each
    row is accepted (typed) or rejected with its reasons; a bad cell in a column that may be empty
    is emptied and listed instead.
    """
    n = len(raw)
    loc = _locate(raw, fname)
    repairs = _read_repairs(raw.attrs.get("read_info", {}))
    raw = _without_attrs(raw)
    mapping, extra, table_problems = _match_columns(spec, raw, fname, repairs)
    warnings = list(loc.warnings)
    if extra:
        warnings.append(
            f"{fname}: extra column(s) not in the contract, left out of the output: "
            f"{', '.join(repr(e) for e in extra)}"
        )
    missing = [c for c in spec.required_columns if c not in mapping]
    if missing:
        reason = f"missing required column(s): {', '.join(missing)} - whole table rejected"
        table_problems.append(_problem(spec.name, fname, None, ", ".join(missing), None, reason))
    if table_problems:
        return _table_rejected(
            spec, raw.astype(object).to_dict("records"), loc, table_problems, repairs, warnings
        )

    problems = _RowProblems(spec.name, loc.files, loc.rows)
    typed: dict[str, pd.Series] = {}
    swapped = swap_findings(spec, raw, mapping, fname, reference.summary if reference else None)
    off = reference_findings(spec, raw, mapping, fname, *reference) if reference else {}
    for col in spec.columns:
        if col.name in mapping:
            values = raw[mapping[col.name]]
            typed[col.name] = _parse_column(
                col,
                values,
                today,
                problems,
                repairs,
                loc.import_problems,
                fast=fast,
                found=(swapped.get(col.name), off.get(col.name)),
            )
        else:  # optional column absent
            typed[col.name] = pd.Series([None] * n, dtype=object)
    if spec.name == REGISTER_TABLE:
        _check_id_case(typed["athlete_id"], problems)
    if spec.has_athlete and register is not None:
        _check_register(typed["athlete_id"], register, rejected_register or {}, problems)
    _check_duplicates(spec, typed, problems)

    emptied = problems.settle()
    ok_idx = np.array(
        [i for i in range(n) if i not in problems.by_row] if problems.by_row else range(n), dtype=int
    )
    present = [c for c in spec.column_names if c in mapping]
    accepted = _typed_frame(spec, {c: typed[c].iloc[ok_idx].reset_index(drop=True) for c in present})
    row_problems = [p for i in sorted(problems.by_row) for p in problems.by_row[i]]
    counts = TableCounts(
        input=n, accepted=len(accepted), rejected=len(problems.by_row), cells_emptied=sum(emptied.values())
    )
    if loc.provenance is not None:
        counts["sources"] = _source_counts(loc.provenance, set(problems.by_row), emptied)
    if n == 0:
        warnings.append(f"{fname}: header only, no data rows")
    cells = [p for _, p in problems.cells]
    return _TableOutcome(
        accepted, row_problems + cells, problems.rejected(raw), counts, repairs, warnings, cells
    )


def _without_attrs(raw: pd.DataFrame) -> pd.DataFrame:
    """A shallow copy without ``attrs``: pandas deep-copies them (the row numbers) on every column
    access and copy."""
    attrs, raw.attrs = raw.attrs, {}
    try:
        return raw.copy(deep=False)
    finally:
        raw.attrs = attrs


def _table_rejected(
    spec: TableSpec,
    records: list[dict],
    loc: _Located,
    table_problems: list[dict],
    repairs: Counter[str],
    warnings: list[str],
) -> _TableOutcome:
    """Every row rejected because of a header problem."""
    n = len(records)
    reason = "table rejected: " + "; ".join(p["reason"] for p in table_problems)
    rejected = [
        {
            **_problem(spec.name, loc.files[i], loc.rows[i], None, None, reason, "table"),
            "raw": _raw_json(records, i),
        }
        for i in range(n)
    ]
    counts = TableCounts(input=n, accepted=0, rejected=n, cells_emptied=0)
    if loc.provenance is not None:
        counts["sources"] = _source_counts(loc.provenance, set(range(n)), Counter())
    return _TableOutcome(None, table_problems, rejected, counts, repairs, warnings)


def _source_counts(
    provenance: list[Provenance], rejected: set[int], emptied: Counter[int]
) -> dict[str, SourceCounts]:
    """Rows per source file: input, accepted, rejected and emptied cells (a row merged from several
    files counts for each of them)."""
    out: dict[str, SourceCounts] = {}
    for i, p in enumerate(provenance):
        for f in p.files:
            c = out.setdefault(f, SourceCounts(input=0, accepted=0, rejected=0, cells_emptied=0))
            c["input"] += 1
            if i in rejected:
                c["rejected"] += 1
            else:
                c["accepted"] += 1
                c["cells_emptied"] += emptied[i]
    return dict(sorted(out.items()))


@dataclass
class _Cells:
    """One raw column seen as arrays: the values, which are text, their stripped text, which are
    missing (empty, blank, NA) - the common ground of the fast path and the per-cell path."""

    values: np.ndarray
    text: np.ndarray
    stripped: pd.Series
    missing: np.ndarray

    @classmethod
    def of(cls, values: pd.Series | list[Any]) -> _Cells:
        arr = pd.Series(values, dtype=object).to_numpy()
        text = np.fromiter((type(v) is str for v in arr), bool, len(arr))
        stripped = pd.Series(_strip_all(arr[text]), index=np.flatnonzero(text), dtype=object)
        missing = np.zeros(len(arr), dtype=bool)
        missing[text] = stripped.eq("").to_numpy()
        others = np.flatnonzero(~text)
        missing[others] = [is_missing(v) for v in arr[others]]
        return cls(arr, text, stripped, missing)


#: the characters ``str.strip()`` removes from ASCII text
_ASCII_SPACE = " \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f"


def _strip_all(strings: np.ndarray) -> np.ndarray:
    """``str.strip()`` of every string: in bulk (pyarrow) for ASCII text, one by one for the rest."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        a = pa.array(strings, type=pa.large_string())
    except (pa.ArrowException, UnicodeEncodeError):  # e.g. a lone surrogate
        return np.array([v.strip() for v in strings], dtype=object)
    out = np.asarray(pc.utf8_trim(a, characters=_ASCII_SPACE).to_numpy(zero_copy_only=False), dtype=object)
    for i in np.flatnonzero(~pc.string_is_ascii(a).to_numpy(zero_copy_only=False)).tolist():
        out[i] = strings[i].strip()
    return out


def _fullmatch(strings: pd.Series, pattern: str) -> np.ndarray:
    """Which strings match ``pattern`` whole (RE2: ``\\d`` is ASCII only, so a subset of what
    Python's ``re`` matches - the per-cell parser sees the rest)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not len(strings):
        return np.zeros(0, dtype=bool)
    try:
        a = pa.array(strings.to_numpy(), type=pa.large_string())
    except (pa.ArrowException, UnicodeEncodeError):
        return strings.str.fullmatch(pattern).to_numpy(dtype=bool)
    hit = pc.match_substring_regex(a, pattern=f"^(?:{pattern.strip('^$')})$")
    return np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)


def _fast_values(col: ColumnSpec, cells: _Cells, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised parse of the cells that need no repair: plain numbers within bounds, ISO dates in
    range, allowed or free text. Returns (parsed, ok); cells not ok go to the per-cell parser,
    which gives the same value or the reason."""
    n = len(cells.values)
    ok = np.zeros(n, dtype=bool)
    out = np.full(n, np.nan) if col.kind in ("int", "float") else np.empty(n, dtype=object)
    st = cells.stripped[~cells.missing[cells.stripped.index]]
    if col.kind in ("int", "float"):
        num = st[_fullmatch(st, _NUM.pattern)]
        idx = num.index.to_numpy()
        x = num.to_numpy(dtype=object).astype(float) if len(num) else np.zeros(0)
        good = np.isfinite(x)
        good &= x >= col.min_value if col.min_value is not None else True
        good &= x <= col.max_value if col.max_value is not None else True
        if col.kind == "int":
            good &= np.floor(x) == x
        out[idx[good]], ok[idx[good]] = x[good], True
    elif col.kind == "date":
        iso = st[_fullmatch(st, _ISO_STRICT)]
        d = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
        good = (d >= pd.Timestamp(_EARLIEST)) & (d <= pd.Timestamp(today)) & (col.age_years is None)
        idx = iso.index.to_numpy()[good.to_numpy()]
        out[idx], ok[idx] = list(d[good].dt.date), True
    else:
        good = st.isin(col.allowed) if col.kind == "category" and col.allowed is not None else st.notna()
        idx = st.index.to_numpy()[good.to_numpy()]
        out[idx], ok[idx] = st[good].to_numpy(), True
    return out, ok


def _parse_column(
    col: ColumnSpec,
    values: pd.Series | list[Any],
    today: dt.date,
    problems: _RowProblems,
    repairs: Counter[str],
    import_problems: dict[int, dict[str, ImportProblem]] | None = None,
    fast: bool = True,
    found: tuple[dict[int, str] | None, dict[int, str] | None] = (None, None),
) -> pd.Series:
    """Typed values of one column (missing where empty or rejected); records problems and repairs.

    A bad cell rejects its row, except in a column that may be empty (``nullable``): there the cell
    is emptied and listed. A cell the import could not convert is handled the same way, with the
    import's reason. A column-level finding (:func:`_column_findings`: a unit slip, a month-first
    date order) rejects each of its cells with the column's reason. ``fast``: cells that need no
    repair are parsed in bulk (:func:`_fast_values`) and only the rest one by one - the result is
    the same as with ``fast=False``. ``found``: the table's findings for this column (swapped with
    another column; a unit slip against the training reference, :mod:`sprintlab.contract.plausibility`):
    a swap comes first, then the contract's own column findings, then the reference.
    """
    cells = _Cells.of(values)
    n = len(cells.values)
    imported = {i: d[col.name] for i, d in (import_problems or {}).items() if col.name in d}
    pre = found[0] or _column_findings(col, cells, problems) or found[1] or {}
    if fast and not pre:
        parsed, ok = _fast_values(col, cells, today)
    else:
        parsed, ok = np.empty(n, dtype=object), np.zeros(n, dtype=bool)
    trimmed = cells.stripped.ne(pd.Series(cells.values[cells.text], index=cells.stripped.index))
    repairs["whitespace_trimmed"] += int(trimmed[ok[trimmed.index]].sum())
    need = ~ok & ~cells.missing
    if not col.nullable:
        need |= cells.missing
    for i in imported:
        need[i] |= cells.missing[i]
    out = _typed_array(col, parsed, ok)
    for k in np.flatnonzero(need).tolist():
        x = _parse_one(col, k, cells.values[k], imported.get(k), pre.get(k), today, problems, repairs)
        if x is not None:
            out[k] = x
    return _typed_series(col, out)


def _parse_one(
    col: ColumnSpec,
    i: int,
    v: Any,
    imported: ImportProblem | None,
    pre: str | None,
    today: dt.date,
    problems: _RowProblems,
    repairs: Counter[str],
) -> Any:
    """One cell the fast path did not settle: the parsed value, or ``None`` with its problem recorded."""
    report = problems.add_cell if col.nullable else problems.add
    if imported is not None and is_missing(v):
        report(i, col.name, imported["value"], imported["reason"])
        return None
    if is_missing(v):
        if not col.nullable:
            problems.add(i, col.name, v, "missing value: required")
        return None
    if isinstance(v, str):
        stripped = v.strip()
        if stripped != v:
            repairs["whitespace_trimmed"] += 1
        v = stripped
    if pre is not None:
        report(i, col.name, v, pre)
        return None
    try:
        x, repair = _parse_checked(col, v, today)
    except CellError as exc:
        report(i, col.name, v, str(exc))
        return None
    if repair:
        repairs[repair] += 1
    return x


def _typed_array(col: ColumnSpec, parsed: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """An object array holding the fast path's values where ``ok`` and ``None`` elsewhere."""
    out = np.empty(len(parsed), dtype=object)
    out[ok] = parsed[ok]
    if col.kind == "int":
        out[ok] = [int(x) for x in parsed[ok]]
    return out


def _typed_series(col: ColumnSpec, out: np.ndarray) -> pd.Series:
    """The column in its validated dtype (missing as NaN / NaT / <NA> / None)."""
    if col.kind == "float":
        return pd.Series(out, dtype=object).astype("float64")
    if col.kind == "int":
        return pd.Series(pd.array(out, dtype="Int64"))
    if col.kind == "date":
        return pd.Series(pd.to_datetime(pd.Series(out, dtype=object)), dtype="datetime64[ns]")
    return pd.Series(out, dtype=object)


# ----------------------------------------------------------------------------- column-level checks
def _column_findings(col: ColumnSpec, cells: _Cells, problems: _RowProblems) -> dict[int, str]:
    """Cells rejected for a reason of their whole column (row index -> reason): a unit or scale slip
    (:func:`_unit_slip`) for every cell of a number column, a month-first order
    (:func:`_date_order`) for every dd/mm/yyyy-looking cell of a date column."""
    if col.kind in ("int", "float"):
        x = pd.to_numeric(cells.stripped[~cells.missing[cells.stripped.index]], errors="coerce")
        others = [i for i in np.flatnonzero(~cells.text & ~cells.missing) if _is_number(cells.values[i])]
        numbers = np.concatenate(
            [x.to_numpy(dtype=float), np.array([float(cells.values[i]) for i in others])]
        )
        reason = _unit_slip(col, numbers[np.isfinite(numbers)])
        if reason is None:
            return {}
        return {int(i): reason for i in np.flatnonzero(~cells.missing)}
    if col.kind == "date":
        return _date_order(col, cells, problems)
    return {}


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool | np.bool_)


def _unit_slip(col: ColumnSpec, x: np.ndarray) -> str | None:
    """Why a whole number column looks recorded in another unit or scale, or ``None``: its median
    outside the contract's typical median range but inside it after a known unit slip; a quarter
    or more of its values out of bounds but nearly all inside after one slip; or a 0-10 column
    whose values all lie within 0..1 (a 0-1 scale)."""
    if len(x) < MIN_COLUMN_VALUES:
        return None
    unit, med = col.unit or "", float(np.median(x))
    lo, hi = col.min_value, col.max_value
    if unit == "0-10" and len(x) >= MIN_SCALE_VALUES and x.max() <= 1 and (x != np.round(x)).any():
        return (
            f"{col.name} looks like a 0-1 scale: every value is within 0..1 (median {med:.3g}); expected 0-10"
        )
    inside = (x >= (lo if lo is not None else -np.inf)) & (x <= (hi if hi is not None else np.inf))
    for factor, label in SCALE_HINTS.get(unit, ()):
        y = x * factor
        fits = (y >= (lo if lo is not None else -np.inf)) & (y <= (hi if hi is not None else np.inf))
        if col.typical is not None:
            t_lo, t_hi = col.typical
            if not t_lo <= med <= t_hi and t_lo <= med * factor <= t_hi:
                return (
                    f"{col.name} looks like {label}: median {med:.3g} (a typical median is "
                    f"{t_lo:g}..{t_hi:g} {unit}; x{factor:g} gives {med * factor:.3g}) - convert the column and import again"
                )
        if (~inside).mean() >= OUT_OF_RANGE_SHARE and fits.mean() >= 0.95:
            return (
                f"{col.name} looks like {label}: {(~inside).mean():.0%} of the values are outside "
                f"{lo:g}..{hi:g} {unit} (median {med:.3g}) but fit after x{factor:g} - convert the column and import again"
            )
    return None


_SLASH_PARTS = r"(\d{1,2})/(\d{1,2})/(\d{4})"


def _date_order(col: ColumnSpec, cells: _Cells, problems: _RowProblems) -> dict[int, str]:
    """dd/mm/yyyy is read day first; when a cell of the column can only be month first (second part
    above 12), every slash date of the column is ambiguous and rejected with the evidence."""
    parts = cells.stripped.str.extract(f"^{_SLASH_PARTS}$").dropna()
    if parts.empty:
        return {}
    first, second = parts[0].astype(int), parts[1].astype(int)
    month_first = parts.index[(second > 12) & (first <= 12)]
    if len(month_first) == 0:
        return {}
    day_first = parts.index[(first > 12) & (second <= 12)]
    j = int(month_first[0])
    evidence = f"row {problems.row_numbers[j]} {cells.stripped[j]!r} can only be month/day"
    if len(day_first):
        k = int(day_first[0])
        evidence += f", row {problems.row_numbers[k]} {cells.stripped[k]!r} can only be day/month"
    reason = (
        f"ambiguous date order in {col.name}: {evidence}; dd/mm/yyyy is read day first, so this column's "
        "slash dates cannot be trusted - write them as YYYY-MM-DD"
    )
    return {int(i): reason for i in parts.index}


def _parse_checked(col: ColumnSpec, v: Any, today: dt.date) -> tuple[Any, str | None]:
    """:func:`_parse_cell`, then the column's bounds (numbers) or date range (dates)."""
    x, repair = _parse_cell(col, v)
    if col.kind in ("int", "float"):
        _check_bounds(col, x)
    if col.kind == "date":
        _check_date_range(col, x, today)
    return x, repair


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _check_date_range(col: ColumnSpec, x: dt.date, today: dt.date) -> None:
    """Not in the future, not before :data:`EARLIEST_DATE`, and a plausible age for a birth date."""
    if x > today:
        raise CellError(f"date in the future: {x.isoformat()} is after {today.isoformat()}")
    if x < _EARLIEST:
        raise CellError(f"date out of range: {x.isoformat()} is before {_EARLIEST.isoformat()}")
    if col.age_years is not None:
        lo, hi = col.age_years
        age = _age(x, today)
        if not lo <= age <= hi:
            raise CellError(
                f"implausible {col.name}: {x.isoformat()} gives an age of {age} years on "
                f"{today.isoformat()} (plausible {lo:g}..{hi:g})"
            )


def _check_register(
    athlete_ids: pd.Series, register: set[str], rejected_register: dict[str, int], problems: _RowProblems
) -> None:
    """Flag athlete ids that are not in the accepted athletes table (naming the rejected row, or the
    registered id that differs only in case, if any)."""
    unknown = athlete_ids.notna() & ~athlete_ids.isin(register)
    if not unknown.any():
        return
    by_case = {r.lower(): r for r in register}
    for i, a in athlete_ids[unknown].items():
        if a in rejected_register:
            reason = (
                f"athlete rejected: {a!r} was rejected in the athletes table "
                f"(row {rejected_register[a]}); fix that row first"
            )
        elif a.lower() in by_case:
            reason = (
                f"unknown athlete: {a!r} is not in the athletes table, which has {by_case[a.lower()]!r} "
                "(ids differ only in case: one athlete or two? write the id as in the athletes table)"
            )
        else:
            reason = f"unknown athlete: {a!r} is not in the athletes table"
        problems.add(int(i), "athlete_id", a, reason)


def _check_id_case(athlete_ids: pd.Series, problems: _RowProblems) -> None:
    """In the athletes table: an id equal to an earlier one up to case is rejected, naming both."""
    first: dict[str, int] = {}
    for i, a in athlete_ids.dropna().items():
        j = first.setdefault(a.lower(), int(i))
        if j != i and athlete_ids[j] != a:
            reason = (
                f"athlete id {a!r} equals {athlete_ids[j]!r} ({problems.where(j, int(i))}) up to case: "
                "ids must differ by more than case (one athlete or two?)"
            )
            problems.add(int(i), "athlete_id", a, reason)


def _check_duplicates(spec: TableSpec, typed: dict[str, pd.Series], problems: _RowProblems) -> None:
    """Among rows that passed every other check: exact copies, then rows repeating a key with other
    values; the first row is kept. Rows whose key is unique are skipped in bulk."""
    names = spec.column_names
    alive = np.ones(len(typed[names[0]]), dtype=bool)
    alive[list(problems.by_row)] = False
    keys = pd.DataFrame({c: typed[c][alive].to_numpy() for c in spec.key})
    suspects = np.flatnonzero(alive)[keys.duplicated(keep=False).to_numpy()]
    first_exact: dict[tuple, int] = {}
    first_key: dict[tuple, int] = {}
    for i in suspects.tolist():
        full = tuple(_hashable(typed[c].iloc[i]) for c in names)
        key = tuple(_hashable(typed[c].iloc[i]) for c in spec.key)
        if full in first_exact:
            where = problems.where(first_exact[full], i)
            reason = f"duplicate row: exact copy of {where} (the first copy is kept)"
            problems.add(i, ", ".join(spec.key), None, reason)
            continue
        first_exact[full] = i
        if key in first_key:
            j = first_key[key]
            diff = [c for c in names if _hashable(typed[c].iloc[i]) != _hashable(typed[c].iloc[j])]
            reason = (
                f"duplicate key ({', '.join(spec.key)}) of {problems.where(j, i)} with different values in "
                f"{', '.join(diff)}: only the first row is kept"
            )
            problems.add(i, ", ".join(diff), None, reason)
            continue
        first_key[key] = i


def _hashable(v: Any) -> Any:
    return (
        ("<NA>",) if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)) else v
    )


def _typed_frame(spec: TableSpec, data: dict[str, pd.Series]) -> pd.DataFrame:
    """The accepted rows in the contract's dtypes, sorted by key."""
    cols = {c.name: data[c.name].astype(dtype_for(c)) for c in spec.columns if c.name in data}
    df = pd.DataFrame(cols, columns=[c for c in spec.column_names if c in data])
    df = df.sort_values(list(spec.key), kind="mergesort").reset_index(drop=True)
    return df


# ----------------------------------------------------------------------------- folder
def _today(today: dt.date | str | None) -> dt.date:
    if today is None:
        return dt.date.today()
    if isinstance(today, dt.datetime):
        return today.date()
    if isinstance(today, dt.date):
        return today
    try:
        return dt.date.fromisoformat(str(today))
    except ValueError as exc:
        raise DataError(f"'today' must be an ISO date (YYYY-MM-DD), got {today!r}") from exc


@dataclass
class _FolderFindings:
    """What :func:`validate_folder` has found so far, table by table."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[dict] = field(default_factory=list)
    rejected: list[dict] = field(default_factory=list)
    counts: dict[str, TableCounts] = field(default_factory=dict)
    repairs: dict[str, dict[str, int]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cells: list[dict] = field(default_factory=list)
    #: accepted athlete ids (None until a valid athletes table was read)
    register: set[str] | None = None
    #: athlete id of a rejected athletes row -> its spreadsheet row
    rejected_register: dict[str, int] = field(default_factory=dict)
    #: files and sheets of the folder that were not read, with the reason
    not_read: list[dict[str, str]] = field(default_factory=list)
    #: check each accepted table against its pandera schema (:func:`validate_folder`)
    check_schema: bool = True

    def add(self, name: str, fname: str, res: _TableOutcome) -> None:
        self.counts[name] = {**res.counts, "file": fname}
        self.problems += res.problems
        self.rejected += res.rejected
        self.cells += res.cells
        self.warnings += res.warnings
        if res.repairs:
            self.repairs[name] = dict(sorted(res.repairs.items()))
        if res.accepted is not None:
            if self.check_schema:
                schema_for(name).validate(res.accepted)
            self.tables[name] = res.accepted

    def result(self, today: dt.date | None) -> ValidationResult:
        return ValidationResult(
            tables=self.tables,
            problems=pd.DataFrame(self.problems, columns=PROBLEM_COLUMNS).astype({"row": "Int64"}),
            counts=self.counts,
            repairs=self.repairs,
            warnings=self.warnings,
            skipped=self.skipped,
            rejected=pd.DataFrame(self.rejected, columns=REJECTED_COLUMNS).astype({"row": "Int64"}),
            today=today,
            cells=pd.DataFrame(self.cells, columns=CELL_COLUMNS).astype({"row": "Int64"}),
            not_read=self.not_read,
        )


def validate_folder(
    in_dir: str | Path,
    out_dir: str | Path | None = None,
    *,
    today: dt.date | str | None = None,
    fast: bool = True,
    reference: dict[str, Any] | None = None,
    reference_params: ReferenceThresholds | None = None,
    check_schema: bool = True,
) -> ValidationResult:
    """Validate every contract table in ``in_dir``; optionally write outputs to ``out_dir``.

    Outputs (each written atomically, byte-identical on re-runs): ``<table>.parquet`` (accepted
    rows, typed, sorted by key) for every table that was not rejected as a whole,
    ``rejected_rows.csv``, ``rejected_cells.csv`` (cells emptied in kept rows) and
    ``validation_report.json``. Stale ``<table>.parquet`` files of
    tables not produced by this run are removed from ``out_dir``.

    Every other file and workbook sheet in ``in_dir`` is listed in ``not_read`` with the reason
    (a near-miss name such as ``Athletes.CSV`` or ``wellness_2026-W48.csv`` is named as such).
    ``fast=False`` parses every cell one by one (the reference the bulk fast path must equal).
    ``reference``: the training summary of the contract columns
    (:func:`sprintlab.contract.plausibility.contract_reference`, stored with the model) and
    ``reference_params`` its thresholds (``score.reference_*``): a column whose median looks like a
    unit slip against it is rejected like a contract unit slip. Swapped columns
    (:data:`~sprintlab.contract.plausibility.SWAP_PAIRS`) are checked always.
    ``check_schema``: check each accepted table against its pandera schema
    (:func:`~sprintlab.contract.schemas.schema_for`) - an assertion on the validator's own output
    (the rows that break a rule are rejected before), which data cannot fail; ``sprintlab score``
    leaves it out, pandera's import being ~1 s of its run (the tests check the same tables).

    Raises :class:`DataError` only when ``in_dir`` is not a folder or ``today`` is not a date;
    every problem with the data itself is recorded in the result.
    """
    in_dir = Path(in_dir)
    if not in_dir.is_dir():
        raise DataError("data folder not found (or not a folder)", file=in_dir)
    day = _today(today)
    found = _FolderFindings(check_schema=check_schema)
    ref = _Reference(reference, reference_params) if reference and reference_params is not None else None
    for name in [REGISTER_TABLE] + [t for t in TABLES if t != REGISTER_TABLE]:
        _validate_table_file(found, in_dir, name, day, fast, ref)
    found.not_read = not_read_files(in_dir)
    found.warnings += [f"not read: {r['file']}: {r['reason']}" for r in found.not_read]
    if found.register is None:
        found.warnings.append("unknown-athlete check skipped: no valid athletes table")
    # The report names the cut-off only when it was given: the run's own date would make the
    # outputs differ from one day to the next (a DVC lock that never reproduces).
    result = found.result(day if today is not None else None)
    if out_dir is not None:
        write_outputs(result, out_dir)
    return result


def _validate_table_file(
    found: _FolderFindings, in_dir: Path, name: str, day: dt.date, fast: bool, ref: _Reference | None = None
) -> None:
    """Find, read and validate table ``name``; record the outcome (the athletes table first: its
    accepted and rejected ids are the register the other tables are checked against)."""
    spec = TABLES[name]
    try:
        path = find_table(in_dir, name)
    except DataError as exc:
        found.problems.append(_problem(name, f"{name}.*", None, None, None, exc.reason))
        return
    if path is None:
        if spec.required:
            reason = (
                f"required table {name!r} is missing (expected {name}.csv, {name}.parquet or {name}.xlsx)"
            )
            found.problems.append(_problem(name, f"{name}.csv", None, None, None, reason))
        else:
            found.skipped.append(f"skipped: no {name} table")
        return
    try:
        raw = read_table(path)
    except DataError as exc:
        found.problems.append(_problem(name, path.name, exc.row, exc.column, None, exc.reason))
        found.counts[name] = TableCounts(input=0, accepted=0, rejected=0, cells_emptied=0)
        return
    register = found.register if (spec.has_athlete and name != REGISTER_TABLE) else None
    res = _validate_table(spec, raw, path.name, register, day, found.rejected_register, fast, ref)
    assert res.counts["accepted"] + res.counts["rejected"] == res.counts["input"] == len(raw), (
        f"{name}: accepted + rejected != input rows"
    )
    found.add(name, path.name, res)
    if name == REGISTER_TABLE:
        if res.accepted is not None:
            found.register = set(res.accepted["athlete_id"])
        if "athlete_id" in raw.columns:
            found.rejected_register = _rejected_athletes(res.rejected, found.register or set())


def _rejected_athletes(rejected: list[dict], register: set[str]) -> dict[str, int]:
    """Athlete id (trimmed) of each rejected athletes row that is not also accepted -> first row."""
    out: dict[str, int] = {}
    for rec in rejected:
        raw_id = json.loads(rec["raw"]).get("athlete_id")
        if raw_id and raw_id.strip() not in register:
            out.setdefault(raw_id.strip(), int(rec["row"]))
    return out


def not_read_files(folder: Path) -> list[dict[str, str]]:
    """Every file of ``folder`` that is not read as a contract table, and every sheet after the
    first of a table's workbook, each with the reason; near-miss names are named as such."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_dir() or p.name.startswith("."):
            continue
        stem, suffix = p.stem, p.suffix
        if stem in TABLES and suffix in (".csv", ".parquet", ".xlsx"):
            out += _extra_sheets(p)
            continue
        out.append({"file": p.name, "reason": _not_read_reason(stem, suffix)})
    return out


def _not_read_reason(stem: str, suffix: str) -> str:
    """Why a file is not read: a near-miss of a table name, a file type not read, or no table name."""
    lower = stem.strip().lower()
    near = next((t for t in TABLES if lower == t), None) or next(
        (t for t in TABLES if lower.startswith(t) and not lower[len(t) : len(t) + 1].isalpha()), None
    )
    if near is not None:
        return (
            f"near-miss name of the {near!r} table: names are exact and lower case "
            f"(rename it to {near}.csv, {near}.parquet or {near}.xlsx)"
        )
    if suffix.lower() not in (".csv", ".parquet", ".xlsx"):
        return f"file type {suffix or '(none)'!r} is not read (tables are .csv, .parquet or .xlsx)"
    return f"not a contract table name (tables: {', '.join(TABLES)})"


def _extra_sheets(path: Path) -> list[dict[str, str]]:
    """Sheets of a table's workbook after the first (only the first sheet is read)."""
    if path.suffix != ".xlsx":
        return []
    try:
        import openpyxl

        names = openpyxl.load_workbook(path, read_only=True).sheetnames
    except Exception:  # noqa: BLE001 - a broken workbook is reported by the reader
        return []
    return [
        {"file": f"{path.name} [sheet {n!r}]", "reason": "only the first sheet of a table's workbook is read"}
        for n in names[1:]
    ]


def write_outputs(result: ValidationResult, out_dir: str | Path) -> None:
    """Write accepted tables, ``rejected_rows.csv``, ``rejected_cells.csv`` and
    ``validation_report.json`` atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        p = out_dir / f"{name}.parquet"
        if name in result.tables:
            write_table_atomic(result.tables[name], p)
        elif p.exists():
            p.unlink()
    write_table_atomic(result.rejected, out_dir / "rejected_rows.csv")
    write_table_atomic(result.cells, out_dir / "rejected_cells.csv")
    write_text_atomic(
        out_dir / "validation_report.json", json.dumps(result.report(), indent=2, ensure_ascii=False) + "\n"
    )
