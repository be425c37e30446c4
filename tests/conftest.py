"""Shared fixtures: the bundled USE-m3 encoder (loaded once per session), the
repository's paths, and a check that beads partition both sides in order."""

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
SAMPLE = REPO / "data" / "ukraine_talks_bloomberg_ja.txt"


@pytest.fixture(scope="session")
def use_encoder():
    """The default encoder as the pipeline loads it (a CachedEncoder over
    USE-m3); ``load_encoder`` keeps it for the whole process."""
    from align.encoders import load_encoder
    return load_encoder()


def assert_partition(beads, n_src: int, n_tgt: int) -> None:
    """Beads (src ids, tgt ids) cover 0..n_src-1 and 0..n_tgt-1 exactly once,
    each side consecutive and in order, and no bead is empty on both sides."""
    src = [i for s, _ in beads for i in s]
    tgt = [j for _, t in beads for j in t]
    assert src == list(range(n_src))
    assert tgt == list(range(n_tgt))
    for s, t in beads:
        assert s or t, "a bead empty on both sides"
        assert list(s) == list(range(s[0], s[0] + len(s))) if s else True
        assert list(t) == list(range(t[0], t[0] + len(t))) if t else True
