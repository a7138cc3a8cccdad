"""Cell converters of a mapping file: declared number locale, durations, day counts, name register.

Each converter takes one cell and returns the converted value or raises :class:`Unconvertible` with
a user-facing reason; the mapping (:mod:`sprintlab.contract.mapping`) then leaves the cell empty and
records the reason, which the validator reports with the source file, row and column. Nothing here
guesses: the number locale is declared per file (``read: {decimal: ",", thousands: "."}``) and a
cell that does not fit it is not read some other way.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sprintlab.contract.validate import CellError, is_missing, parse_date, parse_number
from sprintlab.io import DataError, ReadOptions, decode_text, read_table

#: duration formats of the ``duration`` column option
DURATIONS = {
    "hms": "h:mm:ss (e.g. 01:17:41 or 1:17:41.5)",
    "mmss": "m:ss (e.g. 77:41 or 4:05.3)",
    "hm": "hours and minutes (8h37, 8:37, 8h) or decimal hours (8.5)",
}


class Unconvertible(Exception):
    """A cell a mapping option cannot convert; the message is the user-facing reason."""


@dataclass(frozen=True)
class Locale:
    """How numbers are written in one file: decimal mark and thousands separator (``None``: none)."""

    decimal: str = "."
    thousands: str | None = None

    def describe(self) -> str:
        sep = "none" if self.thousands is None else repr(self.thousands)
        return f"decimal {self.decimal!r}, thousands separator {sep}"

    @property
    def pattern(self) -> re.Pattern[str]:
        return _locale_pattern(self.decimal, self.thousands)


def _locale_pattern(decimal: str, thousands: str | None) -> re.Pattern[str]:
    dec = re.escape(decimal)
    if thousands is None:
        whole = r"\d+"
    else:
        whole = rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    return re.compile(rf"^[+-]?(?:{whole}(?:{dec}\d*)?|{dec}\d+)$")


def locale_from(read: dict | None) -> Locale | None:
    """The number locale a ``read:`` block declares (``decimal``/``thousands``), or None."""
    read = read or {}
    if "decimal" not in read and "thousands" not in read:
        return None
    decimal = str(read.get("decimal", "."))
    thousands = read.get("thousands")
    if decimal not in (".", ","):
        raise DataError(f"read.decimal must be '.' or ',', got {decimal!r}")
    if thousands is not None and (str(thousands) not in (".", ",", " ", "'") or str(thousands) == decimal):
        raise DataError(
            f"read.thousands must be '.', ',', ' ' or \"'\" and differ from the decimal mark, got {thousands!r}"
        )
    return Locale(decimal, None if thousands is None else str(thousands))


def number(v: Any, locale: Locale | None) -> float:
    """A finite number from a cell: numbers as they are; text in the declared ``locale`` (or, with
    none declared, as the validator reads it). :class:`Unconvertible` otherwise."""
    if isinstance(v, bool | np.bool_):
        raise Unconvertible(f"not a number: {v!r}")
    if isinstance(v, int | float | np.integer | np.floating):
        if not math.isfinite(float(v)):
            raise Unconvertible(f"not a finite number: {v!r}")
        return float(v)
    s = str(v).strip()
    if locale is None:
        try:
            return parse_number(s)[0]
        except CellError as exc:
            raise Unconvertible(str(exc)) from exc
    if not locale.pattern.match(s):
        raise Unconvertible(f"not a number in this file's declared format ({locale.describe()}): {s!r}")
    if locale.thousands is not None:
        s = s.replace(locale.thousands, "")
    return float(s.replace(locale.decimal, "."))


def clean(x: float) -> float | int:
    """Round away binary noise (9 decimals); whole numbers as int (``2.0`` -> ``2``)."""
    x = float(np.round(x, 9))
    return int(x) if x.is_integer() else x


_HMS = re.compile(r"^(\d+):([0-5]\d):([0-5]\d(?:[.,]\d+)?)$")
_MMSS = re.compile(r"^(\d+):([0-5]\d(?:[.,]\d+)?)$")
_HM = re.compile(r"^(\d{1,2})\s*(?:h|:)\s*(?:([0-5]?\d)\s*(?:m|min)?)?$", re.IGNORECASE)


def duration_seconds(v: Any, kind: str, locale: Locale | None) -> float:
    """Seconds in a duration cell written as ``kind`` (:data:`DURATIONS`)."""
    s = str(v).strip()
    if kind == "hms" and (m := _HMS.match(s)):
        return int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3].replace(",", "."))
    if kind == "mmss" and (m := _MMSS.match(s)):
        return int(m[1]) * 60 + float(m[2].replace(",", "."))
    if kind == "hm":
        if m := _HM.match(s):
            return int(m[1]) * 3600 + int(m[2] or 0) * 60
        try:
            return number(v, locale) * 3600
        except Unconvertible:
            pass
    raise Unconvertible(f"not a duration {DURATIONS[kind]}: {s!r}")


def as_date(v: Any, date_format: str | None, what: str) -> dt.date:
    """A date cell read with ``date_format`` (strptime) or, without one, as the validator reads
    dates; ``what`` names the cell in the reason."""
    if is_missing(v):
        raise Unconvertible(f"no {what}")
    try:
        if date_format:
            return dt.datetime.strptime(str(v).strip(), date_format).date()
        return parse_date(v.strip() if isinstance(v, str) else v)[0]
    except (ValueError, CellError) as exc:
        fmt = f" (expected {date_format})" if date_format else ""
        raise Unconvertible(f"{what} is not a date{fmt}: {str(v).strip()!r}") from exc


def days_between(start: Any, end: Any, date_format: str | None, names: tuple[str, str]) -> int:
    """Whole days from the ``start`` date to the ``end`` date (e.g. onset to return to play)."""
    d0 = as_date(start, date_format, f"date in {names[0]!r}")
    d1 = as_date(end, date_format, f"date in {names[1]!r}")
    return (d1 - d0).days


def name_key(name: Any) -> str:
    """A name as the register compares it: Unicode-normalised, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFC", str(name)).casefold().split())


@dataclass(frozen=True)
class Register:
    """A lookup file (e.g. the squad's name register): normalised key -> value."""

    file: str
    key: str
    value: str
    table: dict[str, str]

    def get(self, v: Any) -> str:
        """The value for key ``v``; :class:`Unconvertible` (without the key itself: names stay in the
        import) when the register has no such key."""
        hit = self.table.get(name_key(v))
        if hit is None:
            raise Unconvertible(f"not in the register {self.file} (column {self.key!r}): add it there")
        return hit


def load_register(source_dir: Path, spec: dict) -> Register:
    """Read a ``lookup:`` file (relative to the exports folder): column ``key`` -> column ``value``.
    Two rows with the same key but different values raise :class:`DataError` with both rows."""
    path = source_dir / str(spec["file"])
    df = read_table(path, options=read_options(spec.get("read")))
    key, value = str(spec["key"]), str(spec["value"])
    for col in (key, value):
        if col not in df.columns:
            raise DataError(f"lookup column {col!r} not found (columns: {', '.join(df.columns)})", file=path)
    table: dict[str, str] = {}
    first_row: dict[str, int] = {}
    rows = df.attrs.get("row_numbers") or list(range(2, len(df) + 2))
    for row, k, v in zip(rows, df[key].tolist(), df[value].tolist(), strict=True):
        if is_missing(k) or is_missing(v):
            continue
        nk, sv = name_key(k), str(v).strip()
        if nk in table and table[nk] != sv:
            raise DataError(
                f"{key!r} appears twice with different {value!r} (rows {first_row[nk]} and {row})",
                file=path,
                row=row,
                column=key,
            )
        table.setdefault(nk, sv)
        first_row.setdefault(nk, row)
    return Register(str(spec["file"]), key, value, table)


_READ_KEYS = {"format", "key_as", "delimiter", "encoding", "skip_lines", "sheet", "decimal", "thousands"}
_READ_KEYS |= {"file_name_as"}


def read_options(read: dict | None) -> ReadOptions:
    """The :class:`ReadOptions` of a ``read:`` block (delimiter, encoding, skip_lines, sheet)."""
    read = read or {}
    unknown = set(read) - _READ_KEYS
    if unknown:
        raise DataError(f"unknown read option(s) {sorted(unknown)} (known: {', '.join(sorted(_READ_KEYS))})")
    delimiter = read.get("delimiter")
    if delimiter is not None and (not isinstance(delimiter, str) or len(delimiter) != 1):
        raise DataError(f"read.delimiter must be one character, got {delimiter!r}")
    skip = read.get("skip_lines", 0)
    if not isinstance(skip, int) or skip < 0:
        raise DataError(f"read.skip_lines must be a whole number >= 0, got {skip!r}")
    return ReadOptions(
        delimiter=delimiter, encoding=read.get("encoding"), skip_lines=skip, sheet=read.get("sheet")
    )


def numbers_of(values: pd.Series, locale: Locale | None) -> list[float | None]:
    """Numbers of a column (None where missing); :class:`Unconvertible` names the first bad cell."""
    out: list[float | None] = []
    for v in values:
        out.append(None if is_missing(v) else number(v, locale))
    return out


def decode_json_rows(path: Path, key_as: str) -> pd.DataFrame:
    """``{"key": [{...}, ...], ...}`` JSON -> one row per record, the key in column ``key_as``;
    row numbers count records (the first record is row 2, as the first data row of a sheet)."""
    try:
        data = json.loads(decode_text(path.read_bytes())[0])
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read JSON: {exc}", file=path) from exc
    if not isinstance(data, dict) or not all(isinstance(v, list) for v in data.values()):
        raise DataError("expected a JSON object of lists of records", file=path)
    rows = [{key_as: k, **rec} for k, recs in data.items() for rec in recs if isinstance(rec, dict)]
    df = pd.DataFrame(rows).astype(object)
    df.attrs["row_numbers"] = list(range(2, len(df) + 2))
    df.attrs["file"] = str(path)
    return df
