"""The formats an alignment is written to and read back from, in one table:
name, file extensions (the first is the one new files get), MIME type, and
whether ``imports`` reads it. The exports, the imports, the command line and
the app all look formats up here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Format:
    name: str
    extensions: tuple[str, ...]
    mime: str
    readable: bool  # opened again as an alignment by align.imports


FORMATS = (
    Format("tsv", (".tsv", ".tab", ".txt"), "text/tab-separated-values", True),
    Format("json", (".json",), "application/json", True),
    Format("tmx", (".tmx",), "application/x-tmx+xml", True),
    Format("xlsx", (".xlsx",), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
)
NAMES = tuple(f.name for f in FORMATS)
BY_NAME = {f.name: f for f in FORMATS}


def by_extension(path: str) -> Format | None:
    """The format a file name's extension names (case-insensitive), or None."""
    suffix = Path(path).suffix.lower()
    return next((f for f in FORMATS if suffix in f.extensions), None)
