"""The class board's tables as SQLAlchemy 2 ORM models: classes, students, submissions and lessons.

The schema itself is made by the Alembic migrations in ``optlab/classroom/migrations/versions`` (never by
``create_all``); ``tests/test_classroom_db.py`` checks that the migrated schema and these models agree.
What is stored about a student: the display name they typed and the hash of their token. Nothing else.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    pass


class ClassRoom(Base):
    """One class a teacher opened: its code, the hash of its teacher key, and whether it still takes work."""

    __tablename__ = "classes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, index=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(120), default="")
    lesson_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    students: Mapped[list[Student]] = relationship(back_populates="classroom", cascade="all, delete-orphan")


class Student(Base):
    """A display name that joined a class, and the hash of the token that lets it submit."""

    __tablename__ = "students"
    __table_args__ = (UniqueConstraint("class_id", "name", name="uq_students_class_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(24))
    token_hash: Mapped[str] = mapped_column(String(64))
    joined_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    classroom: Mapped[ClassRoom] = relationship(back_populates="students")


class Submission(Base):
    """A student's result as it was sent: the link that reproduces it, its outcome, and its path or curve."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    class_id: Mapped[int] = mapped_column(ForeignKey("classes.id", ondelete="CASCADE"), index=True)
    student_id: Mapped[int] = mapped_column(ForeignKey("students.id", ondelete="CASCADE"), index=True)
    page: Mapped[str] = mapped_column(String(40))
    link: Mapped[str] = mapped_column(Text)  # the page's query string: opens the submission as it was
    label: Mapped[str] = mapped_column(String(80), default="")  # e.g. "Adam, lr 0.05"
    final_loss: Mapped[float | None] = mapped_column(Float, nullable=True)
    steps_to_converge: Mapped[int | None] = mapped_column(Integer, nullable=True)
    accuracy: Mapped[float | None] = mapped_column(Float, nullable=True)
    challenge_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    challenge_note: Mapped[str] = mapped_column(String(200), default="")
    series_kind: Mapped[str] = mapped_column(String(8), default="")  # "path" (x, y points) or "curve" (loss)
    series: Mapped[str] = mapped_column(Text, default="[]")  # JSON
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LessonRow(Base):
    """A prepared link: the page, its view values, what is locked and hidden, the task and the challenge."""

    __tablename__ = "lessons"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    page: Mapped[str] = mapped_column(String(40))
    body: Mapped[str] = mapped_column(Text)  # JSON of optlab.classroom.lessons.Lesson
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
