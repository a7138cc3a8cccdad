"""Golden outputs: the whole chain on a small fixed squad, compared with committed expected files.

Covers every stage a refactor can silently change: the simulated contract tables and truth, the
validated tables, the feature panel, both unit tables, each model's evaluation, the explanation
metrics, the weekly scores of ``sprintlab score`` and the visible text of both reports. Tables are
compared with ``assert_frame_equal`` (floats to a relative 1e-9: LightGBM and BLAS may move the
last digits between machines; everything else exact); JSON numbers to the same tolerance; report
text exactly, after the run-specific parts (registry run ids, today's date) are normalised.

Regenerate only in a commit whose message explains every difference:

    SPRINTLAB_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py -q
"""

from __future__ import annotations

import json
import math
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from sprintlab.config import load_params

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SPRINTLAB_UPDATE_GOLDEN") == "1"
RTOL = 1e-9
TODAY = "2026-11-24"

pytestmark = pytest.mark.slow


class _Text(HTMLParser):
    """Visible text of an HTML page (script and style bodies left out), one line per text node."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        text = " ".join(data.split())
        if text and not self._skip:
            self.lines.append(text)


def report_text(path: Path) -> str:
    parser = _Text()
    parser.feed(path.read_text(encoding="utf-8"))
    text = "\n".join(parser.lines) + "\n"
    text = re.sub(r"\b[0-9a-f]{32}\b", "<run-id>", text)
    return text.replace(str(pd.Timestamp.today().date()), "<today>")


@pytest.fixture(scope="module")
def golden_run(trained_squad):
    """The quick squad's chain - simulate, validate, features, targets, both models trained and
    registered - is the session's ``trained_squad`` (tests/conftest.py, shared with the scoring
    tests; the same parameters, checked here); then evaluate, explain, the pipeline report and a
    scored week, written beside it with its MLflow store."""
    from tests.conftest import use_store

    from sprintlab.pipeline.chain import quick_params
    from sprintlab.pipeline.evaluate import run_evaluate
    from sprintlab.pipeline.explain import run_explain
    from sprintlab.pipeline.report import run_report
    from sprintlab.scoring import score

    tmp = trained_squad["tmp"]
    params = quick_params(load_params(ROOT / "params.yaml"), athletes=40, weeks=66, seed=6)
    assert trained_squad["chain_params"] == params, "the shared trained squad is not the golden chain"
    with pytest.MonkeyPatch.context() as mp:
        use_store(mp, tmp)
        run_evaluate(tmp / "models", tmp / "metrics", tmp / "plots")
        run_explain(params, tmp / "tg", tmp / "models", tmp / "expl", tmp / "metrics")
        run_report(params, tmp / "feat", tmp / "models", tmp / "metrics", tmp / "report.html", simulated=True)
        scored = score(tmp / "sim" / "raw", tmp / "score", params, simulated=True)
    return {"tmp": tmp, "scored": scored}


def _tables(golden_run) -> dict[str, pd.DataFrame]:
    tmp = golden_run["tmp"]
    out: dict[str, pd.DataFrame] = {}
    for f in sorted((tmp / "sim" / "raw").glob("*.csv")):
        out[f"raw/{f.stem}"] = pd.read_csv(f, dtype=str, keep_default_na=False)
    for sub, prefix in (
        ("sim/truth", "truth"),
        ("val", "validated"),
        ("feat", "features"),
        ("tg", "targets"),
    ):
        for f in sorted((tmp / sub).glob("*.parquet")):
            out[f"{prefix}/{f.stem}"] = pd.read_parquet(f)
    for t in ("transfer", "hamstring"):
        out[f"models/{t}_test_predictions"] = pd.read_parquet(tmp / "models" / t / "test_predictions.parquet")
        out[f"explanations/{t}_families"] = pd.read_parquet(tmp / "expl" / f"{t}_families.parquet")
    out["score/scores"] = pd.read_parquet(tmp / "score" / "scores.parquet")
    return out


def _json_docs(golden_run) -> dict[str, object]:
    tmp = golden_run["tmp"]
    docs = {f"metrics/{f.stem}": json.loads(f.read_text()) for f in sorted((tmp / "metrics").glob("*.json"))}
    docs["targets/summary"] = json.loads((tmp / "tg" / "summary.json").read_text())
    docs["features/feature_log"] = json.loads((tmp / "feat" / "feature_log.json").read_text())
    summary = json.loads((tmp / "score" / "score_summary.json").read_text())
    docs["score/score_summary"] = json.loads(json.dumps(summary).replace(str(tmp), "<tmp>"))
    return docs


def _texts(golden_run) -> dict[str, str]:
    tmp = golden_run["tmp"]
    week = golden_run["scored"].week
    return {
        "pipeline_report": report_text(tmp / "report.html"),
        "score_report": report_text(tmp / "score" / f"report_{week}.html"),
    }


def _close(a, b, where: str) -> None:
    if isinstance(a, dict) and isinstance(b, dict):
        assert sorted(a) == sorted(b), f"{where}: keys differ: {sorted(set(a) ^ set(b))}"
        for k in a:
            _close(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, list) and isinstance(b, list):
        assert len(a) == len(b), f"{where}: length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    elif isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, int | float) and isinstance(b, int | float), f"{where}: {a!r} != {b!r}"
        assert math.isclose(a, b, rel_tol=RTOL, abs_tol=1e-12), f"{where}: {a!r} != {b!r}"
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def test_golden_tables(golden_run):
    tables = _tables(golden_run)
    if UPDATE:
        for name, df in tables.items():
            (EXPECTED / "tables" / name).parent.mkdir(parents=True, exist_ok=True)
            df.to_parquet(EXPECTED / "tables" / f"{name}.parquet", index=False, compression="zstd")
    expected = {
        str(p.relative_to(EXPECTED / "tables").with_suffix("")): p
        for p in (EXPECTED / "tables").rglob("*.parquet")
    }
    assert sorted(tables) == sorted(expected), "the chain writes a different set of tables"
    for name, df in tables.items():
        want = pd.read_parquet(expected[name])
        pd.testing.assert_frame_equal(
            df.reset_index(drop=True), want, check_exact=False, rtol=RTOL, atol=1e-12, obj=name
        )


def test_golden_metrics(golden_run):
    docs = _json_docs(golden_run)
    path = EXPECTED / "metrics.json"
    if UPDATE:
        path.write_text(json.dumps(docs, indent=1, sort_keys=True) + "\n")
    _close(docs, json.loads(path.read_text()), "metrics")


def test_golden_report_text(golden_run):
    for name, text in _texts(golden_run).items():
        path = EXPECTED / f"{name}.txt"
        if UPDATE:
            path.write_text(text)
        want = path.read_text()
        if text != want:
            diff = [
                f"line {i + 1}: {a!r} != {b!r}"
                for i, (a, b) in enumerate(zip(text.splitlines(), want.splitlines(), strict=False))
                if a != b
            ]
            pytest.fail(
                f"{name} text differs ({len(text.splitlines())} vs {len(want.splitlines())} lines): "
                + "; ".join(diff[:5])
            )
