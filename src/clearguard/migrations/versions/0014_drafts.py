"""drafts: declaration documents being prepared by traders and brokers, sealed whole

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 14:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "declaration_drafts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=True),
        sa.Column("declarant_index", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declaration_drafts")),
    )
    op.create_index("ix_declaration_drafts_owner", "declaration_drafts", ["owner", "updated_at"])
    op.create_index("ix_declaration_drafts_declarant", "declaration_drafts", ["declarant_index"])
    op.create_index("ix_declaration_drafts_updated", "declaration_drafts", ["updated_at"])


def downgrade() -> None:
    op.drop_index("ix_declaration_drafts_updated", table_name="declaration_drafts")
    op.drop_index("ix_declaration_drafts_declarant", table_name="declaration_drafts")
    op.drop_index("ix_declaration_drafts_owner", table_name="declaration_drafts")
    op.drop_table("declaration_drafts")
