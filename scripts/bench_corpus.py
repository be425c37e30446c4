"""The corpus-mode figures in the README, from the ntrex documents in ../shared
(or --shared).

    python scripts/bench_corpus.py                  # everything (about 15 minutes on 2 cores)
    python scripts/bench_corpus.py --only pairing   # the pairing dev set only (about 1 minute)
    python scripts/bench_corpus.py --only phases    # the two tasks' CPU time (about 1 minute)

1. **pairing dev set**: the 123 ntrex128_jaen documents a side, ~10 % of each
   side dropped (a different draw per seed), names scrambled: precision,
   recall and F1 of the baseline (mean sentence embedding, mutual best) and
   of ``align.pairing`` (titles, centred document vectors, nearest
   neighbours re-scored at the sentence level, competitive linking with a
   threshold), over 10 seeds; then the full command on seed 0's folders;
2. **phases**: CPU seconds of the workers' two tasks on the dev documents in
   this process: embedding, and aligning with the embedding phase's token
   sums or with the model run again (and that both give the same alignments);
3. **throughput**: ``python -m align corpus`` on seed 0's folders, copied
   ``--copies`` times with marks (`` [2]``) so that no text repeats, with 1 and
   2 local workers and on a local Dask cluster (a scheduler and two
   single-threaded workers): documents/s, sentences/s, peak memory per worker,
   and the CPU seconds the workers and the client got (on shared cores the
   wall time says little; ``cpu_bound_s`` is what the run would take with
   its cores free);
4. **pairing cost** at 1k to 100k documents a side, each size in its own
   process: synthetic corpora from the dev documents' real sentence
   embeddings, copy ``r`` of a document shifted by a random "topic" vector
   (the same on both sides, so copies stay distinguishable), 10 % dropped a
   side. Seconds and peak memory of ``pair_documents`` (and its F1, a check).
The last line is a JSON object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

from align.workers import read_document  # noqa: E402
from align.evaluate import bench_documents  # noqa: E402
from align.pairing import baseline_pairs, pair_documents, pairing_scores, title_keys  # noqa: E402

SEEDS = range(10)
DROP = 0.1


# -- the dev set ------------------------------------------------------------------------

def dev_documents(shared: Path) -> list[tuple[str, str]]:
    return [(s.read_text(encoding="utf-8"), t.read_text(encoding="utf-8"))
            for _, s, t, _ in bench_documents(shared / "data/bench/ntrex128_jaen")]


def embedded(docs: list[tuple[str, str]]) -> dict:
    """Per side: title keys, mean sentence embedding and sentence embeddings
    (float16, as the corpus cache keeps them) of each document, read and
    split as corpus mode does."""
    from align.encoders import load_encoder
    encoder = load_encoder()
    out = {}
    for k, side in enumerate(("ja", "en")):
        keys, means, sents = [], [], []
        for n, pair in enumerate(docs):
            _, sentences, titles = read_document(f"{n}.txt", pair[k].encode("utf-8"), side, False)
            vecs = encoder.encode([s.text for s in sentences])
            keys.append(title_keys(titles))
            means.append(vecs.mean(axis=0))
            sents.append(vecs.astype(np.float16).astype(np.float32))
        out[side] = (keys, np.stack(means), sents)
    return out


def draw(n: int, seed: int) -> tuple[list[int], list[int]]:
    """The documents kept on each side (~10 % dropped from each, independently)."""
    rng = random.Random(seed)
    drop = round(DROP * n)
    return sorted(rng.sample(range(n), n - drop)), sorted(rng.sample(range(n), n - drop))


def with_updates(emb: dict, en_ids: list[int], seed: int) -> tuple[list, np.ndarray, list]:
    """The English side plus, for ~10 % of its documents, an earlier and
    shorter version (the first half of the sentences, at least two) without
    counterpart: the archive's "(1)" and "(2)" versions of a story."""
    keys, means, sents = emb["en"]
    rng = random.Random(f"updates-{seed}")
    early = rng.sample(en_ids, round(DROP * len(en_ids)))
    extra = [sents[j][:max(2, len(sents[j]) // 2)] for j in early]
    return ([keys[j] for j in en_ids] + [keys[j] for j in early],
            np.vstack([means[en_ids]] + [x.mean(axis=0, keepdims=True) for x in extra]),
            [sents[j] for j in en_ids] + extra)


def pairing_dev(emb: dict, updates: bool = False) -> dict:
    n = len(emb["ja"][1])
    runs = {"baseline": [], "taiyaku": []}
    for seed in SEEDS:
        ja_ids, en_ids = draw(n, seed)
        gold = {(a, b) for a, i in enumerate(ja_ids) for b, j in enumerate(en_ids) if i == j}
        jk, jm, js = emb["ja"]
        if updates:
            ek, em, es = with_updates(emb, en_ids, seed)
        else:
            ek, em, es = [emb["en"][0][j] for j in en_ids], emb["en"][1][en_ids], [emb["en"][2][j] for j in en_ids]
        runs["baseline"].append(pairing_scores(baseline_pairs(jm[ja_ids], em), gold))
        ours = pair_documents([jk[i] for i in ja_ids], ek, jm[ja_ids], em, [js[i] for i in ja_ids], es)
        runs["taiyaku"].append(pairing_scores(ours, gold))
    out = {}
    for name, scores in runs.items():
        out[name] = {k: round(float(np.mean([s[k] for s in scores])), 4) for k in ("precision", "recall", "f1")}
        out[name]["min_f1"] = round(min(s["f1"] for s in scores), 4)
        out[name]["wrong_pairs"] = int(sum(round(s["pairs"] * (1 - s["precision"])) for s in scores))
        out[name]["missed_pairs"] = int(sum(round(s["gold"] * (1 - s["recall"])) for s in scores))
    out["seeds"], out["documents_a_side"] = len(SEEDS), n - round(DROP * n)
    return out


def separation(emb: dict) -> dict:
    """How far the threshold is from both kinds of candidate: the scores of
    the true pairs, and each Japanese document's best-scoring wrong candidate
    among its 5 nearest English documents."""
    from align.pairing import document_vectors, translation_share
    (_, jm, js), (_, em, es) = emb["ja"], emb["en"]
    sims = document_vectors(jm) @ document_vectors(em).T
    true = [translation_share(js[i], es[i]) for i in range(len(js))]
    wrong = [max(translation_share(js[i], es[j]) for j in np.argsort(-sims[i])[:6] if j != i)
             for i in range(len(js))]
    return {"true_min": round(min(true), 3), "true_p1": round(float(np.percentile(true, 1)), 3),
            "wrong_max": round(max(wrong), 3), "wrong_p99": round(float(np.percentile(wrong, 99)), 3)}


def write_folders(docs: list[tuple[str, str]], seed: int, root: Path, copies: int = 1) -> set[tuple[str, str]]:
    """Seed ``seed``'s draw as two folders of .txt files with scrambled names;
    the gold pairs. Copy ``r`` > 0 marks every line with `` [r]``."""
    ja_ids, en_ids = draw(len(docs), seed)
    rng = random.Random(f"names-{seed}")
    gold = set()
    for side in ("ja", "en"):
        (root / side).mkdir(parents=True, exist_ok=True)
    for r in range(copies):
        mark = f" [{r + 1}]" if r else ""
        names = {i: (f"{rng.getrandbits(48):012x}.txt", f"{rng.getrandbits(48):012x}.txt") for i in range(len(docs))}
        for k, (side, ids) in enumerate((("ja", ja_ids), ("en", en_ids))):
            for i in ids:
                text = "".join(line + mark + "\n" for line in docs[i][k].splitlines())
                (root / side / names[i][k]).write_text(text, encoding="utf-8")
        gold |= {names[i] for i in set(ja_ids) & set(en_ids)}
    return gold


def command_pairing(docs, seed: int = 0) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        gold = write_folders(docs, seed, root)
        run = run_corpus(root, root / "out", ["--workers", "2"])
        found = {tuple(line.split("\t")[:2]) for line in
                 (root / "out/documents.tsv").read_text(encoding="utf-8").splitlines()[1:]}
        found = {f for f in found if f[0] and f[1]}
    right = len(found & gold)
    p, r = right / len(found), right / len(gold)
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(2 * p * r / (p + r), 4),
            "seconds": run["seconds"]}


# -- throughput -------------------------------------------------------------------------

class PeakMemory:
    """Peak resident memory and CPU seconds of each process under ``pids``
    (and their children), sampled every 0.1 s."""

    def __init__(self, pids: list[int]):
        import psutil
        self.roots = [psutil.Process(p) for p in pids]
        self.peak: dict[int, int] = {}
        self.cpu: dict[int, float] = {}  # user + system seconds, last seen
        self.cpu0 = {}  # a process already running (a Dask worker): its CPU before the run
        for root in self.roots:
            try:
                self.cpu0[root.pid] = sum(root.cpu_times()[:2])
            except psutil.Error:
                pass
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil
        while not self.stop.is_set():
            for root in self.roots:
                try:
                    for p in [root] + root.children(recursive=True):
                        self.peak[p.pid] = max(self.peak.get(p.pid, 0), p.memory_info().rss)
                        times = p.cpu_times()
                        self.cpu[p.pid] = times.user + times.system
                except psutil.Error:
                    pass
            self.stop.wait(0.1)

    def done(self) -> dict[int, int]:
        self.stop.set()
        self.thread.join()
        return self.peak


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def run_corpus(root: Path, out: Path, extra: list[str], watch: list[int] = ()) -> dict:
    """``python -m align corpus`` on root/ja and root/en: seconds, and the
    peak memory of the worker processes (the command's children, or ``watch``)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "align", "corpus", str(root / "ja"), str(root / "en"),
                             "-o", str(out), *extra], env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    memory = PeakMemory([proc.pid, *watch])
    _, stderr = proc.communicate()
    seconds = time.perf_counter() - started
    peak = memory.done()
    if proc.returncode:
        raise RuntimeError(stderr.decode())
    # the command's own process is the client; every other one a worker (the spawn
    # helper of a process pool, a few MB and no CPU, counts for nothing)
    workers = {pid: v for pid, v in peak.items() if pid != proc.pid and v > 100 << 20}
    cpu = sum(memory.cpu.get(pid, 0.0) - memory.cpu0.get(pid, 0.0) for pid in workers)
    return {"seconds": round(seconds, 1), "worker_peak_mb": round(max(workers.values(), default=0) / 2**20),
            "workers": len(workers), "worker_cpu_s": round(cpu, 1),
            "client_cpu_s": round(memory.cpu.get(proc.pid, 0.0), 1)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_cluster(tmp: Path, workers: int = 2):
    """A scheduler and ``workers`` single-threaded workers on 127.0.0.1: (address, processes)."""
    from distributed import Client
    address = f"tcp://127.0.0.1:{free_port()}"
    dask = [sys.executable, "-m", "dask"]
    log = open(tmp / "dask.log", "wb")
    procs = [subprocess.Popen(dask + ["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                                      "--no-dashboard"], env=_env(), stdout=log, stderr=log)]
    for _ in range(workers):
        procs.append(subprocess.Popen(dask + ["worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                                              "--local-directory", str(tmp)], env=_env(), stdout=log, stderr=log))
    with Client(address, timeout="60s") as client:
        client.wait_for_workers(workers, timeout=120)
    return address, procs


def stop(procs) -> None:
    for p in reversed(procs):
        p.terminate()
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()


def throughput(docs, copies: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_folders(docs, 0, root, copies)
        n_docs = sum(1 for _ in (root / "ja").iterdir()) + sum(1 for _ in (root / "en").iterdir())
        n_sents = sum(len(p.read_text(encoding="utf-8").splitlines())
                      for side in ("ja", "en") for p in (root / side).iterdir())
        out = {"documents": n_docs, "sentences": n_sents}
        for name, extra in (("local_1", ["--workers", "1"]), ("local_2", ["--workers", "2"])):
            out[name] = run_corpus(root, root / name, extra)
        address, procs = dask_cluster(root)
        try:
            out["dask_2"] = run_corpus(root, root / "dask", ["--scheduler", address], [p.pid for p in procs[1:]])
        finally:
            stop(procs)
        for name in ("local_1", "local_2", "dask_2"):
            r = out[name]
            r["docs_per_s"] = round(n_docs / r["seconds"], 2)
            r["sentences_per_s"] = round(n_sents / r["seconds"])
            r["speedup"] = round(out["local_1"]["seconds"] / r["seconds"], 2)
            # on free cores a run takes about its busiest worker's CPU time plus the client's
            r["cpu_bound_s"] = round(r["worker_cpu_s"] / max(r["workers"], 1) + r["client_cpu_s"], 1)
        for name in ("local_1", "local_2", "dask_2"):
            out[name]["cpu_bound_speedup"] = round(out["local_1"]["cpu_bound_s"] / out[name]["cpu_bound_s"], 2)
        return out


def phases(docs) -> dict:
    """CPU seconds of the workers' two tasks in this process (one thread), on
    every dev document and pair: embedding, then aligning with the embedding
    phase's token sums and without them (the model run again); and whether
    the two alignments are the same."""
    from align.workers import _encoder, align_task, embed_task
    _encoder(None)
    opts = {"model": None, "mode": "auto", "presegmented": False}
    items = [(side, f"{i}.{side}.txt", pair[k].encode("utf-8")) for i, pair in enumerate(docs)
             for k, side in enumerate(("ja", "en"))]
    started = time.process_time()
    embedded = [r for s in range(0, len(items), 16) for r in embed_task(items[s:s + 16], False, None)]
    out = {"documents": len(items), "embedding_s": round(time.process_time() - started, 1)}
    results = {}
    for name, reuse in (("aligning_reusing_s", True), ("aligning_recomputing_s", False)):
        started = time.process_time()
        results[name] = [align_task([(f"{i}.ja.txt", pair[0].encode("utf-8"), f"{i}.en.txt", pair[1].encode("utf-8"), {},
                                      [embedded[2 * i]["sums"], embedded[2 * i + 1]["sums"]] if reuse else [])], opts)
                         for i, pair in enumerate(docs)]
        out[name] = round(time.process_time() - started, 1)
    strip = lambda rs: [json.loads(r[0]["json"])["pairs"] for r in rs]  # noqa: E731
    out["same_alignments"] = strip(results["aligning_reusing_s"]) == strip(results["aligning_recomputing_s"])
    return out


# -- pairing cost -----------------------------------------------------------------------

class Synthetic:
    """Sentence embeddings of copy ``r`` of dev document ``d``: the real ones
    shifted by copy r's topic vector, made on demand (as the cache is read)."""

    def __init__(self, sentences: list[np.ndarray], ids: list[tuple[int, int]], shift: float = 0.5):
        self.sentences, self.ids, self.shift = sentences, ids, shift
        self.topics: dict[int, np.ndarray] = {}

    def topic(self, r: int) -> np.ndarray:
        if r not in self.topics:
            v = np.random.default_rng(r).normal(size=self.sentences[0].shape[1]).astype(np.float32)
            self.topics[r] = v / np.linalg.norm(v)
        return self.topics[r]

    def __getitem__(self, i: int) -> np.ndarray:
        d, r = self.ids[i]
        x = self.sentences[d] + self.shift * self.topic(r)
        return x / np.linalg.norm(x, axis=1, keepdims=True)

    def __len__(self) -> int:
        return len(self.ids)


def pairing_cost(emb: dict, size: int) -> dict:
    """Pair ``size`` documents a side (after the 10 % drop); run in a fresh process."""
    n = len(emb["ja"][2])
    total = round(size / (1 - DROP))
    copies = -(-total // n)
    ja_ids, en_ids = draw(total, 0)
    doc = [(i % n, i // n) for i in range(copies * n)][:total]
    ja = Synthetic(emb["ja"][2], [doc[i] for i in ja_ids])
    en = Synthetic(emb["en"][2], [doc[i] for i in en_ids])
    ja_means = np.stack([ja[i].mean(axis=0) for i in range(len(ja))])
    en_means = np.stack([en[i].mean(axis=0) for i in range(len(en))])
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    pairs = pair_documents([set()] * len(ja), [set()] * len(en), ja_means, en_means, ja, en)
    seconds = time.perf_counter() - started
    en_at = {i: k for k, i in enumerate(en_ids)}
    gold = {(a, en_at[i]) for a, i in enumerate(ja_ids) if i in en_at}
    scores = pairing_scores(pairs, gold)
    return {"documents_a_side": len(ja), "seconds": round(seconds, 1), "f1": round(scores["f1"], 4),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "rss_growth_mb": round((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--only", choices=("pairing", "phases", "throughput", "cost"))
    ap.add_argument("--copies", type=int, default=3, help="throughput: copies of the dev folders")
    ap.add_argument("--sizes", default="1000,10000,100000", help="pairing cost: documents a side")
    ap.add_argument("--one-size", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--embeddings", help=argparse.SUPPRESS)
    args = ap.parse_args()
    docs = dev_documents(Path(args.shared))
    if args.one_size:
        print(json.dumps(pairing_cost(load_embeddings(args.embeddings), args.one_size)))
        return
    report = {}
    if args.only in (None, "pairing", "cost"):
        emb = embedded(docs)
    if args.only in (None, "pairing"):
        report["pairing_dev"] = pairing_dev(emb)
        report["pairing_dev_updates"] = pairing_dev(emb, updates=True)
        report["pairing_separation"] = separation(emb)
        print(json.dumps(report, indent=1), flush=True)
        report["pairing_dev"]["command_seed0"] = command_pairing(docs)
        print(json.dumps(report["pairing_dev"]["command_seed0"]), flush=True)
    if args.only in (None, "phases"):
        report["phases"] = phases(docs)
        print(json.dumps(report["phases"]), flush=True)
    if args.only in (None, "throughput"):
        report["throughput"] = throughput(docs, args.copies)
        print(json.dumps(report["throughput"], indent=1))
    if args.only in (None, "cost"):
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "emb.npz"
            save_embeddings(emb, path)
            report["pairing_cost"] = []
            for size in map(int, args.sizes.split(",")):
                run = subprocess.run([sys.executable, __file__, "--shared", args.shared, "--one-size", str(size),
                                      "--embeddings", str(path)], capture_output=True, text=True, check=True)
                report["pairing_cost"].append(json.loads(run.stdout.strip().splitlines()[-1]))
                print(report["pairing_cost"][-1], flush=True)
    print(json.dumps(report))


def save_embeddings(emb: dict, path: Path) -> None:
    arrays = {}
    for side in ("ja", "en"):
        for i, x in enumerate(emb[side][2]):
            arrays[f"{side}{i}"] = x
    np.savez(path, **arrays)


def load_embeddings(path: str) -> dict:
    with np.load(path) as z:
        out = {}
        for side in ("ja", "en"):
            sents = [z[f"{side}{i}"] for i in range(sum(1 for k in z.files if k.startswith(side)))]
            out[side] = (None, None, sents)
    return out


if __name__ == "__main__":
    main()
