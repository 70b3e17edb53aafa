"""Why momentum works in a real browser: a click on the rate map runs there (the Plotly selection on the invisible
grid reaches the server and sets α and β), and the map is drawn with the current run where the sliders say.

Leaves out the numbers, which tests/test_page_why_momentum.py checks in AppTest.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

PAGE = "Why_momentum_works"
ALPHA_STEP, BETA_STEP = 0.04, 0.02  # the click grid: every second cell of the 200 × 100 map over (0, 4] × [0, 1)


def current_run(app) -> tuple[float, float]:
    """(x, y) of the "this run" marker as Plotly drew it."""
    return tuple(app.key("wm_map").locator(".js-plotly-plot").first.evaluate(
        """g => { const t = g._fullData.find(t => (t.name || '').startsWith('this run'));
                  return [t.x[0], t.y[0]]; }"""))


def test_a_click_on_the_rate_map_sets_alpha_and_beta(app):
    app.goto(PAGE)
    figure = app.key("wm_map")
    figure.scroll_into_view_if_needed()
    px, py = app.figure_point(figure, 1.0, 0.9)
    app.act(lambda: app.page.mouse.click(px, py))
    alpha, beta = float(app.slider_value("wm_alpha")), float(app.slider_value("wm_beta"))
    assert abs(alpha - 1.0) <= ALPHA_STEP and abs(beta - 0.9) <= BETA_STEP, (alpha, beta)
    assert current_run(app) == pytest.approx((alpha, beta), abs=1e-6)
    assert float(app.slider_value("wm_phase_beta")) == pytest.approx(beta)
    assert app.exceptions() == [] and app.console_errors == []
    app.screenshot("why_momentum_clicked")
