"""RFC 9162 hashing and proofs against published vectors.

Numbers copied from transparency-dev/merkle (Apache-2.0): testonly/constants.go (leaf inputs,
roots for sizes 1..8) and proof/verify_test.go (inclusion and consistency proof vectors), the
Certificate Transparency reference data for RFC 6962/9162 trees.
"""

from __future__ import annotations

import hashlib

import pytest

from governed_agents.receipts._hashing import leaf_hash
from governed_agents.receipts._proof import (
    consistency_path,
    inclusion_path,
    verify_consistency,
    verify_inclusion,
)
from governed_agents.receipts._tree import CompactRange, root_of

LEAVES = [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                                     "606162636465666768696a6b6c6d6e6f")]
ROOTS = [bytes.fromhex(h) for h in (
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
H = bytes.fromhex
# (1-based leaf, tree size, proof) as published
INCLUSION = [
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (3, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (2, 5, [H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
]
CONSISTENCY = [
    (1, 8, [H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")]),
    (6, 8, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
    (2, 5, [H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")]),
    (6, 7, [H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")]),
]
HASHES = [leaf_hash(x) for x in LEAVES]


def _subtree(start: int, end: int) -> bytes:
    return root_of(HASHES[start:end])


def test_empty_root_and_roots_for_every_size():
    assert ROOTS[0] == hashlib.sha256(b"").digest()
    for size in range(9):
        assert root_of(HASHES[:size]) == ROOTS[size]


def test_compact_range_appends_reach_the_same_roots():
    compact = CompactRange()
    for size, leaf in enumerate(HASHES, 1):
        compact.append(leaf)
        assert compact.root() == ROOTS[size]
        assert len(compact.hashes) == bin(size).count("1")


@pytest.mark.parametrize(("leaf", "size", "proof"), INCLUSION)
def test_inclusion_vectors(leaf, size, proof):
    index = leaf - 1
    assert inclusion_path(index, size, _subtree) == proof
    assert verify_inclusion(index, size, HASHES[index], proof, ROOTS[size])
    assert not verify_inclusion(index, size, HASHES[index], proof, ROOTS[size - 1])
    assert not verify_inclusion(index ^ 1, size, HASHES[index], proof, ROOTS[size])
    assert not verify_inclusion(index, size, HASHES[index], [*proof, ROOTS[size]], ROOTS[size])
    if proof:
        flipped = [bytes([proof[0][0] ^ 8]) + proof[0][1:], *proof[1:]]
        assert not verify_inclusion(index, size, HASHES[index], flipped, ROOTS[size])


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_vectors(old, new, proof):
    assert consistency_path(old, new, _subtree) == proof
    assert verify_consistency(old, new, ROOTS[old], ROOTS[new], proof)
    assert not verify_consistency(old, new, ROOTS[new], ROOTS[old], proof)  # swapped roots
    assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], proof[:-1])  # truncated
    assert not verify_consistency(old, new, ROOTS[old], ROOTS[new], [])


def test_every_proof_of_small_trees_round_trips():
    for size in range(1, 9):
        for index in range(size):
            assert verify_inclusion(index, size, HASHES[index], inclusion_path(index, size, _subtree), ROOTS[size])
        for old in range(1, size + 1):
            path = consistency_path(old, size, _subtree)
            assert verify_consistency(old, size, ROOTS[old], ROOTS[size], path)
