"""privacy_requests: data subject requests (access, rectification, erasure) with their deadline and
outcome; the subject as a party reference, what it asked sealed under its own key

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "privacy_requests",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("party_ref", sa.String(length=80), nullable=False),
        sa.Column("details", sa.LargeBinary(), nullable=True),
        sa.Column("details_key_id", sa.BigInteger(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_by", sa.String(length=64), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("legal_reason", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_requests")),
    )
    op.create_index("ix_privacy_requests_status_deadline", "privacy_requests", ["status", "deadline"])
    op.create_index("ix_privacy_requests_party_ref", "privacy_requests", ["party_ref"])


def downgrade() -> None:
    op.drop_index("ix_privacy_requests_party_ref", table_name="privacy_requests")
    op.drop_index("ix_privacy_requests_status_deadline", table_name="privacy_requests")
    op.drop_table("privacy_requests")
