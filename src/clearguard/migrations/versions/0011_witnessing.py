"""ledger_witness_alerts, ledger_mirrors: witnessing in both directions and mirroring partners' logs

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-06 09:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_witness_alerts",
        sa.Column("alert_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("known_size", sa.BigInteger(), nullable=False),
        sa.Column("known_root", sa.LargeBinary(), nullable=True),
        sa.Column("known_note", sa.Text(), nullable=True),
        sa.Column("seen_size", sa.BigInteger(), nullable=False),
        sa.Column("seen_root", sa.LargeBinary(), nullable=False),
        sa.Column("seen_note", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(), nullable=False),
        sa.Column("ledger_index", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("alert_id", name=op.f("pk_ledger_witness_alerts")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_ledger_witness_alerts_fingerprint")),
    )
    op.create_index(op.f("ix_ledger_witness_alerts_origin"), "ledger_witness_alerts", ["origin"], unique=False)
    op.create_table(
        "ledger_mirrors",
        sa.Column("origin", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.LargeBinary(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("origin", name=op.f("pk_ledger_mirrors")),
    )


def downgrade() -> None:
    op.drop_table("ledger_mirrors")
    op.drop_index(op.f("ix_ledger_witness_alerts_origin"), table_name="ledger_witness_alerts")
    op.drop_table("ledger_witness_alerts")
