"""`dvc plots show` is readable offline: the page holds only the pipeline's static SVG charts (no
vega from a CDN), and headless Chromium with the network switched off draws their curves."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from .test_browser import CHROMEDRIVER, CHROMIUM, driver  # noqa: F401 - the Chromium fixture

ROOT = Path(__file__).resolve().parents[2]
MODEL_COLOUR = (0x1F, 0x4E, 0x79)  # sprintlab.pipeline.curves.STYLES["model"]


def test_curve_svg_draws_one_line_per_series_and_says_when_there_is_none():
    from sprintlab.pipeline.curves import curve_svg

    table = pd.DataFrame(
        {
            "model": ["model", "model", "oracle", "oracle", "prevalence", "prevalence"],
            "fpr": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
            "tpr": [0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
        }
    )
    svg = curve_svg(table, "roc", "transfer")
    assert svg.count("<polyline") == 3 and 'points="52.0,284.0 302.0,34.0"' in svg
    assert "<script" not in svg and "http" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert curve_svg(table, "roc", "transfer") == svg  # same table, same bytes
    empty = curve_svg(table.iloc[:0], "pr", "hamstring")
    assert "<polyline" not in empty and "no curve" in empty


@pytest.mark.browser
@pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="needs Debian's /usr/bin/chromium and /usr/bin/chromedriver (apt-get install chromium chromium-driver)",
)
def test_dvc_plots_page_draws_the_curves_offline(driver, tmp_path):  # noqa: F811 - the fixture above
    from PIL import Image
    from selenium.webdriver.common.by import By

    out = tmp_path / "plots"
    subprocess.run(
        [sys.executable, "-m", "dvc", "plots", "show", "-o", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "<script" not in page and "https://" not in page and "http://" not in page

    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    driver.get((out / "index.html").resolve().as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    imgs = driver.find_elements(By.TAG_NAME, "img")
    assert len(imgs) == 6  # ROC, precision-recall and calibration of both models
    for img in imgs:
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", img)
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 0
        shot = np.asarray(Image.open(io.BytesIO(img.screenshot_as_png)).convert("RGB"), dtype=int)
        near = int((np.abs(shot - np.array(MODEL_COLOUR)).max(axis=2) <= 40).sum())
        assert near > 30, (img.get_attribute("src"), near)  # the model's curve is drawn
    keep = os.environ.get("SPRINTLAB_SCREENSHOT_DIR")  # set it to keep the page for eyeballing
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(keep) / "dvc_plots_screenshot.png"))
    severe = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
    assert not severe, severe
