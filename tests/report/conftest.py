"""Shared rendered reports (rendering takes a few seconds, so render once per session)."""

from __future__ import annotations

import pytest

from sprintlab.report.render import render_report

from .demo import build_demo_context


@pytest.fixture(scope="session")
def demo_ctx():
    return build_demo_context()


@pytest.fixture(scope="session")
def demo_report(demo_ctx, tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.html"
    render_report(demo_ctx, path)
    return path
