"""The "Why momentum works" page in AppTest: it renders, a click on the rate map sets α and β, the κ slider
changes the map, and every number it prints is the one the lesson's functions compute."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.testing.v1 import AppTest

from optlab import theory as T
from optlab.lessons import momentum_theory as L

PAGE = Path(__file__).resolve().parents[1] / "pages" / "11_Why_momentum_works.py"


def page() -> AppTest:
    at = AppTest.from_file(str(PAGE), default_timeout=120).run()
    assert not at.exception, at.exception
    return at


def figure(at: AppTest, key: str) -> dict:
    return json.loads(next(el for el in at.get("plotly_chart") if el.key == key).proto.spec)


def trace(fig: dict, prefix: str) -> dict:
    return next(t for t in fig["data"] if t.get("name", "").startswith(prefix))


def heatmap_z(fig: dict):
    """The rate heat map's values as the figure carries them (Plotly may pack them as typed arrays)."""
    return next(t for t in fig["data"] if t["type"] == "heatmap")["z"]


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def texts(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def click(at: AppTest, key: str, x: float, y: float) -> AppTest:
    """What the browser sends when a point of a Plotly chart with on_select is clicked: its selection, as JSON.

    AppTest has no Plotly element to click, so the widget state is sent the way the frontend sends it.
    """
    chart = next(el for el in at.get("plotly_chart") if el.key == key)
    states = at._tree.get_widget_states()
    state = states.widgets.add()
    state.id = chart.proto.id
    point = {"x": x, "y": y, "curve_number": 0, "point_number": 0, "point_index": 0}
    state.string_value = json.dumps({"selection": {"points": [point], "point_indices": [0], "box": [],
                                                   "lasso": []}})
    assert isinstance(states, WidgetStates)
    at._run(states)
    assert not at.exception, at.exception
    return at


def test_page_opens_at_the_optimum_of_kappa_100_and_prints_the_map_and_the_probes():
    at = page()
    a, b, r = T.momentum_optimal(0.01, 1.0)
    assert at.slider(key="wm_alpha").value == pytest.approx(a) and at.slider(key="wm_beta").value == pytest.approx(b)
    assert metric(at, "rate on the map at this (α, β)") == f"{T.momentum_rate(a, b, (0.01, 1.0)):.4f}" == "0.8182"
    assert metric(at, r"optimal $\alpha^*$") == f"{a:.4f}"
    fig = figure(at, "wm_map")
    star = trace(fig, "optimum")
    assert (star["x"][0], star["y"][0]) == pytest.approx((a, b))
    table = at.dataframe[0].value
    rows = L.measured_probes(100.0)
    assert table["run"].tolist() == [row["run"] for row in rows]
    assert table["measured rate"].tolist() == [f"{row['measured rate']:.4f}" for row in rows]
    assert table["rate on the map"].tolist() == pytest.approx([row["rate on the map"] for row in rows])


def test_a_click_on_the_map_sets_alpha_and_beta():
    at = click(page(), "wm_map", 1.02, 0.91)
    assert at.slider(key="wm_alpha").value == pytest.approx(1.02)
    assert at.slider(key="wm_beta").value == pytest.approx(0.91)
    current = trace(figure(at, "wm_map"), "this run")
    assert (current["x"][0], current["y"][0]) == pytest.approx((1.02, 0.91))
    assert metric(at, "rate on the map at this (α, β)") == f"{T.momentum_rate(1.02, 0.91, (0.01, 1.0)):.4f}"
    assert "α = 1.020 from above" in at.slider(key="wm_phase_beta").label
    assert at.slider(key="wm_phase_beta").value == pytest.approx(0.91)  # the phase portrait starts from there
    # a click in the grey region runs there too, and the page says it diverges
    at = click(at, "wm_map", 3.9, 0.2)
    rate = T.momentum_rate(3.9, 0.2, (0.01, 1.0))
    assert rate > 1 and metric(at, "rate on the map at this (α, β)") == f"{rate:.4f} (diverges)"
    assert [w.value for w in at.warning] == [f"At α = 3.900, β = 0.200 the run diverges (rate {rate:.4f}): αλₙ is "
                                             "beyond 2 + 2β, so the steep direction flips with growing amplitude."]


def test_the_kappa_slider_changes_the_map():
    at = page()
    before = heatmap_z(figure(at, "wm_map"))
    at.select_slider(key="wm_kappa").set_value(10.0).run()
    assert not at.exception, at.exception
    fig = figure(at, "wm_map")
    assert heatmap_z(fig) != before
    m = L.rate_map(10.0)
    assert fig["layout"]["coloraxis"]["cmin"] == np.floor(m["optimum"][2] * 20) / 20  # the colours follow κ
    a, b, r = T.momentum_optimal(0.1, 1.0)
    star = trace(fig, "optimum")
    assert (star["x"][0], star["y"][0]) == pytest.approx((a, b))
    assert star["name"] == f"optimum: rate {r:.4f}"
    assert metric(at, r"optimal $\beta^*$") == f"{b:.4f}"
    assert at.dataframe[0].value["measured rate"].tolist() == [
        f"{row['measured rate']:.4f}" for row in L.measured_probes(10.0)]
    at.button(key="wm_use_opt").click().run()
    assert at.slider(key="wm_alpha").value == pytest.approx(a) and at.slider(key="wm_beta").value == pytest.approx(b)


def test_the_eigenvector_view_waits_for_the_guess_then_explains_the_optimum():
    at = page()
    assert "wm_components" not in [el.key for el in at.get("plotly_chart")]
    o = L.optimum_reading(100.0)
    assert f"**{o['measured']:.4f}**" not in texts(at)
    at.radio(key="wm_opt_guess").set_value("a little slower (a larger rate)").run()
    at.button(key="wm_opt_reveal").click().run()
    assert not at.exception, at.exception
    assert any(i.value.startswith("Right.") for i in at.info)
    fig = figure(at, "wm_components")
    assert fig["layout"]["yaxis"]["type"] == "log"
    shown = texts(at)
    assert f"the run measures **{o['measured']:.4f}**" in shown and f"predicts **{o['predicted']:.4f}**" in shown
    assert (f"{o['measured']:.4f}", f"{o['predicted']:.4f}") == ("0.8258", "0.8182")
    assert f"reads **{o['closed_form_reading']:.4f}**" in shown
    assert f"steps {o['window'][0]} to {o['window'][1]}" in shown
    for row in o["later"]:
        assert f"**{row['reading']:.5f}** over steps {row['fit over steps']}" in shown
    table = at.dataframe[1].value
    run = L.eigen_run(100.0, o["alpha"], o["beta"])
    assert table["measured rate"].tolist() == [f"{c['measured']:.4f}" for c in run["components"]]
    assert table["motion"].tolist() == ["critically damped", "critically damped"]


def test_phase_buttons_set_the_critical_momentum_and_the_text_follows_the_trajectory():
    at = page()
    at.slider(key="wm_alpha").set_value(1.0).run()
    b_c = T.critical_beta(1.0, 0.01)
    assert at.button(key="wm_phase_crit_0").label.startswith(f"β = {b_c:.4f}")
    at.button(key="wm_phase_crit_0").click().run()
    assert not at.exception, at.exception
    assert at.slider(key="wm_phase_beta").value == pytest.approx(b_c)
    assert "**flat direction λ₁** (λ = 0.01): critically damped" in texts(at)
    for beta, kind in ((0.5, "over-damped"), (0.95, "under-damped")):
        at.slider(key="wm_phase_beta").set_value(beta).run()
        comp = L.eigen_run(100.0, 1.0, beta)["components"][0]
        assert f"**flat direction λ₁** (λ = 0.01): {kind}" in texts(at)
        assert f"changed sign **{comp['sign_changes']}** times" in texts(at)
        assert figure(at, "wm_phase")["layout"]["annotations"][0]["text"] == f"flat direction λ₁: {kind}"


@pytest.mark.parametrize("kappa", [1.0, 1000.0])
def test_both_ends_of_the_kappa_range_render_with_everything_revealed(kappa):
    at = page()
    at.button(key="wm_opt_show").click().run()
    at.select_slider(key="wm_kappa").set_value(kappa).run()
    at.button(key="wm_use_opt").click().run()
    assert not at.exception, at.exception
    a, b, r = L.rate_map(kappa)["optimum"]
    run = L.eigen_run(kappa, a, b)
    shown = [c["measured"] for c in run["components"]]
    assert at.dataframe[1].value["measured rate"].tolist() == ["—" if m is None else f"{m:.4f}" for m in shown]
    if kappa == 1.0:  # one step lands on the minimum: nothing to fit, and the page says so
        assert shown == [None, None] and "lands on the minimum in one step" in texts(at)
    else:
        assert f"the run measures **{L.optimum_reading(kappa)['measured']:.4f}**" in texts(at)


def test_a_diverging_run_is_named_and_its_growing_direction_has_no_fitted_rate():
    at = page()
    at.button(key="wm_opt_show").click().run()
    at = click(at, "wm_map", 3.9, 0.2)
    run = L.eigen_run(100.0, 3.9, 0.2)
    assert run["diverged_at"] is not None
    assert at.warning and at.warning[0].value.startswith(f"This run diverges: at step {run['diverged_at']}")
    table = at.dataframe[1].value
    assert table["measured rate"].tolist()[1] == "grows"
    assert table["predicted rate max|σ|"].tolist()[1] == pytest.approx(T.momentum_rate(3.9, 0.2, 1.0))
