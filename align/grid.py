"""The review grid's protocol: what the browser is sent, and the operations
it sends back.

The grid (``align/review_grid/``) holds the pairs in the browser and applies
every key at once. Each operation goes to Python as ``{"seq", "op", "args"}``,
numbered per browser tab; every message carries all of the tab's operations
not yet acknowledged, because a message can be overtaken by the next one
before Python sees it, and after a reconnect the tab sends them again.
``apply_ops`` applies those it has not applied yet, in order, each through
the history (its log: the store) in one transaction that also records the
tab's number (so a resent operation is never applied twice), stops at the
first refusal, and says how far it got; ``payload`` carries that
acknowledgement back with the state.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import zlib
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from . import edits, review
from .edits import ConflictError, EditError, History, Rescore
from .errors import ProjectNotFound, TaiyakuError
from .model import Alignment, Pair
from .store import Project

OPS = frozenset(edits.OPS) | {"undo", "redo"}
MAX_OPS = 500             # per message; a tab never has that many unacknowledged
MAX_MESSAGE_BYTES = 4 * 2**20
SENT_KEPT = 4             # pair lists a session remembers sending, to send the next as a change
log = logging.getLogger("taiyaku.grid")
_CLIENT = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class Ack:
    """How far a tab's operations got: every one up to ``seq`` is dealt
    with; ``error`` says why operation ``failed`` was refused (it and the
    ones queued after it were dropped: they were made on a state that is not
    the server's). ``focus`` is the pair the last applied one was about;
    ``step``, when that one was an undo or redo, the operation it took back or
    made again (the grid names it: it may be a step this tab did not make)."""

    client: str
    seq: int
    error: str | None = None
    failed: int | None = None
    focus: int | None = None
    step: str | None = None

    def to_json(self) -> dict:
        return {"client": self.client, "seq": self.seq, "error": self.error,
                "failed": self.failed, "focus": self.focus, "step": self.step}


class BadMessage(EditError):
    """A message from the browser that is not the grid's protocol."""


def parse(message: Any) -> tuple[str, list[dict], dict | None]:
    """(client, operations sorted by number, view state) from a message;
    ``have`` (the segment fingerprints the grid keeps) is read by ``have``."""
    if not isinstance(message, dict):
        raise BadMessage("not a grid message")
    try:
        size = len(json.dumps(message, default=str))
    except (ValueError, RecursionError):  # nested beyond reason
        raise BadMessage("the message is not plain JSON") from None
    if size > MAX_MESSAGE_BYTES:
        raise BadMessage("the message is too large")
    client = message.get("client")
    if not isinstance(client, str) or not _CLIENT.fullmatch(client):
        raise BadMessage("the message names no valid client")
    ops = message.get("ops") or []
    if not isinstance(ops, list) or len(ops) > MAX_OPS:
        raise BadMessage("the message's operations are not a list of at most %d" % MAX_OPS)
    clean = []
    for o in ops:
        if not (isinstance(o, dict) and type(o.get("seq")) is int and 0 < o["seq"] < 2**53
                and o.get("op") in OPS and isinstance(o.get("args", []), list)):
            raise BadMessage(f"not a grid operation: {str(o)[:80]}")
        clean.append({"seq": o["seq"], "op": o["op"], "args": o.get("args", []),
                      **({"n": o["n"]} if type(o.get("n")) is int else {})})  # edit_text: the side's count
    view = message.get("view")
    return client, sorted(clean, key=lambda o: o["seq"]), view if isinstance(view, dict) else None


def base(message: Any) -> int | None:
    """The ``epoch`` of the state a grid message's operations were made on."""
    value = message.get("base") if isinstance(message, dict) else None
    return value if type(value) is int else None


def since(message: Any) -> int | None:
    """The ``version`` of the saved state a restored queue's first operation
    was made on (a queue kept in the browser across a reload, or taken over
    from a closed tab: its session, and so its ``base``, are gone)."""
    value = message.get("since") if isinstance(message, dict) else None
    return value if type(value) is int else None


def have(message: Any) -> dict:
    """The fingerprints (segments a side, pairs) a grid message says the
    browser keeps."""
    value = message.get("have") if isinstance(message, dict) else None
    if not isinstance(value, dict):
        return {}
    return {part: value[part] for part in ("ja", "en", "pairs") if isinstance(value.get(part), str)}


SYNCED = "Another window changed this project: the grid shows its saved state."
RESTORED_STALE = ("these changes were kept from before the page was reloaded (or from a tab that "
                  "closed), and another window changed the project since; the grid shows its saved state")


def sync(project: History, message: Any) -> str | None:
    """A grid back in view (its tab focused again) asks, with no operations
    queued, whether another window changed the project meanwhile: reloaded if
    so, and the notice to show (None when nothing changed). ProjectNotFound
    when another window deleted it."""
    if not (isinstance(message, dict) and message.get("sync") is True and not message.get("ops")):
        return None
    return SYNCED if project.refresh() else None


def apply_ops(project: History, client: str, ops: list[dict], rescore: Rescore | None = None,
              base: int | None = None, kept: Ack | None = None, since: int | None = None) -> Ack | None:
    """Apply the operations not yet applied for this tab (``rescore``: the hook
    that recomputes the scores of the pairs each one changes, in its step);
    None when there were none to apply. ``base``: the ``epoch`` of the state the
    tab made them on (``payload``): older than the last change of another
    window that this session took and that moved pairs (``History.moved_at``),
    they mean something else now and are refused; else applied. ``kept``: the
    last acknowledgement sent to this session: a resent batch gets it again, so
    that a refusal the tab has not seen yet is not hidden. ``since``, for a
    restored queue (no ``base``): the ``version`` its first operation was made
    on; the queue is applied only if every write since is one of its own
    operations (one each), else refused: what it means on the project as it is
    now cannot be told. ProjectNotFound when another window deleted the project."""
    done = project.client_seq(client)
    todo = [o for o in ops if o["seq"] > done]
    if kept is not None and kept.client == client and kept.error and any(o["seq"] <= kept.seq for o in ops):
        # The tab resends a refused key, so it has not heard of the refusal: the keys after
        # it were made on a state Python never had. Refused with it, for the same reason.
        if todo:
            project.skip_client_ops(client, todo[-1]["seq"])
            return Ack(client, todo[-1]["seq"], kept.error, kept.failed, kept.focus)
        return kept
    if not todo:
        if not ops:
            return None
        return kept if kept is not None and kept.client == client and kept.seq >= done else Ack(client, done)
    if base is None and since is not None:
        project.refresh()  # the version to compare is the saved one, not this session's view
        if project.version != since + sum(o["seq"] <= done for o in ops):
            project.skip_client_ops(client, todo[-1]["seq"])
            return Ack(client, todo[-1]["seq"], RESTORED_STALE, todo[0]["seq"])
    made_on = base
    focus = None
    for o in todo:
        try:
            if made_on is not None and made_on < project.reloads:  # before a change taken since
                if project.client_seq(client) >= o["seq"]:
                    continue  # applied meanwhile by another session of this tab (before a reload)
                focus = _apply_on_changed(project, client, o, focus, rescore, made_on)
            else:
                try:
                    focus = _apply_one(project, client, o, focus, rescore)
                except ConflictError:  # another window's change, taken just now
                    made_on = project.reloads - 1  # this operation and the rest came before it
                    if project.client_seq(client) >= o["seq"]:
                        continue  # the change was this very operation, by the tab's earlier session
                    focus = _apply_on_changed(project, client, o, focus, rescore, made_on)
        except ProjectNotFound:  # deleted in another window: no tab of it to answer
            raise
        except (TaiyakuError, TypeError, ValueError) as e:
            # A ConflictError has reloaded the project: the tab takes that state.
            last = todo[-1]["seq"]
            project.skip_client_ops(client, last)
            if not isinstance(e, TaiyakuError):  # arguments no edit expects: kept for a diagnosis
                log.warning("grid operation %s refused", o, exc_info=True)
            message = str(e) if isinstance(e, TaiyakuError) else "that operation is not possible here"
            return Ack(client, last, message, o["seq"], focus)
    last = todo[-1]
    step = project.last_step.op if last["op"] in ("undo", "redo") and project.last_step else None
    return Ack(client, last["seq"], focus=focus, step=step)


def _apply_on_changed(project: History, client: str, o: dict, focus: int | None,
                      rescore: Rescore | None, made_on: int) -> int:
    """An operation made on the tab's view of epoch ``made_on``, before a change
    of another window that this session has taken since. If none of those
    changes moved pairs or segments (a confirm, a text edit elsewhere), it
    means the same thing on the new state: applied there rather than lost; so
    does a text edit that names the text it replaces (``edit_text``'s ``was``)
    and the side's segment count (``n``), wherever the pairs went, while no cut
    or join moved the sentences and its sentence still reads so. Else, or for an
    undo (it would take back the other window's step), refused."""
    args = o["args"]
    by_text = (o["op"] == "edit_text" and len(args) > 3 and args[0] in ("ja", "en")
               and o.get("n") == len(getattr(project.current, args[0])))  # no cut or join moved it
    if o["op"] in ("undo", "redo") or (made_on < project.moved_at and not by_text):
        raise ConflictError("this project was changed in another window; the grid now shows its saved state")
    try:
        return _apply_one(project, client, o, focus, rescore)
    except EditError as e:  # refused on what the other window made of it
        raise ConflictError("the pair was changed in another window; the grid now shows "
                            f"the saved state ({e})") from None


def _apply_one(project: History, client: str, o: dict, focus: int | None,
               rescore: Rescore | None) -> int:
    token = (client, o["seq"])
    if o["op"] in ("undo", "redo"):
        al = project.undo(client=token) if o["op"] == "undo" else project.redo(client=token)
        step = project.last_step
        return review.focus_of(al, step.op, step.args, focus or 0)
    al = project.apply(o["op"], *o["args"], client=token, rescore=rescore)
    return review.focus_of(al, o["op"], o["args"], focus or 0)


def _segments(al: Alignment, side: str) -> list[list]:
    cuttable = not (al.mode == "headlines" and side == "en")
    return [[s.text, s.start, s.end, list(review.cut_offers(s.text, side)) if cuttable else []]
            for s in getattr(al, side)]


_LATEST: dict[int, tuple] = {}  # id(obj) -> (obj, value): recent fingerprints of immutable tuples
_LATEST_LOCK = threading.Lock()  # sessions run in threads of their own


def _of_same(obj: tuple, compute) -> Any:
    """``compute(obj)``, once per tuple object: an edit replaces the tuples it
    changes and shares the rest, so an acknowledgement recomputes only those.
    (The entry holds ``obj``, so its id is not reused while it is kept.)"""
    hit = _LATEST.get(id(obj))
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = compute(obj)
    with _LATEST_LOCK:
        _LATEST[id(obj)] = (obj, value)
        while len(_LATEST) > 16:
            del _LATEST[next(iter(_LATEST))]
    return value


def _segments_rev(segs: tuple) -> str:
    text = "\x00".join(f"{s.text}\x01{s.start}\x01{s.end}" for s in segs)
    return f"{len(segs)}-{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}"


def segments_rev(al: Alignment, side: str) -> str:
    """A fingerprint of one side's segments: the grid keeps the segments it
    has by it, and they are sent again only when they change."""
    return _of_same(getattr(al, side), _segments_rev)


@lru_cache(maxsize=1 << 16)
def _row(p: Pair) -> dict:
    """A pair as the grid gets it; a pair is immutable, so its row is built
    once and shared (never mutate it)."""
    row = {"ja": list(p.ja), "en": list(p.en), "score": round(float(p.score), 4),
           "status": p.status, "edited": p.edited, "rescored": p.rescored, "reasons": list(review.reasons(p))}
    if p.candidates:
        row["cands"] = [[list(c.ja), round(float(c.score), 4)] for c in p.candidates]
    return row


def _pairs_view(pairs: tuple) -> tuple[str, list[dict]]:
    return f"{len(pairs)}-{hash(pairs) & 0xFFFFFFFFFFFF:012x}", [_row(p) for p in pairs]


def pairs_rev(al: Alignment) -> str:
    """A fingerprint of the pairs as the grid shows them (within this process:
    it keys the pair lists a session remembers sending)."""
    return _of_same(al.pairs, _pairs_view)[0]


def pairs_change(old: list[dict], new: list[dict]) -> dict:
    """``new`` as a change of ``old``: ``drop`` rows at ``at`` replaced by
    ``rows`` (the span between what the two lists share at either end)."""
    at, end = 0, min(len(old), len(new))
    while at < end and (old[at] is new[at] or old[at] == new[at]):
        at += 1
    tail = 0
    while tail < end - at and (old[-1 - tail] is new[-1 - tail] or old[-1 - tail] == new[-1 - tail]):
        tail += 1
    return {"at": at, "drop": len(old) - at - tail, "rows": new[at:len(new) - tail]}


def payload(project: Project, *, ack: Ack | None = None, view: dict | None = None,
            notice: str | None = None, have: dict | None = None, sent: dict | None = None,
            hold: str | None = None, goto: dict | None = None) -> dict:
    """Everything the grid shows: the segments (text, offsets into the source,
    cut offers; left out for a side whose fingerprint the grid says it
    ``have``s), the pairs (ids, score, status, why they need review, ranked
    candidates), the acknowledgement of the tab's last operations, and the
    view to open at (first mount only), ``hold``: a notice the grid shows,
    taking no key but Enter or Esc until one is pressed (first mount only: a
    project the page switched to on its own, keys meant for another may be
    on their way), ``goto`` ({"project", "pair": k, "n": a token of its own}: a pair of
    that project to go to now, whatever the tab was showing, as the map asks), the ``epoch`` (how many changes
    of other windows this session has taken: the ``base`` of the tab's next
    operations once it shows this state), and the saved ``version`` (the
    ``since`` of a queue the tab keeps across a reload).

    ``sent`` (fingerprint -> rows) holds the pair lists this session sent
    lately; when the grid ``have``s one of them, only the rows that changed
    go (``pairs_change``: an acknowledgement is then a few hundred bytes, not
    the whole document), else all of them. The rows sent are added to it."""
    al = project.current
    have = have or {}
    revs = {side: segments_rev(al, side) for side in ("ja", "en")}
    rev, rows = _of_same(al.pairs, _pairs_view)
    base = sent.get(have.get("pairs")) if sent is not None else None
    if sent is not None:
        sent.pop(rev, None)
        sent[rev] = rows
        while len(sent) > SENT_KEPT:
            sent.pop(next(iter(sent)))
    return {"project": project.id, "mode": al.mode, "rev": f"{project.id}.{project.cursor}",
            "ja_rev": revs["ja"], "en_rev": revs["en"],
            "ja": None if have.get("ja") == revs["ja"] else _segments(al, "ja"),
            "en": None if have.get("en") == revs["en"] else _segments(al, "en"),
            "pairs_rev": rev, "pairs": rows if base is None else None,
            "pairs_change": None if base is None else {"base": have["pairs"], **pairs_change(base, rows)},
            "can_undo": project.can_undo, "can_redo": project.can_redo, "epoch": project.reloads,
            "version": project.version,
            "ack": ack.to_json() if ack else None, "view": view or {}, "notice": notice, "hold": hold, "goto": goto,
            "reasons": review.REASONS, "green": review.GREEN, "amber": review.AMBER}
