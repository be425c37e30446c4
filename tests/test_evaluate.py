"""Scoring against gold alignments (Vecalign's strict / lax precision, recall,
F1), the gold format, the random deletions, and the benchmark folder layout."""

import random

import pytest

from align.evaluate import (bench_documents, delete_sentences, format_beads, parse_beads,
                            read_beads, score)

# A hand-worked document. Gold has 4 links, a deletion and an insertion.
GOLD = [((0,), (0,)), ((1, 2), (1,)), ((3,), ()), ((4,), (2,)), ((), (3,)), ((5,), (4,))]
TEST = [((0,), (0,)),   # in gold: strict and lax hit
        ((1,), (1,)),   # not in gold; gold links source 1 to target 1: lax hit only
        ((2,), ()),     # not in gold; no target, so no overlap: miss both
        ((3,), (2,)),   # source 3 has no gold target: miss both
        ((4,), (3,)),   # gold links 4 to 2, not 3: miss both
        ((5,), (4,))]   # in gold: hit both
# Precision counts all 6 test beads: strict 2/6, lax 3/6.
# Recall goes the other way over the 4 gold links against the test links (the
# test deletion ((2,), ()) left out):
#   [0]:[0] found exactly; [1,2]:[1] overlaps test [1]:[1] (lax only);
#   [4]:[2] meets test [4]:[3], no overlap (miss); [5]:[4] found exactly.
#   strict 2/4, lax 3/4.
# F1: strict 2·(1/3)(1/2)/(1/3 + 1/2) = 0.4; lax 2·(1/2)(3/4)/(1/2 + 3/4) = 0.6.


def test_scores_of_a_hand_worked_example():
    got = score([GOLD], [TEST])
    assert got["strict_precision"] == pytest.approx(2 / 6)
    assert got["lax_precision"] == pytest.approx(3 / 6)
    assert got["strict_recall"] == pytest.approx(2 / 4)
    assert got["lax_recall"] == pytest.approx(3 / 4)
    assert got["strict_f1"] == pytest.approx(0.4)
    assert got["lax_f1"] == pytest.approx(0.6)


def test_a_perfect_alignment_scores_one():
    got = score([GOLD], [list(GOLD)])
    assert all(v == pytest.approx(1.0) for v in got.values())


def test_insertions_and_deletions_are_left_out_of_recall():
    links_only = [b for b in GOLD if b[0] and b[1]]
    with_skips = score([GOLD], [TEST])
    without = score([links_only], [TEST])
    assert without["strict_recall"] == with_skips["strict_recall"]
    assert without["lax_recall"] == with_skips["lax_recall"]
    # a test that leaves every sentence unaligned recalls nothing, and its
    # precision counts only the deletions and insertions that gold has too
    all_skips = [((i,), ()) for i in range(6)] + [((), (j,)) for j in range(5)]
    got = score([GOLD], [all_skips])
    assert got["strict_recall"] == 0.0 and got["lax_recall"] == 0.0
    assert got["strict_precision"] == pytest.approx(2 / 11)   # [3]:[] and []:[3]
    assert got["strict_f1"] == 0.0


def test_a_merged_bead_against_its_split_gold_is_a_lax_hit():
    gold = [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]
    test = [((0,), (0,)), ((1, 2), (1, 2))]
    got = score([gold], [test])
    # precision: [0]:[0] strict; [1,2]:[1,2] lax only -> 1/2, 2/2
    # recall: [0]:[0] strict; [1]:[1] and [2]:[2] each overlap the merged bead -> 1/3, 3/3
    assert (got["strict_precision"], got["lax_precision"]) == (pytest.approx(0.5), 1.0)
    assert (got["strict_recall"], got["lax_recall"]) == (pytest.approx(1 / 3), 1.0)


def test_scores_are_micro_averaged_over_documents():
    doc1 = ([((0,), (0,))], [((0,), (0,))])                                 # 1 of 1 right
    doc2 = ([((i,), (i,)) for i in range(3)], [((0,), (1,)), ((1,), (0,)), ((2,), (2,))])
    got = score([doc1[0], doc2[0]], [doc1[1], doc2[1]])
    # 2 right of 4 test beads overall (a per-document mean would give (1 + 1/3) / 2)
    assert got["strict_precision"] == pytest.approx(2 / 4)
    assert got["strict_recall"] == pytest.approx(2 / 4)


def test_duplicate_beads_and_empty_beads_do_not_count():
    got = score([GOLD], [TEST + [((0,), (0,))] + [((), ())]])
    assert got == score([GOLD], [TEST])


def test_documents_must_pair_up():
    with pytest.raises(ValueError):
        score([GOLD, GOLD], [TEST])


def test_empty_input_scores_zero_without_dividing_by_zero():
    got = score([[]], [[]])
    assert set(got.values()) == {0.0}


# -- the gold format -----------------------------------------------------------------

def test_format_and_parse_round_trip(tmp_path):
    text = "[0]:[0]\n[1, 2]:[1]\n[3]:[]\n[]:[2]\n[4]:[3, 4, 5]\n"
    beads = parse_beads(text)
    assert beads == [((0,), (0,)), ((1, 2), (1,)), ((3,), ()), ((), (2,)), ((4,), (3, 4, 5))]
    assert format_beads(beads) == text
    path = tmp_path / "doc.gold"
    path.write_text(format_beads(beads), encoding="utf-8")
    assert read_beads(path) == beads


def test_parse_tolerates_spacing_and_blank_lines():
    assert parse_beads("\n[0,1] : [ 0 ]\r\n\n  []:[1]\n") == [((0, 1), (0,)), ((), (1,))]


# -- random deletions ------------------------------------------------------------------

SRC = [f"src {i}" for i in range(20)]
TGT = [f"tgt {j}" for j in range(22)]
DEL_GOLD = ([((i,), (i,)) for i in range(10)] + [((10, 11), (10,))] + [((12,), ())]
            + [((i,), (i - 2,)) for i in range(13, 20)] + [((), (18, 19)), ((), (20,)), ((), (21,))])


def test_deletions_leave_each_side_a_sentence():
    src, tgt, gold = delete_sentences(SRC[:3], TGT[:3], [((i,), (i,)) for i in range(3)], 0.99, random.Random(0))
    assert len(src) == len(tgt) == 1  # round(0.99 * 3) would leave none
    assert sorted(i for s, _ in gold for i in s) == [0] and sorted(j for _, t in gold for j in t) == [0]


def test_delete_sentences_keeps_the_gold_consistent():
    src, tgt, gold = delete_sentences(SRC, TGT, DEL_GOLD, 0.2, random.Random(3))
    assert len(src) == 20 - 4 and len(tgt) == 22 - 4     # round(0.2 * n) on each side
    # what is left is in the original order
    assert [SRC.index(s) for s in src] == sorted(SRC.index(s) for s in src)
    assert [TGT.index(t) for t in tgt] == sorted(TGT.index(t) for t in tgt)
    # every kept sentence is in exactly one bead, ids in range and in order
    assert [i for s, _ in gold for i in s] == list(range(len(src)))
    assert [j for _, t in gold for j in t] == list(range(len(tgt)))
    assert all(s or t for s, t in gold)
    # the new beads are the old ones less their deleted sentences (by the
    # texts), those left with no sentence dropped
    old = {(tuple(SRC[i] for i in s), tuple(TGT[j] for j in t)) for s, t in DEL_GOLD}
    survivors = {(tuple(x for x in os if x in src), tuple(y for y in ot if y in tgt)) for os, ot in old}
    survivors.discard(((), ()))
    assert {(tuple(src[i] for i in s), tuple(tgt[j] for j in t)) for s, t in gold} == survivors


def test_a_link_that_loses_one_side_becomes_a_deletion_or_insertion():
    src, tgt, gold = delete_sentences(["a", "b"], ["A", "B"], [((0,), (0,)), ((1,), (1,))],
                                      0.5, random.Random(0))
    assert len(src) == 1 and len(tgt) == 1
    kinds = sorted((len(s), len(t)) for s, t in gold)
    if src[0].upper() == tgt[0]:
        assert kinds == [(1, 1)]
    else:
        assert kinds == [(0, 1), (1, 0)]


def test_delete_sentences_is_deterministic_for_a_seed():
    one = delete_sentences(SRC, TGT, DEL_GOLD, 0.3, random.Random(42))
    two = delete_sentences(SRC, TGT, DEL_GOLD, 0.3, random.Random(42))
    assert one == two
    others = [delete_sentences(SRC, TGT, DEL_GOLD, 0.3, random.Random(s))[0] for s in range(5)]
    assert len({tuple(o) for o in others}) > 1


def test_delete_nothing_changes_nothing():
    src, tgt, gold = delete_sentences(SRC, TGT, DEL_GOLD, 0.0, random.Random(1))
    assert (src, tgt, gold) == (SRC, TGT, DEL_GOLD)


# -- benchmark folders ------------------------------------------------------------------

def test_bench_documents(tmp_path):
    for name in ("b.ja", "b.en", "b.gold", "a.en", "a.ja", "a.gold", "a.align", "a.json", "notes.txt"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    docs = bench_documents(tmp_path)
    assert [(d, s.name, t.name, g.name) for d, s, t, g in docs] == [
        ("a", "a.ja", "a.en", "a.gold"), ("b", "b.ja", "b.en", "b.gold")]


def test_bench_documents_other_languages_in_alphabetical_order(tmp_path):
    for name in ("dev.fr", "dev.de", "dev.gold"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    [(doc, src, tgt, _)] = bench_documents(tmp_path)
    assert (doc, src.name, tgt.name) == ("dev", "dev.de", "dev.fr")


def test_bench_documents_needs_two_sides(tmp_path):
    (tmp_path / "x.gold").write_text("[0]:[0]\n", encoding="utf-8")
    (tmp_path / "x.ja").write_text("x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="x.gold"):
        bench_documents(tmp_path)


def test_a_gold_bead_past_the_end_of_a_side_is_refused(tmp_path):
    from align.evaluate import BenchmarkError, load_bench
    (tmp_path / "x.ja").write_text("一。\n二。\n", encoding="utf-8")
    (tmp_path / "x.en").write_text("One.\nTwo.\n", encoding="utf-8")
    (tmp_path / "x.gold").write_text("[0]:[0]\n[1]:[1]\n", encoding="utf-8")
    assert len(load_bench(tmp_path)[0].gold) == 2
    (tmp_path / "x.gold").write_text("[0]:[0]\n[1]:[7]\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="sentence 7, but x.en has 2 lines"):
        load_bench(tmp_path)
    (tmp_path / "x.gold").write_text("[0]:[0]\n[0]:[1]\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="sentence 0 of x.ja is in two beads"):
        load_bench(tmp_path)
    (tmp_path / "x.gold").write_text("\n  \n", encoding="utf-8")  # scored, it would lower F1 silently
    with pytest.raises(BenchmarkError, match="x.gold: no beads, but the document has text"):
        load_bench(tmp_path)
    (tmp_path / "x.gold").write_text("[0]:[0]\n[]:[]\n[1]:[1]\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="x.gold: gold line 2 is an empty bead"):
        load_bench(tmp_path)
    (tmp_path / "x.gold").write_text("# made by hand\n[0]:[0]\n", encoding="utf-8")
    with pytest.raises(BenchmarkError, match="x.gold: gold line 1 is not a bead"):  # the file named
        load_bench(tmp_path)
    (tmp_path / "x.gold").write_text("\ufeff[0]:[0]\n[1]:[1]\n", encoding="utf-8")  # a Windows editor's BOM
    assert len(load_bench(tmp_path)[0].gold) == 2
    ja, en = (tmp_path / "x.ja").read_bytes(), (tmp_path / "x.en").read_bytes()
    (tmp_path / "x.ja").write_bytes(en)  # the two files swapped: they would score as well
    (tmp_path / "x.en").write_bytes(ja)
    with pytest.raises(BenchmarkError, match="x.ja: does not look Japanese: swapped with x.en"):
        load_bench(tmp_path)
    for name in ("x.ja", "x.en", "x.gold"):
        (tmp_path / name).write_bytes(b"")
    with pytest.raises(BenchmarkError, match="x.gold: its two texts are empty"):
        load_bench(tmp_path)


def test_a_document_id_may_hold_glob_characters(tmp_path):
    for name in ("a[1].ja", "a[1].en", "a[1].gold", "a*.ja", "a*.en", "a*.gold"):
        (tmp_path / name).write_text("x\n", encoding="utf-8")
    assert [(d, s.name, t.name) for d, s, t, _ in bench_documents(tmp_path)] == [
        ("a*", "a*.ja", "a*.en"), ("a[1]", "a[1].ja", "a[1].en")]


def test_hyp_out_writes_the_alignment_with_scores_beside_each_align(tmp_path, use_encoder):
    from align.benchmark import evaluate_folder
    from align.model import Alignment
    from conftest import FIXTURES
    evaluate_folder(FIXTURES / "bench_small", hyp_out=tmp_path)
    for align_file in sorted(tmp_path.glob("*.align")):
        al = Alignment.loads(align_file.with_suffix(".json").read_text(encoding="utf-8"))
        # the same beads as the .align, each with its confidence
        assert [(p.ja, p.en) for p in al.pairs] == parse_beads(align_file.read_text(encoding="utf-8"))
        assert all(0.0 <= p.score <= 1.0 for p in al.pairs)
        assert al.mode == "document" and len(al.ja) and len(al.en)
