"""Every page opens in a real browser: no exception box, no error message, no console error, its figures drawn.

Pages are discovered from pages/*.py, so a new page is checked without touching this file. A screenshot of each
lands in artifacts/screenshots/. Leaves out interactions: see the per-page tests.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import pytest

from .conftest import ROOT, page_url_path

pytestmark = pytest.mark.e2e

PAGE_FILES = sorted(
    (ROOT / "pages").glob("*.py"), key=lambda p: (int(re.match(r"\d*", p.name).group() or 10**6), p.name)
)
# Pages that must show a figure as soon as they open (others may wait for a click, e.g. "Reveal").
FIGURE_ON_LOAD = {"Surface_Lab"}

CASES = [pytest.param("", "00_home", id="home")] + [
    pytest.param(page_url_path(p), p.stem, id=p.stem) for p in PAGE_FILES
]


@pytest.mark.parametrize(("url_path", "shot"), CASES)
def test_page_loads_cleanly(app, url_path, shot):
    app.goto(url_path)
    # A wrong URL lands on the home page with a "page not found" dialog: make sure we are where we meant to be.
    assert urlparse(app.page.url).path.strip("/") == url_path, app.page.url
    assert not app.page.get_by_text("Page not found").count(), f"/{url_path} is not a page"
    figures = app.drawn_figures()
    app.screenshot(shot)
    assert app.exceptions() == []
    assert app.errors() == []
    assert app.console_errors == []
    if url_path in FIGURE_ON_LOAD:
        assert figures >= 1, "the page shows figures on load, yet no Plotly figure was drawn"
    # Every chart element on screen must hold a figure Plotly actually drew.
    charts = app.page.locator('[data-testid="stPlotlyChart"]:visible').count()
    assert figures >= charts, f"{charts} Plotly chart elements on screen, {figures} drawn"
