"""Many-to-one matching of English headlines to the Japanese sentences they
summarise, in any order (several headlines may point at one sentence).

A headline is short and says less than its sentence, so plain cosine is a weak
signal on its own: a body sentence that shares a name or a concept with the
headline often beats the lede that states its claim. Each Japanese sentence
gets, per headline, a linear score (a logistic-regression ranker fitted on the
headline dev set, ``scripts/headline_dev.py``) over these features:
  cos       cosine of the two (the headline case-normalised, without version marks),
  coverage  the best cosine of the headline with a run of the sentence's clauses:
            a lede that adds a date and a source still carries the headline whole,
  anchors   the share of the headline's names and numbers found in the sentence, in
            Latin script or in katakana ('Warren' ↔ ウォレン, NATO, 90%),
  quote     how well the headline's quoted phrases match the sentence's 「」 quotes,
  first, second, position   where the sentence stands: a headline summarises the
            lede (the first headline of a list only),
  opens_quote, length       a quotation or a short line is seldom the claim,
and the top candidates are kept, ranked, for the reviewer. A pick's confidence
reads its lead over the other candidates without the lede prior: a lede that
wins by its position alone is not a sure pick.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from difflib import SequenceMatcher
from typing import Sequence

import numpy as np

# an opening quote not inside a word, so that the apostrophe of "Putin's" is none
_QUOTED_EN = re.compile(r"(?<![A-Za-z0-9])[‘'\"“]([^‘'’\"“”]{3,}?)[’'\"”](?![A-Za-z])")
_QUOTED_JA = re.compile(r"「([^「」]{2,})」|『([^『』]{2,})』")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]+|\d+(?:[.,]\d+)?%?")
_STOP = {"the", "and", "for", "but", "its", "his", "her", "has", "are", "was", "with", "from",
         "after", "than", "that", "this", "into", "over", "says", "said", "ever", "still"}
_CLAUSE_END = re.compile(r"(?<=[、，,；;：:])")
MAX_CLAUSES = 6   # a longer sentence's clauses are merged pairwise: spans stay few


@dataclass(frozen=True)
class HeadlineParams:
    """The ranker's weights (fitted on the headline dev set by
    ``scripts/headline_dev.py``, which prints them) and the candidates kept."""
    cos: float = 7.61
    coverage: float = 4.89
    anchors: float = 1.97
    quote: float = 7.70
    first: float = 2.90
    second: float = 1.97
    position: float = 0.00    # per log(1 + sentence index)
    opens_quote: float = -0.03
    length: float = 1.03      # per log(characters)
    candidates: int = 5

    def weights(self) -> dict[str, float]:
        return {k: v for k, v in asdict(self).items() if k != "candidates"}


@dataclass
class HeadlineMatch:
    ranked: list[tuple[int, float]]   # (Japanese sentence id, raw score), best first
    evidence: list[float] | None = None   # each candidate's score without the lede prior

    @property
    def best(self) -> int:
        return self.ranked[0][0]

    def lead(self, j: int) -> float:
        """How far candidate j stands above the best of the others by what it
        says, the lede prior left out (negative for a lede picked by the prior
        alone): the prior breaks ties, it does not make a pick sure."""
        ids = [k for k, _ in self.ranked]
        values = self.evidence if self.evidence is not None else [s for _, s in self.ranked]
        mine = values[ids.index(j)]
        return mine - max((v for k, v in zip(ids, values) if k != j), default=0.0)

    @property
    def gap(self) -> float:
        """How far the best candidate stands above the runner-up (``lead``)."""
        return self.lead(self.best)


def features(headline_vecs: np.ndarray, ja_vecs: np.ndarray, headlines: Sequence[str],
             ja: Sequence[str], encode) -> dict[str, np.ndarray]:
    """Each feature as a (headlines × sentences) array; ``encode(list[str])``
    embeds quoted phrases and clause runs."""
    n = len(ja)
    cos = headline_vecs @ ja_vecs.T
    coverage = np.maximum(_coverage(headline_vecs, ja, encode), cos)
    opens_quote = np.array([s.lstrip().startswith(("「", "『", "“", '"')) for s in ja], np.float32)
    length = np.log(np.maximum([len(s) for s in ja], 1)).astype(np.float32)
    return {"cos": cos, "coverage": coverage, "anchors": _anchor_scores(headlines, ja),
            "quote": _quote_scores(headlines, ja, encode), **_position_features(len(headlines), n),
            "opens_quote": np.broadcast_to(opens_quote, cos.shape), "length": np.broadcast_to(length, cos.shape)}


def score_matrix(headline_vecs: np.ndarray, ja_vecs: np.ndarray, headlines: Sequence[str],
                 ja: Sequence[str], encode, params: HeadlineParams = HeadlineParams()) -> np.ndarray:
    """(headlines × sentences) scores: the ranker's weighted sum of the features."""
    feats = features(headline_vecs, ja_vecs, headlines, ja, encode)
    return sum(w * feats[name] for name, w in params.weights().items())


def _position_features(n_headlines: int, n: int) -> dict[str, np.ndarray]:
    """The lede prior's features. It is the main headline's only: a list's
    later headlines (a Bloomberg 原題 line) summarise later paragraphs."""
    position = np.full((n_headlines, n), np.inf, np.float32)
    position[:1] = np.arange(n)
    return {"first": (position == 0).astype(np.float32), "second": (position == 1).astype(np.float32),
            "position": np.where(np.isfinite(position), np.log1p(position), 0.0)}


def match_headlines(scores: np.ndarray, params: HeadlineParams = HeadlineParams()) -> list[HeadlineMatch]:
    """Each headline's best candidates, ranked by ``score_matrix``'s scores, with
    their scores less the lede prior (the evidence their ``lead`` reads)."""
    weights = params.weights()
    prior = sum(weights[k] * v for k, v in _position_features(*scores.shape).items())
    out = []
    for row, evidence in zip(scores, scores - prior):
        order = np.argsort(-row, kind="stable")[:params.candidates]
        out.append(HeadlineMatch([(int(j), float(row[j])) for j in order], [float(evidence[j]) for j in order]))
    return out


def _clauses(sentence: str) -> list[str]:
    parts = [p for p in _CLAUSE_END.split(sentence) if p.strip()]
    while len(parts) > MAX_CLAUSES:
        parts = [a + b for a, b in zip(parts[::2], parts[1::2] + [""])]
    return parts


def _coverage(headline_vecs: np.ndarray, ja: Sequence[str], encode) -> np.ndarray:
    """Best cosine of each headline with a run of consecutive clauses of each
    sentence (the whole sentence included): asymmetric, as a headline is
    carried by part of its sentence."""
    spans, owner = [], []
    for j, sentence in enumerate(ja):
        parts = _clauses(sentence)
        for a in range(len(parts)):
            for b in range(a + 1, len(parts) + 1):
                if b - a < len(parts):   # the whole sentence is the plain cosine
                    spans.append("".join(parts[a:b]))
                    owner.append(j)
    out = np.full((len(headline_vecs), len(ja)), -1.0, np.float32)
    if not spans:
        return out
    sims = headline_vecs @ encode(spans).T
    for k, j in enumerate(owner):
        out[:, j] = np.maximum(out[:, j], sims[:, k])
    return out


def _quote_scores(headlines: Sequence[str], ja: Sequence[str], encode) -> np.ndarray:
    """Best cosine between a headline's quoted phrases and a sentence's quotes,
    less 0.35 so that an unrelated quote does not count."""
    out = np.zeros((len(headlines), len(ja)), np.float32)
    en_quotes = [[m.group(1) for m in _QUOTED_EN.finditer(h)] for h in headlines]
    ja_quotes = [[m.group(1) or m.group(2) for m in _QUOTED_JA.finditer(s)] for s in ja]
    flat_en = [q for qs in en_quotes for q in qs]
    flat_ja = [q for qs in ja_quotes for q in qs]
    if not flat_en or not flat_ja:
        return out
    sims = encode(flat_en) @ encode(flat_ja).T
    r = 0
    for h, qs in enumerate(en_quotes):
        c = 0
        for j, jq in enumerate(ja_quotes):
            if qs and jq:
                out[h, j] = max(0.0, float(sims[r:r + len(qs), c:c + len(jq)].max()) - 0.35)
            c += len(jq)
        r += len(qs)
    return out


def _tokens(text: str) -> set[str]:
    return {t.lower() for t in _LATIN.findall(text) if t.lower() not in _STOP}


def _token_overlap(headlines: Sequence[str], ja: Sequence[str]) -> np.ndarray:
    """Shared Latin tokens and numbers (the matcher before the ranker; kept as
    a baseline for scripts/headline_dev.py)."""
    ja_tokens = [_tokens(s) for s in ja]
    return np.array([[len(_tokens(h) & t) for t in ja_tokens] for h in headlines], np.float32)


# -- names and numbers across scripts --------------------------------------------
# A name written in katakana keeps the consonants of its English spelling, give
# or take the sounds Japanese merges: both sides are reduced to a skeleton of
# consonant classes (l = r, v = b, m = n, s = z = sh = ch = j; vowels, h, w, y
# dropped), so Warren and ウォレン, Lavrov and ラブロフ, Trump and トランプ meet.

_KANA_CONSONANT = {}
for _row, _cls in (("カキクケコ", "k"), ("ガギグゲゴ", "g"), ("サシスセソザジズゼゾチヂ", "s"),
                   ("タテトツ", "t"), ("ダデドヅ", "d"), ("ナニヌネノン", "n"), ("マミムメモ", "n"),
                   ("バビブベボヴ", "b"), ("パピプペポ", "p"), ("ラリルレロ", "r"), ("フ", "f")):
    for _kana in _row:
        _KANA_CONSONANT[_kana] = _cls
_KATAKANA_RUN = re.compile(r"[ァ-ヴー]{2,}")
_EN_RULES = [(r"gh", ""), (r"ph", "f"), (r"th", "s"), (r"(?:t?ch|sh|dg(?=[eiy])|z|j)", "s"),
             (r"ck", "k"), (r"c(?=[eiy])", "s"), (r"[cq]", "k"), (r"x", "ks"), (r"g(?=[eiy])", "s"),
             (r"ng", "n"), (r"l", "r"), (r"v$", "f"), (r"v", "b"), (r"m", "n"), (r"[aeiouhwy]", "")]


def english_skeleton(word: str) -> str:
    s = word.lower()
    for pattern, repl in _EN_RULES:
        s = re.sub(pattern, repl, s)
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[^a-z]", "", s))


def katakana_skeleton(word: str) -> str:
    s = "".join(_KANA_CONSONANT.get(c, "") for c in word)
    return re.sub(r"(.)\1+", r"\1", s)


def _names(headline: str) -> list[tuple[str, str]]:
    """(word, skeleton) of the headline's words that can be names: capitalised
    (or an acronym), three letters at least, not a stop word."""
    out = []
    for word in re.findall(r"[A-Za-z][A-Za-z'’-]+", headline):
        word = re.sub(r"['’]s$", "", word)
        if len(word) >= 3 and word[0].isupper() and word.lower() not in _STOP:
            out.append((word.lower(), english_skeleton(word)))
    return out


def _name_in(word: str, skeleton: str, latin: set[str], kana: list[str]) -> bool:
    if word in latin:
        return True
    if len(skeleton) < 2:
        return False
    # a plural or demonym ending is not written in katakana (Macedonians, マケドニア)
    forms = {skeleton, skeleton[:-1]} if skeleton.endswith("s") and len(skeleton) > 2 else {skeleton}
    for k in kana:
        if k in forms or (len(skeleton) >= 4 and SequenceMatcher(None, k, skeleton).ratio() >= 0.8):
            return True
    return False


def _anchor_scores(headlines: Sequence[str], ja: Sequence[str]) -> np.ndarray:
    """Share of each headline's anchors (names, in Latin script or katakana, and
    numbers) that each sentence holds."""
    out = np.zeros((len(headlines), len(ja)), np.float32)
    ja_latin = [_tokens(s) for s in ja]
    ja_kana = [[katakana_skeleton(k) for k in _KATAKANA_RUN.findall(s)] for s in ja]
    for h, headline in enumerate(headlines):
        names = _names(headline)
        numbers = {t for t in _tokens(headline) if t[0].isdigit()}
        count = len(names) + len(numbers)
        if not count:
            continue
        for j in range(len(ja)):
            found = sum(_name_in(w, sk, ja_latin[j], ja_kana[j]) for w, sk in names)
            found += len(numbers & ja_latin[j])
            out[h, j] = found / count
    return out
