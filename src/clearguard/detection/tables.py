"""Detection's tables: the activity store, alerts (and notices) with their triage, suppressions.
Only DetectionService reads or writes them. Parties and records are keyed references (blind
indexes), never identifiers in clear; actors are staff account names."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime

JsonType = JSON().with_variant(JSONB(), "postgresql")


class ActivityRow(Base):
    __tablename__ = "detection_activity"
    __table_args__ = (
        Index("ix_detection_activity_actor_at", "actor", "at"),
        Index("ix_detection_activity_source_at", "source_ip", "at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(64))
    office: Mapped[str | None] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    record: Mapped[str | None] = mapped_column(String(128))  # blind index of the MRN or account name
    party: Mapped[str | None] = mapped_column(String(128))  # blind index of the party's EORI
    count: Mapped[int] = mapped_column(Integer, default=1)
    # The audit event it mirrors (written in the same transaction); None for a request blocked at
    # the API edge, which reaches no service and so no audit event.
    audit_event: Mapped[str | None] = mapped_column(String(32), unique=True)


class AlertRow(Base):
    """One incident (a finding's `incident` key): later findings of the same incident update it."""

    __tablename__ = "detection_alerts"
    __table_args__ = (Index("ix_detection_alerts_status", "level", "status", "last_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    incident: Mapped[str] = mapped_column(String(255), unique=True)
    level: Mapped[str] = mapped_column(String(8))  # alert | notice
    rule: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    actors: Mapped[list[str]] = mapped_column(JsonType)
    sources: Mapped[list[str]] = mapped_column(JsonType)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime)
    explanation: Mapped[str] = mapped_column(Text)
    features: Mapped[dict[str, Any]] = mapped_column(JsonType)
    findings: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # open | acknowledged | confirmed | false_positive
    # [{"at", "by", "verdict", "note"}], oldest first; responses taken: [{"at", "action", "actor"}]
    notes: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    responses: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)


class SuppressionRow(Base):
    """A false-positive verdict's feedback: findings of `rule` whose actors and sources all match
    (None matches any) are not raised again (they are counted on the suppression instead)."""

    __tablename__ = "detection_suppressions"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(String(128))
    actor: Mapped[str | None] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(64))
    alert_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    hits: Mapped[int] = mapped_column(Integer, default=0)
