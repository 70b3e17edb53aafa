"""The class board page: a teacher opens a class and watches it live; a student joins with the code.

The teacher's link holds the class code and the teacher key (``?class=K7QM2T&key=...``): anyone with that link
is the teacher, anyone with the code alone a student. The board refreshes itself every few seconds
(``st.fragment(run_every=...)``) and shows a table of submissions, one figure overlaying every student's path or
curve, and links that open each submission as it was.
"""

from __future__ import annotations

import functools
from collections import Counter
from urllib.parse import parse_qs

import streamlit as st

from optlab.classroom import lessons as lessons_mod
from optlab.classroom.store import Board
from optlab.i18n import t, translator
from optlab.plots.board import board_figure, contour
from optlab.surfaces import SURFACES, quadratic

from . import links
from .access import attempt, store, student, tab_id
from .access import join_form as join_fields
from .present import apply_presenter_style, join_card
from .table import MISSING, submissions_frame

REFRESH_S = 3
HIDE_KEY = "classroom_hide_names"
TEACHER_KEY = "classroom_teacher"  # session state: (code, key) of the class this tab opened


def open_class_form() -> None:
    st.subheader(t("Open a class"), anchor=False)
    with st.form("classroom_open", border=False):
        title = st.text_input(t("Class title (optional)"), max_chars=120, key="classroom_open_title")
        builtin = [""] + list(lessons_mod.BUILTIN)
        given = st.query_params.get(links.LESSON, "")
        options = builtin if given in builtin else [*builtin, given]
        tr = translator()  # format_func may run after this script run, outside the session's language
        lesson = st.selectbox(t("Lesson for the class (optional)"), options, index=options.index(given),
                              format_func=lambda k: tr("none") if not k else (
                                  tr(lessons_mod.BUILTIN[k].title) if k in lessons_mod.BUILTIN else k),
                              key="classroom_open_lesson")
        if st.form_submit_button(t("Open the class"), type="primary"):
            opened = attempt(lambda: store().open_class(title, lesson or None, session=tab_id()))
            if opened is not None:
                st.session_state[TEACHER_KEY] = (opened.code, opened.key)
                st.query_params.from_dict({links.CLASS: opened.code, links.KEY: opened.key})
                st.rerun()


def join_form() -> None:
    st.subheader(t("Join a class"), anchor=False)
    joined = student()
    if joined is not None:
        st.success(t("You are in class {code} as {name}.", code=joined.code, name=joined.name))
        info = attempt(lambda: store().info(joined.code))
        if info is not None and info.lesson_id:
            lesson = attempt(lambda: store().lesson(info.lesson_id))
            path = links.page_file(lesson.page) if lesson is not None else None
            if path is not None:  # a page link keeps this tab's session, and with it the student's place
                st.page_link(path, label=t("Open the class's lesson"), icon=":material/school:",
                             query_params=links.lesson_params(info.lesson_id, lesson.values, joined.code))
                st.caption(t("Then send your result from the Class panel in its sidebar."))
        else:
            st.markdown(t("Open the Surface Lab or the MNIST Lab and send your result from the Class panel in its "
                      "sidebar."))
        return
    join_fields("classroom_join", type="primary")


def _background(board: Board):
    """The surface every path was run on, when they share one catalog surface (or the quadratic's κ)."""
    surfaces = Counter()
    for s in board.submissions:
        if s.page == "Surface_Lab":
            q = parse_qs(s.link)
            surfaces[(q.get("s", ["rosenbrock"])[-1], q.get("kappa", [""])[-1])] += 1
    if len(surfaces) != 1:
        return None, None
    (key, kappa), _ = surfaces.most_common(1)[0]
    grid = _grid(key, kappa)
    if grid is None:
        return None, None
    xs, ys, z, log, bounds = grid
    return contour(xs, ys, z, log), bounds


@functools.lru_cache(maxsize=32)
def _grid(key: str, kappa: str):
    """The surface's values on a 100×100 grid (computed once per surface and server), or None."""
    try:
        surface = quadratic(float(kappa or 10)) if key == "quadratic" else SURFACES.get(key)
    except ValueError:
        return None
    if surface is None:
        return None
    from .export import surface_grid

    xs, ys, z = surface_grid(surface, 100)
    return xs, ys, z, surface.log_levels, surface.bounds


def _names(board: Board, hide: bool) -> dict[str, str]:
    return {name: (t("student {n}", n=i + 1) if hide else name) for i, name in enumerate(board.students)}


def _figures(board: Board, names: dict[str, str], present: bool) -> None:
    """One figure of every path (Surface Lab) and one of every curve (MNIST Lab) sent so far."""
    for kind in ("path", "curve"):
        entries = [(f"{names.get(s.name, s.name)}: {s.label}", s.series) for s in board.submissions
                   if s.series_kind == kind and s.series]
        if entries:
            background, bounds = _background(board) if kind == "path" else (None, None)
            st.plotly_chart(board_figure(kind, entries, background, bounds, height=540 if present else 520),
                            key=f"classroom_{kind}_figure", config={"displaylogo": False})


def board_view(code: str, key: str) -> None:
    present = links.presenting()
    if present:
        apply_presenter_style()

    @st.fragment(run_every=REFRESH_S)
    def live() -> None:
        board = attempt(lambda: store().board(code, key, session=None))
        if board is None:
            return
        hide = st.session_state.get(HIDE_KEY, False) or present
        names = _names(board, hide)
        state = t("closed") if board.info.closed else t("open")
        st.markdown(t("**{n}** students, **{m}** results · the class is {state}", n=len(board.students),
                      m=len(board.submissions), state=state))
        if present:  # the figure first, large: what the room looks at
            _figures(board, names, present)
        if board.submissions:
            frame = submissions_frame(board.submissions, names, lambda s: links.page_url(s.page) + "?" + s.link)
            st.dataframe(frame, hide_index=True, key="classroom_table", placeholder=MISSING, column_config={
                t("open"): st.column_config.LinkColumn(t("open"), display_text=t("open as it was")),
                t("accuracy"): st.column_config.NumberColumn(format="%.2f%%"),
                t("final loss"): st.column_config.NumberColumn(format="%.3g")})
        else:
            st.caption(t("No results yet. Students join with the code and send from a lab's Class panel."))
        if not present:
            _figures(board, names, present)

    info = attempt(lambda: store().board(code, key, session=tab_id()))
    if info is None:
        return
    head, qr = st.columns([3, 1], vertical_alignment="center")
    with head:
        st.header(t("Class {code}", code=code) + (f" · {info.info.title}" if info.info.title else ""), anchor=False)
        if not present:
            st.caption(t("Keep this page's address: it holds your teacher key. Students need only the code."))
    with qr:
        join_card(links.join_url("Class_board", code), code, size_px=170)
    if not present:
        c1, c2, c3, c4 = st.columns(4, vertical_alignment="center")
        c1.toggle(t("Hide names (projecting)"), key=HIDE_KEY)
        if info.info.closed:
            if c2.button(t("Open the class again"), key="classroom_reopen"):
                attempt(lambda: store().close(code, key, closed=False, session=tab_id()))
                st.rerun()
        elif c2.button(t("Close the class"), key="classroom_close"):
            attempt(lambda: store().close(code, key, session=tab_id()))
            st.rerun()
        sure = c3.checkbox(t("Yes, remove every result"), key="classroom_clear_sure")
        if c4.button(t("Clear the class"), key="classroom_clear", disabled=not sure):
            attempt(lambda: store().clear(code, key, session=tab_id()))
            st.session_state[HIDE_KEY] = st.session_state.get(HIDE_KEY, False)
            st.rerun()
        st.markdown(t("[Presenter view]({url})", url=links.page_url(
            "Class_board", {links.CLASS: code, links.KEY: key, links.PRESENT: "1"})))
    live()


def page() -> None:
    code = st.query_params.get(links.CLASS)
    key = st.query_params.get(links.KEY)
    if code and key:
        board_view(code, key)
        return
    st.title(t("Class board"), anchor=False)
    st.caption(t("Open a class to get a code for your students and a board of their results, live. Students "
                 "join with the code and a display name; nothing else about them is stored."))
    left, right = st.columns(2, gap="large")
    with left:
        join_form()
    with right:
        open_class_form()
