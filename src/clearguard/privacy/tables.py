"""Data subject requests (GDPR Art. 15-17): what was asked, by whom (as a party reference, never the
identifier in clear), when it is due and how it was answered. Only PrivacyService reads or writes it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class PrivacyRequestRow(Base):
    __tablename__ = "privacy_requests"
    __table_args__ = (
        Index("ix_privacy_requests_status_deadline", "status", "deadline"),
        Index("ix_privacy_requests_party_ref", "party_ref"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # access | rectification | erasure
    # eori:<blind index> or person:<blind index> (declarations.parties): never the EORI or the name.
    party_ref: Mapped[str] = mapped_column(String(80))
    # What the subject asked, sealed under the subject's own data key: erased with the subject.
    details: Mapped[bytes | None] = mapped_column(LargeBinary)
    details_key_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str] = mapped_column(String(64))
    deadline: Mapped[date] = mapped_column(Date)  # one calendar month after receipt (GDPR Art. 12(3))
    status: Mapped[str] = mapped_column(String(16))  # open | answered | refused | carried_out
    outcome: Mapped[str | None] = mapped_column(Text)
    legal_reason: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(64))
