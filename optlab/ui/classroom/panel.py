"""The class panel every page shows: the open lesson's task, joining a class and sending a result (students),
and preparing a lesson link (teachers); the presenter view when the link asks for it.

One call per page: ``class_panel("Surface_Lab", surface=surface, traces=traces, config=cfg)`` on the Surface
Lab, ``class_panel("MNIST_Lab")`` on the MNIST Lab (it reads the session's training run), ``class_panel(page)``
on a lesson page (prepare only).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from optlab.classroom import challenges, outcome
from optlab.classroom import lessons as lessons_mod
from optlab.classroom.challenges import Challenge
from optlab.classroom.lessons import Lesson
from optlab.classroom.submission import parse as parse_submission
from optlab.i18n import DEFAULT_LANGUAGE, N_, current_language, t, translator
from optlab.ui.widgets import hold_values

from . import links
from .access import attempt, join_form, store, student, tab_id
from .lesson import lesson_problem, open_lesson, page_fields
from .present import apply_presenter_style, join_card

CHALLENGE_CHOICES = ("", *challenges.KINDS)
PARAM_LABELS = {"surface": N_("surface (its link key s)"), "target": N_("target"),
                "max_steps": N_("within this many steps"), "optimizers": N_("optimizers (registry keys, a|b)"),
                "kappa": N_("condition number κ"), "tolerance": N_("tolerance (relative)"),
                "max_epochs": N_("within this many epochs")}
MADE_KEY = "classroom_made_lesson"  # session state: (lesson id, page) of the last lesson made here
SENT_KEY = "classroom_sent"
HTML_KEY = "classroom_html_wanted"
PANEL_OPEN_KEY = "classroom_panel_open"  # the sidebar panel's expander is open
# What a student or teacher types into the panel (widget keys, and key prefixes of the challenge's fields): kept
# while the panel is closed. Not the buttons, whose values a page may not set.
TYPED_KEYS = ("classroom_panel_code", "classroom_panel_name", "classroom_pick", "classroom_lock", "classroom_hide",
              "classroom_title", "classroom_task", "classroom_challenge", "classroom_ch")


def _submission_link() -> str:
    params = {k: v for k, v in links.current_params().items() if k not in (links.PRESENT, links.CLASS, links.KEY)}
    return urlencode(params, safe=":,")


def _kappa(surface: Any) -> float | None:
    eigs = getattr(surface, "hessian_eigs", None)
    if getattr(surface, "key", "") == "quadratic" and eigs:
        return float(max(eigs) / min(eigs))
    return None


# --- the lesson banner ---------------------------------------------------------------------------------------


def _banner(page: str, opened: tuple[str, Lesson] | None) -> Lesson | None:
    problem = lesson_problem()
    if problem:
        st.warning(problem, icon=":material/link:")
    if opened is None:
        return None
    lesson_id, lesson = opened
    if lesson.page != page:
        st.info(t("This link's lesson is for the {page} page.", page=lesson.page.replace("_", " ")), icon=":material/link:")
        return None
    title = t(lesson.title) if lesson.title else t("Lesson {id}", id=lesson_id)
    lines = [f"**{title}**"]
    if lesson.task:
        lines.append(t(lesson.task))
    if lesson.challenge is not None:
        lines.append(t("Challenge: {text}", text=challenges.describe(lesson.challenge)))
    if lesson.locked:
        lines.append(t("Greyed-out settings are fixed by this lesson."))
    st.info("\n\n".join(lines), icon=":material/school:")
    return lesson


# --- students ------------------------------------------------------------------------------------------------


def _surface_choices(surface: Any, traces: Sequence[Any], config: Any, challenge: Challenge | None):
    kappa = _kappa(surface)
    link = _submission_link()
    f_min = getattr(surface, "min_value", None)
    out = []
    for tr in traces:
        data = outcome.surface_submission(link, tr, surface.key, f_min, kappa, challenge, label=tr.label)
        out.append((tr.label, data))
    return out


def _training_choices(challenge: Challenge | None):
    from optlab.ui import training_job

    view = training_job.view()
    history = getattr(view, "history", None)
    if view is None or history is None or not history.labels:
        return [], t("Train first: press Start, then send the result when it has finished.")
    if view.running:
        return [], t("Training is still running; send the result when it has finished.")
    link = _submission_link()
    return [(label, outcome.training_submission(link, history, r, label, challenge=challenge, label=label))
            for r, label in enumerate(history.labels)], None


def _send(page: str, lesson: Lesson | None, surface: Any, traces: Sequence[Any] | None, config: Any) -> None:
    joined = student()
    if joined is None:
        st.caption(t("Join your class to send your result to the teacher's board."))
        join_form("classroom_panel", width="stretch")
        return
    st.markdown(t("You are in class **{code}** as **{name}**.", code=joined.code, name=joined.name))
    challenge = lesson.challenge if lesson is not None else None
    if page == "Surface_Lab" and traces:
        choices, why = _surface_choices(surface, traces, config, challenge), None
    elif page == "MNIST_Lab":
        choices, why = _training_choices(challenge)
    else:
        choices, why = [], t("This page has no result to send; open the Surface Lab or the MNIST Lab.")
    if why:
        st.caption(why)
        return
    labels = [c[0] for c in choices]
    pick = st.selectbox(t("Which run to send"), range(len(choices)), format_func=lambda i: labels[i],
                        key="classroom_pick")
    data = choices[pick][1]
    if data.get("challenge_passed") is not None:
        (st.success if data["challenge_passed"] else st.warning)(data["challenge_note"])
    if st.button(t("Send my result"), key="classroom_send", type="primary"):
        def send() -> int:
            sub = parse_submission(data)
            return store().submit(joined.code, joined.student_id, joined.token, sub, session=tab_id())

        sent = attempt(send)
        if sent is not None:
            st.session_state[SENT_KEY] = sent
            st.success(t("Sent: it is on the teacher's board."), icon=":material/check_circle:")


# --- teachers ------------------------------------------------------------------------------------------------


def _field_labels(page: str) -> dict[str, str]:
    labels: dict[str, str] = {}
    for fields in page_fields(page.lower()):
        values, _ = fields.decode(links.current_params(), unknown_note=False)
        for f in (f for f in fields if f.applies_to(values)):  # not the knobs of an optimizer not picked
            name = f.label or (f.what if f.what != f.key else "")  # a field may be named only by its what
            shown = t(name) if name else ""
            if shown == name and current_language() != DEFAULT_LANGUAGE:
                shown = ""  # a name with no translation: the bare key reads better than a foreign sentence
            labels[f.key] = f"{shown} ({f.key})" if shown else f.key
    for key in links.current_params():
        if key not in lessons_mod.APP_KEYS:
            labels.setdefault(key, key)
    return labels


def _challenge_form(page: str) -> dict | None:
    kinds = [k for k in CHALLENGE_CHOICES if not k or challenges.KINDS[k].page == page]
    tr = translator()  # format_func may run after this script run, outside the session's language
    kind = st.selectbox(t("Challenge (checked on each student's own result)"), kinds, key="classroom_challenge",
                        format_func=lambda k: tr("none") if not k else tr(challenges.KINDS[k].title))
    if not kind:
        return None
    data: dict = {"kind": kind}
    cols = [st.container() for _ in challenges.KINDS[kind].params]
    defaults = {"surface": st.query_params.get("s", "rosenbrock"), "target": 1e-4 if kind == "reach" else 0.95,
                "max_steps": 200, "optimizers": "momentum" if kind == "reach" else "adam", "kappa": 100.0,
                "tolerance": 0.02, "max_epochs": 2}
    for col, (name, typ, low, high) in zip(cols, challenges.KINDS[kind].params, strict=True):
        key, label = f"classroom_ch_{kind}_{name}", t(PARAM_LABELS[name])
        if typ is str:
            data[name] = col.text_input(label, value=str(defaults[name]), key=key)
        elif typ is int:
            data[name] = int(col.number_input(label, int(low), int(high), int(defaults[name]), key=key))
        else:
            data[name] = float(col.number_input(label, float(low), float(high), float(defaults[name]), key=key,
                                                format="%g"))
    return data


def _prepare(page: str, surface: Any, traces: Sequence[Any] | None, config: Any) -> None:
    labels = _field_labels(page)
    keys = list(labels)
    st.caption(t("Turn this view into a lesson link: what you lock shows greyed with its value, what you hide is "
                 "not shown, and a student who edits the link gets the locked values back."))
    locked = st.multiselect(t("Lock these settings"), keys, format_func=labels.get, key="classroom_lock")
    hidden = st.multiselect(t("Hide these settings"), keys, format_func=labels.get, key="classroom_hide")
    title = st.text_input(t("Title"), max_chars=lessons_mod.MAX_TITLE, key="classroom_title")
    task = st.text_area(t("Task for the students"), max_chars=lessons_mod.MAX_TASK, key="classroom_task")
    challenge = _challenge_form(page)
    if st.button(t("Make the lesson link"), key="classroom_make", type="primary"):
        values = {k: v for k, v in links.current_params().items() if k not in lessons_mod.APP_KEYS}

        def make() -> str:
            lesson = lessons_mod.parse({"page": page, "params": sorted(values.items()), "locked": locked,
                                        "hidden": hidden, "task": task, "title": title, "challenge": challenge})
            return store().save_lesson(lesson, session=tab_id())

        made = attempt(make)
        if made is not None:
            st.session_state[MADE_KEY] = (made, page, values)
    made = st.session_state.get(MADE_KEY)
    if made and made[1] == page:
        lesson_id, _, values = made
        code = st.query_params.get(links.CLASS) or None
        student_link = links.page_url(page, links.lesson_params(lesson_id, values, code))
        st.markdown(t("**Lesson link** (students open this):"))
        st.code(student_link, language="text", wrap_lines=True)
        present = links.page_url(page, {**links.lesson_params(lesson_id, values, code), links.PRESENT: "1"})
        st.markdown(t("[Open the presenter view]({url}) · [Open a class board for this lesson]({board})",
                      url=present, board=links.page_url("Class_board", {"lesson": lesson_id})))
    st.markdown(t("**Ready-made lessons**"))
    st.markdown("\n".join(f"- [{t(les.title)}]({links.page_url(les.page, links.lesson_params(k, les.values))})"
                          for k, les in lessons_mod.BUILTIN.items()))
    if page == "Surface_Lab" and traces and surface is not None:
        from .export import export_html

        if st.button(t("Make one HTML file of this view (works offline)"), key="classroom_html_make"):
            st.session_state[HTML_KEY] = True
        if st.session_state.get(HTML_KEY):  # built only when clicked: the sweep runs the real optimizers
            st.download_button(t("Download the HTML file"), key="classroom_html",
                               data=lambda: export_html(surface, traces, config, title or surface.name, task),
                               file_name="optlab_lesson.html", mime="text/html", on_click="ignore")


# --- the panel -----------------------------------------------------------------------------------------------


def class_panel(page: str, surface: Any = None, traces: Sequence[Any] | None = None, config: Any = None) -> None:
    """The lesson's task, then the class expander (send my result, prepare for class); presenter view on
    ``?present=1``."""
    opened = open_lesson()
    if links.presenting():  # the task beside a small QR code, so the figure below stays on a 1280×720 screen
        apply_presenter_style()
        left, right = st.columns([3, 1], vertical_alignment="center")
        with left:
            _banner(page, opened)
        with right:
            code = st.query_params.get(links.CLASS) or None
            join_card(links.join_url(page, code), code, size_px=150)
        return
    lesson = _banner(page, opened)
    # In the sidebar, below the page's own controls: the main column (the figure on a 1280×720 screen) is untouched.
    # Drawn only while open (opening it reruns the page): a closed panel costs a page run nothing, and what was
    # typed into it is kept for when it opens again.
    box = st.sidebar.expander(t("Class: send my result · prepare for class"), key=PANEL_OPEN_KEY,
                              expanded=bool(st.query_params.get(links.CLASS)), on_change="rerun")
    if not box.open:
        hold_values(*TYPED_KEYS)
        return
    with box:
        send, prepare = st.tabs([t("Send my result"), t("Prepare for class")])
        with send:
            _send(page, lesson, surface, traces, config)
        with prepare:
            _prepare(page, surface, traces, config)


__all__ = ["class_panel"]
