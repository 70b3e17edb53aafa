"""The app's pages as the navigation and the home page list them: file, title, section and one-line summary.

Each page describes itself once, in the first line of its docstring: ``"Title: what it shows."``.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"
_FILE = re.compile(r"([0-9]*)[_ -]*(.*)\.py")


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the app's root, as st.Page and st.page_link want it
    number: int  # from the file name, orders the sidebar
    url_path: str  # "Surface_Lab" for pages/1_Surface_Lab.py: the address a shared link uses
    title: str  # from the docstring's "Title: summary", else from the file name
    summary: str
    section: str  # "Labs" or "Lessons"


def _parse(file: Path) -> PageEntry:
    match = _FILE.fullmatch(file.name)
    number = int(match.group(1)) if match and match.group(1) else 10**6
    url_path = re.sub(r"[_ ]+", "_", match.group(2) if match else file.stem).strip("_")
    doc = ast.get_docstring(ast.parse(file.read_text(encoding="utf-8"))) or ""
    first = doc.strip().splitlines()[0] if doc.strip() else ""
    title, sep, summary = first.partition(": ")
    if not sep or len(title) > 40:
        title, summary = url_path.replace("_", " "), first
    section = "Labs" if url_path.endswith("Lab") else "Lessons"
    return PageEntry(f"pages/{file.name}", number, url_path, title.strip(), summary.strip(), section)


def page_entries(pages_dir: Path = PAGES_DIR) -> list[PageEntry]:
    """Every page under ``pages/``, ordered by the number its file name starts with."""
    return sorted((_parse(f) for f in pages_dir.glob("*.py")), key=lambda e: (e.number, e.title))
