"""The Surface Lab in AppTest against what a student can type or a link can carry: every range at its ends and past
them, numbers typed out of range, messages that must blame the right thing, torch's step numbers, and exports that
reproduce the experiment on their own."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from optlab.registry import REGISTRY
from optlab.schedules import SCHEDULES
from optlab.surfaces import SURFACES
from optlab.ui import surface_lab
from optlab.ui.cache import build_surface, compute_traces
from optlab.ui.link_probe import MAX_FIELDS, MAX_LENGTH, dropped_link_note
from optlab.ui.urlstate import (
    ANGLE_RANGE,
    EMA_DECAY_RANGE,
    EMA_TAU_RANGE,
    KAPPA,
    LR_Y,
    MAX_RUNS,
    MAX_STEPS,
    NOISE_RANGE,
    SEED_RANGE,
    WINDOW_LIMIT,
    LabConfig,
    SurfaceRun,
    decode,
    read_export,
)

PAGE = str(Path(__file__).resolve().parents[1] / "pages" / "1_Surface_Lab.py")
ROSEN_BOUNDS = SURFACES["rosenbrock"].bounds
WIDGET_KINDS = ("number_input", "slider", "select_slider", "checkbox", "selectbox", "text_input")


def open_page(query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def widget(at: AppTest, key: str):
    for kind in WIDGET_KINDS:
        found = [w for w in getattr(at, kind) if w.key == key]
        if found:
            return found[0]
    raise KeyError(f"no widget with key {key!r}")


def shown(elements) -> str:
    """What a list of alerts says, with Markdown's escapes undone (notices print user text literally)."""
    return "\n".join(re.sub(r"\\(.)", r"\1", e.value) for e in elements)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def link_config(at: AppTest) -> LabConfig:
    cfg, notes = decode(dict(at.query_params))
    assert notes == [], notes  # the page writes only links it can read back whole
    return cfg


# --- item 4: every range at both ends renders, and a link past an end is clamped with a notice ------------------

def _hyper_cases():
    """Each optimizer with all its numeric settings at their minimum, then all at their maximum."""
    for key, spec in REGISTRY.items():
        floats = [h for h in spec.hypers if h.kind == "float"]
        for end in ("min", "max"):
            values = {h.name: getattr(h, end) for h in floats}
            query = {"n": "5", "r1": key + "".join(f",{k}:{v!r}" for k, v in values.items())}
            widgets = {f"sl_r1_{key}_{k}": v for k, v in values.items()}
            yield pytest.param(query, widgets, id=f"{key}-{end}")


def _schedule_cases():
    for key, spec in SCHEDULES.items():
        for end in ("min", "max") if spec.params else ():
            values = {p.name: getattr(p, end) for p in spec.params}
            query = {"n": "20", "r1": "sgd", "r1s": key + "".join(f",{k}:{v!r}" for k, v in values.items())}
            yield pytest.param(query, {f"sl_r1_sched_{key}_{k}": v for k, v in values.items()}, id=f"{key}-{end}")


(X0, X1), (Y0, Y1) = ROSEN_BOUNDS
RUNS6 = {f"r{i}": "sgd" for i in range(1, MAX_RUNS + 1)}

# (link, {widget key: the value it must show})
RANGE_ENDS = [
    pytest.param({"s": "quadratic", "kappa": f"{KAPPA.min:g}", "n": "5"}, {"sl_kappa": KAPPA.min}, id="kappa-min"),
    pytest.param({"s": "quadratic", "kappa": f"{KAPPA.max:g}", "n": "5"}, {"sl_kappa": KAPPA.max}, id="kappa-max"),
    pytest.param({"s": "quadratic", "angle": f"{ANGLE_RANGE[0]:g}", "n": "5"}, {"sl_angle": ANGLE_RANGE[0]},
                 id="angle-min"),
    pytest.param({"s": "quadratic", "angle": f"{ANGLE_RANGE[1]:g}", "n": "5"}, {"sl_angle": ANGLE_RANGE[1]},
                 id="angle-max"),
    pytest.param({"n": "1"}, {"sl_steps": 1}, id="steps-min"),
    pytest.param({"n": str(MAX_STEPS)}, {"sl_steps": MAX_STEPS}, id="steps-max"),
    pytest.param({"n": "5", "noise": f"{NOISE_RANGE[1]:g}", "seed": str(SEED_RANGE[1])},
                 {"sl_noise": NOISE_RANGE[1], "sl_seed": SEED_RANGE[1]}, id="noise-seed-max"),
    pytest.param({"n": "5", "noise": "0.5", "seed": str(SEED_RANGE[0])}, {"sl_seed": SEED_RANGE[0]}, id="seed-min"),
    pytest.param({"n": "5", "x0": f"{X0:g},{Y0:g}"}, {"sl_x0": X0, "sl_y0": Y0}, id="start-min"),
    pytest.param({"n": "5", "x0": f"{X1:g},{Y1:g}"}, {"sl_x0": X1, "sl_y0": Y1}, id="start-max"),
    pytest.param({"s": "custom", "f": "x**2 + y**2", "n": "5", "xr": f"{-WINDOW_LIMIT:g},{WINDOW_LIMIT:g}",
                  "yr": f"{-WINDOW_LIMIT:g},{WINDOW_LIMIT:g}"},
                 {"sl_xmin": -WINDOW_LIMIT, "sl_xmax": WINDOW_LIMIT, "sl_ymax": WINDOW_LIMIT}, id="window-ends"),
    pytest.param({"n": "5", "r1": "sgd", "r1e": f"{EMA_DECAY_RANGE[0]:g}"}, {"sl_r1_ema": EMA_DECAY_RANGE[0]},
                 id="ema-min"),
    pytest.param({"n": "5", "r1": "sgd", "r1e": f"{EMA_DECAY_RANGE[1]:g},tau:{EMA_TAU_RANGE[1]:g}"},
                 {"sl_r1_ema": EMA_DECAY_RANGE[1], "sl_r1_tau": EMA_TAU_RANGE[1]}, id="ema-max"),
    pytest.param({"n": "5", "r1": "sgd,lr:0.1", "r1g": f"{LR_Y.min:g}"}, {"sl_r1_lr_y": LR_Y.min}, id="lr_y-min"),
    pytest.param({"n": "5", "r1": "sgd,lr:0.01", "r1g": f"{LR_Y.max:g}"}, {"sl_r1_lr_y": LR_Y.max}, id="lr_y-max"),
    pytest.param({"n": "5", "r1": "sgd"}, {"sl_nruns": 1}, id="runs-min"),
    pytest.param({"n": "5", **RUNS6}, {"sl_nruns": MAX_RUNS}, id="runs-max"),
    *_hyper_cases(),
    *_schedule_cases(),
]


@pytest.mark.parametrize("query, widgets", RANGE_ENDS)
def test_every_setting_at_the_ends_of_its_range_renders_and_keeps_its_value(query, widgets):
    at = open_page(query)
    assert_clean(at)
    assert "outside" not in shown(at.warning), shown(at.warning)
    for key, value in widgets.items():
        assert widget(at, key).value == pytest.approx(value), key
    assert link_config(at) == decode(query)[0]  # the link, the widgets and the run agree


# (link past an end, widget key, the value it must be clamped to, a piece of the notice)
PAST_THE_ENDS = [
    ({"s": "quadratic", "kappa": "5000", "n": "5"}, "sl_kappa", 5000.0, None),  # the link: in range now
    ({"s": "quadratic", "kappa": "50000", "n": "5"}, "sl_kappa", KAPPA.max, "kappa=50000 is outside [1, 10000]"),
    ({"s": "quadratic", "kappa": "0.2", "n": "5"}, "sl_kappa", KAPPA.min, "kappa=0.2 is outside"),
    ({"s": "quadratic", "angle": "-100", "n": "5"}, "sl_angle", ANGLE_RANGE[0], "angle=-100 is outside"),
    ({"n": "3000"}, "sl_steps", MAX_STEPS, "n (steps)=3000 is outside"),
    ({"n": "5", "noise": "1e6"}, "sl_noise", NOISE_RANGE[1], "noise=1e+06 is outside"),
    ({"n": "5", "noise": "1", "seed": "-4"}, "sl_seed", SEED_RANGE[0], "seed=-4 is outside"),
    ({"n": "5", "x0": "1e9,0"}, "sl_x0", X1, "start x=1e+09 is outside"),
    ({"n": "5", "r1": "adam,lr:100"}, "sl_r1_adam_lr", 10.0, "lr=100 is outside [1e-05, 10]"),
    ({"n": "5", "r1": "momentum,momentum:1.5"}, "sl_r1_momentum_momentum", 0.999, "momentum=1.5 is outside"),
    ({"n": "5", "r1": "sgd", "r1e": "0.9,tau:1e9"}, "sl_r1_tau", EMA_TAU_RANGE[1], "EMA tau=1e+09 is outside"),
    ({"n": "5", "r1": "sgd,lr:0.01", "r1g": "1000"}, "sl_r1_lr_y", LR_Y.max, "factor=1000 is outside"),
    ({"n": "20", "r1": "sgd", "r1s": "onecycle,div_factor:1e9"}, "sl_r1_sched_onecycle_div_factor", 1000.0,
     "div_factor=1e+09 is outside"),
]


@pytest.mark.parametrize("query, key, value, note", PAST_THE_ENDS, ids=[str(q) for q, *_ in PAST_THE_ENDS])
def test_a_link_past_the_end_of_a_range_is_clamped_with_a_notice(query, key, value, note):
    at = open_page(query)
    assert_clean(at)
    assert widget(at, key).value == pytest.approx(value)
    if note is None:
        assert not at.warning, shown(at.warning)
    else:
        assert note in shown(at.warning), shown(at.warning)
    link_config(at)


# --- item 17: a number typed out of range is moved into it, in the field, the run and the link alike -------------

# (link to start from, field, typed value, value it must become, a piece of the note under the field)
TYPED = [
    ({"n": "5", "r1": "adam"}, "sl_r1_adam_lr", 100.0, 10.0, "learning rate = 100 is outside the allowed range"),
    ({"n": "5", "r1": "adam"}, "sl_r1_adam_lr", 1e-9, 1e-5, "learning rate = 1e-09 is outside"),
    ({"n": "5", "r1": "adam"}, "sl_r1_adam_eps", 5.0, 1.0, "ε = 5 is outside"),
    ({"n": "5"}, "sl_x0", 1e9, X1, "start x = 1000000000 is outside the allowed range -2 to 2; it is now 2."),
    ({"n": "5"}, "sl_y0", -50.0, Y0, "start y = -50 is outside"),
    ({"n": "5"}, "sl_noise", 1e6, NOISE_RANGE[1], "gradient noise σ = 1000000 is outside the allowed range 0 to 1000"),
    ({"n": "5", "noise": "1"}, "sl_seed", -5, SEED_RANGE[0], "seed = -5 is outside the allowed range 0 to 2147483647; it is now 0."),
    ({"n": "5"}, "sl_nruns", 9, MAX_RUNS, "number of runs = 9 is outside the allowed range 1 to 6"),
    ({"n": "5", "s": "quadratic"}, "sl_kappa", 1e6, KAPPA.max, "condition number κ = 1000000 is outside the allowed range 1 to 10000"),
    ({"n": "5", "r1": "sgd", "r1e": "0.9"}, "sl_r1_ema", 2.0, EMA_DECAY_RANGE[1], "decay d = 2 is outside"),
    ({"n": "5", "r1": "sgd", "r1e": "0.9"}, "sl_r1_tau", -3.0, EMA_TAU_RANGE[0], "warm-up τ = -3 is outside"),
    ({"n": "5", "r1": "sgd,lr:0.01", "r1g": "2"}, "sl_r1_lr_y", 1e4, LR_Y.max, "lr_y / lr = 10000 is outside"),
    ({"n": "5", "s": "custom", "f": "x**2 + y**2"}, "sl_xmin", -1e9, -WINDOW_LIMIT, "x min = -1000000000 is outside the allowed range -10000 to 10000"),
    ({"n": "20", "r1": "sgd", "r1s": "onecycle"}, "sl_r1_sched_onecycle_final_div_factor", 1e9, 1e6,
     "End at start lr divided by = 1000000000 is outside"),
]


@pytest.mark.parametrize("query, key, typed, value, note", TYPED, ids=[f"{k}={v:g}" for _, k, v, _, _ in TYPED])
def test_a_number_typed_out_of_range_becomes_the_nearest_allowed_one_with_a_note(query, key, typed, value, note):
    at = open_page(query)
    widget(at, key).set_value(typed).run()
    assert_clean(at)
    assert widget(at, key).value == pytest.approx(value)  # the field shows what the run uses
    assert note in shown(at.warning), shown(at.warning)
    cfg = link_config(at)  # ... and so does the link
    again = open_page(dict(at.query_params))
    assert widget(again, key).value == pytest.approx(value) and decode(dict(again.query_params))[0] == cfg
    # the note stays while the field holds that value, and goes once it holds another
    at.run()
    assert note in shown(at.warning)
    widget(at, key).set_value(value * 0.5 if value > 0 else value + 1).run()
    assert note not in shown(at.warning)


def test_a_typed_learning_rate_moves_its_slider_and_the_run_too():
    at = open_page({"n": "5", "r1": "adam"})
    widget(at, "sl_r1_adam_lr").set_value(100.0).run()
    assert widget(at, "sl_r1_adam_lr_log").value == pytest.approx(1.0)  # log10(10)
    assert "lr:10" in at.query_params["r1"].split(",")
    (tr,) = surface_lab.compute(link_config(at))
    assert tr.lrs[0, 0] == 10.0


# --- item 16: each message blames what is wrong -----------------------------------------------------------------

def test_a_start_outside_the_domain_is_said_once_as_the_starts_fault():
    at = open_page({"s": "custom", "f": "log(x)", "x0": "0,0", "n": "20"})
    assert_clean(at)
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "outside the function's domain" in errors[0], errors
    assert "(0, 0)" in errors[0] and "reset start" in errors[0]
    assert "diverged" not in shown(at.warning)
    assert any("took no step" in i.value and "domain" in i.value for i in at.info)


def test_an_empty_window_is_blamed_not_the_formula():
    at = open_page({"s": "custom", "f": "x**2 + y**2", "n": "5"})
    widget(at, "sl_xmin").set_value(5.0).run()  # x max is 3
    assert_clean(at)
    text = shown(at.error)
    assert "The plot window is empty: x min = 5 is not below x max = 3" in text, text
    assert "formula cannot be used" not in text
    widget(at, "sl_xmin").set_value(-2.0).run()
    assert not at.error


@pytest.mark.parametrize("surface", ["rosenbrock", "booth", "custom"])
def test_a_kappa_in_the_link_of_a_surface_without_one_says_nothing(surface):
    query = {"s": surface, "kappa": "50000", "angle": "500", "n": "5"}
    if surface == "custom":
        query["f"] = "x**2 + y**2"
    at = open_page(query)
    assert_clean(at)
    assert not at.warning, shown(at.warning)


def test_the_link_notice_goes_once_a_setting_changes():
    at = open_page({"n": "lots", "r1": "sgd", "r2": "adam"})
    assert "could not be used" in shown(at.warning)
    widget(at, "sl_insp_t").set_value(3).run()  # looking elsewhere is not fixing anything
    assert "could not be used" in shown(at.warning)
    widget(at, "sl_steps").set_value(40).run()
    assert_clean(at)
    assert "could not be used" not in shown(at.warning)
    widget(at, "sl_steps").set_value(300).run()  # back to what the link gave: the notice is gone for good
    assert "could not be used" not in shown(at.warning)


# (what the probe reported, a piece of the note, or None for no note)
PROBE_REPORTS = [
    ({"fields": MAX_FIELDS + 1, "length": 9000}, f"it has {MAX_FIELDS + 1:,} parameters"),
    ({"fields": 5, "length": MAX_LENGTH + 1}, f"it is {MAX_LENGTH + 1:,} characters long"),
    ({"fields": MAX_FIELDS, "length": MAX_LENGTH}, None),  # at the limits Streamlit still reads it
    ({"fields": 0, "length": 0}, None),
    (None, None),
    ("1001", None),
    ({"fields": "1001", "length": 5}, None),
    ({"fields": True, "length": 5}, None),
    ({"fields": -1, "length": 5}, None),
    ({"length": 10**7}, None),
]


@pytest.mark.parametrize("report, note", PROBE_REPORTS, ids=[str(r) for r, _ in PROBE_REPORTS])
def test_a_dropped_link_is_named_and_anything_else_is_not(report, note):
    text = dropped_link_note(report)
    if note is None:
        assert text is None
    else:
        assert note in text and "default experiment" in text


def test_settings_that_cannot_run_together_are_refused_in_words():
    at = open_page({"n": "1", "r1": "sgd", "r1s": "onecycle"})  # each in range; a one-cycle needs 2 steps
    assert_clean(at)
    assert "These settings cannot run together: OneCycleLR needs a run of at least 2 steps" in shown(at.error)
    widget(at, "sl_steps").set_value(30).run()
    assert_clean(at)
    assert not at.error


# --- item 18: torch's step numbers everywhere --------------------------------------------------------------------

def test_a_divergence_and_the_inspector_count_the_same_steps():
    at = open_page({"n": "100", "r1": "sgd,lr:10", "r2": "adam"})
    assert_clean(at)
    (note,) = [w.value for w in at.warning if "diverged at step" in w.value]
    k = int(re.search(r"diverged at step (\d+)", note).group(1))
    assert f"stops after step {k - 1}" in note
    tr = surface_lab.compute(link_config(at))[0]
    assert tr.diverged_at == k and tr.n_steps == k - 1 >= 1
    if k - 1 == 1:
        assert any(c.value == "step t = 1 (the only step)" for c in at.caption)
    else:
        assert widget(at, "sl_insp_t").max == k - 1
    state = next(c.value for c in at.code if c.value.startswith("momentum_buffer") or c.value == "(empty)")
    assert state == "(empty)"  # plain SGD keeps no state


def test_an_old_link_opens_the_very_step_it_showed_and_is_rewritten_in_torchs_numbers():
    at = open_page({"n": "50", "r1": "sgd,lr:0.001", "r2": "adam", "i": "2:37"})  # old: 0 was the first step
    assert_clean(at)
    assert widget(at, "sl_insp_t").value == 38
    state = next(c.value for c in at.code if c.value.startswith("step:"))
    assert state.splitlines()[0] == "step: 38"
    assert at.query_params["t"] == "2:38" and "i" not in at.query_params


def test_the_equations_use_the_step_the_inspector_names():
    at = open_page({"n": "10", "r1": "adam,lr:0.05,beta1:0.8"})
    widget(at, "sl_insp_t").set_value(4).run()
    assert next(m.value for m in at.markdown if m.value.startswith("**Step ")).startswith("**Step 4** ")
    latex = " ".join(x.value for x in at.get("latex"))
    assert f"{1 - 0.8 ** 4:.5g}" in latex  # 1 − β₁ᵗ with t = 4, as torch's Adam computes it


# --- item 23: EMA shadows in every view, PNG names, and exports that reproduce the experiment ---------------------

def _figures(at: AppTest) -> list[dict]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


@pytest.mark.parametrize("view, kind", [("replay", "scatter"), ("3d", "scatter3d")])
def test_the_ema_shadow_is_drawn_in_the_replay_and_in_3d(view, kind):
    at = open_page({"n": "40", "r1": "adam", "r1e": "0.9", "r2": "sgd,lr:0.001", "v": view})
    assert_clean(at)
    fig = _figures(at)[0]
    shadows = [t for t in fig["data"] if t.get("name") == "EMA shadow of run 1"]
    assert len(shadows) == 1 and shadows[0]["type"] == kind and shadows[0]["line"]["dash"] == "dot"
    assert not any("(EMA)" in (t.get("name") or "") for t in fig["data"])
    assert not any(t.get("name") == "EMA shadow of run 2" for t in fig["data"])


@pytest.mark.parametrize("view, names", [("contour", {"optlab_loss", "optlab_distance"}),
                                         ("replay", {"optlab_replay", "optlab_loss", "optlab_distance"}),
                                         ("3d", {"optlab_3d", "optlab_loss", "optlab_distance"}),
                                         ("basins", {"optlab_basins", "optlab_loss", "optlab_distance"})])
def test_every_figure_saves_its_png_under_its_own_name(view, names):
    at = open_page({"n": "20", "v": view})
    assert_clean(at)
    configs = [json.loads(el.proto.config) for el in at.get("plotly_chart")]
    files = [c["toImageButtonOptions"]["filename"] for c in configs]
    assert set(files) == names and len(files) == len(names)


EXPERIMENTS = [
    LabConfig(surface="custom", formula="x**2 + 3*sin(y)**2", window=((-2.0, 4.0), (-3.0, 1.5)), start=(3.5, -2.5),
              steps=60, noise=0.3, seed=11, runs=(SurfaceRun.of("adam", lr=0.1), SurfaceRun.of("sgd", lr=0.05))),
    LabConfig(surface="quadratic", params=(("kappa", 250.0), ("angle", 20.0)), steps=80, noise=0.05, seed=3,
              runs=(replace(SurfaceRun.of("momentum", lr=0.5, momentum=0.8), lr_y_factor=0.5),
                    replace(SurfaceRun.of("adam", lr=0.2), schedule="cosine", schedule_params=(("min_fraction", 0.1),),
                            ema_decay=0.9, ema_tau=5.0))),
    LabConfig(surface="himmelblau", steps=40),  # the surface's own start: the file must still say where that was
]


@pytest.mark.parametrize("kind", ["csv", "json"])
@pytest.mark.parametrize("cfg", EXPERIMENTS, ids=["custom+noise", "quadratic+groups+ema", "default-start"])
def test_an_exported_file_alone_reproduces_its_traces(cfg, kind):
    surface = build_surface(cfg)
    traces = compute_traces(cfg.to_json())
    text = surface_lab.export_text(cfg, surface, traces, kind)
    back, notes = read_export(text)
    assert notes == [] and back == cfg
    again = compute_traces(back.to_json())
    for a, b in zip(traces, again, strict=True):
        np.testing.assert_array_equal(a.points, b.points)
        if a.ema_points is not None:
            np.testing.assert_array_equal(a.ema_points, b.ema_points)
    # and the file says, for a reader, where the runs started and with which noise
    header = json.loads(text)["experiment"] if kind == "json" else {
        line[2:].split(": ", 1)[0]: line[2:].split(": ", 1)[1] for line in text.splitlines() if line.startswith("# ")}
    start = header["start"] if kind == "json" else json.loads(header["start"])
    assert start == pytest.approx(list(traces[0].points[0]))
    config = header["configuration"] if kind == "json" else json.loads(header["configuration"])
    assert (config["surface"], config["noise"], config["seed"]) == (cfg.surface, cfg.noise, cfg.seed)
    if kind == "csv":  # row t of run 0 holds θ_t
        last = [line for line in text.splitlines() if line.startswith(f"0,{traces[0].label},")][-1].split(",")
        assert int(last[2]) == traces[0].n_steps
        assert [float(last[3]), float(last[4])] == pytest.approx(list(traces[0].points[-1]), rel=1e-15)


def test_the_page_exports_what_it_shows():
    at = open_page({"s": "booth", "n": "30", "noise": "0.2", "seed": "5", "r1": "rmsprop,lr:0.05"})
    assert_clean(at)
    cfg = link_config(at)
    traces = surface_lab.compute(cfg)
    back, _ = read_export(surface_lab.export_text(cfg, build_surface(cfg), traces, "json"))
    assert back == cfg and math.isclose(back.noise, 0.2) and back.seed == 5


def test_a_links_widget_values_are_sent_again_on_the_next_runs_and_a_change_is_kept():
    """The browser may mount a widget with a later run's message than the one that set its value: the link's
    values ride along on the session's next runs too (set_value), and whatever the student changed meanwhile
    is what is sent."""
    at = open_page({"s": "booth", "n": "20"})
    sent = []
    for i in range(5):
        sent.append(widget(at, "sl_surface").proto.set_value)
        if i == 1:
            widget(at, "sl_steps").set_value(60)
        at.run()
    assert sent == [True, True, True, True, False]
    assert widget(at, "sl_surface").value == "booth" and widget(at, "sl_steps").value == 60
    assert link_config(at).steps == 60


def test_the_inspector_survives_a_run_that_stopped_before_drawing_it():
    """A run stopped early (here by an empty window) draws no inspector, so Streamlit drops its step slider's
    state; the next good run must draw it again at the step the view points at."""
    at = open_page({"s": "custom", "f": "x**2 + y**2", "n": "30", "t": "1:12"})
    assert widget(at, "sl_insp_t").value == 12
    widget(at, "sl_xmin").set_value(5.0).run()  # x max is 3: nothing runs
    assert "The plot window is empty" in shown(at.error)
    widget(at, "sl_xmin").set_value(-3.0).run()
    assert_clean(at)
    assert widget(at, "sl_insp_t").value == 12 and at.query_params["t"] == "1:12"


# --- a lesson that locks a run: its widgets are greyed, with the lesson's values -----------------------------

@pytest.mark.parametrize("locked, greyed, free", [
    (("r1",), ["sl_r1_opt", "sl_r1_sgd_lr", "sl_r1_sgd_lr_log", "sl_r1_sgd_weight_decay", "sl_r1_sgd_maximize"], ["sl_r1_sched", "sl_r2_opt"]),
    (("r1s",), ["sl_r1_sched"], ["sl_r1_opt", "sl_r1_sgd_lr", "sl_r1_ema_on"]),
    (("r1e", "r1g"), ["sl_r1_ema_on", "sl_r1_groups"], ["sl_r1_opt", "sl_r1_sched"]),
])
def test_a_lesson_that_locks_a_run_greys_that_runs_widgets(monkeypatch, locked, greyed, free):
    from optlab.config.surface_lab import CONFIG_FIELDS
    from optlab.fields import Constraints
    from optlab.ui.surface_lab import state

    link = {"r1": "sgd,lr:0.02", "r2": "adam"}
    values, _ = CONFIG_FIELDS.decode(link)
    monkeypatch.setattr(state, "active_constraints",
                        lambda page: Constraints(locked={k: values[k] for k in locked}))
    at = open_page(link)
    at.session_state["sl_open_r2"] = True  # run 2's expander opened: its widgets are drawn
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for key in greyed:
        assert widget(at, key).disabled, key
    for key in free:
        assert not widget(at, key).disabled, key
    assert widget(at, "sl_r1_sgd_lr").value == pytest.approx(0.02)
