"""The tlog-witness add-checkpoint decision, case by case with the spec's status codes."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearguard.ledger import (
    Checkpoint,
    CosignatureSigner,
    Ed25519Signer,
    MemoryTree,
    cosignature_verifier,
    open_note,
)
from clearguard.ledger.witness import (
    LogState,
    WitnessError,
    cosignature_lines,
    decide,
    parse_add_checkpoint,
    peek_origin,
    request_body,
)

ORIGIN = "log.example/a"
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"\x01" * 32))
OTHER = Ed25519Signer(ORIGIN, Ed25519PrivateKey.from_private_bytes(b"\x02" * 32))


def _tree(n: int, fork: bool = False) -> MemoryTree:
    tree = MemoryTree()
    for i in range(n):
        tree.append_entry(f"{'fork' if fork and i == 3 else 'e'}{i}".encode())
    return tree


def _signed(tree: MemoryTree, size: int, signer: Ed25519Signer = LOG) -> str:
    return Checkpoint(ORIGIN, size, tree.root(size)).sign(signer)


def _state(size: int = 0, root: bytes | None = None) -> LogState:
    return LogState(ORIGIN, (LOG.verifier(),), size, root)


def _status(body: bytes, state: LogState | None) -> int:
    with pytest.raises(WitnessError) as info:
        decide(parse_add_checkpoint(body), state)
    return info.value.http_status


def test_first_checkpoint_then_consistent_growth() -> None:
    tree = _tree(20)
    cp = decide(parse_add_checkpoint(request_body(0, [], _signed(tree, 10))), _state())
    assert cp.size == 10
    state = _state(10, cp.root)
    cp2 = decide(parse_add_checkpoint(request_body(10, tree.consistency_proof(10, 20), _signed(tree, 20))), state)
    assert cp2.size == 20
    same = decide(parse_add_checkpoint(request_body(20, [], _signed(tree, 20))), _state(20, cp2.root))
    assert same.root == cp2.root


def test_unknown_origin_404() -> None:
    assert _status(request_body(0, [], _signed(_tree(3), 3)), None) == 404


def test_bad_signature_403() -> None:
    assert _status(request_body(0, [], _signed(_tree(3), 3, OTHER)), _state()) == 403


def test_old_larger_than_size_400() -> None:
    tree = _tree(5)
    assert _status(request_body(6, [], _signed(tree, 5)), _state(6, tree.root(5))) == 400


def test_stale_old_size_409_with_latest_size() -> None:
    tree = _tree(20)
    with pytest.raises(WitnessError) as info:
        decide(
            parse_add_checkpoint(request_body(5, tree.consistency_proof(5, 20), _signed(tree, 20))),
            _state(10, tree.root(10)),
        )
    assert info.value.http_status == 409
    assert info.value.body() == ("text/x.tlog.size", "10\n")


def test_fork_caught_422() -> None:
    honest, forked = _tree(20), _tree(20, fork=True)
    state = _state(10, honest.root(10))
    body = request_body(10, forked.consistency_proof(10, 20), _signed(forked, 20))
    assert _status(body, state) == 422


def test_same_size_other_root_409() -> None:
    honest, forked = _tree(10), _tree(10, fork=True)
    assert _status(request_body(10, [], _signed(forked, 10)), _state(10, honest.root())) == 409


def test_proof_must_be_empty_from_zero_422() -> None:
    tree = _tree(4)
    assert _status(request_body(0, [tree.root(2)], _signed(tree, 4)), _state()) == 422


@pytest.mark.parametrize(
    "body",
    [
        b"old 01\n\nx",
        b"old 1\n",
        b"new 1\n\nx",
        b"old 1\n!!!!\n\nx",
        b"\xff\n\n",
        ("old 1\n" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n" * 64 + "\n").encode(),
    ],
)
def test_malformed_requests_400(body: bytes) -> None:
    with pytest.raises(WitnessError) as info:
        parse_add_checkpoint(body)
    assert info.value.http_status == 400


def test_peek_origin_and_cosignature_lines_verify() -> None:
    tree = _tree(3)
    note = _signed(tree, 3)
    assert peek_origin(note) == ORIGIN
    witness = CosignatureSigner("w.example", Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"w").digest()))
    cp = decide(parse_add_checkpoint(request_body(0, [], note)), _state())
    lines = cosignature_lines(cp, [witness], 1700000000)
    opened = open_note(note + lines, [cosignature_verifier(witness.vkey())])
    assert opened.verified[0].name == "w.example"
