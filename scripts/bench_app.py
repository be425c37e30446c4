"""How fast the review app is to work in.

    python scripts/bench_app.py [--pairs 500] [--big 2000] [--reps 20] [--no-browser]

1. Operation handling in Python, as the grid's messages reach it
   (``align.grid.apply_ops``): the edit, the changed pairs' rescoring, the save to SQLite (WAL,
   synchronous=FULL) in one transaction with the tab's number, the
   acknowledgement. Budget: 100 ms.
2. In headless Chromium against ``streamlit run app.py``: key to visible
   change (the key handler's DOM update, and the next animation frame, which
   is when the browser paints it; budget 50 ms), operation to
   acknowledgement (sent to Python, applied, saved, and back in the grid;
   budget 200 ms) for confirm, merge/split, undo, 1-0, a crossing link and a
   text edit, and the first paint of a ``--big``-pair document.

Prints median and max milliseconds, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from align import grid, rescoring  # noqa: E402
from align.encoders import load_encoder  # noqa: E402
from align.model import Alignment, Pair, Segment  # noqa: E402
from align.store import Store  # noqa: E402

OP_BUDGET_MS = 100
KEY_BUDGET_MS = 50
ACK_BUDGET_MS = 200
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
    """Each op as a grid message: apply_ops (edit + save + acknowledgement)."""
    project = store.open_project(store.create_project("bench ops", al))
    load_encoder().encode([s.text for s in (*al.ja, *al.en)])  # the app's warm-up when a document opens
    n = len(al.pairs)
    multi = [k for k, p in enumerate(al.pairs) if len(p.ja) + len(p.en) > 2]
    ones = [k for k, p in enumerate(al.pairs) if p.kind == "1-1"]
    seq = 0

    def cut(seg_id: int) -> int:
        text = project.current.en[seg_id].text
        return text.index(" ", len(text) // 2)

    draws = {
        "confirm": lambda: (rnd.randrange(n),),
        "confirm_many": lambda: (list(range(0, rnd.randrange(n), 3)),),
        "merge_next": lambda: (rnd.randrange(n - 1),),
        "merge_prev": lambda: (rnd.randrange(1, n),),
        "split_pair": lambda: (rnd.choice(multi),),
        "shift": lambda: (rnd.randrange(1, n - 1), rnd.choice(["ja", "en"]), rnd.choice(["up", "down"])),
        "insert_empty": lambda: (rnd.choice(ones), rnd.choice(["ja", "en"])),
        "delete_pair": lambda: (rnd.choice(ones),),
        "link": lambda: ([rnd.randrange(len(al.ja))], [rnd.randrange(len(al.en))]),
        "edit_text": lambda: ("ja", i := rnd.randrange(len(al.ja)), al.ja[i].text + "（改）"),
        "split_segment": lambda: ("en", i := rnd.randrange(len(al.en)), cut(i)),
    }
    timings: dict[str, list[float]] = {}

    def message(op: str, args) -> float:
        nonlocal seq
        seq += 1
        t0 = time.perf_counter()
        ack = grid.apply_ops(project, "bench", [{"seq": seq, "op": op, "args": list(args)}],
                             rescore=rescoring.rescore_edited)  # as the app does
        elapsed = time.perf_counter() - t0
        return elapsed if ack.error is None else -1.0

    for op, draw in draws.items():
        for _ in range(reps):
            spent = message(op, draw())
            if spent < 0:
                continue  # a refused draw (a locked pair): not an operation
            timings.setdefault(op, []).append(spent)
            timings.setdefault("undo", []).append(message("undo", ()))
    return {op: ms([v for v in values if v >= 0]) for op, values in timings.items()}


def bench_browser(db: Path, pid: int, big_pid: int, reps: int) -> dict:
    """Key to visible change and operation to acknowledgement, in Chromium."""
    sys.path.insert(0, str(ROOT / "tests"))
    from test_e2e import CHROMIUM, CHROMIUM_ARGS, Server  # the tests' server helper
    from playwright.sync_api import sync_playwright

    server = Server(db, db.with_suffix(".log"))
    url = server.start()
    out: dict[str, dict] = {}
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"{url}/?project={pid}")
            page.wait_for_selector('[role="row"]')
            idle = "() => window.__taiyakuGrid.current.pending.length === 0"

            def keys(name: str, key: str | list[str], n: int, after=None, op: str | None = None) -> None:
                """``n`` times the key (or keys, in turn); ``op``: time only that operation's acks."""
                page.evaluate("window.__taiyakuGrid.keyLog = []; window.__taiyakuGrid.ackLog = []")
                for _ in range(n):
                    for k in [key] if isinstance(key, str) else key:
                        page.keyboard.press(k)
                        page.wait_for_function(idle)
                    if after:
                        after()
                log = page.evaluate("window.__taiyakuGrid.keyLog")
                page.wait_for_function("() => window.__taiyakuGrid.keyLog.every(e => e.frame !== undefined)")
                log = page.evaluate("window.__taiyakuGrid.keyLog")
                acks = [a for a in page.evaluate("window.__taiyakuGrid.ackLog") if op in (None, a["op"])]
                out[name] = {"key_to_dom": ms([e["dom"] / 1e3 for e in log]),
                             "key_to_frame": ms([e["frame"] / 1e3 for e in log])}
                if acks:
                    out[name]["op_to_ack"] = ms([a["ms"] / 1e3 for a in acks])

            keys("next pair (J)", "j", reps)
            keys("confirm (A)", "a", reps)
            keys("merge next (M)", "m", reps, after=lambda: page.keyboard.press("s"))
            keys("undo (Z)", "z", reps)
            keys("1-0 (I)", "i", reps, after=lambda: page.keyboard.press("k"))
            page.keyboard.press("End")  # unconfirmed pairs, away from the edits above
            # a crossing link: this pair's Japanese with the previous one's English, then undone
            keys("link ([ K ] L)", ["[", "k", "]", "l", "z"], reps, op="link")
            keys("text edit (E, Esc)", ["e", "End", "!", "Escape", "k"], reps, op="edit_text")
            t0 = time.perf_counter()
            page.goto(f"{url}/?project={big_pid}")
            page.wait_for_function("() => window.__taiyakuGrid && window.__taiyakuGrid.firstPaint")
            wall = time.perf_counter() - t0
            paint = page.evaluate("window.__taiyakuGrid.firstPaint") / 1e3
            out["first paint, big document"] = {"navigation_to_paint": ms([paint]), "wall": ms([wall])}
            keys("next pair (J), big document", "j", reps)
            browser.close()
    finally:
        server.kill9()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pairs", type=int, default=500)
    ap.add_argument("--big", type=int, default=2000, help="pairs of the document whose first paint is timed")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--no-browser", action="store_true", help="only the Python side")
    opts = ap.parse_args()
    rnd = random.Random(7)
    al = build(opts.pairs, rnd)
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "bench.sqlite3"
        with Store(db) as store:
            ops = bench_ops(store, al, opts.reps, rnd)
            pid = store.create_project("bench page", al)
            big_pid = store.create_project("big", build(opts.big, rnd))
        browser = {} if opts.no_browser else bench_browser(db, pid, big_pid, opts.reps)
    print(f"{opts.pairs}-pair alignment, {len(al.ja)} ja / {len(al.en)} en segments\n")
    print(f"Operation handling in Python (apply + save + ack), budget {OP_BUDGET_MS} ms")
    for op, t in ops.items():
        flag = "" if t["max_ms"] < OP_BUDGET_MS else "  OVER BUDGET"
        print(f"  {op:<16} median {t['median_ms']:7.1f} ms   max {t['max_ms']:7.1f} ms{flag}")
    if browser:
        print(f"\nIn Chromium: key to visible change (budget {KEY_BUDGET_MS} ms), "
              f"operation to acknowledgement (budget {ACK_BUDGET_MS} ms)")
        for name, t in browser.items():
            parts = "   ".join(f"{k.replace('_', ' ')} {v['median_ms']:.1f} / {v['max_ms']:.1f} ms"
                               for k, v in t.items())
            print(f"  {name:<28} {parts}   (median / max)")
    worst_op = max(t["max_ms"] for t in ops.values())
    print(json.dumps({"pairs": opts.pairs, "ops": ops, "browser": browser, "worst_op_ms": worst_op}))


if __name__ == "__main__":
    main()
