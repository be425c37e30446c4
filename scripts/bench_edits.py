"""Time each review operation on a 500-pair alignment, alone and with the
store saving it (SQLite on a temporary file, WAL, synchronous=FULL).

    python scripts/bench_edits.py [--pairs 500] [--reps 30]
    python scripts/bench_edits.py --scale 200,200000 [--reps 10]
    python scripts/bench_edits.py --rescore [--reps 30]

Prints median and max milliseconds per operation, then one JSON line. ``--scale``
prints what one click (a confirm, a text edit, a merge) costs on projects of two sizes
side by side: milliseconds to save it, to undo and redo it, and the bytes it adds.
``--rescore`` times giving the pair a merge makes a real confidence with the bundled
encoder (``align.rescoring``): the neighbourhood's first time, again with the cache
warm, and the merge saved with its rescoring.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
import zlib
from pathlib import Path


from align import edits, rescoring  # noqa: E402
from align.encoders import load_encoder  # noqa: E402
from align.model import Alignment, Pair, Segment  # noqa: E402
from align.store import Store  # noqa: E402

DATA = Path(__file__).resolve().parents[1] / "data" / "ukraine_talks_bloomberg_ja.txt"
WORDS = ("the talks in Berlin continued on Monday as negotiators from Kyiv and Washington sought "
         "a framework for security guarantees that officials said could resemble NATO's collective "
         "defence clause while territorial questions remain unresolved after weeks of pressure").split()


def _ja_sentences() -> list[str]:
    text = DATA.read_text(encoding="utf-8").replace("\n", "")
    return [s + "。" for s in text.split("。") if s.strip()]


def _segments(texts: list[str], sep: int) -> tuple[Segment, ...]:
    out, pos = [], 0
    for t in texts:
        out.append(Segment(t, pos, pos + len(t)))
        pos += len(t) + sep
    return tuple(out)


def build_document(n_pairs: int, rnd: random.Random) -> Alignment:
    """~100-character segments, mostly 1-1 with some 2-1 and 1-2 beads."""
    base = _ja_sentences()
    ja, en, pairs = [], [], []
    for k in range(n_pairs):
        nj, ne = rnd.choice([(1, 1)] * 6 + [(2, 1), (1, 2)])
        ja_ids = tuple(range(len(ja), len(ja) + nj))
        en_ids = tuple(range(len(en), len(en) + ne))
        for _ in range(nj):  # two source sentences per segment reach ~100 characters
            ja.append(rnd.choice(base)[:60] + rnd.choice(base)[:40] + f"（{k}）")
        for _ in range(ne):
            words = [rnd.choice(WORDS) for _ in range(16)]
            en.append(" ".join(words).capitalize() + f" ({k}).")
        pairs.append(Pair(ja_ids, en_ids, round(rnd.random(), 4)))
    return Alignment(_segments(ja, 0), _segments(en, 1), tuple(pairs))


def build_headlines(n_sentences: int, n_headlines: int, rnd: random.Random) -> Alignment:
    doc = build_document(n_sentences, rnd)
    en = tuple(Segment(f"HEADLINE {h}: " + " ".join(rnd.choice(WORDS) for _ in range(8)).upper())
               for h in range(n_headlines))
    pairs = tuple(Pair((rnd.randrange(len(doc.ja)),), (h,), 0.5) for h in range(n_headlines))
    return Alignment(doc.ja, en, pairs, mode="headlines")


def cases(al: Alignment, rnd: random.Random) -> dict:
    """op name -> function drawing valid arguments for ``al``."""
    n = len(al.pairs)
    kinds = lambda *ks: [k for k, p in enumerate(al.pairs) if p.kind in ks]  # noqa: E731

    def split_at(seg_id):
        text = al.en[seg_id].text
        return text.index(" ", len(text) // 2)

    en_id = lambda: rnd.randrange(len(al.en))  # noqa: E731
    return {
        "merge_next": lambda: (rnd.randrange(n - 1),),
        "merge_prev": lambda: (rnd.randrange(1, n),),
        "split_pair": lambda: (rnd.choice(kinds("2-1", "1-2")),),
        "split_segment": lambda: ("en", i := en_id(), split_at(i)),
        "shift": lambda: (rnd.randrange(1, n), rnd.choice(["ja", "en"]), "up"),
        "insert_empty": lambda: (rnd.choice(kinds("1-1")), "ja"),
        "delete_pair": lambda: (rnd.choice(kinds("1-1", "2-1")),),
        "edit_text": lambda: ("ja", i := rnd.randrange(len(al.ja)), al.ja[i].text + "（改）"),
        "confirm": lambda: (rnd.randrange(n),),
        "confirm_through": lambda: (rnd.randrange(n),),
    }


def ms(seconds: list[float]) -> dict:
    return {"median_ms": round(statistics.median(seconds) * 1e3, 2), "max_ms": round(max(seconds) * 1e3, 2)}


def bench(al: Alignment, calls: dict, store: Store, reps: int, timings: dict) -> None:
    project = store.open_project(store.create_project("bench", al))
    for name, draw in calls.items():
        for _ in range(reps):
            args = draw()
            t0 = time.perf_counter()
            edits.OPS[name](project.current, *args)
            t1 = time.perf_counter()
            project.apply(name, *args)
            t2 = time.perf_counter()
            project.undo()
            t3 = time.perf_counter()
            project.redo()
            t4 = time.perf_counter()
            project.undo()  # back to the start, so every rep sees the same alignment
            for key, dt in (("op", t1 - t0), ("op+save", t2 - t1), ("undo", t3 - t2), ("redo", t4 - t3)):
                timings.setdefault(name, {}).setdefault(key, []).append(dt)


def click_costs(n_pairs: int, reps: int) -> dict:
    """Per op: median ms to apply and save, to undo, to redo; bytes one click adds."""
    rnd = random.Random(2)
    al = build_document(n_pairs, rnd)
    out: dict = {}
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "s.sqlite3") as store:
        project = store.open_project(store.create_project("scale", al))
        calls = {"confirm": lambda: (rnd.randrange(n_pairs),),
                 "edit_text": lambda: ("ja", i := rnd.randrange(len(al.ja)), al.ja[i].text + "（改）"),
                 "merge_next": lambda: (rnd.randrange(n_pairs - 1),)}
        for name, draw in calls.items():
            times: dict = {"save": [], "check": [], "undo": [], "redo": [], "bytes": []}
            for _ in range(reps):
                args = draw()
                c0 = time.perf_counter()  # the invariant check apply runs, timed alone
                edits.check_invariants(project.current)
                times["check"].append((time.perf_counter() - c0) * 1e3)
                t0 = time.perf_counter()
                project.apply(name, *args)
                t1 = time.perf_counter()
                project.undo()
                t2 = time.perf_counter()
                project.redo()
                t3 = time.perf_counter()
                row = store._con.execute(
                    "SELECT LENGTH(op) + LENGTH(delta) + COALESCE(LENGTH(snapshot), 0) "
                    "FROM history WHERE project_id = ? AND seq = ?",
                    (project.id, project.cursor)).fetchone()[0]
                project.undo()
                for key, value in (("save", t1 - t0), ("undo", t2 - t1), ("redo", t3 - t2)):
                    times[key].append(value * 1e3)
                times["bytes"].append(row)
            out[name] = {k: round(statistics.median(v), 2) for k, v in times.items()}
    return out


def scale(sizes: list[int], reps: int) -> None:
    results = {n: click_costs(n, reps) for n in sizes}
    head = "".join(f"{f'{n:,} pairs':>44}" for n in sizes)
    print(f"{'one click':<12}{head}")
    print(f"{'':<12}" + f"{'save (check) / undo / redo ms, bytes':>44}" * len(sizes))
    for name in results[sizes[0]]:
        cells = "".join(f"{r['save']:>10.1f} ({r['check']:>6.1f}) /{r['undo']:>6.1f} /{r['redo']:>6.1f}"
                        f" {r['bytes']:>8.0f}" for r in (results[n][name] for n in sizes))
        print(f"{name:<12}{cells}")
    print("save includes edits.check_invariants (check), which apply runs on the whole state")
    print(json.dumps({"reps": reps, "sizes": {str(n): results[n] for n in sizes}}))


def rescore_costs(n_pairs: int, reps: int) -> None:
    rnd = random.Random(3)
    al = build_document(n_pairs, rnd)
    al = Alignment(al.ja, al.en, al.pairs, meta={"model": "use-m3"})
    encoder = load_encoder()
    times: dict = {"first": [], "warm": [], "merge+rescore+save": [], "merge+save": []}
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "r.sqlite3") as store:
        project = store.open_project(store.create_project("rescore", al))
        for _ in range(reps):
            k = rnd.randrange(n_pairs - 1)
            new = edits.merge_next(project.current, k)
            ks = edits.changed_pairs(project.current, new)
            t0 = time.perf_counter()
            rescoring.rescored(new, ks, encoder)
            t1 = time.perf_counter()
            rescoring.rescored(new, ks, encoder)
            t2 = time.perf_counter()
            project.apply("merge_next", k, rescore=rescoring.rescore_edited)
            t3 = time.perf_counter()
            project.undo()
            t4 = time.perf_counter()
            project.apply("merge_next", k)
            t5 = time.perf_counter()
            project.undo()
            for key, dt in (("first", t1 - t0), ("warm", t2 - t1), ("merge+rescore+save", t3 - t2),
                            ("merge+save", t5 - t4)):
                times[key].append(dt)
    report = {k: ms(v) for k, v in times.items()}
    print(f"rescoring the pair a merge makes, {n_pairs} pairs, USE-m3, {reps} reps (median / max ms)")
    for k, v in report.items():
        print(f"{k:<20}{v['median_ms']:>9.2f} /{v['max_ms']:>8.2f}")
    print(json.dumps({"pairs": n_pairs, "reps": reps, "rescore": report}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--scale", help="two project sizes to compare, e.g. 200,200000")
    ap.add_argument("--rescore", action="store_true", help="time rescoring an edited pair")
    opts = ap.parse_args()
    if opts.rescore:
        rescore_costs(opts.pairs, opts.reps)
        return
    if opts.scale:
        scale([int(n) for n in opts.scale.split(",")], opts.reps)
        return
    rnd = random.Random(1)
    doc = build_document(opts.pairs, rnd)
    heads = build_headlines(opts.pairs, 20, rnd)
    timings: dict = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite3"
        with Store(path) as store:
            t0 = time.perf_counter()
            pid = store.create_project("size", doc)
            create_s = time.perf_counter() - t0
            bench(doc, cases(doc, rnd), store, opts.reps, timings)
            # Unconfirm needs a confirmed pair: start from a fully confirmed copy.
            confirmed = edits.confirm_through(doc, len(doc.pairs) - 1)
            any_pair = {"unconfirm": lambda: (rnd.randrange(len(doc.pairs)),)}
            bench(confirmed, any_pair, store, opts.reps, timings)
            n_heads = len(heads.pairs)
            bench(heads, {"relink": lambda: (rnd.randrange(n_heads), (rnd.randrange(len(heads.ja)),))},
                  store, opts.reps, timings)
            t0 = time.perf_counter()
            store.open_project(pid)
            open_s = time.perf_counter() - t0
            # What the original state costs on disk; later rows store only what changed.
            snap = store._con.execute("SELECT snapshot FROM history "
                                      "WHERE project_id = ? AND seq = 0", (pid,)).fetchone()[0]
            parts = json.loads(zlib.decompress(snap))
            size = [len(zlib.compress(json.dumps(parts[k], ensure_ascii=False,
                                                 separators=(",", ":")).encode(), 6))
                    for k in ("pairs", "ja", "en")]
    report = {name: {k: ms(v) for k, v in by.items()} for name, by in timings.items()}
    chars = [sum(len(s.text) for s in segs) // len(segs) for segs in (doc.ja, doc.en)]
    print(f"{len(doc.pairs)} pairs, {len(doc.ja)} ja + {len(doc.en)} en segments, "
          f"{chars[0]} / {chars[1]} characters a segment; {opts.reps} reps")
    print(f"{'op':<16}{'op alone':>18}{'op + save':>18}{'undo':>18}{'redo':>18}   (median / max ms)")
    for name, by in report.items():
        cells = "".join(f"{by[k]['median_ms']:>9.2f} /{by[k]['max_ms']:>7.2f}"
                        for k in ("op", "op+save", "undo", "redo"))
        print(f"{name:<16}{cells}")
    print(f"create project {create_s * 1e3:.1f} ms, open project {open_s * 1e3:.1f} ms; "
          f"stored state 0: pairs {size[0]} B, ja {size[1]} B, en {size[2]} B (zlib)")
    print(json.dumps({"pairs": len(doc.pairs), "reps": opts.reps, "ops": report,
                      "create_ms": round(create_s * 1e3, 1), "open_ms": round(open_s * 1e3, 1),
                      "state0_bytes": {"pairs": size[0], "ja": size[1], "en": size[2]}}))


if __name__ == "__main__":
    main()
