"""Iterative proofs against the recursive RFC definitions, on random trees, and the RFC's refusals."""

from __future__ import annotations

import contextlib
import hashlib

import pymerkle
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


@pytest.mark.parametrize(("size1", "size2"), [(0, 0), (0, 5), (0, 1), (5, 3), (2, 1)])
def test_consistency_refuses_sizes_outside_rfc_range(size1: int, size2: int) -> None:
    # RFC 9162 2.1.4: proofs exist for 0 < m <= n (empty for m = n); the empty tree proves nothing.
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [], H, H)
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [H], H, H)
    with pytest.raises(ProofError):
        consistency_ranges(size1, size2)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 8, 33, 2**63, 2**64 - 1])
def test_consistency_between_equal_sizes(size: int) -> None:
    """0 < size1 = size2: the empty proof holds exactly when the roots are equal."""
    other = hashlib.sha256(b"y").digest()
    verify_consistency(size, size, [], H, H)
    assert consistency_ranges(size, size) == []
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(size, size, [], H, other)
    with pytest.raises(ProofError, match="must be empty"):
        verify_consistency(size, size, [H], H, H)


def test_equal_sizes_built_and_verified_on_a_tree_as_pymerkle_does() -> None:
    entries = _entries(40)
    tree = MemoryTree(leaf_hash(e) for e in entries)
    theirs = pymerkle.InmemoryTree(algorithm="sha256")
    for e in entries:
        theirs.append_entry(e)
    for size in range(1, 41):
        assert tree.consistency_proof(size, size) == []
        assert theirs.get_state(size) == tree.root(size)
        pymerkle.verify_consistency(
            theirs.get_state(size), theirs.get_state(size), theirs.prove_consistency(size, size)
        )
        verify_consistency(size, size, tree.consistency_proof(size, size), tree.root(size), tree.root(size))
        for size1 in range(1, size):
            # Both libraries accept the same pairs of roots as consistent.
            pymerkle.verify_consistency(
                theirs.get_state(size1), theirs.get_state(size), theirs.prove_consistency(size1, size)
            )
            verify_consistency(size1, size, tree.consistency_proof(size1, size), tree.root(size1), tree.root(size))
            with pytest.raises(ProofError):
                verify_consistency(size1, size, tree.consistency_proof(size1, size), tree.root(size), tree.root(size))


@pytest.mark.parametrize(
    ("size1", "size2"),
    [(2**64, 2**64 + 1), (1, 2**64), (-1, 3), (10**5000, 10**5000 + 1), (True, 2)],
    ids=["2**64", "size2-2**64", "negative", "5000-digits", "bool"],
)
def test_consistency_refuses_sizes_beyond_uint64(size1: int, size2: int) -> None:
    with pytest.raises(ProofError, match="2\\*\\*64"):
        verify_consistency(size1, size2, [H], H, H)
    with pytest.raises(ProofError):
        consistency_ranges(size1, size2)


@pytest.mark.parametrize(
    ("index", "size"),
    [(0, 2**64), (2**64, 2**64), (10**5000, 1), (False, 1)],
    ids=["size-2**64", "index-2**64", "5000-digits", "bool"],
)
def test_inclusion_refuses_integers_beyond_uint64(index: int, size: int) -> None:
    with pytest.raises(ProofError, match="2\\*\\*64"):
        verify_inclusion(H, index, size, [H], H)
    with pytest.raises(ProofError):
        inclusion_ranges(index, size)


def test_huge_sizes_inside_uint64_walk_the_rfc_steps() -> None:
    """Leaf 0 of a tree of 2**64 - 1 leaves has a path of 64 hashes: 63 is too short, 65 too long,
    and the right number of wrong hashes leads to another root."""
    top = 2**64 - 1
    assert len(inclusion_ranges(0, top)) == 64
    for count in (0, 1, 63, 65):
        with pytest.raises(ProofError, match="than the tree is high"):
            verify_inclusion(H, 0, top, [H] * count, H)
    with pytest.raises(ProofError, match="does not lead"):
        verify_inclusion(H, 0, top, [H] * 64, H)
    with pytest.raises(ProofError):
        verify_consistency(2**63, top, [H] * 200, H, H)  # longer than any uint64 tree needs
    with pytest.raises(ProofError):
        verify_consistency(2**63 + 1, top, [H] * 10, H, H)


@pytest.mark.parametrize(
    "proof_value",
    [None, 5, "ab" * 32, H, [None], [H.hex()], [H[:31]], [b"\x00" * 33], [bytearray(H), 7]],
)
def test_malformed_proof_lists_are_proof_errors(proof_value: object) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(H, 0, 2, proof_value, H)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(1, 2, proof_value, H, H)  # type: ignore[arg-type]


@pytest.mark.parametrize("root", [None, "x" * 32, H[:31], H + b"\x00"])
def test_malformed_roots_are_proof_errors(root: object) -> None:
    with pytest.raises(ProofError):
        verify_inclusion(H, 0, 1, [], root)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(1, 1, [], root, H)  # type: ignore[arg-type]
    with pytest.raises(ProofError):
        verify_consistency(1, 2, [H], H, root)  # type: ignore[arg-type]


_ints = st.one_of(st.integers(-3, 70), st.integers(0, 2**66), st.sampled_from([2**64 - 1, 2**64, 2**63]))
_hash_like = st.one_of(st.binary(min_size=0, max_size=40), st.just(H), st.none(), st.text(max_size=40))


@settings(max_examples=400, deadline=None)
@given(_ints, _ints, st.lists(_hash_like, max_size=8), _hash_like, _hash_like)
def test_any_input_either_verifies_or_raises_proof_error(
    a: int, b: int, proof_value: list[object], r1: object, r2: object
) -> None:
    """Whatever the sizes, path lengths and element types, the verifiers answer or raise ProofError."""
    for call in (
        lambda: verify_inclusion(r1, a, b, proof_value, r2),  # type: ignore[arg-type]
        lambda: verify_consistency(a, b, proof_value, r1, r2),  # type: ignore[arg-type]
        lambda: inclusion_ranges(a, b),
        lambda: consistency_ranges(a, b),
    ):
        with contextlib.suppress(ProofError):
            call()


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_extra_or_missing_nodes_fail_anywhere(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, 200))
    entries = _entries(n, data.draw(st.integers(0, 1000)))
    tree = MemoryTree(leaf_hash(e) for e in entries)
    size2 = data.draw(st.integers(2, n))
    size1 = data.draw(st.integers(1, size2 - 1))
    got = tree.consistency_proof(size1, size2)
    root1, root2 = tree.root(size1), tree.root(size2)
    pos = data.draw(st.integers(0, len(got)))
    extra = data.draw(st.sampled_from([H, root1, root2, *got]))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, [*got[:pos], extra, *got[pos:]], root1, root2)
    drop = data.draw(st.integers(0, len(got) - 1))
    with pytest.raises(ProofError):
        verify_consistency(size1, size2, got[:drop] + got[drop + 1 :], root1, root2)
    index = data.draw(st.integers(0, size2 - 1))
    incl = tree.inclusion_proof(index, size2)
    leaf = leaf_hash(entries[index])
    at = data.draw(st.integers(0, len(incl)))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size2, [*incl[:at], H, *incl[at:]], root2)
    if incl:
        cut = data.draw(st.integers(0, len(incl) - 1))
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size2, incl[:cut] + incl[cut + 1 :], root2)


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
