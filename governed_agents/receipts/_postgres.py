"""The server store: one PostgreSQL database (psycopg 3), for many writers on many hosts.

The tables live in their own schema, ``governed_receipts``, so a log can share a database with
an application: ``leaves``, ``nodes``, ``checkpoints`` and ``meta`` hold what the SQLite file
holds, and ``head`` is one row with the size and the frontier (the hashes of the perfect subtrees
covering ``[0, size)``). Every append locks that row (``SELECT … FOR UPDATE``) inside its
transaction (after queueing on an advisory lock, which the server grants one waiter at a time
rather than waking them all on each commit), appends at the size it holds, writes the nodes completed, signs and stores the
checkpoint for the new size and moves the head — one commit. Writers on any number of hosts take
turns on the row, so indices are consecutive and distinct and every commit extends the one tree
the previous one left. A writer that dies mid-transaction leaves nothing: the server rolls it back
and the row lock goes with its connection; nothing committed is ever rewritten.

Over the network a store fails closed and recovers: connecting gives up after ``connect_timeout``
(10 s unless the URL says), a write the server stops acknowledging fails after
``tcp_user_timeout`` (30 s), a lost connection raises (the gate denies) and the next call
connects again.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from governed_agents.receipts._store import (
    Entry,
    NotAReceiptLog,
    ReceiptStoreError,
    Row,
    StoredLeaf,
    describe,
)
from governed_agents.receipts._tree import CompactRange, frontier, range_hash

try:
    import psycopg
except ImportError:  # pragma: no cover - the optional extra is missing
    psycopg = None  # type: ignore[assignment]

__all__ = ["SCHEMA", "PostgresStore"]

SCHEMA = "governed_receipts"
_TABLES = ("leaves", "nodes", "checkpoints", "meta", "head")
_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
CREATE TABLE IF NOT EXISTS {SCHEMA}.leaves (
    idx BIGINT PRIMARY KEY, receipt_id TEXT NOT NULL, executor TEXT, denied BOOLEAN, grp TEXT,
    body BYTEA NOT NULL, leaf BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.nodes (level INTEGER NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
    PRIMARY KEY (level, idx));
CREATE TABLE IF NOT EXISTS {SCHEMA}.checkpoints (size BIGINT PRIMARY KEY, body TEXT NOT NULL,
    saved BOOLEAN NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS {SCHEMA}.head (id INTEGER PRIMARY KEY CHECK (id = 1), size BIGINT NOT NULL,
    frontier BYTEA NOT NULL);
INSERT INTO {SCHEMA}.head VALUES (1, 0, ''::bytea) ON CONFLICT DO NOTHING;
"""
_SCHEMA_LOCK = 0x6761_7263  # an advisory lock key: two processes creating the schema take turns
_APPEND_LOCK = 0x6761_7265  # appenders queue on it (granted in turn) before they lock the head row
_COPY_FROM = 16  # batches this large go in with COPY; smaller ones with INSERT


class PostgresStore:
    """The ``Store`` interface (``_store``) over a ``postgresql://`` URL."""

    def __init__(self, url: str, *, create: bool = True, snapshot: bool = False) -> None:
        if psycopg is None:
            raise ReceiptStoreError(f"{describe(url)}: a PostgreSQL receipt log needs psycopg 3 — "
                                    "pip install 'governed-agents[postgres]'")
        self.url = url
        self.location = describe(url)
        self._snapshot = snapshot
        self._lock = threading.RLock()
        self._conn: Any = None
        conn = self._live()
        present = conn.execute("SELECT " + ", ".join(f"to_regclass('{SCHEMA}.{t}') IS NOT NULL"
                                                     for t in _TABLES)).fetchone()
        missing = [t for t, ok in zip(_TABLES, present, strict=True) if not ok]
        if missing and create:  # a role that may only write to a log its DBA made needs no CREATE right
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_DDL)
        elif missing:
            self.close()
            raise NotAReceiptLog(f"{self.location}: no receipt log in this database (no "
                                 f"{', '.join(f'{SCHEMA}.{t}' for t in missing)} table)")

    # -- the connection -----------------------------------------------------------------------

    def _live(self) -> Any:
        """The connection, made again when the last one was lost (the server restarted)."""
        if self._conn is not None and not self._conn.closed and not self._conn.broken:
            return self._conn
        if self._conn is not None:
            if self._snapshot:  # a snapshot that lost its connection lost its moment: no silent new one
                raise ReceiptStoreError(f"{self.location}: the connection was lost during a read")
            self._conn.close()
            self._conn = None
        options = psycopg.conninfo.conninfo_to_dict(self.url)
        extra: dict[str, Any] = {"application_name": "governed-agents"}
        if "connect_timeout" not in options:
            extra["connect_timeout"] = 10
        if "tcp_user_timeout" not in options:
            extra["tcp_user_timeout"] = 30_000
        try:
            conn = psycopg.connect(self.url, autocommit=not self._snapshot, **extra)
        except psycopg.Error as exc:
            raise ReceiptStoreError(f"{self.location}: cannot connect: {_first_line(exc)}") from exc
        if self._snapshot:
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.read_only = True
        self._conn = conn
        return conn

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            conn = self._live()
            try:
                return conn.execute(query, params).fetchall()
            except psycopg.Error as exc:  # the server went away, or refused (e.g. no SELECT right)
                raise ReceiptStoreError(f"{self.location}: {_first_line(exc)}") from exc

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- writing ------------------------------------------------------------------------------

    def append(self, entries: Sequence[Entry], checkpoint: Callable[[int, bytes], str],
               meta: Sequence[tuple[str, str]] = ()) -> int:
        """Append rows at the size the locked head row holds; returns the first index.

        Two round trips hold the row lock: ``BEGIN`` + the locking read, then every write and the
        ``COMMIT`` sent together (pipeline mode), so writers hand the lock on quickly.
        """
        with self._lock:
            conn = self._live()
            try:
                return self._append(conn, entries, checkpoint, meta)
            except BaseException:
                if not conn.broken and not conn.closed:
                    with contextlib.suppress(psycopg.Error):
                        conn.execute("ROLLBACK")  # a no-op (with a warning) when nothing is open
                raise

    def _append(self, conn: Any, entries: Sequence[Entry], checkpoint: Callable[[int, bytes], str],
                meta: Sequence[tuple[str, str]]) -> int:
        with conn.pipeline():
            conn.execute("BEGIN")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_LOCK,))
            head = conn.execute(f"SELECT size, frontier FROM {SCHEMA}.head WHERE id = 1 FOR UPDATE").fetchone()
        if head is None:
            raise ReceiptStoreError(f"{self.location}: the log's head row is missing (edited outside the library); "
                                    "nothing is appended")
        size, frontier = int(head[0]), bytes(head[1])
        if len(frontier) != 32 * size.bit_count():
            raise ReceiptStoreError(f"{self.location}: the log's head row is damaged (a frontier of "
                                    f"{len(frontier)} bytes for size {size}); nothing is appended")
        compact = CompactRange(size, [frontier[i:i + 32] for i in range(0, len(frontier), 32)])
        rows, nodes = [], []
        for offset, (receipt_id, executor, denied, group, body, leaf) in enumerate(entries):
            rows.append((size + offset, receipt_id, executor, denied, group, body, leaf))
            nodes.extend(compact.append(leaf))
        signed = checkpoint(compact.size, compact.root())
        if len(rows) >= _COPY_FROM:
            self._copy(conn, rows, nodes)
        with conn.pipeline(), conn.cursor() as cur:
            if meta:  # the parts the rows reference, in the same transaction (kept if already there)
                cur.executemany(f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s) ON CONFLICT DO NOTHING", meta)
            if len(rows) < _COPY_FROM:
                cur.executemany(f"INSERT INTO {SCHEMA}.leaves VALUES (%s, %s, %s, %s, %s, %s, %s)", rows)
                if nodes:
                    cur.executemany(f"INSERT INTO {SCHEMA}.nodes VALUES (%s, %s, %s)", nodes)
            cur.execute(f"DELETE FROM {SCHEMA}.checkpoints WHERE NOT saved")
            cur.execute(f"INSERT INTO {SCHEMA}.checkpoints VALUES (%s, %s, false) ON CONFLICT DO NOTHING",
                        (compact.size, signed))
            cur.execute(f"UPDATE {SCHEMA}.head SET size = %s, frontier = %s WHERE id = 1",
                        (compact.size, b"".join(compact.hashes)))
            cur.execute("COMMIT")
        return size

    @staticmethod
    def _copy(conn: Any, rows: Iterable[Row], nodes: Iterable[tuple[int, int, bytes]]) -> None:
        with conn.cursor().copy(f"COPY {SCHEMA}.leaves (idx, receipt_id, executor, denied, grp, body, leaf) "
                                "FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        with conn.cursor().copy(f"COPY {SCHEMA}.nodes (level, idx, hash) FROM STDIN") as copy:
            for node in nodes:
                copy.write_row(node)

    def load(self, rows: Iterable[Row], nodes: Iterable[tuple[int, int, bytes]],
             checkpoints: Sequence[tuple[int, str, bool]], meta: Sequence[tuple[str, str]]) -> None:
        """Fill an empty log with another log's rows, nodes, checkpoints and meta, verbatim, in one
        transaction (``audit copy``), then set the head from what was loaded."""
        with self._lock:
            conn = self._live()
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_APPEND_LOCK,))
                conn.execute(f"SELECT 1 FROM {SCHEMA}.head WHERE id = 1 FOR UPDATE")
                if not self.is_empty():
                    raise NotAReceiptLog(f"{self.location}: not empty; a copy goes into a new log")
                self._copy(conn, rows, nodes)
                size = int(conn.execute(f"SELECT COALESCE(MAX(idx) + 1, 0) FROM {SCHEMA}.leaves").fetchone()[0])
                with conn.cursor() as cur:
                    cur.executemany(f"INSERT INTO {SCHEMA}.checkpoints VALUES (%s, %s, %s)", checkpoints)
                    cur.executemany(f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s)", meta)
                conn.execute(f"UPDATE {SCHEMA}.head SET size = %s, frontier = %s WHERE id = 1",
                             (size, b"".join(self._frontier(size))))

    def is_empty(self) -> bool:
        return not any(self._rows(f"SELECT 1 FROM {SCHEMA}.{table} LIMIT 1")
                       for table in ("leaves", "nodes", "checkpoints", "meta"))

    def save_checkpoint(self, size: int, body: str) -> None:
        self._rows(f"INSERT INTO {SCHEMA}.checkpoints VALUES (%s, %s, true) "
                   "ON CONFLICT (size) DO UPDATE SET body = EXCLUDED.body, saved = true RETURNING size", (size, body))

    def meta(self, key: str) -> str | None:
        rows = self._rows(f"SELECT value FROM {SCHEMA}.meta WHERE key = %s", (key,))
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self._rows(f"INSERT INTO {SCHEMA}.meta VALUES (%s, %s) ON CONFLICT DO NOTHING RETURNING key", (key, value))

    # -- reading ------------------------------------------------------------------------------

    @contextmanager
    def snapshot(self) -> Iterator[PostgresStore]:
        """The log as of one moment: a second connection in one REPEATABLE READ, READ ONLY
        transaction (writers are not blocked, and their commits after it began are not seen)."""
        reader = PostgresStore(self.url, create=False, snapshot=True)
        try:
            yield reader
        finally:
            reader.close()

    def size(self) -> int:
        rows = self._rows(f"SELECT size FROM {SCHEMA}.head WHERE id = 1")
        if rows:
            return int(rows[0][0])
        return int(self._rows(f"SELECT COALESCE(MAX(idx) + 1, 0) FROM {SCHEMA}.leaves")[0][0])

    def _frontier(self, size: int) -> list[bytes]:
        return frontier(size, self.subtree_hash)

    def subtree_hash(self, level: int, index: int) -> bytes:
        if level == 0:
            rows = self._rows(f"SELECT leaf FROM {SCHEMA}.leaves WHERE idx = %s", (index,))
        else:
            rows = self._rows(f"SELECT hash FROM {SCHEMA}.nodes WHERE level = %s AND idx = %s", (level, index))
        if not rows:
            raise KeyError(f"no stored hash for subtree level {level} index {index}")
        return bytes(rows[0][0])

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH of leaves [start, end) from stored complete subtrees: one indexed lookup each
        (fetching them in one query with unnest measured slower at 1M: the planner scans)."""
        return range_hash(start, end, self.subtree_hash)

    def root(self, size: int | None = None) -> bytes:
        if size is None:
            rows = self._rows(f"SELECT size, frontier FROM {SCHEMA}.head WHERE id = 1")
            if rows:
                frontier = bytes(rows[0][1])
                return CompactRange(int(rows[0][0]), [frontier[i:i + 32] for i in range(0, len(frontier), 32)]).root()
            size = self.size()
        return CompactRange(size, self._frontier(size)).root()

    def leaves(self, batch: int = 10000) -> Iterator[StoredLeaf]:
        last = -1
        while True:
            rows = self._rows(f"SELECT idx, body, leaf FROM {SCHEMA}.leaves WHERE idx > %s ORDER BY idx LIMIT %s",
                              (last, batch))
            if not rows:
                return
            for idx, body, leaf in rows:
                yield int(idx), bytes(body), bytes(leaf)
            last = rows[-1][0]

    def rows(self, batch: int = 10000) -> Iterator[Row]:
        last = -1
        while True:
            rows = self._rows(f"SELECT idx, receipt_id, executor, denied, grp, body, leaf FROM {SCHEMA}.leaves "
                              "WHERE idx > %s ORDER BY idx LIMIT %s", (last, batch))
            if not rows:
                return
            for idx, receipt_id, executor, denied, grp, body, leaf in rows:
                yield int(idx), str(receipt_id), executor, bool(denied), grp, bytes(body), bytes(leaf)
            last = rows[-1][0]

    def get(self, index: int) -> bytes | None:
        rows = self._rows(f"SELECT body FROM {SCHEMA}.leaves WHERE idx = %s", (index,))
        return bytes(rows[0][0]) if rows else None

    def select(self, executor: str | None, denied: bool | None, group: str | None) -> Iterator[tuple[int, bytes]]:
        query, params = f"SELECT idx, body FROM {SCHEMA}.leaves WHERE true", list[object]()
        for column, value in (("executor", executor), ("denied", denied), ("grp", group)):
            if value is not None:
                query += f" AND {column} = %s"
                params.append(value)
        for idx, body in self._rows(query + " ORDER BY idx", params):
            yield int(idx), bytes(body)

    def stored_nodes(self, batch: int = 10000) -> Iterator[tuple[int, int, bytes]]:
        last = (-1, -1)
        while True:
            rows = self._rows(f"SELECT level, idx, hash FROM {SCHEMA}.nodes WHERE (level, idx) > (%s, %s) "
                              "ORDER BY level, idx LIMIT %s", (*last, batch))
            if not rows:
                return
            for level, idx, value in rows:
                yield int(level), int(idx), bytes(value)
            last = (rows[-1][0], rows[-1][1])

    def checkpoints(self) -> list[tuple[int, str]]:
        return [(int(s), str(b)) for s, b in self._rows(f"SELECT size, body FROM {SCHEMA}.checkpoints ORDER BY size")]

    def all_checkpoints(self) -> list[tuple[int, str, bool]]:
        return [(int(s), str(b), bool(saved))
                for s, b, saved in self._rows(f"SELECT size, body, saved FROM {SCHEMA}.checkpoints ORDER BY size")]

    def meta_items(self) -> list[tuple[str, str]]:
        return [(str(k), str(v)) for k, v in self._rows(f"SELECT key, value FROM {SCHEMA}.meta ORDER BY key")]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
