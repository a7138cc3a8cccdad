"""Both real reports (the pipeline's and the weekly ``sprintlab score`` one) for a 40-athlete squad,
opened in headless Chromium and printed to A4 PDF: every athlete is there, no console errors, every
chart is drawn with a text alternative computed from its data, and each athlete takes exactly one
page of their own (page count = summary pages + athletes + appendix pages)."""

from __future__ import annotations

import base64
import os
import re
import shutil
from pathlib import Path

import pytest

from sprintlab.config import load_params

from .test_browser import CHROMEDRIVER, CHROMIUM

ROOT = Path(__file__).resolve().parents[2]
N_ATHLETES = 40

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
    ),
]


@pytest.fixture(scope="module")
def reports(trained_squad, tmp_path_factory):
    """The quick training chain on a simulated 40-athlete squad - the session's ``trained_squad``
    (tests/conftest.py: the same parameters, checked here) - then both reports, written to this
    module's own folder (no evaluate stage: no metrics folder, as after the training chain alone)."""
    from tests.conftest import use_store

    from sprintlab.pipeline.chain import quick_params
    from sprintlab.pipeline.report import run_report
    from sprintlab.scoring import score

    trained = trained_squad["tmp"]
    tmp = tmp_path_factory.mktemp("squad_reports")
    params = quick_params(load_params(ROOT / "params.yaml"), athletes=N_ATHLETES, weeks=66, seed=6)
    assert trained_squad["chain_params"] == params, "the shared trained squad is not this module's squad"
    with pytest.MonkeyPatch.context() as mp:
        use_store(mp, trained)
        pipeline = run_report(
            params, trained / "feat", trained / "models", tmp / "metrics", tmp / "report.html", simulated=True
        )
        scored = score(trained / "sim" / "raw", tmp / "score", params, simulated=True)
    return {"pipeline": pipeline, "score": scored.paths["report"], "n_scored": len(scored.scores)}


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--no-first-run",
        "--window-size=1100,1400",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-squad')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()


def _objects(pdf: bytes) -> dict[int, bytes]:
    """The PDF's uncompressed objects by number (Chromium writes page objects and the named
    destinations uncompressed)."""
    return {int(m.group(1)): m.group(2) for m in re.finditer(rb"(\d+) 0 obj\s*(.*?)endobj", pdf, flags=re.S)}


def page_layout(pdf: bytes) -> tuple[int, dict[str, int]]:
    """The number of pages of a PDF printed by Chromium and, per named destination (an element
    that a link points to, e.g. ``athlete-sim0004``), the 0-based page it starts on; every
    destination must sit at the top of its page."""
    objs = _objects(pdf)
    catalog = next(o for o in objs.values() if re.search(rb"/Type\s*/Catalog", o))
    order: list[int] = []

    def walk(num: int) -> None:
        node = objs[num]
        if re.search(rb"/Type\s*/Pages\b", node):
            kids = re.search(rb"/Kids\s*\[(.*?)\]", node, flags=re.S)
            for kid in re.findall(rb"(\d+) 0 R", kids.group(1) if kids else b""):
                walk(int(kid))
        else:
            order.append(num)

    walk(int(re.search(rb"/Pages\s+(\d+) 0 R", catalog).group(1)))
    index = {num: i for i, num in enumerate(order)}
    dests_ref = re.search(rb"/Dests\s+(\d+) 0 R", catalog)
    dests = {}
    for name, page, top in re.findall(
        rb"/([\w-]+)\s*\[(\d+) 0 R /XYZ [\d.]+ ([\d.]+)", objs[int(dests_ref.group(1))] if dests_ref else b""
    ):
        dests[name.decode()] = index[int(page)]
        assert float(top) > 800, (name, top)  # at the top of an A4 page (841.92 pt high)
    return len(order), dests


def _keep_screenshot(driver, name: str, tmp_path: Path) -> None:
    shot = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    keep = os.environ.get("SPRINTLAB_SCREENSHOT_DIR")  # set it to keep the screenshots for eyeballing
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / shot.name)


def _athletes_and_charts(driver) -> dict:
    """Every athlete section with its id, and every chart with whether it is drawn and its text."""
    return driver.execute_script(
        """
        const sections = [...document.querySelectorAll('section.athlete')].map(s => ({
          id: s.querySelector('h3').textContent.trim(),
          labels: [...s.querySelectorAll('svg[role=img]')].map(v => v.getAttribute('aria-label')),
        }));
        const charts = [...document.querySelectorAll('figure > img, figure > svg')].map(c => {
          c.scrollIntoView({block: 'center'});
          const r = c.getBoundingClientRect();
          return {tag: c.tagName.toLowerCase(), w: r.width, h: r.height,
                  loaded: c.tagName !== 'IMG' || (c.complete && c.naturalWidth > 0),
                  text: c.getAttribute('alt') || c.getAttribute('aria-label') || ''};
        });
        return {sections, charts};
        """
    )


@pytest.mark.parametrize("which", ["pipeline", "score"])
def test_every_athlete_one_a4_page_and_every_chart_drawn(reports, chromium, which, tmp_path):
    path = Path(reports[which])
    chromium.get(path.resolve().as_uri())
    assert chromium.execute_script("return document.readyState") == "complete"
    _keep_screenshot(chromium, f"{which}_report", tmp_path)
    assert not [e for e in chromium.get_log("browser") if e.get("level") == "SEVERE"]

    seen = _athletes_and_charts(chromium)
    ids = [s["id"] for s in seen["sections"]]
    assert len(ids) == len(set(ids)) == reports["n_scored"] == N_ATHLETES
    text = chromium.execute_script("return document.body.innerText")
    assert "not shown" not in text  # nobody left out under the default cap
    chromium.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    breaks = chromium.execute_script(
        "return [...document.querySelectorAll('section.athlete')].map(s => getComputedStyle(s).breakBefore)"
    )
    chromium.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert breaks == ["page"] * N_ATHLETES  # each athlete starts a page when printed
    for s in seen["sections"]:
        for label in s["labels"]:  # the athlete's own charts, described from their numbers
            assert s["id"] in label and re.search(r"\d+%|<1%", label), label
    assert seen["charts"]
    for c in seen["charts"]:
        assert c["loaded"] and c["w"] > 200 and c["h"] > 80, c
        assert len(c["text"]) > 40 and re.search(r"\d", c["text"]), c
    assert "Strength gains help the sprint mainly when control is good" not in text

    out = chromium.execute_cdp_cmd("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})
    total, starts = page_layout(base64.b64decode(out["data"]))
    first = [starts[f"athlete-{i.lower()}"] for i in ids]
    summary, appendix = first[0], total - first[0] - N_ATHLETES
    print(
        f"{which} report: {total} A4 pages = {summary} summary + {N_ATHLETES} athletes + {appendix} appendix"
    )
    # each athlete starts on a page of their own and the next one starts on the next page
    assert first == list(range(summary, summary + N_ATHLETES))
    assert starts["methods"] == summary + N_ATHLETES  # the appendix follows the last athlete's page
    # summary: page one (with the flagged table: the weekly top 10 % always flags ceil(0.1 * 40) = 4
    # athletes here), the squad table of 40 rows and the squad charts (8 pages since the shipped linear
    # transfer model ranks the squad: its flagged rows, drivers and levers fill more of the summary)
    assert total == summary + N_ATHLETES + appendix and 1 <= summary <= 8 and 1 <= appendix <= 3
