"""detection: the activity store, alerts and suppressions; accounts locked by a detection response

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "detection_activity",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("office", sa.String(length=16), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("source_ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=256), nullable=True),
        sa.Column("record", sa.String(length=128), nullable=True),
        sa.Column("party", sa.String(length=128), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("audit_event", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_activity")),
        sa.UniqueConstraint("audit_event", name=op.f("uq_detection_activity_audit_event")),
    )
    op.create_index("ix_detection_activity_actor_at", "detection_activity", ["actor", "at"], unique=False)
    op.create_index("ix_detection_activity_source_at", "detection_activity", ["source_ip", "at"], unique=False)
    op.create_index(op.f("ix_detection_activity_at"), "detection_activity", ["at"], unique=False)
    op.create_table(
        "detection_alerts",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("incident", sa.String(length=255), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("actors", _JSON, nullable=False),
        sa.Column("sources", _JSON, nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("features", _JSON, nullable=False),
        sa.Column("findings", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", _JSON, nullable=False),
        sa.Column("responses", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_alerts")),
        sa.UniqueConstraint("incident", name=op.f("uq_detection_alerts_incident")),
    )
    op.create_index("ix_detection_alerts_status", "detection_alerts", ["level", "status", "last_at"], unique=False)
    op.create_table(
        "detection_suppressions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detection_suppressions")),
    )
    with op.batch_alter_table("identity_accounts") as batch:
        batch.add_column(sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_accounts") as batch:
        batch.drop_column("locked_until")
    op.drop_table("detection_suppressions")
    op.drop_index("ix_detection_alerts_status", table_name="detection_alerts")
    op.drop_table("detection_alerts")
    op.drop_index(op.f("ix_detection_activity_at"), table_name="detection_activity")
    op.drop_index("ix_detection_activity_source_at", table_name="detection_activity")
    op.drop_index("ix_detection_activity_actor_at", table_name="detection_activity")
    op.drop_table("detection_activity")
