"""The review's rules, as plain functions on an ``Alignment``: confidence
levels, which pairs need review and why, progress, where the cursor goes
after an edit, and where a segment may be cut. Nothing here imports
Streamlit; the grid in the browser shows what these say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

from .model import Alignment, Pair, Segment, joined
from .segment import sentence_ends

# Calibrated confidence thresholds: >= 0.8 green, >= 0.5 amber, else red.
GREEN = 0.8
AMBER = 0.5

LEVELS = {
    # level: (label, accent colour for chips and markers)
    "high": ("high", "#2e9e5b"),
    "medium": ("medium", "#e0a100"),
    "low": ("low", "#d64545"),
}

# Why a pair waits for the reviewer, each shown as a chip.
REASONS = {
    "low": "low confidence",
    "orphan": "no counterpart (1-0 / 0-1)",
    "m-n": "several sentences on a side (m-n)",
    "edited": "changed by hand, not yet confirmed",
}


# -- confidence and triage -------------------------------------------------------

def level(score: float) -> str:
    """``high`` (green) from 0.8, ``medium`` (amber) from 0.5, else ``low`` (red)."""
    if score >= GREEN:
        return "high"
    if score >= AMBER:
        return "medium"
    return "low"


def colour(score: float) -> str:
    """The accent colour (hex) of a confidence."""
    return LEVELS[level(score)][1]


def score_text(score: float) -> str:
    """Two decimals, rounded down, so the number never crosses a threshold
    its colour did not (0.799 shows 0.79 in amber, not 0.80)."""
    return f"{math.floor(score * 100 + 1e-9) / 100:.2f}"


def reasons(pair: Pair) -> tuple[str, ...]:
    """Why an unconfirmed pair needs review (keys of ``REASONS``); nothing
    once confirmed. A confident score is not enough: an omission (1-0) or a
    merge (2-2) at 0.92 still waits for a person, and so does a pair changed
    by hand, whose aligner score no longer applies."""
    if pair.status == "confirmed":
        return ()
    out = ["edited"] if pair.status == "edited" else ["low"] if pair.score < GREEN else []
    if not pair.ja or not pair.en:
        out.append("orphan")
    elif len(pair.ja) > 1 or len(pair.en) > 1:
        out.append("m-n")
    return tuple(out)


def needs_review(pair: Pair) -> bool:
    return bool(reasons(pair))


def kind_group(pair: Pair) -> str:
    """The kind filter's groups: ``1-1``, ``m-n`` or ``orphan``."""
    if not pair.ja or not pair.en:
        return "orphan"
    return "1-1" if len(pair.ja) == len(pair.en) == 1 else "m-n"


@dataclass(frozen=True)
class Stats:
    pairs: int
    confirmed: int
    edited: int
    auto: int
    review: int

    @property
    def done(self) -> float:
        return self.confirmed / self.pairs if self.pairs else 1.0


def stats(al: Alignment) -> Stats:
    by_status = {"auto": 0, "edited": 0, "confirmed": 0}
    review = 0
    for p in al.pairs:
        by_status[p.status] += 1
        review += needs_review(p)
    return Stats(len(al.pairs), by_status["confirmed"], by_status["edited"], by_status["auto"], review)


def carry_over(old: Alignment, new: Alignment, typed: dict[tuple[str, str], str] | None = None
               ) -> tuple[list[int], list[tuple[int, list[tuple[str, int, str, str]]]], list[int]]:
    """How ``new`` takes the review ``old`` made of an earlier version of the texts:
    the pairs of ``new`` to confirm (each not yet confirmed whose two texts ``old`` has
    as a confirmed pair: a word fixed in a source costs the review of that sentence,
    not of the document); those to retype first, with the edits (side, segment,
    text, was) that make them a confirmed pair of ``old`` (``typed``: the reviewer's
    texts, ``hand_edits``); and the confirmed pairs of ``old`` left behind (their texts
    changed in the source), to be named."""
    typed = typed or {}
    confirmed = {(old.ja_text(p), old.en_text(p)) for p in old.pairs if p.status == "confirmed" and p.ja and p.en}
    take, retype, reached = [], [], set()
    for k, p in enumerate(new.pairs):
        texts = (new.ja_text(p), new.en_text(p))
        if p.status == "confirmed" or not (p.ja and p.en):
            reached.add(texts)
            continue
        edits = [(side, i, typed[(side, seg.text)], seg.text) for side in ("ja", "en") for i in getattr(p, side)
                 if (side, (seg := getattr(new, side)[i]).text) in typed]
        retyped = tuple(joined([Segment(typed[(side, s.text)]) if (side, s.text) in typed else s
                                for s in (getattr(new, side)[i] for i in getattr(p, side))], space)
                        for side, space in (("ja", ""), ("en", " "))) if edits else texts
        if texts in confirmed:
            take.append(k)
        elif retyped in confirmed:
            retype.append((k, edits))
        reached.update((texts, retyped))
    left = [k for k, p in enumerate(old.pairs) if p.status == "confirmed" and p.ja and p.en
            and (old.ja_text(p), old.en_text(p)) not in reached]
    return take, retype, left


TYPED = "typed"  # meta key: the reviewer's texts, [side, the text before, the text after] each


def typed_of(meta: dict) -> dict[tuple[str, str], str]:
    """``hand_edits`` as an alignment file keeps them (``meta["typed"]``; the app writes
    them back with a review), for a run that aligns the document again; a hand-edited
    file's malformed list is none."""
    rows = meta.get(TYPED) if isinstance(meta, dict) else None
    return {(side, was): text for side, was, text in rows
            if side in ("ja", "en") and isinstance(was, str) and isinstance(text, str)} \
        if isinstance(rows, list) and all(isinstance(r, list) and len(r) == 3 for r in rows) else {}


def hand_edits(steps: Sequence[Any]) -> dict[tuple[str, str], str]:
    """The texts a reviewer typed, as (side, the text before) -> the text after, from
    the text edits among ``steps`` (a history's live steps) that say what they replaced;
    a text edited twice keeps its first original."""
    typed: dict[tuple[str, str], str] = {}
    for step in steps:
        if step.op != "edit_text" or len(step.args) < 4 or not isinstance(step.args[3], str):
            continue
        side, _, text, was = step.args[:4]
        origin = next((key for key, now in typed.items() if key[0] == side and now == was.strip()),
                      (side, was.strip()))
        typed[origin] = str(text).strip()
    return {key: text for key, text in typed.items() if text != key[1]}  # typed back as it was: no edit


def carried_note(old: Alignment, carried: int, retyped: int, left: list[int], source: str) -> str:
    """What carrying a review over says: how many confirmations came from ``source``
    (``retyped`` of them with the reviewer's own texts), and which confirmed pairs of
    it did not (a hand edit among them is the reviewer's work, still there: never
    dropped without a word)."""
    note = f"{carried} confirmed pair(s) carried over from {source}, where the texts had not changed"
    if retyped:
        note += f" but for your own edits ({retyped}, typed again)"
    if left:
        edited = [k for k in left if old.pairs[k].edited]
        note += (f"; {len(left)} confirmed pair(s) of it not, their texts having changed (pairs "
                 + ", ".join(str(k + 1) for k in left[:10]) + (" …" if len(left) > 10 else "")
                 + (f"; {len(edited)} of them edited by hand: copy your changes from there" if edited else "") + ")")
    return note


def next_needing_review(al: Alignment, k: int) -> int | None:
    """The first pair after k that needs review, wrapping round; None if none."""
    n = len(al.pairs)
    for d in range(1, n + 1):
        j = (k + d) % n
        if needs_review(al.pairs[j]):
            return j
    return None


# -- the cursor --------------------------------------------------------------------

def clamp(al: Alignment, k: int) -> int:
    return min(max(int(k), 0), max(len(al.pairs) - 1, 0))


def pair_of_segment(al: Alignment, side: str, seg_id: int) -> int | None:
    for k, p in enumerate(al.pairs):
        if seg_id in getattr(p, side):
            return k
    return None


def focus_of(al: Alignment, op: str, args: Sequence[Any], fallback: int) -> int:
    """The pair an edit is about, in ``al`` (the state after it, or after its
    undo): where the cursor should stand to show what changed."""
    if op in ("edit_text", "split_segment", "join_segments", "detach") and len(args) >= 2:
        seg = args[1][0] if isinstance(args[1], (list, tuple)) and args[1] else args[1]
        k = pair_of_segment(al, args[0], seg) if isinstance(seg, int) else None
        return clamp(al, fallback if k is None else k)
    if op == "link" and args and args[0]:
        k = pair_of_segment(al, "ja", args[0][0])
        return clamp(al, fallback if k is None else k)
    if op == "merge_prev" and args:
        return clamp(al, int(args[0]) - 1)
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return clamp(al, args[0])
    return clamp(al, fallback)


# -- cutting a segment ---------------------------------------------------------------

@lru_cache(maxsize=65536)
def cut_offers(text: str, side: str) -> tuple[int, ...]:
    """Where the editor offers to cut a segment: its inner sentence ends, by
    the splitter's own rules, counting those inside a quotation the splitter
    kept whole (彼は「…。…。」と述べた is one segment; its translation may be
    several)."""
    return tuple(sentence_ends(text, side, inside_quotes=True))


def snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"
