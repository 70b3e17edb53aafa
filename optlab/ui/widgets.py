"""Shared Streamlit controls built from the registry: an optimizer with its knobs, and an LR schedule (no layout).

Widget keys (stable, so tests and browser tests can find them), for a page's ``key_prefix`` P:

- ``P_opt``: optimizer selectbox (registry key).
- ``P_<opt>_<hyper>``: the value of one hyperparameter of optimizer ``<opt>`` (checkbox for bools, slider for
  linear floats, number input for log-scale floats). Each optimizer keeps its own values, so switching back and
  forth does not lose them.
- ``P_<opt>_<hyper>_log``: for log-scale floats (the learning rate), a slider over log10 of the value; it and the
  number input stay in step.
- ``P_sched``: schedule selectbox; ``P_sched_<schedule>_<param>``: one schedule parameter.
- Any other log-scale knob (:func:`log_float_control`) uses the same pair: ``K`` (number) and ``K_log``.

Values are set from outside (a shared link, a "use it" button) only through :func:`set_optimizer_values`,
:func:`set_schedule_values` and :func:`set_log_float`, called before the widgets are drawn or from a widget
callback.

A typed number can never sit outside its range: number fields are drawn without Streamlit's ``min_value`` and
``max_value`` (with them the browser keeps showing a typed 100 in red while the page goes on with the old value),
and :func:`bounded_number` moves the value to the nearest end of the range before the field is drawn, so the
field, the run and the link all hold the same number, with a note under the field saying the allowed range.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import streamlit as st

from optlab.fields import Field
from optlab.i18n import t, translator
from optlab.registry import REGISTRY, Hyper
from optlab.schedules import SCHEDULES, ScheduleParam


def round_sig(x: float, digits: int = 3) -> float:
    """``x`` rounded to ``digits`` significant digits (0.031622 -> 0.0316), so a slider gives readable values."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, digits - 1 - math.floor(math.log10(abs(x))))


def clamp(x: float, lo: float, hi: float) -> float:
    return min(max(x, lo), hi)


def _range_note_key(key: str) -> str:
    return f"_range_note_{key}"


def _number(v: float) -> str:
    """A number as a student typed it: whole numbers in full (2147483647, not 2.14748e+09), others with %g."""
    return str(int(v)) if math.isfinite(v) and v == int(v) and abs(v) < 1e16 else f"{v:g}"


def fit_into_range(key: str, lo: float, hi: float, label: str, integer: bool = False) -> bool:
    """Move ``st.session_state[key]`` into [lo, hi] (call it before the field is drawn, or from its callback).

    A value that had to move leaves a note (the value it became, and a sentence) that :func:`range_note` shows
    for as long as the field keeps that value. Returns whether it moved.
    """
    value = st.session_state.get(key)
    if value is None or isinstance(value, bool):
        return False
    try:
        x = float(value)
    except (TypeError, ValueError):
        return False
    fitted = clamp(x, lo, hi) if math.isfinite(x) else (lo if x < 0 or math.isnan(x) else hi)
    if integer:
        fitted = int(round(fitted))
    if fitted != x or (integer and not isinstance(value, int)):
        st.session_state[key] = fitted
        if fitted != x:
            st.session_state[_range_note_key(key)] = (
                fitted, t("{label} = {value} is outside the allowed range {lo} to {hi}; it is now {fitted}.",
                          label=t(label), value=_number(x), lo=_number(lo), hi=_number(hi), fitted=_number(fitted)))
            return True
    return False


def range_note(key: str, container: Any = None) -> None:
    """Show the note :func:`fit_into_range` left for ``key``, while the field still holds the value it set.

    It goes into ``container``, else the one the field's row is in: a column beside another field is too
    narrow for a sentence, so callers leave it out for fields drawn in columns.
    """
    note = st.session_state.get(_range_note_key(key))
    if note is None:
        return
    if note[0] == st.session_state.get(key):
        (container or st).warning(note[1], icon="✂️")
    else:  # the value changed since: the note is old news
        del st.session_state[_range_note_key(key)]


def bounded_number(label: str, key: str, lo: float, hi: float, *, container: Any = None, integer: bool = False,
                   **kwargs: Any) -> Any:
    """A number field whose value always lies in [lo, hi]: one outside is moved to the nearest end, with a note.

    ``kwargs`` go to ``st.number_input`` (``step``, ``format``, ``help``, ``on_change``...), never its
    ``min_value`` or ``max_value`` (see the module's docstring).
    """
    where = container or st
    fit_into_range(key, lo, hi, label, integer)
    value = where.number_input(label, key=key, **kwargs)
    range_note(key)  # under the row, full width (see range_note)
    return value


def _log_bounds(h: Hyper) -> tuple[float, float]:
    """The slider range in log10 units; a log-scale knob whose minimum is 0 starts two decades under its max."""
    hi = math.log10(h.max)
    lo = math.log10(h.min) if h.min > 0 else hi - 6
    return lo, hi


def _linear_step(lo: float, hi: float) -> float:
    # about 10^3 positions over the range: 0.001 on [0, 0.999], so an arrow key moves 0.9 to 0.901 (a value a
    # person can read); an exact value such as 0.9999 is typed into the number beside the slider
    return 10.0 ** (round(math.log10(hi - lo)) - 3)


def _hyper_key(prefix: str, opt: str, name: str) -> str:
    return f"{prefix}_{opt}_{name}"


KEPT = "_kept"  # one session key: widget key -> its last value


def _kept() -> dict[str, Any]:
    # Streamlit forgets a widget's value when the widget is not drawn in a run (another optimizer was picked);
    # this plain dict keeps it so switching back restores it. One dict, not a session key per widget: every
    # widget Streamlit draws walks all session keys once (its session-state checks), so each key costs them all.
    kept = st.session_state.get(KEPT)
    if kept is None:
        kept = st.session_state[KEPT] = {}
    return kept


def hold_values(*keys: str) -> None:
    """Keep the values of the widgets ``keys``, and of every widget whose key starts with one of them + "_",
    through a run that does not draw them (a closed expander): Streamlit forgets the value of a widget not drawn
    in a run, but not one the run set itself. Not for buttons, whose value a script may not set."""
    if not keys:
        return
    starts = tuple(k + "_" for k in keys)
    for key in [k for k in st.session_state.keys() if isinstance(k, str) and (k in keys or k.startswith(starts))]:
        st.session_state[key] = st.session_state[key]


def _init(key: str, default: Any) -> None:
    if key not in st.session_state:
        st.session_state[key] = _kept().get(key, default)


def _keep(key: str, value: Any) -> Any:
    _kept()[key] = value
    return value


def _coerce(h: Hyper, value: Any) -> Any:
    """A value as the widget for ``h`` holds it: bool for checkboxes, a float clamped into [min, max] otherwise."""
    if h.kind == "bool":
        return bool(value)
    lo = -math.inf if h.min is None else float(h.min)
    hi = math.inf if h.max is None else float(h.max)
    return clamp(float(value), lo, hi)


def set_optimizer_values(prefix: str, opt: str, values: Mapping[str, Any] | None = None) -> None:
    """Select ``opt`` and put ``values`` (flat hyperparameters; others keep their state) into its widgets."""
    spec = REGISTRY[opt]
    st.session_state[f"{prefix}_opt"] = opt
    for h in spec.hypers:
        if values is None or h.name not in values:
            continue
        key = _hyper_key(prefix, opt, h.name)
        if h.kind == "float" and h.log and h.max is not None:
            set_log_float(h, key, values[h.name])
        else:
            st.session_state[key] = _keep(key, _coerce(h, values[h.name]))
            if h.kind == "float":
                st.session_state[key + "_typed"] = st.session_state[key]


def set_log_float(h: Hyper, key: str, value: float) -> None:
    """Put ``value`` (clamped into the knob's range) into a log-scale knob: its number input and its slider."""
    v = _coerce(h, value)
    st.session_state[key] = _keep(key, v)
    lo, hi = _log_bounds(h)
    st.session_state[key + "_log"] = clamp(math.log10(v), lo, hi) if v > 0 else lo


def set_schedule_values(prefix: str, sched: str, values: Mapping[str, float] | None = None) -> None:
    """Select schedule ``sched`` and put ``values`` into its parameter widgets."""
    spec = SCHEDULES[sched]
    st.session_state[f"{prefix}_sched"] = sched
    for p in spec.params:
        if values is not None and p.name in values:
            v = clamp(float(values[p.name]), float(p.min), float(p.max))
            key = f"{prefix}_sched_{sched}_{p.name}"
            st.session_state[key] = _keep(key, int(round(v)) if p.integer else v)


def _log_slider_moved(key: str) -> None:
    # slider at s means value 10^s, shown to three significant digits
    st.session_state[key] = round_sig(10.0 ** st.session_state[key + "_log"])


def _log_number_typed(h: Hyper, key: str, lo: float, hi: float) -> None:
    fit_into_range(key, float(h.min), float(h.max), h.label)
    v = st.session_state[key]
    st.session_state[key + "_log"] = clamp(math.log10(v), lo, hi) if v and v > 0 else lo


def log_float_control(h: Hyper | Field, key: str, disabled: bool = False) -> float:
    """A log-scale float: a slider over log10(value) whose label shows the value, and a number input to type it.

    ``h`` describes the knob (label, default, min > 0, max, help): a registry ``Hyper`` or an ``optlab.fields``
    ``Field``; ``h.kind`` must be "float" and ``h.log`` True. ``disabled``: drawn greyed (a lesson locks it).
    """
    lo, hi = _log_bounds(h)
    _init(key, _coerce(h, h.default))
    moved = fit_into_range(key, float(h.min), float(h.max), h.label)  # also a value set from outside
    if moved or key + "_log" not in st.session_state:
        set_log_float(h, key, st.session_state[key])
    value = st.session_state[key]
    left, right = st.columns([3, 2])
    label = t(h.label)
    left.slider(
        t("{label} = {value} (log scale)", label=label, value=f"{value:.3g}"),
        min_value=lo,
        max_value=hi,
        step=0.01,
        format="10^%.2f",
        key=key + "_log",
        help=t(h.help) if h.help else None,
        on_change=_log_slider_moved,
        args=(key,),
        disabled=disabled,
    )
    right.number_input(  # no min_value / max_value: see the module's docstring; _log_number_typed keeps the range
        t("{label} (type a value)", label=label),
        step=float(10.0 ** math.floor(lo)),
        format="%g",
        key=key,
        on_change=_log_number_typed,
        args=(h, key, lo, hi),
        disabled=disabled,
    )
    range_note(key)
    return _keep(key, float(st.session_state[key]))


def _hyper_widget(h: Hyper, key: str, how: str = "") -> Any:
    if how == "hidden":  # a class lesson hides it: not drawn, its value kept
        _init(key, _coerce(h, h.default))
        return _keep(key, st.session_state[key])
    disabled = how == "locked"  # a class lesson locks it: drawn greyed with its value
    if h.kind == "bool":
        _init(key, bool(h.default))
        return _keep(key, st.checkbox(t(h.label), key=key, help=t(h.help) if h.help else None,
                                      disabled=disabled))
    if h.log and h.max is not None:
        return log_float_control(h, key, disabled=disabled)
    _init(key, _coerce(h, h.default))
    if h.min is None or h.max is None:  # an open range: type the value
        lo = -math.inf if h.min is None else float(h.min)
        hi = math.inf if h.max is None else float(h.max)
        return _keep(key, float(bounded_number(t(h.label), key, lo, hi, format="%g",
                                               help=t(h.help) if h.help else None, disabled=disabled)))
    return linear_float_control(h, key, disabled=disabled)


def _linear_slider_moved(key: str) -> None:
    st.session_state[key + "_typed"] = st.session_state[key]


def _linear_number_typed(h: Hyper, key: str) -> None:
    fit_into_range(key + "_typed", float(h.min), float(h.max), h.label)
    st.session_state[key] = float(st.session_state[key + "_typed"])


def linear_float_control(h: Hyper, key: str, disabled: bool = False) -> float:
    """A float on a closed range (momentum, β): a slider in readable steps, and a number input for an exact value.

    The slider (key ``key``) holds the value; the number (``key_typed``) follows it and sets it when typed.
    """
    lo, hi = float(h.min), float(h.max)
    _init(key, _coerce(h, h.default))
    fit_into_range(key, lo, hi, h.label)  # a value set from outside (a link, a checkpoint)
    if st.session_state.get(key + "_typed") != st.session_state[key]:
        st.session_state[key + "_typed"] = float(st.session_state[key])
    left, right = st.columns([3, 2])
    left.slider(t(h.label), min_value=lo, max_value=hi, step=_linear_step(lo, hi), format="%.4g", key=key,
                help=t(h.help) if h.help else None, on_change=_linear_slider_moved, args=(key,),
                disabled=disabled)
    right.number_input(t("{label} (type a value)", label=t(h.label)), step=_linear_step(lo, hi) * 10, format="%g",
                       key=key + "_typed", on_change=_linear_number_typed, args=(h, key), disabled=disabled)
    range_note(key)
    range_note(key + "_typed")
    return _keep(key, float(st.session_state[key]))


def _picked(key_prefix: str, on_pick: Callable[[str], Mapping[str, Any]]) -> None:
    opt = st.session_state[f"{key_prefix}_opt"]
    set_optimizer_values(key_prefix, opt, on_pick(opt))


def optimizer_controls(
    key_prefix: str, default: str = "adam", allowed: Sequence[str] | None = None,
    on_pick: Callable[[str], Mapping[str, Any]] | None = None, how: Callable[[str], str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Draw an optimizer picker and its hyperparameters; return (registry key, flat hyperparameters).

    ``on_pick(opt)`` gives the values an optimizer starts with when it is picked (a page's presets, e.g. a
    learning rate that works on the surface shown); without it a picked optimizer keeps what it had.
    ``how(session_key)`` says what a class lesson does to a widget: "locked" (greyed), "hidden" (not drawn)
    or "" (drawn as usual).
    """
    how = how or (lambda key: "")
    keys = [k for k in REGISTRY if allowed is None or k in allowed]
    if not keys:
        raise ValueError("optimizer_controls: no optimizer allowed")
    sel_key = f"{key_prefix}_opt"
    if st.session_state.get(sel_key) not in keys:
        st.session_state[sel_key] = default if default in keys else keys[0]
    name = translator()
    opt = st.session_state[sel_key] if how(sel_key) == "hidden" else st.selectbox(
        t("optimizer"), keys, format_func=lambda k: name(REGISTRY[k].label), key=sel_key,
        disabled=how(sel_key) == "locked", on_change=None if on_pick is None else _picked,
        args=(key_prefix, on_pick))
    spec = REGISTRY[opt]
    if spec.description and how(sel_key) != "hidden":
        st.caption(t(spec.description))
    keys_of = {h.name: _hyper_key(key_prefix, opt, h.name) for h in spec.hypers}
    flat = {h.name: _hyper_widget(h, keys_of[h.name], how(keys_of[h.name])) for h in spec.hypers}
    return opt, flat


def _schedule_widget(p: ScheduleParam, key: str, disabled: bool = False, hidden: bool = False) -> float:
    _init(key, int(p.default) if p.integer else float(p.default))
    if hidden:  # not drawn, its value kept
        return _keep(key, st.session_state[key])
    if p.integer:
        v = int(bounded_number(t(p.label), key, int(p.min), int(p.max), integer=True, step=1, disabled=disabled))
    elif p.log:
        v = float(bounded_number(t(p.label), key, float(p.min), float(p.max), format="%g", disabled=disabled))
    else:
        lo, hi = float(p.min), float(p.max)
        v = float(st.slider(t(p.label), min_value=lo, max_value=hi, step=_linear_step(lo, hi), format="%.4g",
                            key=key, disabled=disabled))
    return _keep(key, v)


def schedule_controls(key_prefix: str, disabled: bool = False, hidden: bool = False) -> tuple[str, dict[str, float]]:
    """Draw an LR-schedule picker and its parameters; return (schedule key, parameters). ``disabled``: drawn
    greyed with their values (a lesson locks them); ``hidden``: not drawn, their values kept."""
    sel_key = f"{key_prefix}_sched"
    keys = list(SCHEDULES)
    if st.session_state.get(sel_key) not in keys:
        st.session_state[sel_key] = "constant" if "constant" in keys else keys[0]
    name = translator()
    sched = st.session_state[sel_key] if hidden else st.selectbox(
        t("LR schedule"), keys, format_func=lambda k: name(SCHEDULES[k].label), key=sel_key, disabled=disabled)
    spec = SCHEDULES[sched]
    params = {p.name: _schedule_widget(p, f"{key_prefix}_sched_{sched}_{p.name}", disabled, hidden)
              for p in spec.params}
    return sched, params
