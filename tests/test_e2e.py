"""End to end: the real page in headless Chromium against `streamlit run app.py`.

See the sample, confirm a pair (keyboard), align a pasted document, merge two
pairs, download the TSV and check its rows, kill the server with SIGKILL,
start it again and find every edit (and the undo history) still there.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 90_000  # the first page load aligns the sample

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install playwright)")
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)

JA = ("ゼレンスキー大統領率いるウクライナ側交渉団と米国代表団が15日、ベルリンで停戦協議を行った。"
      "ウメロフ書記は協議終了後、「実質的な進展」があったと述べた。"
      "米当局者は、全体の90%で意見の一致に近づいていると説明した。\n\n"
      "トランプ氏は、戦争終結にかつてなく近づいていると語った。"
      "ベルリンでの協議にロシアは参加しなかった。"
      "ウクライナ保安局はロシアの潜水艦を水中ドローンで損傷させたと主張した。")
EN = ("Ukraine's negotiators, led by President Zelenskiy, held ceasefire talks with a US "
      "delegation in Berlin on the 15th. Secretary Umerov said after the talks that there had "
      "been \"real progress.\" US officials said the two sides were close to agreement on 90% "
      "of the issues.\n\nTrump said the end of the war was closer than ever. Russia did not "
      "take part in the talks in Berlin. Ukraine's security service said it had damaged a "
      "Russian submarine with an underwater drone.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path, log: Path):
        self.db, self.log = db, log
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> str:
        self.port = free_port()
        env = dict(os.environ, TAIYAKU_DB=str(self.db), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return url
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"streamlit did not start: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path / "projects.sqlite3", tmp_path / "streamlit.log")
    yield srv
    srv.kill9()


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        yield b
        b.close()


def rows(page):
    return page.locator('div[class*="st-key-go_"]')


def settle(page) -> None:
    """Wait until Streamlit has finished the rerun the last action started
    (no running icon, no stale elements left from the previous run)."""
    page.wait_for_timeout(120)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidgetRunningIcon\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')", timeout=WAIT_MS)


def button(page, key: str):
    settle(page)
    # A button with a tooltip is in the DOM twice (one hidden copy for layout).
    return page.locator(f".st-key-{key} button:visible").first


def test_review_edit_export_and_survive_kill_9(server, browser, tmp_path):
    expect = playwright_api.expect
    url = server.start()
    page = browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    page.set_default_timeout(WAIT_MS)

    # 1. First run: the sample article, aligned against its English headlines.
    page.goto(url)
    expect(page.get_by_text("Ukraine and US Make ‘Real Progress’", exact=False)).to_be_visible()
    expect(rows(page)).to_have_count(6)
    expect(page.locator(".st-key-act_confirm button")).to_be_enabled()

    # 2. Confirm pair 1 with its keyboard shortcut; the cursor moves to pair 2.
    settle(page)
    page.locator("h4").first.click()  # focus the page, not a widget
    page.keyboard.press("a")
    expect(page.locator('div[class*="st-key-row_0"]')).to_contain_text("confirmed")
    expect(page.locator('div[class*="st-key-rowsel_1"]')).to_be_visible()
    sample_url = page.url
    assert "project=1" in sample_url

    # 3. A new document project from pasted text.
    settle(page)
    page.get_by_text("New alignment", exact=True).first.click()
    page.get_by_text("…or paste text").click()
    page.locator(".st-key-paste_ja textarea").fill(JA)
    page.locator(".st-key-paste_en textarea").fill(EN)
    page.locator(".st-key-paste_en textarea").press("Tab")
    settle(page)
    page.locator(".st-key-new_mode").get_by_text("document", exact=True).click()
    settle(page)
    button(page, "new_align").click()
    expect(rows(page)).to_have_count(6)
    expect(page.locator(".st-key-pairlist")).to_contain_text("ウメロフ書記")
    doc_url = page.url
    assert "project=2" in doc_url

    # 4. Merge pairs 1 and 2 (button click).
    button(page, "act_merge_next").click()
    expect(rows(page)).to_have_count(5)
    expect(page.locator('div[class*="st-key-rowsel_0"]')).to_contain_text("edited")

    # 5. Download the TSV and check its rows.
    settle(page)
    page.get_by_text("Export", exact=True).first.click()
    expect(page.locator(".st-key-dl_tsv")).to_be_visible()
    with page.expect_download() as info:
        button(page, "dl_tsv").click()
    path = tmp_path / "out.tsv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(line.count("\t") == 1 for line in lines)
    ja0, en0 = lines[0].split("\t")
    assert ja0 == ("ゼレンスキー大統領率いるウクライナ側交渉団と米国代表団が15日、ベルリンで停戦協議を行った。"
                   "ウメロフ書記は協議終了後、「実質的な進展」があったと述べた。")
    assert en0.startswith("Ukraine's negotiators") and en0.endswith('"real progress."')
    assert lines[4].endswith("with an underwater drone.")

    # 6. kill -9 the server, start a new one on the same database.
    server.kill9()
    url = server.start()
    page.goto(url + "/?" + doc_url.split("?", 1)[1])
    expect(rows(page)).to_have_count(5)
    expect(page.locator(".st-key-pairlist")).to_contain_text("edited")
    # The undo history survived too.
    button(page, "act_undo").click()
    expect(rows(page)).to_have_count(6)
    # And the confirmed sample pair.
    page.goto(url + "/?" + sample_url.split("?", 1)[1])
    expect(page.locator('div[class*="st-key-row_0"], div[class*="st-key-rowsel_0"]')).to_contain_text("confirmed")
    settle(page)
    page.screenshot(path=str(tmp_path / "after_restart.png"))
