"""Corpus mode: pair and align two folders of articles (``python -m align corpus``).

The run, in the client (this process):
1. list every supported file under both folders and hash its bytes;
2. embed each document's sentences on the workers (``workers.embed_task``), unless
   ``--pairs`` names the pairs; each result is cached in ``OUT_DIR/.taiyaku``
   under its content hash and the parameters, as it arrives;
3. pair the documents (``pairing``) and write ``documents.tsv``;
4. align each pair on the workers (``workers.align_task``) as ``align`` would,
   reusing the model's token sums from step 2 (kept in memory up to
   SUMS_IN_MEMORY), and write ``alignments/<ja stem>.json`` as each arrives; a
   pair whose file already carries the same key (hashes and parameters) is not
   redone;
5. ``corpus.tmx``, ``corpus.tsv`` and ``report.json`` from those files
   (``write_exports`` reads them one at a time; the app can call it too).

Workers (``workers.py``) are a local process pool (default: all cores) or an
existing Dask cluster (``--scheduler``); at most a few tasks a worker are in
flight, so the client never holds the corpus. Every file is written to a temporary
name and renamed: a killed run loses only the documents in flight.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import unicodedata
from collections import Counter, OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from . import __version__, edits
from .encoders import check_model_path
from .errors import InputError, printable, resolved
from .export import (TSV_BREAKS, check_writable, dropped_note, for_memory, replacing, score_text, tmx_header,
                     tmx_unit, to_json, tsv_field, unholdable, write_bytes, xml_text)
from .pairing import GIVEN, DocPair, pair_documents, title_keys
from .progress import bar as progress_bar
from .review import GREEN, carried_note, carry_over, typed_of
from .workers import DaskWorkers, LocalWorkers, align_task, batch_size, batched, embed_task, stream

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".docx")
STATE = ".taiyaku"
BANDS = ((0.9, "0.9-1"), (0.8, "0.8-0.9"), (0.5, "0.5-0.8"), (0.0, "0-0.5"))
REVIEW_BELOW = GREEN  # a link under this needs a look (the app's green threshold)
REVIEW_LIST = 20
# bytes of an alignment file's stem: with ``.json``, a number in previous/ and a
# temporary file's marks, a name stays under the file systems' 255 bytes
MAX_STEM = 200
EMBED_BATCH, ALIGN_BATCH = 16, 4  # documents, pairs a task at most
# sentence embeddings (float16) the client keeps from the embedding phase for
# pairing, instead of reading them back from the cache: ~30,000 documents
IN_MEMORY = 256 << 20
# the model's token sums (6 KB a sentence) the client keeps from the embedding
# phase for the aligning one, which then skips the model: ~10,000 documents
# of 16 sentences; past that, a pair's sums are computed again (the same
# floats, more time)
SUMS_IN_MEMORY = 1 << 30


@dataclass(frozen=True)
class Options:
    mode: str = "auto"
    model: str | None = None
    presegmented: bool = False
    workers: int | None = None
    scheduler: str | None = None
    pairs: str | None = None
    confirmed_only: bool = False
    min_confidence: float = 0.0

    def key(self) -> dict:
        """What an alignment depends on besides the two files."""
        return {"mode": self.mode, "model": self.model or "use-m3",
                "presegmented": self.presegmented, "taiyaku": __version__}


@dataclass
class Doc:
    side: str       # "ja" or "en"
    path: Path      # the file
    name: str       # relative to its folder, with "/"
    sha: str = ""
    size: int = 0   # bytes
    mean: np.ndarray | None = None
    sentences: np.ndarray | None = None  # float16, while the memory budget lasts
    sums: tuple | None = None  # the model's token sums, while their budget lasts, until aligned
    keys: set = field(default_factory=set)
    cache: Path | None = None
    unread: str = ""  # why _read gave nothing


# -- files ------------------------------------------------------------------------------

def list_documents(folder: Path, side: str, skipped: list[dict]) -> list[Doc]:
    """Every supported file under the folder (recursively; hidden ones left
    out), in a stable order; a name with a tab or line break, or a folder that
    cannot be listed, goes to ``skipped``."""
    found = []

    def unlisted(e: OSError) -> None:
        rel = Path(e.filename).relative_to(folder).as_posix() if e.filename else "."
        skipped.append({"file": f"{side}/{printable(rel)}/", "reason": "a folder that cannot be read"})

    for root, dirs, files in os.walk(folder, onerror=unlisted):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for d in [d for d in dirs if (Path(root) / d).is_symlink()]:  # a loop, or the same files twice
            dirs.remove(d)
            rel = (Path(root) / d).relative_to(folder).as_posix()
            skipped.append({"file": f"{side}/{printable(rel)}/", "reason": "a link to a folder: not followed"})
        for file in files:
            path = Path(root) / file
            rel = path.relative_to(folder).as_posix()
            if file.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if not path.is_file():  # a FIFO would block the run; a broken or looping link
                skipped.append({"file": f"{side}/{printable(rel)}",
                                "reason": "not a regular file (a pipe, a device, or a broken link)"})
            elif TSV_BREAKS.search(rel):  # a name documents.tsv could not hold
                skipped.append({"file": f"{side}/{printable(rel)}",
                                "reason": "a tab or line break in its name: rename it"})
            elif not _utf8(rel):  # bytes the file system holds but no UTF-8 output can
                skipped.append({"file": f"{side}/{printable(rel)}", "reason": "its name is not UTF-8: rename it"})
            else:
                found.append(Doc(side, path, rel))
    return sorted(found, key=lambda d: d.name)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
        return True
    except UnicodeEncodeError:  # os.fsdecode's surrogates for bytes that are not UTF-8
        return False


def unique_stems(names: list[str]) -> dict[str, str]:
    """``alignments/<stem>.json`` for each Japanese file: its stem, or, when
    several files share one, its relative path with ``__`` for ``/`` (and, if
    that too is shared — ``a/b/x`` and ``a__b/x`` — or too long for a file name,
    a hash of the path). Names are shared as a Mac or Windows file system sees them:
    case and Unicode normalisation aside (``Report`` and ``report`` are one file there)."""
    def same(stem: str) -> str:
        return unicodedata.normalize("NFC", stem).casefold()

    count = Counter(same(Path(n).stem) for n in names)
    stems = {n: Path(n).stem if count[same(Path(n).stem)] == 1 else n.replace("/", "__") for n in names}
    taken = Counter(same(s) for s in stems.values())
    return {n: s if taken[same(s)] == 1 and len(s.encode()) <= MAX_STEM else
            f"{s.encode()[:MAX_STEM - 10].decode('utf-8', 'ignore')}__{hashlib.sha256(n.encode()).hexdigest()[:8]}"
            for n, s in stems.items()}


def _read(doc: Doc) -> bytes | None:
    """The document's bytes, or None (``doc.unread`` says why): it cannot be read, or it
    changed since it was hashed at the start of the run. Its hash names its cached
    embeddings and is its alignment's key: other bytes under it would be kept as up to
    date by every later run."""
    try:
        data = doc.path.read_bytes()
    except OSError:
        doc.unread = "cannot read"
        return None
    if doc.sha and hashlib.sha256(data).hexdigest() != doc.sha:
        doc.unread = "changed while the corpus ran: run it again"
        return None
    return data


# -- the run ----------------------------------------------------------------------------

def run_corpus(ja_dir: str, en_dir: str, out_dir: str, opts: Options, log=sys.stderr) -> dict:
    """Pair and align the two folders into ``out_dir``; the report."""
    ja_root, en_root, out = Path(ja_dir), Path(en_dir), Path(out_dir)
    for folder in (ja_root, en_root):
        if not folder.is_dir():
            raise InputError(f"{folder}: not a folder")
    if resolved(ja_root) == resolved(en_root):  # every file would be read, embedded, then refused
        raise InputError(f"{ja_root}: given as both the Japanese and the English folder")
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: is a file; give a folder for the outputs")
    if resolved(out) in (resolved(ja_root), resolved(en_root)):
        raise InputError(f"{out}: is an input folder; give another folder for the outputs")
    skipped: list[dict] = []
    ja_docs, en_docs = list_documents(ja_root, "ja", skipped), list_documents(en_root, "en", skipped)
    if not ja_docs or not en_docs:
        empty = ja_root if not ja_docs else en_root
        unusable = [s for s in skipped if s["file"].startswith("ja/" if not ja_docs else "en/")]
        raise InputError(f"{empty}: no .txt, .md, .html or .docx files"
                         + (f" but {len(unusable)} skipped ({unusable[0]['file']}: {unusable[0]['reason']})"
                            if unusable else ""))
    given = _read_pairs(opts.pairs, ja_docs, en_docs) if opts.pairs else None
    check_outputs(out)
    if not opts.scheduler:  # (a cluster's workers may hold a folder this machine has not)
        check_model_path(opts.model)  # before any work; a hub name the workers cannot have, each task says
    workers = DaskWorkers(opts.scheduler, opts.model) if opts.scheduler else \
        LocalWorkers(opts.workers or os.cpu_count() or 1, opts.model)
    try:
        with writing(out):
            report = _run(workers, ja_docs, en_docs, given, out, opts, skipped, log)
    except BaseException:  # an error, Ctrl-C, SIGTERM: the tasks in flight are of no use
        workers.close(abort=True)
        raise
    workers.close()
    return report


def _run(workers, ja_docs, en_docs, given, out: Path, opts: Options, skipped: list[dict], log) -> dict:
    (out / "alignments").mkdir(exist_ok=True)
    (out / STATE / "embeddings").mkdir(exist_ok=True)
    _hash_all(ja_docs + en_docs, skipped)
    if given is None:
        _embed_all(workers, ja_docs + en_docs, out, opts, skipped, log)
        ja_docs = [d for d in ja_docs if d.mean is not None]
        en_docs = [d for d in en_docs if d.mean is not None]
        pairs = _pair(ja_docs, en_docs)
    else:
        bad = {s["file"] for s in skipped}
        ja_docs = [d for d in ja_docs if f"ja/{d.name}" not in bad]
        en_docs = [d for d in en_docs if f"en/{d.name}" not in bad]
        pairs = given(ja_docs, en_docs)
    if not pairs:  # empty outputs would replace a previous run's: refuse, say why
        raise InputError(_nothing_paired(ja_docs, en_docs, skipped, given is not None))
    _write_documents(out, ja_docs, en_docs, pairs)
    stems = unique_stems([d.name for d in ja_docs])
    _align_all(workers, ja_docs, en_docs, pairs, stems, out, opts, skipped, log)
    report = write_exports(out, confirmed_only=opts.confirmed_only,
                           min_confidence=opts.min_confidence,
                           extra={"documents_read": {"ja": len(ja_docs), "en": len(en_docs)},
                                  "skipped": skipped, "options": opts.key()})
    print(summary(report, out), file=log)
    return report


OUTPUTS = ("documents.tsv", "corpus.tmx", "corpus.tsv", "report.json")


def check_outputs(out: Path) -> None:
    """Refuse, before any work, an OUT_DIR where an output's name is taken by a folder
    (or ``alignments`` by a file): found at the end, the outputs would be left half
    written, some new and some old."""
    for name in OUTPUTS:
        if (out / name).is_dir():
            raise InputError(f"{out / name}: is a folder, where the run writes a file; move it away")
        if out.is_dir():  # read-only, or in a folder that is: as for `align -o`
            check_writable(out / name)
    folder = out / "alignments"
    if folder.exists() and not folder.is_dir():
        raise InputError(f"{folder}: is a file, where the run keeps its alignments; move it away")
    if folder.is_dir() and not os.access(folder, os.W_OK):
        raise InputError(f"{folder}: cannot write there (no permission)")


@contextmanager
def writing(out: Path) -> Iterator[None]:
    """OUT_DIR for one writer at a time (a corpus run, or the app writing reviews
    back): two would interleave alignments and exports. The lock goes with the
    process, however it ends."""
    try:
        import fcntl
    except ImportError:  # Windows: unlocked
        yield
        return
    (out / STATE).mkdir(parents=True, exist_ok=True)
    with open(out / STATE / "lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise InputError(f"{out}: another corpus run, or the app writing reviews back, is writing "
                             "there; wait for it to end, or give another folder") from None
        yield


def _nothing_paired(ja_docs: list[Doc], en_docs: list[Doc], skipped: list[dict], given: bool) -> str:
    why = f"{len(ja_docs)} Japanese and {len(en_docs)} English documents usable"
    if skipped:
        why += f", {len(skipped)} skipped (first: {skipped[0]['file']}: {skipped[0]['reason']})"
    if given:
        why += "; the --pairs file names none of them"
    return f"no document pairs: {why}; the outputs are left as they were"


def _hash_all(docs: list[Doc], skipped: list[dict]) -> None:
    from .sources import check_size

    for doc in docs:
        try:  # checked before the file is read: a 3 GB file must not be loaded to be refused
            check_size(doc.path.stat().st_size, doc.name)
        except OSError:
            pass  # said below, on reading it
        except InputError as e:
            skipped.append({"file": f"{doc.side}/{doc.name}", "reason": _reason(str(e), doc)})
            continue
        data = _read(doc)
        if data is None:
            skipped.append({"file": f"{doc.side}/{doc.name}", "reason": doc.unread})
        else:
            doc.sha, doc.size = hashlib.sha256(data).hexdigest(), len(data)


def _embed_all(workers, docs: list[Doc], out: Path, opts: Options, skipped: list[dict], log) -> None:
    """Each readable document's mean embedding and title keys, from the cache
    or from the workers (then cached as it arrives)."""
    # the version too: a release may split the same file into other sentences
    params = json.dumps({"model": opts.model or "use-m3", "presegmented": opts.presegmented,
                         "taiyaku": __version__})
    budget, sums_budget = IN_MEMORY, SUMS_IN_MEMORY
    todo = []
    for doc in docs:
        if not doc.sha:
            continue
        key = hashlib.sha256(f"{doc.side}\n{doc.sha}\n{params}".encode()).hexdigest()[:32]
        doc.cache = out / STATE / "embeddings" / f"{doc.side}-{key}.npz"
        if doc.cache.exists():
            try:
                sentences = _load_cached(doc)
            except Exception:  # noqa: BLE001 - a cache: whatever is wrong with an entry, compute it again
                pass
            else:
                budget = _keep_sentences(doc, sentences, budget)
                continue
        todo.append(doc)

    # submitted largest first: the phase ends on a small task, not with one
    # worker idle while the other finishes a big one (a document's result does
    # not depend on its batch: workers.embed_task)
    batches = [docs for docs, _ in batched(((d, d, d.size) for d in todo), batch_size(len(todo), EMBED_BATCH))]
    batches.sort(key=lambda docs: -sum(d.size for d in docs))

    def jobs():
        for docs in batches:
            kept, batch = [], []
            for doc in docs:
                data = _read(doc)
                if data is None:
                    skipped.append({"file": f"{doc.side}/{doc.name}", "reason": doc.unread})
                else:
                    kept.append(doc)
                    batch.append((doc.side, doc.name, data))
            if batch:
                yield kept, embed_task, (batch, opts.presegmented, opts.model)

    with progress_bar(len(todo), "embedding", "doc") as bar:
        for doc, result in _each(stream(workers, jobs())):
            bar.update()
            if "error" in result:
                skipped.append({"file": f"{doc.side}/{doc.name}", "reason": _reason(result["error"], doc)})
                continue
            buf = io.BytesIO()
            np.savez(buf, mean=result["mean"], sentences=result["sentences"],
                     titles=np.array(json.dumps(result["titles"], ensure_ascii=False)))
            write_bytes(doc.cache, buf.getvalue())
            doc.mean, doc.keys = result["mean"], title_keys(result["titles"])
            budget = _keep_sentences(doc, result["sentences"], budget)
            size = _nbytes(result["sums"])
            if size <= sums_budget:
                doc.sums, sums_budget = result["sums"], sums_budget - size


def _nbytes(sums) -> int:
    return sum(a.nbytes for a in sums[1]) if sums else 0


def _keep_sentences(doc: Doc, sentences: np.ndarray, budget: int) -> int:
    """Keep a document's sentence embeddings while the budget lasts (pairing needs
    them: no reading back); the budget left."""
    if sentences.nbytes > budget:
        return budget
    doc.sentences = sentences
    return budget - sentences.nbytes


def _load_cached(doc: Doc) -> np.ndarray:
    """A cached document's mean and title keys; its sentence embeddings, read
    through (their checksum tested) now rather than when pairing needs them."""
    with np.load(doc.cache) as z:
        sentences = z["sentences"]
        if sentences.ndim != 2:
            raise ValueError("not a sentence matrix")
        doc.mean = z["mean"]
        doc.keys = title_keys(json.loads(str(z["titles"])))
    return sentences


class _Lazy:
    """Sentence embeddings of a side's documents (float16, as kept), read from the
    cache when a candidate needs them; the files read last kept up to ``budget``
    bytes (a document is a candidate of several others)."""

    def __init__(self, docs: list[Doc], budget: int = IN_MEMORY // 4):
        self.docs, self.budget = docs, budget
        self.read: OrderedDict[int, np.ndarray] = OrderedDict()
        self.size = 0

    def __getitem__(self, i: int) -> np.ndarray:
        doc = self.docs[i]
        if doc.sentences is not None:
            return doc.sentences
        if i in self.read:
            self.read.move_to_end(i)
            return self.read[i]
        with np.load(doc.cache) as z:
            vecs = self.read[i] = z["sentences"]
        self.size += vecs.nbytes
        while self.size > self.budget and len(self.read) > 1:
            self.size -= self.read.popitem(last=False)[1].nbytes
        return vecs

    def __len__(self) -> int:
        return len(self.docs)


def _pair(ja_docs: list[Doc], en_docs: list[Doc]) -> list[DocPair]:
    dim = len(ja_docs[0].mean) if ja_docs else len(en_docs[0].mean) if en_docs else 1
    ja_means = np.stack([d.mean for d in ja_docs]) if ja_docs else np.zeros((0, dim), np.float32)
    en_means = np.stack([d.mean for d in en_docs]) if en_docs else np.zeros((0, dim), np.float32)
    return pair_documents([d.keys for d in ja_docs], [d.keys for d in en_docs], ja_means, en_means,
                          _Lazy(ja_docs), _Lazy(en_docs))


def _read_pairs(path: str, ja_docs: list[Doc], en_docs: list[Doc]):
    """``--pairs``: ``ja_file<TAB>en_file`` rows, relative to the folders (a
    header row is allowed). Returns a function of the readable documents."""
    from .sources import read_file_bytes
    try:
        lines = read_file_bytes(path).decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise InputError(f"{path}: the pairs file is not UTF-8 text") from None
    ja_names, en_names = {d.name for d in ja_docs}, {d.name for d in en_docs}
    rows = []
    for number, line in enumerate(lines, 1):
        if not line.strip() or (number == 1 and line.split("\t")[:2] == ["ja_file", "en_file"]):
            continue
        fields = line.split("\t")
        if len(fields) < 2 or fields[0] not in ja_names or fields[1] not in en_names:
            raise InputError(f"{path}:{number}: not ja_file<TAB>en_file naming files in the two folders")
        rows.append((fields[0], fields[1]))
    if len({r[0] for r in rows}) < len(rows) or len({r[1] for r in rows}) < len(rows):
        raise InputError(f"{path}: a file appears in two pairs")

    def pairs(ja: list[Doc], en: list[Doc]) -> list[DocPair]:
        ja_at = {d.name: i for i, d in enumerate(ja)}
        en_at = {d.name: i for i, d in enumerate(en)}
        return sorted(DocPair(ja_at[a], en_at[b], 1.0, GIVEN) for a, b in rows
                      if a in ja_at and b in en_at)
    return pairs


def _write_documents(out: Path, ja_docs: list[Doc], en_docs: list[Doc], pairs: list[DocPair]) -> None:
    """``documents.tsv``: each Japanese document with its counterpart (or an
    empty field), then the English documents left unpaired."""
    by_ja = {p.ja: p for p in pairs}
    paired_en = {p.en for p in pairs}
    rows = ["ja_file\ten_file\tscore\tmethod"]
    for i, doc in enumerate(ja_docs):
        p = by_ja.get(i)
        rows.append(f"{doc.name}\t{en_docs[p.en].name}\t{p.score:.4f}\t{p.method}" if p else f"{doc.name}\t\t\t")
    rows += [f"\t{doc.name}\t\t" for j, doc in enumerate(en_docs) if j not in paired_en]
    write_bytes(out / "documents.tsv", ("\n".join(rows) + "\n").encode("utf-8"))


def _align_all(workers, ja_docs, en_docs, pairs, stems, out: Path, opts: Options,
               skipped: list[dict], log) -> None:
    metas = {}
    for p in pairs:
        ja, en = ja_docs[p.ja], en_docs[p.en]
        metas[ja.name] = {"ja_file": ja.name, "en_file": en.name, "pairing_score": p.score,
                          "pairing_method": p.method,
                          "key": {"ja_sha256": ja.sha, "en_sha256": en.sha, **opts.key()}}
    _follow_renames(out / "alignments", {name: (stems[name], meta["key"]) for name, meta in metas.items()}, log)
    todo, reviewed = [], set()
    for p in pairs:
        ja, en = ja_docs[p.ja], en_docs[p.en]
        meta = metas[ja.name]
        target = out / "alignments" / f"{stems[ja.name]}.json"
        kept = _existing(target, meta)
        if kept in ("same", "damaged"):  # a damaged one is named in the report, never replaced
            continue
        if kept == "reviewed":  # its files changed: aligned again, the review put aside once that is done
            reviewed.add(target)
        todo.append((ja, en, meta, target))
    # largest first, so that the phase ends on small tasks (a pair's result
    # does not depend on the order: workers.align_task)
    todo.sort(key=lambda t: -(t[0].size + t[1].size))
    task_opts = {"mode": opts.mode, "model": opts.model, "presegmented": opts.presegmented}

    def readable():
        for ja, en, meta, target in todo:
            ja_data, en_data = _read(ja), _read(en)
            if ja_data is None or en_data is None:
                reason = ja.unread if ja_data is None else f"en/{en.name}: {en.unread}"
                skipped.append({"file": f"ja/{ja.name}", "reason": reason})
            else:
                sums = [d.sums for d in (ja, en) if d.sums is not None]
                ja.sums = en.sums = None  # the task owns them now
                yield ((ja, en, target), (ja.name, ja_data, en.name, en_data, meta, sums),
                       len(ja_data) + len(en_data) + sum(map(_nbytes, sums)))

    jobs = ((keys, align_task, (batch, task_opts))
            for keys, batch in batched(readable(), batch_size(len(todo), ALIGN_BATCH)))
    with progress_bar(len(todo), "aligning", "doc") as bar:
        for (ja, en, target), result in _each(stream(workers, jobs)):
            bar.update()
            if "error" in result:
                skipped.append({"file": f"ja/{ja.name}", "reason": _reason(result["error"], ja)
                                + f" (aligning with en/{en.name})"})
                if target not in reviewed:  # a review stays where it is, for the next run to carry over
                    target.unlink(missing_ok=True)
                continue
            data = result["json"]
            if target in reviewed:
                data = _put_aside(target, data, log)
            write_bytes(target, data.encode("utf-8"))


def _put_aside(target: Path, new_json: str, log) -> str:
    """A reviewed document aligned again because its texts or parameters changed: its
    review goes to ``alignments/previous/``, and the new alignment (returned) takes its
    confirmations on the pairs whose texts did not change, and the texts the reviewer
    typed (``meta.typed``, as the app writes a review back) where their sentence did not
    change. Done once the new alignment is there, so that a run killed before keeps the
    review in place for the next."""
    from .imports import load_alignment
    from .model import Alignment

    try:
        old = load_alignment(target, target.name)
    except InputError:
        old = None
    aside = _previous(target)
    os.replace(target, aside)
    name = printable(target.name)
    print(f"alignments/{name}: reviewed, but its files or parameters changed: aligned again, "
          f"the review kept as alignments/previous/{printable(aside.name)}", file=log)
    new = Alignment.loads(new_json)
    # what the reviewer typed, as the app wrote it back with the review (meta "typed")
    carried, retyped, left = carry_over(old, new, typed_of(old.meta)) if old is not None else ([], [], [])
    new, done, _ = edits.retype(new, retyped)  # typed again where the sentence did not change, then confirmed
    if carried or done or left:
        print(f"alignments/{name}: {carried_note(old, len(carried) + len(done), len(done), left, 'that review')}",
              file=log)
    return to_json(edits.confirm_many(new, sorted(carried + done))) if carried or done else new_json


def _follow_renames(folder: Path, wanted: dict[str, tuple[str, dict]], log) -> None:
    """Move each Japanese file's alignment to the name it should have now (``wanted``:
    its stem and its run key), when that changed: a file added or removed elsewhere
    with the same stem renames it (``unique_stems``), and a file renamed by hand keeps
    its text (the key's hashes). Left under the old name, an alignment, reviewed or
    not, would be read by no run and no export again. Only files no document's name
    claims are moved."""
    targets = {name: folder / f"{stem}.json" for name, (stem, _) in wanted.items()}
    missing = {name for name, target in targets.items() if not target.exists()}
    if not missing:
        return
    claimed = set(targets.values())
    loose = {path: corpus_meta(path) for path in sorted(folder.glob("*.json")) if path not in claimed}
    by_key = {run_key({"key": key}): name for name, (_, key) in wanted.items() if name in missing}
    for by_name in (True, False):  # the same file name first; else, the same texts under another name
        for path, meta in list(loose.items()):
            owner = meta.get("ja_file")
            name = owner if by_name else by_key.get(run_key(meta)) if owner not in wanted else None
            if name not in missing:
                continue
            missing.discard(name)
            del loose[path]
            os.replace(path, targets[name])
            why = ("another Japanese file now shares its stem (or no longer does)" if by_name else
                   f"ja/{printable(owner)} is now ja/{printable(name)}, the same text")
            print(f"alignments/{printable(path.name)}: moved to alignments/{printable(targets[name].name)}: "
                  f"{why}", file=log)


def corpus_meta(path: Path) -> dict:
    """What a corpus alignment file says of its run (``meta.corpus``), if it says."""
    return _corpus_part({"meta": file_meta(path)})


def file_meta(path: Path) -> dict:
    """An alignment file's ``meta``, or {}: read as any input is, bounded (a FIFO or a
    link to /dev/zero among them is no file)."""
    from .imports import MAX_BYTES
    from .sources import read_file_bytes
    try:
        if not path.is_file():
            return {}
        meta = json.loads(read_file_bytes(path, MAX_BYTES).decode("utf-8")).get("meta")
    except (OSError, ValueError, RecursionError, AttributeError):  # InputError too; JSON not an object
        return {}
    return meta if isinstance(meta, dict) else {}


def _corpus_part(value: Any) -> dict:
    """``meta.corpus`` of a parsed alignment file, or {}."""
    meta = value.get("meta") if isinstance(value, dict) else None
    corpus = meta.get("corpus") if isinstance(meta, dict) else None
    return corpus if isinstance(corpus, dict) else {}


def run_key(meta: dict) -> str | None:
    """An alignment's run key (``meta.corpus.key``: both texts' hashes, the parameters) as
    one comparable string, or None."""
    key = meta.get("key") if isinstance(meta, dict) else None
    return json.dumps(key, sort_keys=True) if isinstance(key, dict) else None


def _each(results: Iterable[tuple[list, list]]) -> Iterator[tuple[Any, Any]]:
    """A batch's results one by one, with their keys."""
    for keys, values in results:
        yield from zip(keys, values)


def _existing(target: Path, meta: dict) -> str | None:
    """What the alignment file already in OUT_DIR is to this run: None (there is
    none), "same" (for the same texts and parameters, the run key: kept, with a
    reviewer's edits in it; its file names and pairing brought up to date, a file
    renamed or a pair now given by ``--pairs``), "damaged" (cannot be read: a hand
    edit gone wrong, left for the reviewer to mend), "reviewed" (for other texts or
    parameters, with pairs a reviewer touched) or "stale"."""
    from .imports import load_alignment

    if not target.exists():
        return None
    try:
        data = target.read_bytes()
        old = json.loads(data.decode("utf-8"))
    except (OSError, ValueError):
        return "damaged"
    corpus = _corpus_part(old)
    same = corpus.get("key") == meta["key"]
    if same and {k: corpus.get(k) for k in meta} == meta:
        return "same"
    try:
        al = load_alignment(data, target.name)  # read once
    except InputError:
        return "damaged"
    if same:  # a file renamed, the pair now given: the names and the pairing as they are now
        al = replace(al, meta={**al.meta, "sources": [meta["ja_file"], meta["en_file"]], "corpus": meta})
        write_bytes(target, to_json(al).encode("utf-8"))
        return "same"
    return "reviewed" if any(p.status != "auto" for p in al.pairs) else "stale"


def _previous(target: Path) -> Path:
    """Where a reviewed alignment goes aside: ``alignments/previous/`` (no stem can name it:
    stems hold no ``/``), numbered so that an earlier review kept there is never replaced."""
    folder = target.parent / "previous"
    folder.mkdir(exist_ok=True)
    stem, n = target.name.removesuffix(".json"), 1
    while (kept := folder / (f"{stem}.json" if n == 1 else f"{stem}.{n}.json")).exists():
        n += 1
    return kept


def _reason(error: str, doc: Doc) -> str:
    """The error without the file name it starts with (the report names it)."""
    return error[len(doc.name) + 2:] if error.startswith(doc.name + ": ") else error


# -- outputs ----------------------------------------------------------------------------

def read_documents_tsv(out: Path) -> list[dict]:
    """The run's ``documents.tsv``; InputError naming the file (and the line) when it
    cannot be read: a hand edit gone wrong, a run's folder half copied."""
    path = Path(out) / "documents.tsv"
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except (OSError, UnicodeError) as e:
        raise InputError(f"{path}: cannot be read ({getattr(e, 'strerror', None) or e})") from None
    rows = []
    for n, line in enumerate(lines[1:], 2):
        if not line:
            continue
        try:
            ja, en, score, method = line.split("\t")
            rows.append({"ja_file": ja, "en_file": en, "score": float(score) if score else None,
                         "method": method})
        except ValueError:
            raise InputError(f"{path}: line {n} is not ja_file, en_file, score and method, tab-separated") from None
    return rows


def _band(score: float) -> str:
    return next(name for floor, name in BANDS if score >= floor)


def _kept(pair, confirmed_only: bool, min_confidence: float, doubtful: bool) -> bool:
    """A link goes into the memory when it passes the filters; from a pair of
    texts that look like no translation of each other (``doubtful``: the
    aligner's warning, a wrong pairing most likely) only once a reviewer has
    confirmed it, whatever the filters: such units would pollute a memory. A
    confirmed link passes ``min_confidence`` whatever its score: the reviewer's
    word is surer than the aligner's (a headline's pick may score 0.01)."""
    if not (pair.ja and pair.en):
        return False
    if pair.status == "confirmed":
        return True
    return not (confirmed_only or doubtful) and pair.score >= min_confidence


def write_exports(out_dir: str | Path, *, confirmed_only: bool = False, min_confidence: float = 0.0,
                  extra: dict | None = None) -> dict:
    """``corpus.tmx``, ``corpus.tsv`` and ``report.json`` from ``documents.tsv``
    and ``alignments/``. Identical units are merged (the first document
    named, with a count). Returns the report."""
    from .imports import load_alignment
    from .model import Alignment

    out = Path(out_dir)
    check_outputs(out)
    rows = read_documents_tsv(out)
    stems = unique_stems([r["ja_file"] for r in rows if r["ja_file"]])
    left_out: dict[str, str] = {}

    def alignments() -> Iterator[tuple[dict, Alignment]]:
        for row in rows:
            if not (row["ja_file"] and row["en_file"]):
                continue
            path = out / "alignments" / f"{stems[row['ja_file']]}.json"
            if not path.exists():
                continue  # a pair that failed to align (the run's report names it)
            try:  # read as `taiyaku export` reads it: a reviewer may have saved it elsewhere
                yield row, for_memory(load_alignment(path, path.name))  # as `export` writes a TM
            except InputError as e:  # damaged, or a hand edit gone wrong: say so
                why = str(e).removeprefix(f"{path}: ").removeprefix(f"{path.name}: ")
                left_out[f"alignments/{path.name}"] = why

    # pass 1: counts of identical units, per-document summaries
    counts: dict[bytes, int] = {}
    documents, bands = [], {name: 0 for _, name in BANDS}
    unaligned = withheld = 0
    for row, al in alignments():
        links = [p for p in al.pairs if p.ja and p.en]
        unaligned += len(al.pairs) - len(links)
        doc_bands = {name: 0 for _, name in BANDS}
        doubtful = bool(al.meta.get("warning"))
        for p in links:
            doc_bands[_band(p.score)] += 1
            bands[_band(p.score)] += 1
            if _kept(p, confirmed_only, min_confidence, doubtful):
                texts = _unit_texts(al, p)
                if texts:
                    key = _unit_key(*texts)
                    counts[key] = counts.get(key, 0) + 1
            else:
                withheld += doubtful and _kept(p, confirmed_only, min_confidence, False)
        review = sum(p.score < REVIEW_BELOW and p.status != "confirmed" for p in links)
        documents.append({**row, "alignment": f"alignments/{stems[row['ja_file']]}.json",
                          "mode": al.mode, "links": len(links), "bands": doc_bands,
                          "confirmed": sum(p.status == "confirmed" for p in al.pairs),
                          "needs_review": review,
                          "review_share": round(review / len(links), 4) if links else 1.0,
                          "warning": al.meta.get("warning", ""),
                          # the app finds a document's project by it, without opening the file
                          "key": _corpus_part({"meta": al.meta}).get("key")})

    # pass 2: the units, each identical one once, in document order; none to write, and
    # the files of an earlier run are left as they were (empty, they would replace a memory)
    kept_old = not counts and (out / "corpus.tmx").exists()
    tuid, dropped = (0, {}) if kept_old else \
        _write_units(out, alignments(), counts, lambda p, doubtful: _kept(p, confirmed_only, min_confidence, doubtful))

    methods: dict[str, int] = {}
    for r in rows:
        if r["ja_file"] and r["en_file"]:
            methods[r["method"]] = methods.get(r["method"], 0) + 1
    old = _old_report(out)
    extra = extra or {k: old[k] for k in ("documents_read", "skipped", "options") if k in old}
    report = {**extra,
              "paired": methods,
              "unpaired": {"ja": sum(1 for r in rows if r["ja_file"] and not r["en_file"]),
                           "en": sum(1 for r in rows if r["en_file"] and not r["ja_file"])},
              "aligned": len(documents),
              "links_by_confidence": bands, "unaligned_sentences": unaligned,
              "units": {"written": tuid, "merged": -sum(counts.values()) - tuid,
                        "files_left_as_they_were": kept_old,
                        "withheld_unconfirmed_from_doubtful_pairs": withheld,
                        "characters_left_out": dropped,
                        "confirmed_only": confirmed_only, "min_confidence": min_confidence},
              "left_out": [{"file": f, "reason": r} for f, r in left_out.items()],
              "review_first": [d["ja_file"] for d in sorted(documents, key=_need)
                               if d["needs_review"] or d["warning"]][:REVIEW_LIST],
              "documents": documents}
    write_bytes(out / "report.json", json.dumps(report, ensure_ascii=False, indent=1).encode("utf-8"))
    return report


def _write_units(out: Path, alignments: Iterable, counts: dict[bytes, int], kept) -> tuple[int, dict]:
    """``corpus.tmx`` and ``corpus.tsv``: each unit ``kept`` once, with its count (``counts``,
    turned negative as written). The units written and the characters each format left out."""
    from lxml import etree

    tuid = 0
    dropped = {"tmx": 0, "tsv": 0}  # characters the format cannot hold
    with replacing(out / "corpus.tmx") as tmx_file, replacing(out / "corpus.tsv") as tsv_file, \
            etree.xmlfile(tmx_file, encoding="UTF-8") as xf:
        xf.write_declaration()
        with xf.element("tmx", version="1.4"):
            xf.write(tmx_header(), pretty_print=True)
            with xf.element("body"):
                for row, al in alignments:
                    doubtful = bool(al.meta.get("warning"))
                    for p in al.pairs:
                        texts = _unit_texts(al, p) if kept(p, doubtful) else None
                        if texts is None:
                            continue
                        key = _unit_key(*texts)
                        count = counts[key]
                        if count < 0:  # written already
                            continue
                        counts[key] = -count
                        tuid += 1
                        ja, en = texts
                        xf.write(tmx_unit(al, p, xml_text(ja), xml_text(en), tuid=str(tuid), props=(
                            ("x-taiyaku-document", row["ja_file"]), ("x-taiyaku-count", str(count)))),
                            pretty_print=True)
                        tsv_file.write(("\t".join([tsv_field(ja), tsv_field(en), score_text(p),
                                                   str(count), tsv_field(row["ja_file"])])
                                        + "\n").encode("utf-8"))
                        for fmt in dropped:
                            dropped[fmt] += unholdable(fmt, texts)
    return tuid, dropped


def _unit_texts(al, pair) -> tuple[str, str] | None:
    """A link's two texts for the memory; None when a side holds nothing that TMX or
    TSV can carry (a unit with an empty side is useless to a TM, as ``export`` says)."""
    texts = al.ja_text(pair), al.en_text(pair)
    return texts if all(xml_text(t) and tsv_field(t) for t in texts) else None


def _old_report(out: Path) -> dict:
    try:
        return json.loads((out / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _need(doc: dict) -> tuple:
    """Most in need of review first: a not-a-translation warning, then the
    share of links under 0.8, then a weak pairing."""
    return (not doc["warning"], -doc["review_share"], doc["score"] if doc["score"] is not None else 1.0,
            doc["ja_file"])


def _unit_key(ja: str, en: str) -> bytes:
    return hashlib.blake2b(f"{ja}\t{en}".encode("utf-8", "surrogatepass"), digest_size=16).digest()


def summary(report: dict, out: Path) -> str:
    """The short human summary for standard error."""
    read, skipped = report.get("documents_read", {}), report.get("skipped", [])
    lines = [f"taiyaku: corpus: {read.get('ja', 0)} Japanese and {read.get('en', 0)} English documents read,"
             f" {len(skipped)} skipped",
             "  paired: " + (", ".join(f"{n} by {m}" for m, n in sorted(report["paired"].items())) or "none")
             + f"; unpaired: {report['unpaired']['ja']} Japanese, {report['unpaired']['en']} English"
             + f"; aligned: {report['aligned']}",  # a pair that failed to align is among the skipped
             "  links by confidence: " + ", ".join(f"{k}: {v}" for k, v in report["links_by_confidence"].items())
             + f"; {report['unaligned_sentences']} sentences without counterpart"]
    for s in skipped[:10]:
        lines.append(f"  skipped {s['file']}: {s['reason']}")
    if len(skipped) > 10:
        lines.append(f"  … and {len(skipped) - 10} more skipped (report.json)")
    left_out = report.get("left_out", [])
    for s in left_out[:10]:
        lines.append(f"  left out of the exports, unreadable: {s['file']}: {s['reason']} "
                     "(kept as it is: mend it, or delete it to align the pair again)")
    if len(left_out) > 10:
        lines.append(f"  … and {len(left_out) - 10} more left out (report.json)")
    docs = {d["ja_file"]: d for d in report["documents"]}
    if report["review_first"]:
        lines.append("  most in need of review:")
        for name in report["review_first"]:
            d = docs[name]
            lines.append(f"    {name}: {d['needs_review']} of {d['links']} links under {REVIEW_BELOW}"
                         + (f"; {d['warning']}" if d["warning"] else ""))
    if report["units"].get("files_left_as_they_were"):
        lines.append(f"  no link passes the filters (confirmed only: {report['units']['confirmed_only']}, minimum "
                     f"confidence: {report['units']['min_confidence']}): {out / 'corpus.tmx'} and corpus.tsv "
                     "are left as they were")
    else:
        lines.append(f"  {report['units']['written']} units written to {out / 'corpus.tmx'} and corpus.tsv")
    for fmt, count in report["units"].get("characters_left_out", {}).items():
        if count:
            lines.append(f"  corpus.{fmt}: {dropped_note(count, fmt)}")
    withheld = report["units"].get("withheld_unconfirmed_from_doubtful_pairs", 0)
    if withheld:
        lines.append(f"  {withheld} links left out of them, from documents that look like no translation pair "
                     "(above): confirmed in review, they are written")
    return "\n".join(map(printable, lines))  # file names with an escape or a bidi override shown, not acted on
