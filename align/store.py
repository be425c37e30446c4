"""Review projects in SQLite: every edit is saved before the call returns.

An open project (``Project``) is an ``edits.History`` over ``ProjectLog``, the ``edits.Log``
this file keeps; the log reads and writes through the store's own history methods
(``read_history``, ``write_step``, ``move_cursor``). A project keeps its whole history as
states ``seq = 0..top`` (0 is the aligner's output) and a ``cursor`` naming the current one;
undo and redo move the cursor, a new edit after undo deletes the states above it. So a new
process opening the same file gets back the current state and the full undo/redo history.

Each history row holds the edit (the ``Step``) and its *delta*: where the pairs and each
side's segments changed, what was there before and what is there after, so the row can be
applied forwards (redo) and backwards (undo) without replaying any edit operation (a later
fix to an operation cannot rewrite old history). A click costs what it changed, not the
size of the project: a 200k-pair project saves a confirm as fast as a 200-pair one (see
``scripts/bench_edits.py --scale``). Some rows also hold a *snapshot* of the whole state,
row 0 always, then whenever the deltas since the last snapshot outweigh it or number
``SNAPSHOT_EVERY``: opening a project reads the snapshot at or below the cursor and the
deltas after it. An imported ``meta`` is stored once, in the project's row.

The file carries a schema version (``PRAGMA user_version``): an older layout is migrated
when opened, a newer one is refused with one line, and a SQLite file that is not a
projects file is never touched. A file this user cannot write opens read-only
(``Store.read_only``); an edit then raises ``StoreError`` saying so.

Durability: WAL with ``synchronous=FULL`` and one short ``BEGIN IMMEDIATE`` transaction
per call, so a ``kill -9`` (even a power cut) right after a call returns loses nothing.
Two app sessions may share the file: writers wait up to the busy timeout, and an edit made
from a stale view raises ``ConflictError`` (after reloading) instead of landing on a state
the translator never saw.
"""

from __future__ import annotations

import hashlib
import itertools
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
from typing import Any, Iterable, Iterator, Sequence

from .edits import Client, ConflictError, EditError, History, Step, changed_run, check_invariants
from .errors import InputError, ProjectNotFound, StoreError
from .model import Alignment, Pair, Segment

BUSY_TIMEOUT_S = 10.0
SCHEMA_VERSION = 2  # 1: whole pairs in every row (no user_version set); 2: deltas
SNAPSHOT_EVERY = 500  # at most this many deltas to apply when a project is opened
MAX_VIEW_BYTES = 4096

_PROJECTS = """CREATE TABLE IF NOT EXISTS projects (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    mode        TEXT NOT NULL,
    model       TEXT NOT NULL,
    created     TEXT NOT NULL,   -- ISO 8601, UTC
    updated     TEXT NOT NULL,
    cursor      INTEGER NOT NULL DEFAULT 0,
    version     INTEGER NOT NULL DEFAULT 0,  -- bumped by every change, to spot stale views
    meta        BLOB,            -- zlib JSON: the alignment's meta, the same in every state
    confirmed   INTEGER NOT NULL DEFAULT 0,  -- pairs confirmed in the current state
    total       INTEGER NOT NULL DEFAULT 0,  -- pairs in the current state
    last_opened TEXT,
    view        TEXT             -- JSON: where the reviewer was (pair, filter)
)"""
_SOURCES = """CREATE TABLE IF NOT EXISTS sources (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    filename   TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    PRIMARY KEY (project_id, position)
)"""
_HISTORY = """CREATE TABLE IF NOT EXISTS history (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    op         TEXT,            -- the Step as JSON; NULL for the original
    delta      BLOB,            -- zlib JSON {part: [start, before, after]}; NULL for seq 0
    snapshot   BLOB,            -- zlib JSON {"ja", "en", "pairs"}: the whole state, or NULL
    PRIMARY KEY (project_id, seq)
) WITHOUT ROWID"""
# The review grid numbers its operations per browser tab and sends again those not yet
# acknowledged (after a reconnect, a server restart): the last number applied, written in
# the same transaction as the edit, makes a resent operation a no-op, not a second edit.
_CLIENTS = """CREATE TABLE IF NOT EXISTS clients (
    project_id INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    client     TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (project_id, client)
) WITHOUT ROWID"""
# The ids of deleted projects: a project's id is never given again (SQLite would reuse the
# highest), so a tab, a link or keys kept in a browser for a deleted project never reach
# another one.
_DELETED = """CREATE TABLE IF NOT EXISTS deleted (id INTEGER PRIMARY KEY)"""
# Columns schema 2 added to schema 1's projects table.
_V2_COLUMNS = ["meta BLOB", "confirmed INTEGER NOT NULL DEFAULT 0",
               "total INTEGER NOT NULL DEFAULT 0", "last_opened TEXT", "view TEXT"]
_OURS = {"projects", "sources", "history"}  # schema 2's tables; schema 1 had states
_V1 = {"projects", "sources", "states"}
_SIDES = ("pairs", "ja", "en")


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
    confirmed: int = 0              # pairs confirmed in the current state
    total: int = 0                  # pairs in the current state
    last_opened: datetime | None = None


def default_db_path() -> Path:
    """``$TAIYAKU_DB``, else ``taiyaku/projects.sqlite3`` in the user's data folder."""
    if os.environ.get("TAIYAKU_DB"):
        return Path(os.environ["TAIYAKU_DB"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "taiyaku" / "projects.sqlite3"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


# a text may hold lone surrogates (our JSON export writes them as \ud800, and
# imports read them back): stored as they are, not refused
def _pack(value: Any) -> bytes:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return zlib.compress(text.encode("utf-8", "surrogatepass"), 6)


def _unpack(blob: bytes) -> Any:
    return json.loads(zlib.decompress(blob).decode("utf-8", "surrogatepass"))


def _source(filename: str, content: bytes | str) -> Source:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return Source(str(filename), hashlib.sha256(content).hexdigest())
    if isinstance(content, str) and re.fullmatch(r"[0-9a-fA-F]{64}", content):
        return Source(str(filename), content.lower())
    raise ValueError(f"source {filename!r}: give its raw bytes or their sha256 hex digest")


def _pid(project_id: Any) -> int:
    """A project id as SQLite can hold it; anything else names no project (a URL's
    ``?project=99999999999999999999`` included)."""
    try:
        pid = int(project_id)
    except (TypeError, ValueError, OverflowError):
        raise ProjectNotFound(f"no project {str(project_id)[:30]}") from None
    if isinstance(project_id, bool) or not 0 < pid < 2**63:
        raise ProjectNotFound(f"no project {str(project_id)[:30]}")
    return pid


class Store:
    """The projects database. Safe to share between threads (one connection
    behind a lock: Streamlit runs each rerun in a new thread)."""

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else default_db_path()
        self._lock = threading.RLock()
        self.read_only = read_only or (self.path.exists() and not os.access(self.path, os.W_OK))
        try:
            if self.read_only:
                self._con = self._connect_read_only()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._con = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S,
                                            isolation_level=None, check_same_thread=False)
                self._con.execute("PRAGMA foreign_keys=ON")
            self._open()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: not a Taiyaku projects file ({exc})") from None
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open ({exc.strerror or exc})") from None

    def _connect_read_only(self) -> sqlite3.Connection:
        uri = self.path.resolve().as_uri()
        for query in ("?mode=ro", "?mode=ro&immutable=1"):  # no -shm file can be made
            try:
                con = sqlite3.connect(uri + query, uri=True, timeout=BUSY_TIMEOUT_S,
                                      isolation_level=None, check_same_thread=False)
                con.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return con
            except sqlite3.OperationalError:
                continue
        raise StoreError(f"{self.path}: cannot open read-only")

    def _open(self) -> None:
        """Check whose file this is and its schema version; migrate or create."""
        con = self._con
        version = con.execute("PRAGMA user_version").fetchone()[0]
        tables = _tables(con)
        if version > SCHEMA_VERSION:
            raise StoreError(f"{self.path}: made by a newer Taiyaku (schema {version}; this "
                             f"version reads up to {SCHEMA_VERSION}): update Taiyaku")
        if tables and not (tables >= _OURS or tables >= _V1):
            raise StoreError(f"{self.path}: a SQLite file that is not a Taiyaku projects file; "
                             "give another path (TAIYAKU_DB)")
        if self.read_only:
            if tables and version < SCHEMA_VERSION:
                raise StoreError(f"{self.path}: read-only, and in an older layout that "
                                 "must be upgraded first: open it once with write access")
            return
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=FULL")
        if version == SCHEMA_VERSION and tables >= _OURS | {"clients", "deleted"}:
            return
        with self._transaction() as con:
            tables = _tables(con)
            con.execute(_CLIENTS)  # made with schema 2 before the grid came: added
            con.execute(_DELETED)  # likewise, before ids were kept from reuse
            if con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # another process migrated it meanwhile
            if "states" in tables:
                _migrate_v1(con)
            else:
                for table in (_PROJECTS, _SOURCES, _HISTORY):
                    con.execute(table)
            con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

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
        if self.read_only:
            raise StoreError(f"{self.path}: the projects file is read-only; changes cannot "
                             "be saved")
        with self._lock:
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
            except BaseException:
                self._con.execute("ROLLBACK")
                raise
            self._con.execute("COMMIT")

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._con.execute(sql, args).fetchall()

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
            name = _distinct(name, {r[0] for r in con.execute("SELECT name FROM projects")})
            pid = con.execute(
                "INSERT INTO projects (id, name, mode, model, created, updated, meta, confirmed, total)"
                " VALUES ((SELECT max(coalesce((SELECT max(id) FROM projects), 0),"
                "                     coalesce((SELECT max(id) FROM deleted), 0)) + 1),"
                " ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, alignment.mode, model, now, now, _pack(alignment.meta),
                 _confirmed(alignment.pairs), len(alignment.pairs))).lastrowid
            con.executemany("INSERT INTO sources VALUES (?, ?, ?, ?)",
                            [(pid, i, s.filename, s.sha256) for i, s in enumerate(srcs)])
            con.execute("INSERT INTO history VALUES (?, 0, NULL, NULL, ?)",
                        (pid, _pack(_snapshot(alignment))))
        return pid

    def list_projects(self) -> list[ProjectInfo]:
        """All projects, the most recently changed first, with their progress (two
        queries, however many projects)."""
        return self._infos("ORDER BY updated DESC, id DESC")

    def project_info(self, project_id: int) -> ProjectInfo:
        pid = _pid(project_id)
        found = self._infos("WHERE id = ?", (pid,))
        if not found:
            raise ProjectNotFound(f"no project {pid}")
        return found[0]

    def _infos(self, where: str, args: Sequence[Any] = ()) -> list[ProjectInfo]:
        with self._lock:  # the projects, then their sources
            rows = self._con.execute(
                "SELECT id, name, mode, model, created, updated, confirmed, total, last_opened"
                f" FROM projects {where}", args).fetchall()
            sources: dict[int, list[Source]] = {}
            for pid, filename, sha in self._con.execute(
                    "SELECT project_id, filename, sha256 FROM sources"
                    f" WHERE project_id IN (SELECT id FROM projects {where}) ORDER BY project_id, position", args):
                sources.setdefault(pid, []).append(Source(filename, sha))
        return [ProjectInfo(row[0], row[1], row[2], row[3], datetime.fromisoformat(row[4]),
                            datetime.fromisoformat(row[5]), tuple(sources.get(row[0], ())),
                            row[6], row[7], datetime.fromisoformat(row[8]) if row[8] else None) for row in rows]

    def project_metas(self) -> dict[int, dict]:
        """Every project's ``meta`` (the same in every state), by id, in one query and
        without reading any history."""
        return {pid: _unpack(meta) if meta else {} for pid, meta in self._read("SELECT id, meta FROM projects")}

    def open_project(self, project_id: int) -> "Project":
        return Project(self, _pid(project_id))

    def rename_project(self, project_id: int, name: str) -> None:
        name = _name(name)
        self._update(project_id, "name = ?, updated = ?", name, _now())
        # The version is not bumped: a rename does not make an open view stale.

    def delete_project(self, project_id: int) -> None:
        pid = _pid(project_id)
        with self._transaction() as con:
            if con.execute("DELETE FROM projects WHERE id = ?", (pid,)).rowcount == 0:
                raise ProjectNotFound(f"no project {pid}")
            con.execute("INSERT OR IGNORE INTO deleted VALUES (?)", (pid,))

    def touch(self, project_id: int) -> None:
        """Note that the project was opened now (``ProjectInfo.last_opened``); nothing
        in a read-only file."""
        if self.read_only:
            return
        self._update(project_id, "last_opened = ?", _now())

    def save_view(self, project_id: int, view: dict) -> None:
        """Keep where the reviewer was (a small JSON object: current pair, filter); nothing
        in a read-only file."""
        if not isinstance(view, dict):
            raise InputError("a view is a JSON object")
        try:
            text = json.dumps(view, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise InputError(f"a view state must be plain JSON ({exc})") from None
        if len(text.encode()) > MAX_VIEW_BYTES:
            raise InputError(f"a view state is at most {MAX_VIEW_BYTES} bytes of JSON")
        if self.read_only:
            return
        self._update(project_id, "view = ?", text)

    def load_view(self, project_id: int) -> dict:
        """What ``save_view`` kept, or {}."""
        pid = _pid(project_id)
        row = self._read("SELECT view FROM projects WHERE id = ?", (pid,))
        if not row:
            raise ProjectNotFound(f"no project {pid}")
        try:
            view = json.loads(row[0][0]) if row[0][0] else {}
        except ValueError:
            return {}
        return view if isinstance(view, dict) else {}

    def version(self, project_id: int) -> int:
        """The project's version: one more with every write to its history."""
        row = self._read("SELECT version FROM projects WHERE id = ?", (_pid(project_id),))
        if not row:
            raise ProjectNotFound(f"no project {project_id}")
        return row[0][0]

    def client_seq(self, project_id: int, client: str) -> int:
        """The last operation number applied for this browser tab (0: none)."""
        row = self._read("SELECT seq FROM clients WHERE project_id = ? AND client = ?",
                         (_pid(project_id), client))
        return row[0][0] if row else 0

    def skip_client_ops(self, project_id: int, client: str, seq: int) -> None:
        """Mark a tab's operations up to ``seq`` as dealt with (refused ones)."""
        with self._transaction() as con:
            _record_client(con, _pid(project_id), (client, seq))

    # -- a project's history (what ProjectLog reads and writes) -----------------
    def read_history(self, project_id: int) -> tuple[Alignment, int, int, int]:
        """(the state at the cursor, the cursor, the last step's number, the project's
        version), read in one transaction: the nearest snapshot and the deltas after it."""
        pid = _pid(project_id)
        with self._lock:
            self._con.execute("BEGIN")
            try:
                return self._read_history(self._con, pid)
            finally:
                self._con.execute("COMMIT")

    def _read_history(self, con: sqlite3.Connection, pid: int) -> tuple[Alignment, int, int, int]:
        row = con.execute("SELECT cursor, version, mode, meta FROM projects WHERE id = ?",
                          (pid,)).fetchone()
        if row is None:
            raise ProjectNotFound(f"no project {pid}")
        cursor, version, mode, meta = row
        top = con.execute("SELECT MAX(seq) FROM history WHERE project_id = ?", (pid,)).fetchone()[0]
        base, snap = con.execute(
            "SELECT seq, snapshot FROM history WHERE project_id = ? AND seq <= ? "
            "AND snapshot IS NOT NULL ORDER BY seq DESC LIMIT 1", (pid, cursor)).fetchone()
        al = _from_snapshot(_unpack(snap), mode, _unpack(meta) if meta else {})
        for (blob,) in con.execute("SELECT delta FROM history WHERE project_id = ? AND seq > ? "
                                   "AND seq <= ? ORDER BY seq", (pid, base, cursor)):
            al = _apply_delta(al, _unpack(blob), forward=True)
        return al, cursor, top, version

    def history_steps(self, project_id: int) -> tuple[Step, ...]:
        """``steps[i]`` turned state i into state i+1 (redo branch included)."""
        rows = self._read("SELECT op FROM history WHERE project_id = ? AND seq > 0 ORDER BY seq",
                          (_pid(project_id),))
        return tuple(Step.from_json(json.loads(op)) for (op,) in rows)

    def write_step(self, project_id: int, version: int, seq: int, step: Step, delta: dict,
                   after: Alignment, client: Client | None) -> int:
        """Save ``step`` (its ``delta``, ending in state ``after``) as number ``seq``,
        dropping the steps from ``seq`` on, with the client's number; the new version.
        ConflictError if the project's version is no longer ``version``."""
        pid = _pid(project_id)
        blob = _pack(delta)
        with self._transaction() as con:
            _check_version(con, pid, version)
            con.execute("DELETE FROM history WHERE project_id = ? AND seq >= ?", (pid, seq))
            snapshot = _pack(_snapshot(after)) if _wants_snapshot(con, pid, seq, len(blob)) else None
            con.execute("INSERT INTO history VALUES (?, ?, ?, ?, ?)", (
                pid, seq, json.dumps(step.to_json(), ensure_ascii=False), blob, snapshot))
            _move(con, pid, seq, delta, forward=True)
            _record_client(con, pid, client)
        return version + 1

    def move_cursor(self, project_id: int, version: int, cursor: int, to: int,
                    current: Alignment, client: Client | None) -> tuple[Alignment, Step, int] | None:
        """Undo or redo one step from ``cursor`` (whose state is ``current``) to ``to``:
        the state there, the step crossed and the new version; None (nothing written) if
        there is no such state. ConflictError as ``write_step``."""
        pid = _pid(project_id)
        forward = to > cursor
        with self._transaction() as con:
            _check_version(con, pid, version)
            row = con.execute("SELECT op, delta FROM history WHERE project_id = ? AND seq = ? "
                              "AND seq > 0", (pid, to if forward else cursor)).fetchone()
            if to < 0 or row is None:
                return None
            delta = _unpack(row[1])
            al = _apply_delta(current, delta, forward)
            _move(con, pid, to, delta, forward)
            _record_client(con, pid, client)
        return al, Step.from_json(json.loads(row[0])), version + 1

    def _update(self, project_id: int, assignments: str, *values: Any) -> None:
        pid = _pid(project_id)
        with self._transaction() as con:
            cur = con.execute(f"UPDATE projects SET {assignments} WHERE id = ?", (*values, pid))
            if cur.rowcount == 0:
                raise ProjectNotFound(f"no project {pid}")


def _record_client(con: sqlite3.Connection, project_id: int, client: Client | None) -> None:
    if client is not None:
        con.execute("INSERT INTO clients VALUES (?, ?, ?) ON CONFLICT(project_id, client) "
                    "DO UPDATE SET seq = MAX(seq, excluded.seq)", (project_id, str(client[0]), int(client[1])))


def _tables(con: sqlite3.Connection) -> set[str]:
    return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _name(name: str) -> str:
    if not isinstance(name, str) or not name.strip():
        raise EditError("a project needs a name")
    return name.strip()


def _distinct(name: str, taken: set[str]) -> str:
    """``name``, else ``name (2)``, ``name (3)``…, the first no project has: two
    imports of one file, or two alignments of the same files, are told apart in the
    project list."""
    tries = (name if n == 1 else f"{name} ({n})" for n in itertools.count(1))
    return next(t for t in tries if t not in taken)


def _confirmed(pairs: Iterable[Pair]) -> int:
    return sum(p.status == "confirmed" for p in pairs)


def _snapshot(al: Alignment) -> dict:
    return {"ja": [s.to_json() for s in al.ja], "en": [s.to_json() for s in al.en],
            "pairs": [p.to_json() for p in al.pairs]}


_FROM_JSON = {"pairs": Pair.from_json, "ja": Segment.from_json, "en": Segment.from_json}


def _parts(al: Alignment) -> dict[str, tuple]:
    return {"pairs": al.pairs, "ja": al.ja, "en": al.en}


def _delta(old: Alignment, new: Alignment) -> dict:
    out = {}
    before, after = _parts(old), _parts(new)
    for side in _SIDES:
        d = changed_run(before[side], after[side])
        if d is not None:
            out[side] = [d[0], [x.to_json() for x in d[1]], [x.to_json() for x in d[2]]]
    return out


def _apply_delta(al: Alignment, delta: dict, forward: bool) -> Alignment:
    parts = _parts(al)
    for side, (start, before, after) in delta.items():
        old, new = (before, after) if forward else (after, before)
        items = parts[side]
        if [x.to_json() for x in items[start:start + len(old)]] != old:
            raise StoreError("the project's history is damaged (a step does not fit its state)")
        parts[side] = items[:start] + tuple(_FROM_JSON[side](x) for x in new) + \
            items[start + len(old):]
    return Alignment(parts["ja"], parts["en"], parts["pairs"], al.mode, al.meta)


def _from_snapshot(snap: dict, mode: str, meta: dict) -> Alignment:
    return Alignment(tuple(Segment.from_json(s) for s in snap["ja"]),
                     tuple(Segment.from_json(s) for s in snap["en"]),
                     tuple(Pair.from_json(p) for p in snap["pairs"]), mode, meta)


def _migrate_v1(con: sqlite3.Connection) -> None:
    """Schema 1 (a whole pairs list in every row, segments where they changed) to 2."""
    for column in _V2_COLUMNS:
        con.execute(f"ALTER TABLE projects ADD COLUMN {column}")
    con.execute(_HISTORY)
    for pid, cursor, mode in con.execute("SELECT id, cursor, mode FROM projects").fetchall():
        rows = con.execute("SELECT seq, op, pairs, ja_seq, en_seq, ja, en FROM states "
                           "WHERE project_id = ? ORDER BY seq", (pid,)).fetchall()
        blobs = {seq: (ja, en) for seq, _, _, _, _, ja, en in rows}
        previous, meta, current = None, {}, None
        for seq, op, pairs, ja_seq, en_seq, _, _ in rows:
            head = _unpack(pairs)
            meta = head.get("meta", {}) if previous is None else meta
            al = Alignment(tuple(Segment.from_json(s) for s in _unpack(blobs[ja_seq][0])),
                           tuple(Segment.from_json(s) for s in _unpack(blobs[en_seq][1])),
                           tuple(Pair.from_json(p) for p in head["pairs"]), mode, meta)
            if previous is None:
                con.execute("INSERT INTO history VALUES (?, ?, NULL, NULL, ?)",
                            (pid, seq, _pack(_snapshot(al))))
            else:
                con.execute("INSERT INTO history VALUES (?, ?, ?, ?, NULL)",
                            (pid, seq, op, _pack(_delta(previous, al))))
            if seq == cursor:
                current = al
            previous = al
        if current is not None:
            con.execute("UPDATE projects SET meta = ?, confirmed = ?, total = ? WHERE id = ?",
                        (_pack(meta), _confirmed(current.pairs), len(current.pairs), pid))
    con.execute("DROP TABLE states")


class ProjectLog:
    """A project's ``edits.Log`` in the store: deltas and snapshots in the history table,
    each call one transaction. It remembers the project's version as it last read or
    wrote it, so that a write from a stale view raises ConflictError."""

    def __init__(self, store: Store, project_id: int) -> None:
        self.store = store
        self.id = project_id
        self._version = -1

    def load(self) -> tuple[Alignment, int, int]:
        al, cursor, top, self._version = self.store.read_history(self.id)
        return al, cursor, top

    def steps(self) -> tuple[Step, ...]:
        return self.store.history_steps(self.id)

    def append(self, seq: int, step: Step, before: Alignment, after: Alignment,
               client: Client | None) -> None:
        self._version = self.store.write_step(self.id, self._version, seq, step,
                                              _delta(before, after), after, client)

    def move(self, cursor: int, to: int, current: Alignment,
             client: Client | None) -> tuple[Alignment, Step] | None:
        moved = self.store.move_cursor(self.id, self._version, cursor, to, current, client)
        if moved is None:
            return None
        al, step, self._version = moved
        return al, step

    def client_seq(self, client: str) -> int:
        return self.store.client_seq(self.id, client)

    def skip_client_ops(self, client: str, seq: int) -> None:
        self.store.skip_client_ops(self.id, client, seq)

    def changed_elsewhere(self) -> bool:
        return self.store.version(self.id) != self._version

    def version(self) -> int:
        return self._version


class Project(History):
    """An open project: a ``History`` over its log in the store, every call saved
    before it returns."""

    def __init__(self, store: Store, project_id: int) -> None:
        self.store = store
        self.id = project_id
        super().__init__(ProjectLog(store, project_id))

    @property
    def info(self) -> ProjectInfo:
        return self.store.project_info(self.id)


def _check_version(con: sqlite3.Connection, pid: int, version: int) -> None:
    row = con.execute("SELECT version FROM projects WHERE id = ?", (pid,)).fetchone()
    if row is None:
        raise ProjectNotFound(f"no project {pid}")
    if row[0] != version:
        raise ConflictError("this project was changed in another window; "
                            "showing its latest state, please try again")


def _wants_snapshot(con: sqlite3.Connection, pid: int, seq: int, size: int) -> bool:
    """A snapshot when the deltas since the last one (below ``seq``) outweigh it or are
    SNAPSHOT_EVERY: opening the project then reads a bounded amount."""
    base, base_size = con.execute(
        "SELECT seq, LENGTH(snapshot) FROM history WHERE project_id = ? AND seq < ? "
        "AND snapshot IS NOT NULL ORDER BY seq DESC LIMIT 1", (pid, seq)).fetchone()
    count, total = con.execute(
        "SELECT COUNT(*), COALESCE(SUM(LENGTH(delta)), 0) FROM history "
        "WHERE project_id = ? AND seq > ? AND seq < ?", (pid, base, seq)).fetchone()
    return count + 1 >= SNAPSHOT_EVERY or total + size >= base_size


def _move(con: sqlite3.Connection, pid: int, seq: int, delta: dict, forward: bool) -> None:
    """Put the cursor on ``seq``, bump the version, and keep the progress counts right
    (from the delta alone: a click costs what it changed)."""
    before, after = ([], []) if "pairs" not in delta else delta["pairs"][1:]
    if not forward:
        before, after = after, before
    confirmed = (sum(p.get("status") == "confirmed" for p in after)
                 - sum(p.get("status") == "confirmed" for p in before))
    con.execute("UPDATE projects SET cursor = ?, version = version + 1, updated = ?, "
                "confirmed = confirmed + ?, total = total + ? WHERE id = ?",
                (seq, _now(), confirmed, len(after) - len(before), pid))
