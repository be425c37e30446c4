"""Headlines on a real dev set: each ntrex document's English headline (line 0
of its .en) against the Japanese body (its .ja without line 0, the Japanese
headline); right when the pick is one of the sentences read by hand as stating
the headline's claim (benchmarks/headlines_ntrex.tsv; documents where none does
are left out). Prints top-1 / top-3 for simple baselines, the matcher before
the ranker, and the ranker's features added a group at a time, each figure
cross-validated (10 folds by document: the weights that rank a document were
fitted without it); then the weights fitted on the whole set, which
align/headlines.py ships. The ranker is a logistic regression over an
article's sentences (a softmax: which of them states the claim), fitted by
Newton's method.

    python scripts/headline_dev.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from align.encoders import load_encoder  # noqa: E402
from align.headlines import HeadlineParams, _token_overlap, features  # noqa: E402
from align.normalise import headline_key  # noqa: E402

DEV = ROOT / "benchmarks" / "headlines_ntrex.tsv"
FOLDS = 10
GROUPS = [("cos",), ("first", "second", "position"), ("coverage",), ("anchors",), ("quote",),
          ("opens_quote", "length")]
STEPS = [sum(GROUPS[:k], ()) for k in range(1, len(GROUPS) + 1)]
L2 = 0.01


def load_dev(shared: Path) -> list[tuple[str, str, list[str], set[int]]]:
    """(id, headline, Japanese body, accepted body indices) of every document
    with at least one accepted sentence."""
    folder = shared / "data/bench/ntrex128_jaen"
    docs = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        doc_id, ids = line.split("\t")
        if ids == "-":
            continue
        en = (folder / f"{doc_id}.en").read_text(encoding="utf-8").split("\n")
        ja = (folder / f"{doc_id}.ja").read_text(encoding="utf-8").rstrip("\n").split("\n")
        docs.append((doc_id, headline_key(en[0]), ja[1:], {int(i) - 1 for i in ids.split(",")}))
    return docs


def dev_features(docs, encoder) -> list[dict[str, np.ndarray]]:
    """Per document, each feature as a vector over its body sentences."""
    out = []
    for _, headline, body, _ in docs:
        f = features(encoder.encode([headline]), encoder.encode(body), [headline], body, encoder.encode)
        f = {k: np.asarray(v[0], float) for k, v in f.items()}
        # the matcher before the ranker: cosine + quotes + 0.05 a shared Latin token + a lead bonus
        f["before"] = (f["cos"] + f["quote"] + 0.05 * _token_overlap([headline], body)[0]
                       + 0.05 * np.exp(-np.arange(len(body)) / 10.0))
        out.append(f)
    return out


def stack(feats, names) -> np.ndarray:
    return np.stack([feats[n] for n in names], axis=1)


def _loss(w, xs, labels):
    """Negative log-likelihood that the accepted sentences are the article's
    pick (L2-regularised), its gradient and an approximate Hessian."""
    loss, grad, hess = 0.5 * L2 * w @ w, L2 * w, L2 * np.eye(len(w))
    for x, y in zip(xs, labels):
        s = x @ w
        p = np.exp(s - s.max())
        p /= p.sum()
        q = p * y / (p * y).sum()
        loss -= np.log((p * y).sum())
        mean = p @ x
        grad = grad + mean - q @ x
        hess = hess + (x * p[:, None]).T @ x - np.outer(mean, mean)
    return loss, grad, hess


def fit_ranker(xs: list[np.ndarray], labels: list[np.ndarray], steps: int = 30) -> np.ndarray:
    w = np.zeros(xs[0].shape[1])
    for _ in range(steps):
        loss, grad, hess = _loss(w, xs, labels)
        step, t = np.linalg.solve(hess, grad), 1.0
        while t > 1e-4 and _loss(w - t * step, xs, labels)[0] > loss:
            t /= 2
        w = w - t * step
    return w


def labels_of(docs) -> list[np.ndarray]:
    return [np.array([j in acc for j in range(len(body))], float) for _, _, body, acc in docs]


def cross_validated(docs, feats, names) -> list[np.ndarray]:
    """Each document's sentence scores from a ranker fitted on the other folds."""
    labels = labels_of(docs)
    scores = [None] * len(docs)
    for fold in range(FOLDS):
        train = [d for d in range(len(docs)) if d % FOLDS != fold]
        w = fit_ranker([stack(feats[d], names) for d in train], [labels[d] for d in train])
        for d in range(fold, len(docs), FOLDS):
            scores[d] = stack(feats[d], names) @ w
    return scores


def top_k(docs, scores, k: int) -> float:
    hits = [bool(set(np.argsort(-s, kind="stable")[:k]) & acc) for (_, _, _, acc), s in zip(docs, scores)]
    return sum(hits) / len(hits)




def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = ap.parse_args()
    docs = load_dev(Path(args.shared))
    feats = dev_features(docs, load_encoder())
    print(f"{len(docs)} documents with a sentence that states the headline's claim")
    print(f"{'ranking':58} top-1   top-3")
    rows = [("first body sentence", [-np.arange(len(f["cos"]), dtype=float) for f in feats]),
            ("plain cosine", [f["cos"] for f in feats]),
            ("the matcher before the ranker (cos, quotes, tokens, lead)", [f["before"] for f in feats])]
    rows += [(("ranker: " if k == 0 else "  + ") + ", ".join(GROUPS[k]), cross_validated(docs, feats, names))
             for k, names in enumerate(STEPS)]
    shipped = HeadlineParams().weights()
    rows.append(("shipped weights (fitted on the whole set: not held out)",
                 [stack(f, list(shipped)) @ np.array(list(shipped.values())) for f in feats]))
    for name, scores in rows:
        print(f"{name:58} {top_k(docs, scores, 1):.3f}   {top_k(docs, scores, 3):.3f}", flush=True)
    names = list(STEPS[-1])
    w = fit_ranker([stack(f, names) for f in feats], labels_of(docs))
    print("weights for HeadlineParams: " + ", ".join(f"{n}={v:.2f}" for n, v in zip(names, w)))


if __name__ == "__main__":
    main()
