"""A progress bar on standard error for work that takes more than a couple of
seconds (tqdm's ``delay``): quick runs print nothing. ``$TAIYAKU_PROGRESS_DELAY``
(seconds) sets that delay: tests that want a silent standard error set it high
instead of depending on how fast the machine is."""

from __future__ import annotations

import os
import sys

from tqdm import tqdm


def default_delay() -> float:
    """``$TAIYAKU_PROGRESS_DELAY`` seconds, else 2."""
    try:
        return max(0.0, float(os.environ.get("TAIYAKU_PROGRESS_DELAY", "2")))
    except ValueError:
        return 2.0


class ProgressBar:
    """A ``progress(stage, done, total)`` callback, one bar per stage."""

    def __init__(self, delay: float | None = None):
        self.delay = default_delay() if delay is None else delay
        self.bar: tqdm | None = None
        self.stage = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage != self.stage or self.bar is None:
            self.close()
            self.stage = stage
            self.bar = tqdm(total=total, desc=stage, unit="sent", delay=self.delay,
                            file=sys.stderr, leave=False)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
