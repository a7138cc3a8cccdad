"""Summaries of a validation for people: accepted share per table, problems grouped by cause.

:func:`table_shares` orders the tables worst first (a table with nothing accepted leads);
:func:`problem_groups` groups problems by (table, column, kind of reason) - the kind is the reason
without its particular values, so 1,200 ``not a number: '01:17:41'`` cells are one group with a
count and a few examples instead of 1,200 lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

_VALUES = re.compile(r"'[^']*'|\"[^\"]*\"|(?<![\w.])[+-]?\d+(?:[.,]\d+)*(?![\w.])")


@dataclass(frozen=True)
class TableShare:
    """Accepted rows of one table."""

    table: str
    accepted: int
    input: int
    cells_emptied: int

    @property
    def share(self) -> float:
        """Accepted share of the rows (1.0 for a table without rows)."""
        return self.accepted / self.input if self.input else 1.0


@dataclass(frozen=True)
class ProblemGroup:
    """Problems of one (table, column, kind): how many, at which level, and the first examples."""

    table: str
    column: str
    kind: str
    level: str
    count: int
    examples: tuple[str, ...]
    first_reason: str


def reason_kind(reason: str) -> str:
    """The reason without its particular values: the text before the first ``': '`` with quoted
    values and numbers replaced by ``...``."""
    head = reason.split(": ", 1)[0]
    return _VALUES.sub("...", head).strip()


def table_shares(counts: dict[str, Any]) -> list[TableShare]:
    """Accepted share per table, lowest first (ties in contract order)."""
    shares = [
        TableShare(t, int(c["accepted"]), int(c["input"]), int(c.get("cells_emptied", 0)))
        for t, c in counts.items()
    ]
    return sorted(shares, key=lambda s: s.share)


def _example(rec: dict[str, Any]) -> str:
    where = str(rec["file"]) if not pd.notna(rec["row"]) else f"{rec['file']} row {int(rec['row'])}"
    value = rec.get("value")
    return f"{where}: {value!r}" if isinstance(value, str) else where


def problem_groups(problems: pd.DataFrame, n_examples: int = 3) -> list[ProblemGroup]:
    """Problems grouped by (table, column, kind of reason), largest group first; each with up to
    ``n_examples`` examples (``file row N: 'value'``)."""
    if problems.empty:
        return []
    df = problems.assign(
        _kind=problems["reason"].astype(str).map(reason_kind),
        _col=problems["column"].fillna("").astype(str),
        _level=problems["level"].fillna("table").astype(str) if "level" in problems else "row",
    )
    groups = []
    for (table, col, kind), g in df.groupby(["table", "_col", "_kind"], sort=False):
        recs = g.head(n_examples).to_dict("records")
        groups.append(
            ProblemGroup(
                table=str(table),
                column=str(col),
                kind=str(kind),
                level=str(g["_level"].iloc[0]),
                count=len(g),
                examples=tuple(_example(r) for r in recs),
                first_reason=str(recs[0]["reason"]),
            )
        )
    return sorted(groups, key=lambda grp: -grp.count)
