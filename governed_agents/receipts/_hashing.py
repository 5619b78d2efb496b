"""RFC 9162 §2.1.1 hashing: leaves and interior nodes are domain-separated."""

from __future__ import annotations

import hashlib

__all__ = ["EMPTY_ROOT", "leaf_hash", "node_hash"]

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()
