"""traveller_records: traveller clearance records (the biometric category), sealed per traveller

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "traveller_records",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("officer", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("declared_via", sa.String(length=16), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("traveller_index", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traveller_records")),
        sa.UniqueConstraint("record_id", name=op.f("uq_traveller_records_record_id")),
    )
    op.create_index("ix_traveller_records_created", "traveller_records", ["created_at"], unique=False)
    op.create_index("ix_traveller_records_office_created", "traveller_records", ["office", "created_at"], unique=False)
    op.create_index("ix_traveller_records_traveller", "traveller_records", ["traveller_index"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_traveller_records_traveller", table_name="traveller_records")
    op.drop_index("ix_traveller_records_office_created", table_name="traveller_records")
    op.drop_index("ix_traveller_records_created", table_name="traveller_records")
    op.drop_table("traveller_records")
