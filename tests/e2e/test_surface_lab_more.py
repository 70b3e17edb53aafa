"""Surface Lab in a real browser, part two: a typed formula, the theory panel's "use it", the CSV export, basins.

The contour is the live figure (``sl_live``): its picture is a PNG (read here with Pillow, which Streamlit
depends on) and its paths are SVG paths, one per run.

Widget keys come from pages/1_Surface_Lab.py's docstring; α* for κ = 100 from Goh 2017 (2/(λ₁+λₙ) with
λ = 0.01, 1). Leaves out the numbers behind the figures, which the unit and AppTest tests check.
"""

from __future__ import annotations

import base64
import csv
import io
import re
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.e2e

CUSTOM = "Custom formula…"  # how the surface picker names a typed formula
GD_ALPHA_KAPPA_100 = "1.9802"  # 2 / (0.01 + 1), shown to six significant digits
GD_RATE_KAPPA_100 = 0.980198  # (κ − 1) / (κ + 1)
CSV_HEADER = ["run", "label", "step", "x", "y", "loss"]
# Typed formulas the page refuses, and what its message names (the unit tests check the messages themselves).
BAD_FORMULAS = [
    ("x +* y", "between '+' and '*'"),
    ("__import__('os')", "'__import__'"),
]


def picture(app) -> tuple[str, np.ndarray]:
    """The live figure's contour picture: its href (a PNG data URI), and its pixels as an (H, W, 3) array."""
    href = app.live(".olf-plot svg image").get_attribute("href")
    assert href and href.startswith("data:image/png;base64,"), (href or "")[:40]
    png = base64.b64decode(href.removeprefix("data:image/png;base64,"))
    return href, np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def live_view(app) -> tuple[str, list[str]]:
    """What the live figure shows: the picture and every run's path."""
    return picture(app)[0], app.live_paths()


def type_formula(app, text: str) -> None:
    """Type a formula into the sidebar's text input and commit it with Enter."""

    def type_it():
        field = app.key("sl_formula").locator("input").first
        field.fill(text)
        field.press("Enter")

    app.act(type_it)


def dataframe_rows(table) -> list[list[str]]:
    """The cells of an st.dataframe, row by row (header first), from the table it keeps for screen readers."""
    return table.evaluate(
        "t => Array.from(t.querySelectorAll('table tr'), r => Array.from(r.cells, c => c.innerText.trim()))"
    )


def metric_value(app, label: str, nth: int = 0) -> str:
    """The value shown by the nth st.metric whose label is ``label``."""
    metric = app.page.locator('[data-testid="stMetric"]').filter(
        has=app.page.locator('[data-testid="stMetricLabel"]', has_text=label)
    )
    return metric.nth(nth).locator('[data-testid="stMetricValue"]').inner_text().strip()


def test_typed_formula_redraws_and_bad_ones_are_refused_inline(app):
    app.goto("Surface_Lab")
    rosenbrock, _ = live_view(app)

    app.select("sl_surface", CUSTOM)
    assert app.selected("sl_surface") == CUSTOM
    assert app.live().count() == 0, "an empty formula draws nothing"
    type_formula(app, "x^2 + 3*y^2")
    app.wait_live_ready()
    assert app.exceptions() == [] and app.errors() == []
    href, rgb = picture(app)
    assert href != rosenbrock
    # The picture is the bowl typed. Along each axis from the centre the bands follow f: f(s, 0) = s² =
    # f(0, s/√3), so going up along x = 0 meets the bands met going right along y = 0, √3 times closer together,
    # and f(−s, 0) = f(s, 0), f(0, −s/√3) = f(0, s/√3). (x² + 3.3y², or x² + 3y² + 0.3y, would not.) A level
    # line is drawn, darkened, on the pixels on one side of a band edge, so a mirrored sample is looked for
    # among the 3 × 3 pixels around its point.
    (x0, x1), (y0, y1) = window = (
        (app.number("sl_xmin"), app.number("sl_xmax")),
        (app.number("sl_ymin"), app.number("sl_ymax")),
    )
    assert x0 < 0 < x1 and y0 < 0 < y1, window
    h, w, _ = rgb.shape
    assert h > 10 and w > 10

    def pixel(x: float, y: float, spread: int = 0) -> set[tuple[int, ...]]:
        """The colours within ``spread`` pixels of point (x, y) (row 0 of the picture is the largest y)."""
        col = round((x - x0) / (x1 - x0) * (w - 1))
        row = round((y1 - y) / (y1 - y0) * (h - 1))
        return {
            tuple(int(c) for c in rgb[min(max(row + i, 0), h - 1), min(max(col + j, 0), w - 1)])
            for i in range(-spread, spread + 1)
            for j in range(-spread, spread + 1)
        }

    reach = 0.95 * min(-x0, x1, -y0 * 3**0.5, y1 * 3**0.5)  # every line below stays inside the window
    samples = [reach * k / 60 for k in range(1, 61)]
    right = [pixel(t, 0.0).pop() for t in samples]
    assert len(set(right)) >= 3, "the bands change along the x axis"
    for name, line in {
        "left": [pixel(-t, 0.0, 1) for t in samples],
        "up": [pixel(0.0, t / 3**0.5, 1) for t in samples],
        "down": [pixel(0.0, -t / 3**0.5, 1) for t in samples],
    }.items():
        same = sum(colour in around for colour, around in zip(right, line, strict=True))
        assert same >= 0.9 * len(samples), (name, same, len(samples))
    assert "x^2" in app.page.url or "x%5E2" in app.page.url, app.page.url
    app.screenshot("surface_lab_formula_ok")
    good = live_view(app)

    # Bad formulas: an inline message under the field that says what is wrong, no traceback, nothing run (so no
    # live figure).
    for bad, says in BAD_FORMULAS:
        type_formula(app, bad)
        assert app.exceptions() == [], bad
        messages = app.errors()
        assert any("The formula cannot be used" in m for m in messages), (bad, messages)
        inline = app.page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]')
        assert inline.count() == 1 and says in inline.inner_text(), (bad, messages)
        assert app.key("sl_live").count() == 0 and app.live().count() == 0, bad
    app.screenshot("surface_lab_formula_bad")

    # Fixed, the page works again: the same picture and paths as before the bad ones, and no message left.
    type_formula(app, "x^2 + 3*y^2")
    app.wait_live_ready()
    assert app.exceptions() == [] and app.errors() == []
    assert live_view(app) == good
    assert app.drawn_figures() >= 1
    assert app.console_errors == []


def test_theory_panel_use_it_sets_run_one_to_the_optimal_step(app):
    # κ = 99 from the link, then 100 typed into its field (κ is a log-scale knob: a slider over log10 κ beside it)
    app.goto("Surface_Lab?s=quadratic&kappa=99")
    assert app.exceptions() == []
    assert app.number("sl_kappa") == 99
    app.set_number("sl_kappa", 100)
    assert app.number("sl_kappa") == 100 and float(app.slider_value("sl_kappa_log")) == 2
    assert "kappa=100" in app.page.url, app.page.url

    app.page.get_by_text("Theory check: the quadratic bowl").scroll_into_view_if_needed()
    assert metric_value(app, "optimal step α*") == GD_ALPHA_KAPPA_100
    before = app.live_paths()
    alpha = pytest.approx(float(GD_ALPHA_KAPPA_100), abs=1e-4)
    assert app.selected("sl_r1_opt") != "SGD" or app.number("sl_r1_sgd_lr") != alpha  # not there already

    app.act_live(lambda: app.click("sl_theory_gd"))
    assert app.exceptions() == []
    assert app.selected("sl_r1_opt") == "SGD"
    assert app.number("sl_r1_sgd_lr") == alpha
    after = app.live_paths()
    assert after[0] != before[0] and after[1:] == before[1:], "run 1, and only run 1, is drawn anew"
    assert "r1=sgd" in app.page.url, app.page.url
    assert app.selected("sl_insp_run").startswith("1 · SGD lr=1.98"), "the inspector's picker names the new run"
    # The predicted-vs-measured table now holds run 1 at α*: theory's rate, and a measured rate that matches it.
    table = app.page.locator('[data-testid="stDataFrame"]').filter(has_text="predicted rate")
    rows = dataframe_rows(table)
    assert rows[0] == ["run", "predicted rate", "measured rate"], rows
    run1 = next(r for r in rows[1:] if r[0].startswith("1 "))
    assert float(run1[1]) == pytest.approx(GD_RATE_KAPPA_100, abs=1e-6), run1
    assert float(run1[2]) == pytest.approx(GD_RATE_KAPPA_100, abs=1e-3), run1
    app.page.get_by_text("Theory check: the quadratic bowl").scroll_into_view_if_needed()
    app.screenshot("surface_lab_theory_use_it")
    assert app.console_errors == []


def test_export_buttons_and_csv_download(app):
    app.goto("Surface_Lab")
    csv_button = app.key("sl_csv").locator("button").first
    json_button = app.key("sl_json").locator("button").first
    assert csv_button.is_visible() and json_button.is_visible()
    assert "CSV" in csv_button.inner_text() and "JSON" in json_button.inner_text()

    csv_button.scroll_into_view_if_needed()
    with app.page.expect_download() as info:
        csv_button.click()
    download = info.value
    assert download.suggested_filename == "optlab_runs.csv"
    text = open(download.path(), encoding="utf-8").read()
    # The experiment comes first, as "# key: value" lines; its link is the one in the address bar.
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert comments and text.splitlines()[: len(comments)] == comments, "comment lines only at the top"
    link = next((c.removeprefix("# link: ") for c in comments if c.startswith("# link: ")), None)
    assert link is not None, comments
    view = {"v", "t", "i", "b"}  # what the page points at (tab, inspector, basins): not the experiment
    shown = {k: v for k, v in parse_qs(urlparse(app.page.url).query).items() if k not in view}
    assert parse_qs(link) == shown, (link, app.page.url)
    rows = list(csv.reader(io.StringIO("\n".join(text.splitlines()[len(comments) :]))))
    assert rows[0][: len(CSV_HEADER)] == CSV_HEADER, rows[0]
    # One row per step (and the start) of each of the default three runs.
    runs = {row[0] for row in rows[1:]}
    assert len(runs) == 3, runs
    app.screenshot("surface_lab_export")
    assert app.exceptions() == [] and app.console_errors == []


def test_basins_tab_draws_its_figure_and_counts(app):
    app.goto("Surface_Lab")
    basins = app.open_tab("Basins", "sl_basins")
    assert basins.locator(".main-svg").first.bounding_box()["width"] > 0
    assert basins.evaluate("g => g.data.length") >= 2  # the contour and the grid of starts at least
    # st.dataframe puts no st-key-<key> class on the page, so the counts table is found inside the open tab.
    panel = app.page.locator('[role="tabpanel"]').filter(has=app.key("sl_basins"))
    table = panel.locator('[data-testid="stDataFrame"]')
    assert table.count() == 1
    rows = dataframe_rows(table)
    assert rows[0] == ["ends at", "starts", "share"], rows
    body = [r for r in rows[1:] if any(r)]
    assert len(body) >= 2 and any(r[0].startswith("→ (1, 1)") for r in body), body  # Rosenbrock's minimum
    # Every start is counted once: the counts add up to the number of starts the caption names.
    total = int(re.search(r"repeated from all (\d+) of them", panel.inner_text()).group(1))
    assert sum(int(r[1]) for r in body) == total, (total, body)
    assert sum(float(r[2].rstrip(" %")) for r in body) == pytest.approx(100, abs=0.2)
    app.screenshot("surface_lab_basins")
    assert app.exceptions() == [] and app.console_errors == []


def test_a_bad_formula_from_a_link_is_named_as_typed(app):
    # The formula comes from a shared link; the message must quote it as written, not as Markdown reads it.
    app.goto("Surface_Lab?s=custom&f=__import__%28%27os%27%29")
    assert app.exceptions() == []
    assert app.key("sl_formula").locator("input").first.input_value() == "__import__('os')"
    inline = app.page.locator('[data-testid="stSidebar"] [data-testid="stAlertContentError"]')
    assert inline.count() == 1
    assert "__import__" in inline.inner_text(), inline.inner_text()
