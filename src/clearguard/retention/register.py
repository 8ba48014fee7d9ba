"""The register of disposal certificates kept beside the database (var/retention/certificates/):
one JSON file per run, named by the SHA-256 of its canonical bytes. It holds MRNs, dates, counts and
policy ids, nothing personal. A database restored from a backup older than a run does not know the
run; the register does, and the restore disposes of those declarations again."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from clearguard.retention.certificate import canonical

_MAX_BYTES = 64 * 1024 * 1024


def certificate_digest(certificate: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(certificate)).hexdigest()


def write_certificate(directory: Path, certificate: dict[str, Any]) -> Path:
    """Writes the certificate (0600, whole or not at all); returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = certificate_digest(certificate)
    path = directory / f"{digest}.json"
    if path.exists():
        return path
    tmp = directory / f".{digest}.{os.getpid()}.partial"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(canonical(certificate))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_certificates(directory: Path) -> dict[str, dict[str, Any]]:
    """Digest -> certificate of every file whose name is its own digest (others are ignored: a file
    edited by hand no longer matches its name)."""
    found: dict[str, dict[str, Any]] = {}
    if not directory.is_dir():
        return found
    for path in sorted(directory.glob("*.json")):
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            continue
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if path.stem != digest:
            continue
        try:
            certificate = json.loads(raw)
        except ValueError:
            continue
        if isinstance(certificate, dict):
            found[digest] = certificate
    return found
