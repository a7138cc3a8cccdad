"""Where each imported contract row came from, carried from ``sprintlab import`` to the validator.

``sprintlab import`` writes, beside the contract columns of every table, one provenance column
(:data:`PROVENANCE_COLUMN`) holding per row a small JSON object::

    {"sources": [{"file": "GPS_2024-W27.csv", "rows": [17, 18]}],
     "problems": [{"column": "duration_min", "value": "1:77:41", "reason": "not a duration ..."}]}

``sources`` are the spreadsheet rows (header = row 1) of every source row merged into this row (one
for a plain row, several for an aggregated row or an outer join of several files); ``problems`` are
the cells the import could not convert (the cell is left empty in the contract column). The
validator (:mod:`sprintlab.contract.validate`) reads it to name the source file and row in every
problem and to count rows per source file; the column never reaches the validated tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, TypedDict

PROVENANCE_COLUMN = "_provenance"


class ImportProblem(TypedDict):
    """A cell the import could not convert: contract column, source value (None when it must not be
    shown, e.g. a name), reason."""

    column: str
    value: str | None
    reason: str


@dataclass(frozen=True)
class Provenance:
    """Source files and rows of one contract row, and the import's cell problems."""

    sources: tuple[tuple[str, tuple[int, ...]], ...]
    problems: tuple[ImportProblem, ...] = ()

    @property
    def file(self) -> str:
        """The first source file (where problems are reported)."""
        return self.sources[0][0] if self.sources else ""

    @property
    def row(self) -> int | None:
        """The first source row of the first source file."""
        return self.sources[0][1][0] if self.sources and self.sources[0][1] else None

    @property
    def files(self) -> list[str]:
        """Distinct source files, in order."""
        return list(dict.fromkeys(f for f, _ in self.sources))

    def n_rows(self, file: str) -> int:
        """Number of source rows of ``file`` merged into this row."""
        return sum(len(rows) for f, rows in self.sources if f == file)

    def to_json(self) -> str:
        """Compact, deterministic JSON (the cell text)."""
        data: dict[str, Any] = {"sources": [{"file": f, "rows": list(r)} for f, r in self.sources]}
        if self.problems:
            data["problems"] = [dict(p) for p in self.problems]
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Provenance:
        """Parse a provenance cell; ``ValueError`` when it is not one."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("sources"), list):
            raise ValueError("not a provenance object")
        sources = tuple(
            (str(s["file"]), tuple(int(r) for r in s["rows"])) for s in data["sources"] if isinstance(s, dict)
        )
        problems = tuple(
            ImportProblem(
                column=str(p["column"]),
                value=None if p.get("value") is None else str(p["value"]),
                reason=str(p["reason"]),
            )
            for p in data.get("problems") or []
        )
        return cls(sources, problems)


def merge(items: list[Provenance]) -> Provenance:
    """One provenance for rows merged together: rows grouped per file (files in first-seen order,
    rows sorted), problems concatenated. A source row that reached the merged row twice (one file
    row melted into several records, or one file read by two joined sources) is listed twice: the
    row accounting counts records."""
    rows: dict[str, list[int]] = {}
    for p in items:
        for f, r in p.sources:
            rows.setdefault(f, []).extend(r)
    problems = tuple(q for p in items for q in p.problems)
    return Provenance(tuple((f, tuple(sorted(r))) for f, r in rows.items()), problems)


def rows_text(rows: tuple[int, ...] | list[int]) -> str:
    """Rows as short text: ``17``, ``17-20``, ``3, 7-9``."""
    parts: list[str] = []
    ordered = sorted(set(rows))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ", ".join(parts)
