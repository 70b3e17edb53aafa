"""Surface Lab in a real browser: change a run, click a start point, share the link, play the replay.

Widget keys come from pages/1_Surface_Lab.py's docstring; the contour is the live figure (``sl_live``, drawn by
optlab/ui/live_figure.js: one path.olf-path per run, read in run order by AppPage.live_paths). Leaves out what
AppTest already covers (the numbers) and the figure's own dragging (test_live_figure.py).
"""

from __future__ import annotations

import pytest

from optlab.surfaces import get_surface

from .conftest import AppPage, path_points

pytestmark = pytest.mark.e2e

ROSENBROCK = get_surface("rosenbrock").bounds  # the default surface's plot window


def trace_named(app, key: str, name: str) -> dict | None:
    """The x and y of the first trace called ``name`` in the figure with this key, or None.

    Reads Plotly's _fullData: the figure's own data may hold arrays still packed as base64 (typed arrays).
    """
    return (
        app.key(key)
        .locator(".js-plotly-plot")
        .first.evaluate(
            """(g, name) => { const t = g._fullData.find(t => t.name === name);
                          return t ? {x: Array.from(t.x), y: Array.from(t.y)} : null; }""",
            name,
        )
    )


def legend(app) -> list[str]:
    return [t.strip() for t in app.live(".olf-legend .olf-item").all_inner_texts()]


def test_change_run_click_start_and_share_the_link(app, browser):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    assert app.exceptions() == []
    before = app.live_paths()
    assert len(before) == 3 and len(set(before)) == 3, "three default runs, three different paths"
    assert not any(n.startswith("1 · Adam") for n in legend(app)), legend(app)

    # Run 1: SGD -> Adam. Run 1's path is drawn anew and named in the legend; the other runs stay as they were.
    app.act_live(lambda: app.select("sl_r1_opt", "Adam"))
    assert app.selected("sl_r1_opt") == "Adam"
    after_opt = app.live_paths()
    assert after_opt[0] != before[0] and after_opt[1:] == before[1:]
    assert legend(app)[0].startswith("1 · Adam"), legend(app)

    # Its learning rate, typed: the path changes again.
    app.act_live(lambda: app.set_number("sl_r1_adam_lr", 0.3))
    assert app.number("sl_r1_adam_lr") == pytest.approx(0.3)
    after_lr = app.live_paths()
    assert after_lr[0] != after_opt[0] and after_lr[1:] == before[1:]

    # A click on the plot moves the start there; every path now begins at the clicked point.
    x0, y0 = app.number("sl_x0"), app.number("sl_y0")
    target = (0.5, -0.5)
    assert abs(x0 - target[0]) + abs(y0 - target[1]) > 0.5, "pick a target away from the default start"
    geometry = app.live_geometry(ROSENBROCK)
    px, py = geometry.page(*target)
    app.act_live(lambda: app.page.mouse.click(px, py))
    x1, y1 = app.number("sl_x0"), app.number("sl_y0")
    # The click lands on a whole page pixel; the figure reports it to four significant digits.
    assert (x1, y1) == pytest.approx(target, abs=2 * geometry.data_per_pixel())
    clicked = app.live_paths()
    start = app.live_geometry(ROSENBROCK).user(x1, y1)
    for d in clicked:
        assert path_points(d)[0] == pytest.approx(start, abs=0.15), d[:40]  # d is written to 0.1 unit
    assert app.live("circle.olf-start").evaluate("c => [+c.getAttribute('cx'), +c.getAttribute('cy')]") == (
        pytest.approx(start, abs=0.01)
    )
    assert all(c != a for c, a in zip(clicked, after_lr, strict=True))
    assert app.exceptions() == [] and app.console_errors == []
    app.screenshot("surface_lab_after_changes")

    # The address bar now holds the experiment: a new session opened on it shows the same runs and paths.
    link = app.page.url
    assert "r1=adam" in link and "x0=" in link, link
    context = browser.new_context(viewport=app.page.viewport_size)
    try:
        other = AppPage(context.new_page(), app.base_url)
        other.goto(link.removeprefix(app.base_url))
        other.wait_live_ready()
        assert other.exceptions() == []
        assert other.selected("sl_r1_opt") == "Adam"
        assert other.number("sl_r1_adam_lr") == pytest.approx(0.3)
        assert (other.number("sl_x0"), other.number("sl_y0")) == pytest.approx((x1, y1), abs=1e-6)
        assert other.live_paths() == clicked
        assert legend(other) == legend(app)
        assert other.console_errors == []
    finally:
        context.close()


def test_replay_plays_and_keeps_the_contour(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    replay = app.open_tab("Replay", "sl_replay")
    assert replay.evaluate("g => g._fullLayout.sliders[0].active") == 0
    # The contour is the surface's picture behind the axes (a layout image), not a trace the frames redraw.
    picture = replay.evaluate("g => (g._fullLayout.images || []).map(i => i.source.slice(0, 22))")
    assert picture == ["data:image/png;base64,"], picture
    assert replay.evaluate("g => g.data.filter(t => t.type === 'contour').length") == 0
    heads_before = trace_named(app, "sl_replay", "now")
    assert heads_before is not None and len(heads_before["x"]) == 3  # one head per default run

    # Record, at every painted frame while playing, whether the contour picture is on screen. (A sample taken
    # between paints may catch a frame half drawn: count paints only.)
    replay.evaluate(
        """g => { window.__contourShown = []; window.__contourDone = false; const t0 = performance.now();
                  const tick = () => { window.__contourShown.push(g.querySelectorAll('.imagelayer image').length > 0);
                                       if (performance.now() - t0 < 2500) requestAnimationFrame(tick);
                                       else window.__contourDone = true; };
                  requestAnimationFrame(tick); }"""
    )
    replay.locator(".updatemenu-button", has_text="Play").click()
    app.page.wait_for_function(
        "() => document.querySelector('.st-key-sl_replay .js-plotly-plot')._fullLayout.sliders[0].active >= 5",
        timeout=15_000,
    )
    heads_after = trace_named(app, "sl_replay", "now")
    assert heads_after != heads_before, "the runs' heads did not move"
    app.page.wait_for_function("() => window.__contourDone === true", timeout=15_000)  # the 2.5 s of paints
    shown = app.page.evaluate("window.__contourShown")
    # A contour drawn as a trace drops out of frames that are not redrawn (0 of the paints show it).
    assert len(shown) >= 5 and sum(shown) >= 0.75 * len(shown), (
        f"contour shown in {sum(shown)}/{len(shown)} paints"
    )

    errors_before_pause = list(app.console_errors)
    replay.locator(".updatemenu-button", has_text="Pause").click()
    # Paused: Plotly's frame queue is empty and no animation frame is scheduled (or the replay had ended).
    app.page.wait_for_function(
        """() => { const t = document.querySelector('.st-key-sl_replay .js-plotly-plot')._transitionData;
                   return t && (!t._frameQueue || t._frameQueue.length === 0) && !t._animationRaf; }""",
        timeout=10_000,
    )
    paused_at = replay.evaluate("g => g._fullLayout.sliders[0].active")
    # It stays paused: no frame is drawn for three frame durations of the Play button (a check that nothing
    # happens needs a window; it is the replay's own frame time, read from the figure).
    frame_ms = replay.evaluate("g => g.layout.updatemenus[0].buttons[0].args[1].frame.duration")
    replay.evaluate("g => { window.__framesAfterPause = 0; g.on('plotly_animatingframe', () => { window.__framesAfterPause += 1; }); }")
    app.page.wait_for_timeout(3 * frame_ms)
    assert app.page.evaluate("window.__framesAfterPause") == 0
    assert replay.evaluate("g => g._fullLayout.sliders[0].active") == paused_at
    assert replay.locator(".imagelayer image").count() > 0
    app.screenshot("surface_lab_replay_paused")
    assert app.exceptions() == [] and errors_before_pause == []
    # Pause interrupts a running Plotly.animate, whose promise then rejects with no reason ("undefined") and
    # nobody can catch it from a figure's button: Plotly's own behaviour, tolerated here and only here.
    assert [e for e in app.console_errors if e != "page error: undefined"] == []
