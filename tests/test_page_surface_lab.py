"""The Surface Lab page in AppTest: default render, every optimizer, bad input, divergence, URL, inspector, theory."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from optlab.registry import REGISTRY
from optlab.ui import ahead, surface_lab
from optlab.ui.cache import build_surface, compute_traces
from optlab.ui.urlstate import LabConfig, LabView, SurfaceRun, decode, decode_view, encode

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Surface_Lab.py")


def open_page(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    return at.run()


def open_run(at: AppTest, i: int) -> AppTest:
    """Open run ``i``'s expander in the sidebar, as a click on it does: its widgets are drawn only while open."""
    at.session_state[f"sl_open_r{i}"] = True
    return at.run()


def figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def live(at: AppTest) -> dict:
    """The live contour figure's data (``optlab.plots.live.live_payload``) as the page sent it to the browser."""
    (el,) = [e for e in at.get("bidi_component") if e.proto.component_name == "optlab_live_surface"]
    return json.loads(el.proto.json)


def run_labels(at: AppTest) -> list[str]:
    return [r["label"] for r in live(at)["runs"]]


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [w.value for w in at.warning] + [e.value for e in at.error]
    return "\n".join(parts)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def test_default_render_has_the_figures_and_writes_the_url():
    at = open_page()
    assert_clean(at)
    assert len(live(at)["runs"]) == 3  # the exact paths at once; the sweeps follow from the background
    assert ahead.wait(120)
    at.run()
    assert len(figures(at)) == 2  # loss and distance; the contour is the live figure
    fig = live(at)
    assert sum(1 for label in run_labels(at) if label.startswith("1 · SGD")) == 1
    assert fig["minima"] and fig["image"].startswith("data:image/png;base64,")
    assert fig["arrows"]["vectors"]  # the inspector's arrows at step 0
    # the inspected run's learning-rate sweep, and every run from the grid of starts
    assert fig["sweep"]["run"] == 0 and fig["sweep"]["knob"] == "lr" and len(fig["sweep"]["paths"]) == 49
    assert fig["sweep"]["value"] == dict(LabConfig().runs[0].hparams)["lr"]
    assert set(fig["starts"]["runs"]) == {"0"}  # the inspected run from the grid of starts
    # the URL now describes the page's configuration
    cfg, notes = decode(dict(at.query_params))
    assert notes == [] and cfg == LabConfig()
    assert not at.warning  # no link notes, no divergence on the default experiment


@pytest.mark.parametrize("key", list(REGISTRY))
def test_every_optimizer_can_be_selected_and_run(key):
    at = open_page({"n": "25", "r1": "sgd"})
    at.selectbox(key="sl_r1_opt").set_value(key).run()
    assert_clean(at)
    assert at.query_params["r1"].split(",")[0] == key
    contour = figures(at)[0]
    label = REGISTRY[key].label
    assert any(t.get("name", "").startswith(f"1 · {label}") for t in contour["data"])
    # the inspector shows this run's param_groups, printed as torch prints them
    codes = [c.value for c in at.code]
    assert any("Parameter Group 0" in c for c in codes)


def test_learning_rate_slider_and_number_stay_in_step():
    at = open_page({"n": "10", "r1": "adam"})
    at.slider(key="sl_r1_adam_lr_log").set_value(-1.5).run()
    assert at.number_input(key="sl_r1_adam_lr").value == pytest.approx(0.0316)
    assert "lr:0.0316" in at.query_params["r1"]
    at.number_input(key="sl_r1_adam_lr").set_value(0.2).run()
    assert at.slider(key="sl_r1_adam_lr_log").value == pytest.approx(math.log10(0.2))
    assert_clean(at)


# syntax error, code injection, attribute access, no finite value anywhere, unknown name
@pytest.mark.parametrize("formula", ["x**+", "__import__('os').system('true')", "x.real", "1/0 + y", "q + 1"])
def test_a_bad_formula_shows_an_inline_error_not_a_traceback(formula):
    at = open_page({"s": "custom", "f": "x**2 + y**2", "n": "10"})
    assert_clean(at)
    at.text_input(key="sl_formula").set_value(formula).run()
    assert_clean(at)
    assert at.error, f"no error shown for {formula!r}"
    assert any("Formula" in e.value or "formula" in e.value for e in at.error)


def test_a_good_formula_runs():
    at = open_page({"s": "custom", "f": "x**2 + 10*y**2", "xr": "-2,2", "yr": "-2,2", "n": "30"})
    assert_clean(at)
    assert not at.error
    assert live(at)["image"].startswith("data:image/png")


def test_divergence_is_reported_at_its_step_not_as_a_crash():
    at = open_page({"s": "rosenbrock", "n": "100", "r1": "sgd,lr:10", "r2": "adam"})
    assert_clean(at)
    warnings = [w.value for w in at.warning]
    assert any("diverged at step" in w and "1 · SGD" in w for w in warnings), warnings
    assert [r["diverged"] for r in live(at)["runs"]] == [True, False]


def test_the_page_reads_its_configuration_from_the_url():
    cfg = LabConfig(surface="himmelblau", start=(1.0, -1.5), steps=40, noise=0.5, seed=3,
                    runs=(SurfaceRun.of("rmsprop", lr=0.02, centered=True), SurfaceRun.of("nesterov", momentum=0.8)))
    at = open_page(encode(cfg))
    assert_clean(at)
    assert at.selectbox(key="sl_surface").value == "himmelblau"
    assert (at.number_input(key="sl_x0").value, at.number_input(key="sl_y0").value) == (1.0, -1.5)
    assert at.slider(key="sl_steps").value == 40
    assert at.number_input(key="sl_noise").value == 0.5
    assert at.number_input(key="sl_nruns").value == 2
    assert at.selectbox(key="sl_r1_opt").value == "rmsprop"
    assert at.number_input(key="sl_r1_rmsprop_lr").value == 0.02
    assert at.checkbox(key="sl_r1_rmsprop_centered").value is True
    open_run(at, 2)
    assert at.slider(key="sl_r2_nesterov_momentum").value == 0.8
    # and writes back the same configuration
    back, notes = decode(dict(at.query_params))
    assert notes == [] and back == cfg


def test_changing_a_control_updates_the_url():
    at = open_page({"n": "20"})
    at.selectbox(key="sl_surface").set_value("booth").run()
    at.slider(key="sl_steps").set_value(60).run()
    assert at.query_params["s"] == "booth" and at.query_params["n"] == "60"
    assert_clean(at)


def test_a_malformed_url_falls_back_to_defaults_with_a_notice():
    at = open_page({"s": "no_such_surface", "n": "lots", "r1": "bogus", "x0": "1;2"})
    assert_clean(at)
    notice = "\n".join(w.value for w in at.warning)
    assert "could not be used" in notice and "unknown value" in notice and "unknown optimizer" in notice
    assert at.selectbox(key="sl_surface").value == LabConfig().surface
    assert at.slider(key="sl_steps").value == LabConfig().steps
    assert at.selectbox(key="sl_r1_opt").value == LabConfig().runs[0].optimizer


def _inspector_step(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("**Step "))


def test_inspector_at_first_middle_and_last_step():
    at = open_page({"n": "50", "r1": "momentum,lr:0.001", "r2": "adam"})
    at.selectbox(key="sl_insp_run").set_value(1).run()  # the Adam run
    for t in (1, 25, 50):  # torch's numbers: the first step is t = 1
        at.slider(key="sl_insp_t").set_value(t).run()
        assert_clean(at)
        assert _inspector_step(at).startswith(f"**Step {t}**")
        state = next(c.value for c in at.code if c.value.startswith("step:"))
        assert state.splitlines()[0] == f"step: {t}"  # after step t, torch's state["step"] is t
        assert any("exp_avg" in line for line in state.splitlines())
        assert len(at.get("latex")) >= 3  # the update equations with numbers
        arrows = live(at)["arrows"]
        assert [v["name"] for v in arrows["vectors"]] == ["−g", "−first moment m", "update Δθ"]
        assert arrows["vectors"][-1]["color"] == live(at)["runs"][1]["color"]  # the update in its run's colour
    # the arrows start at the inspected point
    assert arrows["point"][0] == pytest.approx(float(_inspector_step(at).split("`(")[1].split(",")[0]), rel=1e-4)
    at.button(key="sl_insp_next").click().run()  # already last: stays
    assert _inspector_step(at).startswith("**Step 50**")
    at.button(key="sl_insp_prev").click().run()
    assert _inspector_step(at).startswith("**Step 49**")


def _metric(at: AppTest, label_start: str, nth: int = 0) -> float:
    return float([m.value for m in at.metric if m.label.startswith(label_start)][nth])


def test_theory_panel_on_the_kappa_100_quadratic():
    at = open_page({"s": "quadratic", "kappa": "100", "n": "300"})
    assert_clean(at)
    # Goh 2017's example: κ = 100 (λ = 0.01, 1)
    assert _metric(at, "optimal step α*", 0) == pytest.approx(1.9802, abs=5e-5)
    assert _metric(at, "optimal step α*", 1) == pytest.approx(3.30579, abs=5e-6)
    assert _metric(at, "optimal momentum β*") == pytest.approx(0.669421, abs=5e-7)
    assert _metric(at, "rate (√κ−1)") == pytest.approx(0.818182, abs=5e-7)
    assert _metric(at, "rate (κ−1)") == pytest.approx(0.980198, abs=5e-7)

    at.button(key="sl_theory_gd").click().run()
    at.button(key="sl_theory_mom").click().run()
    assert_clean(at)
    assert at.selectbox(key="sl_r1_opt").value == "sgd"
    assert at.number_input(key="sl_r1_sgd_lr").value == pytest.approx(1.9802, abs=5e-5)
    open_run(at, 2)
    assert at.selectbox(key="sl_r2_opt").value == "momentum"
    assert at.slider(key="sl_r2_momentum_momentum").value == pytest.approx(0.6694, abs=1e-4)
    # predicted and measured rates side by side, and they agree
    table = at.dataframe[0].value
    rows = {r["run"].split(" ")[0]: r for _, r in table.iterrows()}  # run number -> row
    for run, rate, measured_tol in (("1", 0.980198, 5e-3), ("2", 0.818182, 2e-2)):
        assert float(rows[run]["predicted rate"]) == pytest.approx(rate, abs=1e-5)
        assert float(rows[run]["measured rate"]) == pytest.approx(rate, abs=measured_tol)


def test_export_buttons_are_there():
    at = open_page({"n": "10"})
    assert sorted(b.key for b in at.get("download_button")) == ["sl_csv", "sl_json"]


def _lr_shown(at: AppTest) -> float:
    return float(_inspector_step(at).split("lr = `")[1].split("`")[0])


def test_a_run_with_a_schedule_and_an_ema_shadow():
    at = open_page({"n": "60", "r1": "adam,lr:0.05", "r1s": "cosine,min_fraction:0.1", "r1e": "0.9"})
    assert_clean(at)
    assert at.selectbox(key="sl_r1_sched").value == "cosine"
    assert at.checkbox(key="sl_r1_ema_on").value is True
    ema = [r for r in live(at)["runs"] if r["ema"]]
    assert len(ema) == 1 and ema[0]["label"].startswith("1 · Adam")
    assert _lr_shown(at) == pytest.approx(0.05)  # step 1: the full learning rate
    at.slider(key="sl_insp_t").set_value(60).run()
    # cosine from 0.05 down towards 0.1 x 0.05 over 60 steps
    assert 0.005 <= _lr_shown(at) < 0.0055
    at.checkbox(key="sl_r1_ema_on").uncheck().run()
    assert "r1e" not in at.query_params


def open_basins(query: dict[str, str]) -> AppTest:
    """The page with the Basins tab open, as a link with ``v=basins`` opens it."""
    return open_page({**query, "v": "basins"})


def _basins_table(at: AppTest):
    return next(d.value for d in at.dataframe if "ends at" in d.value.columns)


def test_basins_tab_renders_for_the_default_configuration():
    at = open_basins({"n": "40"})
    assert_clean(at)
    fig = figures(at)[0]  # only the open tab's figure is built: the basins come first
    names = [t.get("name") for t in fig["data"]]
    assert names[0] == "surface" and "minimum" in names and "start" in names
    assert "→ (1, 1), f = 0" in names or "no minimum within reach" in names
    table = _basins_table(at)
    assert table["ends at"].tolist() == ["→ (1, 1), f = 0", "no minimum within reach", "diverged"]
    assert table["starts"].sum() == 31 * 31
    assert any("Each square is a start point" in c.value for c in at.caption)


def test_basins_tab_on_himmelblau_counts_four_minima_and_follows_the_chosen_run():
    at = open_basins({"s": "himmelblau", "n": "100", "r1": "sgd,lr:0.01", "r2": "momentum,lr:0.01,momentum:0.9"})
    assert_clean(at)
    at.select_slider(key="sl_basins_n").set_value(11).run()
    gd = _basins_table(at)
    assert len(gd) == 6 and gd["starts"].sum() == 121
    assert gd["ends at"].tolist()[:4] == ["→ (3, 2), f = 0", "→ (-2.81, 3.13), f = 0", "→ (-3.78, -3.28), f = 0",
                                          "→ (3.58, -1.85), f = 0"]
    assert gd["starts"][:4].sum() > 100  # plain descent settles almost everywhere in 100 steps
    legend = {t.get("name") for t in figures(at)[0]["data"]}
    assert set(gd["ends at"][gd["starts"] > 0]) <= legend
    at.selectbox(key="sl_basins_run").set_value(1).run()  # the momentum run
    assert_clean(at)
    mom = _basins_table(at)
    assert mom["starts"].sum() == 121 and mom["starts"].tolist() != gd["starts"].tolist()
    # removing that run falls back to run 1 rather than failing
    at.number_input(key="sl_nruns").set_value(1).run()
    assert_clean(at)
    assert _basins_table(at)["starts"].tolist() == gd["starts"].tolist()


# --- x and y as two param groups ---------------------------------------------------------------------------------


def _hand_loop(surface, groups, kwargs, cls, start, steps, sched=None, noise=None):
    """The PyTorch loop a student writes for two parameters with their own learning rates."""
    x = torch.tensor(start[:1], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(start[1:], dtype=torch.float64, requires_grad=True)
    opt = cls([{"params": [x], "lr": groups[0]}, {"params": [y], "lr": groups[1]}], **kwargs)
    scheduler = sched(opt) if sched else None
    points = [[x.item(), y.item()]]
    for t in range(steps):
        opt.zero_grad()
        surface.fn(torch.cat([x, y])).backward()
        if noise is not None:
            x.grad.add_(noise[t, 0])
            y.grad.add_(noise[t, 1])
        opt.step()
        if scheduler:
            scheduler.step()
        points.append([x.item(), y.item()])
    return np.array(points)


# (link, torch class, its other constructor arguments, scheduler, the two lrs)
GROUP_CASES = [
    ({"s": "quadratic", "kappa": "100", "n": "60", "r1": "sgd,lr:10", "r1g": "0.1"},
     torch.optim.SGD, {}, None, (10.0, 1.0)),
    ({"s": "rosenbrock", "n": "80", "r1": "momentum,lr:0.001,momentum:0.8", "r1g": "3", "noise": "0.5", "seed": "7"},
     torch.optim.SGD, {"momentum": 0.8}, None, (0.001, 0.003)),
    ({"s": "beale", "n": "50", "r1": "adam,lr:0.02", "r1g": "0.5", "r1s": "step,step_fraction:0.2,gamma:0.5"},
     torch.optim.Adam, {}, lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=10, gamma=0.5), (0.02, 0.01)),
]


@pytest.mark.parametrize("query, cls, kwargs, sched, lrs", GROUP_CASES, ids=["gd", "momentum+noise", "adam+step"])
def test_two_param_groups_follow_a_plain_torch_loop(query, cls, kwargs, sched, lrs):
    cfg, notes = decode(query)
    assert notes == [] and cfg.runs[0].lr_y_factor is not None
    (trace,) = compute_traces(cfg.to_json())
    surface = build_surface(cfg)
    noise = None
    if cfg.noise:
        noise = cfg.noise * torch.randn(cfg.steps, 2, generator=torch.Generator().manual_seed(cfg.seed),
                                        dtype=torch.float64)
    expected = _hand_loop(surface, lrs, kwargs, cls, list(surface.start), cfg.steps, sched, noise)
    assert trace.diverged_at is None
    np.testing.assert_allclose(trace.points, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(trace.lrs[0], lrs, rtol=1e-12)
    # and the same run in one group moves differently (the second lr matters)
    (one,) = compute_traces(replace(cfg, runs=(replace(cfg.runs[0], lr_y_factor=None),)).to_json())
    assert np.abs(one.points[-1] - trace.points[-1]).max() > 1e-6


def test_turning_two_param_groups_on_shows_both_groups():
    at = open_page({"s": "quadratic", "kappa": "100", "n": "40", "r1": "sgd,lr:2"})
    assert "r1g" not in at.query_params
    at.checkbox(key="sl_r1_groups").check().run()
    assert_clean(at)
    assert at.query_params["r1g"] == "1"
    at.slider(key="sl_r1_lr_y_log").set_value(-1.0).run()  # 10^-1: the y group gets 0.1 × lr
    assert_clean(at)
    assert at.number_input(key="sl_r1_lr_y").value == pytest.approx(0.1)
    assert at.query_params["r1g"] == "0.1"
    # legend, inspector text, param_groups as torch prints them, and each group's γ
    assert "1 · SGD lr=2 · lr_y=0.1×lr" in run_labels(at)
    assert "lr = `(2, 0.2)` (group 0: x, group 1: y)" in _inspector_step(at)
    groups = next(c.value for c in at.code if c.value.startswith("SGD ("))
    assert groups.count("Parameter Group") == 2
    assert "lr: 2.0" in groups.split("Parameter Group 1")[0] and "lr: 0.2" in groups.split("Parameter Group 1")[1]
    latex = [x.value for x in at.get("latex")]
    assert any(r"\gamma_x = 2,\quad \gamma_y = 0.2" in x for x in latex), latex
    # the update equation's numbers are each coordinate's own: Δθ = −γ g with its group's γ
    update = next(x for x in latex if x.strip("$\n").startswith(r"\Delta\theta_t = -\gamma d_t"))
    start = build_surface(decode(dict(at.query_params))[0]).start
    g = (0.01 * start[0], 1.0 * start[1])  # ∇ of ½(0.01 x² + y²)
    assert update.strip("$\n").endswith(rf"\begin{{pmatrix}} {-2 * g[0]:.5g} \\ {-0.2 * g[1]:.5g} \end{{pmatrix}}")
    at.checkbox(key="sl_r1_groups").uncheck().run()
    assert "r1g" not in at.query_params
    assert not any("lr_y" in label for label in run_labels(at))


def test_a_link_with_two_param_groups_fills_the_controls_and_the_state_pairs():
    at = open_page({"n": "30", "r1": "adam", "r1g": "4", "r2": "sgd,lr:0.001"})
    assert_clean(at)
    assert at.checkbox(key="sl_r1_groups").value is True
    assert at.number_input(key="sl_r1_lr_y").value == 4.0
    assert at.slider(key="sl_r1_lr_y_log").value == pytest.approx(math.log10(4))
    open_run(at, 2)
    assert at.checkbox(key="sl_r2_groups").value is False
    state = next(c.value for c in at.code if c.value.startswith("step:"))
    assert state.splitlines()[0] == "step: (1, 1)"  # one state per parameter
    assert any("Each pair is (state of x, state of y)" in c.value for c in at.caption)
    back, notes = decode(dict(at.query_params))
    assert notes == [] and back.runs[0].lr_y_factor == 4.0 and back.runs[1].lr_y_factor is None


def test_a_y_lr_outside_the_allowed_range_is_capped_with_a_message():
    at = open_page({"n": "10", "r1": "sgd,lr:1", "r1g": "100"})
    assert_clean(at)
    assert any("outside the allowed learning rates" in w.value for w in at.warning)
    assert "1 · SGD lr=1 · lr_y=10" in run_labels(at)
    assert "lr = `(1, 10)`" in _inspector_step(at)


def test_a_bad_factor_in_the_link_gives_a_notice_and_one_times():
    at = open_page({"n": "10", "r1": "sgd", "r1g": "lots"})
    assert_clean(at)
    shown = [re.sub(r"\\(.)", r"\1", w.value) for w in at.warning]  # as Markdown prints the escaped notice
    assert any("y-group lr factor" in text for text in shown), shown
    assert at.checkbox(key="sl_r1_groups").value is True and at.number_input(key="sl_r1_lr_y").value == 1.0


def test_theory_predicts_each_axis_with_its_own_lr_on_the_unrotated_bowl():
    # κ = 100: x has λ = 0.01, y has λ = 1. lr_x = 10, lr_y = 1: rate max(|1 − 0.1|, |1 − 1|) = 0.9
    at = open_page({"s": "quadratic", "kappa": "100", "n": "200", "r1": "sgd,lr:10", "r1g": "0.1",
                    "r2": "sgd,lr:1.9802"})
    assert_clean(at)
    rows = {r["run"].split(" ")[0]: r for _, r in at.dataframe[0].value.iterrows()}
    assert float(rows["1"]["predicted rate"]) == pytest.approx(0.9, abs=1e-9)
    assert float(rows["1"]["measured rate"]) == pytest.approx(0.9, abs=5e-3)
    assert float(rows["1"]["predicted rate"]) < float(rows["2"]["predicted rate"])  # faster than the best single lr
    # rotated, the groups mix the eigen-directions: no prediction
    at = open_page({"s": "quadratic", "kappa": "100", "angle": "30", "n": "50", "r1": "sgd,lr:10", "r1g": "0.1"})
    assert_clean(at)
    assert at.dataframe[0].value.iloc[0]["predicted rate"] == "—"
    # "use it" puts run 1 back to one param group, as α* is one step for both directions
    at.button(key="sl_theory_gd").click().run()
    assert at.checkbox(key="sl_r1_groups").value is False and "r1g" not in at.query_params


def test_basins_of_a_two_group_run_use_both_groups():
    at = open_basins({"n": "30", "r1": "sgd,lr:0.001", "r1g": "2"})
    assert_clean(at)
    assert _basins_table(at)["starts"].sum() == 31 * 31
    one_group = open_basins({"n": "30", "r1": "sgd,lr:0.001"})
    assert not _basins_table(at).equals(_basins_table(one_group)), "the y group's lr changes where starts end"


# --- the view in the link: open tab, inspected step, basins run and grid ----------------------------------------


@pytest.fixture
def trace_keys(monkeypatch) -> list[str]:
    """Every key the page asks the trace cache for (the cache still answers)."""
    keys: list[str] = []
    real = surface_lab.state.cached_traces

    def spy(key: str, full=None):
        keys.append(key)
        return real(key, full)

    monkeypatch.setattr(surface_lab.state, "cached_traces", spy)
    return keys


def _view(at: AppTest) -> LabView:
    params = dict(at.query_params)
    return decode_view(params, decode(params)[0])[0]


POINTED = {"n": "50", "r1": "sgd,lr:0.001", "r2": "adam"}


def test_a_link_opens_the_inspector_at_its_run_and_step_without_a_new_cache_key(trace_keys):
    plain = open_page(POINTED)
    assert_clean(plain)
    assert _inspector_step(plain).startswith("**Step 1**")
    at = open_page({**POINTED, "t": "2:37"})
    assert_clean(at)
    assert not at.warning
    assert at.selectbox(key="sl_insp_run").value == 1 and at.slider(key="sl_insp_t").value == 37
    assert _inspector_step(at).startswith("**Step 37**")
    state = next(c.value for c in at.code if c.value.startswith("step:"))
    assert state.splitlines()[0] == "step: 37" and "exp_avg" in state  # the Adam run's state after step 37
    assert at.query_params["t"] == "2:37"  # the link keeps pointing there
    assert len(set(trace_keys)) == 1, "the inspected step must not enter the trace cache key"
    # moving the step (slider or buttons) rewrites the link and asks the cache for the same key again
    at.slider(key="sl_insp_t").set_value(12).run()
    assert at.query_params["t"] == "2:12"
    at.button(key="sl_insp_next").click().run()
    assert at.query_params["t"] == "2:13" and _inspector_step(at).startswith("**Step 13**")
    at.selectbox(key="sl_insp_run").set_value(0).run()
    assert at.query_params["t"] == "1:13"
    at.slider(key="sl_insp_t").set_value(1).run()
    assert "t" not in at.query_params  # back at the default: the link is short again
    assert_clean(at)
    assert len(set(trace_keys)) == 1 and len(trace_keys) >= 6
    assert decode(dict(at.query_params)) == decode(POINTED)


def test_a_link_with_a_view_that_does_not_fit_is_fitted_with_a_notice():
    # run 9 does not exist; tab 'heatmap' neither; 21 starts per side are offered but run 5 is not there
    at = open_page({**POINTED, "t": "9:999", "v": "heatmap", "b": "5:21"})
    assert_clean(at)
    notice = "\n".join(w.value for w in at.warning)
    assert "there is no run 9" in notice and "unknown value 'heatmap'" in notice and "there is no run 5" in notice
    assert at.selectbox(key="sl_insp_run").value == 0 and at.slider(key="sl_insp_t").value == 50
    assert live(at)["runs"]  # the contour tab is open
    assert _view(at) == LabView(insp_t=50, basins_n=21)


def test_a_step_past_a_diverged_runs_end_is_its_last_step():
    at = open_page({"n": "100", "r1": "sgd,lr:0.01", "t": "1:90"})  # diverges after a few steps
    assert_clean(at)
    (tr,) = surface_lab.compute(decode(dict(at.query_params))[0])
    assert tr.diverged_at is not None and 1 < tr.n_steps < 90
    assert at.slider(key="sl_insp_t").value == tr.n_steps == tr.diverged_at - 1  # step t broke: t - 1 is the last
    assert at.query_params["t"] == f"1:{tr.n_steps}"


def test_the_basins_view_is_kept_in_the_link_while_another_tab_is_open():
    at = open_page({**POINTED, "n": "30", "v": "basins", "b": "2:11"})
    assert_clean(at)
    assert at.selectbox(key="sl_basins_run").value == 1 and at.select_slider(key="sl_basins_n").value == 11
    assert _basins_table(at)["starts"].sum() == 11 * 11
    at.select_slider(key="sl_basins_n").set_value(21).run()
    assert at.query_params["b"] == "2:21" and at.query_params["v"] == "basins"
    at.session_state["sl_view"] = "Contour"  # as a click on the Contour tab sets it
    at.run()
    assert_clean(at)
    assert "v" not in at.query_params and at.query_params["b"] == "2:21"  # the basins widgets are gone, not the view
    at.session_state["sl_view"] = "Basins"
    at.run()
    assert at.selectbox(key="sl_basins_run").value == 1 and at.select_slider(key="sl_basins_n").value == 21
    assert at.query_params["v"] == "basins"


def test_a_closed_run_draws_no_widgets_and_still_runs_with_the_values_it_holds():
    """A closed run's expander draws none of its widgets (each widget costs a page run a walk over the whole
    session state), yet the run is computed from its values, and they outlive the runs it stays closed."""
    at = open_page({"n": "30", "r1": "adam", "r2": "nesterov,momentum:0.8"})
    assert_clean(at)

    def drawn(prefix: str) -> list[str]:
        return [w.key for kind in ("slider", "number_input", "selectbox", "checkbox")
                for w in getattr(at, kind) if (w.key or "").startswith(prefix)]

    assert drawn("sl_r1_") and not drawn("sl_r2_")
    back, _ = decode(dict(at.query_params))
    assert back.runs[1].optimizer == "nesterov" and dict(back.runs[1].hparams)["momentum"] == 0.8
    assert len(live(at)["runs"]) == 2
    open_run(at, 2)
    assert drawn("sl_r2_")
    at.slider(key="sl_r2_nesterov_momentum").set_value(0.5).run()
    at.session_state["sl_open_r2"] = False
    for _ in range(3):  # closed for three page runs
        at.run()
        assert_clean(at)
        assert not drawn("sl_r2_")
        back, _ = decode(dict(at.query_params))
        assert dict(back.runs[1].hparams)["momentum"] == 0.5
    open_run(at, 2)
    assert at.slider(key="sl_r2_nesterov_momentum").value == 0.5
