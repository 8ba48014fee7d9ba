"""C2SP signed-note v1.0.0 with Ed25519 (type 0x01): keys, key ids, verifier key strings, signing
and opening notes. Timestamped cosignatures (type 0x04) live in cosignature.py and plug into the
same Verifier protocol."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from clearguard.ledger.errors import NoteError

ALG_ED25519: Final = 0x01
ALG_COSIGNATURE_ED25519: Final = 0x04
SIGNATURE_PREFIX: Final = "\u2014 "
MAX_SIGNATURES: Final = 100  # the spec asks for at least 16; Go's note package also stops at 100
_SPACES = re.compile(r"\s")


def check_key_name(name: str) -> None:
    if not name or "+" in name or _SPACES.search(name):
        raise NoteError(f"key name {name!r}: must be non-empty, without spaces or '+'")


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4], big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:4], "big")


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64decode_strict(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise NoteError(f"{what}: not valid base64") from exc


class Verifier(Protocol):
    """A known key: signatures whose (name, key id) match are checked with verify()."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, text: bytes, signature: bytes) -> bool: ...


class Signer(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, text: bytes) -> bytes: ...


@dataclass(frozen=True, slots=True)
class Ed25519Verifier:
    name: str
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.public_key) != 32:
            raise NoteError("Ed25519 public key must be 32 bytes")

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.public_key)

    def verify(self, text: bytes, signature: bytes) -> bool:
        if len(signature) != 64:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public_key).verify(signature, text)
        except InvalidSignature:
            return False
        return True

    def vkey(self) -> str:
        return format_verifier_key(self.name, ALG_ED25519, self.public_key)


class Ed25519Signer:
    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        check_key_name(name)
        self._name = name
        self._key = private_key
        self._public = raw_public_key(private_key.public_key())
        self._key_id = key_id(name, ALG_ED25519, self._public)

    @property
    def name(self) -> str:
        return self._name

    @property
    def key_id(self) -> int:
        return self._key_id

    @property
    def public_key(self) -> bytes:
        return self._public

    def sign(self, text: bytes) -> bytes:
        return self._key.sign(text)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self._name, self._public)

    def vkey(self) -> str:
        return self.verifier().vkey()


def format_verifier_key(name: str, alg: int, public_key: bytes) -> str:
    """`name+hex8+base64(type || public key)`."""
    check_key_name(name)
    encoded = base64.b64encode(bytes([alg]) + public_key).decode()
    return f"{name}+{key_id(name, alg, public_key):08x}+{encoded}"


@dataclass(frozen=True, slots=True)
class VerifierKey:
    name: str
    key_id: int
    alg: int
    public_key: bytes


def parse_verifier_key(vkey: str) -> VerifierKey:
    """Splits on the first two '+' only (base64 may hold '+') and checks the key id."""
    parts = vkey.strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("verifier key: expected name+hex8+base64")
    name, hex_id, encoded = parts
    check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise NoteError("verifier key: key id must be 8 lowercase hex digits")
    raw = b64decode_strict(encoded, "verifier key")
    if len(raw) < 2:
        raise NoteError("verifier key: no key material")
    alg, public_key = raw[0], raw[1:]
    if alg in (ALG_ED25519, ALG_COSIGNATURE_ED25519) and len(public_key) != 32:
        raise NoteError("verifier key: Ed25519 public key must be 32 bytes")
    if key_id(name, alg, public_key) != int(hex_id, 16):
        raise NoteError("verifier key: key id does not match name and key")
    return VerifierKey(name, int(hex_id, 16), alg, public_key)


def ed25519_verifier(vkey: str) -> Ed25519Verifier:
    parsed = parse_verifier_key(vkey)
    if parsed.alg != ALG_ED25519:
        raise NoteError(f"verifier key: type {parsed.alg:#04x} is not Ed25519 note signing (0x01)")
    return Ed25519Verifier(parsed.name, parsed.public_key)


def parse_signer_key(skey: str) -> Ed25519Signer:
    """Go's `PRIVATE+KEY+name+hex8+base64(0x01 || seed)` signer key format."""
    prefix = "PRIVATE+KEY+"
    if not skey.startswith(prefix):
        raise NoteError("signer key: must start with PRIVATE+KEY+")
    parts = skey[len(prefix) :].strip().split("+", 2)
    if len(parts) != 3:
        raise NoteError("signer key: expected PRIVATE+KEY+name+hex8+base64")
    name, hex_id, encoded = parts
    raw = b64decode_strict(encoded, "signer key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise NoteError("signer key: expected type 0x01 and a 32-byte seed")
    signer = Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if f"{signer.key_id:08x}" != hex_id:
        raise NoteError("signer key: key id does not match name and key")
    return signer


@dataclass(frozen=True, slots=True)
class NoteSignature:
    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        payload = self.key_id.to_bytes(4, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {base64.b64encode(payload).decode()}\n"


@dataclass(frozen=True, slots=True)
class OpenedNote:
    text: str
    verified: tuple[NoteSignature, ...]
    unverified: tuple[NoteSignature, ...]


def check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise NoteError("note text must not contain control characters other than newline")


def sign_text(text: str, signer: Signer) -> NoteSignature:
    check_text(text)
    return NoteSignature(signer.name, signer.key_id, signer.sign(text.encode()))


def sign_note(text: str, signers: Iterable[Signer]) -> str:
    check_text(text)
    lines = [sign_text(text, s).line() for s in signers]
    if not lines:
        raise NoteError("a signed note needs at least one signer")
    return text + "\n" + "".join(lines)


def parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError("signature line must start with an em dash and a space")
    rest = line[len(SIGNATURE_PREFIX) :]
    name, sep, encoded = rest.rpartition(" ")
    if not sep:
        raise NoteError("signature line: expected a key name and a signature")
    check_key_name(name)
    raw = b64decode_strict(encoded, "signature")
    if len(raw) < 5:
        raise NoteError("signature: too short to hold a key id and a signature")
    return NoteSignature(name, int.from_bytes(raw[:4], "big"), raw[4:])


def split_note(note: str) -> tuple[str, list[NoteSignature]]:
    """The note text (with its final newline) and its parsed signature lines."""
    if any(ord(c) < 0x20 and c != "\n" for c in note):
        raise NoteError("note must not contain control characters other than newline")
    split = note.rfind("\n\n")
    if split < 0 or not note.endswith("\n"):
        raise NoteError("note: no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    lines = block[:-1].split("\n")
    if not block or len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note: needs 1 to {MAX_SIGNATURES} signature lines")
    return text, [parse_signature_line(line) for line in lines]


def open_note(note: str | bytes, verifiers: Sequence[Verifier]) -> OpenedNote:
    """Verifies a signed note: signatures by unknown keys are kept aside, a bad signature by a known
    key rejects the note, and a note that no known key signs is rejected."""
    if isinstance(note, bytes):
        try:
            note = note.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("note is not valid UTF-8") from exc
    text, signatures = split_note(note)
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[NoteSignature] = []
    unverified: list[NoteSignature] = []
    seen: set[tuple[str, int]] = set()
    encoded = text.encode()
    for sig in signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            unverified.append(sig)
            continue
        if not verifier.verify(encoded, sig.signature):
            raise NoteError(f"note: signature by {sig.name} does not verify")
        if (sig.name, sig.key_id) not in seen:
            seen.add((sig.name, sig.key_id))
            verified.append(sig)
    if not verified:
        raise NoteError("note: no signature by a trusted key")
    return OpenedNote(text, tuple(verified), tuple(unverified))
