from pathlib import Path

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align import sources
from align.errors import InputError
from align.normalise import headline_key
from align.sources import (MAX_BYTES, Article, body_sentences, decode, detect_language, has_headline_block,
                           parse_article, read_bytes_source, read_source)

SAMPLE_PATH = Path(__file__).resolve().parent.parent / "data" / "ukraine_talks_bloomberg_ja.txt"
SAMPLE = SAMPLE_PATH.read_text(encoding="utf-8")
# Japanese, ASCII, an ideographic space (its NUL byte is on the "wrong" side in UTF-16)
# and Windows line endings.
SMALL = "ゼレンスキー氏は「実質的な進展」があったと述べた。\r\nUS Offers Guarantee (2)\r\n全角　スペース。\n"

HEADLINES = [
    "US Offers Ukraine Security Guarantee But Territory Still Key (2)",
    "US Offers Security Deal in Ukraine Talks But Territory Still Key",
    "Trump: War in Ukraine’s End Closer Than Ever After Talks Today",
    "Ukraine and US Make ‘Real Progress’ as European Leaders Meet (1)",
    "Ukraine Says Its Drones Hit Russian Submarine in Novorossiysk",
    "*MERZ: US OFFER ON UKRAINE GUARANTEES IS ‘REMARKABLE’",
]


def error(call, *args) -> str:
    with pytest.raises(InputError) as info:
        call(*args)
    message = str(info.value)
    assert "\n" not in message
    return message


# -- decode -----------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be",
                                      "cp932", "euc_jp", "iso2022_jp"])
def test_decode_each_encoding(encoding):
    assert decode(SMALL.encode(encoding), "x.txt") == SMALL.replace("\r\n", "\n")


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp"])
def test_decode_tells_cp932_from_euc_jp_on_short_text(encoding):
    text = "これは日本語の短い文章です。"
    assert decode(text.encode(encoding), "x.txt") == text


def test_a_last_byte_past_ascii_alone_is_a_legacy_letter_not_a_cut():
    assert decode(b"Le menu du caf\xe9", "x.txt") == "Le menu du café"


def test_decode_drops_a_byte_order_mark_inside_the_text():
    # two files joined end to end: the second one's BOM would open its first segment
    assert decode("一文目。\n".encode("utf-8-sig") + "二文目。\n".encode("utf-8-sig"), "x.txt") == \
        "一文目。\n二文目。\n"


def test_decode_normalises_line_endings():
    assert decode(b"a\r\nb\rc\n", "x.txt") == "a\nb\nc\n"


@pytest.mark.parametrize("encoding", ["cp932", "euc_jp", "utf-16"])
def test_legacy_encodings_of_the_sample_give_the_same_article(encoding):
    # CP932 has no ©; "(c)2025" is skipped all the same.
    text = SAMPLE.replace("©", "(c)") if encoding == "cp932" else SAMPLE
    expected = parse_article(text)
    data = text.replace("\n", "\r\n").encode(encoding)
    assert parse_article(decode(data, "a.txt")) == expected


@pytest.mark.parametrize("data, words", [
    (b"", "x.txt: empty file"),
    (b" \n\t\r\n", "x.txt: no text (only whitespace)"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "x.txt: binary file (PNG image), not text"),
    (b"%PDF-1.7\n%\xe2\xe3", "x.txt: binary file (PDF document), not text"),
    (bytes(range(256)) * 4, "x.txt: binary file (NUL bytes), not text"),
    (b"\x01\x02\x03\x04abc" * 100, "x.txt: binary file (control characters), not text"),
    (b"abc \x81 def", "x.txt: cannot decode as UTF-8, UTF-16, Shift_JIS, EUC-JP or Windows-1252"),
    (b"\xef\xbb\xbfabc\xff", "x.txt: has a UTF-8 byte order mark but is not valid UTF-8"),
    ("日本語の文章です。".encode()[:-1], "x.txt: ends in the middle of a character: cut short? "
                                       "(a download or copy that did not finish)"),
])
def test_decode_refuses_with_one_line(data, words):
    assert error(decode, data, "x.txt") == words


# -- files ------------------------------------------------------------------------------

def test_read_source_text_file(tmp_path):
    path = tmp_path / "article"
    path.write_bytes(SAMPLE.encode("euc_jp"))
    assert read_source(path) == SAMPLE


def test_read_source_missing_folder_and_png(tmp_path):
    assert error(read_source, tmp_path / "nope.txt") == f"{tmp_path / 'nope.txt'}: no such file"
    assert error(read_source, tmp_path) == f"{tmp_path}: is a folder, not a file"
    png = tmp_path / "image.txt"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    assert "binary file (PNG image), not text" in error(read_source, png)


def test_read_source_checks_size_before_reading(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    with open(big, "wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: no 100 MB written

    def must_not_read(self):
        raise AssertionError("read a file that is too large")

    monkeypatch.setattr(Path, "read_bytes", must_not_read)
    assert error(read_source, big) == f"{big}: too large (100.0 MB; the limit is 20 MB)"


def test_read_bytes_source_checks_size(monkeypatch):
    monkeypatch.setattr(sources, "MAX_BYTES", 10)
    assert "too large" in error(read_bytes_source, b"x" * 11, "up.txt")
    assert MAX_BYTES == 20 * 1024 * 1024


def test_docx(tmp_path):
    document = docx.Document()
    document.add_heading("ウクライナ、潜水艦を攻撃", level=1)
    document.add_paragraph("一方、保安局は攻撃したと主張した。事実であれば初めて。")
    document.add_paragraph("")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "表の中の文。"
    document.add_paragraph("最後の段落。")
    path = tmp_path / "article.docx"
    document.save(path)
    assert read_source(path) == ("ウクライナ、潜水艦を攻撃\n\n一方、保安局は攻撃したと主張した。事実であれば初めて。"
                                 "\n\n表の中の文。\n\n最後の段落。")
    assert read_bytes_source(path.read_bytes(), "upload.DOCX") == read_source(path)
    assert error(read_bytes_source, b"not a zip", "x.docx") == "x.docx: not a Word .docx file"


def test_docx_tables_give_a_merged_cell_once_and_the_text_of_nested_tables(tmp_path):
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "三列に渡る見出し。"   # spans three columns
    table.cell(1, 0).merge(table.cell(2, 0)).text = "二行に渡るセル。"     # spans two rows
    table.cell(1, 1).text = "普通のセル。"
    table.cell(2, 2).add_table(rows=1, cols=1).cell(0, 0).text = "入れ子の表の文。"
    path = tmp_path / "tables.docx"
    document.save(path)
    assert read_source(path).split("\n\n") == ["三列に渡る見出し。", "二行に渡るセル。", "普通のセル。",
                                               "入れ子の表の文。"]


HTML = """<!DOCTYPE html><html><head><title>サイト</title>
<style>p { color: red }</style><script>var x = "SCRIPT TEXT";</script></head>
<body><header>SITE HEADER</header>
<nav><ul><li><a href="/">ホーム</a></li><li><a href="/news">ニュース一覧</a></li></ul></nav>
<article><h1>ウクライナ、潜水艦を攻撃</h1>
<p>一方、ウクライナ保安局(SBU)はロシアの潜水艦を水中ドローンで損傷させたと主張した。事実であれば、
ドローンによる潜水艦への攻撃成功はウクライナにとって初めて。</p>
<p>これについてロシアは今のところコメントしていない。SBUは動画を投稿した。</p>
</article><footer>Copyright 2025 Footer</footer></body></html>"""


@pytest.mark.parametrize("trafilatura", [True, False])
def test_html_article_text(trafilatura, monkeypatch):
    if not trafilatura:
        monkeypatch.setattr(sources, "_trafilatura_html", lambda html: None)
    text = read_bytes_source(HTML.encode("cp932"), "page.html")
    for junk in ("SCRIPT", "color", "ホーム", "ニュース一覧", "SITE HEADER", "Footer"):
        assert junk not in text
    assert text.split("\n\n") == [
        "ウクライナ、潜水艦を攻撃",
        "一方、ウクライナ保安局(SBU)はロシアの潜水艦を水中ドローンで損傷させたと主張した。"
        "事実であれば、ドローンによる潜水艦への攻撃成功はウクライナにとって初めて。",
        "これについてロシアは今のところコメントしていない。SBUは動画を投稿した。"]


def test_markdown_markup_is_removed():
    md = ("# 見出し #\n\nSome **bold**, *em* and _u_ text, [a link](http://x.y)![img](a.png) "
          "and `code`. snake_case stays.\n\n```python\nprint('code')\n```\n> 引用。\n- 項目\n"
          "1. item\n[ref]: http://example.com\n---\n")
    assert read_bytes_source(md.encode(), "notes.md") == (
        "見出し\n\nSome bold, em and u text, a link and code. snake_case stays.\n\n"
        "引用。\n項目\nitem")


def test_unknown_extension_is_text():
    assert read_bytes_source("a,b\n".encode("utf-16"), "table.csv") == "a,b\n"


# -- language -----------------------------------------------------------------------------

@pytest.mark.parametrize("text, lang", [
    (SAMPLE, "ja"),
    ("ウクライナ、潜水艦を攻撃", "ja"),
    ("U.S. Sen. Elizabeth Warren says she'll take a hard look.", "en"),
    ("Die Alpen sind schön.", "en"),
    ("这是中文文本，没有假名。", "other"),
    ("这是一家很受欢迎の餐厅，每天都有很多客人来这里吃饭の地方，东京の新店开业了。", "other"),  # stray の
    ("首相が辞任", "ja"),
    ("東証大引け、続伸　半導体株高い\n日経平均終値３万円台回復", "ja"),  # headlines: kanji, a little kana
    ("Это русский текст.", "other"),
    ("12345 !!", "other"),
    ("", "other"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_detect_language_reads_past_a_long_opening_without_letters():
    assert detect_language(" " * 1_000_000 + "これは日本語の文章です。" * 50) == "ja"
    assert detect_language("&" * 1_000_000 + "This is English. " * 50) == "en"


# -- the article ------------------------------------------------------------------------

def test_parse_article_sample():
    article = parse_article(SAMPLE)
    assert isinstance(article, Article)
    assert [h.text for h in article.headlines] == HEADLINES
    for s in article.ja + article.headlines + article.skipped:
        assert SAMPLE[s.start:s.end] == s.text
    body = [s.text for s in article.ja]
    assert "ウクライナ、潜水艦を攻撃" in body
    assert body[0].startswith("ゼレンスキー大統領率いる")
    assert body[-1] == "ブルームバーグはこの主張を独立して検証できていない。"
    for junk in ("原題", "Photographer", "©", "もっと読む", "取材協力", "更新します"):
        assert not any(junk in s for s in body)
    skipped = [s.text for s in article.skipped]
    assert skipped[:2] == ["Photographer:", "Photographer: Guido Bergmann/German Government Press "
                                            "Office/Getty Images"]
    assert skipped[2].startswith("原題:US Offers")
    assert skipped[3:] == ["(ゼレンスキー大統領のコメントを追加して更新します)",
                           "--取材協力:Christoph Rauwald、Kate Sullivan、Arne Delfs.",
                           "もっと読むにはこちら bloomberg.com/jp", "©2025 Bloomberg L.P."]


def test_parse_article_other_boilerplate():
    text = ("関連記事によると本文の一文目。\n\n【関連記事】\n・米国が提案\n\n・欧州が会合\n\n（第3段落を訂正します）\n"
            "記事についての記者への問い合わせ先：東京 山田 yamada@example.com\n"
            "出所：ブルームバーグ\n写真：会見する首相\n\n本文の二文目。")
    article = parse_article(text)
    assert [s.text for s in article.ja] == ["関連記事によると本文の一文目。", "本文の二文目。"]
    assert len(article.skipped) == 7
    assert article.headlines == []


def test_body_sentences_leave_out_english_boilerplate_too():
    text = ("Talks went on.\n\nPhotographer: Jane Roe/Bloomberg\n\n--With assistance from Kate "
            "Sullivan.\n\nTo contact the reporter on this story:\nJane Doe in Tokyo at jdoe@example.com\n"
            "To contact the editors responsible for this story:\nBrendan Scott at bs@example.com\n"
            "Janet Paskin\n\nThe end.\nMore stories like this are available on bloomberg.com\n"
            "©2025 Bloomberg L.P.")
    sentences, skipped = body_sentences(text, "en")
    # the contact list runs to its blank line: "The end." is the body's again
    assert [s.text for s in sentences] == ["Talks went on.", "The end."]
    assert [s.text for s in skipped][3:7] == ["Jane Doe in Tokyo at jdoe@example.com",
                                              "To contact the editors responsible for this story:",
                                              "Brendan Scott at bs@example.com", "Janet Paskin"]
    assert len(skipped) == 9
    assert all(text[s.start:s.end] == s.text for s in sentences + skipped)
    one_line = "Talks went on.\nTo contact the reporter on this story: Jane Doe in Tokyo at jdoe@example.com"
    assert [s.text for s in body_sentences(one_line, "en")[0]] == ["Talks went on."]
    # prose that opens as boilerplate does is kept: the marks are what tell them apart
    prose = ("With assistance from the IMF, the government cut spending.\n"
             "Copyright holders won a big victory.\n"
             "To contact the reporter, call the desk.\nThe end of the story comes here.")
    assert [s.text for s in body_sentences(prose, "en")[0]] == prose.split("\n")


def test_headlines_split_on_the_japanese_comma_only():
    text = "本文。\n\n原題：Oil, Gas Rise、 Stocks Fall (3)、\n"
    article = parse_article(text)
    assert [h.text for h in article.headlines] == ["Oil, Gas Rise", "Stocks Fall (3)"]
    assert all(text[h.start:h.end] == h.text for h in article.headlines)


def test_has_headline_block():
    assert has_headline_block(SAMPLE)
    assert not has_headline_block("本文。\n原題:\n")
    assert not has_headline_block("本文に原題:とある。")


@pytest.mark.parametrize("headline, key", [
    # Title Case: each word but the first in its usual case, names kept
    ("US Offers Ukraine Security Guarantee But Territory Still Key (2)",
     "US offers Ukraine security guarantee but territory still key"),
    ("Trump: War in Ukraine’s End Closer Than Ever After Talks Today",
     "Trump: War in Ukraine’s end closer than ever after talks today"),
    ("Ukraine and US Make ‘Real Progress’ as European Leaders Meet (1)",
     "Ukraine and US make ‘real progress’ as European leaders meet"),
    # in capitals: acronyms kept, the rest in its usual case
    ("*MERZ: US OFFER ON UKRAINE GUARANTEES IS ‘REMARKABLE’",
     "Merz: US offer on Ukraine guarantees is ‘remarkable’"),
    ("*NATO, SBU SAY G7 U.S. TALKS END (1)", "NATO, SBU say G7 U.S. talks end"),
    ("ECB HOLDS RATES: 'REAL PROGRESS' SEEN", "ECB holds rates: 'Real progress' seen"),
    # sentence case, or a few capitalised words: as written
    ("Warren plans to take a 'hard look' at running for president",
     "Warren plans to take a 'hard look' at running for president"),
    ("Kanye West: Rapper changes his name to Ye", "Kanye West: Rapper changes his name to Ye"),
    ("Japan Says 日本 Talks Went Well", "Japan Says 日本 Talks Went Well"),
])
def test_headline_key(headline, key):
    assert headline_key(headline) == key


# -- hostile input: linear time, bounded memory, one line of error ------------------------

import io  # noqa: E402
import os  # noqa: E402
import struct  # noqa: E402
import zipfile  # noqa: E402

from costs import assert_linear  # noqa: E402


@pytest.mark.parametrize("shape", ["[a", "![a", "**a ", "*a ", "_a ", "`a", "[a](b", "a__b ", "[a](b(", "[a](((b)"])
def test_markdown_rules_take_linear_time(shape):
    assert_linear(sources._markdown_text, lambda n: shape * (n // len(shape)))


@pytest.mark.parametrize("line, expected", [
    ("# Title #", "Title"), ("## C#", "C#"), ("# ###", "###"), ("# --- ", "---"),
    ("[a](b) and ![i](x) [r][1] [x]", "a and  r [x]"),
    ("**bold** and *em* and _u_ x_y_z ***both***", "bold and em and u x_y_z both"),
    ("__a__ **b", "a **b"), ("> - item *x*", "item x"), ("`code` and **`c`**", "code and c"),
    ("[link](javascript:alert(1)) and [w](https://x.org/Tokyo_(city)).", "link and w."),  # balanced ( )
])
def test_markdown_markup_is_removed_line_by_line(line, expected):
    assert sources._markdown_text(line) == expected


def test_big_html_skips_trafilatura(monkeypatch):
    import trafilatura
    monkeypatch.setattr(trafilatura, "extract", lambda *a, **k: pytest.fail("trafilatura ran"))
    many = "<html><body>" + "<p class='x'>Sentence here.</p>" * (sources.TRAFILATURA_MAX_TAGS // 2 + 1)
    text = read_bytes_source(many.encode(), "page.html")
    assert text.split("\n\n")[:2] == ["Sentence here.", "Sentence here."]
    monkeypatch.setattr(sources, "TRAFILATURA_MAX_TAGS", 100)  # both sizes go to lxml
    assert_linear(sources._html_text,
                  lambda n: "<html><body>" + "<p a='1' b='2'>Words.</p>" * (n // 4))


def test_html_with_thousands_of_attributes_on_a_tag_is_linear():
    def page(n):
        return ("<html><body><p " + " ".join(f'a{i}="x"' for i in range(n // 8))
                + ">Text here.</p></body></html>")
    assert read_bytes_source(page(80_000).encode(), "x.html") == "Text here."
    assert_linear(sources._html_text, page, n=20_000)


@pytest.mark.parametrize("depth", [300, 3000, 100_000])
def test_html_nested_past_libxml2s_limit_keeps_every_block(depth):
    # libxml2 stops at depth 256 (2048 with huge_tree) and drops the rest of the page without a word
    deep = ("<html><body><nav>Menu</nav><p>前の段落です。</p>" + "<div>" * depth
            + "<p>深い本文です。</p><script>var x;</script>" + "</div>" * depth
            + "<p>後の段落 &amp; 終わり。</p></body></html>")
    assert read_bytes_source(deep.encode(), "x.html") == "前の段落です。\n\n深い本文です。\n\n後の段落 & 終わり。"
    unclosed_head = deep.replace("<html><body>", "<html><head><title>題</title><body>")  # HTML allows it
    assert read_bytes_source(unclosed_head.encode(), "x.html") == read_bytes_source(deep.encode(), "x.html")


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_devices_are_refused_at_once(path):
    assert error(read_source, path) == f"{path}: not a regular file (a device, pipe or socket)"


def test_a_named_pipe_is_refused_at_once(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)  # nobody writes to it: opening it to read would block forever
    assert "not a regular file" in error(read_source, fifo)


def _docx_bytes() -> bytes:
    d = docx.Document()
    d.add_paragraph("本文です。")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def _rezip(data: bytes, change=lambda name, body: body, method=zipfile.ZIP_DEFLATED) -> bytes:
    src, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w", method) as z:
        for info in src.infolist():
            z.writestr(info.filename, change(info.filename, src.read(info)))
    return out.getvalue()


def _patch_headers(data: bytes, flag: int | None = None, method: int | None = None) -> bytes:
    """Set the flag bits or the compression method of every entry, in the local headers
    (offsets 6, 8) and the central directory (8, 10): what zipfile cannot write."""
    out = bytearray(data)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        pos = out.find(sig)
        while pos >= 0:
            if flag is not None:
                out[pos + flag_at:pos + flag_at + 2] = struct.pack("<H", flag)
            if method is not None:
                out[pos + method_at:pos + method_at + 2] = struct.pack("<H", method)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _in_body(xml: str):
    def change(name, body):
        if name != "word/document.xml":
            return body
        s = body.decode()
        i = s.index("<w:body>") + len("<w:body>")
        return (s[:i] + xml + s[i:]).encode()
    return change


def _with_dtd(name, body):
    if name != "word/document.xml":
        return body
    s = body.decode()
    i = s.index("?>") + 2
    lol = '<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + k)} "{("&" + chr(97 + k) + ";") * 10}">' for k in range(9)) + "]>"
    return (s[:i] + lol + s[i:]).encode()


def test_hostile_docx_files_get_one_line(monkeypatch):
    good = _docx_bytes()
    assert read_bytes_source(good, "x.docx") == "本文です。"
    deep = _rezip(good, _in_body("<w:sdt>" * 5000 + "</w:sdt>" * 5000))
    assert error(read_bytes_source, deep, "x.docx").startswith("x.docx: a broken Word .docx file")
    assert error(read_bytes_source, _rezip(good, _with_dtd), "x.docx") == \
        "x.docx: a .docx with a DTD (word/document.xml); refused for safety"
    stored = _rezip(good, method=zipfile.ZIP_STORED)
    assert "encrypted" in error(read_bytes_source, _patch_headers(stored, flag=1), "x.docx")
    assert error(read_bytes_source, _patch_headers(stored, method=99), "x.docx") == \
        "x.docx: not a Word .docx file (unsupported compression method 99)"
    assert error(read_bytes_source, good[:len(good) // 2], "x.docx") == \
        "x.docx: not a Word .docx file"
    corrupt = bytearray(stored)
    corrupt[len(corrupt) // 3:len(corrupt) // 3 + 64] = b"\xff" * 64
    assert error(read_bytes_source, bytes(corrupt), "x.docx").startswith("x.docx: ")


def test_a_docx_zip_bomb_is_refused_by_its_unpacked_size(monkeypatch):
    monkeypatch.setattr(sources, "DOCX_MAX_UNPACKED", 1024 * 1024)
    bomb = _rezip(_docx_bytes(), lambda name, body: body + b" " * (2 * 1024 * 1024)
                  if name == "word/document.xml" else body)
    assert len(bomb) < 100_000
    message = error(read_bytes_source, bomb, "x.docx")
    assert message.startswith("x.docx: unpacks to ") and message.endswith("the limit is 1 MB")


def test_windows_1252_english_is_not_read_as_shift_jis():
    data = "It’s a café — “quoted”.\n".encode("cp1252") * 20
    assert decode(data, "x.txt") == "It’s a café — “quoted”.\n" * 20
    japanese = "東京は晴れです。明日も晴れるでしょう。".encode("cp932")
    assert decode(japanese, "x.txt") == "東京は晴れです。明日も晴れるでしょう。"
    kanji_only = "東京株式\n日経平均\n".encode("cp932")  # no kana; valid Windows-1252 too
    assert decode(kanji_only, "x.txt") == "東京株式\n日経平均\n"


def test_nul_bytes_anywhere_are_dropped():
    data = b"First line.\n" * 500 + b"Second\0 line.\n"
    assert "\0" not in decode(data, "x.txt")
    assert decode(data, "x.txt").endswith("Second line.\n")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_kanji_heavy_utf16_without_bom_is_text(encoding):
    text = "東京株式市場、日経平均株価は続伸。円相場は一ドル百五十円台で推移。" * 20
    assert decode(text.encode(encoding), "x.txt") == text


def test_pasted_text_is_checked_as_a_file(monkeypatch):
    assert sources.read_pasted("一行目。\r\n二行目\0。") == "一行目。\n二行目。"
    assert error(sources.read_pasted, " \n", "pasted Japanese") == \
        "pasted Japanese: no text (only whitespace)"
    monkeypatch.setattr(sources, "MAX_BYTES", 10)
    assert "too large" in error(sources.read_pasted, "長い文章です。", "pasted Japanese")


@settings(max_examples=150, deadline=5000)
@given(st.data())
def test_fuzz_damaged_docx_is_text_or_one_line(data):
    blob = bytearray(_DOCX)
    for _ in range(data.draw(st.integers(1, 6))):
        at = data.draw(st.integers(0, len(blob) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            blob[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del blob[at:at + data.draw(st.integers(1, 64))]
        else:
            blob[at:at] = data.draw(st.binary(min_size=1, max_size=16))
        if not blob:
            break
    try:
        text = read_bytes_source(bytes(blob), "x.docx")
    except InputError as e:
        assert "\n" not in str(e) and str(e).startswith("x.docx: ")
    else:
        assert isinstance(text, str) and text.strip()


_DOCX = _rezip(_docx_bytes(), method=zipfile.ZIP_STORED)  # stored: flips land in the XML


def test_a_docx_dtd_behind_a_long_comment_is_refused_too():
    def late_dtd(name, body):
        if name != "word/document.xml":
            return body
        s = _with_dtd(name, body).decode()
        i = s.index("?>") + 2  # a comment of 2 MB: past any head read and a chunk boundary
        return (s[:i] + "<!--" + "x" * (2 * 1024 * 1024 - 3) + "-->" + s[i:]).encode()
    assert error(read_bytes_source, _rezip(_docx_bytes(), late_dtd), "x.docx") == \
        "x.docx: a .docx with a DTD (word/document.xml); refused for safety"


def test_an_html_paragraph_past_libxml2s_10_mb_text_limit_is_read():
    long = "長い段落です。" * 500_000  # 3.5 M characters, 10.5 MB in UTF-8: one text node
    assert read_bytes_source(f"<html><body><p>{long}</p></body></html>".encode(), "x.html") == long


def test_a_docx_whose_xml_is_too_big_to_parse_is_refused_before_parsing(monkeypatch):
    para = "<w:p><w:r><w:t>東京</w:t></w:r></w:p>"
    many = _rezip(_docx_bytes(), _in_body(para * (1024 * 1024 // len(para.encode()) + 1)))
    monkeypatch.setattr(sources, "DOCX_MAX_XML", 1024 * 1024)
    monkeypatch.setattr(docx, "Document", lambda *a: pytest.fail("parsed"))
    assert len(many) < 100_000  # small to upload, big to parse
    message = error(read_bytes_source, many, "x.docx")
    assert message.startswith("x.docx: its XML unpacks to ") and message.endswith("the limit is 1 MB")
