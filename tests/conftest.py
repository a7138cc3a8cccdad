"""Shared fixtures: a small simulated squad (session-scoped, deterministic) and the shared data path."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sprintlab.simulate.generator import simulate_squad

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
# the real-data tests import the benchmarks' protocols (benchmarks/realdata.py, not in the package)
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))


def shared_dataset(name: str) -> Path:
    """Path of a ../shared data set, or skip the test with the reason."""
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"../shared/datasets/{name} is not available on this machine (real-data test)")
    return path


@pytest.fixture(scope="session")
def small_squad():
    """24 athletes x 40 weeks: enough blocks and injuries for every stage, fast to build."""
    return simulate_squad(n_athletes=24, n_weeks=40, seed=11)


@pytest.fixture(scope="session")
def small_panel(small_squad):
    from sprintlab.features.panel import build_panel

    return build_panel(small_squad.tables)
