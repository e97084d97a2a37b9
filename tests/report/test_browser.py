"""The report of a real run (``python -m evogan.run`` on local Ray), opened in headless Chromium:
no console errors, every image loaded, the slider works, the genealogy names the best generator.

Needs Debian's ``chromium`` and ``chromium-driver`` (scripts/setup.sh installs them) and
Selenium. ``EVOGAN_SCREENSHOT=1`` also saves ``docs/report_screenshot.png``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from evogan import run

SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "report_screenshot.png"
CHROMIUM_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1600")


@pytest.fixture
def chromium():
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    binary, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.skip("needs Debian's chromium and chromium-driver (bash scripts/setup.sh)")
    options = webdriver.ChromeOptions()
    for arg in CHROMIUM_ARGS:
        options.add_argument(arg)
    options.binary_location = binary
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)  # explicit paths: nothing downloaded
    yield driver
    driver.quit()


@pytest.mark.slow
def test_report_of_a_real_run_in_headless_chromium(ray_local, tiny_overrides, tmp_path, chromium):
    overrides = tiny_overrides + ["evolution.generations=3", "output.report_every=2", "evolution.crossover=blend",
                                  "evolution.crossover_prob=1.0"]
    assert run.main(overrides) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    best_uid = rows[-1]["population"]["best_g_uid"]
    page = run_dir / "report" / "index.html"
    assert 'http-equiv="refresh"' not in page.read_text()  # the final page, not the live one of generation 2

    chromium.get(page.as_uri())
    images = chromium.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    assert len(images) >= 8 and [alt for alt, loaded in images if not loaded] == []
    assert chromium.execute_script("return document.querySelectorAll('figure.frame:not([hidden])').length") == 1
    label = chromium.execute_script(
        "var s = document.querySelector('input.slider'); s.value = 0; s.dispatchEvent(new Event('input'));"
        "return document.querySelector('figure.frame:not([hidden])').dataset.label")
    assert label == "generation 0"
    genealogy = chromium.execute_script("return document.querySelector('ul.tree').innerText")
    assert f"uid {best_uid}" in genealogy.splitlines()[0]
    assert "founder, generation 0" in genealogy
    errors = [entry for entry in chromium.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert errors == []
    if os.environ.get("EVOGAN_SCREENSHOT") == "1":
        chromium.execute_script("document.querySelector('input.slider').value = 2;"
                                "document.querySelector('input.slider').dispatchEvent(new Event('input'))")
        chromium.save_screenshot(str(SCREENSHOT))
