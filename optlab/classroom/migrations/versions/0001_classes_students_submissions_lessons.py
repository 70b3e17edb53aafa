"""The first schema: classes, students, submissions and lessons.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(12), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("lesson_id", sa.String(40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_classes_code", "classes", ["code"], unique=True)
    op.create_table(
        "students",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(24), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("class_id", "name", name="uq_students_class_name"),
    )
    op.create_index("ix_students_class_id", "students", ["class_id"])
    op.create_table(
        "submissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("class_id", sa.Integer, sa.ForeignKey("classes.id", ondelete="CASCADE"), nullable=False),
        sa.Column("student_id", sa.Integer, sa.ForeignKey("students.id", ondelete="CASCADE"), nullable=False),
        sa.Column("page", sa.String(40), nullable=False),
        sa.Column("link", sa.Text, nullable=False),
        sa.Column("label", sa.String(80), nullable=False),
        sa.Column("final_loss", sa.Float, nullable=True),
        sa.Column("steps_to_converge", sa.Integer, nullable=True),
        sa.Column("accuracy", sa.Float, nullable=True),
        sa.Column("challenge_passed", sa.Boolean, nullable=True),
        sa.Column("challenge_note", sa.String(200), nullable=False),
        sa.Column("series_kind", sa.String(8), nullable=False),
        sa.Column("series", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_submissions_class_id", "submissions", ["class_id"])
    op.create_index("ix_submissions_student_id", "submissions", ["student_id"])
    op.create_table(
        "lessons",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("page", sa.String(40), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lessons")
    op.drop_index("ix_submissions_student_id", "submissions")
    op.drop_index("ix_submissions_class_id", "submissions")
    op.drop_table("submissions")
    op.drop_index("ix_students_class_id", "students")
    op.drop_table("students")
    op.drop_index("ix_classes_code", "classes")
    op.drop_table("classes")
