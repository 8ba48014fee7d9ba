"""Partner packages (pure core: no database, no HTTP): a compact JWS signed with the sender's Ed25519
key, nested in a compact JWE to the recipient's key (ECDH-ES+A256KW, A256GCM; RFC 7515, 7516, 7518,
8037), both through joserfc.

The JWE authenticates every byte of the file (its header is the GCM associated data, the rest is the
ciphertext, tag, IV and wrapped key, each decoded strictly), and the JWS inside names and proves the
sender. What is checked here: the form, the algorithms (only the ones named below; never `none`), the
recipient, the sender's key, the signature, and the freshness. Replay (the nonce) and the agreement
are the sharing service's checks, because they need its database.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from joserfc import jwe, jws
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, OKPKey

from clearguard.sharing.errors import PackageRefused, SharingInputError
from clearguard.sharing.jose_util import b64url_decode, b64url_encode, loads_strict

EncryptionKey = OKPKey | ECKey
SenderKeys = Callable[[str, str], OKPKey | None]

KEY_ALG: Final = "ECDH-ES+A256KW"
CONTENT_ENC: Final = "A256GCM"
# The same signature under two names: RFC 9864's fully specified "Ed25519", which we write (joserfc
# warns on the other), and RFC 8037's "EdDSA" restricted here to Ed25519 keys, which we also read.
SIGNATURE_ALG: Final = "Ed25519"
SIGNING_ALGS: Final = ("Ed25519", "EdDSA")
KINDS: Final = frozenset({"declaration", "statistics"})
MAX_BYTES: Final = 8 * 1024 * 1024
SKEW: Final = timedelta(minutes=5)
NONCE_BYTES: Final = 16  # 128 bits


def new_signing_key() -> OKPKey:
    """A fresh Ed25519 key; its kid is its RFC 7638 thumbprint."""
    return OKPKey.generate_key("Ed25519", auto_kid=True)


def new_encryption_key(curve: str = "X25519") -> EncryptionKey:
    """A fresh key agreement key: X25519 (default) or P-256."""
    if curve == "X25519":
        return OKPKey.generate_key("X25519", auto_kid=True)
    if curve == "P-256":
        return ECKey.generate_key("P-256", auto_kid=True)
    raise SharingInputError("curve: X25519 or P-256", field="curve")


def public_jwk(key: OKPKey | ECKey) -> dict[str, Any]:
    """The public half as a JWK (RFC 7517), with its kid: what a partner registers."""
    exported = key.as_dict(private=False)
    return {name: exported[name] for name in ("kty", "crv", "x", "y", "kid") if name in exported}


def _is_ed25519(key: object) -> bool:
    return isinstance(key, OKPKey) and key.curve_name == "Ed25519"


def _is_agreement_key(key: object) -> bool:
    return (isinstance(key, OKPKey) and key.curve_name == "X25519") or (
        isinstance(key, ECKey) and key.curve_name == "P-256"
    )


def _jws_registry(max_bytes: int, alg: str) -> jws.JWSRegistry:
    # Passed alone: joserfc replaces a registry given together with `algorithms` by a default one, and
    # its defaults (128 kB payload, 64 kB ciphertext) are below a package's allowed size.
    registry = jws.JWSRegistry(algorithms=[alg])
    registry.max_payload_length = max_bytes
    return registry


def _jwe_registry(max_bytes: int) -> jwe.JWERegistry:
    registry = jwe.JWERegistry(algorithms=[KEY_ALG, CONTENT_ENC])
    registry.max_ciphertext_length = max_bytes
    return registry


def seal(
    body: Mapping[str, Any],
    *,
    kind: str,
    agreement: str,
    sender: str,
    recipient: str,
    signing_key: OKPKey,
    signing_kid: str,
    recipient_key: EncryptionKey,
    recipient_kid: str,
    now: datetime,
    ttl: timedelta = timedelta(hours=24),
) -> bytes:
    """The package file: sign, then encrypt to the recipient. The bytes are ASCII, no newline."""
    if kind not in KINDS:
        raise SharingInputError(f"kind: one of {', '.join(sorted(KINDS))}", field="kind")
    for name, value in (
        ("agreement", agreement),
        ("sender", sender),
        ("recipient", recipient),
        ("signing_kid", signing_kid),
        ("recipient_kid", recipient_kid),
    ):
        if not isinstance(value, str) or not value:
            raise SharingInputError(f"{name}: a non-empty string", field=name)
    if not isinstance(body, Mapping):
        raise SharingInputError("body: a JSON object", field="body")
    if not _is_ed25519(signing_key) or not signing_key.is_private:
        raise SharingInputError("signing_key: the sender's private Ed25519 key", field="signing_key")
    if not _is_agreement_key(recipient_key):
        raise SharingInputError("recipient_key: an X25519 (OKP) or P-256 (EC) public key", field="recipient_key")
    if now.tzinfo is None:
        raise SharingInputError("now: a timezone-aware time", field="now")
    if ttl <= timedelta(0):
        raise SharingInputError("ttl: positive", field="ttl")
    claims = {
        "iss": sender,
        "aud": recipient,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "jti": b64url_encode(secrets.token_bytes(NONCE_BYTES)),
        "agreement": agreement,
        "kind": kind,
        "body": dict(body),
    }
    try:
        payload = json.dumps(claims, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise SharingInputError(f"body: not JSON ({exc})", field="body") from exc
    if len(payload) > MAX_BYTES // 2:
        raise SharingInputError(f"body: larger than a package may carry ({MAX_BYTES // 2} bytes)", field="body")
    signed = jws.serialize_compact(
        {"alg": SIGNATURE_ALG, "kid": signing_kid, "typ": "JWT"},
        payload,
        signing_key,
        registry=_jws_registry(MAX_BYTES, SIGNATURE_ALG),
    )
    token = jwe.encrypt_compact(
        {"alg": KEY_ALG, "enc": CONTENT_ENC, "kid": recipient_kid, "cty": "JWT"},
        signed,
        recipient_key,
        registry=_jwe_registry(MAX_BYTES),
    )
    return token.encode("ascii")


@dataclass(frozen=True)
class OpenedPackage:
    sender: str
    recipient: str
    agreement: str
    kind: str
    nonce: str
    issued_at: datetime
    expires_at: datetime
    body: dict[str, Any]
    digest: str  # SHA-256 (hex) of the package file as received


def _segments(text: str, count: int, what: str) -> list[bytes]:
    parts = text.split(".")
    if len(parts) != count:
        raise PackageRefused("malformed", f"not a compact {what}: {count} dot-separated parts expected")
    try:
        return [b64url_decode(part) for part in parts]
    except ValueError as exc:
        raise PackageRefused("malformed", f"a part of the {what} is not canonical base64url") from exc


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    try:
        value = loads_strict(data)
    except (ValueError, RecursionError) as exc:
        raise PackageRefused("malformed", f"the {what} is not JSON") from exc
    if not isinstance(value, dict):
        raise PackageRefused("malformed", f"the {what} is not a JSON object")
    return value


def _check_jwe_header(header: Mapping[str, Any], decryption_key: EncryptionKey, expected_kid: str | None) -> None:
    if header.get("alg") != KEY_ALG or header.get("enc") != CONTENT_ENC:
        raise PackageRefused("malformed", f"only alg {KEY_ALG} with enc {CONTENT_ENC} is accepted")
    extra = set(header) - {"alg", "enc", "kid", "cty", "epk", "apu", "apv"}
    if extra:
        raise PackageRefused("malformed", f"unexpected JWE header parameters: {', '.join(sorted(extra))}")
    if header.get("cty") != "JWT":
        raise PackageRefused("malformed", "the JWE does not carry a JWT (cty)")
    kid = header.get("kid")
    if not isinstance(kid, str):
        raise PackageRefused("malformed", "the JWE header names no recipient key (kid)")
    if expected_kid is not None and kid != expected_kid:
        raise PackageRefused("wrong-recipient", "the package is encrypted to another key (kid)")
    epk = header.get("epk")
    if not isinstance(epk, dict) or epk.get("crv") != decryption_key.curve_name:
        raise PackageRefused("wrong-recipient", "the package is encrypted to another kind of key (epk)")


def _time(value: Any, name: str) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PackageRefused("malformed", f"{name} is not a NumericDate")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise PackageRefused("malformed", f"{name} is out of range") from exc


def _string(claims: Mapping[str, Any], name: str, *, limit: int = 256) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise PackageRefused("malformed", f"the signed payload has no {name}")
    if len(value) > limit:  # stored (the nonce against replay) in columns of bounded width
        raise PackageRefused("malformed", f"the signed payload's {name} is longer than {limit} characters")
    return value


def open_package(
    data: bytes,
    *,
    recipient: str,
    decryption_key: EncryptionKey,
    sender_key: SenderKeys,
    now: datetime,
    max_bytes: int = MAX_BYTES,
    decryption_kid: str | None = None,
) -> OpenedPackage:
    """Decrypt, check and unpack a package file; PackageRefused(reason, detail) on any failure.
    `decryption_kid` (default: the key's own kid) is the kid the JWE header must name."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise PackageRefused("malformed", "a package is bytes")
    data = bytes(data)
    if len(data) > max_bytes:
        raise PackageRefused("malformed", f"package larger than {max_bytes} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PackageRefused("malformed", "the package is not UTF-8 text") from exc
    if not _is_agreement_key(decryption_key) or not decryption_key.is_private:
        raise SharingInputError("decryption_key: our private X25519 or P-256 key", field="decryption_key")
    if now.tzinfo is None:
        raise SharingInputError("now: a timezone-aware time", field="now")
    raw = _segments(text, 5, "JWE")
    header = _json_object(raw[0], "JWE header")
    _check_jwe_header(header, decryption_key, decryption_kid or decryption_key.kid)
    try:
        opened = jwe.decrypt_compact(text, decryption_key, registry=_jwe_registry(max_bytes))
    except (JoseError, ValueError) as exc:
        # GCM cannot tell a key that is not ours from a changed byte: both fail here.
        raise PackageRefused("wrong-recipient", "the package does not decrypt with our key") from exc
    plaintext = opened.plaintext or b""
    try:
        signed = plaintext.decode("ascii")
    except UnicodeDecodeError as exc:
        raise PackageRefused("malformed", "the JWE does not carry a compact JWS") from exc
    inner = _segments(signed, 3, "JWS")
    jws_header = _json_object(inner[0], "JWS header")
    claims = _json_object(inner[1], "signed payload")
    alg = jws_header.get("alg")
    if alg not in SIGNING_ALGS:
        raise PackageRefused("malformed", f"signature algorithm {alg!r} not accepted (EdDSA with Ed25519 only)")
    if set(jws_header) - {"alg", "kid", "typ"} or jws_header.get("typ", "JWT") != "JWT":
        raise PackageRefused("malformed", "unexpected JWS header parameters")
    kid = jws_header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise PackageRefused("malformed", "the signature names no key (kid)")
    issuer = _string(claims, "iss")
    key = sender_key(issuer, kid)
    if key is None:
        raise PackageRefused("unknown-sender", "no key registered for the sender and kid of this package")
    if not _is_ed25519(key):
        raise PackageRefused("unknown-sender", "the sender's registered key is not an Ed25519 key")
    try:
        jws.deserialize_compact(signed, key, registry=_jws_registry(max_bytes, alg))
    except JoseError as exc:
        raise PackageRefused("bad-signature", "the sender's signature does not verify") from exc
    audience = _string(claims, "aud")
    if audience != recipient:
        raise PackageRefused("wrong-recipient", "the package is addressed to another administration")
    issued_at = _time(claims.get("iat"), "iat")
    expires_at = _time(claims.get("exp"), "exp")
    if expires_at <= issued_at:
        raise PackageRefused("malformed", "exp is not after iat")
    if expires_at <= now:
        raise PackageRefused("expired", "the package has expired")
    if issued_at > now + SKEW:
        raise PackageRefused("expired", "the package is issued in the future")
    kind = _string(claims, "kind")
    if kind not in KINDS:
        raise PackageRefused("malformed", f"kind {kind!r} is not one of {', '.join(sorted(KINDS))}")
    body = claims.get("body")
    if not isinstance(body, dict):
        raise PackageRefused("malformed", "the signed payload carries no body object")
    return OpenedPackage(
        sender=issuer,
        recipient=audience,
        agreement=_string(claims, "agreement"),
        kind=kind,
        nonce=_string(claims, "jti", limit=128),
        issued_at=issued_at,
        expires_at=expires_at,
        body=body,
        digest=hashlib.sha256(data).hexdigest(),
    )
