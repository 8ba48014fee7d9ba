"""The training tables. Only TrainingService reads or writes them.

No personal data beyond the account's username: a completion names the course, its dates, the
certificate's reference (a number issued by the training provider, not a document about the person)
and who recorded it when.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from clearguard.db import Base, BigIntPK, UTCDateTime


class CourseRow(Base):
    """The catalogue as stored, so completions reference a course that exists (courses.py is its source)."""

    __tablename__ = "training_courses"

    slug: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(128))
    validity_days: Mapped[int] = mapped_column(Integer)
    required_for_privileged: Mapped[bool] = mapped_column(Boolean)


class CompletionRow(Base):
    __tablename__ = "training_completions"
    __table_args__ = (
        # The gate's one query per privileged request: the latest expiry of a user's course.
        Index("ix_training_completions_user_course_expires", "username", "course", "expires_on"),
        Index("ix_training_completions_expires", "expires_on"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64))
    course: Mapped[str] = mapped_column(ForeignKey("training_courses.slug"))
    completed_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    certificate: Mapped[str | None] = mapped_column(String(128))
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
