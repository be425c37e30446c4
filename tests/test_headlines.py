"""Headline matching: the bundled Bloomberg sample end to end (each English
headline against the sentence a translator would pick), and the quote and
Latin-token signals on tiny inputs."""

import numpy as np
import pytest

from align.headlines import (HeadlineParams, _quote_scores, _token_overlap, match_headlines,
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
    assert sum(right) >= 4, [al.en[p.en[0]].text for p, ok in zip(al.pairs, right) if not ok]
    # and the right sentence is at least among the candidates for every headline
    for pair in al.pairs:
        texts = [al.ja[c.ja[0]].text for c in pair.candidates]
        assert any(s in t for t in texts for s in _expected_for(al.en[pair.en[0]].text))


def test_a_confident_pick_stands_above_its_runner_up(sample_alignment):
    # the one with a near-identical headline and a quote match is the clearest
    pair = next(p for p in sample_alignment.pairs
                if "Real Progress" in sample_alignment.en[p.en[0]].text)
    assert pair.score > 0.8
    assert pair.candidates[0].score - pair.candidates[1].score > 0.5


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


def test_score_matrix_adds_the_signals_with_their_weights():
    headlines = ["NATO Says 'Progress'", "Plain headline"]
    ja = ["「進展」があったとNATOは述べた。", "関係のない文。", "もう一つの文。"]
    encode = fake_encoder({"Progress": [1, 0], "進展": [1, 0]})
    h = np.array([[1.0, 0.0], [0.0, 1.0]])
    s = np.array([[0.6, 0.8], [0.0, 1.0], [1.0, 0.0]])
    base = h @ s.T
    p = HeadlineParams()
    got = score_matrix(h, s, headlines, ja, encode, p)
    lead = p.lead_weight * np.exp(-np.arange(3) / 10.0)
    expected = base + lead[None, :]
    expected[0, 0] += p.quote_weight * (1.0 - 0.35) + p.token_weight * 1   # quote + NATO
    assert np.allclose(got, expected)
    # switching the signals off leaves the cosine
    off = score_matrix(h, s, headlines, ja, encode,
                       HeadlineParams(quote_weight=0, token_weight=0, lead_weight=0))
    assert np.allclose(off, base)


def test_match_headlines_ranks_candidates():
    scores = np.array([[0.1, 0.9, 0.3, 0.9, 0.0, 0.5, 0.2],
                       [0.5, 0.4, 0.3, 0.2, 0.1, 0.0, -0.1]])
    found = match_headlines(scores, HeadlineParams(candidates=3))
    assert [j for j, _ in found[0].ranked] == [1, 3, 5]      # ties keep sentence order
    assert found[0].best == 1 and found[0].gap == pytest.approx(0.0)
    assert found[1].ranked == [(0, 0.5), (1, 0.4), (2, 0.3)]
    assert found[1].gap == pytest.approx(0.1)
    one = match_headlines(np.array([[0.7]]))
    assert one[0].ranked == [(0, 0.7)] and one[0].gap == pytest.approx(0.7)
