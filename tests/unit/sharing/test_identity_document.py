"""The identity document: verified against the signing key it contains; anything else refused."""

from __future__ import annotations

import base64
import json

import pytest
from joserfc.jwk import OKPKey

from clearguard.crypto.tls import issue, make_ca
from clearguard.sharing import identity, jose
from clearguard.sharing.errors import SharingInputError
from tests.unit.sharing.partner_identity import partner_identity


def _payload(document: str) -> dict[str, object]:
    part = document.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))))


def test_round_trip() -> None:
    partner = partner_identity()
    parsed = identity.parse(partner.document)
    assert parsed.kid == partner.signing.thumbprint()
    assert parsed.country == "NL" and parsed.url == "https://nl.example"
    assert not parsed.signing_key.is_private and not parsed.encryption_key.is_private
    assert "d" not in dict(_payload(partner.document)["signing_key"])  # type: ignore[call-overload]  # no private member


def test_changed_payload_is_refused() -> None:
    document = partner_identity().document
    header, _payload_part, signature = document.split(".")
    changed = _payload(document) | {"url": "https://evil.example"}
    body = base64.urlsafe_b64encode(json.dumps(changed).encode()).decode().rstrip("=")
    with pytest.raises(SharingInputError, match="signature does not verify"):
        identity.parse(f"{header}.{body}.{signature}")


def test_signed_by_another_key_than_the_one_it_contains() -> None:
    partner = partner_identity()
    payload = _payload(partner.document)
    other = OKPKey.generate_key("Ed25519")
    resigned = jose.sign(payload, other, typ=identity.TYP)  # kid is the other key's; payload names the first
    with pytest.raises(SharingInputError, match="signed by key"):
        identity.parse(resigned)


@pytest.mark.parametrize(
    "text",
    ["", "not a jws", "a.b.c", "\x00\xff", "eyJhbGciOiJub25lIn0.e30.", "x" * 70_000],
)
def test_malformed(text: str) -> None:
    with pytest.raises(SharingInputError):
        identity.parse(text)


def test_extra_field_refused() -> None:
    partner = partner_identity()
    payload = _payload(partner.document) | {"admin_password": "x"}
    with pytest.raises(SharingInputError, match="admin_password"):
        identity.parse(jose.sign(payload, partner.signing, typ=identity.TYP))


def test_private_key_in_the_document_refused() -> None:
    partner = partner_identity()
    payload = _payload(partner.document) | {"encryption_key": partner.encryption.as_dict(private=True)}
    with pytest.raises(SharingInputError, match="encryption_key"):
        identity.parse(jose.sign(payload, partner.signing, typ=identity.TYP))


def test_client_certificate_from_another_ca_refused() -> None:
    ca, ca_key = make_ca("elsewhere")
    from cryptography.hazmat.primitives import serialization

    stranger, _ = issue(ca, ca_key, "stranger", client=True)
    pem = stranger.public_bytes(serialization.Encoding.PEM).decode()
    with pytest.raises(SharingInputError, match="not issued by"):
        identity.parse(partner_identity(client_certificate=pem).document)


def test_ledger_key_not_named_as_origin_refused() -> None:
    with pytest.raises(SharingInputError, match="ledger"):
        identity.parse(partner_identity(ledger_origin="other.example/ledger").document)
