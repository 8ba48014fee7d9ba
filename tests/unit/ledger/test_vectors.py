"""Every vector of the shared tlog test data, read in place."""

from __future__ import annotations

from typing import Any

import pytest

from clearguard.ledger import (
    EMPTY_ROOT,
    MemoryTree,
    NoteError,
    ProofError,
    ed25519_verifier,
    leaf_hash,
    node_hash,
    open_note,
    root_hash,
    sign_note,
    verify_inclusion,
)
from clearguard.ledger.note import parse_signer_key


def _leaves(vectors: dict[str, Any]) -> list[bytes]:
    return [bytes.fromhex(x) for x in vectors["tree_leaves_hex"]]


@pytest.mark.asvs("V11.4.3")
def test_leaf_and_node_hash(vectors: dict[str, Any]) -> None:
    lv, nv = vectors["leaf_hash"], vectors["node_hash"]
    assert leaf_hash(lv["input_ascii"].encode()).hex() == lv["hash_hex"]
    assert node_hash(nv["left_ascii"].encode(), nv["right_ascii"].encode()).hex() == nv["hash_hex"]


def test_roots_for_every_size(vectors: dict[str, Any]) -> None:
    leaves = _leaves(vectors)
    roots = vectors["tree_roots_hex_by_size"]
    assert len(roots) == len(leaves) + 1
    assert EMPTY_ROOT.hex() == roots[0]
    tree = MemoryTree()
    for size, expected in enumerate(roots):
        assert root_hash([leaf_hash(d) for d in leaves[:size]]).hex() == expected
        if size:
            tree.append_entry(leaves[size - 1])
        assert tree.root().hex() == expected
    for size, expected in enumerate(roots):
        assert tree.root(size).hex() == expected


@pytest.mark.parametrize("case", range(3))
def test_inclusion_proofs(vectors: dict[str, Any], case: int) -> None:
    leaves = _leaves(vectors)
    v = vectors["inclusion_proofs_8_leaf_tree"][case]
    index, size = v["leaf_index"], v["tree_size"]
    expected = [bytes.fromhex(h) for h in v["proof_hex"]]
    tree = MemoryTree(leaf_hash(d) for d in leaves)
    assert tree.inclusion_proof(index, size) == expected
    root = bytes.fromhex(vectors["tree_roots_hex_by_size"][size])
    verify_inclusion(leaf_hash(leaves[index]), index, size, expected, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(leaves[index] + b"x"), index, size, expected, root)
    with pytest.raises(ProofError):
        verify_inclusion(leaf_hash(leaves[index]), index, size, expected[:-1], root)


def test_c2sp_signed_note_example(vectors: dict[str, Any]) -> None:
    v = vectors["signed_note_c2sp_example"]
    verifier = ed25519_verifier(v["verifier_key"])
    assert verifier.vkey() == v["verifier_key"]
    opened = open_note(v["note"], [verifier])
    assert opened.text == "This is an example message.\n"
    assert [s.name for s in opened.verified] == ["example.com/foo"]
    tampered = v["note"].replace("example message", "exemplary message")
    with pytest.raises(NoteError):
        open_note(tampered, [verifier])


def test_go_sumdb_signing_example(vectors: dict[str, Any]) -> None:
    v = vectors["signed_note_go_sumdb_sign"]
    signer = parse_signer_key(v["signer_key"])
    assert signer.vkey() == v["verifier_key"]
    note = sign_note(v["text"], [signer])
    # Ed25519 is deterministic, so the signature line is byte-for-byte Go's.
    assert note == v["text"] + "\n" + v["signature_line"] + "\n"
    opened = open_note(note, [ed25519_verifier(v["verifier_key"])])
    assert opened.text == v["text"]
