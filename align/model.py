"""The alignment model that travels through the whole tool.

An ``Alignment`` is the two segment lists plus a list of pairs (beads). A pair
names the Japanese and English segment ids it links (either side may be empty:
a 1-0 or 0-1 bead), a calibrated confidence in [0, 1] and a review status.
Everything else (aligners, edits, store, export) is a function on it.

The objects are immutable: an edit returns a new ``Alignment``, which makes
undo a matter of keeping the previous value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Literal, Sequence, get_args

Status = Literal["auto", "edited", "confirmed"]
Mode = Literal["document", "headlines"]
Side = Literal["ja", "en"]
STATUSES: tuple[Status, ...] = get_args(Status)
MODES: tuple[Mode, ...] = get_args(Mode)


@dataclass(frozen=True)
class Segment:
    """A sentence (or heading) as it stands in the source; offsets are
    character positions ``[start, end)`` in the decoded source text, or None
    when the segment did not come from a file (edited, pasted, split)."""

    text: str
    start: int | None = None
    end: int | None = None

    def to_json(self) -> Any:
        if self.start is None:
            return self.text
        return {"text": self.text, "start": self.start, "end": self.end}

    @classmethod
    def from_json(cls, value: Any) -> "Segment":
        if isinstance(value, str):
            return cls(value)
        return cls(str(value["text"]), value.get("start"), value.get("end"))


def joined(segments: Sequence[Segment], space: str) -> str:
    """Segments' texts as one, ``space`` between two, but nothing where the source has
    nothing between them (a sentence cut inside a word, its halves together again)."""
    if not segments:
        return ""
    return segments[0].text + "".join(("" if a.end is not None and a.end == b.start else space) + b.text
                                      for a, b in zip(segments, segments[1:]))


@dataclass(frozen=True)
class Candidate:
    """A ranked alternative for a pair (headline mode): Japanese ids + score."""

    ja: tuple[int, ...]
    score: float

    def to_json(self) -> dict:
        return {"ja": list(self.ja), "score": round(float(self.score), 4)}

    @classmethod
    def from_json(cls, value: dict) -> "Candidate":
        return cls(tuple(int(i) for i in value["ja"]), float(value["score"]))


@dataclass(frozen=True)
class Pair:
    """One bead. In document mode every segment is in exactly one pair, the
    pairs in Japanese order; the aligner's pairs are monotonic, but a link made
    by hand may cross (two swapped sentences). In headline mode ``en`` is one
    headline and ``ja`` the sentence(s) it summarises, in any order.

    ``edited`` says a person changed the pair at some point: kept through a
    confirm, so that unconfirming returns it to "edited", not "auto".
    ``rescored`` says its score was computed for the pair as it now stands
    (``align.rescoring``), not kept from before the last edit."""

    ja: tuple[int, ...]
    en: tuple[int, ...]
    score: float = 0.0
    status: Status = "auto"
    candidates: tuple[Candidate, ...] = ()
    edited: bool = False
    rescored: bool = False

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown pair status {self.status!r}")
        if self.status == "edited" and not self.edited:
            object.__setattr__(self, "edited", True)

    @property
    def kind(self) -> str:
        """Bead type such as '1-1', '2-1' or '0-1'."""
        return f"{len(self.ja)}-{len(self.en)}"

    def to_json(self) -> dict:
        out = {"ja": list(self.ja), "en": list(self.en),
               "score": round(float(self.score), 4), "status": self.status}
        if self.candidates:
            out["candidates"] = [c.to_json() for c in self.candidates]
        if self.edited and self.status == "confirmed":
            out["edited"] = True
        if self.rescored:
            out["rescored"] = True
        return out

    @classmethod
    def from_json(cls, value: dict) -> "Pair":
        return cls(tuple(int(i) for i in value.get("ja", ())),
                   tuple(int(i) for i in value.get("en", ())),
                   float(value.get("score", 0.0)),
                   value.get("status", "auto"),
                   tuple(Candidate.from_json(c) for c in value.get("candidates", ())),
                   value.get("edited") is True, value.get("rescored") is True)


@dataclass(frozen=True)
class Alignment:
    ja: tuple[Segment, ...]
    en: tuple[Segment, ...]
    pairs: tuple[Pair, ...]
    mode: Mode = "document"
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"unknown alignment mode {self.mode!r}")

    # -- reading -------------------------------------------------------------
    def ja_text(self, pair: Pair) -> str:
        """Merged Japanese segments are joined without a space."""
        return joined([self.ja[i] for i in pair.ja], "")

    def en_text(self, pair: Pair) -> str:
        """Merged English segments are joined with one space (``joined``)."""
        return joined([self.en[i] for i in pair.en], " ")

    def rows(self) -> Iterable[tuple[str, str, Pair]]:
        for pair in self.pairs:
            yield self.ja_text(pair), self.en_text(pair), pair

    def with_pairs(self, pairs: Iterable[Pair]) -> "Alignment":
        return replace(self, pairs=tuple(pairs))

    # -- JSON ----------------------------------------------------------------
    def to_json(self) -> dict:
        return {"ja": [s.to_json() for s in self.ja],
                "en": [s.to_json() for s in self.en],
                "pairs": [p.to_json() for p in self.pairs],
                "mode": self.mode,
                "meta": self.meta}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, value: dict) -> "Alignment":
        """Build from the JSON model, every field checked first (``schema``):
        an InputError names the first one that is wrong."""
        from .schema import check_alignment_json

        check_alignment_json(value)
        ja = tuple(Segment.from_json(s) for s in value.get("ja", ()))
        en = tuple(Segment.from_json(s) for s in value.get("en", ()))
        pairs = tuple(Pair.from_json(p) for p in value["pairs"])
        return cls(ja, en, pairs, value.get("mode", "document"), dict(value.get("meta", {})))

    @classmethod
    def loads(cls, text: str) -> "Alignment":
        return cls.from_json(json.loads(text))
