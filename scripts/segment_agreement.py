"""How far our sentence splitters agree with a benchmark's gold sentence lines.

    python scripts/segment_agreement.py [BENCH_DIR] [--blank-lines]

BENCH_DIR holds ID.ja / ID.en files, one gold sentence a line (default: the NTREX-128
re-split benchmark). Each document is rebuilt as an article would stand: a line that
ends with sentence-final punctuation is run on into a paragraph (Japanese with no
separator, English with one space); any other line (a title, a subheading) stands on a
line of its own, followed by one newline (two with --blank-lines). The text is then
split again, and every gold line start is a boundary to find.

Printed: boundary precision / recall / F1 and the share of documents split exactly like
the gold, per language and splitter: ours (``taiyaku``; ``taiyaku+q`` with
``split_quotes=True``, Japanese only) and pysbd alone as a baseline. The last line is the
same as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


from align.segment import split  # noqa: E402

DEFAULT_BENCH = str(Path(__file__).resolve().parents[2] / "shared/data/bench/ntrex128_jaen_resplit")
_FINAL = ".!?。！？｡．…"
_CLOSING = "」』）)”】〕］]\"'’"


def build(lines: list[str], lang: str, heading_sep: str) -> tuple[str, set[int]]:
    """The document text and the positions where gold sentences start (but the first)."""
    text, starts = "", set()
    for line in lines:
        heading = line.rstrip(_CLOSING + " ")[-1:] not in tuple(_FINAL)
        if text:
            if heading and not text.endswith(heading_sep):
                text = text.rstrip(" ") + heading_sep
            starts.add(len(text))
        text += line + (heading_sep if heading else "" if lang == "ja" else " ")
    return text.rstrip(), starts


def ours(split_quotes: bool):
    def run(text: str, lang: str) -> list[int]:
        return [s.start for s in split(text, lang, split_quotes=split_quotes)]
    return run


def pysbd_starts(lang: str):
    import pysbd  # the baseline only

    seg = pysbd.Segmenter(language=lang, clean=False, char_span=True)

    def run(text: str, _lang: str) -> list[int]:
        return [span.start + len(span.sent) - len(span.sent.lstrip())
                for span in seg.segment(text) if span.sent.strip()]
    return run


def score(bench: Path, lang: str, splitter, heading_sep: str) -> dict:
    tp = n_gold = n_pred = same = docs = 0
    for path in sorted(bench.glob(f"*.{lang}")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
        text, gold = build(lines, lang, heading_sep)
        pred = set(splitter(text, lang)) - {0}
        tp += len(gold & pred)
        n_gold += len(gold)
        n_pred += len(pred)
        same += gold == pred
        docs += 1
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"lang": lang, "docs": docs, "gold_boundaries": n_gold, "predicted": n_pred,
            "precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
            "identical_docs": round(same / docs, 4) if docs else 0.0}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("bench", nargs="?", default=DEFAULT_BENCH)
    ap.add_argument("--blank-lines", action="store_true",
                    help="put a blank line (not one newline) after titles and subheadings")
    args = ap.parse_args(argv)
    bench, sep = Path(args.bench), "\n\n" if args.blank_lines else "\n"
    rows = []
    for lang in ("ja", "en"):
        splitters = [("taiyaku", ours(False)), ("pysbd", pysbd_starts(lang))]
        if lang == "ja":
            splitters.insert(1, ("taiyaku+q", ours(True)))
        for name, splitter in splitters:
            rows.append({"splitter": name, **score(bench, lang, splitter, sep)})
    print(f"{'splitter':<9} {'lang':<4} {'docs':>5} {'gold':>6} {'pred':>6} "
          f"{'P':>7} {'R':>7} {'F1':>7} {'same':>7}")
    for r in rows:
        print(f"{r['splitter']:<9} {r['lang']:<4} {r['docs']:>5} {r['gold_boundaries']:>6} "
              f"{r['predicted']:>6} {r['precision']:>7.4f} {r['recall']:>7.4f} "
              f"{r['f1']:>7.4f} {r['identical_docs']:>7.4f}")
    print(json.dumps({"bench": str(bench), "heading_separator": sep, "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
