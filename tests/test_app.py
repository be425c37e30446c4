"""The review app's shell, driven with Streamlit's AppTest (no browser): the
sample on first run, what the grid is sent, the grid's messages applied
through the store, the project list, export, and new alignments with bad
input. The grid's own behaviour is in test_e2e.py; its protocol in
test_grid.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from align import export, projects
from align.model import Alignment, Pair, Segment
from align.store import Store

pytestmark = pytest.mark.slow  # subprocesses, servers or whole page runs

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
    return Alignment(ja, en, tuple(Pair((k,), (k,), score if k % 2 else 0.95) for k in range(n)))


def new_doc_project(db: Path, al: Alignment | None = None, name: str = "doc") -> int:
    with Store(db) as store:
        return store.create_project(name, al or document(), sources=[("a.txt", b"a")], model="use-m3")


def current(db: Path, pid: int) -> Alignment:
    with Store(db) as store:
        return store.open_project(pid).current


def app(pid: int | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if pid is not None:
        at.query_params["project"] = str(pid)
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def grid_data(at: AppTest) -> dict:
    """What the page sent the review grid (the component's JSON data)."""
    (element,) = at.get("bidi_component")
    return json.loads(element.proto.json)


def shown(element) -> str:
    """A message as the reader sees it (data in messages is backslash-escaped Markdown)."""
    return re.sub(r"\\(.)", r"\1", element.value)


def page_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


# -- first run and resuming ---------------------------------------------------------------

def test_first_run_shows_the_sample_aligned_with_its_headlines(db):
    at = ok(app())
    assert "Sample" in page_text(at)
    data = grid_data(at)
    assert data["mode"] == "headlines" and len(data["pairs"]) == 6
    headlines = [seg[0] for seg in data["en"]]
    assert "Ukraine and US Make ‘Real Progress’ as European Leaders Meet (1)" in headlines
    assert all(p["cands"] for p in data["pairs"])  # ranked candidates come along
    assert at.query_params["project"] == "1"
    ok(app())  # a new session resumes it, not a new copy
    with Store(db) as store:
        (info,) = store.list_projects()
    assert info.mode == "headlines" and info.model == "use-m3"
    assert [s.filename for s in info.sources] == ["ukraine_talks_bloomberg_ja.txt"]


def test_the_url_opens_a_project_and_an_unknown_one_says_so(db):
    new_doc_project(db)
    pid = new_doc_project(db, document(8))
    assert len(grid_data(ok(app(pid)))["pairs"]) == 8
    for wanted in ("99", "99999999999999999999", "x"):
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.query_params["project"] = wanted
        at.run()
        assert not at.exception and "no project" in shown(at.warning[0])


def test_a_project_reopens_where_the_reviewer_left_it(db):
    pid = new_doc_project(db)
    with Store(db) as store:
        store.save_view(pid, {"pair": 4, "filter": {"review": True}})
    assert grid_data(ok(app(pid)))["view"] == {"pair": 4, "filter": {"review": True}}


def test_the_grid_callback_applies_operations_and_acknowledges_them(db):
    from align import app as page

    pid = new_doc_project(db)
    at = ok(app(pid))
    ops = [{"seq": 1, "op": "merge_next", "args": [0]}, {"seq": 2, "op": "confirm", "args": [0]}]
    # The callback as Streamlit calls it, with the component's result in session state.
    state = {"project": at.session_state.project, f"grid_{pid}": {"msg": {"client": "tab1", "ops": ops,
                                                                          "view": {"pair": 1}}}}

    class Session(dict):
        __getattr__ = dict.get

        def __setattr__(self, k, v):
            self[k] = v

    session = Session(state)
    import streamlit as st
    real = st.session_state
    try:
        page.st.session_state = session
        page.on_grid_message()
        page.save_grid_view()  # as the grid's fragment does once the acknowledgement is sent
    finally:
        page.st.session_state = real
    assert session["ack"][0] == pid and session["ack"][1].seq == 2 and session["ack"][1].error is None
    al = current(db, pid)
    assert al.pairs[0].ja == (0, 1) and al.pairs[0].status == "confirmed"
    with Store(db) as store:
        assert store.load_view(pid) == {"pair": 1}


# -- the project list --------------------------------------------------------------------------

def test_switch_rename_and_delete_projects_from_the_sidebar(db):
    first = new_doc_project(db, name="first")
    second = new_doc_project(db, document(3), name="second")
    at = ok(app(first))
    labels = at.sidebar.selectbox(key="proj_pick").options
    assert any("second · 0 / 3 confirmed" in label for label in labels)
    # the current project's count is only the caption the review grid keeps up to date:
    # the list, drawn on a page rerun only, would fall behind the edits
    assert any(label.startswith("first · opened") for label in labels)
    assert [c.value for c in at.sidebar.caption] == ["0 of 6 pairs confirmed"]
    at.sidebar.selectbox(key="proj_pick").set_value(second).run()
    assert ok(at).query_params["project"] == str(second)
    assert len(grid_data(at)["pairs"]) == 3
    at.sidebar.text_input(key=f"rename_{second}").set_value("![x](http://evil.example/a.png) renamed").run()
    at.sidebar.button(key="act_rename").click().run()
    with Store(db) as store:
        assert store.project_info(second).name == "![x](http://evil.example/a.png) renamed"
    # shown as text, never as an image or a link
    heading = [m.value for m in ok(at).markdown if "renamed" in m.value][0]
    assert "![x](" not in heading and "\\!\\[x\\]" in heading
    at.sidebar.checkbox(key=f"del_ok_{second}").check().run()
    with Store(db) as store:  # another window deleted it a moment before: the same outcome, no error
        store.delete_project(second)
    ok(at.sidebar.button(key="act_delete").click().run())
    with Store(db) as store:
        assert [i.id for i in store.list_projects()] == [first]
    assert len(grid_data(ok(at.run()))["pairs"]) == 6


# -- export ----------------------------------------------------------------------------------------

def test_another_window_s_edits_and_deletion_reach_this_session_on_its_next_run(db):
    first, second = new_doc_project(db, name="first"), new_doc_project(db, document(3), name="second")
    at = ok(app(first))
    at.segmented_control(key="view").set_value("Export").run()
    with Store(db) as store:  # another window confirms a pair
        store.open_project(first).apply("confirm", 0)
    at.checkbox(key="exp_confirmed").check().run()
    assert "(nothing to export)" not in ok(at).code[0].value  # the confirmed pair, not a stale state
    assert [c.value for c in at.sidebar.caption] == ["1 of 6 pairs confirmed"]
    with Store(db) as store:  # and then deletes the project
        store.delete_project(first)
    at.run()
    assert any("Another window deleted project" in w.value for w in ok(at).warning)
    assert at.query_params["project"] == str(second)


def test_export_has_the_four_formats_and_the_current_text(db):
    pid = new_doc_project(db)
    with Store(db) as store:
        store.open_project(pid).apply("merge_next", 0)
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("Export").run()
    labels = [b.label for b in ok(at).download_button]
    assert labels == ["Download TSV", "Download JSON", "Download TMX", "Download XLSX"]
    assert [c.value for c in at.sidebar.caption] == ["0 of 5 pairs confirmed"]  # away from Review too
    al = current(db, pid)
    assert at.code[0].value + "\n" == export.to_tsv(al)
    at.checkbox(key="exp_confirmed").check().run()
    assert ok(at).code[0].value == "(nothing to export)"
    at.checkbox(key="exp_excel").check().run()  # the preview is what the download holds
    assert ok(at).code[0].value == "ja\ten"  # its header alone: nothing confirmed


def test_the_confirmed_only_label_says_how_many_pairs_a_tm_gets(db):
    ja = tuple(Segment(f"これは{k}番目の文です。") for k in range(3))
    en = tuple(Segment(f"This is sentence {k}.") for k in range(2))
    al = Alignment(ja, en, (Pair((0,), (0,), 0.9, "confirmed"), Pair((1,), (1,), 0.9),
                            Pair((2,), (), 0.5, "confirmed")))  # a Japanese sentence confirmed untranslated
    pid = new_doc_project(db, al)
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("Export").run()
    label = at.checkbox(key="exp_confirmed").label
    assert label == "Confirmed pairs only (2 of 3; 1 with both sides go to TSV and TMX)"


def test_headline_export_offers_to_leave_headlines_out(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("Export").run()
    assert "*MERZ" not in ok(at).code[0].value and "MERZ" in at.code[0].value  # marks removed
    at.checkbox(key="exp_keep_marks").check().run()
    assert "*MERZ" in ok(at).code[0].value
    at.checkbox(key="exp_no_headlines").check().run()
    assert ok(at).code[0].value == "(nothing to export)"
    with Store(db) as store:  # a confirmed headline pair: none of it goes to a TM now
        store.open_project(store.list_projects()[0].id).apply("confirm", 0)
    assert "; 0 with both sides go to TSV and TMX" in ok(at.run()).checkbox(key="exp_confirmed").label


def test_an_export_excel_cannot_hold_is_said_before_any_click(db):
    al = Alignment((Segment("長" * 33_000),), (Segment("Long."),), (Pair((0,), (0,), 0.9),))
    at = ok(app(new_doc_project(db, al)))
    at.segmented_control(key="view").set_value("Export").run()
    assert [b.label for b in at.download_button] == ["Download TSV", "Download JSON", "Download TMX"]
    assert "XLSX: pair 1: the Japanese text has 33,000 characters" in shown(at.warning[0])


def test_map_view_draws_the_heatmap(db):
    at = ok(app())
    at.segmented_control(key="view").set_value("Map").run()
    assert len(ok(at).get("plotly_chart")) == 1


def test_the_map_is_embedded_again_only_when_the_segments_change(db, monkeypatch):
    import align.heatmap
    made = []
    real = align.heatmap.map_similarities
    monkeypatch.setattr(align.heatmap, "map_similarities",
                        lambda al, model: made.append([s.text for s in al.ja]) or real(al, model))
    pid = new_doc_project(db)
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("Map").run()

    def then(*steps):
        with Store(db) as store:
            project = store.open_project(pid)
            for step in steps:
                project.undo() if step == "undo" else project.apply(*step)
        ok(at.run())

    then(("confirm", 0))  # no segment changes: the same matrix
    then(("split_segment", "ja", 0, 3))
    then("undo", ("split_segment", "ja", 1, 3))  # other segments at the same point of the history
    original, cut_first, cut_second = made  # one matrix for each set of segments, none for the confirm
    assert cut_first[0] != original[0] and cut_second[0] == original[0] and cut_second != cut_first


# -- new alignments and bad input -------------------------------------------------------------------

def test_the_new_alignment_view_is_clean_and_pasted_text_aligns(db):
    pid = new_doc_project(db, name="old project")
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("New alignment").run()
    assert "old project" not in page_text(ok(at))  # no previous project's header
    at.text_area(key="paste_ja").set_value(JA_DOC)
    at.text_area(key="paste_en").set_value(EN_DOC)
    at.segmented_control(key="new_mode").set_value("document")
    at.text_input(key="new_name").set_value("Berlin talks").run()
    at = ok(at.button(key="new_align").click().run())
    assert at.session_state.view == "Review"
    with Store(db) as store:
        info = store.list_projects()[0]
    assert info.name == "Berlin talks" and info.mode == "document"
    assert len(grid_data(at)["pairs"]) == 6
    assert at.query_params["project"] == str(info.id)


def test_the_new_view_says_which_texts_align_will_read(db):
    # A dropped upload (or a missing English file) is said before Align runs, never
    # turned silently into headline mode.
    def inputs_line(*args):
        return projects.chosen_inputs(*args).plan
    assert inputs_line("a.txt", "b.txt", "", "") == "Align will read a.txt (Japanese) and b.txt (English)."
    assert "no English file" in inputs_line("a.txt", None, "", "") and "原題" in inputs_line("a.txt", None, "", "")
    assert "pasted English is not used" in inputs_line("a.txt", None, "", "Hello.")
    assert "add the Japanese file" in inputs_line(None, "b.txt", "", "")
    assert "pasted English" in inputs_line(None, None, "日本語。", "English.")
    assert "Nothing to align" in inputs_line(None, None, " ", "")
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload("talks_ja.txt", JA_DOC.encode(), "text/plain").run()
    assert "talks_ja.txt (Japanese) and no English file" in shown(ok(at).info[0])
    at.file_uploader(key="up_en").upload("talks_en.txt", EN_DOC.encode(), "text/plain").run()
    assert not ok(at).info
    assert any("talks_ja.txt (Japanese) and talks_en.txt (English)" in shown(c) for c in at.caption)
    at = ok(at.button(key="new_align").click().run())
    assert "Aligned talks_ja.txt with talks_en.txt, in document mode" in shown(at.success[0])


def test_swapped_files_get_a_swap_button(db):
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload("talks_en.txt", EN_DOC.encode(), "text/plain")
    at.file_uploader(key="up_en").upload("talks_ja.txt", JA_DOC.encode(), "text/plain").run()
    assert "looks English" in shown(ok(at).warning[0])
    at.button(key="new_swap").click().run()
    at = ok(at.button(key="new_align").click().run())
    with Store(db) as store:
        info = store.list_projects()[0]
    assert [s.filename for s in info.sources] == ["talks_ja.txt", "talks_en.txt"]


@pytest.mark.parametrize("name, data, message", [
    ("empty.txt", b"", "empty"),
    ("photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    ("junk.txt", bytes([0x80, 0xff, 0xfe, 0x81]) * 200, "decode"),
])
def test_a_bad_upload_gets_a_message_and_the_app_goes_on(db, name, data, message):
    pid = new_doc_project(db)
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_ja").upload(name, data, "text/plain").run()
    at = at.button(key="new_align").click().run()
    assert not at.exception
    assert message in shown(at.error[0]) and name in shown(at.error[0])
    with Store(db) as store:
        assert len(store.list_projects()) == 1


def test_pasted_english_alone_or_nothing_gets_a_message(db):
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("New alignment").run()
    at = at.button(key="new_align").click().run()
    assert "nothing to align" in shown(at.error[0])
    at.text_area(key="paste_ja").set_value("これは日本語の文です。英語はありません。").run()
    at = at.button(key="new_align").click().run()
    assert "原題" in shown(at.error[0]) and not at.exception


def test_import_an_exported_alignment(db):
    pid = new_doc_project(db)
    data = export.render(current(db, pid), "tmx")
    at = ok(app(pid))
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_import").upload("old.tmx", data, "application/xml").run()
    at = ok(at.button(key="new_import").click().run())
    with Store(db) as store:
        info = store.list_projects()[0]
        assert info.name == "old" and len(store.open_project(info.id).current.pairs) == 6
    at.segmented_control(key="view").set_value("New alignment").run()
    at.file_uploader(key="up_import").upload("bad.json", b"{not json", "application/json").run()
    at = at.button(key="new_import").click().run()
    assert "bad.json" in shown(at.error[0]) and not at.exception


def test_if_the_sample_cannot_be_aligned_the_app_offers_a_new_alignment(db, monkeypatch):
    import align.projects

    def broken(*args, **kwargs):
        raise RuntimeError("no model here")

    monkeypatch.setattr(align.projects, "align_texts", broken)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert "no model here" in shown(at.warning[0])
    assert at.button(key="new_align") is not None


def test_the_corpus_view_lists_a_run_and_writes_its_memory_again(db, tmp_path):
    from test_projects import corpus_run

    out = corpus_run(tmp_path)
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("Corpus").run()
    at.text_input(key="corpus_dir").set_value(str(out)).run()
    table = ok(at).dataframe[0].value
    assert list(table["Japanese"]) == ["a.txt", "b.txt"] and list(table["reviewed"]) == ["not opened"] * 2
    at.button(key="corpus_export").click().run()
    assert "units written" in shown(ok(at).success[0])
    at.segmented_control(key="view").set_value("Review").run()  # and back: the folder is still there
    at.segmented_control(key="view").set_value("Corpus").run()
    assert at.text_input(key="corpus_dir").value == str(out) and len(ok(at).dataframe) == 1
    again = AppTest.from_file(APP, default_timeout=TIMEOUT)  # the page loaded again, at the same address
    again.query_params.update(at.query_params)
    again.run()
    again.segmented_control(key="view").set_value("Corpus").run()
    assert again.text_input(key="corpus_dir").value == str(out) and len(ok(again).dataframe) == 1
    (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\na.txt\ta_en.txt\n", encoding="utf-8")
    at.button(key="corpus_export").click().run()  # a hand edit gone wrong: the file and line, no traceback
    assert not at.exception and "documents.tsv: line 2 is not" in shown(at.error[0])
    at.text_input(key="corpus_dir").set_value(str(tmp_path / "nothing")).run()
    assert "not a corpus run" in shown(at.error[0])


def test_the_corpus_view_puts_reviewed_documents_last_and_names_the_unpaired(db, tmp_path):
    from test_projects import corpus_run

    out = corpus_run(tmp_path)
    with (out / "documents.tsv").open("a", encoding="utf-8") as f:
        f.write("c.txt\t\t\t\n")  # a Japanese document without counterpart
    with Store(db) as store:  # a.txt, first in need of review, reviewed to the end
        pid, _ = projects.open_corpus_document(store, out, projects.corpus_documents(out)[0])
        project = store.open_project(pid)
        for k in range(len(project.current.pairs)):
            project.apply("confirm", k)
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("Corpus").run()
    at.text_input(key="corpus_dir").set_value(str(out)).run()
    table = ok(at).dataframe[0].value
    assert list(table["Japanese"]) == ["b.txt", "a.txt"] and list(table["reviewed"]) == ["not opened", "2 / 2"]
    assert any("No counterpart found for 1 Japanese document: c.txt" in shown(c) for c in at.caption)


def test_the_corpus_view_names_reviews_of_documents_that_changed_since(db, tmp_path):
    from test_projects import corpus_run

    out = corpus_run(tmp_path)
    with Store(db) as store:  # a.txt reviewed here, in part
        pid, _ = projects.open_corpus_document(store, out, projects.corpus_documents(out)[0])
        store.open_project(pid).apply("confirm", 1)
    text = (out / "alignments/a.json").read_text(encoding="utf-8")  # a run aligned a.txt again: another key
    (out / "alignments/a.json").write_text(text.replace('"meta": {}', '"meta": {"corpus": {"key": {"ja_sha256": "9"}}}'),
                                           encoding="utf-8")
    b = out / "alignments/b.json"  # and b.txt was reviewed elsewhere, its review written in its file
    b.write_text(b.read_text(encoding="utf-8").replace('"auto"', '"confirmed"', 1), encoding="utf-8")
    from align import corpus
    corpus.write_exports(out)
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("Corpus").run()
    at.text_input(key="corpus_dir").set_value(str(out)).run()
    assert any("1 review made here of an earlier version of a document" in shown(c) and "a.txt" in shown(c)
               for c in ok(at).caption)
    table = at.dataframe[0].value
    assert dict(zip(table["Japanese"], table["reviewed"])) == {"a.txt": "not opened",
                                                               "b.txt": "not opened (1 confirmed in its file)"}


def test_hostile_file_names_are_shown_as_text(db):
    at = ok(app(new_doc_project(db)))
    at.segmented_control(key="view").set_value("New alignment").run()
    name = "![x](http://evil.example/a.png)#[link](http://evil.example).txt"
    at.file_uploader(key="up_ja").upload(name, b"", "text/plain").run()
    at = at.button(key="new_align").click().run()
    raw = at.error[0].value
    assert "empty" in raw and "](" not in raw and "\\!\\[x\\]" in raw  # escaped: text, not an image
    assert name in shown(at.error[0])
