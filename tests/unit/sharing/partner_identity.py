"""A real partner identity document, built from fresh keys and a fresh CA (no instance needed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from joserfc.jwk import OKPKey

from clearguard.crypto.tls import issue, make_ca
from clearguard.ledger.cosignature import CosignatureSigner
from clearguard.ledger.note import Ed25519Signer
from clearguard.sharing import identity


@dataclass
class Partner:
    signing: OKPKey
    encryption: OKPKey
    document: str
    fields: dict[str, object]
    client_key_pem: bytes  # the private key of its mTLS client certificate


def partner_identity(name: str = "nl.example", **overrides: object) -> Partner:
    signing, encryption = OKPKey.generate_key("Ed25519"), OKPKey.generate_key("X25519")
    ca, ca_key = make_ca(f"{name} CA")
    client, client_key = issue(ca, ca_key, f"{name} client", client=True)
    fields: dict[str, object] = {
        "name": f"Customs of {name}",
        "country": "NL",
        "signing_key": signing,
        "encryption_key": encryption,
        "ledger_origin": f"{name}/ledger",
        "ledger_vkey": Ed25519Signer(f"{name}/ledger", Ed25519PrivateKey.generate()).vkey(),
        "witness_name": f"{name}/witness",
        "witness_vkey": CosignatureSigner(f"{name}/witness", Ed25519PrivateKey.generate()).vkey(),
        "url": f"https://{name}",
        "client_certificate": client.public_bytes(serialization.Encoding.PEM).decode(),
        "ca_certificate": ca.public_bytes(serialization.Encoding.PEM).decode(),
        "now": datetime.now(UTC),
    }
    fields.update(overrides)
    key_pem = client_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Partner(signing, encryption, identity.build(**fields), fields, key_pem)  # type: ignore[arg-type]
