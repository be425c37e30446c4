"""Read an alignment back: our JSON, a TMX, or a two-column TSV.

TMX and TSV give a document-mode ``Alignment`` with one segment per side per
pair (1-1, or 1-0 / 0-1 where a side is empty). Anything unreadable raises
``InputError`` with one line that names the file.
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections import Counter
from dataclasses import replace

from .errors import InputError
from .formats import by_extension
from .model import STATUSES, Alignment, Pair, Segment
from .schema import MAX_SEGMENTS

# An alignment holds both texts and their offsets: a few times its 20 MB sources.
MAX_BYTES = 100 * 1024 * 1024
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# First-row cells that mark a TSV header rather than a pair.
_HEADER_JA = {"ja", "ja-jp", "japanese", "source", "日本語", "原文"}
_HEADER_EN = {"en", "en-us", "en-gb", "english", "target", "英語", "訳文"}


def load_alignment(path_or_bytes: str | os.PathLike | bytes, name: str | None = None) -> Alignment:
    """Load a file (a path, or its bytes plus ``name`` for messages and the
    extension). The format comes from the extension, else from the content."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        data, name = bytes(path_or_bytes), name or "<input>"
        if len(data) > MAX_BYTES:
            raise InputError(f"{name}: too large ({len(data) / 2**20:.1f} MB; "
                             f"the limit is {MAX_BYTES // 2**20} MB)")
    else:
        from .sources import read_file_bytes
        data = read_file_bytes(path_or_bytes, MAX_BYTES)  # a regular file, of bounded size
        name = name or str(path_or_bytes)
    if not data.strip():
        raise InputError(f"{name}: empty file")
    known = by_extension(name)
    if known and not known.readable:
        raise _fail(name, f"{known.name.upper()} is written, not read back: "
                          "open the alignment's JSON, TMX or TSV")
    fmt = known.name if known else _sniff(data)
    return {"json": _load_json, "tmx": _load_tmx, "tsv": _load_tsv}[fmt](data, name)


def _sniff(data: bytes) -> str:
    encoding = "utf-16" if data[:2] in _UTF16_BOMS else "utf-8"
    head = data[:64].decode(encoding, "ignore").lstrip("\ufeff \t\r\n")[:1]
    return {"{": "json", "<": "tmx"}.get(head, "tsv")


def _fail(name: str, what: str) -> InputError:
    return InputError(f"{name}: " + " ".join(what.split()))


def _decode(data: bytes, name: str) -> str:
    """The text as the source files' reader detects it (UTF-8, UTF-16 as Excel's
    "Unicode text", CP932 as Excel's "Text" on Japanese Windows, ...), every character
    kept; a BOM left out."""
    from .sources import decode_exact
    return decode_exact(data, name).removeprefix("\ufeff")


def _check_count(count: int, what: str, name: str) -> None:
    """As many rows or units as a JSON alignment may hold pairs (``schema``): the
    model of more would not fit in memory (a million take about 1 GB)."""
    if count > MAX_SEGMENTS:
        raise _fail(name, f"{count:,} {what}; an alignment holds at most {MAX_SEGMENTS:,}")


def _build(rows: list[tuple[str | tuple[str, ...], str | tuple[str, ...], float, str]], name: str,
           found: str = "") -> Alignment:
    """One segment per non-empty side (a side given as several texts: one segment
    each, an m-n pair); rows with both sides empty carry nothing. A
    file with one language only is refused (``found``: what it holds instead), as
    the source reader refuses one side only."""
    ja: list[Segment] = []
    en: list[Segment] = []
    pairs = []
    for ja_text, en_text, score, status in rows:
        if not (ja_text or en_text):
            continue
        ja_parts = (ja_text,) if isinstance(ja_text, str) else ja_text
        en_parts = (en_text,) if isinstance(en_text, str) else en_text
        ja_ids = tuple(range(len(ja), len(ja) + len(ja_parts))) if ja_text else ()
        en_ids = tuple(range(len(en), len(en) + len(en_parts))) if en_text else ()
        ja += [Segment(t) for t in ja_parts] if ja_text else []
        en += [Segment(t) for t in en_parts] if en_text else []
        pairs.append(Pair(ja_ids, en_ids, score, status))
    if not pairs:
        raise _fail(name, "no pairs: every row is empty")
    if not (ja and en):
        raise _fail(name, f"no {'Japanese' if not ja else 'English'} text in any pair{found}: "
                          "an alignment needs both sides")
    return Alignment(tuple(ja), tuple(en), tuple(pairs))


IMPORT_NOTES = "import_notes"  # what a reader left out, for import_warning (meta key)


def import_warning(al: Alignment) -> tuple[Alignment, str | None]:
    """An imported alignment (less the reader's ``meta["import_notes"]``) and what is
    plainly wrong with it, or None: the languages of its sides (swapped columns or
    labels, English on both sides, a wrong encoding declared, Chinese or Korean where
    English should be), and what the reader had to leave out. A warning, not a
    refusal: what Taiyaku exported it reads back, and a side of names or figures is
    neither language."""
    from .sources import detect_language

    ja_text, en_text = (" ".join(s.text for s in side) for side in (al.ja, al.en))
    ja_is, en_is = detect_language(ja_text), detect_language(en_text)
    found = []
    if ja_is == "en" and en_is == "ja":
        found.append("the Japanese and English sides look swapped (English where the Japanese should be)")
    elif ja_is == "en":
        found.append("the Japanese side holds Latin-script text, not Japanese (English on both sides, "
                     "or a wrong encoding declared?)")
    elif en_is == "ja":
        found.append("the English side holds Japanese text: both sides look Japanese")
    if en_is == "other" and (other := _chinese_or_korean(en_text)):  # (a Japanese side may be all kanji)
        found.append(f"the English side holds {other} text")
    found += al.meta.get(IMPORT_NOTES, [])
    return _without_notes(al), "; ".join(found) or None


def _without_notes(al: Alignment) -> Alignment:
    return replace(al, meta={k: v for k, v in al.meta.items() if k != IMPORT_NOTES}) if IMPORT_NOTES in al.meta else al


def _chinese_or_korean(text: str) -> str | None:
    """"Korean" or "Chinese" when Hangul, or Han characters without kana, make most of
    a text's letters (a few names in kanji are neither)."""
    hangul = len(re.findall(r"[\u1100-\u11ff\uac00-\ud7af]", text))
    han = len(re.findall(r"[\u3400-\u9fff]", text))
    letters = hangul + han + len(re.findall(r"[A-Za-z\u3041-\u30ff]", text))
    if hangul >= 20 and hangul >= letters / 2:
        return "Korean"
    if han >= 20 and han >= letters / 2:
        return "Chinese"
    return None


# -- JSON ---------------------------------------------------------------------
def _load_json(data: bytes, name: str) -> Alignment:
    from .schema import check_alignment_json

    text = _decode(data, name)
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        # "Unterminated string starting at" names its place itself
        raise _fail(name, f"not valid JSON: {e.msg.removesuffix(' at')} at line {e.lineno}") from None
    except RecursionError:
        raise _fail(name, "not a Taiyaku alignment: nested too deeply") from None
    except ValueError as e:  # an integer of more than 4,300 digits; Python's advice cut
        raise _fail(name, f"not valid JSON: {str(e).split(';')[0]}") from None
    try:
        check_alignment_json(value)
    except InputError as e:
        what = str(e)
        if not what.startswith("not a Taiyaku alignment"):
            what = f"not a Taiyaku alignment: {what}"
        raise _fail(name, what) from None
    except RecursionError:
        raise _fail(name, "not a Taiyaku alignment: nested too deeply") from None
    return _without_notes(Alignment.from_json(value))  # the TMX reader's word to import_warning, not a file's


# -- TMX ----------------------------------------------------------------------
def _load_tmx(data: bytes, name: str) -> Alignment:
    # defusedxml: a TMX comes from anywhere; no entity expansion, no external fetches.
    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import ParseError, fromstring

    _check_count(len(re.findall(rb"<tu[\s>]", data)), "<tu> units", name)
    data = _as_utf8_xml(data, name)
    try:
        root = fromstring(data)
    except ParseError as e:
        raise _fail(name, f"malformed XML: {e}") from None
    except DefusedXmlException as e:
        raise _fail(name, f"XML refused for safety: it declares {_REFUSED.get(type(e).__name__, 'what a TMX does not need')} "
                          f"({type(e).__name__})") from None
    except ValueError as e:  # expat's own refusals (an encoding it cannot read)
        raise _fail(name, f"cannot read the XML: {e}") from None
    if root.tag != "tmx":
        raise _fail(name, f"not a TMX file (root element <{root.tag}>)")
    tus = root.findall("body/tu")
    if not tus:
        raise _fail(name, "no <tu> in the TMX")
    rows, langs, doubled, whole = [], set(), Counter(), 0
    for number, tu in enumerate(tus, 1):
        sides = {}
        for tuv in tu.findall("tuv"):
            if len(tuv.findall("seg")) > 1:  # TMX has one; which would be the text?
                raise _fail(name, f"<tu> {number}: a <tuv> with more than one <seg>, which TMX does not allow")
            # TMX 1.4 uses xml:lang, 1.1 plain lang; ja, ja-JP, JA_jp all count.
            lang = tuv.get(_XML_LANG) or tuv.get("lang") or ""
            langs.add(lang)
            seg = tuv.find("seg")
            primary = lang.replace("_", "-").split("-")[0].lower()
            if seg is not None:
                try:
                    text = _seg_text(seg)
                except InputError as e:
                    raise _fail(name, str(e)) from None
                if primary in sides and primary in ("ja", "en"):  # en-US and en-GB, say: one is kept
                    doubled[primary] += 1
                sides.setdefault(primary, text)
        if "ja" in sides or "en" in sides:
            props = {p.get("type"): (p.text or "") for p in tu.findall("prop")}
            cut = [_cut(sides.get(side, ""), props.get(f"x-taiyaku-{side}-cuts"), space)
                   for side, space in (("ja", ""), ("en", " "))]
            # an m-n pair's unit whose text changed since Taiyaku wrote its cuts: read whole, and said
            whole += any(props.get(f"x-taiyaku-{side}-cuts") and isinstance(c, str)
                         for side, c in zip(("ja", "en"), cut))
            rows.append((*cut, _prop_score(props.get("x-taiyaku-score")),
                         _prop_status(props.get("x-taiyaku-status"))))
    found = ", ".join(sorted(langs)) or "none"
    if not rows:
        raise _fail(name, f"no Japanese or English <tuv> in the TMX (languages: {found})")
    al = _build(rows, name, f" (languages: {found})")
    notes = [f"{n} <tu> with a second {'Japanese' if lang == 'ja' else 'English'} <tuv> (languages: {found}): "
             "the first of each kept" for lang, n in sorted(doubled.items())]
    if whole:
        notes.append(f"{whole} <tu> of an m-n pair edited since Taiyaku wrote it (its text no longer the one its "
                     "cuts were made for): read as one segment a side")
    return replace(al, meta={**al.meta, IMPORT_NOTES: notes}) if notes else al


# what defusedxml refuses, as the user reads it
_REFUSED = {"EntitiesForbidden": "XML entities", "DTDForbidden": "a DTD",
            "ExternalReferenceForbidden": "a reference to an external file"}
# Expat reads UTF-8, UTF-16 and Latin-1 only, under their canonical names: a TMX
# declared in another encoding (Shift_JIS, EUC-JP from an older CAT tool) or under
# another name ("UTF8"), or saved with a BOM that its declaration contradicts, is
# decoded here (a BOM first, else the declaration) and handed on as UTF-8, declared so.
_XML_ENCODING = re.compile(r"""\s*<\?xml[^>]*?\bencoding\s*=\s*["']([^"']*)["']""")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _as_utf8_xml(data: bytes, name: str) -> bytes:
    codec = next((codec for bom, codec in _BOMS if data.startswith(bom)), None)
    declared = codec
    if codec is None:
        m = _XML_ENCODING.match(data[:1024].decode("latin-1"))  # an ASCII-compatible declaration
        if not m:
            return data  # UTF-8, or UTF-16 without a BOM: expat's own
        declared = m[1]
        try:
            codec = codecs.lookup(declared).name
        except LookupError:
            raise _fail(name, f"unknown text encoding {declared!r} in its XML declaration") from None
        if codec.startswith(("utf-16", "utf-32")) or declared.upper() in ("UTF-8", "ISO-8859-1", "US-ASCII"):
            return data  # expat's own (for UTF-16 or -32 it says what is wrong): no copy of the file
        # Windows writes CP932 as "Shift_JIS": its extra characters (①, ㈱) included
        codec = "cp932" if codec == "shift_jis" else codec
    try:
        text = data.decode(codec).removeprefix("\ufeff")
        m = _XML_ENCODING.match(text)
        if m:
            text = text[:m.start(1)] + "UTF-8" + text[m.end(1):]
        return text.encode("utf-8")
    except LookupError:  # not a text encoding (base64, rot13)
        raise _fail(name, f"unknown text encoding {declared!r} in its XML declaration") from None
    except ValueError:  # UnicodeError: not that encoding, or lone surrogates (UTF-7)
        raise _fail(name, f"not {declared} text, as its XML declaration says") from None


_MAX_HI_DEPTH = 64


def _seg_text(elem, depth: int = 0) -> str:
    """The text of a <seg>: inline codes (<bpt>, <ph>, ...) hold native markup,
    not text, so only <hi> content is kept with the text around them."""
    if depth > _MAX_HI_DEPTH:
        raise InputError(f"<hi> nested too deeply (more than {_MAX_HI_DEPTH} levels)")
    parts = [elem.text or ""]
    for child in elem:
        if child.tag == "hi":
            parts.append(_seg_text(child, depth + 1))
        parts.append(child.tail or "")
    return "".join(parts)


def _cut(text: str, cuts: str | None, space: str) -> str | tuple[str, ...]:
    """A unit's text as the segments Taiyaku's TMX export joined in it
    (``x-taiyaku-*-cuts``: where each one after the first starts, and the text's
    checksum), or whole where the text is not the one cut (edited in another tool)."""
    from .export import cuts_checksum

    *starts, checksum = (cuts or "").split() or [""]
    if checksum != f"#{cuts_checksum(text)}":
        return text
    try:
        at = [int(c) for c in starts]
    except ValueError:
        return text
    if not at or at != sorted(set(at)) or at[0] <= 0 or at[-1] >= len(text):
        return text
    parts = [text[a:b] for a, b in zip([0] + at, at + [len(text)])]
    parts = tuple([part.removesuffix(space) for part in parts[:-1]] + parts[-1:])
    return parts if all(parts) and space.join(parts) == text else text


def _prop_score(value: str | None) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        return 0.0
    return score if 0.0 <= score <= 1.0 else 0.0


def _prop_status(value: str | None) -> str:
    return value if value in STATUSES else "auto"


# -- TSV ----------------------------------------------------------------------
def _load_tsv(data: bytes, name: str) -> Alignment:
    text = _decode(data, name)
    if "\n" not in text:  # classic Mac OS line ends (CR alone), as old Excel saves still write
        text = text.replace("\r", "\n")
    _check_count(text.count("\n"), "lines", name)
    # Split on \n only: text may hold characters str.splitlines() would break on.
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    numbered = [(n, line.split("\t")) for n, line in enumerate(lines, 1) if line]
    if not numbered:
        raise _fail(name, "empty file")
    first_n, first_fields = numbered[0]
    width = len(first_fields)
    if not 2 <= width <= 4:
        raise _fail(name, f"not JSON, TMX or a TSV of 2 to 4 columns (ja, en, score, "
                          f"status): line {first_n} has {width} field(s)")
    first = [cell.strip().lower() for cell in first_fields]
    if first[0] in _HEADER_JA and first[1] in _HEADER_EN:
        numbered = numbered[1:]
    rows = []
    for n, fields in numbered:
        if len(fields) != width:
            raise _fail(name, f"line {n} has {len(fields)} fields, expected {width}")
        ja, en, score, status = (fields + ["", ""])[:4]
        rows.append((ja, en, _tsv_score(score, n, name), _tsv_status(status, n, name)))
    return _build(rows, name)


def _tsv_score(value: str, n: int, name: str) -> float:
    try:
        score = float(value) if value.strip() else 0.0
    except ValueError:
        raise _fail(name, f"line {n}: score {value[:20]!r} is not a number") from None
    if not 0.0 <= score <= 1.0:
        raise _fail(name, f"line {n}: score {value[:20]!r} is not in [0, 1]")
    return score


def _tsv_status(value: str, n: int, name: str) -> str:
    value = value.strip() or "auto"
    if value not in STATUSES:
        raise _fail(name, f"line {n}: status {value[:20]!r} is not one of {', '.join(STATUSES)}")
    return value
