"""Whole-column plausibility beyond the contract's own bounds: the training reference, swapped columns.

*Training reference.* At training time :func:`contract_reference` summarises every number column
of the validated training tables (median, 5/50/95 % quantiles and count; ``strength_tests.value``
per test, since each test has its own unit and scale). The summary travels with the model (key
:data:`REFERENCE_KEY` of its ``drift_reference.json``). When ``sprintlab score`` validates a new
export it passes that summary to the validator: a column whose median is outside the training
5-95 % range *and* off the training median by a factor a unit or scale slip of the column's unit
produces (:data:`UNIT_RATIOS`, e.g. x 2.2046 kg -> pounds, x 1000 s -> ms, x 0.1 for a 0-1 scale
in a 0-10 column) is rejected like the contract's own unit-slip finding: every cell of the column is
rejected with a reason naming the file, the column, both medians and the likely unit (emptied and
listed in ``rejected_cells.csv`` where the column may be empty; the row rejected with its raw
values in ``rejected_rows.csv`` where it may not). Nothing is converted and nothing is lost: a
unit slip that stays inside the contract's bounds would otherwise be scored as if it were real.

*Swapped columns.* :data:`SWAP_PAIRS` lists the column pairs of one table whose values can be
exchanged by a wrong column mapping, with the relation the contract implies: ``order`` (sprint
distance, > 7 m/s, is part of the high-speed distance, > 5.5 m/s, which is part of the total
distance: the second column is never larger than the first) or ``ranges`` (each column's median
fits the other column's range - the training 5-95 % range when a reference is given, else the
contract's ``typical`` median range - and not its own). Both columns are then rejected with the
evidence (share of rows, both medians).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import pandas as pd

from sprintlab.contract.tables import TABLES, ColumnSpec, TableSpec

#: key of the contract-column summary inside a model's training reference (``drift_reference.json``;
#: :data:`sprintlab.drift.CONTRACT_KEY`, which the train stage writes without importing the contract)
REFERENCE_KEY = "contract_columns"
#: the file the targets stage writes the summary of the validated training tables to, beside the units
REFERENCE_FILE = "contract_reference.json"
#: quantiles stored per column
QUANTILES = (0.05, 0.5, 0.95)
#: per contract unit: (observed median / training median, what the column then likely holds)
UNIT_RATIOS: dict[str, tuple[tuple[float, str], ...]] = {
    "kg": ((2.20462, "pounds (x 2.2046)"), (1000.0, "grams (x 1000)")),
    "cm": ((0.01, "metres (x 0.01)"), (10.0, "millimetres (x 10)"), (0.393701, "inches (x 0.3937)")),
    "s": ((1000.0, "milliseconds (x 1000)"),),
    "ms": ((0.001, "seconds (x 0.001)"),),
    "m": ((0.001, "kilometres (x 0.001)"), (100.0, "centimetres (x 100)"), (3.28084, "feet (x 3.281)")),
    "h": ((60.0, "minutes (x 60)"),),
    "min": ((60.0, "seconds (x 60)"), (1 / 60, "hours (x 1/60)")),
    "m/s": ((3.6, "km/h (x 3.6)"), (2.23694, "mph (x 2.237)")),
    "0-10": ((0.1, "a 0-1 scale (x 0.1)"), (10.0, "a 0-100 scale (x 10)")),
    "N": ((0.224809, "pounds-force (x 0.2248)"), (0.101972, "kilograms-force (x 0.102)")),
}
#: a column pair needs this many rows with both values before it is judged swapped
MIN_PAIR_ROWS = 4
#: share of those rows breaking an ``order`` relation from which the pair looks swapped ("most rows")
SWAP_SHARE = 0.5


class ReferenceThresholds(Protocol):
    """The thresholds of the unit-slip check (params.yaml ``score.reference_*``)."""

    @property
    def reference_min_values(self) -> int: ...

    @property
    def reference_ratio_tolerance(self) -> float: ...


@dataclass(frozen=True)
class SwapPair:
    """Two columns of ``table`` that can be swapped; ``order``: ``second <= first`` on every row;
    ``ranges``: each column's median belongs in its own range, not in the other's."""

    table: str
    first: str
    second: str
    relation: Literal["order", "ranges"]
    why: str = ""


SWAP_PAIRS: tuple[SwapPair, ...] = (
    SwapPair("athletes", "height_cm", "body_mass_kg", "ranges"),
    SwapPair("sprint_steps", "contact_time_ms", "flight_time_ms", "ranges"),
    SwapPair(
        "training_load",
        "total_distance_m",
        "hsr_distance_m",
        "order",
        "high-speed distance (> 5.5 m/s) is part of the total distance",
    ),
    SwapPair(
        "training_load",
        "hsr_distance_m",
        "sprint_distance_m",
        "order",
        "sprint distance (> 7 m/s) is part of the high-speed distance (> 5.5 m/s)",
    ),
)


# ----------------------------------------------------------------------------- the reference
def column_summary(values: np.ndarray) -> dict[str, Any] | None:
    """``median``, ``q05``, ``q50``, ``q95`` and ``n`` of the finite values (``None`` when none)."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    if x.size == 0:
        return None
    q05, q50, q95 = (float(q) for q in np.quantile(x, QUANTILES))
    return {"median": float(np.median(x)), "q05": q05, "q50": q50, "q95": q95, "n": int(x.size)}


def strength_key(test: str) -> str:
    """The reference key of one strength test's values."""
    return f"strength_tests.value[test={test}]"


def _strength_summaries(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """``strength_tests.value`` per test, with the test's most frequent unit."""
    out: dict[str, dict[str, Any]] = {}
    for test, rows in df.groupby(df["test"].astype(str), sort=True):
        summary = column_summary(pd.to_numeric(rows["value"], errors="coerce").to_numpy(dtype=float))
        if summary is not None:
            summary["unit"] = str(rows["unit"].astype(str).mode().iloc[0])
            out[strength_key(str(test))] = summary
    return out


def contract_reference(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """The training reference of the validated contract tables: ``{"version", "columns"}`` with one
    :func:`column_summary` per ``table.column`` number column (and per strength test)."""
    columns: dict[str, dict[str, Any]] = {}
    for name, df in sorted(tables.items()):
        spec = TABLES.get(name)
        if spec is None:
            continue
        for col in spec.columns:
            if col.kind in ("int", "float") and col.name in df.columns:
                summary = column_summary(pd.to_numeric(df[col.name], errors="coerce").to_numpy(dtype=float))
                if summary is not None:
                    columns[f"{name}.{col.name}"] = summary
        if name == "strength_tests" and {"test", "value", "unit"} <= set(df.columns):
            columns |= _strength_summaries(df)
    return {"version": 1, "columns": columns}


# ----------------------------------------------------------------------------- unit slip vs reference
_SUMMARY_KEYS = ("median", "q05", "q95", "n")


def usable_columns(reference: Any) -> dict[str, dict[str, Any]]:
    """The column summaries of a reference that hold every number a check reads (a reference read
    from a file may be malformed: what is not usable is left out, never a traceback)."""
    columns = reference.get("columns") if isinstance(reference, dict) else None
    if not isinstance(columns, dict):
        return {}
    return {
        str(k): v
        for k, v in columns.items()
        if isinstance(v, dict)
        and all(isinstance(v.get(f), int | float) and np.isfinite(v[f]) for f in _SUMMARY_KEYS)
    }


def likely_unit(observed: float, ref: dict[str, Any], unit: str, tolerance: float) -> str | None:
    """The unit or scale slip that explains ``observed`` (a column's median) against the training
    summary ``ref``: the median outside the training 5-95 % range and its ratio to the training
    median within ``tolerance`` (relative, on the log scale) of a factor of :data:`UNIT_RATIOS`."""
    med = ref.get("median")
    if med is None or med <= 0 or observed <= 0 or ref["q05"] <= observed <= ref["q95"]:
        return None
    ratio = observed / med
    best = min(UNIT_RATIOS.get(unit, ()), key=lambda f: abs(np.log(ratio / f[0])), default=None)
    if best is None or abs(np.log(ratio / best[0])) > np.log1p(tolerance):
        return None
    return best[1]


def reference_reason(
    where: str, x: np.ndarray, ref: dict[str, Any] | None, unit: str, params: ReferenceThresholds
) -> str | None:
    """Why the numbers ``x`` of column ``where`` (``file: column``) look recorded in another unit
    than the training data, or ``None``. ``params``: ``reference_min_values`` and
    ``reference_ratio_tolerance`` (params.yaml ``score:``)."""
    x = x[np.isfinite(x)]
    if ref is None or x.size < params.reference_min_values:
        return None
    med = float(np.median(x))
    label = likely_unit(med, ref, unit, params.reference_ratio_tolerance)
    if label is None:
        return None
    return (
        f"{where}: median {med:.3g} vs training median {ref['median']:.3g} {unit} (training 5-95 %: "
        f"{ref['q05']:.3g}..{ref['q95']:.3g}, n={ref['n']}): looks like {label} - convert the column "
        "and import again"
    )


def _numbers(values: pd.Series) -> np.ndarray:
    """A raw column as floats (NaN where a cell is empty or not a plain number)."""
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    return pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)


def _strength_findings(
    raw: pd.DataFrame,
    mapping: dict[str, str],
    fname: str,
    columns: dict[str, Any],
    params: ReferenceThresholds,
) -> dict[int, str]:
    """``strength_tests.value`` checked per test against that test's training summary."""
    if not {"test", "value"} <= set(mapping):
        return {}
    tests = (
        raw[mapping["test"]].astype(object).where(raw[mapping["test"]].notna(), "").astype(str).str.strip()
    )
    values = _numbers(raw[mapping["value"]])
    out: dict[int, str] = {}
    for test in sorted(set(tests) - {""}):
        ref = columns.get(strength_key(test))
        rows = np.flatnonzero((tests == test).to_numpy() & np.isfinite(values))
        unit = str(ref.get("unit", "")) if ref else ""
        reason = reference_reason(f"{fname}: value (test {test!r})", values[rows], ref, unit, params)
        if reason is not None:
            out |= dict.fromkeys(rows.tolist(), reason)
    return out


def reference_findings(
    spec: TableSpec,
    raw: pd.DataFrame,
    mapping: dict[str, str],
    fname: str,
    reference: dict[str, Any] | None,
    params: ReferenceThresholds | None,
) -> dict[str, dict[int, str]]:
    """Contract column -> {row index -> reason} for the number columns of one raw table whose
    median looks like a unit slip against the training reference (:func:`reference_reason`)."""
    columns = usable_columns(reference)
    if not columns or params is None:
        return {}
    out: dict[str, dict[int, str]] = {}
    for col in spec.columns:
        if col.kind not in ("int", "float") or col.name not in mapping or col.unit is None:
            continue
        x = _numbers(raw[mapping[col.name]])
        ref = columns.get(f"{spec.name}.{col.name}")
        reason = reference_reason(f"{fname}: {col.name}", x, ref, col.unit, params)
        if reason is not None:
            out[col.name] = dict.fromkeys(np.flatnonzero(np.isfinite(x)).tolist(), reason)
    if spec.name == "strength_tests":
        found = _strength_findings(raw, mapping, fname, columns, params)
        if found:
            out["value"] = found
    return out


# ----------------------------------------------------------------------------- swapped columns
def _fits(med: float, col: ColumnSpec, ref: dict[str, Any] | None) -> bool | None:
    """Whether a median belongs in a column: inside its training 5-95 % range (with a reference),
    else inside the contract's typical median range; ``None`` when neither is known."""
    if ref is not None:
        return bool(ref["q05"] <= med <= ref["q95"])
    if col.typical is not None:
        return bool(col.typical[0] <= med <= col.typical[1])
    return None


def _ranges_reason(pair: SwapPair, a: np.ndarray, b: np.ndarray, columns: dict[str, Any]) -> str | None:
    """Both medians fit the other column's range and not their own."""
    spec = TABLES[pair.table]
    ca, cb = spec.column(pair.first), spec.column(pair.second)
    ra, rb = columns.get(f"{pair.table}.{ca.name}"), columns.get(f"{pair.table}.{cb.name}")
    if ra is None or rb is None:
        ra = rb = None  # compare like with like: both training ranges, or both typical ranges
    ma, mb = float(np.median(a)), float(np.median(b))
    fits = (_fits(ma, ca, ra), _fits(mb, cb, rb), _fits(ma, cb, rb), _fits(mb, ca, ra))
    if None in fits or fits != (False, False, True, True):
        return None
    basis = "training 5-95 % range" if ra is not None else "contract's typical median range"
    return (
        f"{ca.name} and {cb.name} look swapped: median {ca.name} {ma:.3g} fits the {basis} of "
        f"{cb.name} and median {cb.name} {mb:.3g} that of {ca.name} ({a.size} rows)"
    )


def _order_reason(pair: SwapPair, a: np.ndarray, b: np.ndarray) -> str | None:
    """On most rows with both values, ``second > first`` although it is part of it."""
    broken = b > a
    if broken.mean() <= SWAP_SHARE:
        return None
    return (
        f"{pair.first} and {pair.second} look swapped: {pair.second} > {pair.first} on "
        f"{int(broken.sum())} of {broken.size} rows ({broken.mean():.0%}; medians {pair.first} "
        f"{np.median(a):.3g}, {pair.second} {np.median(b):.3g}); {pair.why}"
    )


def swap_findings(
    spec: TableSpec,
    raw: pd.DataFrame,
    mapping: dict[str, str],
    fname: str,
    reference: dict[str, Any] | None = None,
) -> dict[str, dict[int, str]]:
    """Contract column -> {row index -> reason} for both columns of every :data:`SWAP_PAIRS` pair of
    this table that looks swapped; every non-empty cell of both columns is rejected."""
    columns = usable_columns(reference)
    out: dict[str, dict[int, str]] = {}
    for pair in (p for p in SWAP_PAIRS if p.table == spec.name):
        if pair.first not in mapping or pair.second not in mapping:
            continue
        a, b = _numbers(raw[mapping[pair.first]]), _numbers(raw[mapping[pair.second]])
        both = np.isfinite(a) & np.isfinite(b)
        if both.sum() < MIN_PAIR_ROWS:
            continue
        if pair.relation == "order":
            reason = _order_reason(pair, a[both], b[both])
        else:
            reason = _ranges_reason(pair, a[both], b[both], columns)
        if reason is None:
            continue
        text = f"{fname}: {reason} - swap the columns (or fix the mapping) and import again"
        for name, x in ((pair.first, a), (pair.second, b)):
            out.setdefault(name, {}).update(dict.fromkeys(np.flatnonzero(np.isfinite(x)).tolist(), text))
    return out
