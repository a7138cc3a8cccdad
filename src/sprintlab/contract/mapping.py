"""Vendor mappings: turn a club's or a vendor's export into contract tables with a YAML file.

A mapping file (see ``docs/importing.md`` and ``src/sprintlab/contract/mappings/``) lists, per
contract table, one or more *sources*. Each source names a file and the steps that turn it into
contract columns, applied in this order by :func:`apply_mapping`:

1. ``wide``      melt a wide file (one column per athlete or per distance) into long rows;
   ``explode_json`` one row per key of a JSON-object cell;
2. ``filter``    keep rows (``equals`` / ``not_equals`` / ``drop_if_all_zero``);
3. ``columns``   contract column <- source column, with ``unit`` conversion (g->kg, ms->s,
                 km->m, lb->kg, ...), ``rescale`` (linear range map), ``values`` (value map),
                 ``date_format`` (strptime), ``day_index`` (day number -> date from an anchor),
                 ``age_to_birth_date``, ``regex`` extraction, ``default``;
4. ``constants`` contract columns with one value for every row;
5. ``number_within`` number rows within groups (``session_{n}``) to keep keys unique;
6. ``episodes``  merge consecutive daily reports into one event with its length in days.

Values that cannot be converted are passed through unchanged, so that the validator rejects them
with file, row and column - a mapping never invents or silently drops a number. Several sources of
one table are outer-joined on the table key (e.g. one wide wellness file per question).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import CellError, is_missing, parse_number
from sprintlab.io import DataError, decode_text, read_table, write_table_atomic

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
    "explode_json",
    "filter",
    "columns",
    "constants",
    "number_within",
    "episodes",
    "notes",
    "missing",
    "sources",
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
}


def load_mapping(path: str | Path) -> dict:
    """Read and check a mapping YAML file (unknown keys, tables, columns or units -> DataError)."""
    path = Path(path)
    if not path.exists() and (MAPPINGS_DIR / path).exists():
        path = MAPPINGS_DIR / path
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DataError(f"cannot read mapping: {exc}", file=path) from exc
    if not isinstance(data, dict) or not isinstance(data.get("tables"), list):
        raise DataError("a mapping file needs a 'tables:' list", file=path)
    for entry in data["tables"]:
        for src in entry.get("sources") or [entry]:
            check_mapping({**src, "table": entry.get("table")}, where=path)
    return data


def check_mapping(m: dict, where: str | Path | None = None) -> None:
    """Raise DataError if a single-source mapping has unknown keys, table, columns or units."""
    table = m.get("table")
    if table not in TABLES:
        raise DataError(f"unknown contract table {table!r} in mapping", file=where)
    spec = TABLES[table]
    unknown = set(m) - _STEP_KEYS
    if unknown:
        raise DataError(f"unknown mapping key(s) {sorted(unknown)} for table {table!r}", file=where)
    for col, rule in {**(m.get("columns") or {}), **(m.get("constants") or {})}.items():
        if col not in spec.column_names:
            raise DataError(f"{col!r} is not a column of contract table {table!r}", file=where)
        if isinstance(rule, dict) and col in (m.get("columns") or {}):
            bad = set(rule) - _COL_KEYS
            if bad:
                raise DataError(f"unknown option(s) {sorted(bad)} for column {col!r}", file=where)
            if "unit" in rule:
                pair = (rule["unit"], spec.column(col).unit)
                if pair not in UNIT_FACTORS:
                    raise DataError(
                        f"no conversion from {pair[0]!r} to {pair[1]!r} for column {col!r}", file=where
                    )


# ----------------------------------------------------------------------------- steps
def _melt(df: pd.DataFrame, w: dict) -> pd.DataFrame:
    ids = [df.columns[i] if isinstance(i, int) else i for i in w.get("id_columns", [0])]
    values = w.get("value_columns") or [c for c in df.columns if c not in ids]
    long = df.melt(id_vars=ids, value_vars=values, var_name=w["columns_as"], value_name=w["value_as"])
    if w.get("drop_blank", True):
        long = long[~long[w["value_as"]].map(is_missing)]
    if rx := w.get("column_regex"):
        long[w["columns_as"]] = long[w["columns_as"]].map(
            lambda h: m.group(1) if (m := re.search(rx, str(h))) else h
        )
    return long.reset_index(drop=True)


def _explode_json(df: pd.DataFrame, ej: dict) -> pd.DataFrame:
    """One row per key of a JSON object cell (``{"left_knee": "minor", "right_foot": "major"}``)."""
    rows = []
    for rec in df.to_dict("records"):
        v = rec[ej["column"]]
        try:
            obj = json.loads(v) if isinstance(v, str) else None
        except ValueError:
            obj = None
        if isinstance(obj, dict) and obj:
            rows += [{**rec, ej["key_as"]: k, ej.get("value_as", "_value"): val} for k, val in obj.items()]
        else:  # not a JSON object: pass the cell through for the validator to reject
            rows.append({**rec, ej["key_as"]: v, ej.get("value_as", "_value"): None})
    return pd.DataFrame(rows, columns=[*df.columns, ej["key_as"], ej.get("value_as", "_value")])


def _filter(df: pd.DataFrame, f: dict) -> pd.DataFrame:
    keep = pd.Series(True, index=df.index)
    for col, val in (f.get("equals") or {}).items():
        keep &= df[col].astype("string").str.strip().eq(str(val)).fillna(False)
    for col, val in (f.get("not_equals") or {}).items():
        keep &= ~df[col].astype("string").str.strip().eq(str(val)).fillna(False)
    if cols := f.get("drop_if_all_zero"):
        nums = df[cols].apply(lambda s: pd.to_numeric(s, errors="coerce"))
        keep &= ~(nums.fillna(0) == 0).all(axis=1)
    return df[keep.to_numpy()].reset_index(drop=True)


def _num(v: Any) -> float | None:
    try:
        return parse_number(v.strip() if isinstance(v, str) else v)[0]
    except CellError:
        return None


def _clean(x: float) -> float | int:
    x = float(np.round(x, 9))
    return int(x) if x.is_integer() else x


def _each(s: pd.Series, fn: Callable[[Any], Any]) -> pd.Series:
    """Apply ``fn`` once per distinct non-missing value (exports repeat values a lot); missing stays."""
    lut = {v: fn(v) for v in pd.unique(s.to_numpy(dtype=object)) if not is_missing(v)}
    return s.map(lambda v: lut.get(v, v) if not is_missing(v) else v)


def _unit_factor(source_unit: str | None, contract_unit: str | None) -> float:
    """Multiply factor from the mapping's ``unit`` to the contract column's unit (1 when not given)."""
    if source_unit is None or contract_unit is None:
        return 1.0
    return UNIT_FACTORS.get((source_unit, contract_unit), 1.0)


def _rescaled(source_range: list[float], target_range: list[float], v: Any) -> Any:
    """Linear range map ``[a, b] -> [c, d]``: ``c + (x - a) (d - c) / (b - a)``; non-numbers pass through."""
    (a, b), (c, d) = source_range, target_range
    x = _num(v)
    return v if x is None else _clean(c + (x - a) * (d - c) / (b - a))


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


def _convert(col: str, rule: Any, src: pd.DataFrame, table: str) -> pd.Series:
    """Contract column ``col`` from its mapping rule (a source column name or a dict of options),
    options applied in the order: regex, values, unit/scale, rescale, date_format, day_index,
    age_to_birth_date, default."""
    if not isinstance(rule, dict):
        rule = {"from": rule}
    name = rule.get("from", col)
    if name not in src.columns:
        raise DataError(
            f"mapping for {table}.{col}: source column {name!r} not found "
            f"(columns: {', '.join(map(str, src.columns))})"
        )
    s = src[name].copy()
    if rx := rule.get("regex"):
        s = _each(s, lambda v: m.group(1) if (m := re.search(rx, str(v))) else v)
    if vmap := rule.get("values"):
        s = _each(s, lambda v: vmap.get(str(v).strip(), v))
    if "unit" in rule or "scale" in rule:
        factor = rule.get("scale", 1.0) * _unit_factor(rule.get("unit"), TABLES[table].column(col).unit)
        s = _each(s, lambda v: v if (x := _num(v)) is None else _clean(x * factor))
    if rs := rule.get("rescale"):
        s = _each(s, partial(_rescaled, rs["from"], rs["to"]))
    if fmt := rule.get("date_format"):
        s = _each(s, partial(_iso_date, fmt))
    if di := rule.get("day_index"):
        s = _days_from_anchor(s, di, src)
    if ab := rule.get("age_to_birth_date"):
        s = _each(s, partial(_birth_date, dt.date.fromisoformat(str(ab["reference_date"]))))
    if "default" in rule:
        s = s.map(lambda v: rule["default"] if is_missing(v) else v)
    return s


def _number_within(df: pd.DataFrame, nw: dict) -> pd.DataFrame:
    n = df.groupby(nw["by"], sort=False).cumcount() + 1
    tmpl = nw.get("template", "{n}")
    df[nw["as"]] = [tmpl.format(n=k) for k in n]
    return df


def _episodes(df: pd.DataFrame, ep: dict) -> pd.DataFrame:
    by, date_col, length_as = ep["by"], ep["date"], ep["length_as"]
    gap = int(ep.get("max_gap_days", 1))
    d = pd.to_datetime(df[date_col], format="%Y-%m-%d", errors="coerce")
    good = df[d.notna()].assign(_d=d[d.notna()]).drop_duplicates([*by, "_d"])
    bad = df[d.isna()]  # unparseable dates pass through for the validator to reject
    good = good.sort_values([*by, "_d"], kind="mergesort")
    new = good.groupby(by, sort=False)["_d"].diff().dt.days.fillna(gap + 1).gt(gap)
    good = good.assign(_ep=new.cumsum())
    agg = good.groupby("_ep", sort=False).agg(first=("_d", "min"), last=("_d", "max"))
    first = good.drop_duplicates("_ep").set_index("_ep")
    first[date_col] = agg["first"].dt.strftime("%Y-%m-%d")
    first[length_as] = ((agg["last"] - agg["first"]).dt.days + 1).astype(int).astype(object)
    out = first.drop(columns=["_d"]).reset_index(drop=True).astype(object)
    return pd.concat([out, bad.astype(object)], ignore_index=True) if len(bad) else out


def apply_mapping(raw_df: pd.DataFrame, mapping: dict) -> pd.DataFrame:
    """Apply one single-source mapping (a dict with ``table`` and steps) to a raw export.

    Returns the contract columns named in the mapping, in contract order, as object columns
    (strings or numbers); what cannot be converted is passed through for the validator to reject.
    """
    check_mapping(mapping)
    table = mapping["table"]
    df = raw_df.copy()
    df.columns = [str(c).strip() for c in df.columns]
    if w := mapping.get("wide"):
        df = _melt(df, w)
    if ej := mapping.get("explode_json"):
        df = _explode_json(df, ej)
    if f := mapping.get("filter"):
        df = _filter(df, f)
    out = pd.DataFrame(index=df.index)
    for col, rule in (mapping.get("columns") or {}).items():
        out[col] = _convert(col, rule, df, table).astype(object)
    for col, val in (mapping.get("constants") or {}).items():
        out[col] = [val] * len(df)
    if nw := mapping.get("number_within"):
        out = _number_within(out, nw)
    if ep := mapping.get("episodes"):
        out = _episodes(out, ep)
    order = [c for c in TABLES[table].column_names if c in out.columns]
    return out[order].reset_index(drop=True)


def _read_source(path: Path, read: dict | None) -> pd.DataFrame:
    read = read or {}
    fmt = read.get("format", "table")
    if fmt == "table":
        return read_table(path)
    if fmt == "json_by_key":  # {"key": [{...}, ...], ...} -> one row per record, key in read.key_as
        try:
            data = json.loads(decode_text(path.read_bytes())[0])
        except (OSError, ValueError) as exc:
            raise DataError(f"cannot read JSON: {exc}", file=path) from exc
        rows = [{read.get("key_as", "key"): k, **rec} for k, recs in data.items() for rec in recs]
        return pd.DataFrame(rows).astype(object)
    raise DataError(f"unknown read format {fmt!r}", file=path)


def import_with_mapping(mapping: str | Path | dict, source_dir: str | Path) -> dict[str, pd.DataFrame]:
    """Read every source file named in a mapping (relative to ``source_dir``) and return contract
    tables. Several sources of one table are outer-joined on the table key."""
    m = load_mapping(mapping) if not isinstance(mapping, dict) else mapping
    out: dict[str, pd.DataFrame] = {}
    for entry in m["tables"]:
        table = entry["table"]
        frames = []
        for src in entry.get("sources") or [entry]:
            raw = _read_source(Path(source_dir) / src["file"], src.get("read"))
            frames.append(apply_mapping(raw, {**src, "table": table}))
        df = frames[0]
        key = list(TABLES[table].key)
        for other in frames[1:]:
            df = df.merge(other, on=key, how="outer", sort=False)
        order = [c for c in TABLES[table].column_names if c in df.columns]
        df = df[order]
        if len(frames) > 1:
            df = df.sort_values(key, kind="mergesort").reset_index(drop=True)
        out[table] = pd.concat([out[table], df], ignore_index=True) if table in out else df
    return out


def write_imported(tables: dict[str, pd.DataFrame], out_dir: str | Path) -> list[Path]:
    """Write imported contract tables as CSV (``<table>.csv``) for :func:`validate_folder`."""
    return [write_table_atomic(df, Path(out_dir) / f"{name}.csv") for name, df in tables.items()]
