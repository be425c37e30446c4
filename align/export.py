"""Export an ``Alignment`` as TSV, TMX 1.4b, JSON or XLSX.

Each ``to_*`` function returns the whole content; ``write`` renders it in
memory first and then replaces the target file atomically, so a failed export
never leaves a truncated file or clobbers a previous one.

Text that a format cannot carry is removed, never written raw:
- TSV: tabs and line breaks become one space (the format has no quoting);
  lone surrogates, which UTF-8 cannot encode, are dropped.
- TMX: characters XML 1.0 forbids (C0 controls but tab/LF/CR, U+FFFE, U+FFFF,
  surrogates) are dropped.
- XLSX: the control characters openpyxl refuses, U+FFFE, U+FFFF and surrogates are
  dropped; a text longer than an Excel cell holds (32,767 characters) is refused.
  ``notes`` says what an export will drop, for the caller to tell the user.
- JSON keeps everything: lone surrogates are written as ``\\uXXXX`` escapes,
  so they read back exactly. (A high surrogate directly followed by a low one
  reads back as the single character the two encode: that is JSON.)
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import secrets
import stat
import zlib
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

from . import __version__
from .errors import InputError, resolved
from .model import Alignment, Pair, joined

from .formats import NAMES as FORMATS

_SURROGATES = re.compile("[\ud800-\udfff]")
# What a TSV line leaves out: lone surrogates (UTF-8 cannot carry them) and the
# control characters no translation holds (NUL, ESC…; tabs and breaks become spaces).
_TSV_ILLEGAL = re.compile("[\x00-\x08\x0e-\x1b\x1f\x7f\ud800-\udfff]")
# Every character str.splitlines() breaks on, so no reader of any kind sees an
# extra row; runs collapse to one space.
TSV_BREAKS = re.compile("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _kept(al: Alignment, confirmed_only: bool) -> list[Pair]:
    return [p for p in al.pairs if not confirmed_only or p.status == "confirmed"]


def _units(al: Alignment, confirmed_only: bool, include_empty: bool,
           clean: Callable[[str], str]) -> Iterator[tuple[Pair, str, str]]:
    """The pairs a TM format writes, with their texts as ``clean`` makes them for
    it: one with an empty side after that is useless to a TM, left out unless
    ``include_empty``."""
    for pair in _kept(al, confirmed_only):
        ja, en = clean(al.ja_text(pair)), clean(al.en_text(pair))
        if include_empty or (ja and en):
            yield pair, ja, en


def count(al: Alignment, fmt: str, *, headlines: bool = True, keep_marks: bool = False,
          confirmed_only: bool = False, include_empty: bool = False, **_) -> int:
    """How many pairs ``render(al, fmt, ...)`` writes with these options."""
    al = _for_format(al, fmt, headlines, keep_marks)
    if fmt in ("tsv", "tmx"):
        return sum(1 for _ in _units(al, confirmed_only, include_empty, _CLEAN[fmt]))
    return len(_kept(al, confirmed_only))


def _confirmed_part(al: Alignment) -> Alignment:
    """The confirmed pairs as an alignment of their own, which can be opened
    again: in a full text only their segments, renumbered; with headlines the
    whole article and the confirmed headlines."""
    pairs = _kept(al, True)
    keep_ja = range(len(al.ja)) if al.mode == "headlines" else sorted({i for p in pairs for i in p.ja})
    keep_en = sorted({i for p in pairs for i in p.en})
    new_ja = {old: new for new, old in enumerate(keep_ja)}
    new_en = {old: new for new, old in enumerate(keep_en)}
    pairs = [replace(p, ja=tuple(new_ja[i] for i in p.ja), en=tuple(new_en[i] for i in p.en),
                     candidates=tuple(replace(c, ja=tuple(new_ja[i] for i in c.ja)) for c in p.candidates
                                      if all(i in new_ja for i in c.ja)))
             for p in pairs]
    return replace(al, ja=tuple(al.ja[i] for i in keep_ja), en=tuple(al.en[i] for i in keep_en),
                   pairs=tuple(pairs))


def score_text(pair: Pair) -> str:
    """The score as the JSON model stores it (4 decimals), without trailing zeros."""
    return f"{round(float(pair.score), 4):g}"


# -- TSV ----------------------------------------------------------------------
# A cell starting with one of these is a formula to Excel (CSV injection).
_FORMULA_START = ("=", "+", "-", "@")


def tsv_field(text: str, excel_safe: bool = False) -> str:
    """A text as one TSV field holds it."""
    text = TSV_BREAKS.sub(" ", _TSV_ILLEGAL.sub("", text))
    if excel_safe and text.startswith(_FORMULA_START):
        return "'" + text  # Excel's own mark for "text, not a formula"
    return text


def to_tsv(al: Alignment, *, header: bool = False, score: bool = False,
           confirmed_only: bool = False, bom: bool = False, include_empty: bool = False,
           excel_safe: bool = False) -> str:
    """One ``ja<TAB>en`` line per pair (plus score and status when asked).
    Never quoted: TM tools read the fields literally. ``bom`` adds the UTF-8 BOM
    Excel on Japanese Windows needs to recognise UTF-8. Pairs with an empty side
    are useless to a TM and left out unless ``include_empty``, as in TMX;
    ``excel_safe`` puts an apostrophe before a text that starts with = + - or @,
    which Excel would otherwise run as a formula."""
    rows = [["ja", "en", "score", "status"]] if header else []
    for pair, ja, en in _units(al, confirmed_only, include_empty, lambda text: tsv_field(text, excel_safe)):
        rows.append([ja, en, score_text(pair), pair.status])
    width = 4 if score else 2
    lines = "".join("\t".join(row[:width]) + "\n" for row in rows)
    return ("\ufeff" if bom else "") + lines


# -- TMX ----------------------------------------------------------------------
def xml_text(text: str) -> str:
    """A text as XML 1.0 can hold it."""
    return _XML_ILLEGAL.sub("", text)


def to_tmx(al: Alignment, *, src_lang: str = "ja-JP", tgt_lang: str = "en-US",
           confirmed_only: bool = False, include_empty: bool = False,
           now: datetime | None = None) -> bytes:
    """TMX 1.4b, one ``<tu>`` per pair. Pairs with an empty side (after removing
    what XML forbids) are useless to a TM and skipped unless ``include_empty``.
    ``now`` (default: the current time; naive means UTC) is the creationdate."""
    from lxml import etree

    root = etree.Element("tmx", version="1.4")
    root.append(tmx_header(src_lang, now))
    body = etree.SubElement(root, "body")
    for pair, ja, en in _units(al, confirmed_only, include_empty, xml_text):
        body.append(tmx_unit(al, pair, ja, en, src_lang, tgt_lang))
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def tmx_header(src_lang: str = "ja-JP", now: datetime | None = None):
    """The ``<header>`` of every TMX Taiyaku writes (``now``: naive means UTC)."""
    from lxml import etree

    now = now or datetime.now(timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=timezone.utc)
    return etree.Element("header", {
        "creationtool": "Taiyaku", "creationtoolversion": __version__,
        "segtype": "sentence", "o-tmf": "Taiyaku", "adminlang": "en-US",
        "srclang": src_lang, "datatype": "plaintext",
        "creationdate": now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")})


def tmx_unit(al: Alignment, pair: Pair, ja: str, en: str, src_lang: str = "ja-JP", tgt_lang: str = "en-US",
             props: Iterable[tuple[str, str]] = (), **attrs: str):
    """One ``<tu>`` of a pair whose texts are ``ja`` and ``en`` (``xml_text``'s): its
    kind, score and status, ``props`` after them, and where the segments of an m-n
    pair start (so that an import gets the pair back, not a 1-1)."""
    from lxml import etree

    tu = etree.Element("tu", attrs)
    # A headline pair is a summary, not a translation: TM tools can filter on this.
    kind = "headline" if al.mode == "headlines" else pair.kind
    for name, value in (("x-taiyaku-kind", kind), ("x-taiyaku-score", score_text(pair)),
                        ("x-taiyaku-status", pair.status), *props):
        etree.SubElement(tu, "prop", type=name).text = xml_text(value)
    for side, segments, space in (("ja", [al.ja[i] for i in pair.ja], ""), ("en", [al.en[i] for i in pair.en], " ")):
        cuts = _cuts(segments, space) if len(segments) > 1 else None
        if cuts:
            etree.SubElement(tu, "prop", type=f"x-taiyaku-{side}-cuts").text = cuts
    for lang, text in ((src_lang, ja), (tgt_lang, en)):
        tuv = etree.SubElement(tu, "tuv", {_XML_LANG: lang})
        etree.SubElement(tuv, "seg").text = text
    return tu


def _cuts(segments, space: str) -> str | None:
    """Where each segment after the first starts in the unit's text, in characters,
    space-separated, then ``#`` and the text's checksum (``cuts_checksum``: a text
    edited in another tool is not cut); None where the import could not get the same
    segments and text back (a segment XML cannot carry, a sentence cut inside a word)."""
    texts = [xml_text(s.text) for s in segments]
    if not all(texts) or xml_text(joined(segments, space)) != space.join(texts):
        return None
    starts = itertools.accumulate(len(t) + len(space) for t in texts[:-1])
    return " ".join(map(str, starts)) + f" #{cuts_checksum(space.join(texts))}"


def cuts_checksum(text: str) -> str:
    """The checksum the TMX cuts carry of the text they cut (CRC-32 of its UTF-8, in hex)."""
    return f"{zlib.crc32(text.encode('utf-8', 'surrogatepass')):08x}"


# -- JSON ---------------------------------------------------------------------
def to_json(al: Alignment, *, confirmed_only: bool = False) -> str:
    """The model's JSON, readable Japanese (ensure_ascii=False); lone surrogates,
    which UTF-8 cannot carry, as the ``\\uXXXX`` escapes ensure_ascii would use.
    They only ever occur inside JSON strings, so the swap is safe."""
    if confirmed_only:
        al = _confirmed_part(al)
    text = json.dumps(al.to_json(), ensure_ascii=False, indent=1)
    return _SURROGATES.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# -- XLSX ---------------------------------------------------------------------
_XLSX_WIDTHS = {"A": 60, "B": 60, "C": 8, "D": 11}
XLSX_MAX_CELL = 32_767  # Excel's limit; openpyxl would write more, and Excel cut it


def _xlsx_illegal():
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    return re.compile(f"{ILLEGAL_CHARACTERS_RE.pattern}|[\ufffe\uffff\ud800-\udfff]")


def to_xlsx(al: Alignment, *, confirmed_only: bool = False) -> bytes:
    """A sheet with columns ja, en, score, status for review in Excel. Raises
    InputError when a text is longer than a cell holds, rather than cut it."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment as CellStyle, Font

    rows = [texts + [round(float(pair.score), 4), pair.status]  # checked before the workbook is begun
            for pair, texts in _xlsx_texts(al, confirmed_only)]
    # written row by row (openpyxl's write-only sheet): an ordinary sheet costs time and memory
    # that grow faster than its rows (16k pairs took 88 s)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("alignment")
    ws.freeze_panes = "A2"
    for column, width in _XLSX_WIDTHS.items():
        ws.column_dimensions[column].width = width
    bold, wrap = Font(bold=True), CellStyle(wrap_text=True, vertical="top")

    def cells(values, **style):
        out = []
        for value in values:
            cell = WriteOnlyCell(ws, value=value)
            for name, v in style.items():
                setattr(cell, name, v)
            if isinstance(value, str):
                cell.data_type = "s"  # openpyxl makes any string starting with "=" a formula
            out.append(cell)
        return out

    ws.append(cells(["ja", "en", "score", "status"], font=bold))
    for row in rows:
        ws.append(cells(row, alignment=wrap))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _xlsx_texts(al: Alignment, confirmed_only: bool) -> Iterator[tuple[Pair, list[str]]]:
    """Each pair XLSX writes, with its two texts as a cell holds them; InputError for a
    text longer than a cell holds, rather than cut it."""
    illegal = _xlsx_illegal()
    for k, pair in enumerate(_kept(al, confirmed_only)):
        texts = [illegal.sub("", al.ja_text(pair)), illegal.sub("", al.en_text(pair))]
        for side, text in zip(("Japanese", "English"), texts):
            if len(text) > XLSX_MAX_CELL:
                raise InputError(f"pair {k + 1}: the {side} text has {len(text):,} characters; "
                                 f"an Excel cell holds {XLSX_MAX_CELL:,}: export TSV, TMX or JSON")
        yield pair, texts


def refusal(al: Alignment, fmt: str, *, headlines: bool = True, keep_marks: bool = False,
            confirmed_only: bool = False, **_) -> str | None:
    """Why ``render(al, fmt, ...)`` would refuse, found without rendering it (an app
    draws its download buttons so), or None."""
    if fmt == "xlsx":
        try:
            for _ in _xlsx_texts(_for_format(al, fmt, headlines, keep_marks), confirmed_only):
                pass
        except InputError as e:
            return str(e)
    return None


def notes(al: Alignment, fmt: str, confirmed_only: bool = False) -> list[str]:
    """What exporting ``al`` as ``fmt`` leaves out, one line each (nothing when it keeps
    every character), for the caller to tell the user."""
    count = unholdable(fmt, (text for pair in _kept(al, confirmed_only)
                             for text in (al.ja_text(pair), al.en_text(pair))))
    return [dropped_note(count, fmt)] if count else []


def unholdable(fmt: str, texts: Iterable[str]) -> int:
    """How many characters of the texts ``fmt`` cannot hold (and its writer leaves out)."""
    dropped = _xlsx_illegal() if fmt == "xlsx" else {"tsv": _TSV_ILLEGAL, "tmx": _XML_ILLEGAL}.get(fmt)
    return sum(len(dropped.findall(text)) for text in texts) if dropped else 0


def dropped_note(count: int, fmt: str) -> str:
    return (f"{count} character(s) that {fmt.upper()} cannot hold (control characters, "
            "U+FFFE/U+FFFF, lone surrogates) were left out")


# -- rendering and writing ----------------------------------------------------
def for_memory(al: Alignment, *, headlines: bool = True, keep_marks: bool = False) -> Alignment:
    """What a translation memory gets of a headline alignment: a headline and
    the sentence it summarises are not a translation of each other, so they
    can be left out (``headlines=False``); and Bloomberg's version marks
    (``*``, `` (2)``) are not part of the headline's text unless kept."""
    if al.mode != "headlines":
        return al
    if not headlines:
        return al.with_pairs(())
    if keep_marks:
        return al
    from .normalise import without_marks

    def clean(seg):
        text = without_marks(seg.text) or seg.text
        return seg if text == seg.text else replace(seg, text=text, start=None, end=None)

    return replace(al, en=tuple(clean(s) for s in al.en))


_CLEAN = {"tsv": tsv_field, "tmx": xml_text}  # what each TM format makes of a text


def _for_format(al: Alignment, fmt: str, headlines: bool, keep_marks: bool) -> Alignment:
    return al if fmt == "json" else for_memory(al, headlines=headlines, keep_marks=keep_marks)


def render(al: Alignment, fmt: str, *, headlines: bool = True, keep_marks: bool = False,
           **opts) -> bytes:
    """The file content for ``fmt`` (one of FORMATS); ``opts`` go to its ``to_*``.
    Translation-memory formats get ``for_memory``'s text; JSON, the model that
    reopens as a project, keeps everything."""
    al = _for_format(al, fmt, headlines, keep_marks)
    if fmt == "json":
        return to_json(al, **opts).encode("utf-8")
    if fmt == "tsv":
        return to_tsv(al, **opts).encode("utf-8")
    if fmt == "tmx":
        return to_tmx(al, **opts)
    if fmt == "xlsx":
        return to_xlsx(al, **opts)
    raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write(al: Alignment, path: str | os.PathLike, fmt: str, **opts) -> None:
    """Render, then write ``path`` (see ``write_bytes``)."""
    write_bytes(path, render(al, fmt, **opts))


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """``data`` as ``path``, by ``replacing``'s rules."""
    with replacing(path) as f:
        f.write(data)


@contextlib.contextmanager
def replacing(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A file to write ``path``'s new content to (streamed, as it is made): a temporary
    file beside ``path``, renamed over it once complete, so that readers see the old
    file or the new one, never a partial one. A symlink is written through (its target
    is replaced, the link stays); a FIFO, a device or ``/dev/stdout`` is written to as
    it is; an existing file keeps its permissions. An OSError names ``path``, never the
    temporary file."""
    path = Path(path)
    try:
        info = os.stat(path)  # follows symlinks
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise OSError(e.errno, e.strerror, str(path)) from None
    target = path
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            with open(path, "wb") as f:
                yield f
            return
        target = resolved(path) if path.is_symlink() else path
        with atomic_file(target, None if info is None else stat.S_IMODE(info.st_mode)) as f:
            yield f
    except OSError as e:
        if e.filename not in (None, str(path), str(target)):  # another file's, written meanwhile
            raise
        raise OSError(e.errno, e.strerror, str(path)) from None


def check_writable(output: str | os.PathLike) -> None:
    """Refuse, before the slow part, an output that ``write_bytes`` could not
    write: a FIFO or device is written to, any other file is replaced through a
    temporary file in its (resolved) folder."""
    try:
        mode = os.stat(output).st_mode
    except OSError:  # not there yet
        mode = stat.S_IFREG | 0o200
    special = not stat.S_ISREG(mode)
    if not special and not mode & 0o222:  # made read-only to keep it (root's access() says yes)
        raise InputError(f"{output}: is read-only; not replaced (make it writable, or give another name)")
    where = output if special else resolved(output).parent
    if not os.access(where, os.W_OK):
        raise InputError(f"{output}: cannot write there (no permission"
                         f"{'' if special else f' in the folder {where}'})")


@contextlib.contextmanager
def atomic_file(target: Path, mode: int | None = None):
    """A new binary file whose content replaces ``target`` only once it is
    complete and on disk (with permissions ``mode`` if given); on any failure,
    ``target`` is left as it was and the temporary file removed; an OSError (a full disk)
    names ``target``, never the temporary file."""
    # the name shortened if need be: a name near the file system's 255 bytes still has a temporary
    short = target.name.encode("utf-8", "surrogateescape")[:200].decode("utf-8", "ignore")
    tmp = target.with_name(f".{short}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as for any new file.
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    except OSError as e:  # (the folder takes no new file)
        raise OSError(e.errno, e.strerror, str(target)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                os.chmod(tmp, mode)
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError) and e.filename in (None, str(tmp)):
            raise OSError(e.errno, e.strerror, str(target)) from None
        raise
