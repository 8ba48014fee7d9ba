"""An in-memory Merkle log: every full subtree hash kept level by level, so roots at any past size
and proofs cost O(log n) lookups. Used by offline verification, the benchmark and the tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

from clearguard.ledger.errors import ProofError
from clearguard.ledger.hashing import EMPTY_ROOT, fold_right, leaf_hash
from clearguard.ledger.proofs import NodeId, consistency_proof, inclusion_proof, range_nodes


class MemoryTree:
    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        self.extend(leaf_hashes)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append_entry(self, entry: bytes) -> int:
        return self.append(leaf_hash(entry))

    def append(self, hash_: bytes) -> int:
        """Adds one leaf hash and every full subtree it completes; returns the leaf's index."""
        levels = self._levels
        index = len(levels[0])
        levels[0].append(hash_)
        level, i = 0, index
        while i & 1:
            parent = sha256(b"\x01" + levels[level][i - 1] + levels[level][i]).digest()
            level += 1
            if level == len(levels):
                levels.append([])
            levels[level].append(parent)
            i >>= 1
        return index

    def extend(self, leaf_hashes: Iterable[bytes]) -> None:
        for h in leaf_hashes:
            self.append(h)

    def node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def read_nodes(self, ids: Sequence[NodeId]) -> list[bytes]:
        levels = self._levels
        return [levels[level][index] for level, index in ids]

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"no tree of size {size}: the log holds {self.size} entries")
        if size == 0:
            return EMPTY_ROOT
        return fold_right(self.read_nodes(range_nodes(0, size)))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError(f"no tree of size {size}: the log holds {self.size} entries")
        return inclusion_proof(index, size, self.read_nodes)

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        size2 = self.size if size2 is None else size2
        if size2 > self.size:
            raise ProofError(f"no tree of size {size2}: the log holds {self.size} entries")
        return consistency_proof(size1, size2, self.read_nodes)
