"""The instance's sharing keys, under var/keys like every other key (files 0600, never printed):

- `sharing-signing.jwk`: Ed25519, signs the identity document, agreements, SD-JWTs and packages;
- `sharing-encryption.jwk`: X25519, what partners encrypt packages to;
- `sharing-pseudonym.wrapped`: the secret per-partner pseudonym keys are derived from, wrapped by the
  key provider's auxiliary key-encryption key like the blind-index key;
- `tls/sharing-client.pem`, `tls/sharing-client-key.pem`: the mTLS client identity, issued by the
  instance's own CA, that this instance presents to its partners' inboxes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import OKPKey

from clearguard.config import Settings
from clearguard.crypto import envelope
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.keyfiles import ensure_keys_dir, read_key_file, write_key_file
from clearguard.crypto.providers import AUX_VERSION
from clearguard.crypto.setup import load_secret, make_provider
from clearguard.crypto.tls import TlsFiles, issue_client_files

SIGNING_FILE: Final = "sharing-signing.jwk"
ENCRYPTION_FILE: Final = "sharing-encryption.jwk"
PSEUDONYM_SECRET: Final = "sharing-pseudonym"  # noqa: S105 - a file name, not a secret
CLIENT_NAME: Final = "sharing-client"
SIGNING_ALG: Final = "Ed25519"  # RFC 9864 (fully-specified; "EdDSA" is deprecated)


@dataclass(frozen=True)
class SharingKeys:
    signing: OKPKey
    encryption: OKPKey
    pseudonym_secret: bytes
    client_cert: Path
    client_key: Path
    ca_cert: Path

    @property
    def kid(self) -> str:
        """The signing key's RFC 7638 thumbprint: how partners name this instance's key."""
        return str(self.signing.thumbprint())

    @property
    def encryption_kid(self) -> str:
        return str(self.encryption.thumbprint())

    def pseudonym_key(self, partner_kid: str) -> bytes:
        """The pseudonym key for one partner (named by its signing key's thumbprint): distinct per
        partner, so two partners cannot link their records to each other."""
        return HKDF(
            algorithm=hashes.SHA256(), length=32, salt=b"clearguard/sharing/pseudonym/v1", info=partner_kid.encode()
        ).derive(self.pseudonym_secret)


def _client_files(keys_dir: Path) -> tuple[Path, Path]:
    tls = TlsFiles.under(keys_dir).ca_cert.parent
    return tls / f"{CLIENT_NAME}.pem", tls / f"{CLIENT_NAME}-key.pem"


def init_sharing_keys(settings: Settings) -> list[str]:
    """Create the sharing keys that are missing (idempotent); one line per item created. Needs the
    key provider and the TLS CA (`init_keys` and `init_tls` first)."""
    keys_dir = settings.keys_dir
    ensure_keys_dir(keys_dir)
    created: list[str] = []
    curves: tuple[tuple[str, Literal["Ed25519", "X25519"]], ...] = (
        (SIGNING_FILE, "Ed25519"),
        (ENCRYPTION_FILE, "X25519"),
    )
    for name, curve in curves:
        path = keys_dir / name
        if not path.exists():
            new = OKPKey.generate_key(curve)
            if write_key_file(path, json.dumps(new.as_dict(private=True)).encode()):
                created.append(f"sharing {curve} key ({path})")
    secret_path = keys_dir / f"{PSEUDONYM_SECRET}.wrapped"
    if not secret_path.exists():
        provider = make_provider(settings)
        try:
            wrapped = provider.wrap(AUX_VERSION, envelope.new_key(), envelope.secret_aad(PSEUDONYM_SECRET))
        finally:
            provider.close()
        if write_key_file(secret_path, wrapped):
            created.append(f"sharing pseudonym key ({secret_path})")
    cert, key = _client_files(keys_dir)
    if not key.exists():
        issue_client_files(keys_dir, CLIENT_NAME, cert.parent)
        created.append(f"sharing mTLS client certificate ({cert})")
    return created


def _load_okp(path: Path, curve: str) -> OKPKey:
    try:
        data = json.loads(read_key_file(path))
        key = OKPKey.import_key(data)
    except KeyUnavailable:
        raise KeyUnavailable(f"sharing key {path} is missing: run `clearguard init`") from None
    except (ValueError, TypeError) as exc:
        raise KeyUnavailable(f"sharing key {path} is corrupt ({type(exc).__name__})") from None
    if not key.is_private or key.as_dict(private=False).get("crv") != curve:
        raise KeyUnavailable(f"sharing key {path} is not a private {curve} key")
    return key


def load_sharing_keys(settings: Settings) -> SharingKeys:
    keys_dir = settings.keys_dir
    provider = make_provider(settings)
    try:
        secret = load_secret(provider, keys_dir, PSEUDONYM_SECRET)
    finally:
        provider.close()
    cert, key = _client_files(keys_dir)
    if not cert.is_file() or not key.is_file():
        raise KeyUnavailable(f"sharing client certificate {cert} is missing: run `clearguard init`")
    read_key_file(key)  # refuses a key file open to group or others
    return SharingKeys(
        signing=_load_okp(keys_dir / SIGNING_FILE, "Ed25519"),
        encryption=_load_okp(keys_dir / ENCRYPTION_FILE, "X25519"),
        pseudonym_secret=secret,
        client_cert=cert,
        client_key=key,
        ca_cert=TlsFiles.under(keys_dir).ca_cert,
    )
