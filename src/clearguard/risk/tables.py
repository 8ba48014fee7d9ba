"""Risk tables: history lines with control outcomes, the model registry, assessments, outcomes.

Party ids here are opaque (KCS pseudonyms, or blind indexes of EORIs for live declarations): the
risk data never holds a name or an address.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Float, Index, Integer, LargeBinary, SmallInteger, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime

JsonType = JSON().with_variant(JSONB(), "postgresql")


class RiskHistoryRow(Base):
    """One past declaration line (or live item) whose control outcome is known: training data."""

    __tablename__ = "risk_history"
    __table_args__ = (Index("ix_risk_history_date", "date"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(16))  # kcs | officer
    source_ref: Mapped[str] = mapped_column(String(96), unique=True)  # idempotence of imports
    declaration_ref: Mapped[str] = mapped_column(String(64))
    item: Mapped[int] = mapped_column(Integer)
    date: Mapped[date] = mapped_column(Date)
    office: Mapped[str] = mapped_column(String(17))
    procedure: Mapped[str] = mapped_column(String(17))
    hs6: Mapped[str] = mapped_column(String(6))
    origin_country: Mapped[str] = mapped_column(String(2))
    departure_country: Mapped[str] = mapped_column(String(2))
    transport_mode: Mapped[str] = mapped_column(String(17))
    tax_rate: Mapped[float | None] = mapped_column(Float)
    tax_type: Mapped[str] = mapped_column(String(17))
    net_mass_kg: Mapped[float] = mapped_column(Float)
    item_price: Mapped[float] = mapped_column(Float)
    declarant_id: Mapped[str] = mapped_column(String(64))
    importer_id: Mapped[str] = mapped_column(String(64))
    seller_id: Mapped[str] = mapped_column(String(64))
    fraud: Mapped[int] = mapped_column(SmallInteger)
    critical: Mapped[int] = mapped_column(SmallInteger)
    duty_recovered: Mapped[float | None] = mapped_column(Float)
    selection: Mapped[str | None] = mapped_column(String(16))  # how a live item was chosen for control
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RiskModelRow(Base):
    """The model registry: a version, its training data's hash, metrics and its file's SHA-256."""

    __tablename__ = "risk_models"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    data_hash: Mapped[str] = mapped_column(String(64))
    history_lines: Mapped[int] = mapped_column(Integer)
    file_path: Mapped[str] = mapped_column(String(400))  # relative to the var dir
    file_sha256: Mapped[str] = mapped_column(String(64))
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType)
    is_current: Mapped[bool] = mapped_column(Boolean, default=False)


class RiskAssessmentRow(Base):
    """A recorded decision. Never updated by re-scoring; an officer's confirmation is added beside it."""

    __tablename__ = "risk_assessments"
    __table_args__ = (Index("ix_risk_assessments_ref", "declaration_ref"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    declaration_ref: Mapped[str] = mapped_column(String(64))
    content_hash: Mapped[str] = mapped_column(String(64))  # of the scored records
    office: Mapped[str] = mapped_column(String(17))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    model_version: Mapped[int | None] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)
    channel: Mapped[str] = mapped_column(String(8))
    basis: Mapped[str] = mapped_column(String(8))
    random: Mapped[bool] = mapped_column(Boolean)
    reasons: Mapped[dict[str, Any]] = mapped_column(JsonType)
    # The risk records scored (they carry item prices): sealed under the declarant's data key, so that
    # shredding it erases them; `items` then stays empty. Rows written before sealing, and assessments
    # of pseudonymous data (no vault wired), keep them in `items`.
    items: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    items_key_id: Mapped[int | None] = mapped_column(BigInteger)
    sealed_items: Mapped[bytes | None] = mapped_column(LargeBinary)
    confirmed_channel: Mapped[str | None] = mapped_column(String(8))
    confirmed_by: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RiskOutcomeRow(Base):
    """A control outcome recorded by an officer: one per declaration."""

    __tablename__ = "risk_outcomes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    declaration_ref: Mapped[str] = mapped_column(String(64), unique=True)
    assessment_id: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    officer: Mapped[str] = mapped_column(String(64))
    violation: Mapped[bool] = mapped_column(Boolean)
    critical: Mapped[bool] = mapped_column(Boolean)
    duty_recovered: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(Text)
