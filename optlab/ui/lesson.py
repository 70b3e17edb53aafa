"""Shared layout of a lesson page: show the code, predict then reveal, and PyTorch-style printing of optimizer state.

The formatting functions are plain (no Streamlit) so they can be tested alone; the rest draws with Streamlit.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
import torch

from optlab.config.app import LESSON
from optlab.config.lessons import PAGES, URL_PATHS, page_key
from optlab.fields import Constraints, Fields
from optlab.i18n import t, translator
from optlab.ui import fields as ui_fields
from optlab.ui.classroom.panel import class_panel
from optlab.ui.constraints import active_constraints


def format_value(value: Any) -> str:
    """One value as Python would print it, with tensors shown by their numbers (4 decimals) and shape."""
    if isinstance(value, torch.Tensor):
        if value.numel() == 1 and value.ndim == 0:
            return f"tensor({value.item():.4g})"
        return f"tensor({_rounded(value.detach().tolist())})"
    if isinstance(value, float):
        return f"{value:.6g}"
    return repr(value)


def _rounded(x: Any) -> Any:
    """Nested lists of floats rounded to 4 decimals, so a tensor prints on one short line."""
    return [_rounded(v) for v in x] if isinstance(x, list) else round(x, 4)


def format_param_groups(groups: Sequence[dict], class_name: str = "SGD") -> str:
    """param_groups as ``print(optimizer)`` shows them: one block per group, keys sorted, tensors left out."""
    lines = [f"{class_name} ("]
    for i, group in enumerate(groups):
        lines.append(f"Parameter Group {i}")
        for key in sorted(group):
            if key != "params":
                lines.append(f"    {key}: {format_value(group[key])}")
    lines.append(")")
    return "\n".join(lines)


def format_state_dict(state_dict: dict) -> str:
    """An optimizer's state_dict() laid out over several lines, tensors rounded, so a student can read it."""
    lines = ["{'state': {"]
    for index, entry in state_dict["state"].items():
        inner = ", ".join(f"'{k}': {format_value(v)}" for k, v in entry.items())
        lines.append(f"    {index}: {{{inner}}},")
    lines.append("  },")
    lines.append(" 'param_groups': [")
    for group in state_dict["param_groups"]:
        inner = ", ".join(f"'{k}': {format_value(v)}" for k, v in group.items())
        lines.append(f"    {{{inner}}},")
    lines.append(" ]}")
    return "\n".join(lines)


@functools.cache
def source_of(fn: Callable) -> str:
    """``inspect.getsource(fn)``, read once per process: tokenizing the file again cost every rerun a few ms."""
    return inspect.getsource(fn)


def show_code(*functions: Callable, label: str | None = None) -> None:
    """An expander with the source of the functions that produced what the page shows."""
    with st.expander(label or t("Show the code")):
        for fn in functions:
            st.code(source_of(fn), language="python")


def predict_then_reveal(key: str, question: str, options: Sequence[str], answer: str, explanation: str) -> bool:
    """Ask first; return True once the reader has guessed and pressed Reveal, or chosen to just see the answer.

    ``question`` and ``explanation`` come translated; ``options`` and ``answer`` are English message ids (marked
    with ``N_()`` or ``t()``'s catalog), shown in the reader's language, so the page compares them as they are.

    The page draws whatever gives the answer away (figure, metrics, table) only when this returns True. The
    revealed flag lives in ``st.session_state[f"{key}_revealed"]`` so it survives every rerun of the page.
    """
    flag = f"{key}_revealed"
    st.markdown(t("**Predict, then reveal.** {question}", question=question))
    guess = st.radio(t("Your guess"), list(options), index=None, key=f"{key}_guess", horizontal=True,
                     format_func=translator())
    if not st.session_state.get(flag):
        row = st.container(horizontal=True)
        if row.button(t("Reveal"), key=f"{key}_reveal", disabled=guess is None):
            st.session_state[flag] = True
        if row.button(t("Just show me"), key=f"{key}_show"):
            st.session_state[flag] = True
    if not st.session_state.get(flag):
        st.caption(t("The measured answer (figure and numbers) appears here once you reveal it."))
        return False
    if guess is None:
        st.info(t("The answer is **{answer}**. {explanation}", answer=t(answer), explanation=explanation))
    else:
        verdict = t("Right.") if guess == answer else t("Not quite: the answer is **{answer}**.", answer=t(answer))
        st.info(t("{verdict} {explanation}", verdict=verdict, explanation=explanation))
    st.button(t("Ask me again"), key=f"{key}_again", on_click=_ask_again, args=(key,))
    return True


def _ask_again(key: str) -> None:
    """Hide the answer and clear the guess (a callback, so it runs before the widgets are drawn again)."""
    st.session_state[f"{key}_revealed"] = False
    st.session_state[f"{key}_guess"] = None


def translated_rows(rows: Sequence[dict], values: bool = False) -> list[dict]:
    """Table rows with their column names (and, with ``values``, their text cells) in the reader's language.

    The lesson functions name their columns in English (marked with ``N_()``); numbers pass through unchanged.
    """
    return [{t(k): (t(v) if values and isinstance(v, str) else v) for k, v in row.items()} for row in rows]


def dash_missing(rows: Sequence[dict], missing: str = "—") -> list[dict]:
    """Table rows with every None shown as a dash rather than the word "None".

    A column that holds a None, or text next to numbers, becomes a text column (numbers printed with ``:g``), so
    the table has one type per column; every other column is left as it is.
    """
    def is_number(v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool)

    columns = {k for row in rows for k in row}
    as_text = {k for k in columns
               if any(row.get(k) is None for row in rows)
               or (any(is_number(row.get(k)) for row in rows) and any(isinstance(row.get(k), str) for row in rows))}
    return [{k: (missing if v is None else f"{v:g}" if is_number(v) else str(v)) if k in as_text else v
             for k, v in row.items()} for row in rows]


class LessonControls:
    """A lesson page's widgets as the open class lesson allows (what :func:`keep_in_link` returns).

    ``controls.widget(c1.slider, label, lo, hi, key="wd_steps")`` draws any Streamlit widget as the page
    would, except that a setting the lesson locks is drawn disabled, holding its locked value, and one it
    hides is not drawn at all (the value it holds is returned). The setting is found by the widget's session
    key (a field's ``state``); a widget that is no field of the page is drawn as it is.
    """

    def __init__(self, fields: Fields, locks: Constraints) -> None:
        self.fields, self.locks = fields, locks
        self._by_state = {fields.session_key(f.key): f.key for f in fields}

    def how(self, session_key: str) -> str:
        """ "hidden", "locked" or "" for the widget with this session key (a log or typed companion of a knob,
        ``<key>_log`` or ``<key>_typed``, goes with its knob)."""
        for suffix in ("", "_log", "_typed"):
            if suffix and not session_key.endswith(suffix):
                continue
            key = self._by_state.get(session_key[: len(session_key) - len(suffix)] if suffix else session_key)
            if key is not None:
                if self.locks.is_hidden(key):
                    return "hidden"
                return "locked" if self.locks.is_locked(key) else ""
        return ""

    def widget(self, draw: Callable[..., Any], *args: Any, key: str, **kwargs: Any) -> Any:
        """``draw(*args, key=key, **kwargs)``: disabled when the lesson locks the setting, skipped when it
        hides it."""
        how = self.how(key)
        if how == "hidden":
            name = self._by_state[key]
            return st.session_state.get(key, self.fields[name].default)
        if how == "locked":
            kwargs["disabled"] = True
            kwargs["help"] = t("Fixed by this lesson.") + (f" {kwargs['help']}" if kwargs.get("help") else "")
        return draw(*args, key=key, **kwargs)


def keep_in_link(number: int) -> LessonControls:
    """Keep lesson page ``number``'s setup in its link (``optlab.config.lessons``), then draw the class panel
    (the lesson's task, and the sidebar's "prepare for class"); call it after the title, before any widget.

    Once per session the link's values go into the widgets (a forged or unusable value gets a notice and the
    default, a class lesson's locked value is put back, with a notice); on every run the link is written from
    the widgets' current values, so the address bar always opens the view on screen. Draw the page's widgets
    through the returned :class:`LessonControls`: what the lesson locks is greyed, what it hides is gone.
    """
    key, fields = page_key(number), PAGES[page_key(number)]
    locks = active_constraints(key)
    loaded, notes_key = f"_{key}_link_loaded", f"_{key}_link_notes"
    opened = ("lesson", st.query_params.get(LESSON.key))
    if st.session_state.get(loaded) != opened:  # once per session, and again when another lesson is opened
        st.session_state[loaded] = opened
        values, notes = fields.decode(ui_fields.read_link(), locks)
        ui_fields.load(fields, values, keys=[f.key for f in fields])
        st.session_state[notes_key] = (notes, values)
    for name, value in locks.locked.items():
        if name in fields:
            ui_fields.set_value(fields, name, value)
    current = current_values(fields)
    notes, decoded = st.session_state.get(notes_key, ([], {}))
    if notes and current == decoded:  # shown until the reader changes something
        st.warning(" ".join(notes))
    ui_fields.write_link(fields.encode(current))
    class_panel(URL_PATHS[number])
    return LessonControls(fields, locks)


def current_values(fields: Fields) -> dict[str, Any]:
    """Each field's value as its widget holds it now (its default where the widget has not been drawn)."""
    return {f.key: ui_fields.session_value(fields, f.key) for f in fields}
