"""Row steps of a mapping: reshape (``wide``, ``unpivot``, ``explode_json``), ``filter``,
``drop_empty``, ``number_within`` and ``episodes``.

Every working frame carries the hidden column :data:`PROV` (a
:class:`~sprintlab.contract.provenance.Provenance` per row): reshaping copies it to every record of
a source row, merging steps merge it, and every row a step drops is counted in the
:class:`StepLog` with its file and reason - the import's row accounting is built from these two.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sprintlab.contract.provenance import Provenance, merge
from sprintlab.contract.validate import is_missing

PROV = "__prov"


@dataclass
class StepLog:
    """Records per file entering the steps (after reshaping) and rows dropped by the steps, per
    (file, reason), counted in source records."""

    records: Counter[str] = field(default_factory=Counter)
    filtered: Counter[tuple[str, str]] = field(default_factory=Counter)

    def count(self, provs: list[Provenance]) -> None:
        for p in provs:
            for f, rows in p.sources:
                self.records[f] += len(rows)

    def drop(self, provs: list[Provenance], reason: str) -> None:
        for p in provs:
            for f, rows in p.sources:
                self.filtered[(f, reason)] += len(rows)


def with_provenance(df: pd.DataFrame, file: str) -> pd.DataFrame:
    """``df`` (as read by :func:`sprintlab.io.read_table`) with a :data:`PROV` column naming
    ``file`` and each row's spreadsheet row number."""
    rows = df.attrs.get("row_numbers") or list(range(2, len(df) + 2))
    out = df.copy()
    out[PROV] = [Provenance(((file, (int(r),)),)) for r in rows]
    return out


def ensure_provenance(df: pd.DataFrame, file: str = "input") -> pd.DataFrame:
    """``df`` with a :data:`PROV` column (added from its row numbers when absent)."""
    return df if PROV in df.columns else with_provenance(df, str(df.attrs.get("file") or file))


def melt(df: pd.DataFrame, w: dict, log: StepLog) -> pd.DataFrame:
    """Wide -> long: one record per value column; blank cells are dropped and counted."""
    ids = [df.columns[i] if isinstance(i, int) else i for i in w.get("id_columns", [0])]
    values = w.get("value_columns") or [c for c in df.columns if c not in ids and c != PROV]
    long = df.melt(
        id_vars=[*ids, PROV], value_vars=values, var_name=w["columns_as"], value_name=w["value_as"]
    )
    log.count(long[PROV].tolist())
    if w.get("drop_blank", True):
        blank = long[w["value_as"]].map(is_missing).to_numpy(dtype=bool)
        log.drop(long.loc[blank, PROV].tolist(), "blank cell in a wide file (no value)")
        long = long.loc[~blank]
    if rx := w.get("column_regex"):
        long[w["columns_as"]] = long[w["columns_as"]].map(
            lambda h: m.group(1) if (m := re.search(rx, str(h))) else h
        )
    return long.reset_index(drop=True)


def unpivot(df: pd.DataFrame, u: dict) -> pd.DataFrame:
    """One record per group of columns (e.g. the left and the right side of one test row)::

        unpivot: {as: side, groups: {left: {value: L Max Force (N), reps: L Reps},
                                     right: {value: R Max Force (N), reps: R Reps}}}

    Each record keeps the other columns, holds the group's columns under the group's names and
    the group's label in ``as``."""
    groups: dict[str, dict[str, str]] = u["groups"]
    used = {c for g in groups.values() for c in g.values()}
    keep = [c for c in df.columns if c not in used]
    parts = []
    for label, cols in groups.items():
        part = df[keep].copy()
        for name, src in cols.items():
            part[name] = df[src] if src in df.columns else None
        part[u["as"]] = label
        part["__order"] = range(len(df))
        parts.append(part)
    out = pd.concat(parts, ignore_index=True).sort_values("__order", kind="mergesort")
    return out.drop(columns="__order").reset_index(drop=True)


def explode_json(df: pd.DataFrame, ej: dict) -> pd.DataFrame:
    """One row per key of a JSON object cell (``{"left_knee": "minor", "right_foot": "major"}``)."""
    rows = []
    value_as = ej.get("value_as", "_value")
    for rec in df.to_dict("records"):
        v = rec[ej["column"]]
        try:
            obj = json.loads(v) if isinstance(v, str) else None
        except ValueError:
            obj = None
        if isinstance(obj, dict) and obj:
            rows += [{**rec, ej["key_as"]: k, value_as: val} for k, val in obj.items()]
        else:  # not a JSON object: pass the cell through for the validator to reject
            rows.append({**rec, ej["key_as"]: v, value_as: None})
    return pd.DataFrame(rows, columns=[*df.columns, ej["key_as"], value_as])


def _text(s: pd.Series) -> pd.Series:
    return s.astype("string").str.strip()


def filter_rows(df: pd.DataFrame, f: dict, log: StepLog) -> pd.DataFrame:
    """Keep rows (``equals`` / ``not_equals`` / ``drop_if_all_zero``); each dropped row is counted
    under the first condition it fails."""
    conditions: list[tuple[str, pd.Series]] = []
    for col, val in (f.get("equals") or {}).items():
        conditions.append((f"{col} is not {str(val)!r}", _text(df[col]).eq(str(val)).fillna(False)))
    for col, val in (f.get("not_equals") or {}).items():
        conditions.append((f"{col} is {str(val)!r}", ~_text(df[col]).eq(str(val)).fillna(False)))
    if cols := f.get("drop_if_all_zero"):
        nums = df[cols].apply(lambda s: pd.to_numeric(s, errors="coerce"))
        conditions.append((f"{', '.join(cols)}: all zero or empty", ~(nums.fillna(0) == 0).all(axis=1)))
    keep = pd.Series(True, index=df.index)
    for reason, ok in conditions:
        dropped = keep & ~ok
        log.drop(df.loc[dropped, PROV].tolist(), f"filter: {reason}")
        keep &= ok
    return df[keep.to_numpy()].reset_index(drop=True)


def drop_empty(df: pd.DataFrame, cols: list[str], log: StepLog) -> pd.DataFrame:
    """Drop rows whose listed contract columns are all empty (e.g. a side not tested), counted."""
    present = [c for c in cols if c in df.columns]
    if not present or df.empty:
        return df.reset_index(drop=True)
    empty = df[present].map(is_missing).all(axis=1).to_numpy(dtype=bool)
    if empty.any():
        log.drop(df.loc[empty, PROV].tolist(), f"drop_empty: no {', '.join(cols)}")
        df = df.loc[~empty]
    return df.reset_index(drop=True)


def number_within(df: pd.DataFrame, nw: dict) -> pd.DataFrame:
    """Number rows within groups (``{by: [...], as: session_type, template: "session_{n}"}``)."""
    n = df.groupby(nw["by"], sort=False, dropna=False).cumcount() + 1
    tmpl = nw.get("template", "{n}")
    df[nw["as"]] = [tmpl.format(n=k) for k in n]
    return df


def episodes(df: pd.DataFrame, ep: dict) -> pd.DataFrame:
    """Merge consecutive daily reports (gap <= ``max_gap_days``) of the same ``by`` group into one
    event dated at its first day, its length in days in ``length_as``. Reports of the same day are
    merged too; rows with an unreadable date pass through for the validator to reject."""
    by, date_col, length_as = ep["by"], ep["date"], ep["length_as"]
    gap = int(ep.get("max_gap_days", 1))
    d = pd.to_datetime(df[date_col], format="%Y-%m-%d", errors="coerce")
    good = df[d.notna()].assign(_d=d[d.notna()]).sort_values([*by, "_d"], kind="mergesort")
    bad = df[d.isna()]
    step = good.groupby(by, sort=False, dropna=False)["_d"].diff().dt.days
    good = good.assign(_ep=step.isna().to_numpy() | (step > gap).to_numpy())
    good["_ep"] = good["_ep"].cumsum()
    out: list[dict[str, Any]] = []
    for _, ev in good.groupby("_ep", sort=False):
        rec = ev.iloc[0].to_dict()
        rec[date_col] = ev["_d"].min().strftime("%Y-%m-%d")
        rec[length_as] = int((ev["_d"].max() - ev["_d"].min()).days) + 1
        rec[PROV] = merge(ev[PROV].tolist())
        out.append(rec)
    cols = [c for c in df.columns if c != length_as] + [length_as]
    res = pd.DataFrame(out, columns=[*cols, "_d", "_ep"]).drop(columns=["_d", "_ep"]).astype(object)
    return pd.concat([res, bad.astype(object)], ignore_index=True) if len(bad) else res
