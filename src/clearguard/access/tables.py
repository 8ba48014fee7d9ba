"""Access tables: mandates that traders give brokers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class Mandate(Base):
    """Trader `trader_eori` lets broker account `broker_id` lodge and read its declarations, from
    `valid_from` to `valid_until` inclusive (UTC dates), unless revoked earlier."""

    __tablename__ = "access_mandates"
    __table_args__ = (Index("ix_access_mandates_broker_until", "broker_id", "valid_until"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    broker_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("identity_accounts.id", ondelete="CASCADE"))
    trader_eori: Mapped[str] = mapped_column(String(17))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    granted_by: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
