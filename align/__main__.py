"""The command line: ``taiyaku align|evaluate|export|app …`` (or ``python -m align``).

A thin layer over the package. Bad input ends with one line on standard
error and exit code 2, never a traceback, and never a half-written output.
Modules are imported inside the functions, under ``main``'s handler: a Ctrl-C
while they load (the first half second of a run) ends with one line too.
"""

from __future__ import annotations

import os
import re
import sys
import threading

from . import __version__
from .errors import InputError, TaiyakuError, printable, resolved

EXIT_BAD_INPUT = 2
_LANG_TAG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,4}")


def _say(message: str) -> None:
    """One line on standard error; control characters (an ANSI escape in a file name
    or a segment) are shown as escapes, never sent to the terminal."""
    print(f"taiyaku: {printable(message)}", file=sys.stderr)


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``), taken as a Ctrl-C: the same unwinding
    removes temporary files and leaves the old outputs as they were."""


def _terminate(signum, frame) -> None:
    raise _Terminated


def main(argv: list[str] | None = None) -> int:
    import signal
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _main(argv)
    except KeyboardInterrupt as exc:  # at any moment, parsing and imports included
        terminated = isinstance(exc, _Terminated)
        print(f"taiyaku: {'terminated' if terminated else 'interrupted'}", file=sys.stderr)
        return 128 + (signal.SIGTERM if terminated else signal.SIGINT)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        if getattr(args, "output", None) == "":  # not standard output, not the current folder
            raise InputError("-o '': an empty name; give a file or folder name")
        if getattr(args, "output", None) == "-":  # the usual name of standard output
            if args.run is _run_corpus:
                raise InputError("-o -: a corpus run writes a folder; give its name")
            args.output = None
        if getattr(args, "hyp_out", None) == "":
            raise InputError("--hyp-out '': an empty name; give a folder name")
        return args.run(args)
    except TaiyakuError as exc:
        _say(str(exc))
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        sys.stdout = open(os.devnull, "w")
        return 0
    except OSError as exc:  # an output that cannot be written, a full disk
        _say(f"{exc.filename or ''}: {exc.strerror or exc}".removeprefix(": "))
        return EXIT_BAD_INPUT
    except MemoryError:  # a reader's bound missed something: still one line
        _say("out of memory: the input is too large for this machine")
        return EXIT_BAD_INPUT


def _parser():
    import argparse
    p = argparse.ArgumentParser(prog="taiyaku",
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

    r = sub.add_parser("app", help="open the review app in the browser (served on 127.0.0.1 only)")
    r.add_argument("--port", type=int, default=8501)
    r.set_defaults(run=_run_app)

    e = sub.add_parser("evaluate", help="score the document aligner on a folder of ID.ja/ID.en/ID.gold")
    e.add_argument("bench_dir")
    e.add_argument("--hyp-out", help="write each hypothesis here as ID.align (gold format) and ID.json (with scores)")
    e.add_argument("--model")
    e.add_argument("--noise", type=float, default=0.0, help="delete this fraction of sentences on each side")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(run=_run_evaluate)

    c = sub.add_parser("corpus", help="pair and align two folders of articles (see README: Corpus mode)")
    c.add_argument("ja_dir")
    c.add_argument("en_dir")
    c.add_argument("-o", "--output", required=True, metavar="OUT_DIR", help="folder for the outputs")
    c.add_argument("--mode", choices=("auto", "document", "headlines"), default="auto")
    c.add_argument("--model")
    c.add_argument("--presegmented", action="store_true", help="one segment per line, taken as is")
    c.add_argument("--workers", type=int, help="local worker processes (default: all cores)")
    c.add_argument("--scheduler", metavar="ADDRESS", help="run on a Dask cluster, e.g. tcp://host:8786")
    c.add_argument("--pairs", metavar="FILE", help="TSV ja_file<TAB>en_file: the pairs, not searched")
    c.add_argument("--confirmed-only", action="store_true", help="corpus.tmx/tsv: confirmed pairs only")
    c.add_argument("--min-confidence", type=float, default=0.0, help="corpus.tmx/tsv: pairs scored at least this")
    c.set_defaults(run=_run_corpus)

    x = sub.add_parser("export", help="convert an alignment (JSON, TMX or TSV) to another format")
    x.add_argument("input")
    _output_options(x)
    x.set_defaults(run=_run_export)
    return p


def _output_options(p) -> None:
    from .export import FORMATS
    p.add_argument("-o", "--output", help="output file (default: TSV on standard output)")
    p.add_argument("--format", choices=FORMATS, help="default: from the output's extension, else tsv")
    p.add_argument("--header", action="store_true", help="TSV: a header row")
    p.add_argument("--score", action="store_true", help="TSV: score and status columns")
    p.add_argument("--bom", action="store_true", help="TSV: a UTF-8 BOM (Excel on Japanese Windows)")
    p.add_argument("--excel-safe", action="store_true",
                   help="TSV: an apostrophe before a text starting with = + - @ (not a formula in Excel)")
    p.add_argument("--confirmed-only", action="store_true", help="only pairs a reviewer confirmed")
    p.add_argument("--include-empty", action="store_true",
                   help="TSV and TMX: keep pairs with an empty side (1-0 / 0-1), which a TM cannot use")
    p.add_argument("--src-lang", default="ja-JP", help="TMX language code of the Japanese side")
    p.add_argument("--tgt-lang", default="en-US", help="TMX language code of the English side")
    p.add_argument("--no-headlines", action="store_true",
                   help="headline mode: leave out headline pairs (summaries, not translations)")
    p.add_argument("--keep-marks", action="store_true",
                   help="headline mode: keep Bloomberg's version marks (*, (2)) in the headlines")


def _run_align(args) -> int:
    from dataclasses import replace

    from .pipeline import align_texts
    from .progress import ProgressBar
    from .sources import read_source

    sources = [args.ja_file] + ([args.en_file] if args.en_file else [])
    fmt = _format(args, sources)  # checked before the slow part
    if args.presegmented and not args.en_file:
        raise InputError("--presegmented needs both files: one segment a line on each side")
    if args.confirmed_only:  # refused before the slow part, not after it as an empty export
        raise InputError("--confirmed-only: a new alignment has no confirmed pairs; "
                         "review it in the app, then export it")
    ja_text = read_source(args.ja_file)
    en_text = read_source(args.en_file) if args.en_file else None
    with ProgressBar() as bar:
        al = align_texts(ja_text, en_text, mode=args.mode, model=args.model,
                         presegmented=args.presegmented, progress=bar)
    if al.meta.get("warning"):
        _say(f"warning: {al.meta['warning']}")
    if args.en_file and args.mode == "auto" and al.mode == "headlines":  # chosen, not asked for: said
        _say(f"note: aligned as headlines (the English is {len(al.en)} short lines against "
             f"{len(al.ja)} Japanese sentences); --mode document aligns it as a translation")
    al = replace(al, meta={**al.meta, "sources": sources})
    _emit(al, args, fmt)
    return 0


def _run_corpus(args) -> int:
    from .corpus import Options, run_corpus
    cores = os.cpu_count() or 1
    if args.workers is not None and not 1 <= args.workers <= 4 * cores:
        raise InputError(f"--workers {args.workers}: give 1 to {4 * cores} (this machine has {cores} cores; "
                         "each worker loads the model, more only costs memory)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise InputError("--scheduler '': an empty address; give one such as tcp://10.0.0.5:8786, "
                         "or leave the option out to run here")
    if args.scheduler and args.workers:
        raise InputError("--workers is for a run here; a Dask cluster has its own workers (--scheduler)")
    if not 0 <= args.min_confidence <= 1:
        raise InputError(f"--min-confidence {args.min_confidence}: give a number from 0 to 1")
    run_corpus(args.ja_dir, args.en_dir, args.output, Options(
        mode=args.mode, model=args.model, presegmented=args.presegmented, workers=args.workers,
        scheduler=args.scheduler, pairs=args.pairs, confirmed_only=args.confirmed_only,
        min_confidence=args.min_confidence))
    return 0


def _run_app(args) -> int:
    """``streamlit run`` on the package's page, with the settings of the
    repository's .streamlit/config.toml (local only, no usage statistics)."""
    from pathlib import Path
    if not 1 <= args.port <= 65535:  # Streamlit would fail with a traceback
        raise InputError(f"--port {args.port}: give a port from 1 to 65535")
    import socket
    with socket.socket() as probe:  # Streamlit would say it in its own log format, exit 1
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Streamlit binds: a closed app's
        try:  # connections that linger (TIME_WAIT) do not hold the port
            probe.bind(("127.0.0.1", args.port))
        except OSError:
            raise InputError(f"--port {args.port}: in use (the app already running?); give another port") from None
    page = Path(__file__).resolve().parent / "app.py"
    os.execv(sys.executable, [sys.executable, "-m", "streamlit", "run", str(page),
                              "--server.address", "127.0.0.1", "--server.port", str(args.port),
                              # a list option is given once a value: "a,b" would be one host name
                              *[flag for host in ("localhost", "127.0.0.1", "::1", "[::1]")
                                for flag in ("--server.allowedHosts", host)],
                              "--server.maxUploadSize", "20", "--server.fileWatcherType", "none",
                              "--browser.gatherUsageStats", "false",
                              "--runner.postScriptGC", "false",
                              "--client.showErrorDetails", "none", "--client.toolbarMode", "minimal",
                              "--theme.base", "light", "--theme.primaryColor", "#1f6feb"])
    return 0  # not reached: the app replaces this process


def _run_export(args) -> int:
    from .imports import import_warning, load_alignment
    fmt = _format(args, [args.input])
    al, warning = import_warning(load_alignment(args.input))
    if warning is not None:
        _say(f"warning: {printable(args.input)}: {warning}")
    _emit(al, args, fmt)
    return 0


def _format(args, inputs: list[str]) -> str:
    """The output format, checked before any slow work, with the output path and the
    TMX language codes."""
    from pathlib import Path

    from .formats import by_extension
    for option, tag in (("--src-lang", args.src_lang), ("--tgt-lang", args.tgt_lang)):
        if not _LANG_TAG.fullmatch(tag):
            raise InputError(f"{option} {tag[:40]!r}: not a language code such as ja-JP or en")
    # a POSIX locale's ja_JP is BCP 47's ja-JP, the only form xml:lang allows
    args.src_lang, args.tgt_lang = args.src_lang.replace("_", "-"), args.tgt_lang.replace("_", "-")
    suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    known = by_extension(args.output) if args.output else None
    if not args.format and suffix and known is None:
        raise InputError(f"{args.output}: cannot tell the format from .{suffix}; "
                         "use .tsv, .json, .tmx or .xlsx, or give --format")
    fmt = args.format or (known.name if known else "tsv")
    if args.output:
        from .export import check_writable
        folder = resolved(args.output).parent
        if not folder.is_dir():
            raise InputError(f"{args.output}: the folder {folder} does not exist")
        if Path(args.output).is_dir() or args.output.endswith(("/", os.sep)):  # newdir/: meant a folder
            raise InputError(f"{args.output}: is a folder; give a file name")
        check_writable(args.output)
        for source in inputs:
            if _same_file(args.output, source):
                raise InputError(f"{args.output}: is the input {source}; give another output file")
    elif fmt == "xlsx":
        raise InputError("xlsx is a binary format: give an output file with -o")
    elif sys.stdout is None:  # started with >&-
        raise InputError("standard output is closed: give an output file with -o")
    return fmt


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # the output does not exist yet
        return False


def _emit(al, args, fmt: str) -> None:
    from .export import count, notes, render, write
    opts = {"confirmed_only": args.confirmed_only, "headlines": not args.no_headlines,
            "keep_marks": args.keep_marks}
    if fmt in ("tsv", "tmx"):
        opts.update(include_empty=args.include_empty)
    if fmt == "tsv":
        opts.update(header=args.header, score=args.score, bom=args.bom, excel_safe=args.excel_safe)
    if fmt == "tmx":
        opts.update(src_lang=args.src_lang, tgt_lang=args.tgt_lang)
    written = count(al, fmt, **opts)
    if not written:  # an empty file would replace the one there, an empty stream look like success
        raise InputError(f"{args.output or 'standard output'}: not written, no pair to write "
                         f"({_why_none(al, args, fmt)})")
    if args.output:
        write(al, args.output, fmt, **opts)
        _say(f"{written} pairs written to {args.output} ({fmt})")
    else:
        data = render(al, fmt, **opts)
        if sys.stdout.isatty():  # a segment's ANSI escapes are shown, not run by the terminal
            data = printable(data.decode("utf-8"), keep="\t\n").encode("utf-8")
        try:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:  # a full disk behind >: name what could not be written
            raise OSError(exc.errno, exc.strerror, "standard output") from None
    for note in notes(al, fmt, args.confirmed_only):
        _say(f"note: {note}")


def _why_none(al, args, fmt: str) -> str:
    if not al.pairs:
        return "the alignment has none"
    if al.mode == "headlines" and args.no_headlines and fmt != "json":
        return "headline pairs are left out with --no-headlines"
    if args.confirmed_only and not any(p.status == "confirmed" for p in al.pairs):
        return "none is confirmed, and --confirmed-only keeps only those"
    return "each has a side empty; --include-empty keeps them"


def _run_evaluate(args) -> int:
    import json
    from pathlib import Path

    from .benchmark import evaluate_folder
    from .evaluate import BenchmarkError
    if not Path(args.bench_dir).is_dir():
        raise InputError(f"{args.bench_dir}: not a folder")
    if not 0 <= args.noise < 1:
        raise InputError(f"--noise {args.noise}: give a fraction from 0 to below 1")
    if args.hyp_out and _same_file(args.hyp_out, args.bench_dir):
        # its ID.json files would lie beside the gold: the folder no longer a benchmark
        raise InputError(f"--hyp-out {args.hyp_out}: is the benchmark folder; give another")
    try:
        result = evaluate_folder(args.bench_dir, model=args.model, hyp_out=args.hyp_out,
                                 noise=args.noise, seed=args.seed)
    except BenchmarkError as exc:  # no gold, a gold without its texts, a malformed gold
        raise InputError(f"{args.bench_dir}: not a benchmark folder ({exc})") from None
    print(result.table())
    print(json.dumps(result.summary(), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
