"""The command line: ``python -m align align|evaluate|export …``.

A thin layer over the package. Bad input ends with one line on standard
error and exit code 2, never a traceback, and never a half-written output.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

from . import __version__
from .errors import InputError

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.run(args)
    except InputError as exc:
        print(f"taiyaku: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as exc:  # an output that cannot be written, a full disk
        print(f"taiyaku: {exc.filename or ''}: {exc.strerror or exc}".replace(": : ", ": "), file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("taiyaku: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m align",
                                description="Taiyaku: align a Japanese text with its English counterpart.")
    p.add_argument("--version", action="version", version=f"taiyaku {__version__}")
    sub = p.add_subparsers(required=True, metavar="COMMAND")

    a = sub.add_parser("align", help="align a Japanese file with an English file or its own 原題 headlines")
    a.add_argument("ja_file", help="Japanese text (.txt .md .html .docx); alone, an article with a 原題: line")
    a.add_argument("en_file", nargs="?", help="the English counterpart (translation or original)")
    a.add_argument("--mode", choices=("auto", "document", "headlines"), default="auto",
                   help="auto picks headlines for a few short English lines against many Japanese sentences")
    a.add_argument("--model", help="a sentence-transformers model name or folder (default: bundled USE-m3)")
    a.add_argument("--presegmented", action="store_true", help="one segment per line, taken as is")
    _output_options(a)
    a.set_defaults(run=_run_align)

    e = sub.add_parser("evaluate", help="score the document aligner on a folder of ID.ja/ID.en/ID.gold")
    e.add_argument("bench_dir")
    e.add_argument("--hyp-out", help="write each hypothesis here as ID.align (gold format) and ID.json (with scores)")
    e.add_argument("--model")
    e.add_argument("--noise", type=float, default=0.0, help="delete this fraction of sentences on each side")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(run=_run_evaluate)

    x = sub.add_parser("export", help="convert an alignment (JSON, TMX or TSV) to another format")
    x.add_argument("input")
    _output_options(x)
    x.set_defaults(run=_run_export)
    return p


def _output_options(p: argparse.ArgumentParser) -> None:
    from .export import FORMATS
    p.add_argument("-o", "--output", help="output file (default: TSV on standard output)")
    p.add_argument("--format", choices=FORMATS, help="default: from the output's extension, else tsv")
    p.add_argument("--header", action="store_true", help="TSV: a header row")
    p.add_argument("--score", action="store_true", help="TSV: score and status columns")
    p.add_argument("--bom", action="store_true", help="TSV: a UTF-8 BOM (Excel on Japanese Windows)")
    p.add_argument("--confirmed-only", action="store_true", help="only pairs a reviewer confirmed")
    p.add_argument("--include-empty", action="store_true", help="TMX: keep 1-0 / 0-1 pairs")
    p.add_argument("--src-lang", default="ja-JP", help="TMX language code of the Japanese side")
    p.add_argument("--tgt-lang", default="en-US", help="TMX language code of the English side")


def _run_align(args) -> int:
    from .pipeline import align_texts
    from .progress import ProgressBar
    from .sources import read_source

    fmt = _format(args)  # checked before the slow part
    if args.presegmented and not args.en_file:
        raise InputError("--presegmented needs both files: one segment a line on each side")
    ja_text = read_source(args.ja_file)
    en_text = read_source(args.en_file) if args.en_file else None
    with ProgressBar() as bar:
        al = align_texts(ja_text, en_text, mode=args.mode, model=args.model,
                         presegmented=args.presegmented, progress=bar)
    if al.meta.get("warning"):
        print(f"taiyaku: warning: {al.meta['warning']}", file=sys.stderr)
    sources = [args.ja_file] + ([args.en_file] if args.en_file else [])
    al = replace(al, meta={**al.meta, "sources": sources})
    _emit(al, args, fmt)
    return 0


def _run_export(args) -> int:
    from .imports import load_alignment
    _emit(load_alignment(args.input), args, _format(args))
    return 0


def _format(args) -> str:
    """The output format, checked before any slow work."""
    suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    by_suffix = {"json": "json", "tmx": "tmx", "xlsx": "xlsx", "tsv": "tsv", "tab": "tsv", "txt": "tsv", "": "tsv"}
    if not args.format and suffix not in by_suffix:
        raise InputError(f"{args.output}: cannot tell the format from .{suffix}; "
                         "use .tsv, .json, .tmx or .xlsx, or give --format")
    fmt = args.format or by_suffix[suffix]
    if args.output:
        folder = Path(args.output).resolve().parent
        if not folder.is_dir():
            raise InputError(f"{args.output}: the folder {folder} does not exist")
        if Path(args.output).is_dir():
            raise InputError(f"{args.output}: is a folder; give a file name")
    elif fmt == "xlsx":
        raise InputError("xlsx is a binary format: give an output file with -o")
    return fmt


def _emit(al, args, fmt: str) -> None:
    from .export import render, write
    opts = {"confirmed_only": args.confirmed_only}
    if fmt == "tsv":
        opts.update(header=args.header, score=args.score, bom=args.bom)
    if fmt == "tmx":
        opts.update(include_empty=args.include_empty, src_lang=args.src_lang, tgt_lang=args.tgt_lang)
    if args.output:
        write(al, args.output, fmt, **opts)
        count = sum(1 for p in al.pairs if (p.status == "confirmed" or not args.confirmed_only)
                    and (fmt != "tmx" or args.include_empty or (p.ja and p.en)))
        print(f"taiyaku: {count} pairs written to {args.output} ({fmt})", file=sys.stderr)
    else:
        sys.stdout.buffer.write(render(al, fmt, **opts))
        sys.stdout.flush()


def _run_evaluate(args) -> int:
    from .benchmark import evaluate_folder
    from .evaluate import BenchmarkError
    if not Path(args.bench_dir).is_dir():
        raise InputError(f"{args.bench_dir}: not a folder")
    if not 0 <= args.noise < 1:
        raise InputError(f"--noise {args.noise}: give a fraction from 0 to below 1")
    try:
        result = evaluate_folder(args.bench_dir, model=args.model, hyp_out=args.hyp_out,
                                 noise=args.noise, seed=args.seed)
    except BenchmarkError as exc:  # no gold, a gold without its texts, a malformed gold
        raise InputError(f"{args.bench_dir}: not a benchmark folder ({exc})") from exc
    print(result.table())
    print(json.dumps(result.summary(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
