"""Every test under tests/fuzz carries the `fuzz` marker: `pytest -m fuzz` runs them alone, and
`make fuzz` runs them with many more examples (CLEARGUARD_FUZZ_EXAMPLES)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.fuzz)
