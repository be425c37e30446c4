"""Corpus mode: document pairing (titles, content, a threshold for documents
without counterpart), the outputs in OUT_DIR, resuming, and the same run on a
real Dask cluster (a scheduler and two workers on 127.0.0.1)."""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass

import numpy as np
import pytest
from lxml import etree

from align.corpus import unique_stems, write_exports
from align.errors import InputError
from align.model import Alignment
from align.pairing import (CONTENT, THRESHOLD, TITLE, DocPair, content_pairs, match_titles, nearest,
                           pair_documents, title_key, title_keys, translation_share,
                           translation_shares)
from conftest import REPO, SAMPLE
from test_cli import _command, _env, assert_clean_error, cli

pytestmark = pytest.mark.slow  # subprocesses, servers or whole page runs

# -- pairing --------------------------------------------------------------------------


def test_title_key_ignores_marks_case_and_quote_styles():
    ja = title_key("*Ukraine and US Make ‘Real Progress’ as European Leaders Meet (2)")
    assert ja == title_key('UKRAINE AND US MAKE "REAL PROGRESS" AS EUROPEAN LEADERS MEET')
    assert ja == title_key("ukraine and us make 'real progress' as european leaders meet")
    assert ja != title_key("Ukraine and US Make Progress as European Leaders Meet")
    # a <title> with the site's name after a dash matches the bare headline
    assert title_key("Markets Rally on Rate Cut") in title_keys(["Markets Rally on Rate Cut - Bloomberg"])


def test_titles_pair_only_when_one_document_on_each_side_has_the_key():
    ja = [{"a"}, {"b"}, {"c"}, {"c"}, set()]
    en = [{"b"}, {"a"}, {"c"}, {"x"}]
    assert match_titles(ja, en) == [DocPair(0, 1, 1.0, TITLE), DocPair(1, 0, 1.0, TITLE)]
    assert match_titles([{"a"}], [{"a"}, {"a"}]) == []


def test_nearest_is_exact_on_small_sides_and_finds_near_duplicates_with_the_inverted_file():
    rng = np.random.default_rng(0)
    q, b = rng.normal(size=(50, 8)), rng.normal(size=(70, 8))
    idx, sims = nearest(q, b, 3)
    full = q @ b.T
    assert (idx == np.argsort(-full, axis=1)[:, :3]).all()
    assert np.allclose(sims, np.sort(full, axis=1)[:, ::-1][:, :3], atol=1e-5)
    base = rng.normal(size=(3000, 32)).astype(np.float32)
    idx, _ = nearest(base + 0.1 * rng.normal(size=base.shape), base, 1, exact_up_to=0)
    assert (idx[:, 0] == np.arange(3000)).mean() > 0.95


def _corpus(n_docs, sentences, dim=32, seed=0):
    """Documents of unit sentence vectors; English = Japanese plus a little noise."""
    rng = np.random.default_rng(seed)
    ja = [rng.normal(size=(sentences, dim)) for _ in range(n_docs)]
    en = [x + 0.05 * rng.normal(size=x.shape) for x in ja]
    norm = lambda x: (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return [norm(x) for x in ja], [norm(x) for x in en]


def test_content_pairing_is_one_to_one_and_leaves_documents_without_counterpart_unpaired():
    ja, en = _corpus(12, 6)
    ja_kept, en_kept = ja[:10] + [ja[10]], en[:10] + [en[11]]  # 10 and 11 have no counterpart
    means = lambda docs: np.stack([d.mean(axis=0) for d in docs])
    pairs = pair_documents([set()] * 11, [set()] * 11, means(ja_kept), means(en_kept), ja_kept, en_kept)
    assert [(p.ja, p.en) for p in pairs] == [(i, i) for i in range(10)]
    assert all(p.method == CONTENT and p.score > 0.9 for p in pairs)
    assert translation_share(ja[10], en[11]) < THRESHOLD


def test_a_wrong_title_gives_way_to_a_translation_but_a_headlines_document_keeps_its_title():
    ja, en = _corpus(6, 6)
    means = lambda docs: np.stack([d.mean(axis=0) for d in docs])
    # ja 0's 原題 names en 1 (copied from another article); ja 5's names a document of
    # its headline, its only English counterpart
    en[5] = en[5][:1]
    ja_keys = [{"wrong"}, set(), set(), set(), set(), {"headlines"}]
    en_keys = [set(), {"wrong"}, set(), set(), set(), {"headlines"}]
    pairs = pair_documents(ja_keys, en_keys, means(ja), means(en), ja, en)
    assert [(p.ja, p.en, p.method) for p in pairs] == \
        [(i, i, CONTENT) for i in range(5)] + [(5, 5, TITLE)]
    assert translation_share(ja[5], en[5]) < THRESHOLD


def test_the_share_stays_within_0_and_1_when_every_sentence_ties():
    # one sentence, four distinct ones each as near to it: every one of them counts it as its
    # best, and the uncapped share (1 + 4 mutual over 2·√4) would be 1.2 or so
    e = np.eye(6, dtype=np.float32)
    ja = e[:1]
    en = np.stack([0.95 * e[0] + np.sqrt(1 - 0.95 ** 2) * e[k] for k in range(1, 5)]).astype(np.float32)
    assert translation_share(ja, en) == 1.0


def test_pairing_reads_cached_sentences_within_a_memory_budget(tmp_path):
    from align.corpus import Doc, _Lazy
    docs = []
    for k in range(4):
        path = tmp_path / f"{k}.npz"
        np.savez(path, sentences=np.full((10, 8), k, np.float16))  # 160 bytes each
        docs.append(Doc("ja", path, f"{k}.txt", cache=path))
    lazy = _Lazy(docs, budget=400)
    for k in (0, 1, 2, 0, 3, 1):
        assert lazy[k][0, 0] == k and lazy.size <= 400  # right, and never more than two kept
    assert list(lazy.read) == [3, 1]


def test_a_text_scraped_twice_into_one_file_does_not_take_its_translation():
    ja, en = _corpus(3, 6)
    twice = np.vstack([ja[0], ja[0]])  # first, so that neither order nor the cap can favour it
    docs = [twice, ja[0], ja[1]]
    means = lambda d: np.stack([x.mean(axis=0) for x in d])
    assert translation_share(twice, en[0]) == translation_share(ja[0], en[0])  # its copy counted once
    pairs = pair_documents([set()] * 3, [set()] * 2, means(docs), means(en[:2]), docs, en[:2])
    assert [(p.ja, p.en) for p in pairs] == [(1, 0), (2, 1)]


def test_competitive_linking_takes_the_best_candidate_first():
    e = np.eye(8, dtype=np.float32)  # sentences: identical (a translation) or unrelated
    ja = [e[[0, 1, 2]], e[[0, 1, 6]]]
    en = [e[[0, 1, 5]], e[[0, 1, 2]]]
    assert translation_share(ja[0], en[1]) > 0.99
    assert translation_share(ja[1], en[1]) == pytest.approx(2 / 3, abs=0.01)
    vecs = lambda docs: np.stack([d.mean(axis=0) for d in docs])
    pairs = content_pairs(vecs(ja), vecs(en), ja, en, k=2)
    assert [(p.ja, p.en) for p in pairs] == [(0, 1), (1, 0)]


def test_the_share_is_computed_alike_for_one_candidate_or_several():
    rng = np.random.default_rng(1)
    ja = rng.normal(size=(5, 6)).astype(np.float32)
    cands = [rng.normal(size=(n, 6)).astype(np.float32) for n in (3, 0, 7)]
    cands[2][4] = cands[2][1]  # a repeated sentence: a tie
    assert np.allclose(translation_shares(ja, cands), [translation_share(ja, c) for c in cands])


def test_an_alignment_is_the_same_however_its_sums_came(monkeypatch):
    """A pair is aligned as ``align`` would do it, bit for bit, whether the
    model runs again or the embedding phase's token sums are reused; and a
    worker keeps nothing from one task to the next (any order of tasks, any
    number of workers, gives the same output)."""
    from align.encoders import load_encoder
    from align.export import to_json
    from align.pipeline import align_texts
    from align.workers import align_task, embed_task
    ja, en = DOCS["ja/a/news.txt"].encode(), DOCS["en/warren.txt"].encode()
    opts = {"mode": "auto", "model": None, "presegmented": False}
    again = align_task([("a.txt", ja, "w.txt", en, {}, [])], opts)
    embedded = embed_task([("ja", "a.txt", ja), ("ja", "b.txt", DOCS["ja/b/news.txt"].encode()),
                           ("en", "w.txt", en)], False, None)
    encoder = load_encoder(None)
    assert not encoder._cache and not encoder.inner._sums_cache
    asked = []
    real = encoder.inner.token_sums
    monkeypatch.setattr(encoder.inner, "token_sums", lambda texts, progress=None: asked.append(list(texts))
                        or real(texts, progress))
    reused = align_task([("a.txt", ja, "w.txt", en, {}, [embedded[0]["sums"], embedded[2]["sums"]])], opts)
    sentences = set(DOCS["ja/a/news.txt"].splitlines() + DOCS["en/warren.txt"].splitlines())
    assert not any(sentences & set(texts) for texts in asked), "the model ran on the documents again"
    assert _without_seconds(reused) == _without_seconds(again)
    monkeypatch.undo()
    direct = json.loads(to_json(align_texts(DOCS["ja/a/news.txt"], DOCS["en/warren.txt"])))
    assert [p for p in _without_seconds(reused)[0]["pairs"]] == direct["pairs"]


def _without_seconds(results):
    out = []
    for r in results:
        d = json.loads(r["json"])
        d["meta"].pop("seconds")
        out.append(d)
    return out


# -- the command ----------------------------------------------------------------------

DOCS = {
    "ja/a/news.txt": "ウォレン上院議員が大統領選への出馬を真剣に検討すると述べた。\n"
                     "エリザベス・ウォレン氏は11月の中間選挙の後に決断すると語った。\n"
                     "マサチューセッツ州西部で開かれた対話集会で、彼女は自らの将来について話した。\n"
                     "詳細は後ほどお伝えします。\n",
    "en/warren.txt": "Senator Warren says she will take a hard look at running for president.\n"
                     "Elizabeth Warren said she would decide after the November midterm elections.\n"
                     "She spoke about her future at a town hall meeting in western Massachusetts.\n"
                     "More details to follow.\n",
    "ja/b/news.txt": "大型の台風が週末に九州に上陸する見込みだ。\n"
                     "気象庁は住民に早めの避難を呼びかけている。\n"
                     "航空各社はすでに数百便の欠航を決めた。\n"
                     "詳細は後ほどお伝えします。\n",
    "en/storm.md": "# A powerful typhoon is expected to make landfall in Kyushu over the weekend.\n\n"
                   "The Japan Meteorological Agency urged residents to evacuate early.\n"
                   "Airlines have already cancelled hundreds of flights.\n"
                   "More details to follow.\n",
    "ja/rates.txt": "日本銀行は金利を据え置いた。\n市場関係者の多くは今回の決定を予想していた。\n"
                    "円相場は発表の後にやや下落した。\n",
    "en/football.txt": "The football club announced the signing of a new striker on Tuesday.\n"
                       "The player joins from a Spanish team on a four-year contract.\n"
                       "Fans gathered outside the stadium to welcome him.\n",
    # the headlines of the sample article's 原題 line, in another case and quote style
    "en/ukraine.txt": "UKRAINE AND US MAKE “REAL PROGRESS” AS EUROPEAN LEADERS MEET\n"
                      "Ukraine Says Its Drones Hit Russian Submarine in Novorossiysk\n",
}


def make_corpus(root):
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    (root / "ja/ukraine.txt").write_bytes(SAMPLE.read_bytes())
    (root / "ja/broken.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    return root / "ja", root / "en"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    ja, en = make_corpus(root)
    out = root / "out"
    code, stdout, stderr = cli("corpus", ja, en, "-o", out, "--workers", "2", timeout=300)
    assert code == 0, stderr
    return root, ja, en, out, stderr


def rows(out):
    lines = (out / "documents.tsv").read_text(encoding="utf-8").splitlines()
    return lines[0], [line.split("\t") for line in lines[1:]]


def test_documents_are_paired_by_title_and_by_content_and_a_bad_file_is_skipped(corpus):
    _, _, _, out, stderr = corpus
    header, table = rows(out)
    assert header == "ja_file\ten_file\tscore\tmethod"
    by_ja = {r[0]: r for r in table if r[0]}
    assert by_ja["ukraine.txt"][1:] == ["ukraine.txt", "1.0000", "title"]
    assert by_ja["a/news.txt"][1] == "warren.txt" and by_ja["a/news.txt"][3] == "content"
    assert by_ja["b/news.txt"][1] == "storm.md" and float(by_ja["b/news.txt"][2]) >= 0.5
    assert by_ja["rates.txt"][1:] == ["", "", ""]
    assert ["", "football.txt", "", ""] in table
    assert "broken.txt" not in by_ja
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["skipped"] == [{"file": "ja/broken.txt", "reason": "binary file (PNG image), not text"}]
    assert report["paired"] == {"content": 2, "title": 1}
    assert report["unpaired"] == {"ja": 1, "en": 1}
    assert "ja/broken.txt" in stderr and "Traceback" not in stderr


def test_a_document_that_trips_an_unforeseen_error_is_skipped_with_the_reason(monkeypatch):
    import align.pipeline
    import align.workers
    from align.workers import align_task, embed_task

    def broken(name, *args):
        if name == "bad.txt":
            raise TypeError("a bug\nsecond line")
        return real(name, *args)

    real = align.workers.read_document
    monkeypatch.setattr(align.workers, "read_document", broken)
    docs = [("ja", "bad.txt", "一。".encode()), ("ja", "good.txt", "二つ目の文です。".encode())]
    bad, good = embed_task(docs, False, None)
    assert bad == {"error": "bad.txt: skipped on an unexpected error (TypeError: a bug); please report it"}
    assert "mean" in good
    monkeypatch.setattr(align.pipeline, "align_texts", lambda *a, **k: 1 / 0)
    [failed] = align_task([("a.txt", "一。".encode(), "a_en.txt", b"One.", {}, [])],
                          {"mode": "auto", "model": None, "presegmented": False})
    assert failed["error"].startswith("a.txt: skipped on an unexpected error (ZeroDivisionError")


def test_stems_stay_unique_when_a_path_with_slashes_meets_one_with_underscores():
    stems = unique_stems(["a/b/x.txt", "a__b/x.txt", "c/y.txt", "d/y.txt", "z.txt"])
    assert len(set(stems.values())) == 5
    assert stems["c/y.txt"] == "c__y.txt" and stems["z.txt"] == "z"


def test_stems_stay_unique_on_a_file_system_that_folds_case_and_normalises_unicode():
    import unicodedata
    ga = "ガイド"
    names = ["a/Report.txt", "b/report.txt", f"c/{ga}.txt", f"d/{unicodedata.normalize('NFD', ga)}.txt",
             "e/other.txt", "f/OTHER2.txt"]
    stems = unique_stems(names)  # a Mac or Windows disk would see Report.json and report.json as one
    folded = {unicodedata.normalize("NFC", s).casefold() for s in stems.values()}
    assert len(folded) == 6 and stems["e/other.txt"] == "other" and stems["f/OTHER2.txt"] == "OTHER2"


def test_a_stem_too_long_for_a_file_name_is_shortened_and_stays_unique(tmp_path):
    from align.corpus import MAX_STEM
    from align.export import write_bytes
    names = ["記事" * 60 + "一.txt", "記事" * 60 + "二.txt", "短い.txt"]  # 364 bytes: a file name's limit is 255
    stems = unique_stems(names)
    assert len(set(stems.values())) == 3 and stems["短い.txt"] == "短い"
    for name in names:
        assert len(stems[name].encode()) <= MAX_STEM
        write_bytes(tmp_path / f"{stems[name]}.json", b"{}")  # its temporary file's name fits too
    write_bytes(tmp_path / ("あ" * 83 + ".json"), b"{}")  # 254 bytes: the temporary's name is shortened
    assert len(list(tmp_path.iterdir())) == 4


def test_each_pair_has_its_alignment_under_a_unique_stem(corpus):
    _, _, _, out, _ = corpus
    names = sorted(p.name for p in (out / "alignments").iterdir())
    assert names == ["a__news.txt.json", "b__news.txt.json", "ukraine.json"]
    headlines = Alignment.loads((out / "alignments/ukraine.json").read_text(encoding="utf-8"))
    assert headlines.mode == "headlines" and len(headlines.pairs) == 2
    doc = Alignment.loads((out / "alignments/a__news.txt.json").read_text(encoding="utf-8"))
    assert doc.mode == "document" and [(p.ja, p.en) for p in doc.pairs] == [((i,), (i,)) for i in range(4)]
    assert doc.meta["corpus"]["ja_file"] == "a/news.txt"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert {d["ja_file"]: d["alignment"] for d in report["documents"]}["b/news.txt"] == \
        "alignments/b__news.txt.json"


def test_corpus_tmx_merges_identical_units_with_a_count(corpus):
    _, _, _, out, _ = corpus
    tmx = etree.parse(str(out / "corpus.tmx"))
    units = tmx.findall(".//tu")
    assert [u.get("tuid") for u in units] == [str(i) for i in range(1, len(units) + 1)]
    props = [{p.get("type"): p.text for p in u.findall("prop")} for u in units]
    follow = [p for u, p in zip(units, props) if u.findtext("tuv[2]/seg") == "More details to follow."]
    assert len(follow) == 1 and follow[0]["x-taiyaku-count"] == "2"
    assert follow[0]["x-taiyaku-document"] == "a/news.txt"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["units"]["written"] == len(units) and report["units"]["merged"] == 1
    tsv = (out / "corpus.tsv").read_text(encoding="utf-8").splitlines()
    assert len(tsv) == len(units)
    assert "詳細は後ほどお伝えします。\tMore details to follow.\t" in "\n".join(tsv)


def test_a_rerun_redoes_only_what_changed(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")  # copy2 keeps the times
    ja, en, out = root / "ja", root / "en", root / "out"
    before = {p.name: p.stat().st_mtime_ns for p in (out / "alignments").iterdir()}
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    after = {p.name: p.stat().st_mtime_ns for p in (out / "alignments").iterdir()}
    assert after == before
    # one English file changes: that pair is aligned again, the others are not; an
    # alignment file a reviewer's hand edit left unreadable (a stray comma) is left for
    # them to mend, named, never replaced by a fresh alignment
    (en / "warren.txt").write_text(DOCS["en/warren.txt"] + "She did not give a date.\n", encoding="utf-8")
    damaged = out / "alignments/b__news.txt.json"
    reviewed = damaged.read_text(encoding="utf-8").replace('"auto"', '"confirmed"').rstrip()
    damaged.write_text(reviewed[:-1] + ",}", encoding="utf-8")
    before[damaged.name] = damaged.stat().st_mtime_ns
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    again = {p.name: p.stat().st_mtime_ns for p in (out / "alignments").iterdir()}
    assert sorted(n for n in again if again[n] != before[n]) == ["a__news.txt.json"]
    assert damaged.read_text(encoding="utf-8") == reviewed[:-1] + ",}"
    assert "unreadable: alignments/b__news.txt.json" in stderr and "delete it to align the pair again" in stderr
    assert len(Alignment.loads((out / "alignments/a__news.txt.json").read_text(encoding="utf-8")).en) == 5
    # a reviewed alignment whose file changed is aligned again, and the review kept beside it
    review = Alignment.loads(again_text := (out / "alignments/a__news.txt.json").read_text(encoding="utf-8"))
    (out / "alignments/a__news.txt.json").write_text(
        again_text.replace('"status": "auto"', '"status": "confirmed"', 1), encoding="utf-8")
    (en / "warren.txt").write_text(DOCS["en/warren.txt"], encoding="utf-8")
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    kept = Alignment.loads((out / "alignments/previous/a__news.txt.json").read_text(encoding="utf-8"))
    assert kept.pairs[0].status == "confirmed" and len(kept.en) == len(review.en) == 5
    realigned = Alignment.loads((out / "alignments/a__news.txt.json").read_text(encoding="utf-8"))
    assert len(realigned.en) == 4
    assert "the review kept as alignments/previous/a__news.txt.json" in stderr
    # the confirmed pair's texts did not change: its confirmation is carried over, and only it
    assert [p.status for p in realigned.pairs] == ["confirmed"] + ["auto"] * (len(realigned.pairs) - 1)
    assert (realigned.ja_text(realigned.pairs[0]), realigned.en_text(realigned.pairs[0])) == \
        (kept.ja_text(kept.pairs[0]), kept.en_text(kept.pairs[0]))
    assert "1 confirmed pair(s) carried over from that review, where the texts had not changed" in stderr
    # reviewed again, and its file changes again: the first review is not replaced
    again = out / "alignments/a__news.txt.json"
    again.write_text(again.read_text(encoding="utf-8").replace('"status": "auto"', '"status": "edited"', 1),
                     encoding="utf-8")
    (en / "warren.txt").write_text(DOCS["en/warren.txt"] + "Once more.\n", encoding="utf-8")
    assert cli("corpus", ja, en, "-o", out, "--workers", "1")[0] == 0
    assert Alignment.loads((out / "alignments/previous/a__news.txt.json").read_text(encoding="utf-8")) \
        .pairs[0].status == "confirmed"
    assert [p.status for p in Alignment.loads((out / "alignments/previous/a__news.txt.2.json").read_text(
        encoding="utf-8")).pairs[:2]] == ["confirmed", "edited"]  # the carried confirmation, then the new edit


def test_a_review_written_back_from_the_app_keeps_its_typed_texts_across_a_rerun(corpus, tmp_path):
    from align import projects
    from align.store import Store
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    with Store(tmp_path / "projects.db") as store:  # a pair retranslated and confirmed in the app, then Write
        doc = next(d for d in projects.corpus_documents(out) if d["ja_file"] == "a/news.txt")
        pid, _ = projects.open_corpus_document(store, out, doc)
        project = store.open_project(pid)
        k = next(k for k, p in enumerate(project.current.pairs) if p.ja and p.en)
        seg = project.current.pairs[k].en[0]
        was = project.current.en[seg].text
        project.apply("edit_text", "en", seg, was + " (checked)", was)  # as the grid sends it
        project.apply("confirm", k)
        projects.export_corpus(store, out)
    (en / "warren.txt").write_text(DOCS["en/warren.txt"] + "She did not give a date.\n", encoding="utf-8")
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    now = Alignment.loads((out / "alignments/a__news.txt.json").read_text(encoding="utf-8"))
    pair = next(p for p in now.pairs if p.en and now.en[p.en[0]].text == was + " (checked)")
    assert pair.status == "confirmed" and "but for your own edits (1, typed again)" in stderr


def test_a_reviewed_document_that_fails_to_align_again_keeps_its_review_in_place(corpus, tmp_path):
    # put aside only once the new alignment is there: a failure (or a kill) before leaves the
    # review where the next run finds it, to carry its confirmations over
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    target = out / "alignments/a__news.txt.json"
    reviewed = target.read_text(encoding="utf-8").replace('"status": "auto"', '"status": "confirmed"', 1)
    target.write_text(reviewed, encoding="utf-8")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("a/news.txt\twarren.txt\n", encoding="utf-8")
    (en / "warren.txt").write_text("\n", encoding="utf-8")  # its English now fails to align
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1", "--pairs", pairs)
    assert "skipped ja/a/news.txt" in stderr and "Traceback" not in stderr
    assert target.read_text(encoding="utf-8") == reviewed and not (out / "alignments/previous").exists()


def test_a_review_follows_its_document_when_another_file_takes_the_same_stem(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    reviewed = (out / "alignments/ukraine.json").read_text(encoding="utf-8") \
        .replace('"status": "auto"', '"status": "confirmed"')
    (out / "alignments/ukraine.json").write_text(reviewed, encoding="utf-8")
    units = (out / "corpus.tsv").read_text(encoding="utf-8")
    # a second ukraine.txt, in a subfolder: the first one's alignment is now ukraine.txt.json
    (ja / "x").mkdir()
    (ja / "x/ukraine.txt").write_text(DOCS["ja/rates.txt"], encoding="utf-8")
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    assert not (out / "alignments/ukraine.json").exists()
    assert (out / "alignments/ukraine.txt.json").read_text(encoding="utf-8") == reviewed  # moved, not redone
    assert "alignments/ukraine.json: moved to alignments/ukraine.txt.json" in stderr
    assert (out / "corpus.tsv").read_text(encoding="utf-8") == units
    # and back when the other file goes
    shutil.rmtree(ja / "x")
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0, stderr
    assert (out / "alignments/ukraine.json").read_text(encoding="utf-8") == reviewed
    assert sorted(p.name for p in (out / "alignments").glob("*.json")) == \
        ["a__news.txt.json", "b__news.txt.json", "ukraine.json"]


def test_a_review_follows_a_renamed_file_and_survives_the_same_pairs_given_by_hand(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    text = (out / "alignments/ukraine.json").read_text(encoding="utf-8").replace('"status": "auto"',
                                                                                 '"status": "confirmed"')
    (out / "alignments/ukraine.json").write_text(text, encoding="utf-8")
    (ja / "ukraine.txt").rename(ja / "ukraine_final.txt")  # the same text under a new name
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1", "--confirmed-only")
    assert code == 0, stderr
    assert "alignments/ukraine.json: moved to alignments/ukraine_final.json: ja/ukraine.txt is now " \
           "ja/ukraine_final.txt" in stderr
    moved = Alignment.loads((out / "alignments/ukraine_final.json").read_text(encoding="utf-8"))
    assert {p.status for p in moved.pairs} == {"confirmed"} and moved.meta["corpus"]["ja_file"] == "ukraine_final.txt"
    assert not (out / "alignments/ukraine.json").exists() and not (out / "alignments/previous").exists()
    assert (out / "corpus.tsv").read_text(encoding="utf-8").count("\n") == len(moved.pairs)  # in the memory
    # the same pairs, now given by hand: the pairing's method changes, the texts do not
    _, table = rows(out)
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("".join(f"{r[0]}\t{r[1]}\n" for r in table if r[0] and r[1]), encoding="utf-8")
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1", "--pairs", pairs)
    assert code == 0, stderr
    kept = Alignment.loads((out / "alignments/ukraine_final.json").read_text(encoding="utf-8"))
    assert kept.pairs == moved.pairs and kept.meta["corpus"]["pairing_method"] == "given"
    assert "reviewed, but" not in stderr and not (out / "alignments/previous").exists()


def test_a_file_that_changes_during_the_run_is_skipped_not_read_under_its_old_hash(tmp_path):
    # its hash, taken first, names its cached embeddings and keys its alignment: other
    # bytes read under it later would be kept as up to date by every later run
    from align import corpus as C
    path = tmp_path / "a.txt"
    path.write_text("最初の文。", encoding="utf-8")
    doc, skipped = C.Doc("ja", path, "a.txt"), []
    C._hash_all([doc], skipped)
    assert skipped == [] and C._read(doc) == "最初の文。".encode()
    path.write_text("別の文。", encoding="utf-8")
    assert C._read(doc) is None and doc.unread == "changed while the corpus ran: run it again"
    path.unlink()
    assert C._read(doc) is None and doc.unread == "cannot read"


def test_a_folder_that_cannot_be_listed_is_named_not_passed_over(tmp_path, monkeypatch):
    from align import corpus as C
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked/a.txt").write_text("文。", encoding="utf-8")
    (tmp_path / "b.txt").write_text("文。", encoding="utf-8")
    scandir = os.scandir

    def refusing(path="."):  # as a folder without read permission does (root may read any)
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return scandir(path)
    monkeypatch.setattr(os, "scandir", refusing)
    skipped = []
    assert [d.name for d in C.list_documents(tmp_path, "ja", skipped)] == ["b.txt"]
    assert skipped == [{"file": "ja/locked/", "reason": "a folder that cannot be read"}]


def test_links_and_pipes_are_named_not_passed_over_nor_followed(tmp_path):
    from align import corpus as C
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub/a.txt").write_text("文。", encoding="utf-8")
    (tmp_path / "sub/loop").symlink_to(tmp_path / "sub")  # entered, it would list a.txt again and again
    (tmp_path / "gone.txt").symlink_to(tmp_path / "nowhere.txt")
    (tmp_path / "linked.txt").symlink_to(tmp_path / "sub/a.txt")  # a link to a file is read
    os.mkfifo(tmp_path / "pipe.txt")  # read, it would block the run
    skipped = []
    assert [d.name for d in C.list_documents(tmp_path, "ja", skipped)] == ["linked.txt", "sub/a.txt"]
    assert sorted((s["file"], s["reason"][:20]) for s in skipped) == [
        ("ja/gone.txt", "not a regular file ("), ("ja/pipe.txt", "not a regular file ("),
        ("ja/sub/loop/", "a link to a folder: ")]
    only = tmp_path / "only"
    only.mkdir()
    os.mkfifo(only / "pipe.txt")
    with pytest.raises(InputError, match=r"no \.txt, .* but 1 skipped \(ja/pipe.txt: not a regular file"):
        C.run_corpus(only, tmp_path / "sub", tmp_path / "out", C.Options())


def test_a_given_pair_that_is_no_translation_stays_out_of_the_memory_until_confirmed(corpus, tmp_path):
    _, ja, en, _, _ = corpus
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("ja_file\ten_file\nrates.txt\tfootball.txt\n", encoding="utf-8")
    out = tmp_path / "given"
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--pairs", pairs, "--workers", "1")
    assert code == 0, stderr
    header, table = rows(out)
    assert ["rates.txt", "football.txt", "1.0000", "given"] in table
    assert "most pairs are unlikely translations" in stderr  # named as a document to review
    assert "paired: 1 by given; unpaired: 4 Japanese, 3 English; aligned: 1" in stderr
    path = out / "alignments/rates.json"
    links = [p for p in json.loads(path.read_text(encoding="utf-8"))["pairs"] if p["ja"] and p["en"]]
    assert links and f"{len(links)} links left out of them" in stderr
    assert (out / "corpus.tsv").read_text(encoding="utf-8") == ""  # at the default --min-confidence 0
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["units"][
        "withheld_unconfirmed_from_doubtful_pairs"] == len(links)
    data = json.loads(path.read_text(encoding="utf-8"))
    first = next(p for p in data["pairs"] if p["ja"] and p["en"])
    first["status"] = "confirmed"  # a reviewer vouches for one link
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    report = write_exports(out)
    assert report["units"]["written"] == 1 and report["units"]["withheld_unconfirmed_from_doubtful_pairs"] == \
        len(links) - 1
    # the reviewer's word beats the aligner's score: a confirmed link passes any minimum
    assert write_exports(out, min_confidence=1.0)["units"]["written"] == 1
    first["status"] = "auto"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    assert write_exports(out, min_confidence=0.0)["units"]["written"] == 0


def test_bad_arguments_give_one_line_and_exit_2(corpus, tmp_path):
    _, ja, en, _, _ = corpus
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("rates.txt\tmissing.txt\n", encoding="utf-8")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--pairs", pairs), "pairs.tsv:1")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--pairs", tmp_path / "nope.tsv"),
                       "nope.tsv: no such file")
    pairs.write_bytes("rates.txt\tfootball.txt\n".encode("utf-16"))
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--pairs", pairs), "not UTF-8")
    assert_clean_error(*cli("corpus", ja, en, "-o", en), "is an input folder")
    assert_clean_error(*cli("corpus", ja, f"{ja}/.", "-o", tmp_path / "o"), "both the Japanese and the English")
    assert_clean_error(*cli("corpus", ja, tmp_path / "nowhere", "-o", tmp_path / "o"), "not a folder")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--min-confidence", "2"), "from 0 to 1")
    for workers in ("0", "100000"):
        assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--workers", workers), "--workers")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler", ""), "an empty address")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler", "tcp://127.0.0.1:1",
                            "--workers", "2"), "a Dask cluster has its own workers")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--model", tmp_path / "nowhere"),
                       "no such folder")
    assert not (tmp_path / "o").exists()  # refused before anything is made
    # a hub name this machine cannot have: found by the workers, said in one line (not their traceback)
    run = subprocess.run(_command("corpus", ja, en, "-o", tmp_path / "o", "--model", "nobody/no-such-model",
                                  "--workers", "1"), cwd=REPO, capture_output=True, timeout=300,
                         env={**_env(), "HF_HUB_OFFLINE": "1"})
    assert_clean_error(run.returncode, run.stdout.decode(), run.stderr.decode(), "nobody/no-such-model")
    assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler",
                            f"tcp://127.0.0.1:{free_port()}"), "cannot reach the Dask scheduler")
    for address in ("localhost", "garbage://:x"):  # refused before a Dask client exists
        assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler", address),
                           f"--scheduler {address}: not a scheduler's address")
    with socket.socket() as silent:  # accepts, never answers: a Dask client would wait forever
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler", f"tcp://127.0.0.1:{port}"),
                           "cannot reach the Dask scheduler")
        assert_clean_error(*cli("corpus", ja, en, "-o", tmp_path / "o", "--scheduler", f"tls://127.0.0.1:{port}"),
                           "a TLS scheduler needs Dask's TLS configuration")


def test_an_output_name_taken_by_a_folder_is_refused_before_any_work(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    (en / "warren.txt").write_text(DOCS["en/warren.txt"] + "A new sentence.\n", encoding="utf-8")
    (out / "corpus.tmx").unlink()
    (out / "corpus.tmx").mkdir()
    outputs = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert_clean_error(*cli("corpus", ja, en, "-o", out), "corpus.tmx: is a folder")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == outputs  # nothing half written
    with pytest.raises(InputError, match="corpus.tmx: is a folder"):
        write_exports(out)  # the app's "Write"
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == outputs


def test_the_memory_files_follow_the_rules_of_any_output(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    memory = (out / "corpus.tsv").read_bytes()
    # nothing passes the filters: the memory of the last run is left, not emptied
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--confirmed-only")
    assert code == 0 and "no link passes the filters" in stderr and "left as they were" in stderr
    assert (out / "corpus.tsv").read_bytes() == memory
    # a read-only memory is refused before any work, as `align -o` refuses one
    (out / "corpus.tmx").chmod(0o444)
    assert_clean_error(*cli("corpus", ja, en, "-o", out), "corpus.tmx: is read-only")
    (out / "corpus.tmx").chmod(0o644)
    # an owner-only file stays so; a link is written through
    (out / "corpus.tsv").chmod(0o600)
    (tmp_path / "tm").mkdir()
    (out / "corpus.tmx").rename(tmp_path / "tm/corpus.tmx")
    (out / "corpus.tmx").symlink_to(tmp_path / "tm/corpus.tmx")
    before = (tmp_path / "tm/corpus.tmx").stat().st_ino
    code, _, stderr = cli("corpus", ja, en, "-o", out)
    assert code == 0, stderr
    assert (out / "corpus.tsv").stat().st_mode & 0o777 == 0o600
    assert (out / "corpus.tmx").is_symlink() and (tmp_path / "tm/corpus.tmx").stat().st_ino != before


def test_one_run_at_a_time_writes_into_an_out_dir(corpus, tmp_path):
    from align.corpus import writing
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    outputs = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with writing(out):  # another run, mid-way
        assert_clean_error(*cli("corpus", ja, en, "-o", out), "another corpus run")
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == outputs
    assert cli("corpus", ja, en, "-o", out)[0] == 0  # the lock went with its holder


def test_a_run_that_pairs_nothing_leaves_the_last_run_s_outputs(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    outputs = {p: p.read_bytes() for p in out.iterdir() if p.is_file()}
    # the folders swapped: every document is in the wrong language
    assert_clean_error(*cli("corpus", en, ja, "-o", out, "--workers", "1"),
                       "no document pairs: 0 Japanese and 0 English documents usable",
                       "skipped (first: ", "the outputs are left as they were")
    pairs = tmp_path / "pairs.tsv"
    pairs.write_text("ja_file\ten_file\n", encoding="utf-8")
    assert_clean_error(*cli("corpus", ja, en, "-o", out, "--pairs", pairs),
                       "the --pairs file names none of them")
    assert {p: p.read_bytes() for p in out.iterdir() if p.is_file()} == outputs


def test_damaged_state_is_redone_and_what_is_left_out_is_named(corpus, tmp_path):
    root = shutil.copytree(corpus[0], tmp_path / "copy")
    ja, en, out = root / "ja", root / "en", root / "out"
    cached = sorted((out / ".taiyaku/embeddings").iterdir())
    cached[0].write_bytes(cached[0].read_bytes()[:100])   # a run killed mid-write (before atomic
    cached[1].write_bytes(b"")                            # writes), a disk that lost it
    with zipfile.ZipFile(cached[2]) as z:                  # a flipped bit in the sentence matrix
        member = z.getinfo("sentences.npy")
    damaged = bytearray(cached[2].read_bytes())
    damaged[member.header_offset + 200] ^= 0xFF
    cached[2].write_bytes(bytes(damaged))
    reviewed = out / "alignments/a__news.txt.json"
    data = json.loads(reviewed.read_text(encoding="utf-8"))
    data["pairs"][0]["ja"] = [99]                         # a reviewer's hand edit gone wrong
    reviewed.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (ja / "new\tname.txt").write_text(DOCS["ja/rates.txt"], encoding="utf-8")  # documents.tsv can't hold it
    (ja / "line\u2028sep.txt").write_text(DOCS["ja/rates.txt"], encoding="utf-8")  # str.splitlines breaks it
    with open(os.path.join(os.fsencode(ja), b"latin\xe9.txt"), "wb") as f:  # a name that is not UTF-8
        f.write(DOCS["ja/rates.txt"].encode())
    with open(en / "huge.txt", "wb") as f:  # sparse: refused on its size, never read
        f.truncate(3 << 30)
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--workers", "1")
    assert code == 0 and "Traceback" not in stderr, stderr
    assert all(np.load(path)["sentences"].ndim == 2 for path in cached[:3])  # computed again
    assert json.loads(reviewed.read_text(encoding="utf-8")) == data    # the reviewer's file kept
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["left_out"] == [{"file": "alignments/a__news.txt.json", "reason":
                                   "not a Taiyaku alignment: pairs[0].ja: segment 99 does not exist (the side has 4)"}]
    assert "left out of the exports, unreadable: alignments/a__news.txt.json: not a Taiyaku alignment" in stderr
    assert report["aligned"] == 2
    assert {"file": "ja/new\\tname.txt", "reason": "a tab or line break in its name: rename it"} \
        in report["skipped"]
    assert "skipped ja/new\\tname.txt: a tab or line break" in stderr
    reasons = {d["file"]: d["reason"] for d in report["skipped"]}
    assert reasons["ja/line\\u2028sep.txt"] == "a tab or line break in its name: rename it"
    assert reasons["ja/latin\\udce9.txt"] == "its name is not UTF-8: rename it"
    assert reasons["en/huge.txt"] == "too large (3072.0 MB; the limit is 20 MB)"
    # a rerun reads documents.tsv back: it still holds what it held
    assert cli("corpus", ja, en, "-o", out, "--workers", "1")[0] == 0


# -- the same on a Dask cluster -------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    address: str
    scheduler: subprocess.Popen
    workers: list


@pytest.fixture
def dask_cluster(tmp_path):
    """A scheduler and two single-threaded workers on 127.0.0.1, stopped by pid."""
    from distributed import Client
    address = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    dask = [sys.executable, "-m", "dask"]  # the `dask` command of this interpreter
    log = open(tmp_path / "dask.log", "wb")
    procs = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                      "--no-dashboard"], env=env, stdout=log, stderr=log, cwd=tmp_path)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(dask + ["worker", address, "--nthreads", "1", "--no-nanny",
                                                  "--no-dashboard", "--local-directory", str(tmp_path)],
                                          env=env, stdout=log, stderr=log, cwd=tmp_path))
        with Client(address, timeout="60s") as client:  # retries until the scheduler listens
            client.wait_for_workers(2, timeout=120)
        yield Cluster(address, procs[0], procs[1:])
    finally:
        for p in reversed(procs):  # workers first, then the scheduler they report to
            p.terminate()
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        log.close()


def test_a_dask_cluster_gives_the_local_run_s_output(corpus, dask_cluster, tmp_path):
    _, ja, en, local, _ = corpus
    out = tmp_path / "dask"
    code, _, stderr = cli("corpus", ja, en, "-o", out, "--scheduler", dask_cluster.address, timeout=300)
    assert code == 0, stderr
    undated = lambda path: re.sub(rb'creationdate="[^"]*"', b"", path.read_bytes())
    for name in ("documents.tsv", "corpus.tsv", "corpus.tmx"):
        assert undated(out / name) == undated(local / name), name
    for path in (local / "alignments").iterdir():
        a, b = (json.loads(p.read_text(encoding="utf-8")) for p in (path, out / "alignments" / path.name))
        a["meta"].pop("seconds"), b["meta"].pop("seconds")
        assert a == b, path.name


# A task that outlasts the test (the workers are killed at its end): a function the
# workers can import, unlike this module's.
LONG_TASK = (time.sleep, (3600,))


def test_a_lost_dask_scheduler_ends_the_run_in_one_line(dask_cluster, capfd):
    from align.errors import WorkerError
    from align.workers import DaskWorkers, stream
    workers = DaskWorkers(dask_cluster.address, None)
    try:
        results = stream(workers, [([k], *LONG_TASK) for k in range(2)])
        dask_cluster.scheduler.kill()
        with pytest.raises(WorkerError, match="the connection to the Dask scheduler was lost .* run the same"):
            next(results)
    finally:
        workers.close()
        for worker in dask_cluster.workers:
            worker.kill()
    assert "Traceback" not in capfd.readouterr().err  # the client's reconnecting, not logged


def test_a_cluster_without_workers_ends_the_run_in_one_line(dask_cluster, monkeypatch):
    from align.errors import WorkerError
    from align.workers import DaskWorkers, stream
    monkeypatch.setattr(DaskWorkers, "POLL", 0.2)
    monkeypatch.setattr(DaskWorkers, "WORKERLESS", 1)
    workers = DaskWorkers(dask_cluster.address, None)
    try:
        results = stream(workers, [([0], *LONG_TASK)])
        for worker in dask_cluster.workers:
            worker.kill()
        with pytest.raises(WorkerError, match="has had no worker for 1 s"):
            next(results)
    finally:
        workers.close()


def test_a_task_that_kills_its_workers_fails_its_documents_only():
    from align.workers import TASK_KILLED, stream

    class Done:
        def __init__(self, value):
            self.value = value

    class Workers:  # as DaskWorkers.result says a KilledWorker: None
        slots = 2
        submit = staticmethod(lambda fn, *args: Done(fn(*args)))
        wait_any = staticmethod(lambda futures: (list(futures), []))
        result = staticmethod(lambda future: future.value)

    got = list(stream(Workers(), [(["a", "b"], lambda: None, ()), (["c"], lambda: ["fine"], ())]))
    assert got == [(["a", "b"], [{"error": TASK_KILLED}] * 2), (["c"], ["fine"])]


def test_a_dead_local_worker_process_ends_the_run_in_one_line():
    from align.errors import WorkerError
    from align.workers import LocalWorkers, stream
    workers = LocalWorkers(1, None)
    try:
        with pytest.raises(WorkerError, match="a worker process died"):
            list(stream(workers, [([0], os._exit, (9,))]))
    finally:
        workers.close()


def test_the_summary_shows_a_hostile_file_name_without_acting_on_it(tmp_path):
    from align.corpus import summary
    name = "\x1b[2J\u202eevil.txt"  # clears the screen; turns the rest of the line around
    doc = {"ja_file": name, "needs_review": 1, "links": 2, "warning": ""}
    report = {"documents_read": {"ja": 2, "en": 1}, "skipped": [{"file": f"ja/{name}", "reason": "cannot read"}],
              "paired": {"content": 1}, "unpaired": {"ja": 0, "en": 0}, "aligned": 1, "links_by_confidence": {"0.9-1": 2},
              "unaligned_sentences": 0, "left_out": [], "documents": [doc], "review_first": [name],
              "units": {"written": 1}}
    text = summary(report, tmp_path)
    assert "\x1b" not in text and "\u202e" not in text
    assert text.count("\\x1b[2J\\u202eevil.txt") == 2  # the skipped line and the review line


def test_local_workers_end_with_a_killed_client():
    # the client killed (-9) shuts nothing down: its workers must notice on their own
    client = subprocess.Popen([sys.executable, "-c", (
        "import os, sys\n"
        "from align.workers import LocalWorkers\n"
        "workers = LocalWorkers(1, None)\n"
        "print(workers.submit(os.getpid).result(), flush=True)\n"
        "sys.stdin.read()\n")], cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    worker = int(client.stdout.readline())
    client.kill()
    client.wait()
    deadline = time.monotonic() + 300  # the worker looks each second; a bound, not a pace
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _alive(worker)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended
    except FileNotFoundError:
        return False


def test_characters_a_memory_format_cannot_hold_are_counted_and_said(tmp_path):
    from align.corpus import summary
    from align.model import Pair, Segment
    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)
    al = Alignment((Segment("制御\x01文字。"),), (Segment("A form\x0cfeed and a\x01."),), (Pair((0,), (0,), 0.9),))
    (out / "alignments/a.json").write_text(al.dumps(), encoding="utf-8")
    (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\na.txt\ta.txt\t0.9\tcontent\n",
                                       encoding="utf-8")
    report = write_exports(out)
    assert report["units"]["characters_left_out"] == {"tmx": 3, "tsv": 2}  # XML cannot hold a form feed either
    assert "\x01" not in (out / "corpus.tmx").read_text(encoding="utf-8")
    text = summary(report, out)
    assert "corpus.tmx: 3 character(s) that TMX cannot hold" in text and "corpus.tsv: 2 character(s)" in text



def test_corpus_tmx_units_are_the_exports_own(tmp_path):
    """corpus.tmx writes a unit as `export` does: its kind (a headline is no translation), an m-n
    pair's cuts (so it reads back as one), Bloomberg's marks off; a side left empty is no unit."""
    from align.imports import load_alignment
    from align.model import Pair, Segment
    out = tmp_path / "run"
    (out / "alignments").mkdir(parents=True)
    text = Alignment((Segment("一。"), Segment("二。"), Segment("三。")), (Segment("One and two."), Segment("\x01")),
                     (Pair((0, 1), (0,), 0.9), Pair((2,), (1,), 0.9)))
    heads = Alignment((Segment("米国が提案した。"),), (Segment("US Offers Deal (2)"),), (Pair((0,), (0,), 0.9),),
                      mode="headlines")
    (out / "alignments/a.json").write_text(text.dumps(), encoding="utf-8")
    (out / "alignments/h.json").write_text(heads.dumps(), encoding="utf-8")
    (out / "documents.tsv").write_text("ja_file\ten_file\tscore\tmethod\na.txt\ta.txt\t0.9\tcontent\n"
                                       "h.txt\th.txt\t0.9\tcontent\n", encoding="utf-8")
    assert write_exports(out)["units"]["written"] == 2
    units = etree.parse(str(out / "corpus.tmx")).findall(".//tu")
    kinds = [u.findtext("prop[@type='x-taiyaku-kind']") for u in units]
    assert kinds == ["2-1", "headline"] and units[1].findtext("tuv[2]/seg") == "US Offers Deal"
    assert [p.kind for p in load_alignment(out / "corpus.tmx").pairs] == ["2-1", "1-1"]
    assert etree.parse(str(out / "corpus.tmx")).find("header").get("creationdate")


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux's /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/stat") as f:
                if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_second_ctrl_c_or_kill_still_ends_a_corpus_run(corpus, tmp_path, signum):
    # the second came while the pool waited for its workers: the exit then waited forever
    _, ja, en, _, _ = corpus
    run = subprocess.Popen(_command("corpus", ja, en, "-o", tmp_path / "o", "--workers", "2"), cwd=REPO, env=_env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 300  # bounds, not paces
    while len(workers := [p for p in _children(run.pid) if "spawn_main" in _cmdline(p)]) < 2:
        assert run.poll() is None and time.monotonic() < deadline, "no worker started"
        time.sleep(0.05)
    run.send_signal(signum)  # the workers are loading the model: the run cannot be over
    run.send_signal(signum)  # and at once again, as an impatient hand does: it lands on the first's unwinding
    _, stderr = run.communicate(timeout=300)
    assert run.returncode == 128 + signum and "Traceback" not in stderr.decode()
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_alive, workers))


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def test_a_document_too_long_to_align_is_skipped_before_pairing():
    # paired, it took a partner it could never be aligned with
    from align.pipeline import MAX_SEGMENTS_A_SIDE
    from align.workers import embed_task
    long = ("A line.\n" * (MAX_SEGMENTS_A_SIDE + 1)).encode()
    [result] = embed_task([("en", "long.txt", long)], True, None)
    assert result == {"error": f"long.txt: {MAX_SEGMENTS_A_SIDE + 1:,} segments; Taiyaku aligns at most "
                               f"{MAX_SEGMENTS_A_SIDE:,} a side: split the text into parts"}
