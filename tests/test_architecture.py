"""The layout stays readable: short functions, and docs/architecture.md names every part of it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "sprintlab"
MAX_FUNCTION_LINES = 80


def test_no_function_in_src_is_longer_than_80_lines():
    """Counted from the ``def`` line to the last line of the body, docstring included."""
    long = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, "functions over 80 lines:\n" + "\n".join(long)


def _named_paths() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    return set(re.findall(r"`((?:src|pipelines|benchmarks)/[\w./]*)`", text))


def test_architecture_doc_names_every_part_of_the_package():
    named = _named_paths()
    parts = [
        p.relative_to(ROOT).as_posix() + ("/" if p.is_dir() else "")
        for p in sorted(SRC.iterdir())
        if p.name not in ("__init__.py", "__pycache__")
    ]
    missing = [p for p in parts if p not in named]
    assert not missing, f"docs/architecture.md does not name: {missing}"


def test_every_path_the_architecture_doc_names_exists():
    gone = sorted(p for p in _named_paths() if not (ROOT / p).exists())
    assert not gone, f"docs/architecture.md names missing paths: {gone}"
