"""The review grid, a Streamlit custom component (components v2): plain
HTML, CSS and JavaScript in this folder, no build step, nothing loaded from
the network. ``align.grid`` holds its protocol; this module only mounts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
NAME = "taiyaku_review_grid"

# The grid's keys (grid.js binds them), as the sidebar lists them.
KEYS = [
    ("J / K, ↓ / ↑", "next / previous pair (PgDn, PgUp, Home, End)"),
    ("N", "next pair needing review"),
    ("A", "confirm, go to the next pair"),
    ("Shift+A", "confirm every shown pair up to here (a red one: A, one at a time)"),
    ("U", "unconfirm"),
    ("E / Shift+E", "edit the English / Japanese in place (Tab: the other side; Esc or leaving saves; "
                    "Enter cuts at the caret; a confirmed pair's text edit unconfirms it)"),
    ("✂ (click)", "cut a segment at a sentence end"),
    ("M / Shift+M", "merge with next / previous pair"),
    ("S", "split the pair in two"),
    ("G / Shift+G", "join the pair's Japanese / English segments into one"),
    ("Shift+↑ / ↓", "move a Japanese segment to the previous / next pair"),
    ("Alt+↑ / ↓", "move an English segment to the previous / next pair"),
    ("I / Shift+I", "Japanese / English without counterpart (1-0 / 0-1)"),
    ("Ctrl+click, [ / ]", "pick segments (any, or the pair's Japanese / English)"),
    ("L", "link the picked segments as one pair (may cross others)"),
    ("Delete (Mac: delete)", "unlink the pair, or the one picked segment"),
    ("/", "search both languages (Enter or Esc: back to the list)"),
    ("#", "go to a pair by its number (Enter: go; Esc: back to the list)"),
    ("1 … 5", "headlines: link the ranked candidate"),
    ("Z / Shift+Z", "undo / redo (another window's step: press twice)"),
]

_component = None


def _get():
    global _component
    if _component is None:
        import streamlit as st

        _component = st.components.v2.component(
            NAME, js=(HERE / "grid.js").read_text(encoding="utf-8"),
            css=(HERE / "grid.css").read_text(encoding="utf-8"))
    return _component


def review_grid(data: dict, *, key: str, on_message: Callable[[], Any]) -> Any:
    """Mount the grid with ``data`` (``align.grid.payload``); ``on_message``
    runs before the rerun whenever the grid sends operations or its view."""
    return _get()(data=data, key=key, on_msg_change=on_message)
