"""sharing: partner administrations, agreements, packages, nonces, pseudonyms (issue 15)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sharing_partners",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("administration", sa.String(length=200), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("identity", sa.Text(), nullable=False),
        sa.Column("client_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_sharing_partners")),
        sa.UniqueConstraint("kid", name=op.f("uq_sharing_partners_kid")),
        sa.UniqueConstraint("client_fingerprint", name=op.f("uq_sharing_partners_client_fingerprint")),
    )
    op.create_table(
        "sharing_agreements",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("purpose", sa.Text(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("pseudonymise", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("max_per_day", sa.Integer(), nullable=True),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("countersignature", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_agreements")),
    )
    op.create_index("ix_sharing_agreements_partner", "sharing_agreements", ["partner"], unique=False)
    op.create_table(
        "sharing_packages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=True),
        sa.Column("agreement_id", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("declaration_type", sa.String(length=4), nullable=True),
        sa.Column("key_id", sa.BigInteger(), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("commitment_body", sa.Text(), nullable=False),
        sa.Column("ledger_index", sa.BigInteger(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("disposed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_packages")),
    )
    op.create_index(
        "ix_sharing_packages_agreement_created", "sharing_packages", ["agreement_id", "created_at"], unique=False
    )
    op.create_table(
        "sharing_nonces",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_nonces")),
        sa.UniqueConstraint("sender", "nonce", name=op.f("uq_sharing_nonces_sender_nonce")),
    )
    op.create_table(
        "sharing_pseudonyms",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("partner", sa.String(length=64), nullable=False),
        sa.Column("pseudonym", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_pseudonyms")),
        sa.UniqueConstraint("partner", "pseudonym", name=op.f("uq_sharing_pseudonyms_partner_pseudonym")),
    )


def downgrade() -> None:
    op.drop_table("sharing_pseudonyms")
    op.drop_table("sharing_nonces")
    op.drop_index("ix_sharing_packages_agreement_created", table_name="sharing_packages")
    op.drop_table("sharing_packages")
    op.drop_index("ix_sharing_agreements_partner", table_name="sharing_agreements")
    op.drop_table("sharing_agreements")
