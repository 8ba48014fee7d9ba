"""Declaration tables. Versions are never overwritten: an amendment adds a row.

A version stores its clear part (code and trade fields) as JSON and its protected part (confidential,
personal, biometric) as a map of group -> [category, data key id, base64 ciphertext]: one group per
party and category (documents.split), so a response decrypts only the categories it returns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Table, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime

JsonType = JSON().with_variant(JSONB(), "postgresql")


class DeclarationRow(Base):
    __tablename__ = "declarations"
    __table_args__ = (
        UniqueConstraint("declarant_index", "lrn"),
        Index("ix_declarations_office_status", "office", "status"),
        # A batch's LRNs are looked up by LRN alone: one probe each, where an IN list on both
        # columns of the unique index probes every declarant x LRN pair.
        Index("ix_declarations_lrn", "lrn"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    mrn: Mapped[str] = mapped_column(String(18), unique=True)
    lrn: Mapped[str] = mapped_column(String(22))
    declarant_index: Mapped[str] = mapped_column(String(64))  # blind index of the declarant's EORI
    type: Mapped[str] = mapped_column(String(2))
    office: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(8))
    current_version: Mapped[int] = mapped_column(Integer)
    content_index: Mapped[str] = mapped_column(String(64))  # keyed hash of the current body, for idempotence
    pack_ref: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    # Set by a retention run that disposed of the declaration: its versions, parties and transitions
    # then keep their ledger indexes and nothing else, and verify reads them as disposed.
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disposal_run: Mapped[int | None] = mapped_column(BigInteger, index=True)


class DeclarationVersionRow(Base):
    __tablename__ = "declaration_versions"
    __table_args__ = (UniqueConstraint("declaration_id", "version"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    declaration_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("declarations.id"))
    version: Mapped[int] = mapped_column(Integer)
    clear_doc: Mapped[dict[str, Any]] = mapped_column(JsonType)
    protected: Mapped[dict[str, Any]] = mapped_column(JsonType)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JsonType)
    # The ledger commitment's salt, sealed under the declarant's data key: shredding that key makes
    # the commitment unprovable (erased), never guessable from low-entropy values.
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    salt_key_id: Mapped[int] = mapped_column(BigInteger)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)


class DeclarationPartyRow(Base):
    """Blind indexes of the parties, so lists filter by EORI or name without decrypting."""

    __tablename__ = "declaration_parties"
    __table_args__ = (
        Index("ix_declaration_parties_eori", "eori_index"),
        Index("ix_declaration_parties_name", "name_index"),
        # Whose key seals what: retention asks which parties still have a record to keep, erasure
        # which rows a shredded party owns.
        Index("ix_declaration_parties_party_ref", "party_ref"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    declaration_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("declarations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))
    eori_index: Mapped[str | None] = mapped_column(String(64))
    name_index: Mapped[str | None] = mapped_column(String(64))
    party_ref: Mapped[str] = mapped_column(String(80))  # whose data key seals this party's fields


class DeclarationEventRow(Base):
    """Every status transition: who, when, why."""

    __tablename__ = "declaration_events"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    declaration_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("declarations.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    ledger_index: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # Transitions with a ledger entry of their own (decisions, amendments, invalidation) keep its
    # sealed salt; the automatic ones at lodging are covered by their version's entry.
    salt: Mapped[bytes | None] = mapped_column(LargeBinary)
    salt_key_id: Mapped[int | None] = mapped_column(BigInteger)


# Core tables: the bulk paths insert through them, skipping the ORM's per-row bookkeeping.
DECLARATIONS: Table = DeclarationRow.__table__  # type: ignore[assignment]
VERSIONS: Table = DeclarationVersionRow.__table__  # type: ignore[assignment]
PARTIES: Table = DeclarationPartyRow.__table__  # type: ignore[assignment]
EVENTS: Table = DeclarationEventRow.__table__  # type: ignore[assignment]


class DeclarationDraftRow(Base):
    """A declaration being prepared, never lodged: the whole document sealed (it may name persons
    and carry confidential values before any rule has run). `key_id` is the declarant's data key when
    the draft names a declarant the owner may lodge for (so shredding that party erases it), else
    None: sealed under the service's draft key with the id and owner bound in."""

    __tablename__ = "declaration_drafts"
    __table_args__ = (
        Index("ix_declaration_drafts_owner", "owner", "updated_at"),
        Index("ix_declaration_drafts_declarant", "declarant_index"),
        Index("ix_declaration_drafts_updated", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(64))  # the LRN (trade code data) or "draft N"
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[int | None] = mapped_column(BigInteger)
    declarant_index: Mapped[str | None] = mapped_column(String(64))  # blind index of the declarant's EORI
