from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import TLOG_VECTORS

VECTORS = TLOG_VECTORS


@pytest.fixture(scope="session")
def vectors() -> dict[str, Any]:
    return json.loads(VECTORS.read_text())
