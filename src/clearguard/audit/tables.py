"""The audit trail's table. Only AuditService reads or writes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class AuditEventRow(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_actor_at", "actor", "at"),
        Index("ix_audit_events_record", "record_type", "record_id"),
        Index("ix_audit_events_party_at", "party", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(64), nullable=False)
    action: Mapped[str] = mapped_column(String(128), nullable=False, index=True)
    record_type: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    # The party whose data the action touched, as the blind index the owning capability uses, so the
    # trail answers "who accessed this party's data" without holding the party's identifier.
    party: Mapped[str | None] = mapped_column(String(128), nullable=True)
    source: Mapped[str | None] = mapped_column(String(255), nullable=True)
    justification: Mapped[str | None] = mapped_column(Text, nullable=True)
    outcome: Mapped[str] = mapped_column(String(32), nullable=False)
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True, unique=True)
    # Set by a retention run that disposed of the event once its period was over: who, from where and
    # why are gone (the action, record and time stay), and verify reads its entry as disposed.
    disposal_run: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
