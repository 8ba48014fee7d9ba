"""Commitments, entries and receipts."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from clearguard.ledger import (
    Checkpoint,
    Ed25519Signer,
    MemoryTree,
    NoteError,
    ProofError,
    Receipt,
    commit_entry,
    commitment,
    decode_entry,
    loads_receipt,
    new_salt,
    verify_receipt,
)
from clearguard.ledger.errors import EntryError

SALT = b"s" * 32


def test_commitment_binds_every_part() -> None:
    base = commitment("declaration", "24GB0000000000001", b"{}", SALT)
    assert len(base) == 32
    assert commitment("declaration", "24GB0000000000001", b"{}", SALT) == base
    assert commitment("audit", "24GB0000000000001", b"{}", SALT) != base
    assert commitment("declaration", "24GB0000000000002", b"{}", SALT) != base
    assert commitment("declaration", "24GB0000000000001", b"{ }", SALT) != base
    assert commitment("declaration", "24GB0000000000001", b"{}", b"t" * 32) != base
    # Length prefixes: moving bytes between fields changes the commitment.
    assert commitment("a", "bc", b"", SALT) != commitment("ab", "c", b"", SALT)
    assert new_salt() != new_salt()


@pytest.mark.parametrize("record_id", ["", "John Smith", "a\nb", "x" * 129, "é"])
def test_identifiers_that_could_carry_personal_data_refused(record_id: str) -> None:
    with pytest.raises(EntryError):
        commit_entry("declaration", record_id, b"{}", SALT)


def test_salt_size_enforced() -> None:
    with pytest.raises(EntryError):
        commitment("k", "r", b"", b"short")


def test_entry_roundtrip_is_canonical() -> None:
    data = commit_entry("audit", "0f1e2d3c-aaaa", b"payload", SALT)
    entry = decode_entry(data)
    assert (entry.kind, entry.record_id) == ("audit", "0f1e2d3c-aaaa")
    assert entry.commitment == commitment("audit", "0f1e2d3c-aaaa", b"payload", SALT)
    assert b"payload" not in data
    with pytest.raises(EntryError):
        decode_entry(data + b"x")
    with pytest.raises(EntryError):
        decode_entry(data.replace(b"audit", b"aud t"))


def test_receipt_roundtrip_and_verification() -> None:
    signer = Ed25519Signer("log.example", Ed25519PrivateKey.from_private_bytes(b"\x03" * 32))
    entries = [commit_entry("audit", f"r{i}", b"x", SALT) for i in range(11)]
    tree = MemoryTree()
    for e in entries:
        tree.append_entry(e)
    note = Checkpoint("log.example", 11, tree.root()).sign(signer)
    receipt = Receipt(7, entries[7], note, tuple(tree.inclusion_proof(7)))
    again = loads_receipt(receipt.dumps())
    assert again == receipt
    assert verify_receipt(again, [signer.verifier()], "log.example").checkpoint.size == 11
    with pytest.raises(ProofError):
        verify_receipt(Receipt(7, entries[6], note, receipt.proof), [signer.verifier()])
    with pytest.raises(ProofError):
        verify_receipt(Receipt(11, entries[7], note, receipt.proof), [signer.verifier()])
    other = Ed25519Signer("log.example", Ed25519PrivateKey.from_private_bytes(b"\x04" * 32))
    with pytest.raises(NoteError):
        verify_receipt(receipt, [other.verifier()])
    with pytest.raises(NoteError):
        loads_receipt("{}")
    with pytest.raises(NoteError):
        loads_receipt("not json")


def _mutations(data: bytes) -> list[bytes]:
    """Single-byte edits, truncations and extensions of an entry: what a fast check must refuse
    exactly when decode_entry does."""
    out = [data[:cut] for cut in range(len(data))] + [data + b"\n", data + b"x", b"", b"\n" * 4]
    for position in range(len(data)):
        for byte in (0x0A, 0x20, 0x2B, 0x2F, 0x3D, 0x41, 0x42, 0x61, 0xC3, 0x00):
            out.append(data[:position] + bytes([byte]) + data[position + 1 :])
    return out


def test_check_entry_accepts_exactly_what_decode_entry_accepts() -> None:
    from clearguard.ledger import check_entry

    samples = [
        commit_entry("audit.event", "0f" * 16, b"{}", SALT),
        commit_entry("declaration.version", "26GB00000000000012/1", b"x", SALT),
        commit_entry("k", "r", b"", b"t" * 16),
        commit_entry("a" * 128, "b" * 128, b"", SALT),
    ]
    for sample in samples:
        for data in [sample, *_mutations(sample)]:
            try:
                decode_entry(data)
                expected = True
            except EntryError:
                expected = False
            try:
                check_entry(data)
                accepted = True
            except EntryError:
                accepted = False
            assert accepted is expected, data


def test_commit_entries_is_commit_entry_byte_for_byte() -> None:
    from clearguard.ledger import commit_entries

    records = [(f"26GB{n:014d}/1", bytes([n]) * n, bytes([n]) * (16 + n % 49)) for n in range(60)]
    assert commit_entries("declaration.version", records) == [
        commit_entry("declaration.version", rid, canonical, salt) for rid, canonical, salt in records
    ]
    assert commit_entries("k", []) == []
    with pytest.raises(EntryError):
        commit_entries("bad kind", [("r", b"", SALT)])
    with pytest.raises(EntryError):
        commit_entries("k", [("r", b"", SALT), ("John Smith", b"", SALT)])
    with pytest.raises(EntryError):
        commit_entries("k", [("r", b"", b"short")])
