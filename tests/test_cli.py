"""The command line as a user runs it: ``python -m align align|evaluate|export``
in a subprocess. Bad input: exit code 2, one line on standard error, no
traceback, and no output file touched."""

import fcntl
import io
import json
import os
import pty
import struct
import subprocess
import sys
import termios

import pytest
from lxml import etree

from align.evaluate import parse_beads
from align import export
from align.model import Alignment
from conftest import FIXTURES, REPO, SAMPLE, assert_partition

pytestmark = pytest.mark.slow  # the CLI as subprocesses

BENCH = FIXTURES / "bench_small"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def _command(*args):
    return [sys.executable, "-m", "align", *map(str, args)]


def _env():
    # standard error is a pipe: no progress bar however slow the machine, so the tests
    # that assert an empty standard error check that too
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}
    env.pop("TAIYAKU_PROGRESS_DELAY", None)
    return env


def cli(*args, timeout=120):
    run = subprocess.run(_command(*args), cwd=REPO, capture_output=True, timeout=timeout,
                         env=_env())
    return run.returncode, run.stdout.decode("utf-8"), run.stderr.decode("utf-8")


def cli_parallel(*commands, timeout=120):
    """Several runs at once (each loads the model): [(code, stdout, stderr)]."""
    procs = [subprocess.Popen(_command(*args), cwd=REPO, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for args in commands]
    out = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=timeout)
        out.append((p.returncode, stdout.decode("utf-8"), stderr.decode("utf-8")))
    return out


def assert_clean_error(code, stdout, stderr, *words):
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.strip("\n").split("\n")
    assert len(lines) == 1, stderr
    assert lines[0].startswith("taiyaku: ")
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    assert stdout == ""


# -- align ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sample_runs(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli")
    json_path, tmx_path = out / "out.json", out / "out.tmx"
    tsv, js, tmx, dash = cli_parallel(("align", SAMPLE), ("align", SAMPLE, "-o", json_path),
                                      ("align", SAMPLE, "-o", tmx_path), ("align", SAMPLE, "-o", "-"))
    return {"tsv": tsv, "json": js, "tmx": tmx, "dash": dash, "json_path": json_path, "tmx_path": tmx_path}


def test_dash_is_standard_output(sample_runs):
    assert sample_runs["dash"] == sample_runs["tsv"] and not (REPO / "-").exists()


def test_align_the_sample_prints_tsv(sample_runs):
    code, stdout, stderr = sample_runs["tsv"]
    assert code == 0, stderr
    assert stderr == ""                        # no progress bar (its delay is set high)
    rows = stdout.split("\n")
    assert rows[-1] == ""                      # newline-terminated
    rows = [r.split("\t") for r in rows[:-1]]
    assert len(rows) == 6 and all(len(r) == 2 for r in rows)
    headlines = [r[1] for r in rows]
    assert headlines[2] == "Trump: War in Ukraine’s End Closer Than Ever After Talks Today"
    assert all(r[0] and r[0] in SAMPLE.read_text(encoding="utf-8") for r in rows)


def test_align_to_json_writes_the_model(sample_runs):
    code, stdout, stderr = sample_runs["json"]
    assert code == 0, stderr
    assert stdout == ""
    assert stderr == f"taiyaku: 6 pairs written to {sample_runs['json_path']} (json)\n"
    data = json.loads(sample_runs["json_path"].read_text(encoding="utf-8"))
    al = Alignment.from_json(data)
    assert al.mode == "headlines" and len(al.pairs) == 6 and len(al.en) == 6
    assert data["meta"]["sources"] == [str(SAMPLE)]
    assert data["meta"]["model"] == "use-m3"
    assert all(p["candidates"] and 0 <= p["score"] <= 1 for p in data["pairs"])
    # the same pairs as the TSV on standard output, where headlines lose Bloomberg's marks
    tsv = [r.split("\t") for r in sample_runs["tsv"][1].strip("\n").split("\n")]
    assert [[a, b] for a, b, _ in export.for_memory(al).rows()] == tsv
    assert any(b.startswith("*") for _, b, _ in al.rows())  # the sample has marked headlines


def test_align_to_tmx_writes_a_translation_memory(sample_runs):
    code, _, stderr = sample_runs["tmx"]
    assert code == 0, stderr
    root = etree.parse(str(sample_runs["tmx_path"])).getroot()
    assert root.tag == "tmx" and root.get("version") == "1.4"
    assert root.find("header").get("srclang") == "ja-JP"
    tus = root.findall("body/tu")
    assert len(tus) == 6
    tsv = [r.split("\t") for r in sample_runs["tsv"][1].strip("\n").split("\n")]
    for tu, (ja, en) in zip(tus, tsv):
        segs = {tuv.get(XML_LANG): tuv.findtext("seg") for tuv in tu.findall("tuv")}
        assert segs == {"ja-JP": ja, "en-US": en}


def test_export_converts_json_to_tsv(sample_runs, tmp_path):
    code, stdout, stderr = cli("export", sample_runs["json_path"])
    assert code == 0, stderr
    assert stdout == sample_runs["tsv"][1]
    out = tmp_path / "pairs.tsv"
    code, _, stderr = cli("export", sample_runs["json_path"], "-o", out, "--header", "--score")
    assert code == 0, stderr
    lines = out.read_text(encoding="utf-8").split("\n")
    assert lines[0] == "ja\ten\tscore\tstatus" and len(lines) == 1 + 6 + 1
    assert all(len(line.split("\t")) == 4 for line in lines[1:-1])


@pytest.mark.parametrize("args, why", [
    (["--confirmed-only"], "none is confirmed, and --confirmed-only keeps only those"),
    (["--no-headlines", "--format", "tmx"], "headline pairs are left out with --no-headlines")])
def test_an_export_with_nothing_to_write_leaves_the_output_as_it_was(sample_runs, tmp_path, args, why):
    out = tmp_path / "pairs.tsv"
    out.write_text("yesterday's reviewed pairs\n", encoding="utf-8")
    assert_clean_error(*cli("export", sample_runs["json_path"], "-o", out, *args),
                       f"{out}: not written, no pair to write ({why})")
    assert out.read_text(encoding="utf-8") == "yesterday's reviewed pairs\n"
    # to standard output: nothing, and a failure the script behind the pipe can see
    code, stdout, stderr = cli("export", sample_runs["json_path"], *args)
    assert (code, stdout) == (2, "")
    assert stderr == f"taiyaku: standard output: not written, no pair to write ({why})\n"


def test_a_new_alignment_has_no_confirmed_pairs_to_keep(tmp_path):
    assert_clean_error(*cli("align", SAMPLE, "--confirmed-only", "-o", tmp_path / "a.tmx"),
                       "--confirmed-only: a new alignment has no confirmed pairs")
    assert not (tmp_path / "a.tmx").exists()


def test_an_empty_output_name_is_refused(sample_runs, tmp_path):
    for args in (("export", sample_runs["json_path"]), ("corpus", tmp_path, tmp_path)):
        assert_clean_error(*cli(*args, "-o", ""), "-o '': an empty name")
    assert_clean_error(*cli("evaluate", tmp_path, "--hyp-out", ""), "--hyp-out '': an empty name")


def test_progress_bar_only_for_slow_work(capsys, monkeypatch):
    from align.progress import ProgressBar
    monkeypatch.setenv("TAIYAKU_PROGRESS_DELAY", "3600")
    assert ProgressBar().delay == 3600
    monkeypatch.delenv("TAIYAKU_PROGRESS_DELAY")
    assert ProgressBar().delay == 2.0
    with ProgressBar(delay=3600) as bar:             # within the delay: silent
        for done in (0, 20, 46):
            bar("embedding", done, 46)
        bar("aligning", 5, 5)
    assert capsys.readouterr().err == ""
    with ProgressBar(delay=0) as bar:                # standard error is no terminal here: silent
        bar("embedding", 10, 46)
    assert capsys.readouterr().err == ""

    class Terminal(io.StringIO):
        def isatty(self):
            return True
    monkeypatch.setattr(sys, "stderr", Terminal())
    with ProgressBar(delay=0) as bar:
        bar("embedding", 10, 46)
        bar("aligning", 2, 5)
    err = sys.stderr.getvalue()
    assert "embedding" in err and "/46" in err and "aligning" in err


# -- bad input ----------------------------------------------------------------------------

JA_TEXT = "米国はウクライナに安全の保証を提示した。ロシアはまだコメントしていない。\n"


def _bad_input(kind, folder):
    """(arguments, words the message must hold) for one kind of bad input."""
    if kind == "empty":
        path = folder / "empty.txt"
        path.write_bytes(b"")
        return [path], [str(path), "empty"]
    if kind == "png":
        path = folder / "photo.txt"
        path.write_bytes(PNG)
        return [path], [str(path), "PNG"]
    if kind == "missing":
        path = folder / "nowhere.txt"
        return [path], [str(path), "no such file"]
    if kind == "two-japanese":
        a, b = folder / "a.txt", folder / "b.txt"
        a.write_text(JA_TEXT, encoding="utf-8")
        b.write_text(JA_TEXT, encoding="utf-8")
        return [a, b], ["both texts look Japanese"]
    raise AssertionError(kind)


@pytest.mark.parametrize("existing", [False, True], ids=["new-output", "existing-output"])
@pytest.mark.parametrize("kind", ["empty", "png", "missing", "two-japanese"])
def test_bad_input_exits_2_with_one_line_and_no_output(tmp_path, kind, existing):
    args, words = _bad_input(kind, tmp_path)
    out = tmp_path / "result.json"
    if existing:
        out.write_text("keep me", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    assert_clean_error(*cli("align", *args, "-o", out), *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == before      # no temporary file left
    if existing:
        assert out.read_text(encoding="utf-8") == "keep me"
    else:
        assert not out.exists()


def test_bad_input_without_output_option(tmp_path):
    args, words = _bad_input("png", tmp_path)
    assert_clean_error(*cli("align", *args), *words)


def test_evaluate_needs_a_folder(tmp_path):
    assert_clean_error(*cli("evaluate", tmp_path / "none"), "not a folder")


@pytest.mark.parametrize("layout", ["no-gold", "gold-alone"])
def test_evaluate_on_a_folder_that_is_not_a_benchmark(tmp_path, layout):
    if layout == "gold-alone":
        (tmp_path / "doc.gold").write_text("[0]:[0]\n", encoding="utf-8")
        (tmp_path / "doc.ja").write_text("東京は晴れ。\n", encoding="utf-8")
    else:
        (tmp_path / "notes.txt").write_text("nothing here\n", encoding="utf-8")
    assert_clean_error(*cli("evaluate", tmp_path))


def test_output_into_a_missing_folder(tmp_path):
    src = tmp_path / "in.json"
    src.write_text(Alignment((), (), ()).dumps(), encoding="utf-8")
    assert_clean_error(*cli("export", src, "-o", tmp_path / "no" / "out.json"), "no")


# -- evaluate ----------------------------------------------------------------------------

def _doc_sizes(folder):
    return {p.stem: (len(p.read_text(encoding="utf-8").splitlines()),
                     len(p.with_suffix(".en").read_text(encoding="utf-8").splitlines()))
            for p in folder.glob("*.ja")}


@pytest.fixture(scope="module")
def evaluations(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval")
    runs = cli_parallel(("evaluate", BENCH, "--hyp-out", out / "clean"),
                        ("evaluate", BENCH, "--noise", "0.2", "--seed", "1", "--hyp-out", out / "a"),
                        ("evaluate", BENCH, "--noise", "0.2", "--seed", "1", "--hyp-out", out / "b"))
    return dict(zip(["clean", "a", "b"], runs)), out


def _summary(run):
    code, stdout, stderr = run
    assert code == 0, stderr
    lines = stdout.strip("\n").split("\n")
    return lines, json.loads(lines[-1])


def test_evaluate_prints_a_table_and_a_json_summary(evaluations):
    runs, out = evaluations
    lines, summary = _summary(runs["clean"])
    assert {"strict_f1", "lax_f1", "strict_precision", "lax_recall"} <= set(summary)
    assert summary["documents"] == 3 and summary["beads"] == 16
    assert summary["signature"]["model"] == "use-m3" and summary["signature"]["noise"] == 0.0
    assert {"skip", "unlikely_share", "encoder_chunk_size"} <= set(summary["signature"]["params"])
    f1_row = next(line for line in lines if line.startswith("F1"))
    assert [float(x) for x in f1_row.split()[1:]] == pytest.approx(
        [summary["strict_f1"], summary["lax_f1"]], abs=1e-4)
    # clean, plainly translated sentences: the aligner gets (nearly) all of them
    assert summary["strict_f1"] >= 0.8 and summary["lax_f1"] >= 0.9


def test_evaluate_writes_hypotheses_in_the_gold_format(evaluations):
    runs, out = evaluations
    sizes = _doc_sizes(BENCH)
    files = sorted(p.name for p in (out / "clean").iterdir())
    assert files == [f"{d}.{x}" for d in ("car", "frog", "rain") for x in ("align", "json")]
    for doc, (n, m) in sizes.items():
        text = (out / "clean" / f"{doc}.align").read_text(encoding="utf-8")
        beads = parse_beads(text)
        assert_partition(beads, n, m)
        assert all(line.count(":") == 1 and line.startswith("[") for line in text.splitlines())
    car = parse_beads((out / "clean" / "car.align").read_text(encoding="utf-8"))
    assert ((1, 2), (1,)) in car                  # the fixture's 2-1 bead is found


def test_evaluate_with_noise_is_deterministic(evaluations):
    runs, out = evaluations
    _, a = _summary(runs["a"])
    _, b = _summary(runs["b"])
    a.pop("seconds"), b.pop("seconds")
    assert a == b
    assert a["signature"]["noise"] == 0.2 and a["signature"]["seed"] == 1
    for doc, (n, m) in _doc_sizes(BENCH).items():
        first = (out / "a" / f"{doc}.align").read_text(encoding="utf-8")
        assert first == (out / "b" / f"{doc}.align").read_text(encoding="utf-8")
        # a fifth of each side deleted (rounded) before aligning
        assert_partition(parse_beads(first), n - round(0.2 * n), m - round(0.2 * m))


# -- hostile input and output paths (in process: quick) ---------------------------------

from align.__main__ import main  # noqa: E402
from align.pipeline import MAX_SEGMENTS_A_SIDE  # noqa: E402

PAIRS_JSON = json.dumps({"ja": ["一つ目。", "=SUM(A1)"], "en": ["One.", "+cmd|' /C calc'!A0"],
                         "pairs": [{"ja": [0], "en": [0], "score": 0.9},
                                   {"ja": [1], "en": [1], "score": 0.5}]}, ensure_ascii=False)


def run_main(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys, *args):
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == "", err
    assert len(err.strip("\n").split("\n")) == 1 and err.startswith("taiyaku: "), err
    return err.strip("\n")


@pytest.fixture
def pairs_json(tmp_path):
    path = tmp_path / "pairs.json"
    path.write_text(PAIRS_JSON, encoding="utf-8")
    return path


def test_an_output_named_as_a_folder_is_refused_not_written_as_a_file(capsys, tmp_path, pairs_json):
    assert "is a folder" in one_line_error(capsys, "export", pairs_json, "-o", f"{tmp_path}/newdir/",
                                           "--format", "tsv")
    assert not (tmp_path / "newdir").exists()


def test_output_equal_to_an_input_is_refused(capsys, tmp_path, pairs_json):
    before = pairs_json.read_bytes()
    err = one_line_error(capsys, "export", pairs_json, "-o", pairs_json, "--format", "tsv")
    assert "is the input" in err
    link = tmp_path / "link.json"
    link.symlink_to(pairs_json)
    assert "is the input" in one_line_error(capsys, "export", pairs_json, "-o", link,
                                            "--format", "json")
    assert pairs_json.read_bytes() == before


def test_output_writes_through_a_symlink_and_keeps_the_mode(capsys, tmp_path, pairs_json):
    target = tmp_path / "real.tsv"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.tsv"
    link.symlink_to(target)
    assert run_main(capsys, "export", pairs_json, "-o", link)[0] == 0
    assert link.is_symlink() and target.read_text(encoding="utf-8").startswith("一つ目。\tOne.")
    assert oct(target.stat().st_mode & 0o777) == oct(0o640)


def test_an_output_that_is_a_symlink_loop_is_one_line(capsys, tmp_path, pairs_json):
    (tmp_path / "a.tsv").symlink_to(tmp_path / "b.tsv")
    (tmp_path / "b.tsv").symlink_to(tmp_path / "a.tsv")
    err = one_line_error(capsys, "export", pairs_json, "-o", tmp_path / "a.tsv")
    assert err == f"taiyaku: {tmp_path / 'a.tsv'}: Too many levels of symbolic links"


def test_output_to_a_fifo_or_device_is_written_not_replaced(capsys, tmp_path, pairs_json):
    import threading
    fifo = tmp_path / "out.tsv"
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    assert run_main(capsys, "export", pairs_json, "-o", fifo)[0] == 0
    reader.join(timeout=30)
    assert got and got[0].startswith("一つ目。".encode()) and fifo.is_fifo()
    assert run_main(capsys, "export", pairs_json, "-o", "/dev/null", "--format", "tsv")[0] == 0
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_an_unwritable_output_is_named_not_its_temporary(capsys, pairs_json):
    # /proc takes no new files, not even from root
    err = one_line_error(capsys, "export", pairs_json, "-o", "/proc/taiyaku-out.tsv")
    assert err.startswith("taiyaku: /proc/taiyaku-out.tsv: ") and ".tmp" not in err


def test_write_errors_name_the_output(tmp_path, monkeypatch):
    from align import export
    monkeypatch.setattr(export.os, "fsync", lambda fd: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError) as info:
        export.write_bytes(tmp_path / "out.tsv", b"x")
    assert info.value.filename == str(tmp_path / "out.tsv")
    assert not list(tmp_path.iterdir())  # the temporary file is gone
    with pytest.raises(OSError) as info:  # the corpus's outputs, written as they are made, two at once
        with export.replacing(tmp_path / "corpus.tmx") as tmx, export.replacing(tmp_path / "corpus.tsv") as tsv:
            tmx.write(b"x")
            tsv.write(b"x")
    assert info.value.filename == str(tmp_path / "corpus.tsv") and not list(tmp_path.iterdir())  # the one that failed


@pytest.mark.parametrize("bad", ["ja\x1b[31m", "", "x" * 100, "ja JP", "../x"])
def test_language_codes_are_checked(capsys, pairs_json, bad):
    err = one_line_error(capsys, "export", pairs_json, "--format", "tmx", "--src-lang", bad)
    assert "not a language code" in err and "\x1b" not in err


def test_a_posix_locale_language_code_is_written_as_bcp_47(capsys, pairs_json):
    code, out, _ = run_main(capsys, "export", pairs_json, "--format", "tmx", "--src-lang", "ja_JP")
    assert code == 0 and 'xml:lang="ja-JP"' in out and "ja_JP" not in out


def test_a_read_only_output_is_not_replaced(capsys, tmp_path, pairs_json):
    kept = tmp_path / "kept.tsv"
    kept.write_text("reviewed\n", encoding="utf-8")
    kept.chmod(0o444)
    err = one_line_error(capsys, "export", pairs_json, "-o", kept)
    assert err.endswith("kept.tsv: is read-only; not replaced (make it writable, or give another name)")
    assert kept.read_text(encoding="utf-8") == "reviewed\n"


def test_ansi_escapes_never_reach_the_terminal(capsys, tmp_path):
    bad = tmp_path / "\x1b[2J\x1b[31mevil.json"
    bad.write_bytes(b"{oops")
    err = one_line_error(capsys, "export", bad)
    assert "\x1b" not in err and "\\x1b[2J" in err


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_input_is_refused_at_once(capsys, path):
    assert "not a regular file" in one_line_error(capsys, "align", path, path)


@pytest.mark.parametrize("presegmented", [True, False])
def test_input_has_a_segment_cap(capsys, tmp_path, monkeypatch, presegmented):
    from align import pipeline

    def slow(*args, **kwargs):
        raise AssertionError("the model loaded for an input that is refused")
    monkeypatch.setattr(pipeline, "load_encoder", slow)
    many = tmp_path / "many.en"
    many.write_text("A line.\n" * (MAX_SEGMENTS_A_SIDE + 1))
    few = tmp_path / "few.ja"
    few.write_text("一行です。\n" * 10)
    err = one_line_error(capsys, "align", few, many, *["--presegmented"] * presegmented)
    assert f"the English side has {MAX_SEGMENTS_A_SIDE + 1:,} segments" in err
    assert f"at most {MAX_SEGMENTS_A_SIDE:,} segments a side" in err


def test_evaluate_bad_files_give_one_line(capsys, tmp_path):
    (tmp_path / "d.ja").write_bytes(b"\xff\xfe\x00bad")
    (tmp_path / "d.en").write_text("One.\n")
    (tmp_path / "d.gold").write_text("[0]:[0]\n")
    assert "not UTF-8" in one_line_error(capsys, "evaluate", tmp_path)
    (tmp_path / "d.ja").write_text("一。\n")
    (tmp_path / "d.gold").write_text("[" * 100_000 + "\n")
    assert "not a bead" in one_line_error(capsys, "evaluate", tmp_path)
    (tmp_path / "d.en").write_text("A line.\n" * (MAX_SEGMENTS_A_SIDE + 1))  # refused by the aligner: named
    (tmp_path / "d.gold").write_text("[0]:[0]\n")
    assert f"{tmp_path / 'd'}: the English side has" in one_line_error(capsys, "evaluate", tmp_path)


def test_xlsx_refuses_a_cell_excel_would_cut_and_drops_what_it_cannot_hold(capsys, tmp_path):
    from align import export
    from align.model import Pair, Segment
    al = Alignment((Segment("長" * 40_000),), (Segment("Long."),), (Pair((0,), (0,), 0.5),))
    with pytest.raises(export.InputError, match="32,767"):
        export.to_xlsx(al)
    src = tmp_path / "odd.json"
    src.write_text(json.dumps({"ja": ["a\ufffeb\uffff"], "en": ["c"],
                               "pairs": [{"ja": [0], "en": [0]}]}))
    code, _, err = run_main(capsys, "export", src, "-o", tmp_path / "odd.xlsx")
    assert code == 0 and "2 character(s) that XLSX cannot hold" in err
    from openpyxl import load_workbook
    assert load_workbook(tmp_path / "odd.xlsx").active["A2"].value == "ab"
    big = tmp_path / "big.json"
    big.write_text(json.dumps(al.to_json()))
    assert "32,767" in one_line_error(capsys, "export", big, "-o", tmp_path / "big.xlsx")
    assert not (tmp_path / "big.xlsx").exists()


def test_an_export_of_a_file_with_english_on_both_sides_warns(capsys, tmp_path):
    both = tmp_path / "both.tsv"
    both.write_text("Hello there.\tHi.\nGood morning.\tMorning.\n", encoding="utf-8")
    code, out, err = run_main(capsys, "export", both)
    assert code == 0 and out.startswith("Hello there.\tHi.")  # what was asked, converted as it is
    assert err == (f"taiyaku: warning: {both}: the Japanese side holds Latin-script text, not Japanese "
                   "(English on both sides, or a wrong encoding declared?)\n")


def test_excel_safe_tsv(capsys, pairs_json):
    code, out, _ = run_main(capsys, "export", pairs_json, "--excel-safe")
    assert code == 0
    assert out.split("\n")[1] == "'=SUM(A1)\t'+cmd|' /C calc'!A0"
    assert run_main(capsys, "export", pairs_json)[1].split("\n")[1].startswith("=SUM")


def test_a_terminal_gets_escapes_shown_not_run(capsys, tmp_path, monkeypatch):
    src = tmp_path / "esc.json"
    # ESC and BEL are no text a TSV keeps; a C1 control (CSI, U+009B) is, and a terminal runs it
    src.write_text(json.dumps({"ja": ["赤\x9b31m字"], "en": ["red\x1b]0;title\x07"],
                               "pairs": [{"ja": [0], "en": [0]}]}))
    import io

    class Terminal(io.TextIOWrapper):
        def isatty(self):
            return True

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", Terminal(raw, encoding="utf-8"))
    assert main(["export", str(src)]) == 0
    assert raw.getvalue().decode() == "赤\\x9b31m字\tred]0;title\n"
    raw2 = tmp_path / "piped.tsv"  # a file or a pipe gets the text as it is
    assert main(["export", str(src), "-o", str(raw2)]) == 0
    assert raw2.read_text(encoding="utf-8") == "赤\x9b31m字\tred]0;title\n"


def test_ctrl_c_while_modules_load_ends_with_one_line():
    # the interrupt lands as the command line's first module loads (argparse): one line, 130
    script = ("import builtins, runpy, sys\n"
              "load = builtins.__import__\n"
              "def interrupted(name, *args, **kwargs):\n"
              "    if name == 'argparse':\n"
              "        raise KeyboardInterrupt\n"
              "    return load(name, *args, **kwargs)\n"
              "builtins.__import__ = interrupted\n"
              "sys.argv = ['taiyaku', 'export', 'nowhere.json']\n"
              "runpy.run_module('align', run_name='__main__')\n")
    run = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True,
                         timeout=120, env=_env())
    assert run.returncode == 130, run.stderr
    assert run.stderr.decode() == "taiyaku: interrupted\n"


@pytest.fixture
def unwritable_folder(tmp_path):
    """A folder no file can be created in, for root too (immutable) or else by mode."""
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:
        if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode:
            pytest.skip("root without chattr +i: no folder is unwritable")
        yield folder
        subprocess.run(["chattr", "-i", str(folder)])
    else:
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)


def test_an_unwritable_output_folder_is_refused_before_the_slow_part(capsys, tmp_path,
                                                                      unwritable_folder, monkeypatch):
    from align import pipeline

    def slow(*args, **kwargs):
        raise AssertionError("aligned before the output was checked")
    monkeypatch.setattr(pipeline, "align_texts", slow)
    (tmp_path / "a.txt").write_text("東京は晴れです。\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("It is sunny in Tokyo.\n", encoding="utf-8")
    err = one_line_error(capsys, "align", tmp_path / "a.txt", tmp_path / "b.txt",
                         "-o", unwritable_folder / "out.tsv")
    assert "cannot write there" in err and str(unwritable_folder) in err
    assert not list(unwritable_folder.iterdir())


def test_evaluate_refuses_hypotheses_into_the_benchmark_folder(capsys, tmp_path):
    import shutil
    bench = tmp_path / "bench"
    shutil.copytree(BENCH, bench)
    before = sorted(p.name for p in bench.iterdir())
    assert "is the benchmark folder" in one_line_error(capsys, "evaluate", bench,
                                                       "--hyp-out", f"{bench}/.")
    assert sorted(p.name for p in bench.iterdir()) == before
    # a file given as the folder: the output is at fault, not the benchmark
    err = one_line_error(capsys, "evaluate", bench, "--hyp-out", bench / "car.gold")
    assert "--hyp-out" in err and "is a file, not a folder" in err and "not a benchmark folder" not in err


def test_a_closed_or_full_standard_output_gives_one_line(tmp_path):
    src = tmp_path / "in.tsv"
    src.write_text("一\tone\n", encoding="utf-8")
    closed = subprocess.run(_command("export", src), cwd=REPO, capture_output=False, timeout=120,
                            env=_env(), stderr=subprocess.PIPE, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    assert closed.stderr.decode() == "taiyaku: standard output is closed: give an output file with -o\n"
    if not os.path.exists("/dev/full"):
        return
    with open("/dev/full", "wb") as full:
        run = subprocess.run(_command("export", src), cwd=REPO, stdout=full, stderr=subprocess.PIPE,
                             timeout=120, env=_env())
    assert run.returncode == 2
    assert run.stderr.decode() == "taiyaku: standard output: No space left on device\n"


def test_evaluate_with_noise_that_would_empty_a_document_leaves_it_a_sentence(capsys, tmp_path):
    (tmp_path / "d.ja").write_text("東京は晴れ。\n大阪は雨。\n", encoding="utf-8")
    (tmp_path / "d.en").write_text("Sunny in Tokyo.\nRain in Osaka.\n", encoding="utf-8")
    (tmp_path / "d.gold").write_text("[0]:[0]\n[1]:[1]\n", encoding="utf-8")
    # 0.9 of two sentences rounds to both: a side left with nothing could not be aligned
    assert main(["evaluate", str(tmp_path), "--noise", "0.9", "--hyp-out", str(tmp_path / "hyp")]) == 0
    aligned = Alignment.loads((tmp_path / "hyp/d.json").read_text(encoding="utf-8"))
    assert len(aligned.ja) == len(aligned.en) == 1


@pytest.mark.parametrize("second", ["北京是中国的首都。上海在东边。", "서울은 한국의 수도입니다. 부산은 남쪽에 있습니다."])
def test_a_second_text_in_neither_english_nor_latin_letters_is_refused(capsys, tmp_path, second):
    (tmp_path / "ja.txt").write_text("東京は日本の首都です。大阪は西にあります。", encoding="utf-8")
    (tmp_path / "other.txt").write_text(second, encoding="utf-8")
    assert "the second text does not look English" in one_line_error(
        capsys, "align", tmp_path / "ja.txt", tmp_path / "other.txt", "-o", tmp_path / "out.tsv")
    assert not (tmp_path / "out.tsv").exists()
    from align.pipeline import _check_languages  # Latin letters pass: German, French
    _check_languages("東京は日本の首都です。", "Tokio ist die Hauptstadt Japans.", "ja", "en")


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_app_refuses_a_port_out_of_range(capsys, port):
    assert f"--port {port}: give a port from 1 to 65535" in one_line_error(capsys, "app", "--port", port)


def test_ctrl_c_while_the_output_is_written_keeps_the_old_file(capsys, tmp_path, pairs_json, monkeypatch):
    out = tmp_path / "out.tsv"
    out.write_text("keep me", encoding="utf-8")

    def interrupted(fd):
        raise KeyboardInterrupt
    monkeypatch.setattr(export.os, "fsync", interrupted)  # mid-write, the temporary file open
    code, stdout, err = run_main(capsys, "export", pairs_json, "-o", out)
    assert (code, stdout, err) == (130, "", "taiyaku: interrupted\n")
    assert out.read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.tsv", "pairs.json"]


@pytest.mark.parametrize("signame, code, said", [("SIGINT", 130, "interrupted"), ("SIGTERM", 143, "terminated")])
def test_ctrl_c_or_kill_while_aligning_ends_with_one_line_and_no_output(tmp_path, signame, code, said):
    import signal
    ja, en = tmp_path / "ja.txt", tmp_path / "en.txt"
    ja.write_text("東京は日本の首都です。人口はとても多いです。\n" * 400, encoding="utf-8")
    en.write_text("Tokyo is the capital of Japan. Its population is very large.\n" * 400, encoding="utf-8")
    out = tmp_path / "out.json"
    terminal, stderr = pty.openpty()  # bars are drawn on a terminal only (one with columns)
    fcntl.ioctl(stderr, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(_command("align", ja, en, "-o", out), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=stderr, env={**_env(), "TAIYAKU_PROGRESS_DELAY": "0"},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    os.close(stderr)
    seen = b""
    while b"embedding" not in seen:  # the progress bar: the slow part has begun
        chunk = os.read(terminal, 4096)
        assert chunk, seen
        seen += chunk
    proc.send_signal(getattr(signal, signame))
    stdout, _ = proc.communicate(timeout=120)
    while True:  # the rest of standard error, until the child's end closes the terminal
        try:
            chunk = os.read(terminal, 4096)
        except OSError:  # EIO: no writer left
            break
        if not chunk:
            break
        seen += chunk
    os.close(terminal)
    err = seen.decode()
    assert proc.returncode == code and stdout == b"", err
    assert "Traceback" not in err and err.rstrip().endswith(f"taiyaku: {said}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["en.txt", "ja.txt"]


def test_an_article_of_only_its_headline_line_says_so(capsys, tmp_path):
    only = tmp_path / "only.txt"
    only.write_text("原題：US Offers Ukraine Security Guarantee\n\n(c)2025 Bloomberg L.P.\n", encoding="utf-8")
    assert "原題: headlines but no body sentences" in one_line_error(capsys, "align", only)


def test_headline_mode_chosen_for_two_files_is_said(capsys, tmp_path, use_encoder):
    # a few short English lines against many Japanese sentences: headlines, unless told otherwise
    (tmp_path / "a.ja").write_text("".join(f"これは{i}番目の文です。\n" for i in range(10)), encoding="utf-8")
    (tmp_path / "a.en").write_text("First line.\nSecond line.\nThird line.\n", encoding="utf-8")
    code, _, err = run_main(capsys, "align", tmp_path / "a.ja", tmp_path / "a.en", "--presegmented",
                            "-o", tmp_path / "a.json")
    assert code == 0 and "note: aligned as headlines" in err and "--mode document" in err
    code, _, err = run_main(capsys, "align", tmp_path / "a.ja", tmp_path / "a.en", "--presegmented",
                            "--mode", "document", "-o", tmp_path / "b.json")
    assert code == 0 and "note" not in err
