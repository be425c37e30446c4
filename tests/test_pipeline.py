"""From texts to an Alignment: mode choice, input errors, a small real
Japanese–English pair with a 2-1 bead, scores, progress and confidence."""

import math

import pytest

from align import confidence
from align.errors import InputError
from align.pipeline import PipelineParams, align_segments, align_texts, choose_mode
from align.model import Segment
from conftest import SAMPLE, assert_partition

# Five English sentences; the second Japanese sentence is split in two (2-1).
JA = ("米国はウクライナに安全の保証を提示した。"
      "ゼレンスキー大統領はベルリンで協議に臨んだ。"
      "協議は二日間続いた。"
      "メルツ首相はこの提案を注目に値すると述べた。"
      "ロシアはまだコメントしていない。"
      "ブルームバーグはこの主張を独立して検証できていない。")
EN = ("The United States offered Ukraine security guarantees. "
      "President Zelensky held talks in Berlin, which lasted two days. "
      "Chancellor Merz called the proposal remarkable. "
      "Russia has not yet commented. "
      "Bloomberg could not independently verify the claim.")
# the same with a Japanese sentence that the English leaves out
UNTRANSLATED = "なお、東京の株式市場は小幅に反発した。"
JA_EXTRA = JA.replace("ロシアは", UNTRANSLATED + "ロシアは")


# -- choosing the mode ---------------------------------------------------------------

def test_choose_mode_headlines_for_a_few_short_lines_against_many_sentences():
    ja = [f"文{i}。" for i in range(30)]
    assert choose_mode(ja, ["US Offers Ukraine Security Guarantee"] * 6) == "headlines"
    assert choose_mode(ja, ["Short headline"] * 10) == "headlines"
    assert choose_mode(ja[:3], ["One headline"]) == "headlines"


def test_choose_mode_document_for_translation_sized_texts():
    ja = [f"文{i}。" for i in range(30)]
    assert choose_mode(ja, ["A sentence."] * 28) == "document"
    assert choose_mode(ja, ["A sentence."] * 11) == "document"            # more than 10 lines
    assert choose_mode(ja[:12], ["A sentence."] * 5) == "document"         # not 3x fewer
    assert choose_mode(ja, ["x" * 161] + ["Short"] * 3) == "document"      # a long English line
    assert choose_mode(ja[:5], ["The only sentence."] * 5) == "document"


def test_choose_mode_follows_its_parameters():
    ja = [f"文{i}。" for i in range(40)]
    assert choose_mode(ja, ["Short"] * 11, PipelineParams(headline_lines=12)) == "headlines"
    assert choose_mode(ja[:12], ["Short"] * 5, PipelineParams(sentences_per_headline=2)) == "headlines"
    assert choose_mode(ja, ["x" * 100], PipelineParams(headline_chars=99)) == "document"


# -- input errors -----------------------------------------------------------------------

@pytest.mark.parametrize("ja, en, match", [
    (JA, JA, "both texts look Japanese"),
    (EN, JA, "swapped"),
    (JA, "   \n\n ", "English side has no sentences"),
    (EN, EN, "does not look Japanese"),
    ("", EN, "does not look Japanese"),
    ("東京は晴れ。", None, "no 原題"),
    # a 原題 line must hold English headlines; the body must be Japanese
    ("東京は晴れ。大阪は雨だった。\n\n原題：東京の天気", None, "the 原題: line holds no English headline"),
    (EN + "\n\n原題：Weather in Tokyo", None, "the article's body does not look Japanese"),
])
def test_bad_input_raises_input_error(ja, en, match):
    with pytest.raises(InputError, match=match):
        align_texts(ja, en)


def test_bad_modes_raise_input_error():
    with pytest.raises(InputError, match="unknown mode"):
        align_texts(JA, EN, mode="sentences")
    with pytest.raises(InputError, match="document mode needs"):
        align_texts(SAMPLE.read_text(encoding="utf-8"), mode="document")


def test_input_error_messages_are_one_line():
    for ja, en in ((JA, JA), (EN, JA), (JA, "  ")):
        with pytest.raises(InputError) as info:
            align_texts(ja, en)
        assert "\n" not in str(info.value)


def test_a_headline_list_as_the_second_text_is_matched_as_headlines(use_encoder):
    from align.sources import parse_article
    text = SAMPLE.read_text(encoding="utf-8")
    body = text[:text.index("原題")]
    headlines = "\n".join(h.text for h in parse_article(text).headlines) + "\n"
    al = align_texts(body, headlines)
    assert al.mode == "headlines"
    assert len(al.en) == 6 and len(al.pairs) == 6


# -- a small real pair -------------------------------------------------------------------

@pytest.fixture(scope="module")
def small(use_encoder):
    return align_texts(JA, EN)


def test_a_small_pair_aligns_with_a_two_to_one_bead(small):
    al = small
    assert al.mode == "document" and len(al.ja) == 6 and len(al.en) == 5
    assert [(p.ja, p.en) for p in al.pairs] == [
        ((0,), (0,)), ((1, 2), (1,)), ((3,), (2,)), ((4,), (3,)), ((5,), (4,))]
    merged = al.pairs[1]
    assert merged.kind == "2-1"
    assert al.ja_text(merged) == "ゼレンスキー大統領はベルリンで協議に臨んだ。協議は二日間続いた。"


def test_scores_are_confidences_in_zero_one(small):
    assert all(0.0 <= p.score <= 1.0 for p in small.pairs)
    # correct pairs of a clean translation: confident
    assert min(p.score for p in small.pairs) > 0.8
    assert all(p.status == "auto" and p.candidates == () for p in small.pairs)


def test_the_alignment_records_how_it_was_made(small):
    meta = small.meta
    assert meta["aligner"] == "document" and meta["model"] == "use-m3"
    assert meta["params"]["skip"] > 0 and meta["seconds"] >= 0
    # the pipeline's own constants and the encoder's chunk size are recorded too
    assert meta["params"]["headline_lines"] == PipelineParams().headline_lines
    assert meta["params"]["unlikely_share"] == 0.5 and meta["params"]["encoder_chunk_size"] == 512
    assert small.en[0].start == 0 and EN[small.en[1].start:small.en[1].end] == small.en[1].text
    assert JA[small.ja[2].start:small.ja[2].end] == small.ja[2].text


def test_an_untranslated_sentence_becomes_a_one_to_zero_pair(use_encoder):
    al = align_texts(JA_EXTRA, EN)
    assert_partition([(p.ja, p.en) for p in al.pairs], len(al.ja), len(al.en))
    lone = [p for p in al.pairs if not p.en]
    assert len(lone) == 1 and al.ja_text(lone[0]) == UNTRANSLATED
    assert all(p.en for p in al.pairs if p is not lone[0])
    assert 0.0 <= lone[0].score <= 1.0


def test_boilerplate_is_left_out_on_both_sides(use_encoder):
    # Bloomberg's closing lines, in each language: were they kept on one side only, they
    # would be joined to the last sentences' links or left as orphans
    ja = (JA.replace("ロシアは", "\n写真：ロイター\nロシアは") + "\n\n--取材協力:Kate Sullivan.\n"
          "記事についての記者への問い合わせ先：東京 山田 yamada@example.com\n\n©2025 Bloomberg L.P.")
    en = (EN.replace("Russia has", "\nPhoto: Reuters\nRussia has") + "\n\n--With assistance from "
          "Kate Sullivan.\n\nTo contact the reporter on this story:\nTaro Yamada in Tokyo at "
          "yamada@example.com\n\nMore stories like this are available on bloomberg.com\n\n"
          "©2025 Bloomberg L.P.")
    al = align_texts(ja, en)
    assert [(p.ja, p.en) for p in al.pairs] == [((0,), (0,)), ((1, 2), (1,)), ((3,), (2,)),
                                                ((4,), (3,)), ((5,), (4,))]
    assert al.en_text(al.pairs[-1]) == "Bloomberg could not independently verify the claim."


def test_a_sentence_repeated_in_both_texts_keeps_its_one_to_one_links(use_encoder):
    # the same sentence after each figure: its copies are its nearest neighbours, which
    # made each 1-1 link look no better than chance and a 2-2 with the figure win
    ja = "".join(f"{place}の感染者は{n}人だった。前日から変わらなかった。"
                 for place, n in (("東京都", 100), ("大阪府", 80), ("愛知県", 50), ("福岡県", 30)))
    en = " ".join(f"{place} reported {n} cases. That was unchanged from the day before."
                  for place, n in (("Tokyo", 100), ("Osaka", 80), ("Aichi", 50), ("Fukuoka", 30)))
    al = align_texts(ja, en)
    assert [(p.ja, p.en) for p in al.pairs] == [((i,), (i,)) for i in range(8)]
    assert min(p.score for p in al.pairs) >= 0.8
    # a pair the reviewer touches is rescored by the same rule: the same score
    from align.rescoring import rescored
    again = rescored(al, range(len(al.pairs)), use_encoder)
    assert [p.score for p in again.pairs] == pytest.approx([p.score for p in al.pairs], abs=0.002)


def test_a_segment_of_marks_only_is_linked_only_to_another(use_encoder):
    # a rule on both sides is a 1-1 of its own; OCR debris on one side is left alone, not
    # joined to the sentence before it as it was (a bead that holds it is no translation unit)
    ja = ("米国はウクライナに安全の保証を提示した。\n＊＊＊\nロシアはまだコメントしていない。\n"
          "ブルームバーグはこの主張を独立して検証できていない。")
    en = ("The United States offered Ukraine security guarantees.\n* * *\nRussia has not yet commented.\n"
          ".....\nBloomberg could not independently verify the claim.")
    al = align_texts(ja, en)
    assert [(p.ja, p.en) for p in al.pairs] == [((0,), (0,)), ((1,), (1,)), ((2,), (2,)), ((), (3,)),
                                                ((3,), (4,))]


def test_two_sentence_texts_align(use_encoder):
    # shorter than the largest bead
    al = align_texts("米国は安全の保証を提示した。ロシアはまだコメントしていない。",
                     "The US offered security guarantees. Russia has not commented.")
    assert [(p.ja, p.en) for p in al.pairs] == [((0,), (0,)), ((1,), (1,))]


def test_presegmented_lines_are_kept_as_they_are(use_encoder):
    ja = "米国はウクライナに安全の保証を提示した。ロシアはまだコメントしていない。\nブルームバーグは検証できていない。\n"
    en = "The US offered Ukraine guarantees. Russia has not commented.\nBloomberg could not verify it.\n"
    al = align_texts(ja, en, presegmented=True)
    assert [s.text for s in al.ja] == ["米国はウクライナに安全の保証を提示した。ロシアはまだコメントしていない。",
                                       "ブルームバーグは検証できていない。"]
    assert len(al.en) == 2
    assert [(p.ja, p.en) for p in al.pairs] == [((0,), (0,)), ((1,), (1,))]


# texts that no other test embeds: the encoder keeps what it has embedded
PROGRESS_JA = ("気象庁は関東地方に大雨警報を出した。電車の一部は運転を見合わせた。"
               "午後には雨が弱まる見込みだ。週末は晴れると予想されている。")
PROGRESS_EN = ("The weather agency issued a heavy rain warning for the Kanto region. "
               "Some trains were suspended. The rain is expected to ease in the afternoon. "
               "Sunny weather is forecast for the weekend.")


def _reports(ja, en):
    seen = []
    align_texts(ja, en, progress=lambda stage, done, total: seen.append((stage, done, total)))
    assert {s for s, _, _ in seen} <= {"embedding", "aligning"}
    return [(d, t) for s, d, t in seen if s == "embedding"]


def test_progress_reports_both_sides(use_encoder):
    embedding = _reports(PROGRESS_JA, PROGRESS_EN)
    assert embedding and all(t == 8 for _, t in embedding)           # 4 + 4 sentences
    assert [d for d, _ in embedding] == sorted(d for d, _ in embedding)
    assert embedding[-1] == (8, 8)
    assert any(d == 4 for d, _ in embedding)                          # the Japanese side done


def test_progress_reaches_the_total_when_a_side_is_cached(use_encoder):
    ja, en = PROGRESS_JA.replace("関東", "九州"), PROGRESS_EN.replace("Kanto", "Kyushu")
    _reports(ja, en)
    embedding = _reports(ja.replace("電車", "バス"), en)              # one new Japanese sentence
    assert embedding and embedding[-1] == (8, 8)


def test_align_segments_accepts_an_encoder_and_segments(use_encoder):
    ja = [Segment("東京は晴れ。"), Segment("大阪は雨。"), Segment("札幌は雪。")]
    en = [Segment("Tokyo is sunny."), Segment("Osaka is rainy."), Segment("Sapporo has snow.")]
    al = align_segments(ja, en, encoder=use_encoder, mode="document")
    assert al.ja == tuple(ja) and al.en == tuple(en)
    assert [(p.ja, p.en) for p in al.pairs] == [((0,), (0,)), ((1,), (1,)), ((2,), (2,))]


# -- confidence ------------------------------------------------------------------------

def test_link_confidence_rises_with_similarity():
    sims = [-1.0, -0.2, 0.0, 0.1, 0.2, 0.3, 0.5, 1.0]
    for merged in (False, True):
        values = [confidence.link_confidence(s, merged) for s in sims]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(a < b for a, b in zip(values, values[1:]))
    # a merged bead needs more evidence than a 1-1 with the same similarity and shape gain
    assert confidence.link_confidence(0.2, True, gain=0.0) < confidence.link_confidence(0.2, False, gain=0.0)


def test_shape_gain_moves_confidence_the_right_way():
    gains = [-0.3, -0.1, 0.0, 0.1, 0.3]
    for merged in (False, True):
        values = [confidence.link_confidence(0.2, merged, gain=g) for g in gains]
        assert all(a < b for a, b in zip(values, values[1:]))
    # an orphan that would raise its neighbour's cosine by joining it is less surely alone
    values = [confidence.skip_confidence(0.0, g) for g in gains]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_bead_confidence_picks_the_curve_of_the_kind():
    assert confidence.bead_confidence(1, 1, 0.2, 0.6, 0.1) == confidence.link_confidence(0.2, False, 0.6, 0.1)
    assert confidence.bead_confidence(2, 1, 0.2, 0.6, 0.1) == confidence.link_confidence(0.2, True, 0.6, 0.1)
    assert confidence.bead_confidence(0, 1, 0.2, float("nan"), 0.1) == confidence.skip_confidence(0.2, 0.1)


def test_skip_confidence_falls_as_the_best_near_match_improves():
    values = [confidence.skip_confidence(b) for b in (-1.0, -0.1, 0.0, 0.1, 0.3, 1.0)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert all(a > b for a, b in zip(values, values[1:]))


def test_headline_confidence_rises_with_score_and_gap():
    grid = [[confidence.headline_confidence(s, g) for g in (-0.2, 0.0, 0.1, 0.3)]
            for s in (0.0, 0.3, 0.6, 0.9)]
    for row in grid:
        assert all(a < b for a, b in zip(row, row[1:]))
    for col in zip(*grid):
        assert all(a < b for a, b in zip(col, col[1:]))


def test_confidence_survives_extreme_inputs():
    for value in (confidence.link_confidence(1e6, False), confidence.skip_confidence(-1e6),
                  confidence.headline_confidence(1e6, 1e6)):
        assert value == pytest.approx(1.0)
    for value in (confidence.link_confidence(-1e6, True), confidence.skip_confidence(1e6),
                  confidence.headline_confidence(-1e6, -1e6)):
        assert 0.0 <= value < 1e-9 and not math.isnan(value)


SPEECH_JA = ("東京で記者会見が開かれた。首相は記者団に「経済は回復している。雇用は増えた。物価は安定している。"
             "輸出も伸びた。投資も戻ってきた。観光客も増えた。来年はさらに良くなる。」と述べた。"
             "会見は一時間続いた。")
SPEECH_EN = ("A press conference was held in Tokyo. The prime minister told reporters: \"The economy is "
             "recovering. Employment has increased. Prices are stable. Exports have grown. Investment has "
             "come back. Tourists have increased. Next year will be even better.\" The conference lasted an hour.")


def test_a_speech_kept_whole_in_japanese_takes_all_its_english_sentences(use_encoder):
    # a speech quoted inside a sentence (…に「…。…。」と述べた) is one Japanese segment;
    # the English one follows a colon, opens its sentences and is split in seven:
    # a 1-7 pair, not a 1-5 pair and two orphans
    al = align_texts(SPEECH_JA, SPEECH_EN, mode="document")
    assert len(al.ja) == 3 and len(al.en) >= 9
    speech = next(p for p in al.pairs if 1 in p.ja)
    assert len(speech.en) >= 6
    assert all(p.ja and p.en for p in al.pairs)
    assert_partition([(p.ja, p.en) for p in al.pairs], len(al.ja), len(al.en))


def test_unrelated_texts_get_low_confidence_and_a_warning(use_encoder):
    ja = "猫が好きです。\n今日は雨です。\n東京は大きい。"
    en = "My grandmother lives in Osaka.\nThe stock market fell.\nHe plays the violin.\nBirds fly south."
    al = align_texts(ja, en, mode="document", presegmented=True)
    assert all(p.score < 0.5 for p in al.pairs if p.ja and p.en)
    assert "translation" in al.meta["warning"]
    # a real translation pair gets neither
    good = align_texts("猫が好きです。\n今日は雨です。", "I like cats.\nIt is raining today.",
                       mode="document", presegmented=True)
    assert "warning" not in good.meta and min(p.score for p in good.pairs) >= 0.5
    # the thresholds are parameters: tolerating every link under 0.5 silences the warning
    lenient = align_texts(ja, en, mode="document", presegmented=True,
                          pipeline=PipelineParams(unlikely_share=1.0))
    assert "warning" not in lenient.meta and lenient.meta["params"]["unlikely_share"] == 1.0


RATES_JA = ("日本銀行は木曜日、政策金利を0.5%に引き上げ、1月以来の利上げとなった。"
            "植田総裁は記者会見で、物価の上昇が続いていると述べた。"
            "円相場は発表の後、対ドルで上昇した。"
            "市場では年内の追加利上げを予想する声が多い。")
RATES_EN = ("The Bank of Japan raised rates to 0.5% on Thursday. It was the first hike since January. "
            "Governor Ueda told a news conference that prices keep rising. "
            "The yen rose against the dollar after the announcement. "
            "Many in the market expect another hike this year.")


def test_a_short_sentence_split_off_is_never_a_confident_orphan(use_encoder):
    # one Japanese sentence translated as two English ones: the short second
    # one belongs with it, and if the aligner leaves it alone it must say it is unsure
    al = align_texts(RATES_JA, RATES_EN, mode="document")
    hike = next(j for j, s in enumerate(al.en) if s.text.startswith("It was the first hike"))
    pair = next(p for p in al.pairs if hike in p.en)
    assert pair.ja == (0,) or pair.score < 0.8, (pair, al.pairs)
    orphans = [p for p in al.pairs if not (p.ja and p.en)]
    assert all(p.score < 0.8 for p in orphans), al.pairs


def test_rescore_gives_an_edited_pair_a_real_confidence(use_encoder):
    ja = [s.text for s in __import__("align.segment", fromlist=["split"]).split(JA, "ja")]
    en = [s.text for s in __import__("align.segment", fromlist=["split"]).split(EN, "en")]
    jv, ev = use_encoder.encode(ja), use_encoder.encode(en)
    # Merz's sentence with its translation, and with an unrelated one
    right = confidence.rescore(jv[3], ev[2], jv, ev)
    wrong = confidence.rescore(jv[3], ev[4], jv, ev)
    assert right > 0.8 > 0.5 > wrong
    # the 2-1 pair as the reviewer merges it: both Japanese sentences joined
    merged = confidence.rescore(use_encoder.encode([ja[1] + ja[2]])[0], ev[1], jv, ev, merged=True)
    assert merged > confidence.rescore(jv[2], ev[1], jv, ev)
    # an orphan with a counterpart is unlikely alone; one without is likely (not
    # sure: rescore does not know the links beside it)
    with_counterpart = confidence.rescore(None, ev[3], jv, ev)
    without = confidence.rescore(use_encoder.encode([UNTRANSLATED])[0], None, jv, ev)
    assert with_counterpart < 0.5 < 0.6 < without


def test_an_orphan_split_off_its_sentence_is_not_confident_unlike_a_real_omission(use_encoder):
    # the aligner made to miss the split (merges too dear): the orphan would
    # raise its neighbour's length agreement by joining it, and is short
    from dataclasses import replace
    from align.document import DocumentParams
    from align.segment import split
    en = [Segment(s.text) for s in split(RATES_EN, "en")]
    no_merges = replace(DocumentParams(), merge_penalty=1.0)
    scores = []
    for ja_text in (RATES_JA, RATES_JA.replace("、1月以来の利上げとなった", "")):   # split, omission
        ja = [Segment(s.text) for s in split(ja_text, "ja")]
        pairs = align_segments(ja, en, params=no_merges).pairs
        assert pairs[1].ja == () and pairs[1].en == (1,)
        scores.append(pairs[1].score)
    missed_split, omission = scores
    assert missed_split < 0.6 and omission > 0.95


def _group_scorer(src_vecs, tgt_vecs, src_lens, tgt_lens):
    """A real BeadScorer over toy sentence vectors, a group embedded as the
    normalised sum of its sentences (as a deep averaging network nearly does)."""
    import numpy as np
    from align.band import Band
    from align.document import BeadScorer, DocumentParams

    def groups(vecs):
        out = []
        for k in range(1, 4):
            g = np.zeros_like(vecs)
            for i in range(len(vecs) - k + 1):
                total = vecs[i:i + k].sum(axis=0)
                g[i] = total / np.linalg.norm(total)
            out.append(g)
        return out

    return BeadScorer(groups(src_vecs), groups(tgt_vecs), np.array(src_lens, float), np.array(tgt_lens, float),
                      Band.full(len(src_vecs), len(tgt_vecs)), DocumentParams())


def test_shape_gain_sees_a_sentence_on_the_wrong_side_of_a_boundary():
    # source sentences 0, 1, 2 make target 0; source 3 is target 1. An aligner
    # that gives sentence 2 to the second link leaves two m-n links, each of
    # which a rival beats: sentence 2 moved across their boundary
    import numpy as np
    from align.document import shape_gains
    basis = np.eye(4, dtype=np.float32)
    tgt = np.stack([basis[:3].sum(axis=0) / np.sqrt(3), basis[3]])
    scorer = _group_scorer(basis, tgt, [20, 20, 20, 20], [60, 20])
    right = shape_gains([((0, 1, 2), (0,)), ((3,), (1,))], scorer.bead_value)
    wrong = shape_gains([((0, 1), (0,)), ((2, 3), (1,))], scorer.bead_value)
    assert min(right) > 0 > max(wrong)
    assert all(confidence.link_confidence(0.3, True, 0.8, g) < 0.5 for g in wrong)
    assert confidence.link_confidence(0.3, True, 0.8, right[0]) > 0.8


def test_shape_gain_of_an_orphan_counts_length_agreement():
    # two orphans with the same cosines: the one whose neighbour link is too
    # long on the other side without it (a split missed) is less surely alone
    import numpy as np
    from align.document import shape_gains
    vecs = np.eye(3, dtype=np.float32)
    beads = [((0,), (0,)), ((), (1,)), ((1,), (2,))]
    split = shape_gains(beads, _group_scorer(vecs[[0, 2]], vecs, [90, 40], [45, 45, 40]).bead_value)
    omission = shape_gains(beads, _group_scorer(vecs[[0, 2]], vecs, [45, 40], [45, 45, 40]).bead_value)
    assert split[1] > omission[1]
    assert confidence.skip_confidence(0.0, split[1], -0.5) < confidence.skip_confidence(0.0, omission[1], -0.5)


def test_a_short_sentence_split_off_and_merged_back_is_a_confident_link(use_encoder):
    al = align_texts(RATES_JA, RATES_EN, mode="document")
    assert (al.pairs[0].ja, al.pairs[0].en) == ((0,), (0, 1))
    assert al.pairs[0].score > 0.8, al.pairs
