"""The newest lesson pages in a real browser at 1280×720: each opens with no exception, the narrated step's Next
button advances the step and its narration's numbers follow, and a lesson link opens with the values it holds.

Screenshots land in artifacts/screenshots/lesson_<page>.png, to be looked at.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import RUN_TIMEOUT_MS, AppPage

pytestmark = pytest.mark.e2e

SCREEN = {"width": 1280, "height": 720}
PAGES = ["Narrated_step", "Lions_sign_update", "Adafactors_factored_second_moment", "Schedule_free_averaging"]


@pytest.fixture
def lesson_app(browser, app_url):
    """A fresh tab at the size of a classroom projector."""
    context = browser.new_context(viewport=SCREEN)
    page = context.new_page()
    page.set_default_timeout(RUN_TIMEOUT_MS)
    yield AppPage(page, app_url)
    context.close()


def query(app: AppPage) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlparse(app.page.url).query).items()}


def narration(app: AppPage) -> str:
    """The narration's sentences (the markdown blocks that start "1. Gradient.", "2. ...")."""
    blocks = app.page.locator('[data-testid="stMarkdownContainer"]').all_inner_texts()
    return "\n".join(b for b in blocks if re.match(r"\d\. ", b.strip()))


@pytest.mark.parametrize("url_path", PAGES)
def test_lesson_page_opens_cleanly(lesson_app, url_path):
    app = lesson_app
    app.goto(url_path)
    assert urlparse(app.page.url).path.strip("/") == url_path
    assert app.page.locator("h1").first.inner_text().strip(), "the page has its title"
    app.screenshot(f"lesson_{url_path}")
    assert app.exceptions() == []
    assert app.errors() == []
    assert app.console_errors == []


def test_next_advances_the_narrated_step_and_its_numbers(lesson_app):
    app = lesson_app
    app.goto("Narrated_step?opt=momentum&t=2&stage=3")
    assert app.slider_value("nar_t") == "2"
    before = narration(app)
    assert "At θ = (" in before and "moves the point to" in before  # all four stages of step 2
    app.click("nar_next")  # past the last stage of step 2: step 3's gradient
    assert app.slider_value("nar_t") == "3"
    assert query(app).get("t") == "3" and query(app).get("stage") == "0"
    after = narration(app)
    assert "At θ = (" in after and "moves the point to" not in after  # the gradient only
    point = re.compile(r"At θ = \(([^)]*)\)")
    assert point.search(after).group(1) != point.search(before).group(1), "step 3 starts where step 2 ended"
    # step 2's update ended at step 3's start: the narration's numbers follow the run
    moved_to = re.search(r"moves the point to \(([^)]*)\)", before).group(1)
    assert point.search(after).group(1) == moved_to
    app.click("nar_next")
    assert "The momentum term becomes" in narration(app)
    assert app.exceptions() == [] and app.console_errors == []


@pytest.mark.parametrize(("path", "key", "value"), [
    ("Lions_sign_update?steps=200&b1=0.5", "lion_steps", "200"),
    ("Schedule_free_averaging?noise=0.3", "sf_noise", "0.3"),
    ("Narrated_step?opt=muon&t=7&n=20", "nar_t", "7"),
])
def test_a_lesson_link_opens_with_its_values(lesson_app, path, key, value):
    app = lesson_app
    app.goto(path)
    assert float(app.slider_value(key)) == pytest.approx(float(value))
    wanted = parse_qs(urlparse("/" + path).query)
    assert {k: v for k, v in query(app).items() if k in wanted} == {k: v[-1] for k, v in wanted.items()}
    assert app.exceptions() == [] and app.errors() == []
    if path.startswith("Narrated_step"):
        title = app.page.locator(".js-plotly-plot .gtitle").first.text_content()
        assert "Muon, step 7 of 20" in title
