"""Building the crypto capability from Settings: `init_keys` (once, by `clearguard init` or
`clearguard keys init`) and `build_crypto_service` (at every start; refuses unsafe key files)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from clearguard.config import Settings
from clearguard.crypto import envelope
from clearguard.crypto.errors import KeyUnavailable
from clearguard.crypto.keyfiles import check_private, ensure_keys_dir, read_key_file, write_key_file
from clearguard.crypto.providers import AUX_VERSION, FileKeyProvider, KeyProvider, Pkcs11KeyProvider
from clearguard.crypto.secret_box import SecretBox
from clearguard.crypto.service import CryptoService
from clearguard.crypto.shares import ShareStore, default_url
from clearguard.errors import ConfigurationError

INDEX_SECRET: Final = "blind-index"  # noqa: S105 - a file name, not a secret
BACKUP_SECRET: Final = "backup"  # noqa: S105 - a file name, not a secret
MFA_SECRET: Final = "mfa-secrets"  # noqa: S105 - a file name, not a secret
_SECRETS: Final = (INDEX_SECRET, BACKUP_SECRET, MFA_SECRET)


def make_provider(settings: Settings) -> KeyProvider:
    if settings.crypto_provider == "file":
        return FileKeyProvider(settings.keys_dir)
    if settings.crypto_pkcs11_pin is None:
        raise ConfigurationError(
            "crypto_pkcs11_pin: the PKCS#11 user PIN is required (set CLEARGUARD_CRYPTO_PKCS11_PIN)",
            field="crypto_pkcs11_pin",
        )
    return Pkcs11KeyProvider(
        settings.crypto_pkcs11_module,
        settings.crypto_pkcs11_token,
        settings.crypto_pkcs11_pin.get_secret_value(),
        label_prefix=settings.crypto_pkcs11_label,
    )


def share_store_url(settings: Settings) -> str:
    return settings.crypto_share_store_url or default_url(settings.keys_dir)


def _secret_path(keys_dir: Path, name: str) -> Path:
    return keys_dir / f"{name}.wrapped"


def load_secret(provider: KeyProvider, keys_dir: Path, name: str) -> bytes:
    """A service secret, stored under var/keys wrapped by the provider's auxiliary KEK."""
    wrapped = read_key_file(_secret_path(keys_dir, name))
    return provider.unwrap(AUX_VERSION, wrapped, envelope.secret_aad(name))


def init_keys(settings: Settings) -> list[str]:
    """Create whatever key material is missing (idempotent); returns one line per item created."""
    created: list[str] = []
    keys_dir = settings.keys_dir
    ensure_keys_dir(keys_dir)
    provider = make_provider(settings)
    try:
        for version, what in ((AUX_VERSION, "auxiliary key-encryption key"), (1, "key-encryption key v1")):
            if provider.create_kek(version):
                created.append(f"{what} ({provider.name})")
        for name in _SECRETS:
            path = _secret_path(keys_dir, name)
            if not path.exists():
                wrapped = provider.wrap(AUX_VERSION, envelope.new_key(), envelope.secret_aad(name))
                if write_key_file(path, wrapped):
                    created.append(f"{name} key ({path})")
        store = ShareStore(share_store_url(settings), create=True)
        try:
            if store.created:
                created.append("party share store")
        finally:
            store.close()
    finally:
        provider.close()
    return created


def check_keys_dir(keys_dir: Path) -> None:
    """InsecureKeyFile if the directory or any key file in it is open to group or others."""
    if not keys_dir.exists():
        raise KeyUnavailable(f"keys directory {keys_dir} is missing: run `clearguard keys init`")
    check_private(keys_dir)
    # Only this capability's files: other capabilities keep theirs here too (public keys among them).
    for pattern in ("kek-*.key", "*.wrapped", "shares.db*"):
        for path in keys_dir.glob(pattern):
            check_private(path)


def build_crypto_service(settings: Settings) -> CryptoService:
    """The process's CryptoService. Raises InsecureKeyFile, KeyUnavailable or HsmUnavailable with a
    one-line cause when the keys are not usable, so the server refuses to start."""
    check_keys_dir(settings.keys_dir)
    provider = make_provider(settings)
    try:
        index_key = load_secret(provider, settings.keys_dir, INDEX_SECRET)
        if not provider.has_kek(1):
            raise KeyUnavailable("key-encryption key v1 is missing from the provider: run `clearguard keys init`")
        shares = ShareStore(share_store_url(settings))
    except BaseException:
        provider.close()
        raise
    return CryptoService(
        provider,
        shares,
        index_key,
        cache_size=settings.crypto_key_cache_size,
        cache_seconds=settings.crypto_key_cache_seconds,
        rotate_batch=settings.crypto_rotate_batch,
    )


def load_backup_key(settings: Settings) -> bytes:
    check_keys_dir(settings.keys_dir)
    provider = make_provider(settings)
    try:
        return load_secret(provider, settings.keys_dir, BACKUP_SECRET)
    finally:
        provider.close()


def build_secret_box(settings: Settings) -> SecretBox:
    """The SecretBox that seals TOTP seeds (identity), under the MFA key from var/keys."""
    check_keys_dir(settings.keys_dir)
    provider = make_provider(settings)
    try:
        return SecretBox(load_secret(provider, settings.keys_dir, MFA_SECRET))
    finally:
        provider.close()
