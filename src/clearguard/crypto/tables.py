"""The crypto capability's tables: KEK versions, wrapped per-party data keys, the shred epoch."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime, utcnow


class KekVersion(Base):
    """A key-encryption key version; the key itself lives in the provider (file or token), never here."""

    __tablename__ = "crypto_kek_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    provider: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class DataKey(Base):
    """One party's data key, wrapped by a KEK version. Shredding clears `wrapped` and `party_index` (so
    the party gets a fresh key if it comes back) and destroys the share outside the database."""

    __tablename__ = "crypto_data_keys"

    # Random 63-bit, assigned by CryptoService: known before the row is written (new keys are written
    # in one batch at commit) and never reused after a rollback.
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=False)
    # Random, never reused: names the share in the share store, and is bound into the wrapping.
    uid: Mapped[str] = mapped_column(String(32), unique=True)
    # Blind index of the party reference; NULL once shredded. Not unique: two transactions racing on a
    # new party may both make a key; both stay valid and are shredded together.
    party_index: Mapped[str | None] = mapped_column(String(64), index=True)
    kek_version: Mapped[int] = mapped_column(ForeignKey("crypto_kek_versions.version"))
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    rewrapped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shredded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_crypto_data_keys_kek_version", "kek_version"),)


class ShredEpoch(Base):
    """One row: a counter that every shred moves, in the shred's own transaction. Each process reads
    it once per transaction that uses keys and drops the key material it caches when it has moved, so a
    shred committed by any process takes effect in every other one from its next transaction."""

    __tablename__ = "crypto_shred_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # always 1
    epoch: Mapped[int] = mapped_column(BigInteger)
