"""crypto_shred_epoch (a counter every shred moves, so every process drops its cached keys at once);
risk_assessments.items_key_id and sealed_items (the scored records, item prices included, sealed
under the declarant's data key)

Assessments recorded before this revision keep their records in `items` until they are re-assessed.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crypto_shred_epoch",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crypto_shred_epoch")),
    )
    with op.batch_alter_table("risk_assessments") as batch:
        batch.add_column(sa.Column("items_key_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("sealed_items", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("risk_assessments") as batch:
        batch.drop_column("sealed_items")
        batch.drop_column("items_key_id")
    op.drop_table("crypto_shred_epoch")
