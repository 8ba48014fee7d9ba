"""Model files under the var dir, written once and verified by SHA-256 before every first load."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from clearguard.risk.errors import ModelIntegrityError

MODEL_DIR = Path("risk") / "models"


def sha256_hex(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def write_model_file(var_dir: Path, version: int, blob: bytes) -> tuple[str, str]:
    """Writes the file atomically (temp file, fsync, rename); returns (path relative to var_dir, sha)."""
    digest = sha256_hex(blob)
    relative = MODEL_DIR / f"model-{version:05d}-{digest[:12]}.json"
    target = var_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_suffix(".tmp")
    with temporary.open("wb") as handle:
        handle.write(blob)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(target)
    return relative.as_posix(), digest


def read_verified(var_dir: Path, relative: str, expected_sha256: str) -> bytes:
    path = var_dir / relative
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise ModelIntegrityError(f"model file {relative}: cannot read ({exc.__class__.__name__})") from None
    actual = sha256_hex(blob)
    if actual != expected_sha256:
        raise ModelIntegrityError(
            f"model file {relative}: SHA-256 {actual[:16]}... does not match the registry's "
            f"{expected_sha256[:16]}...; refusing to load it"
        )
    return blob
