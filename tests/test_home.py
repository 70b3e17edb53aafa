"""The home page (app.py) in AppTest: it renders without an exception and links to every page under pages/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"))


def url_path(page: Path) -> str:
    """URL path Streamlit gives a page file: pages/1_Surface_Lab.py -> "Surface_Lab" (number and separators go)."""
    name = re.fullmatch(r"([0-9]*)[_ -]*(.*)\.py", page.name).group(2)
    return re.sub(r"[_ ]+", "_", name).strip()


@pytest.fixture(scope="module")
def home() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()


def test_url_path_rule():
    assert url_path(Path("pages/1_Surface_Lab.py")) == "Surface_Lab"
    assert url_path(Path("pages/10_EMA of weights.py")) == "EMA_of_weights"
    assert url_path(Path("pages/Plain.py")) == "Plain"


def test_home_renders_without_exception(home):
    assert not home.exception, [e.value for e in home.exception]
    assert not home.error, [e.value for e in home.error]
    assert [t.value for t in home.title] == ["optlab"]
    assert home.markdown, "the home page should say what optlab is"


def test_home_links_every_page_once(home):
    linked = [link.proto.page for link in home.page_link]
    expected = [url_path(p) for p in PAGE_FILES]
    assert sorted(linked) == sorted(expected)


def letters(text: str) -> str:
    """Only the letters and digits, lower case: "zero_grad, backward" and "zero grad backward" compare equal."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: p.name)
def test_page_link_names_the_page(home, page):
    links = [link for link in home.page_link if link.proto.page == url_path(page)]
    assert len(links) == 1, f"no link to {page.name} on the home page"
    assert letters(url_path(page)) in letters(links[0].value), links[0].value
    assert links[0].proto.page_script_hash, "the link must point at a page Streamlit knows"
