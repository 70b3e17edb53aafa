"""The Surface Lab's live figure in a real browser: scrub a knob, drag the start, pick the knob, equal axes, a
1280x720 screen, the inspector's arrows.

The figure (``sl_live``, optlab/ui/live_figure.js) switches between paths the server precomputed while the
student drags, with no script run, and reports the value when they let go; the server then computes that run
exactly. These tests tell the two apart by Streamlit's script state (counted by a MutationObserver) and by the
figure's ``data-render`` counter, which only new data from the server advances. Leaves out the sweeps' numbers
(tests/test_sweep.py and the AppTest tests check them against single runs).
"""

from __future__ import annotations

import math
import re
import time
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from optlab.plots.live import MAX_PATH_POINTS
from optlab.surfaces import get_surface
from optlab.sweep import start_grid, sweep_values
from optlab.ui.cache import STARTS_N

from .conftest import RUN_TIMEOUT_MS, SCREENSHOTS, AppPage, path_points

pytestmark = pytest.mark.e2e

ROSENBROCK = get_surface("rosenbrock").bounds  # the default surface's window
SGD_LR = sweep_values("sgd", "lr")  # the members of run 1's learning-rate sweep (run 1 is SGD by default)
ADAM_BETA1 = sweep_values("adam", "beta1")
RANGE_THUMB_PX = 16  # width of Chromium's default range thumb: its centre travels the track less this width


def shown_value(app) -> float:
    """The number the knob's readout shows ("lr = 0.00133", "β₁ = 0.9")."""
    text = app.live(".olf-value").inner_text()
    match = re.fullmatch(r"\S+ = (\S+)", text.strip())
    assert match, text
    return float(match.group(1))


def assert_field_shows(app, key: str, value: float) -> None:
    """The number input with this key shows ``value`` to the digits it shows (0.867 for 0.86665)."""
    text = app.key(key).locator("input").first.input_value()
    mantissa = text.lower().split("e")[0]
    digits = len(mantissa.split(".")[1]) if "." in mantissa else 0
    exponent = int(text.lower().split("e")[1]) if "e" in text.lower() else 0
    assert float(text) == pytest.approx(value, abs=0.5 * 10.0 ** (exponent - digits) * (1 + 1e-9)), (
        key,
        text,
    )


def link_run(app, i: int) -> dict[str, str]:
    """Run i as the address bar holds it (r<i>=adam,beta1:0.8666,...): its optimizer and the settings it changes."""
    value = parse_qs(urlparse(app.page.url).query).get(f"r{i}", [""])[0]
    name, *settings = value.split(",")
    return {"optimizer": name, **dict(item.split(":", 1) for item in settings)}


def knob_x(app, member: int) -> tuple[float, float]:
    """Page pixel of the knob's thumb at sweep member ``member``."""
    knob = app.live(".olf-knob")
    knob.scroll_into_view_if_needed()
    box = app.box(knob)
    top = int(knob.get_attribute("max"))
    travel = box["width"] - RANGE_THUMB_PX
    return box["x"] + RANGE_THUMB_PX / 2 + travel * member / top, box["y"] + box["height"] / 2


def near(p: tuple[float, float], q: tuple[float, float]) -> float:
    return math.hypot(p[0] - q[0], p[1] - q[1])


def nearest_starts(p: tuple[float, float], bounds=ROSENBROCK) -> list[tuple[float, float]]:
    """The starts of the live figure's grid nearest to p, measured in window widths (ties all returned)."""
    (x0, x1), (y0, y1) = bounds
    grid = start_grid(bounds, STARTS_N)
    d = ((grid[:, 0] - p[0]) / (x1 - x0)) ** 2 + ((grid[:, 1] - p[1]) / (y1 - y0)) ** 2
    return [tuple(q) for q in grid[d <= d.min() * 1.01 + 1e-12]]


def test_scrubbing_the_knob_redraws_locally_and_letting_go_computes_that_run(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    assert app.selected("sl_r1_opt") == "SGD"
    knob = app.live(".olf-knob")
    assert int(knob.get_attribute("max")) == len(SGD_LR) - 1
    k0 = int(knob.input_value())
    lr0 = app.number("sl_r1_sgd_lr")
    assert app.live().get_attribute("data-member") == str(k0)
    assert shown_value(app) == pytest.approx(lr0, rel=5e-3)  # the run's own value, drawn exactly
    assert math.log10(SGD_LR[k0] / lr0) == pytest.approx(0, abs=1 / 16)  # the nearest member: 8 per decade
    paths0 = app.live_paths()
    render = app.live_render()

    # Drag the thumb down the sweep one member at a time (smaller rates: none of them diverges). Each input
    # swaps run 1's path for the member's; nothing goes to the server while the button is held.
    app.count_runs()
    x, y = knob_x(app, k0)
    step = knob_x(app, 1)[0] - knob_x(app, 0)[0]
    app.page.mouse.move(x, y)
    app.page.mouse.down()
    members, drawn = [k0], [paths0[0]]
    for i in range(1, 4):
        app.page.mouse.move(x - i * step, y, steps=2)
        k = int(knob.input_value())
        paths = app.live_paths()
        assert k < members[-1], f"the thumb did not move down a member ({members} then {k})"
        assert app.live().get_attribute("data-member") == str(k)
        assert shown_value(app) == pytest.approx(SGD_LR[k], rel=5e-3)
        assert paths[0] not in drawn, f"member {k}: run 1's path was not redrawn"
        assert paths[1:] == paths0[1:], "only the swept run's path changes"
        assert app.script_state() == "notRunning"
        members.append(k)
        drawn.append(paths[0])
    assert app.runs_counted() == 0, "scrubbing reran the script"
    assert app.live_render() == render, "scrubbing drew new server data"
    assert app.number("sl_r1_sgd_lr") == pytest.approx(lr0), "the sidebar changed before the release"

    # Letting go reports the member: the server sets run 1's lr to it and computes that run exactly, which is
    # the path the member showed (thinned to other points, so compared by its ends, within a page pixel).
    app.act_live(lambda: app.page.mouse.up())
    k = members[-1]
    assert_field_shows(app, "sl_r1_sgd_lr", SGD_LR[k])
    assert float(link_run(app, 1)["lr"]) == pytest.approx(SGD_LR[k], rel=1e-9)  # the exact member value
    assert shown_value(app) == pytest.approx(SGD_LR[k], rel=5e-3)
    assert int(app.live(".olf-knob").input_value()) == k
    pixel = 1 / app.live_geometry(ROSENBROCK).sx  # user units per page pixel
    exact, member = path_points(app.live_paths()[0]), path_points(drawn[-1])
    assert near(exact[0], member[0]) <= pixel and near(exact[-1], member[-1]) <= pixel, (
        exact[-1],
        member[-1],
    )
    assert app.live_paths()[1:] == paths0[1:]

    # From the keyboard: Chromium fires input and change on every key press, so each press is a release too.
    def press():
        handle = app.live(".olf-knob")
        handle.focus()
        handle.press("ArrowRight")

    app.act_live(press)
    assert int(app.live(".olf-knob").input_value()) == k + 1
    assert_field_shows(app, "sl_r1_sgd_lr", SGD_LR[k + 1])
    assert float(link_run(app, 1)["lr"]) == pytest.approx(SGD_LR[k + 1], rel=1e-9)
    assert app.exceptions() == [] and app.console_errors == []


def test_dragging_the_start_shows_the_inspected_run_from_the_nearest_grid_start_then_starts_there(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    inspected = 0  # the step inspector's run (run 1 by default): the run whose path follows the drag
    assert app.selected("sl_insp_run").startswith(f"{inspected + 1} ")
    geometry = app.live_geometry(ROSENBROCK)
    paths0 = app.live_paths()
    render = app.live_render()
    a, b = (-1.0, 2.5), (0.6, 0.4)

    app.count_runs()
    app.page.mouse.move(*geometry.page(*a))
    app.page.mouse.down()
    previews = []
    for i in range(1, 9):
        p = (a[0] + (b[0] - a[0]) * i / 8, a[1] + (b[1] - a[1]) * i / 8)
        app.page.mouse.move(*geometry.page(*p), steps=2)
        u, v = geometry.user(*p)
        ring = app.live("circle.olf-start").evaluate("c => [+c.getAttribute('cx'), +c.getAttribute('cy')]")
        assert near(ring, (u, v)) <= 1, (ring, (u, v))  # the start ring follows the pointer
        paths = app.live_paths()
        # The inspected run is shown from the start of the figure's grid nearest the pointer (the pointer may
        # sit a hair from the middle between two); the other runs keep their paths until the release.
        first = path_points(paths[inspected])[0]
        assert any(near(first, geometry.user(*q)) <= 0.15 for q in nearest_starts(p)), (first, p)
        assert [d for k, d in enumerate(paths) if k != inspected] == [
            d for k, d in enumerate(paths0) if k != inspected
        ]
        assert app.script_state() == "notRunning"
        previews.append(paths[inspected])
    assert len(set(previews)) >= 3, "crossing several grid cells should show several paths"
    assert paths0[inspected] not in previews
    assert app.runs_counted() == 0 and app.live_render() == render, "dragging reran the script"

    # Released: the server starts every run exactly where the pointer was let go.
    app.act_live(lambda: app.page.mouse.up())
    x0, y0 = app.number("sl_x0"), app.number("sl_y0")
    assert (x0, y0) == pytest.approx(b, abs=2 * geometry.data_per_pixel())
    start = app.live_geometry(ROSENBROCK).user(x0, y0)
    for d in app.live_paths():
        assert path_points(d)[0] == pytest.approx(start, abs=0.15), d[:40]
    assert "x0=" in app.page.url, app.page.url
    assert app.exceptions() == [] and app.console_errors == []


def test_the_knob_choice_makes_the_slider_move_beta1(app):
    app.goto("Surface_Lab?r1=adam")
    app.wait_live_ready()
    assert app.selected("sl_r1_opt") == "Adam"
    choices = app.live(".olf-choice")
    assert [t.strip() for t in choices.all_inner_texts()] == ["learning rate", "β₁"]
    assert choices.evaluate_all("bs => bs.map(b => b.getAttribute('aria-pressed'))") == ["true", "false"]
    assert app.live(".olf-value").inner_text().startswith("lr = ")
    lr, beta1 = app.number("sl_r1_adam_lr"), app.number("sl_r1_adam_beta1")
    before = app.live_paths()

    app.act_live(lambda: choices.filter(has_text="β₁").click())
    choices = app.live(".olf-choice")
    assert choices.evaluate_all("bs => bs.map(b => b.getAttribute('aria-pressed'))") == ["false", "true"]
    assert app.live(".olf-value").inner_text().startswith("β₁ = ")
    assert shown_value(app) == pytest.approx(beta1, rel=5e-3)
    knob = app.live(".olf-knob")
    assert int(knob.get_attribute("max")) == len(ADAM_BETA1) - 1
    k = int(knob.input_value())
    assert ADAM_BETA1[k] == pytest.approx(beta1, abs=0.05)
    assert app.live_paths() == before, "choosing a knob changes no run"

    # The slider now moves β₁: one key press down the sweep sets run 1's β₁ and leaves its lr.
    def press():
        handle = app.live(".olf-knob")
        handle.focus()
        handle.press("ArrowLeft")

    app.act_live(press)
    assert_field_shows(app, "sl_r1_adam_beta1", ADAM_BETA1[k - 1])
    assert float(link_run(app, 1)["beta1"]) == pytest.approx(ADAM_BETA1[k - 1], rel=1e-9)
    assert app.number("sl_r1_adam_lr") == pytest.approx(lr)
    assert shown_value(app) == pytest.approx(ADAM_BETA1[k - 1], rel=5e-3)
    assert app.live_paths()[0] != before[0] and app.live_paths()[1:] == before[1:]
    assert app.live(".olf-choice").evaluate_all("bs => bs.map(b => b.getAttribute('aria-pressed'))") == [
        "false",
        "true",
    ], "the choice survives the run"
    assert app.exceptions() == [] and app.console_errors == []


def formula_link(xr: str, yr: str) -> str:
    return "Surface_Lab?" + urlencode({"s": "custom", "f": "x^2 + 3*y^2", "xr": xr, "yr": yr})


ASPECT_CASES = [
    pytest.param(
        "Surface_Lab?s=quadratic&kappa=1", get_surface("quadratic", kappa=1).bounds, id="quadratic-k1"
    ),
    pytest.param(formula_link("-4,4", "-1,1"), ((-4, 4), (-1, 1)), id="formula-wide"),
    pytest.param(formula_link("-1,1", "-2,2"), ((-1, 1), (-2, 2)), id="formula-tall"),
]


@pytest.mark.parametrize(("link", "window"), ASPECT_CASES)
def test_one_unit_of_x_is_as_long_as_one_unit_of_y(app, link, window):
    app.goto(link)
    app.wait_live_ready()
    assert app.exceptions() == [] and app.errors() == []
    (x0, x1), (y0, y1) = window
    if "s=custom" in link:  # the window the page took from the link
        assert (
            app.number("sl_xmin"),
            app.number("sl_xmax"),
            app.number("sl_ymin"),
            app.number("sl_ymax"),
        ) == (pytest.approx((x0, x1, y0, y1)))
    box = app.box(app.live(".olf-plot svg image"))
    assert box["width"] > 50 and box["height"] > 50, box
    # pixels per unit along x = pixels per unit along y, so the picture's aspect is the window's
    assert box["width"] / box["height"] == pytest.approx((x1 - x0) / (y1 - y0), rel=2e-3), box


def test_the_figure_fits_a_1280x720_screen_with_readable_text(browser, app_url):
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.set_default_timeout(RUN_TIMEOUT_MS)
        app = AppPage(page, app_url)
        app.goto("Surface_Lab")
        app.wait_live_ready()
        assert app.exceptions() == []
        svg = app.box(app.live(".olf-plot svg"))
        assert svg["y"] >= 0 and svg["y"] + svg["height"] <= 720, svg
        assert svg["x"] >= 0 and svg["x"] + svg["width"] <= 1280, svg
        bar = app.box(app.live(".olf-bar"))
        assert bar["y"] >= 0 and bar["y"] + bar["height"] <= svg["y"] + 1, (bar, svg)
        # the legend under the plot too: the three default runs take two rows
        legend = app.box(app.live(".olf-legend"))
        assert legend["y"] >= svg["y"] + svg["height"] - 1 and legend["y"] + legend["height"] <= 720, (
            legend,
            svg,
        )
        # Text read from the back of a classroom: nothing in the figure under 14 px.
        sizes = app.live().evaluate(
            """r => Array.from(r.querySelectorAll('*'))
                      .filter(e => Array.from(e.childNodes).some(n => n.nodeType === 3 && n.textContent.trim()))
                      .map(e => [e.textContent.trim().slice(0, 20), parseFloat(getComputedStyle(e).fontSize)])"""
        )
        assert sizes and all(size >= 14 for _, size in sizes), [s for s in sizes if s[1] < 14]
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "live_figure_1280x720.png"))  # what the screen shows
        assert app.console_errors == []
    finally:
        context.close()


def test_the_inspectors_arrows_follow_its_step_slider(app):
    steps = 100
    assert steps + 1 <= MAX_PATH_POINTS  # every step's point is then a vertex of the drawn path
    # Run 1 SGD at lr = 0.001 from Rosenbrock's start zigzags across the valley: its first steps are pixels apart.
    app.goto(f"Surface_Lab?n={steps}&r1=sgd,lr:0.001")
    app.wait_live_ready()
    assert app.selected("sl_insp_run").startswith("1 ")

    def origin() -> tuple[float, float]:
        """Where the arrows start: one point, shared by every arrow (gradient, momentum, update). The key in the
        plot's corner repeats each arrow with its name and length; its arrows stay put."""
        arrows = app.live(".olf-plot svg > line.olf-arrow")
        starts = arrows.evaluate_all("ls => ls.map(l => [+l.getAttribute('x1'), +l.getAttribute('y1')])")
        assert len(starts) >= 2 and all(near(s, starts[0]) < 1e-6 for s in starts), starts
        assert (
            app.live(".olf-key line.olf-arrow").count()
            == app.live("text.olf-arrow-label").count()
            == len(starts)
        )
        return tuple(starts[0])

    def vertex(p: tuple[float, float]) -> int:
        """The vertex of run 1's drawn path at point p (its d is written to 0.1 unit)."""
        path = path_points(app.live_paths()[0])
        assert len(path) == steps + 1
        index = min(range(len(path)), key=lambda i: near(path[i], p))
        assert near(path[index], p) <= 0.15, (p, path[index])
        return index

    t0 = int(app.slider_value("sl_insp_t"))
    p0 = origin()
    i0 = vertex(p0)
    for k in (1, 2):
        app.act_live(lambda: app.slider_keys("sl_insp_t", "ArrowRight"))
        assert int(app.slider_value("sl_insp_t")) == t0 + k
        p = origin()
        assert near(p, p0) > 1, "the arrows did not move"
        assert vertex(p) == i0 + k, "the arrows moved to another step than the slider's"
        p0 = p
    assert app.exceptions() == [] and app.console_errors == []


# --- the keyboard, a rerun in the middle of a drag, the attributes tests wait on, the extra sequences ------------


def test_holding_an_arrow_key_switches_paths_locally_and_reports_once_when_the_key_is_let_go(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    knob = app.live(".olf-knob")
    k0 = int(knob.input_value())
    paths0 = app.live_paths()
    knob.focus()
    app.count_runs()
    render = app.live_render()
    reports = int(app.live().get_attribute("data-reports") or 0)
    # A held key repeats its keydown and ends with one keyup (what a student holding ← sends).
    seen = []
    for i in range(1, 5):
        app.page.keyboard.down("ArrowLeft")
        assert int(knob.input_value()) == k0 - i
        assert app.live().get_attribute("data-member") == str(k0 - i)
        seen.append(app.live_paths()[0])
    assert len(set(seen)) == 4 and paths0[0] not in seen, "each press drew its member's path at once"
    app.page.wait_for_timeout(600)  # longer than the pause after which released keys report
    assert app.runs_counted() == 0 and app.live_render() == render, "a held key reran the server"
    app.act_live(lambda: app.page.keyboard.up("ArrowLeft"))
    assert int(app.live().get_attribute("data-reports")) == reports + 1, "one report for the whole key hold"
    assert int(app.live(".olf-knob").input_value()) == k0 - 4
    assert_field_shows(app, "sl_r1_sgd_lr", SGD_LR[k0 - 4])
    assert float(link_run(app, 1)["lr"]) == pytest.approx(SGD_LR[k0 - 4], rel=1e-9)
    assert app.exceptions() == [] and app.console_errors == []


def test_tapping_arrow_keys_in_quick_succession_reports_only_the_last_member(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    knob = app.live(".olf-knob")
    k0 = int(knob.input_value())
    knob.focus()
    reports = int(app.live().get_attribute("data-reports") or 0)
    render = app.live_render()
    started = time.monotonic()
    for _ in range(3):
        app.page.keyboard.press("ArrowRight")
    quick = time.monotonic() - started < 0.3  # within the pause: the three taps are one report
    assert int(knob.input_value()) == k0 + 3
    app.wait_live_drawn(render)
    app.wait_live_ready()
    assert float(link_run(app, 1)["lr"]) == pytest.approx(SGD_LR[k0 + 3], rel=1e-9)
    sent = int(app.live().get_attribute("data-reports")) - reports
    assert sent == 1 if quick else 1 <= sent <= 3, f"{sent} reports for three taps"


def test_a_rerun_in_the_middle_of_a_start_drag_does_not_end_the_drag(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    geometry = app.live_geometry(ROSENBROCK)
    a, b = (-1.2, 2.4), (0.8, 0.3)
    app.page.mouse.move(*geometry.page(*a))
    app.page.mouse.down()
    app.page.mouse.move(*geometry.page(-1.0, 2.2), steps=2)
    assert app.live().get_attribute("data-dragging") == "true"
    # With the button still held, the server reruns and sends new data: here the knob is nudged from the keyboard
    # (its report reruns the page); a background result arriving does the same.
    render = app.live_render()
    knob = app.live(".olf-knob")
    knob.focus()
    app.page.keyboard.press("ArrowLeft")
    app.wait_live_drawn(render)
    app.page.locator('.olf[data-ready="true"]').wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    assert app.live().get_attribute("data-dragging") == "true", "the redraw ended the drag"
    previews = []
    for i in range(1, 7):
        p = (a[0] + (b[0] - a[0]) * i / 6, a[1] + (b[1] - a[1]) * i / 6)
        app.page.mouse.move(*geometry.page(*p), steps=2)  # the plot keeps its place and size through a redraw
        ring = app.live("circle.olf-start").evaluate("c => [+c.getAttribute('cx'), +c.getAttribute('cy')]")
        assert near(ring, geometry.user(*p)) <= 1.5, "the start ring stopped following the pointer"
        previews.append(app.live_paths()[0])
    assert len(set(previews)) >= 2, "the drag stopped previewing paths from the start grid"
    app.act_live(lambda: app.page.mouse.up())
    assert (app.number("sl_x0"), app.number("sl_y0")) == pytest.approx(b, abs=3 * geometry.data_per_pixel())
    assert app.live().get_attribute("data-dragging") is None
    assert app.exceptions() == [] and app.console_errors == []


def test_the_figure_is_not_ready_until_its_neighbouring_runs_are_in(app):
    """data-ready is never "true" before the knob's sweep (the slider) is drawn, and it comes once the start grid is
    in too: sampled while a configuration no other test has computed comes in."""
    seed = 900_000 + (time.time_ns() // 1000) % 99_999
    app.page.goto(f"{app.base_url}/Surface_Lab?n=800&noise=0.01&seed={seed}", wait_until="domcontentloaded")
    app.live().wait_for(state="attached", timeout=RUN_TIMEOUT_MS)
    samples = []
    deadline = time.monotonic() + RUN_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        sample = app.live().evaluate("r => [r.dataset.ready, !!r.querySelector('.olf-knob')]")
        samples.append(tuple(sample))
        if sample[0] == "true":
            break
        app.page.wait_for_timeout(50)
    assert samples[-1] == ("true", True), samples[-5:]
    assert all(knob for ready, knob in samples if ready == "true"), samples
    drawn = [knob for _, knob in samples]
    assert drawn == sorted(drawn), samples  # once drawn, the knob stays


def test_the_figure_says_which_run_it_inspects(app):
    app.goto("Surface_Lab")
    app.wait_live_ready()
    assert app.live().get_attribute("data-ready") == "true"
    assert app.live().get_attribute("data-run") == "0"
    app.goto("Surface_Lab?r1=sgd&r2=adam&t=2:1")
    app.wait_live_ready()
    assert app.selected("sl_insp_run").startswith("2 ")
    assert app.live().get_attribute("data-run") == "1"


def test_schedule_free_shows_its_averaged_sequence_as_a_dashed_line_of_its_colour(app):
    app.goto("Surface_Lab?r1=schedule_free")
    app.wait_live_ready()
    average = app.live("path.olf-average")
    assert average.count() == 1
    run_colour = app.live(".olf-legend .olf-item i").first.evaluate("i => getComputedStyle(i).backgroundColor")
    assert average.evaluate("p => getComputedStyle(p).stroke") == run_colour
    assert average.evaluate("p => getComputedStyle(p).strokeDasharray") not in ("", "none")
    pts, path = path_points(average.get_attribute("d")), path_points(app.live_paths()[0])
    assert pts[0] == pytest.approx(path[0], abs=0.15) and pts[-1] != pytest.approx(path[-1], abs=0.5)
    assert "averaged point x" in app.live(".olf-legend").inner_text()
    # previewing another member hides it (it belongs to the exact run), coming back shows it again
    knob = app.live(".olf-knob")
    knob.focus()
    app.page.keyboard.down("ArrowLeft")
    assert not average.is_visible()
    app.act_live(lambda: app.page.keyboard.up("ArrowLeft"))
    assert app.live("path.olf-average").count() == 1 and app.live("path.olf-average").is_visible()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=str(SCREENSHOTS / "live_figure_schedule_free.png"))
    assert app.exceptions() == [] and app.console_errors == []


def test_lbfgs_shows_where_its_line_search_looked_joined_to_the_steps(app):
    from optlab.plots.surface import trial_evaluations
    from optlab.presets import preset_lr
    from optlab.trace import RunConfig, run_trace

    app.goto("Surface_Lab?r1=lbfgs&r2=adam")
    # L-BFGS measures one loss for all its parameters, so each of its 49 sweep members and 81 starts is a run of
    # its own, computed in the background (about 30 s of CPU on a quiet machine): wait for them longer
    app.wait_live_ready(timeout_ms=240_000)
    assert app.selected("sl_r1_opt") == "L-BFGS"
    surface = get_surface("rosenbrock")
    trace = run_trace(surface, RunConfig.of("lbfgs", lr=preset_lr("rosenbrock", "lbfgs")), surface.start, 500)
    origins, trials, _ = trial_evaluations(trace)
    circles = app.live("circle.olf-eval")
    assert circles.count() == len(trials) > 0
    links = app.live("path.olf-eval-link").get_attribute("d")
    assert links.count("M") == len(trials)
    run_colour = app.live(".olf-legend .olf-item i").first.evaluate("i => getComputedStyle(i).backgroundColor")
    assert circles.first.evaluate("c => getComputedStyle(c).stroke") == run_colour
    geometry = app.live_geometry(ROSENBROCK)
    drawn = circles.evaluate_all("cs => cs.map(c => [+c.getAttribute('cx'), +c.getAttribute('cy')])")
    for (u, v), (x, y) in zip(drawn, trials, strict=True):
        if ROSENBROCK[0][0] <= x <= ROSENBROCK[0][1] and ROSENBROCK[1][0] <= y <= ROSENBROCK[1][1]:
            assert near((u, v), geometry.user(x, y)) <= 1.0
    assert "line search" in app.live(".olf-legend").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=str(SCREENSHOTS / "live_figure_lbfgs.png"))
    assert app.exceptions() == [] and app.console_errors == []
