"""Benchmarks: scripts run directly (``python benchmarks/bench_*.py``) and the code they share.

Not part of the ``sprintlab`` package. The real-data tests import ``benchmarks.realdata`` (the root
of the repository is put on ``sys.path`` by ``tests/conftest.py``).
"""
