"""Fixtures for compliance tests: the shared example declarations, read in place, and a service."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from clearguard.compliance.findings import Finding
from clearguard.compliance.service import ComplianceService
from clearguard.declaration_model import DeclarationModel, H1Declaration, H7Declaration
from tests.helpers import EXAMPLES

Document = dict[str, Any]


def example(name: str) -> Document:
    """A fresh, mutable copy of an example document (h1-import or h7-low-value)."""
    return copy.deepcopy(_EXAMPLE_CACHE.setdefault(name, _read(name)))


_EXAMPLE_CACHE: dict[str, Document] = {}


def _read(name: str) -> Document:
    data: Document = json.loads((EXAMPLES / f"{name}.json").read_text("utf-8"))
    return data


def parse(document: Document) -> DeclarationModel:
    """The declaration model of a document, through JSON as the API and CLI parse it."""
    text = json.dumps(document)
    if document["type"] == "H1":
        return H1Declaration.model_validate_json(text)
    return H7Declaration.model_validate_json(text)


@pytest.fixture(scope="session")
def service() -> ComplianceService:
    return ComplianceService("default")


Validate = Callable[..., list[Finding]]


@pytest.fixture(scope="session")
def validate(service: ComplianceService) -> Validate:
    def run(document: Document, **kwargs: Any) -> list[Finding]:
        return service.validate(parse(document), **kwargs)

    return run
