"""Services for the privacy tests: the real wiring (envelope encryption, ledger, audit) over the test
database, and a PrivacyService with the fake retention view and a clock the test moves."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine

from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.declarations.results import Actor
from clearguard.privacy.service import PrivacyService
from clearguard.wiring import Services, build_services
from tests.helpers import example
from tests.unit.privacy.retention_fake import FakeRetention

DPO = Actor("dora", "dpo", "10.0.0.9")
LODGER = Actor("parcelco", "trader", "10.0.0.7")


@dataclass
class Env:
    services: Services
    retention: FakeRetention
    now: list[datetime]

    def privacy(self, *, retention: bool = True) -> PrivacyService:
        s = self.services
        return PrivacyService(
            s.session_factory, settings=s.settings, declarations=s.declarations, audit=s.audit, eori=s.compliance,
            vault=s.vault, shredder=s.crypto, retention=self.retention if retention else None,
            clock=lambda: self.now[0],
        )  # fmt: skip

    def h7(self, lrn: str, **consignee: Any) -> str:
        doc = copy.deepcopy(example("h7-low-value.json"))
        doc["lrn"] = lrn
        doc["consignee"].update(consignee)
        return self.services.declarations.lodge(doc, LODGER).mrn

    def h1(self, lrn: str) -> str:
        doc = copy.deepcopy(example("h1-import.json"))
        doc["lrn"] = lrn
        return self.services.declarations.lodge(doc, LODGER).mrn


def make_env(engine: Engine, database_url: str) -> Env:
    settings = Settings(env="test", database_url=database_url)
    init_keys(settings)
    services = build_services(settings, engine=engine)
    return Env(services, FakeRetention(services.declarations), [datetime.now(UTC)])
