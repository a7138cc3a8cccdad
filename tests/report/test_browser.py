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

    imgs = driver.find_elements(By.TAG_NAME, "img")
    assert len(imgs) >= 5 + len(demo_ctx.squad) * 2
    for img in imgs:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", img)
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
        assert img.is_displayed()
        assert img.get_attribute("alt").strip()

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
