"""The ``aggregate`` step of a mapping: several source rows -> one contract row, stated per column.

Example (one gym row per set -> the contract's one row per exercise and day)::

    aggregate:
      by: [athlete_id, date, exercise]          # default: the table's key
      columns:
        load_kg: max                            # the top set's load
        reps: {at_max: load_kg}                 # the reps of that set (first such set)
        sets: count                             # number of source rows merged
        rpe: mean

Functions: ``count``, ``first``, ``last`` (first/last non-empty value in file order), ``min``,
``max``, ``sum``, ``mean``, ``last_minus_first`` (e.g. an odometer: distance covered),
``{at_max: COL}`` / ``{at_min: COL}`` (this column's value in the row where COL is largest /
smallest) and ``{increase_where: {column: COL, above: X}}`` (sum of this column's increases
between consecutive rows where COL is above X, e.g. distance above 5.5 m/s from an odometer and
a speed column). Columns not listed must agree within a group. Rows with an empty ``by`` value are
not merged with anything. Every merged row keeps the provenance of all its source rows; a value
that cannot be aggregated leaves the cell empty with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from sprintlab.contract.convert import Unconvertible, clean, number
from sprintlab.contract.provenance import ImportProblem, Provenance, merge
from sprintlab.contract.validate import is_missing
from sprintlab.io import DataError

PROV = "__prov"
SIMPLE = ("count", "first", "last", "min", "max", "sum", "mean", "last_minus_first")
WITH_ARGUMENT = ("at_max", "at_min", "increase_where")


def check_aggregate(spec: Any, columns: set[str]) -> None:
    """Raise :class:`DataError` for an ``aggregate:`` block with unknown functions or columns."""
    if not isinstance(spec, dict) or not isinstance(spec.get("columns"), dict):
        raise DataError("aggregate needs 'columns: {contract column: function}'")
    unknown = set(spec) - {"by", "columns"}
    if unknown:
        raise DataError(f"unknown aggregate option(s) {sorted(unknown)}")
    for col, rule in spec["columns"].items():
        if col not in columns:
            raise DataError(f"aggregate: {col!r} is not a column of the table")
        if isinstance(rule, str) and rule in SIMPLE:
            continue
        if isinstance(rule, dict) and len(rule) == 1 and next(iter(rule)) in WITH_ARGUMENT:
            continue
        raise DataError(
            f"aggregate: unknown function {rule!r} for {col!r} (use {', '.join(SIMPLE)}, "
            f"or {{{': COL}, {'.join(WITH_ARGUMENT)}: COL}}"
        )


def _numbers(values: list[Any]) -> list[float | None]:
    return [None if is_missing(v) else number(v, None) for v in values]


def _extreme(values: list[Any], keys: list[Any], pick: Callable[[list[float]], float]) -> Any:
    nums = _numbers(keys)
    present = [x for x in nums if x is not None]
    if not present:
        return None
    target = pick(present)
    return values[next(i for i, x in enumerate(nums) if x == target)]


def _increase_where(values: list[Any], cond: list[Any], above: float) -> float | int | None:
    nums, flags = _numbers(values), _numbers(cond)
    total, seen = 0.0, False
    for j in range(1, len(nums)):
        a, b, f = nums[j - 1], nums[j], flags[j]
        if a is None or b is None:
            continue
        seen = True
        if f is not None and f > above:
            total += b - a
    return clean(total) if seen else None


#: one group of source rows: each column's values in file order
Group = dict[str, list[Any]]


def _apply(rule: Any, col: str, rows: Group, n_rows: int) -> Any:
    """One aggregate function on one group; :class:`Unconvertible` for a non-number."""
    values = rows[col] if col in rows else [None] * n_rows
    present = [v for v in values if not is_missing(v)]
    if rule == "count":
        return n_rows
    if rule in ("first", "last"):
        return (present[0] if rule == "first" else present[-1]) if present else None
    if isinstance(rule, dict):
        ((fn, arg),) = rule.items()
        if fn in ("at_max", "at_min"):
            return _extreme(values, rows[arg], max if fn == "at_max" else min)
        return _increase_where(values, rows[arg["column"]], float(arg["above"]))
    nums = [x for x in _numbers(values) if x is not None]
    if not nums:
        return None
    if rule == "last_minus_first":
        return clean(nums[-1] - nums[0])
    reduce: dict[str, Callable[[list[float]], float]] = {
        "min": min,
        "max": max,
        "sum": sum,
        "mean": lambda xs: sum(xs) / len(xs),
    }
    return clean(reduce[rule](nums))


def _agree(col: str, rows: Group) -> tuple[Any, ImportProblem | None]:
    """The common value of a column not listed in ``columns`` (empty with a reason if rows differ)."""
    present = [v for v in rows[col] if not is_missing(v)]
    distinct = list(dict.fromkeys(str(v).strip() for v in present))
    if len(distinct) <= 1:
        return (present[0] if present else None), None
    shown = ", ".join(repr(d) for d in distinct[:3])
    reason = f"merged rows disagree on {col} ({shown}): list it under aggregate.columns"
    return None, ImportProblem(column=col, value=None, reason=reason)


def _groups(df: pd.DataFrame, by: list[str]) -> list[list[int]]:
    """Row positions per group, in first-seen order; a row with an empty ``by`` value is alone."""
    groups: dict[tuple, list[int]] = {}
    alone: list[list[int]] = []
    for i, key in enumerate(df[by].itertuples(index=False, name=None)):
        if any(is_missing(v) for v in key):
            alone.append([i])
        else:
            groups.setdefault(tuple(str(v).strip() for v in key), []).append(i)
    return list(groups.values()) + alone


def aggregate(df: pd.DataFrame, spec: dict, key: tuple[str, ...]) -> pd.DataFrame:
    """Merge rows per ``by`` group as ``spec`` says (see the module docstring)."""
    by = list(spec.get("by") or [k for k in key if k in df.columns])
    missing = [c for c in by if c not in df.columns]
    if missing:
        raise DataError(f"aggregate.by: column(s) {missing} are not mapped")
    rules: dict[str, Any] = spec["columns"]
    refs = [
        (r[k] if k != "increase_where" else r[k].get("column"))
        for r in rules.values()
        if isinstance(r, dict)
        for k in r
    ]
    unmapped = [c for c in refs if c not in df.columns]
    if unmapped:
        raise DataError(f"aggregate refers to column(s) {unmapped} that the mapping does not produce")
    names = [c for c in df.columns if c != PROV] + [c for c in rules if c not in df.columns]
    columns: Group = {c: df[c].tolist() for c in df.columns}  # plain lists: no frame per group
    out = [
        _merge_group({c: [v[i] for i in idx] for c, v in columns.items()}, len(idx), names, rules, by)
        for idx in _groups(df, by)
    ]
    return pd.DataFrame(out, columns=[*names, PROV], dtype=object)


def _merge_group(rows: Group, n_rows: int, names: list[str], rules: dict[str, Any], by: list[str]) -> dict:
    """One contract row from one group: each column aggregated, kept (``by``) or agreed on, with the
    provenance of every source row and the reason for each cell left empty."""
    rec: dict[str, Any] = {}
    problems: list[ImportProblem] = []
    for col in names:
        if col in rules:
            try:
                rec[col] = _apply(rules[col], col, rows, n_rows)
            except Unconvertible as exc:
                rec[col] = None
                problems.append(ImportProblem(column=col, value=None, reason=f"cannot aggregate: {exc}"))
        elif col in by:
            rec[col] = rows[col][0]
        else:
            rec[col], problem = _agree(col, rows)
            problems += [problem] if problem else []
    prov: Provenance = merge(rows[PROV])
    rec[PROV] = Provenance(prov.sources, prov.problems + tuple(problems))
    return rec
