"""Every page opens in a real browser: no exception box, no error message, no console error, its figures drawn.

Pages are discovered from pages/*.py, so a new page is checked without touching this file. A screenshot of each
lands in artifacts/screenshots/. Leaves out interactions: see the per-page tests.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

from .conftest import (
    ARTIFACTS,
    ROOT,
    RUN_TIMEOUT_MS,
    SERVER_START_S,
    VIEWPORT,
    AppPage,
    free_port,
    healthy,
    page_url_path,
)

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


# --- the first request after a server start ------------------------------------------------------------------


@contextlib.contextmanager
def fresh_server():
    """A new `streamlit run app.py` that no browser has talked to yet; yields its base URL."""
    port = free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [str(streamlit)] if streamlit.exists() else [sys.executable, "-m", "streamlit"]
    command += ["run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
                "--server.headless", "true", "--browser.gatherUsageStats", "false",
                "--server.fileWatcherType", "none"]
    base_url = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / "streamlit-e2e-fresh.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while not healthy(base_url):
                assert server.poll() is None, f"streamlit exited:\n{log_path.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"streamlit not healthy:\n{log_path.read_text()[-3000:]}"
                time.sleep(0.25)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def nav_labels(app: AppPage) -> list[str]:
    """The link texts of the sidebar's navigation (without an icon's ligature name), and its section headers."""
    nav = app.page.locator('[data-testid="stSidebarNav"]')
    nav.wait_for()
    links = [t.strip().splitlines()[-1].strip() for t in nav.locator("a").all_inner_texts()]
    return links + [t.strip() for t in nav.locator("header").all_inner_texts()]


APP_NAVIGATION = {"Home", "Labs", "Lessons", "Surface Lab", "MNIST Lab", "Momentum and Nesterov",
                  "zero_grad, backward, step"}


def test_the_first_visits_after_a_server_start_show_the_apps_navigation(browser):
    """Right after a start, Streamlit treats an app with a pages/ folder as a file-based multipage app until
    app.py has run once; links to sub pages opened first, by several students at once, must still get the app's
    navigation (its titles and sections), the page they asked for and the settings their link carried."""
    with fresh_server() as base_url:
        paths = ["Surface_Lab?s=booth&n=40", "Momentum_and_Nesterov", "Surface_Lab?s=himmelblau&n=30"]
        contexts = [browser.new_context(viewport=VIEWPORT) for _ in paths]
        try:
            apps = [AppPage(c.new_page(), base_url) for c in contexts]
            for app, path in zip(apps, paths, strict=True):  # all connect before any first run is over
                app.page.goto(f"{base_url}/{path}", wait_until="commit")
            for app, path in zip(apps, paths, strict=True):
                app.page.wait_for_selector('[data-testid="stApp"]', timeout=RUN_TIMEOUT_MS)
                app.wait_idle(expect_run=True)
                labels = nav_labels(app)
                assert APP_NAVIGATION <= set(labels), labels
                assert "app" not in labels and "zero grad backward step" not in labels, labels  # file names
                assert urlparse(app.page.url).path.strip("/") == path.split("?")[0]
                assert app.exceptions() == [] and app.errors() == []
            assert apps[0].selected("sl_surface") == "Booth" and apps[2].selected("sl_surface") == "Himmelblau"
            assert "s=booth" in apps[0].page.url and "n=40" in apps[0].page.url
        finally:
            for c in contexts:
                c.close()
