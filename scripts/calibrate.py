"""Fit the confidence curves of align/confidence.py, one per kind of pair, on
the dev sets and print their coefficients and a reliability table per kind
and dev set (of the pairs given ≥ 0.8, how many were right).

    python scripts/calibrate.py [--shared ../shared] [--part documents|headlines]

Document beads: every bead the shipped aligner (``pipeline.embed_and_align``)
outputs on
  - ntrex128_jaen_resplit, clean;
  - the same with 10 % of the sentences of each side deleted (seed 0);
  - the same with sentences merged, then 10 % deleted (seed 1): a pair of
    neighbouring 1-1 beads whose second sentence is short on one side becomes a
    1-2 or 2-1 bead, the other side joined into one sentence, as a translator
    splits a sentence off ("…raised rates to 0.5 %. It was the first hike since
    January." for one Japanese sentence);
  - the same aligned with merges made too dear to take (merge penalty 1.0): the
    aligner misses the splits, so the curves see what an orphan split off its
    sentence, and the 1-1 left beside it, look like;
  - textberg_defr_dev (German–French, with its own m-n beads);
a link labelled right when the gold has exactly that bead, a 1-0 / 0-1 when
the gold leaves its sentence without counterpart (a 2-0 bead of two deleted
sentences included). Translation or not: the
cosine of the gold links against that of sources paired with another
document's targets. Headlines: the hand-read headline dev set
(benchmarks/headlines_ntrex.tsv, see scripts/headline_dev.py), on
cross-validated ranker scores.

Besides the curves fitted on everything, it prints each kind's reliability
held out: the dev documents in three folds (the ntrex documents in two halves,
every variant of a document in the same half, and Text+Berg), each scored by
curves fitted on the other two, so that a figure is not one the curve was
fitted to. The document part costs ~4 minutes of CPU (9 minutes' wall time on
shared, busy cores): the dev sets are embedded once, the later variants reuse
their sentences' token sums.
"""

from __future__ import annotations

import argparse
import random
import time
import zlib
from dataclasses import replace
from pathlib import Path

import numpy as np


from align import confidence  # noqa: E402
from align.document import GAIN_LIMIT, DocumentParams  # noqa: E402
from align.encoders import load_encoder  # noqa: E402
from align.evaluate import BenchDocument, delete_sentences, load_bench  # noqa: E402
from align.pipeline import embed_and_align  # noqa: E402

SHORT = {"ja": 30, "other": 70}   # characters: a sentence short enough to be split off


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Newton's method on the log-loss; returns [bias, weights…]."""
    X = np.hstack([np.ones((len(x), 1)), x])
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-X @ w))
        grad = X.T @ (p - y) + l2 * w
        hess = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        w -= np.linalg.solve(hess, grad)
    return w


def merge_sentences(doc: BenchDocument, fraction: float, rng: random.Random) -> BenchDocument:
    """Join, in ``fraction`` of the pairs of neighbouring 1-1 beads whose second
    sentence is short on one side, the two sentences of the other side: a 1-2
    (or 2-1) bead where a translator split a short sentence off."""
    order = sorted((b for b in doc.gold if b[0] or b[1]), key=lambda b: (b[0] or b[1])[0])
    covered = (sorted(i for s, _ in order for i in s) == list(range(len(doc.src)))
               and sorted(j for _, t in order for j in t) == list(range(len(doc.tgt))))
    if not covered:
        return doc
    src, tgt, gold, k = [], [], [], 0
    while k < len(order):
        (s, t) = order[k]
        nxt = order[k + 1] if k + 1 < len(order) else None
        pair = nxt and len(s) == len(t) == len(nxt[0]) == len(nxt[1]) == 1
        if pair and rng.random() < fraction:
            s2, t2 = nxt
            short_tgt = len(doc.tgt[t2[0]]) <= SHORT["other"]
            short_src = len(doc.src[s2[0]]) <= SHORT["ja" if doc.joiner == "" else "other"]
            if short_tgt or short_src:
                if short_tgt and (not short_src or rng.random() < 0.5):   # one source, two targets
                    gold.append(((len(src),), (len(tgt), len(tgt) + 1)))
                    src.append(doc.joiner.join([doc.src[s[0]], doc.src[s2[0]]]))
                    tgt += [doc.tgt[t[0]], doc.tgt[t2[0]]]
                else:
                    gold.append(((len(src), len(src) + 1), (len(tgt),)))
                    src += [doc.src[s[0]], doc.src[s2[0]]]
                    tgt.append(" ".join([doc.tgt[t[0]], doc.tgt[t2[0]]]))
                k += 2
                continue
        gold.append((tuple(range(len(src), len(src) + len(s))), tuple(range(len(tgt), len(tgt) + len(t)))))
        src += [doc.src[i] for i in s]
        tgt += [doc.tgt[j] for j in t]
        k += 1
    return BenchDocument(doc.id, src, tgt, gold, doc.joiner)


def dev_sets(shared: Path) -> dict[str, tuple[list[BenchDocument], DocumentParams]]:
    bench = shared / "data/bench"
    merged = []
    rng = random.Random(1)
    for doc in load_bench(bench / "ntrex128_jaen_resplit"):
        doc = merge_sentences(doc, 0.25, rng)
        src, tgt, gold = delete_sentences(doc.src, doc.tgt, doc.gold, 0.1, rng)
        merged.append(BenchDocument(doc.id, src, tgt, gold, doc.joiner))
    shipped = DocumentParams()
    # the same made to miss splits: what an orphan split off its sentence looks like
    no_merges = replace(shipped, merge_penalty=1.0)
    return {"ntrex": (load_bench(bench / "ntrex128_jaen_resplit"), shipped),
            "ntrex, 10 % deleted": (load_bench(bench / "ntrex128_jaen_resplit", 0.1), shipped),
            "ntrex, merged + 10 % deleted": (merged, shipped),
            "the same, splits missed": (merged, no_merges),
            "textberg": (load_bench(bench / "textberg_defr_dev"), shipped)}


def document_features(shared: Path, encoder):
    """One row per output bead: (dev set, kind, document, sim, cos, gain, length, right), and the
    gold links' group embeddings per clean document (for the translation curve)."""
    rows, gold_vecs = [], []
    for name, (docs, params) in dev_sets(shared).items():
        for doc in docs:
            res = embed_and_align(doc.src, doc.tgt, encoder, params, doc.joiner)
            gold = set(doc.gold)
            # a sentence the gold leaves without counterpart (alone or in a 2-0 bead)
            alone = {(side, i) for s, t in doc.gold if not (s and t) for side, i in
                     [(0, i) for i in s] + [(1, j) for j in t]}
            for bead, sim, cos, gain, length in zip(res.beads, res.bead_scores, res.bead_cosines,
                                                    res.bead_gains, res.bead_lengths):
                if bead[0] and bead[1]:
                    kind = "1-1" if len(bead[0]) + len(bead[1]) == 2 else "m-n"
                    rows.append((name, kind, doc.id, sim, cos, gain, length, bead in gold))
                else:
                    orphan = (0, bead[0][0]) if bead[0] else (1, bead[1][0])
                    rows.append((name, "skip", doc.id, sim, cos, gain, length, orphan in alone))
            if name in ("ntrex", "textberg"):
                sg = encoder.embed_groups(doc.src, params.max_group, doc.joiner)
                tg = encoder.embed_groups(doc.tgt, params.max_group, " ")
                gold_vecs.append([(sg[len(s) - 1][s[0]], tg[len(t) - 1][t[0]]) for s, t in doc.gold
                                  if s and t and len(s) <= params.max_group and len(t) <= params.max_group])
    return rows, gold_vecs


def translation_features(gold_vecs) -> np.ndarray:
    """Cosines of gold links (right) and of the same sources with the targets
    of the next document's links (not translations), as many of each."""
    rows = []
    for d, pairs in enumerate(gold_vecs):
        other = gold_vecs[(d + 1) % len(gold_vecs)]
        for k, (s, t) in enumerate(pairs):
            rows.append((float(s @ t), 1.0))
            if other:
                rows.append((float(s @ other[k % len(other)][1]), 0.0))
    return np.array(rows)


def headline_features(shared: Path, encoder):
    """(cosine, lead over the best other, right, best) of each dev headline's
    top candidates, the ranker's scores cross-validated (it never saw the
    document it ranks); the lead as the matcher reads it (``headline_dev``)."""
    from headline_dev import confidence_rows, dev_features, load_dev
    docs = load_dev(shared)
    return confidence_rows(docs, dev_features(docs, encoder))


BINS = ((0.9, 1.01), (0.8, 0.9), (0.5, 0.8), (0.0, 0.5))


def reliability(prob: np.ndarray, right: np.ndarray) -> list[str]:
    """'count, % right' per confidence bin, best bin first."""
    out = []
    for lo, hi in BINS:
        sel = (prob >= lo) & (prob < hi)
        out.append(f"{sel.sum()}, {100 * right[sel].mean():.1f} %" if sel.any() else "0")
    return out


def _table(title: str, columns: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    print(f"\n{title}\n| pairs given | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    cells = {k: reliability(p, r) for k, (p, r) in columns.items()}
    for b, (lo, hi) in enumerate(BINS):
        label = f"≥ {lo}" if b == 0 else f"{lo} – {hi}"
        print(f"| {label} | " + " | ".join(cells[k][b] for k in columns) + " |")
    print("| **≥ 0.8 right** | " + " | ".join(
        f"{100 * r[p >= 0.8].mean():.1f} %" if (p >= 0.8).any() else "–" for p, r in columns.values()) + " |")


# each curve's inputs: (name printed, column of the rows' features)
CURVES = {"1-1": ("ONE_TO_ONE", {"sim": 0, "gain": 2}), "m-n": ("MANY", {"sim": 0, "gain": 2}),
          "skip": ("SKIP", {"best": 0, "gain": 2, "length": 3})}


def fold(name: str, doc_id: str) -> int:
    """Held-out folds: the ntrex documents in two halves (every variant of a
    document in the same half), Text+Berg (another language pair) the third."""
    return 2 if name == "textberg" else zlib.crc32(doc_id.encode()) % 2


def documents(shared: Path, encoder) -> None:
    started = time.perf_counter()
    rows, gold_vecs = document_features(shared, encoder)

    def select(kind, name=None):
        sel = [r for r in rows if r[1] == kind and (name is None or r[0] == name)]
        return (np.array([r[3:7] for r in sel], float).reshape(-1, 4), np.array([r[7] for r in sel], float),
                np.array([fold(r[0], r[2]) for r in sel], int))

    held_out = {}
    for kind, (const, inputs) in CURVES.items():
        x, y, folds = select(kind)
        cols = list(inputs.values())
        w = fit_logistic(x[:, cols], y)
        print(f"{const} = {{" + ", ".join(f'"{k}": {v:.2f}' for k, v in zip(["bias", *inputs], w)) + "}")
        # each fold scored by the curve fitted on the other two
        p = np.zeros(len(y))
        for f in range(3):
            wf = fit_logistic(x[folds != f][:, cols], y[folds != f])
            p[folds == f] = 1 / (1 + np.exp(-(wf[0] + x[folds == f][:, cols] @ wf[1:])))
        if kind != "skip":
            t = confidence.TRANSLATION
            p *= [confidence._logistic(confidence.LINK_PRIOR + t["bias"] + t["cos"] * c) for c in x[:, 1]]
        held_out[kind] = (p, y.astype(bool))
    tr = translation_features(gold_vecs)
    w = fit_logistic(tr[:, :1], tr[:, 1])
    print(f'TRANSLATION = {{"bias": {w[0]:.2f}, "cos": {w[1]:.2f}}}')

    print("\nreliability of the coefficients now in align/confidence.py:")
    sizes = {"1-1": (1, 1), "m-n": (1, 2), "skip": (1, 0)}
    names = list(dict.fromkeys(r[0] for r in rows))
    for kind, (a, b) in sizes.items():
        columns = {}
        for name in names + [None]:
            x, y, _ = select(kind, name)
            p = np.array([confidence.bead_confidence(a, b, s, c, g, n) for s, c, g, n in x])
            columns[name or "all"] = (p, y.astype(bool))
        _table(f"{kind} beads", columns)
    _table("held out: each third of the dev documents (ntrex halves, Text+Berg) scored by curves "
           "fitted on the other two", held_out)
    # as if each pair stood out among its neighbours (margin 0.3, no rival shape)
    p = np.array([confidence.link_confidence(0.3, False, c, GAIN_LIMIT) for c, _ in tr])
    _table("translation or not, for a link that stands out", {"gold vs other documents": (p, tr[:, 1].astype(bool))})
    print(f"\ndocument beads: {time.perf_counter() - started:.0f} s")


def headlines(shared: Path, encoder) -> None:
    h = headline_features(shared, encoder)
    w = fit_logistic(h[:, :2], h[:, 2])
    print(f'HEADLINE = {{"bias": {w[0]:.2f}, "cos": {w[1]:.2f}, "lead": {w[2]:.2f}}}')
    p = np.array([confidence.headline_confidence(c, g) for c, g, _, _ in h])
    best = h[:, 3].astype(bool)
    _table("headlines (cross-validated scores)", {"the pick": (p[best], h[best, 2].astype(bool)),
                                                  "all candidates": (p, h[:, 2].astype(bool))})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    ap.add_argument("--part", choices=("documents", "headlines"), help="only one of the two")
    args = ap.parse_args()
    shared = Path(args.shared)
    encoder = load_encoder()
    if args.part != "headlines":
        documents(shared, encoder)
    if args.part != "documents":
        headlines(shared, encoder)


if __name__ == "__main__":
    main()
