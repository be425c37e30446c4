"""The command line as a user runs it: ``python -m align align|evaluate|export``
in a subprocess. Bad input: exit code 2, one line on standard error, no
traceback, and no output file touched."""

import json
import os
import subprocess
import sys

import pytest
from lxml import etree

from align.evaluate import parse_beads
from align.model import Alignment
from conftest import FIXTURES, REPO, SAMPLE, assert_partition

BENCH = FIXTURES / "bench_small"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02"


def _command(*args):
    return [sys.executable, "-m", "align", *map(str, args)]


def _env():
    return {**os.environ, "PYTHONPATH": str(REPO), "PYTHONIOENCODING": "utf-8"}


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
    tsv, js, tmx = cli_parallel(("align", SAMPLE), ("align", SAMPLE, "-o", json_path),
                                ("align", SAMPLE, "-o", tmx_path))
    return {"tsv": tsv, "json": js, "tmx": tmx, "json_path": json_path, "tmx_path": tmx_path}


def test_align_the_sample_prints_tsv(sample_runs):
    code, stdout, stderr = sample_runs["tsv"]
    assert code == 0, stderr
    assert stderr == ""                        # a quick run shows no progress bar
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
    # the same pairs as the TSV on standard output
    tsv = [r.split("\t") for r in sample_runs["tsv"][1].strip("\n").split("\n")]
    assert [[a, b] for a, b, _ in al.rows()] == tsv


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


def test_progress_bar_only_for_slow_work(capsys):
    from align.progress import ProgressBar
    with ProgressBar() as bar:                       # the default delay: quick work is silent
        for done in (0, 20, 46):
            bar("embedding", done, 46)
        bar("aligning", 5, 5)
    assert capsys.readouterr().err == ""
    with ProgressBar(delay=0) as bar:
        bar("embedding", 10, 46)
        bar("aligning", 2, 5)
    err = capsys.readouterr().err
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
