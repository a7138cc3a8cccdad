"""#24: a hamstring main factor no better than a constant is left out of the report."""

from __future__ import annotations

import dataclasses
import json

from sprintlab.pipeline.report import main_factor_hidden
from sprintlab.report.render import render_html

from .demo import build_demo_context


def test_main_factor_hidden_reads_the_explain_stages_verdict(tmp_path):
    path = tmp_path / "explanations.json"
    assert main_factor_hidden(path) == ()  # no explain stage: nothing measured, nothing hidden
    path.write_text(json.dumps({"hamstring": {"main_factor_beats_baseline": False}}))
    assert main_factor_hidden(path) == ("hamstring",)
    path.write_text(json.dumps({"hamstring": {"main_factor_beats_baseline": True}}))
    assert main_factor_hidden(path) == ()


def test_report_leaves_out_the_hamstring_main_factor_column():
    ctx = build_demo_context(n_athletes=3, seed=3)
    assert "Main factor: hamstring" in render_html(ctx)
    html = render_html(dataclasses.replace(ctx, main_factor_hidden=("hamstring",)))
    assert "Main factor: hamstring" not in html and "Main factor: transfer" in html
