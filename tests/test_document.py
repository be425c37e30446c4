"""The document aligner on synthetic embeddings, where the true path is known:
random unit vectors for sentences, a translation is the same vector plus a
little noise, a merged sentence the (normalised) sum of its parts."""

from dataclasses import replace

import numpy as np
import pytest

import align.document as D
from align.band import Band
from align.document import DocumentParams, align_document, length_term, search_band
from conftest import assert_partition


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def groups(vecs: np.ndarray, max_size: int = 4) -> list[np.ndarray]:
    """``out[k-1][i]`` = normalised sum of vecs[i:i+k]; rows past the end zero
    (the layout ``encoders.embed_groups`` gives)."""
    n, d = vecs.shape
    csum = np.vstack([np.zeros((1, d)), np.cumsum(vecs, axis=0)])
    out = []
    for k in range(1, max_size + 1):
        g = np.zeros((n, d), np.float32)
        if n >= k:
            g[:n - k + 1] = unit(csum[k:] - csum[:n - k + 1])
        out.append(g)
    return out


def synthetic(spec, d=64, seed=0, noise=0.05):
    """Texts following ``spec``, a list of bead kinds (a, b). Returns source
    and target vectors, character lengths and the gold beads."""
    rng = np.random.default_rng(seed)
    src, tgt, src_len, tgt_len, gold = [], [], [], [], []
    for a, b in spec:
        lens = rng.integers(20, 120, size=a).astype(float)
        si = tuple(range(len(src), len(src) + a))
        if a and b == 1:                          # 1-1 or n-1: the target says it all
            s = unit(rng.normal(size=(a, d)))
            t = unit(s.sum(0) + noise * rng.normal(size=d))[None]
            tl = [lens.sum()]
        elif a == 1 and b > 1:                    # 1-n: the source says what its parts say
            t = unit(rng.normal(size=(b, d)))
            s = unit(t.sum(0))[None]
            t = unit(t + noise * rng.normal(size=(b, d)))
            w = rng.random(b) + 0.5
            tl = list(lens[0] * w / w.sum())
        else:                                     # 1-0, 0-1: nothing in common
            s = unit(rng.normal(size=(a, d))) if a else np.zeros((0, d))
            t = unit(rng.normal(size=(b, d))) if b else np.zeros((0, d))
            tl = list(rng.integers(20, 120, size=b).astype(float))
        ti = tuple(range(len(tgt), len(tgt) + b))
        src += list(s)
        tgt += list(t)
        src_len += list(lens)
        tgt_len += tl
        gold.append((si, ti))
    return (np.array(src, np.float32).reshape(-1, d), np.array(tgt, np.float32).reshape(-1, d),
            np.array(src_len), np.array(tgt_len), gold)


def run(spec, params=DocumentParams(), band=None, **kw):
    s, t, sl, tl, gold = synthetic(spec, **kw)
    result = align_document(groups(s), groups(t), sl, tl, params, band)
    assert_partition(result.beads, len(s), len(t))
    assert len(result.bead_scores) == len(result.beads)
    return result, gold


def mixed_spec(rng, count, kinds):
    """Random beads from ``kinds``, every bead other than 1-1 followed by a
    1-1 (a deletion next to an insertion is a substitution to any aligner)."""
    spec = []
    for k in rng.integers(0, len(kinds), size=count):
        spec.append(kinds[k])
        if kinds[k] != (1, 1):
            spec.append((1, 1))
    return spec


# -- recovering the true path --------------------------------------------------------

def test_one_to_one_path():
    result, gold = run([(1, 1)] * 12)
    assert result.beads == gold


@pytest.mark.parametrize("bead", [(2, 1), (1, 2), (3, 1), (1, 3), (1, 0), (0, 1)])
def test_a_single_special_bead_among_one_to_ones(bead):
    spec = [(1, 1)] * 5 + [bead] + [(1, 1)] * 5
    result, gold = run(spec, seed=len(bead) * 10 + bead[0])
    assert result.beads == gold


def test_mixed_path_with_merges_splits_deletions_and_insertions():
    spec = ([(1, 1)] * 3 + [(2, 1)] + [(1, 1)] * 2 + [(1, 0)] + [(1, 1)] * 2 + [(0, 1)]
            + [(1, 1)] * 2 + [(1, 2)] + [(1, 1)] + [(1, 0)] + [(1, 1)] * 3)
    result, gold = run(spec, seed=3)
    assert result.beads == gold
    # a link's score is its margin similarity; a skipped sentence's is the best
    # it had with anything near it, which is far lower here
    links = [s for (a, b), s in zip(result.beads, result.bead_scores) if a and b]
    skips = [s for (a, b), s in zip(result.beads, result.bead_scores) if not (a and b)]
    assert len(skips) == 3
    assert max(skips) < min(links)


@pytest.mark.parametrize("spec", [
    [(1, 0)] + [(1, 1)] * 6 + [(0, 1)],
    [(0, 1)] + [(1, 1)] * 6 + [(1, 0)],
    [(1, 0), (1, 0)] + [(1, 1)] * 6,
], ids=["deletion-first", "insertion-first", "two-deletions-first"])
def test_skipped_sentences_at_the_ends(spec):
    result, gold = run(spec, seed=5)
    assert result.beads == gold


@pytest.mark.parametrize("params", [
    DocumentParams(margin_k=2),
    DocumentParams(margin_k=8, length_weight=0.0),
    DocumentParams(skip=0.2, merge_penalty=0.0),
], ids=["k2", "k8-no-length", "skip-no-merge-penalty"])
def test_parameter_variants_recover_the_path(params):
    spec = mixed_spec(np.random.default_rng(7), 40, [(1, 1)] * 6 + [(2, 1), (1, 2), (1, 0), (0, 1)])
    result, gold = run(spec, params, seed=7)
    assert result.beads == gold


def test_beads_limited_to_the_configured_kinds():
    # with only 1-1 beads allowed, a 2-1 must come out as a 1-1 and a skip
    params = DocumentParams(beads=((1, 1),))
    result, _ = run([(1, 1)] * 3 + [(2, 1)] + [(1, 1)] * 3, params, seed=2)
    kinds = {(len(a), len(b)) for a, b in result.beads}
    assert kinds <= {(1, 1), (1, 0), (0, 1)}
    assert sum(1 for a, b in result.beads if a and not b) == 1


@pytest.mark.parametrize("seed", range(4))
def test_unrelated_texts_still_give_a_partition(seed):
    rng = np.random.default_rng(seed)
    n, m, d = rng.integers(5, 40, size=2).tolist() + [32]
    s, t = unit(rng.normal(size=(n, d))), unit(rng.normal(size=(m, d)))
    result = align_document(groups(s), groups(t), rng.integers(5, 200, n).astype(float),
                            rng.integers(5, 200, m).astype(float))
    assert_partition(result.beads, n, m)
    allowed = set(DocumentParams().beads) | {(1, 0), (0, 1)}
    assert {(len(a), len(b)) for a, b in result.beads} <= allowed


@pytest.mark.parametrize("m", [1, 2, 3])
def test_a_target_shorter_than_the_largest_bead(m):
    # the larger beads (several sentences a side) do not fit: the table must cope
    result, gold = run([(1, 1)] * m, seed=m)
    assert result.beads == gold
    result, gold = run([(1, 0)] + [(1, 1)] * m, seed=m)
    assert result.beads == gold


@pytest.mark.parametrize("spec", [[(1, 1)], [(1, 3)], [(1, 1), (1, 2)], [(1, 1), (0, 1), (1, 1)]])
def test_a_short_source_side(spec):
    result, gold = run(spec, seed=4)
    assert result.beads == gold


# -- the length term ---------------------------------------------------------------

def test_length_term():
    assert length_term(np.array([50.0]), np.array([100.0]), 2.0)[0] == pytest.approx(0.0)
    half = length_term(np.array([50.0]), np.array([100.0]), 1.0)[0]
    assert half == pytest.approx(np.log2(1.5) - 1)
    # symmetric, and falling towards -1 as the lengths part
    assert length_term(np.array([100.0]), np.array([50.0]), 1.0)[0] == pytest.approx(half)
    values = length_term(np.array([10.0]), np.array([10.0, 20.0, 80.0, 10_000.0]), 1.0)
    assert (np.diff(values) < 0).all() and values[-1] > -1.0 and values[-1] < -0.99
    assert np.isfinite(length_term(np.array([0.0]), np.array([0.0]), 1.0)).all()


# -- the band ------------------------------------------------------------------------

def band_cells(band: Band) -> set[tuple[int, int]]:
    return {(i, j) for i in range(len(band.lo)) for j in range(band.lo[i], band.hi[i])}


def path_nodes(gold):
    """The DP nodes the true path passes: (sentences of source, of target) done."""
    nodes, i, j = [(0, 0)], 0, 0
    for a, b in gold:
        i, j = i + len(a), j + len(b)
        nodes.append((i, j))
    return nodes


def test_full_band():
    band = Band.full(3, 5)
    assert band.cells == 4 * 6
    assert band_cells(band) == {(i, j) for i in range(4) for j in range(6)}


@pytest.mark.parametrize("seed", range(6))
def test_band_around_a_path_and_its_transpose(seed):
    rng = np.random.default_rng(seed)
    # a monotone coarse path with steps right, down and diagonal
    r = c = 0
    path = [(0, 0)]
    for step in rng.integers(0, 3, size=25):
        r, c = r + (step != 1), c + (step != 0)
        path.append((r, c))
    scale = float(rng.choice([1.0, 2.5, 4.0]))
    n, m = int((r + 1) * scale), int((c + 1) * scale)
    band = Band.around(path, n, m, scale, width=2)
    assert len(band.lo) == len(band.hi) == n + 1
    assert (np.diff(band.lo) >= 0).all() and (np.diff(band.hi) >= 0).all()
    assert band.lo[0] == 0 and band.hi[-1] == m + 1 and (band.hi > band.lo).all()
    cells = band_cells(band)
    for pr, pc in path:      # every fine cell of the coarse path is inside
        rows = range(int(pr * scale), min(int((pr + 1) * scale), n + 1))
        cols = range(int(pc * scale), min(int((pc + 1) * scale), m + 1))
        assert all((i, j) in cells for i in rows for j in cols)
    flipped = band.transpose()
    assert len(flipped.lo) == m + 1
    assert band_cells(flipped) == {(j, i) for i, j in cells}
    assert flipped.cells == band.cells
    back = flipped.transpose()
    assert np.array_equal(back.lo, band.lo) and np.array_equal(back.hi, band.hi)


def test_search_band_is_the_full_table_for_short_texts():
    s, t, sl, tl, _ = synthetic([(1, 1)] * 30)
    band = search_band(s, t, sl, tl, DocumentParams())
    assert band.cells == (len(s) + 1) * (len(t) + 1)


def long_pair(n, deletions, seed):
    rng = np.random.default_rng(seed)
    spec = [(1, 1)] * n
    for k in rng.choice(np.arange(1, n - 1, 3), deletions, replace=False):
        spec[k] = (1, 0) if k % 2 else (0, 1)
    return synthetic(spec, d=32, seed=seed)


@pytest.fixture(scope="module")
def long_case():
    s, t, sl, tl, gold = long_pair(3000, 30, seed=11)
    band = search_band(s, t, sl, tl, DocumentParams())
    return s, t, sl, tl, gold, band


def test_search_band_on_a_long_text_is_linear_and_holds_the_true_path(long_case):
    s, t, sl, tl, gold, band = long_case
    n, m = len(s), len(t)
    assert band.cells < 0.02 * n * m
    assert band.cells < 40 * (n + m)
    assert all(band.lo[i] <= j < band.hi[i] for i, j in path_nodes(gold))
    # half the length, about half the cells: linear, not quadratic
    s2, t2, sl2, tl2, _ = long_pair(1500, 15, seed=12)
    half = search_band(s2, t2, sl2, tl2, DocumentParams())
    assert half.cells < 0.02 * len(s2) * len(t2)
    assert 1.5 < band.cells / half.cells < 2.6


def test_the_aligner_in_a_long_band_recovers_the_path(long_case):
    s, t, sl, tl, gold, band = long_case
    result = align_document(groups(s, 2), groups(t, 2), sl, tl,
                            DocumentParams(beads=((1, 1), (2, 1), (1, 2))), band)
    assert result.beads == gold
    assert result.band is band


def test_banded_result_equals_the_full_table(monkeypatch):
    spec = mixed_spec(np.random.default_rng(3), 300, [(1, 1)] * 8 + [(2, 1), (1, 2), (1, 0), (0, 1)])
    s, t, sl, tl, gold = synthetic(spec, d=64, seed=4)
    monkeypatch.setattr(D, "FULL_TABLE", 1000)   # band a medium text
    monkeypatch.setattr(D, "COARSE_SIZE", 100)
    band = search_band(s, t, sl, tl, DocumentParams())
    assert band.cells < 0.1 * (len(s) + 1) * (len(t) + 1)
    gs, gt = groups(s), groups(t)
    banded = align_document(gs, gt, sl, tl, DocumentParams(), band)
    full = align_document(gs, gt, sl, tl, DocumentParams())
    assert banded.beads == full.beads == gold


@pytest.mark.parametrize("size, inserted", [(3000, 20), (600, 30)])
def test_search_band_holds_a_run_of_inserted_sentences(monkeypatch, size, inserted):
    if size < 1000:
        monkeypatch.setattr(D, "FULL_TABLE", 1000)
        monkeypatch.setattr(D, "COARSE_SIZE", 100)
    spec = [(1, 1)] * (size // 2) + [(0, 1)] * inserted + [(1, 1)] * (size // 2)
    s, t, sl, tl, gold = synthetic(spec, d=32, seed=1)
    band = search_band(s, t, sl, tl, DocumentParams())
    outside = [(i, j) for i, j in path_nodes(gold) if not band.lo[i] <= j < band.hi[i]]
    assert outside == []


def test_a_run_of_deleted_sentences_stays_in_the_band():
    spec = [(1, 1)] * 1500 + [(1, 0)] * 40 + [(1, 1)] * 1500
    s, t, sl, tl, gold = synthetic(spec, d=32, seed=1)
    band = search_band(s, t, sl, tl, DocumentParams())
    assert band.cells < 0.02 * len(s) * len(t)
    assert all(band.lo[i] <= j < band.hi[i] for i, j in path_nodes(gold))


def _peak_bytes_per_cell(monkeypatch, inserted):
    import tracemalloc
    monkeypatch.setattr(D, "FULL_TABLE", 1000)
    monkeypatch.setattr(D, "COARSE_SIZE", 100)
    params = DocumentParams(beads=((1, 1), (2, 1), (1, 2)))
    spec = [(1, 1)] * 300 + [(0, 1)] * inserted + [(1, 1)] * 300
    s, t, sl, tl, _ = synthetic(spec, d=32, seed=1)
    band = search_band(s, t, sl, tl, params)
    gs, gt = groups(s, 2), groups(t, 2)
    tracemalloc.start()
    try:
        align_document(gs, gt, sl, tl, params, band)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return peak / band.cells


def test_memory_follows_the_band_cells_not_its_widest_row(monkeypatch):
    plain = _peak_bytes_per_cell(monkeypatch, 0)
    with_run = _peak_bytes_per_cell(monkeypatch, 120)
    assert with_run < 2.0 * plain


# -- a text with omissions -------------------------------------------------------------

def _leaning_orphan(spec, orphan, link, pull=1.8):
    """Texts following ``spec`` in which source sentence ``orphan`` (without
    counterpart) shares much of target ``link``'s content, so that joining it to
    that link is tempting."""
    s, t, sl, tl, gold = synthetic(spec, d=64, seed=0)
    s[orphan] = unit(pull * t[link] + unit(np.random.default_rng(99).normal(size=64)))
    return s, t, sl, tl, gold


def test_a_text_with_omissions_prices_one_more_lower():
    spec = [(1, 1)] * 4 + [(1, 0)] + [(1, 1)] * 4 + [(0, 1)] + [(1, 1)] * 4 + [(1, 0)] + [(1, 1)] * 4
    s, t, sl, tl, gold = _leaning_orphan(spec, orphan=13, link=12)
    flat = align_document(groups(s), groups(t), sl, tl, DocumentParams(omission_skip=None))
    assert ((12, 13), (12,)) in flat.beads         # one price for all: the leaning orphan is joined
    # the first path leaves two sentences alone: the text has omissions, and the
    # second path, at the lower price, leaves the third alone too
    assert align_document(groups(s), groups(t), sl, tl, DocumentParams()).beads == gold


def test_a_text_without_omissions_keeps_one_price():
    spec = [(1, 1)] * 13 + [(1, 0)] + [(1, 1)] * 4
    s, t, sl, tl, _ = _leaning_orphan(spec, orphan=13, link=12)
    flat = align_document(groups(s), groups(t), sl, tl, DocumentParams(omission_skip=None))
    assert ((12, 13), (12,)) in flat.beads
    assert align_document(groups(s), groups(t), sl, tl, DocumentParams()).beads == flat.beads


@pytest.mark.parametrize("unaligned, sentences, lower", [(0, 40, False), (1, 200, False), (2, 200, True),
                                                         (4, 40, True)])
def test_omission_skip_follows_the_share_the_first_path_left_unaligned(unaligned, sentences, lower):
    links = [((i,), (i,)) for i in range((sentences - unaligned) // 2)]
    beads = links + [((), (k,)) for k in range(unaligned)]
    params = DocumentParams()
    assert D.omission_skip(beads, sentences, params) == (params.omission_skip if lower else params.skip)
    assert D.omission_skip(beads, sentences, replace(params, omission_skip=None)) == params.skip


# -- the exact second pass -------------------------------------------------------------

def test_value_at_is_the_value_the_table_uses():
    s, t, sl, tl, _ = synthetic([(1, 1), (2, 1), (1, 1), (1, 3), (1, 0), (1, 1)], seed=2)
    scorer = D.BeadScorer(groups(s), groups(t), sl, tl, Band.full(len(s), len(t)), DocumentParams())
    rows = np.arange(len(s) + 1)
    for a, b in [(1, 1), (2, 1), (1, 3), (2, 2)]:
        table = scorer.values(a, b, rows, len(t) + 1)
        i, j = np.nonzero(np.isfinite(table))
        np.testing.assert_allclose(scorer.value_at(i - a, a, j - b, b), table[i, j], atol=1e-6)


def test_second_pass_embeds_the_contending_groups_exactly():
    """Group embeddings blurred (as token sums may be) lose the 2-1 and 1-2
    beads; embedding the few groups that contend exactly finds them again."""
    spec = [(1, 1)] * 4 + [(2, 1)] + [(1, 1)] * 4 + [(1, 2)] + [(1, 1)] * 4
    s, t, sl, tl, gold = synthetic(spec, seed=1)
    exact = groups(s), groups(t)
    rng = np.random.default_rng(1)
    blurred = tuple([g[0]] + [unit(g_k + 1.5 * unit(rng.normal(size=g_k.shape))) for g_k in g[1:]] for g in exact)
    asked = []

    def regroup(src_ids, tgt_ids):
        asked.append(src_ids + tgt_ids)
        out = tuple([g.copy() for g in side] for side in blurred)
        for side, ids, right in zip(out, (src_ids, tgt_ids), exact):
            for i, k in ids:
                side[k - 1][i] = right[k - 1][i]
        return out

    params = replace(DocumentParams(), exact_within=0.3)
    assert align_document(*blurred, sl, tl, params).beads != gold
    assert align_document(*blurred, sl, tl, params, regroup=regroup).beads == gold
    every = sum(len(side) - k + 1 for side in (s, t) for k in (2, 3, 4))
    assert len(asked) == 1 and 2 <= len(asked[0]) <= every / 5   # a few groups, not all of them
    asked.clear()
    align_document(*blurred, sl, tl, replace(params, exact_within=-1.0), regroup=regroup)
    assert not asked   # turned off


@pytest.mark.parametrize("seed", range(4))
def test_a_wider_second_pass_never_drops_a_contender(seed):
    """The groups embedded exactly at exact_within w are among those at any
    wider w (beads that nearly reach a corner's best score are added, none
    taken away)."""
    spec = [(1, 1)] * 4 + [(2, 1)] + [(1, 1)] * 4 + [(1, 2)] + [(1, 1)] * 4
    s, t, sl, tl, _ = synthetic(spec, seed=seed)
    exact = groups(s), groups(t)
    rng = np.random.default_rng(seed)
    blurred = tuple([g[0]] + [unit(g_k + 1.5 * unit(rng.normal(size=g_k.shape))) for g_k in g[1:]] for g in exact)

    def asked_at(within):
        asked = set()

        def regroup(src_ids, tgt_ids):
            asked.update(("src", g) for g in src_ids)
            asked.update(("tgt", g) for g in tgt_ids)
            return exact
        align_document(*blurred, sl, tl, replace(DocumentParams(), exact_within=within), regroup=regroup)
        return asked

    widths = [0.0, 0.01, 0.05, 0.3]
    found = [asked_at(w) for w in widths]
    assert all(a <= b for a, b in zip(found, found[1:]))
    assert found[0] and len(found[-1]) > len(found[0])


def test_the_second_band_holds_the_first_path_and_little_else():
    s, t, sl, tl, gold = synthetic([(1, 1)] * 30 + [(2, 1)] + [(1, 1)] * 30, seed=3)
    corners = np.array(path_nodes(gold))
    full = Band.full(len(s), len(t))
    band = D.band_around_path(corners, full, 2)
    assert set(map(tuple, corners)) <= band_cells(band)
    assert band.cells < full.cells / 5


def test_embedded_regroup_embeds_the_listed_groups_as_their_joined_text():
    from align.encoders import CachedEncoder
    from align.pipeline import embed_document

    class Shortcut:   # an encoder with a group shortcut that gets every group wrong (zeros)
        name, version = "shortcut", "1"

        def encode(self, texts):
            return np.array([[len(t), 1.0, t.count(" ")] for t in texts], np.float32)

        def embed_groups(self, texts, max_size, progress=None):
            return [self.encode(texts)] + [np.zeros((len(texts), 3), np.float32) for _ in range(max_size - 1)]

    encoder = CachedEncoder(Shortcut())
    emb = embed_document(["あ。", "いい。", "ううう。"], ["A.", "Bb.", "Ccc."], encoder, joiner="")
    ja, en = emb.regroup([(0, 2)], [(1, 2)])
    np.testing.assert_allclose(ja[1][0], encoder.encode(["あ。いい。"])[0])
    np.testing.assert_allclose(en[1][1], encoder.encode(["Bb. Ccc."])[0])
    assert not ja[1][1].any() and not en[1][0].any()      # the others as they were
    assert not emb.ja_groups[1][0].any()                   # a copy: the first pass's tables untouched


def test_a_bare_segment_is_linked_only_one_to_one_to_another():
    # a 1-2 whose second target sentence is marked bare (marks only): it must be left
    # alone; a bare source sentence facing a bare target one may still be a 1-1
    s, t, sl, tl, gold = synthetic([(1, 1), (1, 2), (1, 1), (1, 1)], seed=3)
    assert align_document(groups(s), groups(t), sl, tl).beads == gold
    src_bare, tgt_bare = np.zeros(len(s), bool), np.zeros(len(t), bool)
    tgt_bare[2] = True
    beads = align_document(groups(s), groups(t), sl, tl, bare=(src_bare, tgt_bare)).beads
    assert ((), (2,)) in beads and ((1,), (1,)) in beads
    src_bare[3] = tgt_bare[4] = True
    beads = align_document(groups(s), groups(t), sl, tl, bare=(src_bare, tgt_bare)).beads
    assert ((3,), (4,)) in beads and ((), (2,)) in beads


def test_may_link_is_one_rule_for_numbers_and_arrays():
    # the aligner asks it of arrays of groups, rescoring of one shape
    assert D.may_link(1, 1, 1, 1) and D.may_link(1, 0, 1, 0)
    assert not D.may_link(1, 1, 1, 0) and not D.may_link(2, 1, 1, 0) and not D.may_link(1, 0, 2, 1)
    assert D.may_link(2, 0, 1, 0)
    assert list(D.may_link(2, np.array([0, 1, 0]), 1, np.array([0, 0, 1]))) == [True, False, False]
