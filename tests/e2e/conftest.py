"""Real-browser fixtures: the app served by `streamlit run` on a free local port, driven by Chromium via Playwright.

Without a Chromium the browser tests are skipped with the reason shown, or fail when OPTLAB_REQUIRE_BROWSER=1
(as CI sets it). Leaves out pytest-playwright: a few plain fixtures are all these tests need.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
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
# The live figure's sweeps and start grid, computed on the server's one background thread: with the other test
# worker on the second core, the CI machine took over 60 s behind the runs an earlier test left queued.
SWEEPS_TIMEOUT_MS = 180_000
# While the live figure's sweeps are computed in the background, the Surface Lab reruns a fragment every
# AHEAD_POLL_S = 0.4 s (optlab/ui/surface_lab.py): no run for three of those periods means they are in.
QUIET_MS = 1_200

# Console lines that are not the app's fault, each explained. Nothing else is tolerated.
IGNORED_CONSOLE = [
    # Opened on /Some_Page, Streamlit's frontend first probes /Some_Page/_stcore/... in case the app is served
    # under that prefix, gets a 404, then falls back to the root. Normal for every multipage app.
    re.compile(r"status of 404 .*\(https?://[^/]+/[^/]+/_stcore/(health|host-config)\)$"),
]


def pytest_collection_modifyitems(config, items):
    """Every browser test runs in the same pytest-xdist worker (scripts/test.sh runs ``-n 2 --dist loadgroup``):
    they share one app server and one Chromium, started once, while the other worker takes the rest of the suite."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


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


def server_log_tail(lines: int = 40) -> str:
    """The last lines of the app server's log (a failure message carries them: CI keeps no artifacts)."""
    try:
        return "\n".join((ARTIFACTS / "streamlit-e2e.log").read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(no log: {e})"


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


def path_points(d: str) -> list[tuple[float, float]]:
    """The vertices of an SVG path written as M x,y L x,y ... (as the live figure writes its paths)."""
    return [(float(x), float(y)) for x, y in re.findall(r"[ML](-?[0-9.]+),(-?[0-9.]+)", d)]


@dataclass(frozen=True)
class LiveGeometry:
    """The live figure's coordinates: data (x, y) in the window ``bounds``, SVG user units (u, v) in which its
    paths are written, and page pixels. The plot rect is the contour picture's <image> (x, y, w, h, user units);
    the SVG is drawn ``sx`` × ``sy`` page pixels per user unit with its top-left corner at (left, top).
    """

    bounds: tuple
    left: float
    top: float
    sx: float
    sy: float
    x: float
    y: float
    w: float
    h: float

    def user(self, x: float, y: float) -> tuple[float, float]:
        """u = x_img + (x − x₀)/(x₁ − x₀)·w,  v = y_img + (y₁ − y)/(y₁ − y₀)·h  (y grows upwards)."""
        (x0, x1), (y0, y1) = self.bounds
        return self.x + (x - x0) / (x1 - x0) * self.w, self.y + (y1 - y) / (y1 - y0) * self.h

    def page(self, x: float, y: float) -> tuple[float, float]:
        u, v = self.user(x, y)
        return self.left + u * self.sx, self.top + v * self.sy

    def data_per_pixel(self) -> float:
        """The larger of the two axes' data units per page pixel: the figure's resolution."""
        (x0, x1), (y0, y1) = self.bounds
        return max((x1 - x0) / (self.w * self.sx), (y1 - y0) / (self.h * self.sy))


FRAMES_KEPT = 60


def describe_frame(way: str, payload: bytes) -> str:
    """One websocket message of Streamlit's protocol in a line: a run's start and end, a rerun request and its
    fragment, an element and its delta path (the live figure: whether it still waits for its sweeps)."""
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    if way == ">":
        back = BackMsg.FromString(payload)
        kind = back.WhichOneof("type")
        if kind != "rerun_script":
            return "" if kind == "app_heartbeat" else f"> {kind}"
        rerun = back.rerun_script
        return f"> rerun fragment={rerun.fragment_id[:8] or '-'} auto={rerun.is_auto_rerun}"
    msg = ForwardMsg.FromString(payload)
    kind = msg.WhichOneof("type")
    if kind == "new_session":
        return "< new_session"
    if kind == "script_finished":
        return f"< script_finished {ForwardMsg.ScriptFinishedStatus.Name(msg.script_finished)}"
    if kind in ("auto_rerun", "stop_auto_rerun"):
        return f"< {kind} {getattr(msg, kind)}".replace("\n", " ")
    if kind == "ref_hash":
        return f"< ref_hash {msg.ref_hash[:8]} path={list(msg.metadata.delta_path)}"
    if kind != "delta":
        return f"< {kind}"
    delta = msg.delta
    what = delta.WhichOneof("type")
    if what == "new_element":
        element = delta.new_element.WhichOneof("type")
        if element == "bidi_component":
            bidi = delta.new_element.bidi_component
            element = bidi.component_name.rsplit(".", 1)[-1]
            if bidi.json.startswith("{") and json.loads(bidi.json).get("hint"):
                element += " (still waiting for its sweeps)"
        what = element
    return f"< {what} path={list(msg.metadata.delta_path)} fragment={delta.fragment_id[:8] or '-'}"


class AppPage:
    """A browser tab on the app, with what a test needs to wait for Streamlit and to read its console."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.console_errors.append(f"page error: {error}"))
        # the last messages between the tab and the server, one line each: a failure to draw says what came
        self.frames: deque[str] = deque(maxlen=FRAMES_KEPT)
        self._t0 = time.monotonic()
        page.on("websocket", self._on_websocket)

    def _on_websocket(self, ws) -> None:
        ws.on("framereceived", lambda payload: self._on_frame("<", payload))
        ws.on("framesent", lambda payload: self._on_frame(">", payload))

    def _on_frame(self, way: str, payload) -> None:
        if isinstance(payload, bytes):
            try:
                line = describe_frame(way, payload)
            except Exception as e:  # a diagnostic: never the reason a test fails
                line = f"{way} {len(payload)} B, not decoded ({e.__class__.__name__})"
            if line:
                self.frames.append(f"{time.monotonic() - self._t0:7.2f}s {line}")

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
        # The first run has drawn something: on a busy machine it can start later than wait_idle's 5 s grace,
        # and a connected page with no run yet also reads as idle.
        self.page.wait_for_function(
            """() => { const m = document.querySelector('[data-testid="stMain"]');
                       return m && m.innerText.trim().length > 0; }""",
            timeout=RUN_TIMEOUT_MS,
            polling=100,
        )
        self.wait_idle(expect_run=False)
        if self.live().count():
            self.wait_live_ready()

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
        The live surface figure (key sl_live) draws into an open shadow root after the run (its script is
        loaded on first use): it has settled once its SVG is there.
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
                              .every(d => d.offsetParent === null || d.querySelector('table tr'))
                         && Array.from(document.querySelectorAll('.st-key-sl_live [data-testid="stBidiComponentIsolated"]'))
                              .every(h => h.shadowRoot && h.shadowRoot.querySelector('.olf-plot svg'))""",
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
        self.count_runs()
        action()
        self.wait_idle(expect_run=True, timeout_ms=timeout_ms)

    def count_runs(self) -> None:
        """From now on, count the script runs that start (a MutationObserver on the script state attribute)."""
        self.page.evaluate(
            """() => { if (window.__optlabObserver) window.__optlabObserver.disconnect();
                       window.__optlabRuns = 0;
                       const a = document.querySelector('[data-testid="stApp"]');
                       window.__optlabObserver = new MutationObserver(() => {
                           if (a.getAttribute('data-test-script-state') === 'running') window.__optlabRuns += 1; });
                       window.__optlabObserver.observe(a, {attributes: true,
                                                          attributeFilter: ['data-test-script-state']}); }"""
        )

    def runs_counted(self) -> int:
        """Script runs started since :meth:`count_runs` (or since the last :meth:`act`)."""
        return int(self.page.evaluate("() => window.__optlabRuns || 0"))

    def wait_quiet(self, quiet_ms: int = QUIET_MS, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Wait until no script run has started or ended for ``quiet_ms`` (a polling fragment has stopped)."""
        self.page.evaluate(
            """() => { if (window.__optlabQuietObserver) window.__optlabQuietObserver.disconnect();
                       window.__optlabLastChange = performance.now();
                       const a = document.querySelector('[data-testid="stApp"]');
                       window.__optlabQuietObserver = new MutationObserver(() => {
                           window.__optlabLastChange = performance.now(); });
                       window.__optlabQuietObserver.observe(a, {attributes: true,
                                                               attributeFilter: ['data-test-script-state']}); }"""
        )
        self.page.wait_for_function(
            """(quiet) => { const a = document.querySelector('[data-testid="stApp"]');
                            return a.getAttribute('data-test-script-state') === 'notRunning'
                                   && performance.now() - window.__optlabLastChange >= quiet; }""",
            arg=quiet_ms,
            timeout=timeout_ms,
            polling=100,
        )
        self.settle()

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
            # on a busy machine the list filters after the typing: wait until it shows only matching entries
            self.page.wait_for_function(
                """(typed) => { const o = [...document.querySelectorAll('[role="option"]')];
                                return o.length && o.every(e => e.innerText.toLowerCase().includes(typed)); }""",
                arg=option.lower(),
                timeout=10_000,
            )
            texts = [t.strip() for t in options.all_inner_texts()]
            if option not in texts:
                raise AssertionError(f"{key}: no option {option!r} among {texts}")
            # The list animates into place, so pick with the keyboard rather than a click on a moving target.
            focused = self.page.locator('[role="option"][data-focused="true"]')
            for _ in range(len(texts) + 1):
                if focused.count() and focused.first.inner_text().strip() == option:
                    break
                field.press("ArrowDown")
            assert focused.first.inner_text().strip() == option, f"{key}: the list's focus is not on {option!r}"
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

    # -- the live surface figure (optlab/ui/live_figure.js) ------------------------------------------------------
    # It draws inside an open shadow root: Playwright's CSS locators pierce it, document.querySelector does not.

    def live(self, selector: str = ""):
        """The live figure's root (.olf), or the elements matching ``selector`` inside it."""
        return self.page.locator(f".olf {selector}".rstrip())

    def live_render(self) -> int:
        """How many times the figure has drawn data sent by the server (its data-render counter)."""
        return int(self.live().get_attribute("data-render") or 0)

    def wait_live_drawn(self, after: int, timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """Wait until the figure has drawn new data since its counter read ``after``."""
        try:
            self.page.locator(f'.olf:not([data-render="{after}"])').wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightTimeout:
            pytest.fail(
                f"the live figure did not redraw within {timeout_ms} ms (data-render still {after}; script state "
                f"{self.script_state()}, {self.runs_counted()} run(s) started since the action; exceptions "
                f"{self.exceptions()}; console {self.console_errors})"
            )

    def wait_live_ready(self, timeout_ms: int = SWEEPS_TIMEOUT_MS) -> None:
        """Wait until the live figure can be dragged: its knob is drawn (the sweep is in) and the page has
        stopped polling for the sweep and the start grid, which are computed in the background."""
        try:
            self.live(".olf-knob").wait_for(state="attached", timeout=timeout_ms)
        except PlaywrightTimeout:
            self.count_runs()  # is the page still looking for the sweeps?
            self.page.wait_for_timeout(3000)
            hint = self.live(".olf-hint").all_inner_texts() if self.live().count() else "no live figure"
            diag = self.live().evaluate("r => [r.dataset.render, r.dataset.ready, document.querySelectorAll('.olf').length]")
            frames = list(self.frames)
            self.page.reload()
            try:
                self.live(".olf-knob").wait_for(state="attached", timeout=30_000)
                after = "knob after a reload"
            except PlaywrightTimeout:
                after = "no knob after a reload either"
            hint = f"{hint} DIAG {diag} {after}; the messages before the reload:\n" + "\n".join(frames)
            pytest.fail(
                f"the live figure drew no knob within {timeout_ms} ms (script state {self.script_state()}; "
                f"{self.runs_counted()} run(s) started in the next 3 s; the figure's hint {hint}; "
                f"exceptions {self.exceptions()}; errors {self.errors()}; console {self.console_errors}); the end "
                f"of the server's log:\n{server_log_tail()}"
            )
        self.wait_quiet(timeout_ms=timeout_ms)

    def act_live(self, action: Callable[[], object], timeout_ms: int = RUN_TIMEOUT_MS) -> None:
        """:meth:`act` for an action that changes what the live figure shows: also wait until it has redrawn
        (the component draws the new data just after the run, not during it) and is ready to drag again."""
        before = self.live_render()
        self.act(action, timeout_ms=timeout_ms)
        self.wait_live_drawn(before, timeout_ms=timeout_ms)
        self.wait_live_ready(timeout_ms=timeout_ms)

    def live_paths(self) -> list[str]:
        """The ``d`` of every run's path (path.olf-path), in run order.

        The figure stacks the paths by length (the longest below), so a path is told by its colour: the
        legend lists the runs in order, each with a swatch of its run's colour.
        """
        paths = self.live().evaluate(
            """r => { const colours = Array.from(r.querySelectorAll('.olf-legend .olf-item i'),
                                                 i => getComputedStyle(i).backgroundColor);
                      const paths = Array.from(r.querySelectorAll('path.olf-path'));
                      return {count: paths.length, runs: colours.map(c => paths
                          .filter(p => getComputedStyle(p).stroke === c).map(p => p.getAttribute('d')))}; }"""
        )
        runs = paths["runs"]
        assert all(len(run) == 1 for run in runs) and len(runs) == paths["count"], (
            f"{paths['count']} paths for {len(runs)} runs in the legend, matched by colour: {[len(r) for r in runs]}"
        )
        return [run[0] for run in runs]

    def box(self, locator, timeout_ms: int = 10_000) -> dict:
        """The page box of a locator's element. The live figure draws its plot anew when its width changes (a
        scrollbar coming or going), so the element first found may be gone when its box is asked: ask again."""
        deadline = time.monotonic() + timeout_ms / 1000
        while True:
            locator.wait_for(state="visible", timeout=timeout_ms)
            box = locator.bounding_box()
            if box is not None or time.monotonic() > deadline:
                assert box is not None, f"{locator} has no box"
                return box

    def live_geometry(self, bounds) -> LiveGeometry:
        """Where the figure puts the plot window ``bounds`` = ((x0, x1), (y0, y1)) on the page."""
        svg = self.live(".olf-plot svg")
        svg.scroll_into_view_if_needed()
        g = svg.evaluate(
            """s => { const b = s.getBoundingClientRect(), v = s.viewBox.baseVal, i = s.querySelector('image');
                      return {left: b.left, top: b.top, sx: b.width / v.width, sy: b.height / v.height,
                              x: +i.getAttribute('x'), y: +i.getAttribute('y'),
                              w: +i.getAttribute('width'), h: +i.getAttribute('height')}; }"""
        )
        return LiveGeometry(bounds=bounds, **g)

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
