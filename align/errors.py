"""Errors that reach the user as one clear line (CLI exit code 2, a message in the app).

Every error the package raises on purpose derives from ``TaiyakuError``: the CLI and the
app catch that one class, never a list. (``edits.EditError`` is the edits' own; it derives
from ``TaiyakuError`` too.)
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


class TaiyakuError(Exception):
    """Bad input or an impossible request, told in one line that names what is wrong."""


class InputError(TaiyakuError, ValueError):
    """Bad input: unreadable, binary, empty, too large, wrong language or format.
    The message names the file and says what is wrong, in one line."""


class BenchmarkError(TaiyakuError, ValueError):
    """A benchmark folder or gold file that cannot be read."""


class WorkerError(TaiyakuError):
    """The workers of a corpus run failed mid-run: the Dask scheduler or every worker
    lost, a local worker process killed, a task that the cluster could not run. What
    was written so far is kept."""


class ProjectNotFound(TaiyakuError, LookupError):
    """No project with this id (never created, or deleted meanwhile)."""


class StoreError(TaiyakuError):
    """A projects file that cannot be used: newer than this version, not ours, unreadable."""


def first_line(exc: BaseException) -> str:
    """An exception's message as one line: its first, or "" when it has none."""
    return (str(exc).strip().splitlines() or [""])[0]


def resolved(path: str | os.PathLike) -> Path:
    """``Path(path).resolve()``, with a symbolic link loop an OSError (ELOOP, as from
    Python 3.13 on) that names the path, not a RuntimeError and a traceback."""
    try:
        return Path(path).resolve()
    except RuntimeError:  # Python < 3.13: "Symlink loop from …"
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path)) from None


# C0 and C1 controls, DEL, and the bidirectional overrides that can disguise a file name.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def printable(text: object, keep: str = "") -> str:
    """``text`` safe for a terminal, on one line: an ANSI escape or a line break in a
    file name or a segment is shown as ``\\x1b`` / ``\\n``, never acted on. ``keep``:
    characters left as they are (a table's tabs and line breaks)."""
    return _UNPRINTABLE.sub(lambda m: m.group() if m.group() in keep else
                            m.group().encode("unicode_escape").decode("ascii"), str(text))
