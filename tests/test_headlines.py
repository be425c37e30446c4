"""Headline matching: the bundled Bloomberg sample end to end (each English
headline against the sentence a translator would pick), and the quote and
Latin-token signals on tiny inputs."""

import numpy as np
import pytest

from align.headlines import (HeadlineParams, _anchor_scores, _quote_scores, _token_overlap,
                             english_skeleton, features, katakana_skeleton, match_headlines,
                             score_matrix)
from conftest import SAMPLE

# Read off the article: the Japanese sentence each headline summarises,
# as a substring (any of several is right).
EXPECTED = {
    "US Offers Ukraine Security Guarantee": ["安全の保証を提示した"],
    "US Offers Security Deal": ["安全の保証を提示した"],
    "Trump: War in Ukraine’s End Closer": ["戦争終結にかつてなく近づいている"],
    "‘Real Progress’": ["「実質的な進展」"],
    "Ukraine Says Its Drones Hit Russian Submarine": ["ウクライナ保安局(SBU)はロシアの潜水艦",
                                                      "ウクライナ、潜水艦を攻撃"],
    "*MERZ: US OFFER ON UKRAINE GUARANTEES": ["「注目に値する」"],
}


@pytest.fixture(scope="module")
def sample_alignment(use_encoder):
    from align.pipeline import align_texts
    return align_texts(SAMPLE.read_text(encoding="utf-8"))


def _expected_for(headline: str) -> list[str]:
    [key] = [k for k in EXPECTED if k in headline]
    return EXPECTED[key]


def test_the_sample_gives_six_headline_pairs_with_ranked_candidates(sample_alignment):
    al = sample_alignment
    assert al.mode == "headlines" and al.meta["aligner"] == "headlines"
    assert len(al.en) == 6 and len(al.pairs) == 6
    assert sorted(p.en for p in al.pairs) == [(h,) for h in range(6)]
    assert len(al.ja) > 30      # the body, without the 原題 line and the boilerplate
    assert not any("原題" in s.text or "Bloomberg L.P." in s.text for s in al.ja)
    for pair in al.pairs:
        cands = pair.candidates
        assert 2 <= len(cands) <= 5
        scores = [c.score for c in cands]
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert scores == sorted(scores, reverse=True)
        # each one as far below the pick as the ranker puts it: the reviewer can compare them
        assert len(set(scores)) == len(scores) and scores[-1] < scores[0]
        assert len({c.ja for c in cands}) == len(cands)
        assert all(len(c.ja) == 1 and 0 <= c.ja[0] < len(al.ja) for c in cands)
        # the pair is its best candidate
        assert pair.ja == cands[0].ja and pair.score == cands[0].score


def test_the_sample_headlines_link_to_the_sentences_a_translator_would_pick(sample_alignment):
    al = sample_alignment
    right = []
    for pair in al.pairs:
        headline = al.en[pair.en[0]].text
        right.append(any(s in al.ja_text(pair) for s in _expected_for(headline)))
    assert sum(right) >= 5, [al.en[p.en[0]].text for p, ok in zip(al.pairs, right) if not ok]
    # and the right sentence is at least among the candidates for every headline
    for pair in al.pairs:
        texts = [al.ja[c.ja[0]].text for c in pair.candidates]
        assert any(s in t for t in texts for s in _expected_for(al.en[pair.en[0]].text))


def test_a_pick_that_stands_out_is_surer_than_a_close_call(sample_alignment):
    # Merz's 'remarkable' has one sentence that quotes it; the first headline's
    # claim is spread over the lede and two later sentences
    def pair(words):
        return next(p for p in sample_alignment.pairs if words in sample_alignment.en[p.en[0]].text)
    clear, close = pair("REMARKABLE"), pair("US Offers Ukraine Security Guarantee")
    assert clear.score > close.score + 0.2
    assert clear.candidates[0].score - clear.candidates[1].score > 0.3


# -- the signals on tiny inputs ----------------------------------------------------

def fake_encoder(table: dict[str, list[float]]):
    """encode(texts) from a fixed table of (normalised) vectors; records calls."""
    calls = []

    def encode(texts):
        calls.append(list(texts))
        return np.array([np.array(table[t], float) / np.linalg.norm(table[t]) for t in texts])
    encode.calls = calls
    return encode


def test_quote_scores_match_quoted_phrases_to_japanese_quotes():
    encode = fake_encoder({"Real Progress": [1, 0, 0], "Remarkable": [0, 1, 0],
                           "実質的な進展": [0.9, 0.1, 0], "注目に値する": [0, 0.8, 0.6],
                           "無関係な話": [0, 0, 1]})
    headlines = ["Ukraine and US Make ‘Real Progress’ as Leaders Meet",
                 "MERZ: OFFER IS 'REMARKABLE'".replace("REMARKABLE", "Remarkable"),
                 "No quote here"]
    ja = ["書記は「実質的な進展」があったと述べた。",
          "提案を「注目に値する」とし、『無関係な話』もした。",
          "引用のない文。"]
    got = _quote_scores(headlines, ja, encode)
    assert got.shape == (3, 3)
    cos_rp = 0.9 / np.hypot(0.9, 0.1)
    assert got[0, 0] == pytest.approx(cos_rp - 0.35, abs=1e-6)
    # the best of a sentence's two quotes counts: cos(Remarkable, 注目に値する) = 0.8
    assert got[1, 1] == pytest.approx(0.8 - 0.35, abs=1e-6)
    # an unrelated quote (cosine below 0.35) gives nothing, never less than nothing
    assert got[0, 1] == 0.0 and got[1, 0] == pytest.approx(max(0.0, 0.1 / np.hypot(0.9, 0.1) - 0.35))
    # no quote on either side: zero
    assert not got[2].any() and not got[:, 2].any()


def test_quote_scores_without_quotes_do_not_embed_anything():
    encode = fake_encoder({})
    got = _quote_scores(["Trump: War in Ukraine’s End Closer Than Ever"], ["「進展」があった。"], encode)
    assert not got.any() and encode.calls == []


@pytest.mark.parametrize("headline, quotes", [
    ("Ukraine and US Make ‘Real Progress’ as European Leaders Meet", ["Real Progress"]),
    ("*MERZ: US OFFER ON UKRAINE GUARANTEES IS ‘REMARKABLE’", ["REMARKABLE"]),
    ('Putin Calls Talks "Useful" and "Constructive"', ["Useful", "Constructive"]),
    ("Trump: War in Ukraine’s End Closer Than Ever", []),
    ("Trump's Envoy's Trip Ends", []),
])
def test_quoted_phrases_found_in_headlines(headline, quotes):
    encode = fake_encoder({q: [1.0, 0.0] for q in quotes} | {"引用": [1.0, 0.0]})
    _quote_scores([headline], ["「引用」"], encode)
    assert (encode.calls[0] if encode.calls else []) == quotes


def test_a_possessive_apostrophe_is_not_a_quote():
    encode = fake_encoder({"Useful": [1.0, 0.0], "有益": [1.0, 0.0],
                           "s Aide Calls Talks ": [0.0, 1.0]})
    got = _quote_scores(["Putin's Aide Calls Talks 'Useful'"], ["協議は「有益」だった。"], encode)
    assert encode.calls[0] == ["Useful"]
    assert got[0, 0] == pytest.approx(0.65)


def test_token_overlap_counts_shared_latin_tokens_and_numbers():
    headlines = ["NATO and SBU Say 90% of Deal Agreed", "The Talks Are Over", "G7 Meets"]
    ja = ["北大西洋条約機構(NATO)の会合。",
          "ウクライナ保安局(SBU)は全体の90%で合意したと述べた。",
          "the talks are over と英語で書かれた文。",
          "G7サミットが開かれた。",
          "90.5%という数字。"]
    got = _token_overlap(headlines, ja)
    assert got.shape == (3, 5)
    assert got[0].tolist() == [1, 2, 0, 0, 0]        # nato; sbu + 90% (not 90.5%)
    # stop words (the, are, over) do not count: only 'talks' is shared
    assert got[1].tolist() == [0, 0, 1, 0, 0]
    assert got[2].tolist() == [0, 0, 0, 1, 0]


def test_score_matrix_is_the_rankers_weighted_sum_of_the_features():
    headlines = ["NATO Says 'Progress'", "Plain headline"]
    ja = ["「進展」があったとNATOは述べた。", "関係のない文。", "もう一つの文、長いものだ。"]
    encode = fake_encoder({"Progress": [1, 0], "進展": [1, 0], "関係のない文。": [0.6, 0.8],
                           "もう一つの文、": [1, 0], "長いものだ。": [0, 1]})
    h = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = np.array([[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    feats = features(h, s, headlines, ja, encode)
    assert set(feats) == set(HeadlineParams().weights())
    assert np.allclose(feats["cos"], h @ s.T)
    # a clause run of the third sentence matches the second headline better than the whole
    assert feats["coverage"][1, 2] == pytest.approx(1.0) and feats["coverage"][0, 2] >= feats["cos"][0, 2]
    # NATO is found, Progress (a capitalised word, a name for all it knows) is not
    assert feats["quote"][0, 0] == pytest.approx(0.65) and feats["anchors"][0].tolist() == [0.5, 0, 0]
    # the lede prior is the first headline's only
    assert feats["first"][0].tolist() == [1, 0, 0] and feats["second"][0].tolist() == [0, 1, 0]
    assert not feats["first"][1].any() and not feats["position"][1].any()
    p = HeadlineParams()
    got = score_matrix(h, s, headlines, ja, encode, p)
    assert np.allclose(got, sum(w * feats[k] for k, w in p.weights().items()))
    # switching all but the cosine off leaves the cosine
    only_cos = HeadlineParams(**{k: 0.0 for k in p.weights()} | {"cos": 1.0})
    assert np.allclose(score_matrix(h, s, headlines, ja, encode, only_cos), h @ s.T)


@pytest.mark.parametrize("english, katakana", [
    ("Warren", "ウォレン"), ("Lavrov", "ラブロフ"), ("Trump", "トランプ"), ("Hamilton", "ハミルトン"),
    ("Kavanaugh", "カバノー"), ("Sturridge", "スターリッジ"), ("Chelsea", "チェルシー"), ("Paddington", "パディントン"),
])
def test_names_meet_across_scripts(english, katakana):
    assert english_skeleton(english) == katakana_skeleton(katakana)


def test_anchors_count_names_in_katakana_and_numbers():
    got = _anchor_scores(["Warren takes a 'hard look' at 2020", "Nothing to match here"],
                         ["エリザベス ウォレン氏は2020年に出馬を検討する。", "ボストンの新聞が報じた。"])
    # anchors of the first: Warren and 2020 (not a stop word, not too short)
    assert got[0].tolist() == [1.0, 0.0]
    assert got[1].tolist() == [0.0, 0.0]
    assert katakana_skeleton("ボストン") != english_skeleton("Warren")


def test_match_headlines_ranks_candidates():
    scores = np.array([[0.1, 0.9, 0.3, 0.9, 0.0, 0.5, 0.2],
                       [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1]])
    found = match_headlines(scores, HeadlineParams(candidates=3))
    assert [j for j, _ in found[0].ranked] == [1, 3, 5]      # ties keep sentence order
    assert found[0].best == 1
    assert found[1].ranked == [(0, 0.5), (1, 0.4), (2, 0.3)]
    # a later headline has no lede prior: its lead is the plain gap
    assert found[1].gap == pytest.approx(0.1) and found[1].lead(2) == pytest.approx(-0.2)
    # a lone candidate's lead is its own score, less the prior (it is the lede)
    one = match_headlines(np.array([[0.7]]))
    assert one[0].ranked == [(0, 0.7)] and one[0].gap == pytest.approx(0.7 - HeadlineParams().first)


def test_the_lead_leaves_the_lede_prior_out():
    p = HeadlineParams()
    # the first headline: the second sentence ties the fourth on score, but only
    # thanks to its prior; the fourth says more
    found = match_headlines(np.array([[0.0, 5.0, 1.0, 5.0]]), p)[0]
    assert [j for j, _ in found.ranked] == [1, 3, 2, 0]
    assert found.evidence[0] == pytest.approx(5.0 - p.second - p.position * np.log(2))
    assert found.lead(3) == pytest.approx(p.second + p.position * (np.log(2) - np.log(4)))
    assert found.lead(1) == pytest.approx(-found.lead(3)) and found.lead(3) > 0


def test_a_lede_won_by_its_prior_alone_is_not_a_sure_pick():
    from align.confidence import headline_confidence
    p = HeadlineParams()
    # the lede and a later sentence say as much (same score less the prior): the lede is picked
    evidence = np.array([3.0, 0.5, 0.2, 3.0, 0.1])
    prior = p.first * np.array([1, 0, 0, 0, 0]) + p.second * np.array([0, 1, 0, 0, 0]) \
        + p.position * np.log1p(np.arange(5))
    tie = match_headlines((evidence + prior)[None, :], p)[0]
    assert tie.best == 0 and tie.gap <= 0.0
    assert headline_confidence(0.5, tie.gap) < 0.8
    # a lede that also says much more than the rest is sure
    evidence[0] = 7.0
    clear = match_headlines((evidence + prior)[None, :], p)[0]
    assert clear.best == 0 and clear.gap == pytest.approx(4.0)
    assert headline_confidence(0.5, clear.gap) >= 0.8 > headline_confidence(0.5, tie.gap)


def test_a_lede_stating_the_claim_beats_a_later_sentence_sharing_only_the_name():
    headline = "Warren Plans to Take a Hard Look at Running"
    ja = ["ウォレン議員は大統領選への出馬を真剣に検討すると述べた。",   # the claim
          "集会には多くの支持者が集まった。",
          "ウォレン議員はボストンで育った。"]                              # the name only
    # the later sentence shares the name, so its cosine comes close to the lede's
    h = np.array([[1.0, 0.0, 0.0]])
    s = np.array([[0.55, 0.835, 0.0], [0.1, 0.0, 0.995], [0.5, 0.866, 0.0]])
    got = score_matrix(h, s / np.linalg.norm(s, axis=1, keepdims=True), [headline], ja, fake_encoder({}))
    assert int(np.argmax(got[0])) == 0
    # yet the anchor alone does not make the lede: a body sentence far closer in meaning wins
    s2 = np.array([[0.2, 0.98, 0.0], [0.1, 0.0, 0.995], [0.75, 0.66, 0.0]])
    got = score_matrix(h, s2 / np.linalg.norm(s2, axis=1, keepdims=True), [headline], ja, fake_encoder({}))
    assert int(np.argmax(got[0])) == 2
