"""Key providers: where key-encryption keys (KEKs) live and where wrapping happens.

Version 0 is the auxiliary KEK: it is never rotated and only wraps the service's own secrets (the
blind index key, the backup key) kept as files under var/keys. Versions 1.. wrap data keys and are
rotated by `keys rotate`.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clearguard.crypto import envelope
from clearguard.crypto.errors import DecryptionFailed, HsmUnavailable, KeyUnavailable
from clearguard.crypto.keyfiles import check_private, ensure_keys_dir, read_key_file, write_key_file

AUX_VERSION = 0

# (module, token label) -> (SHA-256 of the PIN that logged in, open sessions); see Pkcs11KeyProvider._open.
_LOGINS: dict[tuple[str, str], tuple[bytes, int]] = {}
_LOGINS_LOCK = threading.Lock()


class KeyProvider(Protocol):
    name: str

    def create_kek(self, version: int) -> bool:
        """Make KEK `version` if it does not exist yet; True when it was created now."""
        ...

    def has_kek(self, version: int) -> bool: ...

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        """The key, or DecryptionFailed; KeyUnavailable if the KEK itself cannot be reached."""
        ...

    def close(self) -> None: ...


def _kek_name(version: int) -> str:
    return "kek-aux" if version == AUX_VERSION else f"kek-v{version:04d}"


class FileKeyProvider:
    """KEKs as 32-byte files `var/keys/kek-vNNNN.key`, mode 0600."""

    name = "file"

    def __init__(self, keys_dir: Path) -> None:
        self._dir = keys_dir
        self._keks: dict[int, AESGCM] = {}
        self._lock = threading.Lock()

    def path(self, version: int) -> Path:
        return self._dir / f"{_kek_name(version)}.key"

    def create_kek(self, version: int) -> bool:
        ensure_keys_dir(self._dir)
        return write_key_file(self.path(version), envelope.new_key())

    def has_kek(self, version: int) -> bool:
        return self.path(version).is_file()

    def _kek(self, version: int) -> AESGCM:
        with self._lock:
            kek = self._keks.get(version)
            if kek is None:
                if self._dir.exists():
                    check_private(self._dir)
                kek = AESGCM(read_key_file(self.path(version), size=envelope.KEY_BYTES))
                self._keks[version] = kek
            return kek

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        return envelope.gcm_wrap(self._kek(version), key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        return envelope.gcm_unwrap(self._kek(version), wrapped, aad)

    def close(self) -> None:
        with self._lock:
            self._keks.clear()


class Pkcs11KeyProvider:
    """KEKs generated on a PKCS#11 token as non-extractable, sensitive AES-256 keys. Wrapping is
    CKM_AES_GCM encryption of the data key inside the token, so the KEK never leaves it."""

    name = "pkcs11"

    def __init__(self, module: str, token_label: str, pin: str, *, label_prefix: str = "clearguard") -> None:
        import pkcs11
        from pkcs11 import exceptions as p11e

        self._pkcs11: Any = pkcs11
        self._prefix = label_prefix
        self._keys: dict[int, Any] = {}
        # One session shared by threads: PKCS#11 sessions are not safe for concurrent operations.
        self._lock = threading.Lock()
        if not os.path.exists(module):
            raise HsmUnavailable(f"PKCS#11 module {module} does not exist", field="crypto_pkcs11_module")
        try:
            lib = pkcs11.lib(module)
            token = lib.get_token(token_label=token_label)
        except p11e.NoSuchToken:
            raise HsmUnavailable(
                f"PKCS#11 token {token_label!r} not found in {module}", field="crypto_pkcs11_token"
            ) from None
        except p11e.PKCS11Error as exc:
            raise HsmUnavailable(f"PKCS#11 module {module} cannot be used: {exc}") from None
        self._login_key = (module, token_label)
        self._closed = False
        try:
            self._session: Any = self._open(token, pin)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange):
            raise HsmUnavailable(
                f"PKCS#11 login to token {token_label!r} failed: wrong PIN", field="crypto_pkcs11_pin"
            ) from None
        except p11e.PinLocked:
            raise HsmUnavailable(f"PKCS#11 token {token_label!r}: PIN locked", field="crypto_pkcs11_pin") from None
        except p11e.PKCS11Error as exc:
            raise HsmUnavailable(f"PKCS#11 token {token_label!r} cannot be opened: {exc!r}") from None

    def _open(self, token: Any, pin: str) -> Any:
        """A logged-in R/W session. PKCS#11 login is per process, not per session: a second provider
        in the same process finds the token already logged in, and the token cannot check its PIN again,
        so the PIN that logged in is remembered (as a digest) and a different one is refused here."""
        from pkcs11 import exceptions as p11e

        digest = hashlib.sha256(pin.encode()).digest()
        with _LOGINS_LOCK:
            try:
                session = token.open(user_pin=pin, rw=True)
            except p11e.UserAlreadyLoggedIn:
                known = _LOGINS.get(self._login_key)
                if known is None or not hmac.compare_digest(known[0], digest):
                    raise p11e.PinIncorrect() from None
                session = token.open(rw=True)
            count = _LOGINS.get(self._login_key, (digest, 0))[1]
            _LOGINS[self._login_key] = (digest, count + 1)
            return session

    def label(self, version: int) -> str:
        return f"{self._prefix}-{_kek_name(version)}"

    def _find(self, version: int) -> Any | None:
        from pkcs11 import ObjectClass
        from pkcs11 import exceptions as p11e

        try:
            return self._session.get_key(object_class=ObjectClass.SECRET_KEY, label=self.label(version))
        except p11e.NoSuchKey:
            return None
        except p11e.MultipleObjectsReturned:
            raise KeyUnavailable(f"PKCS#11 token holds several keys labelled {self.label(version)!r}") from None

    def _key(self, version: int) -> Any:
        with self._lock:
            key = self._keys.get(version)
            if key is None:
                key = self._find(version)
                if key is None:
                    raise KeyUnavailable(
                        f"key-encryption key {self.label(version)!r} is not on the PKCS#11 token: "
                        "run `clearguard keys init`"
                    )
                self._keys[version] = key
            return key

    def create_kek(self, version: int) -> bool:
        from pkcs11 import Attribute, KeyType

        with self._lock:
            if self._find(version) is not None:
                return False
            self._keys[version] = self._session.generate_key(
                KeyType.AES,
                256,
                label=self.label(version),
                store=True,
                template={
                    Attribute.TOKEN: True,
                    Attribute.PRIVATE: True,
                    Attribute.SENSITIVE: True,
                    Attribute.EXTRACTABLE: False,
                    Attribute.ENCRYPT: True,
                    Attribute.DECRYPT: True,
                    Attribute.WRAP: False,
                    Attribute.UNWRAP: False,
                    Attribute.SIGN: False,
                    Attribute.VERIFY: False,
                    Attribute.DERIVE: False,
                    Attribute.MODIFIABLE: False,
                },
            )
            return True

    def has_kek(self, version: int) -> bool:
        with self._lock:
            return self._find(version) is not None

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.mechanisms import GCMParams

        kek = self._key(version)
        nonce = os.urandom(envelope.NONCE_BYTES)
        with self._lock:
            body = kek.encrypt(key, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad))
        return b"\x01" + nonce + bytes(body)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11 import exceptions as p11e
        from pkcs11.mechanisms import GCMParams

        nonce, body = envelope.split_wrapped(wrapped)
        kek = self._key(version)
        try:
            with self._lock:
                return bytes(kek.decrypt(body, mechanism=Mechanism.AES_GCM, mechanism_param=GCMParams(nonce, aad)))
        except (p11e.EncryptedDataInvalid, p11e.GeneralError, p11e.FunctionFailed):
            # SoftHSM reports a GCM tag mismatch as CKR_GENERAL_ERROR; others use ENCRYPTED_DATA_INVALID.
            raise DecryptionFailed("wrapped key does not authenticate under this key-encryption key") from None

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._keys.clear()
            # Closing a dead session must not mask the caller's error.
            with contextlib.suppress(Exception):
                self._session.close()
        with _LOGINS_LOCK:
            digest, count = _LOGINS.get(self._login_key, (b"", 1))
            if count <= 1:
                _LOGINS.pop(self._login_key, None)  # the last session closed: the token logged out
            else:
                _LOGINS[self._login_key] = (digest, count - 1)
