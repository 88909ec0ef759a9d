"""A real browser (Debian's chromium, driven by Playwright) on `examcheck serve`:
type a correct and a garbled answer, wait for the reading and the message, check,
save, and grade the saved file with `examcheck grade`.

Skipped only where chromium or Playwright is absent on a developer's machine; in CI
(CI=true) their absence fails the test.  Set EXAMCHECK_SCREENSHOT=1 to refresh docs/serve.png.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _playwright():
    in_ci = os.environ.get("CI", "").lower() == "true"
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("playwright (pip install playwright)")
    if missing:
        if in_ci:
            pytest.fail("the browser test needs " + " and ".join(missing))
        pytest.skip("no " + " and no ".join(missing))
    return sync_playwright


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    collect = tmp_path / "collected"
    process = subprocess.Popen([sys.executable, "-m", "examcheck", "serve", "seed000-quiz", "--port", str(port),
                                "--collect", str(collect)], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the server did not start: " + process.stdout.read().decode()) from None
                time.sleep(0.2)
        yield base, collect
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_type_read_check_save_and_grade(server, tmp_path):
    sync_playwright = _playwright()
    base, collect = server
    requests, problems = [], []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS,
            accept_downloads=True, viewport={"width": 1000, "height": 1400})
        try:
            page = context.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto(base + "/")
            save = page.locator("#save")

            # statements and prompts: their $...$ segments drawn as MathML, no raw LaTeX left
            statement = page.locator("#title-q1 ~ .statement")
            assert statement.locator("math").count() >= 3
            assert "$" not in statement.inner_text() and "\\mathbf" not in statement.inner_text()
            assert page.locator("section.problem .statement math msup").count() >= 1

            # a correct answer: after the pause, its reading appears as MathML
            correct = page.locator("#in-q1--i")
            correct.click()
            page.keyboard.type("x_i sigma(z)(1 - sigma(z))")
            assert save.is_disabled()  # a reading is pending
            page.wait_for_selector("#read-q1--i math", timeout=15000)
            assert "σ" in page.locator("#read-q1--i math").text_content()
            assert page.locator("#read-q1--i math msub").count() == 1  # x_i, rendered natively as MathML
            assert page.locator("#msg-q1--i").inner_text() == ""

            # a garbled answer: a message anchored to the part, cleared as soon as the input changes
            garbled = page.locator("#in-q1--ii")
            garbled.fill("[sigma(z)(1-sigma(z)), x_1 sigma(z)(1-, x_2]")
            page.wait_for_function("() => document.getElementById('msg-q1--ii').textContent.length > 0", timeout=15000)
            assert "could not read" in page.locator("#msg-q1--ii").inner_text()
            garbled.press("End")
            garbled.type(" ")
            assert page.locator("#msg-q1--ii").inner_text() == ""  # no stale message
            page.wait_for_function("() => document.getElementById('msg-q1--ii').textContent.length > 0", timeout=15000)

            # a long answer: the input grows instead of scrolling one line
            before = page.locator("#in-q4--b").bounding_box()["height"]
            page.locator("#in-q4--b").fill("D_KL(P||Q) + H(P)\n= sum P log P - sum P log Q\n- sum P log P\n= H(P, Q)")
            assert page.locator("#in-q4--b").bounding_box()["height"] > before

            # keyboard only: Ctrl+Enter checks the part being typed; Tab reaches the check buttons
            page.locator("#in-q3--a").fill("7600")
            page.locator("#in-q3--a").press("Control+Enter")
            page.wait_for_function("() => document.getElementById('res-q3--a').textContent.startsWith('Correct')", timeout=15000)
            page.locator("#in-q1--i").focus()
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.className") == "check-part"
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.getElementById('res-q1--i').textContent.startsWith('Correct')", timeout=15000)
            page.locator("#check-all").focus()
            page.keyboard.press("Enter")
            page.wait_for_function("() => document.getElementById('sheet-status').textContent.startsWith('Checked')",
                                   timeout=30000)
            assert page.locator("#res-q1--ii").inner_text().startswith("Invalid")
            assert "Expected" not in page.locator("main").inner_text()
            page.locator("#in-q3--a").fill("7600")  # an edit: the total was for older answers
            assert page.locator("#sheet-status").inner_text() == ""

            # saving waits for every check and reading, then downloads the answer file
            page.locator("#student").fill("lab-07")
            page.wait_for_function("() => !document.getElementById('save').disabled", timeout=15000)
            if os.environ.get("EXAMCHECK_SCREENSHOT"):
                page.evaluate("() => window.scrollTo(0, 0)")
                page.screenshot(path=str(ROOT / "docs" / "serve.png"), full_page=False)
            with page.expect_download(timeout=15000) as download:
                save.click()
            saved = tmp_path / "lab-07.yaml"
            download.value.save_as(saved)
            page.wait_for_function("() => document.getElementById('sheet-status').textContent.startsWith('Saved')")
            assert "(version 1)" in page.locator("#sheet-status").inner_text()
            page.locator("#in-q3--a").fill("7500")  # a second save is a new version; nothing is overwritten
            page.wait_for_function("() => !document.getElementById('save').disabled", timeout=15000)
            with page.expect_download(timeout=15000):
                save.click()
            page.wait_for_function("() => document.getElementById('sheet-status').textContent.includes('(version 2)')",
                                   timeout=15000)

            # a refused hand-in whose reply has no file (413, a proxy's error page, ...): the browser builds it
            page.route("**/api/save", lambda route: route.fulfill(
                status=413, content_type="application/json", body='{"error": "the request is larger than 64 KB"}'))
            page.locator("#in-q3--a").fill("7400 \u00e9\U0001d400")
            page.wait_for_function("() => !document.getElementById('save').disabled", timeout=15000)
            with page.expect_download(timeout=15000) as refused:
                save.click()
            refused.value.save_as(tmp_path / "refused.yaml")
            page.wait_for_function("() => document.getElementById('sheet-status').textContent.startsWith('Not handed in')",
                                   timeout=15000)
            assert "downloaded as lab-07.yaml" in page.locator("#sheet-status").inner_text()
        finally:
            context.close()

    assert all(url.startswith(base) for url in requests if not url.startswith("blob:")), requests
    assert not [p for p in problems if "status of 413" not in p], problems  # the 413 is the refusal we staged
    first, second = sorted((collect / "history" / "lab-07").iterdir())
    header, _, body = first.read_text(encoding="utf-8").partition("\n")
    assert header.startswith("# handed in ") and body == saved.read_text(encoding="utf-8")
    assert (collect / "lab-07.yaml").read_text(encoding="utf-8") == second.read_text(encoding="utf-8")
    assert "'7500'" in second.read_text(encoding="utf-8")
    from examcheck.answers import load_sheet

    local = load_sheet(tmp_path / "refused.yaml")
    assert local.student == "lab-07" and local.problem_values["q3"].value["a"] == "7400 \u00e9\U0001d400"
    graded = subprocess.run([sys.executable, "-m", "examcheck", "grade", str(saved), "--format", "json"],
                            capture_output=True, text=True, cwd=ROOT)
    assert graded.returncode == 0, graded.stderr
    report = json.loads(graded.stdout)
    if isinstance(report, list):
        report = report[0]
    status = {(p["id"], r["id"]): r["status"] for p in report["problems"] for r in p["parts"]}
    assert report["student"] == "lab-07"
    assert status[("q1", "i")] == "correct" and status[("q3", "a")] == "correct"
    assert status[("q1", "ii")] == "invalid" and status[("q4", "b")] == "ungraded"
