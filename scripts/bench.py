"""The figures in the README, from the dev sets in ../shared (or --shared).

    python scripts/bench.py            # everything (about 5 minutes on 2 cores)
    python scripts/bench.py --quick    # quality only

1. strict / lax F1 of the document aligner on ntrex128_jaen_resplit (clean and
   with 10 % of the sentences of each side deleted) and on textberg_defr_dev;
   the same with exact group embeddings (each concatenation embedded for real)
   to show what the token-sum shortcut costs;
2. embedding speed of the bundled encoder, single sentences and 1–4 groups;
3. a long document pair built by concatenating the ntrex documents (cycled),
   at 2,500 / 5,000 / 10,000 Japanese sentences (and their English): seconds to embed and align,
   peak memory (each size in its own process).
The last line is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]

from align.benchmark import evaluate_folder  # noqa: E402
from align.document import DocumentParams  # noqa: E402
from align.encoders import CachedEncoder, load_encoder  # noqa: E402
from align.evaluate import bench_documents  # noqa: E402
from align.pipeline import align_embeddings, embed_document  # noqa: E402


class _Exact:
    """The bundled encoder without its group shortcut: every concatenation is
    embedded as text."""

    def __init__(self, inner):
        self.inner, self.name, self.version = inner, inner.name + "-exact-groups", inner.version

    def encode(self, texts):
        return self.inner.encode(texts)


def quality(shared: Path, exact: bool) -> dict:
    out = {}
    runs = [("ntrex_resplit", "ntrex128_jaen_resplit", 0.0), ("ntrex_resplit_noise0.1", "ntrex128_jaen_resplit", 0.1),
            ("textberg_dev", "textberg_defr_dev", 0.0)]
    for key, folder, noise in runs:
        encoder = CachedEncoder(_Exact(load_encoder().inner)) if exact else None
        res = evaluate_folder(shared / "data/bench" / folder, noise=noise, encoder=encoder)
        out[key] = {"strict_f1": round(res.scores["strict_f1"], 4), "lax_f1": round(res.scores["lax_f1"], 4),
                    "seconds": round(res.seconds, 1)}
    return out


def dev_sentences(shared: Path) -> tuple[list[str], list[str]]:
    ja, en = [], []
    for _, s, t, _ in bench_documents(shared / "data/bench/ntrex128_jaen_resplit"):
        ja += s.read_text(encoding="utf-8").splitlines()
        en += t.read_text(encoding="utf-8").splitlines()
    return ja, en


def embedding_speed(shared: Path) -> dict:
    from align._usem3 import UsemEncoder
    ja, en = dev_sentences(shared)
    inner = UsemEncoder()  # a fresh one: nothing cached
    inner.encode(ja[:50])  # warm up
    t = time.perf_counter()
    inner.encode(ja + en)
    singles = time.perf_counter() - t
    t = time.perf_counter()
    inner.embed_groups(ja, 4)
    inner.embed_groups(en, 4)
    groups = time.perf_counter() - t
    n = len(ja) + len(en)
    return {"sentences": n, "singles_per_s": round(n / singles), "groups_1_to_4_per_s": round(n / groups),
            "groups_seconds": round(groups, 2)}


def long_pair(shared: Path, size: int) -> tuple[list[str], list[str]]:
    """Whole ntrex documents, cycled, until the Japanese side has ``size``
    sentences: a real parallel pair, with the dev set's 2-1 beads. Each round
    marks its sentences (`` [2]``) so that no text repeats: the encoder would
    embed a repeated text only once."""
    docs = [(s.read_text(encoding="utf-8").splitlines(), t.read_text(encoding="utf-8").splitlines())
            for _, s, t, _ in bench_documents(shared / "data/bench/ntrex128_jaen_resplit")]
    ja, en = [], []
    round_ = 0
    while len(ja) < size:
        mark = f" [{round_}]" if round_ else ""
        for s, t in docs:
            if len(ja) >= size:
                break
            ja += [x + mark for x in s]
            en += [x + mark for x in t]
        round_ += 1
    return ja, en


def one_size(shared: Path, size: int) -> dict:
    """Embed and align a pair of ``size`` Japanese sentences; run in a fresh process."""
    ja, en = long_pair(shared, size)
    encoder = load_encoder()
    encoder.inner.encode(["warm up"])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    params = DocumentParams()
    t0 = time.perf_counter()
    emb = embed_document(ja, en, encoder, params)
    t1 = time.perf_counter()
    band = align_embeddings(emb, params).band
    t2 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"sentences_per_side": size, "ja": len(ja), "en": len(en), "embed_s": round(t1 - t0, 2), "align_s": round(t2 - t1, 2),
            "total_s": round(t2 - t0, 2), "band_cells": band.cells,
            "peak_rss_mb": round(peak / 1024), "rss_growth_mb": round((peak - base) / 1024)}


def scaling(shared: Path) -> list[dict]:
    rows = []
    for size in (2500, 5000, 10000):
        out = subprocess.run([sys.executable, __file__, "--shared", str(shared), "--one-size", str(size)],
                             capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--quick", action="store_true", help="quality only")
    ap.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    shared = Path(args.shared)
    if args.one_size:
        print(json.dumps(one_size(shared, args.one_size)))
        return
    report = {"quality": quality(shared, exact=False)}
    _table("strict / lax F1 (token-sum groups, the default)", report["quality"])
    if not args.quick:
        report["quality_exact_groups"] = quality(shared, exact=True)
        _table("strict / lax F1 (exact group embeddings)", report["quality_exact_groups"])
        report["embedding"] = embedding_speed(shared)
        print(f"\nembedding: {report['embedding']}")
        report["scaling"] = scaling(shared)
        print("\nsentences/side  embed s  align s  total s  band cells  peak RSS MB")
        for r in report["scaling"]:
            print(f"{r['sentences_per_side']:>14}  {r['embed_s']:7.2f}  {r['align_s']:7.2f}  {r['total_s']:7.2f}"
                  f"  {r['band_cells']:>10}  {r['peak_rss_mb']:>11}")
    print(json.dumps(report))


def _table(title: str, rows: dict) -> None:
    print(f"\n{title}")
    for key, r in rows.items():
        print(f"  {key:26} {r['strict_f1']:.4f} / {r['lax_f1']:.4f}   ({r['seconds']} s)")


if __name__ == "__main__":
    main()
