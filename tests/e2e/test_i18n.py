"""The app in Chinese in a real browser: every page at ?lang=zh at 1280×720, Chinese glyphs drawn (no empty boxes),
the language kept through the navigation and changed by the sidebar switch, and a figure's PNG in Chinese.

Screenshots land in artifacts/screenshots/zh_<page>.png, to be looked at.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest

from .conftest import ARTIFACTS, ROOT, SCREENSHOTS, AppPage, page_url_path

pytestmark = pytest.mark.e2e

SCREEN = {"width": 1280, "height": 720}
PAGE_FILES = sorted((ROOT / "pages").glob("*.py"), key=lambda p: int(re.match(r"\d+", p.name).group()))
CASES = [pytest.param("", "home", id="home")] + [pytest.param(page_url_path(p), p.stem, id=p.stem)
                                                  for p in PAGE_FILES]
CJK = re.compile(r"[\u4e00-\u9fff]")

# Two different characters drawn in the page's font: with a CJK font they differ; without one both are the same
# empty box (the font's .notdef glyph), pixel for pixel.
GLYPHS_DIFFER_JS = """([a, b]) => {
  const font = getComputedStyle(document.querySelector('[data-testid="stMarkdownContainer"]') || document.body).font;
  const draw = (ch) => { const c = document.createElement('canvas'); c.width = 64; c.height = 64;
                         const x = c.getContext('2d'); x.font = font.replace(/\\d+(\\.\\d+)?px/, '40px');
                         x.fillText(ch, 4, 48); return Array.from(x.getImageData(0, 0, 64, 64).data); };
  const pa = draw(a), pb = draw(b);
  return pa.some(v => v > 0) && pa.some((v, i) => v !== pb[i]);
}"""


@pytest.fixture
def zh_app(browser, app_url):
    context = browser.new_context(viewport=SCREEN, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield AppPage(page, app_url)
    context.close()


def lang_of(url: str) -> list[str]:
    return parse_qs(urlparse(url).query).get("lang", [])


@pytest.mark.parametrize(("url_path", "shot"), CASES)
def test_page_in_chinese_in_the_browser(zh_app, url_path, shot):
    zh_app.goto(f"{url_path}?lang=zh")
    main = zh_app.page.locator('[data-testid="stMain"]').inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    zh_app.page.screenshot(path=str(SCREENSHOTS / f"zh_{shot}.png"))  # what a 1280×720 screen shows first
    assert zh_app.exceptions() == []
    assert zh_app.errors() == []
    assert zh_app.console_errors == []
    assert len(CJK.findall(main)) > 20, main[:500]
    assert zh_app.page.evaluate(GLYPHS_DIFFER_JS, ["学", "率"]), "Chinese characters draw as empty boxes"
    assert lang_of(zh_app.page.url) == ["zh"], zh_app.page.url


def test_navigation_keeps_chinese_and_the_switch_returns_to_english(zh_app):
    zh_app.goto("?lang=zh")
    nav = zh_app.page.locator('[data-testid="stSidebarNav"]')
    zh_app.act(lambda: nav.get_by_text("权重衰减", exact=True).click())
    zh_app.page.wait_for_url(re.compile(r"/Weight_decay"))
    zh_app.wait_idle(expect_run=False)
    assert zh_app.page.locator("h1").first.inner_text().strip() == "权重衰减"
    assert lang_of(zh_app.page.url) == ["zh"], "the page's address carries the language again"
    switch = zh_app.page.locator('[data-testid="stSidebar"]').get_by_text("English", exact=True)
    zh_app.act(switch.click)
    assert zh_app.page.locator("h1").first.inner_text().strip() == "Weight decay"
    assert lang_of(zh_app.page.url) == []


def test_a_figure_saves_as_png_with_chinese_text(zh_app):
    zh_app.goto("Momentum_and_Nesterov?lang=zh")
    chart = zh_app.page.locator('[data-testid="stPlotlyChart"]').first
    chart.hover()
    with zh_app.page.expect_download() as download:
        chart.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    path = ARTIFACTS / "screenshots" / "zh_figure_download.png"
    download.value.save_as(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = chart.locator(".js-plotly-plot").first.inner_html()
    assert CJK.search(text), "the figure's title and axes are Chinese"
