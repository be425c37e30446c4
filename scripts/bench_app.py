"""How fast the review app is to work in, on a 500-pair alignment.

    python scripts/bench_app.py [--pairs 500] [--reps 20]

1. Handling of each operation as the app does it in a button callback: the
   edit on the model, the save to SQLite (WAL, synchronous=FULL) and the
   cursor update. Budget: 100 ms.
2. A full rerun of the page (Streamlit's AppTest, the script run end to end,
   25 pairs a page), plain and after a click. Budget: 1 s.

Prints median and max milliseconds, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from align import review  # noqa: E402
from align.model import Alignment, Pair, Segment  # noqa: E402
from align.store import Store  # noqa: E402

OP_BUDGET_MS = 100
RERUN_BUDGET_MS = 1000
WORDS = ("the talks in Berlin continued on Monday as negotiators from Kyiv and Washington sought "
         "a framework for security guarantees that officials said could resemble NATO's collective "
         "defence clause while territorial questions remain unresolved after weeks of pressure").split()


def _ja_sentences() -> list[str]:
    text = (ROOT / "data" / "ukraine_talks_bloomberg_ja.txt").read_text(encoding="utf-8")
    return [s + "。" for s in text.replace("\n", "").split("。") if len(s) > 10]


def build(n_pairs: int, rnd: random.Random) -> Alignment:
    """~100-character segments; mostly 1-1, some 2-1 and 1-2; scores spread
    over green, amber and red."""
    base = _ja_sentences()
    ja: list[Segment] = []
    en: list[Segment] = []
    pairs = []
    for k in range(n_pairs):
        nj, ne = rnd.choice([(1, 1)] * 6 + [(2, 1), (1, 2)])
        ja_ids = tuple(range(len(ja), len(ja) + nj))
        en_ids = tuple(range(len(en), len(en) + ne))
        for _ in range(nj):
            ja.append(Segment(rnd.choice(base)[:60] + rnd.choice(base)[:40] + f"（{k}）"))
        for _ in range(ne):
            en.append(Segment(" ".join(rnd.choice(WORDS) for _ in range(16)).capitalize() + f" ({k})."))
        pairs.append(Pair(ja_ids, en_ids, round(rnd.random(), 4)))
    return Alignment(tuple(ja), tuple(en), tuple(pairs))


def ms(values: list[float]) -> dict:
    return {"median_ms": round(statistics.median(values) * 1e3, 1), "max_ms": round(max(values) * 1e3, 1)}


def bench_ops(store: Store, al: Alignment, reps: int, rnd: random.Random) -> dict:
    """Each op as app.do runs it: apply (edit + save), then the cursor."""
    project = store.open_project(store.create_project("bench ops", al))
    n = len(al.pairs)
    multi = [k for k, p in enumerate(al.pairs) if len(p.ja) + len(p.en) > 2]
    ones = [k for k, p in enumerate(al.pairs) if p.kind == "1-1"]

    def cut(seg_id: int) -> int:
        text = project.current.en[seg_id].text
        return text.index(" ", len(text) // 2)

    draws = {
        "confirm": lambda: (rnd.randrange(n),),
        "confirm_through": lambda: (rnd.randrange(n),),
        "merge_next": lambda: (rnd.randrange(n - 1),),
        "merge_prev": lambda: (rnd.randrange(1, n),),
        "split_pair": lambda: (rnd.choice(multi),),
        "shift": lambda: (rnd.randrange(1, n - 1), rnd.choice(["ja", "en"]), rnd.choice(["up", "down"])),
        "insert_empty": lambda: (rnd.choice(ones), rnd.choice(["ja", "en"])),
        "delete_pair": lambda: (rnd.choice(ones),),
        "edit_text": lambda: ("ja", i := rnd.randrange(len(al.ja)), al.ja[i].text + "（改）"),
        "split_segment": lambda: ("en", i := rnd.randrange(len(al.en)), cut(i)),
    }
    timings: dict[str, list[float]] = {}
    for op, draw in draws.items():
        for _ in range(reps):
            args = draw()
            t0 = time.perf_counter()
            new = project.apply(op, *args)
            shown = review.visible(new, "review")
            k = review.focus_of(new, op, args, 0)
            review.step(shown, k, +1)
            timings.setdefault(op, []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            project.undo()
            timings.setdefault("undo", []).append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            project.redo()
            timings.setdefault("redo", []).append(time.perf_counter() - t0)
            project.undo()
    return {op: ms(v) for op, v in timings.items()}


def bench_reruns(db: Path, pid: int, reps: int) -> dict:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["project"] = str(pid)
    at.run()
    assert not at.exception, at.exception
    out: dict[str, dict] = {}

    def timed(name: str, action) -> None:
        values = []
        for _ in range(reps):
            t0 = time.perf_counter()
            action()
            values.append(time.perf_counter() - t0)
            assert not at.exception, at.exception
        out[name] = ms(values)

    timed("rerun", lambda: at.run())
    timed("next pair (J)", lambda: at.button(key="nav_next").click().run())
    timed("confirm (A)", lambda: at.button(key="act_confirm").click().run())
    timed("merge next (M)", lambda: at.button(key="act_merge_next").click().run())
    timed("undo (Z)", lambda: at.button(key="act_undo").click().run())
    at.button(key="act_edit").click().run()
    timed("rerun, editor open", lambda: at.run())
    at.button(key="act_edit").click().run()
    at.segmented_control(key="filter").set_value("review").run()
    timed("rerun, needs-review filter", lambda: at.run())
    at.segmented_control(key="filter").set_value("all").run()
    at.selectbox(key="page_size").set_value(50).run()
    timed("rerun, 50 a page", lambda: at.run())
    at.selectbox(key="page_size").set_value(25).run()
    at.segmented_control(key="view").set_value("Export").run()
    timed("rerun, export view", lambda: at.run())
    t0 = time.perf_counter()
    at.segmented_control(key="view").set_value("Map").run()  # embeds ~1,000 segments once
    out["map, first (embedding)"] = ms([time.perf_counter() - t0])
    timed("rerun, map view", lambda: at.run())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--reps", type=int, default=20)
    opts = ap.parse_args()
    rnd = random.Random(7)
    al = build(opts.pairs, rnd)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite3"
        os.environ["TAIYAKU_DB"] = str(db)
        with Store(db) as store:
            ops = bench_ops(store, al, opts.reps, rnd)
            pid = store.create_project("bench page", al)
        reruns = bench_reruns(db, pid, max(3, opts.reps // 2))
    print(f"{opts.pairs}-pair alignment, {len(al.ja)} ja / {len(al.en)} en segments\n")
    print(f"Operation handling (edit + save + cursor), budget {OP_BUDGET_MS} ms")
    for op, t in ops.items():
        flag = "" if t["max_ms"] < OP_BUDGET_MS else "  OVER BUDGET"
        print(f"  {op:<16} median {t['median_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms{flag}")
    print(f"\nFull page rerun (AppTest), budget {RERUN_BUDGET_MS} ms")
    for name, t in reruns.items():
        flag = "" if t["max_ms"] < RERUN_BUDGET_MS or "first" in name else "  OVER BUDGET"
        print(f"  {name:<28} median {t['median_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms{flag}")
    worst_op = max(t["max_ms"] for t in ops.values())
    worst_rerun = max(t["max_ms"] for n, t in reruns.items() if "first" not in n)
    print(json.dumps({"pairs": opts.pairs, "ops": ops, "reruns": reruns, "worst_op_ms": worst_op,
                      "worst_rerun_ms": worst_rerun,
                      "ok": worst_op < OP_BUDGET_MS and worst_rerun < RERUN_BUDGET_MS}))


if __name__ == "__main__":
    main()
