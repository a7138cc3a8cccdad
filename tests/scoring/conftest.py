"""Helpers of the scoring tests; their trained squad is the session fixture ``trained`` of
``tests/conftest.py`` (shared with the engine and golden tests)."""

from __future__ import annotations

import shutil
from pathlib import Path


def copy_raw(src: Path, dst: Path, drop: tuple[str, ...] = (), *, simulated: bool = True) -> Path:
    """A copy of a contract folder without the tables in ``drop``; labelled as the simulator labels
    its output (a README beside it beginning with SIMULATED) unless ``simulated`` is false."""
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.stem not in drop:
            shutil.copy(f, dst / f.name)
    if simulated:
        (dst.parent / "README.md").write_text("SIMULATED test data\n")
    return dst
