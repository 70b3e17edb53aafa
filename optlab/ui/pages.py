"""The app's pages as the home page lists them: file, title and the one-line summary from each page's docstring."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parents[2] / "pages"


@dataclass(frozen=True)
class PageEntry:
    path: str  # relative to the app's root, as st.page_link wants it
    number: int
    title: str  # "Surface Lab", from the file name "1_Surface_Lab.py"
    summary: str  # the first line of the page's docstring


def _title(stem: str) -> tuple[int, str]:
    match = re.match(r"(\d+)_(.*)", stem)
    number, rest = (int(match.group(1)), match.group(2)) if match else (10**6, stem)
    return number, rest.replace("_", " ").strip()


def page_entries(pages_dir: Path = PAGES_DIR) -> list[PageEntry]:
    """Every page under ``pages/``, in the order of its number, as Streamlit orders the sidebar."""
    entries = []
    for file in pages_dir.glob("*.py"):
        number, title = _title(file.stem)
        doc = ast.get_docstring(ast.parse(file.read_text(encoding="utf-8"))) or ""
        summary = doc.strip().splitlines()[0] if doc.strip() else ""
        entries.append(PageEntry(f"pages/{file.name}", number, title, summary))
    return sorted(entries, key=lambda e: (e.number, e.title))
