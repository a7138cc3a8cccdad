"""pandera schemas generated from :data:`sprintlab.contract.tables.TABLES`.

:func:`schema_for` describes a *validated* table as written by
:func:`sprintlab.contract.validate.validate_folder`: typed columns, inclusive bounds, allowed
values, nullability and a unique primary key. It checks outputs; raw exports are checked row by
row by the validator, which can say which row and column is wrong. pandera is imported only when a
schema is built (its import costs ~0.5-1 s; :func:`dtype_for` does not need it).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sprintlab.contract.tables import TABLES, ColumnSpec

if TYPE_CHECKING:
    import pandera.pandas as pa

# pandas dtype of each contract column kind in validated outputs
DTYPES = {"str": "object", "category": "object", "int": "int64", "float": "float64", "date": "datetime64[ns]"}


def dtype_for(col: ColumnSpec) -> str:
    """The pandas dtype of a validated contract column."""
    if col.kind == "int" and col.nullable:
        return "Int64"
    return DTYPES[col.kind]


def _checks(col: ColumnSpec) -> list[pa.Check]:
    import pandera.pandas as pa

    checks: list[pa.Check] = []
    if col.min_value is not None:
        checks.append(pa.Check.ge(col.min_value))
    if col.max_value is not None:
        checks.append(pa.Check.le(col.max_value))
    if col.allowed is not None:
        checks.append(pa.Check.isin(list(col.allowed)))
    if col.kind in ("str", "category"):
        checks.append(
            pa.Check(
                lambda s: s.map(lambda v: isinstance(v, str)),
                element_wise=False,
                name="is_str",
                error="values must be strings",
            )
        )
    return checks


@cache
def schema_for(table_name: str) -> pa.DataFrameSchema:
    """The pandera schema of a validated contract table (``KeyError`` for an unknown table)."""
    import pandera.pandas as pa

    spec = TABLES[table_name]
    columns = {
        c.name: pa.Column(
            dtype_for(c),
            checks=_checks(c),
            nullable=c.nullable,
            required=c.required,
            description=c.description,
            title=c.name,
        )
        for c in spec.columns
    }
    return pa.DataFrameSchema(
        columns,
        unique=list(spec.key),
        strict=True,
        ordered=False,
        name=table_name,
        description=spec.description,
    )
