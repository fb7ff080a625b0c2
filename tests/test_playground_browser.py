"""The playground page in a real headless Chromium (Debian's ``chromium`` + ``chromedriver``,
driven by selenium): train XOR, check the boundary and the gradient panel against the Python
side, upload a CSV, export the script and rerun it to the same weights.

Skips when the browser, its driver or selenium is missing. Screenshots go to the folder in
``$PLAYGROUND_SCREENSHOTS`` (else the test's tmp folder); docs/images/playground/ holds copies.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip("needs Debian's chromium and chromium-driver", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import (  # noqa: E402
    NoSuchElementException,
    StaleElementReferenceException,
)
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from chainrule.playground.server import PlaygroundServer  # noqa: E402

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1200",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = PlaygroundServer(export_dir=tmp_path_factory.mktemp("exports")).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def driver():
    profile = tempfile.mkdtemp(prefix="chainrule-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM  # the system browser: selenium-manager downloads nothing
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    except Exception as err:  # noqa: BLE001 - a broken browser install is a skip, not a failure
        shutil.rmtree(profile, ignore_errors=True)
        pytest.skip(f"headless Chromium did not start: {err}")
    yield browser
    browser.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = Path(os.environ.get("PLAYGROUND_SCREENSHOTS") or tmp_path_factory.mktemp("shots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def by_id(driver, testid):
    return driver.find_element(By.CSS_SELECTOR, f'[data-testid="{testid}"]')


def wait(driver, condition, timeout=30.0, message=""):
    # The page redraws parts of itself on every frame: an element may go stale mid-check.
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, 0.05, ignored_exceptions=ignored).until(
        lambda d: condition(d), message
    )


def value(driver, testid):
    raw = by_id(driver, testid).get_attribute("data-value")
    return None if raw in (None, "", "null") else float(raw)


def canvas_data(driver, testid):
    return driver.execute_script(
        f"return document.querySelector('[data-testid=\"{testid}\"]').toDataURL()"
    )


def severe_console_errors(driver):
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def pause(driver, server):
    by_id(driver, "pause").click()
    wait(driver, lambda d: not server.session.playing, 5)
    time.sleep(0.2)  # the last frame reaches the page


def test_train_xor_and_explain_a_hidden_neuron(driver, server, shots):
    driver.get(server.url)
    wait(driver, lambda d: value(d, "test-loss") is not None, 10, "no first frame")
    by_id(driver, "dataset-xor").click()
    wait(driver, lambda d: "chosen" in by_id(d, "dataset-xor").get_attribute("class"), 5)
    Select(by_id(driver, "learning-rate")).select_by_visible_text("0.1")
    Select(by_id(driver, "speed")).select_by_value("25")
    wait(driver, lambda d: server.session.config.speed == 25, 5)
    before = canvas_data(driver, "boundary")

    by_id(driver, "play").click()
    wait(driver, lambda d: (value(d, "test-loss") or 1.0) < 0.1, 30, "test loss stayed ≥ 0.1")
    pause(driver, server)
    assert canvas_data(driver, "boundary") != before
    driver.save_screenshot(str(shots / "trained-xor.png"))

    by_id(driver, "neuron-1-2").click()
    step = server.session.step_count
    heading = f"hidden neuron 3 of layer 1: step {step},"
    wait(driver, lambda d: heading in by_id(d, "panel-heading").text, 5, "panel not shown")
    shown = {k: value(driver, f"panel-{k}") for k in ("delta_rule", "autograd", "numeric")}
    expected = python_side_bias_gradient(server.session, layer=1, unit=2)
    assert shown["autograd"] == expected  # the gradient optim.SGD applied, to the last bit
    assert shown["delta_rule"] == pytest.approx(expected, abs=1e-12)
    assert shown["numeric"] == pytest.approx(expected, abs=1e-7)
    assert "δ⁽¹⁾₃ = f′(z⁽¹⁾₃) · Σₖ δ⁽²⁾ₖ W⁽²⁾ₖ₃" in by_id(driver, "panel-delta").text
    assert "b⁽¹⁾₃ ← b⁽¹⁾₃ − η ∂L/∂b⁽¹⁾₃" in by_id(driver, "panel-update").text
    panel = by_id(driver, "gradient-panel")
    driver.execute_script("arguments[0].scrollIntoView()", panel)
    driver.save_screenshot(str(shots / "gradient-panel.png"))
    panel.screenshot(str(shots / "gradient-panel-only.png"))
    assert not severe_console_errors(driver)


def python_side_bias_gradient(session, layer, unit):
    """∂L/∂b of (layer, unit) for the session's last step, recomputed with autograd."""
    with session.lock:
        record = session.last
        model = build_like(session, record.before)
        xb, yb = session.f_train[record.idx], session.y_train[record.idx]
        session.loss_fn(model(cr.tensor(xb)), yb).backward()  # no penalty: regularization off
        linear = [m for m in model if isinstance(m, cr.nn.Linear)][layer - 1]
        return float(linear.bias.grad.numpy()[unit])


def build_like(session, params):
    """A copy of the session's model holding ``params``."""
    import copy

    model = copy.deepcopy(session.model)
    for p, value in zip(model.parameters(), params):
        p.numpy()[...] = value
    model.zero_grad()
    return model


def test_page_keeps_up_20_frames_per_second(driver, server):
    driver.get(server.url)
    by_id(driver, "dataset-circle").click()  # the default network: 2 × 4 hidden, 500 points
    wait(driver, lambda d: server.session.config.dataset == "circle", 5)
    Select(by_id(driver, "speed")).select_by_value("1")
    by_id(driver, "play").click()
    time.sleep(0.5)
    start = driver.execute_script("return window.playgroundFrames")
    time.sleep(2.0)
    end = driver.execute_script("return window.playgroundFrames")
    pause(driver, server)
    rate = (end - start) / 2.0
    print(f"page drew {rate:.1f} frames per second")
    assert rate >= 20


def test_upload_csv_train_export_script_and_rerun(driver, server, shots, tmp_path):
    driver.get(server.url)
    wait(driver, lambda d: value(d, "test-loss") is not None, 10)
    bad = tmp_path / "bad.csv"
    bad.write_text("x1,x2,label\n1,2\n")
    by_id(driver, "upload").send_keys(str(bad))
    wait(driver, lambda d: "expected 3 columns" in by_id(d, "upload-message").text, 5)

    rng = np.random.default_rng(3)
    pts = rng.uniform(-5, 5, size=(120, 2))
    labels = (np.hypot(pts[:, 0], pts[:, 1]) < 3).astype(int)
    good = tmp_path / "ring.csv"
    good.write_text(
        "x1,x2,label\n" + "".join(f"{a!r},{b!r},{c}\n" for (a, b), c in zip(pts.tolist(), labels))
    )
    by_id(driver, "upload").send_keys(str(good))
    wait(driver, lambda d: "using ring.csv" in by_id(d, "upload-message").text, 5)
    assert server.session.config.dataset == "csv"

    Select(by_id(driver, "regularization")).select_by_value("l2")
    Select(by_id(driver, "reg-rate")).select_by_visible_text("0.001")
    for _ in range(3):
        by_id(driver, "step").click()
    wait(driver, lambda d: server.session.step_count == 3, 5)
    Select(by_id(driver, "learning-rate")).select_by_visible_text("0.3")
    Select(by_id(driver, "speed")).select_by_value("5")
    by_id(driver, "play").click()
    wait(driver, lambda d: server.session.step_count > 100, 20)
    pause(driver, server)
    driver.save_screenshot(str(shots / "uploaded-csv.png"))

    by_id(driver, "export-script").click()
    link = wait(
        driver, lambda d: d.find_elements(By.CSS_SELECTOR, '[data-testid="download-script"]')
    )
    script = tmp_path / "run.py"
    with urllib.request.urlopen(link[0].get_attribute("href"), timeout=10) as resp:
        script.write_bytes(resp.read())
    out = tmp_path / "weights.npz"
    done = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    rerun = cr.load(out)
    with server.session.lock:
        live = server.session.model.state_dict()
    assert rerun.keys() == live.keys()
    for key in live:
        np.testing.assert_array_equal(rerun[key], live[key])  # bit for bit
