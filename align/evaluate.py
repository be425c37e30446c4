"""Gold alignments and their scores: Vecalign's strict and lax precision,
recall and F1 (Vecalign ``score.py``, after Sennrich & Volk 2011), and the
random omissions that show how an aligner copes with missing sentences."""

from __future__ import annotations

import glob
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from .errors import BenchmarkError, InputError
from .sources import detect_language, read_file_bytes

Bead = tuple[tuple[int, ...], tuple[int, ...]]


_IDS = r"\[\s*(\d{1,9}(?:\s*,\s*\d{1,9})*)?\s*,?\s*\]"
_BEAD = re.compile(rf"\s*{_IDS}\s*:\s*{_IDS}\s*")


def parse_beads(text: str) -> list[Bead]:
    """Vecalign's format: one bead a line, ``[0, 1]:[2]``. Read with a pattern, not
    Python's parser: a line nested 100k deep is a malformed bead, not a crash."""
    beads = []
    for number, line in enumerate(text.split("\n"), 1):
        if line.strip():
            m = _BEAD.fullmatch(line)
            if not m:
                raise BenchmarkError(f"gold line {number} is not a bead like [0, 1]:[2]: {line[:60]!r}")
            if not any(m.groups()):
                raise BenchmarkError(f"gold line {number} is an empty bead: {line[:60]!r}")
            beads.append(tuple(tuple(int(i) for i in ids.split(",")) if ids else ()
                               for ids in m.groups()))
    return beads


def read_beads(path: str | Path) -> list[Bead]:
    try:
        return parse_beads(_read_text(path).removeprefix("\ufeff"))  # a BOM from a Windows editor
    except BenchmarkError as e:
        raise BenchmarkError(f"{path}: {e}") from None


def _read_text(path: str | Path) -> str:
    try:
        return read_file_bytes(path).decode("utf-8")  # bounded as any input file
    except UnicodeDecodeError as e:
        raise BenchmarkError(f"{path}: not UTF-8 text (bad byte at {e.start})") from None
    except InputError as e:
        raise BenchmarkError(str(e)) from None


def format_beads(beads: Iterable[Bead]) -> str:
    return "".join(f"{list(s)}:{list(t)}\n" for s, t in beads)


def _precision_counts(gold: Iterable[Bead], test: Iterable[Bead]) -> list[int]:
    """[tp strict, fp strict, tp lax, fp lax] of ``test`` against ``gold``."""
    gold = {(tuple(s), tuple(t)) for s, t in gold if s or t}
    test = {(tuple(s), tuple(t)) for s, t in test if s or t}
    gold_targets = defaultdict(set)
    for src, tgt in gold:
        for i in src:
            gold_targets[i].update(tgt)
    tp_s = fp_s = tp_l = fp_l = 0
    for src, tgt in test:
        if (src, tgt) in gold:
            tp_s += 1
            tp_l += 1
            continue
        fp_s += 1
        linked = set().union(*(gold_targets[i] for i in src)) if src else set()
        if linked & set(tgt):
            tp_l += 1
        else:
            fp_l += 1
    return [tp_s, fp_s, tp_l, fp_l]


def score(gold_docs: Sequence[list[Bead]], test_docs: Sequence[list[Bead]]) -> dict:
    """Micro-averaged over documents. Precision counts every test bead,
    recall ignores insertions and deletions on both sides (as Vecalign)."""
    p = [0, 0, 0, 0]
    r = [0, 0, 0, 0]
    for gold, test in zip(gold_docs, test_docs, strict=True):
        p = [a + b for a, b in zip(p, _precision_counts(gold, test))]
        gold_links = [b for b in gold if b[0] and b[1]]
        test_links = [b for b in test if b[0] and b[1]]
        r = [a + b for a, b in zip(r, _precision_counts(test_links, gold_links))]

    def ratio(tp: int, fp: int) -> float:
        return tp / (tp + fp) if tp + fp else 0.0

    def f1(a: float, b: float) -> float:
        return 2 * a * b / (a + b) if a + b else 0.0

    res = {"strict_precision": ratio(p[0], p[1]), "strict_recall": ratio(r[0], r[1]),
           "lax_precision": ratio(p[2], p[3]), "lax_recall": ratio(r[2], r[3])}
    res["strict_f1"] = f1(res["strict_precision"], res["strict_recall"])
    res["lax_f1"] = f1(res["lax_precision"], res["lax_recall"])
    return res


def delete_sentences(src: Sequence[str], tgt: Sequence[str], gold: list[Bead],
                     fraction: float, rng: random.Random) -> tuple[list[str], list[str], list[Bead]]:
    """Delete ``fraction`` of the sentences on each side at random and adjust
    the gold: the deleted ids leave their beads, a bead left with one side
    becomes an insertion or deletion, one left with none disappears."""
    def keep(n: int) -> list[int]:  # one sentence at least: a side with none cannot be aligned
        drop = set(rng.sample(range(n), min(round(n * fraction), max(n - 1, 0))))
        return [i for i in range(n) if i not in drop]

    keep_src, keep_tgt = keep(len(src)), keep(len(tgt))
    new_src = {old: new for new, old in enumerate(keep_src)}
    new_tgt = {old: new for new, old in enumerate(keep_tgt)}
    beads = []
    for s, t in gold:
        bead = (tuple(new_src[i] for i in s if i in new_src), tuple(new_tgt[i] for i in t if i in new_tgt))
        if bead[0] or bead[1]:
            beads.append(bead)
    return [src[i] for i in keep_src], [tgt[i] for i in keep_tgt], beads


def bench_documents(folder: str | Path) -> list[tuple[str, Path, Path, Path]]:
    """(id, source, target, gold) for every document of a benchmark folder:
    ``ID.ja``/``ID.en``/``ID.gold``, or any two languages (``dev.de``/``dev.fr``)."""
    folder = Path(folder)
    docs = []
    for gold in sorted(folder.glob("*.gold")):
        sides = sorted(p for p in folder.glob(glob.escape(gold.stem) + ".*")  # an ID may hold [ or *
                       if p.suffix not in (".gold", ".align", ".json"))
        if len(sides) != 2:
            raise BenchmarkError(f"{gold}: expected two text files beside it, found {len(sides)}")
        # Japanese first; otherwise alphabetical (Text+Berg: .de before .fr)
        src = next((p for p in sides if p.suffix == ".ja"), sides[0])
        tgt = next(p for p in sides if p != src)
        docs.append((gold.stem, src, tgt, gold))
    return docs


@dataclass
class BenchDocument:
    id: str
    src: list[str]
    tgt: list[str]
    gold: list[Bead]
    joiner: str  # how merged source sentences are joined: none for Japanese


_OTHER = {".ja": "en", ".en": "ja"}  # what a file of each language must not look like
_NAMES = {".ja": "Japanese", ".en": "English"}


def load_bench(folder: str | Path, noise: float = 0.0, seed: int = 0) -> list[BenchDocument]:
    """Every document of a benchmark folder, with ``noise`` of the sentences
    of each side deleted (one random generator for the folder, from ``seed``)."""
    rng = random.Random(seed)
    docs = []
    for doc_id, src_path, tgt_path, gold_path in bench_documents(folder):
        # one segment a line, split on \n only (as Vecalign; not on U+2028 and the like)
        src = _read_text(src_path).rstrip("\n").split("\n")
        tgt = _read_text(tgt_path).rstrip("\n").split("\n")
        gold = read_beads(gold_path)
        if not gold and (any(src) or any(tgt)):  # scored as is, it would lower F1 without a word
            raise BenchmarkError(f"{gold_path}: no beads, but the document has text")
        if not (any(src) or any(tgt)):
            raise BenchmarkError(f"{gold_path}: its two texts are empty")
        for path, lines in ((src_path, src), (tgt_path, tgt)):  # swapped files would score as well
            if path.suffix in (".ja", ".en") and detect_language("\n".join(lines)) == _OTHER[path.suffix]:
                raise BenchmarkError(f"{path}: does not look {_NAMES[path.suffix]}: swapped with "
                                     f"{tgt_path.name if path == src_path else src_path.name}?")
        for side, ids, count in ((src_path, (i for s, _ in gold for i in s), len(src)),
                                 (tgt_path, (i for _, t in gold for i in t), len(tgt))):
            ids = list(ids)
            past = max(ids, default=-1)
            if past >= count:
                raise BenchmarkError(f"{gold_path}: a bead names sentence {past}, but {side.name} "
                                     f"has {count} lines")
            twice = [i for i, n in Counter(ids).items() if n > 1]
            if twice:  # a sentence is in one bead at most, or the scores mean nothing
                raise BenchmarkError(f"{gold_path}: sentence {twice[0]} of {side.name} is in two beads")
        if noise:
            src, tgt, gold = delete_sentences(src, tgt, gold, noise, rng)
        docs.append(BenchDocument(doc_id, src, tgt, gold, "" if src_path.suffix == ".ja" else " "))
    return docs
