"""The shape of an alignment's JSON, checked before a model is built from it.

An alignment read from a file or a project comes from anywhere: every field is checked
for its type and range here, so that a bad one is refused with one line that names it
(``pairs[3].score: NaN is not a number in [0, 1]``) instead of being read half-right
(``"ja": "10"`` as [1, 0], 1.5 truncated, ``true`` as 1) or crashing a page later.
``check_alignment_json`` raises ``InputError``; ``model.Alignment.from_json`` and the
importers call it.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import InputError
from .model import MODES, STATUSES

# Bounds on what one alignment may hold (a 20 MB text has well under a million sentences).
MAX_SEGMENTS = 1_000_000
MAX_TEXT = 1_000_000  # characters in one segment


def check_alignment_json(value: Any) -> None:
    """Raise InputError naming the first field that is not as the model needs it."""
    if not isinstance(value, dict) or "pairs" not in value:
        raise InputError("not a Taiyaku alignment: no 'pairs'")
    for key in ("ja", "en", "pairs"):
        if not isinstance(value.get(key, []), list):
            raise InputError(f"not a Taiyaku alignment: '{key}' must be a list")
        if len(value.get(key, [])) > MAX_SEGMENTS:
            raise InputError(f"{key}: more than {MAX_SEGMENTS:,} items")
    mode = value.get("mode", "document")
    if mode not in MODES:
        raise InputError(f"mode: {_show(mode)} is not one of {', '.join(MODES)}")
    if not isinstance(value.get("meta", {}), dict):
        raise InputError("meta: must be an object")
    size = {}
    for side in ("ja", "en"):
        segments = value.get(side, [])
        for k, seg in enumerate(segments):
            _check_segment(seg, f"{side}[{k}]")
        size[side] = len(segments)
    used: dict[str, set[int]] = {"ja": set(), "en": set()}
    for k, pair in enumerate(value["pairs"]):
        where = f"pairs[{k}]"
        if not isinstance(pair, dict):
            raise InputError(f"{where}: must be an object")
        for side in ("ja", "en"):
            ids = _ids(pair.get(side, []), size[side], f"{where}.{side}")
            shared = side == "ja" and mode == "headlines"  # headlines may share a sentence
            for i in ids:
                if i in used[side] and not shared:
                    raise InputError(f"{where}.{side}: segment {i} is already in another pair")
                used[side].add(i)
        _score(pair.get("score", 0.0), f"{where}.score")
        status = pair.get("status", "auto")
        if status not in STATUSES:
            raise InputError(f"{where}.status: {_show(status)} is not one of {', '.join(STATUSES)}")
        candidates = pair.get("candidates", [])
        if not isinstance(candidates, list):
            raise InputError(f"{where}.candidates: must be a list")
        for c, cand in enumerate(candidates):
            if not isinstance(cand, dict) or "ja" not in cand or "score" not in cand:
                raise InputError(f"{where}.candidates[{c}]: must be an object with ja and score")
            _ids(cand["ja"], size["ja"], f"{where}.candidates[{c}].ja")
            _score(cand["score"], f"{where}.candidates[{c}].score")


def _check_segment(seg: Any, where: str) -> None:
    if isinstance(seg, str):
        text = seg
    elif isinstance(seg, dict) and isinstance(seg.get("text"), str):
        text = seg["text"]
        for key in ("start", "end"):
            offset = seg.get(key)
            if offset is not None and not (_is_int(offset) and 0 <= offset <= 2**53):
                raise InputError(f"{where}.{key}: {_show(offset)} is not an offset")
        if seg.get("start") is not None and seg.get("end") is not None and seg["start"] > seg["end"]:
            raise InputError(f"{where}: starts at {seg['start']}, after its end at {seg['end']}")
    else:
        raise InputError(f"{where}: must be a string or an object with a text")
    if len(text) > MAX_TEXT:
        raise InputError(f"{where}: longer than {MAX_TEXT:,} characters")


def _ids(ids: Any, size: int, where: str) -> list[int]:
    if not isinstance(ids, list):
        raise InputError(f"{where}: must be a list of segment ids, not {_show(ids)}")
    for i in ids:
        if not _is_int(i):
            raise InputError(f"{where}: {_show(i)} is not a segment id (a whole number)")
        if not 0 <= i < size:
            raise InputError(f"{where}: segment {_show(i)} does not exist "
                             f"(the side has {size})")
    if len(set(ids)) != len(ids):
        raise InputError(f"{where}: names a segment twice")
    return ids


def _score(score: Any, where: str) -> None:
    if isinstance(score, bool) or not isinstance(score, (int, float)) \
            or not math.isfinite(score) or not 0.0 <= score <= 1.0:
        raise InputError(f"{where}: {_show(score)} is not a number in [0, 1]")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 30 else text[:27] + "..."
