"""The embedded store: one SQLite file in WAL mode.

Tables: ``leaves`` (index, receipt id, canonical JSON, leaf hash), ``nodes`` (the hash of every
complete subtree above the leaves, by level and index — so appends touch O(log n) rows and proofs
read O(log n) hashes), ``checkpoints`` (signed tree heads). Every append runs in one
``BEGIN IMMEDIATE`` transaction that reads the size inside it, so concurrent writers — threads or
processes — get distinct, contiguous indices; ``synchronous=FULL`` makes it durable on return.
The checkpoint covering the new size is signed and stored in that same transaction, so no crash
leaves receipts without one: an unsigned tail can only come from outside the library.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from governed_agents.receipts._store import Entry, NotAReceiptLog, Row, StoredLeaf
from governed_agents.receipts._tree import CompactRange, frontier, range_hash

__all__ = ["NotAReceiptLog", "SQLiteStore", "StoredLeaf"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leaves (
    idx INTEGER PRIMARY KEY, receipt_id TEXT NOT NULL, executor TEXT, denied INTEGER, grp TEXT,
    body BLOB NOT NULL, leaf BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS nodes (level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, body TEXT NOT NULL, saved INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

_TABLES = {"leaves", "nodes", "checkpoints", "meta"}

class SQLiteStore:
    """The embedded implementation of the ``Store`` interface (``_store``)."""

    def __init__(self, path: str | Path, *, create: bool = True) -> None:
        """``create=False`` opens an existing log without writing to it (no schema, no journal-mode
        change) and raises ``NotAReceiptLog`` for a missing file or one that holds no receipt log."""
        self.path = Path(path)
        self.location = str(path)
        self._lock = threading.RLock()
        if create:
            self._db = _connect(str(self.path))
            self._refuse_foreign()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            with self._lock:
                self._retrying(lambda: self._db.executescript(_SCHEMA))
        else:
            if not self.path.is_file():
                raise NotAReceiptLog(f"{self.path}: " + ("not a file" if self.path.exists() else "no such file"))
            self._db = _connect("file:" + urllib.parse.quote(str(self.path.absolute())) + "?mode=rw", uri=True)
            self._check_tables()
            self._db.execute("PRAGMA synchronous=FULL")

    def _refuse_foreign(self) -> None:
        """An SQLite file of another application is not turned into a receipt log (our tables
        would be added to someone else's database)."""
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if tables - _TABLES - {"sqlite_sequence"}:
            self._db.close()
            raise NotAReceiptLog(f"{self.path}: an SQLite file of another application (tables: "
                                 f"{', '.join(sorted(tables - _TABLES)[:5])}); a receipt log needs a file of its own")

    def _check_tables(self) -> None:
        try:
            tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:  # "file is not a database"
            self._db.close()
            raise NotAReceiptLog(f"{self.path}: not a receipt log ({exc})") from exc
        missing = _TABLES - tables
        if missing:
            self._db.close()
            raise NotAReceiptLog(f"{self.path}: not a receipt log (an SQLite file without the "
                                 f"{', '.join(sorted(missing))} table(s))")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _retrying(self, fn: Callable[[], Any]) -> Any:
        for attempt in range(50):
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if ("locked" not in str(exc) and "busy" not in str(exc)) or attempt == 49:
                    raise
                time.sleep(0.05)
        return None

    # -- writing ------------------------------------------------------------------------------

    def append(self, entries: Sequence[Entry], checkpoint: Callable[[int, bytes], str],
               meta: Sequence[tuple[str, str]] = ()) -> int:
        """Append ``(receipt_id, executor, denied, group, body, leaf)`` rows; returns the first index.

        ``checkpoint(size, root)`` signs the new tree head inside the transaction: there is no
        append without one, since ``verify`` reports receipts no signed checkpoint covers. ``meta``
        (the parts the rows reference, kept if already there) commits in the same transaction: one
        fsync for a receipt and its new analysis.
        """
        with self._lock:
            db = self._db
            self._retrying(lambda: db.execute("BEGIN IMMEDIATE"))
            try:
                if meta:
                    db.executemany("INSERT OR IGNORE INTO meta VALUES (?, ?)", meta)
                size = db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0]
                compact = CompactRange(size, self._frontier(size))
                rows, nodes = [], []
                for offset, (receipt_id, executor, denied, group, body, leaf) in enumerate(entries):
                    rows.append((size + offset, receipt_id, executor, int(denied), group, body, leaf))
                    nodes.extend(compact.append(leaf))
                db.executemany("INSERT INTO leaves VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
                db.executemany("INSERT OR REPLACE INTO nodes VALUES (?, ?, ?)", nodes)
                signed = checkpoint(compact.size, compact.root())
                db.execute("DELETE FROM checkpoints WHERE saved = 0")
                db.execute("INSERT OR IGNORE INTO checkpoints VALUES (?, ?, 0)", (compact.size, signed))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return int(size)

    def load(self, rows: Iterable[Row], nodes: Iterable[tuple[int, int, bytes]],
             checkpoints: Sequence[tuple[int, str, bool]], meta: Sequence[tuple[str, str]]) -> None:
        """Fill an empty log with another log's rows, nodes, checkpoints and meta, verbatim, in one
        transaction (``audit copy``): indices, signatures and the signing key's record are kept."""
        rows, nodes = iter(rows), iter(nodes)
        with self._lock:
            db = self._db
            self._retrying(lambda: db.execute("BEGIN IMMEDIATE"))
            try:
                if not self.is_empty():
                    raise NotAReceiptLog(f"{self.location}: not empty; a copy goes into a new log")
                while True:
                    chunk = [(i, r, e, int(d), g, b, leaf) for i, r, e, d, g, b, leaf in _take(rows, 10000)]
                    if not chunk:
                        break
                    db.executemany("INSERT INTO leaves VALUES (?, ?, ?, ?, ?, ?, ?)", chunk)
                while True:
                    node_chunk = _take(nodes, 10000)
                    if not node_chunk:
                        break
                    db.executemany("INSERT INTO nodes VALUES (?, ?, ?)", node_chunk)
                db.executemany("INSERT INTO checkpoints VALUES (?, ?, ?)",
                               [(size, body, int(saved)) for size, body, saved in checkpoints])
                db.executemany("INSERT INTO meta VALUES (?, ?)", meta)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def is_empty(self) -> bool:
        with self._lock:
            return not any(self._db.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone()
                           for table in ("leaves", "nodes", "checkpoints", "meta"))

    def save_checkpoint(self, size: int, body: str) -> None:
        with self._lock:
            self._retrying(lambda: self._db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?, 1)", (size, body)))

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._retrying(lambda: self._db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (key, value)))

    # -- reading ------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[SQLiteStore]:
        """The log as of one moment, read through a second connection in one read transaction.

        A verify reads the checkpoints, then every leaf; a writer committing in between would
        otherwise show receipts without the checkpoint signed for them. WAL readers do not block
        writers, and this connection's own appends (another thread) are not blocked either.
        """
        reader = SQLiteStore(self.path, create=False)
        try:
            reader._db.execute("BEGIN")
            reader._db.execute("SELECT COUNT(*) FROM checkpoints").fetchone()  # the snapshot starts here
            yield reader
        finally:
            reader.close()

    def size(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM leaves").fetchone()[0])

    def _frontier(self, size: int) -> list[bytes]:
        return frontier(size, self.subtree_hash)

    def subtree_hash(self, level: int, index: int) -> bytes:
        if level == 0:
            row = self._db.execute("SELECT leaf FROM leaves WHERE idx = ?", (index,)).fetchone()
        else:
            row = self._db.execute("SELECT hash FROM nodes WHERE level = ? AND idx = ?", (level, index)).fetchone()
        if row is None:
            raise KeyError(f"no stored hash for subtree level {level} index {index}")
        return bytes(row[0])

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end) from stored complete subtrees (O(log n) lookups)."""
        with self._lock:
            return range_hash(start, end, self.subtree_hash)

    def root(self, size: int | None = None) -> bytes:
        with self._lock:
            size = self.size() if size is None else size
            return CompactRange(size, self._frontier(size)).root()

    def leaves(self, batch: int = 10000) -> Iterator[StoredLeaf]:
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute("SELECT idx, body, leaf FROM leaves WHERE idx > ? ORDER BY idx LIMIT ?",
                                        (last, batch)).fetchall()
            if not rows:
                return
            for idx, body, leaf in rows:
                yield int(idx), _bytes(body), _bytes(leaf)
            last = rows[-1][0]

    def rows(self, batch: int = 10000) -> Iterator[Row]:
        last = -1
        while True:
            with self._lock:
                rows = self._db.execute("SELECT idx, receipt_id, executor, denied, grp, body, leaf FROM leaves "
                                        "WHERE idx > ? ORDER BY idx LIMIT ?", (last, batch)).fetchall()
            if not rows:
                return
            for idx, receipt_id, executor, denied, grp, body, leaf in rows:
                yield int(idx), str(receipt_id), str(executor), bool(denied), grp, _bytes(body), _bytes(leaf)
            last = rows[-1][0]

    def get(self, index: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("SELECT body FROM leaves WHERE idx = ?", (index,)).fetchone()
        return _bytes(row[0]) if row else None

    def select(self, executor: str | None, denied: bool | None, group: str | None) -> Iterator[tuple[int, bytes]]:
        query, params = "SELECT idx, body FROM leaves WHERE 1=1", list[object]()
        if executor is not None:
            query += " AND executor = ?"
            params.append(executor)
        if denied is not None:
            query += " AND denied = ?"
            params.append(int(denied))
        if group is not None:
            query += " AND grp = ?"
            params.append(group)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY idx", params).fetchall()
        for idx, body in rows:
            yield int(idx), _bytes(body)

    def stored_nodes(self) -> Iterator[tuple[int, int, bytes]]:
        with self._lock:
            rows = self._db.execute("SELECT level, idx, hash FROM nodes").fetchall()
        for level, idx, value in rows:
            yield int(level), int(idx), _bytes(value)

    def checkpoints(self) -> list[tuple[int, str]]:
        with self._lock:
            return [(int(s), str(b)) for s, b in self._db.execute("SELECT size, body FROM checkpoints ORDER BY size")]


    def all_checkpoints(self) -> list[tuple[int, str, bool]]:
        with self._lock:
            return [(int(s), str(b), bool(saved))
                    for s, b, saved in self._db.execute("SELECT size, body, saved FROM checkpoints ORDER BY size")]

    def meta_items(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(str(k), str(v)) for k, v in self._db.execute("SELECT key, value FROM meta ORDER BY key")]


def _take(items: Iterable[Any], n: int) -> list[Any]:
    iterator = iter(items)
    return [item for _, item in zip(range(n), iterator, strict=False)]


def _connect(target: str, uri: bool = False) -> sqlite3.Connection:
    db = sqlite3.connect(target, uri=uri, timeout=60, isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA busy_timeout=60000")  # reads nothing yet: a file that is no database fails later
    return db


def _bytes(value: object) -> bytes:
    """A column as bytes, whatever type an edit left in it (SQLite is dynamically typed)."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, memoryview):
        return value.tobytes()
    return str(value).encode("utf-8")
