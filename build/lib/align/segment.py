"""Sentence splitting that keeps character offsets and never rewrites text.

Every segment is a span of the input: ``seg.text == text[seg.start - offset:seg.end - offset]``,
with the whitespace around it left out. A sentence wrapped over two lines keeps its newline.

Lines (both languages). A blank line ends a paragraph. Inside a paragraph a line that
does not end a sentence is either *wrapped* (joined to the next line) or a *heading*
(a segment of its own, like ``ウクライナ、潜水艦を攻撃``). It is wrapped when the next line is
not indented and
  - it ends with a comma or a hyphen (or, in English, a word like "the" or "of"), or
  - the next line starts with a lowercase letter, or
  - it is long (40 columns or more, a CJK character being two) and at least 3/4 as wide
    as the paragraph's widest line: hard-wrapped text fills its lines, a heading does not.
Otherwise it is a heading. So a short hard-wrapped line (``彼は`` / ``言った。``) is taken for
a heading; a line ending in a particle is not a sign, headlines end in へ, に, を too.
A Japanese line ending with 。！？ (or with 」 not followed by a particle) ends its
sentence; in English the sentence rules decide, so that ``Mr.`` at a line end does not.

Japanese. 。！？｡． and half-width !? end a sentence, never inside 「」『』（）()“”【】 and the
like. Brackets are matched by kind within a paragraph; a bracket left unclosed protects
nothing, so it cannot swallow the text after it. Closing brackets right after 。 belong
to the sentence; after ``…。」`` a new sentence starts unless a particle follows
(``…だ。」と述べた`` stays one sentence, ``「はい。」しかし…`` is two). ``split_quotes=True``
also splits a quotation that opens a sentence (a speech of several sentences), as the
English side is split; a quote inside a sentence (``彼は「…。…。」と述べた``) stays whole.

English (and any other language): . ! ? … (with closing quotes) followed by space, then a
capital letter, a digit or an opening quote. Titles (Mr. Dr. Sen. …), e.g./i.e. and
``No. 5`` / ``Jan. 5`` never end a sentence; initials, dotted acronyms (U.S., a.m.) and
Inc./Ltd./Jr. only do before a typical sentence opener (``The``, ``He`` …) or a line break.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from typing import Callable, Iterator

from .model import Segment

Span = tuple[int, int]

OPENERS = "「『（(“【〔［[｛{〈《"
CLOSERS = "」』）)”】〕］]｝}〉》"  # CLOSERS[i] closes OPENERS[i]
_TRAILING = CLOSERS + "\"'’"  # may follow a sentence end and belong to it
_SPACES = " \t\u3000"


# -- shared: lines, paragraphs, units ------------------------------------------------

def _paragraphs(text: str) -> Iterator[list[Span]]:
    """Runs of non-blank lines, as (start, end) spans without the newline."""
    block: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        if line.strip():
            block.append((pos, pos + len(line)))
        elif block:
            yield block
            block = []
        pos += len(line) + 1
    if block:
        yield block


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)


def _units(text: str, ends_sentence: Callable[[str, str], bool], continues: re.Pattern,
           final_line_breaks: bool) -> Iterator[Span]:
    """Spans to split into sentences: wrapped lines joined, headings on their own."""
    for block in _paragraphs(text):
        widest = max(_width(text[s:e].strip()) for s, e in block)
        start = block[0][0]
        for (s, e), nxt in zip(block, block[1:] + [None]):
            if nxt is not None:
                line, following = text[s:e].strip(), text[nxt[0]:nxt[1]]
                if following[:1].isspace():
                    joined = False  # an indented line opens a new paragraph
                elif ends_sentence(line, following.lstrip()):
                    joined = not final_line_breaks
                else:
                    joined = bool(continues.search(line) or following.lstrip()[:1].islower()
                                  or _width(line) >= max(40, widest * 3 // 4))
                if joined:
                    continue
            yield start, e
            if nxt is not None:
                start = nxt[0]


def _segments(text: str, offset: int, units: Iterator[Span],
              cuts: Callable[[str, int, int], list[int]]) -> list[Segment]:
    out = []
    for start, end in units:
        bounds = [start, *cuts(text, start, end), end]
        for s, e in zip(bounds, bounds[1:]):
            piece = text[s:e]
            lead = len(piece) - len(piece.lstrip())
            stripped = piece.strip()
            if stripped:
                a = offset + s + lead
                out.append(Segment(stripped, a, a + len(stripped)))
    return out


# -- Japanese ---------------------------------------------------------------------------

_JA_FINAL = "。！？｡．!?"
_JA_END = re.compile(f"[{_JA_FINAL}]+(?:[{_SPACES}]*[{re.escape(_TRAILING)}])*")
_BRACKET = re.compile(f"[{re.escape(OPENERS + CLOSERS)}]")
_JA_CONTINUES = re.compile(r"[、，,\-‐]$")
# After 「…。」 these continue the sentence: quotative and case particles, commas.
_JA_AFTER_QUOTE = re.compile(r"[とってのはがをにでもやへ、，,。．]|など|なんて")


def _ja_ends_sentence(line: str, following: str) -> bool:
    """A line ends its sentence with 。！？, or with 」 unless a particle goes on (」と述べた)."""
    if line.rstrip(_TRAILING + _SPACES)[-1:] in tuple(_JA_FINAL):
        return True
    return line[-1:] in "」』" and not _JA_AFTER_QUOTE.match(following)


def _protected(text: str, start: int, end: int, split_quotes: bool) -> list[Span]:
    """Disjoint spans covered by matched brackets. An opener without its closer (or a
    stray closer) is ignored rather than protecting the rest of the paragraph. With
    ``split_quotes``, a 「」『』 quote that opens a sentence protects nothing (but the
    brackets inside it do)."""
    stack: list[tuple[int, int]] = []  # (kind, position)
    pairs = []
    for m in _BRACKET.finditer(text, start, end):
        kind = OPENERS.find(m.group())
        if kind >= 0:
            stack.append((kind, m.start()))
            continue
        kind = CLOSERS.index(m.group())
        for depth in range(len(stack) - 1, -1, -1):
            if stack[depth][0] == kind:
                pairs.append((stack[depth][1], m.start()))
                del stack[depth:]
                break
    if split_quotes:
        pairs = [(o, c) for o, c in pairs
                 if not (text[o] in "「『" and _opens_sentence(text, start, o))]
    merged: list[Span] = []
    for o, c in sorted(pairs):
        if merged and o < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(c, merged[-1][1]))
        else:
            merged.append((o, c))
    return merged


def _opens_sentence(text: str, start: int, pos: int) -> bool:
    i = pos - 1
    while i >= start and text[i].isspace():
        i -= 1
    return i < start or text[i] in _JA_FINAL + CLOSERS + "：:"


def _ja_is_final(text: str, s: int, e: int) -> bool:
    before, after = text[s - 1:s], text[e:e + 1]
    if text[s] in "!?" and before.isascii() and before.isalnum():
        return False  # Yahoo!, a Latin "Why?"
    if text[s:e] == "．" and before.isdigit() and after.isdigit():
        return False  # full-width decimal point
    return True


def _ja_cuts(text: str, start: int, end: int, split_quotes: bool = False) -> list[int]:
    spans = _protected(text, start, end, split_quotes)
    opens = [o for o, _ in spans]

    def inside(pos: int) -> bool:
        i = bisect.bisect_right(opens, pos) - 1
        return i >= 0 and spans[i][0] < pos < spans[i][1]

    def quote_goes_on(pos: int) -> bool:  # …だ。」と述べた
        return bool(_JA_AFTER_QUOTE.match(text, pos, end))

    cuts = set()
    for m in _JA_END.finditer(text, start, end):
        if inside(m.start()) or not _ja_is_final(text, m.start(), m.end()):
            continue
        if text[m.end() - 1] in _TRAILING and quote_goes_on(m.end()):
            continue
        cuts.add(m.end())
    for _, close in spans:  # 「…。」 then a new sentence
        if text[close - 1] in _JA_FINAL:
            after = close + 1
            while after < end and text[after] in _TRAILING:
                after += 1
            if not quote_goes_on(after):
                cuts.add(after)
    return sorted(c for c in cuts if start < c < end)


def split_japanese(text: str, offset: int = 0, split_quotes: bool = False) -> list[Segment]:
    """Japanese sentences. ``split_quotes`` also splits a quotation that stands as
    sentences of its own (「…。…。」 opening a sentence), as English splitters do."""
    units = _units(text, _ja_ends_sentence, _JA_CONTINUES, final_line_breaks=True)
    return _segments(text, offset, units,
                     lambda t, s, e: _ja_cuts(t, s, e, split_quotes))


# -- English --------------------------------------------------------------------------

_EN_FINAL = ".!?…"
# A sentence end, with the closing quotes after it (also a quote set off by a space: `day. "`).
_EN_END = re.compile(r"[.!?…]+(?:[\"'”’)\]]|[ \t]+[\"”'’](?=\s|$))*(?=\s|$)")
_NEXT_WORD = re.compile(r"[\"'“‘(\[]*(\w+)")
_ACRONYM = re.compile(r"(?:[A-Za-z]{1,3}\.)+[A-Za-z]{1,3}")  # U.S, a.m, Ph.D (final dot cut off)
_EN_CONTINUES = re.compile(
    r"(?:[,;\-–]|\b(?:a|an|the|and|or|but|of|to|in|on|at|for|with|by|from|that|as))$")
_TITLES = set("Mr Mrs Ms Messrs Dr Prof Sen Sens Rep Reps Gov Gen Lt Col Capt Cpt Sgt Maj Adm "
              "Cmdr Rev Hon Pres Supt Det Insp St Mt Ft Fr e.g i.e cf vs v approx ca".split())
_BEFORE_NUMBER = set("No Nos Vol Fig Figs pp Art Sec Jan Feb Mar Apr Jun Jul Aug Sep Sept "
                     "Oct Nov Dec".split())
_MAYBE_FINAL = set("Inc Corp Ltd Co Bros Plc Llc Jr Sr etc".split())
_OPENER_WORDS = set("The A An He She It They We I You His Her Its Their Our My This That These "
                    "Those There Here But And Or So Yet In On At As If When While After Before "
                    "However Meanwhile Also Then Now What Why How Who Where Some Many Most All "
                    "One Both Each Such For From With By Under Over Since Still Last Next "
                    "Earlier Later".split())
_OPENING_PUNCT = "\"'“‘(["


def _en_ends_sentence(line: str, _following: str) -> bool:
    return line.rstrip(_TRAILING + _SPACES)[-1:] in tuple(_EN_FINAL)


def _en_is_cut(text: str, m: re.Match, sentence_start: int, end: int) -> bool:
    """Whether the sentence-final match ``m`` (followed by whitespace) ends a sentence."""
    nxt = m.end()
    while nxt < end and text[nxt].isspace():
        nxt += 1
    first = text[nxt:nxt + 1]
    if not first or first.islower() or not (
            first.isupper() or first.isdigit() or first in _OPENING_PUNCT or not first.isascii()):
        return False  # "Why?" she asked; etc. and so on
    if m.group() != ".":
        return True  # ?, !, …, or a period inside quotes: Stop."
    token_start = max(sentence_start,
                      *(text.rfind(c, sentence_start, m.start()) + 1 for c in " \n\t"))
    token = text[token_start:m.start()].lstrip(_OPENING_PUNCT)
    if token in _TITLES or (token in _BEFORE_NUMBER and first.isdigit()):
        return False
    if token.isdigit() and len(token) <= 3 and token_start == sentence_start:
        return False  # a numbered list: "1. First"
    if (len(token) == 1 and token.isalpha()) or _ACRONYM.fullmatch(token) \
            or token in _MAYBE_FINAL or token in _BEFORE_NUMBER:  # J. U.S. a.m. Inc. Jan.
        word = _NEXT_WORD.match(text, nxt, end)
        return "\n" in text[m.end():nxt] or bool(word and word.group(1) in _OPENER_WORDS)
    return True


def _en_cuts(text: str, start: int, end: int) -> list[int]:
    cuts = []
    sentence_start = start
    for m in _EN_END.finditer(text, start, end):
        if m.start() < sentence_start:
            continue
        if _en_is_cut(text, m, sentence_start, end):
            cuts.append(m.end())
            sentence_start = m.end()
            while sentence_start < end and text[sentence_start].isspace():
                sentence_start += 1
    return cuts


def split_english(text: str, offset: int = 0) -> list[Segment]:
    """English sentences; also used for other languages written in Latin script."""
    units = _units(text, _en_ends_sentence, _EN_CONTINUES, final_line_breaks=False)
    return _segments(text, offset, units, _en_cuts)


# -- presegmented input and the dispatcher ----------------------------------------------

def split_lines(text: str, offset: int = 0) -> list[Segment]:
    """One segment per non-blank line (input that is already one sentence a line)."""
    return _segments(text, offset, ((s, e) for block in _paragraphs(text) for s, e in block),
                     lambda _text, _s, _e: [])


def split(text: str, lang: str, offset: int = 0, *, split_quotes: bool = False) -> list[Segment]:
    """Split by language: "ja" by the Japanese rules, anything else ("en", "de", "fr" …)
    by the English ones."""
    if lang == "ja":
        return split_japanese(text, offset, split_quotes=split_quotes)
    return split_english(text, offset)


_TRAILING_END = re.compile(r"[\s" + re.escape(_JA_FINAL + "!?" + _TRAILING) + r"]+$")


def inner_sentence_ends(text: str) -> int:
    """How many sentence ends a segment holds before its own: a Japanese
    speech in 「」 is one segment of several sentences."""
    body = _TRAILING_END.sub("", text)
    return sum(body.count(c) for c in _JA_FINAL + "!?")


# TEMPORARY (replaced by the hardened splitter's one set of rules at merge)
import re as _re
_CUT_JA_ENDS = "。！？!?．"
_CUT_JA_OPEN = "「『（(【〈《“"
_CUT_JA_CLOSE = "」』）)】〉》”"
_CUT_QUOTATIVE = "とっ、，"  # 「…。」と述べた: the quote goes on as part of the sentence
_CUT_EN_END = _re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_CUT_EN_ABBREV = _re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Sen|Rep|Gov|No|Inc|Ltd|Co|Corp|vs|U\.S|e\.g|i\.e)\.$")


def sentence_ends(text: str, side: str, inside_quotes: bool = False) -> list[int]:
    """Character offsets inside ``text`` where a sentence ends and more text
    follows: where a segment the splitter left whole could be cut. Japanese
    sentence ends inside a quotation count too (a speech of several sentences
    is one segment, its translation several), but not a quote's own end when
    と or a comma follows (「…。」と述べた goes on)."""
    if side != "ja":
        return [m.end() for m in _CUT_EN_END.finditer(text)
                if text[m.end():].strip() and not _CUT_EN_ABBREV.search(text[:m.end()])]
    cuts, depth, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        at = None
        if ch in _CUT_JA_OPEN:
            depth += 1
        elif ch in _CUT_JA_CLOSE:
            depth = max(0, depth - 1)
            if depth == 0 and i > 0 and text[i - 1] in _CUT_JA_ENDS:
                at = i + 1
        elif ch in _CUT_JA_ENDS:
            at = i + 1
            while at < n and text[at] in _CUT_JA_ENDS:
                at += 1
        if at is not None:
            rest = text[at:]
            if rest.strip() and rest.lstrip()[0] not in _CUT_QUOTATIVE + _CUT_JA_ENDS + _CUT_JA_CLOSE:
                cuts.append(at)
            i = at
            continue
        i += 1
    return cuts


