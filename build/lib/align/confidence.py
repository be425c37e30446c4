"""Calibrated confidence: the probability that a pair is right, the same
meaning across documents, so a translator can trust "≥ 0.8".

Logistic curves over the aligner's raw scores, fitted on the dev sets by
``scripts/calibrate.py`` (which prints the coefficients below and a
reliability table: of the pairs scored ≥ 0.8, how many were right).
"""

from __future__ import annotations

import math

# fitted by scripts/calibrate.py on ntrex128_jaen_resplit (clean and 10 % omissions)
# and textberg_defr_dev, USE-m3
LINK = {"bias": 2.39, "sim": 7.37, "merged": -2.51}      # a 1-1 or m-n bead
TRANSLATION = {"bias": -10.36, "cos": 28.61}            # translation or not (gold vs other documents)
SKIP = {"bias": 2.07, "best": -6.52}                      # a 1-0 / 0-1 bead
# no headline dev set: fitted on ntrex sentences cut to eight words (see the script)
HEADLINE = {"bias": -0.86, "score": 0.50, "gap": 19.04}   # a headline's candidate


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def link_confidence(sim: float, merged: bool, cos: float = 1.0) -> float:
    """``sim`` is the bead's margin similarity (cosine less its neighbours'),
    ``cos`` its plain cosine. The first curve is fitted on what the aligner
    outputs, where nearly every link is a translation of something; the
    second says whether the two sides are translations at all (gold links
    against pairs drawn from different documents), so that a pair of
    unrelated sentences is never trusted, however it stands among its
    neighbours."""
    aligned = _logistic(LINK["bias"] + LINK["sim"] * sim + LINK["merged"] * merged)
    return aligned * _logistic(TRANSLATION["bias"] + TRANSLATION["cos"] * cos)


def skip_confidence(best: float) -> float:
    """``best`` is the best margin similarity the unaligned sentence had with
    any sentence near it: the lower, the surer that it has no counterpart."""
    return _logistic(SKIP["bias"] + SKIP["best"] * best)


def headline_confidence(score: float, gap: float) -> float:
    return _logistic(HEADLINE["bias"] + HEADLINE["score"] * score + HEADLINE["gap"] * gap)
