"""Monotonic m-n alignment of two full texts.

Every bead of up to six sentences in all (1-1, 1-2, 2-1, … 3-3, 1-5), the
1-6 … 1-12 of a source segment that holds a whole speech, and the 1-0 / 0-1 of
a sentence without counterpart, is scored by the cosine of its two sides' embeddings,
relative to how similar each side is to its nearest neighbours on the other
side (a margin, as Bertalign's and CSLS: a sentence that resembles everything
proves little), plus a length-ratio term. A dynamic programme finds the
monotonic path of best total score inside a band around a coarse path, so cost
grows linearly with the length of the texts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .band import Band

NEG = -np.inf
# (source groups, target groups) as (start, size) -> group embeddings with those exact
Regroup = Callable[[list[tuple[int, int]], list[tuple[int, int]]], tuple[list[np.ndarray], list[np.ndarray]]]
ROW_BLOCK = 64  # rows whose similarities come from one matrix product


@dataclass(frozen=True)
class DocumentParams:
    # every bead with up to 6 sentences in all: Text+Berg's gold has 1-5, 3-3
    # and 2-4 beads (+0.009 strict F1 there over Bertalign's limit of 5, the same
    # on ntrex)
    beads: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2), (3, 1), (1, 3), (2, 2),
                                          (4, 1), (1, 4), (3, 2), (2, 3),
                                          (5, 1), (1, 5), (4, 2), (2, 4), (3, 3))
    # tuned on the dev sets (scripts/tune_document.py): strict F1 of ntrex clean,
    # ntrex with 10 % omissions and Text+Berg
    skip: float = 0.10           # score given up by leaving a sentence unaligned
    merge_penalty: float = 0.05  # per sentence beyond one a side in a bead
    length_weight: float = 0.25
    margin_k: int = 4            # neighbours that define a sentence's margin
    # a source segment holding several sentences (a speech in 「」, which the
    # Japanese splitter keeps whole) may take up to 12 target sentences
    compound_beads: tuple[tuple[int, int], ...] = tuple((1, b) for b in range(6, 13))
    # second pass: the groups of every m-n bead that ends on the first path
    # (or exact_reach columns beside one of its corners) within exact_within of
    # the best score there are embedded exactly (not as token sums) and the path
    # is found again; a negative exact_within turns it off. 0 (the beads that
    # reach the best score there) keeps the 10k-sentence pair within 1.3x the
    # time without the pass; 0.01 gains 0.003 on Text+Berg for 1.4x
    exact_within: float = 0.0
    exact_reach: int = 1
    exact_band: int = 4   # the second path keeps within this of the first's corners
    # a text with omissions: where the first path leaves at least omission_share
    # of the sentences unaligned, the second path (in the same narrow band)
    # prices an unaligned sentence at omission_skip (None: off). +0.007 strict F1
    # with 10 % omissions over five deletion seeds, clean ntrex unchanged,
    # Text+Berg -0.004 (scripts/tune_document.py --omissions); 0.07 gains 0.010
    # but leaves the orphans' confidence less sure (94 % right at >= 0.8, held out)
    omission_skip: float | None = 0.08
    omission_share: float = 0.01

    @property
    def max_group(self) -> int:
        return max(max(a, b) for a, b in self.beads)


@dataclass
class DocumentResult:
    beads: list[tuple[tuple[int, ...], tuple[int, ...]]]
    # a link's margin similarity; for a 1-0 / 0-1 bead, the best one its
    # sentence had with any sentence near it
    bead_scores: list[float]
    band: Band = field(repr=False)
    # a link's plain cosine (NaN for 1-0 / 0-1): is it a translation at all?
    bead_cosines: list[float] = field(default_factory=list)
    # evidence for each bead's shape from the shapes next to it (``shape_gains``)
    bead_gains: list[float] = field(default_factory=list)
    # log of a bead's length against its side's mean sentence (both sides of a
    # link averaged): a short orphan is more often a sentence split off its neighbour
    bead_lengths: list[float] = field(default_factory=list)


def length_term(len_src: np.ndarray, len_tgt: np.ndarray, ratio: float) -> np.ndarray:
    """log2(1 + min/max) - 1 of character lengths, after scaling the source by
    the document's length ratio: 0 for matching lengths, -1 at the extreme."""
    a = np.maximum(len_src * ratio, 1.0)
    b = np.maximum(len_tgt, 1.0)
    return np.log2(1.0 + np.minimum(a, b) / np.maximum(a, b)) - 1.0


def align_document(src_groups: list[np.ndarray], tgt_groups: list[np.ndarray],
                   src_lens: np.ndarray, tgt_lens: np.ndarray,
                   params: DocumentParams = DocumentParams(), band: Band | None = None,
                   compound: np.ndarray | None = None, regroup: Regroup | None = None,
                   bare: tuple[np.ndarray, np.ndarray] | None = None) -> DocumentResult:
    """``src_groups[k-1][i]`` embeds source sentences ``i..i+k-1`` (as
    ``encoders.embed_groups`` gives them); lengths are in characters.
    ``compound[i]`` marks a source segment that holds several sentences: only
    those may take a compound bead (1-6 … 1-12). ``bare`` marks, per side, the
    segments without a letter or a digit (a rule, OCR debris): one is linked only
    1-1 to another such, never inside a larger bead nor to words, as a translator
    and the gold leave it. ``regroup(src_ids, tgt_ids)``,
    given groups as (start, size), returns copies of the group embeddings with
    those groups embedded exactly: the second pass (``exact_within``).

    The table is kept row by row, row i holding the scores of columns
    lo[i] .. hi[i]-1 only, so memory follows the band's cells."""
    n, m = len(src_lens), len(tgt_lens)
    band = band or Band.full(n, m)
    scorer = BeadScorer(src_groups, tgt_groups, src_lens, tgt_lens, band, params, compound, bare)
    table, back, kinds = _forward(scorer, band, params)
    beads = _path(back, kinds, band, n, m)
    second = replace(params, skip=omission_skip(beads, n + m, params))
    src_ids, tgt_ids = [], []
    if regroup is not None and params.exact_within >= 0:
        src_ids, tgt_ids = _contenders(table, kinds, band, beads, scorer, params.exact_within,
                                       params.exact_reach)
    if not src_ids and not tgt_ids and second.skip == params.skip:
        return _trace(beads, band, scorer)
    del table, back   # the second table is made without the first
    if src_ids or tgt_ids:
        src_groups, tgt_groups = regroup(src_ids, tgt_ids)
    # the second path keeps close to the first: a narrow band around it
    path = np.cumsum([(0, 0)] + [(len(s), len(t)) for s, t in beads], axis=0)
    band = band_around_path(path, band, params.exact_band)
    scorer = scorer.regrouped(src_groups, tgt_groups, src_ids, tgt_ids, band, second)
    table, back, kinds = _forward(scorer, band, second)
    return _trace(_path(back, kinds, band, n, m), band, scorer)


def omission_skip(beads, sentences: int, params: DocumentParams) -> float:
    """The second path's price of an unaligned sentence: ``omission_skip`` in a
    text whose first path left at least ``omission_share`` of its sentences
    unaligned (a text with omissions has more of them), else ``skip``."""
    unaligned = sum(len(s) + len(t) for s, t in beads if not s or not t)
    if params.omission_skip is None or not unaligned or unaligned < params.omission_share * sentences:
        return params.skip
    return params.omission_skip


def band_around_path(corners: np.ndarray, outer: Band, width: int) -> Band:
    """The cells of ``outer`` within ``width`` rows and columns of a path's corners."""
    n = len(outer.lo) - 1
    lo = np.full(n + 1, np.iinfo(np.int64).max)
    hi = np.zeros(n + 1, np.int64)
    for d in range(-width, width + 1):
        rows = np.clip(corners[:, 0] + d, 0, n)
        np.minimum.at(lo, rows, corners[:, 1] - width)
        np.maximum.at(hi, rows, corners[:, 1] + width + 1)
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    lo, hi = np.maximum(lo, outer.lo), np.minimum(hi, outer.hi)
    return Band(lo, np.maximum(hi, lo + 1))


def _forward(scorer: "BeadScorer", band: Band, params: DocumentParams):
    """The table of best scores (row by row, within the band) and the bead
    kind that reached each cell."""
    n = scorer.n
    kinds = list(params.beads) + (list(params.compound_beads) if scorer.compound.any() else [])
    kinds = [(a, b) for a, b in kinds if a <= len(scorer.src) and b <= len(scorer.tgt)]
    kinds += [(1, 0), (0, 1)]
    lo, width = band.lo, band.hi - band.lo
    table = [np.full(int(w), NEG) for w in width]
    back = [np.zeros(int(w), np.int8) for w in width]
    steps = np.arange(int(width.max()))
    if lo[0] == 0:
        table[0][0] = 0.0
    for r0 in range(0, n + 1, ROW_BLOCK):
        rows = np.arange(r0, min(r0 + ROW_BLOCK, n + 1))
        # bead values for a block of rows at a time: one matrix product each
        block_width = int(width[rows].max())
        values = [scorer.values(a, b, rows, block_width) if a else None for a, b in kinds]
        for i in rows:
            best, arg, w = table[i], back[i], int(width[i])
            for t, (a, b) in enumerate(kinds):
                if a == 0 or i < a or values[t] is None:
                    continue
                # cell k of row i comes from cell k + shift of row i - a
                prev = table[i - a]
                shift = int(lo[i] - b - lo[i - a])
                k0, k1 = max(0, -shift), min(w, len(prev) - shift)
                if k1 <= k0:
                    continue
                value = prev[k0 + shift:k1 + shift] + values[t][i - r0, k0:k1]
                better = value > best[k0:k1]
                best[k0:k1][better] = value[better]
                arg[k0:k1][better] = t
            # 0-1 beads chain along the row: best[j] = max_k best[k] - (j-k)·skip,
            # a running maximum once the linear term is taken out
            offset = best + params.skip * steps[:w]
            run = np.maximum.accumulate(offset)
            moved = offset < run
            best[moved] = run[moved] - params.skip * steps[:w][moved]
            arg[moved] = len(kinds) - 1
    return table, back, kinds


def _contenders(table, kinds, band: Band, beads, scorer: "BeadScorer",
                within: float, reach: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """The source and target groups (start, size) of every bead with more than
    one sentence on a side that ends where a bead of the path ends (or up to
    ``reach`` rows and columns beside) and reaches that point within ``within`` of the
    best score there: the path's own m-n beads and those that nearly beat it."""
    corners = np.cumsum([(len(s), len(t)) for s, t in beads], axis=0)
    di, dj = (d.ravel() for d in np.meshgrid(np.arange(-reach, reach + 1), np.arange(-reach, reach + 1)))
    rows, cols = (corners[:, 0, None] + di).ravel(), (corners[:, 1, None] + dj).ravel()
    cells = _band_cells(band, rows, cols)
    rows, cols = np.unique(np.stack([rows[cells], cols[cells]], axis=1), axis=0).T
    flat = np.concatenate(table)
    start = np.concatenate([[0], np.cumsum(band.hi - band.lo)[:-1]])

    def score_at(i, j):
        return flat[start[i] + j - band.lo[i]]

    best = score_at(rows, cols)
    src_ids, tgt_ids = set(), set()
    for a, b in kinds:
        if a == 0 or b == 0 or a + b == 2 or (a, b) in scorer.p.compound_beads:
            continue
        at = np.flatnonzero(_band_cells(band, rows - a, cols - b))
        if not len(at):
            continue
        i0, j0 = rows[at] - a, cols[at] - b
        arrive = score_at(i0, j0) + scorer.value_at(i0, a, j0, b)
        close = np.isfinite(arrive) & (arrive >= best[at] - within)
        src_ids.update((int(i), a) for i in i0[close] if a > 1)
        tgt_ids.update((int(j), b) for j in j0[close] if b > 1)
    return sorted(src_ids), sorted(tgt_ids)


def _band_cells(band: Band, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Which cells (rows[k], cols[k]) lie inside the band."""
    ok = (rows >= 0) & (rows < len(band.lo)) & (cols >= 0)
    r = np.where(ok, rows, 0)
    return ok & (cols >= band.lo[r]) & (cols < band.hi[r])


class BeadScorer:
    """The value of a bead: cosine less the margin of both sides (how similar
    each is to its nearest neighbours on the other side), plus length
    agreement, less a penalty for each sentence beyond one a side."""

    def __init__(self, src_groups, tgt_groups, src_lens, tgt_lens, band: Band, params: DocumentParams,
                 compound: np.ndarray | None = None, bare: tuple[np.ndarray, np.ndarray] | None = None):
        self.src, self.tgt, self.p, self.band = src_groups, tgt_groups, params, band
        self.compound = np.zeros(len(src_lens), bool) if compound is None else np.asarray(compound, bool)
        # bare segments before each sentence, per side: how many a group holds
        self.src_bare, self.tgt_bare = (
            np.concatenate([[0], np.cumsum(np.asarray(marks, bool) if marks is not None else np.zeros(count, bool))])
            for marks, count in zip(bare or (None, None), (len(src_lens), len(tgt_lens))))
        self.any_bare = bool(self.src_bare[-1] or self.tgt_bare[-1])  # else (most texts) nothing to rule out
        self.ratio = float(tgt_lens.sum()) / max(float(src_lens.sum()), 1.0)
        self.src_cum = np.concatenate([[0.0], np.cumsum(src_lens, dtype=np.float64)])
        self.tgt_cum = np.concatenate([[0.0], np.cumsum(tgt_lens, dtype=np.float64)])
        self.n, self.m = len(src_lens), len(tgt_lens)
        k = params.margin_k
        self.src_copies, self.tgt_copies = earlier_copies(src_groups[0]), earlier_copies(tgt_groups[0])
        self.src_margin = [_nearest_mean(g, tgt_groups[0], self.tgt_copies, band, k) for g in src_groups]
        flipped = band.transpose()
        self.tgt_margin = [_nearest_mean(g, src_groups[0], self.src_copies, flipped, k) for g in tgt_groups]

    def regrouped(self, src_groups, tgt_groups, src_ids, tgt_ids, band: Band,
                  params: DocumentParams | None = None) -> "BeadScorer":
        """The same scorer over group embeddings that differ only in the
        groups (start, size) listed, in a band inside this one: only their
        margins are computed again (single sentences, which define the
        margins, do not change; the margins of the others stay those of the
        wider band)."""
        new = copy.copy(self)
        new.src, new.tgt, new.band = src_groups, tgt_groups, band
        new.p = params or self.p
        new.src_margin = _margins_updated(self.src_margin, src_groups, tgt_groups[0], self.tgt_copies,
                                          self.band, src_ids, self.p.margin_k)
        new.tgt_margin = _margins_updated(self.tgt_margin, tgt_groups, src_groups[0], self.src_copies,
                                          self.band.transpose(), tgt_ids, self.p.margin_k)
        return new

    def relative_length(self, src: tuple[int, ...], tgt: tuple[int, ...]) -> float:
        """log of the bead's characters against the mean sentence of each side."""
        logs = []
        for ids, cum, count in ((src, self.src_cum, self.n), (tgt, self.tgt_cum, self.m)):
            if ids:
                chars = cum[ids[-1] + 1] - cum[ids[0]]
                logs.append(np.log(max(chars, 1.0) / max(cum[-1] / max(count, 1), 1.0)))
        return float(np.mean(logs))

    def bead_value(self, src: tuple[int, ...], tgt: tuple[int, ...]) -> float | None:
        """A link's cosine plus its length agreement, what ``shape_gain``
        compares (None for a group larger than the embeddings hold)."""
        if (not src or not tgt or len(src) > len(self.src) or len(tgt) > len(self.tgt)
                or (self.any_bare and not self._allowed(src[0], len(src), tgt[0], len(tgt)))):
            return None
        lens = length_term(self.src_cum[src[-1] + 1] - self.src_cum[src[0]],
                           self.tgt_cum[tgt[-1] + 1] - self.tgt_cum[tgt[0]], self.ratio)
        return self.cosine(src[0], len(src), tgt[0], len(tgt)) + self.p.length_weight * float(lens)

    def cosine(self, i: int, a: int, j: int, b: int) -> float:
        return float(self.src[a - 1][i] @ self.tgt[b - 1][j])

    def similarity(self, i: int, a: int, j: int, b: int) -> float:
        """Margin similarity of source group (i, a) and target group (j, b)."""
        return self.cosine(i, a, j, b) - 0.5 * float(self.src_margin[a - 1][i] + self.tgt_margin[b - 1][j])

    def values(self, a: int, b: int, rows: np.ndarray, W: int) -> np.ndarray | None:
        """(len(rows), W): the value of bead (a, b) ending at each cell of
        these rows of the band, -inf where it cannot end; None if nowhere."""
        lo, hi = self.band.lo[rows], self.band.hi[rows]
        cols = lo[:, None] + np.arange(W)[None, :]                    # the cells' columns
        ok = (cols < hi[:, None]) & (cols >= b) & (rows >= a)[:, None]
        if b == 0:
            return np.where(ok, -self.p.skip, NEG)
        src_rows = np.maximum(rows - a, 0)
        if (a, b) in self.p.compound_beads:
            ok &= self.compound[src_rows][:, None]
        if not ok.any():
            return None
        starts = np.clip(cols - b, 0, self.m - 1)                     # target group starts
        c0, c1 = int(starts[ok].min()), int(starts[ok].max()) + 1
        starts = np.clip(starts, c0, c1 - 1)
        sims = self.src[a - 1][src_rows] @ self.tgt[b - 1][c0:c1].T    # one product per block
        cos = np.take_along_axis(sims, starts - c0, axis=1)
        return np.where(ok, self._value(cos, src_rows[:, None], a, starts, b), NEG)

    def value_at(self, i: np.ndarray, a: int, j: np.ndarray, b: int) -> np.ndarray:
        """The value of beads (a, b) starting at source i and target j (arrays)."""
        cos = np.einsum("nd,nd->n", self.src[a - 1][i], self.tgt[b - 1][j])
        return self._value(cos, i, a, j, b)

    def _value(self, cos, i, a: int, j, b: int):
        margin = 0.5 * (self.src_margin[a - 1][i] + self.tgt_margin[b - 1][j])
        lens = length_term(self.src_cum[np.minimum(i + a, self.n)] - self.src_cum[i],
                           self.tgt_cum[np.minimum(j + b, self.m)] - self.tgt_cum[j], self.ratio)
        value = cos - margin + self.p.length_weight * lens - self.p.merge_penalty * (a + b - 2)
        return np.where(self._allowed(i, a, j, b), value, NEG) if self.any_bare else value

    def _allowed(self, i, a: int, j, b: int):
        """Whether groups (i, a) and (j, b) may be linked (``may_link``)."""
        return may_link(a, self.src_bare[np.minimum(i + a, self.n)] - self.src_bare[i],
                        b, self.tgt_bare[np.minimum(j + b, self.m)] - self.tgt_bare[j])


def may_link(a: int, src_bare, b: int, tgt_bare):
    """Whether a group of ``a`` sentences holding ``src_bare`` bare ones (marks only:
    ``segment.is_bare``) may be linked with one of ``b`` holding ``tgt_bare`` (numbers
    or arrays): a bare segment only 1-1 to another (``align_document``)."""
    src, tgt = np.greater(src_bare, 0), np.greater(tgt_bare, 0)
    return np.equal(src, tgt) if a + b == 2 else np.logical_not(np.logical_or(src, tgt))


def earlier_copies(vecs: np.ndarray) -> np.ndarray:
    """For each sentence, the nearest earlier one with the very same embedding
    (the same text repeated: a reply, a refrain, a table's repeated cell), or -1."""
    last_seen: dict[bytes, int] = {}
    out = np.full(len(vecs), -1, np.int64)
    for i, row in enumerate(vecs):
        key = row.tobytes()
        out[i] = last_seen.get(key, -1)
        last_seen[key] = i
    return out


def _nearest_mean(vecs: np.ndarray, other: np.ndarray, copies: np.ndarray, band: Band, k: int) -> np.ndarray:
    """Mean cosine of each group to its k nearest single sentences of the
    other side, among those the band lets it align with (the columns of rows
    i and i+1 for a group starting at sentence i), a sentence repeated there
    counted once: its copies would make a sentence whose translation is
    repeated nearby look like one that resembles everything, and only a
    group of it with a neighbour (not repeated) look like a translation."""
    return _nearest_mean_rows(vecs, other, copies, band, k, np.arange(len(vecs)))


def _nearest_mean_rows(vecs: np.ndarray, other: np.ndarray, copies: np.ndarray, band: Band, k: int,
                       which: np.ndarray) -> np.ndarray:
    """``_nearest_mean`` of the groups ``which`` (ascending) only."""
    n, top = len(vecs), len(other)
    out = np.zeros(len(which), np.float32)
    if not n or not top:
        return out
    first = np.minimum(band.lo[:n], top - 1)
    last = np.minimum(band.hi[np.minimum(np.arange(n) + 1, len(band.hi) - 1)], top)
    for r0 in range(0, len(which), ROW_BLOCK):
        rows = which[r0:r0 + ROW_BLOCK]
        c0, c1 = int(first[rows].min()), int(last[rows].max())
        if c1 <= c0:
            continue
        sims = vecs[rows] @ other[c0:c1].T
        cols = np.arange(c0, c1)[None, :]
        # a column counts unless an earlier copy of it is inside the row's band too
        inside = ((cols >= first[rows][:, None]) & (cols < last[rows][:, None])
                  & (copies[c0:c1][None, :] < first[rows][:, None]))
        sims = np.where(inside, sims, NEG)
        kk = min(k, c1 - c0)
        top_k = np.partition(sims, c1 - c0 - kk, axis=1)[:, -kk:]
        count = np.maximum(np.isfinite(top_k).sum(axis=1), 1)
        out[r0:r0 + len(rows)] = np.where(np.isfinite(top_k), top_k, 0.0).sum(axis=1) / count
    return out


def _margins_updated(margins, groups, other, copies, band: Band, ids, k: int) -> list[np.ndarray]:
    return with_groups(margins, ids, lambda size, starts: _nearest_mean_rows(groups[size - 1], other, copies,
                                                                            band, k, starts))


def with_groups(tables: list[np.ndarray], ids: list[tuple[int, int]], compute) -> list[np.ndarray]:
    """Copies of per-group ``tables`` (``tables[size - 1][start]``, as group
    embeddings and margins are kept) with the groups ``ids`` (start, size) set
    to ``compute(size, starts)``; the tables no group changes are shared."""
    out = list(tables)
    for size in sorted({s for _, s in ids}):
        starts = np.array([i for i, s in ids if s == size])
        out[size - 1] = tables[size - 1].copy()
        out[size - 1][starts] = compute(size, starts)
    return out


def _path(back, kinds, band: Band, n: int, m: int) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """The beads of the best path, first to last."""
    i, j = n, m
    beads = []
    while i > 0 or j > 0:
        a, b = kinds[back[i][j - band.lo[i]]]
        beads.append((tuple(range(i - a, i)), tuple(range(j - b, j))))
        i, j = i - a, j - b
    return beads[::-1]


def _trace(beads, band: Band, scorer: BeadScorer) -> DocumentResult:
    """The path's beads with each one's scores, what confidence reads."""
    n, m = scorer.n, scorer.m
    sims, cosines = [], []
    flipped = None
    i = j = 0
    for src, tgt in beads:
        a, b = len(src), len(tgt)
        i, j = i + a, j + b  # where the bead ends
        cosines.append(scorer.cosine(i - a, a, j - b, b) if a and b else float("nan"))
        if a and b:
            sims.append(scorer.similarity(i - a, a, j - b, b))
        elif a:
            cols = range(band.lo[i], min(band.hi[i], m))
            sims.append(max((scorer.similarity(i - 1, 1, c, 1) for c in cols), default=-1.0))
        else:
            flipped = flipped or band.transpose()
            rows = range(flipped.lo[j], min(flipped.hi[j], n))
            sims.append(max((scorer.similarity(r, 1, j - 1, 1) for r in rows), default=-1.0))
    return DocumentResult(beads, sims, band, cosines, shape_gains(beads, scorer.bead_value),
                          [scorer.relative_length(src, tgt) for src, tgt in beads])


GAIN_LIMIT = 0.3  # differences of value beyond this say nothing more


def shape_gains(beads, value: Callable[[tuple, tuple], float | None]) -> list[float]:
    """Per bead, evidence for its shape from the shapes next to it (``shape_gain``)."""
    return [shape_gain(beads, k, value) for k in range(len(beads))]


def shape_gain(beads, k: int, value: Callable[[tuple, tuple], float | None]) -> float:
    """Evidence for bead k's shape from the shapes next to it, in the aligner's
    own terms: ``value(src_ids, tgt_ids)`` is a bead's cosine plus its length
    agreement (``BeadScorer.bead_value``; None where it cannot be told).

    A link: its value less the best rival's: the same bead without one of its
    end sentences, with an unaligned neighbour joined to it, or with one
    sentence moved across its boundary with the link beside it (the two links'
    values summed, less the neighbour's own); +GAIN_LIMIT with no rival. A bead
    that is too small or too big for the gold beside it has such a rival.
    A 1-0 / 0-1: how much its sentence would raise the value of a link beside
    it by joining it (-GAIN_LIMIT with no link beside it): a short sentence
    split off its neighbour raises it, by the cosine or by the length
    agreement (its neighbour's other side is too long without it)."""
    bead = beads[k]
    beside = [(n, beads[n]) for n in (k - 1, k + 1) if 0 <= n < len(beads)]
    if bead[0] and bead[1]:
        whole = value(*bead)
        rivals = [value(*sub) for sub in _without_an_end(bead)]
        for n, other in beside:
            if other[0] and other[1]:
                own = value(*other)
                rivals += [None if own is None or None in (a, b) else a + b - own
                           for a, b in ((value(*x), value(*y)) for x, y in _moved(bead, other, n > k))]
            else:
                rivals.append(value(*_joined(bead, other)))
        rivals = [r for r in rivals if r is not None]
        gain = whole - max(rivals) if rivals and whole is not None else GAIN_LIMIT
    else:
        rises = [(value(*_joined(other, bead)), value(*other)) for _, other in beside if other[0] and other[1]]
        gain = max((a - b for a, b in rises if a is not None and b is not None), default=-GAIN_LIMIT)
    return float(np.clip(gain, -GAIN_LIMIT, GAIN_LIMIT))


def _joined(a, b):
    return tuple(sorted(a[0] + b[0])), tuple(sorted(a[1] + b[1]))


def _without_an_end(bead):
    src, tgt = bead
    return [(s, t) for s, t in ((src[1:], tgt), (src[:-1], tgt), (src, tgt[1:]), (src, tgt[:-1])) if s and t]


def _moved(bead, other, after: bool):
    """``bead`` and its neighbouring link ``other`` (after it or before) with
    one sentence moved across their boundary, either way, on either side."""
    out = []
    for side in (0, 1):
        for bead_gives in (True, False):
            donor, taker = (bead, other) if bead_gives else (other, bead)
            if len(donor[side]) < 2:
                continue
            # the donor's sentence at the boundary: its last if the taker comes after it
            moving = donor[side][-1] if bead_gives == after else donor[side][0]
            gave = tuple(i for i in donor[side] if i != moving)
            took = tuple(sorted(taker[side] + (moving,)))
            out.append(((gave, donor[1]) if side == 0 else (donor[0], gave),
                        (took, taker[1]) if side == 0 else (taker[0], took)))
    return out


FULL_TABLE = 1_500_000   # cells: texts up to ~1,200 sentences a side get the whole table
COARSE_SIZE = 600        # sentences a side in the coarse pass


def search_band(src: np.ndarray, tgt: np.ndarray, src_lens: np.ndarray, tgt_lens: np.ndarray,
                params: DocumentParams, width: int = 8) -> Band:
    """The whole table for short texts; for long ones, a band around the path
    found on blocks of consecutive sentences (their mean embeddings), so the
    fine pass costs O((n + m) · band width) instead of O(n · m)."""
    n, m = len(src), len(tgt)
    if (n + 1) * (m + 1) <= FULL_TABLE:
        return Band.full(n, m)
    scale = max(n, m) / COARSE_SIZE
    coarse_src, coarse_src_lens = _blocks(src, src_lens, scale)
    coarse_tgt, coarse_tgt_lens = _blocks(tgt, tgt_lens, scale)
    coarse = align_document([coarse_src], [coarse_tgt], coarse_src_lens, coarse_tgt_lens,
                            replace(params, beads=((1, 1),), omission_skip=None))
    cells = [(r, c) for rows, cols in coarse.beads for r in rows or (None,) for c in cols or (None,)]
    # an unaligned block still needs its rows or columns inside the band
    cells = _fill_gaps(cells, len(coarse_src), len(coarse_tgt))
    return Band.around(cells, n, m, scale, width)


def _blocks(vecs: np.ndarray, lens: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    index = (np.arange(len(vecs)) / scale).astype(np.int64)
    count = int(index[-1]) + 1
    sums = np.zeros((count, vecs.shape[1]), np.float64)
    np.add.at(sums, index, vecs)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums.astype(np.float32), np.bincount(index, weights=lens, minlength=count)


def _fill_gaps(cells: list[tuple[int | None, int | None]], rows: int, cols: int) -> list[tuple[int, int]]:
    """Give a 1-0 / 0-1 coarse bead the column (row) of both its neighbours: the
    blocks on either side of a gap may hold sentences that align across it."""
    out, last_r, last_c = [], 0, 0
    for r, c in cells:
        if r is None:
            out += [(last_r, c), (min(last_r + 1, rows - 1), c)]
        elif c is None:
            out += [(r, last_c), (r, min(last_c + 1, cols - 1))]
        else:
            out.append((r, c))
        last_r = last_r if r is None else r
        last_c = last_c if c is None else c
    return out
