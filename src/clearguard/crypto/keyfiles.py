"""Key files on disk: created 0600 in a 0700 directory, refused when group or others can read them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from clearguard.crypto.errors import InsecureKeyFile, KeyUnavailable


def ensure_keys_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)


def check_private(path: Path) -> None:
    """InsecureKeyFile when `path` (file or directory) grants any access to group or others."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InsecureKeyFile(
            f"{path} is accessible by group or others (mode {stat.S_IMODE(mode):04o}): "
            f"run chmod {'700' if path.is_dir() else '600'} {path}",
            field="keys_dir",
        )


def read_key_file(path: Path, *, size: int | None = None) -> bytes:
    try:
        check_private(path)
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyUnavailable(f"key file {path} is missing: run `clearguard keys init` (or restore var/keys)") from None
    if size is not None and len(data) != size:
        raise KeyUnavailable(f"key file {path} is corrupt: expected {size} bytes, found {len(data)}")
    return data


def write_key_file(path: Path, data: bytes) -> bool:
    """Create `path` holding `data`, mode 0600, atomically; False (and no change) if it exists.

    Written to a temporary name then hard-linked, so a crash never leaves a half-written key under
    the real name and two concurrent inits cannot both win."""
    if path.exists():
        return False
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return True
