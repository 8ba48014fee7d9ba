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
