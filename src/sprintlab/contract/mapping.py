"""Vendor mappings: turn a club's or a vendor's export into contract tables with a YAML file.

A mapping file (see ``docs/importing.md`` and ``src/sprintlab/contract/mappings/``) lists, per
contract table, one or more *sources*. Each source names a file (or a glob: one file per week) and
the steps that turn it into contract columns, applied in this order by :func:`map_source`:

1. ``read``      how the file is written: delimiter, encoding, metadata lines, sheet, and the
                 number locale (``decimal``/``thousands``) - declared, never guessed per cell;
2. ``wide``      melt a wide file (one column per athlete or per distance) into long rows;
   ``unpivot``   one row per group of columns (left/right side of one test row);
   ``explode_json`` one row per key of a JSON-object cell;
3. ``filter``    keep rows (``equals`` / ``not_equals`` / ``drop_if_all_zero``);
4. ``columns``   contract column <- source column, with ``unit`` conversion (g->kg, ms->s,
                 km->m, lb->kg, ...), ``duration`` (h:mm:ss, m:ss, 8h37), ``rescale``, ``values``,
                 ``empty_if``, ``subtract``, ``lookup`` (name register -> id), ``days_between``,
                 ``date_format``, ``day_index``, ``age_to_birth_date``, ``regex``, ``default``;
5. ``constants`` contract columns with one value for every row;
6. ``drop_empty`` drop rows whose listed contract columns are all empty;
7. ``aggregate`` several source rows -> one contract row (:mod:`sprintlab.contract.aggregate`);
8. ``number_within`` number rows within groups (``session_{n}``) to keep keys unique;
9. ``episodes``  merge consecutive daily reports into one event with its length in days.

Values the long-standing options (``unit``, ``rescale``, ``date_format``, ...) cannot convert are
passed through unchanged, so that the validator rejects them with file, row and column. The newer
options (locale numbers, ``duration``, ``lookup``, ``days_between``, ``subtract``) leave such a cell
empty and record the reason in the row's provenance, which the validator reports the same way (a
name that is not in the register is never written anywhere). A mapping never invents or silently
drops a number: every row a step drops is counted with its reason (:mod:`sprintlab.contract.importer`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sprintlab.contract import steps
from sprintlab.contract.aggregate import aggregate, check_aggregate
from sprintlab.contract.convert import (
    DURATIONS,
    Locale,
    Register,
    Unconvertible,
    clean,
    days_between,
    duration_seconds,
    load_register,
    locale_from,
    number,
    read_options,
)
from sprintlab.contract.provenance import ImportProblem, Provenance
from sprintlab.contract.steps import PROV, StepLog
from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import CellError, is_missing, parse_number
from sprintlab.io import DataError, write_table_atomic

MAPPINGS_DIR = Path(__file__).parent / "mappings"

#: (source unit, contract unit) -> multiply factor
UNIT_FACTORS: dict[tuple[str, str], float] = {
    ("g", "kg"): 1e-3,
    ("lb", "kg"): 0.45359237,
    ("kg", "kg"): 1.0,
    ("ms", "s"): 1e-3,
    ("s", "s"): 1.0,
    ("s", "ms"): 1e3,
    ("ms", "ms"): 1.0,
    ("km", "m"): 1e3,
    ("cm", "m"): 1e-2,
    ("yd", "m"): 0.9144,
    ("m", "m"): 1.0,
    ("m", "cm"): 1e2,
    ("mm", "cm"): 0.1,
    ("in", "cm"): 2.54,
    ("cm", "cm"): 1.0,
    ("h", "min"): 60.0,
    ("s", "min"): 1 / 60,
    ("min", "min"): 1.0,
    ("min", "h"): 1 / 60,
    ("s", "h"): 1 / 3600,
    ("h", "h"): 1.0,
    ("km/h", "m/s"): 1 / 3.6,
    ("mph", "m/s"): 0.44704,
    ("m/s", "m/s"): 1.0,
    ("N", "N"): 1.0,
}

_STEP_KEYS = {
    "table",
    "file",
    "read",
    "wide",
    "unpivot",
    "explode_json",
    "filter",
    "columns",
    "constants",
    "drop_empty",
    "aggregate",
    "number_within",
    "episodes",
    "notes",
    "missing",
    "sources",
    "combine",
}
_COL_KEYS = {
    "from",
    "unit",
    "scale",
    "rescale",
    "values",
    "date_format",
    "day_index",
    "age_to_birth_date",
    "regex",
    "default",
    "duration",
    "empty_if",
    "subtract",
    "lookup",
    "days_between",
}
COMBINE = ("join", "concat")
#: keys each dict-valued step needs (and, for filter, the only keys it knows)
_STEP_NEEDS: dict[str, tuple[str, ...]] = {
    "wide": ("columns_as", "value_as"),
    "unpivot": ("as", "groups"),
    "explode_json": ("column", "key_as"),
    "number_within": ("by", "as"),
    "episodes": ("by", "date", "length_as"),
}
_FILTERS = {"equals", "not_equals", "drop_if_all_zero"}


def resolve_mapping(name: str | Path) -> Path:
    """A mapping path as given, or a shipped mapping by name with or without ``.yaml``."""
    path = Path(name)
    if path.is_file():
        return path
    for cand in (MAPPINGS_DIR / path, MAPPINGS_DIR / f"{path}.yaml"):
        if cand.is_file():
            return cand
    shipped = ", ".join(sorted(p.stem for p in MAPPINGS_DIR.glob("*.yaml")))
    raise DataError(f"mapping not found (a path, or a shipped mapping: {shipped})", file=path)


def load_mapping(path: str | Path) -> dict:
    """Read and check a mapping YAML file (unknown keys, tables, columns or units -> DataError)."""
    path = resolve_mapping(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read mapping: {exc}", file=path) from exc
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise DataError("a mapping file needs a 'tables:' list", file=path)
    for entry in data["tables"]:
        if not isinstance(entry, dict):
            raise DataError(f"each entry of 'tables:' must be a mapping, got {entry!r}", file=path)
        check_entry(entry, where=path)
    return data


def check_entry(entry: dict, where: str | Path | None = None) -> None:
    """Check one ``tables:`` entry: its sources, ``combine`` and, for joined sources, that no
    non-key column is mapped twice."""
    combine = entry.get("combine", "join")
    if combine not in COMBINE:
        raise DataError(f"combine must be one of {', '.join(COMBINE)}, got {combine!r}", file=where)
    sources = entry.get("sources") or [entry]
    for src in sources:
        check_mapping({**src, "table": entry.get("table")}, where=where)
    if combine == "join" and len(sources) > 1:
        key = set(TABLES[entry["table"]].key)
        seen: dict[str, int] = {}
        for i, src in enumerate(sources):
            for col in {**(src.get("columns") or {}), **(src.get("constants") or {})}:
                if col not in key and col in seen:
                    raise DataError(
                        f"{entry['table']}.{col} is mapped by sources {seen[col] + 1} and {i + 1}, which are "
                        "joined on the key: map it once, or say 'combine: concat'",
                        file=where,
                    )
                seen[col] = i


def check_mapping(m: dict, where: str | Path | None = None) -> None:
    """Raise DataError if a single-source mapping has unknown keys, table, columns or units."""
    table = m.get("table")
    if table not in TABLES:
        raise DataError(f"unknown contract table {table!r} in mapping", file=where)
    spec = TABLES[table]
    unknown = set(m) - _STEP_KEYS
    if unknown:
        raise DataError(f"unknown mapping key(s) {sorted(unknown)} for table {table!r}", file=where)
    try:
        read_options(m.get("read"))
        locale_from(m.get("read"))
        if "aggregate" in m:
            check_aggregate(m["aggregate"], set(spec.column_names))
        _check_steps(m)
    except DataError as exc:
        raise DataError(f"table {table!r}: {exc.reason}", file=where) from None
    for col, rule in {**(m.get("columns") or {}), **(m.get("constants") or {})}.items():
        if col not in spec.column_names:
            raise DataError(f"{col!r} is not a column of contract table {table!r}", file=where)
        if isinstance(rule, dict) and col in (m.get("columns") or {}):
            _check_rule(table, col, rule, where)


def _check_steps(m: dict) -> None:
    """The shape of the dict-valued steps: required keys, known filters, unpivot groups."""
    for step, keys in _STEP_NEEDS.items():
        if step in m and (not isinstance(m[step], dict) or any(k not in m[step] for k in keys)):
            raise DataError(f"step {step!r} needs {', '.join(keys)}")
    if "filter" in m and (not isinstance(m["filter"], dict) or set(m["filter"]) - _FILTERS):
        raise DataError(f"filter knows only {', '.join(sorted(_FILTERS))}")
    groups = (m.get("unpivot") or {}).get("groups", {})
    if not isinstance(groups, dict) or not all(isinstance(g, dict) and g for g in groups.values()):
        raise DataError("unpivot.groups must map each label to {name: source column, ...}")
    if "drop_empty" in m and not isinstance(m["drop_empty"], list):
        raise DataError("drop_empty must be a list of contract columns")


def _step_columns(m: dict, df: pd.DataFrame) -> dict[str, list[str]]:
    """Source columns each reshaping or filter step reads (names; positions of ``wide`` excluded)."""
    w, u, f = m.get("wide") or {}, m.get("unpivot") or {}, m.get("filter") or {}
    return {
        "wide": [
            c for c in [*w.get("id_columns", []), *(w.get("value_columns") or [])] if isinstance(c, str)
        ],
        "unpivot": [c for g in (u.get("groups") or {}).values() for c in g.values()],
        "explode_json": [m["explode_json"]["column"]] if m.get("explode_json") else [],
        "filter": [
            *(f.get("equals") or {}),
            *(f.get("not_equals") or {}),
            *(f.get("drop_if_all_zero") or []),
        ],
    }


def _need(df: pd.DataFrame, cols: list[str], step: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        shown = ", ".join(str(c) for c in df.columns if c != PROV)
        raise DataError(
            f"{step}: source column(s) {', '.join(map(repr, missing))} not found (columns: {shown})"
        )


def _check_rule(table: str, col: str, rule: dict, where: str | Path | None) -> None:
    """Options of one column rule: known names, unit pairs, duration kinds, required sub-keys."""
    column = TABLES[table].column(col)
    bad = set(rule) - _COL_KEYS
    if bad:
        raise DataError(f"unknown option(s) {sorted(bad)} for column {col!r}", file=where)
    if "unit" in rule and (rule["unit"], column.unit) not in UNIT_FACTORS:
        raise DataError(
            f"no conversion from {rule['unit']!r} to {column.unit!r} for column {col!r}", file=where
        )
    if "duration" in rule:
        if rule["duration"] not in DURATIONS:
            raise DataError(f"duration must be one of {', '.join(DURATIONS)} for column {col!r}", file=where)
        if ("s", column.unit) not in UNIT_FACTORS:
            raise DataError(f"column {col!r} (unit {column.unit!r}) is not a duration", file=where)
    needs = {"lookup": ("file", "key", "value"), "days_between": ("start", "end")}
    for option, keys in needs.items():
        if option in rule and (
            not isinstance(rule[option], dict) or any(k not in rule[option] for k in keys)
        ):
            raise DataError(f"{option} of column {col!r} needs {', '.join(keys)}", file=where)


# ----------------------------------------------------------------------------- columns
@dataclass
class MapContext:
    """What converting one source needs besides its rows: the exports folder (for lookup files),
    the file's declared number locale and the registers read so far."""

    source_dir: Path | None = None
    locale: Locale | None = None
    registers: dict[tuple[str, str, str], Register] = field(default_factory=dict)

    def register(self, spec: dict) -> Register:
        if self.source_dir is None:
            raise DataError("a lookup needs the exports folder: use import_with_mapping or sprintlab import")
        k = (str(spec["file"]), str(spec["key"]), str(spec["value"]))
        if k not in self.registers:
            self.registers[k] = load_register(self.source_dir, spec)
        return self.registers[k]


def _num(v: Any) -> float | None:
    try:
        return parse_number(v.strip() if isinstance(v, str) else v)[0]
    except CellError:
        return None


def _each(s: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct non-missing value (exports repeat values a lot); missing stays."""
    lut = {v: fn(v) for v in pd.unique(s.to_numpy(dtype=object)) if not is_missing(v)}
    return s.map(lambda v: lut.get(v, v) if not is_missing(v) else v)


@dataclass
class _Cells:
    """One contract column being converted, with the cells that could not be (position -> problem)."""

    col: str
    values: pd.Series
    problems: dict[int, ImportProblem] = field(default_factory=dict)

    def apply(self, fn: Callable[[Any], Any], show_value: bool = True) -> None:
        """Convert each non-missing cell with ``fn``; :class:`Unconvertible` empties it with a reason."""
        lut: dict[Any, Any] = {}
        out = []
        for i, v in enumerate(self.values.tolist()):
            if is_missing(v):
                out.append(v)
                continue
            if v not in lut:
                try:
                    lut[v] = (True, fn(v))
                except Unconvertible as exc:
                    lut[v] = (False, str(exc))
            ok, x = lut[v]
            out.append(x if ok else None)
            if not ok:
                shown = str(v).strip() if show_value else None
                self.problems[i] = ImportProblem(column=self.col, value=shown, reason=x)
        self.values = pd.Series(out, index=self.values.index, dtype=object)


def _unit_factor(source_unit: str | None, contract_unit: str | None) -> float:
    """Multiply factor from the mapping's ``unit`` to the contract column's unit (1 when not given)."""
    if source_unit is None or contract_unit is None:
        return 1.0
    return UNIT_FACTORS.get((source_unit, contract_unit), 1.0)


def _rescaled(source_range: list[float], target_range: list[float], v: Any) -> Any:
    """Linear range map ``[a, b] -> [c, d]``: ``c + (x - a) (d - c) / (b - a)``; non-numbers pass through."""
    (a, b), (c, d) = source_range, target_range
    x = _num(v)
    return v if x is None else clean(c + (x - a) * (d - c) / (b - a))


def _iso_date(date_format: str, v: Any) -> Any:
    """``v`` parsed with ``strptime(date_format)`` as an ISO date; unparseable values pass through."""
    try:
        return dt.datetime.strptime(str(v).strip(), date_format).date().isoformat()
    except ValueError:
        return v


def _birth_date(reference: dt.date, v: Any) -> Any:
    """Birth date of someone aged ``v`` years on ``reference`` (1 year = 365.25 days); non-numbers pass through."""
    x = _num(v)
    if x is None:
        return v
    return (pd.Timestamp(reference) - pd.Timedelta(days=round(x * 365.25))).date().isoformat()


def _days_from_anchor(s: pd.Series, day_index: dict, src: pd.DataFrame) -> pd.Series:
    """Day number -> ISO date: ``anchor + (n - start)`` days, with one ``anchor`` or per-row
    ``anchors`` looked up by ``anchor_column``; non-whole numbers and rows without anchor pass through."""
    start = int(day_index.get("start", 1))
    if "anchor_column" in day_index:
        anchors = src[day_index["anchor_column"]].map(lambda k: day_index["anchors"].get(str(k)))
    else:
        anchors = pd.Series(day_index["anchor"], index=src.index)
    out = []
    for v, anchor in zip(s, anchors, strict=True):
        x = None if is_missing(v) else _num(v)
        if x is None or anchor is None or not float(x).is_integer():
            out.append(v)
        else:
            out.append((dt.date.fromisoformat(str(anchor)) + dt.timedelta(days=int(x) - start)).isoformat())
    return pd.Series(out, index=src.index, dtype=object)


def _source_column(src: pd.DataFrame, name: Any, table: str, col: str) -> pd.Series:
    if name not in src.columns:
        shown = ", ".join(str(c) for c in src.columns if c != PROV)
        raise DataError(f"mapping for {table}.{col}: source column {name!r} not found (columns: {shown})")
    return src[name]


def _subtract(cells: _Cells, other: pd.Series, name: str, locale: Locale | None) -> None:
    """``cells - other`` row by row (e.g. a force minus its calibration offset)."""
    out = []
    for i, (v, w) in enumerate(zip(cells.values.tolist(), other.tolist(), strict=True)):
        if is_missing(v):
            out.append(v)
            continue
        try:
            if is_missing(w):
                raise Unconvertible(f"no value in {name!r} to subtract")
            out.append(clean(number(v, locale) - number(w, locale)))
        except Unconvertible as exc:
            out.append(None)
            cells.problems[i] = ImportProblem(column=cells.col, value=str(v).strip(), reason=str(exc))
    cells.values = pd.Series(out, index=cells.values.index, dtype=object)


def _days_between(cells: _Cells, src: pd.DataFrame, rule: dict, table: str) -> None:
    """Whole days between two date columns (e.g. onset and return to play)."""
    db = rule["days_between"]
    start = _source_column(src, db["start"], table, cells.col).tolist()
    end = _source_column(src, db["end"], table, cells.col).tolist()
    fmt = rule.get("date_format")
    out: list[Any] = []
    for i, (a, b) in enumerate(zip(start, end, strict=True)):
        try:
            out.append(days_between(a, b, fmt, (str(db["start"]), str(db["end"]))))
        except Unconvertible as exc:
            out.append(None)
            cells.problems[i] = ImportProblem(column=cells.col, value=None, reason=str(exc))
    cells.values = pd.Series(out, index=src.index, dtype=object)


def _convert(col: str, rule: Any, src: pd.DataFrame, table: str, ctx: MapContext) -> _Cells:
    """Contract column ``col`` from its mapping rule (a source column name or a dict of options),
    options applied in the order: days_between | (regex, values, empty_if, lookup, duration,
    locale number, subtract, unit/scale, rescale, date_format, day_index, age_to_birth_date), default."""
    if not isinstance(rule, dict):
        rule = {"from": rule}
    column = TABLES[table].column(col)
    if "days_between" in rule:
        cells = _Cells(col, pd.Series([None] * len(src), index=src.index, dtype=object))
        _days_between(cells, src, rule, table)
        return _default(cells, rule)
    cells = _Cells(col, _source_column(src, rule.get("from", col), table, col).astype(object).copy())
    if rx := rule.get("regex"):
        cells.values = _each(cells.values, lambda v: m.group(1) if (m := re.search(rx, str(v))) else v)
    if vmap := rule.get("values"):
        cells.values = _each(cells.values, lambda v: vmap.get(str(v).strip(), v))
    if empties := rule.get("empty_if"):
        marks = {str(e).strip() for e in empties}
        cells.values = cells.values.map(
            lambda v: None if not is_missing(v) and str(v).strip() in marks else v
        )
    if lk := rule.get("lookup"):
        cells.apply(ctx.register(lk).get, show_value=False)
    if kind := rule.get("duration"):
        factor = UNIT_FACTORS[("s", str(column.unit))]
        cells.apply(lambda v: clean(duration_seconds(v, kind, ctx.locale) * factor))
    elif column.kind in ("int", "float") and ctx.locale is not None:
        cells.apply(lambda v: clean(number(v, ctx.locale)))
    if sub := rule.get("subtract"):
        _subtract(cells, _source_column(src, sub, table, col), str(sub), ctx.locale)
    _convert_classic(cells, rule, src, column.unit)
    return _default(cells, rule)


def _convert_classic(cells: _Cells, rule: dict, src: pd.DataFrame, unit: str | None) -> None:
    """The pass-through options: unit/scale, rescale, date_format, day_index, age_to_birth_date."""
    s = cells.values
    if "unit" in rule or "scale" in rule:
        factor = rule.get("scale", 1.0) * _unit_factor(rule.get("unit"), unit)
        s = _each(s, lambda v: v if (x := _num(v)) is None else clean(x * factor))
    if rs := rule.get("rescale"):
        s = _each(s, partial(_rescaled, rs["from"], rs["to"]))
    if fmt := rule.get("date_format"):
        s = _each(s, partial(_iso_date, fmt))
    if di := rule.get("day_index"):
        s = _days_from_anchor(s, di, src)
    if ab := rule.get("age_to_birth_date"):
        s = _each(s, partial(_birth_date, dt.date.fromisoformat(str(ab["reference_date"]))))
    cells.values = s


def _default(cells: _Cells, rule: dict) -> _Cells:
    if "default" in rule:
        cells.values = cells.values.map(lambda v: rule["default"] if is_missing(v) else v)
    return cells


# ----------------------------------------------------------------------------- one source
def _columns(df: pd.DataFrame, mapping: dict, ctx: MapContext) -> pd.DataFrame:
    """The ``columns`` and ``constants`` steps: contract columns plus the provenance, with the
    cells that could not be converted recorded in it."""
    table = mapping["table"]
    out = pd.DataFrame(index=df.index)
    problems: dict[int, list[ImportProblem]] = {}
    for col, rule in (mapping.get("columns") or {}).items():
        cells = _convert(col, rule, df, table, ctx)
        out[col] = cells.values.astype(object)
        for i, p in cells.problems.items():
            problems.setdefault(i, []).append(p)
    for col, val in (mapping.get("constants") or {}).items():
        out[col] = [val] * len(df)
    provs = df[PROV].tolist()
    for i, ps in problems.items():
        provs[i] = Provenance(provs[i].sources, provs[i].problems + tuple(ps))
    out[PROV] = provs
    return out


def map_source(
    df: pd.DataFrame, mapping: dict, ctx: MapContext | None = None, log: StepLog | None = None
) -> pd.DataFrame:
    """Apply one single-source mapping to a raw export that carries a provenance column
    (:func:`sprintlab.contract.steps.with_provenance`). Returns the contract columns named in the
    mapping (contract order, object columns) and the provenance column; rows the steps drop are
    counted in ``log``."""
    check_mapping(mapping)
    ctx = ctx or MapContext(locale=locale_from(mapping.get("read")))
    log = log or StepLog()
    table = mapping["table"]
    df = steps.ensure_provenance(df.copy())
    df.columns = [c if c == PROV else str(c).strip() for c in df.columns]
    needs = _step_columns(mapping, df)
    for step in ("wide", "unpivot", "explode_json"):
        _need(df, needs[step], step)
    if w := mapping.get("wide"):
        df = steps.melt(df, w, log)
    if u := mapping.get("unpivot"):
        df = steps.unpivot(df, u)
    if ej := mapping.get("explode_json"):
        df = steps.explode_json(df, ej)
    if not mapping.get("wide"):  # melt counts its records itself, before dropping blank cells
        log.count(df[PROV].tolist())
    if f := mapping.get("filter"):
        _need(df, needs["filter"], "filter")
        df = steps.filter_rows(df, f, log)
    out = _columns(df, mapping, ctx)
    if de := mapping.get("drop_empty"):
        out = steps.drop_empty(out, list(de), log)
    if ag := mapping.get("aggregate"):
        out = aggregate(out, ag, TABLES[table].key)
    if nw := mapping.get("number_within"):
        out = steps.number_within(out, nw)
    if ep := mapping.get("episodes"):
        out = steps.episodes(out, ep)
    order = [c for c in TABLES[table].column_names if c in out.columns]
    return out[[*order, PROV]].reset_index(drop=True)


def apply_mapping(raw_df: pd.DataFrame, mapping: dict, source_dir: str | Path | None = None) -> pd.DataFrame:
    """Apply one single-source mapping (a dict with ``table`` and steps) to a raw export.

    Returns the contract columns named in the mapping, in contract order, as object columns
    (strings or numbers); what cannot be converted is passed through for the validator to reject
    (or, for the options that record a reason, left empty). ``source_dir`` is where ``lookup``
    files are found."""
    ctx = MapContext(Path(source_dir) if source_dir else None, locale_from(mapping.get("read")))
    return map_source(raw_df, mapping, ctx).drop(columns=PROV)


def import_with_mapping(mapping: str | Path | dict, source_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every source file named in a mapping (relative to ``source_dir``) and return contract
    tables (contract columns only). See :func:`sprintlab.contract.importer.import_folder` for the
    tables with their provenance and the row accounting."""
    from sprintlab.contract.importer import import_folder

    res = import_folder(mapping, source_dir)
    return {name: df.drop(columns=PROV) for name, df in res.frames.items()}


def write_imported(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write imported contract tables as CSV (``<table>.csv``) for :func:`validate_folder`."""
    return [write_table_atomic(df, Path(out_dir) / f"{name}.csv") for name, df in tables.items()]
