"""Iterative proofs against the recursive RFC definitions, on random trees, and the RFC's refusals."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearguard.ledger import (
    MemoryTree,
    ProofError,
    leaf_hash,
    root_hash,
    verify_consistency,
    verify_inclusion,
)
from clearguard.ledger.proofs import consistency_ranges, inclusion_ranges

from .naive import mth, path, proof

sizes = st.integers(min_value=1, max_value=300)


def _entries(n: int, salt: int = 0) -> list[bytes]:
    return [hashlib.sha256(f"{salt}:{i}".encode()).digest()[: i % 7] + bytes([i % 251]) for i in range(n)]


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_tree_roots_and_inclusion(data: st.DataObject) -> None:
    n = data.draw(sizes)
    entries = _entries(n, data.draw(st.integers(0, 1000)))
    tree = MemoryTree(leaf_hash(e) for e in entries)
    assert tree.root() == mth(entries) == root_hash([leaf_hash(e) for e in entries])
    size = data.draw(st.integers(1, n))
    index = data.draw(st.integers(0, size - 1))
    got = tree.inclusion_proof(index, size)
    assert got == path(index, entries[:size])
    root = mth(entries[:size])
    verify_inclusion(leaf_hash(entries[index]), index, size, got, root)
    # Any single flipped bit, wrong index or wrong size must fail.
    if got:
        bad = list(got)
        pos = data.draw(st.integers(0, len(bad) - 1))
        bad[pos] = bytes([bad[pos][0] ^ 1]) + bad[pos][1:]
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(entries[index]), index, size, bad, root)
    other = data.draw(st.integers(0, size - 1))
    if entries[other] != entries[index]:
        with pytest.raises(ProofError):
            verify_inclusion(leaf_hash(entries[other]), index, size, got, root)
    # (A wrong tree size is not always detectable from the path alone: index 0 of sizes 3 and 4
    # walks the same way; the root, signed with its size in a checkpoint, is what binds the size.)


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_random_consistency(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 300))
    entries = _entries(n, data.draw(st.integers(0, 1000)))
    tree = MemoryTree(leaf_hash(e) for e in entries)
    size2 = data.draw(st.integers(2, n))
    size1 = data.draw(st.integers(1, size2 - 1))
    got = tree.consistency_proof(size1, size2)
    assert got == proof(size1, entries[:size2])
    root1, root2 = mth(entries[:size1]), mth(entries[:size2])
    verify_consistency(size1, size2, got, root1, root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, got, root2, root1)
    bad = list(got)
    pos = data.draw(st.integers(0, len(bad) - 1))
    bad[pos] = bytes([bad[pos][0] ^ 0x80]) + bad[pos][1:]
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, bad, root1, root2)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [*got, got[0]], root1, root2)
    if len(got) > 1:
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, got[:-1], root1, root2)
    forked = entries[:size1] + _entries(size2 - size1, 99999)
    forked[size1 - 1] = forked[size1 - 1] + b"fork"
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, got, mth(forked[:size1]), root2)


def test_exhaustive_small_trees() -> None:
    entries = _entries(33)
    tree = MemoryTree(leaf_hash(e) for e in entries)
    for size2 in range(1, 34):
        root2 = mth(entries[:size2])
        for index in range(size2):
            assert tree.inclusion_proof(index, size2) == path(index, entries[:size2])
            verify_inclusion(leaf_hash(entries[index]), index, size2, tree.inclusion_proof(index, size2), root2)
        for size1 in range(1, size2):
            p = tree.consistency_proof(size1, size2)
            assert p == proof(size1, entries[:size2])
            verify_consistency(size1, size2, p, mth(entries[:size1]), root2)


H = hashlib.sha256(b"x").digest()


@pytest.mark.parametrize(
    ("index", "size"),
    [(0, 0), (1, 1), (5, 5), (-1, 3)],
)
def test_inclusion_refuses_index_outside_tree(index: int, size: int) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(H, index, size, [], H)
    with pytest.raises(ProofError):
        inclusion_ranges(index, size)


def test_inclusion_single_leaf_tree() -> None:
    verify_inclusion(H, 0, 1, [], H)
    with pytest.raises(ProofError):
        verify_inclusion(H, 0, 1, [H], H)


@pytest.mark.parametrize("bad", [b"", b"\x00" * 31, b"\x00" * 33])
def test_hashes_must_be_32_bytes(bad: bytes) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(bad, 0, 1, [], H)
    with pytest.raises(ProofError):
        verify_inclusion(H, 0, 1, [], bad)
    with pytest.raises(ProofError):
        verify_inclusion(H, 0, 2, [bad], H)
    with pytest.raises(ProofError):
        verify_consistency(1, 2, [H], bad, H)
    with pytest.raises(ProofError):
        verify_consistency(1, 2, [bad], H, H)


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (3, 3), (5, 3), (1, 1)])
def test_consistency_refuses_sizes_outside_rfc_range(size1: int, size2: int) -> None:
    # RFC 9162 2.1.4: proofs exist for 0 < m < n; the verifier fails an empty path (step 1).
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [], H, H)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [H], H, H)
    with pytest.raises(ProofError):
        consistency_ranges(size1, size2)


def test_consistency_refuses_empty_path() -> None:
    tree = MemoryTree(leaf_hash(e) for e in _entries(4))
    with pytest.raises(ProofError):
        verify_consistency(2, 4, [], tree.root(2), tree.root(4))


def test_large_tree_proofs_are_logarithmic() -> None:
    tree = MemoryTree(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(5000))
    p = tree.inclusion_proof(4321)
    assert len(p) <= 13
    verify_inclusion(tree.node(0, 4321), 4321, 5000, p, tree.root())
    c = tree.consistency_proof(1234)
    assert len(c) <= 2 * 13
    verify_consistency(1234, 5000, c, tree.root(1234), tree.root())
