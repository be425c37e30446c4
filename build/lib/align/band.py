"""The part of the n × m table a dynamic programme looks at: for each source
row i (0..n) the target columns lo[i] .. hi[i]-1 (of 0..m). Bounds never
decrease, so a monotonic path inside it stays inside it."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Band:
    lo: np.ndarray
    hi: np.ndarray

    @classmethod
    def full(cls, n: int, m: int) -> "Band":
        return cls(np.zeros(n + 1, np.int64), np.full(n + 1, m + 1, np.int64))

    @classmethod
    def around(cls, path: list[tuple[int, int]], n: int, m: int, scale: float, width: int) -> "Band":
        """The band around a coarse path of (row, column) cells, each coarse
        cell standing for ``scale`` fine rows and columns, widened by ``width``."""
        lo = np.full(n + 1, m + 1, np.int64)
        hi = np.zeros(n + 1, np.int64)
        for r, c in path:
            # a coarse cell holds the fine rows int(r·scale) .. ceil((r+1)·scale)
            r0, r1 = int(r * scale), min(math.ceil((r + 1) * scale) + 1, n + 1)
            c0, c1 = int(c * scale), min(math.ceil((c + 1) * scale) + 1, m + 1)
            lo[r0:r1] = np.minimum(lo[r0:r1], c0)
            hi[r0:r1] = np.maximum(hi[r0:r1], c1)
        lo = np.maximum(lo - width, 0)
        hi = np.minimum(hi + width, m + 1)
        # monotone bounds, and the two corners inside
        lo = np.minimum.accumulate(lo[::-1])[::-1]
        hi = np.maximum.accumulate(hi)
        lo[0], hi[-1] = 0, m + 1
        return cls(lo, np.maximum(hi, lo + 1))

    def transpose(self) -> "Band":
        """The same band seen from the target side (rows of the transposed table)."""
        m = int(self.hi[-1]) - 1
        cols = np.arange(m + 1)
        return Band(np.searchsorted(self.hi, cols, side="right"),
                    np.searchsorted(self.lo, cols, side="right"))

    @property
    def cells(self) -> int:
        return int((self.hi - self.lo).sum())
