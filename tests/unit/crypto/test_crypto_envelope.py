"""Envelope core: blob format, associated-data binding, wrapping, field-key derivation."""

from __future__ import annotations

import os

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearguard.crypto import envelope
from clearguard.crypto.errors import DecryptionFailed

KEY = bytes(range(32))
SHARE = bytes(range(32, 64))


def aad(record: str = "26GB00000000000011", field: str = "seller.name", version: int = 1) -> bytes:
    return envelope.field_aad("declarations", record, field, version)


@pytest.mark.asvs("V11.3.2")
def test_round_trip_and_layout() -> None:
    aead = envelope.field_key(KEY, SHARE)
    blob = envelope.seal_field(aead, aad(), "Müller GmbH".encode())
    assert blob[0] == envelope.FORMAT_V1
    assert len(blob) == len("Müller GmbH".encode()) + envelope.OVERHEAD
    assert envelope.open_field(aead, aad(), blob).decode() == "Müller GmbH"


def test_nonces_are_fresh() -> None:
    aead = envelope.field_key(KEY, SHARE)
    blobs = {envelope.seal_field(aead, aad(), b"same") for _ in range(200)}
    assert len(blobs) == 200


@pytest.mark.asvs("V11.3.3")
@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_tampered_blob_fails(position: int) -> None:
    aead = envelope.field_key(KEY, SHARE)
    blob = bytearray(envelope.seal_field(aead, aad(), b"secret price 1200.00"))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionFailed):
        envelope.open_field(aead, aad(), bytes(blob))


@pytest.mark.asvs("V11.3.3")
@pytest.mark.parametrize("other", [aad(record="26GB00000000000029"), aad(field="buyer.name"), aad(version=2)])
def test_moved_blob_fails(other: bytes) -> None:
    aead = envelope.field_key(KEY, SHARE)
    blob = envelope.seal_field(aead, aad(), b"secret")
    with pytest.raises(DecryptionFailed, match="does not authenticate"):
        envelope.open_field(aead, other, blob)


def test_wrong_key_and_wrong_share_fail() -> None:
    blob = envelope.seal_field(envelope.field_key(KEY, SHARE), aad(), b"secret")
    for aead in (envelope.field_key(os.urandom(32), SHARE), envelope.field_key(KEY, os.urandom(32))):
        with pytest.raises(DecryptionFailed):
            envelope.open_field(aead, aad(), blob)


def test_truncated_and_unknown_format_fail() -> None:
    aead = envelope.field_key(KEY, SHARE)
    blob = envelope.seal_field(aead, aad(), b"x")
    with pytest.raises(DecryptionFailed, match="malformed"):
        envelope.open_field(aead, aad(), blob[:20])
    with pytest.raises(DecryptionFailed, match="malformed"):
        envelope.open_field(aead, aad(), b"\x02" + blob[1:])


def test_field_aad_is_injective_on_separator_tricks() -> None:
    assert envelope.field_aad("a", "b1:c", "d", 1) != envelope.field_aad("a", "b", "1:cd", 1)
    assert envelope.field_aad("t", "r", "f", 11) != envelope.field_aad("t", "r", "f1", 1)


def test_wrap_binds_aad() -> None:
    kek = AESGCM(os.urandom(32))
    data_key = envelope.new_key()
    wrapped = envelope.gcm_wrap(kek, data_key, envelope.wrap_aad("uid1", 1))
    assert envelope.gcm_unwrap(kek, wrapped, envelope.wrap_aad("uid1", 1)) == data_key
    for bad in (envelope.wrap_aad("uid2", 1), envelope.wrap_aad("uid1", 2)):
        with pytest.raises(DecryptionFailed):
            envelope.gcm_unwrap(kek, wrapped, bad)
    with pytest.raises(DecryptionFailed):
        envelope.gcm_unwrap(AESGCM(os.urandom(32)), wrapped, envelope.wrap_aad("uid1", 1))
    with pytest.raises(DecryptionFailed, match="malformed"):
        envelope.gcm_unwrap(kek, wrapped[:-1], envelope.wrap_aad("uid1", 1))


@pytest.mark.asvs("V11.2.3")
def test_field_key_needs_32_byte_inputs() -> None:
    with pytest.raises(ValueError):
        envelope.field_key(KEY[:16], SHARE)
