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
LINK = {"bias": -3.2, "sim": 16.0, "merged": -0.4}      # a 1-1 or m-n bead
SKIP = {"bias": 2.0, "best": -12.0}                       # a 1-0 / 0-1 bead
HEADLINE = {"bias": -4.0, "score": 6.0, "gap": 20.0}      # a headline's best candidate


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(min(x, 50.0), -50.0)))


def link_confidence(sim: float, merged: bool) -> float:
    """``sim`` is the bead's margin similarity (cosine less its neighbours')."""
    return _logistic(LINK["bias"] + LINK["sim"] * sim + LINK["merged"] * merged)


def skip_confidence(best: float) -> float:
    """``best`` is the best margin similarity the unaligned sentence had with
    any sentence near it: the lower, the surer that it has no counterpart."""
    return _logistic(SKIP["bias"] + SKIP["best"] * best)


def headline_confidence(score: float, gap: float) -> float:
    return _logistic(HEADLINE["bias"] + HEADLINE["score"] * score + HEADLINE["gap"] * gap)
