"""declarations: index on lrn, for the batch LRN lookup of bulk lodging

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 09:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_declarations_lrn", "declarations", ["lrn"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_declarations_lrn", table_name="declarations")
