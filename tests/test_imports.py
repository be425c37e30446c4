"""Reading alignments back (JSON, TMX, TSV), and round trips through export
over arbitrary Unicode (hypothesis)."""

import json
import re

import pytest
from hypothesis import example, given, settings, strategies as st
from lxml import etree

from align import export
from align.errors import InputError
from align.imports import import_warning, load_alignment
from align.model import STATUSES, Alignment, Candidate, Pair, Segment

from test_export import SAMPLE, make


def pairs_of(al):
    return [(al.ja_text(p), al.en_text(p), p.score, p.status) for p in al.pairs]


# -- choosing the format ------------------------------------------------------
def test_by_extension_path_and_bytes(tmp_path):
    for fmt in ("json", "tmx", "tsv"):
        path = tmp_path / f"a.{fmt}"
        export.write(SAMPLE, path, fmt, **({"score": True} if fmt == "tsv" else {}))
        assert pairs_of(load_alignment(path))[:2] == pairs_of(load_alignment(path.read_bytes()))[:2]
    assert load_alignment(tmp_path / "a.json") == SAMPLE


def test_sniffs_content_when_the_extension_says_nothing():
    assert load_alignment(export.render(SAMPLE, "json"), "upload") == SAMPLE
    assert len(load_alignment(export.render(SAMPLE, "tmx"), "x.dat").pairs) == 2
    assert pairs_of(load_alignment(b"\xef\xbb\xbfa\tb\n"))[0] == ("a", "b", 0.0, "auto")


def test_extension_wins_over_content():
    with pytest.raises(InputError, match=r"^a\.json: not valid JSON"):
        load_alignment(b"a\tb\n", "a.json")


@pytest.mark.parametrize("data, name, message", [
    (b"", "e.tsv", "empty file"),
    (b" \n\n", "e.json", "empty file"),
    (b"just a line of text\n", "notes.md", "not JSON, TMX or a TSV"),
    (b"PK\x03\x04\x14\x00\x08\x00\x08\x00\x9c\xa1\xb2", "book.xlsx", "XLSX is written, not read back"),
    (b"PK\x03\x04\x14\x00\x08\x00\x08\x00\x9c\xa1\xb2", "book.tsv", r"binary file \(ZIP archive"),
    (b"\x89PNG\r\n\x1a\n\x00", "a.json", r"binary file \(PNG image\), not text$"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [' + b"9" * 5000 + b']}]}', "a.json",
     r"not valid JSON: Exceeds the limit \(4300 digits\) for integer string conversion: "
     r"value has 5000 digits$"),
    (b'{"ja": [], "en": []}', "a.json", "not a Taiyaku alignment: no 'pairs'$"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [3]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: segment 3 does not exist \(the side has 1\)$"),
    (b'{"pairs": [{"ja": [], "en": [], "status": "done"}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].status: 'done' is not one of"),
    (b'{"pairs": 5}', "a.json", "not a Taiyaku alignment"),
    (b'{"ja": [{"start": 0}], "pairs": []}', "a.json",
     r"not a Taiyaku alignment: ja\[0\]: must be a string or an object with a text$"),
    # hostile JSON: every field checked, one line naming it
    (b"[" * 100_000 + b"]" * 100_000, "a.json", "not a Taiyaku alignment: nested too deeply$"),
    (b'{"ja": ["x"], "en": ["y"], "pairs": [{"ja": [0], "en": [0], "score": NaN}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].score: nan is not a number in \[0, 1\]$"),
    (b'{"ja": ["x"], "en": ["y"], "pairs": [{"ja": [0], "en": [0], "score": -Infinity}]}',
     "a.json", r"not a Taiyaku alignment: pairs\[0\].score: -inf is not"),
    (b'{"ja": ["x"], "en": ["y"], "pairs": [{"ja": [0], "en": [0], "score": 1.5}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].score: 1.5 is not"),
    (b'{"ja": ["x"], "en": ["y"], "pairs": [{"ja": [0], "en": [0], "score": "0.5"}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].score: '0.5' is not"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": "10"}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: must be a list of segment ids, not '10'$"),
    (b'{"ja": ["x", "y"], "en": [], "pairs": [{"ja": [1.5]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: 1.5 is not a segment id"),
    (b'{"ja": ["x", "y"], "en": [], "pairs": [{"ja": [true]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: True is not a segment id"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [1e999]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: inf is not a segment id"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [' + b"9" * 40 + b']}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: segment 9+[.]{3} does not exist"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [' + b"9" * 5000 + b']}]}', "a.json",
     "not valid JSON: "),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [0, 0]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].ja: names a segment twice$"),
    (b'{"ja": ["x"], "en": [], "pairs": [{"ja": [0]}, {"ja": [0]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[1\].ja: segment 0 is already in another pair$"),
    (b'{"ja": ["x"], "en": ["h"], "mode": "headlines", "pairs": [{"ja": [0], "en": [0], '
     b'"candidates": [{"ja": [4], "score": 0.5}]}]}', "a.json",
     r"not a Taiyaku alignment: pairs\[0\].candidates\[0\].ja: segment 4 does not exist"),
    (b'{"ja": [{"text": "x", "start": -1}], "pairs": []}', "a.json",
     r"not a Taiyaku alignment: ja\[0\].start: -1 is not an offset$"),
    (b'{"ja": [{"text": "x", "start": 5, "end": 2}], "pairs": []}', "a.json",
     r"not a Taiyaku alignment: ja\[0\]: starts at 5, after its end at 2$"),
    (b'{"mode": "x", "pairs": []}', "a.json", "not a Taiyaku alignment: mode: 'x' is not one of"),
    (b'{"meta": [], "pairs": []}', "a.json", "not a Taiyaku alignment: meta: must be an object$"),
    (b"<tmx><body><tu><tuv xml:lang='ja'><seg>" + b"<hi>" * 5000 + b"x" + b"</hi>" * 5000
     + b"</seg></tuv></tu></body></tmx>", "a.tmx", r"<hi> nested too deeply \(more than 64"),
    (b"{oops", "a.json", "not valid JSON: Expecting property name"),
    (b"<tmx><body><tu>", "a.tmx", "malformed XML: no element found: line 1"),
    (b"<html><body/></html>", "a.tmx", r"not a TMX file \(root element <html>\)"),
    (b'<tmx version="1.4"><header/><body/></tmx>', "a.tmx", "no <tu> in the TMX"),
    (b'<tmx><body><tu><tuv xml:lang="de"><seg>Hallo</seg></tuv>'
     b'<tuv xml:lang="fr-FR"><seg>Salut</seg></tuv></tu></body></tmx>', "a.tmx",
     r"no Japanese or English <tuv> in the TMX \(languages: de, fr-FR\)"),
    (b'<tmx><body><tu><tuv xml:lang="ja"><seg/></tuv></tu></body></tmx>', "a.tmx", "no pairs"),
    # one side only: a mislabelled or one-language file is refused, not read half
    (b'<tmx><body><tu><tuv xml:lang="de-DE"><seg>Hallo</seg></tuv>'
     b'<tuv xml:lang="en-US"><seg>Hello</seg></tuv></tu></body></tmx>', "a.tmx",
     r"no Japanese text in any pair \(languages: de-DE, en-US\): an alignment needs both sides$"),
    (b'<tmx><body><tu><tuv xml:lang="ja"><seg>\xe4\xb8\x80</seg></tuv>'
     b'<tuv xml:lang="ja"><seg>one</seg></tuv></tu></body></tmx>', "a.tmx", "no English text in any pair"),
    ("一\t\n二\t\n".encode(), "a.tsv", "no English text in any pair: an alignment needs both sides$"),
    (b'<?xml version="1.0" encoding="x-bogus"?><tmx/>', "a.tmx",
     "unknown text encoding 'x-bogus' in its XML declaration$"),
    (b'<?xml version="1.0" encoding="base64"?><tmx/>', "a.tmx", "unknown text encoding 'base64'"),
    ('<?xml version="1.0" encoding="EUC-JP"?><tmx>東京</tmx>'.encode("utf-8"), "a.tmx",
     "not EUC-JP text, as its XML declaration says$"),
    (b'<?xml version="1.0" encoding="utf-7"?><tmx><seg>+2AA-</seg></tmx>', "a.tmx",  # a lone surrogate
     "not utf-7 text, as its XML declaration says$"),
    (b"ja\ten\n\t\n", "a.tsv", "no pairs: every row is empty"),
    (b"a\tb\nc\td\te\n", "a.tsv", "line 2 has 3 fields, expected 2"),
    (b"\n\na\tb\tc\td\te\n", "a.tsv", "not JSON, TMX or a TSV of 2 to 4 columns .* line 3 has 5"),
    (b"a\tb\t0.x\n", "a.tsv", "line 1: score '0.x' is not a number"),
    (b"a\tb\t7\n", "a.tsv", r"line 1: score '7' is not in \[0, 1\]"),
    (b"ja\ten\tscore\tstatus\na\tb\t0.5\tdone\n", "a.tsv", "line 2: status 'done' is not one of"),
])
def test_bad_input_is_one_line_naming_the_file(data, name, message):
    with pytest.raises(InputError, match=f"^{re.escape(name)}: {message}") as info:
        load_alignment(data, name)
    assert "\n" not in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nothing\.tmx: no such file$"):
        load_alignment(tmp_path / "nothing.tmx")
    with pytest.raises(InputError, match=r"^/dev/zero: not a regular file"):
        load_alignment("/dev/zero")


def test_entity_expansion_is_refused():
    bomb = (b'<?xml version="1.0"?><!DOCTYPE tmx [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
            b'<tmx><body><tu><tuv xml:lang="ja"><seg>&b;</seg></tuv></tu></body></tmx>')
    with pytest.raises(InputError, match=r"^bomb.tmx: XML refused for safety: it declares XML entities "
                                         r"\(EntitiesForbidden\)$"):
        load_alignment(bomb, "bomb.tmx")


# -- TMX ----------------------------------------------------------------------
FOREIGN_TMX = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE tmx SYSTEM "tmx14.dtd">
<tmx version="1.4"><header creationtool="Other" srclang="ja" segtype="sentence" o-tmf="x"
 adminlang="en" datatype="plaintext" creationtoolversion="1"/>
<body>
 <tu><tuv xml:lang="JA-JP"><seg>太字の<bpt i="1">&lt;b&gt;</bpt>語<ept i="1">&lt;/b&gt;</ept>です。</seg></tuv>
     <tuv xml:lang="en-GB"><seg>A <hi>bold</hi> word<ph>&lt;br/&gt;</ph>.</seg></tuv></tu>
 <tu><tuv xml:lang="ja_JP"><seg>二つ目</seg></tuv><tuv xml:lang="EN"><seg>Second</seg></tuv>
     <tuv xml:lang="de-DE"><seg>Zweite</seg></tuv></tu>
 <tu><tuv lang="ja"><seg>古い形式</seg></tuv><tuv lang="en-US"><seg>TMX 1.1 style</seg></tuv></tu>
 <tu><prop type="x-taiyaku-score">2.5</prop><prop type="x-taiyaku-status">final</prop>
     <tuv xml:lang="ja-JP"><seg>訳なし</seg></tuv></tu>
 <tu><tuv xml:lang="en-US"><seg>Only English</seg></tuv></tu>
 <tu><tuv xml:lang="fr"><seg>Seulement</seg></tuv></tu>
</body></tmx>""".encode("utf-8")


def test_tmx_from_another_tool():
    al = load_alignment(FOREIGN_TMX, "other.tmx")
    assert pairs_of(al) == [
        ("太字の語です。", "A bold word.", 0.0, "auto"),
        ("二つ目", "Second", 0.0, "auto"),
        ("古い形式", "TMX 1.1 style", 0.0, "auto"),
        ("訳なし", "", 0.0, "auto"),
        ("", "Only English", 0.0, "auto")]
    assert [p.kind for p in al.pairs] == ["1-1", "1-1", "1-1", "1-0", "0-1"]
    assert al.mode == "document"


def test_a_tuv_with_two_segs_is_refused_not_read_half():
    tmx = ('<?xml version="1.0"?><tmx version="1.4"><header/><body>'
           '<tu><tuv xml:lang="ja"><seg>一</seg><seg>二</seg></tuv><tuv xml:lang="en"><seg>One</seg></tuv></tu>'
           '</body></tmx>').encode()
    with pytest.raises(InputError, match="<tu> 1: a <tuv> with more than one <seg>"):
        load_alignment(tmx, "two.tmx")


@pytest.mark.parametrize("declared, codec, ja, en", [
    ("Shift_JIS", "cp932", "①東京駅「㈱」です", "Tokyo Station"), ("EUC-JP", "euc_jp", "東京駅です", "Tokyo"),
    ("ISO-2022-JP", "iso2022_jp", "東京駅です", "Tokyo"), ("windows-1252", "cp1252", "Tôkyô", "“café” – bar")])
def test_tmx_in_a_legacy_encoding_is_read_as_declared(declared, codec, ja, en):
    # XML's own parser reads UTF-8, UTF-16 and Latin-1 only; older CAT tools write these
    tmx = (f'<?xml version="1.0" encoding="{declared}"?>\n<tmx version="1.4"><body><tu>'
           f'<tuv xml:lang="ja-JP"><seg>{ja}</seg></tuv><tuv xml:lang="en-US"><seg>{en}</seg></tuv>'
           '</tu></body></tmx>')
    assert pairs_of(load_alignment(tmx.encode(codec), "legacy.tmx")) == [(ja, en, 0.0, "auto")]


@pytest.mark.parametrize("head, codec", [
    ("\ufeff<?xml version='1.0' encoding='Shift_JIS'?>", "utf-8"),   # the BOM wins
    ("<?xml version='1.0' encoding='EUC-JP'?>", "utf-16"),           # Notepad's "Unicode" save (BOM)
    ("\ufeff<?xml version='1.0'?>", "utf-32-le"),
    ("<?xml version='1.0' encoding='UTF8'?>", "utf-8")])           # a name expat does not know
def test_tmx_under_a_declaration_its_bytes_contradict(head, codec):
    body = '<tmx><body><tu><tuv xml:lang="ja"><seg>東京</seg></tuv><tuv xml:lang="en"><seg>Tokyo</seg></tuv></tu></body></tmx>'
    assert pairs_of(load_alignment((head + body).encode(codec), "a.tmx")) == [("東京", "Tokyo", 0.0, "auto")]


def test_tmx_props_and_merged_segments_read_back():
    al = load_alignment(export.to_tmx(SAMPLE, include_empty=True), "ours.tmx")
    assert pairs_of(al) == pairs_of(SAMPLE)
    assert [p.kind for p in al.pairs] == [p.kind for p in SAMPLE.pairs] == ["2-1", "1-2", "1-0", "0-1"]
    assert al.ja == tuple(Segment(s.text) for s in SAMPLE.ja) and al.en == tuple(Segment(s.text) for s in SAMPLE.en)


@pytest.mark.parametrize("side, cuts, edited", [
    ("en", "7", None), ("en", "0", None), ("en", "12", None), ("en", "3 3", None), ("en", "x", None),
    ("en", "4 2", None), ("en", "", None), ("en", "5", "Only one. Two."),  # a word added where a space was
    ("ja", "2", "昨日と一。二。"),                                          # Japanese: any cut would "fit"
])
def test_tmx_cuts_that_do_not_fit_the_text_leave_it_whole(side, cuts, edited):
    """A unit edited in another tool keeps its text as one segment, never a wrong split."""
    from align.export import cuts_checksum
    texts = {"ja": "一。二。", "en": "One. Two."}
    prop = f"{cuts} #{cuts_checksum(texts[side])}" if cuts else ""
    texts[side] = edited or texts[side]  # edited after the export wrote its cuts
    tmx = (f'<tmx version="1.4"><header/><body><tu><prop type="x-taiyaku-{side}-cuts">{prop}</prop>'
           f'<tuv xml:lang="ja"><seg>{texts["ja"]}</seg></tuv><tuv xml:lang="en"><seg>{texts["en"]}</seg></tuv>'
           '</tu></body></tmx>')
    al = load_alignment(tmx.encode(), "edited.tmx")
    assert (al.ja_text(al.pairs[0]), al.en_text(al.pairs[0])) == (texts["ja"], texts["en"]) and al.pairs[0].kind == "1-1"
    _, warning = import_warning(al)  # and said, so that the translator knows why the pair is 1-1 now
    assert (warning is not None and "1 <tu> of an m-n pair edited since Taiyaku wrote it" in warning) == bool(cuts)


def test_tmx_cuts_of_the_text_as_written_split_it():
    from align.export import cuts_checksum
    tmx = ('<tmx version="1.4"><header/><body><tu>'
           f'<prop type="x-taiyaku-ja-cuts">2 #{cuts_checksum("一。二。")}</prop>'
           f'<prop type="x-taiyaku-en-cuts">5 #{cuts_checksum("One. Two.")}</prop>'
           '<tuv xml:lang="ja"><seg>一。二。</seg></tuv><tuv xml:lang="en"><seg>One. Two.</seg></tuv>'
           '</tu></body></tmx>')
    al = load_alignment(tmx.encode(), "ours.tmx")
    assert [s.text for s in al.ja] == ["一。", "二。"] and [s.text for s in al.en] == ["One.", "Two."]
    assert import_warning(al)[1] is None


# -- TSV ----------------------------------------------------------------------
def test_tsv_header_score_status_crlf_and_blank_lines():
    data = "ja\ten\tscore\tstatus\r\n\r\n一\tone\t0.9\tconfirmed\r\n\tonly en\t\t\r\n二\t\t0.25\tedited\r\n"
    assert pairs_of(load_alignment(data.encode(), "a.tsv")) == [
        ("一", "one", 0.9, "confirmed"), ("", "only en", 0.0, "auto"), ("二", "", 0.25, "edited")]


def test_tsv_with_classic_mac_line_ends():
    data = "ja\ten\r一。\tOne.\r二。\tTwo.\r"
    assert pairs_of(load_alignment(data.encode(), "mac.tsv")) == [("一。", "One.", 0.0, "auto"),
                                                                  ("二。", "Two.", 0.0, "auto")]


def test_tsv_header_names_and_no_header():
    assert len(load_alignment("Japanese\tEnglish\n一\tone\n".encode(), "a.tsv").pairs) == 1
    assert len(load_alignment("原文\t訳文\n一\tone\n".encode(), "a.tsv").pairs) == 1
    assert len(load_alignment("日本\tJapan\n一\tone\n".encode(), "a.tsv").pairs) == 2


def test_tsv_three_columns_and_excel_unicode_text():
    assert pairs_of(load_alignment(b"a\tb\t0.5\n", "a.tsv")) == [("a", "b", 0.5, "auto")]
    excel = "ja\ten\r\n「一」\t\"one\"\r\n".encode("utf-16")  # Excel's "Unicode text" save
    assert pairs_of(load_alignment(excel, "book.txt")) == [("「一」", '"one"', 0.0, "auto")]


def test_utf16_tmx_by_extension_and_by_content():
    data = export.to_tmx(SAMPLE).decode("utf-8").replace("encoding='UTF-8'", "encoding='UTF-16'")
    data = data.encode("utf-16")
    assert pairs_of(load_alignment(data, "trados.tmx")) == pairs_of(SAMPLE)[:2]
    assert pairs_of(load_alignment(data)) == pairs_of(SAMPLE)[:2]


def test_tsv_keeps_text_exactly():
    al = load_alignment("  前後の空白 \t\"quoted, not CSV\"\u2028x\n".encode(), "a.tsv")
    assert pairs_of(al) == [("  前後の空白 ", '"quoted, not CSV"\u2028x', 0.0, "auto")]


# -- round trips over arbitrary Unicode ---------------------------------------
SPECIALS = ["<", ">", "&", '"', "'", "]]>", "&amp;", "\t", "\n", "\r\n", "\r", "\v", "\f", "\x85",
            "\u2028", "\u2029", "\x1c", "\x00", "\x1f", "\x7f", "\ufffe", "\uffff", "\ufeff",
            "\ud800", "\udfff", "\ud83d\ude00", "😀", "👨\u200d👩\u200d👧", "שלום", "مرحبا",
            "\u202e", "「", "」", "「「", "」」", "（", " ", "\u3000", "ja", "en"]
TEXTS = st.lists(st.one_of(st.sampled_from(SPECIALS),
                           st.text(st.characters(exclude_categories=()), max_size=6)),
                 max_size=10).map("".join)
BEADS = [(1, 1), (1, 1), (2, 1), (1, 2), (3, 1), (1, 0), (0, 1)]
SCORES = st.floats(0, 1).map(lambda x: round(x, 4))  # the JSON model keeps 4 decimals


@st.composite
def segments(draw, n):
    out = []
    for _ in range(n):
        text = draw(TEXTS)
        start = draw(st.none() | st.integers(0, 10**6))
        out.append(Segment(text, start, None if start is None else start + len(text)))
    return out


@st.composite
def alignments(draw):
    ja, en, pairs = [], [], []
    for n_ja, n_en in draw(st.lists(st.sampled_from(BEADS), max_size=6)):
        ja_ids = tuple(range(len(ja), len(ja) + n_ja))
        en_ids = tuple(range(len(en), len(en) + n_en))
        ja += draw(segments(n_ja))
        en += draw(segments(n_en))
        ranked = draw(st.lists(st.integers(0, len(ja) - 1), max_size=2)) if ja else []
        candidates = tuple(Candidate((i,), draw(SCORES)) for i in ranked)
        pairs.append(Pair(ja_ids, en_ids, draw(SCORES), draw(st.sampled_from(STATUSES)), candidates))
    meta = draw(st.dictionaries(TEXTS, TEXTS, max_size=2))
    return Alignment(tuple(ja), tuple(en), tuple(pairs), "document", meta)


HUGE = make((["長" * 50_000 + "「<&>」\t" + "x\x00" * 24_998], ["long " * 20_000], 0.5, "edited"),
            (["短い"], ["Short."]))
FAST = settings(max_examples=200, deadline=None)


def xml_safe(text):
    """What XML 1.0 can carry (its Char production)."""
    return "".join(c for c in text if c in "\t\n\r" or "\x20" <= c <= "\ud7ff"
                   or "\ue000" <= c <= "\ufffd" or c >= "\U00010000")


def tsv_safe(text):
    """No surrogates or control characters; each run of tabs and line breaks one space."""
    text = "".join(c for c in text if not ("\ud800" <= c <= "\udfff" or c in "\x7f\x1f"
                                           or "\x00" <= c <= "\x08" or "\x0e" <= c <= "\x1b"))
    return re.sub("[\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]+", " ", text)


def surrogate_pairs_joined(text):
    """A high surrogate followed by a low one reads back from any JSON as the one
    character they encode; everything else must come back exactly."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


@pytest.mark.slow
@FAST
@given(alignments(), st.booleans())
@example(HUGE, False)
def test_tmx_is_well_formed_and_round_trips(al, include_empty):
    data = export.to_tmx(al, include_empty=include_empty)
    root = etree.fromstring(data)  # raises if not well-formed
    written = []
    for pair in al.pairs:
        ja, en = xml_safe(al.ja_text(pair)), xml_safe(al.en_text(pair))
        if (ja and en) or include_empty:
            written.append((ja, en, pair.score, pair.status))
    assert len(root.findall("body/tu")) == len(written)
    expected = [row for row in written if row[0] or row[1]]  # two empty segs hold nothing
    if both_sides(expected):
        assert pairs_of(load_alignment(data, "rt.tmx")) == expected
    else:  # a TMX with nothing in it, or one side only, is refused, not read half
        with pytest.raises(InputError, match="no <tu>|no pairs|no (Japanese|English) text"):
            load_alignment(data, "rt.tmx")


def both_sides(rows) -> bool:
    return any(ja for ja, *_ in rows) and any(en for _, en, *_ in rows)


@pytest.mark.slow
@FAST
@given(alignments(), st.booleans(), st.booleans(), st.booleans())
@example(HUGE, True, True, False)
def test_tsv_rows_have_exact_field_counts_and_round_trip(al, header, score, bom):
    text = export.to_tsv(al, header=header, score=score, bom=bom, include_empty=True)
    lines = text.removeprefix("\ufeff" if bom else "")
    rows = lines.split("\n")
    assert rows.pop() == ""
    assert len(rows) == len(al.pairs) + header
    assert len(lines.splitlines()) == len(rows)  # no stray line boundary of any kind
    assert all(len(row.split("\t")) == (4 if score else 2) for row in rows)

    data = export.render(al, "tsv", header=True, score=True, bom=bom, include_empty=True)
    expected = [(tsv_safe(al.ja_text(p)), tsv_safe(al.en_text(p)), p.score, p.status)
                for p in al.pairs]
    expected = [row for row in expected if row[0] or row[1]]
    if both_sides(expected):
        assert pairs_of(load_alignment(data, "rt.tsv")) == expected
    else:
        with pytest.raises(InputError, match="no pairs|no (Japanese|English) text"):
            load_alignment(data, "rt.tsv")


@pytest.mark.slow
@FAST
@given(alignments(), st.booleans(), st.booleans())
def test_count_is_the_number_of_pairs_render_writes(al, include_empty, confirmed_only):
    opts = {"include_empty": include_empty, "confirmed_only": confirmed_only}
    tmx = etree.fromstring(export.render(al, "tmx", **opts))
    assert export.count(al, "tmx", **opts) == len(tmx.findall("body/tu"))
    assert export.count(al, "tsv", **opts) == export.render(al, "tsv", **opts).count(b"\n")
    shown = json.loads(export.render(al, "json", confirmed_only=confirmed_only))
    assert export.count(al, "json", confirmed_only=confirmed_only) == len(shown["pairs"])


def test_count_prepares_a_headline_as_render_does():
    al = Alignment((Segment("東京。"),), (Segment("\x01 (2)"),), (Pair((0,), (0,), 0.5),), mode="headlines")
    for keep_marks in (False, True):  # the version mark gone, a control character is all that is left
        units = etree.fromstring(export.render(al, "tmx", keep_marks=keep_marks)).findall("body/tu")
        assert export.count(al, "tmx", keep_marks=keep_marks) == len(units) == keep_marks


@pytest.mark.slow
@FAST
@given(alignments())
@example(HUGE)
def test_json_round_trips_exactly(al):
    back = load_alignment(export.render(al, "json"), "rt.json")
    joined = Alignment(
        tuple(Segment(surrogate_pairs_joined(s.text), s.start, s.end) for s in al.ja),
        tuple(Segment(surrogate_pairs_joined(s.text), s.start, s.end) for s in al.en),
        al.pairs, al.mode,
        {surrogate_pairs_joined(k): surrogate_pairs_joined(v) for k, v in al.meta.items()})
    assert back == joined
    assert back.meta == joined.meta


# -- XLSX and Excel-safe TSV over the same hostile strings ---------------------

@pytest.mark.slow
@FAST
@given(alignments())
def test_xlsx_holds_every_text_it_can_and_says_what_it_drops(al):
    from openpyxl import load_workbook
    import io as _io
    data = export.render(al, "xlsx")
    rows = list(load_workbook(_io.BytesIO(data)).active.iter_rows(min_row=2, values_only=True))
    illegal = export._xlsx_illegal()
    assert [(r[0] or "", r[1] or "") for r in rows] == [
        (illegal.sub("", al.ja_text(p)), illegal.sub("", al.en_text(p))) for p in al.pairs]
    dropped = sum(len(illegal.findall(al.ja_text(p) + al.en_text(p))) for p in al.pairs)
    assert bool(export.notes(al, "xlsx")) == bool(dropped)


@pytest.mark.slow
@FAST
@given(alignments())
def test_excel_safe_tsv_starts_no_cell_with_a_formula(al):
    for row in export.to_tsv(al, excel_safe=True).split("\n")[:-1]:
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row.split("\t"))


# -- fuzz: every input is a model or one line of error -------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**30) | st.floats(allow_nan=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["ja", "en", "pairs", "score", "status", "text", "start", "end",
                         "candidates", "mode", "meta", "x"]), inner, max_size=4),
    max_leaves=20)
FRAGMENTS = st.sampled_from([
    "{", "}", "[", "]", ",", ":", '"ja"', '"en"', '"pairs"', '"score"', "NaN", "1e999", "-1",
    "0", "\t", "\n", "<tmx>", "</tmx>", "<body>", "<tu>", "<tuv xml:lang='ja'>", "<seg>",
    "</seg>", "<hi>", "</hi>", "<!DOCTYPE x [<!ENTITY a 'b'>]>", "&a;", "\x00", "\ufeff",
    "ja\ten", "a\tb\t0.5\tconfirmed", "\ud800", "\x1b[31m", "「", "🙂"])


def assert_model_or_one_line(data: bytes, name: str) -> None:
    try:
        al = load_alignment(data, name)
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith(f"{name}: ")
        return
    assert isinstance(al, Alignment)
    for fmt in ("json", "tsv", "tmx"):  # what was read can be written
        export.render(al, fmt)


@pytest.mark.slow
@settings(max_examples=150, deadline=2000)
@given(st.dictionaries(st.sampled_from(["ja", "en", "pairs", "mode", "meta"]), JSON_VALUES),
       st.sampled_from(["a.json", "a"]))
def test_fuzz_json_structures(value, name):
    import json as _json
    assert_model_or_one_line(_json.dumps(value).encode(), name)


@settings(max_examples=150, deadline=2000)
@given(st.lists(FRAGMENTS | st.text(max_size=4), max_size=30).map("".join),
       st.sampled_from(["a.json", "a.tmx", "a.tsv", "a"]), st.sampled_from(["utf-8", "utf-16"]))
def test_fuzz_importers_with_format_fragments(text, name, encoding):
    assert_model_or_one_line(text.encode(encoding, "surrogatepass"), name)


@pytest.mark.slow
@settings(max_examples=100, deadline=2000)
@given(alignments(), st.sampled_from(["json", "tmx", "tsv"]), st.data())
def test_fuzz_importers_with_damaged_exports(al, fmt, data):
    blob = bytearray(export.render(al, fmt, **({"include_empty": True} if fmt == "tmx" else {})))
    for _ in range(data.draw(st.integers(1, 4))):
        if not blob:
            break
        at = data.draw(st.integers(0, len(blob) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            blob[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del blob[at:]
        else:
            blob[at:at] = data.draw(FRAGMENTS).encode("utf-8", "surrogatepass")
    assert_model_or_one_line(bytes(blob), f"x.{fmt}")


# -- encodings and size: the source files' decoder, a bound on rows -------------
def test_tsv_from_excel_on_japanese_windows_and_utf16_without_bom():
    rows = "ja\ten\r\n東京\tTokyo\r\n「大阪」\tOsaka\r\n"
    for data in (rows.encode("cp932"), rows.encode("utf-16-le"), rows.encode("euc_jp")):
        assert pairs_of(load_alignment(data, "book.txt")) == [
            ("東京", "Tokyo", 0.0, "auto"), ("「大阪」", "Osaka", 0.0, "auto")]


def test_more_rows_or_units_than_an_alignment_holds_are_refused_before_parsing(monkeypatch):
    from align import imports
    monkeypatch.setattr(imports, "MAX_SEGMENTS", 10)
    with pytest.raises(InputError, match=r"^big\.tsv: 11 lines; an alignment holds at most 10$"):
        load_alignment(b"a\tb\n" * 11, "big.tsv")
    assert len(load_alignment(b"a\tb\n" * 10, "ok.tsv").pairs) == 10
    tmx = b"<tmx><body>" + b'<tu><tuv xml:lang="ja"><seg>a</seg></tuv></tu>' * 11 + b"</body></tmx>"
    with pytest.raises(InputError, match=r"^big\.tmx: 11 <tu> units; an alignment holds at most 10$"):
        load_alignment(tmx, "big.tmx")
