"""The review's rules (align/review.py): confidence levels, why a pair
needs review, the cursor after an edit, cut offers; and the map
(align/heatmap.py): the pooled similarity matrix with the path over it."""

import numpy as np
import pytest

from align import heatmap, review
from align.edits import confirm, merge_next
from align.model import Alignment, Candidate, Pair, Segment


def doc(scores, statuses=None, ja_ids=None, en_ids=None) -> Alignment:
    n = len(scores)
    statuses = statuses or ["auto"] * n
    ja_ids = ja_ids or [(k,) for k in range(n)]
    en_ids = en_ids or [(k,) for k in range(n)]
    n_ja = 1 + max((i for ids in ja_ids for i in ids), default=-1)
    n_en = 1 + max((i for ids in en_ids for i in ids), default=-1)
    ja = tuple(Segment(f"文{i}です。") for i in range(n_ja))
    en = tuple(Segment(f"Sentence {i}.") for i in range(n_en))
    pairs = tuple(Pair(tuple(j), tuple(e), s, st_) for j, e, s, st_ in zip(ja_ids, en_ids, scores, statuses))
    return Alignment(ja, en, pairs)


def headlines() -> Alignment:
    ja = tuple(Segment(t) for t in ("協議が再開した。", "進展があった。", "潜水艦を攻撃した。"))
    en = (Segment("Talks Resume"), Segment("Drones Hit Submarine"))
    pairs = (Pair((1,), (0,), 0.4, candidates=(Candidate((1,), 0.4), Candidate((0,), 0.3))),
             Pair((2,), (1,), 0.9, candidates=(Candidate((2,), 0.9),)))
    return Alignment(ja, en, pairs, mode="headlines")


# -- confidence and triage ------------------------------------------------------------

@pytest.mark.parametrize("score, level", [(1.0, "high"), (0.8, "high"), (0.7999, "medium"),
                                          (0.5, "medium"), (0.4999, "low"), (0.0, "low")])
def test_levels_follow_the_calibrated_thresholds(score, level):
    assert review.level(score) == level
    assert review.colour(score) == review.LEVELS[level][1]


def test_score_text_never_rounds_across_a_threshold():
    assert review.score_text(0.7999) == "0.79"
    assert review.score_text(0.8) == "0.80"
    assert review.score_text(0.4999) == "0.49"
    assert review.score_text(1.0) == "1.00"


def test_needs_review_means_low_confidence_orphan_m_n_or_edited():
    al = doc([0.9, 0.6, 0.2, 0.95, 0.92, 0.92, 0.95],
             ["auto", "auto", "confirmed", "edited", "auto", "auto", "confirmed"],
             ja_ids=[(0,), (1,), (2,), (3,), (4,), (5, 6), (7, 8)],
             en_ids=[(0,), (1,), (2,), (3,), (), (4, 5), (6,)])
    assert [review.reasons(p) for p in al.pairs] == [
        (), ("low",), (), ("edited",), ("orphan",), ("m-n",), ()]
    # a confident omission or merge still waits for a person; a confirmed one does not
    assert [review.needs_review(p) for p in al.pairs] == [False, True, False, True, True, True, False]
    assert [review.kind_group(p) for p in al.pairs] == ["1-1", "1-1", "1-1", "1-1", "orphan", "m-n", "m-n"]
    assert set(review.REASONS) == {"low", "orphan", "m-n", "edited"}
    s = review.stats(al)
    assert (s.pairs, s.confirmed, s.edited, s.auto, s.review) == (7, 2, 1, 4, 4)
    assert s.done == pytest.approx(2 / 7)


def test_next_needing_review_wraps_round():
    al = doc([0.2, 0.9, 0.9, 0.3])
    assert review.next_needing_review(al, 0) == 3
    assert review.next_needing_review(al, 3) == 0
    assert review.next_needing_review(confirm(confirm(al, 0), 3), 1) is None


def test_focus_follows_the_edit():
    al = doc([0.9] * 4)
    merged = merge_next(al, 1)
    assert review.focus_of(merged, "merge_next", (1,), 0) == 1
    assert review.focus_of(merged, "merge_prev", (2,), 0) == 1
    assert review.focus_of(al, "edit_text", ("en", 3, "x"), 0) == 3
    assert review.focus_of(al, "join_segments", ("ja", [2, 3]), 0) == 2
    assert review.focus_of(al, "link", ([2], [1]), 0) == 2
    assert review.focus_of(al, "confirm", (9,), 0) == 3  # clamped
    assert review.focus_of(al, "relink", (), 2) == 2


def test_cut_offers_come_from_the_splitters_rules():
    # inside a speech too, but not at its end when と follows
    assert review.cut_offers("彼は「今日だ。明日だ。」と述べた。次に行く。", "ja") == (7, 17)
    assert review.cut_offers("一文だけ。", "ja") == ()
    assert review.cut_offers("Mr. Smith went to Washington. He spoke.", "en") == (29,)
    assert review.cut_offers("It costs 3.5 dollars. Fine.", "en") == (21,)
    assert review.cut_offers('He said "Go. Now." and left.', "en") == (12,)  # as in Japanese


# -- the map --------------------------------------------------------------------------------------

def fake_encode(texts):
    """Deterministic unit vectors: texts sharing a digit point the same way."""
    out = np.zeros((len(texts), 10), np.float32)
    for r, t in enumerate(texts):
        digits = [int(c) for c in t if c.isdigit()] or [0]
        out[r, digits[0] % 10] = 1.0
    return out


def test_similarity_matrix_is_ja_by_en_cosine():
    al = doc([0.9, 0.9, 0.9])
    sims = heatmap.similarity_matrix(al, fake_encode)
    assert sims.pooled.shape == (3, 3) and sims.pooled.dtype == np.float32 and (sims.fr, sims.fc) == (1, 1)
    assert np.allclose(sims.pooled, np.eye(3))
    keyed = heatmap.similarity_matrix(al, fake_encode, en_key=lambda t: "9")
    assert np.allclose(keyed.pooled, 0)


def test_a_long_document_is_pooled_block_by_block_to_the_same_result():
    rng = np.random.default_rng(1)
    ja, en = rng.standard_normal((1300, 8)).astype(np.float32), rng.standard_normal((700, 8)).astype(np.float32)
    ja /= np.linalg.norm(ja, axis=1, keepdims=True)
    en /= np.linalg.norm(en, axis=1, keepdims=True)
    blocked = heatmap.pool_product(ja, en)
    whole, fr, fc = heatmap.pool(np.clip(ja @ en.T, -1, 1).astype(np.float32))
    assert (blocked.fr, blocked.fc) == (fr, fc) and np.allclose(blocked.pooled, whole, atol=1e-6)
    assert max(blocked.pooled.shape) <= heatmap.MAX_SIDE


def test_candidate_matrix_for_headlines():
    m = heatmap.candidate_matrix(headlines()).pooled
    assert m.shape == (3, 2)
    assert m[1, 0] == pytest.approx(0.4) and m[0, 0] == pytest.approx(0.3)
    assert m[2, 1] == pytest.approx(0.9) and m[0, 1] == 0


def test_pool_keeps_the_maximum_and_bounds_the_size():
    m = np.random.default_rng(0).random((500, 433)).astype(np.float32)
    pooled, fr, fc = heatmap.pool(m, 240)
    assert pooled.shape[0] <= 240 and pooled.shape[1] <= 240 and (fr, fc) == (3, 2)
    assert pooled[0, 0] == m[:3, :2].max()
    assert pooled.max() == m.max()
    same, *_ = heatmap.pool(m[:10, :10], 240)
    assert same.shape == (10, 10)


def test_path_points_document_and_headlines():
    al = doc([0.9, 0.5, 0.1, 0.9], ja_ids=[(0, 1), (2,), (), (3,)], en_ids=[(0,), (), (1,), (2,)])
    pts = heatmap.path_points(al)
    assert [(p.k, p.x, p.y) for p in pts] == [(0, 0, 0.5), (1, 0.5, 2), (2, 1, 2.5), (3, 2, 3)]
    hpts = heatmap.path_points(headlines())
    assert [(p.k, p.x, p.y) for p in hpts] == [(0, 1, 0), (1, 2, 1)]


def test_selected_pairs_reads_plotly_selection():
    sel = {"points": [{"customdata": [4]}, {"customdata": 2}, {"customdata": [4]}, {"x": 1}],
           "box": [], "lasso": []}
    assert heatmap.selected_pairs(sel) == [2, 4]
    assert heatmap.selected_pairs(None) == [] and heatmap.selected_pairs({}) == []


def test_heatmap_figure_has_the_path_over_the_matrix():
    al = doc([0.9, 0.6, 0.2])
    fig = heatmap.heatmap_figure(al, heatmap.similarity_matrix(al, fake_encode), current=1)
    heat, path, ring = fig.data
    assert heat.type == "heatmap" and path.type == "scatter"
    assert list(path.customdata) == [0, 1, 2]
    assert list(path.marker.color) == [review.colour(s) for s in (0.9, 0.6, 0.2)]
    assert list(path.x) == [1, 2, 3]  # numbered from 1, like the list
    assert list(ring.x) == [2]
    assert fig.layout.dragmode == "select"


def test_heatmap_of_a_long_document_stays_small():
    n = 500
    al = doc([0.9] * n)
    fig = heatmap.heatmap_figure(al, heatmap.pool_product(np.eye(n, dtype=np.float32), np.eye(n, dtype=np.float32)))
    assert np.asarray(fig.data[0].z).size <= 240 * 240
    assert len(fig.data[1].x) == n


def test_headline_heatmap_puts_headlines_on_the_y_axis():
    al = headlines()
    fig = heatmap.heatmap_figure(al, heatmap.candidate_matrix(al))
    assert np.asarray(fig.data[0].z).shape == (2, 3)
    assert fig.layout.yaxis.title.text == "English headline"




def test_map_ticks_fall_on_whole_segment_numbers():
    fig = heatmap.heatmap_figure(doc([0.9] * 30), heatmap.similarity_matrix(doc([0.9] * 30), fake_encode))
    assert (fig.layout.xaxis.tick0, fig.layout.xaxis.dtick) == (1, 5)
    assert [heatmap._tick_step(n) for n in (3, 12, 13, 100, 2000)] == [1, 1, 2, 10, 200]


def test_hand_edits_keep_the_first_original_and_drop_an_edit_typed_back():
    from align.edits import Step
    from align.review import hand_edits
    steps = [Step.make("edit_text", ["en", 0, "The first.", "First."]),
             Step.make("edit_text", ["en", 0, "The very first.", "The first."]),  # edited again
             Step.make("confirm", [0]),
             Step.make("edit_text", ["ja", 1, "二つ目だ。", "二つ目。"]),
             Step.make("edit_text", ["ja", 1, "二つ目。", "二つ目だ。"]),          # typed back as it was
             Step.make("edit_text", ["en", 2, "No original given."])]             # nothing to match it by
    assert hand_edits(steps) == {("en", "First."): "The very first."}


def test_the_typed_texts_a_file_keeps_are_read_only_when_well_formed():
    from align.review import typed_of
    assert typed_of({"typed": [["en", "First.", "The first."]]}) == {("en", "First."): "The first."}
    for bad in ({"typed": "x"}, {"typed": [["en", "a"]]}, {"typed": [["fr", "a", "b"]]}, {"typed": [["en", 1, "b"]]},
                {}, None):
        assert typed_of(bad) == {}
