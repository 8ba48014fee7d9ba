"""Inclusion and consistency proofs: RFC 9162 sections 2.1.3 and 2.1.4, iterative.

Generation is split in two so that any store can serve it: the pure part names the full subtrees a
proof needs (as (level, index) node ids, level 0 being leaves), the store reads those hashes in one
batch, and the pure part folds them. A proof for a tree of n leaves needs O(log n) node reads.

Verification follows the RFC algorithms step by step, including their refusals: an empty
consistency path between different sizes fails (step 1), an index at or past the tree size fails, a
path too long or too short for the sizes fails. Between equal sizes (0 < size1 = size2) the proof is
empty and holds when the roots are equal, as RFC 9162 2.1.4.1 defines it; size1 = 0 is refused (the
empty tree proves nothing). Sizes are uint64 in the RFC's structures and refused beyond. Every
refusal is a ProofError, whatever the input.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from hashlib import sha256 as _sha256  # inlined in the loops: a call per node is most of the cost

from clearguard.ledger.errors import ProofError
from clearguard.ledger.hashing import HASH_SIZE, fold_right

NodeId = tuple[int, int]
"""(level, index): the root of leaves [index * 2**level, (index + 1) * 2**level)."""

NodeReader = Callable[[Sequence[NodeId]], Sequence[bytes]]
"""Reads many full-subtree hashes in one call, in the order asked."""

Range = tuple[int, int]

MAX_SIZE = (1 << 64) - 1
"""Tree sizes and indices are uint64 in RFC 9162 (and in C2SP checkpoints)."""


def _check_size(value: int, what: str) -> None:
    # bool is an int but never a size; anything else would raise TypeError deep in the bit loops.
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SIZE:
        raise ProofError(f"{what} must be an integer from 0 to 2**64 - 1")


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """Leaf ranges whose tree hashes form PATH(index, D[size]), bottom-up (RFC 9162 2.1.3.1)."""
    _check_size(index, "inclusion proof: index")
    _check_size(size, "inclusion proof: tree size")
    if not 0 <= index < size:
        raise ProofError(f"inclusion proof: index {index} is outside a tree of size {size}")
    ranges: list[Range] = []
    begin, end = 0, size
    while end - begin > 1:
        k = 1 << ((end - begin - 1).bit_length() - 1)
        if index < begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
    ranges.reverse()
    return ranges


def consistency_ranges(size1: int, size2: int) -> list[Range]:
    """Leaf ranges whose tree hashes form PROOF(size1, D[size2]), bottom-up (RFC 9162 2.1.4.1); none
    between equal sizes."""
    _check_size(size1, "consistency proof: size1")
    _check_size(size2, "consistency proof: size2")
    if not 0 < size1 <= size2:
        raise ProofError(f"consistency proof: sizes must satisfy 0 < size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        return []
    ranges: list[Range] = []
    begin, end, whole = 0, size2, True
    while True:
        if size1 == end:
            # SUBPROOF(m, D[m], b): the old root itself is left out only while it is the whole old tree.
            if not whole:
                ranges.append((begin, end))
            break
        k = 1 << ((end - begin - 1).bit_length() - 1)
        if size1 <= begin + k:
            ranges.append((begin + k, end))
            end = begin + k
        else:
            ranges.append((begin, begin + k))
            begin += k
            whole = False
    ranges.reverse()
    return ranges


def range_nodes(begin: int, end: int) -> list[NodeId]:
    """The full subtrees covering [begin, end), largest first; begin must be aligned to the range's
    own top subtree, which every range a proof names is."""
    size = end - begin
    if size & (size - 1) == 0:  # the common case: one perfect subtree
        level = size.bit_length() - 1
        return [(level, begin >> level)]
    nodes: list[NodeId] = []
    while begin < end:
        level = (end - begin).bit_length() - 1
        if begin:
            level = min(level, (begin & -begin).bit_length() - 1)
        nodes.append((level, begin >> level))
        begin += 1 << level
    return nodes


def build_proof(ranges: Sequence[Range], read: NodeReader) -> list[bytes]:
    """Reads every node the ranges need in one batch and folds each range into its tree hash."""
    per_range = [range_nodes(begin, end) for begin, end in ranges]
    hashes = read([node for nodes in per_range for node in nodes])
    proof: list[bytes] = []
    pos = 0
    for nodes in per_range:
        count = len(nodes)
        proof.append(hashes[pos] if count == 1 else fold_right(hashes[pos : pos + count]))
        pos += count
    return proof


def inclusion_proof(index: int, size: int, read: NodeReader) -> list[bytes]:
    return build_proof(inclusion_ranges(index, size), read)


def consistency_proof(size1: int, size2: int, read: NodeReader) -> list[bytes]:
    return build_proof(consistency_ranges(size1, size2), read)


def _check_hash(value: bytes, what: str) -> None:
    if not isinstance(value, bytes | bytearray):
        raise ProofError(f"{what} is not bytes")
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, a SHA-256 hash is {HASH_SIZE}")


def _check_path(proof: Sequence[bytes], what: str) -> list[bytes]:
    # A path longer than a uint64 tree is high can only be refused; checking the count first keeps
    # a hostile caller from making us check or hash millions of elements.
    try:
        if isinstance(proof, str | bytes | bytearray):
            raise TypeError
        path = list(proof)
    except TypeError:
        raise ProofError(f"{what} is not a list of hashes") from None
    if len(path) > 2 * 64:
        raise ProofError(f"{what} has {len(path)} elements, more than any tree of 2**64 leaves needs")
    for i, p in enumerate(path):
        _check_hash(p, f"{what} element {i}")
    return path


def root_from_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 2.1.3.2 steps 1 to 4: the root the proof leads to."""
    _check_hash(leaf_hash, "leaf hash")
    proof = _check_path(proof, "inclusion proof")
    _check_size(index, "inclusion: index")
    _check_size(tree_size, "inclusion: tree size")
    if index >= tree_size:
        raise ProofError(f"inclusion: index {index} is not below tree size {tree_size}")
    fn, sn, r = index, tree_size - 1, leaf_hash
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion: proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            r = _sha256(b"\x01" + p + r).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = _sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion: proof is shorter than the tree is high")
    return r


def verify_inclusion(leaf_hash: bytes, index: int, tree_size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Raises ProofError unless proof shows leaf_hash at index in the tree of tree_size with root."""
    _check_hash(root, "root")
    if root_from_inclusion(leaf_hash, index, tree_size, proof) != root:
        raise ProofError(f"inclusion: proof for index {index} does not lead to the root of size {tree_size}")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """RFC 9162 2.1.4.2: raises ProofError unless the tree of size2 with root2 extends the tree of
    size1 with root1. Equal sizes take an empty proof and equal roots (PROOF(m, D[m]) is empty)."""
    _check_hash(root1, "root1")
    _check_hash(root2, "root2")
    path = _check_path(proof, "consistency proof")
    _check_size(size1, "consistency: size1")
    _check_size(size2, "consistency: size2")
    if not 0 < size1 <= size2:
        raise ProofError(f"consistency: sizes must satisfy 0 < size1 <= size2, got {size1}, {size2}")
    if size1 == size2:
        if path:
            raise ProofError(f"consistency: the proof between equal sizes ({size1}) must be empty")
        if root1 != root2:
            raise ProofError(f"consistency: two different roots for size {size1}")
        return
    if not path:  # step 1
        raise ProofError("consistency: empty proof")
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency: proof is longer than the tree is high")
        if fn & 1 or fn == sn:
            fr = _sha256(b"\x01" + c + fr).digest()
            sr = _sha256(b"\x01" + c + sr).digest()
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = _sha256(b"\x01" + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency: proof is shorter than the tree is high")
    if fr != root1:
        raise ProofError(f"consistency: proof does not lead to the root of size {size1}")
    if sr != root2:
        raise ProofError(f"consistency: proof does not lead to the root of size {size2}")
