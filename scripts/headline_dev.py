"""Headlines on a real dev set: each ntrex document's English headline (line 0
of its .en) against the Japanese body (its .ja without line 0, the Japanese
headline); right when the pick is one of the sentences read by hand as stating
the headline's claim (benchmarks/headlines_ntrex.tsv; documents where none does
are left out). Prints top-1 / top-3 for simple baselines, the matcher before
the ranker, and the ranker's features added a group at a time, each figure
cross-validated (10 folds by document: the weights that rank a document were
fitted without it) and top-1 averaged over 10 random splits; with --ideas, the
same for the ideas measured and not shipped (IDEAS, and a pairwise lede-or-
challenger decision); then the weights fitted on
the whole set, which align/headlines.py ships, and the headline confidence
curve (confidence.HEADLINE) fitted on the cross-validated scores, with how
often the picks given each confidence are right. The ranker is a logistic
regression over an article's sentences (a softmax: which of them states the
claim), fitted by Newton's method.

    python scripts/headline_dev.py [--shared ../shared] [--ideas]
"""

from __future__ import annotations

import argparse
import bisect
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from align.encoders import load_encoder  # noqa: E402
from align import confidence  # noqa: E402
from align import headlines as hl  # noqa: E402
from align.headlines import HeadlineParams, _token_overlap, features, match_headlines  # noqa: E402
from align.normalise import headline_key  # noqa: E402

DEV = ROOT / "benchmarks" / "headlines_ntrex.tsv"
FOLDS = 10
GROUPS = [("cos",), ("first", "second", "position"), ("coverage",), ("anchors",), ("quote",),
          ("opens_quote", "length")]
STEPS = [sum(GROUPS[:k], ()) for k in range(1, len(GROUPS) + 1)]
L2 = 0.01
SPLITS = 10   # random 10-fold splits averaged: one split's figure moves by a document or two


def load_dev(shared: Path, style=lambda h: h, key=headline_key) -> list[tuple[str, str, list[str], set[int]]]:
    """(id, headline, Japanese body, accepted body indices) of every document
    with at least one accepted sentence; the headline written in ``style``, then
    made the key the matcher embeds."""
    folder = shared / "data/bench/ntrex128_jaen"
    docs = []
    for line in DEV.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        doc_id, ids = line.split("\t")
        if ids == "-":
            continue
        en = (folder / f"{doc_id}.en").read_text(encoding="utf-8").split("\n")
        ja = (folder / f"{doc_id}.ja").read_text(encoding="utf-8").rstrip("\n").split("\n")
        docs.append((doc_id, key(style(en[0])), ja[1:], {int(i) - 1 for i in ids.split(",")}))
    return docs


def dev_features(docs, encoder) -> list[dict[str, np.ndarray]]:
    """Per document, each feature as a vector over its body sentences."""
    out = []
    for _, headline, body, _ in docs:
        f = features(encoder.encode([headline]), encoder.encode(body), [headline], body, encoder.encode)
        f = {k: np.asarray(v[0], float) for k, v in f.items()}
        # the matcher before the ranker: cosine + quotes + 0.05 a shared Latin token + a lead bonus
        f["before"] = (f["cos"] + f["quote"] + 0.05 * _token_overlap([headline], body)[0]
                       + 0.05 * np.exp(-np.arange(len(body)) / 10.0))
        out.append(f)
    return out


def stack(feats, names) -> np.ndarray:
    return np.stack([feats[n] for n in names], axis=1)


def _loss(w, x, y, starts, doc, need_derivatives=True):
    """Negative log-likelihood that the accepted sentences are the article's
    pick (L2-regularised), its gradient and Hessian: a softmax over each
    article's sentences, all articles stacked in ``x`` (``starts``: each one's
    first row, ``doc``: each row's article)."""
    s = x @ w
    p = np.exp(s - np.maximum.reduceat(s, starts)[doc])
    p /= np.add.reduceat(p, starts)[doc]
    right = np.add.reduceat(p * y, starts)
    loss = 0.5 * L2 * w @ w - np.log(right).sum()
    if not need_derivatives:
        return loss
    q = p * y / right[doc]
    mean = np.add.reduceat(p[:, None] * x, starts)
    grad = L2 * w + (mean - np.add.reduceat(q[:, None] * x, starts)).sum(0)
    hess = (x * p[:, None]).T @ x - mean.T @ mean + L2 * np.eye(len(w))
    return loss, grad, hess


def fit_ranker(xs: list[np.ndarray], labels: list[np.ndarray], steps: int = 30) -> np.ndarray:
    """Newton's method with step halving."""
    sizes = [len(x) for x in xs]
    data = (np.vstack(xs), np.concatenate(labels), np.cumsum([0] + sizes[:-1]),
            np.repeat(np.arange(len(xs)), sizes))
    w = np.zeros(xs[0].shape[1])
    for _ in range(steps):
        loss, grad, hess = _loss(w, *data)
        step, t = np.linalg.solve(hess, grad), 1.0
        while t > 1e-4 and _loss(w - t * step, *data, need_derivatives=False) > loss:
            t /= 2
        w = w - t * step
        if np.abs(t * step).max() < 1e-8:
            break
    return w


def labels_of(docs) -> list[np.ndarray]:
    return [np.array([j in acc for j in range(len(body))], float) for _, _, body, acc in docs]


def cross_validated(docs, feats, names, fold_of=None) -> list[np.ndarray]:
    """Each document's sentence scores from a ranker fitted on the other folds
    (document d in fold d mod 10 unless ``fold_of`` says otherwise)."""
    return [stack(f, names) @ w for f, w in zip(feats, fold_weights(docs, feats, names, fold_of))]


def fold_weights(docs, feats, names, fold_of=None) -> list[np.ndarray]:
    """The weights that rank each document, fitted without its fold."""
    labels = labels_of(docs)
    fold_of = [d % FOLDS for d in range(len(docs))] if fold_of is None else fold_of
    xs = [stack(f, names) for f in feats]
    weights = [None] * len(docs)
    for fold in range(FOLDS):
        train = [d for d in range(len(docs)) if fold_of[d] != fold]
        w = fit_ranker([xs[d] for d in train], [labels[d] for d in train])
        for d in range(len(docs)):
            if fold_of[d] == fold:
                weights[d] = w
    return weights


def confidence_rows(docs, feats) -> np.ndarray:
    """(cosine, lead, right, is the pick) of each dev headline's candidates as
    the pipeline gives them (``match_headlines``), from cross-validated weights."""
    names = list(HeadlineParams().weights())
    rows = []
    for (_, _, _, accepted), f, w in zip(docs, feats, fold_weights(docs, feats, names)):
        params = HeadlineParams(**dict(zip(names, w)))
        [found] = match_headlines((stack(f, names) @ w)[None, :], params)
        rows += [(f["cos"][j], found.lead(j), j in accepted, rank == 0) for rank, (j, _) in enumerate(found.ranked)]
    return np.array(rows, float)


def calibrate_confidence(docs, feats) -> None:
    """Fit confidence.HEADLINE (a logistic curve over every candidate's cosine
    and lead) and print how often the picks given each confidence are right."""
    from calibrate import fit_logistic, reliability  # scripts/calibrate.py
    rows = confidence_rows(docs, feats)
    w = fit_logistic(rows[:, :2], rows[:, 2])
    print(f'\nHEADLINE = {{"bias": {w[0]:.2f}, "cos": {w[1]:.2f}, "lead": {w[2]:.2f}}}')
    pick, right = rows[:, 3] == 1, rows[:, 2] == 1
    for label, curve in (("this fit", w), ("confidence.HEADLINE", [confidence.HEADLINE[k] for k in ("bias", "cos", "lead")])):
        p = 1 / (1 + np.exp(-(curve[0] + rows[:, :2] @ np.asarray(curve[1:]))))
        sure = p[pick] >= 0.8
        print(f"picks by confidence ({label}): ≥ 0.9, 0.8 – 0.9, 0.5 – 0.8, < 0.5:",
              " | ".join(reliability(p[pick], right[pick])),
              f"| ≥ 0.8: {sure.sum()}, {100 * right[pick][sure].mean():.1f} % right")


def split_mean_top1(docs, feats, names) -> float:
    """Top-1 averaged over SPLITS random 10-fold splits."""
    return float(np.mean([top_k(docs, cross_validated(docs, feats, names, np.random.RandomState(seed)
                                                      .permutation(len(docs)) % FOLDS), 1)
                          for seed in range(SPLITS)]))


# -- ideas measured and not shipped (none raised the cross-validated top-1) ------

IDEAS = [("cosine less the document's best other cosine", ["cos_margin"], []),
         ("rank of the cosine in the document", ["cos_rank"], []),
         ("z-score of the cosine in the document", ["cos_z"], []),
         ("names and numbers weighted by rarity in the document", ["anchors_rare"], ["anchors"]),
         ("the headline's numbers as values (億, 万, number words)", ["numbers"], []),
         ("word coverage: cosine lost when a headline word is dropped", ["word_drop"], []),
         ("the claim: the headline without the document's names", ["claim_cos"], []),
         ("the sentence joined to a neighbour", ["cos_pair"], []),
         ("a question (？) is seldom the claim", ["question"], []),
         ("lede × cosine (a lede that says little loses its prior)", ["first_cos"], []),
         ("finer spans: each headline part's best span (clauses, 「」 alone), mean", ["span_mean"], []),
         ("token recall: each headline token's best USE-m3 token match", ["tok_recall"], []),
         ("token recall, tokens the document matches everywhere weighed less", ["tok_idf"], []),
         ("a reported sentence (…と述べた, によると)", ["report"], []),
         ("a background sentence (…していた, だった)", ["background"], []),
         ("headline verb ↔ its Japanese counterparts (denies ↔ 否定, wins ↔ 勝利)", ["verb_cue"], []),
         ("a smoother lede prior (exp(-position / 3))", ["decay"], []),
         ("the lede prior weaker for a framed headline (X:, quote, review)", ["first_framed"], []),
         ("centrality: the sentence's mean cosine with the rest of the document", ["central"], []),
         ("the cosine with the document's mean direction removed from both", ["detopic"], [])]
# needs a bilingual dictionary that is not a dependency (pip install jamdict-data snowballstemmer)
DICTIONARY_IDEAS = [("dictionary coverage: headline words whose JMdict words the sentence holds", ["dict_cover"], []),
                    ("dictionary coverage, words the document holds everywhere weighed less", ["dict_idf"], [])]
_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten".split())}
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九十") if i}


def _values_en(text: str) -> set[float]:
    out = {float(m[0].replace(",", "")) * {"million": 1e6, "billion": 1e9, "thousand": 1e3}.get(m[1].lower(), 1)
           for m in re.findall(r"(\d[\d,]*(?:\.\d+)?)\s*(million|billion|thousand|)", text, re.I)}
    return out | {float(_NUMBER_WORDS[w.lower()]) for w in re.findall(r"[A-Za-z]+", text)
                  if w.lower() in _NUMBER_WORDS and w.lower() != "one"}


def _values_ja(text: str) -> set[float]:
    text = text.replace(",", "")
    out = {float(m[0]) * {"億": 1e8, "万": 1e4, "千": 1e3}.get(m[1], 1)
           for m in re.findall(r"(\d+(?:\.\d+)?)\s*(億|万|千|)", text)}
    return out | {float(_KANJI_DIGITS[c]) for c in re.findall(r"([一二三四五六七八九十])(?=[人つ件回年日週か])", text)}


# a headline's parts (around : ; , and dashes, and its quotes) and a sentence's
# spans (runs of clauses cut after 、 and ので, around 「」, and each quote alone)
_EN_PARTS = re.compile(r"\s*[:;]\s+|,\s+|\s+[-–—]\s+")
_JA_CUTS = re.compile(r"(?<=[、，,；;：:])|(?<=ので)|(?=「)|(?<=」)")
_REPORTED = re.compile(r"(と(述べ|話し|語っ|言っ|報じ|伝え|説明し|明らかにし|指摘し)た|によると|によれば)[。」]*$")
_BACKGROUND = re.compile(r"(してい|であっ|だっ)た[。」]*$")
# a small, general lexicon: a headline's verb of claim and how Japanese says it
VERB_CUES = [(r"\b(den(y|ies|ied)|rejects?|rejected|dismiss(es|ed)?|refuses?|refused)\b",
              r"否定|否認|拒否|拒絶|却下|退け|ではない|ではなく|していない|しない"),
             (r"\b(wins?|won|beats?|victory|clinch(es|ed)?)\b", r"勝利|勝っ|勝ち|優勝|制し|破っ|下し"),
             (r"\b(loses?|lost|defeat(ed)?|beaten)\b", r"敗れ|負け|敗北|敗戦|落とし"),
             (r"\b(warns?|warned|threatens?)\b", r"警告|警鐘|脅|懸念|恐れ"),
             (r"\b(plans?|considers?|weighs?|weighed|mulls?)\b", r"計画|検討|予定|方針"),
             (r"\b(rises?|rose|soars?|jumps?|surges?|increase[sd]?|record)\b", r"上昇|増加|急増|急騰|増え|最高|記録"),
             (r"\b(falls?|fell|drops?|plunges?|slumps?|decline[sd]?|cuts?)\b", r"下落|減少|急落|低下|減っ|削減"),
             (r"\b(dies|died|dead|killed?|deaths?)\b", r"死亡|死去|亡くな|死ん|殺|死者"),
             (r"\b(arrested|charged|jailed|sentenced|guilty|convicted)\b", r"逮捕|起訴|有罪|判決|禁錮|懲役")]


def _spans(sentence: str) -> list[str]:
    parts = [p for p in _JA_CUTS.split(sentence) if p.strip()]
    while len(parts) > 8:
        parts = [a + b for a, b in zip(parts[::2], parts[1::2] + [""])]
    runs = {"".join(parts[a:b]) for a in range(len(parts)) for b in range(a + 1, len(parts) + 1)}
    return sorted(runs | {q for m in hl._QUOTED_JA.finditer(sentence) for q in m.groups() if q})


def _headline_parts(headline: str) -> list[str]:
    parts = _EN_PARTS.split(headline) + [m.group(1) for m in hl._QUOTED_EN.finditer(headline)]
    parts = [re.sub(r"^[‘'\"“]|[’'\"”]$", "", p).strip() for p in parts]
    return list(dict.fromkeys(p for p in parts if len(p) >= 3)) or [headline]


def token_vectors(encoder, texts: list[str]) -> list[np.ndarray]:
    """Each text's USE-m3 token features (the CNN's output, projected, before
    the sum that makes the sentence), BOS and EOS left out, unit length. The
    features are caught as they leave the network's last layer norm, so that
    the network is not copied here."""
    import align._usem3 as usem
    model, caught, norm = encoder.inner, [], usem._layernorm

    def catch(x, gamma, *rest):
        out = norm(x, gamma, *rest)
        if gamma is model.ln_g:
            caught.append(out.copy())
        return out
    usem._layernorm = catch
    try:
        out = []
        for start in range(0, len(texts), 16):
            group = [model.sp.encode(t, out_type=int, add_bos=True, add_eos=True)[:usem._MAX_TOKENS]
                     for t in texts[start:start + 16]]
            caught.clear()
            model._sums(group, sum(map(len, group)))
            rows = np.cumsum([0] + [len(ids) for ids in group])
            for a, b in zip(rows, rows[1:]):
                v = caught[0][a + 1:b - 1] @ model.cnn_W
                out.append(v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-6))
        return out
    finally:
        usem._layernorm = norm


def idea_features(headline: str, body: list[str], f: dict[str, np.ndarray], encode,
                  encoder=None) -> dict[str, np.ndarray]:
    """The features of IDEAS for one document (f: its shipped features)."""
    n, cos = len(body), f["cos"]
    vec, body_vecs = encode([headline]), encode(body)
    others = np.array([np.delete(cos, j).max() if n > 1 else cos[j] for j in range(n)])
    out = {"cos_margin": cos - others, "cos_rank": np.log1p(np.argsort(np.argsort(-cos, kind="stable"))),
           "cos_z": (cos - cos.mean()) / max(cos.std(), 1e-6),
           "question": np.array([s.rstrip().endswith(("？", "?")) for s in body], float),
           "first_cos": f["first"] * cos}
    # each name or number: where it is found; weighted by log(n / sentences holding it)
    latin = [hl._tokens(s) for s in body]
    kana = [[hl.katakana_skeleton(k) for k in hl._KATAKANA_RUN.findall(s)] for s in body]
    found = [[hl._name_in(w, sk, latin[j], kana[j]) for j in range(n)] for w, sk in hl._names(headline)]
    found += [[t in latin[j] for j in range(n)] for t in hl._tokens(headline) if t[0].isdigit()]
    found = np.array(found, float).reshape(-1, n)
    weight = np.log((n + 1) / (found.sum(1) + 1))
    out["anchors_rare"] = weight @ found / weight.sum() if weight.sum() > 0 else np.zeros(n)
    values = _values_en(headline)
    out["numbers"] = np.array([len(values & _values_ja(s)) / len(values) if values else 0.0 for s in body])
    words = [w for w in re.findall(r"[A-Za-z0-9][\w'’$%£.,-]*", headline)
             if len(w) >= 3 and w.lower() not in hl._STOP]
    out["word_drop"] = ((cos[None, :] - encode([headline.replace(w, "", 1) for w in words]) @ body_vecs.T).mean(0)
                        if words else np.zeros(n))
    claim = headline
    for w, row in zip(hl._names(headline), found):
        if row.any():
            claim = re.sub(r"(?i)\b" + re.escape(w[0]) + r"(['’]s)?\b", " ", claim)
    claim = " ".join(claim.split())
    out["claim_cos"] = (encode([claim]) @ body_vecs.T)[0] if re.search(r"[A-Za-z]{3}", claim) else cos
    pairs = encode([a + b for a, b in zip(body, body[1:])]) @ vec[0] if n > 1 else np.zeros(0)
    out["cos_pair"] = np.maximum(cos, np.maximum(np.append(pairs, -1.0), np.insert(pairs, 0, -1.0)))
    parts = encode(_headline_parts(headline))
    out["span_mean"] = np.array([(parts @ encode(_spans(s)).T).max(1).mean() for s in body])
    # tokens of three characters or more (or digits): '▁a', 's', 'ing' match anything
    pieces = encoder.inner.sp.encode(headline, out_type=str)
    tokens = token_vectors(encoder, [headline] + body)
    keep = [i for i, p in enumerate(pieces) if len(p.strip("▁")) >= 3 or p.strip("▁").isdigit()] or slice(None)
    best = np.stack([(tokens[0][keep] @ t.T).max(1) if len(t) else np.zeros(len(tokens[0][keep])) for t in tokens[1:]])
    out["tok_recall"] = best.mean(1)
    idf = np.clip(1 - best.mean(0) / np.maximum(best.max(0), 1e-6), 0, None)
    out["tok_idf"] = best @ idf / max(idf.sum(), 1e-6)
    out["report"] = np.array([bool(_REPORTED.search(s.strip())) for s in body], float)
    out["background"] = np.array([bool(_BACKGROUND.search(s.strip())) for s in body], float)
    cues = [ja for en, ja in VERB_CUES if re.search(en, headline, re.I)]
    out["verb_cue"] = np.array([any(re.search(ja, s) for ja in cues) for s in body], float)
    out["decay"] = np.exp(-np.arange(n) / 3.0)
    framed = bool(re.search(r"^[^:]{2,30}:\s|[‘'\"“]|\breview\b|\s[-–—]\s", headline, re.I))
    out["first_framed"] = f["first"] * framed
    out["central"] = ((body_vecs @ body_vecs.T).sum(1) - 1) / max(n - 1, 1)
    topic = body_vecs.mean(0) / max(np.linalg.norm(body_vecs.mean(0)), 1e-9)
    rest = body_vecs - np.outer(body_vecs @ topic, topic)
    h = vec[0] - (vec[0] @ topic) * topic
    out["detopic"] = rest @ h / np.maximum(np.linalg.norm(rest, axis=1) * np.linalg.norm(h), 1e-9)
    return out


@lru_cache(maxsize=1)
def jmdict_index():
    """(the stemmer, {English stem: the Japanese words JMdict glosses with it},
    the sorted stems), or None without the dictionary. JMdict's common entries
    only, glossed in one or two words; their kanji forms (a verb's or
    adjective's last kana dropped, so that its conjugations match) of two
    characters or more, and katakana words of three."""
    try:
        import jamdict_data
        import snowballstemmer
    except ImportError:
        return None
    import sqlite3
    stem = snowballstemmer.stemmer("english").stemWord
    db = sqlite3.connect(Path(jamdict_data.__file__).with_name("jamdict.db"))
    forms: dict[int, set[str]] = {}
    for idseq, text in db.execute("SELECT k.idseq, k.text FROM Kanji k JOIN KJP p ON p.kid = k.ID"):
        word = text[:-1] if re.search(r"[一-龯].*[ぁ-ん]$", text) else text
        if len(word) >= 2:  # 見る's 見 would be found in almost every sentence
            forms.setdefault(idseq, set()).add(word)
    for idseq, text in db.execute("SELECT k.idseq, k.text FROM Kana k JOIN KNP p ON p.kid = k.ID"):
        if len(text) >= 3 and re.fullmatch(r"[ァ-ヴー]+", text):
            forms.setdefault(idseq, set()).add(text)
    index: dict[str, set[str]] = {}
    for idseq, gloss in db.execute("SELECT s.idseq, g.text FROM Sense s JOIN SenseGloss g ON g.sid = s.ID "
                                   "WHERE g.lang = 'eng' OR g.lang IS NULL"):
        words = re.findall(r"[a-z][a-z'-]+", re.sub(r"^to |\([^)]*\)", " ", gloss.lower()).strip())
        if idseq in forms and 1 <= len(words) <= 2:
            for w in set(words) - {"the", "a", "an", "of", "to", "be", "in", "on", "for", "one's", "someone"}:
                index.setdefault(stem(w), set()).update(forms[idseq])
    return stem, index, sorted(index)


def dictionary_features(headline: str, body: list[str]) -> dict[str, np.ndarray] | None:
    """For each sentence, the share of the headline's content words (a JMdict
    gloss stem, or a longer stem it begins: deny ↔ denial ↔ 否定) whose Japanese
    words it holds; and the same weighted by log(n / sentences holding it)."""
    found = jmdict_index()
    if found is None:
        return None
    stem, index, stems = found
    n, rows = len(body), []
    for word in re.findall(r"[A-Za-z][A-Za-z'-]+", headline):
        if len(word) < 3 or word.lower() in hl._STOP:
            continue
        s = stem(word.lower())
        japanese, i = set(index.get(s, ())), bisect.bisect_left(stems, s)
        while len(s) >= 4 and i < len(stems) and stems[i].startswith(s):
            japanese |= index[stems[i]]
            i += 1
        if japanese:
            rows.append([any(w in sentence for w in japanese) for sentence in body])
    found_in = np.array(rows, float).reshape(-1, n)
    weight = np.log((n + 1) / (found_in.sum(1) + 1))
    return {"dict_cover": found_in.mean(0) if rows else np.zeros(n),
            "dict_idf": weight @ found_in / weight.sum() if weight.sum() > 0 else np.zeros(n)}


def lede_or_challenger(docs, feats, fold_of=None) -> list[int]:
    """Each document's pick by a pairwise decision instead of one softmax: the
    ranker without the prior names the best sentence after the lede, and a
    logistic curve over (the lede's lead over it, the lede's cosine), fitted on
    the other folds' documents where exactly one of the two is right, decides."""
    from calibrate import fit_logistic  # scripts/calibrate.py
    names = [n for n in STEPS[-1] if n not in ("first", "second", "position")]
    fold_of = [d % FOLDS for d in range(len(docs))] if fold_of is None else fold_of
    rows = []
    for (_, _, _, accepted), f, w in zip(docs, feats, fold_weights(docs, feats, names, fold_of)):
        evidence = stack(f, names) @ w
        other = 1 + int(np.argmax(evidence[1:])) if len(evidence) > 1 else 0
        rows.append((np.array([evidence[0] - evidence[other], f["cos"][0]]), 0 in accepted, other in accepted, other))
    picks = [0] * len(docs)
    for fold in range(FOLDS):
        train = [r for d, r in enumerate(rows) if fold_of[d] != fold and r[1] != r[2]]
        w = fit_logistic(np.array([r[0] for r in train]), np.array([r[1] for r in train], float))
        for d, (x, _, _, other) in enumerate(rows):
            if fold_of[d] == fold and w[0] + x @ w[1:] < 0:
                picks[d] = other
    return picks


def shipped_scores(feats) -> list[np.ndarray]:
    """Each document's sentence scores under the weights align/headlines.py ships
    (fitted on the whole set: not held out)."""
    weights = HeadlineParams().weights()
    return [stack(f, list(weights)) @ np.array(list(weights.values())) for f in feats]


def top_k(docs, scores, k: int) -> float:
    hits = [bool(set(np.argsort(-s, kind="stable")[:k]) & acc) for (_, _, _, acc), s in zip(docs, scores)]
    return sum(hits) / len(hits)




# -- headline styles: the dev set is in sentence case, a news agency's 原題 in Title Case -------

_TITLE_SMALL = {"a", "an", "the", "and", "or", "nor", "of", "in", "to", "for", "on", "at", "by", "as",
                "vs", "via", "with", "from"}


def title_case(headline: str) -> str:
    """The headline as Title Case writes it (every word capitalised but short
    function words), as Bloomberg's 原題 lines are."""
    words = headline.split(" ")
    out = []
    for i, word in enumerate(words):
        core = word.lstrip("'\"‘“(")
        lead = word[:len(word) - len(core)]
        if core[:1].islower() and (i == 0 or out[-1].endswith(":") or core.lower() not in _TITLE_SMALL):
            core = core[0].upper() + core[1:]
        out.append(lead + core)
    return " ".join(out)


def styles(shared: Path, encoder) -> None:
    """Top-1 / top-3 of the shipped ranker on the dev headlines as written, in
    Title Case and in capitals: each made the matcher's key (``headline_key``),
    and Title Case also taken as typed (only Bloomberg's marks off)."""
    from align.normalise import without_marks
    # the words Title Case writes capitalised (a line's first words aside), by how the dev set writes
    # them: [lowercase, capitalised], and of each how many the key writes back so
    seen, back = [0, 0], [0, 0]
    for _, headline, _, _ in load_dev(shared, key=lambda h: h):
        words = headline.split(" ")
        for k, (word, titled, key) in enumerate(zip(words, title_case(headline).split(" "),
                                                    headline_key(title_case(headline)).split(" "))):
            if k and not words[k - 1].endswith(":") and re.search(r"\b[A-Z][a-z]", titled):
                name = titled == word
                seen[name] += 1
                back[name] += key == word
    print(f"of the words Title Case writes capitalised, the key writes {sum(back) / sum(seen):.0%} as the "
          f"dev set does: {back[0]} of {seen[0]} lowercase words, {back[1]} of {seen[1]} capitalised ones (names)")
    shipped = list(STEPS[-1])
    print(f"\n{'headlines written':62} top-1   top-3   top-1 over {SPLITS} splits   shipped weights top-1   "
          "cosine of the right sentences")
    for name, style, key in (("as the dev set has them (sentence case)", lambda h: h, headline_key),
                             ("Title Case, taken as typed", title_case, without_marks),
                             ("Title Case, each word in its usual case (shipped)", title_case, headline_key),
                             ("in capitals, in sentence case (shipped)", str.upper, headline_key)):
        docs = load_dev(shared, style, key)
        feats = dev_features(docs, encoder)
        cv = cross_validated(docs, feats, shipped)
        fitted = shipped_scores(feats)
        right_cos = np.mean([f["cos"][sorted(acc)].mean() for f, (_, _, _, acc) in zip(feats, docs)])
        print(f"{name:62} {top_k(docs, cv, 1):.3f}   {top_k(docs, cv, 3):.3f}   "
              f"{split_mean_top1(docs, feats, shipped):.3f}                  {top_k(docs, fitted, 1):.3f}"
              f"                   {right_cos:.3f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--ideas", action="store_true", help="also measure the ideas not shipped (IDEAS)")
    ap.add_argument("--styles", action="store_true",
                    help="only the shipped ranker on the headlines in Title Case and in capitals")
    args = ap.parse_args()
    encoder = load_encoder()
    if args.styles:
        return styles(Path(args.shared), encoder)
    docs = load_dev(Path(args.shared))
    feats = dev_features(docs, encoder)
    print(f"{len(docs)} documents with a sentence that states the headline's claim")
    print(f"{'ranking':62} top-1   top-3   top-1 over {SPLITS} splits")
    rows = [("first body sentence", [-np.arange(len(f["cos"]), dtype=float) for f in feats], None),
            ("plain cosine", [f["cos"] for f in feats], None),
            ("the matcher before the ranker (cos, quotes, tokens, lead)", [f["before"] for f in feats], None)]
    rows += [(("ranker: " if k == 0 else "  + ") + ", ".join(GROUPS[k]), None, list(names))
             for k, names in enumerate(STEPS)]
    shipped = list(STEPS[-1])
    if args.ideas:
        for (_, headline, body, _), f in zip(docs, feats):
            f.update(idea_features(headline, body, f, encoder.encode, encoder))
        ideas = IDEAS
        if jmdict_index() is None:
            print("(the dictionary ideas are skipped: pip install jamdict-data snowballstemmer)")
        else:
            for (_, headline, body, _), f in zip(docs, feats):
                f.update(dictionary_features(headline, body))
            ideas = IDEAS + DICTIONARY_IDEAS
        rows += [(f"shipped + {name}", None, [n for n in shipped if n not in drop] + add)
                 for name, add, drop in ideas]
    for name, scores, names in rows:
        fixed = scores if scores is not None else cross_validated(docs, feats, names)
        spread = f"{split_mean_top1(docs, feats, names):.3f}" if names else ""
        print(f"{name:62} {top_k(docs, fixed, 1):.3f}   {top_k(docs, fixed, 3):.3f}   {spread}", flush=True)
    if args.ideas:
        splits = [lede_or_challenger(docs, feats, np.random.RandomState(seed).permutation(len(docs)) % FOLDS)
                  for seed in range(SPLITS)]
        hit = lambda picks: np.mean([j in acc for j, (_, _, _, acc) in zip(picks, docs)])
        print(f"{'pairwise: the lede or the best other sentence':62} {hit(lede_or_challenger(docs, feats)):.3f}   "
              f"  -     {np.mean([hit(p) for p in splits]):.3f}")
    fitted = shipped_scores(feats)
    print(f"{'shipped weights (fitted on the whole set: not held out)':62} "
          f"{top_k(docs, fitted, 1):.3f}   {top_k(docs, fitted, 3):.3f}")
    misses = [s.argmax() for (_, _, _, accepted), s in zip(docs, cross_validated(docs, feats, shipped))
              if s.argmax() not in accepted]
    print(f"the shipped ranker misses {len(misses)} (cross-validated), {misses.count(0)} of them taking the lede")
    w = fit_ranker([stack(f, shipped) for f in feats], labels_of(docs))
    print("weights for HeadlineParams: " + ", ".join(f"{n}={v:.2f}" for n, v in zip(shipped, w)))
    calibrate_confidence(docs, feats)


if __name__ == "__main__":
    main()
