"""The app's pages as the navigation and the home page list them: file, title, section and one-line summary.

Each page describes itself once, in the first line of its docstring: ``"Title: what it shows."``.

Titles and summaries are English message ids: the navigation and the home page show them through ``t()``
(``optlab.i18n.extract`` puts them in the catalog).

It also keeps Streamlit from showing its file-based sidebar instead of the app's navigation
(:func:`use_app_navigation`, which every page calls first).
"""

from __future__ import annotations

import ast
import functools
import re
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from optlab.i18n import N_, t
from optlab.i18n.extract import page_heading
from optlab.ui.language import sync_language

ROOT = Path(__file__).resolve().parents[2]
PAGES_DIR = ROOT / "pages"
APP_FILE = ROOT / "app.py"
_FILE = re.compile(r"([0-9]*)[_ -]*(.*)\.py")
LABS, LESSONS = N_("Labs"), N_("Lessons")  # the navigation's sections, shown with t()


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the app's root, as st.Page and st.page_link want it
    number: int  # from the file name, orders the sidebar
    url_path: str  # "Surface_Lab" for pages/1_Surface_Lab.py: the address a shared link uses
    title: str  # from the docstring's "Title: summary", else from the file name (English: show it with t())
    summary: str
    section: str  # LABS or LESSONS

    def label(self) -> str:
        """The home page's link text, in the reader's language."""
        return t("**{title}**: {summary}", title=t(self.title), summary=t(self.summary))


def _parse(file: Path) -> PageEntry:
    match = _FILE.fullmatch(file.name)
    number = int(match.group(1)) if match and match.group(1) else 10**6
    url_path = re.sub(r"[_ ]+", "_", match.group(2) if match else file.stem).strip("_")
    title, summary = page_heading(file.name, ast.get_docstring(ast.parse(file.read_text(encoding="utf-8"))))
    section = LABS if url_path.endswith("Lab") or url_path == "Class_board" else LESSONS
    return PageEntry(f"pages/{file.name}", number, url_path, title, summary, section)


@functools.lru_cache(maxsize=8)
def page_entries(pages_dir: Path = PAGES_DIR) -> tuple[PageEntry, ...]:
    """Every page under ``pages/``, ordered by the number its file name starts with.

    Read once per process: app.py asks on every script run of every session, and parsing the page files each time
    cost reruns CPU and, with many sessions at once, hit CPython's AST recursion-depth bookkeeping, which threads
    share (https://github.com/python/cpython/issues/106905: "SystemError: AST constructor recursion depth
    mismatch")."""
    return tuple(sorted((_parse(f) for f in pages_dir.glob("*.py")), key=lambda e: (e.number, e.title)))


def _file_based_navigation() -> bool:
    """Whether this run shows Streamlit's page list made from the files in pages/, not app.py's navigation.

    That list has app.py itself as its first page (a file page); app.py's own navigation has a function there.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return False
    for page in ctx.pages_manager.get_pages().values():
        path = page.get("script_path") or ""
        if "url_pathname" in page and path and Path(path).resolve() == APP_FILE:
            return True
    return False


# Reload the tab, at most once in 30 s (sessionStorage outlives the reload, so this can never loop).
_RELOAD_JS = """
export default function () {
  const key = "optlab-app-navigation-reload";
  const last = Number(window.sessionStorage.getItem(key) || 0);
  if (Date.now() - last < 30000) return;
  window.sessionStorage.setItem(key, String(Date.now()));
  window.location.reload();
}
"""
_RELOAD = st.components.v2.component("optlab_app_navigation_reload", js=_RELOAD_JS)


def use_app_navigation() -> None:
    """Take the reader's language from the link or the session, and reload a page that Streamlit opened with its
    file-based sidebar, so that app.py's navigation shows instead.

    Streamlit 1.67 decides once per server, when the first session connects, whether the app is an old-style
    multipage app: with a ``pages/`` folder beside the main script it is (``PagesManager.uses_pages_directory``),
    and then each run executes the requested page file directly under a navigation made from the file names
    (``streamlit.runtime.scriptrunner.script_runner._mpa_v1``), never app.py. Only app.py's ``st.navigation``
    call turns that off, so a student whose first request after a server start is a link to a sub page (and
    everyone who connects before anyone opens the home page) sees the file names. Called first on every page,
    this notices such a run, turns the old mode off for the whole server and reloads the tab: the new session
    runs app.py, whose navigation opens the same page with the same link. A rerun within the session is not
    enough: the browser, told of a second page list, redraws the page's widgets with their defaults, so a link's
    settings showed in the sidebar as the defaults while the page ran with the link's.
    """
    sync_language()
    if not _file_based_navigation():
        return
    PagesManager.uses_pages_directory = False
    _RELOAD(key="optlab_app_navigation_reload")
    st.stop()
