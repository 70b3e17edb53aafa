"""The class board in Chromium: a teacher prepares a lesson link and opens a class, a student in a second browser
context opens the link, joins and sends a run, and the run shows on the teacher's live board; the presenter view
at 1280×720; the standalone HTML file opened from file:// with nothing else reachable.

The server here has a class database of its own (OPTLAB_DATA_DIR in a temp folder), not the machine's default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import (
    ARTIFACTS,
    RUN_TIMEOUT_MS,
    SCREENSHOTS,
    SERVER_START_S,
    AppPage,
    free_port,
    healthy,
)

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[2]
SCREEN = {"width": 1280, "height": 720}
RUN = "r1=momentum,lr:0.0005,momentum:0.97"


@pytest.fixture(scope="module")
def class_url(chromium_path, tmp_path_factory):
    data = tmp_path_factory.mktemp("class-data")
    port = free_port()
    log_path = ARTIFACTS / "streamlit-e2e-classroom.log"
    ARTIFACTS.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k != "OPTLAB_DATABASE_URL"} | {"OPTLAB_DATA_DIR": str(data)}
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
               "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        server = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = time.monotonic() + SERVER_START_S
            while not healthy(base):
                assert server.poll() is None, log_path.read_text()[-3000:]
                assert time.monotonic() < deadline, log_path.read_text()[-3000:]
                time.sleep(0.25)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def tab(browser, base: str, viewport=SCREEN) -> AppPage:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    return AppPage(page, base)


def query_of(app: AppPage) -> dict[str, str]:
    from urllib.parse import parse_qs, urlsplit

    return {k: v[-1] for k, v in parse_qs(urlsplit(app.page.url).query).items()}


def test_prepare_join_submit_and_see_it_on_the_board(browser, class_url):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    teacher = tab(browser, class_url)
    # 1. the teacher prepares a lesson link on the Surface Lab: lock the steps, write a task
    teacher.goto(f"Surface_Lab?s=rosenbrock&n=200&{RUN}")
    teacher.act(lambda: teacher.page.get_by_text("Class: send my result").click())
    teacher.page.get_by_role("tab", name="Prepare for class").click()
    locks = teacher.key("classroom_lock").locator("input").first
    locks.click()
    locks.press_sequentially("steps")
    teacher.page.locator('[role="option"]').first.wait_for()
    teacher.act(lambda: locks.press("Enter"))
    task = teacher.key("classroom_task").locator("textarea")
    task.fill("Get below 1e-4 within 200 steps.")
    teacher.act(lambda: task.press("Tab"))
    teacher.click("classroom_make")
    link = teacher.page.locator('[data-testid="stCode"] pre').first.inner_text().strip()
    assert "/Surface_Lab?lesson=" in link and "n=200" in link
    teacher.page.screenshot(path=str(SCREENSHOTS / "classroom_prepare.png"))

    # 2. the teacher opens a class for that lesson on the board
    lesson_id = link.split("lesson=")[1].split("&")[0]
    teacher.goto(f"Class_board?lesson={lesson_id}")
    teacher.key("classroom_open_title").locator("input").fill("Period 3")
    teacher.act(lambda: teacher.page.get_by_role("button", name="Open the class").click())
    teacher.page.wait_for_url("**/Class_board?class=*")
    teacher.wait_idle(expect_run=False)
    code, key = query_of(teacher)["class"], query_of(teacher)["key"]
    assert len(code) == 6 and len(key) >= 32
    join_link = teacher.page.locator('[data-testid="optlab-join-link"]').first.inner_text()
    assert join_link.endswith(f"/Class_board?class={code}")  # short: what the QR code holds

    # 3. a student, in a browser context of their own, opens the join link, joins, opens the lesson, sends
    student = tab(browser, class_url)
    student.goto(join_link.split("/", 3)[3])
    student.key("classroom_join_name").locator("input").fill("Ann")
    student.act(lambda: student.page.get_by_role("button", name="Join").click())
    student.act(lambda: student.page.get_by_text("Open the class's lesson").click())
    student.page.wait_for_url("**/Surface_Lab?*")
    student.wait_idle(expect_run=False)
    assert "Get below 1e-4 within 200 steps." in student.page.inner_text("body")
    assert student.key("sl_steps").locator('input[type="range"]').first.is_disabled()  # locked
    assert "You are in class" in student.page.inner_text("body")  # the page link kept the session
    student.click("classroom_send")
    assert "on the teacher's board" in student.page.inner_text("body")
    student.page.screenshot(path=str(SCREENSHOTS / "classroom_student.png"))

    # 4. the board shows it, live (no reload)
    teacher.page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stDataFrame"] table td'))
                      .some(td => td.innerText.includes('Ann'))""", timeout=30_000, polling=250)
    teacher.page.wait_for_selector('.st-key-classroom_path_figure .main-svg', timeout=30_000)
    teacher.page.screenshot(path=str(SCREENSHOTS / "classroom_board.png"))
    assert not student.console_errors and not teacher.console_errors

    # 5. the presenter view: no sidebar, the QR code, names hidden, all within 1280×720
    teacher.goto(f"Class_board?class={code}&key={key}&present=1")
    teacher.page.wait_for_selector('.st-key-classroom_path_figure .main-svg', timeout=30_000)
    assert not teacher.page.locator('[data-testid="stSidebar"]').is_visible()
    qr = teacher.page.locator('img[alt="QR code of the link"]').first.bounding_box()
    assert qr and qr["x"] + qr["width"] <= SCREEN["width"] and qr["y"] + qr["height"] <= SCREEN["height"]
    body = teacher.page.inner_text("body")
    assert "student 1" in body and "Ann" not in body
    teacher.page.screenshot(path=str(SCREENSHOTS / "classroom_present.png"))

    # 6. the lesson's own presenter view: the figure without the sidebar, the QR code to join
    teacher.goto(link.split("/", 3)[3] + f"&class={code}&present=1")
    assert not teacher.page.locator('[data-testid="stSidebar"]').is_visible()
    assert teacher.page.locator('img[alt="QR code of the link"]').count() == 1
    teacher.page.screenshot(path=str(SCREENSHOTS / "classroom_lesson_present.png"))
    teacher.page.context.close()
    student.page.context.close()


def test_the_html_file_opens_from_disk_with_nothing_else_reachable(browser, tmp_path):
    from optlab.surfaces import SURFACES
    from optlab.trace import RunConfig, run_traces
    from optlab.ui.classroom.export import export_html

    surface = SURFACES["rosenbrock"]
    traces = run_traces(surface, [RunConfig.of("adam", lr=0.05), RunConfig.of("momentum", lr=1e-3)], surface.start,
                        150)
    path = tmp_path / "lesson.html"
    path.write_text(export_html(surface, traces, None, "Offline lesson", "Which run wins?"), encoding="utf-8")
    context = browser.new_context(viewport=SCREEN)
    requests: list[str] = []
    context.route("**/*", lambda route: (requests.append(route.request.url), route.continue_()
                                         if route.request.url.startswith("file://") else route.abort()))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_selector("#optlab-figure .main-svg")
    assert page.evaluate("() => typeof window.Plotly") == "object"
    assert page.locator("#optlab-task").inner_text().strip() == "Which run wins?"
    assert page.locator("#optlab-figure .slider-container").count() == 1
    n_paths = page.evaluate("() => document.getElementById('optlab-figure').data.length")
    assert n_paths == 1 + 2 + 1  # contour, two runs, the sweep's path
    page.get_by_text("▶ Replay").click()
    page.wait_for_timeout(500)
    assert [u for u in requests if not u.startswith("file://")] == [] and errors == []
    page.screenshot(path=str(SCREENSHOTS / "classroom_html_export.png"))
    context.close()
