"""The review app's flow, driven with Streamlit's AppTest (no browser): the
sample on first run, review operations, undo/redo across sessions, the
filter, headline relinking, export content, and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from align import export
from align.model import Alignment, Pair, Segment
from align.store import Store

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 120  # the first run loads the encoder and aligns the sample

JA_DOC = ("ゼレンスキー大統領率いるウクライナ側交渉団と米国代表団が15日、ベルリンで停戦協議を行った。"
          "ウメロフ書記は協議終了後、「実質的な進展」があったと述べた。"
          "米当局者は、全体の90%で意見の一致に近づいていると説明した。\n\n"
          "トランプ氏は、戦争終結にかつてなく近づいていると語った。"
          "ベルリンでの協議にロシアは参加しなかった。"
          "ウクライナ保安局はロシアの潜水艦を水中ドローンで損傷させたと主張した。\n")
EN_DOC = ("Ukraine's negotiators, led by President Zelenskiy, held ceasefire talks with a US "
          "delegation in Berlin on the 15th. Secretary Umerov said after the talks that there had "
          "been \"real progress.\" US officials said the two sides were close to agreement on 90% "
          "of the issues.\n\nTrump said the end of the war was closer than ever. Russia did not "
          "take part in the talks in Berlin. Ukraine's security service said it had damaged a "
          "Russian submarine with an underwater drone.\n")


@pytest.fixture
def db(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "projects.sqlite3"
    monkeypatch.setenv("TAIYAKU_DB", str(path))
    return path


def document(n: int = 6, score: float = 0.6) -> Alignment:
    ja = tuple(Segment(f"これは{k}番目の文です。") for k in range(n))
    en = tuple(Segment(f"This is sentence {k}.") for k in range(n))
    pairs = tuple(Pair((k,), (k,), score if k % 2 else 0.95) for k in range(n))
    return Alignment(ja, en, pairs)


def new_doc_project(db: Path, al: Alignment | None = None) -> int:
    with Store(db) as store:
        return store.create_project("doc", al or document(), sources=[("a.txt", b"a")], model="use-m3")


def current(db: Path, pid: int) -> Alignment:
    with Store(db) as store:
        return store.open_project(pid).current


def app(pid: int | None = None, pair: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if pid is not None:
        at.query_params["project"] = str(pid)
    if pair is not None:
        at.query_params["pair"] = str(pair)
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def listed(at: AppTest) -> list[int]:
    """Pair numbers (1-based) shown in the list."""
    return [int(b.label) for b in at.button if b.key and b.key.startswith("go_")]


def click(at: AppTest, key: str) -> AppTest:
    return at.button(key=key).click().run()


# -- first run and resuming ---------------------------------------------------------------

def test_first_run_shows_the_sample_aligned_with_its_headlines(db):
    at = ok(app())
    text = page_text(at)
    assert "Sample" in text and "headlines" in text
    assert "Ukraine and US Make ‘Real Progress’" in text
    assert "「実質的な進展」" in text
    assert listed(at) == [1, 2, 3, 4, 5, 6]
    assert at.button(key="cand_1") is not None  # ranked candidates are offered
    assert at.query_params["project"] == "1"
    # A new session (another tab, a refresh without the URL) resumes it, not a new copy.
    ok(app())
    with Store(db) as store:
        projects = store.list_projects()
    assert len(projects) == 1
    info = projects[0]
    assert info.mode == "headlines" and info.model == "use-m3"
    assert [s.filename for s in info.sources] == ["ukraine_talks_bloomberg_ja.txt"]
    assert len(info.sources[0].sha256) == 64 and info.created


def test_the_url_brings_a_refresh_back_to_its_project_and_pair(db):
    new_doc_project(db)
    pid = new_doc_project(db, document(8))
    at = ok(app(pid, pair=4))
    assert at.session_state.sel == 3
    assert "Pair 4" in page_text(at)
    gone = ok(app(99))
    assert "does not exist" in gone.warning[0].value


# -- operations -------------------------------------------------------------------------------

def test_confirm_saves_and_moves_to_the_next_pair(db):
    pid = new_doc_project(db)
    at = ok(app(pid))
    at = ok(click(at, "act_confirm"))
    assert current(db, pid).pairs[0].status == "confirmed"
    assert at.session_state.sel == 1
    assert at.query_params["pair"] == "2"
    at = ok(click(at, "act_confirm_through"))
    assert [p.status for p in current(db, pid).pairs[:3]] == ["confirmed", "confirmed", "auto"]


def test_merge_undo_redo_and_the_history_survives_a_new_session(db):
    pid = new_doc_project(db)
    at = ok(app(pid))
    at = ok(click(at, "go_1"))  # select pair 2 (keys count from 0)
    at = ok(click(at, "act_merge_next"))
    al = current(db, pid)
    assert len(al.pairs) == 5 and al.pairs[1].ja == (1, 2) and al.pairs[1].status == "edited"
    assert "これは1番目の文です。" in page_text(at) and listed(at) == [1, 2, 3, 4, 5]
    at = ok(click(at, "act_undo"))
    assert len(current(db, pid).pairs) == 6
    at = ok(click(at, "act_redo"))
    assert len(current(db, pid).pairs) == 5
    # A refresh or a restarted server: same state, and undo still works.
    again = ok(app(pid))
    assert listed(again) == [1, 2, 3, 4, 5]
    again = ok(click(again, "act_undo"))
    assert len(current(db, pid).pairs) == 6


def test_split_shift_insert_delete_and_edit(db):
    pid = new_doc_project(db)
    at = ok(app(pid, pair=2))
    at = ok(click(at, "act_merge_next"))          # pair 2 = ja 1-2 / en 1-2
    at = ok(click(at, "act_split"))               # back to two pairs
    assert len(current(db, pid).pairs) == 6
    at = ok(click(at, "act_ja_up"))               # pair 2's Japanese joins pair 1
    al = current(db, pid)
    assert al.pairs[0].ja == (0, 1) and al.pairs[1].ja == ()
    at = ok(click(at, "act_undo"))
    at = ok(click(at, "act_ins_ja"))              # ja alone (1-0), then (0-1)
    al = current(db, pid)
    assert (al.pairs[1].kind, al.pairs[2].kind) == ("1-0", "0-1")
    at = ok(click(at, "act_undo"))
    at = ok(click(at, "act_delete"))              # unlink: each segment alone
    assert len(current(db, pid).pairs) == 7
    at = ok(click(at, "act_undo"))
    at = ok(click(at, "act_edit"))                # the editor opens
    area = at.text_area(key=f"ed_en_1_{at.session_state.project.cursor}")
    area.set_value("This is the corrected sentence.").run()
    save = [b for b in at.button if b.key and b.key.startswith("save_ed_en_1_")][0]
    at = ok(save.click().run())
    assert current(db, pid).en[1].text == "This is the corrected sentence."
    assert "This is the corrected sentence." in page_text(at)


def test_cut_a_segment_at_a_sentence_end_and_at_a_character(db):
    al = Alignment((Segment("一文目です。二文目です。"),), (Segment("One. Two."),), (Pair((0,), (0,), 0.5),))
    pid = new_doc_project(db, al)
    at = ok(click(ok(app(pid)), "act_edit"))
    cut = [b for b in at.button if b.key and b.key.startswith("cut_ed_ja_0_")]
    assert len(cut) == 1
    at = ok(cut[0].click().run())
    assert [s.text for s in current(db, pid).ja] == ["一文目です。", "二文目です。"]
    version = at.session_state.project.cursor
    at.number_input(key=f"off_ed_en_0_{version}").set_value(4).run()
    at = ok(at.button(key=f"cutat_ed_en_0_{version}").click().run())
    assert [s.text for s in current(db, pid).en] == ["One.", "Two."]


def test_a_locked_pair_gets_a_message_not_a_traceback(db):
    pid = new_doc_project(db)
    at = ok(app(pid))
    at = ok(click(at, "act_confirm"))
    at = ok(click(at, "nav_prev"))  # back to the confirmed pair 1
    at = click(at, "act_merge_next")
    assert not at.exception
    assert "confirmed" in at.warning[0].value
    assert len(current(db, pid).pairs) == 6


def test_keyboard_shortcuts_are_on_the_buttons_and_unique(db):
    pid = new_doc_project(db)
    at = ok(app(pid))
    shortcuts = {b.key: b.proto.shortcut.lower() for b in at.button if b.proto.shortcut}
    assert shortcuts["act_confirm"] == "a" and shortcuts["act_merge_next"] == "m"
    assert shortcuts["act_merge_prev"] == "shift+m" and shortcuts["act_undo"] == "z"
    assert shortcuts["nav_next"] == "j" and shortcuts["act_delete"] == "delete"
    assert len(set(shortcuts.values())) == len(shortcuts) >= 18
    assert "c" not in shortcuts.values() and "r" not in shortcuts.values()  # reserved by Streamlit
    assert "<kbd>J</kbd>" in "\n".join(m.value for m in at.sidebar.markdown)


# -- navigation and the filter ------------------------------------------------------------------

def test_needs_review_filter_and_jump(db):
    pid = new_doc_project(db)  # pairs 2, 4, 6 (1-based) score 0.6: need review
    at = ok(app(pid))
    at.segmented_control(key="filter").set_value("review").run()
    ok(at)
    assert listed(at) == [2, 4, 6]
    assert at.session_state.sel == 1  # moved onto the first shown pair
    at = ok(click(at, "act_confirm"))  # confirmed: leaves the list, cursor on the next
    assert listed(at) == [4, 6] and at.session_state.sel == 3
    at = ok(click(at, "nav_next"))
    assert at.session_state.sel == 5
    at.segmented_control(key="filter").set_value("all").run()
    at = ok(click(at, "nav_review"))
    assert at.session_state.sel == 3  # wraps round to the next one needing review


def test_paging_500_pairs(db):
    pid = new_doc_project(db, document(500))
    at = ok(app(pid))
    assert listed(at) == list(range(1, 26))
    at.pagination[0].set_value(3).run()
    assert listed(ok(at)) == list(range(51, 76)) and at.session_state.sel == 50
    at = ok(click(at, "nav_prev"))  # over the page edge
    assert listed(at) == list(range(26, 51)) and at.session_state.sel == 49
    at.selectbox(key="page_size").set_value(100).run()
    assert listed(ok(at)) == list(range(1, 101))


# -- headlines -----------------------------------------------------------------------------------

def test_headline_relink_by_candidate_and_by_choice(db):
    at = ok(app())
    pid = int(at.query_params["project"])
    before = current(db, pid).pairs[0]
    second = before.candidates[1].ja
    at = ok(click(at, "cand_2"))
    after = current(db, pid).pairs[0]
    assert after.ja == second and after.status == "edited"
    assert after.en == before.en
    # Several sentences at once.
    chosen = list(before.candidates[0].ja) + list(second)
    at.multiselect[0].set_value(chosen).run()
    at = ok(click(at, "act_relink"))
    assert current(db, pid).pairs[0].ja == tuple(chosen)
    assert not [b for b in at.button if b.key == "act_merge_next"]  # document-only ops hidden


# -- export ----------------------------------------------------------------------------------------

def test_export_has_the_four_formats_and_the_edited_text(db):
    pid = new_doc_project(db)
    at = ok(app(pid))
    at = ok(click(at, "act_merge_next"))
    at = ok(click(at, "act_confirm"))
    at.segmented_control(key="view").set_value("Export").run()
    ok(at)
    labels = [b.label for b in at.download_button]
    assert labels == ["Download TSV", "Download JSON", "Download TMX", "Download XLSX"]
    preview = at.code[0].value
    al = current(db, pid)
    assert preview.split("\n")[0] == "これは0番目の文です。これは1番目の文です。\tThis is sentence 0. This is sentence 1."
    assert preview + "\n" == export.to_tsv(al)
    at.checkbox(key="exp_confirmed").check().run()
    assert ok(at).code[0].value == export.to_tsv(al, confirmed_only=True).rstrip("\n")
    assert len(at.code[0].value.split("\n")) == 1


# -- map ---------------------------------------------------------------------------------------------

def test_map_view_draws_the_heatmap(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("Map").run()
    ok(at)
    charts = at.get("plotly_chart")
    assert len(charts) == 1


# -- new alignments and bad input -------------------------------------------------------------------

def test_paste_text_aligns_a_document_project(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("New alignment").run()
    at.text_area(key="paste_ja").set_value(JA_DOC)
    at.text_area(key="paste_en").set_value(EN_DOC)
    at.segmented_control(key="new_mode").set_value("document")
    at.text_input(key="new_name").set_value("Berlin talks").run()
    at = ok(click(at, "new_align"))
    assert at.session_state.view == "Review"
    with Store(db) as store:
        info = store.list_projects()[0]
    assert info.name == "Berlin talks" and info.mode == "document"
    assert [s.filename for s in info.sources] == ["pasted Japanese", "pasted English"]
    assert listed(at) == [1, 2, 3, 4, 5, 6]
    assert at.query_params["project"] == str(info.id)


def test_uploaded_files_align(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload("talks_ja.txt", JA_DOC.encode("cp932"), "text/plain")
    at.file_uploader(key="up_en").upload("talks_en.txt", EN_DOC.encode(), "text/plain").run()
    at = ok(click(at, "new_align"))
    with Store(db) as store:
        info = store.list_projects()[0]
    assert info.name == "talks_ja + talks_en" and info.mode == "document"
    assert [s.filename for s in info.sources] == ["talks_ja.txt", "talks_en.txt"]
    assert "ウメロフ書記" in page_text(at)


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    ("junk.txt", bytes([0x80, 0xff, 0xfe, 0x81]) * 200, "decode"),
    ("pickle.pkl", b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x05posix\x94.", "binary"),
])
def test_a_bad_upload_gets_a_message_and_the_app_goes_on(db, name, data, message):
    at = ok(app())
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload(name, data, "text/plain").run()
    at = click(at, "new_align")
    assert not at.exception
    assert message in at.error[0].value and name in at.error[0].value
    with Store(db) as store:
        assert len(store.list_projects()) == 1  # only the sample
    at.segmented_control(key="view").set_value("Review").run()
    assert listed(ok(at)) == [1, 2, 3, 4, 5, 6]


def test_an_oversized_upload_is_refused(db, monkeypatch):
    import align.sources

    at = ok(app())
    monkeypatch.setattr(align.sources, "MAX_BYTES", 1000)  # after the sample is made
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload("big.txt", "あ".encode() * 400, "text/plain").run()
    at = click(at, "new_align")
    assert "too large" in at.error[0].value


def test_pasted_english_alone_or_nothing_gets_a_message(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("New alignment").run()
    at = click(at, "new_align")
    assert "nothing to align" in at.error[0].value
    at.text_area(key="paste_ja").set_value("これは日本語の文です。英語はありません。").run()
    at = click(at, "new_align")
    assert "原題" in at.error[0].value and not at.exception


def test_import_an_exported_alignment(db):
    pid = new_doc_project(db)
    data = export.render(current(db, pid), "tmx")
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_import").upload("old.tmx", data, "application/xml").run()
    at = ok(click(at, "new_import"))
    with Store(db) as store:
        info = store.list_projects()[0]
        assert info.name == "old" and len(store.open_project(info.id).current.pairs) == 6
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_import").upload("bad.json", b"{not json", "application/json").run()
    at = click(at, "new_import")
    assert "bad.json" in at.error[0].value and not at.exception


def test_switching_projects_from_the_sidebar(db):
    first = new_doc_project(db)
    second = new_doc_project(db, document(3))
    at = ok(app(first))
    at.sidebar.selectbox(key="proj_pick").set_value(second).run()
    assert ok(at).query_params["project"] == str(second)
    assert listed(at) == [1, 2, 3]


def test_if_the_sample_cannot_be_aligned_the_app_offers_a_new_alignment(db, monkeypatch):
    import align.pipeline

    def broken(*args, **kwargs):
        raise RuntimeError("no model here")

    monkeypatch.setattr(align.pipeline, "align_texts", broken)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert "no model here" in at.warning[0].value
    assert at.button(key="new_align") is not None


def test_cut_at_a_line_break_the_translator_typed(db):
    al = Alignment((Segment("一文目です二文目です"),), (Segment("One two"),), (Pair((0,), (0,), 0.5),))
    pid = new_doc_project(db, al)
    at = ok(click(ok(app(pid)), "act_edit"))
    version = at.session_state.project.cursor
    at.text_area(key=f"ed_ja_0_{version}").set_value("一文目です\n二文目でした")  # text changed too
    at = click(at, f"cutbr_ed_ja_0_{version}")
    assert "one line break" in at.warning[0].value
    at.text_area(key=f"ed_ja_0_{version}").set_value("一文目です\n二文目です")
    at = ok(click(at, f"cutbr_ed_ja_0_{version}"))
    assert [s.text for s in current(db, pid).ja] == ["一文目です", "二文目です"]
    assert current(db, pid).pairs[0].ja == (0, 1)
