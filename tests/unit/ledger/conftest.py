from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

VECTORS = Path("/work/shared/data/tlog/vectors.json")


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())
