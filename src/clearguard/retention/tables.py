"""Retention's tables: legal holds and disposal runs (each run's certificate is a ledger entry)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, Index, Integer, LargeBinary, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime

JsonType = JSON().with_variant(JSONB(), "postgresql")


class HoldRow(Base):
    """A legal hold: while it is open, nothing it covers is erased by any path (scheduled disposal, a
    subject's erasure request, `keys shred`). `target` is an MRN or a party reference (`eori:<blind
    index>`, `person:<blind index>`), never an identifier in clear."""

    __tablename__ = "retention_holds"
    __table_args__ = (Index("ix_retention_holds_target", "scope", "target"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(8))  # party | mrn
    target: Mapped[str] = mapped_column(String(80))
    case_id: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(80))
    review: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    released_by: Mapped[str | None] = mapped_column(String(64))
    release_reason: Mapped[str | None] = mapped_column(Text)


class DisposalRunRow(Base):
    """One `retention run`: started, resumed after a crash if need be, and closed by its certificate,
    a ledger entry committing to what was disposed of, under which policies, when and by whom."""

    __tablename__ = "retention_runs"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    status: Mapped[str] = mapped_column(String(12))  # running | complete
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    policy_version: Mapped[str] = mapped_column(String(32))
    # The certificate: counts per policy, the MRNs disposed of (not personal data), parties shredded.
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    batches: Mapped[int] = mapped_column(Integer, default=0)
