"""The ledger's readers of what others send or keep: signed notes and checkpoints (C2SP
signed-note, tlog-checkpoint), verifier and signer keys, cosignatures, receipts, inclusion and
consistency proofs, entry bundles and tiles, witness add-checkpoint bodies. Odd bytes and odd
structures give LedgerError (NoteError, ProofError, TileError, WitnessError), nothing else, and
nothing odd ever verifies."""

from __future__ import annotations

import json
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from clearguard.ledger.checkpoint import Checkpoint, open_checkpoint, parse_checkpoint
from clearguard.ledger.cosignature import CosignatureSigner, cosignature_verifier
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.hashing import leaf_hash, root_hash
from clearguard.ledger.note import (
    ALG_ED25519,
    Ed25519Signer,
    ed25519_verifier,
    format_verifier_key,
    open_note,
    parse_signer_key,
    parse_verifier_key,
    raw_public_key,
)
from clearguard.ledger.proofs import verify_consistency, verify_inclusion
from clearguard.ledger.receipt import Receipt, loads_receipt, receipt_from_json, verify_receipt
from clearguard.ledger.tiles import decode_bundle, encode_bundle, parse_tile_path, split_hashes
from clearguard.ledger.witness import parse_add_checkpoint, peek_origin, request_body
from tests.fuzz.odd import FUZZ, odd_bytes, odd_text, refused_or_read, restructured

ORIGIN = "example.gov/clearguard"
KEY = Ed25519PrivateKey.generate()
SIGNER = Ed25519Signer(ORIGIN, KEY)
VKEY = format_verifier_key(ORIGIN, ALG_ED25519, raw_public_key(KEY.public_key()))
WITNESS = CosignatureSigner("witness.example", Ed25519PrivateKey.generate())
ENTRIES = [b"entry-%d" % n for n in range(3)]
LEAVES = [leaf_hash(e) for e in ENTRIES]
CHECKPOINT = Checkpoint(ORIGIN, len(ENTRIES), root_hash(LEAVES))
NOTE = CHECKPOINT.sign(SIGNER).encode()
COSIGNED = CHECKPOINT.sign(SIGNER, WITNESS).encode()
# A one-entry tree's receipt: the proof is empty and the root is the leaf hash.
ONE = Checkpoint(ORIGIN, 1, leaf_hash(b"only"))
RECEIPT = Receipt(0, b"only", ONE.sign(SIGNER), ())
RECEIPT_JSON = RECEIPT.dumps().encode()
ADD = request_body(0, [], NOTE.decode())


def _verifiers() -> list[Any]:
    return [ed25519_verifier(VKEY), WITNESS.verifier()]


def test_the_samples_verify() -> None:
    assert open_checkpoint(NOTE, _verifiers()[:1], ORIGIN).checkpoint == CHECKPOINT
    verify_receipt(loads_receipt(RECEIPT_JSON), _verifiers()[:1], ORIGIN)
    assert parse_add_checkpoint(ADD).note == NOTE.decode()
    assert parse_verifier_key(VKEY).name == ORIGIN


@FUZZ
@given(raw=odd_bytes([NOTE, COSIGNED]))
def test_signed_notes_and_checkpoints(raw: bytes) -> None:
    opened = refused_or_read(lambda: open_checkpoint(raw, _verifiers(), ORIGIN), LedgerError)
    if opened is not None:  # only a note carrying our signature over these very bytes opens
        assert opened.checkpoint.origin == ORIGIN
        assert raw.decode().startswith(opened.checkpoint.body())
    refused_or_read(lambda: open_note(raw, _verifiers()), LedgerError)
    refused_or_read(lambda: parse_checkpoint(raw.decode("utf-8", "replace")), LedgerError)
    refused_or_read(lambda: peek_origin(raw.decode("utf-8", "replace")), LedgerError)


@FUZZ
@given(text=odd_text([VKEY.encode(), b"PRIVATE+KEY+" + VKEY.encode(), WITNESS.vkey().encode()]))
def test_verifier_and_signer_keys(text: str) -> None:
    refused_or_read(lambda: parse_verifier_key(text), LedgerError)
    refused_or_read(lambda: parse_signer_key(text), LedgerError)
    refused_or_read(lambda: cosignature_verifier(text), LedgerError)


@FUZZ
@given(raw=odd_bytes([RECEIPT_JSON]))
def test_receipts(raw: bytes) -> None:
    receipt = refused_or_read(lambda: loads_receipt(raw), LedgerError)
    if receipt is not None:
        refused_or_read(lambda: verify_receipt(receipt, _verifiers(), ORIGIN), LedgerError)


@FUZZ
@given(data=restructured([json.loads(RECEIPT_JSON)]))
def test_receipts_as_parsed_json(data: Any) -> None:
    refused_or_read(lambda: receipt_from_json(data), LedgerError)


hashes = st.lists(
    st.one_of(st.binary(min_size=32, max_size=32), st.sampled_from(LEAVES), st.binary(max_size=40)), max_size=70
)
sizes = st.one_of(st.integers(-3, 10), st.integers(0, 2**64 + 5), st.integers(-(2**70), 2**70))


@FUZZ
@given(index=sizes, size=sizes, proof=hashes, leaf=st.one_of(st.sampled_from(LEAVES), st.binary(max_size=40)))
def test_inclusion_proofs(index: int, size: int, proof: list[bytes], leaf: bytes) -> None:
    root = CHECKPOINT.root
    verified = refused_or_read(lambda: verify_inclusion(leaf, index, size, proof, root) or True, LedgerError)
    if verified:
        assert size == len(ENTRIES) and leaf == LEAVES[index]  # nothing else proves inclusion


@FUZZ
@given(size1=sizes, size2=sizes, proof=hashes, root1=st.binary(max_size=40))
def test_consistency_proofs(size1: int, size2: int, proof: list[bytes], root1: bytes) -> None:
    refused_or_read(lambda: verify_consistency(size1, size2, proof, root1, CHECKPOINT.root), LedgerError)


@FUZZ
@given(raw=odd_bytes([encode_bundle(ENTRIES), b"".join(LEAVES)]))
def test_bundles_and_tiles(raw: bytes) -> None:
    entries = refused_or_read(lambda: decode_bundle(raw), LedgerError)
    if entries is not None:
        assert encode_bundle(entries) == raw  # one reading only
    refused_or_read(lambda: split_hashes(raw), LedgerError)


@FUZZ
@given(text=odd_text([b"tile/0/x001/234", b"tile/entries/000.p/5", b"tile/2/000.p/255"]))
def test_tile_paths(text: str) -> None:
    refused_or_read(lambda: parse_tile_path(text), LedgerError)


@FUZZ
@given(raw=odd_bytes([ADD]))
def test_witness_add_checkpoint_bodies(raw: bytes) -> None:
    refused_or_read(lambda: parse_add_checkpoint(raw), LedgerError)


def test_a_cosignature_over_other_bytes_does_not_verify() -> None:
    verifier = WITNESS.verifier()
    assert not verifier.verify(b"\xff\xfe not utf-8", b"\x00" * 72)
