"""Bertalign (Liu & Zhu 2022) as its own code runs it, on the same encoder
and dev sets, as a peer to compare with. Followed step by step
(bertalign/aligner.py and corelib.py, default settings):

1. each line stripped and its runs of white space made one space (its
   clean_text), as given, with no case normalisation; every run of 1-4
   sentences joined with a space and embedded for real (no token-sum
   shortcut); lengths in UTF-8 bytes of the joined run, the target's scaled
   by the ratio of the two texts' bytes;
2. first pass: each source sentence's 3 nearest target sentences (inner
   product), a 1-1 / 1-0 / 0-1 path over a window of max(250, 6 %) around the
   diagonal scoring a 1-1 by its inner product when the target is among those
   3 (skips free); its 1-1 beads are the anchors;
3. second pass, in a band of 5 around the anchors: beads of up to 5 sentences
   in all scored (cos − mean of each side's best cosine with the sentence just
   before and after the other side's group) × log2(1 + min/max of the lengths),
   a 1-0 / 0-1 −0.1. Both passes keep their totals in float32, as its numba
   tables do (ties then break the same way: the first bead kind listed wins).

    python scripts/peer_bertalign.py [--shared ../shared]
    python scripts/peer_bertalign.py --blocks 0.1,0.3   # a missing block instead, both aligners

``--blocks``: a contiguous run of that share of one side's sentences deleted from
each document (the side alternating), as a missing paragraph or page; the gold
keeps the sentences of a bead that lost its other side as one 0-n bead, for both
aligners alike. The last line is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from align.encoders import load_encoder  # noqa: E402
from align.evaluate import load_bench, score  # noqa: E402

MAX_ALIGN, TOP_K, WIN, SKIP = 5, 3, 5, -0.1
FIRST_TYPES = [(0, 1), (1, 0), (1, 1)]
SECOND_TYPES = [(0, 1), (1, 0)] + [(x, y) for x in range(1, MAX_ALIGN) for y in range(1, MAX_ALIGN)
                                   if x + y <= MAX_ALIGN]


def clean(line: str) -> str:
    """Bertalign's clean_text on one line (its _preprocess_line: an empty one is BLANK_LINE)."""
    return re.sub(r"\s+", " ", line.strip()) or "BLANK_LINE"


def overlaps(encoder, sents: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(vectors, lengths) of every run of 1..MAX_ALIGN-1 sentences, [size-1, end-1]
    indexing the run that ends at sentence ``end`` (Bertalign's layout)."""
    sents = [clean(s) for s in sents]
    n, k = len(sents), MAX_ALIGN - 1
    texts = [" ".join(sents[max(0, e - s + 1):e + 1]) for s in range(1, k + 1) for e in range(n)]
    vecs = encoder.encode(texts).reshape(k, n, -1)
    lens = np.array([len(t.encode("utf-8")) for t in texts], float).reshape(k, n)
    return vecs, lens


def best_path(path: list[tuple[int, int]], types, value) -> list[tuple[int, int, int, int]]:
    """Bertalign's dynamic programme over the cells of ``path`` (for each source
    row, a window of target columns): each step is one of ``types`` (a, b),
    worth ``value(i, j, a, b)`` for the step that ends at (i, j). The best
    path's steps as (i, j, a, b), first to last."""
    n, m = len(path) - 1, path[-1][1]
    cost, back = {(0, 0): 0.0}, {}
    for i in range(n + 1):
        lo, hi = path[i]
        for j in range(lo, hi + 1):
            if i + j == 0:
                continue
            best, arg = -np.inf, -1
            for t, (a, b) in enumerate(types):
                prev = (i - a, j - b)
                if prev not in cost:  # only cells of the path are ever reached
                    continue
                s = np.float32(cost[prev] + np.float32(value(i, j, a, b)))
                if s > best:
                    best, arg = s, t
            if arg >= 0:
                cost[(i, j)], back[(i, j)] = best, arg
    steps, i, j = [], n, m
    while i or j:
        a, b = types[back[(i, j)]]
        steps.append((i, j, a, b))
        i, j = i - a, j - b
    return steps[::-1]


def first_pass(src, tgt) -> list[tuple[int, int]]:
    n, m = len(src), len(tgt)
    sims = src @ tgt.T
    top = np.argsort(-sims, axis=1)[:, :TOP_K]
    win = max(250, int(max(n, m) * 0.06))
    path = [(max(0, int(m / n * i) - win), min(int(m / n * i) + win, m)) for i in range(n + 1)]

    def value(i, j, a, b):
        return sims[i - 1, j - 1] if a and b and j - 1 in top[i - 1] else 0.0
    return [(i, j) for i, j, a, b in best_path(path, FIRST_TYPES, value) if (a, b) == (1, 1)]


def second_path(anchors: list[tuple[int, int]], n: int, m: int) -> list[tuple[int, int]]:
    """Bertalign's find_second_search_path: for each source row, the target
    window between the previous anchor and the next, widened by WIN."""
    anchors = list(anchors) or [(n, m)]
    if anchors[-1][0] != n:
        if anchors[-1][1] == m:
            anchors.pop()
        anchors.append((n, m))
    elif anchors[-1][1] != m:
        anchors.pop()
        anchors.append((n, m))
    path, prev_s, prev_t = [], 0, 0
    for s, t in anchors:
        path += [(max(0, prev_t - WIN), min(m, t + WIN))] * (s - prev_s)
        prev_s, prev_t = s, t
    return [path[0]] + path


def neighbour(vec, size: int, end: int, length: int, singles: np.ndarray) -> float:
    """The mean cosine of ``vec`` with the sentence just before and just after
    the other side's group (the one there is at an edge; as Bertalign, a
    cosine of exactly 0 counts as none)."""
    left, right = end - size, end + 1
    r = float(vec @ singles[right - 1]) if right <= length else 0.0
    l_ = float(vec @ singles[left - 1]) if left > 0 else 0.0
    return (l_ + r) / 2 if l_ and r else l_ + r


def second_pass(sv, tv, sl, tl, path, ratio) -> list:
    n, m = sv.shape[1], tv.shape[1]

    def value(i, j, a, b):
        if a == 0 or b == 0:
            return SKIP
        s, g = sv[a - 1, i - 1], tv[b - 1, j - 1]
        margin = float(s @ g) - 0.5 * (neighbour(s, b, j, m, tv[0]) + neighbour(g, a, i, n, sv[0]))
        ls, lt = sl[a - 1, i - 1], tl[b - 1, j - 1] * ratio
        return margin * np.log2(1 + min(ls, lt) / max(ls, lt))
    return [(tuple(range(i - a, i)), tuple(range(j - b, j))) for i, j, a, b in best_path(path, SECOND_TYPES, value)]


def bertalign(encoder, src: list[str], tgt: list[str]) -> list:
    sv, sl = overlaps(encoder, src)
    tv, tl = overlaps(encoder, tgt)
    anchors = first_pass(sv[0], tv[0])
    path = second_path(anchors, len(src), len(tgt))
    return second_pass(sv, tv, sl, tl, path, sl[0].sum() / tl[0].sum())


class _Exact:
    """The bundled encoder as Bertalign would call it: every text embedded as
    given (no group shortcut, no case normalisation), each vector of unit length."""

    def __init__(self, inner):
        self.inner, self.cache = inner, {}

    def encode(self, texts):
        todo = [t for t in dict.fromkeys(texts) if t not in self.cache]
        for start in range(0, len(todo), 512):  # bounds the model's working memory
            vecs = np.asarray(self.inner.encode(todo[start:start + 512]), np.float32)
            vecs /= np.maximum(np.linalg.norm(vecs, axis=1, keepdims=True), 1e-12)
            self.cache.update(zip(todo[start:start + 512], vecs))
        return np.stack([self.cache[t] for t in texts])


def without_block(src: list[str], tgt: list[str], gold: list, share: float, side: int, rng: random.Random):
    """The document with a contiguous run of ``share`` of one side's sentences deleted,
    and its gold adjusted."""
    n = (len(src), len(tgt))[side]
    k = max(1, round(n * share))
    start = rng.randrange(0, max(1, n - k))
    keep = [[i for i in range(len(x)) if s != side or not start <= i < start + k] for s, x in enumerate((src, tgt))]
    new = [{old: i for i, old in enumerate(ids)} for ids in keep]
    beads = [b for b in ((tuple(new[0][i] for i in a if i in new[0]), tuple(new[1][i] for i in c if i in new[1]))
                         for a, c in gold) if b[0] or b[1]]
    return [src[i] for i in keep[0]], [tgt[i] for i in keep[1]], beads


def blocks(shared: Path, shares: list[float]) -> dict:
    from align.pipeline import embed_and_align
    plain = load_encoder()
    exact = _Exact(plain.inner)
    report = {}
    for folder in ("ntrex128_jaen_resplit", "textberg_defr_dev"):
        docs = load_bench(shared / "data/bench" / folder)
        for share in shares:
            rng, golds, ours, theirs = random.Random(0), [], [], []
            for rep in range(2 if len(docs) < 10 else 1):  # Text+Berg is one document: a block of each side
                for k, d in enumerate(docs):
                    src, tgt, gold = without_block(d.src, d.tgt, d.gold, share, (k + rep) % 2, rng)
                    golds.append(gold)
                    ours.append(embed_and_align(src, tgt, plain, joiner=d.joiner).beads)
                    theirs.append(bertalign(exact, src, tgt))
            row = {"taiyaku": round(score(golds, ours)["strict_f1"], 4),
                   "bertalign": round(score(golds, theirs)["strict_f1"], 4)}
            report[f"{folder}_block{share}"] = row
            print(f"{folder}, {share:.0%} block: Taiyaku {row['taiyaku']:.4f}, Bertalign {row['bertalign']:.4f}",
                  flush=True)
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--blocks", help="shares of a side deleted as one block, comma-separated (e.g. 0.1,0.3)")
    args = ap.parse_args()
    if args.blocks:
        print(json.dumps(blocks(Path(args.shared), [float(x) for x in args.blocks.split(",")])))
        return
    encoder = _Exact(load_encoder().inner)
    report = {}
    for key, folder, noise in [("ntrex_resplit", "ntrex128_jaen_resplit", 0.0),
                               ("ntrex_resplit_noise0.1", "ntrex128_jaen_resplit", 0.1),
                               ("textberg_dev", "textberg_defr_dev", 0.0)]:
        docs = load_bench(Path(args.shared) / "data/bench" / folder, noise)
        res = score([d.gold for d in docs], [bertalign(encoder, d.src, d.tgt) for d in docs])
        report[key] = {"strict_f1": round(res["strict_f1"], 4), "lax_f1": round(res["lax_f1"], 4)}
        print(f"{key:26} {res['strict_f1']:.4f} / {res['lax_f1']:.4f}", flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
