"""The Surface Lab's figures: the live contour (scrub a knob, drag the start), replay, 3D view, basins, and the
loss and distance curves. Only the open tab is built; the figures and the step inspector rerun alone (a fragment).
Numbers come from ``optlab.ui.cache`` (the shared store), figures from ``optlab.plots``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import streamlit as st

from optlab.config.surface_lab import BASINS_SIDES, VIEWS, LabConfig, SurfaceRun
from optlab.i18n import N_, t, translator
from optlab.plots.animation import replay_figure
from optlab.plots.basins import basins_figure, count_rows
from optlab.plots.curves import distance_figure, loss_figure
from optlab.plots.live import arrows_entry, live_payload, starts_entry, sweep_entry
from optlab.plots.surface import color, image_config, surface3d_figure
from optlab.registry import REGISTRY
from optlab.surfaces import Surface
from optlab.sweep import SWEEP_KNOBS, Sweep
from optlab.trace import Trace
from optlab.ui import ahead
from optlab.ui.cache import (
    GRID_N,
    basins_json,
    cached_basins,
    cached_figure,
    cached_grid,
    cached_picture,
    compute_starts,
    compute_sweep,
    run_label,
    starts_json,
    surface_json,
    sweep_json,
)
from optlab.ui.live_figure import live_figure, reported
from optlab.ui.rerun_later import rerun_later
from optlab.ui.surface_lab.inspector import inspector_arrows, inspector_controls, inspector_panel
from optlab.ui.surface_lab.state import current_view, full_run, remember_view, tab_label
from optlab.ui.widgets import set_optimizer_values

SS = st.session_state
REPLAY_MS = {N_("slow"): 400, N_("normal"): 150, N_("fast"): 80}  # milliseconds per replay frame
BASINS_DRAWN = "_sl_basins_drawn"  # the basins widgets were drawn last run (else their state is stale or gone)


LIVE_KEY = "sl_live"
LIVE_HEIGHT = 400  # pixels of plot: with the title, formula and tabs, the whole figure fits a 1280x720 screen
KNOB_LABELS = {"lr": N_("learning rate"), "momentum": N_("momentum μ"), "beta1": N_("β₁")}


RERUN_APP = "_sl_rerun_app"  # a callback inside the figure's fragment changed the sidebar: rerun the whole page


AHEAD_POLL_S = 0.4  # while the live figure's sweeps are computed in the background, look again this often
# and, should Streamlit drop that fragment's timer (a tick racing a full rerun that removed the fragment ends it
# for good), rerun the whole page this often from the browser
AHEAD_FALLBACK_S = 3.0
WAITING_FOR = "_sl_ahead_waiting_for"  # the background results the live figure just drew without (their keys)
PAGE_RUN = "_sl_page_run"  # the figures' fragment runs inline, in a whole-page run (not alone)
POLLING = "_sl_ahead_polling"  # the last page run left a fragment looking for them
POLL_ARMED = "_sl_ahead_poll_armed"  # that fragment has had its inline run and now looks on each tick


def _live_keys(cfg: LabConfig) -> tuple[int, str, str, str]:
    """The inspected run, the knob its slider moves, and the keys of that sweep and of its start grid."""
    run = SS.get("sl_insp_run", 0)
    run = run if isinstance(run, int) and run in range(len(cfg.runs)) else 0  # the inspector's pick, if it is one
    knobs = knobs_of(cfg.runs[run])
    knob = SS.get("sl_knob") if SS.get("sl_knob") in knobs else knobs[0]
    return run, knob, sweep_json(cfg, run, knob), starts_json(cfg, run)


def _missing() -> bool:
    """Whether a result the live figure last drew without is still being computed."""
    sweep_key, starts_key = SS.get(WAITING_FOR) or (None, None)
    return sweep_key is not None and (ahead.get_or_start(sweep_key, compute_sweep) is None
                                      or ahead.get_or_start(starts_key, compute_starts) is None)


def figures_and_inspector(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    """The figure tabs beside the step inspector, as a fragment: a new step, tab, knob choice or basins grid
    reruns only this part, with the traces it was given, and the curves below are not rebuilt.

    If the live figure was drawn without its sweeps (still computed in the background), a second, empty fragment
    looks every ``AHEAD_POLL_S`` seconds whether they are in, and reruns the page once when they are: a look
    costs a dictionary lookup, where redrawing the figures and the inspector each time cost a busy server a
    core's share. The figure itself says what it waits for (``WAITING_FOR``), as it draws: the page polls for
    exactly that, decided after the figure, never guessed before it.
    """
    SS[WAITING_FOR] = None
    SS[PAGE_RUN] = True
    try:
        st.fragment(_figures_and_inspector)(surface, cfg, traces)  # runs inline here, in a whole-page run
    finally:
        SS[PAGE_RUN] = False  # from now on until the next page run, a run of that fragment is a rerun alone
    polling = SS[POLLING] = SS.get(WAITING_FOR) is not None
    SS[POLL_ARMED] = False
    if polling:
        st.fragment(run_every=AHEAD_POLL_S)(_rerun_when_ready)()
        with st.sidebar:  # outside every fragment: its request is a whole-page rerun, which is never dropped
            rerun_later(AHEAD_FALLBACK_S, key="sl_ahead_fallback")


def _rerun_when_ready() -> None:
    # A fragment also runs once inline, in the page run that defines it, just after the figure looked: skip that
    # look, or sweeps finishing in between would run the whole page twice for one click.
    if not SS.get(POLL_ARMED):
        SS[POLL_ARMED] = True
    elif not _missing():
        st.rerun(scope="app")


def _figures_and_inspector(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    if SS.pop(RERUN_APP, False):  # a callback in here changed the sidebar
        st.rerun(scope="app")
    left, right = st.columns([3, 2])
    with right:
        st.subheader(t("Step inspector"), anchor=False)
        picked = inspector_controls(traces)
        if picked is not None:  # the inspected run with its state and terms (computed now if it had none)
            picked = full_run(cfg, traces, int(SS.sl_insp_run)), picked[1]
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


def knobs_of(run: SurfaceRun) -> list[str]:
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
    sweep = ahead.get_or_start(sweep_key, compute_sweep)  # None while it is computed in the background
    grid = ahead.get_or_start(starts_key, compute_starts)
    missing = sweep is None or grid is None
    SS[WAITING_FOR] = (sweep_key, starts_key) if missing else None  # the page polls for these (see above)
    if missing:
        if not SS.get(PAGE_RUN) and not SS.get(POLLING):
            # this figure reran alone (another run inspected, another knob) into sweeps nobody polls for: the
            # whole page runs again and polls (it cannot loop: that run decides from what it draws)
            st.rerun(scope="app")
    # built once per configuration, inspected run, knob and what the background has finished; the arrows of
    # the inspected step are added to a copy
    payload = cached_figure(("live", run, knob, sweep is not None, grid is not None), cfg.to_json(),
                            lambda: _live_data(surface, cfg, traces, run, knob, sweep, grid))
    if arrows is not None:
        payload = {**payload, "arrows": arrows_entry(arrows["point"], arrows["vectors"], color(run))}
    live_figure(payload, key=LIVE_KEY, on_knob=_knob_released, on_start=_start_released, on_choose=_knob_chosen,
                max_height=LIVE_HEIGHT, hint="" if sweep is not None else t("Computing the neighbouring runs…"))
    st.caption(t("Drag the slider, or press and drag anywhere on the plot to move the start: paths follow while "
                 "you drag, and letting go computes the exact run. Stars are minima; a cross marks a divergence."))


def _live_data(surface: Surface, cfg: LabConfig, traces: Sequence[Trace], run: int, knob: str,
               sweep: Sweep | None, grid: Sweep | None) -> dict:
    """The live figure's payload without arrows: every path, the inspected run's sweep and start grid."""
    h = REGISTRY[cfg.runs[run].optimizer].hyper(knob)
    current = float(dict(cfg.runs[run].hparams)[knob])
    starts = {run: grid} if grid is not None else {}  # dragging the start shows the inspected run's path
    start = cfg.start if cfg.start is not None else surface.start
    entry = None
    if sweep is not None:
        entry = sweep_entry(sweep, run, f"run {run + 1}", knob if knob == "lr" else
                            t(KNOB_LABELS[knob]).split()[-1], current, h.log, surface.bounds)
        entry["knobs"] = [{"key": k, "label": t(KNOB_LABELS[k])} for k in knobs_of(cfg.runs[run])]
    return live_payload(
        image=cached_picture(surface_json(cfg)), bounds=surface.bounds, traces=traces, minima=surface.minima,
        start=start, starts=starts_entry(starts, surface.bounds), sweep=entry,
    )


def divergence_notices(traces: Sequence[Trace]) -> None:
    """Which run diverged at which step and why; a start where f or its gradient is not finite, said once.

    Step t is torch's number (t = 1 the first step): "diverged at step t" means step t reached a point that
    cannot be used, so the path ends at θ_{t−1}. Every run starts at the same point, so a start outside the
    function's domain stops them all before their first step: that is the start's fault, not theirs.
    """
    at_start = next((tr for tr in traces if tr.diverged_at == 0), None)
    if at_start is not None:
        x, y = (float(v) for v in at_start.points[0])
        st.error(t("The start point ({x}, {y}) is outside the function's domain: {reason}, so no optimizer can take "
                   "a step from it. Pick a start where f is defined: click the contour, type start x and start y in "
                   "the sidebar, or press 'reset start'.", x=f"{x:.4g}", y=f"{y:.4g}", reason=t(at_start.reason)),
                 icon=":material/wrong_location:")
    for tr in traces:
        if tr.diverged_at:
            st.warning(t("**{run}** diverged at step {step}: {reason}. Its path stops after step {last}.",
                         run=tr.label, step=tr.diverged_at, reason=t(tr.reason), last=tr.diverged_at - 1), icon="💥")


def figure_tabs(surface: Surface, cfg: LabConfig, traces: Sequence[Trace], arrows: dict | None) -> None:
    """Contour (live: drag a knob or the start, with the inspector's arrows), replay, 3D view and basins; only
    the open tab is built."""
    xs, ys, Z = cached_grid(surface_json(cfg), GRID_N)
    f_min = surface.min_value
    start = cfg.start if cfg.start is not None else surface.start
    common = dict(bounds=surface.bounds, log_levels=surface.log_levels, f_min=f_min)
    tabs = st.tabs([tab_label(v) for v in VIEWS], key="sl_view", on_change="rerun")
    remember_view(tab=next((v for v, tab in zip(VIEWS, tabs, strict=True) if tab.open), VIEWS[0]))
    if tabs[0].open:
        with tabs[0]:
            live_contour(surface, cfg, traces, arrows)
    if tabs[1].open:
        with tabs[1]:
            speed = st.segmented_control(t("replay speed"), list(REPLAY_MS), default="normal", key="sl_replay_speed",
                                         format_func=translator())
            ms = REPLAY_MS.get(speed or "normal", REPLAY_MS["normal"])
            fig = replay_figure(xs, ys, Z, traces=traces, minima=surface.minima, frame_ms=ms,
                                picture=cached_picture(surface_json(cfg)), **common)
            st.plotly_chart(fig, key="sl_replay", config=image_config("replay", scrollZoom=False))
            st.caption(t("Press Play, or drag the step slider under the plot. Faint lines: where each run is "
                         "heading."))
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
    i = c1.selectbox(t("run"), range(len(cfg.runs)), format_func=lambda k: run_label(k + 1, cfg.runs[k]),
                     key="sl_basins_run")
    n = c2.select_slider(t("starts per side"), BASINS_SIDES, key="sl_basins_n")
    SS[BASINS_DRAWN] = True
    remember_view(basins_run=int(i), basins_n=int(n))
    with st.spinner(t("Running from {n} starts…", n=n * n)):
        b = cached_basins(basins_json(cfg, int(i)), int(n))
    fig = basins_figure(*grid, bounds=surface.bounds, starts=b.starts, finals=b.finals, final_losses=b.final_losses,
                        labels=b.labels, minima=surface.minima, start=start, log_levels=surface.log_levels,
                        f_min=surface.min_value)
    st.plotly_chart(fig, key="sl_basins", config=image_config("basins"))
    if surface.minima:
        st.caption(t(
            "Each square is a start point. The run was repeated from all {n} of them with the same {steps} steps, "
            "settings, schedule and noise; a square takes the colour of the minimum (star) the run ended within "
            "{tol} of. Grey: still on its way, or stuck, after {steps} steps. Black cross: diverged. Where two "
            "colours meet is a basin border: plain gradient descent splits the plane along the ridges, while "
            "momentum can carry a start over a ridge into a farther minimum, so its borders curl and the colours "
            "interleave.", n=n * n, steps=cfg.steps, tol=f"{b.tol:.3g}",
        ))
    else:
        st.caption(t(
            "This surface lists no minimum, so each start is coloured by the loss where the run ended after "
            "{steps} steps (darker is lower). Black cross: diverged.", steps=cfg.steps,
        ))
    st.dataframe(count_rows(b.labels, surface.minima), hide_index=True, key="sl_basins_table")


def curves(surface: Surface, cfg: LabConfig, traces: Sequence[Trace]) -> None:
    """Loss and distance to the nearest minimum per step, each built once per configuration on the server."""
    key = cfg.to_json()
    c1, c2 = st.columns(2)
    with c1:
        st.plotly_chart(cached_figure("loss", key, lambda: loss_figure(traces, surface.min_value)), key="sl_loss",
                        config=image_config("loss"))
    with c2:
        if surface.minima:
            fig = cached_figure("distance", key, lambda: distance_figure(
                traces, [surface.nearest_minimum_distance(tr.points) for tr in traces]))
            st.plotly_chart(fig, key="sl_dist", config=image_config("distance"))
        else:
            st.info(t("This surface has no minimum to measure the distance to."))
