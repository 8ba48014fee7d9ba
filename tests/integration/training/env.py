"""Services over the test database for training tests, and accounts of any role."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from clearguard.access.roles import Role
from clearguard.audit.tables import AuditEventRow
from clearguard.config import Settings
from clearguard.crypto import init_keys
from clearguard.db import transaction
from clearguard.identity import accounts
from clearguard.training import TrainingService
from clearguard.training.tables import CompletionRow
from clearguard.wiring import Services, build_services

PASSWORD = "plum-orbit-velvet-cascade-41"


def training_services(engine: Engine, database_url: str) -> Services:
    settings = Settings(env="test", database_url=database_url, auth_argon2_time_cost=1, auth_argon2_memory_kib=8192)
    init_keys(settings)
    return build_services(settings, engine=engine)


def training_of(services: Services) -> TrainingService:
    assert services.training is not None
    return services.training


def add_account(services: Services, username: str, role: Role, now: datetime) -> None:
    with transaction(services.session_factory) as session:
        accounts.create_account(
            session, services.identity.passwords, username=username, role=role, password=PASSWORD, now=now,
            office="GB000060" if role is Role.OFFICER else None,
            party_eori="GB123456789000" if role in (Role.TRADER, Role.BROKER) else None,
        )  # fmt: skip


def completions(services: Services) -> int:
    with services.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(CompletionRow)) or 0)


def training_events(services: Services) -> list[AuditEventRow]:
    with services.session_factory() as session:
        query = select(AuditEventRow).where(AuditEventRow.action == "training.record").order_by(AuditEventRow.at)
        return list(session.scalars(query))
