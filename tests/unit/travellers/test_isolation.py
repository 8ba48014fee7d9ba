"""Traveller records are never a risk or detection feature and never shared: the risk engine, the
declarations and the compliance rules never import the travellers' capability, and the import-linter
contract that says so (run by `make imports`) is in place."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

import clearguard

SRC = Path(clearguard.__file__).parent
ROOT = SRC.parent.parent


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["risk", "declarations", "compliance", "declaration_model"])
def test_no_module_of_the_package_imports_travellers(package: str) -> None:
    for path in sorted((SRC / package).rglob("*.py")):
        leaks = {m for m in imported_modules(path) if (m + ".").startswith("clearguard.travellers.")}
        assert not leaks, f"{path.relative_to(SRC)} imports {sorted(leaks)}"


def test_the_import_contract_forbids_it() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = {c["id"]: c for c in config["tool"]["importlinter"]["contracts"]}
    private = contracts["travellers-private"]
    assert private["type"] == "forbidden"
    assert private["forbidden_modules"] == ["clearguard.travellers"]
    assert {"clearguard.risk", "clearguard.declarations", "clearguard.compliance"} <= set(private["source_modules"])
    assert not private.get("allow_indirect_imports", False)
    assert contracts["travellers-tables"]["protected_modules"] == ["clearguard.travellers.tables"]


def test_the_risk_features_know_no_biometric_field() -> None:
    text = "\n".join(p.read_text() for p in (SRC / "risk").rglob("*.py"))
    for name in ("template", "traveller", "declared_via"):
        assert name not in text.lower(), name
