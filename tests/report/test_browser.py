"""Open the rendered report in real headless Chromium (offline, file:// URL)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
        reason="needs Debian's /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
    ),
]

# WCAG relative luminance / contrast of the computed text colour against the first opaque
# background found walking up the tree (white when none is set).
CONTRAST_JS = r"""
function parse(c) {
  const m = c.match(/rgba?\(([^)]+)\)/);
  if (!m) return null;
  const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
  return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1};
}
function lum(c) {
  const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
  return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
}
function bg(el) {
  for (let e = el; e; e = e.parentElement) {
    const c = parse(getComputedStyle(e).backgroundColor);
    if (c && c.a >= 0.99) return c;
  }
  return {r: 255, g: 255, b: 255, a: 1};
}
const out = [];
for (const el of document.querySelectorAll(arguments[0])) {
  if (!el.innerText || !el.innerText.trim()) continue;
  const fg = parse(getComputedStyle(el).color), b = bg(el);
  const l1 = lum(fg), l2 = lum(b);
  out.push({tag: el.tagName, text: el.innerText.slice(0, 40),
            ratio: (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05)});
}
return out;
"""

# An inline SVG chart as Chromium lays it out: its box, its <title>, how many data marks (bars /
# points) and labels actually render with a non-empty box, and the worst text contrast on white.
SVG_DRAWN_JS = (
    CONTRAST_JS.split("const out = [];")[0]
    + r"""
const svg = arguments[0], box = svg.getBoundingClientRect();
const shown = el => {
  const r = el.getBoundingClientRect(), st = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && st.visibility === "visible" && st.display !== "none"
    && Number(st.opacity) > 0 && st.fill !== "none" && r.left >= box.left - 1 && r.right <= box.right + 1
    && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
};
let minContrast = 21;
for (const t of svg.querySelectorAll("text")) {
  const fg = parse(getComputedStyle(t).fill), l1 = lum(fg), l2 = 1.0;
  minContrast = Math.min(minContrast, (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05));
}
const title = svg.querySelector(":scope > title");
return {width: box.width, height: box.height, title: title ? title.textContent : null,
        marks: [...svg.querySelectorAll("rect.bar, circle.point")].filter(shown).length,
        texts: [...svg.querySelectorAll("text")].filter(shown).length, min_contrast: minContrast};
"""
)


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
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
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1100,1400",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


def test_report_renders_in_chromium(driver, demo_ctx, demo_report, tmp_path):
    from selenium.webdriver.common.by import By

    driver.get(demo_report.resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"

    shot = tmp_path / "report.png"
    assert driver.save_screenshot(str(shot))
    raw = shot.read_bytes()
    assert raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 20_000
    keep = os.environ.get("SPRINTLAB_SCREENSHOT_DIR")  # set it to keep the screenshot for eyeballing
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(keep) / "report_screenshot.png")

    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe

    # squad charts are PNG images; per-athlete charts are inline SVG (role="img" + aria-label + <title>)
    imgs = driver.find_elements(By.TAG_NAME, "img")
    assert len(imgs) >= 5
    for img in imgs:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", img)
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
        assert img.is_displayed()
        assert img.get_attribute("alt").strip()
    svgs = driver.find_elements(By.CSS_SELECTOR, "figure > svg[role='img'][aria-label]")
    assert len(svgs) >= len(demo_ctx.squad) * 2
    assert len(driver.find_elements(By.CSS_SELECTOR, "figure > svg")) == len(svgs)
    for svg in svgs:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", svg)
        assert svg.is_displayed()
        assert svg.get_attribute("aria-label").strip()
        drawn = driver.execute_script(SVG_DRAWN_JS, svg)
        assert drawn["width"] > 300 and drawn["height"] > 120, drawn
        assert drawn["title"] == svg.get_attribute("aria-label")
        assert drawn["marks"] >= 2 and drawn["texts"] >= 5, drawn  # bars or points, and labels
        assert drawn["min_contrast"] >= 4.5, drawn

    text = driver.execute_script("return document.body.innerText")
    for aid in demo_ctx.squad["athlete_id"]:
        assert aid in text
    assert "SIMULATED DATA" in text

    checked = driver.execute_script(
        CONTRAST_JS, "p, li, td, th, h1, h2, h3, h4, figcaption, caption, .badge, .banner"
    )
    assert len(checked) > 50
    low = [c for c in checked if c["ratio"] < 4.5]
    assert not low, low
    body = driver.execute_script(CONTRAST_JS, "body > main p")
    table = driver.execute_script(CONTRAST_JS, "table td, table th")
    assert body and table
    assert min(c["ratio"] for c in body) >= 4.5 and min(c["ratio"] for c in table) >= 4.5


def test_charts_fit_an_a4_page_when_printed(driver, demo_report):
    """Print media at the A4 content width (210 mm - 2 x 12 mm margins = 186 mm = 703 CSS px)."""
    from selenium.webdriver.common.by import By

    driver.get(demo_report.resolve().as_uri())
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 703, "height": 1000, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        assert driver.execute_script("return matchMedia('print').matches")
        charts = driver.find_elements(By.CSS_SELECTOR, "figure > svg, figure > img")
        assert charts
        boxes = driver.execute_script(
            "return arguments[0].map(e => { const r = e.getBoundingClientRect();"
            " return {w: r.width, h: r.height, right: r.right}; })",
            charts,
        )
        page = driver.execute_script("return document.documentElement.clientWidth")
        assert page <= 703
        for b in boxes:
            assert b["w"] > 200 and b["h"] > 80, b  # scaled down, not collapsed
            assert b["right"] <= page + 0.5, b  # and not cut off at the page edge
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_squad_table_filters_and_sorts_offline(driver, demo_ctx, demo_report):
    from selenium.webdriver.common.by import By

    driver.get(demo_report.resolve().as_uri())
    rows = "return [...document.querySelectorAll('#squad-table tbody tr')].filter(r => !r.hidden).map(r => r.dataset.id)"
    tools = driver.find_element(By.CSS_SELECTOR, ".table-tools")
    assert tools.is_displayed()  # shown only when the script runs
    sq = demo_ctx.squad
    assert sorted(driver.execute_script(rows)) == sorted(sq["athlete_id"])
    target = sq["athlete_id"].iloc[-1]
    driver.find_element(By.ID, "squad-filter").send_keys(target[-3:])
    assert driver.execute_script(rows) == [i for i in sq["athlete_id"] if target[-3:] in i]
    driver.find_element(By.ID, "squad-filter").clear()
    driver.execute_script("document.getElementById('squad-filter').dispatchEvent(new Event('input'))")
    driver.find_element(By.ID, "squad-flagged").click()
    assert sorted(driver.execute_script(rows)) == sorted(
        sq.loc[sq["hamstring_flag"] & ~sq["insufficient_data"], "athlete_id"]
    )
    driver.find_element(By.ID, "squad-flagged").click()
    risk = driver.find_element(By.CSS_SELECTOR, "th[data-sort='risk']")
    risk.click()  # it starts sorted highest first: a click sorts lowest first
    keys = driver.execute_script(
        "return [...document.querySelectorAll('#squad-table tbody tr')].map(r => Number(r.dataset.risk))"
    )
    assert keys == sorted(keys) and keys[0] == -1  # insufficient data (no risk) first, then lowest risk
    assert risk.get_attribute("aria-sort") == "ascending"
    driver.find_element(By.CSS_SELECTOR, "th[data-sort='id']").click()
    assert driver.execute_script(rows) == sorted(sq["athlete_id"], reverse=True)
    assert not [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
