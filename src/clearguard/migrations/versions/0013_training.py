"""training: the course catalogue and staff completions (the gate on privileged roles)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 12:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    courses = op.create_table(
        "training_courses",
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=128), nullable=False),
        sa.Column("validity_days", sa.Integer(), nullable=False),
        sa.Column("required_for_privileged", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_training_courses")),
    )
    # The catalogue as shipped (clearguard.training.courses); the service adds any course it lacks.
    op.bulk_insert(
        courses,
        [
            {
                "slug": "data-protection",
                "title": "Data protection for customs staff",
                "validity_days": 365,
                "required_for_privileged": True,
            },
            {
                "slug": "security-awareness",
                "title": "Security awareness",
                "validity_days": 365,
                "required_for_privileged": False,
            },
        ],
    )
    op.create_table(
        "training_completions",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("course", sa.String(length=64), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("certificate", sa.String(length=128), nullable=True),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course"], ["training_courses.slug"], name=op.f("fk_training_completions_course_training_courses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_completions")),
    )
    op.create_index(
        "ix_training_completions_user_course_expires", "training_completions", ["username", "course", "expires_on"]
    )
    op.create_index("ix_training_completions_expires", "training_completions", ["expires_on"])


def downgrade() -> None:
    op.drop_index("ix_training_completions_expires", table_name="training_completions")
    op.drop_index("ix_training_completions_user_course_expires", table_name="training_completions")
    op.drop_table("training_completions")
    op.drop_table("training_courses")
