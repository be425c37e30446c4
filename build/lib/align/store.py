"""Review projects in SQLite: every edit is saved before the call returns.

A project keeps its whole history as states ``seq = 0..top`` (0 is the
aligner's output) and a ``cursor`` naming the current one; undo and redo move
the cursor, a new edit after undo deletes the states above it. So a new
process opening the same file gets back the current state and the full
undo/redo history.

A state is stored as full values, never as ops to replay, so a later fix to an
edit operation cannot rewrite old history. Measured on a 500-pair alignment
(~100 characters a segment) a whole state is ~240 kB of JSON (35-45 kB with
zlib), but its pairs alone are ~28 kB (5 kB with zlib); most edits leave both
segment lists alone. So each row holds the pairs, and a side's segments are
stored only in the row where they changed, the others pointing back to it
(``ja_seq``/``en_seq``: always at or below the row, so deleting a redo branch
never orphans them).

Durability: WAL with ``synchronous=FULL`` and one short ``BEGIN IMMEDIATE``
transaction per call, so a ``kill -9`` (even a power cut) right after a call
returns loses nothing. Two app sessions may share the file: writers wait up to
the busy timeout, and an edit made from a stale view raises ``ConflictError``
(after reloading) instead of landing on a state the translator never saw.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .edits import EditError, Step, check_invariants
from .model import Alignment, Pair, Segment

BUSY_TIMEOUT_S = 10.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS projects (
    id       INTEGER PRIMARY KEY,
    name     TEXT NOT NULL,
    mode     TEXT NOT NULL,
    model    TEXT NOT NULL,
    created  TEXT NOT NULL,   -- ISO 8601, UTC
    updated  TEXT NOT NULL,
    cursor   INTEGER NOT NULL DEFAULT 0,
    version  INTEGER NOT NULL DEFAULT 0  -- bumped by every change, to spot stale views
);
CREATE TABLE IF NOT EXISTS sources (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    filename   TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
);
CREATE TABLE IF NOT EXISTS states (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    op         TEXT,            -- the Step as JSON; NULL for the original
    pairs      BLOB NOT NULL,   -- zlib JSON {"mode", "meta", "pairs"}
    ja_seq     INTEGER NOT NULL,
    en_seq     INTEGER NOT NULL,
    ja         BLOB,            -- zlib JSON segment list, only when ja_seq = seq
    en         BLOB,
    PRIMARY KEY (project_id, seq)
) WITHOUT ROWID;
-- The review grid numbers its operations per browser tab and resends the
-- ones not yet acknowledged (after a reconnect, a server restart): the last
-- number applied, written in the same transaction as the edit, makes a resent
-- operation a no-op instead of a second edit.
CREATE TABLE IF NOT EXISTS clients (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    client     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (project_id, client)
) WITHOUT ROWID;
-- Where the reviewer left a project (pair, filter) and when it was opened.
CREATE TABLE IF NOT EXISTS views (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    opened     TEXT,
    view       TEXT NOT NULL DEFAULT '{}'
);
"""

MAX_VIEW_BYTES = 4096

# A client token: (browser tab id, its operation number).
Client = tuple[str, int]


class ProjectNotFound(LookupError):
    """No project with this id (never created, or deleted meanwhile)."""


class ConflictError(EditError):
    """The project changed in another session; the view has been reloaded."""


@dataclass(frozen=True)
class Source:
    filename: str
    sha256: str


@dataclass(frozen=True)
class ProjectInfo:
    id: int
    name: str
    mode: str
    model: str
    created: datetime
    updated: datetime
    sources: tuple[Source, ...]


def default_db_path() -> Path:
    """``$TAIYAKU_DB``, else ``taiyaku/projects.sqlite3`` in the user's data folder."""
    if os.environ.get("TAIYAKU_DB"):
        return Path(os.environ["TAIYAKU_DB"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "taiyaku" / "projects.sqlite3"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _pack(value: Any) -> bytes:
    return zlib.compress(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode(), 6)


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob))


def _source(filename: str, content: bytes | str) -> Source:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Source(str(filename), hashlib.sha256(content).hexdigest())
    if isinstance(content, str) and re.fullmatch(r"[0-9a-fA-F]{64}", content):
        return Source(str(filename), content.lower())
    raise ValueError(f"source {filename!r}: give its raw bytes or their sha256 hex digest")


class Store:
    """The projects database. Safe to share between threads (one connection
    behind a lock: Streamlit runs each rerun in a new thread)."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S,
                                    isolation_level=None, check_same_thread=False)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.execute("PRAGMA foreign_keys=ON")
        self._con.executescript(f"BEGIN IMMEDIATE; {_SCHEMA} COMMIT;")

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction, committed (and synced) on exit."""
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    # -- projects ------------------------------------------------------------
    def create_project(self, name: str, alignment: Alignment,
                       sources: Iterable[tuple[str, bytes | str]] = (), model: str = "") -> int:
        """Save a new project whose original state is ``alignment``; return its id.
        ``sources``: (file name, raw bytes or their sha256) for each input file."""
        name = _name(name)
        check_invariants(alignment)
        srcs = [_source(f, c) for f, c in sources]
        now = _now()
        with self._transaction() as con:
            pid = con.execute(
                "INSERT INTO projects (name, mode, model, created, updated) VALUES (?, ?, ?, ?, ?)",
                (name, alignment.mode, model, now, now)).lastrowid
            con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?)",
                            [(pid, i, s.filename, s.sha256) for i, s in enumerate(srcs)])
            con.execute("INSERT INTO states VALUES (?, 0, NULL, ?, 0, 0, ?, ?)",
                        (pid, _pack(_head(alignment)), _pack(_segs(alignment.ja)),
                         _pack(_segs(alignment.en))))
        return pid

    def list_projects(self) -> list[ProjectInfo]:
        """All projects, the most recently changed first."""
        with self._lock:
            rows = self._con.execute("SELECT id FROM projects ORDER BY updated DESC, id DESC").fetchall()
        return [self.project_info(pid) for (pid,) in rows]

    def project_info(self, project_id: int) -> ProjectInfo:
        with self._lock:
            row = self._con.execute(
                "SELECT id, name, mode, model, created, updated FROM projects WHERE id = ?",
                (project_id,)).fetchone()
            if row is None:
                raise ProjectNotFound(f"no project {project_id}")
            srcs = self._con.execute(
                "SELECT filename, sha256 FROM sources WHERE project_id = ? ORDER BY position",
                (project_id,)).fetchall()
        return ProjectInfo(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]),
                           datetime.fromisoformat(row[5]), tuple(Source(*s) for s in srcs))

    def open_project(self, project_id: int) -> "Project":
        return Project(self, project_id)

    def rename_project(self, project_id: int, name: str) -> None:
        name = _name(name)
        with self._transaction() as con:
            # The version is not bumped: a rename does not make an open view stale.
            cur = con.execute("UPDATE projects SET name = ?, updated = ? WHERE id = ?",
                              (name, _now(), project_id))
            if cur.rowcount == 0:
                raise ProjectNotFound(f"no project {project_id}")

    # -- where the reviewer is -------------------------------------------------
    def touch(self, project_id: int) -> None:
        """Record that the project was opened now (the project list shows it)."""
        with self._transaction() as con:
            self._row_exists(con, project_id)
            con.execute("INSERT INTO views (project_id, opened) VALUES (?, ?) "
                        "ON CONFLICT(project_id) DO UPDATE SET opened = excluded.opened",
                        (project_id, _now()))

    def save_view(self, project_id: int, view: dict) -> None:
        """Keep a small JSON view state (current pair, filter) to reopen the
        project where the reviewer left it."""
        text = json.dumps(view, ensure_ascii=False, separators=(",", ":"))
        if len(text.encode()) > MAX_VIEW_BYTES:
            raise EditError("the view state is too large to keep")
        with self._transaction() as con:
            self._row_exists(con, project_id)
            con.execute("INSERT INTO views (project_id, view) VALUES (?, ?) "
                        "ON CONFLICT(project_id) DO UPDATE SET view = excluded.view",
                        (project_id, text))

    def load_view(self, project_id: int) -> dict:
        with self._lock:
            row = self._con.execute("SELECT view FROM views WHERE project_id = ?",
                                    (project_id,)).fetchone()
        try:
            view = json.loads(row[0]) if row else {}
        except ValueError:
            view = {}
        return view if isinstance(view, dict) else {}

    def opened(self, project_id: int) -> datetime | None:
        with self._lock:
            row = self._con.execute("SELECT opened FROM views WHERE project_id = ?",
                                    (project_id,)).fetchone()
        return datetime.fromisoformat(row[0]) if row and row[0] else None

    def progress(self, project_id: int) -> tuple[int, int]:
        """(confirmed pairs, pairs) in the project's current state."""
        with self._lock:
            row = self._con.execute(
                "SELECT s.pairs FROM projects p JOIN states s ON s.project_id = p.id AND s.seq = p.cursor "
                "WHERE p.id = ?", (project_id,)).fetchone()
        if row is None:
            raise ProjectNotFound(f"no project {project_id}")
        pairs = _unpack(row[0])["pairs"]
        return sum(p.get("status") == "confirmed" for p in pairs), len(pairs)

    def client_seq(self, project_id: int, client: str) -> int:
        """The last operation number applied for this browser tab (0: none)."""
        with self._lock:
            row = self._con.execute("SELECT seq FROM clients WHERE project_id = ? AND client = ?",
                                    (project_id, client)).fetchone()
        return row[0] if row else 0

    def skip_client_ops(self, project_id: int, client: str, seq: int) -> None:
        """Mark a tab's operations up to ``seq`` as dealt with (refused ones)."""
        with self._transaction() as con:
            _record_client(con, project_id, (client, seq))

    @staticmethod
    def _row_exists(con: sqlite3.Connection, project_id: int) -> None:
        if con.execute("SELECT 1 FROM projects WHERE id = ?", (project_id,)).fetchone() is None:
            raise ProjectNotFound(f"no project {project_id}")

    def delete_project(self, project_id: int) -> None:
        with self._transaction() as con:
            if con.execute("DELETE FROM projects WHERE id = ?", (project_id,)).rowcount == 0:
                raise ProjectNotFound(f"no project {project_id}")


def _record_client(con: sqlite3.Connection, project_id: int, client: Client | None) -> None:
    if client is None:
        return
    con.execute("INSERT INTO clients VALUES (?, ?, ?) ON CONFLICT(project_id, client) "
                "DO UPDATE SET seq = MAX(seq, excluded.seq)", (project_id, str(client[0]), int(client[1])))


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise EditError("a project needs a name")
    return name.strip()


def _head(al: Alignment) -> dict:
    return {"mode": al.mode, "meta": al.meta, "pairs": [p.to_json() for p in al.pairs]}


def _segs(segments: tuple[Segment, ...]) -> list:
    return [s.to_json() for s in segments]


class Project:
    """An open project: ``History``'s interface (``apply``, ``undo``, ``redo``,
    ``current``, ``can_undo``, ``can_redo``, ``steps``), every call saved
    before it returns."""

    def __init__(self, store: Store, project_id: int) -> None:
        self.store = store
        self.id = project_id
        with store._lock:
            self._sync(store._con)

    # -- reading ---------------------------------------------------------------
    @property
    def current(self) -> Alignment:
        return self._current

    @property
    def cursor(self) -> int:
        return self._cursor

    @property
    def can_undo(self) -> bool:
        return self._cursor > 0

    @property
    def can_redo(self) -> bool:
        return self._cursor < self._top

    @property
    def steps(self) -> tuple[Step, ...]:
        """``steps[i]`` turned state i into state i+1 (redo branch included)."""
        with self.store._lock:
            rows = self.store._con.execute(
                "SELECT op FROM states WHERE project_id = ? AND seq > 0 ORDER BY seq",
                (self.id,)).fetchall()
        return tuple(Step.from_json(json.loads(op)) for (op,) in rows)

    @property
    def info(self) -> ProjectInfo:
        return self.store.project_info(self.id)

    def reload(self) -> Alignment:
        """Pick up changes made by another session."""
        with self.store._lock:
            self._sync(self.store._con)
        return self._current

    # -- editing ---------------------------------------------------------------
    def apply(self, op: str | Callable[..., Alignment], *args: Any,
              client: Client | None = None) -> Alignment:
        """Run and save one edit; ``client`` (tab, operation number) is
        recorded with it, so the same operation is never applied twice."""
        step = Step.make(op, args)
        new = step.run(self._current)  # EditError here: nothing written
        check_invariants(new)
        seq = self._cursor + 1
        ja_seq = self._refs[0] if new.ja == self._current.ja else seq
        en_seq = self._refs[1] if new.en == self._current.en else seq
        with self.store._transaction() as con:
            self._check_fresh(con)
            con.execute("DELETE FROM states WHERE project_id = ? AND seq >= ?", (self.id, seq))
            con.execute("INSERT INTO states VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (
                self.id, seq, json.dumps(step.to_json(), ensure_ascii=False), _pack(_head(new)),
                ja_seq, en_seq, _pack(_segs(new.ja)) if ja_seq == seq else None,
                _pack(_segs(new.en)) if en_seq == seq else None))
            self._move(con, seq)
            _record_client(con, self.id, client)
        self._current, self._cursor, self._top, self._refs = new, seq, seq, (ja_seq, en_seq)
        self._version += 1
        return new

    def undo(self, client: Client | None = None) -> Alignment:
        return self._go(-1, "nothing to undo", client)

    def redo(self, client: Client | None = None) -> Alignment:
        return self._go(+1, "nothing to redo", client)

    # -- internals -------------------------------------------------------------
    def _go(self, delta: int, empty: str, client: Client | None = None) -> Alignment:
        with self.store._transaction() as con:
            self._check_fresh(con)
            seq = self._cursor + delta
            if not 0 <= seq <= self._top:
                raise EditError(empty)
            al, refs = self._load(con, seq)
            self._move(con, seq)
            _record_client(con, self.id, client)
        self._current, self._cursor, self._refs = al, seq, refs
        self._version += 1
        return al

    def _move(self, con: sqlite3.Connection, seq: int) -> None:
        con.execute("UPDATE projects SET cursor = ?, version = version + 1, updated = ? WHERE id = ?",
                    (seq, _now(), self.id))

    def _row(self, con: sqlite3.Connection) -> tuple[int, int]:
        row = con.execute("SELECT cursor, version FROM projects WHERE id = ?", (self.id,)).fetchone()
        if row is None:
            raise ProjectNotFound(f"no project {self.id}")
        return row

    def _check_fresh(self, con: sqlite3.Connection) -> None:
        if self._row(con)[1] != self._version:
            self._sync(con)
            raise ConflictError("this project was changed in another window; "
                                "showing its latest state, please try again")

    def _sync(self, con: sqlite3.Connection) -> None:
        self._cursor, self._version = self._row(con)
        self._top = con.execute("SELECT MAX(seq) FROM states WHERE project_id = ?",
                                (self.id,)).fetchone()[0]
        self._refs = (-1, -1)
        self._current, self._refs = self._load(con, self._cursor)

    def _load(self, con: sqlite3.Connection, seq: int) -> tuple[Alignment, tuple[int, int]]:
        head, ja_seq, en_seq = con.execute(
            "SELECT pairs, ja_seq, en_seq FROM states WHERE project_id = ? AND seq = ?",
            (self.id, seq)).fetchone()
        sides = []
        for side, ref, known in (("ja", ja_seq, self._refs[0]), ("en", en_seq, self._refs[1])):
            if ref == known:  # same segments as now: skip decoding them again
                sides.append(getattr(self._current, side))
                continue
            blob = con.execute(f"SELECT {side} FROM states WHERE project_id = ? AND seq = ?",
                               (self.id, ref)).fetchone()[0]
            sides.append(tuple(Segment.from_json(s) for s in _unpack(blob)))
        head = _unpack(head)
        pairs = tuple(Pair.from_json(p) for p in head["pairs"])
        return Alignment(sides[0], sides[1], pairs, head["mode"], head["meta"]), (ja_seq, en_seq)
