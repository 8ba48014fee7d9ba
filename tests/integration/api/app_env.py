"""The real application (clearguard.app.create_app) over the test database, with a frozen clock,
cheap Argon2 parameters, every declaration routed to an officer (so it stays amendable and
decidable), and one signed-in account per role."""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from clearguard.access.mandates import grant_mandate
from clearguard.access.roles import Role
from clearguard.app import create_app
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.crypto.setup import build_secret_box
from clearguard.db import transaction
from clearguard.declarations.commitments import DeclarationEntries
from clearguard.declarations.ports import OneByOne
from clearguard.declarations.results import Actor
from clearguard.declarations.service import DeclarationService
from clearguard.identity import accounts, totp
from clearguard.identity.clock import FrozenClock
from clearguard.identity.service import IdentityService
from clearguard.identity.throttle import DatabaseThrottle
from clearguard.risk.lodging import RiskOutcome
from clearguard.training import PRIVILEGED_ROLES
from clearguard.wiring import build_services
from tests.helpers import example, give_training

PASSWORD = "plum-orbit-velvet-cascade-41"
GB_TRADER, NL_TRADER = "GB123456789000", "NL812345678"
OWN_OFFICE, OTHER_GB_OFFICE, NL_OFFICE = "GB000060", "GB000085", "NL000396"

# username -> (role, party, office)
PEOPLE: dict[str, tuple[Role, str | None, str | None]] = {
    "trader": (Role.TRADER, GB_TRADER, None),
    "broker": (Role.BROKER, "GB987654321000", None),
    "officer": (Role.OFFICER, None, OWN_OFFICE),
    "analyst": (Role.RISK_ANALYST, None, None),
    "auditor": (Role.AUDITOR, None, None),
    "dpo": (Role.DPO, None, None),
    "admin": (Role.ADMIN, None, None),
    "partner": (Role.PARTNER, None, None),
}


class Yellow(OneByOne):
    """Every declaration goes to documentary control: it stays amendable and awaits a decision."""

    def assess_declaration(self, session: Any, **_: Any) -> RiskOutcome:
        return RiskOutcome("yellow", 0.5, {"reason": "test"})


@dataclass
class RealApp:
    client: TestClient
    clock: FrozenClock
    declarations: DeclarationService
    tokens: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    _lrn: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def auth(self, username: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.tokens[username]}

    def document(self, kind: str, *, office: str | None = None) -> dict[str, Any]:
        """A fresh example declaration with a unique LRN: 'gb' (H1 of the GB trader) or 'nl' (H7)."""
        doc = copy.deepcopy(example("h1-import.json" if kind == "gb" else "h7-low-value.json"))
        doc["lrn"] = f"MATRIX-{next(self._lrn):06d}"
        if office:
            doc["office_of_presentation"] = office
        return doc

    def seed(self, kind: str, *, office: str | None = None) -> str:
        result = self.declarations.lodge(self.document(kind, office=office), Actor("seed", "system", "test"))
        assert result.status == "under_control", result
        return result.mrn


def make_real_app(
    engine: Engine, database_url: str, *, risk: Any = None, untrained: frozenset[str] = frozenset()
) -> RealApp:
    """`risk`: the assessor that routes lodged declarations (default Yellow: every one to an officer).
    `untrained`: staff left without data-protection training (the gate refuses their privileged actions)."""
    settings = Settings(env="test", database_url=database_url, auth_argon2_time_cost=1, auth_argon2_memory_kib=8192)
    init_keys(settings)
    services = build_services(settings, engine=engine)  # real envelope encryption, ledger and audit
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0))
    services.identity = IdentityService(
        services.session_factory,
        settings,
        secret_box=build_secret_box(settings),
        clock=clock,
        throttle=DatabaseThrottle(services.session_factory, clock),
        events=services.audit,
    )
    ledger = services.ledger
    services.declarations = DeclarationService(
        services.session_factory,
        compliance=services.compliance,
        vault=services.vault,
        ledger=ledger,
        audit=services.audit,
        risk=risk or Yellow(),
        entry_encoder=DeclarationEntries(ledger.record_ids),  # the ledger format wiring gives the product
        receipts=lambda index: ledger.receipt_now(services.session_factory, index).to_json(),
        retention=services.retention.calendar,
    )
    app = RealApp(
        client=TestClient(create_app(settings, services=services), raise_server_exceptions=False),
        clock=clock,
        declarations=services.declarations,
    )
    with transaction(services.session_factory) as session:
        for username, (role, party, office) in PEOPLE.items():
            account = accounts.create_account(
                session,
                services.identity.passwords,
                username=username,
                role=role,
                password=PASSWORD,
                now=clock.now(),
                party_eori=party,
                office=office,
            )
            seed = totp.new_secret()
            services.identity.totp_secrets.put(account, seed)
            account.totp_confirmed = True
            app.secrets[username] = seed
            if role is Role.BROKER:
                grant_mandate(
                    session,
                    broker_id=account.id,
                    trader_eori=GB_TRADER,
                    valid_until=(clock.now() + timedelta(days=30)).date(),
                    now=clock.now(),
                    granted_by="test",
                )
    # The staff's data-protection training: without it the gate refuses their privileged actions.
    staff = [name for name, (role, _p, _o) in PEOPLE.items() if role in PRIVILEGED_ROLES and name not in untrained]
    give_training(services.session_factory, *staff, today=clock.now().date())
    for username in PEOPLE:
        r = app.client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
        assert r.status_code == 200, r.text
        t = app.client.post(
            "/api/v1/auth/mfa/totp",
            json={"mfa_token": r.json()["mfa_token"], "code": totp.code_at(app.secrets[username], clock.now())},
        )
        assert t.status_code == 200, t.text
        app.tokens[username] = t.json()["access_token"]
    return app
