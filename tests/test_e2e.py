"""End to end: the real page in headless Chromium against `streamlit run app.py`.

The review grid is driven with keys only, and checked through its ARIA
contract (role="grid", rows with data-pair / data-status, aria-selected,
cells with data-side); what it shows is compared with what the store holds.
Every wait is on a condition (a row, an attribute, the grid's queue of
unacknowledged operations), never on the clock.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from align import edits
from align.model import Alignment, Candidate, Pair, Segment
from align.store import Store

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
WAIT_MS = 120_000  # a generous bound for a loaded machine; the waits end as soon as the condition holds

playwright_api = pytest.importorskip("playwright.sync_api",
                                     reason="playwright is not installed (pip install playwright)")
if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
    pytest.skip("chromium is not installed (apt-get install chromium)", allow_module_level=True)
expect = playwright_api.expect
expect.set_options(timeout=WAIT_MS)
pytestmark = pytest.mark.slow


def document(n: int) -> Alignment:
    ja = tuple(Segment(f"第{k}文です。続きの文です。") for k in range(n))
    en = tuple(Segment(f"Sentence {k}. Another one.") for k in range(n))
    return Alignment(ja, en, tuple(Pair((k,), (k,), 0.9 if k % 3 else 0.6) for k in range(n)))


def headlines() -> Alignment:
    ja = tuple(Segment(t) for t in ("協議が再開した。", "実質的な進展があった。", "潜水艦を攻撃した。"))
    en = (Segment("Talks Make Real Progress"),)
    cands = (Candidate((0,), 0.7), Candidate((1,), 0.65), Candidate((2,), 0.1))
    return Alignment(ja, en, (Pair((0,), (0,), 0.7, candidates=cands),), mode="headlines")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, db: Path, log: Path):
        self.db, self.log = db, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> str:
        # The same port after a restart: the page's origin, and its saved queue, stay the same.
        port = self.port = getattr(self, "port", None) or free_port()
        env = dict(os.environ, TAIYAKU_DB=str(self.db), PYTHONUNBUFFERED="1")
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1",
               "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=open(self.log, "ab"),
                                     stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + WAIT_MS / 1000
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        return url
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"streamlit did not start: {self.log.read_text()[-2000:]}")

    def kill9(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "projects.sqlite3"


@pytest.fixture
def server(db, tmp_path):
    srv = Server(db, tmp_path / "streamlit.log")
    yield srv
    srv.kill9()


@pytest.fixture
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium"),
                              args=CHROMIUM_ARGS)
        yield b
        b.close()


def project(db: Path, al: Alignment, name: str = "doc") -> int:
    with Store(db) as store:
        return store.create_project(name, al, sources=[("a.txt", b"a")], model="use-m3")


def stored(db: Path, pid: int) -> Alignment:
    with Store(db) as store:
        return store.open_project(pid).current


def open_grid(browser, url: str, pid: int, context=None):
    """A page on the project's grid; in ``context`` (browser storage shared with its other
    pages), else in a context of its own."""
    page = (context.new_page() if context is not None
            else browser.new_page(viewport={"width": 1440, "height": 900}, accept_downloads=True))
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{url}/?project={pid}")
    expect(page.locator('[role="grid"] [role="row"]').first).to_be_visible()
    return page


def current(page):
    return page.locator('[role="row"][aria-selected="true"]')


def saved(page) -> None:
    """Wait until Python has acknowledged every operation the grid sent."""
    page.wait_for_function("() => { const g = window.__taiyakuGrid.current;"
                           " return g && g.pending.length === 0; }")


def shown_pairs(page) -> list[tuple[str, str, str]]:
    """(Japanese, English, status) of every row on screen."""
    return [tuple(r) for r in page.evaluate("""() => [...document.querySelectorAll('*')].flatMap(e => e.shadowRoot ? [e.shadowRoot] : [])
        .concat([document]).flatMap(r => [...r.querySelectorAll('[role=row]')])
        .map(r => [r.querySelector('[data-side=ja]').innerText.replace(/✂/g, '').replace(/\\n/g, ''),
                   r.querySelector('[data-side=en]').innerText.replace(/✂/g, '').replace(/\\n/g, ' '),
                   r.dataset.status])""")]


def texts(al: Alignment) -> list[tuple[str, str, str]]:
    return [(al.ja_text(p) or "— no Japanese —", al.en_text(p) or "— no English —", p.status)
            for p in al.pairs]


def test_eight_j_presses_40_ms_apart_move_exactly_eight_pairs(server, browser, db):
    pid = project(db, document(30))
    page = open_grid(browser, server.start(), pid)
    expect(current(page)).to_have_attribute("data-pair", "0")
    for _ in range(8):
        page.keyboard.press("j")
        page.wait_for_timeout(40)  # the pace of a fast reviewer; the check below does not depend on it
    expect(current(page)).to_have_attribute("data-pair", "8")
    page.keyboard.press("k")
    expect(current(page)).to_have_attribute("data-pair", "7")
    expect(page.locator('[role="row"][aria-selected="true"]')).to_have_count(1)
    expect(current(page).locator('[data-side="ja"]')).to_contain_text("第7文です")


def test_a_held_down_a_confirms_every_pair_it_passes(server, browser, db):
    # 30 confirms 15 ms apart: acknowledgements come back while keys still arrive, and
    # Streamlit may run a superseded render's cleanup then (the grid must not end there)
    pid = project(db, document(60))
    page = open_grid(browser, server.start(), pid)
    page.evaluate("() => { window.__taiyakuGrid.built = 0; }")
    for _ in range(30):
        page.keyboard.press("a")
        page.wait_for_timeout(15)  # a key held down repeats about this fast
    saved(page)
    assert [p.status for p in stored(db, pid).pairs[:31]] == ["confirmed"] * 30 + ["auto"]
    assert page.evaluate("() => window.__taiyakuGrid.built") == 0  # the same grid all along


def test_every_key_operation_lands_in_the_store_as_shown(server, browser, db):
    start = document(12)
    pid = project(db, start)
    page = open_grid(browser, server.start(), pid)
    # Each key, and the same edit done by the package: the grid must end where Python does.
    script = [("a", "confirm", (0,)), ("u", None, None), ("k", None, None), ("u", "unconfirm", (0,)),
              ("j", None, None), ("m", "merge_next", (1,)), ("s", "split_pair", (1, None, None)),
              ("j", None, None), ("Shift+ArrowDown", "shift", (2, "ja", "down")),
              ("Alt+ArrowDown", "shift", (2, "en", "down")),
              ("j", None, None), ("i", "insert_empty", (3, "ja")), ("Delete", None, None),
              ("j", None, None), ("j", None, None), ("Shift+m", "merge_prev", (5,)),
              ("g", None, None), ("Shift+a", "confirm_many", ([0, 1, 2, 3, 4],))]
    expected = start
    for key, op, args in script:
        page.keyboard.press(key)
        if op:
            expected = edits.OPS[op](expected, *args)
    saved(page)
    # U on an unconfirmed pair, Delete on a lone segment and G on one segment were refused
    # in the browser, saying why, and never sent.
    got = stored(db, pid)
    assert texts(got) == texts(expected), (texts(got), texts(expected))
    assert shown_pairs(page)[:len(got.pairs)] == texts(got)
    # the sidebar's progress follows the acknowledgements (no full page rerun)
    confirmed = sum(p.status == "confirmed" for p in got.pairs)
    expect(page.locator('[data-testid="stSidebar"]')).to_contain_text(f"{confirmed} of {len(got.pairs)} pairs confirmed")
    # Undo twice, redo once: the grid and the store agree again.
    page.keyboard.press("z")
    page.keyboard.press("z")
    page.keyboard.press("Shift+z")
    saved(page)
    with Store(db) as store:
        p = store.open_project(pid)
        assert p.cursor == len([s for s in script if s[1]]) - 1
    assert shown_pairs(page)[:len(stored(db, pid).pairs)] == texts(stored(db, pid))


def test_keys_typed_on_a_project_deleted_elsewhere_never_reach_the_one_shown_instead(server, browser, db):
    other = project(db, document(3), name="other")
    pid = project(db, document(4), name="doomed")
    page = open_grid(browser, server.start(), pid)
    with Store(db) as store:  # another window deletes it; this tab has not looked since
        store.delete_project(pid)
    page.keyboard.press("a")  # refused: the page shows another project, holding its keys
    expect(page.locator(".msg")).to_contain_text("Press Enter to review it")
    for key in "aama":  # typed in rhythm for the deleted project
        page.keyboard.press(key)
    expect(page.locator(".msg")).to_contain_text("keys are held")
    saved(page)
    with Store(db) as store:
        assert store.open_project(other).cursor == 0  # not one key of them applied
    page.keyboard.press("Enter")
    page.keyboard.press("a")
    saved(page)
    assert stored(db, other).pairs[0].status == "confirmed"


def test_a_key_that_says_what_the_last_one_said_is_still_heard(server, browser, db):
    page = open_grid(browser, server.start(), project(db, document(4)))
    page.keyboard.press("a")
    page.keyboard.press("a")
    saved(page)
    # both undos in one turn of the page's event loop: no timer can clear the message between
    said = page.evaluate("""() => { const g = window.__taiyakuGrid.current, out = [];
        for (const k of ["z", "z", "j"]) { g.onKey(new KeyboardEvent("keydown", { key: k })); out.push(g.msg.textContent); }
        return out; }""")
    assert said == ["Undone: confirm (pair 2)", "Undone: confirm (pair 1)", ""]  # a key that says nothing clears it
    saved(page)


def test_a_mac_s_delete_key_unlinks_as_delete_does(server, browser, db):
    pid = project(db, document(3))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("Backspace")  # what a Mac's delete key sends
    saved(page)
    assert [(p.ja, p.en) for p in stored(db, pid).pairs[:2]] == [((0,), ()), ((), (0,))]


def test_undo_and_redo_take_the_cursor_to_the_pair_they_change(server, browser, db):
    page = open_grid(browser, server.start(), project(db, document(12)))
    for key in ("j", "m", "j", "j", "j"):  # merge pairs 2 and 3, then move on
        page.keyboard.press(key)
    expect(current(page)).to_have_attribute("data-pair", "4")  # pair 5 (data-pair counts from 0)
    page.keyboard.press("z")
    expect(current(page)).to_have_attribute("data-pair", "1")
    page.keyboard.press("End")
    page.keyboard.press("Shift+z")
    expect(current(page)).to_have_attribute("data-pair", "1")
    expect(page.locator(".msg")).to_have_text("Redone: merge with the next pair (pair 2)")
    saved(page)


def test_an_edit_in_place_survives_leaving_the_cell_and_a_kill_9(server, browser, db):
    pid = project(db, document(6))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("j")
    page.keyboard.press("e")  # the English of pair 2, in place
    editor = page.locator('textarea[data-segside="en"]')
    expect(editor).to_be_focused()
    editor.fill("Sentence one, corrected in place.")
    page.keyboard.press("Escape")  # leaves the editor and keeps the text
    expect(current(page).locator('[data-side="en"]')).to_have_text("Sentence one, corrected in place.")
    server.kill9()  # right after the row showed it
    url = server.start()
    page.goto(f"{url}/?project={pid}")
    expect(page.locator('[role="row"][data-pair="1"] [data-side="en"]')).to_have_text(
        "Sentence one, corrected in place.")
    saved(page)
    assert stored(db, pid).en[1].text == "Sentence one, corrected in place."
    assert stored(db, pid).pairs[1].status == "edited"
    # Tab moves to the Japanese side; moving to another pair saves too; Z undoes.
    page.locator('[role="row"][data-pair="1"] .num').click()
    expect(current(page)).to_have_attribute("data-pair", "1")
    page.keyboard.press("e")
    page.keyboard.press("Tab")
    ja = page.locator('textarea[data-segside="ja"]')
    expect(ja).to_be_focused()
    ja.fill("第1文を直した。")
    page.locator('[role="row"][data-pair="3"] [data-side="ja"]').click()
    expect(current(page)).to_have_attribute("data-pair", "3")
    saved(page)
    assert stored(db, pid).ja[1].text == "第1文を直した。"
    page.keyboard.press("z")
    saved(page)
    assert stored(db, pid).ja[1].text == "第1文です。続きの文です。"


def test_a_server_that_stops_answering_is_said_plainly_and_the_work_kept_until_it_is_back(server, browser, db):
    pid = project(db, document(6))
    page = open_grid(browser, server.start(), pid)
    server.kill9()
    dialog = page.locator('[role="dialog"]')
    expect(dialog).to_contain_text("Connection error")  # Streamlit's, with the focus
    page.keyboard.press("e")  # keys typed in the dialog are its own: no editor, no grid key
    page.keyboard.type(" xyzi")
    expect(dialog).to_be_visible()
    assert page.evaluate("() => window.__taiyakuGrid.current.pending.length") == 0
    assert page.locator(".row.editing").count() == 0
    dialog.get_by_role("button", name="Close").click()
    page.keyboard.press("a")  # confirm pair 1: queued, unanswered
    expect(page.locator(".msg")).to_contain_text("Not saved yet: the server does not answer. Your 1 change is kept")
    page.keyboard.press("a")  # a key that says nothing does not take that away: it is still so, at once
    assert page.locator(".msg").text_content().startswith("Not saved yet: the server does not answer. Your 2 ")
    expect(page.locator(".msg")).to_contain_text("Your 2 changes are kept in this browser: once the server runs "
                                                 "again, reload this page to save them.")
    server.start()
    page.on("dialog", leave)
    page.reload()  # as the notice says
    expect(page.locator('[role="row"][data-pair="1"]')).to_have_attribute("data-status", "confirmed")
    saved(page)
    assert [p.status for p in stored(db, pid).pairs[:2]] == ["confirmed", "confirmed"]


def test_a_cut_offered_at_a_sentence_end_splits_the_segment(server, browser, db):
    pid = project(db, document(4))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("u")  # refused (not confirmed): a message about that key
    expect(page.locator(".msg")).not_to_have_text("")
    current(page).locator('[data-side="ja"] .cut').first.click()
    expect(page.locator(".msg")).to_have_text("")  # the click that cut says nothing: the old message goes
    saved(page)
    al = stored(db, pid)
    assert [s.text for s in al.ja[:2]] == ["第0文です。", "続きの文です。"] and al.pairs[0].ja == (0, 1)
    page.keyboard.press("g")  # and join them again
    saved(page)
    assert stored(db, pid).ja[0].text == "第0文です。続きの文です。"


def test_a_crossing_link_exports_in_japanese_order(server, browser, db, tmp_path):
    al = document(4)
    al = al.with_pairs(al.pairs[:1] + (Pair((1, 2), (1, 2), 0.8),) + al.pairs[3:])  # swapped: a 2-2 block
    pid = project(db, al)
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("j")
    row = current(page)
    row.locator('.seg[data-segside="ja"][data-seg="1"]').click(modifiers=["Control"])  # pick Japanese 2…
    row.locator('.seg[data-segside="en"][data-seg="2"]').click(modifiers=["Control"])  # …and English 3
    page.keyboard.press("l")
    expect(page.locator('[role="row"]')).to_have_count(4)
    saved(page)
    got = stored(db, pid)
    assert [(p.ja, p.en) for p in got.pairs] == [((0,), (0,)), ((1,), (2,)), ((2,), (1,)), ((3,), (3,))]
    assert shown_pairs(page) == texts(got)
    page.get_by_text("Export", exact=True).first.click()
    with page.expect_download() as info:
        page.locator(".st-key-dl_tsv button").first.click()
    path = tmp_path / "crossed.tsv"
    info.value.save_as(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [line.split("\t")[0] for line in lines] == [s.text for s in got.ja]  # Japanese order
    assert lines[1].split("\t")[1] == "Sentence 2. Another one."
    # Undo restores the old pairs.
    page.get_by_text("Review", exact=True).first.click()
    expect(page.locator('[role="grid"] [role="row"]').first).to_be_visible()
    page.keyboard.press("z")
    saved(page)
    assert stored(db, pid).pairs == al.pairs


def test_pairs_picked_on_the_map_open_in_the_grid_wherever_the_tab_was(server, browser, db):
    pid = project(db, document(40))
    page = open_grid(browser, server.start(), pid)
    for _ in range(3):
        page.keyboard.press("j")  # the tab now remembers pair 4
    expect(current(page)).to_have_attribute("data-pair", "3")
    page.get_by_text("Map", exact=True).first.click()
    plot = page.locator(".js-plotly-plot .nsewdrag").first
    expect(plot).to_be_visible()
    box = plot.bounding_box()
    # a box over the path's last third (the path runs from the top left to the bottom right)
    page.mouse.move(box["x"] + box["width"] * 0.70, box["y"] + box["height"] * 0.70)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.85, box["y"] + box["height"] * 0.85, steps=8)
    page.mouse.up()
    expect(page.locator('[role="grid"] [role="row"]').first).to_be_visible()
    said = page.get_by_text(re.compile(r"pairs selected on the map \(\d+–\d+\): the first of them is shown")).first
    expect(said).to_be_visible()
    k = int(re.search(r"\((\d+)–", said.inner_text()).group(1)) - 1
    assert k > 20
    expect(current(page)).to_have_attribute("data-pair", str(k))


def test_a_download_clicked_on_an_export_page_drawn_earlier_has_the_latest_edits(server, browser, db, tmp_path):
    pid = project(db, document(3))
    page = open_grid(browser, server.start(), pid)
    page.get_by_text("Export", exact=True).first.click()
    expect(page.locator(".st-key-dl_tmx button")).to_be_visible()
    with Store(db) as store:  # another window edits, after this page was drawn
        store.open_project(pid).apply("edit_text", "en", 1, "Edited in another window.")
    for fmt in ("tsv", "tmx"):
        with page.expect_download() as info:
            page.locator(f".st-key-dl_{fmt} button").first.click()
        path = tmp_path / f"latest.{fmt}"
        info.value.save_as(path)
        assert "Edited in another window." in path.read_text(encoding="utf-8")


def test_headline_candidates_by_number(server, browser, db):
    pid = project(db, headlines(), "heads")
    page = open_grid(browser, server.start(), pid)
    expect(page.locator(".cand")).to_have_count(3)
    expect(page.locator(".cand").nth(1)).to_contain_text("sentence 2 of 3")
    page.keyboard.press("2")
    expect(current(page).locator('[data-side="ja"]')).to_have_text("実質的な進展があった。")
    saved(page)
    assert stored(db, pid).pairs[0].ja == (1,)
    with Store(db) as store:  # linked by hand to sentences 2 and 3: no candidate is that link
        store.open_project(pid).apply("relink", 0, [1, 2])
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    score = current(page).locator(".chip.score")
    expect(score).to_have_class(re.compile("stale"))
    assert score.get_attribute("title").startswith("linked by hand")  # not "from before the edit"
    with Store(db) as store:  # back to the aligner's candidate, then a typo fixed in its sentence
        heads = store.open_project(pid)
        heads.apply("relink", 0, [0])
        heads.apply("edit_text", "ja", 0, "協議が再開された。")
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(current(page).locator('[data-side="ja"]')).to_contain_text("再開された")
    assert current(page).locator(".chip.score").get_attribute("title") == "the aligner's confidence, from before the edit"



def test_the_cursor_stays_on_its_headline_when_another_window_changes_the_list(server, browser, db):
    al = headlines()
    two = Alignment(al.ja, (*al.en, Segment("Progress in Berlin Talks")),
                    (Pair((1,), (0,), 0.7), Pair((1,), (1,), 0.6)), mode="headlines")  # one sentence, two headlines
    pid = project(db, two, "heads")
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("j")
    expect(current(page).locator('[data-side="en"]')).to_contain_text("Progress in Berlin Talks")
    with Store(db) as store:  # another window confirms the first headline
        store.open_project(pid).apply("confirm", 0)
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(page.locator('[role="row"][data-pair="0"]')).to_have_attribute("data-status", "confirmed")
    # still on its headline, not on the first pair that holds its sentence
    expect(current(page).locator('[data-side="en"]')).to_contain_text("Progress in Berlin Talks")


def test_a_2000_pair_document_is_one_virtual_list(server, browser, db):
    pid = project(db, document(2000))
    page = open_grid(browser, server.start(), pid)
    grid = page.locator('[role="grid"]')
    expect(grid).to_have_attribute("aria-rowcount", "2000")
    assert page.locator('[role="row"]').count() < 150  # only what is near the viewport is drawn
    page.keyboard.press("End")
    expect(current(page)).to_have_attribute("data-pair", "1999")
    page.locator(".f-goto").fill("1000")
    page.locator(".f-goto").press("Enter")
    expect(current(page)).to_have_attribute("data-pair", "999")
    page.locator(".f-review").check()  # needs review: the 0.6 ones, every third
    expect(grid).to_have_attribute("aria-rowcount", "667")
    page.keyboard.press("j")
    expect(current(page).locator(".num")).to_have_text("1003")


def test_the_editor_survives_a_redraw_and_closes_cleanly(server, browser, db):
    pid = project(db, document(30))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("End")
    page.keyboard.press("e")  # at once: the grid is redrawn while the editor is open (the view is sent)
    editor = page.locator('textarea[data-segside="en"]')
    expect(editor).to_be_focused()
    saved(page)
    page.keyboard.type(" More")
    expect(editor).to_be_focused()
    page.keyboard.press("Escape")
    expect(page.locator("textarea.ed")).to_have_count(0)  # no text box left behind
    saved(page)
    assert stored(db, pid).en[29].text == "Sentence 29. Another one. More"
    page.keyboard.press("e")
    page.keyboard.press("Escape")  # nothing changed: closed, nothing sent
    expect(page.locator("textarea.ed")).to_have_count(0)
    # the current row is on screen (waited for: the acknowledgement may redraw it meanwhile)
    expect(current(page)).to_be_in_viewport(ratio=0.99)


def test_a_refused_operation_says_why_once_and_later_keys_still_land(server, browser, db):
    pid = project(db, document(6))
    page = open_grid(browser, server.start(), pid)
    with Store(db) as store:  # meanwhile another window merges two pairs: the indices moved
        store.open_project(pid).apply("merge_next", 4)
    page.keyboard.press("a")
    expect(page.locator(".msg")).to_have_text("Not applied: this project was changed in another window; "
                                              "the grid now shows its saved state")  # said once, alone
    expect(page.locator('[role="row"]')).to_have_count(5)  # the saved state, with the reason
    saved(page)
    page.keyboard.press("Home")
    page.keyboard.press("a")  # later keys land (the refusal is not handled again)
    page.keyboard.press("a")
    saved(page)
    assert [p.status for p in stored(db, pid).pairs] == ["confirmed", "confirmed", "auto", "auto", "edited"]
    expect(page.locator(".msg")).not_to_contain_text("another window")


def test_a_tab_back_in_view_shows_what_another_window_changed(server, browser, db):
    pid = project(db, document(6))
    url = server.start()
    first = open_grid(browser, url, pid)
    second = open_grid(browser, url, pid)
    second.keyboard.press("a")  # the other window confirms pair 1 and merges pairs 3 and 4
    second.locator('[role="row"][data-pair="2"] .num').click()
    second.keyboard.press("m")
    saved(second)
    expect(first.locator('[role="row"]')).to_have_count(6)  # not told yet
    first.evaluate("() => window.dispatchEvent(new Event('focus'))")  # the reviewer comes back to it
    expect(first.locator('[role="row"]')).to_have_count(5)
    expect(first.locator('[role="row"][data-pair="0"]')).to_have_attribute("data-status", "confirmed")
    expect(first.locator(".msg")).to_contain_text("Another window changed this project")
    first.keyboard.press("Home")
    first.keyboard.press("u")  # on the state it now shows: applied, no conflict
    saved(first)
    assert stored(db, pid).pairs[0].status == "auto"
    expect(first.locator(".msg")).not_to_contain_text("Not applied")


def confirmed_in_another_window(server, browser, db):
    """(project, a window): the other window has confirmed pair 1, and this one shows it."""
    pid = project(db, document(6))
    url = server.start()
    first, second = open_grid(browser, url, pid), open_grid(browser, url, pid)
    first.keyboard.press("a")
    saved(first)
    second.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(second.locator('[role="row"][data-pair="0"]')).to_have_attribute("data-status", "confirmed")
    return pid, second


def test_z_in_a_window_that_made_no_change_asks_before_undoing_another_window_s(server, browser, db):
    pid, second = confirmed_in_another_window(server, browser, db)
    second.keyboard.press("z")
    expect(second.locator(".msg")).to_contain_text("Z again to undo the project's last change: this window did not make it")
    saved(second)
    assert stored(db, pid).pairs[0].status == "confirmed"  # nothing undone yet
    second.keyboard.press("z")  # asked twice: taken back, and named with its pair when the server says
    saved(second)
    assert stored(db, pid).pairs[0].status == "auto"
    expect(second.locator(".msg")).to_have_text("Undone: confirm (pair 1)")
    expect(current(second)).to_have_attribute("data-pair", "0")
    second.keyboard.press("a")  # its own step: one Z, as always
    saved(second)
    assert [p.status for p in stored(db, pid).pairs].count("confirmed") == 1
    second.keyboard.press("z")
    saved(second)
    assert [p.status for p in stored(db, pid).pairs] == ["auto"] * 6


def test_z_held_down_goes_on_through_other_windows_steps_once_asked_twice(server, browser, db):
    pid = project(db, document(6))
    with Store(db) as store:  # three steps from before the page opened
        for k in range(3):
            store.open_project(pid).apply("confirm", k)
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("z")  # asked once
    expect(page.locator(".msg")).to_contain_text("Z again to undo")
    for _ in range(3):
        page.keyboard.press("z")
    saved(page)
    assert [p.status for p in stored(db, pid).pairs] == ["auto"] * 6
    expect(page.locator(".msg")).to_have_text("Undone: confirm (pair 1)")
    page.keyboard.press("j")  # another key: the next such step asks again
    page.keyboard.press("Shift+Z")
    expect(page.locator(".msg")).to_contain_text("Shift+Z again to redo")


def test_redo_after_taking_back_another_window_s_step_redoes_that_step(server, browser, db):
    # the window's own undone step lies under the other window's in the project's history now
    pid, second = confirmed_in_another_window(server, browser, db)
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "a", "z", "z", "z"):  # confirm 4, undo it, undo pair 1's
        second.keyboard.press(key)
    saved(second)
    expect(second.locator(".msg")).to_have_text("Undone: confirm (pair 1)")
    assert [p.status for p in stored(db, pid).pairs] == ["auto"] * 6
    second.keyboard.press("Shift+Z")  # the project's next redo is pair 1's confirm, not this window's
    expect(second.locator(".msg")).to_contain_text("Shift+Z again to redo")
    second.keyboard.press("Shift+Z")
    saved(second)
    expect(second.locator(".msg")).to_have_text("Redone: confirm (pair 1)")
    assert [p.status for p in stored(db, pid).pairs] == ["confirmed"] + ["auto"] * 5
    expect(second.locator('[role="row"][data-pair="0"]')).to_have_attribute("data-status", "confirmed")
    expect(second.locator('[role="row"][data-pair="3"]')).to_have_attribute("data-status", "auto")
    # a confirmed pair's score chip is grey, whatever the score: not a warning any more
    expect(second.locator('[role="row"][data-pair="0"] .chip.score')).to_have_class(re.compile(r"\bvouched\b"))
    expect(second.locator('[role="row"][data-pair="3"] .chip.score')).not_to_have_class(re.compile(r"\bvouched\b"))


def test_z_after_coming_back_from_another_project_asks_if_another_window_wrote_meanwhile(server, browser, db):
    pid = project(db, document(6), "first")
    project(db, document(3), "second")
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("a")  # this window's own step
    saved(page)
    page.get_by_role("combobox", name="Project (every edit is saved)").click()  # to the other project and back
    page.get_by_role("option", name=re.compile("^second")).click()
    expect(page.locator('[role="row"]')).to_have_count(3)
    with Store(db) as store:  # meanwhile another window confirms pair 4 of the first
        store.open_project(pid).apply("confirm", 3)
    page.get_by_role("combobox", name="Project (every edit is saved)").click()
    page.get_by_role("option", name=re.compile("^first")).click()
    expect(page.locator('[role="row"][data-pair="3"]')).to_have_attribute("data-status", "confirmed")
    page.keyboard.press("z")  # the last step is the other window's now: asked first
    expect(page.locator(".msg")).to_contain_text("Z again to undo the project's last change")
    saved(page)
    assert [p.status for p in stored(db, pid).pairs][:4] == ["confirmed", "auto", "auto", "confirmed"]


def test_a_key_pressed_as_the_tab_comes_back_does_not_land_on_a_moved_pair(server, browser, db):
    pid = project(db, document(6))
    url = server.start()
    page = open_grid(browser, url, pid)
    page.locator('[role="row"][data-pair="2"] .num').click()
    expect(current(page)).to_have_attribute("data-pair", "2")
    with Store(db) as store:  # meanwhile another window merges pairs 0 and 1: pair 2 is now pair 1
        store.open_project(pid).apply("merge_next", 0)
    # back in the tab, M at once: pressed on what it showed, before any answer can come
    page.evaluate("() => { window.dispatchEvent(new Event('focus'));"
                  " window.dispatchEvent(new KeyboardEvent('keydown', {key: 'm', bubbles: true})); }")
    expect(page.locator(".msg")).to_contain_text("Not applied: this project was changed in another window")
    saved(page)
    assert [p.ja for p in stored(db, pid).pairs] == [(0, 1), (2,), (3,), (4,), (5,)]  # nothing merged here
    expect(page.locator('[role="row"]')).to_have_count(5)
    expect(current(page)).to_have_attribute("data-pair", "1")  # still on the pair it was on (sentence 2)


def typing_in_pair_5_while_another_window_cuts_above(server, browser, db):
    """(project, page): " Typed." in the open editor of English sentence 5, not saved yet,
    while another window cuts English sentence 2 (the ones below move down)."""
    pid = project(db, document(6))
    page = open_grid(browser, server.start(), pid)
    page.locator('[role="row"][data-pair="4"] .num').click()
    page.keyboard.press("e")
    expect(page.locator('textarea[data-segside="en"]')).to_be_focused()
    page.keyboard.type(" Typed.")
    with Store(db) as store:
        store.open_project(pid).apply("split_segment", "en", 1, 12)
    return pid, page


def test_typing_is_kept_when_another_window_cuts_a_sentence_above_meanwhile(server, browser, db):
    pid, page = typing_in_pair_5_while_another_window_cuts_above(server, browser, db)
    page.keyboard.press("Escape")  # saved on the view it was typed in, where it was sentence 5
    expect(page.locator(".msg")).to_contain_text("What you typed is kept")
    saved(page)
    al = stored(db, pid)
    assert [s.text for s in al.en[4:7]] == ["Sentence 3. Another one.", "Sentence 4. Another one. Typed.",
                                            "Sentence 5. Another one."]
    assert shown_pairs(page) == texts(al)


def test_text_typed_before_a_reload_finds_its_sentence_after_a_cut_above(server, browser, db):
    pid, page = typing_in_pair_5_while_another_window_cuts_above(server, browser, db)
    page.on("dialog", leave)
    page.reload()  # the editor still open: its text is kept in the browser
    expect(page.locator(".msg")).to_contain_text("Kept the text you were typing")
    saved(page)
    assert stored(db, pid).en[5].text == "Sentence 4. Another one. Typed."


def test_typing_in_a_sentence_another_window_retyped_is_shown_not_written_over(server, browser, db):
    pid = project(db, document(3))
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = open_grid(browser, server.start(), pid, context)
    page.keyboard.press("e")
    expect(page.locator('textarea[data-segside="en"]')).to_be_focused()
    page.keyboard.type(" Mine.")
    with Store(db) as store:
        store.open_project(pid).apply("edit_text", "en", 0, "Theirs.")
    page.keyboard.press("Escape")
    expect(page.locator(".msg")).to_contain_text("Your text, not saved: “Sentence 0. Another one. Mine.”")
    saved(page)
    assert stored(db, pid).en[0].text == "Theirs."
    expect(current(page).locator('[data-side="en"]')).to_have_text("Theirs.")
    page.keyboard.press("j")  # the message moves on; the text stays beside the list until dismissed
    expect(page.locator(".lost-text")).to_have_text("Sentence 0. Another one. Mine.")
    expect(page.locator(".lost-where")).to_have_text("English sentence 1: ")
    page.reload()
    expect(page.locator(".lost-text")).to_have_text("Sentence 0. Another one. Mine.")
    # the same browser storage, another project: not shown there
    other = open_grid(browser, page.url.split("/?")[0], project(db, document(2)), context)
    expect(other.locator(".panel")).to_contain_text("Pair 1 of")
    expect(other.locator(".lost")).to_have_count(0)
    other.close()
    page.locator(".lost-done").click()
    expect(page.locator(".lost")).to_have_count(0)


def test_a_sentence_without_counterpart_shows_where_it_would_stand_in_the_other_text(server, browser, db):
    ja = tuple(Segment(f"第{k}文です。続きの文です。", 30 * k, 30 * k + 14) for k in range(60))
    en = tuple(Segment(f"Sentence {k}. Another one.", 40 * k, 40 * k + 24) for k in range(60) if k != 40)
    pairs = tuple(Pair((k,), (k - (k > 40),) if k != 40 else (), 0.9 if k != 40 else 0.3) for k in range(60))
    pid = project(db, Alignment(ja, en, pairs))
    page = open_grid(browser, server.start(), pid)
    page.locator("input.f-goto").fill("41")
    page.keyboard.press("Enter")
    expect(current(page)).to_have_attribute("data-pair", "40")
    near = page.locator('.source[lang="en"] .sseg.near-after')
    expect(near).to_have_text("Sentence 39. Another one.")  # the gap after it, scrolled to
    expect(near).to_be_in_viewport()


def test_escape_in_the_search_box_gives_the_keys_back_to_the_list(server, browser, db):
    pid = project(db, document(12))
    page = open_grid(browser, server.start(), pid)
    search = page.locator("input.f-query")
    search.click()
    page.keyboard.type("Sentence 1")  # Sentence 1, 10, 11
    expect(page.locator('[role="row"]')).to_have_count(3)
    page.keyboard.press("Escape")
    expect(search).to_have_value("Sentence 1")  # the search stays
    page.keyboard.press("j")  # a key for the list, not a letter in the box: the second row shown
    expect(current(page)).to_have_attribute("data-pair", "1")
    expect(search).to_have_value("Sentence 1")
    page.keyboard.press("/")  # back to the box from the keyboard, its text selected
    expect(search).to_be_focused()
    page.keyboard.type("Sentence 11")
    expect(page.locator('[role="row"]')).to_have_count(1)
    page.keyboard.press("Enter")
    search.fill("ＳＥＮＴＥＮＣＥ　１１")  # as typed with a Japanese input method in full-width mode
    expect(page.locator('[role="row"]')).to_have_count(1)
    search.fill("第１１文")
    expect(page.locator('[role="row"]')).to_have_count(1)
    search.fill("")
    page.keyboard.press("Enter")  # back to the list
    page.keyboard.press("#")  # to the pair-number box, from the keyboard
    expect(page.locator("input.f-goto")).to_be_focused()
    page.keyboard.type("9")
    page.keyboard.press("Enter")
    expect(current(page)).to_have_attribute("data-pair", "8")


def test_typing_in_a_confirmed_pair_is_kept_and_unconfirms_it(server, browser, db):
    pid = project(db, document(6))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("a")  # confirm pair 1, go to pair 2
    expect(current(page)).to_have_attribute("data-pair", "1")
    page.keyboard.press("k")
    expect(current(page)).to_have_attribute("data-status", "confirmed")
    page.keyboard.press("e")
    expect(page.locator('textarea[data-segside="en"]')).to_be_focused()
    page.keyboard.type(" Checked again.")
    page.keyboard.press("Escape")  # the typing is saved, never thrown away
    # (the ✂ cut offers inside the sentence come with the server's acknowledgement, whenever it comes)
    expect(current(page).locator('[data-side="en"]')).to_have_text(
        re.compile(r"^Sentence 0\.✂? Another one\.✂? Checked again\.\s*$"))
    expect(current(page)).to_have_attribute("data-status", "edited")
    saved(page)
    al = stored(db, pid)
    assert al.en[0].text == "Sentence 0. Another one. Checked again." and al.pairs[0].status == "edited"
    page.keyboard.press("z")  # one undo takes back the text and gives the confirm back
    saved(page)
    al = stored(db, pid)
    assert al.en[0].text == "Sentence 0. Another one." and al.pairs[0].status == "confirmed"


def test_the_enter_and_escape_of_an_ime_conversion_stay_with_the_ime(server, browser, db):
    pid = project(db, document(4))
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("Shift+e")  # the Japanese of pair 1, in place
    editor = page.locator('textarea[data-segside="ja"]')
    expect(editor).to_be_focused()
    editor.evaluate("e => e.setSelectionRange(3, 3)")
    cdp = page.context.new_cdp_session(page)  # typing through an input method, as Chrome's IME does
    cdp.send("Input.imeSetComposition", {"text": "へんかん", "selectionStart": 4, "selectionEnd": 4})
    expect(editor).to_have_value("第0文へんかんです。続きの文です。")
    for key in ("Enter", "Escape"):  # what the IME sends to commit / cancel a conversion (keyCode 229)
        editor.evaluate("(e, key) => e.dispatchEvent(new KeyboardEvent('keydown', {key, code: key, keyCode: 229,"
                        " isComposing: true, bubbles: true, cancelable: true, composed: true}))", key)
    cdp.send("Input.insertText", {"text": "変換"})
    expect(editor).to_have_value("第0文変換です。続きの文です。")
    expect(editor).to_be_focused()  # the editor is still open, the segment not cut
    page.keyboard.press("Escape")  # a plain Escape closes it and saves
    expect(page.locator("textarea.ed")).to_have_count(0)
    saved(page)
    al = stored(db, pid)
    assert len(al.ja) == 4 and al.ja[0].text == "第0文変換です。続きの文です。"


def leave(dialog) -> None:
    """Answer "Leave" to the browser's "changes you made may not be saved"."""
    try:
        dialog.accept()
    except playwright_api.Error:  # the page closed as it was answered
        pass


def test_work_not_saved_when_the_tab_closes_goes_to_the_next_tab_once(server, browser, db):
    pid = project(db, document(6))
    url = server.start()
    context = browser.new_context(viewport={"width": 1440, "height": 900})  # one profile: its localStorage
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{url}/?project={pid}")
    expect(current(page)).to_have_attribute("data-pair", "0")
    server.kill9()  # the server is down: nothing can be saved
    page.keyboard.press("a")  # confirm pair 1 (queued), go to pair 2
    expect(current(page)).to_have_attribute("data-pair", "1")
    page.keyboard.press("e")
    expect(page.locator('textarea[data-segside="en"]')).to_be_focused()
    page.keyboard.type(" Typed, never sent.")
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), leave(d)))
    with page.expect_event("close"):
        page.close(run_before_unload=True)  # closing the tab: the browser asks first
    assert asked == ["beforeunload"]
    server.start()
    page = context.new_page()  # a new tab of the project takes the closed tab's work over
    page.goto(f"{url}/?project={pid}")
    expect(page.locator(".msg")).to_contain_text("closed before")
    saved(page)
    al = stored(db, pid)
    assert al.pairs[0].status == "confirmed" and al.en[1].text == "Sentence 1. Another one. Typed, never sent."
    expect(page.locator('[role="row"][data-pair="1"] [data-side="en"]')).to_have_text(al.en[1].text)
    # A tab that died after the server applied an operation but before it heard so:
    # the next tab sends it again, under the same tab id and number, and it is not applied twice.
    page.locator('[role="row"][data-pair="3"] .num').click()
    expect(current(page)).to_have_attribute("data-pair", "3")
    page.keyboard.press("m")
    saved(page)
    merged = stored(db, pid)
    assert len(merged.pairs) == 5
    client, seq = page.evaluate("() => [window.__taiyakuGrid.current.client, window.__taiyakuGrid.current.seq]")
    page.close()
    page = context.new_page()
    page.goto(f"{url}/_stcore/health")  # the app's origin, without the grid
    page.evaluate("([key, entry]) => localStorage.setItem(key, entry)",
                  [f"taiyaku.unsent.{pid}.{client}",
                   f'{{"ops": [{{"seq": {seq}, "op": "merge_next", "args": [3]}}], "draft": null, "seq": {seq}}}'])
    page.goto(f"{url}/?project={pid}")
    expect(page.locator('[role="grid"] [role="row"]').first).to_be_visible()
    page.wait_for_function(f"() => localStorage.getItem('taiyaku.unsent.{pid}.{client}') === null")
    saved(page)
    assert stored(db, pid).pairs == merged.pairs
    assert len(page.locator('[role="row"]').all()) == 5
    context.close()


def test_work_kept_from_a_closed_tab_is_not_applied_to_pairs_another_window_moved(server, browser, db):
    pid = project(db, document(6))
    url = server.start()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(f"{url}/?project={pid}")
    page.locator('[role="row"][data-pair="2"] .num').click()
    expect(current(page)).to_have_attribute("data-pair", "2")
    server.kill9()
    page.keyboard.press("m")  # merge pairs 3 and 4 (queued: the server is down)
    expect(page.locator('[role="row"]')).to_have_count(5)
    page.on("dialog", leave)
    with page.expect_event("close"):
        page.close(run_before_unload=True)
    with Store(db) as store:  # meanwhile another window merges pairs 1 and 2: pair 3 is now pair 2
        store.open_project(pid).apply("merge_next", 0)
    server.start()
    page = context.new_page()
    page.goto(f"{url}/?project={pid}")
    expect(page.locator(".msg")).to_contain_text("Not applied: these changes were kept")
    saved(page)
    assert [p.ja for p in stored(db, pid).pairs] == [(0, 1), (2,), (3,), (4,), (5,)]  # not sentences 3 and 4
    expect(page.locator('[role="row"]')).to_have_count(5)
    context.close()


def test_after_a_reload_or_in_a_second_tab_the_current_pair_is_on_screen(server, browser, db):
    pid = project(db, document(40))
    url = server.start()
    page = open_grid(browser, url, pid)
    for _ in range(25):
        page.keyboard.press("j")
    expect(current(page)).to_have_attribute("data-pair", "25")
    deadline = time.monotonic() + WAIT_MS / 1000  # until the server has kept where the tab is
    while time.monotonic() < deadline:
        with Store(db) as store:
            if store.load_view(pid).get("pair") == 25:
                break
        time.sleep(0.1)
    page.reload()  # F5: where the tab was
    expect(current(page)).to_have_attribute("data-pair", "25")
    expect(current(page)).to_be_in_viewport(ratio=0.99)
    expect(page.locator(".panel .ptitle")).to_contain_text("Pair 26 of 40")
    second = open_grid(browser, url, pid)  # a second tab opens where the project was left
    expect(current(second)).to_have_attribute("data-pair", "25")
    expect(current(second)).to_be_in_viewport(ratio=0.99)
    second.keyboard.press("a")
    saved(second)
    assert stored(db, pid).pairs[25].status == "confirmed"
    # A moves on as it confirms: the tab keeps where it now is at once, so a reload opens
    # there however soon it comes (the server hears it only after the acknowledgement)
    second.keyboard.press("a")
    second.keyboard.press("a")
    expect(current(second)).to_have_attribute("data-pair", "28")
    kept = second.evaluate(f"() => JSON.parse(sessionStorage.getItem('taiyaku.view.{pid}')).pair")
    assert kept == 28
    saved(second)
    second.reload()
    expect(current(second)).to_have_attribute("data-pair", "28")


def test_confirming_up_to_here_says_how_many_it_confirmed_and_leaves_red_pairs_to_a(server, browser, db):
    al = document(12)
    al = al.with_pairs([replace(p, score=0.3) if k in (5, 11) else p for k, p in enumerate(al.pairs)])
    pid = project(db, al)
    page = open_grid(browser, server.start(), pid)
    page.keyboard.press("a")  # pair 1 by hand
    page.keyboard.press("End")
    page.keyboard.press("Shift+a")
    expect(page.locator(".msg")).to_have_text(
        "Confirmed 9 pairs up to pair 12 (Z undoes it); 2 red pairs left for A, one at a time.")
    saved(page)
    assert [k for k, p in enumerate(stored(db, pid).pairs) if p.status != "confirmed"] == [5, 11]
    page.keyboard.press("Shift+a")  # only red ones are left: nothing is sent
    expect(page.locator(".msg")).to_have_text("Nothing confirmed: the 2 red pairs up to here are left for A, one at a time.")
    page.keyboard.press("a")  # the reviewer's own look at the red pair
    saved(page)
    assert [k for k, p in enumerate(stored(db, pid).pairs) if p.status != "confirmed"] == [5]


def test_the_confidence_legend_the_wrap_of_n_and_a_plain_refusal_in_headline_mode(server, browser, db):
    from align import review
    pid = project(db, document(6))  # pairs 1 and 4 (scored 0.6) need review
    url = server.start()
    page = open_grid(browser, url, pid)
    legend = page.locator(".legend")  # the chips' thresholds, as align.review sets them
    expect(legend).to_contain_text(f"≥ {review.GREEN:.2f}")
    expect(legend).to_contain_text(f"{review.AMBER:.2f}–{review.GREEN:.2f}")
    expect(legend).to_contain_text(f"< {review.AMBER:.2f}")
    page.keyboard.press("End")
    page.keyboard.press("n")  # none after the last: N wraps to the top and says so
    expect(current(page)).to_have_attribute("data-pair", "0")
    expect(page.locator(".msg")).to_contain_text("No pair after 6 needs review: back to the first one that does, pair 1.")
    page.keyboard.press("n")
    expect(current(page)).to_have_attribute("data-pair", "3")
    expect(page.locator(".msg")).to_have_text("")
    heads = open_grid(browser, url, project(db, headlines(), "heads"))
    heads.keyboard.press("i")
    expect(heads.locator(".msg")).to_contain_text("Marking a sentence as having no translation (I) works on full texts only")
    expect(heads.locator(".msg")).to_contain_text("press 1–5 to link it")


def test_at_1280_by_720_the_japanese_column_is_readable(server, browser, db):
    pid = project(db, document(30))
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.set_default_timeout(WAIT_MS)
    page.goto(f"{server.start()}/?project={pid}")
    cell = current(page).locator('[data-side="ja"]')
    expect(cell).to_be_visible()
    width = cell.evaluate("e => e.getBoundingClientRect().width / parseFloat(getComputedStyle(e).fontSize)")
    assert width >= 16, f"the Japanese column is {width:.1f} characters wide"
    seen = page.locator(".scroller").evaluate(
        "s => { const box = s.getBoundingClientRect(); return [...s.querySelectorAll('[role=row]')]"
        ".filter(r => { const b = r.getBoundingClientRect(); return b.top >= box.top && b.bottom <= box.bottom; }).length }")
    assert seen >= 5, f"{seen} whole pairs on screen"
    page.screenshot(path=str(db.parent / "grid_1280.png"))
