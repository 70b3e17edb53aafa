"""Rerun the whole page a few seconds from now, from the browser: a fallback for a fragment's ``run_every``.

Streamlit's browser ends a ``run_every`` timer for good when one of its ticks reaches the server just after a full
rerun has removed the fragment ("The fragment with id … does not exist anymore"). A request from an element
outside every fragment carries no fragment id, so it is never dropped that way. While it is on the page, this
invisible element asks for a whole-page rerun every ``seconds``; a run that no longer draws it stops it.
"""

from __future__ import annotations

import streamlit as st

_COMPONENT = st.components.v2.component(
    "optlab_rerun_later",
    js="""
export default function ({ data, setTriggerValue }) {
  const timer = setInterval(() => setTriggerValue("tick", Date.now()), data.ms);
  return () => clearInterval(timer);
}
""",
)


def _tick() -> None:
    """Nothing to do: the rerun the tick asks for is the point."""


def rerun_later(seconds: float, *, key: str) -> None:
    """Mount the element: every ``seconds`` while it stays mounted, the page reruns."""
    _COMPONENT(data={"ms": int(seconds * 1000)}, key=key, on_tick_change=_tick)
