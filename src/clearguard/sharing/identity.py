"""The instance's identity document: what a partner administration needs to trust it, signed by the
signing key it contains (`clearguard sharing identity`), and its strict check (`partner add`).

Pure: builds and checks bytes; the keys and certificates are handed in."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID
from joserfc.jwk import OKPKey

from clearguard.ledger.cosignature import cosignature_verifier
from clearguard.ledger.errors import LedgerError
from clearguard.ledger.note import ed25519_verifier
from clearguard.sharing import jose
from clearguard.sharing.errors import SharingInputError

FORMAT: Final = "clearguard/sharing-identity/v1"
TYP: Final = "clearguard-identity+jws"
WHAT: Final = "identity"
_FIELDS: Final = frozenset(
    {
        "format", "name", "country", "signing_key", "encryption_key", "ledger", "witness", "url",
        "client_certificate", "ca_certificate", "issued_at",
    }
)  # fmt: skip
_COUNTRY = re.compile(r"[A-Z]{2}")
_URL = re.compile(r"https://[^\s/?#]+(/[^\s?#]*)?")


@dataclass(frozen=True)
class PartnerIdentity:
    """A partner administration, as its verified identity document describes it."""

    name: str
    country: str
    signing_key: OKPKey
    encryption_key: OKPKey
    ledger_origin: str
    ledger_vkey: str
    witness_name: str
    witness_vkey: str
    url: str
    client_certificate: str  # PEM
    ca_certificate: str  # PEM
    document: str  # the signed document, verbatim

    @property
    def kid(self) -> str:
        return str(self.signing_key.thumbprint())

    @property
    def client_fingerprint(self) -> str:
        return certificate_fingerprint(x509.load_pem_x509_certificate(self.client_certificate.encode()))


def certificate_fingerprint(cert: x509.Certificate) -> str:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def build(
    *,
    name: str,
    country: str,
    signing_key: OKPKey,
    encryption_key: OKPKey,
    ledger_origin: str,
    ledger_vkey: str,
    witness_name: str,
    witness_vkey: str,
    url: str,
    client_certificate: str,
    ca_certificate: str,
    now: datetime,
) -> str:
    payload: dict[str, Any] = {
        "format": FORMAT,
        "name": name,
        "country": country,
        "signing_key": signing_key.as_dict(private=False),
        "encryption_key": encryption_key.as_dict(private=False),
        "ledger": {"origin": ledger_origin, "vkey": ledger_vkey},
        "witness": {"name": witness_name, "vkey": witness_vkey},
        "url": url,
        "client_certificate": client_certificate,
        "ca_certificate": ca_certificate,
        "issued_at": now.astimezone(UTC).isoformat(),
    }
    return jose.sign(payload, signing_key, typ=TYP)


def _text(payload: dict[str, Any], key: str, limit: int = 200) -> str:
    value = payload.get(key)
    if not isinstance(value, str) or not value or len(value) > limit:
        raise SharingInputError(f"{WHAT}: {key} must be a string of 1 to {limit} characters", field=key)
    return value


def _pair(payload: dict[str, Any], key: str, first: str) -> tuple[str, str]:
    value = payload.get(key)
    if not isinstance(value, dict) or set(value) != {first, "vkey"}:
        raise SharingInputError(f"{WHAT}: {key} must hold exactly {first} and vkey", field=key)
    return _text(value, first), _text(value, "vkey", 400)


def _certificates(client_pem: str, ca_pem: str) -> None:
    try:
        client = x509.load_pem_x509_certificate(client_pem.encode())
        ca = x509.load_pem_x509_certificate(ca_pem.encode())
    except ValueError:
        raise SharingInputError(f"{WHAT}: client_certificate and ca_certificate must be PEM certificates") from None
    try:
        client.verify_directly_issued_by(ca)
    except (ValueError, TypeError, Exception) as exc:  # InvalidSignature has no common base
        raise SharingInputError(
            f"{WHAT}: client_certificate is not issued by ca_certificate ({type(exc).__name__})",
            field="client_certificate",
        ) from None
    try:
        usage = client.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
        raise SharingInputError(f"{WHAT}: client_certificate is not for client authentication")


def parse(document: str) -> PartnerIdentity:
    """The identity in `document`, verified against the signing key it contains; SharingInputError
    (one line, exit 2) when it is malformed or not signed by that key."""
    if len(document) > 64_000:
        raise SharingInputError(f"{WHAT}: larger than 64000 characters", field=WHAT)
    _header, claimed = jose.unverified(document, what=WHAT, typ=TYP)
    signing_key = jose.public_key(claimed.get("signing_key"), curve="Ed25519", what="signing_key")
    payload = jose.verify(document, signing_key, what=WHAT, typ=TYP)
    if set(payload) != _FIELDS:
        extra = sorted(set(payload) - _FIELDS) or sorted(_FIELDS - set(payload))
        raise SharingInputError(f"{WHAT}: unexpected or missing field {extra[0]!r}", field=extra[0])
    if payload["format"] != FORMAT:
        raise SharingInputError(f"{WHAT}: format must be {FORMAT}", field="format")
    country = _text(payload, "country", 2)
    if not _COUNTRY.fullmatch(country):
        raise SharingInputError(f"{WHAT}: country must be an ISO 3166 alpha-2 code", field="country")
    url = _text(payload, "url", 500)
    if not _URL.fullmatch(url):
        raise SharingInputError(f"{WHAT}: url must be an https:// URL", field="url")
    origin, ledger_vkey = _pair(payload, "ledger", "origin")
    witness_name, witness_vkey = _pair(payload, "witness", "name")
    try:
        if ed25519_verifier(ledger_vkey).name != origin:
            raise SharingInputError(f"{WHAT}: the ledger key is not named as the origin", field="ledger")
        if cosignature_verifier(witness_vkey).name != witness_name:
            raise SharingInputError(f"{WHAT}: the witness key is not named as the witness", field="witness")
    except LedgerError as exc:
        raise SharingInputError(f"{WHAT}: {exc}", field="ledger") from None
    client_pem, ca_pem = _text(payload, "client_certificate", 20_000), _text(payload, "ca_certificate", 20_000)
    _certificates(client_pem, ca_pem)
    _text(payload, "issued_at", 40)
    return PartnerIdentity(
        name=_text(payload, "name"),
        country=country,
        signing_key=signing_key,
        encryption_key=jose.public_key(payload["encryption_key"], curve="X25519", what="encryption_key"),
        ledger_origin=origin,
        ledger_vkey=ledger_vkey,
        witness_name=witness_name,
        witness_vkey=witness_vkey,
        url=url,
        client_certificate=client_pem,
        ca_certificate=ca_pem,
        document=document.strip(),
    )
