"""Reading source texts: bytes to text, file formats, and the article layout.

Every function returns (or takes) *decoded text with line endings normalised to "\\n"*
(``\\r\\n`` and a lone ``\\r`` become ``\\n``). Segment offsets refer to that text, and for
.md / .html / .docx files to the extracted text, not to the bytes of the file.

Formats, by file extension: .txt, none or unknown: plain text. .md / .markdown: Markdown
with the markup that would pollute alignment taken out (headings' ``#``, emphasis
markers, ``[text](url)`` -> text, images, blockquote and list markers, code blocks
dropped). .html / .htm: the readable article text (trafilatura; plain lxml when it is missing or
finds nothing), no scripts, styles or menus, one paragraph per block, blank lines between.
.docx: the paragraphs (and table cells) of the body, joined with blank lines.
"""

from __future__ import annotations

import codecs
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .model import Segment
from .segment import split_japanese

MAX_BYTES = 20 * 1024 * 1024
_MB = 1024 * 1024
_ASCII_OR_KANA = re.compile(r"[\t\n\r\x20-\x7e\u3041-\u30ff]")

_MAGIC = [(b"\x89PNG\r\n\x1a\n", "PNG image"), (b"%PDF-", "PDF document"),
          (b"PK\x03\x04", "ZIP archive or Office document"), (b"\xff\xd8\xff", "JPEG image"),
          (b"GIF8", "GIF image"), (b"\xd0\xcf\x11\xe0", "old Office document"),
          (b"\x1f\x8b", "gzip archive")]


# -- bytes to text ------------------------------------------------------------------------

def decode(data: bytes, name: str) -> str:
    """Decode UTF-8 (with or without BOM), UTF-16 (BOM, or none but ASCII's NUL bytes),
    ISO-2022-JP, CP932 (Shift_JIS) or EUC-JP; raise InputError for empty or binary data."""
    if not data:
        raise InputError(f"{name}: empty file")
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            raise InputError(f"{name}: binary file ({kind}), not text")
    text = _decode(data, name)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise InputError(f"{name}: no text (only whitespace)")
    sample = text[:4096]
    controls = sum(unicodedata.category(c) == "Cc" and c not in "\t\n\f\v\x1b" for c in sample)
    if controls > len(sample) / 10:
        raise InputError(f"{name}: binary file (control characters), not text")
    return text


def _decode(data: bytes, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _strict(data, "utf-8-sig", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _strict(data, "utf-16", name)
    sample = data[:4096]
    if b"\0" in sample:
        return _decode_utf16_without_bom(data, sample, name)
    if b"\x1b$B" in sample or b"\x1b$@" in sample:  # ISO-2022-JP (mail): 7-bit, so before UTF-8
        try:
            return data.decode("iso2022_jp")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    candidates = []
    for encoding in ("cp932", "euc_jp"):
        try:
            candidates.append(data.decode(encoding))
        except UnicodeDecodeError:
            pass
    if not candidates:
        raise InputError(f"{name}: cannot decode as UTF-8, UTF-16, Shift_JIS or EUC-JP")
    # Both legacy decodings often succeed on the same bytes; the wrong one turns kana into
    # half-width katakana and rare kanji, so the one with more kana wins (CP932 on a tie).
    return max(candidates, key=_kana_count)


def _decode_utf16_without_bom(data: bytes, sample: bytes, name: str) -> str:
    """ASCII characters in UTF-16 have a NUL byte on one side: odd positions in LE,
    even ones in BE (not all of them: U+3000 has its NUL on the other side)."""
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    encoding = "utf-16-le" if odd > 2 * even else "utf-16-be" if even > 2 * odd else None
    if encoding and len(data) % 2 == 0:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            text = ""
        # Other bytes decode too, as CJK-looking junk; real text has ASCII or kana.
        head = text[:2000]
        if head and len(_ASCII_OR_KANA.findall(head)) >= 0.2 * len(head):
            return text
    raise InputError(f"{name}: binary file (NUL bytes), not text")


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
    """The text of a file (see the module doc for formats); the size is checked before
    anything is read."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{path}: is a folder, not a file")
    try:
        size = p.stat().st_size
        _check_size(size, str(path))
        data = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return read_bytes_source(data, str(path))


def read_bytes_source(data: bytes, name: str) -> str:
    """The text of uploaded bytes, the format chosen by the file name's extension."""
    _check_size(len(data), name)
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


def _check_size(size: int, name: str) -> None:
    if size > MAX_BYTES:
        raise InputError(f"{name}: too large ({size / _MB:.1f} MB; "
                         f"the limit is {MAX_BYTES // _MB} MB)")


def _docx_text(data: bytes, name: str) -> str:
    import docx  # python-docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError):
        raise InputError(f"{name}: not a Word .docx file") from None
    paragraphs = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            paragraphs += [cell.text for row in block.rows for cell in row.cells]
        else:
            paragraphs.append(block.text)
    return "\n\n".join(p.strip() for p in paragraphs if p.strip())


_WIDE = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_BREAK = re.compile(f"(?<=[{_WIDE}])[ \t]*\n\\s*(?=[{_WIDE}])")


def _html_text(html: str) -> str:
    """The article's blocks, one paragraph each: trafilatura picks the article (and drops
    menus, related links, comments), lxml turns its cleaned HTML into text."""
    html = _CJK_BREAK.sub("", html)  # a line break between Japanese characters is no space
    text = _lxml_text(_trafilatura_html(html) or "") or _lxml_text(html)
    return "\n\n".join(line for line in text.split("\n") if line)


def _trafilatura_html(html: str) -> str | None:
    try:
        import trafilatura
    except ImportError:  # trafilatura needs lxml_html_clean with lxml >= 5.2
        return None
    return trafilatura.extract(html, favor_recall=True, include_comments=False,
                               include_tables=True, output_format="html")


# Page furniture; a header or footer inside the article (its title) is kept.
_DROP = ("//script | //style | //nav | //aside | //noscript | //template | //form | //iframe"
         " | //svg | //head | //header[not(ancestor::article)] | //footer[not(ancestor::article)]")
_BLOCKS = set("p div h1 h2 h3 h4 h5 h6 ul ol li dl dt dd blockquote pre table tr td th br "
              "section article header footer figure figcaption caption".split())


def _lxml_text(html: str) -> str:
    import lxml.etree
    import lxml.html

    try:  # lxml refuses a str that still declares its encoding
        root = lxml.html.document_fromstring(re.sub(r"^\s*<\?xml[^>]*\?>", "", html))
    except (ValueError, lxml.etree.ParserError):
        return ""
    for element in root.xpath(_DROP):
        element.drop_tree()
    for element in root.iter():
        if element.tag in _BLOCKS:  # each block becomes a line of its own
            element.text = "\u2029" + (element.text or "")
            element.tail = "\u2029" + (element.tail or "")
    return "\n".join(" ".join(block.split()) for block in root.text_content().split("\u2029"))


_FENCE = re.compile(r"^\s*(```|~~~)")
_MD_RULES = [
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$"), ""),                # link reference definition
    (re.compile(r"^\s{0,3}([=\-*_]\s*){3,}$"), ""),               # rule, setext underline
    (re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$"), r"\1"),  # ATX heading
    (re.compile(r"^\s*(>\s?)+"), ""),                             # blockquote
    (re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+"), ""),            # list marker
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),                    # image
    (re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\[[^\]]*\])"), r"\1"),  # link
    (re.compile(r"`([^`]+)`"), r"\1"),                            # inline code
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),        # strong
    (re.compile(r"(?<!\*)\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?!\*)"), r"\1"),  # emphasis
    (re.compile(r"(?<!\w)_(?=[^\s_])(.+?)(?<=[^\s_])_(?!\w)"), r"\1"),
]


def _markdown_text(text: str) -> str:
    lines, in_code = [], False
    for line in text.split("\n"):
        if _FENCE.match(line):
            in_code = not in_code
            continue
        if in_code:
            continue
        for pattern, replacement in _MD_RULES:
            line = pattern.sub(replacement, line)
        lines.append(line.rstrip())
    return "\n".join(lines).strip("\n")


# -- which language ------------------------------------------------------------------------

def detect_language(text: str) -> str:
    """"ja" when kana and kanji dominate (with some kana: Chinese has none), "en" when Latin
    letters do (any Latin-script language: the English rules split it), else "other"."""
    sample = text[:200_000]
    kana = len(re.findall(r"[\u3041-\u30ff\uff66-\uff9d]", sample))
    kanji = len(re.findall(r"[\u3400-\u9fff\uf900-\ufaff]", sample))
    latin = len(re.findall(r"[A-Za-z\u00c0-\u024f]", sample))
    letters = kana + kanji + latin
    if not letters:
        return "other"
    if kana + kanji >= 0.3 * letters and kana >= 0.1 * (kana + kanji):
        return "ja"
    if latin >= 0.7 * letters:
        return "en"
    return "other"


# -- the article: body, 原題 headline block, boilerplate ------------------------------------

_HEADLINES = re.compile(r"^[ \t\u3000]*原題[:：][ \t\u3000]*(.*)$", re.M)
_BOILERPLATE = re.compile(
    r"(?:Photographer|Photo|写真)[:：]"
    r"|©|\([cC]\)\s*\d{4}|Copyright\b"
    r"|もっと読むには"
    r"|[-－―—‐]*\s*取材協力[:：]|--\s*With assistance from"
    r"|原題[:：]"
    r"|[（(][^（）()]*ます[)）]$"                      # (…を追加して更新します)
    r"|【?関連記事】?(?:[:：]|$)"
    r"|記事(?:について|に関する)の?(?:記者|エディター)への問い合わせ先"
    r"|To contact the (?:reporter|editor)"
    r"|(?:出所|出典)[:：]")                          # chart sources
_RELATED = re.compile(r"【?関連記事】?(?:[:：]|$)")  # a list of bullet lines follows
_BULLET = re.compile(r"[・●■◆\-*]")


@dataclass(frozen=True)
class Article:
    """A Japanese article: body sentences, the English headlines of its 原題 line, and the
    boilerplate lines left out of alignment; all offsets point into the parsed text."""

    ja: list[Segment] = field(default_factory=list)
    headlines: list[Segment] = field(default_factory=list)
    skipped: list[Segment] = field(default_factory=list)


def parse_article(text: str, split_quotes: bool = False) -> Article:
    """Split an article into body sentences, 原題 headlines (split on 、 only: headlines
    hold ASCII commas) and skipped boilerplate: photo credits, ©, もっと読むには, 取材協力,
    the 原題 line, update notes such as (…を追加して更新します), 関連記事 with the bullet
    lines under it, contacts, chart sources."""
    body, skipped = [], []  # boilerplate lines become blanks, so the body keeps its offsets
    in_related = False
    pos = 0
    for line in text.split("\n"):
        stripped = line.strip()
        related_item = in_related and bool(_BULLET.match(stripped))
        if stripped and (_BOILERPLATE.match(stripped) or related_item):
            start = pos + len(line) - len(line.lstrip())
            skipped.append(Segment(stripped, start, start + len(stripped)))
            line = " " * len(line)
        body.append(line)
        in_related = (bool(_RELATED.match(stripped)) or related_item
                      or (in_related and not stripped))
        pos += len(line) + 1
    headlines = []
    for m in _HEADLINES.finditer(text):
        start = m.start(1)
        for piece in m.group(1).split("、"):
            if piece.strip():
                a = start + len(piece) - len(piece.lstrip())
                headlines.append(Segment(piece.strip(), a, a + len(piece.strip())))
            start += len(piece) + 1
    return Article(split_japanese("\n".join(body), split_quotes=split_quotes),
                   headlines, skipped)


def has_headline_block(text: str) -> bool:
    """Whether the text has a 原題: line naming at least one headline."""
    return any(m.group(1).strip("、 \t\u3000") for m in _HEADLINES.finditer(text))


# -- headline keys -------------------------------------------------------------------------

# Short words that stay lowercase when an ALL-CAPS headline is put in sentence case; any
# other word of 2-4 letters is taken for an acronym (US, NATO, SBU, ECB) and kept.
_COMMON = set("""am an as at be by do go he if in is it me my no of oh ok on or so to up we
all and any are ask bad big bid boy but buy can car cut day did die due end eye far few fit fly
for fun gas get got gun had has her him his hit hot how job key kid law lay led let lie low man
may men met mix new nor not now odd off oil old one our out own pay per put ran raw red rid run
sad saw say sea see set she six sky son sue sun tax ten the tie too top try two use via war was
way who why win won yet you
able also area army away back bank base bear beat been best bill bond book boom both call came
card care case cash cost city come cuts data date days deal debt deep done door down draw drop
each ease east easy else ends even ever eyes face fact fail fair fall fast fear feel fell file
fill find fine fire firm five flat flow food form four free from fuel full fund gain game gave
gets gift give goal goes gold gone good grow half hand hard have head hear held help here high
hike hire hits hold home hope hour huge idea into item jobs join just keep kept kill kind know
land last late lead left less life like line link list live loan long look lose loss lost love
made main make many mark meet more most move much must name near need news next nine none note
once only open over paid part pass past path pick plan play plea poll poor port post pull push
race rain rate read real rely rest rise risk road role rose rule runs safe said sale same save
says seek seen sell send sent sets ship shop shot show shut side sign site size slip slow soft
sold some soon spot stay step stop such sure take talk task team tell term test than that them
then they this thus time told tone took tops tour town trip true turn type unit upon used vote
wage wait walk wall want warn week well went were what when will wins with word work year your
zero""".split())
_VERSION = re.compile(r"\s*\(\d+\)$")
_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def without_marks(text: str) -> str:
    """A headline without Bloomberg's marks: the leading ``*`` (flash) and the
    trailing version `` (2)``."""
    return _VERSION.sub("", text.strip().lstrip("*").strip())


def headline_key(text: str) -> str:
    """The headline as it should be matched: no marks (``without_marks``), and
    an ALL-CAPS line in sentence case."""
    return sentence_case(without_marks(text))


def sentence_case(key: str) -> str:
    """An ALL-CAPS (Latin-script) line in sentence case: lowercase but for the first letter
    (and the first after a colon), acronyms and tokens with digits (G7). An acronym is a
    word of 2-4 letters that is not a common English word (US, NATO, SBU stay; ON, IS do
    not) or a dotted one (U.S.). A first word ending in a colon is a speaker (``MERZ: …`` ->
    ``Merz: …``). Other names cannot be told from words and come out lowercase
    (``ukraine``). Any other text, Japanese with an acronym in it included, is returned
    as it is."""
    letters = re.findall(r"[A-Za-z]", key)
    if len(letters) < 5 or any(c.islower() for c in letters):
        return key
    if _KANA_KANJI.search(key):
        return key
    first = True
    def token(m: re.Match) -> str:
        nonlocal first
        word = m.group()
        core = word.strip("'\"‘’“”()[],.;:!?*-")
        kept = (any(c.isdigit() for c in word) or re.fullmatch(r"(?:[A-Z]\.)+[A-Z]?", core))
        if m.start() == 0 and word.endswith(":") and not kept:
            word = word.capitalize()
        elif not (kept or (2 <= len(core) <= 4 and core.isalpha()
                           and core.lower() not in _COMMON)):
            word = word.lower()
        if first and core:
            word = re.sub(r"[A-Za-z]", lambda c: c.group().upper(), word, count=1)
            first = False
        first = first or word.endswith(":")
        return word

    return re.sub(r"\S+", token, key)
