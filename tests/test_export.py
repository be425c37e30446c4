"""Export formats: exact content of TSV, TMX, JSON, XLSX, and the atomic writer."""

import io
import json
import os
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

import align
from align import export
from align.model import Alignment, Pair, Segment

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _bead(ja_texts, en_texts, score=0.5, status="auto"):
    return ja_texts, en_texts, score, status


def make(*beads):
    """An Alignment from beads (ja_texts, en_texts[, score[, status]]),
    numbering the segments in order."""
    ja, en, pairs = [], [], []
    for ja_texts, en_texts, score, status in (_bead(*b) for b in beads):
        pairs.append(Pair(tuple(range(len(ja), len(ja) + len(ja_texts))),
                          tuple(range(len(en), len(en) + len(en_texts))), score, status))
        ja += [Segment(t) for t in ja_texts]
        en += [Segment(t) for t in en_texts]
    return Alignment(tuple(ja), tuple(en), tuple(pairs))


SAMPLE = make((["今日は晴れ。", "明日も晴れ。"], ["It is sunny today, and tomorrow too."], 0.87, "confirmed"),
              (["「引用」と述べた。"], ["He said", '"quote".'], 0.5, "edited"),
              (["訳なし。"], [], 0.0, "auto"),
              ([], ["Added by the translator."], 0.1234, "auto"))


# -- TSV ----------------------------------------------------------------------
def test_tsv_two_columns_and_merged_joins():
    # a pair with an empty side is useless to a TM: left out, as in TMX, unless asked for
    assert export.to_tsv(SAMPLE) == (
        "今日は晴れ。明日も晴れ。\tIt is sunny today, and tomorrow too.\n"
        '「引用」と述べた。\tHe said "quote".\n')
    assert export.to_tsv(SAMPLE, include_empty=True) == (
        "今日は晴れ。明日も晴れ。\tIt is sunny today, and tomorrow too.\n"
        '「引用」と述べた。\tHe said "quote".\n'
        "訳なし。\t\n"
        "\tAdded by the translator.\n")


def test_tsv_header_score_status_and_filters():
    out = export.to_tsv(SAMPLE, header=True, score=True)
    assert out.split("\n") == [
        "ja\ten\tscore\tstatus",
        "今日は晴れ。明日も晴れ。\tIt is sunny today, and tomorrow too.\t0.87\tconfirmed",
        '「引用」と述べた。\tHe said "quote".\t0.5\tedited',
        ""]
    assert export.to_tsv(SAMPLE, header=True).startswith("ja\ten\n")
    assert export.to_tsv(SAMPLE, confirmed_only=True) == \
        "今日は晴れ。明日も晴れ。\tIt is sunny today, and tomorrow too.\n"


def test_tsv_score_keeps_four_decimals():
    al = make((["a"], ["b"], 0.123456), (["c"], ["d"], 1.0), (["e"], ["f"], 0.0))
    assert [line.split("\t")[2] for line in export.to_tsv(al, score=True).splitlines()] == \
        ["0.1235", "1", "0"]


def test_tsv_breaks_and_tabs_become_one_space_never_quoted():
    al = make((["一\t二\r\n三\u2028四\x85五\v六\f七\u2029八"], ['say "hi",\n\n  ok\x1ctab']))
    out = export.to_tsv(al)
    assert out == '一 二 三 四 五 六 七 八\tsay "hi",   ok tab\n'  # spaces kept, breaks collapsed
    assert len(out.splitlines()) == 1


def test_tsv_bom_and_no_surrogates_or_control_characters():
    al = make((["壊れ\udcff字\x00"], ["x\x1b[31m\x07y\x7f"]))
    out = export.to_tsv(al, bom=True)
    assert out == "\ufeff壊れ字\tx[31my\n"
    assert export.render(al, "tsv", bom=True).startswith(b"\xef\xbb\xbf\xe5\xa3\x8a")
    assert export.notes(al, "tsv") == ["5 character(s) that TSV cannot hold (control characters, "
                                       "U+FFFE/U+FFFF, lone surrogates) were left out"]


# -- TMX ----------------------------------------------------------------------
NOW = datetime(2025, 3, 4, 5, 6, 7, tzinfo=timezone.utc)


def test_tmx_header_fields_exact():
    root = etree.fromstring(export.to_tmx(SAMPLE, now=NOW))
    assert root.tag == "tmx" and root.attrib == {"version": "1.4"}
    header = root.find("header")
    assert dict(header.attrib) == {
        "creationtool": "Taiyaku", "creationtoolversion": align.__version__,
        "segtype": "sentence", "o-tmf": "Taiyaku", "adminlang": "en-US", "srclang": "ja-JP",
        "datatype": "plaintext", "creationdate": "20250304T050607Z"}


def test_tmx_creationdate_is_utc():
    tokyo = timezone(timedelta(hours=9))
    root = etree.fromstring(export.to_tmx(SAMPLE, now=datetime(2025, 1, 1, 8, 0, tzinfo=tokyo)))
    assert root.find("header").get("creationdate") == "20241231T230000Z"
    stamp = etree.fromstring(export.to_tmx(SAMPLE)).find("header").get("creationdate")
    assert abs(datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc)
               - datetime.now(timezone.utc)) < timedelta(minutes=1)


def test_tmx_units_props_languages_and_merged_joins():
    root = etree.fromstring(export.to_tmx(SAMPLE, now=NOW))
    tus = root.findall("body/tu")
    assert len(tus) == 2  # the 1-0 and 0-1 pairs are skipped
    first = tus[0]
    assert [(p.get("type"), p.text) for p in first.findall("prop")] == [
        ("x-taiyaku-kind", "2-1"), ("x-taiyaku-score", "0.87"), ("x-taiyaku-status", "confirmed"),
        ("x-taiyaku-ja-cuts", "6 #29d68027")]  # where 明日も晴れ。 starts, the text's CRC-32: the import gets the 2-1 back
    assert [(t.get(XML_LANG), t.findtext("seg")) for t in first.findall("tuv")] == [
        ("ja-JP", "今日は晴れ。明日も晴れ。"), ("en-US", "It is sunny today, and tomorrow too.")]
    assert tus[1].findall("tuv")[1].findtext("seg") == 'He said "quote".'


def test_tmx_languages_configurable():
    root = etree.fromstring(export.to_tmx(SAMPLE, src_lang="ja", tgt_lang="en-GB"))
    assert root.find("header").get("srclang") == "ja"
    assert [t.get(XML_LANG) for t in root.find("body/tu").findall("tuv")] == ["ja", "en-GB"]


def test_tmx_include_empty_and_confirmed_only():
    root = etree.fromstring(export.to_tmx(SAMPLE, include_empty=True))
    segs = [[t.findtext("seg") for t in tu.findall("tuv")] for tu in root.findall("body/tu")]
    assert segs[2:] == [["訳なし。", ""], ["", "Added by the translator."]]
    root = etree.fromstring(export.to_tmx(SAMPLE, confirmed_only=True))
    assert [tu.find("prop[@type='x-taiyaku-status']").text for tu in root.findall("body/tu")] == \
        ["confirmed"]


def test_tmx_escapes_entities_and_drops_forbidden_characters():
    al = make((["<b>&amp;「A&B」\x00\x01\x0b\x0c\x1f\ufffe\uffff\ud800"], ["x < y & \"z\" > 'w'\t\n"]))
    data = export.to_tmx(al)
    assert b"<seg>&lt;b&gt;&amp;amp;\xe3\x80\x8cA&amp;B\xe3\x80\x8d</seg>" in data
    assert b"x &lt; y &amp; \"z\" &gt; 'w'\t\n</seg>" in data
    assert not any(c in data for c in (b"\x00", b"\x01", b"\x0b", b"\x0c", b"\x1f"))
    assert etree.fromstring(data) is not None
    assert data.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_tmx_keeps_carriage_returns_as_references():
    al = make((["一\r\n二"], ["a\rb"]))
    data = export.to_tmx(al)
    assert b"&#13;" in data
    segs = [s.text for s in etree.fromstring(data).iter("seg")]
    assert segs == ["一\r\n二", "a\rb"]


def test_translate_toolkit_reads_our_tmx():
    tmx = pytest.importorskip("translate.storage.tmx")
    al = make((["今日は晴れ。", "明日も。"], ["Sunny today.", "Tomorrow too."]),
              (["<タグ> & 「引用」"], ['"quoted" & <tagged> it\'s']),
              (["絵文字😀"], ["emoji 😀 שלום"]),
              (["空"], []))
    store = tmx.tmxfile.parsestring(export.to_tmx(al))
    units = [u for u in store.units if not u.isheader()]
    assert [(u.source, u.target) for u in units] == [
        ("今日は晴れ。明日も。", "Sunny today. Tomorrow too."),
        ("<タグ> & 「引用」", '"quoted" & <tagged> it\'s'),
        ("絵文字😀", "emoji 😀 שלום")]


# -- JSON ---------------------------------------------------------------------
def test_json_is_the_model_readable_and_round_trips():
    text = export.to_json(SAMPLE)
    assert "今日は晴れ" in text  # not \\u escaped
    assert json.loads(text) == SAMPLE.to_json()
    assert Alignment.loads(text) == SAMPLE


def test_json_confirmed_only_keeps_only_the_confirmed_pairs_segments():
    value = json.loads(export.to_json(SAMPLE, confirmed_only=True))
    assert [p["status"] for p in value["pairs"]] == ["confirmed"]
    kept = [i for p in value["pairs"] for i in p["ja"]]
    assert kept == list(range(len(value["ja"]))) and len(value["ja"]) < len(SAMPLE.ja)


def test_json_lone_surrogates_round_trip_as_escapes():
    al = make((["\ud800壊れ\udcff"], ["\udfff"]))
    data = export.render(al, "json")
    assert b"\\ud800\xe5\xa3\x8a" in data and b"\\udcff" in data
    assert Alignment.loads(data.decode("utf-8")) == al


# -- XLSX ---------------------------------------------------------------------
def test_xlsx_sheet():
    openpyxl = pytest.importorskip("openpyxl")
    al = make((["今日は", "晴れ。"], ["Sunny", "today."], 0.87, "confirmed"),
              (["=1+1\x00\x07"], ["=SUM(A1)\ud800"], 0.25, "auto"))
    ws = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(al))).active
    assert [[c.value for c in row] for row in ws.iter_rows()] == [
        ["ja", "en", "score", "status"],
        ["今日は晴れ。", "Sunny today.", 0.87, "confirmed"],
        ["=1+1", "=SUM(A1)", 0.25, "auto"]]
    assert ws["A3"].data_type == "s"  # text, not a formula
    assert ws.freeze_panes == "A2"
    assert ws["A1"].font.b and ws["B2"].alignment.wrap_text
    assert ws.column_dimensions["A"].width >= 40
    ws = openpyxl.load_workbook(io.BytesIO(export.to_xlsx(al, confirmed_only=True))).active
    assert ws.max_row == 2


# -- render and write ---------------------------------------------------------
def test_render_each_format_and_unknown():
    assert export.FORMATS == ("tsv", "json", "tmx", "xlsx")
    for fmt in export.FORMATS:
        assert isinstance(export.render(SAMPLE, fmt), bytes)
    assert export.render(SAMPLE, "xlsx")[:2] == b"PK"
    with pytest.raises(ValueError, match="unknown export format 'csv'"):
        export.render(SAMPLE, "csv")
    with pytest.raises(TypeError):
        export.render(SAMPLE, "json", header=True)


def test_write_creates_and_replaces(tmp_path):
    out = tmp_path / "out.tsv"
    export.write(SAMPLE, out, "tsv", header=True)
    assert out.read_text("utf-8").startswith("ja\ten\n")
    export.write(SAMPLE, out, "tsv", confirmed_only=True)
    assert out.read_text("utf-8") == "今日は晴れ。明日も晴れ。\tIt is sunny today, and tomorrow too.\n"
    assert os.listdir(tmp_path) == ["out.tsv"]
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_failing_render_leaves_existing_file(tmp_path, monkeypatch):
    out = tmp_path / "out.tmx"
    out.write_bytes(b"previous export")

    def broken(al, **opts):
        raise RuntimeError("boom")

    monkeypatch.setattr(export, "to_tmx", broken)
    with pytest.raises(RuntimeError, match="boom"):
        export.write(SAMPLE, out, "tmx")
    assert out.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["out.tmx"]


def test_write_failing_disk_write_leaves_existing_file_and_no_temp(tmp_path, monkeypatch):
    out = tmp_path / "out.json"
    out.write_bytes(b"previous export")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export.os, "fsync", full_disk)
    with pytest.raises(OSError, match="No space"):
        export.write(SAMPLE, out, "json")
    assert out.read_bytes() == b"previous export"
    assert os.listdir(tmp_path) == ["out.json"]


def test_confirmed_only_json_is_an_alignment_that_opens_again():
    from align import edits
    from align.model import Segment
    al = Alignment(tuple(Segment(t) for t in ["一。", "二。", "三。"]),
                   tuple(Segment(t) for t in ["One.", "Two.", "Three."]),
                   (Pair((0,), (0,), 0.9), Pair((1,), (1,), 0.9, "confirmed"), Pair((2,), (2,), 0.9)))
    out = Alignment.from_json(json.loads(export.to_json(al, confirmed_only=True)))
    edits.check_invariants(out)  # what the store checks before it opens a project
    assert [(out.ja_text(p), out.en_text(p)) for p in out.pairs] == [("二。", "Two.")]


# -- headlines in a translation memory, crossing links ------------------------

HEADLINES = Alignment((Segment("協議は進展した。"), Segment("次の文。")),
                      (Segment("*TALKS MAKE PROGRESS (2)"), Segment("Second headline")),
                      (Pair((0,), (0,), 0.9, "confirmed"), Pair((1,), (1,), 0.6)), mode="headlines")


def test_headline_units_are_marked_and_lose_bloomberg_marks():
    root = etree.fromstring(export.render(HEADLINES, "tmx"))
    tus = root.findall("body/tu")
    assert [tu.find("prop").text for tu in tus] == ["headline", "headline"]
    assert tus[0].findall("tuv")[1].findtext("seg") == "TALKS MAKE PROGRESS"
    kept = etree.fromstring(export.render(HEADLINES, "tmx", keep_marks=True))
    assert kept.find("body/tu").findall("tuv")[1].findtext("seg") == "*TALKS MAKE PROGRESS (2)"
    assert export.render(HEADLINES, "tsv").decode().splitlines()[0] == "協議は進展した。\tTALKS MAKE PROGRESS"
    # the JSON model, which reopens as a project, keeps the text as it was
    assert "*TALKS MAKE PROGRESS (2)" in export.render(HEADLINES, "json", keep_marks=False).decode()


def test_headline_pairs_can_be_left_out_of_a_memory():
    assert export.render(HEADLINES, "tsv", headlines=False) == b""
    assert etree.fromstring(export.render(HEADLINES, "tmx", headlines=False)).findall("body/tu") == []
    assert export.render(SAMPLE, "tsv", headlines=False) == export.render(SAMPLE, "tsv")  # documents keep all


def test_a_crossing_link_exports_in_japanese_order():
    from align.edits import link
    al = Alignment(tuple(Segment(t) for t in ("一。", "二。", "三。")),
                   tuple(Segment(t) for t in ("One.", "Three.", "Two.")),
                   (Pair((0,), (0,)), Pair((1, 2), (1, 2))))
    crossed = link(al, [1], [2])
    lines = export.render(crossed, "tsv").decode().splitlines()
    assert lines == ["一。\tOne.", "二。\tTwo.", "三。\tThree."]
    tmx = etree.fromstring(export.render(crossed, "tmx"))
    assert [tu.findall("tuv")[0].findtext("seg") for tu in tmx.findall("body/tu")] == ["一。", "二。", "三。"]


def test_one_format_table_for_exports_imports_and_the_command_line():
    from align import formats, imports
    assert export.FORMATS == formats.NAMES == ("tsv", "json", "tmx", "xlsx")
    assert formats.by_extension("a.TMX").name == "tmx" and formats.by_extension("a.tab").name == "tsv"
    assert formats.by_extension("a.docx") is None
    for f in formats.FORMATS:  # every format renders; every readable one reads back
        data = export.render(SAMPLE, f.name)
        if f.readable:
            assert imports.load_alignment(data, "x" + f.extensions[0]).pairs
