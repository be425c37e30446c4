"""Projects made from inputs (align/projects.py), shared by the app and the
command line: the sample found again by its hash, uploads and pasted text,
swapped files, imports, and the project list with progress."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from align import export, projects
from align.errors import InputError
from align.model import Alignment, Pair, Segment
from align.store import Store

JA = "これは最初の文です。これは二番目の文です。"
EN = "This is the first sentence. This is the second sentence."


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "p.sqlite3") as s:
        yield s


def test_the_sample_is_created_once(store):
    first = projects.sample_project(store)
    assert projects.sample_project(store) == first
    assert len(store.list_projects()) == 1
    assert store.open_project(first).current.mode == "headlines"


def test_uploads_and_pasted_text_become_projects(store):
    pid, al = projects.create_project(store, ja=projects.Upload("a_ja.txt", JA.encode("cp932")),
                                      en=projects.Upload("a_en.txt", EN.encode()), mode="document")
    info = store.project_info(pid)
    assert info.name == "a_ja + a_en" and [s.filename for s in info.sources] == ["a_ja.txt", "a_en.txt"]
    assert len(al.pairs) == 2
    pid, _ = projects.create_project(store, pasted_ja=JA, pasted_en=EN, name=" Mine ")
    assert store.project_info(pid).name == "Mine"


@pytest.mark.parametrize("kwargs, match", [
    ({}, "nothing to align"),
    ({"en": projects.Upload("e.txt", EN.encode())}, "Japanese file too"),
    ({"pasted_ja": JA}, "原題"),
    ({"ja": projects.Upload("big.txt", b"a" * (20 * 2**20 + 1))}, "too large"),
    ({"pasted_ja": "あ" * (7 * 2**20)}, "too large"),
])
def test_bad_inputs_say_what_is_wrong(store, kwargs, match):
    with pytest.raises(InputError, match=match):
        projects.create_project(store, **kwargs)
    assert store.list_projects() == []


def test_looks_swapped():
    assert projects.looks_swapped(EN, JA)
    assert not projects.looks_swapped(JA, EN)
    assert not projects.looks_swapped(JA, None)


def test_import_and_the_project_list(store):
    al = Alignment((Segment("一。"), Segment("二。")), (Segment("One."), Segment("Two.")),
                   (Pair((0,), (0,), 0.9, "confirmed"), Pair((1,), (1,), 0.4)))
    pid, imported = projects.import_project(store, projects.Upload("old.json", export.render(al, "json")))
    assert imported == al
    other = store.create_project("other", al)
    store.touch(pid)
    rows = projects.project_rows(store)
    assert [r.id for r in rows] == [pid, other]  # the most recently opened first
    assert rows[0].progress == "1 / 2 confirmed" and rows[0].name == "old"
    assert "warning" not in imported.meta


def test_an_alignment_larger_than_a_source_text_may_be_opened(store):
    """An alignment file is a few times its texts: the import's limit is the reader's, not a source's."""
    rows = "".join(f"文{i}。" * 40 + "\t" + f"Sentence {i}. " * 40 + "\n" for i in range(22000)).encode()
    assert len(rows) > 21 * 2**20
    _, al = projects.import_project(store, projects.Upload("big.tsv", rows))
    assert len(al.pairs) == 22000


def test_an_import_whose_columns_look_swapped_opens_with_a_warning(store):
    tsv = "The rate was raised.\t金利が引き上げられた。\nIt was the first hike.\t初めての利上げだった。\n"
    pid, al = projects.import_project(store, projects.Upload("tm.tsv", tsv.encode()))
    assert al.meta["warning"] == "tm.tsv: the Japanese and English sides look swapped (English where the Japanese should be)"
    assert len(store.open_project(pid).current.pairs) == 2  # opened all the same: the translator decides


def test_an_import_that_left_a_variant_out_or_holds_chinese_or_korean_says_so(store):
    tu = ('<tu><tuv xml:lang="ja-JP"><seg>{ja}</seg></tuv><tuv xml:lang="en-US"><seg>{en}</seg></tuv>'
          '<tuv xml:lang="en-GB"><seg>{en}!</seg></tuv></tu>')
    tmx = ('<?xml version="1.0" encoding="UTF-8"?><tmx version="1.4"><header srclang="ja-JP"/><body>'
           + tu.format(ja="金利が上がった。", en="Rates rose.") + tu.format(ja="円が下がった。", en="The yen fell.")
           + "</body></tmx>")
    _, al = projects.import_project(store, projects.Upload("two.tmx", tmx.encode()))
    assert al.meta["warning"] == ("two.tmx: 2 <tu> with a second English <tuv> (languages: en-GB, en-US, ja-JP): "
                                  "the first of each kept")
    assert [s.text for s in al.en] == ["Rates rose.", "The yen fell."] and "import_notes" not in al.meta
    for text, language in (("한국은행이 기준금리를 인상했다. 이번 결정은 시장의 예상과 같았다.", "Korean"),
                           ("中国人民银行今天宣布下调存款准备金率以支持实体经济发展和稳定市场预期", "Chinese")):
        _, al = projects.import_project(store, projects.Upload("tm.tsv", f"金利が上がった。\t{text}\n".encode()))
        assert al.meta["warning"] == f"tm.tsv: the English side holds {language} text"
    _, al = projects.import_project(store, projects.Upload("tm.tsv", "東京\t東京\n".encode()))  # a name: no word
    assert "warning" not in al.meta
    # a JSON file cannot speak for the TMX reader (nor crash the warning with a number there)
    data = json.loads(export.render(al, "json"))
    for notes in (5, ["made up"]):
        data["meta"]["import_notes"] = notes
        _, al = projects.import_project(store, projects.Upload("x.json", json.dumps(data).encode()))
        assert "warning" not in al.meta and "import_notes" not in al.meta


# -- a corpus run as projects ---------------------------------------------------------------

def corpus_run(tmp_path):
    """A corpus run's folder as `taiyaku corpus` leaves it: documents.tsv,
    alignments/, and the report that write_exports makes from them."""
    from align import corpus

    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)
    docs = {"a.txt": (0.3, "a_en.txt"), "b.txt": (0.95, "b_en.txt")}
    lines = ["ja_file\ten_file\tscore\tmethod"]
    for ja_file, (score, en_file) in docs.items():
        al = Alignment((Segment(f"{ja_file}の文です。"), Segment("二つ目。")),
                       (Segment(f"Sentence of {ja_file}."), Segment("Second.")),
                       (Pair((0,), (0,), score), Pair((1,), (1,), 0.9)))
        (out / "alignments" / f"{ja_file[:-4]}.json").write_text(al.dumps(), encoding="utf-8")
        lines.append(f"{ja_file}\t{en_file}\t0.9\tcontent")
    (out / "documents.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    corpus.write_exports(out)
    return out


def test_a_corpus_run_opens_as_projects_and_exports_the_reviewed_text(store, tmp_path):
    from align import corpus
    out = corpus_run(tmp_path)
    docs = projects.corpus_documents(out)
    assert [d["ja_file"] for d in docs] == ["a.txt", "b.txt"]  # the one with a weak link first
    pid, _ = projects.open_corpus_document(store, out, docs[0])
    assert projects.open_corpus_document(store, out, docs[0]) == (pid, None)  # the same project again
    assert store.project_info(pid).name == "a.txt ↔ a_en.txt"
    project = store.open_project(pid)
    project.apply("edit_text", "en", 0, "Reviewed sentence.")
    project.apply("confirm", 0)
    before = (out / "corpus.tsv").read_bytes()
    with corpus.writing(out), pytest.raises(InputError, match="another corpus run, or the app"):
        projects.export_corpus(store, out, confirmed_only=True)  # a corpus run is writing there
    assert (out / "corpus.tsv").read_bytes() == before
    report = projects.export_corpus(store, out, confirmed_only=True)
    assert report["units"]["written"] == 1
    tsv = (out / "corpus.tsv").read_text(encoding="utf-8")
    assert tsv.split("\t")[:2] == ["a.txtの文です。", "Reviewed sentence."]
    saved = Alignment.loads((out / "alignments" / "a.json").read_text(encoding="utf-8"))
    assert saved.pairs[0].status == "confirmed"


def test_a_corpus_project_follows_its_document_when_a_run_moves_the_file(store, tmp_path):
    # a later run moves a.json to a2.json (the file renamed by hand), and gives a.json to
    # another document: the review goes to a2.json, and a.json is not written over
    from align import corpus
    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)

    def alignment(name, sha):
        al = Alignment((Segment(f"{name}の文です。"),), (Segment(f"Sentence of {name}."),), (Pair((0,), (0,), 0.9),))
        meta = {"ja_file": f"{name}.txt", "en_file": f"{name}_en.txt", "pairing_score": 0.9,
                "pairing_method": "content", "key": {"ja_sha256": sha, "en_sha256": sha}}
        (out / "alignments" / f"{name}.json").write_text(replace(al, meta={"corpus": meta}).dumps(), encoding="utf-8")

    def documents(*names):
        (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\n" + "".join(
            f"{n}.txt\t{n}_en.txt\t0.9\tcontent\n" for n in names), encoding="utf-8")
        corpus.write_exports(out)

    alignment("a", "1" * 64)
    documents("a")
    pid, _ = projects.open_corpus_document(store, out, projects.corpus_documents(out)[0])
    store.open_project(pid).apply("confirm", 0)  # reviewed in the app, not written back yet
    (out / "alignments/a.json").rename(out / "alignments/a2.json")  # what the run did
    text = (out / "alignments/a2.json").read_text(encoding="utf-8").replace('"a.txt"', '"a2.txt"')
    (out / "alignments/a2.json").write_text(text, encoding="utf-8")
    alignment("a", "2" * 64)  # another document now
    documents("a", "a2")
    moved = next(d for d in projects.corpus_documents(out) if d["ja_file"] == "a2.txt")
    assert moved["key"]["ja_sha256"] == "1" * 64  # the report names the key: the view needs no file read
    opened, earlier = projects.corpus_reviews(store, out, [moved])  # the view's "reviewed"
    assert (opened[0].id, opened[0].confirmed, opened[0].total) == (pid, 1, 1) and earlier == []
    assert projects.open_corpus_document(store, out, moved) == (pid, None)  # the same project
    projects.export_corpus(store, out)
    assert Alignment.loads((out / "alignments/a2.json").read_text(encoding="utf-8")).pairs[0].status == "confirmed"
    other = Alignment.loads((out / "alignments/a.json").read_text(encoding="utf-8"))
    assert other.pairs[0].status == "auto" and other.meta["corpus"]["key"]["ja_sha256"] == "2" * 64


def test_a_document_aligned_again_gets_the_confirmations_of_its_unchanged_pairs(store, tmp_path):
    from align import corpus
    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)

    def run(sha, second):  # what a run leaves: the alignment of the document's texts as they are
        al = Alignment((Segment("一つ目。"), Segment("二つ目。"), Segment("三つ目。")),
                       (Segment("First."), Segment(second), Segment("Third.")),
                       (Pair((0,), (0,), 0.9), Pair((1,), (1,), 0.9), Pair((2,), (2,), 0.9)))
        meta = {"corpus": {"ja_file": "a.txt", "en_file": "a_en.txt", "pairing_score": 0.9,
                           "pairing_method": "content", "key": {"ja_sha256": sha * 64}}}
        (out / "alignments/a.json").write_text(replace(al, meta=meta).dumps(), encoding="utf-8")
        (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\na.txt\ta_en.txt\t0.9\tcontent\n",
                                           encoding="utf-8")
        corpus.write_exports(out)
        return projects.corpus_documents(out)[0]

    first, note = projects.open_corpus_document(store, out, run("1", "Secnod."))
    assert note is None
    review = store.open_project(first)  # reviewed in the app, never written back: a retranslation, all confirmed
    review.apply("edit_text", "en", 0, "The first.", "First.")  # as the grid sends it: with the text it replaced
    review.apply("confirm_many", [0, 1, 2])
    second, note = projects.open_corpus_document(store, out, run("2", "Second."))  # a typo fixed in English
    assert second != first and f"project {first}" in note
    # the unchanged pair, and the retranslated one typed again; the one whose source changed named
    assert note.startswith("2 confirmed pair(s) carried over from the review of an earlier version")
    assert "but for your own edits (1, typed again); 1 confirmed pair(s) of it not, their texts having changed (pairs 2)" \
        in note
    project = store.open_project(second)
    assert [p.status for p in project.current.pairs] == ["confirmed", "auto", "confirmed"]
    assert project.current.en[0].text == "The first."
    project.undo()  # the confirmations, then the typing, each a step
    assert [p.status for p in project.current.pairs] == ["edited", "auto", "auto"]
    project.undo()
    assert project.current.en[0].text == "First." and project.current.pairs[0].status == "auto"


def test_a_report_older_than_its_files_neither_splits_a_review_nor_loses_its_write(store, tmp_path):
    # a run killed after it wrote a.json (key 2) and before report.json (still key 1): the
    # project and Write go by the file's own key; the file keeps the meta its run gave it
    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)

    def alignment(sha):
        al = Alignment((Segment("一。"), Segment("二。")), (Segment("One."), Segment("Two.")),
                       (Pair((0,), (0,), 0.9), Pair((1,), (1,), 0.9)))
        meta = {"corpus": {"ja_file": "a.txt", "en_file": "a_en.txt", "pairing_score": 0.9,
                           "pairing_method": "content", "key": {"ja_sha256": sha * 64}}, "warning": ""}
        (out / "alignments/a.json").write_text(replace(al, meta=meta).dumps(), encoding="utf-8")

    alignment("1")
    (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\na.txt\ta_en.txt\t0.9\tcontent\n",
                                       encoding="utf-8")
    from align import corpus
    corpus.write_exports(out)
    alignment("2")  # the report still says key 1
    doc = projects.corpus_documents(out)[0]
    pid, _ = projects.open_corpus_document(store, out, doc)
    store.open_project(pid).apply("confirm_many", [0, 1])
    assert projects.open_corpus_document(store, out, doc) == (pid, None)  # the same project, not a second
    assert projects.export_corpus(store, out)["reviews_written"] == 1
    written = Alignment.loads((out / "alignments/a.json").read_text(encoding="utf-8"))
    assert [p.status for p in written.pairs] == ["confirmed", "confirmed"] and written.meta["warning"] == ""
    assert written.meta["corpus"]["key"] == {"ja_sha256": "2" * 64}


def test_a_folder_that_is_not_a_corpus_run_says_so(tmp_path):
    with pytest.raises(InputError, match="not a corpus run"):
        projects.corpus_documents(tmp_path)


@pytest.mark.parametrize("change", [
    {"alignment": "/dev/zero"},                       # would be read forever
    {"alignment": "../../outside.json"},              # "Write" would replace it
    {"alignment": "/etc/hostname"},
    {"warning": None},                                # the view's order would crash on these
    {"ja_file": ["a"]},
    {"review_share": "high"},
    {"score": "0.9"},
])
def test_a_report_naming_files_outside_the_run_or_lacking_fields_is_refused(tmp_path, change):
    import json
    out = corpus_run(tmp_path)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report["documents"][1].update(change)
    (out / "report.json").write_text(json.dumps(report), encoding="utf-8")
    with pytest.raises(InputError, match="its document 2 lacks a field or names a file outside"):
        projects.corpus_documents(out)


def test_a_report_that_is_a_device_is_refused_at_once(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "report.json").symlink_to("/dev/zero")
    with pytest.raises(InputError, match="not a corpus run"):
        projects.corpus_documents(out)
