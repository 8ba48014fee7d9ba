"""The crypto capability's errors: one opaque error per trust decision, one line each, never key bytes."""

from __future__ import annotations

from clearguard.errors import ClearGuardError, ConfigurationError


class CryptoError(ClearGuardError):
    slug = "crypto-error"
    title = "Cryptographic operation failed"
    status = 500
    exit_code = 1


class DecryptionFailed(CryptoError):
    """A ciphertext or wrapped key does not authenticate. Deliberately does not say which of tampering,
    a move to another record or a wrong key it was: those are indistinguishable to AES-GCM anyway."""

    slug = "decryption-failed"
    title = "Ciphertext does not authenticate"


class KeyUnavailable(CryptoError):
    """Key material cannot be reached: missing key file, unknown data key, shredded key used to seal."""

    slug = "key-unavailable"
    title = "Key unavailable"
    status = 503


class HsmUnavailable(KeyUnavailable):
    """The PKCS#11 module, token or login failed."""

    slug = "hsm-unavailable"
    title = "Hardware security module unavailable"


class InsecureKeyFile(ConfigurationError):
    """A key file or the keys directory is readable by group or others: the service refuses to start."""

    slug = "insecure-key-file"
    title = "Key file permissions too open"


class KeyShredded(CryptoError):
    """A party's key was shredded by another transaction while this one was sealing under it: nothing
    was written; retrying uses the party's new key."""

    slug = "key-shredded"
    title = "Party key shredded concurrently"
    status = 409
