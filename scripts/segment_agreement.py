"""How far our sentence splitters agree with a benchmark's gold sentence lines.

    python scripts/segment_agreement.py [BENCH_DIR] [--blank-lines] [--align] [--rule RULE]

BENCH_DIR holds ID.ja / ID.en files, one gold sentence a line (default: the NTREX-128
re-split benchmark). Each document is rebuilt as an article would stand: a line that
ends with sentence-final punctuation is run on into a paragraph (Japanese with no
separator, English with one space); any other line (a title, a subheading) stands on a
line of its own, followed by one newline (two with --blank-lines). The text is then
split again, and every gold line start is a boundary to find.

Printed: boundary precision / recall / F1 and the share of documents split exactly like
the gold, per language and splitter: ours (``taiyaku``) and pysbd alone as a baseline. The last line is the
same as JSON.

``--align`` also aligns every document from its rebuilt text (split by ours, not the gold
lines) with the bundled encoder, carries each pair over to the gold lines its segments
cover, and scores that against the gold beads (strict / lax, as ``evaluate``): what the
splitter costs an alignment of raw text (a few minutes).

``--rule`` swaps the quotation rule, to compare it with the alternatives: ``whole`` keeps
every quotation whole (the Japanese rule before), ``opening`` splits only one that opens a
sentence (the former ``split_quotes=True``); ``ours`` (the default) is the shipped rule.
"""

from __future__ import annotations

import argparse
import json
import sys
from bisect import bisect_left, bisect_right
from pathlib import Path

from align import segment
from align.evaluate import bench_documents, read_beads, score as score_beads
from align.segment import split

DEFAULT_BENCH = str(Path(__file__).resolve().parents[2] / "shared/data/bench/ntrex128_jaen_resplit")
_FINAL = ".!?。！？｡．…"
# which quotations are kept whole (protected): the shipped rule and two to compare it with
RULES = {"ours": segment._within_sentence,
         "whole": lambda *_: True,
         "opening": lambda text, start, _end, o, _c, _lang: segment._words_before(text, start, o)}
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


def ours(text: str, lang: str) -> list[int]:
    return [s.start for s in split(text, lang)]


def _lines(path: Path) -> list[str]:
    return [ln.strip() for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]


def align_raw(bench: Path, heading_sep: str) -> dict:
    """Strict / lax scores of aligning each document from its rebuilt text."""
    from align.encoders import load_encoder
    from align.pipeline import align_segments

    encoder = load_encoder()
    golds, tests = [], []
    for _id, ja_path, en_path, gold_path in bench_documents(bench):
        sides = []
        for path, lang in ((ja_path, "ja"), (en_path, "en")):
            text, starts = build(_lines(path), lang, heading_sep)
            firsts = [0, *sorted(starts)]  # where each gold line starts in the text
            segments = split(text, lang)
            covered = [range(bisect_right(firsts, s.start) - 1, bisect_left(firsts, s.end))
                       for s in segments]
            sides.append((segments, covered))
        (ja, ja_lines), (en, en_lines) = sides
        pairs = align_segments(ja, en, mode="document", encoder=encoder).pairs
        tests.append([(tuple(sorted({g for i in p.ja for g in ja_lines[i]})),
                       tuple(sorted({g for i in p.en for g in en_lines[i]}))) for p in pairs])
        golds.append(read_beads(gold_path))
    return {k: round(v, 4) for k, v in score_beads(golds, tests).items()}


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
        text, gold = build(_lines(path), lang, heading_sep)
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
    ap.add_argument("--rule", choices=RULES, default="ours",
                    help="the quotation rule to measure (default: the shipped one)")
    ap.add_argument("--align", action="store_true",
                    help="also align the documents from their rebuilt text and score that")
    args = ap.parse_args(argv)
    bench, sep = Path(args.bench), "\n\n" if args.blank_lines else "\n"
    segment._within_sentence = RULES[args.rule]  # an ablation: the splitter looks it up per call
    rows = []
    for lang in ("ja", "en"):
        for name, splitter in (("taiyaku", ours), ("pysbd", pysbd_starts(lang))):
            rows.append({"splitter": name, **score(bench, lang, splitter, sep)})
    print(f"{'splitter':<9} {'lang':<4} {'docs':>5} {'gold':>6} {'pred':>6} "
          f"{'P':>7} {'R':>7} {'F1':>7} {'same':>7}")
    for r in rows:
        print(f"{r['splitter']:<9} {r['lang']:<4} {r['docs']:>5} {r['gold_boundaries']:>6} "
              f"{r['predicted']:>6} {r['precision']:>7.4f} {r['recall']:>7.4f} "
              f"{r['f1']:>7.4f} {r['identical_docs']:>7.4f}")
    report = {"bench": str(bench), "heading_separator": sep, "rule": args.rule, "results": rows}
    if args.align:
        report["aligned_from_text"] = aligned = align_raw(bench, sep)
        print(f"aligned from the text: strict F1 {aligned['strict_f1']:.4f}, "
              f"lax F1 {aligned['lax_f1']:.4f}")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
