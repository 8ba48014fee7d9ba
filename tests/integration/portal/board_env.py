"""The real application and services for the portal's page-data tests (tests/integration/api's
make_real_app: real encryption, ledger, audit; every declaration routed to an officer)."""

from __future__ import annotations

from datetime import date

from clearguard.access.principal import Principal
from clearguard.declarations.gate import DeclarationGate
from clearguard.wiring import Services
from tests.integration.api.app_env import RealApp


def services_of(real: RealApp) -> Services:
    services = real.client.app.state.services  # type: ignore[attr-defined]
    assert isinstance(services, Services)
    return services


def gate_of(real: RealApp) -> DeclarationGate:
    gate = real.client.app.state.gate  # type: ignore[attr-defined]
    assert isinstance(gate, DeclarationGate)
    return gate


def principal(real: RealApp, username: str) -> Principal:
    return services_of(real).identity.account_principal(username)


def today(real: RealApp) -> date:
    return real.clock.now().date()
