"""Identity asks access for mandates through access's read API (clearguard.access.mandates); it
never queries access's tables itself (issue 13, structure)."""

from __future__ import annotations

import ast
from pathlib import Path

import clearguard.identity

IDENTITY = Path(clearguard.identity.__file__).parent


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_identity_does_not_import_access_tables() -> None:
    offenders = {
        path.name: sorted(m for m in imported_modules(path) if m.startswith("clearguard.access.tables"))
        for path in IDENTITY.glob("*.py")
    }
    assert {name: mods for name, mods in offenders.items() if mods} == {}


def test_the_request_path_reads_mandates_through_access() -> None:
    assert "clearguard.access.mandates" in imported_modules(IDENTITY / "sessions.py")
