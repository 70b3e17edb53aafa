"""The Surface Lab's panels: controls, figures, step inspector, theory check and export (Streamlit; no math).

The page wires these together. Numbers come from ``optlab.trace`` and ``optlab.theory``, figures from
``optlab.plots``; the configuration lives in the URL through ``optlab.ui.urlstate``, and so does the view (open
tab, inspected step, basins run and grid), remembered apart from the widgets because a hidden tab's widgets are
not drawn. Every widget key starts with ``sl_`` (see the page module for the list).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import streamlit as st
import torch

from optlab import theory
from optlab.expr import FormulaError, PlotWindowError
from optlab.optim.explain import term_lines
from optlab.plots.animation import replay_figure
from optlab.plots.basins import basins_figure, count_rows
from optlab.plots.curves import distance_figure, loss_figure
from optlab.plots.live import arrows_entry, live_payload, starts_entry, sweep_entry
from optlab.plots.surface import color, image_config, surface3d_figure
from optlab.presets import preset_lr, run_optimizer
from optlab.registry import REGISTRY
from optlab.surfaces import SURFACES, Surface
from optlab.sweep import SWEEP_KNOBS
from optlab.trace import Trace, traces_to_csv, traces_to_json
from optlab.ui import ahead
from optlab.ui.cache import (
    GRID_N,
    basins_json,
    build_surface,
    cached_basins,
    cached_grid,
    cached_picture,
    cached_traces,
    compute_starts,
    compute_sweep,
    group_lrs,
    lr_y_capped,
    run_label,
    starts_json,
    surface_json,
    sweep_json,
)
from optlab.ui.link_probe import probe
from optlab.ui.live_figure import live_figure, reported
from optlab.ui.text import literal
from optlab.ui.urlstate import (
    ANGLE_RANGE,
    BASINS_SIDES,
    CUSTOM,
    EMA_DECAY_RANGE,
    EMA_TAU_RANGE,
    KAPPA,
    LR_Y,
    MAX_RUNS,
    MAX_STEPS,
    NOISE_RANGE,
    SEED_RANGE,
    VIEWS,
    WINDOW_LIMIT,
    LabConfig,
    LabView,
    RunSpec,
    decode,
    decode_view,
    encode,
    encode_view,
    export_header,
)
from optlab.ui.widgets import (
    bounded_number,
    log_float_control,
    optimizer_controls,
    schedule_controls,
    set_log_float,
    set_optimizer_values,
    set_schedule_values,
)

SS = st.session_state
SURFACE_CHOICES = [*SURFACES, CUSTOM]
REPLAY_MS = {"slow": 400, "normal": 150, "fast": 80}  # milliseconds per replay frame
TAB_LABELS = {"contour": "Contour", "replay": "Replay", "3d": "3D", "basins": "Basins"}  # VIEWS -> tab label
LINK_READ = "_sl_link_read"  # session flag: the URL was read into the widgets once
NOTES = "_sl_notes"
VIEW = "_sl_view_state"  # the LabView last shown; outlives the widgets of a tab that is not open
BASINS_DRAWN = "_sl_basins_drawn"  # the basins widgets were drawn last run (else their state is stale or gone)
STEP_DRAWN = "_sl_step_drawn"  # the same for the inspector's step slider
NOTES_FOR = "_sl_notes_for"  # the configuration the link's notes are about; once it changes, they are gone
LINK_PROBE = "sl_link_probe"
RESEND = "_sl_resend"  # (runs left, widget keys): the link's values are sent to the browser again, see below
RESEND_RUNS = 3


def compact_top() -> None:
    """Less empty space above the page's first row, so that the whole figure fits a 1280x720 projector; a long
    equation in the narrow inspector column scrolls sideways instead of running out of it."""
    st.html("<style>[data-testid='stMainBlockContainer']{padding-top:2.2rem}"
            ".katex-display{overflow-x:auto;overflow-y:hidden;padding-bottom:2px}</style>")


def _surface_name(key: str) -> str:
    return "Custom formula…" if key == CUSTOM else SURFACES[key].name.split(" (")[0]


# --------------------------------------------------------------------------------------------------------------
# Configuration <-> widgets <-> URL
# --------------------------------------------------------------------------------------------------------------


def _default_start(cfg: LabConfig) -> tuple[float, float]:
    try:
        s = build_surface(cfg).start
    except FormulaError:
        (x0, x1), (y0, y1) = cfg.window
        s = ((x0 + x1) / 2, (y0 + y1) / 2)
    return float(s[0]), float(s[1])


def load_config(cfg: LabConfig) -> None:
    """Put ``cfg`` into the widgets' session state (before they are drawn, or from a callback)."""
    SS.sl_surface = cfg.surface
    SS.sl_formula = cfg.formula
    (SS.sl_xmin, SS.sl_xmax), (SS.sl_ymin, SS.sl_ymax) = cfg.window
    set_log_float(KAPPA, "sl_kappa", cfg.kappa)
    SS.sl_angle = float(cfg.angle)
    SS.sl_x0, SS.sl_y0 = cfg.start if cfg.start is not None else _default_start(cfg)
    SS.sl_steps, SS.sl_noise, SS.sl_seed = int(cfg.steps), float(cfg.noise), int(cfg.seed)
    SS.sl_nruns = len(cfg.runs)
    for i, run in enumerate(cfg.runs, start=1):
        set_optimizer_values(f"sl_r{i}", run.optimizer, dict(run.hparams))
        set_schedule_values(f"sl_r{i}", run.schedule, dict(run.schedule_params))
        SS[f"sl_r{i}_ema_on"] = run.ema_decay is not None
        SS[f"sl_r{i}_ema"] = run.ema_decay if run.ema_decay is not None else 0.9
        SS[f"sl_r{i}_tau"] = float(run.ema_tau)
        SS[f"sl_r{i}_groups"] = run.lr_y_factor is not None
        set_log_float(LR_Y, f"sl_r{i}_lr_y", 1.0 if run.lr_y_factor is None else run.lr_y_factor)


def load_view(view: LabView) -> None:
    """Put ``view`` into the tab, inspector and basins widgets' session state, and remember it."""
    SS[VIEW] = view
    SS.sl_view = TAB_LABELS[view.tab]
    SS.sl_insp_run, SS.sl_insp_t = view.insp_run, view.insp_t
    SS.sl_basins_run, SS.sl_basins_n = view.basins_run, view.basins_n


def current_view() -> LabView:
    return SS.get(VIEW) or LabView()


def remember_view(**changes: Any) -> None:
    """Record what the page now shows (``LabView`` fields) and put it into the URL's view keys at once."""
    view = replace(current_view(), **changes)
    if view == current_view():
        return
    SS[VIEW] = view
    want = encode_view(view)
    for key in ("v", "t", "i", "b"):  # the view's keys only (i: old links' step, dropped once read)
        if key in want and st.query_params.get(key) != want[key]:
            st.query_params[key] = want[key]
        elif key not in want and key in st.query_params:
            del st.query_params[key]


def read_link_once() -> list[str]:
    """On a session's first run, load the configuration and view the URL describes; return notes on fixes."""
    if not SS.get(LINK_READ):
        SS[LINK_READ] = True
        params = {k: st.query_params.get_all(k) for k in st.query_params}
        cfg, notes = decode(params)
        view, view_notes = decode_view(params, cfg)
        notes = notes + view_notes
        if notes:
            notes = ["Parts of the link could not be used; they were reset to defaults:", *notes]
        load_config(cfg)
        load_view(view)
        SS[NOTES] = notes
        SS[NOTES_FOR] = None  # the first configuration the sidebar builds from it
        SS[RESEND] = (RESEND_RUNS, [k for k in SS if str(k).startswith("sl_")])  # no widget is drawn yet
    else:
        _resend_link_values()
    return SS.get(NOTES, [])


def _resend_link_values() -> None:
    """Send the link's widget values to the browser again on the session's next few runs.

    A value set through session state reaches the browser once, with the run that set it. When another run
    follows at once (a component reporting in, background results), a widget whose code the browser was still
    loading (the selectbox is fetched on first use) mounts with that newer run's message, which no longer carries
    the value, and shows its default: the sidebar read "Rosenbrock" while the page ran the link's Booth.
    Writing each value back unchanged, before its widget is drawn, makes the run send it again. A value the
    student has changed meanwhile is written back as changed, so nothing they did is undone.
    """
    runs, keys = SS.get(RESEND) or (0, [])
    if runs <= 0:
        return
    SS[RESEND] = (runs - 1, keys)
    for key in keys:
        if key in SS:
            SS[key] = SS[key]


def _link_dropped(note: str) -> None:
    SS[NOTES] = [note]
    SS[NOTES_FOR] = None


def link_notes(cfg: LabConfig) -> list[str]:
    """The notes on what the link could not give, for as long as the settings are those it opened.

    Once a setting changes the notes are about an experiment no longer shown, so they go for good. Also mounts
    the probe that notices a link Streamlit dropped whole (``optlab.ui.link_probe``).
    """
    probe(LINK_PROBE, _link_dropped)
    notes = SS.get(NOTES, [])
    if notes and SS.get(NOTES_FOR) is None:
        SS[NOTES_FOR] = cfg
    elif notes and SS[NOTES_FOR] != cfg:
        SS[NOTES], notes = [], []
    return notes


def write_link(cfg: LabConfig) -> None:
    """Keep the URL equal to the configuration and view, so copying the address bar shares what is shown."""
    want = encode(cfg, current_view())
    have = {k: st.query_params.get(k) for k in st.query_params}
    if have != want:
        st.query_params.from_dict(want)


# --------------------------------------------------------------------------------------------------------------
# Controls
# --------------------------------------------------------------------------------------------------------------


def _surface_changed() -> None:
    """A new surface brings its own default start, and each run the learning rate that works there."""
    cfg = LabConfig(surface=SS.sl_surface, formula=SS.get("sl_formula", ""),
                    window=((SS.sl_xmin, SS.sl_xmax), (SS.sl_ymin, SS.sl_ymax)),
                    kappa=SS.get("sl_kappa", 10.0), angle=SS.get("sl_angle", 0.0))
    SS.sl_x0, SS.sl_y0 = _default_start(cfg)
    if cfg.surface in SURFACES:  # a typed formula has no presets: its runs keep their settings
        for i in range(1, int(SS.get("sl_nruns", 1)) + 1):
            opt = SS.get(f"sl_r{i}_opt")
            if opt in REGISTRY:
                set_optimizer_values(f"sl_r{i}", opt, surface_presets(cfg.surface)(opt))


def surface_presets(surface_key: str):
    """What an optimizer starts with when picked on this surface: the learning rate tuned for it there."""
    def values(opt: str) -> dict[str, float]:
        if "lr" not in REGISTRY[opt].names() or surface_key not in SURFACES:
            return {}
        return {"lr": preset_lr(surface_key, opt)}
    return values


def _reset_start(start: tuple[float, float]) -> None:
    SS.sl_x0, SS.sl_y0 = start


def window_problem(window: tuple[tuple[float, float], tuple[float, float]]) -> str | None:
    """What is wrong with a typed formula's plot window (an empty or inverted axis), or None."""
    for axis, (lo, hi) in zip("xy", window, strict=True):
        if not lo < hi:
            return (f"The plot window is empty: {axis} min = {lo:g} is not below {axis} max = {hi:g}. Type an "
                    f"{axis} min that is smaller than {axis} max, for example {axis} min = -3 and {axis} max = 3.")
    return None


def surface_controls() -> tuple[str, str, tuple, float, float, str | None]:
    """Surface picker with its options. Returns (key, formula, window, kappa, angle, problem or None).

    The problem is a whole sentence that says what cannot be used (the window, or the formula) and what to do.
    """
    key = st.selectbox("surface", SURFACE_CHOICES, format_func=_surface_name, key="sl_surface",
                       on_change=_surface_changed)
    formula, window = SS.get("sl_formula", ""), ((SS.sl_xmin, SS.sl_xmax), (SS.sl_ymin, SS.sl_ymax))
    error = None
    if key == CUSTOM:
        formula = st.text_input("f(x, y) =", key="sl_formula", placeholder="x**2 + 10*y**2",
                                help="+ − * / ** ^, sin cos tan exp log sqrt abs tanh min max, pi, e")
        c1, c2 = st.columns(2)
        for where, label, field in ((c1, "x min", "sl_xmin"), (c2, "x max", "sl_xmax"), (c1, "y min", "sl_ymin"),
                                    (c2, "y max", "sl_ymax")):
            bounded_number(label, field, -WINDOW_LIMIT, WINDOW_LIMIT, container=where, format="%g")
        window = ((SS.sl_xmin, SS.sl_xmax), (SS.sl_ymin, SS.sl_ymax))
        error = window_problem(window)
        if error is None:
            try:
                build_surface(LabConfig(surface=CUSTOM, formula=formula, window=window))
            except PlotWindowError as e:
                error = str(e)
            except FormulaError as e:
                error = f"The formula cannot be used: {e}"
        if error:
            st.error(literal(error), icon="⚠️")
    elif key == "quadratic":
        log_float_control(KAPPA, "sl_kappa")
        st.slider("rotation (degrees)", *ANGLE_RANGE, key="sl_angle", step=1.0)
    else:
        st.caption(SURFACES[key].description)
    return key, formula, window, float(SS.get("sl_kappa", 10.0)), float(SS.get("sl_angle", 0.0)), error


def group_controls(prefix: str, lr: float) -> float | None:
    """The "two param groups" checkbox and the y group's lr factor; returns the factor, or None when off."""
    if not st.checkbox("x and y as two param groups", key=f"{prefix}_groups",
                       help="x and y become two parameters in two param groups, as the layers of a network "
                            "can be: then each group can have its own learning rate"):
        return None
    factor = log_float_control(LR_Y, f"{prefix}_lr_y")
    st.caption(f"group 0 (x): lr = {lr:.3g} · group 1 (y): lr = {factor:.3g} × {lr:.3g} = {lr * factor:.3g}")
    return factor


def run_controls(i: int, surface_key: str) -> RunSpec:
    """One run's optimizer, schedule, EMA shadow and param groups (keys ``sl_r<i>_...``).

    A new run starts with the next optimizer of ``presets.RUN_ORDER`` (so it differs from the runs before it)
    at the learning rate tuned for the surface; picking another optimizer gives it that one's tuned rate.
    """
    prefix = f"sl_r{i}"
    if f"{prefix}_opt" not in SS:
        first = run_optimizer(i)
        set_optimizer_values(prefix, first, surface_presets(surface_key)(first))
    opt, flat = optimizer_controls(prefix, default=run_optimizer(i), on_pick=surface_presets(surface_key))
    sched, sched_params = schedule_controls(prefix)
    ema = None
    if st.checkbox("EMA shadow of the weights", key=f"{prefix}_ema_on",
                   help="A dotted path: the exponential moving average of the points, W ← d·W + (1 − d)·θ"):
        c1, c2 = st.columns(2)
        ema = bounded_number("decay d", f"{prefix}_ema", *EMA_DECAY_RANGE, container=c1, format="%g", step=0.01)
        bounded_number("warm-up τ", f"{prefix}_tau", *EMA_TAU_RANGE, container=c2, format="%g", step=1.0)
    factor = group_controls(prefix, float(flat["lr"]))
    run = RunSpec(opt, tuple(sorted(flat.items())), sched, tuple(sorted(sched_params.items())),
                  None if ema is None else float(ema), float(SS.get(f"{prefix}_tau", 0.0)) if ema is not None else 0.0,
                  factor)
    if lr_y_capped(run):
        h = REGISTRY[opt].hyper("lr")
        st.warning(f"{factor:.3g} × {flat['lr']:.3g} is outside the allowed learning rates [{h.min:g}, {h.max:g}]; "
                   f"the y group uses lr = {group_lrs(run)[1]:.3g}.", icon="✂️")
    return run


def sidebar_controls() -> tuple[LabConfig, str | None]:
    """All controls, in the sidebar. Returns the configuration they describe and a formula error, if any."""
    with st.sidebar:
        st.header("Surface")
        key, formula, window, kappa, angle, error = surface_controls()
        st.subheader("Start, budget, noise")
        (x0, x1), (y0, y1) = window if key == CUSTOM else SURFACES[key].bounds
        c1, c2 = st.columns(2)  # a start must lie in the plot window
        bounded_number("start x", "sl_x0", x0, x1, container=c1, format="%g", step=0.1)
        bounded_number("start y", "sl_y0", y0, y1, container=c2, format="%g", step=0.1)
        cfg0 = LabConfig(surface=key, formula=formula, window=window, kappa=kappa, angle=angle)
        default = _default_start(cfg0)
        st.button("reset start", key="sl_reset_start", on_click=_reset_start, args=(default,),
                  help="Or click anywhere on the contour plot")
        st.slider("steps", 1, MAX_STEPS, key="sl_steps")
        c1, c2 = st.columns(2)
        bounded_number("gradient noise σ", "sl_noise", *NOISE_RANGE, container=c1, format="%g", step=0.1,
                       help="Every run gets the same noise sequence: g ← ∇f + σ·N(0, I)")
        bounded_number("seed", "sl_seed", *SEED_RANGE, container=c2, integer=True, step=1)
        st.header("Runs")
        n = int(bounded_number("number of runs", "sl_nruns", 1, MAX_RUNS, integer=True, step=1))
        runs = []
        for i in range(1, n + 1):
            with st.expander(f"Run {i}", expanded=(i == 1)):
                runs.append(run_controls(i, key))
    start = (float(SS.sl_x0), float(SS.sl_y0))  # inside the window: bounded_number saw to it, and said so
    cfg = LabConfig(surface=key, formula=formula if key == CUSTOM else "",
                    window=window if key == CUSTOM else LabConfig().window,
                    kappa=kappa if key == "quadratic" else LabConfig().kappa,
                    angle=angle if key == "quadratic" else LabConfig().angle,
                    start=None if np.allclose(start, default, rtol=0, atol=1e-12) else start,
                    steps=int(SS.sl_steps), noise=float(SS.sl_noise), seed=int(SS.sl_seed), runs=tuple(runs))
    return cfg, error


# --------------------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------------------


LIVE_KEY = "sl_live"
LIVE_HEIGHT = 400  # pixels of plot: with the title, formula and tabs, the whole figure fits a 1280x720 screen
KNOB_LABELS = {"lr": "learning rate", "momentum": "momentum μ", "beta1": "β₁"}


RERUN_APP = "_sl_rerun_app"  # a callback inside the figure's fragment changed the sidebar: rerun the whole page


AHEAD_POLL_S = 0.4  # while the live figure's sweeps are computed in the background, look again this often


def _live_keys(cfg: LabConfig) -> tuple[int, str, str, str]:
    """The inspected run, the knob its slider moves, and the keys of that sweep and of its start grid."""
    run = SS.get("sl_insp_run", 0)
    run = run if isinstance(run, int) and run in range(len(cfg.runs)) else 0  # the inspector's pick, if it is one
    knobs = knobs_of(cfg.runs[run])
    knob = SS.get("sl_knob") if SS.get("sl_knob") in knobs else knobs[0]
    return run, knob, sweep_json(cfg, run, knob), starts_json(cfg, run)


def _live_ready(cfg: LabConfig) -> bool:
    """Whether the live figure's sweep and start grid are computed (starting them if not)."""
    if current_view().tab != "contour":
        return True
    _, _, sweep_key, starts_key = _live_keys(cfg)
    sweep = ahead.get_or_start(sweep_key, compute_sweep)
    grid = ahead.get_or_start(starts_key, compute_starts)
    return sweep is not None and grid is not None


def figures_and_inspector(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    """The figure tabs beside the step inspector, as a fragment: a new step, tab, knob choice or basins grid
    reruns only this part, with the traces it was given, and the curves below are not rebuilt.

    While the live figure's sweeps are still computed in the background, the fragment looks again every
    ``AHEAD_POLL_S`` seconds, and stops once they are in.
    """
    polling = not _live_ready(cfg)
    st.fragment(run_every=AHEAD_POLL_S if polling else None)(_figures_and_inspector)(surface, cfg, traces, polling)


def _figures_and_inspector(surface: Surface, cfg: LabConfig, traces: Sequence[Trace], polling: bool) -> None:
    if SS.pop(RERUN_APP, False) or polling == _live_ready(cfg):  # sidebar changed, or polling must start/stop
        st.rerun(scope="app")
    left, right = st.columns([3, 2])
    with right:
        st.subheader("Step inspector", anchor=False)
        picked = inspector_controls(traces)
        if picked is not None:
            inspector_panel(*picked)
    with left:
        figure_tabs(surface, cfg, traces, inspector_arrows(*picked) if picked is not None else None)


def _knob_released() -> None:
    """The live figure's knob was let go at a sweep member: that run takes the value (and is computed exactly)."""
    SS[RERUN_APP] = True
    v = reported(LIVE_KEY, "knob")
    if not v or v.get("knob") not in SWEEP_KNOBS:
        return
    i = int(v.get("run", 0)) + 1
    opt = SS.get(f"sl_r{i}_opt")
    if opt in REGISTRY and v["knob"] in REGISTRY[opt].names():
        set_optimizer_values(f"sl_r{i}", opt, {v["knob"]: float(v["value"])})


def _start_released() -> None:
    """The start was dropped (or the plot clicked) somewhere: start there."""
    SS[RERUN_APP] = True
    v = reported(LIVE_KEY, "start")
    if v and all(isinstance(v.get(k), int | float) and math.isfinite(v[k]) for k in ("x", "y")):
        SS.sl_x0, SS.sl_y0 = float(v["x"]), float(v["y"])


def _knob_chosen() -> None:
    v = reported(LIVE_KEY, "choose")
    if v and v.get("knob") in SWEEP_KNOBS:
        SS.sl_knob = v["knob"]


def knobs_of(run: RunSpec) -> list[str]:
    """The knobs of a run the live figure can sweep: lr, and momentum or β₁ where the optimizer has them."""
    names = REGISTRY[run.optimizer].names()
    return [k for k in SWEEP_KNOBS if k in names]


def live_contour(surface: Surface, cfg: LabConfig, traces: Sequence[Trace], arrows: dict | None) -> None:
    """The contour with every path, drawn in the browser: drag the knob or the start and the paths follow.

    The knob slider switches the inspected run's path between the members of its sweep, and
    dragging the start shows that run's path from the nearest start of a grid (the other runs wait for the
    release): both precomputed here by the real optimizers and shared by every session. Letting go reports the
    value, and the exact runs are computed.
    """
    run, knob, sweep_key, starts_key = _live_keys(cfg)
    h = REGISTRY[cfg.runs[run].optimizer].hyper(knob)
    sweep = ahead.get_or_start(sweep_key, compute_sweep)  # None while it is computed in the background
    grid = ahead.get_or_start(starts_key, compute_starts)
    current = float(dict(cfg.runs[run].hparams)[knob])
    starts = {run: grid} if grid is not None else {}  # dragging the start shows the inspected run's path
    start = cfg.start if cfg.start is not None else surface.start
    entry = None
    if sweep is not None:
        entry = sweep_entry(sweep, run, f"run {run + 1}", knob if knob == "lr" else
                            KNOB_LABELS[knob].split()[-1], current, h.log, surface.bounds)
        entry["knobs"] = [{"key": k, "label": KNOB_LABELS[k]} for k in knobs_of(cfg.runs[run])]
    payload = live_payload(
        image=cached_picture(surface_json(cfg)), bounds=surface.bounds, traces=traces, minima=surface.minima,
        start=start, starts=starts_entry(starts, surface.bounds),
        sweep=entry,
        arrows=None if arrows is None else arrows_entry(arrows["point"], arrows["vectors"], color(run)),
    )
    live_figure(payload, key=LIVE_KEY, on_knob=_knob_released, on_start=_start_released, on_choose=_knob_chosen,
                max_height=LIVE_HEIGHT, hint="" if sweep is not None else "Computing the neighbouring runs…")
    st.caption("Drag the slider, or press and drag anywhere on the plot to move the start: paths follow while "
               "you drag, and letting go computes the exact run. Stars are minima; a cross marks a divergence.")


def divergence_notices(traces: Sequence[Trace]) -> None:
    """Which run diverged at which step and why; a start where f or its gradient is not finite, said once.

    Step t is torch's number (t = 1 the first step): "diverged at step t" means step t reached a point that
    cannot be used, so the path ends at θ_{t−1}. Every run starts at the same point, so a start outside the
    function's domain stops them all before their first step: that is the start's fault, not theirs.
    """
    at_start = next((tr for tr in traces if tr.diverged_at == 0), None)
    if at_start is not None:
        x, y = (float(v) for v in at_start.points[0])
        st.error(f"The start point ({x:.4g}, {y:.4g}) is outside the function's domain: {at_start.reason}, so no "
                 "optimizer can take a step from it. Pick a start where f is defined: click the contour, type "
                 "start x and start y in the sidebar, or press 'reset start'.", icon=":material/wrong_location:")
    for tr in traces:
        if tr.diverged_at:
            st.warning(f"**{tr.label}** diverged at step {tr.diverged_at}: {tr.reason}. Its path stops after "
                       f"step {tr.diverged_at - 1}.", icon="💥")


def figure_tabs(surface: Surface, cfg: LabConfig, traces: Sequence[Trace], arrows: dict | None) -> None:
    """Contour (live: drag a knob or the start, with the inspector's arrows), replay, 3D view and basins; only
    the open tab is built."""
    xs, ys, Z = cached_grid(surface_json(cfg), GRID_N)
    f_min = surface.min_value
    start = cfg.start if cfg.start is not None else surface.start
    common = dict(bounds=surface.bounds, log_levels=surface.log_levels, f_min=f_min)
    tabs = st.tabs([TAB_LABELS[v] for v in VIEWS], key="sl_view", on_change="rerun")
    remember_view(tab=next((v for v, tab in zip(VIEWS, tabs, strict=True) if tab.open), VIEWS[0]))
    if tabs[0].open:
        with tabs[0]:
            live_contour(surface, cfg, traces, arrows)
    if tabs[1].open:
        with tabs[1]:
            speed = st.segmented_control("replay speed", list(REPLAY_MS), default="normal", key="sl_replay_speed")
            ms = REPLAY_MS.get(speed or "normal", REPLAY_MS["normal"])
            fig = replay_figure(xs, ys, Z, traces=traces, minima=surface.minima, frame_ms=ms,
                                picture=cached_picture(surface_json(cfg)), **common)
            st.plotly_chart(fig, key="sl_replay", config=image_config("replay", scrollZoom=False))
            st.caption("Press Play, or drag the step slider under the plot. Faint lines: where each run is heading.")
    if tabs[2].open:
        with tabs[2]:
            st.plotly_chart(surface3d_figure(xs, ys, Z, traces=traces, log_levels=surface.log_levels, f_min=f_min),
                            key="sl_3d", config=image_config("3d"))
    if not tabs[3].open:
        SS[BASINS_DRAWN] = False
    else:
        with tabs[3]:
            basins_panel(surface, cfg, (xs, ys, Z), start)


def basins_panel(surface: Surface, cfg: LabConfig, grid: tuple, start: Sequence[float]) -> None:
    """One run from a whole grid of starts: each start coloured by the minimum it ends at, and the counts."""
    if not SS.get(BASINS_DRAWN):  # the tab was closed, and its widgets with it: back to what it showed
        SS.sl_basins_run, SS.sl_basins_n = current_view().basins_run, current_view().basins_n
    if SS.get("sl_basins_run") not in range(len(cfg.runs)):  # the run it showed was removed
        SS.sl_basins_run = 0
    c1, c2 = st.columns([3, 2])
    i = c1.selectbox("run", range(len(cfg.runs)), format_func=lambda k: run_label(k + 1, cfg.runs[k]),
                     key="sl_basins_run")
    n = c2.select_slider("starts per side", BASINS_SIDES, key="sl_basins_n")
    SS[BASINS_DRAWN] = True
    remember_view(basins_run=int(i), basins_n=int(n))
    with st.spinner(f"Running from {n * n} starts…"):
        b = cached_basins(basins_json(cfg, int(i)), int(n))
    fig = basins_figure(*grid, bounds=surface.bounds, starts=b.starts, finals=b.finals, final_losses=b.final_losses,
                        labels=b.labels, minima=surface.minima, start=start, log_levels=surface.log_levels,
                        f_min=surface.min_value)
    st.plotly_chart(fig, key="sl_basins", config=image_config("basins"))
    if surface.minima:
        st.caption(
            f"Each square is a start point. The run was repeated from all {n * n} of them with the same "
            f"{cfg.steps} steps, settings, schedule and noise; a square takes the colour of the minimum (star) the "
            f"run ended within {b.tol:.3g} of. Grey: still on its way, or stuck, after {cfg.steps} steps. Black "
            "cross: diverged. Where two colours meet is a basin border: plain gradient descent splits the plane "
            "along the ridges, while momentum can carry a start over a ridge into a farther minimum, so its "
            "borders curl and the colours interleave."
        )
    else:
        st.caption(
            f"This surface lists no minimum, so each start is coloured by the loss where the run ended after "
            f"{cfg.steps} steps (darker is lower). Black cross: diverged."
        )
    st.dataframe(count_rows(b.labels, surface.minima), hide_index=True, key="sl_basins_table")


def curves(surface: Surface, traces: Sequence[Trace]) -> None:
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(loss_figure(traces, surface.min_value), key="sl_loss", config=image_config("loss"))
    with c2:
        if surface.minima:
            st.plotly_chart(distance_figure(traces, [surface.nearest_minimum_distance(tr.points) for tr in traces]),
                            key="sl_dist", config=image_config("distance"))
        else:
            st.info("This surface has no minimum to measure the distance to.")


# --------------------------------------------------------------------------------------------------------------
# Step inspector
# --------------------------------------------------------------------------------------------------------------


def _move_t(delta: int, last: int) -> None:
    SS.sl_insp_t = min(max(int(SS.get("sl_insp_t", 1)) + delta, 1), last)


def _vec(v: Any) -> str:
    a = np.asarray(v, dtype=np.float64).reshape(-1)
    return "(" + ", ".join(f"{x:.6g}" for x in a) + ")" if a.size > 1 else f"{a[0]:.6g}"


MOMENTUM_KEYS = (("momentum_buffer", "−momentum b"), ("exp_avg", "−first moment m"))
_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def _sub(t: int) -> str:
    """t as a Unicode subscript: θ₃₇ reads like the equations' θ_t."""
    return str(t).translate(_SUBSCRIPTS)


def inspector_controls(traces: Sequence[Trace]) -> tuple[Trace, int] | None:
    """Pick a run and a step t, numbered as torch numbers them: t = 1 is the first step (slider and back/forward).

    Returns (trace, t), or None if the run took no step."""
    labels = list(range(len(traces)))
    view = current_view()
    if SS.get("sl_insp_run") not in labels:  # a run that was removed, or a slider that was not drawn last time
        SS.sl_insp_run = view.insp_run if view.insp_run in labels else 0
    names = [tr.label for tr in traces]
    if SS.get("sl_insp_names") != names:  # a run was renamed (new lr...): send the selection again so the closed
        SS.sl_insp_run = int(SS.sl_insp_run)  # picker shows the new name, not the one it showed before
        SS.sl_insp_names = names
    r = st.selectbox("run", labels, format_func=lambda i: names[i], key="sl_insp_run")
    tr = traces[r]
    if tr.n_steps == 0:
        why = {None: "", 0: ": its start point is outside the function's domain",
               1: ": its first step already diverged"}.get(tr.diverged_at, "")
        st.info(f"{tr.label} took no step{why}.")
        SS[STEP_DRAWN] = False
        remember_view(insp_run=int(r), insp_t=1)
        return None
    last = tr.n_steps  # steps t = 1 .. n
    if not SS.get(STEP_DRAWN) or "sl_insp_t" not in SS:  # the slider was not drawn last run (or a run that
        SS.sl_insp_t = view.insp_t  # stopped early dropped its state): the step the view points at
    if not 1 <= int(SS.sl_insp_t) <= last:  # a shorter run (fewer steps, or diverged): its last step
        SS.sl_insp_t = min(max(int(SS.sl_insp_t), 1), last)
    c1, c2, c3 = st.columns([1.4, 5.2, 1.4], vertical_alignment="bottom")
    c1.button("‹", key="sl_insp_prev", on_click=_move_t, args=(-1, last), help="step back",
              width="stretch")
    if last > 1:
        t = c2.slider("step t", 1, last, key="sl_insp_t", help="Numbered as torch counts steps: t = 1 is the "
                      "first; θ₀ is the start. After step t, optimizer.state[p]['step'] is t.")
        SS[STEP_DRAWN] = True
    else:
        SS.sl_insp_t = t = 1
        SS[STEP_DRAWN] = False
        c2.caption("step t = 1 (the only step)")
    c3.button("›", key="sl_insp_next", on_click=_move_t, args=(1, last),
              help="step forward", width="stretch")
    remember_view(insp_run=int(r), insp_t=int(t))
    return tr, int(t)


def inspector_arrows(tr: Trace, t: int) -> dict:
    """The arrows of step t, drawn from θ_{t−1}, where it starts: downhill gradient, momentum and the update."""
    vectors = {"−g": -np.asarray(tr.grads[t - 1])}
    for key, name in MOMENTUM_KEYS:
        if key in tr.state and np.asarray(tr.state[key]).ndim == 2:
            vectors[name] = -np.asarray(tr.state[key][t - 1])
            break
    vectors["update Δθ"] = np.asarray(tr.updates[t - 1])
    return {"point": tr.points[t - 1], "vectors": vectors}


def _symbol(tr: Trace, name: str) -> str:
    """The LaTeX symbol of hyperparameter ``name`` in the run's optimizer (γ for lr), or its name as text."""
    spec = REGISTRY.get(tr.config.optimizer)
    h = next((h for h in spec.hypers if h.name == name), None) if spec is not None else None
    return h.symbol if h is not None and h.symbol else rf"\text{{{name}}}"


def group_hyper_lines(tr: Trace, t: int) -> list[str]:
    """LaTeX for each hyperparameter whose value differs between the x and y param groups at step t (from 1).

    The equations below show one symbol (γ) for both coordinates; where the groups use different values,
    this says which value went into which coordinate: ``γ_x = 0.01, γ_y = 0.1``.
    """
    lines = []
    for name, values in tr.hyper.items():
        row = np.asarray(values[t - 1], dtype=np.float64)
        if row.size == 2 and row[0] != row[1]:
            sym = _symbol(tr, name)
            lines.append(rf"{sym}_x = {row[0]:.6g},\quad {sym}_y = {row[1]:.6g}")
    return lines


def inspector_panel(tr: Trace, t: int) -> None:
    """Numbers of step t (torch's t, from 1): point, gradient, update, param_groups and state as PyTorch prints
    them, and the equations. Step t takes the gradient at θ_{t−1} and moves to θ_t (row t − 1 of the trace)."""
    two_groups = tr.lrs.ndim == 2 and tr.lrs.shape[1] == 2
    lr = _vec(tr.lrs[t - 1]) if tr.lrs.size else "—"
    st.markdown(
        f"**Step {t}** moves θ from θ{_sub(t - 1)} = `{_vec(tr.points[t - 1])}` to θ{_sub(t)} = "
        f"`{_vec(tr.points[t])}`  \n"
        f"f(θ{_sub(t - 1)}) = `{tr.losses[t - 1]:.6g}` · gradient g{_sub(t)} = `{_vec(tr.grads[t - 1])}`  \n"
        f"update Δθ = `{_vec(tr.updates[t - 1])}` · lr = `{lr}`" + (" (group 0: x, group 1: y)" if two_groups else "")
    )
    st.caption("Arrows on the contour show directions only (fixed length); their true lengths are in the labels.")
    with st.expander("optimizer.param_groups", expanded=two_groups):
        st.code(tr.param_groups_repr(t), language="text", wrap_lines=True)
        if two_groups:
            st.caption("Two param groups, one parameter each: group 0 holds x, group 1 holds y.")
    with st.expander("optimizer.state after the step", expanded=True):
        st.code("\n".join(f"{k}: {_vec(v)}" for k, v in tr.state_at(t).items()) or "(empty)", language="text",
                wrap_lines=True)
        if two_groups and tr.state:
            st.caption("Each pair is (state of x, state of y): torch keeps one state per parameter.")
    st.markdown("**The update, with the numbers of this step**")
    if two_groups:  # one column per coordinate, each computed with its own group's settings
        for line in group_hyper_lines(tr, t):
            st.latex(line)
    # only the equations of what ran at step t, in the order the algorithm computed them
    terms = {term: torch.as_tensor(np.asarray(values[t - 1], dtype=np.float64)) for term, values in tr.explain.items()}
    lines = term_lines(terms, tr.formulas, digits=5)
    for line in lines:
        st.latex(line)
    if not lines:
        st.caption("This optimizer records no intermediate terms.")


# --------------------------------------------------------------------------------------------------------------
# Theory on the quadratic
# --------------------------------------------------------------------------------------------------------------


def _use_gd(alpha: float) -> None:
    set_optimizer_values("sl_r1", "sgd", {"lr": alpha, "weight_decay": 0.0})
    set_schedule_values("sl_r1", "constant")
    SS.sl_r1_groups = False  # α* is one step size for both directions
    SS.sl_noise = 0.0


def _use_momentum(alpha: float, beta: float) -> None:
    SS.sl_nruns = max(int(SS.get("sl_nruns", 1)), 2)
    set_optimizer_values("sl_r2", "momentum", {"lr": alpha, "momentum": beta, "dampening": 0.0,
                                                "weight_decay": 0.0})
    set_schedule_values("sl_r2", "constant")
    SS.sl_r2_groups = False
    SS.sl_noise = 0.0


def predicted_rate(run: RunSpec, lams: tuple[float, float], axis_aligned: bool = True) -> float | None:
    """Theory's rate for plain GD or heavy-ball momentum (no dampening, no decay, constant lr); else None.

    ``lams`` are the Hessian's eigenvalues; ``axis_aligned`` says the first lies along x and the second along y
    (the unrotated quadratic). With two param groups each axis then is its own 1D problem with its own lr, and
    the slower of the two sets the rate; on a rotated bowl the groups mix, so there is no prediction here.
    """
    h = dict(run.hparams)
    if run.schedule != "constant" or h.get("weight_decay", 0.0) or run.ema_decay is not None:
        return None
    if run.optimizer == "momentum" and h.get("dampening", 0.0):
        return None
    if run.optimizer not in ("sgd", "momentum"):
        return None
    lrs = group_lrs(run)
    if lrs is not None and not axis_aligned:
        return None

    def rate(lr: float, lam: tuple[float, ...]) -> float:
        if run.optimizer == "sgd":
            return float(theory.gd_rate(lr, lam))
        return float(theory.momentum_rate(lr, h["momentum"], lam))

    if lrs is None:
        return rate(h["lr"], lams)
    return max(rate(lrs[0], (lams[0],)), rate(lrs[1], (lams[1],)))  # x: λ₁ with lr_x, y: λₙ with lr_y


def theory_panel(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    """κ, the optimal step sizes with a "use it" button each, and predicted vs measured convergence rates."""
    lam_min, lam_max = surface.hessian_eigs
    kappa = lam_max / lam_min
    a_gd, r_gd = theory.gd_optimal(lam_min, lam_max)
    a_m, b_m, r_m = theory.momentum_optimal(lam_min, lam_max)
    st.markdown(f"Hessian eigenvalues λ = {lam_min:.6g}, {lam_max:.6g}; condition number **κ = {kappa:.6g}**.")
    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Gradient descent**: α* = 2/(λ₁+λₙ)")
        st.metric("optimal step α*", f"{a_gd:.6g}")
        st.metric("rate (κ−1)/(κ+1)", f"{r_gd:.6g}")
        st.button("use it (run 1 = SGD with α*)", key="sl_theory_gd", on_click=_use_gd, args=(a_gd,))
    with c2:
        st.markdown("**Momentum**: α* = (2/(√λ₁+√λₙ))², β* = ((√κ−1)/(√κ+1))²")
        st.metric("optimal step α*", f"{a_m:.6g}")
        st.metric("optimal momentum β*", f"{b_m:.6g}")
        st.metric("rate (√κ−1)/(√κ+1)", f"{r_m:.6g}")
        st.button("use it (run 2 = momentum with α*, β*)", key="sl_theory_mom", on_click=_use_momentum,
                  args=(a_m, b_m))
    rows = []
    for run, tr in zip(cfg.runs, traces, strict=True):
        pred = predicted_rate(run, (lam_min, lam_max), axis_aligned=cfg.angle == 0)
        errors = surface.nearest_minimum_distance(tr.points)
        try:
            measured = theory.measured_rate(errors)
        except ValueError:  # too short, diverged or already at the minimum: nothing to fit
            measured = None
        rows.append({"run": tr.label, "predicted rate": "—" if pred is None else f"{pred:.6f}",
                     "measured rate": "—" if measured is None or not math.isfinite(measured) else f"{measured:.6f}"})
    st.markdown("**Predicted vs measured** (measured: the geometric mean shrink of the distance to the minimum)")
    if any(run.lr_y_factor is not None for run in cfg.runs):
        st.caption("A run with two param groups on the unrotated bowl is two 1D problems: x (λ₁) with the x "
                   "group's lr and y (λₙ) with the y group's; the slower one sets the rate. A larger lr for the "
                   "flat direction is a diagonal preconditioner: it can beat the best single lr. Rotated, the groups "
                   "mix the directions and no rate is predicted here.")
    st.dataframe(rows, hide_index=True, key="sl_theory_table")


# --------------------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------------------


def export_text(cfg: LabConfig, surface: Surface, traces: Sequence[Trace], kind: str) -> str:
    """The CSV or JSON file of every run, headed by the experiment that produced them (surface, formula and
    window, start, steps, noise and seed, every run's settings, and the page's link), so the file alone
    reproduces it: ``optlab.ui.urlstate.read_export`` reads the experiment back."""
    start = cfg.start if cfg.start is not None else surface.start
    header = {"surface_name": surface.name, **export_header(cfg, start)}
    return traces_to_csv(traces, header) if kind == "csv" else traces_to_json(traces, header)


def export_buttons(cfg: LabConfig, surface: Surface, traces: Sequence[Trace]) -> None:
    """CSV and JSON of every run with its experiment; the text is built only when a button is clicked."""
    c1, c2 = st.columns(2)
    c1.download_button("Trajectories as CSV", data=lambda: export_text(cfg, surface, traces, "csv"),
                       file_name="optlab_runs.csv", mime="text/csv", key="sl_csv", on_click="ignore")
    c2.download_button("Trajectories as JSON", data=lambda: export_text(cfg, surface, traces, "json"),
                       file_name="optlab_runs.json", mime="application/json", key="sl_json", on_click="ignore")


def compute(cfg: LabConfig) -> list[Trace]:
    """The runs of ``cfg`` from the shared cache."""
    return cached_traces(cfg.to_json())


__all__ = [
    "basins_panel", "compute", "curves", "divergence_notices", "export_buttons", "export_text", "figure_tabs",
    "figures_and_inspector", "inspector_arrows", "inspector_controls", "inspector_panel", "link_notes",
    "load_config", "load_view", "read_link_once", "remember_view", "sidebar_controls", "theory_panel",
    "window_problem", "write_link",
]
