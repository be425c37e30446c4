"""Bertalign's scoring (Liu & Zhu 2022) on the same encoder and dev sets, as a
peer to compare with: strict / lax F1 of a dynamic programme that scores a
bead as Bertalign's second pass does —

    (cos − mean cosine of each side with the sentences just outside the other)
    × log2(1 + min/max of the character lengths, after the document's ratio),

a 1-0 / 0-1 bead −0.1, beads of up to five sentences in all — over the full
table (a superset of Bertalign's search band, which suits these short
documents). Group embeddings come from the bundled USE-m3, as Taiyaku's.

    python scripts/peer_bertalign.py [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from align.encoders import load_encoder  # noqa: E402
from align.evaluate import load_bench, score  # noqa: E402

BEADS = [(a, b) for a in range(1, 5) for b in range(1, 5) if a + b <= 5] + [(1, 0), (0, 1)]
SKIP = -0.1


def neighbours(vec, start: int, size: int, singles: np.ndarray) -> float:
    """Mean cosine of ``vec`` with the sentence before and after the group
    ``start .. start+size-1`` (one of them at the edges, 0 with neither)."""
    sims = [float(vec @ singles[k]) for k in (start - 1, start + size) if 0 <= k < len(singles)]
    return sum(sims) / len(sims) if sims else 0.0


def align(src_groups, tgt_groups, src_lens, tgt_lens):
    n, m = len(src_lens), len(tgt_lens)
    ratio = src_lens.sum() / max(tgt_lens.sum(), 1)
    src_cum, tgt_cum = np.concatenate([[0], np.cumsum(src_lens)]), np.concatenate([[0], np.cumsum(tgt_lens)])
    best = np.full((n + 1, m + 1), -np.inf)
    back = np.zeros((n + 1, m + 1), np.int8)
    best[0, 0] = 0.0
    for i in range(n + 1):
        for j in range(m + 1):
            for t, (a, b) in enumerate(BEADS):
                if i < a or j < b or best[i - a, j - b] == -np.inf:
                    continue
                if a == 0 or b == 0:
                    value = SKIP
                else:
                    s, g = src_groups[a - 1][i - a], tgt_groups[b - 1][j - b]
                    value = float(s @ g) - 0.5 * (neighbours(s, j - b, b, tgt_groups[0])
                                                  + neighbours(g, i - a, a, src_groups[0]))
                    ls, lt = src_cum[i] - src_cum[i - a], (tgt_cum[j] - tgt_cum[j - b]) * ratio
                    value *= np.log2(1 + min(ls, lt) / max(ls, lt, 1))
                if best[i - a, j - b] + value > best[i, j]:
                    best[i, j] = best[i - a, j - b] + value
                    back[i, j] = t
    beads, i, j = [], n, m
    while i or j:
        a, b = BEADS[back[i, j]]
        beads.append((tuple(range(i - a, i)), tuple(range(j - b, j))))
        i, j = i - a, j - b
    return beads[::-1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    args = ap.parse_args()
    encoder = load_encoder()
    report = {}
    for key, folder, noise in [("ntrex_resplit", "ntrex128_jaen_resplit", 0.0),
                               ("ntrex_resplit_noise0.1", "ntrex128_jaen_resplit", 0.1),
                               ("textberg_dev", "textberg_defr_dev", 0.0)]:
        docs = load_bench(Path(args.shared) / "data/bench" / folder, noise)
        tests = [align(encoder.embed_groups(d.src, 4, d.joiner), encoder.embed_groups(d.tgt, 4, " "),
                       np.array([len(s) for s in d.src], float), np.array([len(t) for t in d.tgt], float))
                 for d in docs]
        res = score([d.gold for d in docs], tests)
        report[key] = {"strict_f1": round(res["strict_f1"], 4), "lax_f1": round(res["lax_f1"], 4)}
        print(f"{key:26} {res['strict_f1']:.4f} / {res['lax_f1']:.4f}", flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
