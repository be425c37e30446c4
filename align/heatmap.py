"""The map view: every Japanese segment's similarity to every English one,
with the chosen alignment path drawn over it (plain functions and a Plotly
figure; nothing here imports Streamlit).

Memory is bounded: the matrix is computed a block of rows at a time and
max-pooled on the way, so a 20,000 × 20,000 document never holds more than
one block of cosines (it would be 1.5 GB whole).
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .model import Alignment
from .review import colour, score_text, snippet

MAX_SIDE = 240  # cells per side of the drawn matrix
_BLOCK = 512    # rows of cosines computed at once

# -- the heatmap ---------------------------------------------------------------------

@dataclass(frozen=True)
class Similarities:
    """The (ja × en) cosine matrix max-pooled to at most ``MAX_SIDE`` cells a
    side: a cell spans ``fr`` Japanese and ``fc`` English segments."""

    pooled: np.ndarray
    fr: int = 1
    fc: int = 1


def _factor(n: int, max_side: int) -> int:
    return max(1, math.ceil(n / max_side))


def similarity_matrix(al: Alignment, encode: Callable[[list[str]], np.ndarray],
                      en_key: Callable[[str], str] | None = None,
                      max_side: int = MAX_SIDE) -> Similarities:
    """Cosine similarity of every Japanese segment (rows) with every English
    one (columns), pooled a block of rows at a time. ``encode`` returns
    L2-normalised rows; ``en_key`` maps an English text to what is embedded
    (headline mode: the headline key)."""
    if not al.ja or not al.en:
        return Similarities(np.zeros((min(len(al.ja), max_side), min(len(al.en), max_side)), np.float32))
    ja = np.asarray(encode([s.text for s in al.ja]), np.float32)
    en = np.asarray(encode([en_key(s.text) if en_key else s.text for s in al.en]), np.float32)
    return pool_product(ja, en, max_side)


def pool_product(ja: np.ndarray, en: np.ndarray, max_side: int = MAX_SIDE) -> Similarities:
    """max-pooled ``ja @ en.T`` without ever holding the whole product."""
    fr, fc = _factor(len(ja), max_side), _factor(len(en), max_side)
    rows = max(fr, _BLOCK // fr * fr)
    blocks = [pool(np.clip(ja[i:i + rows] @ en.T, -1.0, 1.0).astype(np.float32), fr=fr, fc=fc)[0]
              for i in range(0, len(ja), rows)]
    return Similarities(np.vstack(blocks), fr, fc)


def candidate_matrix(al: Alignment) -> Similarities:
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
    pooled, fr, fc = pool(m)
    return Similarities(pooled, fr, fc)


def pool(matrix: np.ndarray, max_side: int = MAX_SIDE, fr: int | None = None,
         fc: int | None = None) -> tuple[np.ndarray, int, int]:
    """Block max-pool so neither side exceeds ``max_side`` cells (or by the
    factors given); returns the pooled matrix and the row and column factors
    (a pooled cell spans that many segments)."""
    rows, cols = matrix.shape
    fr = fr or _factor(rows, max_side)
    fc = fc or _factor(cols, max_side)
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


def _tick_step(n: int) -> int:
    """A whole step giving at most about a dozen ticks: 1, 2, 5, 10, 20, 50 …"""
    scale = 1
    while True:
        for step in (scale, 2 * scale, 5 * scale):
            if n / step <= 12:
                return step
        scale *= 10


def heatmap_figure(al: Alignment, sims: Similarities, current: int | None = None):
    """Plotly figure: the similarity matrix, the alignment path over it (one
    marker per pair, coloured by confidence, the pair index as customdata),
    and the current pair ringed. Box-select is the default drag mode."""
    import plotly.graph_objects as go

    headlines = al.mode == "headlines"
    # rows are the y axis: headlines there in headline mode
    pooled, fy, fx = (sims.pooled.T, sims.fc, sims.fr) if headlines else (sims.pooled, sims.fr, sims.fc)
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
    rows, cols = (len(al.en), len(al.ja)) if headlines else (len(al.ja), len(al.en))
    fig.update_layout(
        height=max(380, min(720, 260 + 12 * rows)) if headlines else 640,
        margin=dict(l=10, r=10, t=10, b=10), dragmode="select", clickmode="event+select",
        uirevision="taiyaku-map",
        # Ticks on whole segment numbers (a cell is centred on its number).
        xaxis=dict(title="Japanese sentence" if headlines else "English segment",
                   range=[0.5, cols + 0.5], showgrid=False, zeroline=False,
                   tick0=1, dtick=_tick_step(cols)),
        yaxis=dict(title="English headline" if headlines else "Japanese segment",
                   range=[rows + 0.5, 0.5], showgrid=False, zeroline=False,
                   tick0=1, dtick=_tick_step(rows)))
    return fig


def map_similarities(al: Alignment, model: str | None) -> tuple[Similarities | None, str]:
    """What the map draws, and a note saying what it is. A picture is not
    worth a model download: unless the project's model is already loaded or
    a local folder, the bundled encoder draws it. Headline mode without any
    encoder falls back to the candidates' scores."""
    from pathlib import Path

    from .encoders import DEFAULT_MODEL, is_loaded, load_encoder
    from .normalise import headline_key

    model = model or DEFAULT_MODEL
    if not (model == DEFAULT_MODEL or is_loaded(model) or Path(model).is_dir()):
        model = DEFAULT_MODEL
    try:
        encoder = load_encoder(None if model == DEFAULT_MODEL else model)
        sims = similarity_matrix(al, encoder.encode, headline_key if al.mode == "headlines" else None)
        return sims, f"cosine similarity ({model})"
    except Exception as e:  # a model that will not load: say so, draw what we can
        if al.mode != "headlines":
            return None, f"the model {model} could not be loaded ({e})"
        return candidate_matrix(al), "candidate scores (model unavailable)"
