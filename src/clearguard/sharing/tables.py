"""The sharing tables. Only SharingService reads or writes them.

Nothing personal in clear: partners are administrations (public keys, certificates, URLs);
agreements are legal texts and field lists; a received package's claims are sealed under the
partner's data key; the pseudonym map of the sending side seals each identity under its own
party's key (so shredding a trader makes its pseudonyms unresolvable too).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, Date, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class SharingPartnerRow(Base):
    __tablename__ = "sharing_partners"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)  # the local name: `partner add NAME`
    administration: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    kid: Mapped[str] = mapped_column(String(64), unique=True)  # signing key thumbprint (RFC 7638)
    identity: Mapped[str] = mapped_column(Text)  # the signed identity document, verbatim
    client_fingerprint: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of its client cert
    url: Mapped[str] = mapped_column(String(500))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SharingAgreementRow(Base):
    __tablename__ = "sharing_agreements"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    partner: Mapped[str] = mapped_column(String(64), index=True)
    direction: Mapped[str] = mapped_column(String(8))  # outgoing (we send) | incoming (we receive)
    status: Mapped[str] = mapped_column(String(16))  # proposed | accepted | revoked
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[str]] = mapped_column(JSON)
    pseudonymise: Mapped[bool] = mapped_column(Boolean)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    retention_days: Mapped[int] = mapped_column(Integer)
    document: Mapped[str] = mapped_column(Text)  # the agreement signed by the sending administration
    countersignature: Mapped[str | None] = mapped_column(Text)  # the receiving administration's
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(Text)


class SharingPackageRow(Base):
    """One package sent, received or refused. Received claims are sealed under the partner's data
    key; a sent or refused package keeps only digests and the ledger entry's salt."""

    __tablename__ = "sharing_packages"
    __table_args__ = (Index("ix_sharing_packages_agreement_created", "agreement_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    direction: Mapped[str] = mapped_column(String(8))  # sent | received | refused
    partner: Mapped[str | None] = mapped_column(String(64))
    agreement_id: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(32))  # a refusal's slug
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the presented SD-JWT (or of the refused bytes)
    declaration_type: Mapped[str | None] = mapped_column(String(4))
    key_id: Mapped[int | None] = mapped_column(BigInteger)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary)
    commitment_body: Mapped[str] = mapped_column(Text)  # canonical JSON the ledger entry commits to
    ledger_index: Mapped[int | None] = mapped_column(BigInteger)
    retain_until: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # claims deleted past retain_until


class SharingNonceRow(Base):
    """Nonces of accepted packages, per sender, kept until the package would have expired."""

    __tablename__ = "sharing_nonces"
    __table_args__ = (UniqueConstraint("sender", "nonce"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    sender: Mapped[str] = mapped_column(String(64))
    nonce: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SharingPseudonymRow(Base):
    """Sending side: which identity a pseudonym given to a partner stands for, sealed under that
    party's own data key, for re-identification by a DPO."""

    __tablename__ = "sharing_pseudonyms"
    __table_args__ = (UniqueConstraint("partner", "pseudonym"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner: Mapped[str] = mapped_column(String(64))
    pseudonym: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    key_id: Mapped[int] = mapped_column(BigInteger)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
