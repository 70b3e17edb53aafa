"""The addresses the class board hands out: a lesson link, a student's join link, the presenter view, the board.

Built from the address the browser is at (``st.context.url``), so a link made behind a proxy points where the
students can reach.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

import streamlit as st

LESSON = "lesson"
PRESENT = "present"
CLASS = "class"
KEY = "key"


def base_url() -> str:
    """``http://host:port/`` of the app as the browser sees it."""
    url = st.context.url or ""
    parts = urlsplit(url)
    if not parts.scheme:
        return "/"
    return f"{parts.scheme}://{parts.netloc}/"


def page_url(page: str, params: Mapping[str, str] | None = None) -> str:
    query = urlencode(dict(params or {}), safe=":,")
    return base_url() + page + (f"?{query}" if query else "")


def lesson_params(lesson_id: str, values: Mapping[str, str], class_code: str | None = None) -> dict[str, str]:
    """``lesson=<id>`` first, then the page's own link values (and the class code for students to join)."""
    params = {LESSON: lesson_id}
    if class_code:
        params[CLASS] = class_code
    return params | {k: v for k, v in values.items() if k not in (LESSON, PRESENT, CLASS, KEY)}


def page_file(url_path: str) -> str | None:
    """``pages/1_Surface_Lab.py`` for ``"Surface_Lab"``: what ``st.page_link`` needs to stay in the session."""
    from optlab.ui.pages import page_entries

    return next((e.path for e in page_entries() if e.url_path == url_path), None)


def join_url(page: str, class_code: str | None) -> str:
    """What students scan: the class board with the code filled in (short), or without a class this page's link."""
    if class_code:
        return page_url("Class_board", {CLASS: class_code})
    return page_url(page, {k: v for k, v in current_params().items() if k != PRESENT})


def current_params() -> dict[str, str]:
    return {k: st.query_params.get(k) for k in st.query_params}


def presenting() -> bool:
    return st.query_params.get(PRESENT) == "1"
