"""The log's and the witness's Ed25519 keys: files under the var dir's keys folder, mode 0600,
created on first use, refused when other users can read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from clearguard.errors import ConfigurationError

_HEADER = "clearguard ed25519 private key v1\n"
_SECRET_HEADER = "clearguard ledger record key v1\n"  # noqa: S105 - a file header, not a secret  # nosec B105
RECORD_KEY_SIZE = 32


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_or_create_key(path: Path) -> Ed25519PrivateKey:
    if path.exists():
        return load_key(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    try:
        # O_EXCL: two processes starting at once must not each write a different key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return load_key(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(_HEADER + _seed(key).hex() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return key


def load_key(path: Path) -> Ed25519PrivateKey:
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(
            f"key file {path}: mode {mode:04o} lets other users read it; chmod 600", field="ledger_key_file"
        )
    text = path.read_text()
    if not text.startswith(_HEADER):
        raise ConfigurationError(f"key file {path}: not a clearguard Ed25519 key", field="ledger_key_file")
    try:
        seed = bytes.fromhex(text[len(_HEADER) :].strip())
        return Ed25519PrivateKey.from_private_bytes(seed)
    except ValueError as exc:
        raise ConfigurationError(f"key file {path}: malformed key", field="ledger_key_file") from exc


def load_or_create_record_key(path: Path) -> bytes:
    """The secret that turns private record labels (MRNs) into the opaque ids public entries carry:
    32 random bytes in a 0600 file beside the log key, created on first use. Losing it leaves the
    log intact but makes the ids of entries already written impossible to recompute, so it is kept
    and backed up with the other keys."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(_SECRET_HEADER + os.urandom(RECORD_KEY_SIZE).hex() + "\n")
                handle.flush()
                os.fsync(handle.fileno())
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigurationError(f"key file {path}: mode {mode:04o} lets other users read it; chmod 600", field="keys")
    text = path.read_text()
    try:
        if not text.startswith(_SECRET_HEADER):
            raise ValueError("header")
        key = bytes.fromhex(text[len(_SECRET_HEADER) :].strip())
    except ValueError:
        raise ConfigurationError(f"key file {path}: not a clearguard ledger record key", field="keys") from None
    if len(key) != RECORD_KEY_SIZE:
        raise ConfigurationError(f"key file {path}: not a clearguard ledger record key", field="keys")
    return key
