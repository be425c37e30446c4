"""Progress bars on standard error for work that takes more than a couple of
seconds (tqdm's ``delay``): quick runs print nothing, and neither does a run
whose standard error is a file or a pipe (a log keeps its one line of error,
not a bar's carriage returns). ``$TAIYAKU_PROGRESS_DELAY`` (seconds) sets that
delay: tests that want a silent terminal set it high instead of depending on
how fast the machine is."""

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


def bar(total: int, desc: str, unit: str, delay: float | None = None) -> tqdm:
    """One bar, drawn only on a terminal (tqdm's ``disable=None``)."""
    return tqdm(total=total, desc=desc, unit=unit, delay=default_delay() if delay is None else delay,
                file=sys.stderr, leave=False, disable=None)


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
            self.bar = bar(total, stage, "sent", self.delay)
        self.bar.update(done - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> "ProgressBar":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
