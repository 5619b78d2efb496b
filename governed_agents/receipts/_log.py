"""ReceiptLog: append receipts, prove them, checkpoint and verify the log."""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from governed_agents.receipts._checkpoint import (
    SignedCheckpoint,
    create_key,
    load_checkpoint,
    load_private_key,
    load_public_key,
    public_key_hex,
)
from governed_agents.receipts._hashing import leaf_hash
from governed_agents.receipts._proof import consistency_path, inclusion_path, verify_inclusion
from governed_agents.receipts._receipt import Receipt, part_ref
from governed_agents.receipts._store import NotAReceiptLog, ReceiptStoreError, describe, is_url, open_store
from governed_agents.receipts._verify import VerifyReport, verify_store

__all__ = ["InclusionProof", "ReceiptLog", "ReceiptStoreError", "VerifyReport"]


ENV_KEY = "GOVERNED_AGENTS_KEY"


class InclusionProof(BaseModel):
    model_config = ConfigDict(frozen=True)

    index: int
    tree_size: int
    leaf_hash: str
    path: list[str]
    root: str

    def verify(self) -> bool:
        return verify_inclusion(self.index, self.tree_size, bytes.fromhex(self.leaf_hash),
                                [bytes.fromhex(p) for p in self.path], bytes.fromhex(self.root))


# meta keys of the analyses and rules a receipt references by hash (see _receipt)
PART_PREFIX = "part:"


class ReceiptLog:
    """An append-only, tamper-evident log of receipts: an SQLite file, or a ``postgresql://`` URL
    that any number of processes on any number of hosts append to.

    ``key_path`` is the Ed25519 signing key; without it, ``$GOVERNED_AGENTS_KEY``; without that,
    ``<path>.key`` beside an SQLite file, or for a URL a file per database under the user's
    config directory (:func:`default_key_path`). The public half is ``<key>.pub``, and the log
    records the public key it is signed with (the ``meta`` table): a writer holding another key is
    refused. Each distinct analysis and rule that receipts reference by hash is kept once, in the
    same table under ``part:sha256:<hex>``, written in the transaction of the first receipt that names it. Every writer of one PostgreSQL log needs the same private key file; an auditor needs
    only the public one. A checkpoint is signed in the same transaction as every append.

    The signing key is loaded on the first append or checkpoint, never to read or verify — an
    auditor holds the log and its public key only. A new key pair is made only for a log that has
    none yet (no key files, no key recorded in the log) and only when ``create`` is true; an
    existing key file is never overwritten. ``create=False`` opens a log to audit it and creates
    nothing.
    """

    def __init__(self, path: str | os.PathLike[str], *, key_path: str | os.PathLike[str] | None = None,
                 create: bool = True) -> None:
        self.url: str | None = str(path) if is_url(path) else None
        self.path: Path | None = None if self.url is not None else Path(path)
        self.location = describe(path)  # for messages: never a password
        if key_path is None and os.environ.get(ENV_KEY):
            key_path = os.environ[ENV_KEY]
        self.key_path = Path(key_path) if key_path is not None else default_key_path(path)
        self._create = create
        self._signing_key: Ed25519PrivateKey | None = None
        self._key_lock = threading.Lock()
        try:
            self._store = open_store(path, create=create)
        except NotAReceiptLog as exc:
            raise ReceiptStoreError(str(exc)) from exc
        except ReceiptStoreError as exc:
            raise ReceiptStoreError(f"cannot open the receipt log {exc}") from exc
        except Exception as exc:
            raise ReceiptStoreError(f"cannot open the receipt log {self.location}: {exc}") from exc
        self._pending: list[tuple[Receipt, asyncio.Future[Receipt]]] = []
        self._flushing = False
        self._parts: dict[str, bytes] = {}  # analyses and rules known to be in the log, by hash

    def private_files(self) -> tuple[Path, ...]:
        """The host files that code must neither read nor write: the signing key, and for an SQLite
        log the file with its WAL, shared-memory and journal files (the runtime hides them). A key
        not made yet is made now: made once the code runs, it would appear inside unhidden."""
        if self._create and self._signing_key is None:
            # a key that cannot be loaded cannot sign the receipt either: the append fails, and the gate with it
            with contextlib.suppress(ReceiptStoreError):
                self._key  # noqa: B018 - loaded (or made) for its side effect
        files = [self.key_path.absolute()]
        if self.path is not None:
            db = self.path.absolute()
            files += [db, *(Path(f"{db}{suffix}") for suffix in ("-wal", "-shm", "-journal"))]
        return tuple(files)

    @property
    def public_key_path(self) -> Path:
        """Where the public half of the signing key is kept: what ``verify`` checks against by default."""
        return Path(str(self.key_path) + ".pub")

    @property
    def _key(self) -> Ed25519PrivateKey:
        """The signing key, loaded (or, for a new log, made) on first use."""
        with self._key_lock:
            if self._signing_key is None:
                try:
                    key = self._load_or_create_key()
                    mine, recorded = public_key_hex(key.public_key()), self._store.meta("public_key")
                    if recorded is not None and recorded != mine:
                        raise ReceiptStoreError(f"{self.key_path}: not the key this log is signed with "
                                                f"(the log's public key is {recorded[:16]}…); signing with it "
                                                "would look like a key swap")
                    if recorded is None:
                        self._store.set_meta("public_key", mine)
                except ReceiptStoreError:
                    raise
                except Exception as exc:
                    raise ReceiptStoreError(f"{self.key_path}: cannot load the signing key: {exc}") from exc
                self._signing_key = key
            return self._signing_key

    def _load_or_create_key(self) -> Ed25519PrivateKey:
        if not self.key_path.exists():
            if not self._create:
                raise ReceiptStoreError(f"{self.key_path}: no such private key — signing needs the log's private "
                                        "key (verifying needs only the public key)")
            if not self.public_key_path.exists() and self._store.meta("public_key") is None:
                try:
                    return create_key(self.key_path)
                except FileExistsError:  # another process made it a moment ago: load theirs
                    pass
            elif not self.key_path.exists():  # looked again: another process may have just made the pair
                raise ReceiptStoreError(f"{self.key_path}: the log's private key is missing; this log is already "
                                        "signed with a key, so no new one is made (it would look like a key swap)")
        return load_private_key(self.key_path)

    # -- appending ----------------------------------------------------------------------------

    def append(self, receipt: Receipt) -> Receipt:
        return self.append_many([receipt])[0]

    def append_many(self, receipts: Sequence[Receipt]) -> list[Receipt]:
        if not receipts:
            return []
        entries = []
        parts: dict[str, bytes] = {}
        for r in receipts:
            body, referenced = r._leaf()
            parts.update(referenced)
            denied = r.counts_as_denial
            entries.append((r.receipt_id, r.executor_agent, denied, r.conversation_context.group_chat, body,
                            leaf_hash(body)))
        # each analysis and rule once per log, in the transaction of the first leaf that names it
        new_parts = {ref: part for ref, part in parts.items() if ref not in self._parts}
        try:
            key = self._key
            first = self._store.append(
                entries, checkpoint=lambda size, root: SignedCheckpoint.sign(key, size, root).model_dump_json(),
                meta=[(PART_PREFIX + ref, part.decode()) for ref, part in new_parts.items()])
        except ReceiptStoreError:
            raise
        except Exception as exc:
            raise ReceiptStoreError(f"the receipt log {self.location} could not write: {exc}") from exc
        self._parts.update(new_parts)
        return [r.model_copy(update={"merkle_index": first + i}) for i, r in enumerate(receipts)]

    async def aappend(self, receipt: Receipt) -> Receipt:
        """Append from asyncio code; receipts arriving together are written in one transaction."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Receipt] = loop.create_future()
        self._pending.append((receipt, future))
        if not self._flushing:
            self._flushing = True
            loop.call_soon(lambda: asyncio.ensure_future(self._flush()))
        return await future

    async def _flush(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending, []
                try:
                    written = await asyncio.to_thread(self.append_many, [r for r, _ in batch])
                except Exception as exc:
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                    continue
                for (_, future), stored in zip(batch, written, strict=True):
                    if not future.done():
                        future.set_result(stored)
        finally:
            self._flushing = False

    # -- reading ------------------------------------------------------------------------------

    @property
    def size(self) -> int:
        return self._store.size()

    def root(self, size: int | None = None) -> bytes:
        return self._store.root(size)

    def get(self, index: int) -> Receipt | None:
        body = self._store.get(index)
        return Receipt.from_canonical(body, index, self._part) if body is not None else None

    def receipts(self, agent: str | None = None, denied: bool | None = None,
                 group: str | None = None) -> Iterator[Receipt]:
        for index, body in self._store.select(agent, denied, group):
            yield Receipt.from_canonical(body, index, self._part)

    def _part(self, ref: str) -> bytes | None:
        """A stored analysis or rule by its hash (read once, then kept)."""
        part = self._parts.get(ref)
        if part is None:
            text = self._store.meta(PART_PREFIX + ref)
            if text is None:
                return None
            part = text.encode()
            if part_ref(part) == ref:  # an edited one is not kept: every read reports it
                self._parts[ref] = part
        return part

    def prove(self, index: int, tree_size: int | None = None) -> InclusionProof:
        size = self.size if tree_size is None else tree_size
        path = inclusion_path(index, size, self._store.range_hash)
        return InclusionProof(index=index, tree_size=size, leaf_hash=self._store.subtree_hash(0, index).hex(),
                              path=[p.hex() for p in path], root=self.root(size).hex())

    def consistency(self, old_size: int, new_size: int | None = None) -> list[str]:
        new = self.size if new_size is None else new_size
        return [p.hex() for p in consistency_path(old_size, new, self._store.range_hash)]

    def checkpoint(self) -> SignedCheckpoint:
        """Sign the current tree head and keep it in the log (``audit checkpoint`` saves it too)."""
        key = self._key
        size = self.size
        signed = SignedCheckpoint.sign(key, size, self.root(size))
        self._store.save_checkpoint(size, signed.model_dump_json())
        return signed

    # -- verifying ----------------------------------------------------------------------------

    def verify(
        self,
        public_key: Ed25519PublicKey | str | os.PathLike[str] | None = None,
        checkpoint: SignedCheckpoint | str | os.PathLike[str] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> VerifyReport:
        """Recompute every leaf, every stored subtree and the root; check them against the signed
        checkpoints in the log and ``checkpoint`` (a saved one). Reports each problem it finds.

        Signatures are checked against ``public_key`` (default: :attr:`public_key_path` when it
        exists). Without any public key each checkpoint is checked against the key it names, which
        catches accidents but not a forger who re-signs. Never needs or creates the private key.
        A ``public_key`` or ``checkpoint`` file that cannot be read raises ``OSError`` or
        ``ValueError`` naming it: a problem with the auditor's input, not with the log.
        """
        if public_key is None and self.public_key_path.exists():
            public_key = self.public_key_path
        if public_key is not None and not isinstance(public_key, Ed25519PublicKey):
            public_key = load_public_key(public_key)
        if checkpoint is not None and not isinstance(checkpoint, SignedCheckpoint):
            checkpoint = load_checkpoint(checkpoint)
        with self._store.snapshot() as store:
            return verify_store(store, public_key, checkpoint, progress)

    def close(self) -> None:
        self._store.close()

    def copy_to(self, target: ReceiptLog) -> None:
        """Copy every row, tree node, checkpoint (signatures as they are) and the recorded key
        into ``target``, an empty log, in one transaction; indices are kept. Reads one snapshot."""
        with self._store.snapshot() as source:
            target._store.load(source.rows(), source.stored_nodes(), source.all_checkpoints(), source.meta_items())

    def __enter__(self) -> ReceiptLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def default_key_path(log: str | os.PathLike[str]) -> Path:
    """Where a log's signing key is looked for when neither ``key_path`` nor ``$GOVERNED_AGENTS_KEY``
    says: beside an SQLite file (``<path>.key``); for a URL, a file named after the host, port and
    database under ``$XDG_CONFIG_HOME/governed-agents/keys`` (default ``~/.config``)."""
    if not is_url(log):
        return Path(str(log) + ".key")
    import urllib.parse

    parts = urllib.parse.urlsplit(str(log))
    query = dict(urllib.parse.parse_qsl(parts.query))
    host = parts.hostname or query.get("host", "localhost")
    port = parts.port or int(query.get("port", "5432") or 5432)
    database = parts.path.lstrip("/") or query.get("dbname") or parts.username or "postgres"
    name = "".join(c if c.isalnum() or c in "-." else "_" for c in f"{host}-{port}-{database}")
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return config / "governed-agents" / "keys" / f"{name}.key"

