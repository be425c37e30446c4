"""Taiyaku (対訳) review app: check, correct and export what the aligner proposed.

    streamlit run app.py        (from a checkout)
    taiyaku app                 (installed)

A thin shell over the ``align`` package: it lays out the views and wires
events. The review grid runs in the browser (``align/review_grid``) and sends
each operation to ``align.grid``, which saves it through ``align.store``
before acknowledging; projects come from ``align.projects``, the map from
``align.heatmap``, downloads from ``align.export``.
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import datetime, timezone

import streamlit as st

# Absolute imports: Streamlit may run this file as a script (`taiyaku app`).
from align import export, formats, grid, heatmap, projects, rescoring, review
from align.encoders import DEFAULT_MODEL
from align.errors import TaiyakuError
from align.model import Alignment
from align.pipeline import MODES
from align.review_grid import KEYS, review_grid
from align.store import Project, ProjectNotFound, Store, default_db_path

log = logging.getLogger("taiyaku.app")

MODELS = [DEFAULT_MODEL, "sentence-transformers/LaBSE", "intfloat/multilingual-e5-small"]
VIEWS = ["Review", "Map", "Export", "Corpus", "New alignment"]
VIEW_ICONS = {"Review": ":material/fact_check:", "Map": ":material/grid_on:", "Export": ":material/download:",
              "Corpus": ":material/folder_open:", "New alignment": ":material/add:"}
USER_ERRORS = TaiyakuError  # every error the package raises on purpose

CSS = """<style>
.block-container { padding-top: 2rem; padding-bottom: 1rem; }
@media (max-width: 1400px) { .block-container { padding-left: 1.5rem; padding-right: 1.5rem; } }
.shortcuts { font-size: 0.8rem; border-collapse: collapse; width: 100%; }
.shortcuts td { padding: 0.1rem 0.25rem; vertical-align: top; border: none; }
.shortcuts kbd { font-size: 0.74rem; background: #f1f3f4; border: 1px solid #dadce0; border-radius: 4px;
  padding: 0 0.3rem; white-space: nowrap; }
</style>"""


def plain(text: str) -> str:
    """Data shown inside Markdown: every punctuation mark escaped, so a file
    name or a model name can never become a link, an image or a heading."""
    return re.sub(r"([\\`*_{}\[\]()<>#+\-.!|~:\"'&$%=^;,/?@])", r"\\\1", " ".join(str(text).split()))


@st.cache_resource(show_spinner=False)
def _open_store(path: str) -> Store:
    return Store(path)


def get_store() -> Store:
    return _open_store(str(default_db_path()))


def notice(kind: str, message: str) -> None:
    st.session_state.setdefault("notices", []).append((kind, message))


def show_notices() -> None:
    for kind, message in st.session_state.pop("notices", []):
        getattr(st, kind)(plain(message))  # messages name files and models: shown as text


def progress_bar(text: str):
    bar = st.progress(0.0, text=text)

    def report(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / total, 1.0) if total else 1.0, text=f"{stage.capitalize()}… {done} / {total}")
    return bar, report


# -- which project -------------------------------------------------------------------

def open_project(pid: int) -> Project:
    store = get_store()
    project = store.open_project(pid)
    store.touch(pid)
    rescoring.warm_up(project.current)
    st.session_state.project = project
    st.query_params["project"] = str(pid)
    return project


def deleted_elsewhere(pid: int) -> None:
    """Forget a project another window deleted: the page opens another, whose grid
    takes no key until the reviewer has seen the switch (keys meant for the deleted
    project may still be coming)."""
    st.session_state.pop("project", None)
    st.query_params.pop("project", None)
    notice("warning", f"Another window deleted project {pid}; showing the most recent one.")
    st.session_state.grid_hold = (f"Another window deleted project {pid}: this is another project. "
                                  "Press Enter to review it (keys are held until then).")


def current_project() -> Project | None:
    """The URL's project, else this session's, else the most recently opened,
    else the sample (created on the very first run)."""
    ss, store = st.session_state, get_store()
    current = ss.get("project")
    if current is not None and current.store is not store:
        current = None  # the database moved (tests): start over
    wanted = st.query_params.get("project")
    if current is not None and wanted in (None, str(current.id)):
        try:
            current.refresh()  # another window's edits, for the views drawn from it (Export, Map)
            return current
        except ProjectNotFound:
            deleted_elsewhere(current.id)
            wanted = None
    if wanted is not None:
        try:
            return open_project(int(wanted))
        except (ValueError, OverflowError, ProjectNotFound):
            notice("warning", f"There is no project {plain(wanted[:40])}; showing the most recent one.")
    rows = projects.project_rows(store)
    if rows:
        return open_project(rows[0].id)
    try:
        bar, report = progress_bar("Aligning the sample article against its English headlines…")
        pid = projects.sample_project(store, report)
        bar.empty()
        return open_project(pid)
    except Exception as e:  # no sample file, or no model: the app still opens
        log.exception("the sample could not be prepared")
        notice("warning", f"The sample article could not be aligned ({plain(e)}). Start with your own texts.")
        return None


# -- the review grid --------------------------------------------------------------------

def grid_key(project: Project) -> str:
    return f"grid_{project.id}"


def on_grid_message() -> None:
    """An operation (or a view change) from the grid: applied and saved
    before the grid is drawn again with the acknowledgement."""
    ss = st.session_state
    project: Project = ss.project
    result = ss.get(grid_key(project))
    message = result.get("msg") if result is not None else None
    if not message:
        return
    ss.grid_have = (project.id, grid.have(message))
    try:
        client, ops, view = grid.parse(message)
        synced = grid.sync(project, message)  # a tab back in view: another window's changes
        if synced:
            ss.grid_notice = synced
        pid, kept = ss.get("ack") or (None, None)
        kept = kept if pid == project.id else None
        ack = grid.apply_ops(project, client, ops, rescore=rescoring.rescore_edited,
                             base=grid.base(message), kept=kept, since=grid.since(message))
        if ack is not None:
            ss.ack = (project.id, ack)
        if view is not None and view != ss.get("saved_view"):
            ss.view_to_save = (project.id, view)  # after the acknowledgement is on its way
    except ProjectNotFound:  # the grid's fragment reruns the page, which opens another
        deleted_elsewhere(project.id)
    except USER_ERRORS as e:
        ss.grid_notice = str(e)


@st.fragment
def view_review(progress) -> None:
    """The grid, rerun alone on each of its messages: the acknowledgement
    carries only what changed (``grid.payload``'s ``sent``); ``progress`` (a
    slot in the sidebar, or None) follows each acknowledgement."""
    ss = st.session_state
    project: Project | None = ss.get("project")
    if project is None:  # deleted in another window (on_grid_message)
        st.rerun()
    pid, ack = ss.get("ack") or (None, None)
    have_pid, have = ss.get("grid_have") or (None, {})
    have = have if have_pid == project.id else {}
    data = grid.payload(project, ack=ack if pid == project.id else None,
                        view=None if have else get_store().load_view(project.id),  # the grid's first mount only
                        notice=ss.pop("grid_notice", None), have=have, sent=ss.setdefault("grid_sent", {}),
                        hold=ss.pop("grid_hold", None), goto=ss.pop("grid_goto", None))
    review_grid(data, key=grid_key(project), on_message=on_grid_message)
    # The grid's data is sent as soon as it is queued: what follows does not delay it.
    show_progress(progress, project)
    save_grid_view()


def show_progress(slot, project: Project) -> None:
    """The current project's progress in the sidebar (``slot``; None without one)."""
    if slot is not None:
        done = review.stats(project.current)
        slot.caption(f"{done.confirmed} of {done.pairs} pairs confirmed")


def save_grid_view() -> None:
    """Where the reviewer is (the project reopens there): saved after the
    acknowledgement, which does not wait on it."""
    ss = st.session_state
    saving = ss.pop("view_to_save", None)
    if saving is not None:
        try:
            get_store().save_view(*saving)
        except ProjectNotFound:  # deleted in another window since: the page opens another
            deleted_elsewhere(saving[0])
            st.rerun()
        ss.saved_view = saving[1]


# -- map, export, new --------------------------------------------------------------------

def view_map(project: Project) -> None:
    al = project.current
    # the matrix is the segments' (a confirm changes none; an undo then another edit may change them
    # at the same cursor); the fallback of headline mode reads the candidates
    key = (project.info.model, grid.segments_rev(al, "ja"), grid.segments_rev(al, "en"),
           al.mode == "headlines" and tuple(p.candidates for p in al.pairs))
    cached = st.session_state.get("map_cache")
    if not cached or cached[0] != key:
        with st.spinner(f"Embedding {len(al.ja) + len(al.en)} segments…"):
            cached = (key, heatmap.map_similarities(al, project.info.model or al.meta.get("model")))
        st.session_state.map_cache = cached  # one (pooled, bounded) matrix per session
    sims, note = cached[1]
    if sims is None:
        st.warning(f"No map: {plain(note)}.")
        return
    st.caption(f"Blue: {plain(note)}. Dots: the chosen pairs, green / amber / red by confidence. "
               "Drag a box over part of the path to review those pairs.")
    st.plotly_chart(heatmap.heatmap_figure(al, sims), key="map", on_select=on_map_select,
                    selection_mode=("points", "box"), config={"displaylogo": False, "scrollZoom": True})


def on_map_select() -> None:
    ss = st.session_state
    ks = heatmap.selected_pairs((ss.get("map") or {}).get("selection"))
    ks = [k for k in ks if 0 <= k < len(ss.project.current.pairs)]
    if ks:
        get_store().save_view(ss.project.id, {"pair": ks[0], "filter": {}})
        # the grid opens where its tab was: told to go there, once (a token of its own each time)
        ss.grid_goto = {"project": ss.project.id, "pair": ks[0], "n": secrets.token_hex(8)}
        ss.pending_view = "Review"
        notice("info", f"Pair {ks[0] + 1} selected on the map." if len(ks) == 1 else
               f"{len(ks)} pairs selected on the map ({ks[0] + 1}–{ks[-1] + 1}): the first of them is shown.")


def view_export(project: Project) -> None:
    al = project.current
    s = review.stats(al)
    st.markdown("Download the current state: the edited text, as you see it in the review.")
    options = {}
    if al.mode == "headlines":
        options["headlines"] = not st.checkbox(
            "Leave out headline pairs (a headline summarises its sentence; it is not a translation)",
            key="exp_no_headlines")
        options["keep_marks"] = st.checkbox("Keep Bloomberg's version marks (* and (2)) in headlines",
                                            key="exp_keep_marks")
    c = st.columns(2)
    written = export.count(al, "tsv", confirmed_only=True, **options)  # a pair with a side empty is no TM unit
    options["confirmed_only"] = c[0].checkbox(
        f"Confirmed pairs only ({s.confirmed} of {s.pairs}"
        + (f"; {written} with both sides go to TSV and TMX" if written != s.confirmed else "") + ")",
        key="exp_confirmed")
    excel = c[1].checkbox("TSV for Excel (header, BOM, cells starting = + - @ kept as text)", key="exp_excel")
    base = re.sub(r"[^\w.-]+", "_", project.info.name).strip("_")[:60] or "alignment"
    for_excel = {"header": True, "bom": True, "excel_safe": True} if excel else {}
    tsv = export.render(al, "tsv", **options, **for_excel)  # the preview, as downloaded
    with st.container(horizontal=True, gap="small"):
        for fmt, mime in ((f.name, f.mime) for f in formats.FORMATS):
            extra = for_excel if fmt == "tsv" else {}
            refused = export.refusal(al, fmt, **options)  # the others are rendered when clicked
            if refused:
                st.warning(f"{fmt.upper()}: {plain(refused)}")
                continue
            st.download_button(f"Download {fmt.upper()}", saved_export(project.id, fmt, {**options, **extra}, al),
                               file_name=f"{base}.{fmt}", mime=mime, key=f"dl_{fmt}",
                               type="primary" if fmt == "tsv" else "secondary", on_click="ignore")
    preview = tsv.decode("utf-8").removeprefix("\ufeff")
    lines = preview.split("\n")
    st.caption(f"TSV preview ({len([x for x in lines if x])} lines)")
    shown = "\n".join(lines[:12]).rstrip("\n") + ("\n…" if len(lines) > 13 else "")
    st.code(shown or "(nothing to export)", language=None, wrap_lines=True)


def view_new() -> None:
    ss = st.session_state
    st.markdown("Upload a Japanese file and its English counterpart, **or** one Japanese article whose "
                "`原題:` line lists the English headlines, **or** paste text.")
    c = st.columns(2)
    ja_file = c[0].file_uploader("Japanese text (or an article with a 原題: line)", key="up_ja",
                                 help=".txt, .md, .html or .docx; UTF-8, UTF-16, Shift_JIS or EUC-JP")
    en_file = c[1].file_uploader("English text (leave empty for an article with 原題:)", key="up_en")
    with st.expander("…or paste text", expanded=bool(ss.get("paste_ja"))):
        p = st.columns(2)
        p[0].text_area("Japanese", key="paste_ja", height=160, max_chars=2_000_000)
        p[1].text_area("English (optional)", key="paste_en", height=160, max_chars=2_000_000)
    ja = projects.Upload(ja_file.name, ja_file.getvalue()) if ja_file else None
    en = projects.Upload(en_file.name, en_file.getvalue()) if en_file else None
    if ss.get("swap"):
        ja, en = en, ja
    # What Align will read, said before it runs: an upload that did not arrive, or a
    # missing English text, is seen here rather than turned into headline mode.
    chosen = projects.chosen_inputs(ja and ja.name, en and en.name, ss.get("paste_ja") or "", ss.get("paste_en") or "")
    (st.info if (ja or en) and not (ja and en) else st.caption)(plain(chosen.plan))
    c = st.columns([1.7, 1.6, 2])
    mode = c[0].segmented_control("Mode", list(MODES), key="new_mode", required=True, default="auto",
                                  help="auto: headlines when the English is a few short lines, else document")
    model = c[1].selectbox("Model", MODELS, key="new_model", accept_new_options=True,
                           help="use-m3 is bundled and works offline; any sentence-transformers model "
                                "name or folder also works")
    name = c[2].text_input("Project name", key="new_name", placeholder="from the file names")
    texts = [uploaded_text(u.name, u.data) if u else None for u in (ja, en)]
    if projects.looks_swapped(*texts) or ss.get("swap"):
        if not ss.get("swap"):
            st.warning("The Japanese file looks English and the English one Japanese.")
        st.button("Swap the two files back" if ss.get("swap") else "Swap them", key="new_swap",
                  icon=":material/swap_horiz:", on_click=lambda: ss.__setitem__("swap", not ss.get("swap")))
    if st.button("Align", type="primary", key="new_align", icon=":material/join_inner:"):
        bar, report = progress_bar("Reading…")
        try:
            pid, al = projects.create_project(
                get_store(), ja=ja, en=en, pasted_ja=ss.get("paste_ja") or "",
                pasted_en=ss.get("paste_en") or "", name=name, mode=mode or "auto",
                model=None if model in (None, DEFAULT_MODEL) else model, progress=report)
        except USER_ERRORS as e:
            bar.empty()
            st.error(plain(e))
            return
        except Exception as e:  # a model that will not load, a library failing: one line
            log.exception("alignment failed")
            bar.empty()
            st.error(f"Alignment failed: {plain(e)}")
            return
        # No pair count: the grid's counts follow the edits, a banner would not.
        finish_new(pid, f"Aligned {chosen.read}, in {al.mode} mode. Every edit is saved as you go.",
                   al.meta.get("warning"))
    st.divider()
    st.markdown("**Open an exported alignment** (Taiyaku JSON, TMX or a ja/en TSV) as a new project")
    imp = st.file_uploader("Alignment file", key="up_import")
    if st.button("Open as project", key="new_import", disabled=imp is None):
        try:
            pid, al = projects.import_project(get_store(), projects.Upload(imp.name, imp.getvalue()))
        except USER_ERRORS as e:
            st.error(plain(e))
            return
        except Exception as e:
            log.exception("import failed")
            st.error(f"{plain(imp.name)}: cannot open ({plain(e)})")
            return
        finish_new(pid, f"Opened {imp.name}: {len(al.pairs)} pairs.", al.meta.get("warning"))
    if st.button("Open the sample article", key="new_sample"):
        bar, report = progress_bar("Aligning the sample…")
        finish_new(projects.sample_project(get_store(), report), "The sample article.")


@st.cache_data(max_entries=4, show_spinner=False)
def uploaded_text(name: str, data: bytes) -> str | None:
    """An upload's text, decoded once rather than on every rerun (None if unreadable:
    Align then says why)."""
    try:
        return projects.read_upload(projects.Upload(name, data))
    except USER_ERRORS:
        return None


# the Corpus view's fields, kept while another view is shown (the folder is typed once)
KEPT_WIDGETS = ("corpus_dir", "corpus_confirmed", "corpus_min")


def view_corpus() -> None:
    """A corpus run (``taiyaku corpus … -o OUT_DIR``): its documents, most in
    need of review first; one opens in the review grid; the corpus's TMX and
    TSV are written again with the reviewed text."""
    store = get_store()
    folder = st.text_input("Corpus run folder (the OUT_DIR of `taiyaku corpus`)", key="corpus_dir")
    if not folder.strip():
        return
    st.query_params["corpus"] = folder  # a reload, or the address kept, finds it again (main)
    try:
        docs = projects.corpus_documents(folder)
    except USER_ERRORS as e:
        st.error(plain(e))
        return
    opened, earlier = projects.corpus_reviews(store, folder, docs)  # by run key: a project follows its document
    progress = [(i.confirmed, i.total) if i else None for i in opened]
    earlier = [info.name for info in earlier]
    # every pair confirmed: the review is done, whatever the run said of it
    order = sorted(range(len(docs)), key=lambda k: bool(progress[k]) and progress[k][0] == progress[k][1])
    docs = [docs[k] for k in order]
    import pandas as pd

    table = pd.DataFrame([{
        "Japanese": d["ja_file"], "English": d["en_file"], "pairing": d["score"], "method": d["method"],
        "links": d["links"], "under 0.8": d["needs_review"],
        "reviewed": "{} / {}".format(*progress[k]) if progress[k] else
                    f"not opened ({d['confirmed']} confirmed in its file)" if d.get("confirmed") else "not opened"}
        for d, k in zip(docs, order)])
    st.caption(f"{len(docs)} aligned documents, most in need of review first (fully confirmed ones last). "
               "Pick one to review it.")
    if earlier:
        st.caption(f"{len(earlier)} review{'s' * (len(earlier) > 1)} made here of an earlier version of a document "
                   "(its texts or the parameters changed, and a run aligned it again): "
                   + ", ".join(plain(n) for n in earlier[:10]) + (" …" if len(earlier) > 10 else "")
                   + ". Opening the document carries over their confirmations of pairs whose texts did not "
                   "change (those its file lacks) and names the ones it cannot; the earlier reviews stay in the "
                   "project list.")
    unpaired = projects.corpus_unpaired(folder)
    for side, names in unpaired.items():
        if names:
            st.caption(f"No counterpart found for {len(names)} {side} document{'s' * (len(names) > 1)}: "
                       + ", ".join(plain(n) for n in names[:10]) + (" …" if len(names) > 10 else "")
                       + " (pair them with `--pairs` if they have one)")
    picked = st.dataframe(table, key="corpus_table", hide_index=True, on_select="rerun",
                          selection_mode="single-row").selection.rows
    if picked and st.button(f"Review {docs[picked[0]]['ja_file']}", key="corpus_open", type="primary"):
        pid, carried = projects.open_corpus_document(store, folder, docs[picked[0]])
        finish_new(pid, "A corpus document." + (f" {carried}." if carried else ""))
    c = st.columns([1, 1, 2], vertical_alignment="bottom")
    confirmed = c[0].checkbox("Confirmed pairs only", key="corpus_confirmed")
    floor = c[1].number_input("Minimum confidence", min_value=0.0, max_value=1.0, step=0.05, key="corpus_min")
    if c[2].button("Write corpus.tmx and corpus.tsv with the reviewed text", key="corpus_export"):
        try:
            report = projects.export_corpus(store, folder, confirmed_only=confirmed, min_confidence=floor)
        except (USER_ERRORS, OSError) as e:  # a corpus run writing there, a read-only memory, a full disk
            st.error(plain(e) if isinstance(e, USER_ERRORS) else f"{plain(e.filename or '')}: {plain(e.strerror or e)}")
            return
        units = report["units"]
        withheld = units["withheld_unconfirmed_from_doubtful_pairs"]
        if units.get("files_left_as_they_were"):
            st.warning("No pair passes these filters: corpus.tmx and corpus.tsv are left as they were.")
            return
        st.success(f"{report['reviews_written']} review{'s' * (report['reviews_written'] != 1)} written back; "
                   f"{units['written']} units written to {plain(folder)} ({units['merged']} identical ones merged)."
                   + (f" {withheld} unconfirmed links from documents that look like no translation pair are"
                      " left out: confirm them in review to write them." if withheld else ""))


def finish_new(pid: int, message: str, warning: str | None = None) -> None:
    open_project(pid)
    st.session_state.pending_view = "Review"
    notice("success", message)
    if warning:
        notice("warning", warning)
    st.rerun()


# -- the sidebar: projects and keys --------------------------------------------------------

def _ago(when: datetime | None) -> str:
    if when is None:
        return "never opened"
    minutes = (datetime.now(timezone.utc) - when).total_seconds() / 60
    return ("opened just now" if minutes < 1 else f"opened {minutes:.0f} min ago" if minutes < 60
            else f"opened {minutes / 60:.0f} h ago" if minutes < 48 * 60 else f"opened {when:%Y-%m-%d}")


def sidebar(project: Project | None):
    """The project list, rename/delete and the keys; returns the slot where the
    review grid keeps the current project's progress (None without one)."""
    ss, store = st.session_state, get_store()
    progress = None
    with st.sidebar:
        st.markdown("### 対訳 Taiyaku")
        rows = projects.project_rows(store)
        # the current project's count is the caption below, which follows every edit
        # (the list itself is drawn again only on a page rerun)
        labels = {r.id: f"{r.name} · {_ago(r.opened)}" if project is not None and r.id == project.id
                  else f"{r.name} · {r.progress} · {_ago(r.opened)}" for r in rows}
        if project is not None and project.id in labels:
            ss.proj_pick = project.id
            st.selectbox("Project (every edit is saved)", list(labels), key="proj_pick",
                         format_func=lambda pid: labels.get(pid, str(pid)), on_change=on_pick_project,
                         help="The most recently opened first; each reopens where you left it.")
            progress = st.empty()
            show_progress(progress, project)  # the review grid's fragment keeps it up to date
            with st.expander("Rename or delete"):
                st.text_input("Name", value=project.info.name, key=f"rename_{project.id}")
                st.button("Rename", key="act_rename", on_click=rename_project, args=(project.id,))
                if st.checkbox("Delete this project and its history", key=f"del_ok_{project.id}"):
                    st.button("Delete for good", key="act_delete", type="primary",
                              on_click=delete_project, args=(project.id,))
        st.button("New alignment…", icon=":material/add:", key="side_new", width="stretch",
                  on_click=lambda: ss.__setitem__("pending_view", "New alignment"))
        st.markdown("#### Keys")
        keys = "".join(f"<tr><td><kbd>{k}</kbd></td><td>{w}</td></tr>" for k, w in KEYS)
        st.html(f'<table class="shortcuts">{keys}</table>')
    return progress


def on_pick_project() -> None:
    pid = st.session_state.get("proj_pick")
    if pid is not None:
        try:
            open_project(pid)
        except ProjectNotFound:
            notice("warning", f"Project {pid} no longer exists.")


def rename_project(pid: int) -> None:
    try:
        get_store().rename_project(pid, st.session_state.get(f"rename_{pid}", ""))
    except USER_ERRORS as e:
        notice("warning", str(e))


def delete_project(pid: int) -> None:
    try:
        get_store().delete_project(pid)
    except ProjectNotFound:  # another window deleted it first: the same outcome
        pass
    st.session_state.pop("project", None)
    st.query_params.clear()
    notice("success", "Project deleted.")


# -- the page --------------------------------------------------------------------------------

def saved_export(pid: int, fmt: str, options: dict, shown: Alignment):
    """The download, rendered when it is clicked from the saved state: this page may
    have been drawn before another window's edits (``shown``, the state drawn, if the
    project is gone or the export is no longer possible)."""
    store = get_store()  # the click runs on a thread of its own, outside the page's run

    def render() -> bytes:
        try:
            return export.render(store.open_project(pid).current, fmt, **options)
        except USER_ERRORS:  # the project deleted meanwhile, or its export refused now
            return export.render(shown, fmt, **options)
    return render


def main() -> None:
    st.set_page_config(page_title="Taiyaku 対訳 — review", page_icon=str(projects.data_file("favicon.png")),
                       layout="wide")
    st.html(CSS)
    ss = st.session_state
    for key in KEPT_WIDGETS:  # Streamlit drops a widget's value in a run that does not draw it
        if key in ss:
            ss[key] = ss[key]
    if "corpus_dir" not in ss and st.query_params.get("corpus"):  # a page loaded again: the folder typed before
        ss.corpus_dir = st.query_params["corpus"]
    project = current_project()
    if "pending_view" in ss:
        ss.view = ss.pop("pending_view")
    ss.setdefault("view", "Review" if project else "New alignment")
    progress = sidebar(project)
    view = st.segmented_control("View", VIEWS, key="view", required=True,
                                format_func=lambda v: f"{VIEW_ICONS[v]} {v}", label_visibility="collapsed")
    show_notices()
    if view == "Corpus":
        view_corpus()
        return
    if view == "New alignment" or project is None:
        st.markdown("#### New alignment")
        view_new()
        return
    info = project.info
    st.markdown(f"#### {plain(info.name)}")
    st.caption(f"{plain(info.mode)} · model {plain(info.model or '—')} · "
               + (", ".join(plain(s.filename) for s in info.sources) or "no source files"))
    {"Map": view_map, "Export": view_export}.get(view, lambda p: view_review(progress))(project)


def run() -> None:
    try:
        main()
    except Exception as exc:  # the last net: a message, never a traceback
        log.exception("page failed")
        st.error(f"Something went wrong: {plain(exc)}. Your edits are saved; reload the page to go on.")


if __name__ == "__main__":
    run()
