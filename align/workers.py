"""The worker side of corpus mode: the two tasks (read and embed documents,
align pairs) and where they run, a local process pool or a Dask cluster.

The tasks are plain functions of bytes and options returning plain data, so
the same ones run on either; each worker process loads the model once and
uses one BLAS thread (the parallelism is across processes). The client sends
the files' bytes: a cluster needs no shared file system, only this package.
"""

from __future__ import annotations

import concurrent.futures as cf
import io
import logging
import multiprocessing as mp
import os
import re
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .errors import InputError, TaiyakuError, WorkerError, first_line
from .pipeline import MAX_SEGMENTS_A_SIDE

# -- worker side: the two tasks ---------------------------------------------------------

_READY: set = set()


def _encoder(model: str | None):
    """The model, loaded once per worker process; one thread each, since the
    parallelism is across processes."""
    from .encoders import load_encoder
    encoder = load_encoder(model)
    if model not in _READY:
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
        if hasattr(encoder.inner, "workers"):
            encoder.inner.workers = 1
        _READY.add(model)
    return encoder


def _forget(encoder) -> None:
    """Empty the encoder's caches (embeddings, and the bundled model's token
    sums) after each document or pair: a worker sees each text once, over a
    million documents the caches would outgrow the memory, and a result must
    not depend on what the same worker did before (an embedding's floats
    depend on the batch its text went in), so that any order of tasks on any
    number of workers gives the same output."""
    for cache in (getattr(encoder, "_cache", None), getattr(encoder.inner, "_sums_cache", None)):
        if isinstance(cache, dict):
            cache.clear()


def _load_model(model: str | None) -> None:
    _encoder(model)


def _init_worker(model: str | None, client: int) -> None:
    # Ctrl-C is the client's to handle (it stops the pool); a worker would
    # only print a traceback
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with, args=(client,), daemon=True).start()
    try:
        _encoder(model)
    except InputError:  # a model that cannot be had: each task says so, in one line, to the client
        pass  # (raised here, it would print a traceback and break the pool: "a process died")


def _exit_with(client: int) -> None:
    """End this worker once its client is gone: killed (-9, the OOM killer), it shut
    nothing down, and its workers would wait for tasks forever, each holding a model."""
    while os.getppid() == client:
        time.sleep(1)
    os._exit(1)


def read_document(name: str, data: bytes, side: str, presegmented: bool) -> tuple[str, list, list[str]]:
    """A document's text, its sentences (as ``align`` splits them) and its
    titles: the 原題 headlines of a Japanese article, the first line and the
    ``<title>`` or docx title of an English one."""
    from .segment import split_lines
    from .sources import body_sentences, detect_language, parse_article, read_bytes_source

    text = read_bytes_source(data, name)
    language = detect_language(text)
    if language != side:
        raise InputError(f"{name}: does not look {'Japanese' if side == 'ja' else 'English'}")
    if side == "ja":
        article = parse_article(text)
        sentences = split_lines(text) if presegmented else article.ja
        return text, sentences, [h.text for h in article.headlines]
    sentences = split_lines(text) if presegmented else body_sentences(text, "en")[0]
    first = next((line for line in text.split("\n") if line.strip()), "")
    return text, sentences, [first] + _embedded_title(name, data)


def _embedded_title(name: str, data: bytes) -> list[str]:
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".html", ".htm"):
            from .sources import decode
            m = re.search(r"<title[^>]*>(.*?)</title>", decode(data, name), re.I | re.S)
            if m:
                import html
                return [html.unescape(" ".join(m.group(1).split()))]
        if suffix == ".docx":
            import docx
            title = docx.Document(io.BytesIO(data)).core_properties.title
            return [title] if title else []
    except Exception:  # a title is a bonus: the text was read, so pairing goes on by content
        return []
    return []


def embed_task(docs: list[tuple[str, str, bytes]], presegmented: bool, model: str | None) -> list[dict]:
    """Read and embed documents ``(side, name, bytes)`` for pairing: each one's
    mean sentence embedding, sentence embeddings (float16), titles and the
    model's token sums (``CachedEncoder.document_sums``: ``align_task`` reuses
    them instead of running the model again), or the reason it was skipped."""
    encoder = _encoder(model)
    results = []
    for side, name, data in docs:
        try:
            _, sentences, titles = read_document(name, data, side, presegmented)
        except InputError as exc:
            results.append({"error": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 - one document that trips Taiyaku does not end a run
            results.append({"error": f"{name}: {unexpected(exc)}"})
            continue
        if not sentences:
            results.append({"error": f"{name}: no sentences"})
            continue
        if len(sentences) > MAX_SEGMENTS_A_SIDE:  # paired, it would take a partner it cannot be aligned with
            results.append({"error": f"{name}: {len(sentences):,} segments; Taiyaku aligns at most "
                                     f"{MAX_SEGMENTS_A_SIDE:,} a side: split the text into parts"})
            continue
        texts = [s.text for s in sentences]
        # embedded as the aligner embeds a document, one document at a time, so
        # that its sums are what aligning it would compute
        vecs = encoder.embed_groups(texts, 1, "")[0]
        results.append({"titles": titles, "mean": vecs.mean(axis=0), "sentences": vecs.astype(np.float16),
                        "sums": encoder.document_sums(texts)})
        _forget(encoder)
    return results


def align_task(pairs: list[tuple[str, bytes, str, bytes, dict, list]], opts: dict) -> list[dict]:
    """Align pairs ``(ja name, ja bytes, en name, en bytes, meta, sums)`` as
    ``align`` would: each one's alignment model as JSON text, with ``meta``
    (pairing, run key) added, or the reason it failed. ``sums`` are
    ``embed_task``'s token sums of the two documents, when the client kept
    them: the same floats the model would compute, without running it."""
    from .export import to_json
    from .pipeline import align_texts
    from .sources import read_bytes_source

    encoder = _encoder(opts["model"])
    out = []
    for ja_name, ja_data, en_name, en_data, meta, sums in pairs:
        try:
            for shipped in sums:
                encoder.reuse_sums(shipped)
            ja_text = read_bytes_source(ja_data, ja_name)
            en_text = read_bytes_source(en_data, en_name)
            al = align_texts(ja_text, en_text, mode=opts["mode"], model=opts["model"],
                             presegmented=opts["presegmented"])
        except InputError as exc:
            out.append({"error": str(exc)})
            continue
        except Exception as exc:  # noqa: BLE001 - as in embed_task
            out.append({"error": f"{ja_name}: {unexpected(exc)}"})
            continue
        finally:
            _forget(encoder)
        al = replace(al, meta={**al.meta, "sources": [ja_name, en_name], "corpus": meta})
        out.append({"json": to_json(al)})
    return out


def described(exc: BaseException) -> str:
    """An exception in one line: its type and its message's first line."""
    first = first_line(exc)[:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def unexpected(exc: BaseException) -> str:
    """What a document's skip says of an error Taiyaku did not foresee."""
    return f"skipped on an unexpected error ({described(exc)}); please report it"


# -- where tasks run --------------------------------------------------------------------

RESUME = "what was done is kept: run the same command again to go on"
TASK_KILLED = "the Dask workers that took it died, each in turn (out of memory?)"
SCHEDULER_LOST = "the connection to the Dask scheduler was lost"


class LocalWorkers:
    """A process pool; each process loads the model once, when it starts."""

    def __init__(self, workers: int, model: str | None):
        self.workers, self.model, self.pool = workers, model, None
        self.slots = 2 * workers

    def submit(self, fn, *args):
        # Workers start inside submit and keep an ignored signal ignored (a blocked one is not
        # kept): they never see the terminal's Ctrl-C, which the client handles. A worker still
        # importing numpy, before _init_worker, printed a traceback for it.
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            if self.pool is None:  # started on the first task: a rerun with nothing to do loads nothing
                # spawned, not forked: the client may have started OpenMP threads (faiss) by then
                self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                                   initializer=_init_worker, initargs=(self.model, os.getpid()))
            return self.pool.submit(fn, *args)
        finally:
            if main:
                signal.signal(signal.SIGINT, previous)

    @staticmethod
    def wait_any(futures):
        return cf.wait(futures, return_when=cf.FIRST_COMPLETED)

    @staticmethod
    def result(future):
        try:
            return future.result()
        except cf.BrokenExecutor:  # a process killed: the system's OOM killer, a kill -9
            raise WorkerError("a worker process died (killed, or out of memory?); "
                              + RESUME) from None
        except TaiyakuError:  # a task's own refusal (a --model that cannot be had): said as it is
            raise
        except Exception as exc:  # noqa: BLE001 - the tasks return their documents' errors: this is the pool's
            raise WorkerError(f"a task failed ({described(exc)}); {RESUME}") from None

    def close(self, abort: bool = False) -> None:
        """Stop the pool: once its tasks are done, or (``abort``: the run failed or was
        interrupted) at once, its processes killed. A second Ctrl-C while it waited
        broke the pool's shutdown, and the exit then waited for it forever."""
        if self.pool is None:
            return
        if not abort:
            try:
                self.pool.shutdown(wait=True, cancel_futures=True)
                return
            except BaseException:  # Ctrl-C while it waits: stop at once
                self._kill()
                raise
        self._kill()

    def _kill(self) -> None:
        for process in list((self.pool._processes or {}).values()):  # no public way before Python 3.14
            process.kill()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskWorkers:
    """The same tasks on an existing Dask distributed cluster."""

    CONNECT_TIMEOUT = "3s"
    POLL = 5  # seconds between looks at the cluster while tasks run
    WORKERLESS = 60  # seconds without a worker before the run gives up

    def __init__(self, address: str, model: str | None):
        import dask
        from distributed import Client
        self.address = address
        _probe(address, self.CONNECT_TIMEOUT)
        # the client's own log: tracebacks of its reconnecting when the scheduler is
        # lost, warnings of large graphs; what matters is said in one line here
        self.log_levels = {log: log.level for log in map(logging.getLogger, list(logging.root.manager.loggerDict))
                           if log.name.split(".")[0] == "distributed"}
        for log in self.log_levels:
            log.setLevel(logging.CRITICAL)
        try:
            with dask.config.set({"distributed.comm.timeouts.connect": self.CONNECT_TIMEOUT}):
                self.client = Client(address, timeout=self.CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            self._restore_log()
            raise InputError(f"cannot reach the Dask scheduler at {address} "
                             f"({type(exc).__name__})") from None
        threads = sum(self.client.nthreads().values())
        if not threads:
            self.close()
            raise InputError(f"the Dask scheduler at {address} has no workers")
        self.slots = 2 * threads
        try:  # every worker loads the model now, all at once
            self.client.run(_load_model, model)
        except (ImportError, InputError) as exc:
            self.close()
            raise InputError(f"the Dask workers at {address} cannot load the aligner "
                             f"(install Taiyaku and its requirements on them): {exc}") from None

    def submit(self, fn, *args):
        return self.client.submit(fn, *args, pure=False)

    def wait_any(self, futures):
        """The futures done, once one is; the run stops, in one line, when the scheduler
        is lost or has had no worker for WORKERLESS seconds (Dask would wait on)."""
        from distributed import wait
        workerless = 0
        while True:
            try:
                with self.client.as_current():
                    return wait(list(futures), timeout=self.POLL, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            except (cf.CancelledError, OSError):
                raise self._lost(SCHEDULER_LOST) from None
            try:
                workers = self.client.nthreads()
            except OSError:
                raise self._lost(SCHEDULER_LOST) from None
            workerless = 0 if workers else workerless + self.POLL
            if workerless >= self.WORKERLESS:
                raise self._lost(f"the Dask scheduler has had no worker for {self.WORKERLESS} s")

    def result(self, future):
        from distributed import KilledWorker
        try:
            return future.result()
        except KilledWorker:  # this task alone, which killed every worker that took it
            return None
        except (cf.CancelledError, OSError):
            raise self._lost(SCHEDULER_LOST) from None
        except TaiyakuError:  # as in LocalWorkers.result
            raise
        except Exception as exc:  # noqa: BLE001 - the tasks return their documents' errors: this is the cluster's
            raise self._lost(f"a task failed on the Dask cluster ({described(exc)})") from None

    def _lost(self, what: str) -> WorkerError:
        return WorkerError(f"{what} ({self.address}); {RESUME}")

    def close(self, abort: bool = False) -> None:
        self.client.close()
        self._restore_log()

    def _restore_log(self) -> None:
        for log, level in self.log_levels.items():
            log.setLevel(level)


def _probe(address: str, timeout: str) -> None:
    """Refuse, in one line, a scheduler address that is malformed, unreachable, silent
    (it accepts the connection but never answers: a Client would wait forever) or
    TLS without a TLS configuration, before a Client exists: one made in vain prints a
    traceback when it is collected."""
    import asyncio

    from dask.utils import parse_timedelta
    from distributed.comm import connect, get_address_host_port
    from distributed.security import Security

    try:
        get_address_host_port(address)
    except ValueError as exc:
        raise InputError(f"--scheduler {address}: not a scheduler's address ({exc}); "
                         "give one such as tcp://10.0.0.5:8786") from None
    seconds = parse_timedelta(timeout, "s")

    async def handshake():
        comm = await connect(address, timeout=seconds, **Security().get_connection_args("client"))
        await comm.close()

    try:
        asyncio.run(asyncio.wait_for(handshake(), seconds + 1))
    except TypeError:  # distributed's way of saying that TLS has no certificates
        raise InputError(f"--scheduler {address}: a TLS scheduler needs Dask's TLS configuration "
                         "(distributed.comm.tls: ca-file, client cert and key)") from None
    except (OSError, TimeoutError, ValueError) as exc:
        raise InputError(f"cannot reach the Dask scheduler at {address} "
                         f"({type(exc).__name__})") from None


def stream(workers, jobs: Iterable[tuple[Any, Callable, tuple]]) -> Iterator[tuple[Any, Any]]:
    """Run ``(key, fn, args)`` jobs, at most ``workers.slots`` in flight,
    yielding ``(key, result)`` as each finishes. The jobs are batches: a key is a
    list, a result a list of as many results; a task that killed its workers
    gives an ``{"error": …}`` for each of its keys."""
    jobs = iter(jobs)
    pending: dict = {}

    def refill() -> None:
        for key, fn, args in jobs:
            pending[workers.submit(fn, *args)] = key
            if len(pending) >= workers.slots:
                return

    refill()
    while pending:
        done, _ = workers.wait_any(pending.keys())
        for future in done:
            key = pending.pop(future)
            result = workers.result(future)
            yield key, result if result is not None else [{"error": TASK_KILLED}] * len(key)
        refill()


def batched(items: Iterable[tuple[Any, Any, int]], count: int, limit: int = 8 << 20
            ) -> Iterator[tuple[list, list]]:
    """``(key, payload, bytes)`` items in batches of at most ``count`` items
    and about ``limit`` bytes: (keys, payloads)."""
    keys, payloads, size = [], [], 0
    for key, payload, nbytes in items:
        keys.append(key)
        payloads.append(payload)
        size += nbytes
        if len(keys) >= count or size >= limit:
            yield keys, payloads
            keys, payloads, size = [], [], 0
    if keys:
        yield keys, payloads


def batch_size(todo: int, largest: int) -> int:
    """Batches big enough to make a task's overhead small, and a small corpus
    still cut into many. From the amount of work only, not the number of
    workers: the model sees the same batches, so every setup gives the same
    output."""
    return max(1, min(largest, todo // 16))
