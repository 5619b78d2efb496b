"""The store interface the log's logic is written against, and where a LOG string points.

``ReceiptLog`` (``_log``) and ``verify_store`` (``_verify``) hold all the log's logic — leaf
hashing, signing, proofs, verification — and speak to storage only through :class:`Store`.
Two stores implement it: ``SQLiteStore`` (a file, the embedded default) and ``PostgresStore``
(a ``postgresql://`` URL, for many writers on many hosts). A store keeps rows, generic over what
the body is: ``(receipt_id, executor, denied, group, body, leaf)``.

A LOG string with a scheme (``something://``) is a URL: ``postgresql://`` and ``postgres://``
open PostgreSQL; any other scheme is an error, never a file path.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

__all__ = ["POSTGRES_SCHEMES", "Entry", "NotAReceiptLog", "ReceiptStoreError", "Row", "Store", "StoredLeaf",
           "describe", "is_url", "open_store"]

StoredLeaf = tuple[int, bytes, bytes]  # index, canonical body, leaf hash
Entry = tuple[str, str, bool, str | None, bytes, bytes]  # receipt_id, executor, denied, group, body, leaf
Row = tuple[int, str, str, bool, str | None, bytes, bytes]  # index + Entry: a stored row, as copied

POSTGRES_SCHEMES = ("postgresql", "postgres")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class ReceiptStoreError(RuntimeError):
    """The log could not record a receipt. Callers turn this into a denial (fail closed)."""


class NotAReceiptLog(ValueError):
    """Opening an existing log to read it found no file, no database, or not our tables."""


class Store(Protocol):
    """What a receipt store does. Appends are atomic: the meta entries the rows reference (the
    analyses and rules, each kept once), the rows, the tree nodes they complete and the checkpoint
    signed for the new size commit together, at indices assigned inside the transaction, or not at all."""

    location: str  # for messages: a path, or a URL without its password

    def append(self, entries: Sequence[Entry], checkpoint: Callable[[int, bytes], str],
               meta: Sequence[tuple[str, str]] = ()) -> int: ...
    def save_checkpoint(self, size: int, body: str) -> None: ...
    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def snapshot(self) -> AbstractContextManager[Store]: ...
    def size(self) -> int: ...
    def subtree_hash(self, level: int, index: int) -> bytes: ...
    def range_hash(self, start: int, end: int) -> bytes: ...
    def root(self, size: int | None = None) -> bytes: ...
    def leaves(self, batch: int = 10000) -> Iterator[StoredLeaf]: ...
    def rows(self, batch: int = 10000) -> Iterator[Row]: ...
    def get(self, index: int) -> bytes | None: ...
    def select(self, executor: str | None, denied: bool | None, group: str | None) -> Iterator[tuple[int, bytes]]: ...
    def stored_nodes(self) -> Iterator[tuple[int, int, bytes]]: ...
    def checkpoints(self) -> list[tuple[int, str]]: ...
    def all_checkpoints(self) -> list[tuple[int, str, bool]]: ...
    def meta_items(self) -> list[tuple[str, str]]: ...
    def is_empty(self) -> bool: ...
    def load(self, rows: Iterable[Row], nodes: Iterable[tuple[int, int, bytes]],
             checkpoints: Sequence[tuple[int, str, bool]], meta: Sequence[tuple[str, str]]) -> None: ...
    def close(self) -> None: ...


def is_url(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and _SCHEME.match(target) is not None


def describe(target: str | os.PathLike[str]) -> str:
    """``target`` as messages show it: a URL loses its password (in the authority or the query)."""
    if not is_url(target):
        return str(target)
    assert isinstance(target, str)
    parts = urllib.parse.urlsplit(target)
    netloc = parts.netloc
    if "@" in netloc:
        user, _, host = netloc.rpartition("@")
        netloc = user.split(":", 1)[0] + "@" + host
    query = urllib.parse.urlencode([(k, "***" if k.lower() == "password" else v)
                                    for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)],
                                   safe="/*")
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def open_store(target: str | os.PathLike[str], *, create: bool) -> Store:
    """The store ``target`` names. Raises ``NotAReceiptLog`` (nothing there to audit) or
    ``ReceiptStoreError`` (an unsupported scheme, a missing driver, a database that cannot be reached)."""
    if is_url(target):
        assert isinstance(target, str)
        scheme = _SCHEME.match(target).group(1).lower()  # type: ignore[union-attr]
        if scheme not in POSTGRES_SCHEMES:
            raise ReceiptStoreError(f"{describe(target)}: {scheme}:// is not a receipt store this library knows "
                                    "(a receipt log is an SQLite file path or a postgresql:// URL)")
        from governed_agents.receipts._postgres import PostgresStore

        return PostgresStore(target, create=create)
    from governed_agents.receipts._sqlite import SQLiteStore

    path = Path(target)
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteStore(path, create=create)
