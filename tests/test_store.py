"""The project store: persistence of every edit, undo/redo across restarts,
a real kill -9, concurrent sessions, and the database location."""

import hashlib
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.stateful import rule

from align.edits import EditError, History
from align.model import Alignment, Candidate, Segment
from align.store import ConflictError, ProjectLog, ProjectNotFound, Source, Store, default_db_path
from test_edits import HistoryMachine, P, doc, headline_sets

REPO = Path(__file__).resolve().parents[1]


def sample() -> Alignment:
    ja = (Segment("協議が再開した。", 0, 8), Segment("キーウは期待する。", 8, 17), Segment("以上。", 17, 20))
    en = (Segment("Talks resumed.", 0, 14), Segment("Kyiv is hopeful.", 15, 31), Segment("End."))
    pairs = (P([0], [0], 0.9, candidates=[Candidate((1,), 0.2)]), P([1], [1], 0.25), P([2], [2], 0.5))
    return Alignment(ja, en, pairs, meta={"aligner": "test"})


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "projects.sqlite3") as s:
        yield s


def count(store, sql, *args):
    return sqlite3.connect(store.path).execute(sql, args).fetchone()[0]


# -- location and settings ---------------------------------------------------

def test_taiyaku_db_is_honoured_and_folders_are_created(tmp_path, monkeypatch):
    target = tmp_path / "a" / "b" / "mine.sqlite3"
    monkeypatch.setenv("TAIYAKU_DB", str(target))
    with Store() as s:
        assert s.path == target and target.exists()


def test_default_path_is_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("TAIYAKU_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_db_path() == tmp_path / "xdg" / "taiyaku" / "projects.sqlite3"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "taiyaku" / "projects.sqlite3"


def test_wal_and_full_sync(store):
    assert store._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._con.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


# -- projects ----------------------------------------------------------------

def test_create_records_sources_model_and_mode(store):
    raw = "協議が再開した。".encode("cp932")
    digest = hashlib.sha256(b"english").hexdigest()
    pid = store.create_project(" Berlin talks ", sample(), [("ja.txt", raw), ("en.txt", digest.upper())],
                               model="usem3")
    info = store.project_info(pid)
    assert (info.name, info.mode, info.model) == ("Berlin talks", "document", "usem3")
    assert info.sources == (Source("ja.txt", hashlib.sha256(raw).hexdigest()), Source("en.txt", digest))
    assert info.created.tzinfo is not None and info.updated == info.created
    assert store.open_project(pid).current == sample()
    assert store.open_project(pid).current.meta == {"aligner": "test"}


def test_create_refusals(store):
    with pytest.raises(ValueError, match="sha256"):
        store.create_project("x", sample(), [("a.txt", "not a hash")])
    with pytest.raises(EditError, match="name"):
        store.create_project("  ", sample())
    with pytest.raises(ValueError, match="segments"):
        store.create_project("x", sample().with_pairs(sample().pairs[:2]))
    assert store.list_projects() == []


def test_scores_are_kept_as_the_json_model_writes_them(store):
    al = doc(P([0], [0], 0.123456))
    assert store.open_project(store.create_project("x", al)).current.pairs[0].score == 0.1235


def test_a_lone_surrogate_is_stored_and_read_back(tmp_path):
    """Our JSON export writes a lone surrogate as \\ud800 and imports read it
    back: the store keeps such a text as it is, across a restart."""
    al = sample()
    odd = Alignment(al.ja[:2] + (Segment("以上\ud800。", 17, 21),), al.en, al.pairs, meta=al.meta)
    with Store(tmp_path / "p.sqlite3") as store:
        pid = store.create_project("x", odd)
    with Store(tmp_path / "p.sqlite3") as store:
        assert store.open_project(pid).current.ja[2].text == "以上\ud800。"


def test_list_puts_the_most_recently_changed_first(store):
    a, b, c = (store.create_project(n, sample()) for n in "abc")
    assert [p.id for p in store.list_projects()] == [c, b, a]
    store.open_project(a).apply("confirm", 0)
    assert [p.id for p in store.list_projects()] == [a, c, b]
    store.rename_project(b, "b2")
    assert [(p.id, p.name) for p in store.list_projects()][0] == (b, "b2")


def test_a_new_project_gets_a_name_no_other_project_has(store):
    # two imports of one file, or two alignments of the same files, are told apart in the list
    ids = [store.create_project("article", sample()) for _ in range(3)]
    assert [store.project_info(pid).name for pid in ids] == ["article", "article (2)", "article (3)"]
    store.delete_project(ids[1])
    assert store.project_info(store.create_project(" article ", sample())).name == "article (2)"
    store.rename_project(ids[0], "article (3)")  # a name the reviewer types is theirs
    assert store.project_info(ids[0]).name == "article (3)"


def test_rename_and_delete(store):
    pid = store.create_project("x", sample(), [("a.txt", b"a")])
    project = store.open_project(pid)
    with pytest.raises(EditError):
        store.rename_project(pid, "")
    store.delete_project(pid)
    assert store.list_projects() == []
    assert count(store, "SELECT COUNT(*) FROM history") == count(store, "SELECT COUNT(*) FROM sources") == 0
    for call in (lambda: store.open_project(pid), lambda: store.rename_project(pid, "y"),
                 lambda: store.delete_project(pid), lambda: project.apply("confirm", 0)):
        with pytest.raises(ProjectNotFound):
            call()


def test_a_deleted_project_s_id_is_never_given_again(tmp_path):
    # SQLite would give the highest id again: a tab, a link or keys kept in a browser for
    # the deleted project would then reach the new one
    path = tmp_path / "p.sqlite3"
    with Store(path) as store:
        a, b = store.create_project("a", sample()), store.create_project("b", sample())
        store.delete_project(b)
        c = store.create_project("c", sample())
        assert c > b
        store.delete_project(c)
        store.delete_project(a)
    with sqlite3.connect(path) as con:  # a file from before the deleted ids were kept
        con.execute("DROP TABLE deleted")
    with Store(path) as store:
        assert store.create_project("d", sample()) == 1  # nothing left to tell: as before
        store.delete_project(1)
        assert store.create_project("e", sample()) == 2


# -- history -----------------------------------------------------------------

def test_edits_undo_and_redo_come_back_after_a_restart(tmp_path):
    path = tmp_path / "p.sqlite3"
    ref = History(sample())
    with Store(path) as s:
        pid = s.create_project("x", sample())
        project = s.open_project(pid)
        for op, *args in [("merge_next", 0), ("edit_text", "en", 2, "The end."), ("confirm", 1),
                          ("split_segment", "ja", 1, 5)]:
            assert project.apply(op, *args) == ref.apply(op, *args)
        assert project.undo() == ref.undo() and project.undo() == ref.undo()
    with Store(path) as s:
        project = s.open_project(pid)
        assert project.current == ref.current and project.cursor == 2
        assert project.can_undo and project.can_redo and project.steps == ref.steps
        assert project.redo() == ref.redo()
        assert project.undo() == ref.undo() and project.undo() == ref.undo() and project.undo() == ref.undo()
        assert project.current == sample() and not project.can_undo
        with pytest.raises(EditError, match="nothing to undo"):
            project.undo()
    with Store(path) as s:  # the undone position was saved too
        project = s.open_project(pid)
        assert project.cursor == 0 and project.current == sample()
        assert project.redo() == ref.redo()
        assert project.apply("confirm", 0) == ref.apply("confirm", 0)  # drops the redo branch
    with Store(path) as s:
        project = s.open_project(pid)
        assert not project.can_redo and project.steps == ref.steps
        assert count(s, "SELECT COUNT(*) FROM history") == 3


def test_a_refused_edit_writes_nothing(store):
    project = store.open_project(store.create_project("x", sample()))
    before = count(store, "SELECT version FROM projects")
    with pytest.raises(EditError, match="last pair"):
        project.apply("merge_next", 2)
    with pytest.raises(EditError, match="nothing to redo"):
        project.redo()
    assert count(store, "SELECT version FROM projects") == before
    assert count(store, "SELECT COUNT(*) FROM history") == 1


def test_history_rows_hold_what_changed_not_the_whole_state(store):
    import zlib
    project = store.open_project(store.create_project("x", sample()))
    project.apply("merge_next", 0)
    project.apply("edit_text", "en", 2, "The end.")
    rows = store._con.execute("SELECT seq, snapshot IS NOT NULL, delta FROM history "
                              "ORDER BY seq").fetchall()
    assert [(seq, snap) for seq, snap, _ in rows] == [(0, 1), (1, 0), (2, 0)]
    merge, edit = (json.loads(zlib.decompress(blob)) for _, _, blob in rows[1:])
    assert set(merge) == {"pairs"}                 # segments untouched by a merge
    assert merge["pairs"][0] == 0 and len(merge["pairs"][1]) == 2 and len(merge["pairs"][2]) == 1
    assert edit["en"] == [2, ["End."], ["The end."]]


def test_a_stale_session_is_told_and_reloaded(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as one, Store(path) as two:
        pid = one.create_project("x", sample())
        a, b = one.open_project(pid), two.open_project(pid)
        merged = a.apply("merge_next", 0)
        with pytest.raises(ConflictError, match="another window"):
            b.apply("confirm", 2)
        assert b.current == merged and b.cursor == 1
        b.apply("confirm", 1)
        with pytest.raises(ConflictError):
            a.undo()
        assert a.current == b.current
        assert a.undo() == merged
        assert b.reload() == merged and b.can_redo


def test_a_store_can_be_used_from_another_thread(store):
    # Streamlit runs each rerun of a session in a new thread.
    project = store.open_project(store.create_project("x", sample()))
    results = []
    worker = threading.Thread(target=lambda: results.append(project.apply("confirm", 0)))
    worker.start()
    worker.join()
    assert results == [project.current] and project.current.pairs[0].status == "confirmed"
    assert store.list_projects()[0].id == project.id


CHILD = """
import json, sys, time
from align.store import Store
project = Store(sys.argv[1]).open_project(int(sys.argv[2]))
for op, *args in json.loads(sys.argv[3]):
    getattr(project, op)() if op in ("undo", "redo") else project.apply(op, *args)
print("done", flush=True)
time.sleep(60)
"""


def test_nothing_is_lost_when_the_process_is_killed(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as s:
        pid = s.create_project("x", sample())
    script = [["merge_next", 1], ["edit_text", "ja", 0, "協議は再開。"], ["split_pair", 1],
              ["undo"], ["confirm_through", 0], ["insert_empty", 1, "ja"], ["shift", 2, "en", "up"]]
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(pid), json.dumps(script)],
                             cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "done"
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL
    ref = History(sample())
    for op, *args in script:
        getattr(ref, op)() if op in ("undo", "redo") else ref.apply(op, *args)
    with Store(path) as s:
        project = s.open_project(pid)
        assert project.current == ref.current and project.steps == ref.steps
        assert project.undo() == ref.undo()


# -- property: the SQLite log behaves as the one in memory, across reopenings --

class StoreMachine(HistoryMachine):
    """test_edits' machine (edits, undo, redo, client numbers) over the store's log,
    the file closed and opened again at random."""

    def make_history(self, al):
        self.folder = tempfile.mkdtemp()
        self.store = Store(Path(self.folder) / "p.sqlite3")
        self.pid = self.store.create_project("p", al)
        return History(ProjectLog(self.store, self.pid))

    @rule()
    def reopen(self):
        steps, cursor = self.h.steps, self.h.cursor
        self.store.close()
        self.store = Store(self.store.path)
        self.h = self.store.open_project(self.pid)
        assert (self.h.steps, self.h.cursor) == (steps, cursor)
        assert self.h.current == self.states[self.cursor]
        assert self.h.current.meta == self.states[0].meta

    def teardown(self):
        if hasattr(self, "store"):
            self.store.close()
            shutil.rmtree(self.folder)


class StoreHeadlineMachine(StoreMachine):
    alignments = headline_sets()


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
TestStoreHeadlines = StoreHeadlineMachine.TestCase
TestStoreHeadlines.settings = settings(max_examples=15, stateful_step_count=20, deadline=None)


# -- schema version, foreign and read-only files, hostile ids -----------------

import zlib  # noqa: E402

from align import store as store_module  # noqa: E402
from align.errors import StoreError, TaiyakuError  # noqa: E402


def test_the_file_carries_its_schema_version(store):
    assert count(store, "PRAGMA user_version") == store_module.SCHEMA_VERSION


def test_a_newer_schema_is_refused_with_one_line(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA user_version = 99")
    con.close()
    with pytest.raises(StoreError, match=r"newer Taiyaku \(schema 99; this version reads up to 2\)"):
        Store(path)


def test_a_foreign_sqlite_file_is_never_changed(tmp_path):
    path = tmp_path / "other.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE contacts (name TEXT)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a Taiyaku projects file"):
        Store(path)
    assert path.read_bytes() == before
    tables = sqlite3.connect(path).execute("SELECT name FROM sqlite_master").fetchall()
    assert tables == [("contacts",)]


def test_a_file_that_is_not_sqlite_is_one_line(tmp_path):
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(b"just some text, not a database" * 100)
    with pytest.raises(StoreError, match="not a Taiyaku projects file"):
        Store(path)
    assert issubclass(StoreError, TaiyakuError)


def test_a_read_only_file_opens_read_only_and_says_so(tmp_path):
    path = tmp_path / "p.sqlite3"
    with Store(path) as s:
        pid = s.create_project("x", sample())
        s.open_project(pid).apply("confirm", 0)
    with Store(path, read_only=True) as s:
        assert s.read_only
        project = s.open_project(pid)
        assert project.current.pairs[0].status == "confirmed"
        with pytest.raises(StoreError, match="read-only"):
            project.apply("confirm", 1)
        with pytest.raises(StoreError, match="read-only"):
            s.create_project("y", sample())
        s.touch(pid)  # nothing to note in a read-only file, and no error
        s.save_view(pid, {"pair": 3})
    with Store(path) as s:
        assert s.open_project(pid).current.pairs[1].status != "confirmed"


def test_a_file_this_user_cannot_write_is_read_only(tmp_path):
    path = tmp_path / "p.sqlite3"
    Store(path).close()
    path.chmod(0o444)
    try:
        if os.access(path, os.W_OK):
            pytest.skip("running as a user who may write anywhere (root)")
        with Store(path) as s:
            assert s.read_only
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("pid", [99999999999999999999, 2**63, -1, 0, "abc", "１", None, True, 1.5e300])
def test_impossible_project_ids_are_no_such_project(store, pid):
    for call in (store.open_project, store.project_info, store.delete_project, store.touch,
                 store.load_view, lambda p: store.rename_project(p, "y")):
        with pytest.raises(ProjectNotFound, match="no project"):
            call(pid)


# -- what the app shows: progress, last opened, view state, the step undone ---

def test_list_projects_shows_progress_and_last_opened(store):
    pid = store.create_project("x", sample())
    info = store.list_projects()[0]
    assert (info.confirmed, info.total, info.last_opened) == (0, 3, None)
    project = store.open_project(pid)
    project.apply("confirm_through", 1)
    assert (store.project_info(pid).confirmed, store.project_info(pid).total) == (2, 3)
    project.undo()
    assert store.project_info(pid).confirmed == 0
    project.redo()
    project.apply("unconfirm", 1)
    assert store.project_info(pid).confirmed == 1
    updated = store.project_info(pid).updated
    store.touch(pid)
    info = store.project_info(pid)
    assert info.last_opened is not None and info.last_opened >= updated
    assert info.updated == updated  # opening is not a change


def test_view_state_is_kept_per_project_and_bounded(store):
    a, b = store.create_project("a", sample()), store.create_project("b", sample())
    assert store.load_view(a) == {}
    store.save_view(a, {"pair": 12, "filter": "needs review"})
    assert store.load_view(a) == {"pair": 12, "filter": "needs review"}
    assert store.load_view(b) == {}
    with pytest.raises(TaiyakuError, match="at most 4096 bytes"):
        store.save_view(a, {"x": "y" * 5000})
    with pytest.raises(TaiyakuError):
        store.save_view(a, {"x": float("nan")})
    assert store.load_view(a) == {"pair": 12, "filter": "needs review"}


def test_undo_and_redo_tell_which_step_they_moved(store):
    project = store.open_project(store.create_project("x", sample()))
    assert project.last_step is None
    project.apply("confirm", 1)
    assert project.last_step.op == "confirm" and project.last_step.args == (1,)
    project.apply("edit_text", "en", 2, "The end.")
    project.undo()
    assert project.last_step.op == "edit_text"
    project.undo()
    assert project.last_step.op == "confirm"
    project.redo()
    assert project.last_step.op == "confirm"


def test_meta_is_stored_once_not_per_step(store):
    big = {"aligner": "test", "notes": "x" * 200_000}
    al = Alignment(sample().ja, sample().en, sample().pairs, meta=big)
    project = store.open_project(store.create_project("x", al))
    for _ in range(5):
        project.apply("confirm", 0)
        project.apply("unconfirm", 0)
    rows = store._con.execute("SELECT LENGTH(delta) FROM history WHERE seq > 0").fetchall()
    assert max(size for (size,) in rows) < 200
    with Store(store.path) as again:
        assert again.open_project(project.id).current.meta == big


def test_snapshots_bound_what_opening_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "SNAPSHOT_EVERY", 4)
    path = tmp_path / "p.sqlite3"
    ref = History(sample())
    with Store(path) as s:
        project = s.open_project(s.create_project("x", sample()))
        for k in range(11):
            op = ("confirm", k % 3) if k % 2 == 0 else ("unconfirm", (k - 1) % 3)
            assert project.apply(*op) == ref.apply(*op)
        snaps = [seq for (seq,) in s._con.execute(
            "SELECT seq FROM history WHERE snapshot IS NOT NULL ORDER BY seq")]
        assert snaps[0] == 0 and all(b - a <= 4 for a, b in zip(snaps, snaps[1:] + [11]))
        for _ in range(6):
            assert project.undo() == ref.undo()
    with Store(path) as s:
        project = s.open_project(project.id)
        assert project.current == ref.current and project.steps == ref.steps


def test_a_click_costs_what_it_changed_not_the_project_size(tmp_path):
    """The bytes one confirm writes do not grow with the project."""
    def bytes_per_click(n):
        ja = tuple(Segment(f"文{k}。") for k in range(n))
        en = tuple(Segment(f"Sentence {k}.") for k in range(n))
        al = Alignment(ja, en, tuple(P([k], [k], 0.5) for k in range(n)))
        with Store(tmp_path / f"{n}.sqlite3") as s:
            project = s.open_project(s.create_project("x", al))
            project.apply("confirm", n // 2)
            return s._con.execute("SELECT LENGTH(delta) + LENGTH(op) + "
                                  "COALESCE(LENGTH(snapshot), 0) FROM history WHERE seq = 1"
                                  ).fetchone()[0]
    small, large = bytes_per_click(200), bytes_per_click(20_000)
    assert large <= small + 16  # the pair's index has more digits


# -- older files are migrated ------------------------------------------------

V1_SCHEMA = """
CREATE TABLE projects (id INTEGER PRIMARY KEY, name TEXT NOT NULL, mode TEXT NOT NULL,
    model TEXT NOT NULL, created TEXT NOT NULL, updated TEXT NOT NULL,
    cursor INTEGER NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 0);
CREATE TABLE sources (project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, filename TEXT NOT NULL, sha256 TEXT NOT NULL,
    PRIMARY KEY (project_id, position));
CREATE TABLE states (project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, op TEXT, pairs BLOB NOT NULL, ja_seq INTEGER NOT NULL,
    en_seq INTEGER NOT NULL, ja BLOB, en BLOB, PRIMARY KEY (project_id, seq)) WITHOUT ROWID;
"""


def _v1_pack(value):
    return zlib.compress(json.dumps(value, ensure_ascii=False).encode())


def test_a_schema_1_file_is_migrated_with_its_history(tmp_path):
    """Written as the previous version wrote it: whole pairs per row, segments where
    they changed, meta in every row."""
    ref = History(sample())
    states = [ref.current]
    for op, *args in [("merge_next", 0), ("edit_text", "en", 2, "The end."), ("confirm", 1)]:
        states.append(ref.apply(op, *args))
    ref.undo()
    path = tmp_path / "old.sqlite3"
    con = sqlite3.connect(path)
    con.executescript(V1_SCHEMA)
    now = "2026-01-01T00:00:00.000000+00:00"
    con.execute("INSERT INTO projects VALUES (1, 'old', 'document', 'usem3', ?, ?, 2, 7)", (now, now))
    con.execute("INSERT INTO sources VALUES (1, 0, 'ja.txt', ?)", ("a" * 64,))
    ja_ref = en_ref = 0
    for seq, al in enumerate(states):
        step = None if seq == 0 else json.dumps(ref.steps[seq - 1].to_json())
        new_ja = seq == 0 or al.ja != states[seq - 1].ja
        new_en = seq == 0 or al.en != states[seq - 1].en
        ja_ref, en_ref = (seq if new_ja else ja_ref), (seq if new_en else en_ref)
        head = {"mode": al.mode, "meta": al.meta, "pairs": [p.to_json() for p in al.pairs]}
        con.execute("INSERT INTO states VALUES (1, ?, ?, ?, ?, ?, ?, ?)", (
            seq, step, _v1_pack(head), ja_ref, en_ref,
            _v1_pack([s.to_json() for s in al.ja]) if new_ja else None,
            _v1_pack([s.to_json() for s in al.en]) if new_en else None))
    con.commit()
    con.close()
    with Store(path) as s:
        assert count(s, "PRAGMA user_version") == store_module.SCHEMA_VERSION
        info = s.project_info(1)
        assert (info.name, info.total, info.sources[0].filename) == ("old", 2, "ja.txt")
        project = s.open_project(1)
        assert project.cursor == 2 and project.current == states[2]
        assert project.current.meta == {"aligner": "test"} and project.steps == ref.steps
        assert project.redo() == states[3]
        assert [project.undo() for _ in range(3)] == [states[2], states[1], states[0]]
        tables = {r[0] for r in s._con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "states" not in tables
