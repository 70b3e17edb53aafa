"""Real-browser fixtures: the app served by `streamlit run` on a free local port, driven by Chromium via Playwright.

Without a Chromium the browser tests are skipped with the reason shown, or fail when OPTLAB_REQUIRE_BROWSER=1
(as CI sets it). Leaves out pytest-playwright: a few plain fixtures are all these tests need.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

try:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
except ImportError:  # no Playwright: the fixtures below skip (or fail) with the reason
    PlaywrightTimeout = TimeoutError

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_S = 90  # streamlit imports torch on the first page: slow on a busy 2-core machine
RUN_TIMEOUT_MS = 60_000  # one script run, from a click to the page settling

# Console lines that are not the app's fault, each explained. Nothing else is tolerated.
IGNORED_CONSOLE = [
    # Opened on /Some_Page, Streamlit's frontend first probes /Some_Page/_stcore/... in case the app is served
    # under that prefix, gets a 404, then falls back to the root. Normal for every multipage app.
    re.compile(r"status of 404 .*\(https?://[^/]+/[^/]+/_stcore/(health|host-config)\)$"),
]


def require_or_skip(reason: str) -> None:
    """Skip with the reason shown, or fail when the environment says a browser is required."""
    if os.environ.get("OPTLAB_REQUIRE_BROWSER") == "1":
        pytest.fail(f"OPTLAB_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def find_chromium() -> str | None:
    for candidate in (os.environ.get("OPTLAB_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def page_url_path(page: Path) -> str:
    """URL path Streamlit gives a page file: pages/1_Surface_Lab.py -> "Surface_Lab" (number and separators go)."""
    name = re.fullmatch(r"([0-9]*)[_ -]*(.*)\.py", page.name).group(2)
    return re.sub(r"[_ ]+", "_", name).strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/_stcore/health", timeout=2) as response:
            return response.status == 200 and response.read().strip() == b"ok"
    except OSError:
        return False


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = find_chromium()
    if path is None:
        require_or_skip(
            "no Chromium found (install Debian's: apt-get install -y chromium, or set OPTLAB_CHROMIUM)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        require_or_skip("Playwright for Python is not installed (pip install -e '.[dev]')")
    return path


@pytest.fixture(scope="session")
def app_url(chromium_path) -> str:
    """Serve app.py with `streamlit run` on a free port; yield its base URL; stop the server at the end."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [str(streamlit)] if streamlit.exists() else [sys.executable, "-m", "streamlit"]
    command += [
        "run",
        "app.py",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
    ]
    log_path = ARTIFACTS / "streamlit-e2e.log"
    base_url = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while not healthy(base_url):
                if server.poll() is not None:
                    pytest.fail(f"streamlit exited with {server.returncode}:\n{log_path.read_text()[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"streamlit not healthy after {SERVER_START_S} s:\n{log_path.read_text()[-3000:]}"
                    )
                time.sleep(0.25)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class AppPage:
    """A browser tab on the app, with what a test needs to wait for Streamlit and to read its console."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))

    def _on_console(self, message) -> None:
        if message.type != "error":
            return
        text = f"{message.text} ({message.location.get('url', '')})"
        if not any(pattern.search(text) for pattern in IGNORED_CONSOLE):
            self.console_errors.append(text)

    # -- navigation and waiting ---------------------------------------------------------------------------------

    def goto(self, path: str = "") -> None:
        """Open base_url/path (a page, with an optional ?query) and wait for the first script run to finish."""
        self.page.goto(f"{self.base_url}/{path.lstrip('/')}", wait_until="domcontentloaded")
        self.page.wait_for_selector('[data-testid="stApp"]', timeout=RUN_TIMEOUT_MS)
        self.wait_idle(expect_run=True)

    def script_state(self) -> str | None:
        return self.page.get_attribute('[data-testid="stApp"]', "data-test-script-state")

    def wait_idle(self, expect_run: bool = True, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Wait until Streamlit has no script run in flight (and is connected).

        With expect_run, first give a run up to 5 s to start, so that the idle state from before an action does
        not count. A run is seen by the observer that :meth:`act` arms, or by the state attribute itself.
        """
        if expect_run:
            try:
                self.page.wait_for_function(
                    """() => { const a = document.querySelector('[data-testid="stApp"]');
                               return (window.__optlabRuns || 0) > 0
                                   || (a && a.getAttribute('data-test-script-state') !== 'notRunning'); }""",
                    timeout=5000,
                    polling=50,
                )
            except PlaywrightTimeout:  # nothing reran: the action changed nothing the server cares about
                pass
        self.page.wait_for_function(
            """() => { const a = document.querySelector('[data-testid="stApp"]');
                       return a && a.getAttribute('data-test-script-state') === 'notRunning'
                              && a.getAttribute('data-test-connection-state') === 'CONNECTED'; }""",
            timeout=timeout_ms,
            polling=100,
        )
        self.settle()

    def open_tab(self, name: str, figure_key: str):
        """Click the tab called ``name`` and wait until the Plotly figure with this key inside it is drawn."""
        self.act(lambda: self.page.get_by_role("tab", name=name).click())
        figure = self.key(figure_key).locator(".js-plotly-plot").first
        figure.wait_for()
        self.settle()
        return figure

    def settle(self, timeout_ms: int = 20_000) -> None:
        """Wait until what the last run drew is on screen: every Plotly chart has its SVG, every code block its
        text, every shown dataframe its rows (the table it keeps for screen readers), and no element of an
        earlier run is left.

        Streamlit fetches the Plotly and code-highlighting bundles on first use, after the run itself has ended,
        and shows a skeleton (stSkeleton) in their place meanwhile. Elements of the previous run stay on screen,
        marked data-stale="true" (drawn faded), until the new run replaces or drops them.
        A chart that never draws is left for the tests to report (drawn_figures), not raised here.
        """
        try:
            self.page.wait_for_function(
                """() => !document.querySelector('[data-testid="stSkeleton"]')
                         && !document.querySelector('[data-testid="stElementContainer"][data-stale="true"]')
                         && Array.from(document.querySelectorAll('[data-testid="stPlotlyChart"]'))
                              .every(c => c.querySelector('.main-svg'))
                         && Array.from(document.querySelectorAll('[data-testid="stCode"]'))
                              .every(c => c.querySelector('pre'))
                         && Array.from(document.querySelectorAll('[data-testid="stDataFrame"]'))
                              .every(d => d.offsetParent === null || d.querySelector('table tr'))""",
                timeout=timeout_ms,
                polling=100,
            )
        except PlaywrightTimeout:
            pass

    def act(self, action: Callable[[], object], timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Do something that reruns the script, and wait until that run is over.

        A MutationObserver counts changes of the script state to "running", so a run that starts and ends
        between two polls is not missed.
        """
        self.page.evaluate(
            """() => { if (window.__optlabObserver) window.__optlabObserver.disconnect();
                       window.__optlabRuns = 0;
                       const a = document.querySelector('[data-testid="stApp"]');
                       window.__optlabObserver = new MutationObserver(() => {
                           if (a.getAttribute('data-test-script-state') === 'running') window.__optlabRuns += 1; });
                       window.__optlabObserver.observe(a, {attributes: true,
                                                          attributeFilter: ['data-test-script-state']}); }"""
        )
        action()
        self.wait_idle(expect_run=True, timeout_ms=timeout_ms)

    # -- widgets, found by their key ----------------------------------------------------------------------------

    def key(self, key: str):
        """The element container of the widget with this key (Streamlit adds the class st-key-<key>)."""
        return self.page.locator(f".st-key-{key}")

    def select(self, key: str, option: str) -> None:
        """Pick the option shown as ``option`` in the selectbox with this key."""

        def pick():
            field = self.key(key).locator("input").first
            field.click()
            field.press("ControlOrMeta+a")
            field.press_sequentially(
                option
            )  # typing (not fill) opens the list, filtered down to a few entries
            options = self.page.locator('[role="option"]')
            options.first.wait_for()
            texts = [t.strip() for t in options.all_inner_texts()]
            if option not in texts:
                raise AssertionError(f"{key}: no option {option!r} among {texts}")
            # The list animates into place, so pick with the keyboard rather than a click on a moving target.
            focused = self.page.locator('[role="option"][data-focused="true"]')
            for _ in range(len(texts) + 1):
                if focused.count() and focused.first.inner_text().strip() == option:
                    break
                field.press("ArrowDown")
            field.press("Enter")

        self.act(pick)

    def selected(self, key: str) -> str:
        return self.key(key).locator("input").first.input_value()

    def set_number(self, key: str, value: float | str) -> None:
        """Type a value into the number input with this key and commit it with Enter."""

        def type_it():
            field = self.key(key).locator("input").first
            field.fill(str(value))
            field.press("Enter")

        self.act(type_it)

    def number(self, key: str) -> float:
        return float(self.key(key).locator("input").first.input_value())

    def slider_keys(self, key: str, *keys: str) -> None:
        """Move the slider with this key from the keyboard ("End", "ArrowRight", ...), as a student can."""

        def press():
            thumb = self.key(key).locator('input[type="range"]').first
            thumb.focus()
            for k in keys:
                thumb.press(k)

        self.act(press)

    def slider_value(self, key: str) -> str:
        return self.key(key).locator('input[type="range"]').first.input_value()

    def click(self, key: str, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Click the button with this key."""
        self.act(lambda: self.key(key).locator("button").first.click(), timeout_ms=timeout_ms)

    @staticmethod
    def plot(figure):
        """The .js-plotly-plot element of a figure locator (on it or around it)."""
        return figure.locator(".js-plotly-plot").first if figure.locator(".js-plotly-plot").count() else figure

    def figure_point(self, figure, x: float, y: float) -> tuple[float, float]:
        """Page pixel of data point (x, y) in a Plotly figure (a locator on or inside its .js-plotly-plot)."""
        handle = self.plot(figure)
        return tuple(
            handle.evaluate(
                """(g, [x, y]) => { const L = g._fullLayout, r = g.querySelector('.main-svg').getBoundingClientRect();
                                    return [r.left + L._size.l + L.xaxis.d2p(x), r.top + L._size.t + L.yaxis.d2p(y)]; }""",
                [x, y],
            )
        )

    def click_figure(self, figure, x: float, y: float) -> None:
        """Click a Plotly figure at data point (x, y), as a student would: hover first and wait until Plotly has
        taken the hover (its plotly_hover event), since Plotly sends a click only for a point it is hovering."""
        figure.scroll_into_view_if_needed()
        px, py = self.figure_point(figure, x, y)
        handle = self.plot(figure)

        def click():
            handle.evaluate(
                "g => { window.__optlabHovered = false; g.once('plotly_hover', () => { window.__optlabHovered = true; }); }"
            )
            self.page.mouse.move(px, py)
            self.page.wait_for_function("() => window.__optlabHovered === true", timeout=10_000, polling=20)
            self.page.mouse.click(px, py)

        self.act(click)

    # -- reading the page ---------------------------------------------------------------------------------------

    def exceptions(self) -> list[str]:
        return self.page.locator('[data-testid="stException"]').all_inner_texts()

    def errors(self) -> list[str]:
        return self.page.locator('[data-testid="stAlertContentError"]').all_inner_texts()

    def drawn_figures(self) -> int:
        """Plotly figures that Plotly has actually drawn (an SVG with a non-zero size)."""
        return self.page.evaluate(
            """() => Array.from(document.querySelectorAll('.js-plotly-plot .main-svg'))
                       .filter(s => s.getBoundingClientRect().width > 0 && s.getBoundingClientRect().height > 0)
                       .map(s => s.closest('.js-plotly-plot')).filter((v, i, a) => a.indexOf(v) === i).length"""
        )

    def figure_signature(self, index: int = 0) -> str:
        """The data of the index-th Plotly figure as JSON, to see whether a figure changed."""
        return self.page.evaluate(
            """(i) => { const g = document.querySelectorAll('.js-plotly-plot')[i];
                        if (!g || !g.data) return '';
                        return JSON.stringify(g.data.map(t => [t.type, t.name, t.x, t.y, t.z ? t.z.length : 0])); }""",
            index,
        )

    def wait_figures_fit(self, timeout_ms: int = 10_000) -> None:
        """After a resize, wait until every drawn Plotly figure has been laid out again at its element's new
        width (Plotly relayouts on the window's resize event; until then its SVG keeps the old width).

        A figure given a fixed width narrower than its element never matches and is not waited for.
        """
        try:
            self.page.wait_for_function(
                """() => Array.from(document.querySelectorAll('.js-plotly-plot')).every(g => {
                           const svg = g.querySelector('.main-svg');
                           if (!svg || !g._fullLayout) return true;
                           const box = g.getBoundingClientRect().width;
                           return !g._fullLayout.autosize && g._fullLayout.width < box - 1
                                  || Math.abs(svg.getBoundingClientRect().width - box) <= 1; })""",
                timeout=timeout_ms,
                polling="raf",
            )
        except PlaywrightTimeout:
            pass

    def screenshot(self, name: str) -> Path:
        """Save the whole page (Streamlit scrolls inside its main section, so grow the viewport to fit it)."""
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        height = self.page.evaluate(
            """() => { const m = document.querySelector('[data-testid="stMain"]') || document.body;
                       return Math.max(m.scrollHeight, document.body.scrollHeight); }"""
        )
        size = self.page.viewport_size
        self.page.set_viewport_size(
            {"width": size["width"], "height": max(size["height"], min(int(height), 8000))}
        )
        self.wait_figures_fit()
        path = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        self.page.set_viewport_size(size)
        return path


@pytest.fixture
def app(browser, app_url):
    """A fresh browser tab (its own cookies and session) on the served app."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield AppPage(page, app_url)
    context.close()
