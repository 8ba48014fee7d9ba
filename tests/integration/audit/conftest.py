from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import clearguard.audit.tables
import clearguard.ledger.tables  # noqa: F401  - registers the ledger tables before create_all
from clearguard.ledger.note import Ed25519Signer
from clearguard.ledger.service import LedgerService


@pytest.fixture
def signer() -> Ed25519Signer:
    return Ed25519Signer("test.clearguard/ledger", Ed25519PrivateKey.generate())


@pytest.fixture
def ledger(signer: Ed25519Signer) -> LedgerService:
    return LedgerService(signer, batch_size=500)
