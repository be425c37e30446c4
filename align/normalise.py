"""Text as it is matched and embedded, never as it is shown or exported:
an ALL-CAPS line in sentence case, a headline without Bloomberg's marks.
Used by the encoders, the headline matcher, document pairing and the
exports (which drop the marks from headlines)."""

from __future__ import annotations

import re

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
