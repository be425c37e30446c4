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

Quotations (both languages, one rule). A sentence ends inside a quotation (「」『』“” and
straight double quotes) unless the quotation sits inside a sentence, with words of that
sentence before and after it: ``彼は「晴れだ。雨だ。」と述べた`` and ``He said "Go. Now." and
left`` are one sentence each. A speech that opens a sentence (「晴れだ。雨だ」と述べた,
"Go. Now," he said) or ends one (彼は続けた、「…。…。」, He added, "Go. Now.") is split
at its sentence ends, as translation memories and the benchmarks' gold split it.
Quotes are matched within a paragraph; one left unclosed protects nothing, and one kept
whole holds at most 12 sentences (a compound bead's most), so a stray quote mark cannot
swallow the text after it.

Japanese. 。！？｡． and half-width !? end a sentence, never inside （）()【】〔〕 and the
like (matched by kind, as quotations are). Closing brackets right after 。 belong to the
sentence; after ``…。」`` a new sentence starts unless a particle follows (``…だ。」と述べた``
stays one sentence, ``「はい。」しかし…`` is two).

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
QUOTES = "「『“\""  # quotation openers: protected only inside a sentence (_within_sentence)
_GAP = 8  # spaces and closing marks looked through around a quotation
# sentences a quotation kept whole may hold: a compound bead's most (1-12, document.py)
MAX_QUOTED = 12
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
                elif _is_rule(line) or _is_rule(following):
                    joined = False  # a rule (---, ＊＊＊) stands alone, in both languages
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


def is_bare(text: str) -> bool:
    """Marks only, without a letter or a digit: a rule (---, ＊＊＊), OCR debris."""
    return not any(c.isalnum() for c in text)


def _is_rule(line: str) -> bool:
    """A line of three marks or more (---, * * *), not a wrapped sentence's stray % or 。"""
    return is_bare(line) and len("".join(line.split())) >= 3


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


def _pairs(marks: Iterator[tuple[int, bool, int]], kinds: int) -> list[Span]:
    """(opener, closer) positions of matched brackets, from (kind, opens, position) marks.
    An opener without its closer (or a stray closer) is dropped rather than protecting the
    rest of the paragraph. Linear: each kind keeps the stack depths of its openers, so a
    closer finds its opener without rescanning the stack."""
    stack: list[tuple[int, int]] = []  # (kind, position)
    depths: list[list[int]] = [[] for _ in range(kinds)]  # per kind, its openers' stack depths
    pairs = []
    for kind, opens, pos in marks:
        if opens:
            depths[kind].append(len(stack))
            stack.append((kind, pos))
        elif depths[kind]:
            depth = depths[kind][-1]
            pairs.append((stack[depth][1], pos))
            for inner, _ in stack[depth:]:  # each opener is dropped once: amortised linear
                depths[inner].pop()
            del stack[depth:]
    return pairs


def _ja_marks(text: str, start: int, end: int) -> Iterator[tuple[int, bool, int]]:
    for m in _BRACKET.finditer(text, start, end):
        kind = OPENERS.find(m.group())
        yield (kind, True, m.start()) if kind >= 0 else (CLOSERS.index(m.group()), False, m.start())


def _en_marks(text: str, start: int, end: int) -> Iterator[tuple[int, bool, int]]:
    """Double quotes, curly or straight (one kind). A straight one opens when a word
    (or an opening mark) follows it and no letter or digit comes right before it."""
    for m in _EN_QUOTE.finditer(text, start, end):
        q, p = m.group(), m.start()
        if q == '"':
            before, after = text[p - 1:p] if p > start else "", text[p + 1:p + 2] if p + 1 < end else ""
            opens = not before.isalnum() and (after.isalnum() or after in _OPENING_PUNCT)
        else:
            opens = q == "“"
        yield 0, opens, p


def _protected(text: str, start: int, end: int, lang: str, marks: list[int]) -> list[Span]:
    """Disjoint spans inside which no sentence ends. A quotation is protected only when it
    sits inside a sentence, with words of it before and after (see ``_within_sentence``),
    and holds at most MAX_QUOTED of the sentence-final ``marks`` (sorted positions): a
    longer one is more likely a stray quote mark than a speech. In Japanese the other
    brackets, （）【】〔〕 and the like, always are."""
    if lang == "ja":
        pairs = _pairs(_ja_marks(text, start, end), len(OPENERS))
    else:
        pairs = _pairs(_en_marks(text, start, end), 1)
    merged: list[Span] = []
    for o, c in sorted(pairs):
        if text[o] in QUOTES and not (
                _within_sentence(text, start, end, o, c, lang)
                and bisect.bisect_left(marks, c) - bisect.bisect_right(marks, o) <= MAX_QUOTED):
            continue
        if merged and o < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(c, merged[-1][1]))
        else:
            merged.append((o, c))
    return merged


def _within_sentence(text: str, start: int, end: int, o: int, c: int, lang: str) -> bool:
    """Whether the quotation ``text[o:c + 1]`` has words of its sentence before it and
    after it (彼は「…」と述べた, He said "…" and left), rather than opening or ending one."""
    return _words_before(text, start, o) and _words_after(text, end, c, lang)


def _words_before(text: str, start: int, o: int) -> bool:
    """Anything but a sentence end or a colon before ``o``. A few spaces and closing marks
    are looked through (a bounded look, so that nested quotes stay linear)."""
    i = o - 1
    while i >= max(start, o - _GAP) and (text[i].isspace() or text[i] in _TRAILING):
        i -= 1
    return i >= start and text[i] not in _JA_FINAL + _EN_FINAL + "：:"


def _words_after(text: str, end: int, c: int, lang: str) -> bool:
    """A particle or a comma (Japanese), a lowercase word or a comma (English) after ``c``."""
    j = c + 1
    while j < min(end, c + 1 + _GAP) and (text[j].isspace() or text[j] in _TRAILING):
        j += 1
    if lang == "ja":
        return bool(_JA_AFTER_QUOTE.match(text, j, end))
    return j < end and (text[j].islower() or text[j] in ",;:–—")


def _ja_is_final(text: str, s: int, e: int) -> bool:
    before, after = text[s - 1:s], text[e:e + 1]
    if text[s] in "!?" and before.isascii() and before.isalnum():
        return False  # Yahoo!, a Latin "Why?"
    if text[s:e] == "．" and before.isdigit() and after.isdigit():
        return False  # full-width decimal point
    return True


def _inside(spans: list[Span]) -> Callable[[int], bool]:
    """Whether a position lies strictly inside one of the sorted, disjoint spans."""
    opens = [o for o, _ in spans]

    def inside(pos: int) -> bool:
        i = bisect.bisect_right(opens, pos) - 1
        return i >= 0 and spans[i][0] < pos < spans[i][1]
    return inside


def _ja_cuts(text: str, start: int, end: int, inside_quotes: bool = False) -> list[int]:
    found = list(_JA_END.finditer(text, start, end))
    spans = _protected(text, start, end, "ja", [m.start() for m in found])
    inside = _inside(spans)

    def quote_goes_on(pos: int) -> bool:  # …だ。」と述べた
        return bool(_JA_AFTER_QUOTE.match(text, pos, end))

    cuts = set()
    for m in found:
        if (not inside_quotes and inside(m.start())) or not _ja_is_final(text, m.start(), m.end()):
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


def split_japanese(text: str, offset: int = 0) -> list[Segment]:
    units = _units(text, _ja_ends_sentence, _JA_CONTINUES, final_line_breaks=True)
    return _segments(text, offset, units, _ja_cuts)


# -- English --------------------------------------------------------------------------

_EN_FINAL = ".!?…"
_EN_RUN = re.compile(r"[.!?…]+")
_EN_CLOSING = "\"'”’)]"  # may follow the mark, part of the sentence
_EN_SPACED_QUOTE = "\"”'’"  # a closing quote set off by a space: `day. "`
_EN_QUOTE = re.compile('[“”"]')
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


def _en_ends(text: str, start: int, end: int) -> Iterator[Span]:
    """Sentence-final marks (a run of . ! ? …) with the closing quotes after them (also a
    quote set off by a space: `day. "`), followed by whitespace or the end. Linear: a run
    is found once, and the quotes after it are walked once (a regex with a lookahead
    backtracks through a long run of dots with no space after it)."""
    def ends_here(p: int) -> bool:
        return p >= end or text[p].isspace()

    for m in _EN_RUN.finditer(text, start, end):
        p = m.end()
        best = p if ends_here(p) else None
        while p < end:
            if text[p] in _EN_CLOSING:
                p += 1
            elif text[p] in " \t":
                q = p
                while q < end and text[q] in " \t":
                    q += 1
                if not (q < end and text[q] in _EN_SPACED_QUOTE and ends_here(q + 1)):
                    break
                p = q + 1
            else:
                break
            if ends_here(p):
                best = p
        if best is not None:
            yield m.start(), best


def _en_is_cut(text: str, s: int, e: int, sentence_start: int, end: int) -> bool:
    """Whether the sentence-final mark ``text[s:e]`` (followed by whitespace) ends a sentence."""
    nxt = e
    while nxt < end and text[nxt].isspace():
        nxt += 1
    first = text[nxt:nxt + 1]
    if not first or first.islower() or not (
            first.isupper() or first.isdigit() or first in _OPENING_PUNCT or not first.isascii()):
        return False  # "Why?" she asked; etc. and so on
    if text[s:e] != ".":
        return True  # ?, !, …, or a period inside quotes: Stop."
    token_start = s  # the word before the period (a walk back, not a search: linear)
    while token_start > sentence_start and text[token_start - 1] not in " \n\t":
        token_start -= 1
    token = text[token_start:s].lstrip(_OPENING_PUNCT)
    if token in _TITLES or (token in _BEFORE_NUMBER and first.isdigit()):
        return False
    if token.isdigit() and len(token) <= 3 and token_start == sentence_start:
        return False  # a numbered list: "1. First"
    if (len(token) == 1 and token.isalpha()) or _ACRONYM.fullmatch(token) \
            or token in _MAYBE_FINAL or token in _BEFORE_NUMBER:  # J. U.S. a.m. Inc. Jan.
        word = _NEXT_WORD.match(text, nxt, end)
        return "\n" in text[e:nxt] or bool(word and word.group(1) in _OPENER_WORDS)
    return True


def _en_cuts(text: str, start: int, end: int, inside_quotes: bool = False) -> list[int]:
    found = list(_en_ends(text, start, end))
    inside = _inside([] if inside_quotes else _protected(text, start, end, "en", [s for s, _ in found]))
    cuts = []
    sentence_start = start
    for s, e in found:
        if s < sentence_start or inside(s):
            continue
        if _en_is_cut(text, s, e, sentence_start, end):
            cuts.append(e)
            sentence_start = e
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


def split(text: str, lang: str, offset: int = 0) -> list[Segment]:
    """Split by language: "ja" by the Japanese rules, anything else ("en", "de", "fr" …)
    by the English ones."""
    if lang == "ja":
        return split_japanese(text, offset)
    return split_english(text, offset)


def sentence_ends(text: str, lang: str, inside_quotes: bool = False) -> list[int]:
    """The offsets ``0 < i < len(text)`` where a sentence ends inside ``text`` and more
    text follows, by the splitter's own rules, taking ``text`` as one run (no line or
    heading rules). ``inside_quotes``: ends inside a quotation kept whole (and, in
    Japanese, inside brackets) count too (彼は「はい。そうです。」と言った has one), though
    never before a closing bracket (…。」) or in a quote a particle carries on
    (「そうだ。」のように)."""
    if lang == "ja":
        cuts = _ja_cuts(text, 0, len(text), inside_quotes=inside_quotes)
    else:
        cuts = _en_cuts(text, 0, len(text), inside_quotes=inside_quotes)
    last = len(text.rstrip())
    return [c for c in cuts if c < last]


def inner_sentence_ends(text: str, lang: str = "ja") -> int:
    """How many sentence ends a segment holds before its own: a speech quoted inside a
    sentence (彼は「…。…。」と述べた) is one segment of several sentences."""
    return len(sentence_ends(text, lang, inside_quotes=True))
