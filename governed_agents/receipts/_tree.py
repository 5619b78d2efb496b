"""The Merkle tree hash (RFC 9162 §2.1.1) of a list of leaf hashes — the reference the stored
tree is checked against during a full verify — and the compact range that appends in O(log n)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from governed_agents.receipts._hashing import EMPTY_ROOT, node_hash

__all__ = ["CompactRange", "frontier", "range_hash", "root_of"]


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes, bottom-up in O(n) time and O(log n) memory."""
    compact = CompactRange()
    for leaf in leaves:
        compact.append(leaf)
    return compact.root()


def frontier(size: int, subtree_hash: Callable[[int, int], bytes]) -> list[bytes]:
    """Hashes of the perfect subtrees covering leaves ``[0, size)``, largest first, read through a
    store's ``subtree_hash(level, index)``: what a :class:`CompactRange` of that size holds."""
    out, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            out.append(subtree_hash(level, start >> level))
            start += 1 << level
    return out


def range_hash(start: int, end: int, subtree_hash: Callable[[int, int], bytes]) -> bytes:
    """MTH of leaves ``[start, end)`` from a store's complete subtrees (RFC 9162 §2.1.1's split at the
    largest power of two below the size): O(log n) lookups of ``subtree_hash(level, index)``."""
    n = end - start
    if n <= 0:
        return EMPTY_ROOT
    if n & (n - 1) == 0 and start % n == 0:
        return subtree_hash(n.bit_length() - 1, start // n)
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(range_hash(start, start + k, subtree_hash), range_hash(start + k, end, subtree_hash))


class CompactRange:
    """The roots of the perfect subtrees covering leaves ``[0, size)``, largest first.

    ``append`` returns the interior nodes it completed as ``(level, index, hash)`` so a store can
    keep every complete subtree's hash for proofs.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        completed = []
        index, level, current = self.size, 0, leaf
        while index & 1:
            current = node_hash(self.hashes.pop(), current)
            index >>= 1
            level += 1
            completed.append((level, index, current))
        self.hashes.append(current)
        self.size += 1
        return completed

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        current = self.hashes[-1]
        for left in reversed(self.hashes[:-1]):
            current = node_hash(left, current)
        return current
