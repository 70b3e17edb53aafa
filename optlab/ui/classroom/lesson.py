"""The lesson a link opens (``?lesson=<id>``): read once per id and session, and turned into the page's locks.

A lesson's locked values are stored as the link writes them; the page's own field list
(``optlab.config.<page>``: every ``Fields`` it declares) reads them into typed values, the same way it reads
the link, so a locked value means exactly what the link meant.
"""

from __future__ import annotations

import importlib
from types import ModuleType

import streamlit as st

from optlab.classroom import ClassroomError, ClassroomUnavailable
from optlab.classroom.lessons import BUILTIN, Lesson
from optlab.fields import NO_CONSTRAINTS, Constraints, Fields

from .access import store
from .links import LESSON

CACHE_KEY = "classroom_lessons"  # session state: lesson id -> Lesson, or the sentence why it cannot open
PROBLEM_KEY = "classroom_lesson_problem"


def _config_module(page_key: str) -> ModuleType | None:
    try:
        return importlib.import_module(f"optlab.config.{page_key}")
    except ImportError:
        return None


def page_fields(page_key: str) -> list[Fields]:
    """Every field list the page declares: ``optlab.config.<page_key>``'s ``Fields``, or the entry for the page
    in ``optlab.config.lessons.PAGES`` (a dict page key -> Fields), if there is one."""
    module = _config_module(page_key)
    if module is not None:
        return [v for v in vars(module).values() if isinstance(v, Fields)]
    lessons = _config_module("lessons")
    pages = getattr(lessons, "PAGES", None) if lessons is not None else None
    if isinstance(pages, dict) and isinstance(pages.get(page_key), Fields):
        return [pages[page_key]]
    return []


def open_lesson() -> tuple[str, Lesson] | None:
    """(id, lesson) of ``?lesson=<id>``, or None; why it could not be opened is kept for the panel to say."""
    lesson_id = st.query_params.get(LESSON)
    if not lesson_id:
        st.session_state.pop(PROBLEM_KEY, None)
        return None
    if lesson_id in BUILTIN:  # the ready-made lessons open without the database
        st.session_state.pop(PROBLEM_KEY, None)
        return lesson_id, BUILTIN[lesson_id]
    cache = st.session_state.setdefault(CACHE_KEY, {})
    if lesson_id not in cache:
        try:
            cache[lesson_id] = store().lesson(lesson_id)
        except (ClassroomError, ClassroomUnavailable) as e:
            if isinstance(e, ClassroomUnavailable):  # try again on the next run
                st.session_state[PROBLEM_KEY] = str(e)
                return None
            cache[lesson_id] = str(e)
    found = cache[lesson_id]
    if isinstance(found, str):
        st.session_state[PROBLEM_KEY] = found
        return None
    st.session_state.pop(PROBLEM_KEY, None)
    return lesson_id, found


def lesson_problem() -> str | None:
    return st.session_state.get(PROBLEM_KEY)


def constraints_of(lesson: Lesson, page_key: str) -> Constraints:
    """The lesson's locks as typed values of the page's fields, and its hidden keys."""
    if lesson.page.lower() != page_key:
        return NO_CONSTRAINTS
    locked: dict = {}
    wanted = set(lesson.locked)
    for fields in page_fields(page_key):
        mine = {k: v for k, v in lesson.params if k in fields.keys}
        values, _ = fields.decode(mine, unknown_note=False)
        locked |= {k: values[k] for k in wanted if k in fields.keys}
    return Constraints(locked=locked, hidden=frozenset(lesson.hidden))
