"""Fixtures of the risk unit tests (helpers live in risk_helpers)."""

from __future__ import annotations

import pytest

from clearguard.risk.record import RiskRecord
from tests.unit.risk.risk_helpers import load_kcs


@pytest.fixture(scope="session")
def kcs_train() -> list[RiskRecord]:
    return load_kcs("train.csv")


@pytest.fixture(scope="session")
def kcs_valid() -> list[RiskRecord]:
    return load_kcs("valid.csv")
