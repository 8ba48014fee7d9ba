"""Mandates: the one way to grant, revoke and read them (brokers act only under a current mandate)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from clearguard.access.principal import MandateGrant
from clearguard.access.tables import Mandate
from clearguard.errors import InputError

EORI_RE = re.compile(r"^[A-Z]{2}[0-9A-Z]{1,15}$")


def check_eori(eori: str, *, field: str = "eori") -> str:
    value = eori.strip().upper()
    if not EORI_RE.fullmatch(value):
        raise InputError(f"{field}: not an EORI number (country code and up to 15 characters)", field=field)
    return value


def grant_mandate(
    session: Session,
    *,
    broker_id: int,
    trader_eori: str,
    valid_until: date,
    now: datetime,
    granted_by: str,
    valid_from: date | None = None,
) -> Mandate:
    trader_eori = check_eori(trader_eori, field="trader_eori")
    start = valid_from or now.date()
    if valid_until < start:
        raise InputError("valid_until: must not be before the mandate starts", field="valid_until")
    mandate = Mandate(
        broker_id=broker_id,
        trader_eori=trader_eori,
        valid_from=start,
        valid_until=valid_until,
        granted_at=now,
        granted_by=granted_by,
    )
    session.add(mandate)
    session.flush()
    return mandate


def revoke_mandates(session: Session, *, broker_id: int, trader_eori: str, now: datetime) -> int:
    rows = session.scalars(
        select(Mandate).where(
            Mandate.broker_id == broker_id, Mandate.trader_eori == trader_eori, Mandate.revoked_at.is_(None)
        )
    ).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


_CURRENT = select(Mandate.trader_eori, Mandate.valid_from, Mandate.valid_until).where(
    Mandate.broker_id == bindparam("broker_id"),
    Mandate.revoked_at.is_(None),
    Mandate.valid_from <= bindparam("today"),
    Mandate.valid_until >= bindparam("today"),
)


def current_mandates(session: Session, broker_id: int, today: date) -> tuple[MandateGrant, ...]:
    rows = session.execute(_CURRENT, {"broker_id": broker_id, "today": today}).all()
    return tuple(MandateGrant(trader_eori=r[0], valid_from=r[1], valid_until=r[2]) for r in rows)


def mandate_reader(engine: Engine) -> Callable[[int, date], tuple[MandateGrant, ...]]:
    """`current_mandates` on a connection of its own, without a Session: for the per-request token
    check (identity asks here; the mandates table stays access's own)."""

    def read(broker_id: int, today: date) -> tuple[MandateGrant, ...]:
        with engine.connect() as connection:
            rows = connection.execute(_CURRENT, {"broker_id": broker_id, "today": today}).all()
        return tuple(MandateGrant(trader_eori=r[0], valid_from=r[1], valid_until=r[2]) for r in rows)

    return read
