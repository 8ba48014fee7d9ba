"""Crypto: envelope encryption, key providers (file, PKCS#11), rotation, crypto-shredding, blind
indexes, TLS material. Build the service with `build_crypto_service(settings)`."""

from clearguard.crypto.errors import (
    CryptoError,
    DecryptionFailed,
    HsmUnavailable,
    InsecureKeyFile,
    KeyUnavailable,
)
from clearguard.crypto.fields import ERASED, ERASED_TEXT, Erased, FieldRef, field_aad
from clearguard.crypto.service import CryptoService, KeyStatus, RotationResult, ShareStoreHealth
from clearguard.crypto.setup import build_crypto_service, init_keys, load_backup_key

__all__ = [
    "ERASED",
    "ERASED_TEXT",
    "CryptoError",
    "CryptoService",
    "DecryptionFailed",
    "Erased",
    "FieldRef",
    "HsmUnavailable",
    "InsecureKeyFile",
    "KeyStatus",
    "KeyUnavailable",
    "RotationResult",
    "ShareStoreHealth",
    "build_crypto_service",
    "field_aad",
    "init_keys",
    "load_backup_key",
]
