"""The live surface figure as a Streamlit component: drawn in the browser, redrawn while a knob is dragged.

The browser part (``live_figure.js`` and ``live_figure.css`` beside this file) only draws what it is sent
(``optlab.plots.live.live_payload``) and reports back what the student did: the knob value let go
(``knob``: run, knob name, value), the start point (``start``: x, y), and which knob the slider should move
(``choose``). Each report carries a nonce so that
letting go twice at the same value still counts. A figure drawn with a ``hint`` (waiting for its sweeps) also
reports ``wait`` every few seconds until new data comes, which only reruns the figure's fragment: a lost poll, or
a lost answer, cannot leave it waiting (it is not counted in the figure's ``data-reports``, which counts what a student did).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import streamlit as st

_HERE = Path(__file__).parent
_COMPONENT = st.components.v2.component(
    "optlab_live_surface",
    css=(_HERE / "live_figure.css").read_text(encoding="utf-8"),
    js=(_HERE / "live_figure.js").read_text(encoding="utf-8"),
)


def live_figure(payload: dict, *, key: str, on_knob: Callable[[], None], on_start: Callable[[], None],
                on_choose: Callable[[], None], max_height: int = 480, hint: str = "") -> Any:
    """Mount the figure; the callbacks run (before the page reruns) when a value is reported.

    The reported values are then in ``st.session_state[key]["knob"]`` (a knob let go: run, knob, value),
    ``["start"]`` (the start dropped: x, y) and ``["choose"]`` (another knob picked for the slider: knob).
    """
    data = {**payload, "maxHeight": max_height, "hint": hint}
    return _COMPONENT(data=data, key=key, default={"knob": None, "start": None, "choose": None, "wait": None},
                      on_knob_change=on_knob, on_start_change=on_start, on_choose_change=on_choose,
                      on_wait_change=_draw_again)


def _draw_again() -> None:
    """Nothing to do: the rerun of the figure's fragment that the report asks for draws it with what is in now."""


def reported(key: str, name: str) -> dict | None:
    """The last value the figure ``key`` reported under ``name`` ("knob", "start", "choose"), or None."""
    state = st.session_state.get(key)
    value = state.get(name) if hasattr(state, "get") else None
    return value if isinstance(value, dict) else None
