"""The server's one class store, this tab's identity, and the notice when the database is down.

The store is made once per server process (``st.cache_resource``); if the database cannot be reached the
failure is not cached, so the next click tries again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from optlab.classroom import ClassroomError, ClassroomUnavailable
from optlab.classroom.engine import get_engine
from optlab.classroom.store import ClassStore, Joined
from optlab.i18n import t

from . import links

T = TypeVar("T")
STUDENT_KEY = "classroom_student"  # session state: the Joined of this tab
TAB_KEY = "classroom_tab"  # session state: this tab's id for the rate limits


@st.cache_resource(show_spinner=False)
def _store() -> ClassStore:
    return ClassStore(get_engine())


def store() -> ClassStore:
    """The class store (raises ClassroomUnavailable when the database cannot be reached)."""
    return _store()


def tab_id() -> str:
    if TAB_KEY not in st.session_state:
        st.session_state[TAB_KEY] = uuid.uuid4().hex
    return st.session_state[TAB_KEY]


def student() -> Joined | None:
    return st.session_state.get(STUDENT_KEY)


def attempt(action: Callable[[], T], where=st) -> T | None:
    """Run ``action``; a refusal or an unreachable database is shown in ``where`` and gives None."""
    try:
        return action()
    except ClassroomUnavailable as e:
        where.warning(str(e), icon=":material/database:")
    except ClassroomError as e:
        where.error(str(e), icon=":material/warning:")
    return None


def join_form(key: str, **button) -> None:
    """The class code (prefilled from the link) and a display name; joining keeps the student in this tab's
    session. Widget keys are ``<key>_code`` and ``<key>_name``; ``button`` styles the Join button."""
    with st.form(f"{key}_form", border=False):
        code = st.text_input(t("Class code"), value=st.query_params.get(links.CLASS, ""), max_chars=12,
                             key=f"{key}_code")
        name = st.text_input(t("Your display name"), max_chars=40, key=f"{key}_name",
                             help=t("Only this name is stored; no other personal data."))
        if st.form_submit_button(t("Join"), **button):
            joined = attempt(lambda: store().join(code, name, session=tab_id()))
            if joined is not None:
                st.session_state[STUDENT_KEY] = joined
                st.rerun()
