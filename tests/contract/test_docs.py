"""docs/data-contract.md covers the contract: every table, every column, every repair."""

from __future__ import annotations

from pathlib import Path

from sprintlab.contract.tables import TABLES
from sprintlab.contract.validate import REPAIRS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_contract_doc_mentions_every_table_column_and_repair():
    text = (DOCS / "data-contract.md").read_text(encoding="utf-8")
    for t in TABLES.values():
        section = text.split(f"### `{t.name}`", 1)[1].split("\n### ", 1)[0]
        for c in t.columns:
            assert f"| `{c.name}` |" in section, (t.name, c.name)
    for r in REPAIRS:
        assert f"`{r}`" in text, r
    assert "header is row 1, the first data row is row 2" in text
    assert "rejected_rows.csv" in text


def test_importing_doc_names_every_mapping_step():
    text = (DOCS / "importing.md").read_text(encoding="utf-8")
    for step in (
        "wide",
        "explode_json",
        "filter",
        "columns",
        "constants",
        "number_within",
        "episodes",
        "unit",
        "rescale",
        "date_format",
        "day_index",
        "age_to_birth_date",
        "values",
        "regex",
        "unpivot",
        "drop_empty",
        "aggregate",
        "combine",
        "duration",
        "empty_if",
        "subtract",
        "lookup",
        "days_between",
        "decimal",
        "thousands",
        "skip_lines",
        "file_name_as",
    ):
        assert f"`{step}" in text, step


def test_importing_doc_lists_every_shipped_template():
    from sprintlab.contract.mapping import MAPPINGS_DIR

    text = (DOCS / "importing.md").read_text(encoding="utf-8")
    for p in MAPPINGS_DIR.glob("*.yaml"):
        assert f"`{p.stem}" in text, p.name
