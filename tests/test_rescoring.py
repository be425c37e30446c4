"""Rescoring after edits (align/rescoring.py): a pair linked by hand gets a real
confidence from the bundled encoder, in the same history step as the edit,
and an edit never fails because rescoring did."""

from __future__ import annotations

import pytest

from align import grid, rescoring
from align.edits import History, MemoryLog
from align.model import Alignment, Pair, Segment
from align.store import Store

JA = ["米国はウクライナに安全の保証を提示した。", "ゼレンスキー大統領はベルリンで協議に臨んだ。",
      "メルツ首相はこの提案を注目に値すると述べた。", "ロシアはまだコメントしていない。",
      "ブルームバーグはこの主張を独立して検証できていない。", "日銀は木曜日に金利を0.5%に引き上げた。"]
EN = ["The United States offered Ukraine security guarantees.", "President Zelensky held talks in Berlin.",
      "Chancellor Merz called the proposal remarkable.", "Russia has not yet commented.",
      "Bloomberg could not independently verify the claim.",
      "The Bank of Japan raised rates to 0.5% on Thursday."]


def document(pairs=None, model="use-m3") -> Alignment:
    pairs = pairs or [Pair((k,), (k,), 0.5) for k in range(len(JA))]
    return Alignment(tuple(map(Segment, JA)), tuple(map(Segment, EN)), tuple(pairs),
                     meta={"model": model})


def pair_of(al: Alignment, ja: int) -> Pair:
    return next(p for p in al.pairs if ja in p.ja)


@pytest.fixture(params=["memory", "sqlite"])
def history(request, tmp_path):
    """A History over each log, made from an alignment."""
    def make(al):
        if request.param == "memory":
            return History(MemoryLog(al))
        store = Store(tmp_path / "p.sqlite3")
        request.addfinalizer(store.close)
        return store.open_project(store.create_project("x", al))
    return make


def test_a_wrong_link_made_by_hand_scores_low_and_a_right_one_high(use_encoder):
    h = History(document())
    wrong = h.apply("link", [2], [4], rescore=rescoring.rescore_edited)
    p = pair_of(wrong, 2)
    assert p.en == (4,) and p.rescored and p.status == "edited" and p.score < 0.3
    # Merz's and Russia's translations swapped by the aligner; the reviewer links Merz right
    swapped = [Pair((k,), ({2: 3, 3: 2}.get(k, k),), 0.5) for k in range(len(JA))]
    right = History(document(swapped)).apply("link", [2], [2], rescore=rescoring.rescore_edited)
    p = pair_of(right, 2)
    assert p.en == (2,) and p.rescored and p.score > 0.8
    # the pairs the link took a sentence from are rescored too: each now lacks its counterpart
    leftovers = [q for q in right.pairs if q.status == "edited" and q is not p]
    assert len(leftovers) == 2 and all(q.rescored and q.score < 0.5 for q in leftovers)
    # pairs the edit did not touch keep the aligner's score
    assert [q.score for q in right.pairs if q.status == "auto"] == [0.5] * 4


def test_a_link_made_by_hand_with_a_sentence_too_many_is_not_confident(use_encoder):
    # the reviewer gives Bloomberg's sentence to the pair of Russia's: the right
    # shape (without it) beats the link, as the aligner's shape gain reads it
    wrong = History(document()).apply("link", [3, 4], [3], rescore=rescoring.rescore_edited)
    p = pair_of(wrong, 3)
    assert p.ja == (3, 4) and p.en == (3,) and p.rescored and p.score < 0.5
    # a sentence the English splits in two, linked by hand to both, is confident
    ja = JA[:5] + ["日銀は木曜日に金利を0.5%に引き上げ、1月以来初めての利上げとなった。"]
    en = EN[:5] + ["The Bank of Japan raised rates to 0.5% on Thursday.", "It was the first hike since January."]
    pairs = [Pair((k,), (k,), 0.5) for k in range(6)] + [Pair((), (6,), 0.5)]
    split = Alignment(tuple(map(Segment, ja)), tuple(map(Segment, en)), tuple(pairs), meta={"model": "use-m3"})
    right = History(split).apply("link", [5], [5, 6], rescore=rescoring.rescore_edited)
    p = pair_of(right, 5)
    assert p.en == (5, 6) and p.rescored and p.score > 0.8


def test_a_pair_larger_than_any_the_aligner_makes_is_not_shown_confident(use_encoder):
    # five pairs merged by hand: right, but no curve was fitted on such a pair
    h = History(document())
    for _ in range(4):
        h.apply("merge_next", 0, rescore=rescoring.rescore_edited)
    p = h.current.pairs[0]
    assert (p.ja, p.en) == ((0, 1, 2, 3, 4), (0, 1, 2, 3, 4)) and p.rescored and p.score <= 0.5


def test_one_undo_takes_back_the_edit_and_its_rescoring(use_encoder, history):
    h = history(document())
    edited = h.apply("merge_next", 2, rescore=rescoring.rescore_edited)
    merged = edited.pairs[2]
    assert merged.ja == (2, 3) and merged.rescored and merged.score != 0.5
    assert len(h.steps) == 1
    assert h.undo() == document() and not h.can_undo
    assert h.redo() == edited and h.current.pairs[2].score == merged.score


def test_rescoring_that_fails_keeps_the_edit(history, monkeypatch):
    def broken(model):
        raise RuntimeError("no encoder here")
    monkeypatch.setattr(rescoring, "load_encoder", broken)
    h = history(document())
    al = h.apply("merge_next", 0, rescore=rescoring.rescore_edited)
    assert al.pairs[0].ja == (0, 1) and al.pairs[0].score == 0.5 and not al.pairs[0].rescored
    # a model this process does not have is not loaded in the middle of an edit
    h = History(document(model="some/other-model"))
    assert h.apply("merge_next", 0, rescore=rescoring.rescore_edited).pairs[0].score == 0.5


def test_only_changed_pairs_are_rescored_and_headlines_keep_their_scores(monkeypatch):
    calls = []
    monkeypatch.setattr(rescoring, "rescored", lambda al, ks, enc: calls.append(list(ks)) or al)
    monkeypatch.setattr(rescoring, "load_encoder", lambda model: None)
    h = History(document())
    h.apply("confirm", 1, rescore=rescoring.rescore_edited)  # nothing changed by hand
    h.apply("merge_next", 3, rescore=rescoring.rescore_edited)
    h.apply("edit_text", "en", 0, "The US offered guarantees.", rescore=rescoring.rescore_edited)
    assert calls == [[3], [0]]
    heads = Alignment(tuple(map(Segment, JA)), (Segment("MERZ PRAISES PLAN"),),
                      (Pair((0,), (0,), 0.4),), mode="headlines", meta={"model": "use-m3"})
    out = History(heads).apply("relink", 0, [2], rescore=rescoring.rescore_edited)
    assert calls == [[3], [0]] and not out.pairs[0].rescored


def test_the_grid_shows_a_rescored_score_as_current(use_encoder, tmp_path):
    with Store(tmp_path / "p.sqlite3") as store:
        project = store.open_project(store.create_project("x", document()))
        ops = [{"seq": 1, "op": "merge_next", "args": [2]}, {"seq": 2, "op": "confirm", "args": [0]}]
        ack = grid.apply_ops(project, "tab1", ops, rescore=rescoring.rescore_edited)
        assert ack.seq == 2 and ack.error is None
        rows = grid.payload(project)["pairs"]
        assert rows[2]["rescored"] is True and rows[2]["score"] == round(project.current.pairs[2].score, 4)
        assert rows[0]["rescored"] is False
        assert store.open_project(project.id).current.pairs[2].rescored  # saved with the step


def test_opening_a_document_embeds_it_in_the_background(monkeypatch):
    import threading
    from collections import OrderedDict

    from align import encoders

    monkeypatch.setattr(encoders, "_LOADED", OrderedDict())  # a fresh process: nothing loaded
    rescoring.warm_up(Alignment((), (), (), mode="headlines", meta={}))
    assert not [t for t in threading.enumerate() if t.name == "taiyaku-warm-up"]  # headlines: not rescored
    rescoring.warm_up(document())
    for thread in [t for t in threading.enumerate() if t.name == "taiyaku-warm-up"]:
        thread.join()
    assert encoders.is_loaded(encoders.DEFAULT_MODEL)
    cached = encoders.load_encoder()._cache  # the document's sentences are embedded already
    assert all(encoders.normalise_case(t) in cached for t in JA + EN)
