"""Surface Lab in Chromium: a link too long for Streamlit is named, a number typed out of range is moved into
range in the field itself, and a saved PNG has its own name and its whole legend."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

RUNS = "&".join(["r1=sgd,lr:0.001", "r2=momentum,lr:0.001,momentum:0.9", "r3=adam", "r4=rmsprop,lr:0.01",
                 "r5=nadam", "r6=adamw,lr:0.02,beta1:0.8", "r1e=0.9"])


def warnings(app) -> str:
    return "\n".join(app.page.locator('[data-testid="stAlertContentWarning"]').all_inner_texts())


def test_a_link_streamlit_drops_whole_is_named_on_the_page(app):
    query = "s=booth&" + "&".join(f"z{i}=1" for i in range(1000))  # 1,001 parameters: Streamlit reads none
    app.goto(f"Surface_Lab?{query}")
    app.page.get_by_text("This link could not be read at all").wait_for()
    assert "it has 1,001 parameters, and a link can carry at most 1,000" in warnings(app)
    assert app.selected("sl_surface") == "Rosenbrock"  # what the page really shows, as the note says
    assert app.exceptions() == [] and app.console_errors == []


def test_an_ordinary_link_gets_no_such_note(app):
    app.goto("Surface_Lab?s=booth&n=40")
    assert app.selected("sl_surface") == "Booth"
    assert "could not be read" not in warnings(app)


@pytest.mark.parametrize("key, typed, shown, link", [
    ("sl_r1_adam_lr", "100", 10.0, "lr:10"),
    ("sl_x0", "1e9", 2.0, "x0=2"),
])
def test_a_number_typed_out_of_range_is_moved_into_range_in_the_field(app, key, typed, shown, link):
    app.goto("Surface_Lab?n=30&r1=adam")
    app.set_number(key, typed)
    assert app.number(key) == shown  # the field itself, not a red border over the typed value
    assert "is outside the allowed range" in warnings(app)
    assert link in app.page.url.replace("%2C", ",").replace("%3A", ":"), app.page.url
    assert app.exceptions() == []


def test_a_saved_png_has_its_own_name_and_its_whole_legend(app):
    app.goto(f"Surface_Lab?n=60&{RUNS}")
    chart = app.key("sl_loss")
    chart.scroll_into_view_if_needed()
    chart.hover()
    with app.page.expect_download() as download:
        chart.locator('.modebar-btn[data-title="Download plot as a PNG"]').click()
    assert download.value.suggested_filename == "optlab_loss.png"
    # A saved PNG is drawn from an SVG image, which cannot use the page's web fonts: a figure that names one is
    # measured in it and drawn in a wider fallback, and its legend entries run into each other
    web_fonts = chart.locator(".js-plotly-plot").evaluate(
        """g => { const web = new Set(Array.from(document.fonts).map(f => f.family));
                  return [g._fullLayout.font.family, g._fullLayout.legend.font.family]
                      .flatMap(s => s.split(',').map(f => f.trim().replace(/^["']|["']$/g, '')))
                      .filter(f => web.has(f)); }"""
    )
    assert web_fonts == []
    # Lay the figure out at the size the camera saves it and look at its legend: every entry inside the image
    # and none over another (the figure names a system font, so the saved PNG draws what is measured here)
    boxes = chart.locator(".js-plotly-plot").evaluate(
        """async (g) => {
             const opts = g._context.toImageButtonOptions;
             const div = document.createElement('div');
             document.body.appendChild(div);
             await Plotly.newPlot(div, g.data, Object.assign({}, g.layout, {width: opts.width, height: opts.height}),
                                  {staticPlot: true});
             const svg = div.querySelector('.main-svg').getBoundingClientRect();
             const items = Array.from(div.querySelectorAll('.legend .traces')).map(t => {
                 const r = t.getBoundingClientRect();
                 return [r.left - svg.left, r.right - svg.left, r.top - svg.top, r.bottom - svg.top]; });
             div.remove();
             return {width: opts.width, items: items}; }"""
    )
    assert len(boxes["items"]) == 6
    for left, right, top, bottom in boxes["items"]:  # inside the saved image
        assert 0 <= left and right <= boxes["width"] and 0 <= top < bottom, boxes
    for i, a in enumerate(boxes["items"]):
        for b in boxes["items"][i + 1:]:
            apart = a[1] <= b[0] + 0.5 or b[1] <= a[0] + 0.5 or a[3] <= b[2] + 0.5 or b[3] <= a[2] + 0.5
            assert apart, (a, b)
