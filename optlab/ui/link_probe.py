"""Say so when a link carried settings that never reached the page: Streamlit drops an over-long query string whole.

Streamlit 1.67 hands a page no query parameters at all when the browser's query string has more than 1,000
fields or more than 512 Ki characters (``streamlit.runtime.state.query_params.sanitize_query_string``: it logs a
warning on the server and returns ""). ``st.query_params`` is then empty and ``st.context.url`` never holds the
query, so the server cannot tell such a link from a plain visit. The browser can: the page's navigation entry
(``performance.getEntriesByType("navigation")``, https://www.w3.org/TR/navigation-timing-2/) keeps the address the
page was opened with, even after the app rewrites the address bar. A tiny component reads it once per page load
and reports back only when the query was too long to be read, so an ordinary visit costs no rerun.

What it leaves out: reading the dropped settings (they never reach the server) and links over the web server's
own limit on a request line, which the browser answers with an HTTP error before any page loads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import streamlit as st

try:  # the limits Streamlit applies; the values are those of Streamlit 1.67 should the names ever move
    from streamlit.runtime.state.query_params import (
        CLIENT_STATE_QUERY_STRING_MAX_FIELDS as MAX_FIELDS,
    )
    from streamlit.runtime.state.query_params import (
        CLIENT_STATE_QUERY_STRING_MAX_LENGTH as MAX_LENGTH,
    )
except ImportError:  # pragma: no cover
    MAX_FIELDS, MAX_LENGTH = 1000, 512 * 1024

_JS = """
export default function (component) {
  const { data, setStateValue } = component;
  if (window.__optlabLinkProbed) return;  // once per page load: the navigation entry is the first address only
  window.__optlabLinkProbed = true;
  const entry = performance.getEntriesByType("navigation")[0];
  if (!entry) return;
  const opened = new URL(entry.name);
  const path = (p) => p.replace(/\\/+$/, "");
  if (path(opened.pathname) !== path(window.location.pathname)) return;  // opened elsewhere, then navigated here
  const query = opened.search.replace(/^\\?/, "");
  const fields = query ? query.split("&").length : 0;
  if (fields > data.maxFields || query.length > data.maxLength) {
    setStateValue("dropped", { fields: fields, length: query.length });
  }
}
"""

_COMPONENT = st.components.v2.component("optlab_link_probe", js=_JS)


def dropped_link_note(report: Any, max_fields: int = MAX_FIELDS, max_length: int = MAX_LENGTH) -> str | None:
    """The sentence to show for what the probe reported (``{"fields": n, "length": chars}``), or None."""
    if not isinstance(report, Mapping):
        return None
    fields, length = report.get("fields"), report.get("length")
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (fields, length)):
        return None
    if fields > max_fields:
        why = f"it has {fields:,} parameters, and a link can carry at most {max_fields:,}"
    elif length > max_length:
        why = f"it is {length:,} characters long, and a link can carry at most {max_length:,}"
    else:
        return None
    return (f"This link could not be read at all: {why}, so none of its settings reached the page and what you "
            "see is the default experiment, not the one that was shared. A Surface Lab link needs only a few dozen "
            "parameters: ask for the link again, copied from the address bar of the page that shows the experiment.")


def probe(key: str, on_dropped: Callable[[str], None]) -> None:
    """Mount the probe; ``on_dropped(note)`` runs (before the page reruns) if this page's link was dropped."""

    def reported() -> None:
        state = st.session_state.get(key)
        note = dropped_link_note(state.get("dropped") if hasattr(state, "get") else None)
        if note:
            on_dropped(note)

    _COMPONENT(data={"maxFields": MAX_FIELDS, "maxLength": MAX_LENGTH}, key=key, default={"dropped": None},
               on_dropped_change=reported, height=0)
