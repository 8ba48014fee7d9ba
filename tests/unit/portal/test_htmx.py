"""htmx is served from the package, as fetched and checked by `make htmx`: its SHA-256 matches."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

HTMX = Path(__file__).resolve().parents[3] / "src/clearguard/portal/static/htmx"
MAKEFILE = Path(__file__).resolve().parents[3] / "Makefile"


def test_htmx_file_matches_its_recorded_sha256() -> None:
    recorded, name = (HTMX / "SHA256").read_text().split()
    assert name == "htmx.min.js"
    assert hashlib.sha256((HTMX / "htmx.min.js").read_bytes()).hexdigest() == recorded


def test_htmx_is_the_pinned_2x_version_with_its_licence() -> None:
    version = (HTMX / "VERSION").read_text().strip()
    pinned = re.search(r"^HTMX_VERSION := (\S+)$", MAKEFILE.read_text(), re.MULTILINE)
    assert pinned is not None and pinned.group(1) == version
    assert version.startswith("2.")
    assert f'version:"{version}"' in (HTMX / "htmx.min.js").read_text()
    assert "Zero-Clause BSD" in (HTMX / "LICENSE").read_text()
