"""Shared layout of a lesson page: show the code, predict then reveal, and PyTorch-style printing of optimizer state.

The formatting functions are plain (no Streamlit) so they can be tested alone; the rest draws with Streamlit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
import torch

from optlab.config.lessons import PAGES
from optlab.fields import Fields
from optlab.i18n import t, translator
from optlab.ui import fields as ui_fields
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


def show_code(*functions: Callable, label: str | None = None) -> None:
    """An expander with the source of the functions that produced what the page shows."""
    with st.expander(label or t("Show the code")):
        for fn in functions:
            st.code(inspect.getsource(fn), language="python")


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


def keep_in_link(number: int) -> None:
    """Keep lesson page ``number``'s setup in its link (``optlab.config.lessons.PAGES``); call it first.

    Once per session the link's values go into the widgets (a forged or unusable value gets a notice and the
    default, a class lesson's locked value is put back); on every run the link is written from the widgets'
    current values, so the address bar always opens the view on screen.
    """
    page_key, fields = PAGES[number]
    locks = active_constraints(page_key)
    loaded, notes_key = f"_{page_key}_link_loaded", f"_{page_key}_link_notes"
    if loaded not in st.session_state:
        st.session_state[loaded] = True
        values, notes = fields.decode(ui_fields.read_link(), locks)
        ui_fields.load(fields, values, keys=[f.key for f in fields])
        st.session_state[notes_key] = (notes, values)
    for key, value in locks.locked.items():
        if key in fields:
            ui_fields.set_value(fields, key, value)
    current = current_values(fields)
    notes, decoded = st.session_state.get(notes_key, ([], {}))
    if notes and current == decoded:  # shown until the reader changes something
        st.warning(" ".join(notes))
    ui_fields.write_link(fields.encode(current))


def current_values(fields: Fields) -> dict[str, Any]:
    """Each field's value as its widget holds it now (its default where the widget has not been drawn)."""
    return {f.key: ui_fields.session_value(fields, f.key) for f in fields}
