"""retention_holds (legal holds), retention_runs (disposal runs and their certificates);
declarations.disposed_at and disposal_run (a declaration disposed of by a retention run); an index
on declaration_parties.party_ref (which parties still have a record to keep); audit_events.disposal_run

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 21:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa

import clearguard.db
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "retention_holds",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=False),
        sa.Column("case_id", sa.String(length=80), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=False),
        sa.Column("review", sa.Date(), nullable=True),
        sa.Column("created_at", clearguard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("released_at", clearguard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_by", sa.String(length=64), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_holds")),
    )
    op.create_index("ix_retention_holds_target", "retention_holds", ["scope", "target"], unique=False)
    op.create_index(op.f("ix_retention_holds_released_at"), "retention_holds", ["released_at"], unique=False)
    op.create_table(
        "retention_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("as_of", clearguard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("started_at", clearguard.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", clearguard.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("policy_version", sa.String(length=32), nullable=False),
        sa.Column("certificate", _JSON, nullable=True),
        sa.Column("salt", sa.LargeBinary(), nullable=True),
        sa.Column("ledger_index", sa.BigInteger(), nullable=True),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_retention_runs")),
        sa.UniqueConstraint("ledger_index", name=op.f("uq_retention_runs_ledger_index")),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("disposal_run", sa.BigInteger(), nullable=True))
    op.create_index("ix_declaration_parties_party_ref", "declaration_parties", ["party_ref"], unique=False)
    with op.batch_alter_table("declarations") as batch:
        batch.add_column(sa.Column("disposed_at", clearguard.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("disposal_run", sa.BigInteger(), nullable=True))
        batch.create_index(op.f("ix_declarations_disposal_run"), ["disposal_run"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("declarations") as batch:
        batch.drop_index(op.f("ix_declarations_disposal_run"))
        batch.drop_column("disposal_run")
        batch.drop_column("disposed_at")
    op.drop_index("ix_declaration_parties_party_ref", table_name="declaration_parties")
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("disposal_run")
    op.drop_table("retention_runs")
    op.drop_index(op.f("ix_retention_holds_released_at"), table_name="retention_holds")
    op.drop_index("ix_retention_holds_target", table_name="retention_holds")
    op.drop_table("retention_holds")
