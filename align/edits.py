"""Review operations: plain functions ``op(al, ...) -> Alignment``.

Conventions shared by every operation:

- ``k`` is a 0-based pair index, ``side`` is ``"ja"`` or ``"en"``, ``seg_id``
  a 0-based segment index on that side.
- The input is never changed; a new ``Alignment`` is returned.
- A pair changed by an edit gets status ``"edited"`` and keeps its score (a
  merge keeps the lower of the two: the merged pair is as sure as its weaker
  half) until a rescoring hook given to ``History.apply`` recomputes it. Candidates are dropped from a pair whose segments change by hand,
  because they ranked alternatives for the old grouping.
- Confirmed pairs are locked (DESIGN §6, "confirm (lock)"): an edit that would
  change one's grouping raises ``EditError`` until it is unconfirmed. Changing
  its text (``edit_text``, ``split_segment``: what the translator types in the
  editor) is allowed and unconfirms it in the same step, as a CAT tool sends
  an edited confirmed segment back to draft: typed text is never refused.
- An impossible edit raises ``EditError`` with a message for the translator;
  nothing is ever silently left as it was.

``History`` is the one undo/redo history: each edit is a ``Step`` (op name +
JSON-safe args) written to a ``Log``, in memory (``MemoryLog``) or in the
projects file (``align.store``).
"""

from __future__ import annotations

import json
import operator
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterable, Protocol, Sequence, get_args

from .errors import TaiyakuError
from .model import Alignment, Candidate, Pair, Segment, Side, joined

SIDES: tuple[Side, ...] = get_args(Side)
_LANG = {"ja": "Japanese", "en": "English"}


class EditError(TaiyakuError, ValueError):
    """An edit that cannot be done; the message is shown to the translator."""


class StaleText(EditError):
    """A text edit made on a sentence that another window has changed since."""


# -- argument checks ---------------------------------------------------------

def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool):
        raise EditError(f"{what} must be a number, not {value!r}")
    try:
        return operator.index(value)  # also accepts NumPy integers from the app
    except TypeError:
        raise EditError(f"{what} must be a number, not {value!r}") from None


def _pair(al: Alignment, k: Any) -> tuple[int, Pair]:
    k = _int(k, "pair index")
    if not 0 <= k < len(al.pairs):
        raise EditError(f"no pair {k}: the alignment has {_count(len(al.pairs), 'pair')}")
    return k, al.pairs[k]


def _side(side: Any) -> str:
    if side not in SIDES:
        raise EditError(f"side must be 'ja' or 'en', not {side!r}")
    return side


def _segment(al: Alignment, side: Any, seg_id: Any) -> tuple[int, Segment]:
    segs = getattr(al, _side(side))
    seg_id = _int(seg_id, "segment index")
    if not 0 <= seg_id < len(segs):
        raise EditError(f"no {_LANG[side]} segment {seg_id}: the text has {_count(len(segs), 'segment')}")
    return seg_id, segs[seg_id]


def _document(al: Alignment, what: str) -> None:
    if al.mode != "document":
        raise EditError(f"{what} is for full texts; in headline mode relink the headline instead")


def _unlocked(pair: Pair, which: str = "this pair") -> None:
    if pair.status == "confirmed":
        raise EditError(f"{which} is confirmed; unconfirm it first")


def _edited(pair: Pair, **changes: Any) -> Pair:
    return replace(pair, status="edited", edited=True, rescored=False, **changes)


def _put(al: Alignment, k: int, n: int, new: Iterable[Pair]) -> Alignment:
    """Replace pairs[k:k+n] with ``new``, keeping a document in Japanese order."""
    new = tuple(new)
    pairs = al.pairs[:k] + new + al.pairs[k + n:]
    if al.mode == "document" and not _in_order_around(pairs, k, len(new)):
        pairs = _ordered(pairs)
    return al.with_pairs(pairs)


def _first_ja(pairs: tuple[Pair, ...], start: int, step: int) -> int | None:
    """The first Japanese id of the nearest pair holding Japanese from
    ``start`` on, walking by ``step``; None past the end."""
    i = start
    while 0 <= i < len(pairs):
        if pairs[i].ja:
            return pairs[i].ja[0]
        i += step
    return None


def _in_order_around(pairs: tuple[Pair, ...], k: int, n: int) -> bool:
    """Whether pairs[k:k+n] and their neighbours holding Japanese are in
    Japanese order. The rest was in order before the edit, so this is enough
    (and costs the window, not the document)."""
    firsts = [p.ja[0] for p in pairs[k:k + n] if p.ja]
    before, after = _first_ja(pairs, k - 1, -1), _first_ja(pairs, k + n, +1)
    seq = ([before] if before is not None else []) + firsts + ([after] if after is not None else [])
    return all(a < b for a, b in zip(seq, seq[1:]))


def _ordered(pairs: Iterable[Pair]) -> tuple[Pair, ...]:
    """Japanese order after a crossing edit: pairs holding Japanese sorted by
    their first Japanese id, a pair with English only staying right after the
    pair it followed. So every export lists the Japanese text in order."""
    groups: list[tuple[int, list[Pair]]] = []
    for p in pairs:
        if p.ja or not groups:
            groups.append((p.ja[0] if p.ja else -1, [p]))
        else:
            groups[-1][1].append(p)
    groups.sort(key=lambda g: g[0])
    return tuple(p for _, ps in groups for p in ps)


def _ids(values: Any, side: str, al: Alignment) -> tuple[int, ...]:
    """Segment ids from the caller: numbers, in range, each once; sorted."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        raise EditError(f"{_LANG[side]} segments must be a list of numbers")
    ids = tuple(sorted(_segment(al, side, i)[0] for i in values))
    if len(set(ids)) != len(ids):
        raise EditError(f"a {_LANG[side]} segment is listed twice")
    return ids


# -- document mode: structure ------------------------------------------------

def _merge(al: Alignment, k: int) -> Alignment:
    a, b = al.pairs[k], al.pairs[k + 1]
    if "confirmed" in (a.status, b.status):
        raise EditError(f"pair {k + 1 if a.status == 'confirmed' else k + 2} is confirmed and cannot be merged; "
                        "unconfirm it first")
    merged = Pair(tuple(sorted(a.ja + b.ja)), tuple(sorted(a.en + b.en)), min(a.score, b.score), "edited")
    return _put(al, k, 2, [merged])


def merge_next(al: Alignment, k: int) -> Alignment:
    """Pairs k and k+1 become one pair."""
    _document(al, "merging")
    k, _ = _pair(al, k)
    if k == len(al.pairs) - 1:
        raise EditError("the last pair has no next pair to merge with")
    return _merge(al, k)


def merge_prev(al: Alignment, k: int) -> Alignment:
    """Pairs k-1 and k become one pair."""
    _document(al, "merging")
    k, _ = _pair(al, k)
    if k == 0:
        raise EditError("the first pair has no previous pair to merge with")
    return _merge(al, k - 1)


def split_pair(al: Alignment, k: int, ja_at: int | None = None,
               en_at: int | None = None) -> Alignment:
    """Split pair k in two at segment boundaries: the first ``ja_at`` Japanese
    and ``en_at`` English segments form the first pair. A side left as None is
    cut in the middle, the first half taking the odd one (2-2 → 1-1 + 1-1,
    2-1 → 1-1 + 1-0)."""
    _document(al, "splitting a pair")
    k, p = _pair(al, k)
    _unlocked(p)
    cuts = {}
    for side, at in (("ja", ja_at), ("en", en_at)):
        ids = getattr(p, side)
        at = (len(ids) + 1) // 2 if at is None else _int(at, f"{side}_at")
        if not 0 <= at <= len(ids):
            raise EditError(f"{side}_at must be between 0 and {len(ids)}")
        cuts[side] = at
    first = _edited(p, ja=p.ja[:cuts["ja"]], en=p.en[:cuts["en"]], candidates=())
    second = _edited(p, ja=p.ja[cuts["ja"]:], en=p.en[cuts["en"]:], candidates=())
    if not (first.ja or first.en) or not (second.ja or second.en):
        raise EditError("a split must leave at least one segment in each part")
    return _put(al, k, 1, [first, second])


def shift(al: Alignment, k: int, side: str, direction: str) -> Alignment:
    """Move one ``side`` segment of pair k to a neighbour: "up" moves its first
    segment to the end of pair k-1, "down" its last to the start of pair k+1.
    A pair left with no segment on either side disappears."""
    _document(al, "shifting")
    k, p = _pair(al, k)
    ids = getattr(p, _side(side))
    if not ids:
        raise EditError(f"this pair has no {_LANG[side]} segment to shift")
    if direction == "up":
        if k == 0:
            raise EditError("the first pair has no pair above it")
        j, rest = k - 1, ids[1:]
        moved_into = getattr(al.pairs[j], side) + ids[:1]
    elif direction == "down":
        if k == len(al.pairs) - 1:
            raise EditError("the last pair has no pair below it")
        j, rest = k + 1, ids[:-1]
        moved_into = ids[-1:] + getattr(al.pairs[j], side)
    else:
        raise EditError(f"direction must be 'up' or 'down', not {direction!r}")
    _unlocked(p)
    _unlocked(al.pairs[j], "the pair it would move into")
    source = _edited(p, candidates=(), **{side: rest})
    target = _edited(al.pairs[j], candidates=(), **{side: tuple(sorted(moved_into))})
    both = [target, source] if j < k else [source, target]
    return _put(al, min(j, k), 2, [q for q in both if q.ja or q.en])


def insert_empty(al: Alignment, k: int, side: str) -> Alignment:
    """Declare pair k's ``side`` segments untranslated: pair (ja, en) becomes
    two pairs, first ``side``'s segments with an empty counterpart, then the
    other side's segments alone. So the row the translator clicked keeps the
    text they judged to have no translation, with an empty cell next to it;
    e.g. side "ja": (ja, en) → (ja, ()) + ((), en)."""
    _document(al, "inserting an empty segment")
    k, p = _pair(al, k)
    _side(side)
    _unlocked(p)
    if not p.ja or not p.en:
        raise EditError("this pair already has an empty side")
    other = "en" if side == "ja" else "ja"
    alone = _edited(p, candidates=(), **{other: ()})
    rest = _edited(p, candidates=(), **{side: ()})
    return _put(al, k, 1, [alone, rest])


def delete_pair(al: Alignment, k: int) -> Alignment:
    """Unlink pair k: every segment in a document stays in exactly one pair,
    so each of its segments becomes a pair of its own (1-0 or 0-1), the
    Japanese ones first."""
    _document(al, "deleting a pair")
    k, p = _pair(al, k)
    _unlocked(p)
    if len(p.ja) + len(p.en) == 1:
        raise EditError("this pair holds a single segment; it is already unlinked")
    singles = ([Pair((i,), (), p.score, "edited") for i in p.ja]
               + [Pair((), (i,), p.score, "edited") for i in p.en])
    return _put(al, k, 1, singles)


def link(al: Alignment, ja_ids: Iterable[int], en_ids: Iterable[int]) -> Alignment:
    """Make the chosen segments one pair, taking them out of the pairs that
    held them (a pair left empty disappears, one left with segments becomes
    "edited"). The new pair may cross others: two swapped sentences are two
    crossing 1-1 links, not a 2-2 block. Headline mode: ``en_ids`` is one
    headline, and it links exactly ``ja_ids`` (as ``relink``)."""
    if al.mode == "headlines":
        en = _ids(en_ids, "en", al)
        if len(en) != 1:
            raise EditError("pick one headline to link the sentences to")
        k = next(k for k, p in enumerate(al.pairs) if en[0] in p.en)
        return relink(al, k, ja_ids)
    ja, en = _ids(ja_ids, "ja", al), _ids(en_ids, "en", al)
    if not ja and not en:
        raise EditError("pick the segments to link first")
    chosen = {"ja": set(ja), "en": set(en)}
    touched = [k for k, p in enumerate(al.pairs) if chosen["ja"] & set(p.ja) or chosen["en"] & set(p.en)]
    if len(touched) == 1 and (al.pairs[touched[0]].ja, al.pairs[touched[0]].en) == (ja, en):
        raise EditError("these segments already form one pair")
    for k in touched:
        _unlocked(al.pairs[k], "a pair holding these segments")
    new = Pair(ja, en, min(al.pairs[k].score for k in touched), "edited", edited=True)
    pairs: list[Pair] = []
    for k, p in enumerate(al.pairs):
        if k == touched[0]:
            pairs.append(new)
        if k in touched:
            rest = {side: tuple(i for i in getattr(p, side) if i not in chosen[side]) for side in SIDES}
            if rest["ja"] or rest["en"]:
                pairs.append(_edited(p, candidates=(), **rest))
        else:
            pairs.append(p)
    return al.with_pairs(_ordered(pairs))


def detach(al: Alignment, side: str, seg_id: int) -> Alignment:
    """Unlink one segment from its pair (one side only): it becomes a pair of
    its own, with no counterpart, right after the pair it left."""
    _document(al, "detaching a segment")
    seg_id, _ = _segment(al, side, seg_id)
    k = next(k for k, p in enumerate(al.pairs) if seg_id in getattr(p, side))
    p = al.pairs[k]
    _unlocked(p)
    if len(p.ja) + len(p.en) == 1:
        raise EditError("this segment is alone in its pair already")
    rest = _edited(p, candidates=(), **{side: tuple(i for i in getattr(p, side) if i != seg_id)})
    alone = Pair(**{side: (seg_id,), ("en" if side == "ja" else "ja"): ()}, score=p.score,
                 status="edited")
    return _put(al, k, 1, [rest, alone])


# -- text (both modes) -------------------------------------------------------

def _touching(al: Alignment, side: str, seg_id: int) -> set[int]:
    """Indices of the pairs that link this segment (a text edit marks them
    edited, which unconfirms a confirmed one)."""
    return {k for k, p in enumerate(al.pairs) if seg_id in getattr(p, side)}


def _renumbered(al: Alignment, side: str, renumber: Callable[[tuple[int, ...]], tuple[int, ...]],
                touched: Iterable[int], **changes: Any) -> tuple[Pair, ...]:
    """The pairs after a side's segments were renumbered (a cut, a join): ids in
    every pair and candidate mapped by ``renumber``, the ``touched`` pairs
    marked edited (with ``changes``)."""
    touched = set(touched)
    pairs = []
    for k, p in enumerate(al.pairs):
        p = replace(p, **{side: renumber(getattr(p, side))})
        if side == "ja" and p.candidates:
            p = replace(p, candidates=tuple(Candidate(renumber(c.ja), c.score) for c in p.candidates))
        pairs.append(_edited(p, **changes) if k in touched else p)
    return tuple(pairs)


def split_segment(al: Alignment, side: str, seg_id: int, at: int) -> Alignment:
    """Cut one segment's text at character offset ``at``. The whitespace at
    the cut goes with neither half (the source text stays as written: each
    half is a slice of it, with offsets derived from the original's). Later
    segment ids move up by one in every pair and candidate; the pairs that
    held the segment hold both halves."""
    seg_id, seg = _segment(al, side, seg_id)
    if al.mode == "headlines" and side == "en":
        raise EditError("a headline is one pair; it cannot be split")
    at = _int(at, "split position")
    if not 0 < at < len(seg.text):
        raise EditError("split inside the text, not at its start or end")
    head, tail = seg.text[:at].rstrip(), seg.text[at:].lstrip()
    if not head or not tail:
        raise EditError("both parts of a split must contain text")
    touched = _touching(al, side, seg_id)
    known = seg.start is not None and seg.end is not None and seg.end - seg.start == len(seg.text)
    if known:
        tail_start = seg.start + len(seg.text) - len(tail)
        halves = (Segment(head, seg.start, seg.start + len(head)), Segment(tail, tail_start, seg.end))
    else:
        halves = (Segment(head), Segment(tail))

    def renumber(ids: tuple[int, ...]) -> tuple[int, ...]:
        out: list[int] = []
        for i in ids:
            out.extend((i, i + 1) if i == seg_id else (i + (i > seg_id),))
        return tuple(out)

    pairs = _renumbered(al, side, renumber, touched)
    segs = getattr(al, side)
    return replace(al, **{side: segs[:seg_id] + halves + segs[seg_id + 1:]}, pairs=pairs)


def join_segments(al: Alignment, side: str, seg_ids: Iterable[int]) -> Alignment:
    """Join neighbouring segments of one side into one (Japanese without a
    space, English with one): the undo of a cut, or of a split the splitter
    made wrongly. They must stand in the same pair(s). Later segment ids move
    down in every pair and candidate."""
    side = _side(side)
    ids = _ids(seg_ids, side, al)
    if len(ids) < 2:
        raise EditError("pick at least two segments to join")
    if ids != tuple(range(ids[0], ids[-1] + 1)):
        raise EditError("only neighbouring segments can be joined")
    if al.mode == "headlines" and side == "en":
        raise EditError("each headline is a pair of its own; headlines cannot be joined")
    holders = [frozenset(k for k, p in enumerate(al.pairs) if i in getattr(p, side)) for i in ids]
    if len(set(holders)) != 1:
        raise EditError("these segments are in different pairs; link them into one pair first")
    for k in holders[0]:
        _unlocked(al.pairs[k], "the pair holding these segments")
    segs = getattr(al, side)
    parts = [segs[i] for i in ids]
    text = joined(parts, "" if side == "ja" else " ")
    # Offsets survive only where the joined text is still a slice of the source.
    contiguous = all(s.start is not None and s.end is not None and s.end - s.start == len(s.text)
                     for s in parts) and all(a.end == b.start for a, b in zip(parts, parts[1:]))
    whole = Segment(text, parts[0].start, parts[-1].end) if contiguous else Segment(text)
    first, n = ids[0], len(ids) - 1

    def renumber(values: tuple[int, ...]) -> tuple[int, ...]:
        out: list[int] = []
        for i in values:
            j = first if first <= i <= ids[-1] else i - n * (i > ids[-1])
            if j not in out:
                out.append(j)
        return tuple(out)

    pairs = _renumbered(al, side, renumber, holders[0], candidates=())
    return replace(al, **{side: segs[:first] + (whole,) + segs[ids[-1] + 1:]}, pairs=pairs)


def edit_text(al: Alignment, side: str, seg_id: int, text: str, was: str | None = None) -> Alignment:
    """Replace a segment's text (surrounding whitespace stripped); its offsets
    no longer point into the source, so they become None. ``was``: the text the
    editor started from; if the segment no longer reads so (changed in another
    window), refused rather than written over."""
    seg_id, seg = _segment(al, side, seg_id)
    if was is not None and (not isinstance(was, str) or was.strip() != seg.text.strip()):
        raise StaleText(f"{_LANG[side]} sentence {seg_id + 1} was changed "
                        "in another window while you typed")
    if not isinstance(text, str) or not text.strip():
        raise EditError("a segment cannot be empty; to drop it, unlink it from its pair")
    text = text.strip()
    if text == seg.text:
        raise EditError("the text is unchanged")
    touched = _touching(al, side, seg_id)
    segs = getattr(al, side)
    pairs = tuple(_edited(p) if k in touched else p for k, p in enumerate(al.pairs))
    return replace(al, **{side: segs[:seg_id] + (Segment(text),) + segs[seg_id + 1:]}, pairs=pairs)


# -- review status (both modes) ----------------------------------------------

def confirm(al: Alignment, k: int) -> Alignment:
    """Lock pair k as reviewed."""
    k, p = _pair(al, k)
    if p.status == "confirmed":
        raise EditError("this pair is already confirmed")
    return _put(al, k, 1, [replace(p, status="confirmed")])


def unconfirm(al: Alignment, k: int) -> Alignment:
    """Unlock pair k: back to "edited" if a person changed it before the
    confirm, else to "auto" (confirming and unconfirming changes nothing)."""
    k, p = _pair(al, k)
    if p.status != "confirmed":
        raise EditError("this pair is not confirmed")
    return _put(al, k, 1, [replace(p, status="edited" if p.edited else "auto")])


def confirm_through(al: Alignment, k: int) -> Alignment:
    """Confirm every pair from the first through pair k (an operation of older
    histories: the grid sends ``confirm_many``)."""
    k, _ = _pair(al, k)
    return confirm_many(al, range(k + 1))


def retype(al: Alignment, retyped: Iterable[tuple[int, list[tuple[str, int, str, str]]]]
           ) -> tuple[Alignment, list[int], list[tuple[str, int, str, str]]]:
    """Each pair's edits (side, segment, text, was: ``review.carry_over``'s retyped)
    applied whole or not at all: the alignment after them, the pairs retyped, and the
    edits made, in order (for a history to take them as steps)."""
    done, made = [], []
    for k, typed in retyped:
        try:
            after = al
            for edit in typed:
                after = edit_text(after, *edit)
        except EditError:  # a sentence no longer as it was: the pair is left as the aligner made it
            continue
        al = after
        done.append(k)
        made += typed
    return al, done, made


def confirm_many(al: Alignment, ks: Iterable[int]) -> Alignment:
    """Confirm the listed pairs (those the reviewer sees, up to the current
    one); the confirmed ones among them stay as they are."""
    if isinstance(ks, (str, bytes)) or not isinstance(ks, Iterable):
        raise EditError("the pairs to confirm must be a list of numbers")
    chosen = {_pair(al, k)[0] for k in ks}
    todo = [k for k in sorted(chosen) if al.pairs[k].status != "confirmed"]
    if not todo:
        raise EditError("every one of these pairs is already confirmed")
    pairs = list(al.pairs)
    for k in todo:
        pairs[k] = replace(pairs[k], status="confirmed")
    return al.with_pairs(pairs)


# -- headline mode -------------------------------------------------------------

def relink(al: Alignment, k: int, ja_ids: Iterable[int]) -> Alignment:
    """Set the Japanese sentences that headline pair k summarises (any number,
    kept in document order; none leaves the headline unmatched). The pair's
    score becomes the best of its ranked candidates that it now links (rescored
    when it links exactly that candidate: the aligner's confidence in this
    link), or 0: the reviewer's choice, not the aligner's, stands behind it."""
    if al.mode != "headlines":
        raise EditError("relinking is for headlines; in a full text merge, split or shift")
    k, p = _pair(al, k)
    _unlocked(p)
    ids = tuple(sorted(_int(i, "sentence index") for i in ja_ids))
    for i in ids:
        if not 0 <= i < len(al.ja):
            raise EditError(f"no Japanese sentence {i}: the text has {_count(len(al.ja), 'sentence')}")
    if len(set(ids)) != len(ids):
        raise EditError("a sentence is listed twice")
    if ids == tuple(sorted(p.ja)):
        raise EditError("the headline already links exactly these sentences")
    linked = [c for c in p.candidates if c.ja and set(c.ja) <= set(ids)]
    score = max((c.score for c in linked), default=0.0)
    exact = any(len(c.ja) == len(ids) for c in linked)
    return _put(al, k, 1, [replace(_edited(p, ja=ids, score=score), rescored=exact)])


# -- invariants ----------------------------------------------------------------

def check_invariants(al: Alignment) -> None:
    """Raise ValueError naming what is broken.

    Document: every segment of each side in exactly one pair, its ids
    ascending, the pairs holding Japanese in Japanese order (links may cross),
    no pair empty on both sides.
    Headlines: each headline in exactly one pair, alone; Japanese ids valid
    and not repeated within a pair."""
    size = {"ja": len(al.ja), "en": len(al.en)}
    for k, p in enumerate(al.pairs):
        named = [("ja", i) for i in p.ja] + [("en", i) for i in p.en]
        named += [("ja", i) for c in p.candidates for i in c.ja]
        for side, i in named:
            if not 0 <= i < size[side]:
                raise ValueError(f"pair {k} names {side} segment {i}, which does not exist")
    if al.mode == "document":
        for side in SIDES:
            named_ids = [i for p in al.pairs for i in getattr(p, side)]
            if sorted(named_ids) != list(range(size[side])):
                raise ValueError(f"{side} segments are not each in exactly one pair")
            if any(list(getattr(p, side)) != sorted(set(getattr(p, side))) for p in al.pairs):
                raise ValueError(f"a pair's {side} segments are not in ascending order")
        firsts = [p.ja[0] for p in al.pairs if p.ja]
        if firsts != sorted(firsts):
            raise ValueError("the pairs are not in Japanese order")
        if any(not p.ja and not p.en for p in al.pairs):
            raise ValueError("a pair has no segment on either side")
    else:
        if any(len(p.en) != 1 for p in al.pairs):
            raise ValueError("a headline pair must hold exactly one headline")
        if sorted(p.en[0] for p in al.pairs) != list(range(size["en"])):
            raise ValueError("headlines are not each in exactly one pair")
        if any(len(set(p.ja)) != len(p.ja) for p in al.pairs):
            raise ValueError("a headline pair names a sentence twice")


# -- steps and history ---------------------------------------------------------

OPS: dict[str, Callable[..., Alignment]] = {f.__name__: f for f in (
    merge_next, merge_prev, split_pair, split_segment, join_segments, shift, insert_empty,
    delete_pair, link, detach, edit_text, confirm, unconfirm, confirm_through, confirm_many,
    relink)}


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class Step:
    """One recorded edit: the op's name and its arguments as plain JSON
    values (lists as tuples), so a stored step equals the one that ran."""

    op: str
    args: tuple = ()

    @classmethod
    def make(cls, op: str | Callable[..., Alignment], args: Iterable[Any] = ()) -> "Step":
        name = op if isinstance(op, str) else getattr(op, "__name__", "")
        if name not in OPS or not (isinstance(op, str) or OPS[name] is op):
            raise EditError(f"unknown edit {op!r}")
        # Round-trip through JSON now, so replaying a stored step runs exactly this.
        plain = json.loads(json.dumps(list(args), default=operator.index))
        return cls(name, _tuples(plain))

    def run(self, al: Alignment) -> Alignment:
        return OPS[self.op](al, *self.args)

    def to_json(self) -> dict:
        return {"op": self.op, "args": list(self.args)}

    @classmethod
    def from_json(cls, value: dict) -> "Step":
        return cls.make(value["op"], value.get("args", ()))


class ConflictError(EditError):
    """The history changed in another session; the view has been reloaded."""


# A client token: (browser tab id, its operation number), recorded with the step it
# made, so that an operation sent again is recognised and not applied twice.
Client = tuple[str, int]
# A rescoring hook: the state after an edit and the indices of the pairs it changed
# -> that state with those pairs' scores recomputed (``align.rescoring``).
Rescore = Callable[[Alignment, Sequence[int]], Alignment]


class Log(Protocol):
    """Where a ``History`` keeps its states. State 0 is the start; step ``seq``
    (1-based) turned state seq-1 into state seq; the cursor names the current
    state. Each call is one atomic write; a write from a view that another
    session has changed since ``load`` raises ``ConflictError`` and writes nothing."""

    def load(self) -> tuple[Alignment, int, int]:
        """(the state at the cursor, the cursor, the number of steps), as stored now."""

    def steps(self) -> tuple[Step, ...]:
        """Every step, the redo branch included."""

    def append(self, seq: int, step: Step, before: Alignment, after: Alignment,
               client: Client | None) -> None:
        """Record ``step`` (before -> after) as number ``seq``, drop the steps
        above it, move the cursor onto it, and note the client's number."""

    def move(self, cursor: int, to: int, current: Alignment,
             client: Client | None) -> tuple[Alignment, Step] | None:
        """Move the cursor from ``cursor`` (whose state is ``current``) one step
        to ``to``: the state there and the step crossed, or None (nothing
        written) when there is no such state."""

    def client_seq(self, client: str) -> int:
        """The last operation number recorded for this client (0: none)."""

    def skip_client_ops(self, client: str, seq: int) -> None:
        """Mark the client's operations up to ``seq`` as dealt with (refused ones)."""

    def changed_elsewhere(self) -> bool:
        """Whether another session wrote to the log since this one last read or wrote it."""

    def version(self) -> int:
        """How many writes (steps, undos, redos) the log had when this session last
        read or wrote it: one number for every session, kept across restarts."""


class MemoryLog:
    """A ``Log`` in memory (tests, scripts): the states themselves."""

    def __init__(self, initial: Alignment) -> None:
        check_invariants(initial)
        self._states = [initial]
        self._steps: list[Step] = []
        self._cursor = 0
        self._writes = 0
        self._clients: dict[str, int] = {}

    def load(self) -> tuple[Alignment, int, int]:
        return self._states[self._cursor], self._cursor, len(self._steps)

    def steps(self) -> tuple[Step, ...]:
        return tuple(self._steps)

    def append(self, seq: int, step: Step, before: Alignment, after: Alignment,
               client: Client | None) -> None:
        del self._states[seq:], self._steps[seq - 1:]
        self._states.append(after)
        self._steps.append(step)
        self._cursor = seq
        self._writes += 1
        self._record(client)

    def move(self, cursor: int, to: int, current: Alignment,
             client: Client | None) -> tuple[Alignment, Step] | None:
        if not 0 <= to < len(self._states):
            return None
        self._cursor = to
        self._writes += 1
        self._record(client)
        return self._states[to], self._steps[max(cursor, to) - 1]

    def changed_elsewhere(self) -> bool:
        return False  # one session's

    def version(self) -> int:
        return self._writes

    def client_seq(self, client: str) -> int:
        return self._clients.get(client, 0)

    def skip_client_ops(self, client: str, seq: int) -> None:
        self._record((client, seq))

    def _record(self, client: Client | None) -> None:
        if client is not None:
            self._clients[client[0]] = max(self._clients.get(client[0], 0), int(client[1]))


def changed_run(old: tuple, new: tuple) -> tuple[int, tuple, tuple] | None:
    """(start, before, after): the one run where ``old`` and ``new`` differ (None if
    equal), found by comparing blocks (C speed; edits keep the unchanged items as the
    same objects)."""
    if old is new or old == new:
        return None
    n, m = len(old), len(new)
    limit = min(n, m)
    i, block = 0, 4096
    while block:
        while i + block <= limit and old[i:i + block] == new[i:i + block]:
            i += block
        block //= 8
    j, block = 0, 4096
    while block:
        while j + block <= limit - i and old[n - j - block:n - j] == new[m - j - block:m - j]:
            j += block
        block //= 8
    return i, old[i:n - j], new[i:m - j]


def changed_pairs(before: Alignment, after: Alignment) -> list[int]:
    """Indices in ``after`` of the pairs an edit changed whose score is still
    the one from before it (status "edited", not rescored)."""
    run = changed_run(before.pairs, after.pairs)
    if run is None:
        return []
    start, _, new = run
    return [start + i for i, p in enumerate(new) if p.status == "edited" and not p.rescored]


def shape(al: Alignment) -> tuple:
    """What an operation's indices refer to: the pairs' segment ids and the
    number of segments a side (not their texts or statuses)."""
    return len(al.ja), len(al.en), tuple((p.ja, p.en) for p in al.pairs)


class History:
    """Undo/redo over a ``Log`` (unlimited): ``History(alignment)`` keeps it in
    memory, ``store.Project`` in SQLite. ``steps[i]`` is the edit that turned
    state i into state i+1; a new edit after undo drops the redo branch.
    ``last_step``: the Step the last apply, undo or redo did or took back (None
    before any). When it takes another session's change (after a
    ``ConflictError``, or ``refresh``) it shows the log's state; ``reloads``
    counts such changes and ``moved_at`` is the count at the last one that
    moved pairs or segments (``shape``): an operation made on a view older than
    that means something else now (``grid.apply_ops``)."""

    def __init__(self, start: Alignment | Log) -> None:
        self.log: Log = MemoryLog(start) if isinstance(start, Alignment) else start
        self.last_step: Step | None = None
        self.reloads = 0
        self.moved_at = 0
        self.reload()

    @property
    def current(self) -> Alignment:
        return self._current

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def steps(self) -> tuple[Step, ...]:
        return self.log.steps()

    @property
    def version(self) -> int:
        """The log's write count at the state shown (``Log.version``)."""
        return self.log.version()

    @property
    def can_undo(self) -> bool:
        return self._cursor > 0

    @property
    def can_redo(self) -> bool:
        return self._cursor < self._top

    def reload(self) -> Alignment:
        """Pick up changes made by another session."""
        self._current, self._cursor, self._top = self.log.load()
        return self._current

    def refresh(self) -> bool:
        """Take another session's change to the log, if there is one; whether
        there was."""
        if not self.log.changed_elsewhere():
            return False
        self._take_change()
        return True

    def _take_change(self) -> None:
        seen = self._current
        self.reload()
        self.reloads += 1
        if shape(seen) != shape(self._current):
            self.moved_at = self.reloads

    def apply(self, op: str | Callable[..., Alignment], *args: Any, client: Client | None = None,
              rescore: Rescore | None = None) -> Alignment:
        """Run and record one edit. ``rescore`` recomputes the scores of the
        pairs it changed, in the same step (one undo takes back both);
        ``client`` (tab, operation number) is recorded with it."""
        step = Step.make(op, args)
        new = step.run(self._current)  # EditError here: nothing written
        if rescore is not None:
            new = rescore(new, changed_pairs(self._current, new))
        check_invariants(new)  # an op bug must never become a saved state
        seq = self._cursor + 1
        self._write(self.log.append, seq, step, self._current, new, client)
        self._current, self._cursor, self._top = new, seq, seq
        self.last_step = step
        return new

    def undo(self, client: Client | None = None) -> Alignment:
        return self._go(self._cursor - 1, "nothing to undo", client)

    def redo(self, client: Client | None = None) -> Alignment:
        return self._go(self._cursor + 1, "nothing to redo", client)

    def client_seq(self, client: str) -> int:
        return self.log.client_seq(client)

    def skip_client_ops(self, client: str, seq: int) -> None:
        self.log.skip_client_ops(client, seq)

    def _go(self, to: int, empty: str, client: Client | None) -> Alignment:
        moved = self._write(self.log.move, self._cursor, to, self._current, client)
        if moved is None:
            raise EditError(empty)
        self._current, self.last_step = moved
        self._cursor = to
        return self._current

    def _write(self, call: Callable[..., Any], *args: Any) -> Any:
        try:
            return call(*args)
        except ConflictError:
            self._take_change()
            raise
