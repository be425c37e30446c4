"""Fit the confidence curves of align/confidence.py on the dev sets and print
their coefficients and a reliability table (of the pairs given ≥ 0.8, how
many were right).

    python scripts/calibrate.py [--shared ../shared]

Document beads: every bead the aligner outputs on ntrex128_jaen_resplit (clean
and with 10 % of the sentences deleted) and textberg_defr_dev, labelled right
when the gold has exactly that bead. Translation or not: the cosine of the
gold links against that of sources paired with another document's targets. Headlines: there is no headline dev set,
so each English sentence of an ntrex document, cut to its first eight words as
a headline is short, is matched against the document's Japanese sentences;
right when the best candidate is in its gold bead.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align import confidence  # noqa: E402
from align.document import DocumentParams, align_document, search_band  # noqa: E402
from align.encoders import load_encoder  # noqa: E402
from align.evaluate import load_bench  # noqa: E402
from align.headlines import HeadlineParams, match_headlines, score_matrix  # noqa: E402


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


def document_features(shared: Path, encoder):
    """Features of what the aligner outputs, and the gold links' group
    embeddings per document (for the translation curve)."""
    links, skips, gold_vecs = [], [], []
    sets = [("ntrex128_jaen_resplit", 0.0), ("ntrex128_jaen_resplit", 0.1), ("textberg_defr_dev", 0.0)]
    params = DocumentParams()
    for name, noise in sets:
        for doc in load_bench(shared / "data/bench" / name, noise):
            src, tgt, gold = doc.src, doc.tgt, doc.gold
            sg = encoder.embed_groups(src, params.max_group, doc.joiner)
            tg = encoder.embed_groups(tgt, params.max_group, " ")
            sl = np.array([len(s) for s in src], float)
            tl = np.array([len(t) for t in tgt], float)
            res = align_document(sg, tg, sl, tl, params, search_band(sg[0], tg[0], sl, tl, params))
            gold_set = set(gold)
            for bead, sim, cos in zip(res.beads, res.bead_scores, res.bead_cosines):
                right = bead in gold_set
                if bead[0] and bead[1]:
                    links.append((sim, float(len(bead[0]) + len(bead[1]) > 2), cos, right))
                else:
                    skips.append((sim, right))
            if noise == 0.0:
                gold_vecs.append([(sg[len(s) - 1][s[0]], tg[len(t) - 1][t[0]]) for s, t in gold
                                  if s and t and len(s) <= params.max_group and len(t) <= params.max_group])
    return np.array(links), np.array(skips), gold_vecs


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
    rows = []
    for doc in load_bench(shared / "data/bench/ntrex128_jaen_resplit"):
        ja, en = doc.src, [" ".join(t.split()[:8]) for t in doc.tgt]
        if len(ja) < 4:
            continue
        links = {t: set(s) for s, ts in doc.gold for t in ts}
        scores = score_matrix(encoder.encode(en), encoder.encode(ja), en, ja, encoder.encode, HeadlineParams())
        for h, found in enumerate(match_headlines(scores)):
            rows.append((found.ranked[0][1], found.gap, found.best in links.get(h, set())))
    return np.array(rows)


def reliability(prob: np.ndarray, right: np.ndarray) -> str:
    out = []
    for lo, hi in ((0.0, 0.5), (0.5, 0.8), (0.8, 0.9), (0.9, 1.01)):
        sel = (prob >= lo) & (prob < hi)
        acc = right[sel].mean() if sel.any() else float("nan")
        out.append(f"  [{lo:.1f}, {min(hi, 1):.1f}): {sel.sum():5d} pairs, {acc:.3f} right")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = ap.parse_args()
    shared = Path(args.shared)
    encoder = load_encoder()

    links, skips, gold_vecs = document_features(shared, encoder)
    w = fit_logistic(links[:, :2], links[:, 3])
    print(f'LINK = {{"bias": {w[0]:.2f}, "sim": {w[1]:.2f}, "merged": {w[2]:.2f}}}')
    tr = translation_features(gold_vecs)
    x = fit_logistic(tr[:, :1], tr[:, 1])
    print(f'TRANSLATION = {{"bias": {x[0]:.2f}, "cos": {x[1]:.2f}}}')
    v = fit_logistic(skips[:, :1], skips[:, 1])
    print(f'SKIP = {{"bias": {v[0]:.2f}, "best": {v[1]:.2f}}}')
    h = headline_features(shared, encoder)
    u = fit_logistic(h[:, :2], h[:, 2])
    print(f'HEADLINE = {{"bias": {u[0]:.2f}, "score": {u[1]:.2f}, "gap": {u[2]:.2f}}}')

    print("reliability of the coefficients now in align/confidence.py:")
    p = np.array([confidence.link_confidence(s, bool(m), c) for s, m, c, _ in links])
    print(f"links ({len(links)}):\n" + reliability(p, links[:, 3].astype(bool)))
    p = np.array([confidence.link_confidence(0.0, False, c) for c, _ in tr])
    print(f"translation or not, at a margin of 0 ({len(tr)}):\n" + reliability(p, tr[:, 1].astype(bool)))
    p = np.array([confidence.skip_confidence(s) for s, _ in skips])
    print(f"1-0 / 0-1 ({len(skips)}):\n" + reliability(p, skips[:, 1].astype(bool)))
    p = np.array([confidence.headline_confidence(s, g) for s, g, _ in h])
    print(f"headlines ({len(h)}):\n" + reliability(p, h[:, 2].astype(bool)))


if __name__ == "__main__":
    main()
