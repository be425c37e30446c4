"""View-model helpers for the review app: plain functions on an ``Alignment``.

Nothing here imports Streamlit, so all of it is tested without a browser:
confidence colours, the "needs review" filter, paging, where the cursor goes
after an edit, split points inside a segment, the HTML of a pair row, and the
similarity heatmap with the alignment path drawn over it.
"""

from __future__ import annotations

import bisect
import html
import math
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from .model import Alignment, Pair

# Calibrated confidence thresholds (the issue: >= 0.8 green, >= 0.5 amber, else red).
GREEN = 0.8
AMBER = 0.5

LEVELS = {
    # level: (label, chip background, chip text, accent for borders and markers)
    "high": ("high", "#d5f2df", "#14653a", "#2e9e5b"),
    "medium": ("medium", "#ffe9b8", "#7a4f00", "#e0a100"),
    "low": ("low", "#ffd9d6", "#9c1c14", "#d64545"),
}
STATUS_STYLE = {
    # status: (label, background, text)
    "auto": ("auto", "#eef0f3", "#4a5260"),
    "edited": ("edited", "#dde8ff", "#1f4aa8"),
    "confirmed": ("✓ confirmed", "#d5f2df", "#14653a"),
}


# -- confidence and status -----------------------------------------------------

def level(score: float) -> str:
    """``high`` (green) from 0.8, ``medium`` (amber) from 0.5, else ``low`` (red)."""
    if score >= GREEN:
        return "high"
    if score >= AMBER:
        return "medium"
    return "low"


def colour(score: float) -> str:
    """The accent colour (hex) of a confidence."""
    return LEVELS[level(score)][3]


def needs_review(pair: Pair) -> bool:
    """Not confirmed, and either below the green threshold or changed by hand:
    an edit makes the aligner's score stale, so the pair waits for a confirm."""
    return pair.status == "edited" or (pair.status == "auto" and pair.score < GREEN)


def visible(al: Alignment, filter_: str = "all") -> list[int]:
    """Indices of the pairs the list shows: all of them, or those needing review."""
    if filter_ == "review":
        return [k for k, p in enumerate(al.pairs) if needs_review(p)]
    return list(range(len(al.pairs)))


@dataclass(frozen=True)
class Stats:
    pairs: int
    confirmed: int
    edited: int
    auto: int
    review: int
    high: int
    medium: int
    low: int

    @property
    def done(self) -> float:
        return self.confirmed / self.pairs if self.pairs else 1.0


def stats(al: Alignment) -> Stats:
    by_status = {s: 0 for s in STATUS_STYLE}
    by_level = {lv: 0 for lv in LEVELS}
    review = 0
    for p in al.pairs:
        by_status[p.status] += 1
        by_level[level(p.score)] += 1
        review += needs_review(p)
    return Stats(len(al.pairs), by_status["confirmed"], by_status["edited"], by_status["auto"],
                 review, by_level["high"], by_level["medium"], by_level["low"])


# -- paging and the cursor -------------------------------------------------------

def n_pages(n_items: int, size: int) -> int:
    return max(1, math.ceil(n_items / size))


def anchor(shown: Sequence[int], k: int) -> int:
    """Position in ``shown`` of pair k, or of the first shown pair after it
    (the last one when none follows); 0 for an empty list."""
    if not shown:
        return 0
    return min(bisect.bisect_left(shown, k), len(shown) - 1)


def page_of(shown: Sequence[int], k: int, size: int) -> int:
    """1-based page on which pair k (or the next shown pair) stands."""
    return anchor(shown, k) // size + 1


def page_items(shown: Sequence[int], page: int, size: int) -> list[int]:
    page = min(max(page, 1), n_pages(len(shown), size))
    return list(shown[(page - 1) * size: page * size])


def step(shown: Sequence[int], k: int, delta: int) -> int:
    """The shown pair ``delta`` places after (or before, when negative) pair k,
    which need not be shown itself; clamped at the ends, k when there is no
    shown pair in that direction."""
    if delta > 0:
        i = bisect.bisect_right(shown, k)
        return shown[min(i + delta - 1, len(shown) - 1)] if i < len(shown) else k
    if delta < 0:
        i = bisect.bisect_left(shown, k)
        return shown[max(i + delta, 0)] if i > 0 else k
    return k


def next_needing_review(al: Alignment, k: int) -> int | None:
    """The first pair after k that needs review, wrapping round; None if none."""
    n = len(al.pairs)
    for d in range(1, n + 1):
        j = (k + d) % n
        if needs_review(al.pairs[j]):
            return j
    return None


def clamp(al: Alignment, k: int) -> int:
    return min(max(int(k), 0), max(len(al.pairs) - 1, 0))


def pair_of_segment(al: Alignment, side: str, seg_id: int) -> int | None:
    for k, p in enumerate(al.pairs):
        if seg_id in getattr(p, side):
            return k
    return None


def focus_of(al: Alignment, op: str, args: Sequence[Any], fallback: int) -> int:
    """The pair an edit is about, in ``al`` (the state after it, or after its
    undo): where the cursor should stand to show what changed."""
    if op in ("edit_text", "split_segment") and len(args) >= 2:
        k = pair_of_segment(al, args[0], args[1])
        return clamp(al, fallback if k is None else k)
    if op == "merge_prev" and args:
        return clamp(al, int(args[0]) - 1)
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return clamp(al, args[0])
    return clamp(al, fallback)


# -- splitting a segment ---------------------------------------------------------

_JA_ENDS = "。！？!?．"
_JA_OPEN = "「『（(【〈《“"
_JA_CLOSE = "」』）)】〉》”"
_QUOTATIVE = "とっ、，"  # 「…。」と述べた: the quote goes on as part of the sentence
_EN_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
_EN_ABBREV = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Sen|Rep|Gov|No|Inc|Ltd|Co|Corp|vs|U\.S|e\.g|i\.e)\.$")


def sentence_cuts(text: str, side: str) -> list[int]:
    """Character offsets inside ``text`` where a sentence ends and more text
    follows: where a segment the splitter left whole could be cut. Japanese
    sentence ends inside a quotation count too (a speech of several sentences
    is one segment, its translation several), but not a quote's own end when
    と or a comma follows (「…。」と述べた goes on)."""
    if side != "ja":
        return [m.end() for m in _EN_END.finditer(text)
                if text[m.end():].strip() and not _EN_ABBREV.search(text[:m.end()])]
    cuts, depth, i, n = [], 0, 0, len(text)
    while i < n:
        ch = text[i]
        at = None
        if ch in _JA_OPEN:
            depth += 1
        elif ch in _JA_CLOSE:
            depth = max(0, depth - 1)
            if depth == 0 and i > 0 and text[i - 1] in _JA_ENDS:
                at = i + 1
        elif ch in _JA_ENDS:
            at = i + 1
            while at < n and text[at] in _JA_ENDS:
                at += 1
        if at is not None:
            rest = text[at:]
            if rest.strip() and rest.lstrip()[0] not in _QUOTATIVE + _JA_ENDS + _JA_CLOSE:
                cuts.append(at)
            i = at
            continue
        i += 1
    return cuts


def line_break_cut(original: str, edited: str) -> int | None:
    """Where the translator put one line break into an otherwise unchanged
    text (the break may replace whitespace): the offset to cut ``original``
    at, or None when the edit is anything else."""
    edited = edited.replace("\r\n", "\n").replace("\r", "\n")
    if edited.count("\n") != 1:
        return None
    head, tail = edited.split("\n")
    head, tail = head.rstrip(), tail.lstrip()
    if not head or not tail or not original.startswith(head) or not original.endswith(tail):
        return None
    middle = original[len(head): len(original) - len(tail)]
    if len(head) + len(tail) > len(original) or middle.strip():
        return None
    return len(head)


# -- rendering a pair --------------------------------------------------------------

def _segments_html(texts: Iterable[str], lang: str) -> str:
    parts = [f'<div class="seg" lang="{lang}">{html.escape(t)}</div>' for t in texts]
    if not parts:
        return f'<div class="seg empty" lang="{lang}">— no {"Japanese" if lang == "ja" else "English"} —</div>'
    return "".join(parts)


def ja_html(al: Alignment, pair: Pair) -> str:
    """The Japanese cell: one block per segment, so merged boundaries show."""
    return _segments_html((al.ja[i].text for i in pair.ja), "ja")


def en_html(al: Alignment, pair: Pair) -> str:
    return _segments_html((al.en[i].text for i in pair.en), "en")


def score_text(score: float) -> str:
    """Two decimals, rounded down, so the number never crosses a threshold
    its colour did not (0.799 shows 0.79 in amber, not 0.80)."""
    return f"{math.floor(score * 100 + 1e-9) / 100:.2f}"


def candidates_html(pair: Pair, limit: int = 3) -> str:
    """Headline mode: the ranked candidates in one small line (sentence
    number and score), the linked ones marked."""
    if not pair.candidates:
        return ""
    items = []
    for c in pair.candidates[:limit]:
        ids = ",".join(str(j + 1) for j in c.ja)
        mark = " linked" if c.ja and set(c.ja) <= set(pair.ja) else ""
        items.append(f'<span class="alt{mark}">#{ids} {score_text(c.score)}</span>')
    more = len(pair.candidates) - limit
    tail = f' <span class="alt">+{more}</span>' if more > 0 else ""
    return f'<div class="alts">candidates: {" · ".join(items)}{tail}</div>'


def score_chip(score: float, label: str | None = None, stale: bool = False) -> str:
    """A confidence chip; a stale one (the aligner's, from before an edit) is struck through."""
    name, bg, fg, _ = LEVELS[level(score)]
    text = label or score_text(score)
    title = f"before the edit; confidence: {name}" if stale else f"confidence: {name}"
    return (f'<span class="chip" title="{title}" style="background:{bg};color:{fg}">'
            f'{f"<s>{text}</s>" if stale else text}</span>')


def status_chip(status: str) -> str:
    label, bg, fg = STATUS_STYLE[status]
    return f'<span class="chip status" style="background:{bg};color:{fg}">{label}</span>'


def meta_html(pair: Pair) -> str:
    """Score, status and bead type. An edited pair's score is the aligner's
    from before the edit: shown struck through, as no longer meaning much."""
    return (f'{score_chip(pair.score, stale=pair.status == "edited")}{status_chip(pair.status)}'
            f'<span class="kind">{pair.kind}</span>')


def snippet(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


# -- the heatmap ---------------------------------------------------------------------

def similarity_matrix(al: Alignment, encode: Callable[[list[str]], np.ndarray],
                      en_key: Callable[[str], str] | None = None) -> np.ndarray:
    """Cosine similarity of every Japanese segment (rows) with every English
    one (columns). ``encode`` returns L2-normalised rows; ``en_key`` maps an
    English text to what is embedded (headline mode: the headline key)."""
    if not al.ja or not al.en:
        return np.zeros((len(al.ja), len(al.en)), np.float32)
    ja = np.asarray(encode([s.text for s in al.ja]), np.float32)
    en_texts = [en_key(s.text) if en_key else s.text for s in al.en]
    en = np.asarray(encode(en_texts), np.float32)
    return np.clip(ja @ en.T, -1.0, 1.0).astype(np.float32)


def candidate_matrix(al: Alignment) -> np.ndarray:
    """Headline mode without an encoder: each headline's candidate scores
    (and its linked sentences' pair score), zero elsewhere."""
    m = np.zeros((len(al.ja), len(al.en)), np.float32)
    for p in al.pairs:
        for h in p.en:
            for c in p.candidates:
                for j in c.ja:
                    m[j, h] = max(m[j, h], c.score)
            for j in p.ja:
                m[j, h] = max(m[j, h], p.score)
    return m


def pool(matrix: np.ndarray, max_side: int = 240) -> tuple[np.ndarray, int, int]:
    """Block max-pool so neither side exceeds ``max_side`` cells; returns the
    pooled matrix and the row and column factors (a pooled cell spans that
    many segments)."""
    rows, cols = matrix.shape
    fr, fc = max(1, math.ceil(rows / max_side)), max(1, math.ceil(cols / max_side))
    if fr == 1 and fc == 1:
        return matrix, 1, 1
    pr, pc = math.ceil(rows / fr) * fr, math.ceil(cols / fc) * fc
    padded = np.full((pr, pc), -1.0, np.float32)
    padded[:rows, :cols] = matrix
    pooled = padded.reshape(pr // fr, fr, pc // fc, fc).max(axis=(1, 3))
    return pooled, fr, fc


@dataclass(frozen=True)
class PathPoint:
    k: int
    x: float  # English position (document) or Japanese sentence (headlines)
    y: float  # Japanese position (document) or headline (headlines)


def path_points(al: Alignment) -> list[PathPoint]:
    """Document: one point per pair at the centre of the cells it links (a
    side with no segment sits between its neighbours), in order, so a line
    through them is the alignment path. Headlines: one point per link,
    x the Japanese sentence, y the headline."""
    points = []
    if al.mode == "headlines":
        for k, p in enumerate(al.pairs):
            for h in p.en:
                points += [PathPoint(k, float(j), float(h)) for j in p.ja]
        return points
    last_ja = last_en = -1
    for k, p in enumerate(al.pairs):
        y = sum(p.ja) / len(p.ja) if p.ja else last_ja + 0.5
        x = sum(p.en) / len(p.en) if p.en else last_en + 0.5
        last_ja = max(p.ja) if p.ja else last_ja
        last_en = max(p.en) if p.en else last_en
        points.append(PathPoint(k, x, y))
    return points


def selected_pairs(selection: Any) -> list[int]:
    """Pair indices from a Streamlit plotly selection (points carry the pair
    index as customdata), sorted and without repeats."""
    if not selection:
        return []
    points = selection.get("points", []) if hasattr(selection, "get") else []
    ks = set()
    for pt in points:
        data = pt.get("customdata")
        if isinstance(data, (list, tuple)):
            data = data[0] if data else None
        try:
            ks.add(int(data))
        except (TypeError, ValueError):
            continue
    return sorted(ks)


def heatmap_figure(al: Alignment, sims: np.ndarray, current: int | None = None,
                   max_side: int = 240):
    """Plotly figure: the similarity matrix, the alignment path over it (one
    marker per pair, coloured by confidence, the pair index as customdata),
    and the current pair ringed. Box-select is the default drag mode."""
    import plotly.graph_objects as go

    headlines = al.mode == "headlines"
    z = sims.T if headlines else sims  # rows are the y axis
    pooled, fy, fx = pool(z, max_side)
    # Contrast from the spread of the values, so the path stands out whatever
    # the model's typical cosine; the pooled -1 padding is left out.
    values = pooled[pooled > -1] if pooled.size else np.zeros(1, np.float32)
    lo = float(max(0.0, np.percentile(values, 5))) if values.size else 0.0
    hi = float(max(np.percentile(values, 99.5), lo + 0.1)) if values.size else 1.0
    # Axes count from 1, as the pair list and the translator do.
    fig = go.Figure()
    fig.add_trace(go.Heatmap(
        z=pooled, x0=1 + (fx - 1) / 2, dx=fx, y0=1 + (fy - 1) / 2, dy=fy,
        colorscale="Blues", zmin=lo, zmax=hi,
        colorbar=dict(title=dict(text="similarity", side="right"), thickness=12),
        hovertemplate=("sentence %{x:.0f} · headline %{y:.0f}<br>similarity %{z:.2f}<extra></extra>"
                       if headlines else
                       "ja %{y:.0f} · en %{x:.0f}<br>similarity %{z:.2f}<extra></extra>")))
    points = path_points(al)
    texts = []
    for pt in points:
        p = al.pairs[pt.k]
        texts.append(f"#{pt.k + 1} · {p.kind} · {score_text(p.score)} · {p.status}<br>"
                     f"{html.escape(snippet(al.ja_text(p), 40))}<br>"
                     f"{html.escape(snippet(al.en_text(p), 60))}")
    fig.add_trace(go.Scatter(
        x=[pt.x + 1 for pt in points], y=[pt.y + 1 for pt in points],
        customdata=[pt.k for pt in points],
        mode="markers" if headlines else "lines+markers",
        line=dict(color="rgba(40,40,40,0.55)", width=1.2),
        marker=dict(size=9 if headlines or len(points) < 120 else 6,
                    color=[colour(al.pairs[pt.k].score) for pt in points],
                    line=dict(width=0.6, color="#222")),
        hovertext=texts, hoverinfo="text", name="alignment", showlegend=False))
    if current is not None:
        ring = [pt for pt in points if pt.k == current]
        if ring:
            fig.add_trace(go.Scatter(
                x=[pt.x + 1 for pt in ring], y=[pt.y + 1 for pt in ring], mode="markers",
                marker=dict(size=18, color="rgba(0,0,0,0)", line=dict(width=2.5, color="#111")),
                hoverinfo="skip", showlegend=False, name="current"))
    rows, cols = z.shape
    fig.update_layout(
        height=max(380, min(720, 260 + 12 * rows)) if headlines else 640,
        margin=dict(l=10, r=10, t=10, b=10), dragmode="select", clickmode="event+select",
        uirevision="taiyaku-map",
        xaxis=dict(title="Japanese sentence" if headlines else "English segment",
                   range=[0.5, cols + 0.5], showgrid=False, zeroline=False),
        yaxis=dict(title="English headline" if headlines else "Japanese segment",
                   range=[rows + 0.5, 0.5], showgrid=False, zeroline=False))
    return fig
