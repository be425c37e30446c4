"""Calibrated confidence: the probability that a pair is right, the same
meaning for every kind of pair (1-1, m-n, 1-0 / 0-1, headline) and across
documents, so a translator can trust "≥ 0.8".

One logistic curve per kind over the aligner's raw scores, fitted on dev sets
with omissions and with split and merged sentences by ``scripts/calibrate.py``
(which prints the coefficients below and a reliability table per kind: of the
pairs scored ≥ 0.8, how many were right).
"""

from __future__ import annotations

import math

import numpy as np

from .document import GAIN_LIMIT, earlier_copies

# fitted by scripts/calibrate.py on ntrex128_jaen_resplit (clean; 10 % omissions;
# sentences merged and 10 % omissions, also aligned with the splits missed) and
# textberg_defr_dev, USE-m3
ONE_TO_ONE = {"bias": -0.63, "sim": 6.25, "gain": 12.33}  # a 1-1 link
MANY = {"bias": -1.42, "sim": 7.84, "gain": 19.15}  # an m-n link
SKIP = {"bias": 0.80, "best": -4.89, "gain": -14.53, "length": 1.05}  # a 1-0 / 0-1 bead
TRANSLATION = {"bias": -10.36, "cos": 28.61}  # translation or not (gold vs other documents)
# The translation curve is fitted on as many unrelated pairs as gold links (no prior);
# a link the aligner chose in a translation pair is a translation far more often than
# not, so a link's confidence adds these log-odds: without them right links with a low
# cosine sat under 0.5 (the pairs a translator would then check for nothing), with them
# still ~98 % of unrelated pairs that stand out among their neighbours stay under 0.5.
LINK_PRIOR = 2.0
# on the hand-read headline dev set (benchmarks/headlines_ntrex.tsv), cross-validated scores
HEADLINE = {"bias": -0.71, "cos": 1.38, "lead": 0.74}  # a headline's candidate (fitted by scripts/headline_dev.py)


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def link_confidence(sim: float, merged: bool, cos: float = 1.0, gain: float = 0.0) -> float:
    """``sim`` is the bead's margin similarity (cosine less its neighbours'),
    ``cos`` its plain cosine, ``gain`` its value (cosine and length agreement)
    less that of the best rival shape next to it: an end sentence dropped, an
    orphan joined, a sentence moved across a boundary (``document.shape_gains``;
    0 when not known). The first curve is fitted on what
    the aligner outputs, where nearly every link is a translation of
    something; the second says whether the two sides are translations at all
    (gold links against pairs drawn from different documents), so that a pair
    of unrelated sentences is never trusted, however it stands among its
    neighbours."""
    if merged:
        aligned = _logistic(MANY["bias"] + MANY["sim"] * sim + MANY["gain"] * gain)
    else:
        aligned = _logistic(ONE_TO_ONE["bias"] + ONE_TO_ONE["sim"] * sim + ONE_TO_ONE["gain"] * gain)
    return aligned * _logistic(LINK_PRIOR + TRANSLATION["bias"] + TRANSLATION["cos"] * cos)


def skip_confidence(best: float, gain: float = 0.0, length: float = 0.0) -> float:
    """``best`` is the best margin similarity the unaligned sentence had with
    any sentence near it: the lower, the surer that it has no counterpart.
    ``gain`` is how much it would raise the value (cosine and length agreement)
    of a link beside it by joining it (``document.shape_gains``; 0 when not
    known): a short sentence split off its neighbour raises it, and is not a
    confident orphan. ``length``
    is the log of its characters against its side's mean sentence (0 when not
    known): a short orphan is more often such a split."""
    return _logistic(SKIP["bias"] + SKIP["best"] * best + SKIP["gain"] * gain + SKIP["length"] * length)


def bead_confidence(src_size: int, tgt_size: int, sim: float, cos: float, gain: float,
                    length: float = 0.0) -> float:
    """A document bead's confidence, by its kind (sizes of its two sides)."""
    if src_size and tgt_size:
        return link_confidence(sim, src_size + tgt_size > 2, cos, gain)
    return skip_confidence(sim, gain, length)


def headline_confidence(cos: float, lead: float) -> float:
    """``cos`` is the candidate's plain cosine with the headline (a headline
    that resembles nothing in the body is not trusted), ``lead`` how far its
    ranker score stands above the best of the other candidates (negative for
    all but the pick)."""
    return _logistic(HEADLINE["bias"] + HEADLINE["cos"] * cos + HEADLINE["lead"] * lead)


def rescore(ja_vec: np.ndarray | None, en_vec: np.ndarray | None, ja_near: np.ndarray,
            en_near: np.ndarray, merged: bool = False, k: int = 4, gain: float | None = None) -> float:
    """A real confidence for a pair the reviewer made or edited, from
    embeddings already computed. ``ja_vec`` / ``en_vec`` embed the pair's two
    sides (its sentences joined; None for an empty side); ``ja_near`` /
    ``en_near`` are the rows of single-sentence embeddings near the pair on
    each side (the pair's own included), from which its margin is taken as the
    aligner's: cosine less the mean of each side's ``k`` best cosines with the
    other side. An orphan's confidence comes from its best margin with the
    other side's sentences. ``gain`` is the pair's shape gain if the caller
    knows its neighbours (``document.shape_gains``); otherwise a link is taken
    to have no rival shape (as the aligner's gains do) and an orphan's is
    neutral (0)."""
    def top_mean(vec: np.ndarray, others: np.ndarray) -> float:
        if len(others) == 0:
            return 0.0
        sims = np.sort(others @ vec)[::-1][:k]
        return float(sims.mean())

    # a sentence repeated nearby counted once, as the aligner does
    ja_near, en_near = (rows[earlier_copies(rows) < 0] for rows in (ja_near, en_near))
    if ja_vec is not None and en_vec is not None:
        cos = float(ja_vec @ en_vec)
        sim = cos - 0.5 * (top_mean(ja_vec, en_near) + top_mean(en_vec, ja_near))
        return link_confidence(sim, merged, cos, GAIN_LIMIT if gain is None else gain)
    gain = gain or 0.0
    vec, own, other = (ja_vec, ja_near, en_near) if ja_vec is not None else (en_vec, en_near, ja_near)
    if vec is None or len(other) == 0:
        return skip_confidence(-1.0, gain)
    margin = other @ vec - 0.5 * (top_mean(vec, other) + np.array([top_mean(o, own) for o in other]))
    return skip_confidence(float(margin.max()), gain)
