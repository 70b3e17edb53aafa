"""Every piece of text a reader sees, in English or Chinese: gettext message catalogs read with Babel.

English is the source language: the English text itself is the message id, so an untranslated string simply
shows in English. Mark text where it is written and translate it where it is shown:

    t("Learning rate")                      # translated now, in the reader's language
    t("Step {k} of {n}", k=3, n=10)         # placeholders filled after translation
    tn("{n} run", "{n} runs", n)            # plural forms of the catalog's language
    LABEL = N_("Loss")                      # marked for extraction only; shown later with t(LABEL)
    st.radio(..., format_func=translator()) # options kept as English ids, shown translated

Catalogs live in ``optlab/i18n/locale/<lang>/LC_MESSAGES/messages.po`` (Babel extracts the marked strings with
``pybabel extract -F optlab/i18n/babel.cfg``); a third language is one new catalog. The glossary beside them fixes
the words each translation uses.

The library layers need no Streamlit: the reader's language comes from a *language source* that the UI layer
installs (it reads the session), with :func:`using` to pin a language for a block (tests, worker threads).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Iterator
from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DEFAULT_LANGUAGE = "en"
# Language code -> the name a reader of that language recognises, in that language.
LANGUAGES: dict[str, str] = {"en": "English", "zh": "中文"}

_pinned: contextvars.ContextVar[str | None] = contextvars.ContextVar("optlab_language", default=None)
_source: Callable[[], str | None] | None = None


def set_language_source(source: Callable[[], str | None] | None) -> None:
    """Install the function that says which language the current reader chose (None: the default)."""
    global _source
    _source = source


@contextlib.contextmanager
def using(language: str) -> Iterator[None]:
    """Show everything inside the block in ``language``, whatever the reader chose."""
    token = _pinned.set(normalize(language))
    try:
        yield
    finally:
        _pinned.reset(token)


def normalize(language: object) -> str:
    """A supported language code for any input: 'zh', 'zh-CN', 'ZH' -> 'zh'; unknown or malformed -> 'en'."""
    if not isinstance(language, str):
        return DEFAULT_LANGUAGE
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language text is shown in right now."""
    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    if _source is not None:
        return normalize(_source())
    return DEFAULT_LANGUAGE


@functools.cache
def catalog(language: str) -> dict[str, str | tuple[str, ...]]:
    """The translated messages of ``language``: English id -> text (or a tuple of plural forms). Read once."""
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == DEFAULT_LANGUAGE or not path.exists():
        return {}
    from babel.messages.pofile import read_po  # Babel only where a catalog is read

    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    messages: dict[str, str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple):
            forms = tuple(message.string)
            if all(forms):
                messages[message.id[0]] = forms
        elif message.string:
            messages[message.id] = message.string
    return messages


def t(message: str, **values: object) -> str:
    """``message`` in the reader's language, with ``{name}`` placeholders filled from ``values``."""
    text = catalog(current_language()).get(message, message)
    if isinstance(text, tuple):
        text = text[0]
    return text.format(**values) if values else text


def tn(singular: str, plural: str, n: int, **values: object) -> str:
    """The singular or plural of a message for ``n`` (``{n}`` is filled too), in the reader's language."""
    language = current_language()
    forms = catalog(language).get(singular)
    if isinstance(forms, tuple):
        text = forms[_plural_index(language, n) if len(forms) > 1 else 0]
    else:
        text = singular if n == 1 else plural
    return text.format(n=n, **values)


def _plural_index(language: str, n: int) -> int:
    from babel.messages.plurals import get_plural

    rule = get_plural(language)  # Chinese has one form; English two
    return 0 if rule.num_plurals == 1 else int(n != 1)


def translator() -> Callable[[object], str]:
    """``t`` bound to the language current now: a widget's ``format_func``, which may be called later elsewhere.

    Streamlit's test runner formats options again after the script run, outside the session that chose the
    language; a plain ``t`` there would answer in English and no longer match the options shown.
    """
    language = current_language()

    def translate(message: object) -> str:
        with using(language):
            return t(str(message))

    return translate


def N_(message: str) -> str:
    """Mark ``message`` for the catalog without translating it yet (module constants); show it with ``t()``."""
    return message
