"""The teacher's side of optlab: classes, students, submissions and prepared lessons in a real database.

``engine`` (where the database is, migrations at first use), ``models`` (the tables), ``store`` (the queries),
``codes`` (class codes, teacher keys, display names), ``submission`` and ``lessons`` (checked input),
``challenges`` (checks on a student's own result), ``outcome`` (a result from a run), ``limits`` (rate limits).
No Streamlit here: ``optlab.ui.classroom`` draws it.
"""

from __future__ import annotations

from .errors import ClassroomError, ClassroomUnavailable

__all__ = ["ClassroomError", "ClassroomUnavailable"]
