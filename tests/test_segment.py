from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from align.segment import split, split_english, split_japanese, split_lines

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "ukraine_talks_bloomberg_ja.txt"


def texts(segments):
    return [s.text for s in segments]


def assert_spans(text, segments, offset=0):
    """Each segment is its source span, stripped, and the spans follow one another."""
    end = offset
    for s in segments:
        assert s.text and s.text == s.text.strip()
        assert text[s.start - offset:s.end - offset] == s.text
        assert s.start >= end
        end = s.end


# -- Japanese -----------------------------------------------------------------------------

@pytest.mark.parametrize("o, c", ["「」", "『』", "（）", "()", "“”", "【】"])
def test_ja_never_splits_inside_any_bracket(o, c):
    t = f"前{o}中の文。中の文！{c}と続く。次。"
    assert texts(split_japanese(t)) == [f"前{o}中の文。中の文！{c}と続く。", "次。"]


def test_ja_sentence_final_marks_full_and_half_width():
    t = "本文（注：括弧内。）。最後！本当？はい!いいえ?終わり｡"
    assert texts(split_japanese(t)) == ["本文（注：括弧内。）。", "最後！", "本当？", "はい!",
                                        "いいえ?", "終わり｡"]


def test_ja_marks_that_do_not_end_a_sentence():
    t = "Yahoo!ニュースによると３．５％増えた。次。"
    assert texts(split_japanese(t)) == ["Yahoo!ニュースによると３．５％増えた。", "次。"]


def test_ja_closing_quote_after_period():
    t = "「わかった。」と彼は言った。「はい。」しかし雨が降った。「本当？」って。"
    assert texts(split_japanese(t)) == ["「わかった。」と彼は言った。", "「はい。」",
                                        "しかし雨が降った。", "「本当？」って。"]


def test_ja_unclosed_bracket_does_not_swallow_the_text():
    segments = split_japanese("彼は「未完の引用。" + "次の文です。" * 50)
    assert len(segments) == 51
    assert segments[0].text == "彼は「未完の引用。"
    assert texts(split_japanese("文です。」余り。（次。")) == ["文です。」", "余り。", "（次。"]


def test_ja_brackets_do_not_pair_across_paragraphs():
    t = "「開く。次。\n\n閉じる。」"
    assert texts(split_japanese(t)) == ["「開く。", "次。", "閉じる。」"]


def test_ja_heading_line_is_its_own_segment():
    t = ("ウクライナ、潜水艦を攻撃\n"
         "一方、ウクライナ保安局(SBU)はロシアの潜水艦を水中ドローンで損傷させたと主張した。事実であれば初めて。")
    assert texts(split_japanese(t)) == [
        "ウクライナ、潜水艦を攻撃",
        "一方、ウクライナ保安局(SBU)はロシアの潜水艦を水中ドローンで損傷させたと主張した。", "事実であれば初めて。"]
    assert texts(split_japanese("見出し\n\n本文。")) == ["見出し", "本文。"]


def test_ja_wrapped_line_is_rejoined_and_keeps_its_newline():
    t = ("米当局者は、全体の90%で意見の一致に近づいていると説明。作業部会レベルの協議が今週末に米国、恐らく\n"
         "マイアミで再開される可能性があると明らかにした。")
    segments = split_japanese(t)
    assert texts(segments)[1] == "作業部会レベルの協議が今週末に米国、恐らく\nマイアミで再開される可能性があると明らかにした。"
    assert_spans(t, segments)
    assert texts(split_japanese("彼は、\n言った。")) == ["彼は、\n言った。"]  # a comma goes on


def test_ja_a_short_line_is_a_heading_even_mid_sentence():
    # The documented trade-off: hard-wrapped text fills its lines, so this reads as a heading.
    assert texts(split_japanese("彼は\n言った。")) == ["彼は", "言った。"]


def test_ja_line_ending_in_a_quote():
    t = "彼はこう言った。「女性が非力だからあなたは力を持っている」\nフレークによれば、扉が閉まった。"
    assert texts(split_japanese(t)) == ["彼はこう言った。", "「女性が非力だからあなたは力を持っている」",
                                        "フレークによれば、扉が閉まった。"]
    t = "米国上院議員のエリザベス・ウォレン氏は11月の選挙の後に「大統領選に向けて入念な準備」\nを行うと述べた。"
    assert texts(split_japanese(t)) == [t]


def test_ja_indented_line_opens_a_paragraph():
    t = "とても長い見出しのように見えるけれども句点のない一行がここにあります\n　新しい段落。"
    assert len(split_japanese(t)) == 2


def test_ja_sample_article():
    t = SAMPLE.read_text(encoding="utf-8")
    segments = split_japanese(t)
    assert_spans(t, segments)
    assert "ウクライナ、潜水艦を攻撃" in texts(segments)
    assert segments[0].text.startswith("ゼレンスキー大統領率いる")


# -- quotations: one rule for both languages -----------------------------------------------

@pytest.mark.parametrize("text, lang, expected", [
    # a speech that opens a sentence is split at its sentence ends
    ("彼は述べた。「急いで対策を講じる。年内に経済対策をまとめる。」次の文。", "ja",
     ["彼は述べた。", "「急いで対策を講じる。", "年内に経済対策をまとめる。」", "次の文。"]),
    ("He spoke. “We will hurry to take measures. We will compile a package by the end of "
     "the year.” Then he left.", "en",
     ["He spoke.", "“We will hurry to take measures.",
      "We will compile a package by the end of the year.”", "Then he left."]),
    # … even when the sentence goes on after it
    ("「晴れだ。雨が降るだろう」と彼は言った。", "ja", ["「晴れだ。", "雨が降るだろう」と彼は言った。"]),
    ('"It is sunny. It will rain," he said.', "en", ['"It is sunny.', 'It will rain," he said.']),
    # a speech that ends a sentence, too
    ("トランプ氏は続けた、「見てみろ。今起きている。」次。", "ja",
     ["トランプ氏は続けた、「見てみろ。", "今起きている。」", "次。"]),
    ('Trump added, "Look. It is happening." Next.', "en",
     ['Trump added, "Look.', 'It is happening."', "Next."]),
    # a quotation inside a sentence, words before and after it, is never split
    ("彼は「晴れだ。雨だ。」と続けた。次の文。", "ja", ["彼は「晴れだ。雨だ。」と続けた。", "次の文。"]),
    ("「そうだ。」のように言う。次。", "ja", ["「そうだ。」のように言う。", "次。"]),
    ('He said "Go. Now." and left. Then he cried.', "en",
     ['He said "Go. Now." and left.', "Then he cried."]),
    ("He called it “a mess. A disaster,” and left.", "en",
     ["He called it “a mess. A disaster,” and left."]),
    # nested: the inner quotation sits inside a sentence of the outer speech
    ("「彼は『晴れだ。雨だ。』と言った。次だ。」", "ja", ["「彼は『晴れだ。雨だ。』と言った。", "次だ。」"]),
    ('“He said "Go. Now." and left. Then he cried.”', "en",
     ['“He said "Go. Now." and left.', "Then he cried.”"]),
])
def test_quotations_split_alike_in_both_languages(text, lang, expected):
    segments = split(text, lang)
    assert texts(segments) == expected
    assert_spans(text, segments)


@pytest.mark.parametrize("text, lang, sentences", [
    ("彼は「未完の引用。" + "次の文です。" * 50, "ja", 51),
    ('He said "Go. ' + "Next one. " * 50, "en", 51),
    # a quotation kept whole holds at most 12 sentences: a longer one is a stray mark
    ('He said "Go. ' + "Next one. " * 10 + 'And then" he left.', "en", 1),
    ('He said "Go. ' + "Next one. " * 50 + 'And then" he left.', "en", 52),
    ("彼は「未完の引用。" + "次の文です。" * 50 + "」と言った。", "ja", 51),
    ('He said "Go.\n\nNow." and left. Next.', "en", 3),  # a quote never spans paragraphs
])
def test_an_unclosed_quote_does_not_swallow_the_text(text, lang, sentences):
    assert len(split(text, lang)) == sentences


# -- English ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("U.S. Sen. Elizabeth Warren says she will run. Mr. and Mrs. Smith agreed.",
     ["U.S. Sen. Elizabeth Warren says she will run.", "Mr. and Mrs. Smith agreed."]),
    ("Dr. Jones met Gov. Brown on Jan. 5 at St. Mary's. No. 10 said no.",
     ["Dr. Jones met Gov. Brown on Jan. 5 at St. Mary's.", "No. 10 said no."]),
    ("Rep. Diehl and Gen. Lee spoke. Acme Inc. The firm, e.g. Sony, i.e. a rival, grew.",
     ["Rep. Diehl and Gen. Lee spoke.", "Acme Inc.", "The firm, e.g. Sony, i.e. a rival, grew."]),
    ("J. K. Rowling wrote it. It sold 3.5 million copies.",
     ["J. K. Rowling wrote it.", "It sold 3.5 million copies."]),
    ('He said "Stop." Then he left.', ['He said "Stop."', "Then he left."]),
    ('"Why?" she asked. He smiled.', ['"Why?" she asked.', "He smiled."]),
    ("Wait... What happened? Nothing! Fine.", ["Wait...", "What happened?", "Nothing!", "Fine."]),
    ("It starts at 5 a.m. Eastern time. The U.S. economy grew.",
     ["It starts at 5 a.m. Eastern time.", "The U.S. economy grew."]),
    ("Ltd. and Corp. beat rivals vs. peers. Done.",
     ["Ltd. and Corp. beat rivals vs. peers.", "Done."]),
    ('She smiled. "Good," he said.', ["She smiled.", '"Good," he said.']),
    ("They always said his smile lit up any room. \"\nHowever, he left.",
     ['They always said his smile lit up any room. "', "However, he left."]),
])
def test_en_sentences(text, expected):
    segments = split_english(text)
    assert texts(segments) == expected
    assert_spans(text, segments)


def test_en_headings_and_lists():
    t = ("Volcano spews ash on Mexico City\nThe volcano erupted. Ash fell.\n\n"
         "Steps:\n1. Go. 2. Stop.")
    assert texts(split_english(t)) == ["Volcano spews ash on Mexico City", "The volcano erupted.",
                                       "Ash fell.", "Steps:", "1. Go.", "2. Stop."]


def test_en_line_breaks():
    assert texts(split_english("Mr.\nSmith came.")) == ["Mr.\nSmith came."]
    assert texts(split_english("He works at Apple Inc.\nSales rose.")) == [
        "He works at Apple Inc.", "Sales rose."]
    t = ("The quick brown fox jumps over the lazy dog and keeps running\n"
         "across the field. Then it stops.")
    assert texts(split_english(t)) == [
        "The quick brown fox jumps over the lazy dog and keeps running\nacross the field.",
        "Then it stops."]


@pytest.mark.parametrize("text, lang", [
    ("---\n見出し\n---\n本文です。\n＊＊＊", "ja"),
    ("---\nHeading\n---\nThis is the body.\n＊＊＊", "en")])
def test_a_line_of_marks_stands_alone_in_both_languages(text, lang):
    # "---" ends in a mark that carries a line on (a hyphen): it took the next line with it
    assert len(texts(split(text, lang))) == 5



def test_a_wrapped_sentence_s_lone_mark_is_no_rule():
    text = "The central bank raised its policy rate to 0.5\n%\nin May, the bank said in a statement."
    assert texts(split_english(text)) == [text]


# -- lines, dispatch, offsets -----------------------------------------------------------

def test_split_lines_keeps_offsets():
    t = "一行目。二文目。\n\n  two  \nthree"
    segments = split_lines(t, offset=10)
    assert texts(segments) == ["一行目。二文目。", "two", "three"]
    assert_spans(t, segments, offset=10)


def test_split_dispatches_by_language():
    t = "Dr. Müller kam. Er ging. 「はい。」と言った。"
    assert split(t, "ja") == split_japanese(t)
    assert split(t, "en") == split_english(t)
    assert split(t, "de") == split_english(t)
    assert split(t, "fr", offset=5) == split_english(t, offset=5)


def test_offset_shifts_every_segment():
    t = "一文目。二文目。"
    assert [(s.start, s.end) for s in split_japanese(t, offset=100)] == [(100, 104), (104, 108)]


ALPHABET = "あア漢字。！？!?．「」『』（）()“”【】、 \n\n\u3000abcXY.,'\"03"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=ALPHABET, max_size=120), st.integers(0, 50),
       st.sampled_from(["ja", "en"]))
def test_segments_are_exact_spans_and_lose_nothing(text, offset, lang):
    segments = split(text, lang, offset)
    assert_spans(text, segments, offset)
    assert "".join(text.split()) == "".join("".join(s.text.split()) for s in segments)
    lines = split_lines(text, offset)
    assert_spans(text, lines, offset)
    assert "".join(text.split()) == "".join("".join(s.text.split()) for s in lines)


# -- hostile shapes: linear time ----------------------------------------------------------

from hypothesis import HealthCheck  # noqa: E402

from align.segment import inner_sentence_ends, sentence_ends  # noqa: E402
from costs import assert_linear  # noqa: E402

HOSTILE_SHAPES = {
    "dots with no space after": lambda n: "a" + "." * n + "x",
    "question marks": lambda n: "?" * n + "x",
    "closers after a period": lambda n: "." + ")" * n + "x",
    "spaced quotes": lambda n: '. "' * (n // 3) + "x",
    "periods before lowercase": lambda n: "a. " * (n // 3),
    "unmatched openers then closers": lambda n: "（" * (n // 2) + "」" * (n // 2),
    "nested mixed brackets": lambda n: "「（" * (n // 4) + "）」" * (n // 4),
    "nested speeches": lambda n: "彼は「。" * (n // 5) + "」と" * (n // 5),
    "nested straight quotes": lambda n: 'a "b. ' * (n // 6) + '" ' * (n // 6),
    "many sentences": lambda n: "文です。" * (n // 4),
}


@pytest.mark.parametrize("shape", HOSTILE_SHAPES)
@pytest.mark.parametrize("splitter", [split_english, split_japanese], ids=["en", "ja"])
def test_splitters_take_linear_time_on_hostile_shapes(shape, splitter):
    assert_linear(splitter, HOSTILE_SHAPES[shape])


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_sentence_ends_takes_linear_time(lang):
    assert_linear(lambda t: sentence_ends(t, lang, inside_quotes=True),
                  lambda n: "a. B" * (n // 4) + "１．５。" * (n // 8))


@settings(deadline=2000, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("a A.?!…\"')]「」（）『』〔〕。！？．１５ \n\t")),
               max_size=3000),
       st.sampled_from(["en", "ja"]))
def test_splitters_fuzz_within_a_deadline(text, lang):
    segments = split(text, lang)
    assert_spans(text, segments)
    ends = sentence_ends(text, lang)
    assert ends == sorted(set(ends)) and all(0 < i < len(text) for i in ends)


# -- sentence_ends: the one set of sentence-end rules (the editor's cut offers use it) ------

@pytest.mark.parametrize("text, lang, inside, expected", [
    ("価格は１．５倍に。Yahoo!で見た。", "ja", True, [9]),    # no cut in １．５ or after Yahoo!
    ("〔注記した。〕次だ。", "ja", True, [7]),                  # after the closing 〕, not before
    ("「そうだ。」のように言う。", "ja", True, []),              # a particle carries the quote on
    ("彼は「はい。そうです。」と言った。", "ja", True, [6]),    # a speech of two sentences
    ("彼は「はい。そうです。」と言った。", "ja", False, []),
    ("「はい。そうです。」と言った。", "ja", False, [4]),        # a speech opening a sentence
    ('He said "Go. Now." and left.', "en", True, [12]),
    ('He said "Go. Now." and left.', "en", False, []),
    ("「はい。」しかし雨だ。", "ja", False, [5]),
    ("はい。 ", "ja", False, []),                              # nothing follows
    ("Capt. Smith met Lt. Jones and Col. Brown on Jan. 5 at noon. Then he left.", "en", False,
     [59]),
    ('He said "Stop." Then he left. "Why?" she asked.', "en", False, [15, 29]),
    ("Yahoo! Japan is big. It is.", "en", False, [6, 20]),
])
def test_sentence_ends(text, lang, inside, expected):
    assert sentence_ends(text, lang, inside_quotes=inside) == expected


def test_inner_sentence_ends_counts_by_the_same_rules():
    assert inner_sentence_ends("価格は１．５倍に。Yahoo!で見た。") == 1
    assert inner_sentence_ends("「はい。そうです。」") == 1
    assert inner_sentence_ends("彼は「はい。そうです。」と言った。") == 1
    assert inner_sentence_ends('He said "Go. Now." and left.', "en") == 1
    assert inner_sentence_ends("「そうだ。」と述べた。") == 0


@settings(deadline=2000, max_examples=200)
@given(st.lists(st.sampled_from(list("a A.?!…\"')」「（）。！？．１５ ")
                               + ["Mr.", "Jan.", " The", "Yahoo!", "U.S.", "と"]),
               max_size=60).map("".join).filter(str.strip),
       st.sampled_from(["en", "ja"]))
def test_sentence_ends_are_where_the_splitter_cuts_a_line(text, lang):
    segments = split(text, lang)
    ends = sentence_ends(text, lang)
    assert len(segments) == len(ends) + 1
    for a, b, cut in zip(segments, segments[1:], ends):
        assert a.end <= cut <= b.start
