"""Monotonic m-n alignment of two full texts.

Every bead (1-1, 1-2, 2-1, 1-3, 3-1, 2-2 and the 1-0 / 0-1 of a sentence
without counterpart) is scored by the cosine of its two sides' embeddings,
relative to how similar each side is to its nearest neighbours on the other
side (a margin, as Bertalign's and CSLS: a sentence that resembles everything
proves little), plus a length-ratio term. A dynamic programme finds the
monotonic path of best total score inside a band around a coarse path, so cost
grows linearly with the length of the texts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .band import Band

NEG = -1e9


@dataclass(frozen=True)
class DocumentParams:
    # every bead with up to 5 sentences in all (as Bertalign's max_align=5)
    beads: tuple[tuple[int, int], ...] = ((1, 1), (2, 1), (1, 2), (3, 1), (1, 3), (2, 2),
                                          (4, 1), (1, 4), (3, 2), (2, 3))
    # tuned on the dev sets (scripts/tune_document.py): strict F1 of ntrex clean,
    # ntrex with 10 % omissions and Text+Berg
    skip: float = 0.10         # score given up by leaving a sentence unaligned
    merge_penalty: float = 0.05  # per sentence beyond one a side in a bead
    length_weight: float = 0.25
    margin_k: int = 4          # neighbours that define a sentence's margin
    margin_weight: float = 1.0
    margin: str = "knn"        # or "adjacent": the sentences just outside the bead
    length_mode: str = "add"   # or "mul": similarity scaled by length agreement

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


def length_term(len_src: np.ndarray, len_tgt: np.ndarray, ratio: float) -> np.ndarray:
    """log2(1 + min/max) - 1 of character lengths, after scaling the source by
    the document's length ratio: 0 for matching lengths, -1 at the extreme."""
    a = np.maximum(len_src * ratio, 1.0)
    b = np.maximum(len_tgt, 1.0)
    return np.log2(1.0 + np.minimum(a, b) / np.maximum(a, b)) - 1.0


def align_document(src_groups: list[np.ndarray], tgt_groups: list[np.ndarray],
                   src_lens: np.ndarray, tgt_lens: np.ndarray,
                   params: DocumentParams = DocumentParams(), band: Band | None = None) -> DocumentResult:
    """``src_groups[k-1][i]`` embeds source sentences ``i..i+k-1`` (as
    ``encoders.embed_groups`` gives them); lengths are in characters."""
    n, m = len(src_lens), len(tgt_lens)
    if band is None:
        band = Band.full(n, m)
    scorer = BeadScorer(src_groups, tgt_groups, src_lens, tgt_lens, band, params)
    lo, hi = band.lo, band.hi              # row i covers columns lo[i] .. hi[i]-1 (of 0..m)
    score = [np.full(hi[i] - lo[i], NEG) for i in range(n + 1)]
    back = [np.zeros(hi[i] - lo[i], np.int8) for i in range(n + 1)]
    kinds = list(params.beads) + [(1, 0), (0, 1)]
    score[0][:] = np.where(np.arange(lo[0], hi[0]) == 0, 0.0, NEG)
    for i in range(n + 1):
        cols = np.arange(lo[i], hi[i])
        best, arg = score[i], back[i]
        for t, (a, b) in enumerate(kinds):
            if a == 0 or i < a:
                continue
            prev = _shifted(score[i - a], lo[i - a], cols - b)
            if b == 0:
                value = prev - params.skip
            else:
                ok = cols >= b
                value = np.where(ok, prev + scorer.value(i - a, a, np.where(ok, cols - b, 0), b), NEG)
            better = value > best
            best[better] = value[better]
            arg[better] = t
        # 0-1 beads chain along the row: best[j] = max_k best[k] - (j-k)·skip,
        # a running maximum once the linear term is taken out
        offset = best + params.skip * cols
        run = np.maximum.accumulate(offset)
        moved = offset < run
        best[moved] = run[moved] - params.skip * cols[moved]
        arg[moved] = len(kinds) - 1
    return _trace(back, kinds, band, n, m, scorer)


class BeadScorer:
    """The value of a bead: margin similarity plus length agreement, less a
    penalty for each sentence beyond one a side."""

    def __init__(self, src_groups, tgt_groups, src_lens, tgt_lens, band: Band, params: DocumentParams):
        self.src, self.tgt, self.p = src_groups, tgt_groups, params
        self.ratio = float(tgt_lens.sum()) / max(float(src_lens.sum()), 1.0)
        self.src_cum = np.concatenate([[0.0], np.cumsum(src_lens, dtype=np.float64)])
        self.tgt_cum = np.concatenate([[0.0], np.cumsum(tgt_lens, dtype=np.float64)])
        self.n, self.m = len(src_lens), len(tgt_lens)
        if params.margin == "knn":
            self.src_margin, self.tgt_margin = _margins(src_groups, tgt_groups, band, params)

    def similarity(self, i: int, a: int, j: np.ndarray, b: int) -> np.ndarray:
        """Margin similarity of source group (i, a) to target groups (j, b)."""
        s_vec = self.src[a - 1][i]
        t_vecs = self.tgt[b - 1][j]
        cos = t_vecs @ s_vec
        if self.p.margin == "knn":
            return cos - self.p.margin_weight * 0.5 * (self.src_margin[a - 1][i] + self.tgt_margin[b - 1][j])
        # Bertalign's: compare each side with the sentences just outside the other
        tgt1, src1 = self.tgt[0], self.src[0]
        left, right = j - 1, j + b
        t_left = np.where(left >= 0, tgt1[np.maximum(left, 0)] @ s_vec, 0.0)
        t_right = np.where(right < self.m, tgt1[np.minimum(right, self.m - 1)] @ s_vec, 0.0)
        t_n = (left >= 0).astype(float) + (right < self.m)
        s_left = t_vecs @ src1[i - 1] if i > 0 else np.zeros_like(cos)
        s_right = t_vecs @ src1[i + a] if i + a < self.n else np.zeros_like(cos)
        s_n = float(i > 0) + float(i + a < self.n)
        near = 0.5 * ((t_left + t_right) / np.maximum(t_n, 1) + (s_left + s_right) / max(s_n, 1))
        return cos - self.p.margin_weight * near

    def length(self, i: int, a: int, j: np.ndarray, b: int) -> np.ndarray:
        return length_term(np.array([self.src_cum[i + a] - self.src_cum[i]]),
                           self.tgt_cum[j + b] - self.tgt_cum[j], self.ratio)

    def value(self, i: int, a: int, j: np.ndarray, b: int) -> np.ndarray:
        sim = self.similarity(i, a, j, b)
        lens = self.length(i, a, j, b)
        if self.p.length_mode == "mul":
            sim = sim * (1.0 + lens)
        else:
            sim = sim + self.p.length_weight * lens
        return sim - self.p.merge_penalty * (a + b - 2)


def _shifted(row: np.ndarray, row_lo: int, cols: np.ndarray) -> np.ndarray:
    """row[cols] with NEG outside the row's band."""
    idx = cols - row_lo
    ok = (idx >= 0) & (idx < len(row))
    return np.where(ok, row[np.clip(idx, 0, max(len(row) - 1, 0))] if len(row) else NEG, NEG)


def _margins(src_groups, tgt_groups, band: Band, params: DocumentParams):
    """Mean cosine of each group to its k nearest single sentences of the other
    side, looked for inside the band."""
    k = params.margin_k
    src_m = [_nearest_mean(g, tgt_groups[0], band, k) for g in src_groups]
    flipped = band.transpose()
    tgt_m = [_nearest_mean(g, src_groups[0], flipped, k) for g in tgt_groups]
    return src_m, tgt_m


def _nearest_mean(vecs: np.ndarray, other: np.ndarray, band: Band, k: int) -> np.ndarray:
    """Row i (a group starting at sentence i) looks at the band's columns of
    rows i and i+1, which hold the sentences it can be aligned with."""
    out = np.zeros(len(vecs), np.float32)
    top = len(other)
    for i in range(len(vecs)):
        a = min(int(band.lo[i]), top - 1)
        b = min(int(band.hi[min(i + 1, len(band.hi) - 1)]), top)
        if b <= a:
            continue
        cos = other[a:b] @ vecs[i]
        kk = min(k, len(cos))
        out[i] = np.partition(cos, len(cos) - kk)[-kk:].mean()
    return out


def _trace(back, kinds, band: Band, n: int, m: int, scorer: BeadScorer) -> DocumentResult:
    i, j = n, m
    beads, sims = [], []
    flipped = None
    while i > 0 or j > 0:
        a, b = kinds[back[i][j - band.lo[i]]]
        beads.append((tuple(range(i - a, i)), tuple(range(j - b, j))))
        if a and b:
            sims.append(float(scorer.similarity(i - a, a, np.array([j - b]), b)[0]))
        elif a:
            cols = np.arange(band.lo[i], min(band.hi[i], m))
            sims.append(float(scorer.similarity(i - 1, 1, cols, 1).max()) if len(cols) else -1.0)
        else:
            flipped = flipped or band.transpose()
            rows = range(flipped.lo[j], min(flipped.hi[j], n))
            sims.append(max((float(scorer.similarity(r, 1, np.array([j - 1]), 1)[0]) for r in rows),
                            default=-1.0))
        i, j = i - a, j - b
    beads.reverse()
    sims.reverse()
    return DocumentResult(beads, sims, band)


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
                            replace(params, beads=((1, 1),)))
    cells = [(r, c) for rows, cols in coarse.beads for r in rows or (None,) for c in cols or (None,)]
    # an unaligned block still needs its rows or columns inside the band
    cells = _fill_gaps(cells)
    return Band.around(cells, n, m, scale, width)


def _blocks(vecs: np.ndarray, lens: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    index = (np.arange(len(vecs)) / scale).astype(np.int64)
    count = int(index[-1]) + 1
    sums = np.zeros((count, vecs.shape[1]), np.float64)
    np.add.at(sums, index, vecs)
    sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    return sums.astype(np.float32), np.bincount(index, weights=lens, minlength=count)


def _fill_gaps(cells: list[tuple[int | None, int | None]]) -> list[tuple[int, int]]:
    """Give a 1-0 / 0-1 coarse bead the column (row) of its neighbour."""
    out, last_r, last_c = [], 0, 0
    for r, c in cells:
        r = last_r if r is None else r
        c = last_c if c is None else c
        out.append((r, c))
        last_r, last_c = r, c
    return out
