"""Many-to-one matching of English headlines to the Japanese sentences they
summarise, in any order (several headlines may point at one sentence).

A headline is short and says less than its sentence, so plain cosine is a weak
signal on its own. Each Japanese sentence gets, per headline:
  cosine of the two (the headline case-normalised, without version marks),
  + how well the headline's quoted phrases match the sentence's 「」 quotes
    ('Real Progress' ↔ 「実質的な進展」 match where the whole headline misses),
  + shared Latin tokens and numbers (NATO, SBU, 90%),
  + a small lead bonus: news headlines summarise the first paragraphs,
and the top candidates are kept, ranked, for the reviewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

# an opening quote not inside a word, so that the apostrophe of "Putin's" is none
_QUOTED_EN = re.compile(r"(?<![A-Za-z0-9])[‘'\"“]([^‘'’\"“”]{3,}?)[’'\"”](?![A-Za-z])")
_QUOTED_JA = re.compile(r"「([^「」]{2,})」|『([^『』]{2,})』")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]+|\d+(?:[.,]\d+)?%?")
_STOP = {"the", "and", "for", "but", "its", "his", "her", "has", "are", "was", "with", "from",
         "after", "than", "that", "this", "into", "over", "says", "said", "ever", "still"}


@dataclass(frozen=True)
class HeadlineParams:
    quote_weight: float = 1.0
    token_weight: float = 0.05   # per shared Latin token or number
    lead_weight: float = 0.05    # bonus for the first sentence, fading over ~10 sentences
    candidates: int = 5


@dataclass
class HeadlineMatch:
    ranked: list[tuple[int, float]]   # (Japanese sentence id, raw score), best first

    @property
    def best(self) -> int:
        return self.ranked[0][0]

    def lead(self, j: int) -> float:
        """How far candidate j stands above the best of the others (negative
        for any but the best)."""
        score = dict(self.ranked)[j]
        return score - max((s for k, s in self.ranked if k != j), default=0.0)

    @property
    def gap(self) -> float:
        """How far the best candidate stands above the runner-up."""
        return self.lead(self.best)


def score_matrix(headline_vecs: np.ndarray, ja_vecs: np.ndarray, headlines: Sequence[str],
                 ja: Sequence[str], encode, params: HeadlineParams = HeadlineParams()) -> np.ndarray:
    """(headlines × sentences) scores; ``encode(list[str])`` embeds quoted phrases."""
    scores = headline_vecs @ ja_vecs.T
    scores += params.quote_weight * _quote_scores(headlines, ja, encode)
    scores += params.token_weight * _token_overlap(headlines, ja)
    lead = np.exp(-np.arange(len(ja)) / 10.0)
    scores += params.lead_weight * lead[None, :]
    return scores


def match_headlines(scores: np.ndarray, params: HeadlineParams = HeadlineParams()) -> list[HeadlineMatch]:
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:params.candidates]
        out.append(HeadlineMatch([(int(j), float(row[j])) for j in order]))
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
    ja_tokens = [_tokens(s) for s in ja]
    return np.array([[len(_tokens(h) & t) for t in ja_tokens] for h in headlines], np.float32)
