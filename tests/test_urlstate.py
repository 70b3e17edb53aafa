"""The Surface Lab's URL codec: round trips, clamping, and malformed links that must never raise."""

from __future__ import annotations

import random
import string

import pytest

from optlab.registry import REGISTRY
from optlab.schedules import SCHEDULES
from optlab.surfaces import SURFACES
from optlab.ui.cache import BASINS_N
from optlab.ui.urlstate import (
    BASINS_SIDE,
    BASINS_SIDES,
    KAPPA,
    LR_Y_FACTOR_RANGE,
    MAX_RUNS,
    MAX_STEPS,
    VIEWS,
    LabConfig,
    LabView,
    SurfaceRun,
    check,
    decode,
    decode_view,
    default_runs,
    encode,
    encode_view,
    read_export,
)


def _sched_with_params() -> tuple[str, dict]:
    """A schedule that has parameters, with each set a little away from its default (inside its range)."""
    for key, spec in SCHEDULES.items():
        if spec.params:
            values = {}
            for p in spec.params:
                v = p.default + 0.25 * (p.max - p.default) if p.max > p.default else p.default
                values[p.name] = int(round(v)) if p.integer else v
            return key, values
    pytest.skip("no schedule with parameters")


def _full_run(key: str, **over) -> SurfaceRun:
    return SurfaceRun.of(key, **over)


def _six_runs() -> tuple[SurfaceRun, ...]:
    sched, params = _sched_with_params()
    keys = list(REGISTRY)[:MAX_RUNS]
    runs = []
    for i, key in enumerate(keys):
        spec = REGISTRY[key]
        over = {"lr": 0.0123 * (i + 1)}
        bools = [h for h in spec.hypers if h.kind == "bool"]
        if bools:
            over[bools[0].name] = not bools[0].default
        run = _full_run(key, **over)
        if i % 2:
            defaults = {p.name: p.default for p in SCHEDULES[sched].params}
            run = SurfaceRun(run.optimizer, run.hparams, sched, tuple(sorted({**defaults, **params}.items())))
        if i % 3 == 0:
            run = SurfaceRun(run.optimizer, run.hparams, run.schedule, run.schedule_params, 0.95, 12.5 * i)
        runs.append(run)
    return tuple(runs)


ROUND_TRIP = [
    LabConfig(),
    LabConfig(surface="himmelblau", start=(1.25, -0.5), steps=2000, noise=0.3, seed=42),
    LabConfig(surface="quadratic", params=(("kappa", 100.0), ("angle", 30.0)), runs=(_full_run("momentum", lr=3.30579,
                                                                            momentum=0.669421),)),
    LabConfig(surface="custom", formula="x**2 + 10*y**2 - cos(3*x)", window=((-1.5, 2.0), (-4.0, 0.5)),
              start=(1.0, -3.0)),
    LabConfig(surface="beale", runs=_six_runs(), steps=1),
    # two param groups: a y-group lr factor, 1× (two groups, same lr), and the ends of its range
    LabConfig(surface="quadratic", params=(("kappa", 100.0),), runs=(SurfaceRun("sgd", SurfaceRun.of("sgd", lr=1.0).hparams,
                                                              lr_y_factor=10.0),
                                                      SurfaceRun("adam", SurfaceRun.of("adam").hparams, "cosine",
                                                              (("min_fraction", 0.1),), 0.9, 5.0, 1.0),
                                                      SurfaceRun("momentum", SurfaceRun.of("momentum").hparams,
                                                              lr_y_factor=LR_Y_FACTOR_RANGE[0]),
                                                      SurfaceRun("rmsprop", SurfaceRun.of("rmsprop").hparams,
                                                              lr_y_factor=LR_Y_FACTOR_RANGE[1]))),
]


@pytest.mark.parametrize("cfg", ROUND_TRIP, ids=range(len(ROUND_TRIP)))
def test_config_to_query_params_and_back(cfg):
    q = encode(cfg)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in q.items())
    back, notes = decode(q)
    assert notes == []
    assert back == cfg
    assert encode(back) == q


@pytest.mark.parametrize("cfg", ROUND_TRIP, ids=range(len(ROUND_TRIP)))
def test_canonical_json_round_trip_and_equal_configs_give_equal_keys(cfg):
    assert LabConfig.from_json(cfg.to_json()) == cfg
    again, _ = decode(encode(cfg))
    assert again.to_json() == cfg.to_json()


def test_repeated_query_values_take_the_last_one():
    cfg, notes = decode({"n": ["10", "20"], "s": ["beale"]})
    assert (cfg.steps, cfg.surface, notes) == (20, "beale", [])


def test_only_non_default_settings_are_written():
    q = encode(LabConfig(runs=(SurfaceRun.of("adam", lr=0.2),)))
    assert q["r1"] == "adam,lr:0.2"
    assert encode(LabConfig(runs=(SurfaceRun.of("adam"),)))["r1"] == "adam"


def test_two_param_groups_are_written_only_when_on():
    one = SurfaceRun.of("sgd", lr=0.5)
    assert "r1g" not in encode(LabConfig(runs=(one,)))
    q = encode(LabConfig(runs=(one, SurfaceRun("sgd", one.hparams, lr_y_factor=0.25))))
    assert q["r2g"] == "0.25" and "r1g" not in q


def test_links_from_before_param_groups_still_read():
    cfg, notes = decode({"r1": "sgd,lr:0.5", "r1e": "0.9"})
    assert notes == [] and cfg.runs[0].lr_y_factor is None


def test_an_empty_link_is_the_default_experiment():
    assert decode({}) == (LabConfig(), [])
    assert LabConfig().runs == default_runs()


# --- clamping ---------------------------------------------------------------------------------------------------

LR = REGISTRY["adam"].hyper("lr")

CLAMPS = [
    ({"n": "99999"}, lambda c: c.steps == MAX_STEPS, "n (steps)=99999"),
    ({"n": "0"}, lambda c: c.steps == 1, "n (steps)=0"),
    ({"n": "12.7"}, lambda c: c.steps == 13, "not a whole number"),
    ({"noise": "-1"}, lambda c: c.noise == 0.0, "noise=-1"),
    ({"s": "quadratic", "kappa": "0.5"}, lambda c: c.param("kappa") == 1.0, "kappa=0.5"),
    ({"s": "quadratic", "kappa": "50000"}, lambda c: c.param("kappa") == KAPPA.max, "kappa=50000 is outside [1, 10000]"),
    ({"s": "quadratic", "angle": "400"}, lambda c: c.param("angle") == 90.0, "angle=400"),
    ({"x0": "100,-100"}, lambda c: c.start == (SURFACES["rosenbrock"].bounds[0][1],
                                               SURFACES["rosenbrock"].bounds[1][0]), "start x=100"),
    ({"r1": "adam,lr:50"}, lambda c: dict(c.runs[0].hparams)["lr"] == LR.max, "lr=50"),
    ({"r1": "adam,lr:1e-9"}, lambda c: dict(c.runs[0].hparams)["lr"] == LR.min, "lr=1e-09"),
    ({"r1": "sgd", "r1e": "1.5,tau:-3"}, lambda c: (c.runs[0].ema_decay, c.runs[0].ema_tau) == (0.9999, 0.0),
     "EMA decay=1.5"),
    ({"s": "custom", "f": "x*y", "xr": "-1e9,3"}, lambda c: c.window[0] == (-1e4, 3.0), "xr=-1e+09"),
    ({"r1": "sgd", "r1g": "1000"}, lambda c: c.runs[0].lr_y_factor == LR_Y_FACTOR_RANGE[1], "factor=1000"),
    ({"r1": "sgd", "r1g": "0"}, lambda c: c.runs[0].lr_y_factor == LR_Y_FACTOR_RANGE[0], "factor=0 is"),
    ({"r1": "sgd", "r1g": "-3"}, lambda c: c.runs[0].lr_y_factor == LR_Y_FACTOR_RANGE[0], "factor=-3"),
]


@pytest.mark.parametrize("query, check, note", CLAMPS, ids=[c[2] for c in CLAMPS])
def test_out_of_range_values_are_clamped_with_a_note(query, check, note):
    cfg, notes = decode(query)
    assert check(cfg)
    assert any(note in n for n in notes), notes


# --- malformed links ---------------------------------------------------------------------------------------------

MALFORMED = [
    ({"s": "nope"}, lambda c: c.surface == "rosenbrock", "surface: unknown value 'nope'"),
    ({"n": "ten"}, lambda c: c.steps == LabConfig().steps, "not a number"),
    ({"n": "nan"}, lambda c: c.steps == LabConfig().steps, "not a finite number"),
    ({"x0": "1"}, lambda c: c.start is None, "expected two numbers"),
    ({"x0": "a,b"}, lambda c: c.start is None, "not a number"),
    ({"s": "custom"}, lambda c: c.surface == "rosenbrock", "needs a formula"),
    ({"s": "custom", "f": "x" * 600}, lambda c: c.surface == "rosenbrock", "longer than"),
    ({"s": "custom", "f": "x", "yr": "3,-3"}, lambda c: c.window[1] == (-3.0, 3.0), "below the maximum"),
    ({"r1": "bogus"}, lambda c: c.runs == default_runs(), "unknown optimizer"),
    ({"r1": "adam,foo:1"}, lambda c: c.runs == (SurfaceRun.of("adam"),), "no setting 'foo'"),
    ({"r1": "adam,lr"}, lambda c: c.runs == (SurfaceRun.of("adam"),), "expected name:value"),
    ({"r1": "adam,maximize:maybe"}, lambda c: c.runs == (SurfaceRun.of("adam"),), "must be 1 or 0"),
    ({"r1": "adam", "r1s": "nope"}, lambda c: c.runs[0].schedule == "constant", "unknown schedule"),
    ({"r1": "adam", "r1e": "x"}, lambda c: c.runs[0].ema_decay is None, "not a number"),
    ({"r9": "adam", "zz": "1"}, lambda c: c == LabConfig(), "unknown link parameter"),
    # the link asked for two param groups: they stay, at 1×
    ({"r1": "sgd", "r1g": "ten"}, lambda c: c.runs[0].lr_y_factor == 1.0, "y-group lr factor: 'ten' is not a"),
    ({"r1": "sgd", "r1g": "inf"}, lambda c: c.runs[0].lr_y_factor == 1.0, "not a finite number"),
    ({"r1": "sgd", "r1g": ""}, lambda c: c.runs[0].lr_y_factor == 1.0, "y-group lr factor: '' is not a"),
    ({"r1": "sgd", "r1g": "2,x:1"}, lambda c: c.runs[0].lr_y_factor == 1.0, "y-group lr factor: '2,x:1'"),
]


@pytest.mark.parametrize("query, check, note", MALFORMED, ids=[c[2] for c in MALFORMED])
def test_malformed_values_fall_back_to_defaults_with_a_note(query, check, note):
    cfg, notes = decode(query)
    assert check(cfg), cfg
    assert any(note in n for n in notes), notes


def test_good_parts_of_a_partly_bad_link_are_kept():
    cfg, notes = decode({"s": "beale", "n": "oops", "r1": "rmsprop,lr:0.02", "r2": "bogus", "r3": "sgd"})
    assert cfg.surface == "beale" and cfg.steps == LabConfig().steps
    assert [r.optimizer for r in cfg.runs] == ["rmsprop", "sgd"]
    assert dict(cfg.runs[0].hparams)["lr"] == 0.02
    assert len(notes) == 2


def test_random_junk_never_raises():
    rng = random.Random(0)
    alphabet = string.printable + "∞−é\x00"
    keys = ["s", "f", "xr", "yr", "kappa", "angle", "x0", "n", "noise", "seed", "r1", "r1s", "r1e", "r1g", "r6", "v", "t",
            "i", "b", "?"]
    for _ in range(300):
        q = {rng.choice(keys): "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
             for _ in range(rng.randint(1, 6))}
        cfg, notes = decode(q)
        assert isinstance(cfg, LabConfig) and isinstance(notes, list)
        assert 1 <= cfg.steps <= MAX_STEPS and 1 <= len(cfg.runs) <= MAX_RUNS
        view, _ = decode_view(q, cfg)
        assert view.tab in VIEWS and view.basins_n in BASINS_SIDES
        assert 0 <= view.insp_run < len(cfg.runs) and 0 <= view.basins_run < len(cfg.runs)
        assert 1 <= view.insp_t <= cfg.steps
        assert decode_view(encode(cfg, view), cfg) == (view, [])  # whatever was accepted encodes again


# --- the view: open tab, inspected run and step, basins run and grid --------------------------------------------

THREE = LabConfig(steps=50)  # the default three runs, 50 steps: torch's steps t = 1..50

VIEW_TRIP = [
    (LabView(), {}),
    (LabView(tab="basins"), {"v": "basins"}),
    (LabView(tab="3d"), {"v": "3d"}),
    (LabView(insp_run=2, insp_t=37), {"t": "3:37"}),
    (LabView(insp_run=1), {"t": "2:1"}),
    (LabView(insp_t=50), {"t": "1:50"}),
    (LabView(basins_run=1, basins_n=11), {"b": "2:11"}),
    (LabView(basins_n=41), {"b": "1:41"}),
    (LabView(tab="replay", insp_run=2, insp_t=2, basins_run=2, basins_n=21),
     {"v": "replay", "t": "3:2", "b": "3:21"}),
]


@pytest.mark.parametrize("view, want", VIEW_TRIP, ids=range(len(VIEW_TRIP)))
def test_view_to_query_params_and_back_with_defaults_left_out(view, want):
    assert encode_view(view) == want
    q = encode(THREE, view)
    assert {k: v for k, v in q.items() if k in ("v", "t", "i", "b")} == want
    back, notes = decode_view(q, THREE)
    assert (back, notes) == (view, [])
    cfg, notes = decode(q)  # the view keys are known to the configuration's decoder, which leaves them alone
    assert (cfg, notes) == (THREE, [])


def test_the_view_stays_out_of_the_configuration_and_its_cache_key():
    plain = encode(THREE)
    pointed = encode(THREE, LabView(tab="basins", insp_run=1, insp_t=20, basins_run=2, basins_n=11))
    assert set(pointed) - set(plain) == {"v", "t", "b"}
    assert decode(pointed)[0].to_json() == decode(plain)[0].to_json() == THREE.to_json()
    assert encode(THREE, LabView()) == plain  # a default view adds nothing to the link


def test_the_default_side_is_the_cache_default():
    assert BASINS_SIDE == BASINS_N and BASINS_SIDE in BASINS_SIDES


def test_an_old_link_without_view_keys_opens_the_default_view():
    assert decode_view({"s": "beale", "n": "20", "r1": "adam"}, LabConfig(steps=20)) == (LabView(), [])


# (query, the view it must give on THREE, a piece of the note): clamped to what exists, or read as far as it can be
VIEW_FIXES = [
    ({"v": "heatmap"}, LabView(), "v: unknown value 'heatmap'"),
    ({"v": "BASINS"}, LabView(tab="basins"), None),  # case does not matter
    ({"t": "2:500"}, LabView(insp_run=1, insp_t=50), "step=500 is outside [1, 50]; using 50"),
    ({"t": "2:0"}, LabView(insp_run=1), "step=0 is outside [1, 50]; using 1"),  # θ₀ is the start, not a step
    ({"t": "2:-3"}, LabView(insp_run=1), "step=-3 is outside"),
    ({"t": "9:10"}, LabView(insp_t=10), "there is no run 9 (runs 1 to 3); using run 1"),
    ({"t": "0:10"}, LabView(insp_t=10), "there is no run 0"),
    ({"t": "3"}, LabView(insp_run=2), None),  # no step: the first step
    ({"t": "3:7.6"}, LabView(insp_run=2, insp_t=8), "step=7.6 is not a whole number"),
    ({"t": "x:12"}, LabView(insp_t=12), "t (inspector) run: 'x' is not a number"),
    ({"t": "2:nan"}, LabView(insp_run=1), "not a finite number"),
    ({"t": "1:2:3"}, LabView(), "expected run:step"),
    # links from before torch's numbering: i=<run>:<k>, k = 0 the first step, opens the very same step t = k + 1
    ({"i": "2:37"}, LabView(insp_run=1, insp_t=38), None),
    ({"i": "2:0"}, LabView(insp_run=1, insp_t=1), None),
    ({"i": "3"}, LabView(insp_run=2), None),
    ({"i": "2:500"}, LabView(insp_run=1, insp_t=50), "step=500 is outside [0, 49]; using 49"),
    ({"i": "9:10"}, LabView(insp_t=11), "i (inspector): there is no run 9"),
    ({"i": "x:12"}, LabView(insp_t=13), "i (inspector) run: 'x' is not a number"),
    ({"t": "2:5", "i": "3:9"}, LabView(insp_run=1, insp_t=5), None),  # t wins: it is the newer key
    ({"b": "7:21"}, LabView(basins_n=21), "b (basins): there is no run 7"),
    ({"b": "2:30"}, LabView(basins_run=1, basins_n=31), "30 starts per side is not offered"),
    ({"b": "2:5"}, LabView(basins_run=1, basins_n=11), "5 starts per side is not offered"),
    ({"b": "1:1e9"}, LabView(basins_n=41), "1000000000 starts per side is not offered"),
    ({"b": "2:many"}, LabView(basins_run=1), "starts per side: 'many' is not a number"),
]


@pytest.mark.parametrize("query, want, note", VIEW_FIXES, ids=[str(q) for q, _, _ in VIEW_FIXES])
def test_view_values_are_clamped_to_what_exists_with_a_note(query, want, note):
    view, notes = decode_view(query, THREE)
    assert view == want
    if note is None:
        assert notes == []
    else:
        assert any(note in n for n in notes), notes


def test_a_step_past_a_shorter_experiment_is_its_last_step():
    view, notes = decode_view({"n": "10", "t": "1:37"}, decode({"n": "10"})[0])
    assert view.insp_t == 10 and any("using 10" in n for n in notes)


def test_an_old_link_is_never_written_back_with_its_old_step_key():
    cfg = decode({"n": "50", "i": "2:37"})[0]
    view, _ = decode_view({"n": "50", "i": "2:37"}, cfg)
    q = encode(cfg, view)
    assert "i" not in q and q["t"] == "2:38"


# --- κ and the angle belong to the quadratic alone -------------------------------------------------------------

@pytest.mark.parametrize("query", [{"s": "rosenbrock", "kappa": "50000"}, {"s": "booth", "kappa": "abc"},
                                   {"s": "himmelblau", "angle": "400"}, {"kappa": "0"}])
def test_kappa_and_angle_on_a_surface_without_them_give_no_note(query):
    cfg, notes = decode(query)
    assert notes == [] and cfg.params == ()


# --- one range for the link, the widgets and the library ---------------------------------------------------------

def test_check_accepts_what_a_link_gives_and_refuses_what_is_out_of_range():
    for cfg in ROUND_TRIP:
        assert check(cfg) == []
    assert check(LabConfig(surface="quadratic", params=(("kappa", KAPPA.max),))) == []
    assert "kappa=20000 is outside [1, 10000]" in check(LabConfig(surface="quadratic", params=(("kappa", 2e4),)))[0]
    assert "n (steps)=5000" in check(LabConfig(steps=5000))[0]
    assert "lr=50" in check(LabConfig(runs=(SurfaceRun.of("adam", lr=50.0),)))[0]
    assert "cannot be written as a link" in check(LabConfig(runs=(SurfaceRun("no_such_optimizer"),)))[0]


# --- an exported file names its experiment -----------------------------------------------------------------------

BAD_EXPORTS = ["", "not a file", "{}", '{"experiment": {}}', '{"experiment": {"link": 5}}', "[1, 2]", "{",
               "run,label,step\n0,a,0\n", "# link\nrun\n"]


@pytest.mark.parametrize("text", BAD_EXPORTS, ids=range(len(BAD_EXPORTS)))
def test_a_file_without_an_experiment_gives_the_default_one_with_a_note(text):
    cfg, notes = read_export(text)
    assert cfg == LabConfig() and "holds no Surface Lab experiment" in notes[0]


def test_an_exported_link_is_checked_like_any_link():
    cfg, notes = read_export("# link: s=quadratic&kappa=1e9&n=20\nrun,label,step\n")
    assert cfg.surface == "quadratic" and cfg.param("kappa") == KAPPA.max and cfg.steps == 20
    assert any("kappa=1e+09" in n for n in notes)


def test_an_unreadable_mapping_gives_the_default_view():
    class Broken(dict):
        def items(self):
            raise RuntimeError("no")

    assert decode_view(Broken(), THREE) == (LabView(), [])
