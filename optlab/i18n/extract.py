"""Babel extraction for optlab: the marked strings of every source file, and the page titles read from docstrings.

A page file describes itself in the first line of its docstring, ``"Title: what it shows."`` (``optlab.ui.pages``
reads it for the navigation and the home page, and shows both parts through ``t()``). Babel's Python extractor does
not read docstrings, so :func:`extract_page` adds those two messages to the ones it finds
(https://babel.pocoo.org/en/latest/messages.html#writing-extraction-methods).

:func:`marked_messages` runs the same extraction from Python, as ``pybabel extract -F optlab/i18n/babel.cfg`` does.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = Path(__file__).resolve().parent / "babel.cfg"
_FILE = re.compile(r"([0-9]*)[_ -]*(.*)\.py")
TITLE_MAX = 40  # a longer "title" before ": " is a sentence, and the file name gives the title


def page_heading(file_name: str, docstring: str | None) -> tuple[str, str]:
    """(title, summary) of a page: ``"Title: summary"`` from the docstring's first line, else the file's name."""
    match = _FILE.fullmatch(file_name)
    url_path = re.sub(r"[_ ]+", "_", match.group(2) if match else Path(file_name).stem).strip("_")
    doc = (docstring or "").strip()
    first = doc.splitlines()[0] if doc else ""
    title, sep, summary = first.partition(": ")
    if not sep or len(title) > TITLE_MAX:
        title, summary = url_path.replace("_", " "), first
    return title.strip(), summary.strip()


def extract_page(fileobj: IO[bytes], keywords: Any, comment_tags: Any, options: dict) -> Iterator[tuple]:
    """Babel extraction method for ``pages/*.py``: the page's title and summary, then its marked strings."""
    from babel.messages.extract import extract_python  # Babel only where text is extracted

    source = fileobj.read()
    name = getattr(fileobj, "name", "page.py")
    heading = page_heading(Path(name).name, ast.get_docstring(ast.parse(source)))
    for text in heading:
        if text:
            yield 1, "", text, ["page title and summary (docstring's first line)"]
    yield from extract_python(io.BytesIO(source), keywords, comment_tags, options)


def marked_messages(root: Path = ROOT) -> dict[str, list[str]]:
    """Every marked message under ``root`` -> where it is marked ("file:line"); plural messages by their singular."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.frontend import parse_mapping_cfg

    with BABEL_CFG.open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found: dict[str, list[str]] = {}
    # Babel writes a warning to stderr for each f-string among a call's later arguments (t("{n} s", n=f"{x:g}")):
    # those are values, not messages, so the warnings say nothing here.
    with contextlib.redirect_stderr(io.StringIO()):
        for file, line, message, _comments, _context in extract_from_dir(str(root), method_map, options_map):
            msgid = message[0] if isinstance(message, tuple) else message
            if msgid:
                found.setdefault(msgid, []).append(f"{file}:{line}")
    return found
