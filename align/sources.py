"""Reading source texts: bytes to text, file formats, and the article layout.

Every function returns (or takes) *decoded text with line endings normalised to "\\n"*
(``\\r\\n`` and a lone ``\\r`` become ``\\n``). Segment offsets refer to that text, and for
.md / .html / .docx files to the extracted text, not to the bytes of the file.

Formats, by file extension: .txt, none or unknown: plain text. .md / .markdown: Markdown
with the markup that would pollute alignment taken out (headings' ``#``, emphasis
markers, ``[text](url)`` -> text, images, blockquote and list markers, code blocks
dropped). .html / .htm: the readable article text (trafilatura; plain lxml when it is missing,
finds nothing, or the page is too big for it), no scripts, styles or menus, one paragraph per
block, blank lines between.
.docx: the paragraphs (and table cells) of the body, joined with blank lines.
"""

from __future__ import annotations

import bisect
import codecs
import io
import re
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .errors import InputError, first_line
from .model import Segment
from .segment import split

MAX_BYTES = 20 * 1024 * 1024
_MB = 1024 * 1024

_MAGIC = [(b"\x89PNG\r\n\x1a\n", "PNG image"), (b"%PDF-", "PDF document"),
          (b"PK\x03\x04", "ZIP archive or Office document"), (b"\xff\xd8\xff", "JPEG image"),
          (b"GIF8", "GIF image"), (b"\xd0\xcf\x11\xe0", "old Office document"),
          (b"\x1f\x8b", "gzip archive")]


# -- bytes to text ------------------------------------------------------------------------

def decode(data: bytes, name: str) -> str:
    """A source text: ``decode_exact``'s text with line endings normalised; InputError
    for binary data (control characters) or only whitespace. NUL bytes, never part of a
    text, are dropped, and so are byte order marks inside it (files joined end to end):
    invisible, they would open a segment and go into every export."""
    text = decode_exact(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    controls = len(_CONTROLS.findall(text))
    if controls > len(text) / 10:
        raise InputError(f"{name}: binary file (control characters), not text")
    text = text.replace("\0", "").replace("\ufeff", "")
    if not text.strip():
        raise InputError(f"{name}: no text (only whitespace)")
    return text


def decode_exact(data: bytes, name: str) -> str:
    """The bytes decoded, every character kept: UTF-8 (with or without BOM), UTF-16
    (with a BOM or without), ISO-2022-JP, CP932 (Shift_JIS), EUC-JP or, for Latin-script
    text, Windows-1252 (detected); InputError for empty data or a known binary format.
    Source texts and imported TSV and JSON are all decoded here."""
    if not data:
        raise InputError(f"{name}: empty file")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{name}: binary file ({kind}), not text")
    return _decode(data, name)


# Control characters that text does not hold (tab, line breaks, form feed and ESC aside).
_CONTROLS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name)
    sample = data[:4096]
    if b"\0" in sample:
        utf16 = _decode_utf16_without_bom(data)
        if utf16 is not None:
            return utf16
        try:  # UTF-8 text with a stray NUL (dropped below)
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{name}: binary file (NUL bytes), not text") from None
    if b"\x1b$B" in sample or b"\x1b$@" in sample:  # ISO-2022-JP (mail): 7-bit, so before UTF-8
        try:
            return data.decode("iso2022_jp")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        # UTF-8 to its last bytes, with UTF-8 characters before them: a copy cut short (a
        # last byte alone past ASCII is the one accented letter of a Windows-1252 file)
        if e.reason == "unexpected end of data" and not data[:e.start].isascii():
            raise InputError(f"{name}: ends in the middle of a character: cut short? "
                             "(a download or copy that did not finish)") from None
    candidates = []
    for encoding in ("cp932", "euc_jp"):
        try:
            candidates.append(data.decode(encoding))
        except UnicodeDecodeError:
            pass
    # Both legacy decodings often succeed on the same bytes; the wrong one turns kana into
    # half-width katakana and rare kanji, so the one with more kana wins (CP932 on a tie).
    best = max(candidates, key=_kana_count) if candidates else None
    if best is None or not _looks_japanese(best):
        # Latin-script text with a few high bytes (It’s, café) decodes as CP932 too, into
        # kanji without a kana in sight: Windows-1252 reads it right, its accented letters
        # and quotes standing alone among ASCII ones (CP932 kanji read as Windows-1252 come
        # in runs: 東京 is “Œ‹ž).
        try:
            latin = data.decode("cp1252")
        except UnicodeDecodeError:
            latin = None
        if latin is not None and (best is None or _looks_latin(latin)):
            return latin
    if best is None:
        raise InputError(f"{name}: cannot decode as UTF-8, UTF-16, Shift_JIS, EUC-JP "
                         "or Windows-1252")
    return best


def _looks_japanese(text: str) -> bool:
    """Japanese prose has kana among its non-ASCII characters (a fifth or more)."""
    sample = text[:20000]
    wide = sum(1 for c in sample if ord(c) > 0x7f)
    return wide > 0 and _kana_count(sample) >= 0.2 * wide


def _looks_latin(text: str) -> bool:
    """Non-ASCII characters one or two at a time (café, It’s, naïve), not in runs."""
    runs = re.findall(r"[^\x00-\x7f]+", text[:20000])
    return sum(map(len, runs)) <= 2 * len(runs)


# Characters of real text in UTF-16: ASCII, Latin, CJK punctuation, kana, kanji, full-width
# forms. Binary read as UTF-16 lands all over the plane (about a third in the kanji block).
_TEXTLIKE = re.compile("[\t\n\r\x20-\x7e\u00a0-\u024f\u2000-\u206f\u3000-\u30ff"
                       "\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _decode_utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM: the byte order whose decoding looks like text (kanji-heavy
    text too, which has few of ASCII's NUL bytes), else None."""
    if len(data) % 2:
        return None
    best, best_share = None, 0.0
    for encoding in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        head = text[:2000]
        share = len(_TEXTLIKE.findall(head)) / max(len(head), 1)
        if share > best_share:
            best, best_share = text, share
    return best if best_share >= 0.9 else None


def _strict(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        label = "UTF-8" if encoding.startswith("utf-8") else "UTF-16"
        raise InputError(f"{name}: has a {label} byte order mark but is not valid {label}") \
            from None


def _kana_count(text: str) -> int:
    return len(re.findall(r"[\u3041-\u30ff]", text[:20000]))


# -- files and formats ------------------------------------------------------------------

def read_source(path: str | Path) -> str:
    """The text of a file (see the module doc for formats). Only a regular file is read
    (``/dev/zero`` or a named pipe would read forever), and its size is checked before
    anything is read."""
    data = read_file_bytes(path)
    return read_bytes_source(data, str(path))


def read_file_bytes(path: str | Path, limit: int | None = None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes, else one-line InputError."""
    p = Path(path)
    try:
        info = p.stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"{path}: is a folder, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"{path}: not a regular file (a device, pipe or socket)")
        check_size(info.st_size, str(path), limit)
        with open(p, "rb") as f:
            data = f.read((limit or MAX_BYTES) + 1)  # a file growing while it is read stays bounded
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    check_size(len(data), str(path), limit)
    return data


def read_pasted(text: str, name: str = "pasted text") -> str:
    """Text pasted in the app, checked as a file's would be: the same 20 MB limit, line
    endings normalised, NUL bytes dropped, only whitespace refused."""
    return read_bytes_source(text.encode("utf-8", "replace"), name)


def read_bytes_source(data: bytes, name: str) -> str:
    """The text of uploaded bytes, the format chosen by the file name's extension."""
    check_size(len(data), name)
    ext = Path(name).suffix.lower()
    if ext == ".docx":
        text = _docx_text(data, name)
    elif ext in (".html", ".htm"):
        text = _html_text(decode(data, name))
    elif ext in (".md", ".markdown"):
        text = _markdown_text(decode(data, name))
    else:
        return decode(data, name)
    if not text.strip():
        raise InputError(f"{name}: no text found")
    return text


def check_size(size: int, name: str, limit: int | None = None) -> None:
    """InputError if a file of ``size`` bytes is over the limit (MAX_BYTES)."""
    limit = limit or MAX_BYTES
    if size > limit:
        raise InputError(f"{name}: too large ({size / _MB:.1f} MB; "
                         f"the limit is {limit / _MB:g} MB)")


# A .docx is a zip of XML parts: its compressed size says nothing of what it unpacks to.
DOCX_MAX_UNPACKED = 200 * _MB
# Its XML, which python-docx parses into objects: 40 MB of paragraphs took 770 MB and two
# minutes (a 160 KB upload). 50 MB holds far more text than 20,000 segments a side.
DOCX_MAX_XML = 50 * _MB


def _docx_text(data: bytes, name: str) -> str:
    import docx  # python-docx
    import lxml.etree
    from docx.table import Table

    def paragraphs(container) -> Iterator[str]:
        for block in container.iter_inner_content():
            if not isinstance(block, Table):
                yield block.text
                continue
            seen = set()  # a merged cell comes once for each grid column and row it spans
            for row in block.rows:
                for cell in row.cells:
                    if cell._tc not in seen:
                        seen.add(cell._tc)
                        yield from paragraphs(cell)  # its paragraphs, and the tables inside it

    _check_docx(data, name)
    try:
        texts = list(paragraphs(docx.Document(io.BytesIO(data))))
    except lxml.etree.XMLSyntaxError as exc:  # depth past lxml's limit, broken XML
        raise InputError(f"{name}: a broken Word .docx file "
                         f"({first_line(exc)[:120]})") from None
    except (zipfile.BadZipFile, KeyError, ValueError, EOFError, zlib.error,
            NotImplementedError, RuntimeError, TypeError, AttributeError, IndexError):
        raise InputError(f"{name}: not a Word .docx file") from None
    return "\n\n".join(p.strip() for p in texts if p.strip())


def _check_docx(data: bytes, name: str) -> None:
    """Refuse what python-docx would choke on before it unpacks anything: not a zip,
    encrypted entries, compression it cannot undo (method 99 is AES), an unpacked size
    past DOCX_MAX_UNPACKED (a zip bomb) or XML past DOCX_MAX_XML, and a DTD (entity
    expansion: billion laughs)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            entries = z.infolist()
            for info in entries:
                if info.flag_bits & 0x1:
                    raise InputError(f"{name}: an encrypted (password-protected) "
                                     ".docx; save it without a password")
                if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                    raise InputError(f"{name}: not a Word .docx file (unsupported "
                                     f"compression method {info.compress_type})")
            unpacked = sum(info.file_size for info in entries)
            if unpacked > DOCX_MAX_UNPACKED:
                raise InputError(f"{name}: unpacks to {unpacked / _MB:.0f} MB; "
                                 f"the limit is {DOCX_MAX_UNPACKED // _MB} MB")
            xml = sum(info.file_size for info in entries if info.filename.endswith((".xml", ".rels")))
            if xml > DOCX_MAX_XML:
                raise InputError(f"{name}: its XML unpacks to {xml / _MB:.0f} MB; "
                                 f"the limit is {DOCX_MAX_XML // _MB} MB")
            for info in entries:  # zipfile stops each entry at its declared size
                if info.filename.endswith((".xml", ".rels")) and _has_dtd(z, info):
                    raise InputError(f"{name}: a .docx with a DTD "
                                     f"({info.filename}); refused for safety")
    except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError,
            ValueError, OSError) as exc:
        if isinstance(exc, InputError):
            raise
        raise InputError(f"{name}: not a Word .docx file") from None


def _has_dtd(z: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    """Whether the part declares a DTD anywhere (a comment can push it past any head
    read). Text holds ``<`` only escaped, so the bytes are markup."""
    tail = b""
    with z.open(info) as part:
        while chunk := part.read(1 << 20):
            if b"<!DOCTYPE" in tail + chunk or b"<!ENTITY" in tail + chunk:
                return True
            tail = chunk[-8:]
    return False


_WIDE = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t]*\n\\s*(?=[{_WIDE}])")


# A tag with thousands of attributes: libxml2 checks each against all before it
# (quadratic: 200,000 on one tag took minutes). Text needs none of them.
_HUGE_TAG = re.compile(r"<([A-Za-z][\w:-]*)\s[^<>]{2000,}>")


def _html_text(html: str) -> str:
    """The article's blocks, one paragraph each: trafilatura picks the article (and drops
    menus, related links, comments), lxml turns its cleaned HTML into text."""
    html = _HUGE_TAG.sub(r"<\1>", html)
    html = _CJK_BREAK.sub("", html)  # a line break between Japanese characters is no space
    # libxml2 stops at its nesting limit and drops the rest of the page without a word:
    # trafilatura parses with the plain limit (256 deep), _lxml_text with huge_tree's (2048)
    text = None
    if html.count("<") <= 256 or not _parse(html, huge=False)[1]:  # too few tags to nest that deep
        text = _lxml_text(_trafilatura_html(html) or "") or None
    text = text or _lxml_text(html)
    if text is None:
        text = _flat_text(html)
    return "\n\n".join(line for line in text.split("\n") if line)


# trafilatura's article search is superlinear on some pages (many elements and attributes:
# seconds at a few hundred KB, minutes at a few MB); past these a page goes to lxml alone.
TRAFILATURA_MAX_CHARS = 400_000
TRAFILATURA_MAX_TAGS = 20_000


def _trafilatura_html(html: str) -> str | None:
    if len(html) > TRAFILATURA_MAX_CHARS or html.count("<") > TRAFILATURA_MAX_TAGS:
        return None  # too big to search for the article in bounded time: keep every block
    try:
        import trafilatura
    except ImportError:  # trafilatura needs lxml_html_clean with lxml >= 5.2
        return None
    return trafilatura.extract(html, favor_recall=True, include_comments=False,
                               include_tables=True, output_format="html")


# Page furniture; a header or footer inside the article (its title) is kept.
_FURNITURE = ("script", "style", "nav", "aside", "noscript", "template", "form", "iframe", "svg", "head")
_DROP = " | ".join([f"//{tag}" for tag in _FURNITURE]
                   + ["//header[not(ancestor::article)]", "//footer[not(ancestor::article)]"])
_BLOCKS = set("p div h1 h2 h3 h4 h5 h6 ul ol li dl dt dd blockquote pre table tr td th br "
              "section article header footer figure figcaption caption".split())


def _parse(html: str, huge: bool):
    """(the page's tree or None, whether libxml2 stopped at its nesting limit: 256
    elements deep, or 2048 with huge_tree, keeping the text before and dropping the rest)."""
    import lxml.etree
    import lxml.html

    parser = lxml.html.HTMLParser(huge_tree=huge)
    try:  # lxml refuses a str that still declares its encoding
        root = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", html), parser=parser)
    except (ValueError, lxml.etree.ParserError):
        return None, False
    return root, any(e.type_name == "ERR_RESOURCE_LIMIT" for e in parser.error_log)


def _flat_text(html: str) -> str:
    """The blocks of a page nested past libxml2's limit, read as a stream of tags
    (no tree, so no depth): every block's text, furniture dropped."""
    from html.parser import HTMLParser

    drop = set(_FURNITURE)
    parts: list[str] = []
    hidden = [0]

    class Reader(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "body":  # a <head> HTML lets go unclosed ends here
                hidden[0] = 0
            hidden[0] += tag in drop
            if tag in _BLOCKS:
                parts.append("\u2029")

        def handle_endtag(self, tag):
            hidden[0] = max(hidden[0] - (tag in drop), 0)
            if tag in _BLOCKS:
                parts.append("\u2029")

        def handle_data(self, data):
            if not hidden[0]:
                parts.append(data)

    reader = Reader(convert_charrefs=True)
    reader.feed(html)
    reader.close()
    return _lines("".join(parts))


def _lines(text: str) -> str:
    """Text with blocks marked by U+2029 as one line per block, spaces collapsed."""
    return "\n".join(" ".join(block.split()) for block in text.split("\u2029"))


def _lxml_text(html: str) -> str | None:
    """The page's blocks, a line each; None when the page nests past libxml2's limit."""
    # huge_tree: libxml2 drops a text node past 10 MB without a word (a page of one long
    # paragraph read as "no text"); the 20 MB limit on files bounds it instead
    root, cut_short = _parse(html, huge=True)
    if cut_short:
        return None
    if root is None:
        return ""
    for element in root.xpath(_DROP):
        element.drop_tree()
    for element in root.iter():
        if element.tag in _BLOCKS:  # each block becomes a line of its own
            element.text = "\u2029" + (element.text or "")
            element.tail = "\u2029" + (element.tail or "")
    return _lines(root.text_content())


_FENCE = re.compile(r"^\s*(```|~~~)")
# Rules anchored at the line's start: one try per line, linear.
_MD_LINE_RULES = [
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$"), ""),                # link reference definition
    (re.compile(r"^\s{0,3}([=\-*_]\s*){3,}$"), ""),               # rule, setext underline
    (re.compile(r"^\s*(>\s?)+"), ""),                             # blockquote
    (re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+"), ""),            # list marker
]
_ATX = re.compile(r"^\s{0,3}#{1,6}\s+(.*)$")                      # ATX heading
_CODE = re.compile(r"`([^`]+)`")                                  # inline code


def _markdown_text(text: str) -> str:
    lines, in_code = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        lines.append(_markdown_line(line).rstrip())
    return "\n".join(lines).strip("\n")


def _markdown_line(line: str) -> str:
    """One line without its markup. The inline rules (images, links, emphasis) are
    scanners rather than regexes: a regex that looks ahead for a closing ``]`` or ``*``
    rescans the rest of the line from every opener, quadratic on ``[a[a[a…``."""
    for pattern, replacement in _MD_LINE_RULES[:2]:
        line = pattern.sub(replacement, line)
    heading = _ATX.match(line)
    if heading:  # the closing #s need a space before them: "# C#" keeps its #
        line = heading.group(1).rstrip()
        bare = line.rstrip("#")
        if bare != line and bare[-1:].isspace():
            line = bare.rstrip()
    for pattern, replacement in _MD_LINE_RULES[2:]:
        line = pattern.sub(replacement, line)
    line = _links(line, image=True)
    line = _links(line, image=False)
    line = _CODE.sub(r"\1", line)
    for kinds in _EMPHASIS:
        line = _emphasis(line, kinds)
    return line


def _positions(line: str, token: str) -> list[int]:
    """Every index where ``token`` starts (overlapping: ``***`` holds ``**`` twice)."""
    return [m.start() for m in re.finditer(f"(?={re.escape(token)})", line)]


def _count(positions: list[int], start: int, end: int) -> int:
    """How many of the (sorted) ``positions`` lie in ``[start, end)``."""
    return bisect.bisect_left(positions, end) - bisect.bisect_left(positions, start)


def _first_at(positions: list[int], at: int) -> int | None:
    k = bisect.bisect_left(positions, at)
    return positions[k] if k < len(positions) else None


def _links(line: str, image: bool) -> str:
    """``![alt](url)`` -> nothing; ``[text](url)`` and ``[text][ref]`` -> text. Only the
    openers are visited; each looks up the next ``]`` / ``)`` in a sorted list."""
    if "[" not in line or "]" not in line or (")" not in line and (image or "][" not in line)):
        return line
    bracket, paren, opening = _positions(line, "]"), _positions(line, ")"), _positions(line, "(")
    out, last, n = [], 0, len(line)
    lead = 2 if image else 1
    for i in _positions(line, "![" if image else "["):
        if i < last:
            continue
        close = _first_at(bracket, i + lead)
        if close is None:
            break  # no "]" after this opener, so none after any later one
        if close + 1 >= n or (not image and close == i + 1):
            continue
        follow = line[close + 1]
        if follow == "(":
            end = _first_at(paren, close + 2)
            if end is None:
                paren = []  # no ")" left: every later (url) fails too
            # a url may hold balanced parentheses, javascript:f(1) (up to 32 deep, as
            # CommonMark's parsers: each step a lookup, so the line stays linear)
            for _ in range(32):
                if end is None or _count(opening, close + 2, end) <= _count(paren, close + 2, end):
                    break
                end = _first_at(paren, end + 1)
        elif follow == "[" and not image:
            end = _first_at(bracket, close + 2)
        else:
            continue
        if end is not None:
            out += [line[last:i], "" if image else line[i + 1:close]]
            last = end + 1
    return "".join(out) + line[last:]


# Emphasis delimiters, each with where it may open and where it may close (as the lazy
# regexes ``(\*\*|__)(?=\S)(.+?)(?<=\S)\1``, ``(?<!\*)\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?!\*)``
# and ``(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)`` would), applied one group after the other.
_EMPHASIS = [
    [("**", re.compile(r"(?=\*\*\S)"), re.compile(r"(?<=\S)(?=\*\*)")),
     ("__", re.compile(r"(?=__\S)"), re.compile(r"(?<=\S)(?=__)"))],
    [("*", re.compile(r"(?<!\*)(?=\*[^\s*])"), re.compile(r"(?<=[^\s*])(?=\*(?!\*))"))],
    [("_", re.compile(r"(?<!\w)(?=_[^\s_])"), re.compile(r"(?<=[^\s_])(?=_(?!\w))"))],
]


def _emphasis(line: str, kinds) -> str:
    """Drop the delimiters of ``token…token`` spans: at an opener, the nearest closer of
    its kind at least one character on (where the lazy regex would stop), looked up in
    the sorted list of closers instead of scanned for: linear where the regex rescans
    the rest of the line from every unclosed opener."""
    kinds = [kind for kind in kinds if kind[0] in line]
    closers = {token: [m.start() for m in closes.finditer(line)] for token, _, closes in kinds}
    if not any(closers.values()):
        return line
    openers = {token: [m.start() for m in opens.finditer(line)] for token, opens, _ in kinds}
    out, last = [], 0
    for i, token in sorted((i, token) for token, found in openers.items() for i in found):
        if i < last:
            continue
        j = _first_at(closers[token], i + len(token) + 1)
        if j is None:
            closers[token] = []  # none after this opener, so none after any later one
            if not any(closers.values()):
                break
            continue
        out += [line[last:i], line[i + len(token):j]]
        last = j + len(token)
    return "".join(out) + line[last:]


# -- which language ------------------------------------------------------------------------

def detect_language(text: str) -> str:
    """"ja" when kana and kanji dominate (with a little kana: Chinese has none), "en" when Latin
    letters do (any Latin-script language: the English rules split it), else "other".
    Read from the start, the middle and the end: a text may open with a long run of no
    letters at all (spaces, entities)."""
    third = 70_000
    sample = text if len(text) <= 3 * third else \
        text[:third] + text[len(text) // 2 - third // 2:len(text) // 2 + third // 2] + text[-third:]
    kana = len(re.findall(r"[\u3041-\u30ff\uff66-\uff9d]", sample))
    no = sample.count("の")  # the one kana a Chinese text may hold (a shop's name)
    kanji = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", sample))
    latin = len(re.findall(r"[A-Za-z\u00c0-\u024f]", sample))
    letters = kana + kanji + latin
    if not letters:
        return "other"
    # some kana; a little is enough where it is not a stray の: headlines and market reports
    # are mostly kanji (東証大引け、続伸　半導体株高い)
    if kana + kanji >= 0.3 * letters and (kana >= 0.1 * (kana + kanji)
                                          or kana - no >= max(2, 0.03 * (kana + kanji))):
        return "ja"
    if latin >= 0.7 * letters:
        return "en"
    return "other"


# -- the article: body, 原題 headline block, boilerplate ------------------------------------

_HEADLINES = re.compile(r"^[ \t\u3000]*原題[:：][ \t\u3000]*(.*)$", re.M)
# "…on this story:" with the names under it, or on the same line with an address
_CONTACTS = r"To contact the (?:reporters?|editors?)\b(?:.*:$|.*\S@\S)"
_BOILERPLATE = re.compile(
    r"(?:Photographer|Photo|写真)[:：]"
    r"|©|\([cC]\)\s*\d{4}|Copyright\s*(?:©|\([cC]\)|\d{4})"
    r"|もっと読むには|More stories like this are available on bloomberg\.com"
    r"|[-－―—‐]*\s*取材協力[:：]|[-－―—‐]+\s*With assistance from\b"  # English prose may open so
    r"|原題[:：]"
    r"|[（(][^（）()]*ます[)）]$"                      # (…を追加して更新します)
    r"|【?関連記事】?(?:[:：]|$)"
    r"|記事(?:について|に関する)の?(?:記者|エディター)への問い合わせ先"
    r"|" + _CONTACTS +
    r"|(?:出所|出典)[:：]")                          # chart sources
# a line that opens a list of lines to leave out too, (head, item, whether a blank line
# keeps it open): related stories (bullet lines, maybe spaced), the reporters and editors
# to contact (English puts each on a line of its own: a name at an address, or a name)
_LISTS = ((re.compile(r"【?関連記事】?(?:[:：]|$)"), re.compile(r"[・●■◆\-*]"), True),
          (re.compile(_CONTACTS),
           re.compile(r".*\S@\S+\.\w|[^.!?。]{1,60}$"), False))


@dataclass(frozen=True)
class Article:
    """A Japanese article: body sentences, the English headlines of its 原題 line, and the
    boilerplate lines left out of alignment; all offsets point into the parsed text."""

    ja: list[Segment] = field(default_factory=list)
    headlines: list[Segment] = field(default_factory=list)
    skipped: list[Segment] = field(default_factory=list)


def body_sentences(text: str, lang: str) -> tuple[list[Segment], list[Segment]]:
    """The sentences of a text with its boilerplate lines left out, in either language
    (a translation carries them in both, and a pair of them is no translation unit): photo
    credits, ©, もっと読むには / More stories…, 取材協力 / With assistance from, the 原題 line,
    update notes such as (…を追加して更新します), 関連記事 with the bullet lines under it,
    contacts, chart sources. Returns (sentences, skipped lines); all offsets point into
    ``text``."""
    body, skipped = [], []  # boilerplate lines become blanks, so the body keeps its offsets
    open_list = None  # the entry of _LISTS whose items the lines are
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        list_item = open_list is not None and bool(open_list[1].match(stripped))
        if stripped and (_BOILERPLATE.match(stripped) or list_item):
            start = pos + len(line) - len(line.lstrip())
            skipped.append(Segment(stripped, start, start + len(stripped)))
            line = " " * len(line)
        body.append(line)
        head = next((entry for entry in _LISTS if entry[0].match(stripped)), None)
        # a list goes on over its items, and over blank lines where it may hold them
        goes_on = list_item or (not stripped and open_list is not None and open_list[2])
        open_list = head or (open_list if goes_on else None)
        pos += len(line) + 1
    return split("\n".join(body), lang), skipped


def parse_article(text: str) -> Article:
    """Split a Japanese article into body sentences (``body_sentences``), 原題 headlines
    (split on 、 only: headlines hold ASCII commas) and skipped boilerplate."""
    sentences, skipped = body_sentences(text, "ja")
    headlines = []
    for m in _HEADLINES.finditer(text):
        start = m.start(1)
        for piece in m.group(1).split("、"):
            if piece.strip():
                a = start + len(piece) - len(piece.lstrip())
                headlines.append(Segment(piece.strip(), a, a + len(piece.strip())))
            start += len(piece) + 1
    return Article(sentences, headlines, skipped)


def has_headline_block(text: str) -> bool:
    """Whether the text has a 原題: line naming at least one headline."""
    return any(m.group(1).strip("、 \t\u3000") for m in _HEADLINES.finditer(text))
