"""Which Japanese document goes with which English one, in two folders of
articles with no list saying so.

1. **Titles.** A Japanese article's ``原題:`` headlines against each English
   document's title (first line, ``<title>``, docx title), compared as keys:
   Bloomberg's ``*`` and `` (2)`` marks off, sentence case, case-folded, one
   quote style. A key that names exactly one document on each side pairs them,
   unless content contradicts it: the article's sentences are translated, far
   more, in an English document no title claims (a 原題 line copied from
   another article).
2. **Content**, for the rest, from the sentence embeddings the aligner needs
   anyway (no second model):
   - a document vector is the mean of its sentence embeddings, less the mean
     of its side's corpus (both sides share a "news in this language"
     direction that makes every pair look alike), L2-normalised;
   - each document's ``k`` nearest neighbours on the other side, in both
     directions, from a faiss index (never an all-pairs table; see
     ``nearest``);
   - each candidate is re-scored at the sentence level: the translation
     probability (``confidence.TRANSLATION``) of every mutual-best sentence
     pair, summed, over the geometric mean of the two sentence counts. About
     "the share of sentences that have their translation in the other
     document": 0.56–1 for translations (0.71 and up but for one article
     that repeats itself), at most 0.45 for two reports of the same event
     by other outlets, on the dev set;
   - competitive linking: candidates by score, best first, each document
     taken once; a pair needs ``threshold`` (0.5: half the sentences
     translated), so a document whose counterpart is missing stays unpaired.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .confidence import TRANSLATION
from .normalise import without_marks

TITLE, CONTENT, GIVEN = "title", "content", "given"
THRESHOLD = 0.5
OVERRULE = 0.3  # how much more of an article another document must translate to overrule its title
NEIGHBOURS = 4
EXACT_UP_TO = 20_000  # documents a side searched exactly
NPROBE = 32


@dataclass(frozen=True, order=True)
class DocPair:
    ja: int
    en: int
    score: float
    method: str


# -- titles -------------------------------------------------------------------------------

_QUOTES = str.maketrans({c: "'" for c in "‘’‚‛′`´\"“”„‟″「」『』"})
_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc-]+")
_SITE = re.compile(r"\s+[-|–—]\s+[^-|–—]{2,40}$")  # "… - Bloomberg", "… | Reuters"


def title_key(text: str) -> str:
    """A headline or title as it is compared: no flash or version mark, case
    and quote styles folded, dashes and spaces runs made one (not the matcher's
    ``headline_key``: all it adds is work on case, folded here)."""
    key = without_marks(text).casefold().translate(_QUOTES)
    key = _DASHES.sub("-", key)
    return " ".join(key.split()).strip(" .:;,!?")


def title_keys(titles: Iterable[str]) -> set[str]:
    """The keys of a document's titles; a ``<title>`` with a site name after
    a dash also without it."""
    keys = set()
    for title in titles:
        keys.add(title_key(title))
        keys.add(title_key(_SITE.sub("", title)))
    keys.discard("")
    return keys


def match_titles(ja_keys: Sequence[set[str]], en_keys: Sequence[set[str]]) -> list[DocPair]:
    """Pairs whose keys name exactly one document on each side."""
    by_key: dict[str, set[int]] = {}
    for j, keys in enumerate(en_keys):
        for key in keys:
            by_key.setdefault(key, set()).add(j)
    found: dict[int, set[int]] = {}
    for i, keys in enumerate(ja_keys):
        hits = set().union(*(by_key.get(k, set()) for k in keys)) if keys else set()
        if len(hits) == 1:
            found[i] = hits
    claimed: dict[int, list[int]] = {}
    for i, hits in found.items():
        claimed.setdefault(next(iter(hits)), []).append(i)
    return sorted(DocPair(ja[0], j, 1.0, TITLE) for j, ja in claimed.items() if len(ja) == 1)


# -- content ------------------------------------------------------------------------------

def document_vectors(means: np.ndarray) -> np.ndarray:
    """Mean sentence embeddings (one row a document), centred on the side's
    corpus mean and L2-normalised."""
    x = np.asarray(means, np.float32)
    x = x - x.mean(axis=0, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def nearest(queries: np.ndarray, base: np.ndarray, k: int, *, exact_up_to: int = EXACT_UP_TO
            ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` rows of ``base`` with the highest dot product for each query
    (indices, scores; best first; -1 where fewer were found), by faiss:
    exact (a flat index) up to ``exact_up_to`` rows, an inverted-file index
    beyond (``4·√n`` lists, ``NPROBE`` of them searched), whose cost grows as
    ``n^1.5`` instead of ``n²``."""
    import faiss

    base = np.ascontiguousarray(base, np.float32)
    queries = np.ascontiguousarray(queries, np.float32)
    dim, k = base.shape[1], min(k, len(base))
    if len(base) <= exact_up_to:
        index = faiss.IndexFlatIP(dim)
    else:
        lists = int(4 * np.sqrt(len(base)))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        sample = np.random.default_rng(0).choice(len(base), min(len(base), 64 * lists), replace=False)
        index.train(base[np.sort(sample)])
        index.nprobe = NPROBE
    index.add(base)
    sims, idx = index.search(queries, k)
    return idx, sims


def _probability(cos: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(TRANSLATION["bias"] + TRANSLATION["cos"] * cos.astype(np.float64))))


def translation_share(ja: np.ndarray, en: np.ndarray) -> float:
    """The translation probabilities of the mutual-best sentence pairs,
    counted from each side, over twice the geometric mean of the sentence
    counts (0 to 1), each side's sentences counted once (identical ones are one:
    a text scraped twice into one file is the text). A tie counts as mutual: an
    article that repeats a sentence in other words has two near-equal best
    matches (counted once, that article's share fell from 0.56 to 0.52 on the
    dev set, near the threshold); the share is capped at 1."""
    return float(translation_shares(ja, [en])[0])


def _distinct(sentences: np.ndarray) -> np.ndarray:
    """A document's sentence embeddings, each identical one once (found by a random
    projection: a sort of numbers, where np.unique over rows made pairing 20× slower)."""
    sentences = np.asarray(sentences)
    if len(sentences) < 2:
        return sentences
    # float64: distinct sentences of a long document never meet on one number
    _, first = np.unique(sentences.astype(np.float64) @ _probe(sentences.shape[1]), return_index=True)
    return sentences if len(first) == len(sentences) else sentences[np.sort(first)]


@functools.lru_cache(maxsize=4)
def _probe(dim: int) -> np.ndarray:
    return np.random.default_rng(0).standard_normal(dim)


def translation_shares(ja: np.ndarray, candidates: Sequence[np.ndarray]) -> np.ndarray:
    """``translation_share(ja, c)`` for each candidate, from one matrix
    product against all of them (the candidates' sentences side by side)."""
    ja, candidates = _distinct(ja), [_distinct(c) for c in candidates]
    sizes = np.array([len(c) for c in candidates])
    out = np.zeros(len(candidates))
    if not len(ja) or not sizes.sum():
        return out
    keep = np.flatnonzero(sizes)
    starts = np.concatenate([[0], np.cumsum(sizes[keep])[:-1]])
    seg = np.repeat(np.arange(len(keep)), sizes[keep])           # column -> candidate
    s = np.asarray(ja, np.float32) @ np.vstack([candidates[c] for c in keep]).astype(np.float32).T
    row_best = np.maximum.reduceat(s, starts, axis=1)             # (ja sentence, candidate)
    col_best = s.max(axis=0)                                      # (candidate sentence,)
    at_row_best = s >= row_best[:, seg]
    at_col_best = s >= col_best[None, :]
    # a Japanese sentence is mutual with a candidate when one of its best
    # columns there has it as (one of) that column's best rows, and vice versa
    ja_mutual = np.logical_or.reduceat(at_row_best & at_col_best, starts, axis=1)
    en_mutual = (at_row_best & at_col_best).any(axis=0)
    from_ja = (_probability(row_best) * ja_mutual).sum(axis=0)
    from_en = np.add.reduceat(_probability(col_best) * en_mutual, starts)
    out[keep] = np.minimum((from_ja + from_en) / (2 * np.sqrt(len(ja) * sizes[keep])), 1.0)
    return out


def content_pairs(ja_vecs: np.ndarray, en_vecs: np.ndarray, ja_sentences: Sequence[np.ndarray],
                  en_sentences: Sequence[np.ndarray], *, k: int = NEIGHBOURS,
                  threshold: float = THRESHOLD) -> list[DocPair]:
    """Pairs by content among the given documents (rows of the two document
    vector matrices, and their sentence embeddings)."""
    if not len(ja_vecs) or not len(en_vecs):
        return []
    forward, _ = nearest(ja_vecs, en_vecs, k)
    backward, _ = nearest(en_vecs, ja_vecs, k)
    candidates: list[set[int]] = [set(int(j) for j in row if j >= 0) for row in forward]
    for j, row in enumerate(backward):
        for i in row[row >= 0]:
            candidates[i].add(j)
    scored = []
    # products of a few dozen rows: BLAS threads only wait on each other (10× slower on 2 busy cores)
    with threadpool_limits(1, user_api="blas"):
        for i, js in enumerate(candidates):
            js = sorted(js)
            for j, s in zip(js, translation_shares(ja_sentences[i], [en_sentences[j] for j in js])):
                if s >= threshold:  # a tie (two copies of one text) to the one of the right size
                    size = abs(np.log(len(ja_sentences[i]) / len(en_sentences[j])))
                    scored.append((-s, size, -float(ja_vecs[i] @ en_vecs[j]), i, j, s))
    scored.sort()
    used_ja, used_en, pairs = set(), set(), []
    for *_, i, j, s in scored:
        if i not in used_ja and j not in used_en:
            used_ja.add(i)
            used_en.add(j)
            pairs.append(DocPair(i, j, round(float(s), 4), CONTENT))
    return sorted(pairs)


def baseline_pairs(ja_means: np.ndarray, en_means: np.ndarray) -> list[DocPair]:
    """The simple baseline: mean sentence embedding, mutual best, no
    threshold (for the benchmark)."""
    a = ja_means / np.linalg.norm(ja_means, axis=1, keepdims=True)
    b = en_means / np.linalg.norm(en_means, axis=1, keepdims=True)
    fwd, fs = nearest(a, b, 1)
    bwd, _ = nearest(b, a, 1)
    return [DocPair(i, int(fwd[i, 0]), float(fs[i, 0]), CONTENT)
            for i in range(len(a)) if bwd[fwd[i, 0], 0] == i]


def pair_documents(ja_keys: Sequence[set[str]], en_keys: Sequence[set[str]],
                   ja_means: np.ndarray, en_means: np.ndarray,
                   ja_sentences: Sequence[np.ndarray], en_sentences: Sequence[np.ndarray],
                   *, k: int = NEIGHBOURS, threshold: float = THRESHOLD) -> list[DocPair]:
    """Titles first, then content among the documents left. ``*_means`` are
    the documents' mean sentence embeddings; ``*_sentences[i]`` the sentence
    embeddings of document i (read only for the candidates)."""
    by_title = match_titles(ja_keys, en_keys)
    if not len(ja_means) or not len(en_means):
        return by_title
    ja_vecs, en_vecs = document_vectors(ja_means), document_vectors(en_means)
    by_title = _uncontradicted(by_title, ja_vecs, en_vecs, ja_sentences, en_sentences, k, threshold)
    ja_left = np.setdiff1d(np.arange(len(ja_means)), [p.ja for p in by_title])
    en_left = np.setdiff1d(np.arange(len(en_means)), [p.en for p in by_title])
    a, b = ja_vecs[ja_left], en_vecs[en_left]
    by_content = [DocPair(int(ja_left[p.ja]), int(en_left[p.en]), p.score, p.method)
                  for p in content_pairs(a, b, _Subset(ja_sentences, ja_left),
                                         _Subset(en_sentences, en_left), k=k, threshold=threshold)]
    return sorted(by_title + by_content)


def _uncontradicted(titles: list[DocPair], ja_vecs: np.ndarray, en_vecs: np.ndarray,
                    ja_sentences: Sequence[np.ndarray], en_sentences: Sequence[np.ndarray],
                    k: int, threshold: float) -> list[DocPair]:
    """The title pairs that content does not contradict. A ``原題`` line copied
    from another article names the wrong document, while the article's sentences
    have their translation in an English document no title claims: then content
    decides. A title's own document may share few sentences (only the headlines,
    another outlet's wording), so it is overruled only by a translation
    (``threshold``) that shares far more (OVERRULE)."""
    if not titles:
        return titles
    claimed = {p.en for p in titles}
    forward, _ = nearest(ja_vecs[[p.ja for p in titles]], en_vecs, k)
    kept = []
    with threadpool_limits(1, user_api="blas"):  # as in content_pairs
        for p, row in zip(titles, forward):
            others = [int(j) for j in row if j >= 0 and int(j) not in claimed]
            shares = translation_shares(ja_sentences[p.ja], [en_sentences[j] for j in [p.en, *others]])
            if not (len(others) and shares[1:].max() >= threshold and shares[1:].max() >= shares[0] + OVERRULE):
                kept.append(p)
    return kept


class _Subset:
    def __init__(self, items: Sequence, index: np.ndarray):
        self.items, self.index = items, index

    def __getitem__(self, i: int):
        return self.items[int(self.index[i])]

    def __len__(self) -> int:
        return len(self.index)


def pairing_scores(pairs: Iterable[DocPair], gold: set[tuple[int, int]]) -> dict:
    """Precision, recall and F1 of document pairs against the gold pairs."""
    found = {(p.ja, p.en) for p in pairs}
    right = len(found & gold)
    precision = right / len(found) if found else 1.0
    recall = right / len(gold) if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "pairs": len(found), "gold": len(gold)}
