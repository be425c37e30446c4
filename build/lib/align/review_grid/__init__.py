"""The review grid, a Streamlit custom component (components v2): plain
HTML, CSS and JavaScript in this folder, no build step, nothing loaded from
the network. ``align.grid`` holds its protocol; this module only mounts it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
NAME = "taiyaku_review_grid"

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
