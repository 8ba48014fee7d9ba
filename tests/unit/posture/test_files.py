"""The var/ scan: anything group or world can reach, and keys not exactly 0600 (real files, modes
set by hand)."""

from __future__ import annotations

import os
from pathlib import Path

from clearguard.posture.gather import scan_files


def test_scan_finds_exposed_files_and_loose_keys(tmp_path: Path) -> None:
    var = tmp_path / "var"
    (var / "keys" / "tls").mkdir(parents=True)
    os.chmod(var, 0o700)
    for folder in (var / "keys", var / "keys" / "tls"):
        os.chmod(folder, 0o700)
    key, db, cert = var / "keys" / "master.key", var / "clearguard.db", var / "keys" / "tls" / "server.pem"
    for path in (key, db, cert):
        path.write_bytes(b"x")
        os.chmod(path, 0o600)
    (var / "link").symlink_to("/etc/passwd")
    clean = scan_files(var, var / "keys")
    assert clean.exposed == () and clean.loose_keys == () and clean.scanned == 6
    os.chmod(db, 0o644)
    os.chmod(key, 0o400)
    os.chmod(var / "keys" / "tls", 0o755)
    found = scan_files(var, var / "keys")
    assert sorted(found.exposed) == [("clearguard.db", 0o644), ("keys/tls", 0o755)]
    assert found.loose_keys == (("keys/master.key", 0o400),)
