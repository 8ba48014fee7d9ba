"""identity_login_failures: drop the counters kept under clear keys ("acct:<username>", "addr:<ip>")

The throttle now counts per (account, source) pair, per account and per address under digests of
those values (never the attempted name or the address in clear). The old rows are transient counters
that the new code no longer reads; deleting them forgets at most 15 minutes of failures.

Revision ID: 0004_h1
Revises: 0003
Create Date: 2026-12-04 17:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004_h1"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DELETE FROM identity_login_failures")


def downgrade() -> None:
    # Counters only: the old code starts counting afresh.
    op.execute("DELETE FROM identity_login_failures")
