"""Every page opens in a real browser: no exception box, no error message, no console error, its figures drawn.

Pages are discovered from pages/*.py, so a new page is checked without touching this file. A screenshot of each
lands in artifacts/screenshots/. Leaves out interactions: see the per-page tests.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import ROOT, page_url_path

pytestmark = pytest.mark.e2e

PAGE_FILES = sorted(
    (ROOT / "pages").glob("*.py"), key=lambda p: (int(re.match(r"\d*", p.name).group() or 10**6), p.name)
)
# A page "has figures" when its source draws a Plotly chart itself or through optlab's figure builders.
FIGURE_HINTS = re.compile(r"plotly_chart|optlab\.plots|from optlab import plots|figure")


def has_figures(page: Path) -> bool:
    return bool(FIGURE_HINTS.search(page.read_text(encoding="utf-8")))


CASES = [pytest.param("", False, "00_home", id="home")] + [
    pytest.param(page_url_path(p), has_figures(p), p.stem, id=p.stem) for p in PAGE_FILES
]


@pytest.mark.parametrize(("url_path", "expects_figure", "shot"), CASES)
def test_page_loads_cleanly(app, url_path, expects_figure, shot):
    app.goto(url_path)
    # A wrong URL lands on the home page with a "page not found" dialog: make sure we are where we meant to be.
    assert urlparse(app.page.url).path.strip("/") == url_path, app.page.url
    assert not app.page.get_by_text("Page not found").count(), f"/{url_path} is not a page"
    figures = app.drawn_figures()
    app.screenshot(shot)
    assert app.exceptions() == []
    assert app.errors() == []
    assert app.console_errors == []
    if expects_figure:
        assert figures >= 1, "the page draws figures, yet no Plotly figure was drawn"
    charts = app.page.locator('[data-testid="stPlotlyChart"]:visible').count()
    assert figures >= min(charts, 1), "a Plotly chart element is on the page but Plotly drew nothing"
