"""Test helpers shared across folders."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any


def _find_shared() -> Path:
    """The project's shared/ folder (examples and third-party data, read in place): the one beside
    the checkout in CI, else CLEARGUARD_SHARED_DIR, else the development machine's."""
    candidates = [
        os.environ.get("CLEARGUARD_SHARED_DIR"),
        Path(__file__).resolve().parents[2] / "shared",
        "/work/shared",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "examples").is_dir():
            return Path(candidate)
    raise RuntimeError("shared/ not found beside the checkout: set CLEARGUARD_SHARED_DIR")


SHARED = _find_shared()
EXAMPLES = SHARED / "examples"
KCS = SHARED / "data" / "kcs"
TLOG_VECTORS = SHARED / "data" / "tlog" / "vectors.json"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one of shared/examples (h1-import.json, h7-low-value.json)."""
    return copy.deepcopy(json.loads((EXAMPLES / name).read_text()))


def secret_box() -> Any:
    """A real SecretBox (AES-256-GCM) under a fresh random key, for identity services built in tests."""
    from clearguard.crypto.secret_box import SecretBox

    return SecretBox(os.urandom(32))
