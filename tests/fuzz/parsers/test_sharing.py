"""Sharing: package files (JWS in JWE), SD-JWTs and their disclosures, and partner identity
documents, fuzzed as bytes and as structures: PackageRefused, SdJwtError or SharingInputError (all
SharingError), never another exception, and nothing altered ever opens or verifies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from joserfc.jwk import OKPKey

from clearguard.sharing import envelope, identity, jose, sdjwt
from clearguard.sharing.envelope import open_package, public_jwk, seal
from clearguard.sharing.errors import SharingError
from clearguard.sharing.jose_util import b64url_encode
from tests.fuzz.odd import FUZZ, json_values, odd_bytes, odd_text, refused_or_read, restructured
from tests.unit.sharing.partner_identity import partner_identity

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
SENDER = envelope.new_signing_key()
SENDER_PUBLIC = OKPKey.import_key(public_jwk(SENDER))
OURS = envelope.new_encryption_key()
BODY = {"sd_jwt": "eyJ...~", "fields": ["items.commodity_code"], "note": "ünïcode"}
PACKAGE = seal(
    BODY,
    kind="declaration",
    agreement="agr-1",
    sender="GB-HMRC",
    recipient="NL-DOUANE",
    signing_key=SENDER,
    signing_kid=SENDER.kid,
    recipient_key=OKPKey.import_key(public_jwk(OURS)),
    recipient_kid=OURS.kid,
    now=NOW,
)
CLAIMS = {"iss": "GB-HMRC", "iat": 1796990000, "type": "H1", "items": [{"hs": "847130", "value": 12.5}]}
ISSUER = OKPKey.generate_key("Ed25519")
ISSUED = sdjwt.issue(CLAIMS, key=ISSUER, decoys=1)
SD_JWT = ISSUED.serialise()
PARTNER = partner_identity()


def _open(raw: bytes) -> envelope.OpenedPackage:
    def sender_key(iss: str, kid: str) -> OKPKey | None:
        return SENDER_PUBLIC if (iss, kid) == ("GB-HMRC", SENDER.kid) else None

    return open_package(raw, recipient="NL-DOUANE", decryption_key=OURS, sender_key=sender_key, now=NOW)


def test_the_samples_open() -> None:
    assert _open(PACKAGE).body == BODY
    sdjwt.verify(SD_JWT, key=ISSUER, now=NOW)
    identity.parse(PARTNER.document)


@FUZZ
@given(raw=odd_bytes([PACKAGE]))
def test_package_files(raw: bytes) -> None:
    opened = refused_or_read(lambda: _open(raw), SharingError)
    if opened is not None:
        assert raw == PACKAGE


@FUZZ
@given(text=odd_text([SD_JWT.encode()]))
def test_sd_jwts(text: str) -> None:
    verified = refused_or_read(lambda: sdjwt.verify(text, key=ISSUER, now=NOW), SharingError)
    if verified is not None:  # a presentation of the same SD-JWT (disclosures dropped): a subset
        assert set(verified.claims) <= set(CLAIMS) | {"_sd", "iat", "iss"}


@FUZZ
@given(value=json_values(), raw=st.binary(max_size=60))
def test_disclosures(value: Any, raw: bytes) -> None:
    for encoded in (b64url_encode(json.dumps(value).encode()), b64url_encode(raw), raw.decode("latin-1")):
        refused_or_read(lambda: sdjwt.Disclosure.parse(encoded), SharingError)


@FUZZ
@given(payload=restructured([json.loads(json.dumps(CLAIMS))]))
def test_sd_jwt_payloads_signed_by_the_issuer(payload: Any) -> None:
    """A payload the issuer really signed, but odd: the processor refuses or reads it, never crashes."""
    if not isinstance(payload, dict):
        return
    try:
        token = jose.sign(payload, ISSUER, typ=sdjwt.TYP) + "~"
    except (ValueError, TypeError):
        return  # not serialisable as JSON (NaN): the issuer itself would not sign it
    refused_or_read(lambda: sdjwt.verify(token, key=ISSUER, now=NOW), SharingError)


@FUZZ
@given(text=odd_text([PARTNER.document.encode()]))
def test_partner_identity_documents(text: str) -> None:
    parsed = refused_or_read(lambda: identity.parse(text), SharingError)
    if parsed is not None:
        assert parsed.kid == PARTNER.signing.thumbprint()
