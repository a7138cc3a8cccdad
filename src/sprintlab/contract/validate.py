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
from typing import Any, NotRequired, TypedDict

import numpy as np
import pandas as pd

from sprintlab.contract.provenance import PROVENANCE_COLUMN, ImportProblem, Provenance
from sprintlab.contract.schemas import dtype_for, schema_for
from sprintlab.contract.tables import REGISTER_TABLE, TABLES, ColumnSpec, TableSpec
from sprintlab.io import DataError, find_table, read_table, write_table_atomic, write_text_atomic

#: Every repair the validator may apply, with what it does. Each applied repair is counted per
#: table in ``ValidationResult.repairs`` and ``validation_report.json``.
REPAIRS: dict[str, str] = {
    "bom_stripped": "UTF-8 byte-order mark at the start of a CSV removed.",
    "latin1_decoded": "CSV that is not valid UTF-8 decoded as Latin-1 (ISO-8859-1).",
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
}

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
    ``warnings``: non-fatal findings (extra columns ...). ``skipped``: notes on optional tables
    that are absent.
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

    def rejected(self, records: list[dict]) -> list[dict]:
        """One record per problem, with the raw row as JSON."""
        return [{**p, "raw": _raw_json(records, i)} for i in sorted(self.by_row) for p in self.by_row[i]]


def _raw_json(records: list[dict], i: int) -> str:
    rec = {str(c): (None if is_missing(v) else str(v)) for c, v in records[i].items()}
    return json.dumps(rec, ensure_ascii=False)


def _read_repairs(read_info: dict[str, Any]) -> Counter[str]:
    """Repairs :func:`sprintlab.io.read_table` applied while reading (see :data:`REPAIRS`)."""
    repairs: Counter[str] = Counter()
    if read_info.get("encoding") == "utf-8-sig":
        repairs["bom_stripped"] = 1
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
) -> _TableOutcome:
    """Check one raw table: its header, every cell, athlete ids against ``register`` and duplicates.

    A header problem (repeated or missing required column) rejects the whole table; otherwise each
    row is accepted (typed) or rejected with its reasons; a bad cell in a column that may be empty
    is emptied and listed instead.
    """
    n = len(raw)
    records = raw.astype(object).to_dict("records")
    loc = _locate(raw, fname)
    repairs = _read_repairs(raw.attrs.get("read_info", {}))
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
        return _table_rejected(spec, records, loc, table_problems, repairs, warnings)

    problems = _RowProblems(spec.name, loc.files, loc.rows)
    typed: dict[str, list[Any]] = {}
    for col in spec.columns:
        if col.name in mapping:
            values = raw[mapping[col.name]].tolist()
            typed[col.name] = _parse_column(col, values, today, problems, repairs, loc.import_problems)
        else:  # optional column absent
            typed[col.name] = [None] * n
    if spec.has_athlete and register is not None:
        _check_register(typed["athlete_id"], register, rejected_register or {}, problems)
    _check_duplicates(spec, typed, problems)

    emptied = problems.settle()
    ok_idx = [i for i in range(n) if i not in problems.by_row]
    present = [c for c in spec.column_names if c in mapping]
    accepted = _typed_frame(spec, {c: [typed[c][i] for i in ok_idx] for c in present})
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
        accepted, row_problems + cells, problems.rejected(records), counts, repairs, warnings, cells
    )


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


def _parse_column(
    col: ColumnSpec,
    values: list[Any],
    today: dt.date,
    problems: _RowProblems,
    repairs: Counter[str],
    import_problems: dict[int, dict[str, ImportProblem]] | None = None,
) -> list[Any]:
    """Typed values of one column (None where missing or rejected); records problems and repairs.

    A bad cell rejects its row, except in a column that may be empty (``nullable``): there the cell
    is emptied and listed. A cell the import could not convert is handled the same way, with the
    import's reason."""
    out: list[Any] = [None] * len(values)
    report = problems.add_cell if col.nullable else problems.add
    for i, v in enumerate(values):
        imported = (import_problems or {}).get(i, {}).get(col.name)
        if imported is not None and is_missing(v):
            report(i, col.name, imported["value"], imported["reason"])
            continue
        if is_missing(v):
            if not col.nullable:
                problems.add(i, col.name, v, "missing value: required")
            continue
        if isinstance(v, str):
            s = v.strip()
            if s != v:
                repairs["whitespace_trimmed"] += 1
            v = s
        try:
            x, repair = _parse_checked(col, v, today)
        except CellError as exc:
            report(i, col.name, v, str(exc))
            continue
        if repair:
            repairs[repair] += 1
        out[i] = x
    return out


def _parse_checked(col: ColumnSpec, v: Any, today: dt.date) -> tuple[Any, str | None]:
    """:func:`_parse_cell`, then the column's bounds (numbers) or "not in the future" (dates)."""
    x, repair = _parse_cell(col, v)
    if col.kind in ("int", "float"):
        _check_bounds(col, x)
    if col.kind == "date" and x > today:
        raise CellError(f"date in the future: {x.isoformat()} is after {today.isoformat()}")
    return x, repair


def _check_register(
    athlete_ids: list[Any], register: set[str], rejected_register: dict[str, int], problems: _RowProblems
) -> None:
    """Flag athlete ids that are not in the accepted athletes table (naming the rejected row if any)."""
    for i, a in enumerate(athlete_ids):
        if a is None or a in register:
            continue
        if a in rejected_register:
            reason = (
                f"athlete rejected: {a!r} was rejected in the athletes table "
                f"(row {rejected_register[a]}); fix that row first"
            )
        else:
            reason = f"unknown athlete: {a!r} is not in the athletes table"
        problems.add(i, "athlete_id", a, reason)


def _check_duplicates(spec: TableSpec, typed: dict[str, list[Any]], problems: _RowProblems) -> None:
    """Among rows that passed every other check: exact copies, then rows repeating a key with other
    values; the first row is kept."""
    first_exact: dict[tuple, int] = {}
    first_key: dict[tuple, int] = {}
    names = spec.column_names
    for i in range(len(typed[names[0]])):
        if i in problems.by_row:
            continue
        full = tuple(_hashable(typed[c][i]) for c in names)
        key = tuple(_hashable(typed[c][i]) for c in spec.key)
        if full in first_exact:
            where = problems.where(first_exact[full], i)
            reason = f"duplicate row: exact copy of {where} (the first copy is kept)"
            problems.add(i, ", ".join(spec.key), None, reason)
            continue
        first_exact[full] = i
        if key in first_key:
            j = first_key[key]
            diff = [c for c in names if _hashable(typed[c][i]) != _hashable(typed[c][j])]
            reason = (
                f"duplicate key ({', '.join(spec.key)}) of {problems.where(j, i)} with different values in "
                f"{', '.join(diff)}: only the first row is kept"
            )
            problems.add(i, ", ".join(diff), None, reason)
            continue
        first_key[key] = i


def _hashable(v: Any) -> Any:
    return ("<NA>",) if v is None else v


def _typed_frame(spec: TableSpec, data: dict[str, list[Any]]) -> pd.DataFrame:
    cols = {}
    for c in spec.columns:
        if c.name not in data:
            continue
        vals = data[c.name]
        dtype = dtype_for(c)
        if c.kind == "date":
            cols[c.name] = pd.to_datetime(
                pd.Series([pd.NaT if v is None else pd.Timestamp(v) for v in vals], dtype="datetime64[ns]")
            )
        elif c.kind == "float":
            cols[c.name] = pd.Series([np.nan if v is None else v for v in vals], dtype="float64")
        elif c.kind == "int":
            cols[c.name] = pd.Series(vals, dtype=dtype)
        else:
            cols[c.name] = pd.Series(vals, dtype="object")
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

    def add(self, name: str, fname: str, res: _TableOutcome) -> None:
        self.counts[name] = {**res.counts, "file": fname}
        self.problems += res.problems
        self.rejected += res.rejected
        self.cells += res.cells
        self.warnings += res.warnings
        if res.repairs:
            self.repairs[name] = dict(sorted(res.repairs.items()))
        if res.accepted is not None:
            schema_for(name).validate(res.accepted)
            self.tables[name] = res.accepted

    def result(self, today: dt.date) -> ValidationResult:
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
        )


def validate_folder(
    in_dir: str | Path, out_dir: str | Path | None = None, *, today: dt.date | str | None = None
) -> ValidationResult:
    """Validate every contract table in ``in_dir``; optionally write outputs to ``out_dir``.

    Outputs (each written atomically, byte-identical on re-runs): ``<table>.parquet`` (accepted
    rows, typed, sorted by key) for every table that was not rejected as a whole,
    ``rejected_rows.csv``, ``rejected_cells.csv`` (cells emptied in kept rows) and
    ``validation_report.json``. Stale ``<table>.parquet`` files of
    tables not produced by this run are removed from ``out_dir``.

    Raises :class:`DataError` only when ``in_dir`` is not a folder or ``today`` is not a date;
    every problem with the data itself is recorded in the result.
    """
    in_dir = Path(in_dir)
    if not in_dir.is_dir():
        raise DataError("data folder not found (or not a folder)", file=in_dir)
    day = _today(today)
    found = _FolderFindings()
    for name in [REGISTER_TABLE] + [t for t in TABLES if t != REGISTER_TABLE]:
        _validate_table_file(found, in_dir, name, day)
    if found.register is None:
        found.warnings.append("unknown-athlete check skipped: no valid athletes table")
    result = found.result(day)
    if out_dir is not None:
        write_outputs(result, out_dir)
    return result


def _validate_table_file(found: _FolderFindings, in_dir: Path, name: str, day: dt.date) -> None:
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
    res = _validate_table(spec, raw, path.name, register, day, found.rejected_register)
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
