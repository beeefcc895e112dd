"""The dashboard in a real browser: `streamlit run` on a loopback port, driven by headless Debian
Chromium through Playwright. Screenshots, the server log and the downloaded CSV are kept under
tests/artifacts/browser/ for a human to look at."""
from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from fixtures.dashboard_store import build_published
from pipeline import readonly

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "tests" / "artifacts" / "browser"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
STARTUP_S = 60

pytestmark = pytest.mark.browser


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A published store of real records and `streamlit run` serving the dashboard on it."""
    cfg = build_published(tmp_path_factory.mktemp("browser"))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "KETAMINE_DATA_DIR": cfg.data_dir}
    env.pop("KETAMINE_STORE", None)
    log = open(ARTIFACTS / "streamlit.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboards/app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_S
    try:
        while True:
            assert proc.poll() is None, f"streamlit exited early; see {ARTIFACTS / 'streamlit.log'}"
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, f"streamlit did not answer on {base} in {STARTUP_S} s"
            time.sleep(0.3)
        yield base, cfg
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def browser_page(tmp_path):
    assert CHROMIUM.exists(), f"{CHROMIUM} is missing: run `bash scripts/ensure-chromium` (CI does)"
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=CHROMIUM_ARGS, accept_downloads=True, viewport={"width": 1400, "height": 2400})
        try:
            yield context.new_page()
        finally:
            context.close()


def settle(page) -> None:
    """Wait until the app has finished its script run and drawn everything."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]',
                           timeout=STARTUP_S * 1000)
    page.wait_for_selector('[data-testid="stSkeleton"]', state="detached", timeout=STARTUP_S * 1000)


def test_open_the_overview_click_into_a_claim_and_download_its_studies(server, browser_page):
    base, cfg = server
    con = readonly.connect(cfg.snapshot)
    try:
        claim_id, statement = con.execute(
            "SELECT e.claim_id, c.statement FROM v_claim_evidence e JOIN claims c USING (claim_id) "
            "GROUP BY ALL ORDER BY count(*) DESC, 1 LIMIT 1").fetchone()
        expected = {r[0] for r in con.execute(
            "SELECT pmid FROM v_claim_evidence WHERE claim_id = ?", [claim_id]).fetchall()}
    finally:
        con.close()
    page = browser_page

    # A shared link opened on a server that has not run the app yet lands on its claim.
    page.goto(f"{base}/claim?claim={claim_id}")
    expect(page.get_by_role("heading", name=statement)).to_be_visible(timeout=STARTUP_S * 1000)
    settle(page)
    expect(page.get_by_role("link", name="Claims overview")).to_be_visible()
    page.screenshot(path=ARTIFACTS / "0-shared-claim-url.png")

    page.goto(base)
    expect(page.get_by_role("heading", name="Claims overview")).to_be_visible(timeout=STARTUP_S * 1000)
    settle(page)
    expect(page.get_by_text(statement, exact=True)).to_be_visible()
    link = page.locator(f'a[href$="claim?claim={claim_id}"]')
    expect(link).to_contain_text("Evidence and studies")
    page.screenshot(path=ARTIFACTS / "1-overview.png")

    link.click()
    page.wait_for_url(f"**/claim?claim={claim_id}", timeout=STARTUP_S * 1000)
    expect(page.get_by_role("heading", name=statement)).to_be_visible(timeout=STARTUP_S * 1000)
    settle(page)
    expect(page.locator('[data-testid="stVegaLiteChart"]')).to_have_count(2)
    page.screenshot(path=ARTIFACTS / "2-claim-detail.png")

    with page.expect_download(timeout=STARTUP_S * 1000) as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = ARTIFACTS / "3-claim-studies.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{claim_id}-studies.csv"
    with open(saved, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert {int(r["pmid"]) for r in rows} == expected
    page.screenshot(path=ARTIFACTS / "4-after-download.png")
