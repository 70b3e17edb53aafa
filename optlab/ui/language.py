"""The reader's language: ``?lang=`` in a link, the sidebar switch, and the session that keeps it between pages.

English is the default. A link's ``?lang=zh`` chooses Chinese for the whole session; the sidebar switch changes it;
the session remembers it, so it survives navigation (Streamlit drops a page's query parameters when another page
is opened) and fragment reruns (where app.py does not run). Every full run writes it back into the address bar
(:func:`sync_language`), and :func:`link_params` gives it to every ``st.page_link``, so a copied link opens in the
reader's language. Importing this module installs the session as the language source of :mod:`optlab.i18n`.
"""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from optlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize, set_language_source, t

LANG_PARAM = "lang"  # the link key
SESSION_KEY = "optlab_lang"  # the session's language, once chosen
SWITCH_KEY = "optlab_lang_switch"  # the sidebar switch's widget state


def session_language() -> str | None:
    """The language this session chose (the switch, else the link's ``?lang=``); None outside a script run."""
    if get_script_run_ctx() is None:  # a worker thread, or plain Python: optlab.i18n's default
        return None
    chosen = st.session_state.get(SESSION_KEY)
    if chosen is not None:
        return chosen
    return normalize(st.query_params.get(LANG_PARAM))


set_language_source(session_language)


def sync_language() -> str:
    """Read ``?lang=`` into the session and write the session's language back into the URL; return the language.

    A ``lang`` in the URL wins (it is a link the reader opened, or one this module wrote). A malformed or unknown
    one means English, and the address bar then shows no ``lang`` rather than the bad one.
    """
    asked = st.query_params.get(LANG_PARAM)
    if asked is not None:
        st.session_state[SESSION_KEY] = normalize(asked)
    language = st.session_state.get(SESSION_KEY, DEFAULT_LANGUAGE)
    if language != DEFAULT_LANGUAGE:
        if asked != language:
            st.query_params[LANG_PARAM] = language
    elif asked is not None and asked != language:
        del st.query_params[LANG_PARAM]
    return language


def link_params() -> dict[str, str]:
    """The query parameters a link to another page carries so that it opens in the reader's language."""
    language = st.session_state.get(SESSION_KEY, DEFAULT_LANGUAGE)
    return {} if language == DEFAULT_LANGUAGE else {LANG_PARAM: language}


def _switched() -> None:
    st.session_state[SESSION_KEY] = normalize(st.session_state.get(SWITCH_KEY))
    if st.session_state[SESSION_KEY] == DEFAULT_LANGUAGE:
        if LANG_PARAM in st.query_params:
            del st.query_params[LANG_PARAM]
    else:
        st.query_params[LANG_PARAM] = st.session_state[SESSION_KEY]


def language_switch() -> None:
    """The sidebar's language switch: each language by its own name (a reader finds theirs in any language)."""
    language = sync_language()
    if st.session_state.get(SWITCH_KEY) != language:
        st.session_state[SWITCH_KEY] = language
    st.sidebar.segmented_control(
        t("Language"), list(LANGUAGES), format_func=LANGUAGES.__getitem__, key=SWITCH_KEY, on_change=_switched,
        required=True,
    )
