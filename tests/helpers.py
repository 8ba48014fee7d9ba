"""Test helpers shared across folders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[2] / "shared"
if not SHARED.is_dir():
    SHARED = Path("/work/shared")
EXAMPLES = SHARED / "examples"


def example(name: str) -> dict[str, Any]:
    """A fresh copy of one of ../shared/examples (h1-import.json, h7-low-value.json)."""
    return copy.deepcopy(json.loads((EXAMPLES / name).read_text()))
