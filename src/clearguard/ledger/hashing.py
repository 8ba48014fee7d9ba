"""RFC 9162 section 2.1 hashing: leaves, interior nodes and the tree hash of a list of leaves."""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256
from typing import Final

HASH_SIZE: Final = 32
EMPTY_ROOT: Final = sha256(b"").digest()
_LEAF_PREFIX: Final = b"\x00"
_NODE_PREFIX: Final = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """The k of RFC 9162: the largest power of two strictly smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree whose len(hashes) is a power of two, reduced level by level."""
    level = list(hashes)
    while len(level) > 1:
        level = [sha256(_NODE_PREFIX + level[i] + level[i + 1]).digest() for i in range(0, len(level), 2)]
    return level[0]


def fold_right(subtree_roots: Sequence[bytes]) -> bytes:
    """Combine full-subtree roots, largest (leftmost) first, into the tree hash: the lone right-edge
    node is carried up, never duplicated, exactly as the recursive definition does."""
    root = subtree_roots[-1]
    for left in reversed(subtree_roots[:-1]):
        root = sha256(_NODE_PREFIX + left + root).digest()
    return root


def compact_roots(hashes: Sequence[bytes]) -> list[bytes]:
    """Full-subtree roots of a range of hashes that starts on an aligned boundary, one per set bit
    of len(hashes), largest first."""
    roots: list[bytes] = []
    start, n = 0, len(hashes)
    while start < n:
        size = 1 << ((n - start).bit_length() - 1)
        roots.append(perfect_root(hashes[start : start + size]))
        start += size
    return roots


def root_hash(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) for leaf hashes already computed with leaf_hash; SHA-256('') for the empty tree."""
    if not leaf_hashes:
        return EMPTY_ROOT
    return fold_right(compact_roots(leaf_hashes))
