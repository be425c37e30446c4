"""From texts to an ``Alignment``: segment, embed, align, calibrate.

The one entry point that the command line, the app and the benchmarks share.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable, Sequence

import numpy as np

from . import __version__, confidence
from .document import DocumentParams, DocumentResult, align_document, search_band, with_groups
from .encoders import CachedEncoder, load_encoder
from .errors import InputError
from .headlines import HeadlineParams, match_headlines, score_matrix
from .model import MODES as ALIGNMENT_MODES, Alignment, Candidate, Pair, Segment
from .segment import inner_sentence_ends, is_bare, split_lines
from .normalise import headline_key
from .sources import body_sentences, detect_language, has_headline_block, parse_article

# Segments a side. Memory grows with the count (50k a side took 2.3 GB; 20 MB of text
# splits into some 300k), so a larger input is refused rather than left to exhaust the machine.
MAX_SEGMENTS_A_SIDE = 20_000

# progress(stage, done, total): stage is "embedding" or "aligning"
Progress = Callable[[str, int, int], None]
MODES = ("auto", *ALIGNMENT_MODES)  # what align_texts takes: the model's modes, or auto


@dataclass(frozen=True)
class PipelineParams:
    """The pipeline's own constants, recorded in ``meta.params`` beside the aligner's
    (``DocumentParams``, ``HeadlineParams``) and the encoder's chunk size."""
    # auto mode: the English side is a list of headlines when it has at most this many
    # lines, each at most this long, against at least this many Japanese sentences a line
    headline_lines: int = 10
    headline_chars: int = 160
    sentences_per_headline: int = 3
    # warn that the texts may not be a translation pair when more than this share of
    # the links is under this confidence (the review's red level)
    unlikely_share: float = 0.5
    unlikely_below: float = 0.5


def align_texts(ja_text: str, en_text: str | None = None, *, mode: str = "auto",
                model: str | None = None, presegmented: bool = False,
                src_lang: str = "ja", tgt_lang: str = "en",
                progress: Progress | None = None,
                pipeline: PipelineParams = PipelineParams()) -> Alignment:
    """Align a Japanese text with its English counterpart, or, without one,
    the body of a Japanese article with the English headlines of its 原題 line."""
    if mode not in MODES:
        raise InputError(f"unknown mode {mode!r}: choose auto, document or headlines")
    if en_text is None:
        if presegmented:
            raise InputError("--presegmented needs both texts: one segment a line on each side")
        if not has_headline_block(ja_text):
            raise InputError("only one text and no 原題: line with English headlines: "
                             "give the English text as a second file")
        article = parse_article(ja_text)
        if mode == "document":
            raise InputError("document mode needs the full English text as a second file")
        ja, en = article.ja, article.headlines
        if not ja:
            raise InputError("the article has 原題: headlines but no body sentences to align "
                             "them with")
        if src_lang == "ja" and tgt_lang == "en":
            if detect_language("\n".join(s.text for s in ja)) != "ja":
                raise InputError("the article's body does not look Japanese")
            if detect_language("\n".join(h.text for h in en)) != "en":
                raise InputError("the 原題: line holds no English headline: give the English text "
                                 "as a second file")
        mode = "headlines"
    else:
        _check_languages(ja_text, en_text, src_lang, tgt_lang)
        if presegmented:
            ja, en = split_lines(ja_text), split_lines(en_text)
        else:
            # an article's boilerplate (photo credits, ©, 原題…) is not aligned
            ja = body_sentences(ja_text, src_lang)[0]
            headline_list = mode == "headlines" or (
                mode == "auto" and _is_headline_list(en_text, len(ja), pipeline))
            en = split_lines(en_text) if headline_list else body_sentences(en_text, tgt_lang)[0]
    if mode == "auto":
        mode = choose_mode([s.text for s in ja], [s.text for s in en], pipeline)
    return align_segments(ja, en, mode=mode, model=model, joiner=_joiner(src_lang),
                          progress=progress, pipeline=pipeline)


def _few_short_lines(lines: Sequence[str], ja_count: int, p: PipelineParams) -> bool:
    return (1 <= len(lines) <= p.headline_lines and len(lines) * p.sentences_per_headline <= ja_count
            and max(len(line) for line in lines) <= p.headline_chars)


def _is_headline_list(text: str, ja_count: int, p: PipelineParams) -> bool:
    """A few short lines without sentence ends: headlines, one a line, which
    the sentence splitter would take for a hard-wrapped paragraph."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return _few_short_lines(lines, ja_count, p) and not any(line.endswith((".", "!", "?")) for line in lines)


def choose_mode(ja: Sequence[str], en: Sequence[str], pipeline: PipelineParams = PipelineParams()) -> str:
    """Headlines when the English side is a few short lines against many
    Japanese sentences; otherwise the texts are taken as translations."""
    return "headlines" if _few_short_lines(en, len(ja), pipeline) else "document"


def align_segments(ja: Sequence[Segment], en: Sequence[Segment], *, mode: str = "document",
                   model: str | None = None, joiner: str = "",
                   params: DocumentParams | HeadlineParams | None = None,
                   encoder: CachedEncoder | None = None,
                   progress: Progress | None = None,
                   pipeline: PipelineParams = PipelineParams()) -> Alignment:
    if not ja or not en:  # the aligners need a sentence on each side
        side = "Japanese" if not ja else "English"
        raise InputError(f"the {side} side has no sentences to align")
    for side, segments in (("Japanese", ja), ("English", en)):
        if len(segments) > MAX_SEGMENTS_A_SIDE:
            raise InputError(f"the {side} side has {len(segments):,} segments; Taiyaku aligns at "
                             f"most {MAX_SEGMENTS_A_SIDE:,} segments a side: split the text into parts")
    encoder = encoder or load_encoder(model)
    started = time.perf_counter()
    if mode == "headlines":
        pairs, used = _headline_pairs(ja, en, encoder, params or HeadlineParams(), progress)
    else:
        pairs, used = _document_pairs(ja, en, encoder, params or DocumentParams(), joiner, progress)
    # every constant the result depends on, so that a run can be told apart and repeated
    run_params = {**asdict(used), **asdict(pipeline), "encoder_chunk_size": encoder.chunk_size}
    meta = {"model": encoder.name, "model_version": getattr(encoder.inner, "version", ""),
            "aligner": mode, "params": run_params, "taiyaku": __version__,
            "seconds": round(time.perf_counter() - started, 3)}
    links = [p for p in pairs if p.ja and p.en]
    unlikely = sum(p.score < pipeline.unlikely_below for p in links)
    if mode == "document" and links and unlikely > pipeline.unlikely_share * len(links):
        meta["warning"] = ("most pairs are unlikely translations of each other: "
                           "are these two texts really a translation pair?")
    return Alignment(tuple(ja), tuple(en), tuple(pairs), mode, meta)


def _document_pairs(ja, en, encoder: CachedEncoder, params: DocumentParams, joiner: str, progress):
    result = embed_and_align([s.text for s in ja], [s.text for s in en], encoder, params, joiner, progress)
    pairs = [Pair(src, tgt, round(conf, 4)) for (src, tgt), conf in zip(result.beads, bead_confidences(result))]
    return pairs, params


@dataclass
class Embedded:
    """What the document aligner needs of two texts: group embeddings (as
    ``encoders.embed_groups`` gives them), lengths in characters, and which
    Japanese segments may take a compound bead."""
    ja_groups: list[np.ndarray]
    en_groups: list[np.ndarray]
    ja_lens: np.ndarray
    en_lens: np.ndarray
    compound: np.ndarray
    # to embed a few groups exactly in the aligner's second pass: the texts,
    # how each side joins them, and the encoder (None when groups are exact already)
    texts: tuple[Sequence[str], Sequence[str]] = ((), ())
    joiners: tuple[str, str] = ("", " ")
    encode: Callable[[list[str]], np.ndarray] | None = None
    # per side, the segments without a letter or a digit (``align_document``)
    bare: tuple[np.ndarray, np.ndarray] | None = None

    def regroup(self, ja_ids: list[tuple[int, int]], en_ids: list[tuple[int, int]]):
        """The group embeddings with the groups (start, size) listed embedded
        exactly, as their joined text, instead of from token sums."""
        return tuple(_exact_groups(groups, texts, ids, joiner, self.encode)
                     for groups, texts, ids, joiner in zip((self.ja_groups, self.en_groups), self.texts,
                                                          (ja_ids, en_ids), self.joiners))


def embed_document(ja: Sequence[str], en: Sequence[str], encoder: CachedEncoder,
                   params: DocumentParams = DocumentParams(), joiner: str = "",
                   progress: Progress | None = None) -> Embedded:
    # compound beads need English groups of up to 12 sentences: free with the
    # bundled encoder's token sums, 12 passes of the model with any other
    fast_groups = hasattr(encoder.inner, "embed_groups")
    compound = np.array([fast_groups and inner_sentence_ends(s) > 0 for s in ja], bool)
    en_max = max([params.max_group] + [b for _, b in params.compound_beads] * bool(compound.any()))
    embed = _stage(progress, "embedding", len(ja) + len(en))
    ja_groups = encoder.embed_groups(list(ja), params.max_group, joiner, progress=embed(0, len(ja)))
    en_groups = encoder.embed_groups(list(en), en_max, " ", progress=embed(len(ja), len(en)))
    embed(len(ja) + len(en), 0)
    return Embedded(ja_groups, en_groups, np.array([len(s) for s in ja], np.float64),
                    np.array([len(s) for s in en], np.float64), compound,
                    (list(ja), list(en)), (joiner, " "), encoder.encode if fast_groups else None,
                    tuple(np.array([is_bare(s) for s in side], bool) for side in (ja, en)))


def _exact_groups(groups: list[np.ndarray], texts: Sequence[str], ids: list[tuple[int, int]], joiner: str,
                  encode) -> list[np.ndarray]:
    return with_groups(groups, ids, lambda size, starts: encode([joiner.join(texts[i:i + size]) for i in starts]))


def align_embeddings(emb: Embedded, params: DocumentParams = DocumentParams()) -> DocumentResult:
    """The document aligner as shipped (band, DP, compound beads, the exact
    second pass over the m-n beads that contend), shared by the pipeline and
    the scripts that tune, calibrate and time it."""
    band = search_band(emb.ja_groups[0], emb.en_groups[0], emb.ja_lens, emb.en_lens, params)
    return align_document(emb.ja_groups, emb.en_groups, emb.ja_lens, emb.en_lens, params, band, emb.compound,
                          emb.regroup if emb.encode else None, emb.bare)


def embed_and_align(ja: Sequence[str], en: Sequence[str], encoder: CachedEncoder,
                    params: DocumentParams = DocumentParams(), joiner: str = "",
                    progress: Progress | None = None) -> DocumentResult:
    emb = embed_document(ja, en, encoder, params, joiner, progress)
    if progress:
        progress("aligning", 0, 1)
    result = align_embeddings(emb, params)
    if progress:
        progress("aligning", 1, 1)
    return result


def bead_confidences(result: DocumentResult) -> list[float]:
    """The calibrated confidence of each bead, by its kind."""
    return [confidence.bead_confidence(len(src), len(tgt), sim, cos, gain, length)
            for (src, tgt), sim, cos, gain, length in zip(result.beads, result.bead_scores, result.bead_cosines,
                                                          result.bead_gains, result.bead_lengths)]


def _headline_pairs(ja, en, encoder: CachedEncoder, params: HeadlineParams, progress):
    keys = [headline_key(s.text) for s in en]
    texts = [s.text for s in ja]
    embed = _stage(progress, "embedding", len(ja) + len(en))
    ja_vecs = encoder.encode(texts, progress=embed(0, len(ja)))
    en_vecs = encoder.encode(keys, progress=embed(len(ja), len(en)))
    embed(len(ja) + len(en), 0)
    scores = score_matrix(en_vecs, ja_vecs, keys, texts, encoder.encode, params)
    pairs = []
    for h, found in enumerate(match_headlines(scores, params)):
        best = found.best
        pick = confidence.headline_confidence(float(en_vecs[h] @ ja_vecs[best]), found.lead(best))
        # the others against the pick by the ranker's odds (a softmax over the
        # article's sentences, the lede prior in): in its order, each one as far
        # below the pick as the ranker puts it
        conf = [pick * np.exp(score - found.ranked[0][1]) for _, score in found.ranked]
        cands = tuple(Candidate((j,), round(float(c), 4)) for (j, _), c in zip(found.ranked, conf))
        pairs.append(Pair((found.best,), (h,), cands[0].score, candidates=cands))
    return pairs, params


def _stage(progress: Progress | None, stage: str, total: int):
    """A per-side callback that reports progress over both sides together.
    The encoder reports over the sentences it still has to embed (a cached
    one costs nothing), so its counts are scaled to the side's size."""
    def side(offset: int, size: int):
        """Report the side's start; size 0 reports the end of both sides."""
        if progress is None:
            return None
        progress(stage, offset, total)

        def report(done: int, todo: int) -> None:
            progress(stage, offset + (size * done // todo if todo else size), total)
        return report
    return side


def _joiner(lang: str) -> str:
    """Merged Japanese (and Chinese) sentences are joined without a space."""
    return "" if lang in ("ja", "zh") else " "


def _check_languages(ja_text: str, en_text: str, src_lang: str, tgt_lang: str) -> None:
    if src_lang != "ja" or tgt_lang != "en":
        return
    ja_is, en_is = detect_language(ja_text), detect_language(en_text)
    if ja_is == "en" and en_is == "ja":
        raise InputError("the files look swapped: give the Japanese text first, then the English")
    if ja_is != "ja":
        raise InputError("the first text does not look Japanese")
    if en_is == "ja":
        raise InputError("both texts look Japanese: the second must be the English counterpart")
    if en_is != "en" and en_text.strip():  # Chinese, Korean: the English rules cannot split it
        raise InputError("the second text does not look English (or another language in "
                         "Latin letters)")
