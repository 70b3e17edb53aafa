"""Widgets, session state and the link from a page's fields (``optlab.fields``): what every page calls.

- :func:`read_link` gives the page's query parameters; decode them with the page's ``Fields.decode`` (or its
  config module's ``decode``), then :func:`load` puts the values into the widgets' session state.
- :func:`widget` draws one field's widget from its declaration (label and help through the catalog, the one
  range of the field), greyed with its value when the lesson locks it, not at all when it hides it; it returns
  the field's value.
- :func:`write_link` writes the page's link and keeps the app-wide keys (``optlab.config.app``) as they were.

What it leaves out: what a page's settings mean, and any compound widget a page draws itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import streamlit as st

from optlab.config.app import APP_KEYS
from optlab.fields import NO_CONSTRAINTS, Constraints, Field, Fields
from optlab.i18n import t
from optlab.ui.widgets import bounded_number, log_float_control, set_log_float

SS = st.session_state


def read_link() -> dict[str, list[str]]:
    """The page's query parameters, every value of each key (a decoder takes the last)."""
    return {k: st.query_params.get_all(k) for k in st.query_params}


def write_link(want: Mapping[str, str]) -> None:
    """Make the URL hold ``want``, plus the app-wide keys (language, lesson) as the URL had them."""
    have = {k: st.query_params.get(k) for k in st.query_params}
    want = {**want, **{k: v for k, v in have.items() if k in APP_KEYS}}
    if have != want:
        st.query_params.from_dict(want)


def widget_value(f: Field, value: Any) -> Any:
    """A field's value as its widget holds it (an int field's number input holds an int, a float's a float)."""
    if value is None or f.kind not in ("float", "int"):
        return value
    return int(value) if f.kind == "int" else float(value)


def set_value(fields: Fields, key: str, value: Any) -> None:
    """Put ``value`` into field ``key``'s widget state (before the widget is drawn, or from a callback)."""
    f = fields[key]
    skey = fields.session_key(key)
    if f.widget == "log":
        set_log_float(f, skey, value)
    else:
        SS[skey] = widget_value(f, f.fit(value))


def load(fields: Fields, values: Mapping[str, Any], keys: Iterable[str] | None = None) -> None:
    """Put the values of the fields that have a widget (or of ``keys``) into their session state."""
    for f in fields:
        if (f.widget if keys is None else f.key in set(keys)) and f.key in values:
            set_value(fields, f.key, values[f.key])


def session_value(fields: Fields, key: str) -> Any:
    """Field ``key``'s value as its widget holds it (its default before the widget was drawn)."""
    return SS.get(fields.session_key(key), fields[key].default)


def widget(fields: Fields, key: str, constraints: Constraints = NO_CONSTRAINTS, *, container: Any = None,
           format_func: Callable[[Any], str] | None = None, on_change: Callable[..., None] | None = None,
           args: tuple = (), placeholder: str | None = None, lo: float | None = None,
           hi: float | None = None) -> Any:
    """Draw field ``key``'s widget as declared, and return its value.

    A locked field is drawn disabled, holding its locked value; a hidden one is not drawn (its value stays).
    ``lo``/``hi`` narrow a number's range where it depends on other settings (a start inside the window).
    """
    f = fields[key]
    skey = fields.session_key(key)
    locked = constraints.is_locked(key)
    if locked:
        set_value(fields, key, constraints.locked[key])
    if constraints.is_hidden(key):
        return SS.get(skey, f.default)
    where = container or st
    label = t(f.label) if f.label else key
    help_ = t(f.help) if f.help else None
    if locked:
        help_ = t("Fixed by this lesson.") + (f" {help_}" if help_ else "")
    lo = f.min if lo is None else lo
    hi = f.max if hi is None else hi
    common: dict[str, Any] = {"key": skey, "help": help_, "disabled": locked}
    if on_change is not None:
        common.update(on_change=on_change, args=args)
    if f.widget == "number":
        integer = f.kind == "int"
        kw = {"step": f.step} if f.step is not None else {}
        if not integer:
            kw["format"] = "%g"
        return bounded_number(label, skey, -float("inf") if lo is None else lo, float("inf") if hi is None else hi,
                              container=where, integer=integer, **kw,
                              **{k: v for k, v in common.items() if k != "key"})
    if f.widget == "slider":
        if SS.get(skey) is not None:
            SS[skey] = widget_value(f, min(max(SS[skey], lo), hi))
        kw = {"step": f.step} if f.step is not None else {}
        return where.slider(label, widget_value(f, lo), widget_value(f, hi), **kw, **common)
    if f.widget == "log":
        return log_float_control(f, skey, disabled=locked)
    if f.widget == "select":
        return where.selectbox(label, f.choices, format_func=format_func or str, **common)
    if f.widget == "segmented":
        return where.segmented_control(label, f.choices, format_func=format_func or str, **common)
    if f.widget == "checkbox":
        return where.checkbox(label, **common)
    if f.widget == "text":
        return where.text_input(label, placeholder=placeholder, **common)
    raise ValueError(f"field {key!r} has no widget of its own (widget={f.widget!r}): the page draws it")
