"""View-model helpers of the review app (align/review.py): colours, the
"needs review" filter, paging and the cursor, split points, row HTML, and the
similarity heatmap with its path."""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from align import review
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


# -- confidence ------------------------------------------------------------------

@pytest.mark.parametrize("score, level", [(1.0, "high"), (0.8, "high"), (0.7999, "medium"),
                                          (0.5, "medium"), (0.4999, "low"), (0.0, "low")])
def test_levels_follow_the_calibrated_thresholds(score, level):
    assert review.level(score) == level
    assert review.colour(score) == review.LEVELS[level][3]


def test_score_text_never_rounds_across_a_threshold():
    assert review.score_text(0.7999) == "0.79"
    assert review.score_text(0.8) == "0.80"
    assert review.score_text(0.4999) == "0.49"
    assert review.score_text(1.0) == "1.00"
    chip = review.score_chip(0.7821)
    assert "0.78" in chip and review.LEVELS["medium"][1] in chip


def test_needs_review_is_low_confidence_and_not_confirmed():
    al = doc([0.9, 0.6, 0.2, 0.3], ["auto", "auto", "confirmed", "edited"])
    assert [review.needs_review(p) for p in al.pairs] == [False, True, False, True]
    assert review.visible(al, "review") == [1, 3]
    assert review.visible(al, "all") == [0, 1, 2, 3]
    # an edited pair waits for a confirm, whatever its stale score says
    assert review.needs_review(doc([0.95], ["edited"]).pairs[0])
    assert "<s>" in review.meta_html(doc([0.95], ["edited"]).pairs[0])
    assert "<s>" not in review.meta_html(doc([0.95], ["auto"]).pairs[0])
    s = review.stats(al)
    assert (s.pairs, s.confirmed, s.edited, s.auto, s.review) == (4, 1, 1, 2, 2)
    assert (s.high, s.medium, s.low) == (1, 1, 2)
    assert s.done == 0.25


# -- paging and the cursor ------------------------------------------------------------

def test_pages():
    shown = list(range(0, 120, 2))  # 60 shown pairs: 0, 2, ..., 118
    assert review.n_pages(len(shown), 25) == 3
    assert review.n_pages(0, 25) == 1
    assert review.page_of(shown, 0, 25) == 1
    assert review.page_of(shown, 50, 25) == 2  # 50 is the 26th shown pair
    assert review.page_of(shown, 49, 25) == 2  # hidden: the page of the next shown one
    assert review.page_of(shown, 500, 25) == 3
    assert review.page_items(shown, 3, 25) == shown[50:]
    assert review.page_items(shown, 9, 25) == shown[50:]  # clamped


def test_step_moves_through_the_shown_pairs_only():
    shown = [1, 4, 6]
    assert review.step(shown, 4, 1) == 6
    assert review.step(shown, 4, -1) == 1
    assert review.step(shown, 6, 1) == 6  # nothing after: stay
    assert review.step(shown, 1, -1) == 1
    assert review.step(shown, 2, 1) == 4  # from a hidden pair: the next shown one
    assert review.step(shown, 5, -1) == 4
    assert review.step(shown, 9, 1) == 9
    assert review.step([], 3, 1) == 3


@given(st.lists(st.integers(0, 300), unique=True).map(sorted), st.integers(0, 300),
       st.integers(-3, 3))
def test_step_always_lands_on_a_shown_pair_or_stays(shown, k, delta):
    j = review.step(shown, k, delta)
    assert j == k or j in shown
    if delta > 0 and j != k:
        assert j > k
    if delta < 0 and j != k:
        assert j < k


@given(st.lists(st.integers(0, 300), min_size=1, unique=True).map(sorted), st.integers(0, 300),
       st.sampled_from([25, 50]))
def test_the_page_of_a_pair_holds_it_or_its_next_shown(shown, k, size):
    items = review.page_items(shown, review.page_of(shown, k, size), size)
    assert shown[review.anchor(shown, k)] in items


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
    assert review.focus_of(al, "confirm", (9,), 0) == 3  # clamped
    assert review.focus_of(al, "relink", (), 2) == 2


# -- splitting a segment ----------------------------------------------------------------

def test_sentence_cuts():
    assert review.sentence_cuts("協議が再開した。「進展だ！」と述べた。", "ja") == [8]
    # inside a speech too, but not at its end when と follows
    assert review.sentence_cuts("彼は「今日だ。明日だ。」と述べた。次に行く。", "ja") == [7, 17]
    assert review.sentence_cuts("「終わりだ。」次の文。", "ja") == [7]
    assert review.sentence_cuts("本当？本当だ！！それで", "ja") == [3, 8]
    assert review.sentence_cuts("一文だけ。", "ja") == []
    assert review.sentence_cuts('Talks resumed. "Real progress," he said. 90% agreed.', "en") == [14, 40]
    assert review.sentence_cuts("Mr. Smith went to Washington. He spoke.", "en") == [29]
    assert review.sentence_cuts("It costs 3.5 dollars. Fine.", "en") == [21]


def test_line_break_cut():
    assert review.line_break_cut("AAA。BBB。", "AAA。\nBBB。") == 4
    assert review.line_break_cut("Hello there. World.", "Hello there.\nWorld.") == 12
    assert review.line_break_cut("Hello there. World.", "Hello there. \nWorld.") == 12
    assert review.line_break_cut("Hello there. World.", "Hello there\n. World.") == 11
    assert review.line_break_cut("AAA。BBB。", "AAA。\nBBC。") is None  # text changed too
    assert review.line_break_cut("AAA。BBB。", "A\nAA。\nBBB。") is None  # two breaks
    assert review.line_break_cut("AAA。BBB。", "\nAAA。BBB。") is None  # nothing before it
    assert review.line_break_cut("AAA。BBB。", "AAA。BBB。") is None


# -- row HTML --------------------------------------------------------------------------------

def test_row_html_escapes_text_and_marks_the_language():
    al = Alignment((Segment("<script>alert(1)</script>です"),), (Segment("a & b <i>"),),
                   (Pair((0,), (0,), 0.3),))
    ja = review.ja_html(al, al.pairs[0])
    en = review.en_html(al, al.pairs[0])
    assert "<script>" not in ja and "&lt;script&gt;" in ja and 'lang="ja"' in ja
    assert "a &amp; b &lt;i&gt;" in en and 'lang="en"' in en
    empty = Alignment((Segment("一。"),), (), (Pair((0,), (), 0.1),))
    assert "no English" in review.en_html(empty, empty.pairs[0])


def test_merged_segments_show_their_boundaries():
    al = doc([0.9], ja_ids=[(0, 1)], en_ids=[(0,)])
    assert review.ja_html(al, al.pairs[0]).count('class="seg"') == 2
    meta = review.meta_html(al.pairs[0])
    assert "2-1" in meta and "auto" in meta and "0.90" in meta


# -- heatmap ------------------------------------------------------------------------------------

def fake_encode(texts):
    """Deterministic unit vectors: texts sharing a digit point the same way."""
    out = np.zeros((len(texts), 10), np.float32)
    for r, t in enumerate(texts):
        digits = [int(c) for c in t if c.isdigit()] or [0]
        out[r, digits[0] % 10] = 1.0
    return out


def test_similarity_matrix_is_ja_by_en_cosine():
    al = doc([0.9, 0.9, 0.9])
    sims = review.similarity_matrix(al, fake_encode)
    assert sims.shape == (3, 3) and sims.dtype == np.float32
    assert np.allclose(sims, np.eye(3))
    keyed = review.similarity_matrix(al, fake_encode, en_key=lambda t: "9")
    assert np.allclose(keyed, 0)


def test_candidate_matrix_for_headlines():
    m = review.candidate_matrix(headlines())
    assert m.shape == (3, 2)
    assert m[1, 0] == pytest.approx(0.4) and m[0, 0] == pytest.approx(0.3)
    assert m[2, 1] == pytest.approx(0.9) and m[0, 1] == 0


def test_pool_keeps_the_maximum_and_bounds_the_size():
    m = np.random.default_rng(0).random((500, 433)).astype(np.float32)
    pooled, fr, fc = review.pool(m, 240)
    assert pooled.shape[0] <= 240 and pooled.shape[1] <= 240 and (fr, fc) == (3, 2)
    assert pooled[0, 0] == m[:3, :2].max()
    assert pooled.max() == m.max()
    same, *_ = review.pool(m[:10, :10], 240)
    assert same.shape == (10, 10)


def test_path_points_document_and_headlines():
    al = doc([0.9, 0.5, 0.1, 0.9], ja_ids=[(0, 1), (2,), (), (3,)], en_ids=[(0,), (), (1,), (2,)])
    pts = review.path_points(al)
    assert [(p.k, p.x, p.y) for p in pts] == [(0, 0, 0.5), (1, 0.5, 2), (2, 1, 2.5), (3, 2, 3)]
    hpts = review.path_points(headlines())
    assert [(p.k, p.x, p.y) for p in hpts] == [(0, 1, 0), (1, 2, 1)]


def test_selected_pairs_reads_plotly_selection():
    sel = {"points": [{"customdata": [4]}, {"customdata": 2}, {"customdata": [4]}, {"x": 1}],
           "box": [], "lasso": []}
    assert review.selected_pairs(sel) == [2, 4]
    assert review.selected_pairs(None) == [] and review.selected_pairs({}) == []


def test_heatmap_figure_has_the_path_over_the_matrix():
    al = doc([0.9, 0.6, 0.2])
    fig = review.heatmap_figure(al, review.similarity_matrix(al, fake_encode), current=1)
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
    sims = np.eye(n, dtype=np.float32)
    fig = review.heatmap_figure(al, sims)
    assert np.asarray(fig.data[0].z).size <= 240 * 240
    assert len(fig.data[1].x) == n


def test_headline_heatmap_puts_headlines_on_the_y_axis():
    al = headlines()
    fig = review.heatmap_figure(al, review.candidate_matrix(al))
    assert np.asarray(fig.data[0].z).shape == (2, 3)
    assert fig.layout.yaxis.title.text == "English headline"


def test_candidates_line_marks_the_linked_sentence():
    al = headlines()
    line = review.candidates_html(al.pairs[0])
    assert '<span class="alt linked">#2 0.40</span>' in line and "#1 0.30" in line
    assert review.candidates_html(Pair((0,), (0,), 0.5)) == ""
