"""Package envelope: JWS (Ed25519) in JWE (ECDH-ES+A256KW, A256GCM). Round trips, and every way a
package can be wrong refused with its reason: a changed byte anywhere, another recipient, an unknown
sender, a forged signature, an expired or future package, an algorithm not on the list."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from joserfc import jwe, jws
from joserfc.jwk import ECKey, OctKey, OKPKey

from clearguard.sharing import envelope
from clearguard.sharing.envelope import open_package, public_jwk, seal
from clearguard.sharing.errors import PackageRefused, SharingInputError
from clearguard.sharing.jose_util import b64url_decode, b64url_encode

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SENDER_KEY = envelope.new_signing_key()
SENDER_PUBLIC = OKPKey.import_key(public_jwk(SENDER_KEY))
OUR_KEY = envelope.new_encryption_key()
OUR_PUBLIC = OKPKey.import_key(public_jwk(OUR_KEY))
BODY = {"sd_jwt": "eyJ...~", "fields": ["items.commodity_code"], "note": "ünïcode"}


def registry(iss: str, kid: str) -> OKPKey | None:
    return SENDER_PUBLIC if (iss, kid) == ("GB-HMRC", SENDER_KEY.kid) else None


def _seal(**changes: Any) -> bytes:
    arguments: dict[str, Any] = {
        "kind": "declaration",
        "agreement": "agr-1",
        "sender": "GB-HMRC",
        "recipient": "NL-DOUANE",
        "signing_key": SENDER_KEY,
        "signing_kid": SENDER_KEY.kid,
        "recipient_key": OUR_PUBLIC,
        "recipient_kid": OUR_KEY.kid,
        "now": NOW,
    }
    arguments.update(changes)
    return seal(BODY, **arguments)


def _open(data: bytes, **changes: Any) -> envelope.OpenedPackage:
    arguments: dict[str, Any] = {
        "recipient": "NL-DOUANE",
        "decryption_key": OUR_KEY,
        "sender_key": registry,
        "now": NOW,
    }
    arguments.update(changes)
    return open_package(data, **arguments)


def _refused(reason: str, data: bytes, **changes: Any) -> PackageRefused:
    with pytest.raises(PackageRefused) as caught:
        _open(data, **changes)
    assert caught.value.reason == reason, caught.value.detail
    assert caught.value.to_problem()["reason"] == reason
    return caught.value


PACKAGE = _seal()


def test_a_sealed_package_opens_to_what_was_sealed() -> None:
    opened = _open(PACKAGE)
    assert (opened.sender, opened.recipient, opened.agreement, opened.kind) == (
        "GB-HMRC",
        "NL-DOUANE",
        "agr-1",
        "declaration",
    )
    assert opened.body == BODY
    assert opened.issued_at == NOW and opened.expires_at == NOW + timedelta(hours=24)
    assert len(opened.nonce) == 22  # 128 bits, base64url
    assert opened.digest == hashlib.sha256(PACKAGE).hexdigest()
    assert PACKAGE.isascii() and PACKAGE.count(b".") == 4


def test_headers_are_the_agreed_ones_and_the_body_is_not_in_clear() -> None:
    header = json.loads(b64url_decode(PACKAGE.split(b".")[0].decode()))
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A256GCM"
    assert header["kid"] == OUR_KEY.kid and header["cty"] == "JWT"
    assert b"agr-1" not in PACKAGE and b"GB-HMRC" not in PACKAGE


def test_a_p256_recipient_key_works_too() -> None:
    ours = envelope.new_encryption_key("P-256")
    data = _seal(recipient_key=ECKey.import_key(public_jwk(ours)), recipient_kid=ours.kid)
    assert _open(data, decryption_key=ours).body == BODY
    _refused("wrong-recipient", data)  # our X25519 key is not the one it was sealed to


def test_two_seals_differ() -> None:
    assert _seal() != _seal()
    assert _open(_seal()).nonce != _open(_seal()).nonce


@pytest.mark.asvs("V11.3.3")
def test_every_changed_byte_is_refused() -> None:
    for position in range(len(PACKAGE)):
        for mask in (0x01, 0x80):
            changed = bytearray(PACKAGE)
            changed[position] ^= mask
            with pytest.raises(PackageRefused):
                _open(bytes(changed))


@settings(max_examples=200, deadline=None)
@given(position=st.integers(min_value=0), byte=st.integers(0, 255))
def test_any_byte_anywhere_is_refused(position: int, byte: int) -> None:
    position %= len(PACKAGE)
    if PACKAGE[position] == byte:
        return
    changed = bytearray(PACKAGE)
    changed[position] = byte
    with pytest.raises(PackageRefused):
        _open(bytes(changed))


def test_truncated_extended_or_oversized_packages_are_malformed() -> None:
    for data in (PACKAGE[:-1], PACKAGE + b"A", PACKAGE + b"\n", b"", b"\xff\xfe", PACKAGE.replace(b".", b"..", 1)):
        with pytest.raises(PackageRefused):
            _open(data)
    _refused("malformed", PACKAGE, max_bytes=len(PACKAGE) - 1)
    _refused("malformed", b"\xc3\x28" + PACKAGE)
    signed_only = jws.serialize_compact({"alg": "Ed25519"}, b"{}", SENDER_KEY, algorithms=["Ed25519"])
    _refused("malformed", signed_only.encode())


def _jwe(header: dict[str, Any], plaintext: bytes, key: Any = OUR_PUBLIC) -> bytes:
    return jwe.encrypt_compact(header, plaintext, key, algorithms=[header["alg"], header["enc"]]).encode()


def _claims(**changes: Any) -> dict[str, Any]:
    claims: dict[str, Any] = {
        "iss": "GB-HMRC",
        "aud": "NL-DOUANE",
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 3600,
        "jti": "n1",
        "agreement": "agr-1",
        "kind": "declaration",
        "body": {},
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], key: Any = SENDER_KEY, alg: str = "Ed25519", kid: str | None = None) -> bytes:
    header = {"alg": alg, "kid": kid or SENDER_KEY.kid}
    return jws.serialize_compact(header, json.dumps(claims).encode(), key, algorithms=[alg]).encode()


STANDARD = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "JWT"}


@pytest.mark.asvs("V9.1.2")
def test_algorithms_not_on_the_list_are_malformed() -> None:
    inner = _signed(_claims())
    kid = {"kid": OUR_KEY.kid}
    assert _open(_jwe({**STANDARD, **kid}, inner)).kind == "declaration"  # the hand-built control passes
    _refused("malformed", _jwe({**STANDARD, **kid, "alg": "ECDH-ES"}, inner))
    _refused("malformed", _jwe({**STANDARD, **kid, "enc": "A128GCM"}, inner))
    _refused("malformed", _jwe({**STANDARD, **kid, "alg": "A256KW"}, inner, key=OctKey.generate_key(256)))
    _refused("malformed", _jwe({**STANDARD, **kid, "cty": "json"}, inner))
    unsigned = b64url_encode(b'{"alg":"none","kid":"x"}') + "." + b64url_encode(json.dumps(_claims()).encode()) + "."
    _refused("malformed", _jwe({**STANDARD, **kid}, unsigned.encode()))
    hmac_key = OctKey.generate_key(256)
    _refused("malformed", _jwe({**STANDARD, **kid}, _signed(_claims(), key=hmac_key, alg="HS256")))
    # Forged header claiming alg none over a real ciphertext: the JWE header is authenticated data.
    header = b64url_encode(json.dumps({"alg": "none", "enc": "A256GCM"}).encode()).encode()
    _refused("malformed", header + PACKAGE[PACKAGE.index(b".") :])


@pytest.mark.asvs("V9.2.3")
def test_another_recipient_is_refused() -> None:
    _refused("wrong-recipient", PACKAGE, recipient="DE-ZOLL")
    other = envelope.new_encryption_key()
    _refused("wrong-recipient", PACKAGE, decryption_key=other)  # kid is not ours
    _refused("wrong-recipient", PACKAGE, decryption_key=other, decryption_kid=OUR_KEY.kid)  # does not decrypt
    _refused("wrong-recipient", _jwe({**STANDARD, "kid": OUR_KEY.kid}, _signed(_claims(aud="DE-ZOLL"))))


@pytest.mark.asvs("V9.1.1", "V9.1.3")
def test_unknown_sender_and_bad_signatures_are_refused() -> None:
    _refused("unknown-sender", PACKAGE, sender_key=lambda iss, kid: None)
    _refused("unknown-sender", _jwe({**STANDARD, "kid": OUR_KEY.kid}, _signed(_claims(iss="FR-DGDDI"))))
    impostor = envelope.new_signing_key()
    forged = _jwe({**STANDARD, "kid": OUR_KEY.kid}, _signed(_claims(), key=impostor))
    _refused("bad-signature", forged)
    _refused("unknown-sender", PACKAGE, sender_key=lambda iss, kid: OKPKey.import_key(public_jwk(OUR_KEY)))


@pytest.mark.asvs("V9.2.1")
def test_expired_and_future_packages_are_refused() -> None:
    _refused("expired", PACKAGE, now=NOW + timedelta(hours=24))
    assert _open(PACKAGE, now=NOW + timedelta(hours=24) - timedelta(seconds=1)).kind == "declaration"
    _refused("expired", PACKAGE, now=NOW - timedelta(minutes=5, seconds=1))
    assert _open(PACKAGE, now=NOW - timedelta(minutes=5)).kind == "declaration"


@pytest.mark.parametrize(
    "claims",
    [
        _claims(kind="gossip"),
        _claims(body=None),
        _claims(body=[1]),
        _claims(iat="yesterday"),
        _claims(exp=int(NOW.timestamp()) - 10),
        _claims(agreement=None),
        _claims(jti=""),
        _claims(iat=10**20),
    ],
)
def test_payloads_missing_or_wrong_members_are_malformed(claims: dict[str, Any]) -> None:
    _refused("malformed", _jwe({**STANDARD, "kid": OUR_KEY.kid}, _signed(claims)))


def test_seal_refuses_bad_arguments_with_input_errors() -> None:
    cases: list[dict[str, Any]] = [
        {"kind": "gossip"},
        {"agreement": ""},
        {"signing_key": OKPKey.import_key(public_jwk(SENDER_KEY))},
        {"signing_key": ECKey.generate_key("P-256")},
        {"recipient_key": envelope.new_signing_key()},
        {"now": datetime(2026, 12, 6)},
        {"ttl": timedelta(0)},
    ]
    for changes in cases:
        with pytest.raises(SharingInputError) as caught:
            _seal(**changes)
        assert caught.value.exit_code == 2
    with pytest.raises(SharingInputError, match="body"):
        seal({"when": NOW}, **_seal_arguments())
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(SharingInputError, match="body"):
        seal({"deep": deep}, **_seal_arguments())


def _seal_arguments() -> dict[str, Any]:
    return {
        "kind": "statistics",
        "agreement": "agr-1",
        "sender": "GB-HMRC",
        "recipient": "NL-DOUANE",
        "signing_key": SENDER_KEY,
        "signing_kid": SENDER_KEY.kid,
        "recipient_key": OUR_PUBLIC,
        "recipient_kid": OUR_KEY.kid,
        "now": NOW,
    }


def test_a_large_body_beyond_joserfc_defaults_still_seals_and_opens() -> None:
    big = {"rows": ["x" * 100] * 2000}  # ~200 kB: above joserfc's 64 kB ciphertext default
    data = seal(big, **_seal_arguments())
    assert _open(data).body == big
    _refused("malformed", data, max_bytes=64 * 1024)


def test_public_jwk_has_no_private_part() -> None:
    for key in (SENDER_KEY, OUR_KEY, envelope.new_encryption_key("P-256")):
        exported = public_jwk(key)
        assert "d" not in exported and exported["kid"] == key.kid


def test_non_canonical_base64url_is_refused() -> None:
    assert b64url_decode("QQ") == b"A"
    for text in ("QR", "QQ==", "Q", "Q+", "Q/", "Q Q"):
        with pytest.raises(ValueError):
            b64url_decode(text)
