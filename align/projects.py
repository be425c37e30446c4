"""Review projects, as plain functions over the ``Store`` the app calls: made
from uploaded or pasted texts, an exported alignment or the bundled sample; and
a corpus run's documents reviewed as projects (found by run key, written back
into the run).
"""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from .edits import retype
from .errors import InputError, resolved
from .model import Alignment
from .pipeline import Progress, align_texts
from .sources import detect_language, read_bytes_source, read_pasted
from .review import TYPED, carried_note, carry_over, hand_edits
from .store import ProjectInfo, Store

def data_file(name: str) -> Path:
    """A bundled file: ``align/data`` when installed (package data), ``data/``
    beside the package in a checkout."""
    here = Path(__file__).resolve().parent
    installed = here / "data" / name
    return installed if installed.exists() else here.parent / "data" / name


SAMPLE = data_file("ukraine_talks_bloomberg_ja.txt")
SAMPLE_NAME = "Sample: Ukraine talks (Bloomberg) — Japanese article vs. its English headlines"
_SAMPLE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Upload:
    """A file as the browser or the command line gave it."""

    name: str
    data: bytes


def sample_project(store: Store, progress: Progress | None = None) -> int:
    """The sample article aligned against its headlines: created once, then
    the same project every time (found by the file's hash)."""
    data = SAMPLE.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    with _SAMPLE_LOCK:
        for info in store.list_projects():
            if info.name == SAMPLE_NAME and [s.sha256 for s in info.sources] == [digest]:
                return info.id
        al = align_texts(read_bytes_source(data, SAMPLE.name), mode="auto", progress=progress)
        return store.create_project(SAMPLE_NAME, al, sources=[(SAMPLE.name, data)],
                                    model=al.meta.get("model", ""))


def looks_swapped(ja: str | None, en: str | None) -> bool:
    """The English text given as Japanese and the Japanese as English: the
    app offers a Swap button instead of an error."""
    return bool(ja and en) and detect_language(ja) == "en" and detect_language(en) == "ja"


def read_upload(upload: Upload) -> str:
    """The text of an uploaded file (the readers check its size, encoding, format)."""
    return read_bytes_source(upload.data, upload.name)


NO_ENGLISH = "only an article with a 原題: line of English headlines can be aligned alone"


@dataclass(frozen=True)
class Inputs:
    """Which texts Align reads, by the one rule: uploaded files before pasted text,
    a Japanese text first. ``source``: "files", "pasted", "english only" or "nothing"."""

    source: str
    ja: str = ""           # the Japanese file's name
    en: str = ""           # the English file's name ("" for none)
    pasted_en: bool = False

    @property
    def plan(self) -> str:
        """One line saying, before Align runs, what it will read."""
        if self.source == "files" and self.en:
            return f"Align will read {self.ja} (Japanese) and {self.en} (English)."
        if self.source == "files":
            ignored = " (the pasted English is not used with a file)" if self.pasted_en else ""
            return f"Align will read {self.ja} (Japanese) and no English file{ignored}: {NO_ENGLISH}."
        if self.source == "english only":
            return f"Only the English file {self.en} is chosen: add the Japanese file."
        if self.source == "pasted":
            return ("Align will read the pasted Japanese and "
                    + ("the pasted English." if self.pasted_en else f"no English: {NO_ENGLISH}."))
        return "Nothing to align yet: upload the Japanese file and the English one, or paste the texts."

    @property
    def read(self) -> str:
        """What was aligned, said after it ran."""
        if self.source == "files":
            return f"{self.ja} with {self.en}" if self.en else f"{self.ja} with its 原題: headlines (no English file was given)"
        return "the pasted texts" if self.pasted_en else "the pasted Japanese with its 原題: headlines (no English was given)"


def chosen_inputs(ja: str | None, en: str | None, pasted_ja: str, pasted_en: str) -> Inputs:
    """The inputs Align takes of these: the two uploads' names (None for none) and the
    pasted texts."""
    if ja:
        return Inputs("files", ja, en or "", bool(pasted_en.strip()))
    if en:
        return Inputs("english only", en=en)
    if pasted_ja.strip():
        return Inputs("pasted", pasted_en=bool(pasted_en.strip()))
    return Inputs("nothing")


def create_project(store: Store, *, ja: Upload | None = None, en: Upload | None = None,
                   pasted_ja: str = "", pasted_en: str = "", name: str = "", mode: str = "auto",
                   model: str | None = None,
                   progress: Progress | None = None) -> tuple[int, Alignment]:
    """Align what ``chosen_inputs`` takes (uploaded files, or else pasted text) and
    save the result as a project named ``name`` (or after the inputs)."""
    chosen = chosen_inputs(ja and ja.name, en and en.name, pasted_ja, pasted_en)
    if chosen.source == "english only":
        raise InputError("give the Japanese file too (the English alone has nothing to align to)")
    if chosen.source == "nothing":
        raise InputError("nothing to align: upload a Japanese file or paste its text")
    if chosen.source == "files":
        ja_text = read_upload(ja)
        en_text = read_upload(en) if en is not None else None
        sources = [(u.name, u.data) for u in (ja, en) if u is not None]
        default = " + ".join(Path(u.name).stem for u in (ja, en) if u)
    else:
        # checked as a file would be: the size limit, NULs, line endings
        ja_text = read_pasted(pasted_ja, "the pasted Japanese")
        en_text = read_pasted(pasted_en, "the pasted English") if chosen.pasted_en else None
        sources = [("pasted Japanese", ja_text.encode("utf-8"))]
        if en_text:
            sources.append(("pasted English", en_text.encode("utf-8")))
        default = "Pasted text " + " ".join(ja_text.split())[:20]
    al = align_texts(ja_text, en_text, mode=mode, model=model, progress=progress)
    pid = store.create_project(name.strip() or default, al, sources=sources,
                               model=al.meta.get("model", model or ""))
    return pid, al


def import_project(store: Store, upload: Upload) -> tuple[int, Alignment]:
    """An exported alignment (Taiyaku JSON, TMX, a ja/en TSV) as a new project; its
    ``meta["warning"]`` says if its sides look like the wrong languages, or if the
    reader left something out."""
    from .imports import import_warning, load_alignment

    al, warning = import_warning(load_alignment(upload.data, upload.name))
    if warning is not None:
        al = replace(al, meta={**al.meta, "warning": f"{upload.name}: {warning}"})
    pid = store.create_project(Path(upload.name).stem or "imported", al,
                               sources=[(upload.name, upload.data)], model=str(al.meta.get("model", "")))
    return pid, al


@dataclass(frozen=True)
class ProjectRow:
    """A line of the project list."""

    id: int
    name: str
    mode: str
    confirmed: int
    total: int
    opened: datetime | None
    updated: datetime

    @property
    def progress(self) -> str:
        return f"{self.confirmed} / {self.total} confirmed"


def project_rows(store: Store) -> list[ProjectRow]:
    """Every project with its review progress, the most recently opened first."""
    rows = [ProjectRow(i.id, i.name, i.mode, i.confirmed, i.total, i.last_opened, i.updated)
            for i in store.list_projects()]
    rows.sort(key=lambda r: (r.opened or r.updated).timestamp(), reverse=True)
    return rows


# -- a corpus run (python -m align corpus … -o OUT_DIR) as a set of projects ----------------

# What the corpus view and its order read of a report's document, by type.
_DOCUMENT_FIELDS = {"ja_file": str, "en_file": str, "method": str, "alignment": str,
                    "warning": str, "links": int, "needs_review": int, "review_share": (int, float)}


def corpus_documents(out_dir: str | Path) -> list[dict]:
    """The aligned documents of a corpus run, most in need of review first
    (``report.json``), each with its alignment file's path. A report comes from
    anywhere: each document's fields are checked, and its alignment file must lie
    inside the run (not ``/dev/zero`` or a file elsewhere that "Write" would replace)."""
    import json

    from .corpus import _need
    from .imports import MAX_BYTES as MAX_REPORT
    from .sources import read_file_bytes

    out = Path(out_dir).expanduser()
    try:
        report = json.loads(read_file_bytes(out / "report.json", MAX_REPORT))
        documents = [d for d in report["documents"] if isinstance(d, dict) and d.get("alignment")]
    except (InputError, ValueError, KeyError, TypeError, RecursionError):
        raise InputError(f"{out}: not a corpus run (no readable report.json; make one with "
                         "`taiyaku corpus JA_DIR EN_DIR -o OUT_DIR`)") from None
    run = resolved(out)
    for k, doc in enumerate(documents):
        typed = all(isinstance(doc.get(key), kind) for key, kind in _DOCUMENT_FIELDS.items())
        if not (typed and isinstance(doc.get("score"), (int, float, type(None)))
                and Path(_corpus_source(out, doc)).is_relative_to(run)):
            raise InputError(f"{out}: report.json is not a corpus run's: its document {k + 1} "
                             "lacks a field or names a file outside the folder")
    return sorted(documents, key=_need)


def corpus_unpaired(out_dir: str | Path) -> dict[str, list[str]]:
    """The documents of a corpus run that found no counterpart (``documents.tsv``), by
    language; none if the file cannot be read (the view has said what it could)."""
    from .corpus import read_documents_tsv
    try:
        rows = read_documents_tsv(Path(out_dir).expanduser())
    except InputError:
        rows = []
    return {"Japanese": [r["ja_file"] for r in rows if r["ja_file"] and not r["en_file"]],
            "English": [r["en_file"] for r in rows if r["en_file"] and not r["ja_file"]]}


def _corpus_source(out_dir: str | Path, doc: dict) -> str:
    return str(resolved(Path(out_dir).expanduser() / doc["alignment"]))


def open_corpus_document(store: Store, out_dir: str | Path, doc: dict) -> tuple[int, str | None]:
    """The project of one corpus document, and what opening it did: made from its
    alignment file the first time, the same project (with its edits) afterwards,
    found by the file's run key even when a later run moved the file. A document
    aligned again since the app reviewed it (its texts or the parameters changed)
    gets a new project, with the earlier review's confirmations carried over to the
    pairs whose texts did not change."""
    from .corpus import corpus_meta
    path = _corpus_source(out_dir, doc)
    key = _identity(corpus_meta(Path(path)), path)  # the file's own: a report outlives a run killed midway
    found = _folder_projects(store, out_dir)
    known = next((info for info, meta in found if _key_of(info, meta) == key), None)
    if known is not None:
        return known.id, None
    from .imports import MAX_BYTES as MAX_ALIGNMENT
    from .sources import read_file_bytes
    pid, _ = import_project(store, Upload(path, read_file_bytes(path, MAX_ALIGNMENT)))
    store.rename_project(pid, f"{doc['ja_file']} ↔ {doc['en_file']}")
    current = {_listed_key(out_dir, d) for d in corpus_documents(out_dir)} | {key}
    earlier = next((info for info, meta in earlier_reviews(found, current) if meta.get("ja_file") == doc["ja_file"]),
                   None)
    if earlier is None:
        return pid, None
    project, review = store.open_project(pid), store.open_project(earlier.id)
    before = review.current
    carried, retyped, left = carry_over(before, project.current, hand_edits(review.steps[:review.cursor]))
    _, done, made = retype(project.current, retyped)
    for edit in made:  # the reviewer's own texts first, each a step (Z takes them back)
        project.apply("edit_text", *edit)
    confirmed = sorted(carried + done)
    if confirmed:
        project.apply("confirm_many", confirmed)  # a step of its own
    if not (confirmed or left):
        return pid, None
    return pid, carried_note(before, len(confirmed), len(done), left,
                             f"the review of an earlier version (project {earlier.id}, {earlier.name})")


def corpus_projects(store: Store, out_dir: str | Path) -> dict[str, ProjectInfo]:
    """The app's projects of a corpus run's documents (made from a file of its
    ``alignments/``), by run key (``meta.corpus.key``): a project follows its
    document, not the file's name, which a later run may change (a file renamed,
    a stem shared) and even give to another document. For each key, its most
    recently used project."""
    found: dict[str, ProjectInfo] = {}
    for info, meta in _folder_projects(store, out_dir):
        found.setdefault(_key_of(info, meta), info)
    return found


def corpus_reviews(store: Store, out_dir: str | Path, docs: list[dict]) -> tuple[list[ProjectInfo | None],
                                                                               list[ProjectInfo]]:
    """What the Corpus view shows of the app's reviews: each of ``docs``' project (by
    the key the report lists) or None, and the reviews of earlier versions of its
    documents still to be carried over (``earlier_reviews``)."""
    found = _folder_projects(store, out_dir)
    by_key: dict[str, ProjectInfo] = {}
    for info, meta in found:
        by_key.setdefault(_key_of(info, meta), info)
    keys = [_listed_key(out_dir, d) for d in docs]
    return [by_key.get(key) for key in keys], [info for info, _ in earlier_reviews(found, set(keys))]


def earlier_reviews(found: list[tuple[ProjectInfo, dict]], current: set[str]) -> list[tuple[ProjectInfo, dict]]:
    """Of a run's projects (``_folder_projects``), the reviews of an earlier version of
    a document, still to be carried over: a project whose key is no ``current``
    document's, with a pair confirmed, made for a Japanese file that has no project
    under a current key yet. The most recently used first."""
    carried = {meta.get("ja_file") for info, meta in found if _key_of(info, meta) in current}
    return [(info, meta) for info, meta in found
            if info.confirmed and _key_of(info, meta) not in current and meta.get("ja_file") not in carried]


def _folder_projects(store: Store, out_dir: str | Path) -> list[tuple[ProjectInfo, dict]]:
    """The projects made from a file of the run's ``alignments/``, the most recently
    used first, each with its ``meta.corpus``."""
    folder = str(resolved(Path(out_dir).expanduser() / "alignments")) + os.sep
    metas = store.project_metas()
    found = []
    for info in store.list_projects():
        names = [s.filename for s in info.sources]
        if len(names) == 1 and names[0].startswith(folder):
            meta = metas.get(info.id, {}).get("corpus", {})
            found.append((info, meta if isinstance(meta, dict) else {}))
    return found


def _key_of(info: ProjectInfo, meta: dict) -> str:
    return _identity(meta, info.sources[0].filename)


def _listed_key(out_dir: str | Path, doc: dict) -> str:
    """A report document's run key as the report lists it (a run by this version),
    else as its alignment file says: what the Corpus view shows progress by, without
    reading every file on each run (opening and Write read the file itself)."""
    from .corpus import corpus_meta, run_key
    path = _corpus_source(out_dir, doc)
    return run_key({"key": doc.get("key")}) or _identity(corpus_meta(Path(path)), path)


def _identity(meta: dict, path: str) -> str:
    """A corpus document's run key; its file's path for a file without one (made by
    hand, or by an older version)."""
    from .corpus import run_key
    return run_key(meta) or f"file:{path}"


def export_corpus(store: Store, out_dir: str | Path, *, confirmed_only: bool = False,
                  min_confidence: float = 0.0) -> dict:
    """Write every reviewed document back into the corpus run (into its alignment
    file as the run names it now, found by the file's run key; atomically), then the
    corpus's TMX, TSV and report again; the report returned says how many reviews
    were written back (``reviews_written``). All is read under the run's lock."""
    from .corpus import check_outputs, file_meta, write_exports, writing
    from .export import write

    out = Path(out_dir).expanduser()
    corpus_documents(out)  # not a corpus run: said before the lock is made there
    with writing(out):  # not while a corpus run writes there, nor between what is read and written
        check_outputs(out)  # before anything is written back
        files = {}
        for doc in corpus_documents(out):
            path = _corpus_source(out, doc)
            meta = file_meta(Path(path))
            files[_identity(meta.get("corpus", {}), path)] = (path, meta)
        written = 0
        for key, info in corpus_projects(store, out).items():
            if key in files:
                path, meta = files[key]
                # the reviewer's segments and pairs; the meta the run gave the file (not the app's own notes),
                # with what the reviewer typed, for a run that aligns the document again to type it again
                project = store.open_project(info.id)
                typed = [[side, was, text] for (side, was), text in hand_edits(project.steps[:project.cursor]).items()]
                write(replace(project.current, meta={**meta, TYPED: typed} if typed else meta), path, "json")
                written += 1
        return {**write_exports(out, confirmed_only=confirmed_only, min_confidence=min_confidence),
                "reviews_written": written}
