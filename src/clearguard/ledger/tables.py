"""The ledger's tables. Only LedgerService reads or writes them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, UTCDateTime, utcnow


class LedgerSequence(Base):
    """One row: the next index to hand out. Writers bump it inside their own transaction, so the row
    lock (PostgreSQL) or the write lock (SQLite, BEGIN IMMEDIATE) sequences them: no gaps, since a
    rolled-back writer rolls its bump back too, and no duplicates."""

    __tablename__ = "ledger_sequence"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    next_index: Mapped[int] = mapped_column(BigInteger, nullable=False)


class LedgerEntryRow(Base):
    __tablename__ = "ledger_entries"

    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerTile(Base):
    """tlog-tiles hash tiles: full tiles, and the right-edge partial tile of each level, which
    integration rewrites as it grows. Proofs read O(log n) of these."""

    __tablename__ = "ledger_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tile_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    width: Mapped[int] = mapped_column(Integer, nullable=False)
    hashes: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class LedgerTreeState(Base):
    """One row: the integrated size and root; also the lock integrators take."""

    __tablename__ = "ledger_tree"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    root: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class LedgerCheckpointRow(Base):
    """Every checkpoint the log signed, as the signed note (with any cosignatures appended)."""

    __tablename__ = "ledger_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WitnessedLog(Base):
    """A log this instance witnesses, and the latest checkpoint it cosigned for it."""

    __tablename__ = "ledger_witnessed_logs"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    vkey: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)


class WitnessPeer(Base):
    """A witness this instance asks to cosign its own checkpoints."""

    __tablename__ = "ledger_witness_peers"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    vkey: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class WitnessAlertRow(Base):
    """Evidence that a log we watch showed two histories (issue 15): a checkpoint signed with the
    log's key that is not consistent with the one we cosigned or mirrored. Both checkpoints are kept
    as signed notes, so anyone can check the evidence; the row is committed to our own ledger (kind
    `ledger.witness-alert`), so it cannot be edited or deleted unseen. Logs' checkpoints are public."""

    __tablename__ = "ledger_witness_alerts"

    alert_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
    origin: Mapped[str] = mapped_column(String(255), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)  # fork-refused | mirror-refused
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    known_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    known_root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    known_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    seen_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    seen_root: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    seen_note: Mapped[str] = mapped_column(Text, nullable=False)
    # The evidence of one second history is recorded once, however often the partner sends it.
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class MirrorRow(Base):
    """A partner's log we mirror under var/mirrors/<origin>/: the last checkpoint adopted (verified,
    cosigned by a witness we trust, consistent with the one before) and where its tiles come from."""

    __tablename__ = "ledger_mirrors"

    origin: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    root: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=utcnow)
