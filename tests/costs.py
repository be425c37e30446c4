"""How a cost grows with the input: quadratic work on hostile shapes is the bug
these tests guard against, so they compare two sizes instead of timing one."""

import time
from typing import Callable


def cpu_cost(run: Callable[[], object], repeat: int = 3) -> float:
    """The least CPU time (of this process, so other load barely counts) of a few runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        run()
        best = min(best, time.process_time() - start)
    return best


def assert_linear(f: Callable[[str], object], make: Callable[[int], str],
                  n: int = 4000, factor: int = 8) -> None:
    """``f(make(factor * n))`` costs at most ~3x the linear share of ``f(make(n))``:
    linear work grows ``factor`` times, quadratic ``factor**2`` times. The small run is
    repeated until it takes long enough to be measured."""
    small, large = make(n), make(factor * n)
    reps = 1
    while cpu_cost(lambda: [f(small) for _ in range(reps)], 1) < 0.02 and reps < 1024:
        reps *= 2
    base = cpu_cost(lambda: [f(small) for _ in range(reps)]) / reps
    big = cpu_cost(lambda: f(large), 2)
    assert big <= 3 * factor * max(base, 1e-4), (
        f"{factor}x the input cost {big / max(base, 1e-9):.0f}x the time: not linear")
