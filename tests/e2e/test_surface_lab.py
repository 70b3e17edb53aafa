"""Surface Lab in a real browser: change a run, click a start point, share the link, play the replay.

Widget keys come from pages/1_Surface_Lab.py's docstring. Leaves out what AppTest already covers (the numbers).
"""

from __future__ import annotations

import re

import pytest

from .conftest import AppPage

pytestmark = pytest.mark.e2e

CONTOUR = "sl_contour"


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


def trace_names(app, key: str) -> list[str]:
    return app.key(key).locator(".js-plotly-plot").first.evaluate("g => g.data.map(t => t.name || '')")


def contour_signature(app) -> str:
    index = app.page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot'))
                      .indexOf(document.querySelector('.st-key-sl_contour .js-plotly-plot'))"""
    )
    assert index >= 0, "no contour figure on the page"
    return app.figure_signature(index)


def test_change_run_click_start_and_share_the_link(app, browser):
    app.goto("Surface_Lab")
    assert app.exceptions() == []
    before = contour_signature(app)
    assert not any("Adam" in n and n.startswith("1") for n in trace_names(app, CONTOUR))

    # Run 1: SGD -> Adam. The contour redraws with a new path and a new legend entry.
    app.select("sl_r1_opt", "Adam")
    assert app.selected("sl_r1_opt") == "Adam"
    after_opt = contour_signature(app)
    assert after_opt != before
    assert any(re.match(r"1\b.*Adam", n) for n in trace_names(app, CONTOUR)), trace_names(app, CONTOUR)

    # Its learning rate, typed: the path changes again.
    app.set_number("sl_r1_adam_lr", 0.3)
    assert app.number("sl_r1_adam_lr") == pytest.approx(0.3)
    after_lr = contour_signature(app)
    assert after_lr != after_opt

    # A click on the contour moves the start there; every path now begins at the clicked point.
    x0, y0 = app.number("sl_x0"), app.number("sl_y0")
    target = (0.5, -0.5)
    assert abs(x0 - target[0]) + abs(y0 - target[1]) > 0.5, "pick a target away from the default start"
    app.click_figure(app.key(CONTOUR), *target)
    x1, y1 = app.number("sl_x0"), app.number("sl_y0")
    assert (x1, y1) == pytest.approx(
        target, abs=0.1
    )  # the clickable grid is finer than 0.1 on Rosenbrock's window
    start = trace_named(app, CONTOUR, "start")
    assert start is not None and (start["x"][0], start["y"][0]) == pytest.approx((x1, y1), abs=1e-4)
    clicked = contour_signature(app)
    assert clicked != after_lr
    assert app.exceptions() == [] and app.console_errors == []
    app.screenshot("surface_lab_after_changes")

    # The address bar now holds the experiment: a new session opened on it shows the same runs and figure.
    link = app.page.url
    assert "r1=adam" in link and "x0=" in link, link
    context = browser.new_context(viewport=app.page.viewport_size)
    try:
        other = AppPage(context.new_page(), app.base_url)
        other.goto(link.removeprefix(app.base_url))
        assert other.exceptions() == []
        assert other.selected("sl_r1_opt") == "Adam"
        assert other.number("sl_r1_adam_lr") == pytest.approx(0.3)
        assert (other.number("sl_x0"), other.number("sl_y0")) == pytest.approx((x1, y1), abs=1e-6)
        assert contour_signature(other) == clicked
        assert other.console_errors == []
    finally:
        context.close()


def test_replay_plays_and_keeps_the_contour(app):
    app.goto("Surface_Lab")
    replay = app.open_tab("Replay", "sl_replay")
    assert replay.evaluate("g => g._fullLayout.sliders[0].active") == 0
    assert replay.evaluate("g => g.data[0].type") == "contour"
    heads_before = trace_named(app, "sl_replay", "now")
    assert heads_before is not None and len(heads_before["x"]) == 3  # one head per default run

    # Record, at every painted frame while playing, whether the contour is on screen. (Plotly rebuilds the
    # figure for each frame, so a sample taken between paints may catch it half drawn: count paints only.)
    replay.evaluate(
        """g => { window.__contourShown = []; window.__contourDone = false; const t0 = performance.now();
                  const tick = () => { window.__contourShown.push(g.querySelectorAll('.contourlayer path').length > 0);
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
    # Frames drawn without redraw=True drop the contour for the whole replay (0 of the paints show it).
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
    assert replay.locator(".contourlayer path").count() > 0
    app.screenshot("surface_lab_replay_paused")
    assert app.exceptions() == [] and errors_before_pause == []
    # Pause interrupts a running Plotly.animate, whose promise then rejects with no reason ("undefined") and
    # nobody can catch it from a figure's button: Plotly's own behaviour, tolerated here and only here.
    assert [e for e in app.console_errors if e != "page error: undefined"] == []
