"""C2SP tlog-cosignature v1.0.1, Ed25519 type 0x04: timestamped witness signatures over a checkpoint.

The signed message is `cosignature/v1\\ntime <t>\\n` + the checkpoint body; the note signature is the
8-byte big-endian timestamp followed by the 64-byte Ed25519 signature."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from clearguard.ledger.errors import NoteError
from clearguard.ledger.note import (
    ALG_COSIGNATURE_ED25519,
    NoteSignature,
    check_key_name,
    check_text,
    format_verifier_key,
    key_id,
    parse_verifier_key,
    raw_public_key,
)

MAX_TIMESTAMP: Final = (1 << 63) - 1


def cosigned_message(body: str, timestamp: int) -> bytes:
    if not 0 <= timestamp <= MAX_TIMESTAMP:
        raise NoteError("cosignature: timestamp out of range")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + body.encode()


class CosignatureSigner:
    """Signs checkpoint bodies as a witness. Also satisfies the note Signer protocol (timestamped now)."""

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self._name = name
        self._key = private_key
        self._public = raw_public_key(private_key.public_key())
        self._key_id = key_id(name, ALG_COSIGNATURE_ED25519, self._public)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    def vkey(self) -> str:
        return format_verifier_key(self._name, ALG_COSIGNATURE_ED25519, self._public)

    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self._name, self._public)

    def sign(self, text: bytes) -> bytes:
        return self.sign_at(text.decode(), int(time.time()))

    def sign_at(self, body: str, timestamp: int) -> bytes:
        check_text(body)
        return timestamp.to_bytes(8, "big") + self._key.sign(cosigned_message(body, timestamp))

    def cosign(self, body: str, timestamp: int | None = None) -> NoteSignature:
        stamp = int(time.time()) if timestamp is None else timestamp
        return NoteSignature(self._name, self._key_id, self.sign_at(body, stamp))


@dataclass(frozen=True, slots=True)
class CosignatureVerifier:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_COSIGNATURE_ED25519, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 72:
            return False
        timestamp = int.from_bytes(signature[:8], "big")
        if timestamp > MAX_TIMESTAMP:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(
                signature[8:], cosigned_message(text.decode(), timestamp)
            )
        except (InvalidSignature, UnicodeDecodeError):  # a checkpoint body is UTF-8 text, or signs nothing
            return False
        return True

    @staticmethod
    def timestamp(signature: NoteSignature) -> int:
        return int.from_bytes(signature.signature[:8], "big")


def cosignature_verifier(vkey: str) -> CosignatureVerifier:
    parsed = parse_verifier_key(vkey)
    if parsed.alg != ALG_COSIGNATURE_ED25519:
        raise NoteError(f"verifier key: type {parsed.alg:#04x} is not an Ed25519 cosignature (0x04)")
    return CosignatureVerifier(parsed.name, parsed.public_key)
