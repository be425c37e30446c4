"""Taiyaku (対訳) review app: check, correct and export what the aligner proposed.

    streamlit run app.py

A thin shell over the ``align`` package: the model and every edit live in
``align`` (edits, store, export); what to show lives in ``align.review``. Every
edit is written to SQLite (``$TAIYAKU_DB``) before the page redraws, so a
closed tab, a refresh or a killed server loses nothing; the open project and
pair are kept in the URL (``?project=3&pair=12``).
"""

from __future__ import annotations

import logging
import re
import sys
import threading
from pathlib import Path
from typing import Any

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from align import export, review  # noqa: E402
from align.encoders import DEFAULT_MODEL  # noqa: E402
from align.pipeline import MODES as PIPELINE_MODES  # noqa: E402
from align.edits import EditError  # noqa: E402
from align.errors import InputError  # noqa: E402
from align.store import ConflictError, Project, ProjectNotFound, Store, default_db_path  # noqa: E402

log = logging.getLogger("taiyaku.app")

SAMPLE = ROOT / "data" / "ukraine_talks_bloomberg_ja.txt"
SAMPLE_NAME = "Sample: Ukraine talks (Bloomberg) — Japanese article vs. its English headlines"
MODELS = [DEFAULT_MODEL, "sentence-transformers/LaBSE", "intfloat/multilingual-e5-small"]
MODES = list(PIPELINE_MODES)
VIEWS = ["Review", "Map", "Export", "New alignment"]
VIEW_ICONS = {"Review": ":material/fact_check:", "Map": ":material/grid_on:",
              "Export": ":material/download:", "New alignment": ":material/add:"}
PAGE_SIZES = [25, 50, 100]
ROW_SPEC = [0.75, 5, 5, 1.5]  # number | Japanese | English | score and status
MAX_CANDIDATES = 5

# (keys, what) for the sidebar; the buttons carry the same shortcuts.
SHORTCUTS = [
    ("J / K", "next / previous pair"),
    ("N", "next pair needing review"),
    ("A", "confirm pair, go to next"),
    ("Shift+A", "confirm all pairs up to here"),
    ("U", "unconfirm"),
    ("M / Shift+M", "merge with next / previous"),
    ("S", "split pair in two"),
    ("Shift+↑ / Shift+↓", "move first / last Japanese segment to previous / next pair"),
    ("Alt+↑ / Alt+↓", "move first / last English segment to previous / next pair"),
    ("I / Shift+I", "Japanese / English has no counterpart (1-0 / 0-1)"),
    ("Delete", "unlink pair (each segment alone)"),
    ("E", "edit or cut the pair's text"),
    ("1 … 5", "headlines: link the ranked candidate"),
    ("Z / Shift+Z", "undo / redo"),
]

CSS = """
<style>
[lang="ja"], .ja { font-family: "Noto Sans CJK JP", "Noto Sans JP", "Hiragino Kaku Gothic ProN",
  "Hiragino Sans", "Yu Gothic", "Meiryo", sans-serif; }
textarea, input, [data-baseweb="tag"] { font-family: "Source Sans", "Source Sans Pro", "Noto Sans CJK JP",
  "Noto Sans JP", "Hiragino Kaku Gothic ProN", "Yu Gothic", "Meiryo", sans-serif !important; }
.block-container { padding-top: 2.2rem; padding-bottom: 2rem; }
.st-key-pairlist { gap: 0 !important; }
.st-key-pairlist [data-testid="stHorizontalBlock"] { gap: 0.6rem; }
div[class*="st-key-row_"], div[class*="st-key-rowsel_"], div[class*="st-key-rowfocus_"] {
  border-bottom: 1px solid rgba(49, 51, 63, 0.10); padding: 0.3rem 0.35rem 0.25rem 0.2rem;
  border-left: 3px solid transparent; }
div[class*="st-key-rowsel_"] { scroll-margin-top: 4.5rem; scroll-margin-bottom: 1.5rem; }
div[class*="st-key-rowsel_"] { background: #fff6d9; border-left-color: #e0a100; border-radius: 4px; }
div[class*="st-key-rowfocus_"] { background: #eef4ff; }
div[class*="st-key-rowfocus_"] { border-left-color: #5b8def; }
.st-key-pairlist [data-testid="stMarkdownContainer"] { margin-bottom: 0 !important; }
.st-key-pairlist [data-testid="stMarkdownContainer"] p { margin: 0; }
.st-key-pairlist [data-testid="stElementContainer"] { margin: 0; }
.st-key-pairlist button[kind="tertiary"] { min-height: 1.6rem; padding: 0; color: #6b7280; }
.st-key-pairlist button[kind="tertiary"] p { font-size: 0.8rem; font-variant-numeric: tabular-nums; }
div[class*="st-key-rowsel_"] button[kind="tertiary"] { color: #111; font-weight: 700; }
.seg { line-height: 1.5; font-size: 0.95rem; }
.seg + .seg { border-top: 1px dashed rgba(49, 51, 63, 0.25); margin-top: 2px; padding-top: 2px; }
.seg.empty { color: #9aa0a6; font-style: italic; }
.alts { font-size: 0.74rem; color: #80868b; margin-top: 0.1rem; }
.alts .alt.linked { color: #14653a; font-weight: 600; }
.chip { display: inline-block; border-radius: 0.7rem; padding: 0 0.45rem; font-size: 0.78rem;
  font-weight: 600; line-height: 1.35rem; margin: 0 0.25rem 0.15rem 0; white-space: nowrap;
  font-variant-numeric: tabular-nums; }
.chip.status { font-weight: 500; }
.kind { font-size: 0.72rem; color: #80868b; white-space: nowrap; }
.listhead { font-size: 0.75rem; color: #80868b; text-transform: uppercase; letter-spacing: 0.04em; }
/* The action panel stays in view while the list scrolls. */
div[data-testid="stLayoutWrapper"]:has(> .st-key-panel) { position: sticky; top: 3.9rem; z-index: 2;
  max-height: calc(100vh - 4.5rem); overflow-y: auto; }
.st-key-panel button { min-height: 2rem; padding: 0.1rem 0.55rem; }
.st-key-panel button p { font-size: 0.86rem; }
.st-key-panel kbd { font-size: 0.7rem; margin-left: 0.15rem; }
.st-key-toolbar button { min-height: 2.2rem; }
.st-key-panel [data-testid="stMarkdownContainer"] p { margin-bottom: 0.2rem; }
.panelhead { font-size: 1.05rem; font-weight: 600; }
.cand { font-size: 0.88rem; line-height: 1.45; }
[data-testid="stMarkdownContainer"]:has(> .cand) { margin-bottom: 0 !important; }
.shortcuts { font-size: 0.8rem; border-collapse: collapse; width: 100%; }
.shortcuts td { padding: 0.12rem 0.25rem; vertical-align: top; border: none; }
.shortcuts kbd { font-size: 0.74rem; background: #f1f3f4; border: 1px solid #dadce0;
  border-bottom-width: 2px; border-radius: 4px; padding: 0 0.3rem; white-space: nowrap; }
.statline { font-size: 0.9rem; color: #3c4043; }
</style>
"""


# -- store and projects ---------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    return _open_store(str(default_db_path()))


_SAMPLE_LOCK = threading.Lock()


def sample_project(store: Store) -> int:
    """The sample article aligned against its headlines: created once, then resumed."""
    data = SAMPLE.read_bytes()
    with _SAMPLE_LOCK:
        import hashlib

        digest = hashlib.sha256(data).hexdigest()
        for info in store.list_projects():
            if info.name == SAMPLE_NAME and [s.sha256 for s in info.sources] == [digest]:
                return info.id
        from align.pipeline import align_texts
        from align.sources import read_bytes_source

        bar = st.progress(0.0, text="Aligning the sample article against its English headlines…")
        al = align_texts(read_bytes_source(data, SAMPLE.name), mode="auto",
                         progress=_progress_to(bar))
        bar.empty()
        return store.create_project(SAMPLE_NAME, al, sources=[(SAMPLE.name, data)],
                                    model=al.meta.get("model", DEFAULT_MODEL))


def _progress_to(bar):
    def report(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0,
                     text=f"{stage.capitalize()}… {done} / {total}")
    return report


def _int_param(name: str) -> int | None:
    value = st.query_params.get(name)
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def open_project(pid: int, sel: int = 0) -> Project:
    ss = st.session_state
    project = get_store().open_project(pid)
    ss.project = project
    ss.sel = review.clamp(project.current, sel)
    ss.editing = False
    ss.focus = ()
    return project


def ensure_project() -> Project | None:
    """The project to show: the URL's, else this session's, else the most
    recently changed one, else the sample (created on the very first run)."""
    ss = st.session_state
    store = get_store()
    wanted = _int_param("project")
    current = ss.get("project")
    if current is not None and current.store is not store:
        current = None  # the database moved (tests): start over
    # The URL wins only when it changed since this session last wrote it (a
    # link, an edited address); otherwise it is just lagging behind a switch.
    if current is not None and wanted in (None, current.id, ss.get("url_pid")):
        return current
    if wanted is not None:
        try:
            return open_project(wanted, (_int_param("pair") or 1) - 1)
        except ProjectNotFound:
            notice("warning", f"Project {wanted} does not exist (any more); "
                              "showing the most recent one instead.")
    projects = store.list_projects()
    if projects:
        return open_project(projects[0].id)
    try:
        return open_project(sample_project(store))
    except Exception as e:  # no sample file, or no model to align it with
        log.exception("the sample could not be prepared")
        notice("warning", f"The sample article could not be aligned ({e}). "
                          "Start with your own texts below.")
        return None


def sync_url(project: Project) -> None:
    params = {"project": str(project.id), "pair": str(st.session_state.sel + 1)}
    st.session_state.url_pid = project.id
    if {k: st.query_params.get(k) for k in params} != params:
        st.query_params.update(params)


# -- notices ---------------------------------------------------------------------

def notice(kind: str, message: str) -> None:
    st.session_state.setdefault("notices", []).append((kind, message))


def show_notices() -> None:
    for kind, message in st.session_state.pop("notices", []):
        if kind == "toast":
            st.toast(message, icon=":material/history:")
            continue
        {"warning": st.warning, "error": st.error, "info": st.info,
         "success": st.success}[kind](message, icon={"warning": ":material/warning:",
                                                     "error": ":material/error:",
                                                     "info": ":material/info:",
                                                     "success": ":material/check_circle:"}[kind])


# -- edits (button callbacks: run before the page redraws) ---------------------------

def _shown(al) -> list[int]:
    return review.visible(al, st.session_state.get("filter") or "all")


def do(op: str, *args: Any, pair_op: bool = True, advance: bool = False) -> None:
    """Apply one edit to the current pair (``pair_op``: the pair index goes
    first) and save it; move the cursor to what changed."""
    ss = st.session_state
    project: Project = ss.project
    k = ss.sel
    full = (k, *args) if pair_op else args
    try:
        al = project.apply(op, *full)
    except ConflictError as e:
        ss.sel = review.clamp(project.current, k)
        notice("warning", str(e))
        return
    except EditError as e:
        notice("warning", str(e))
        return
    except Exception as e:  # never a traceback in the page
        log.exception("edit %s%r failed", op, full)
        notice("error", f"The edit failed: {e}")
        return
    if advance:
        ss.sel = review.step(_shown(al), k, +1)
    else:
        ss.sel = review.focus_of(al, op, full, k)
    ss.focus = ()
    if op in ("edit_text", "split_segment"):
        ss.editing = True  # keep the editor open on the changed pair


def do_history(which: str) -> None:
    ss = st.session_state
    project: Project = ss.project
    try:
        cursor = project.cursor
        if which == "undo":
            al = project.undo()
            done = project.steps[cursor - 1] if cursor > 0 else None
        else:
            al = project.redo()
            done = project.steps[cursor]
    except EditError as e:  # includes ConflictError
        notice("warning", str(e))
        ss.sel = review.clamp(project.current, ss.sel)
        return
    except Exception as e:
        log.exception("%s failed", which)
        notice("error", f"{which.capitalize()} failed: {e}")
        return
    ss.sel = review.focus_of(al, done.op, done.args, ss.sel) if done else review.clamp(al, ss.sel)
    ss.focus = ()
    if done:
        notice("toast", f"{'Undone' if which == 'undo' else 'Redone'}: {done.op.replace('_', ' ')}")


def select(k: int) -> None:
    ss = st.session_state
    ss.sel = review.clamp(ss.project.current, k)


def move(delta: int) -> None:
    ss = st.session_state
    al = ss.project.current
    ss.sel = review.clamp(al, review.step(_shown(al), ss.sel, delta))


def next_review() -> None:
    ss = st.session_state
    al = ss.project.current
    k = review.next_needing_review(al, ss.sel)
    if k is None:
        notice("success", "No pair needs review: every pair is confirmed or confident.")
    else:
        ss.sel = k


def on_page(key: str) -> None:
    ss = st.session_state
    al = ss.project.current
    items = review.page_items(_shown(al), ss.get(key) or 1, _page_size())
    if items:
        ss.sel = items[0]


def _page_size() -> int:
    return st.session_state.get("page_size") or PAGE_SIZES[0]


def on_filter() -> None:
    ss = st.session_state
    al = ss.project.current
    shown = _shown(al)
    if shown and ss.sel not in shown:
        ss.sel = shown[review.anchor(shown, ss.sel)]


def on_pick_project() -> None:
    ss = st.session_state
    pid = ss.get("proj_pick")
    if pid is not None and pid != ss.project.id:
        try:
            open_project(pid)
        except ProjectNotFound:
            notice("warning", f"Project {pid} no longer exists.")


def save_text(side: str, seg_id: int, key: str) -> None:
    """Read the text box when the button is clicked, not when it was drawn:
    typing and clicking Save at once sends both in the same rerun."""
    do("edit_text", side, seg_id, st.session_state.get(key, ""), pair_op=False)


def cut_at_break(side: str, seg_id: int, key: str) -> None:
    segs = getattr(st.session_state.project.current, side)
    original = segs[seg_id].text if seg_id < len(segs) else ""
    at = review.line_break_cut(original, st.session_state.get(key) or "")
    if at is None:
        notice("warning", "To cut a segment, put one line break where it should be cut "
                          "and change nothing else.")
        return
    do("split_segment", side, seg_id, at, pair_op=False)


def cut_at_offset(side: str, seg_id: int, key: str) -> None:
    do("split_segment", side, seg_id, st.session_state.get(key), pair_op=False)


def split_here(ja_key: str, en_key: str) -> None:
    do("split_pair", st.session_state.get(ja_key), st.session_state.get(en_key))


def relink_chosen(key: str) -> None:
    do("relink", list(st.session_state.get(key) or []))


def toggle_editor() -> None:
    st.session_state.editing = not st.session_state.get("editing", False)


def on_map_select() -> None:
    ss = st.session_state
    state = ss.get("map")
    ks = review.selected_pairs(state.get("selection") if state else None)
    ks = [k for k in ks if 0 <= k < len(ss.project.current.pairs)]
    if not ks:
        return
    ss.sel = ks[0]
    ss.focus = tuple(ks)
    ss.filter = "all"
    ss.pending_view = "Review"
    first, last = ks[0] + 1, ks[-1] + 1
    notice("info", f"Pair {first} selected on the map." if len(ks) == 1 else
           f"{len(ks)} pairs selected on the map ({first}–{last}), highlighted in blue.")


# -- layout pieces ----------------------------------------------------------------

def sidebar(project: Project) -> None:
    ss = st.session_state
    store = get_store()
    with st.sidebar:
        st.markdown("### 対訳 Taiyaku")
        st.caption("Japanese–English alignment review")
        infos = store.list_projects()
        labels = {i.id: f"{i.name} · {i.mode} · {i.updated.astimezone():%b %d %H:%M} · #{i.id}"
                  for i in infos}
        if project.id not in labels:
            labels[project.id] = f"project {project.id}"
        ss.proj_pick = project.id
        st.selectbox("Project (every edit is saved)", list(labels), key="proj_pick", index=None,
                     format_func=lambda pid: labels.get(pid, str(pid)), on_change=on_pick_project,
                     help="Your projects, the most recently changed first: pick one to resume it "
                          "where you left off, undo history included.")
        info = project.info
        sources = ", ".join(f"{s.filename} ({s.sha256[:8]})" for s in info.sources) or "—"
        st.caption(f"**Sources:** {sources}  \n**Mode:** {info.mode} · **Model:** {info.model or '—'}"
                   f"  \n**Created:** {info.created.astimezone():%Y-%m-%d %H:%M}"
                   f" · **Edits:** {project.cursor}")
        st.button("New alignment…", icon=":material/add:", key="side_new",
                  on_click=lambda: ss.__setitem__("pending_view", "New alignment"), width="stretch")
        st.markdown("#### Keyboard")
        rows = "".join(f"<tr><td>{_kbd(keys)}</td><td>{what}</td></tr>" for keys, what in SHORTCUTS)
        st.markdown(f'<table class="shortcuts">{rows}</table>', unsafe_allow_html=True)
        st.caption("Letter keys do nothing while you type in a text box.")


def _kbd(keys: str) -> str:
    return " ".join(f"<kbd>{part}</kbd>" if part not in ("/", "…") else part
                    for part in keys.split(" "))


def header(project: Project) -> None:
    al = project.current
    s = review.stats(al)
    name = project.info.name
    st.markdown(f"#### {_esc(name)}")
    pct = f"{100 * s.done:.0f}%"
    chips = (review.score_chip(review.GREEN, f"{s.high} high")
             + review.score_chip(review.AMBER, f"{s.medium} medium")
             + review.score_chip(0.0, f"{s.low} low"))
    st.markdown(
        f'<div class="statline"><b>{s.pairs}</b> pairs ({al.mode}) · <b>{s.confirmed}</b> confirmed '
        f'({pct}) · <b>{s.edited}</b> edited · <b>{s.review}</b> need review &nbsp; {chips}</div>',
        unsafe_allow_html=True)
    st.progress(s.done)


def _esc(text: str) -> str:
    import html
    return html.escape(text)


# -- review view -------------------------------------------------------------------

def view_review(project: Project) -> None:
    ss = st.session_state
    al = project.current
    if not al.pairs:
        st.info("This alignment has no pairs.")
        return
    ss.sel = review.clamp(al, ss.sel)
    sel = ss.sel
    ss.setdefault("filter", "all")
    shown = _shown(al)
    size = _page_size()
    pages = review.n_pages(len(shown), size)
    page = min(review.page_of(shown, sel, size), pages)
    # A new key whenever the page is set from here (J/K, a jump): the widget
    # then shows ``default``; clicking it calls on_page with its own key.
    pager = f"pager_{page}_{pages}_{size}"
    s = review.stats(al)

    with st.container(horizontal=True, vertical_alignment="center", key="toolbar", gap="small"):
        st.segmented_control(
            "Show", ["all", "review"], key="filter", required=True, on_change=on_filter,
            format_func=lambda f: f"All {s.pairs}" if f == "all" else f"Needs review {s.review}",
            label_visibility="collapsed")
        st.button("Prev", key="nav_prev", shortcut="K", on_click=move, args=(-1,),
                  icon=":material/keyboard_arrow_up:")
        st.button("Next", key="nav_next", shortcut="J", on_click=move, args=(1,),
                  icon=":material/keyboard_arrow_down:")
        st.button("Next to review", key="nav_review", shortcut="N", help="The next pair that needs review", on_click=next_review,
                  icon=":material/priority_high:")
        st.pagination(pages, default=page, key=pager, on_change=on_page, args=(pager,),
                      max_visible_pages=7)
        st.selectbox("Pairs per page", PAGE_SIZES, key="page_size", label_visibility="collapsed",
                     width=120, format_func=lambda n: f"{n} / page")

    left, right = st.columns([6.7, 3.3], gap="medium")
    with left:
        pair_list(al, review.page_items(shown, page, size), sel)
    with right, st.container(key="panel"):
        panel(project, al, sel)
    scroll_to_selection(sel)


def pair_list(al, items: list[int], sel: int) -> None:
    focus = set(st.session_state.get("focus") or ())
    headlines = al.mode == "headlines"
    with st.container(key="pairlist", gap=None):
        head = st.columns(ROW_SPEC, gap="small")
        head[1].markdown('<span class="listhead">日本語 Japanese</span>', unsafe_allow_html=True)
        head[2].markdown('<span class="listhead">English</span>', unsafe_allow_html=True)
        head[3].markdown('<span class="listhead">score</span>', unsafe_allow_html=True)
        if not items:
            st.success("Nothing needs review: every pair is confirmed or confident.",
                       icon=":material/check_circle:")
            return
        for k in items:
            p = al.pairs[k]
            kind = "rowsel" if k == sel else "rowfocus" if k in focus else "row"
            with st.container(key=f"{kind}_{k}"):
                c = st.columns(ROW_SPEC, gap="small")
                c[0].button(str(k + 1), key=f"go_{k}", type="tertiary", on_click=select, args=(k,),
                            help="Select this pair")
                c[1].markdown(review.ja_html(al, p) + (review.candidates_html(p) if headlines else ""),
                              unsafe_allow_html=True)
                c[2].markdown(review.en_html(al, p), unsafe_allow_html=True)
                c[3].markdown(review.meta_html(p), unsafe_allow_html=True)


SCROLL_JS = """<script>
(function () {
  let tries = 0;
  function go() {
    const row = document.querySelector('div[class*="st-key-rowsel_%d"]');
    if (row && !row.closest('[data-stale="true"]')) {
      row.scrollIntoView({block: "nearest"});
    } else if (tries++ < 40) {
      setTimeout(go, 50);
    }
  }
  go();
})();
</script>"""


def scroll_to_selection(sel: int) -> None:
    """Keep the selected row in view when the keyboard moves it (J/K, N, a
    jump from the map). Our own script, with no text from the alignment."""
    ss = st.session_state
    if ss.get("scrolled_to") == (ss.project.id, sel):
        return
    ss.scrolled_to = (ss.project.id, sel)
    st.html(SCROLL_JS % int(sel), unsafe_allow_javascript=True, width=1)


def panel(project: Project, al, sel: int) -> None:
    p = al.pairs[sel]
    headlines = al.mode == "headlines"
    st.markdown(f'<span class="panelhead">Pair {sel + 1}</span> '
                f'<span class="kind">of {len(al.pairs)}</span> &nbsp;{review.meta_html(p)}',
                unsafe_allow_html=True)
    confirmed = p.status == "confirmed"
    with st.container(horizontal=True, gap="small"):
        st.button("Confirm", key="act_confirm", shortcut="A", type="primary", disabled=confirmed,
                  icon=":material/check:", on_click=do, args=("confirm",), kwargs={"advance": True})
        st.button("All up to here", key="act_confirm_through", shortcut="Shift+A",
                  icon=":material/done_all:", on_click=do, args=("confirm_through",),
                  kwargs={"advance": True},
                  help="Confirm every pair from the first through this one")
        st.button("Unconfirm", key="act_unconfirm", shortcut="U", disabled=not confirmed,
                  icon=":material/lock_open:", on_click=do, args=("unconfirm",))
    if headlines:
        candidates(al, p)
    else:
        last = sel == len(al.pairs) - 1
        with st.container(horizontal=True, gap="small"):
            st.button("Merge ↑", key="act_merge_prev", shortcut="Shift+M", disabled=sel == 0,
                      on_click=do, args=("merge_prev",), help="Merge with the previous pair")
            st.button("Merge ↓", key="act_merge_next", shortcut="M", disabled=last,
                      on_click=do, args=("merge_next",), help="Merge with the next pair")
            st.button("Split", key="act_split", shortcut="S",
                      disabled=len(p.ja) < 2 and len(p.en) < 2, on_click=do, args=("split_pair",),
                      help="Split the pair in two between its segments (in the middle; "
                           "choose the place under Edit)")
        st.caption("Move a segment to the neighbouring pair")
        with st.container(horizontal=True, gap="small"):
            st.button("JA ↑", key="act_ja_up", shortcut="Shift+Up", disabled=sel == 0 or not p.ja,
                      on_click=do, args=("shift", "ja", "up"),
                      help="Move this pair's first Japanese segment to the previous pair")
            st.button("JA ↓", key="act_ja_down", shortcut="Shift+Down", disabled=last or not p.ja,
                      on_click=do, args=("shift", "ja", "down"),
                      help="Move this pair's last Japanese segment to the next pair")
            st.button("EN ↑", key="act_en_up", shortcut="Alt+Up", disabled=sel == 0 or not p.en,
                      on_click=do, args=("shift", "en", "up"),
                      help="Move this pair's first English segment to the previous pair")
            st.button("EN ↓", key="act_en_down", shortcut="Alt+Down", disabled=last or not p.en,
                      on_click=do, args=("shift", "en", "down"),
                      help="Move this pair's last English segment to the next pair")
        both = bool(p.ja and p.en)
        with st.container(horizontal=True, gap="small"):
            st.button("JA alone (1-0)", key="act_ins_ja", shortcut="I", disabled=not both,
                      on_click=do, args=("insert_empty", "ja"),
                      help="The Japanese has no English counterpart: give it an empty one")
            st.button("EN alone (0-1)", key="act_ins_en", shortcut="Shift+I", disabled=not both,
                      on_click=do, args=("insert_empty", "en"),
                      help="The English has no Japanese counterpart: give it an empty one")
            st.button("Unlink", key="act_delete", shortcut="Delete",
                      disabled=len(p.ja) + len(p.en) < 2, icon=":material/link_off:",
                      on_click=do, args=("delete_pair",),
                      help="Delete the pair: each of its segments becomes a pair of its own")
    with st.container(horizontal=True, gap="small"):
        editing = st.session_state.get("editing", False)
        st.button("Close editor" if editing else "Edit text", key="act_edit", shortcut="E",
                  icon=":material/edit:", on_click=toggle_editor)
        st.button("Undo", key="act_undo", shortcut="Z", disabled=not project.can_undo,
                  icon=":material/undo:", on_click=do_history, args=("undo",))
        st.button("Redo", key="act_redo", shortcut="Shift+Z", disabled=not project.can_redo,
                  icon=":material/redo:", on_click=do_history, args=("redo",))
    if st.session_state.get("editing"):
        editor(project, al, sel, p)


def candidates(al, p) -> None:
    st.caption("Ranked candidates for this headline (#n: Japanese sentence n). "
               "Pick one, or several below.")
    linked = set(p.ja)
    for rank, c in enumerate(p.candidates[:MAX_CANDIDATES], 1):
        text = "".join(al.ja[j].text for j in c.ja)
        mark = bool(c.ja) and set(c.ja) <= linked
        row = st.container(horizontal=True, gap="small", vertical_alignment="top", wrap=False)
        row.button("Linked" if mark else "Link", key=f"cand_{rank}", shortcut=str(rank),
                   type="primary" if mark else "secondary", on_click=do,
                   args=("relink", list(c.ja)), help="Link this sentence alone")
        row.markdown(f'<div class="cand">{review.score_chip(c.score)}'
                         f'<span class="kind">#{", ".join(str(j + 1) for j in c.ja)}</span> '
                         f'<span lang="ja">{_esc(review.snippet(text, 52))}</span></div>',
                         unsafe_allow_html=True)
    ranked = [j for c in p.candidates for j in c.ja]
    options = list(dict.fromkeys(ranked + list(p.ja) + list(range(len(al.ja)))))
    key = f"links_{st.session_state.project.cursor}_{st.session_state.sel}"
    chosen = st.multiselect("Linked sentences", options, default=list(p.ja), key=key,
                            format_func=lambda j: f"{j + 1} · {review.snippet(al.ja[j].text, 40)}",
                            help="The Japanese sentences this headline summarises, in order")
    st.button("Link these sentences", key="act_relink", on_click=relink_chosen, args=(key,),
              disabled=list(chosen) == list(p.ja), icon=":material/link:")


def editor(project: Project, al, sel: int, p) -> None:
    version = project.cursor
    with st.container(border=True, key="editor"):
        if al.mode == "document" and (len(p.ja) > 1 or len(p.en) > 1):
            st.caption("Split the pair after …")
            c = st.columns(2)
            ja_key, en_key = f"spl_ja_{version}_{sel}", f"spl_en_{version}_{sel}"
            c[0].selectbox("Japanese segments in the first part", range(len(p.ja) + 1),
                           index=(len(p.ja) + 1) // 2, key=ja_key)
            c[1].selectbox("English segments in the first part", range(len(p.en) + 1),
                           index=(len(p.en) + 1) // 2, key=en_key)
            st.button("Split pair here", key="act_split_at", on_click=split_here,
                      args=(ja_key, en_key))
        for side, ids in (("ja", p.ja), ("en", p.en)):
            lang = "Japanese" if side == "ja" else "English"
            for n, seg_id in enumerate(ids, 1):
                seg = getattr(al, side)[seg_id]
                label = f"{lang} segment {n}" + (f" of {len(ids)}" if len(ids) > 1 else "")
                key = f"ed_{side}_{seg_id}_{version}"
                cuttable = not (al.mode == "headlines" and side == "en")
                st.text_area(label, seg.text, key=key, height="content",
                             help="Edit and save; or put one line break where the segment "
                                  "should be cut and press Cut at line break"
                             if cuttable else "Edit and save")
                with st.container(horizontal=True, gap="small"):
                    st.button("Save text", key=f"save_{key}", on_click=save_text,
                              args=(side, seg_id, key))
                    if cuttable:
                        st.button("Cut at line break", key=f"cutbr_{key}", on_click=cut_at_break,
                                  args=(side, seg_id, key),
                                  help="Cut the segment where you put a line break")
                    for at in review.sentence_cuts(seg.text, side)[:3] if cuttable else ():
                        st.button(f"Cut after “…{seg.text[max(0, at - 8):at]}”",
                                  key=f"cut_{key}_{at}", on_click=do,
                                  args=("split_segment", side, seg_id, at),
                                  kwargs={"pair_op": False},
                                  help="Cut the segment at this sentence end")
                if cuttable and len(seg.text) > 1:
                    c = st.columns([2, 1], vertical_alignment="bottom")
                    c[0].number_input("Cut at character", 1, len(seg.text) - 1,
                                      value=max(1, len(seg.text) // 2), key=f"off_{key}")
                    c[1].button("Cut", key=f"cutat_{key}", on_click=cut_at_offset,
                                args=(side, seg_id, f"off_{key}"),
                                help="Cut the segment before this character")


# -- map view --------------------------------------------------------------------------

def similarities(project: Project):
    """The similarity matrix of the current segments, cached per text and model."""
    from align.encoders import is_loaded, load_encoder
    from align.sources import headline_key

    al = project.current
    model = project.info.model or al.meta.get("model") or DEFAULT_MODEL
    if not (model == DEFAULT_MODEL or is_loaded(model) or Path(model).is_dir()):
        model = DEFAULT_MODEL  # a picture is not worth a model download: the bundled one draws it
    key = (model, tuple(s.text for s in al.ja), tuple(s.text for s in al.en))
    cache = st.session_state.setdefault("sim_cache", {})
    if key in cache:
        return cache[key]
    try:
        with st.spinner(f"Embedding {len(al.ja) + len(al.en)} segments with {model}…"):
            encoder = load_encoder(None if model == DEFAULT_MODEL else model)
            sims = review.similarity_matrix(al, encoder.encode,
                                            headline_key if al.mode == "headlines" else None)
        note = f"cosine similarity ({model})"
    except Exception as e:
        log.warning("no encoder for the map: %s", e)
        if al.mode != "headlines":
            sims, note = None, f"the model {model} could not be loaded ({e})"
        else:
            sims, note = review.candidate_matrix(al), "candidate scores (model unavailable)"
    cache.clear()  # keep one matrix per session
    cache[key] = (sims, note)
    return sims, note


def view_map(project: Project) -> None:
    al = project.current
    sims, note = similarities(project)
    if sims is None:
        st.warning(f"No map: {note}.")
        return
    fig = review.heatmap_figure(al, sims, current=st.session_state.sel)
    st.caption(f"Blue: {note}. Dots: the chosen pairs, green / amber / red by confidence; the ring "
               "is the current pair. Drag a box over part of the path to review "
               "those pairs.")
    st.plotly_chart(fig, key="map", on_select=on_map_select, selection_mode=("points", "box"),
                    config={"displaylogo": False, "scrollZoom": True})


# -- export view -------------------------------------------------------------------------

def _slug(name: str) -> str:
    return re.sub(r"[^\w.-]+", "_", name, flags=re.UNICODE).strip("_")[:60] or "alignment"


def view_export(project: Project) -> None:
    al = project.current
    s = review.stats(al)
    st.markdown("Download the current state: the edited text, as you see it in the review.")
    confirmed = st.checkbox(f"Confirmed pairs only ({s.confirmed} of {s.pairs})", key="exp_confirmed")
    c = st.columns(3)
    header_row = c[0].checkbox("TSV: header row", key="exp_header")
    scores = c[1].checkbox("TSV: score and status columns", key="exp_score")
    bom = c[2].checkbox("TSV: UTF-8 BOM (Excel on Japanese Windows)", key="exp_bom")
    base = _slug(project.info.name)
    tsv = export.to_tsv(al, confirmed_only=confirmed, header=header_row, score=scores, bom=bom)
    with st.container(horizontal=True, gap="small"):
        st.download_button("Download TSV", tsv.encode("utf-8"), file_name=f"{base}.tsv",
                           mime="text/tab-separated-values", key="dl_tsv", type="primary",
                           icon=":material/download:", on_click="ignore")
        st.download_button("Download JSON", lambda: export.render(al, "json", confirmed_only=confirmed),
                           file_name=f"{base}.json", mime="application/json", key="dl_json",
                           on_click="ignore")
        st.download_button("Download TMX", lambda: export.render(al, "tmx", confirmed_only=confirmed),
                           file_name=f"{base}.tmx", mime="application/x-tmx+xml", key="dl_tmx",
                           on_click="ignore")
        st.download_button("Download XLSX", lambda: export.render(al, "xlsx", confirmed_only=confirmed),
                           file_name=f"{base}.xlsx", key="dl_xlsx", on_click="ignore",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    lines = tsv.lstrip("\ufeff").split("\n")
    shown = "\n".join(lines[:12]) + ("\n…" if len(lines) > 13 else "")
    st.caption(f"TSV preview ({len([x for x in lines if x])} lines)")
    st.code(shown or "(nothing to export)", language=None, wrap_lines=True)


# -- new alignment -------------------------------------------------------------------------

def _upload_text(upload) -> tuple[str, bytes]:
    from align.sources import read_bytes_source

    data = upload.getvalue()
    return read_bytes_source(data, upload.name), data


def view_new() -> None:
    ss = st.session_state
    st.markdown("Upload a Japanese file and its English counterpart, **or** one Japanese article "
                "whose `原題:` line lists the English headlines, **or** paste text.")
    c = st.columns(2)
    ja_file = c[0].file_uploader("Japanese text (or an article with a 原題: line)", key="up_ja",
                                 help=".txt, .md, .html or .docx; UTF-8, UTF-16, Shift_JIS or EUC-JP")
    en_file = c[1].file_uploader("English text (leave empty for an article with 原題:)", key="up_en")
    with st.expander("…or paste text", expanded=bool(ss.get("paste_ja"))):
        p = st.columns(2)
        p[0].text_area("Japanese", key="paste_ja", height=160)
        p[1].text_area("English (optional)", key="paste_en", height=160)
    c = st.columns([1.7, 1.6, 2])
    mode = c[0].segmented_control("Mode", MODES, key="new_mode", required=True, default="auto",
                                  help="auto: headlines when the English is a few short lines, "
                                       "else document (full translations)")
    model = c[1].selectbox("Model", MODELS, key="new_model", accept_new_options=True,
                           help="use-m3 is bundled and works offline; any sentence-transformers "
                                "model name or folder also works (LaBSE is the quality option)")
    name = c[2].text_input("Project name", key="new_name", placeholder="from the file names")
    if st.button("Align", type="primary", key="new_align", icon=":material/join_inner:"):
        create_from_inputs(ja_file, en_file, mode or "auto", model or DEFAULT_MODEL, name)

    st.divider()
    st.markdown("**Open an exported alignment** (Taiyaku JSON, TMX or a ja/en TSV) as a new project")
    imp = st.file_uploader("Alignment file", key="up_import", type=None)
    if st.button("Open as project", key="new_import", disabled=imp is None):
        import_alignment(imp)
    st.button("Open the sample article", key="new_sample", on_click=_open_sample)


def _open_sample() -> None:
    st.session_state.want_sample = True


def create_from_inputs(ja_file, en_file, mode: str, model: str, name: str) -> None:
    ss = st.session_state
    try:
        if ja_file is not None:
            ja_text, ja_bytes = _upload_text(ja_file)
            sources = [(ja_file.name, ja_bytes)]
            en_text = None
            if en_file is not None:
                en_text, en_bytes = _upload_text(en_file)
                sources.append((en_file.name, en_bytes))
            default_name = " + ".join(Path(f.name).stem for f in (ja_file, en_file) if f)
        elif en_file is not None:
            raise InputError("give the Japanese file too (the English alone has nothing to align to)")
        else:
            ja_text, en_text = (ss.get("paste_ja") or ""), (ss.get("paste_en") or "")
            if not ja_text.strip():
                raise InputError("nothing to align: upload a Japanese file or paste its text")
            en_text = en_text if en_text.strip() else None
            sources = [("pasted Japanese", ja_text.encode("utf-8"))]
            if en_text:
                sources.append(("pasted English", en_text.encode("utf-8")))
            default_name = "Pasted text " + review.snippet(ja_text, 20)
        from align.pipeline import align_texts

        bar = st.progress(0.0, text="Reading…")
        al = align_texts(ja_text, en_text, mode=mode,
                         model=None if model == DEFAULT_MODEL else model, progress=_progress_to(bar))
        bar.empty()
        pid = get_store().create_project(name.strip() or default_name, al, sources=sources,
                                         model=al.meta.get("model", model))
    except (InputError, EditError) as e:
        st.error(str(e), icon=":material/error:")
        return
    except Exception as e:  # a model that will not load, a library failing: one line
        log.exception("alignment failed")
        st.error(f"Alignment failed: {e}", icon=":material/error:")
        return
    open_project(pid)
    ss.pending_view = "Review"
    notice("success", f"Aligned: {len(al.pairs)} pairs ({al.mode}). Every edit is saved as you go.")
    if al.meta.get("warning"):
        notice("warning", al.meta["warning"])
    st.rerun()


def import_alignment(upload) -> None:
    from align.imports import load_alignment
    from align.sources import MAX_BYTES

    ss = st.session_state
    try:
        data = upload.getvalue()
        if len(data) > MAX_BYTES:
            raise InputError(f"{upload.name}: too large (the limit is {MAX_BYTES // 2**20} MB)")
        al = load_alignment(data, upload.name)
        pid = get_store().create_project(Path(upload.name).stem, al, sources=[(upload.name, data)],
                                         model=str(al.meta.get("model", "")))
    except (InputError, EditError) as e:
        st.error(str(e), icon=":material/error:")
        return
    except Exception as e:
        log.exception("import failed")
        st.error(f"{upload.name}: cannot open ({e})", icon=":material/error:")
        return
    open_project(pid)
    ss.pending_view = "Review"
    notice("success", f"Opened {upload.name}: {len(al.pairs)} pairs.")
    st.rerun()


# -- the page -----------------------------------------------------------------------------

def main() -> None:
    st.set_page_config(page_title="Taiyaku 対訳 — review", page_icon=str(ROOT / "data" / "favicon.png"),
                       layout="wide")
    st.html(CSS)
    ss = st.session_state
    if ss.pop("want_sample", False):
        open_project(sample_project(get_store()))
        ss.pending_view = "Review"
    project = ensure_project()
    if project is None:  # nothing to review yet
        st.markdown("### 対訳 Taiyaku")
        show_notices()
        view_new()
        return
    if "pending_view" in ss:
        ss.view = ss.pop("pending_view")
    ss.setdefault("view", "Review")
    sidebar(project)
    header(project)
    view = st.segmented_control("View", VIEWS, key="view", required=True,
                                format_func=lambda v: f"{VIEW_ICONS[v]} {v}", label_visibility="collapsed")
    show_notices()
    if view == "Map":
        view_map(project)
    elif view == "Export":
        view_export(project)
    elif view == "New alignment":
        view_new()
    else:
        view_review(project)
    sync_url(project)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # the last net: a message, never a traceback
        log.exception("page failed")
        st.error(f"Something went wrong: {exc}. Your edits are saved; reload the page to go on.",
                 icon=":material/error:")
