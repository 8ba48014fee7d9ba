"""Wiring: builds each capability's service from Settings, once per process.

This is the only place that knows how the capabilities fit together; everything else receives the
services it needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from clearguard import db
from clearguard.compliance.service import ComplianceService
from clearguard.config import Settings
from clearguard.declarations.plain_vault import PlainVault
from clearguard.declarations.service import DeclarationService


@dataclass
class Services:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    compliance: ComplianceService
    declarations: DeclarationService

    def close(self) -> None:
        self.engine.dispose()


def build_services(settings: Settings, *, engine: Engine | None = None) -> Services:
    engine = engine or db.make_engine(settings.database_url, echo=settings.database_echo)
    session_factory = db.make_session_factory(engine)
    compliance = ComplianceService.from_settings(settings)
    declarations = DeclarationService(session_factory, compliance=compliance, vault=PlainVault())
    return Services(settings, engine, session_factory, compliance, declarations)
