"""The traveller records' table. Only TravellerService reads or writes it.

Nothing about the traveller is in clear: a random public id, the office, the officer, the time, how
the goods were declared, the data key and the sealed record (document, nationality, face template,
goods), and the blind index of the traveller for look-ups (cleared when the traveller's key is
shredded).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, LargeBinary, String, Table
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class TravellerRecordRow(Base):
    __tablename__ = "traveller_records"
    __table_args__ = (
        Index("ix_traveller_records_office_created", "office", "created_at"),
        Index("ix_traveller_records_created", "created_at"),
        Index("ix_traveller_records_traveller", "traveller_index"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32), unique=True)  # "TRV-" + random, says nothing
    office: Mapped[str] = mapped_column(String(8))
    officer: Mapped[str] = mapped_column(String(64))  # the recording officer's account (username)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    declared_via: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Blind index of the traveller (normalised document number and nationality); NULL once shredded.
    traveller_index: Mapped[str | None] = mapped_column(String(64))


RECORDS: Table = TravellerRecordRow.__table__  # type: ignore[assignment]
