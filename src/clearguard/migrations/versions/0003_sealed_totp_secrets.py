"""identity_accounts.totp_secret: room for a sealed seed ("v1." + base64 of nonce, seed and tag)

Seeds already stored in clear stay readable and are sealed by the service the first time they are used.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 23:59:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("identity_accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=64), type_=sa.String(length=128), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("identity_accounts") as batch:
        batch.alter_column(
            "totp_secret", existing_type=sa.String(length=128), type_=sa.String(length=64), existing_nullable=True
        )
