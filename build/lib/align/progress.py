"""A progress bar on standard error for work that takes more than a couple of
seconds (tqdm's ``delay``): quick runs print nothing."""

from __future__ import annotations

import sys

from tqdm import tqdm


class ProgressBar:
    """A ``progress(stage, done, total)`` callback, one bar per stage."""

    def __init__(self, delay: float = 2.0):
        self.delay = delay
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
