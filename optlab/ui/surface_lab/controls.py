"""The Surface Lab's sidebar: the surface, start, budget and noise, and each run's optimizer, schedule, EMA and
param groups. Each setting is drawn from its field (``optlab.config.surface_lab`` through ``optlab.ui.fields``);
a run's optimizer knobs come from the registry (``optlab.ui.widgets``)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from optlab.config.surface_lab import (
    CONFIG_FIELDS,
    CUSTOM,
    EMA_DECAY,
    EMA_TAU,
    LR_Y,
    NRUNS,
    SURFACE_PARAMS,
    WINDOW_LIMIT,
    LabConfig,
    SurfaceRun,
    group_lrs,
    lr_y_capped,
)
from optlab.expr import FormulaError, PlotWindowError
from optlab.fields import NO_CONSTRAINTS, Constraints
from optlab.i18n import N_, t
from optlab.presets import preset_lr, run_optimizer
from optlab.registry import REGISTRY
from optlab.surfaces import SURFACES
from optlab.ui import fields as ui_fields
from optlab.ui.cache import build_surface
from optlab.ui.surface_lab.state import START_KEYS, constraints, default_start
from optlab.ui.text import literal
from optlab.ui.widgets import (
    bounded_number,
    hold_values,
    log_float_control,
    optimizer_controls,
    schedule_controls,
    set_optimizer_values,
)

SS = st.session_state
F = CONFIG_FIELDS


QUADRATIC = N_("Quadratic")  # the quadratic's name carries its κ, so only its short name is a message


def _surface_name(key: str) -> str:
    """A surface's name without its parenthesis (translated names end in a full-width one)."""
    if key == CUSTOM:
        return t("Custom formula…")
    name = SURFACES[key].name
    return t(name.split(" (")[0]) if t(name) == name else t(name).split("（")[0]


def _window() -> tuple[tuple[float, float], tuple[float, float]]:
    return (SS.sl_xmin, SS.sl_xmax), (SS.sl_ymin, SS.sl_ymax)


def _param_values(surface_key: str) -> tuple[tuple[str, float], ...]:
    """The surface's own parameters as their widgets hold them (their defaults before they were drawn)."""
    return tuple((f.key, float(ui_fields.session_value(F, f.key))) for f, _ in SURFACE_PARAMS.get(surface_key, ()))


def _surface_changed() -> None:
    """A new surface brings its own default start, and each run the learning rate that works there."""
    cfg = LabConfig(surface=SS.sl_surface, formula=SS.get("sl_formula", ""), window=_window(),
                    params=_param_values(SS.sl_surface))
    SS.sl_x0, SS.sl_y0 = default_start(cfg)
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
            return t("The plot window is empty: {axis} min = {lo} is not below {axis} max = {hi}. Type an {axis} min "
                     "that is smaller than {axis} max, for example {axis} min = -3 and {axis} max = 3.", axis=axis,
                     lo=f"{lo:g}", hi=f"{hi:g}")
    return None


def surface_controls() -> tuple[LabConfig, str | None]:
    """Surface picker with its options. Returns the surface part of the configuration and a problem or None.

    The problem is a whole sentence that says what cannot be used (the window, or the formula) and what to do.
    """
    locks = constraints()
    key = ui_fields.widget(F, "s", locks, format_func=_surface_name, on_change=_surface_changed)
    formula, window = SS.get("sl_formula", ""), _window()
    params: dict[str, float] = {}
    error = None
    if key == CUSTOM:
        formula = ui_fields.widget(F, "f", locks, placeholder="x**2 + 10*y**2")
        c1, c2 = st.columns(2)
        for where, label, state in ((c1, t("x min"), "sl_xmin"), (c2, t("x max"), "sl_xmax"),
                                    (c1, t("y min"), "sl_ymin"), (c2, t("y max"), "sl_ymax")):
            bounded_number(label, state, -WINDOW_LIMIT, WINDOW_LIMIT, container=where, format="%g")
        window = _window()
        error = window_problem(window)
        if error is None:
            try:
                build_surface(LabConfig(surface=CUSTOM, formula=formula, window=window))
            except PlotWindowError as e:
                error = str(e)
            except FormulaError as e:
                error = t("The formula cannot be used: {error}", error=e)
        if error:
            st.error(literal(error), icon="⚠️")
    else:
        params = {f.key: float(ui_fields.widget(F, f.key, locks)) for f, _ in SURFACE_PARAMS.get(key, ())}
        if not params:
            st.caption(t(SURFACES[key].description))
    cfg = LabConfig(surface=key, formula=formula if key == CUSTOM else "",
                    window=window if key == CUSTOM else LabConfig().window, params=tuple(params.items()))
    return cfg, error


def group_controls(prefix: str, lr: float, disabled: bool = False, hidden: bool = False) -> float | None:
    """The "two param groups" checkbox and the y group's lr factor; returns the factor, or None when off."""
    if hidden:
        return float(SS.get(f"{prefix}_lr_y", LR_Y.default)) if SS.get(f"{prefix}_groups") else None
    if not st.checkbox(t("x and y as two param groups"), key=f"{prefix}_groups", disabled=disabled,
                       help=t("x and y become two parameters in two param groups, as the layers of a network "
                              "can be: then each group can have its own learning rate")):
        return None
    factor = log_float_control(LR_Y, f"{prefix}_lr_y", disabled=disabled)
    st.caption(t("group 0 (x): lr = {lr} · group 1 (y): lr = {factor} × {lr} = {lr_y}", lr=f"{lr:.3g}",
                 factor=f"{factor:.3g}", lr_y=f"{lr * factor:.3g}"))
    return factor


def run_controls(i: int, surface_key: str, locks: Constraints = NO_CONSTRAINTS, drawn: bool = True) -> SurfaceRun:
    """One run's optimizer, schedule, EMA shadow and param groups (keys ``sl_r<i>_...``).

    ``drawn=False`` (its expander is closed): the same run from the values its widgets hold, drawing none of
    them (the caller keeps those values with ``hold_values``). Every widget costs a page run a walk over all
    session keys (Streamlit's session-state checks), so the closed runs' widgets were most of a page run's cost.

    A new run starts with the next optimizer of ``presets.RUN_ORDER`` (so it differs from the runs before it)
    at the learning rate tuned for the surface; picking another optimizer gives it that one's tuned rate.
    A part a lesson fixes (``locks``: link keys ``r<i>`` the optimizer and its settings, ``r<i>s`` the schedule,
    ``r<i>e`` the EMA shadow, ``r<i>g`` the param groups) is drawn greyed with the lesson's values.
    """
    locked = {part: locks.is_locked(f"r{i}{part}") for part in ("", "s", "e", "g")}
    prefix = f"sl_r{i}"
    if f"{prefix}_opt" not in SS:
        first = run_optimizer(i)
        set_optimizer_values(prefix, first, surface_presets(surface_key)(first))
    opt, flat = optimizer_controls(prefix, default=run_optimizer(i), on_pick=surface_presets(surface_key),
                                   how=lambda key: "hidden" if not drawn else "locked" if locked[""] else "")
    sched, sched_params = schedule_controls(prefix, disabled=locked["s"], hidden=not drawn)
    ema = None
    if not drawn:
        ema = float(SS.get(f"{prefix}_ema", EMA_DECAY.default)) if SS.get(f"{prefix}_ema_on") else None
    elif st.checkbox(t("EMA shadow of the weights"), key=f"{prefix}_ema_on", disabled=locked["e"],
                     help=t("A dotted path: the exponential moving average of the points, W ← d·W + (1 − d)·θ")):
        c1, c2 = st.columns(2)
        ema = bounded_number(t(EMA_DECAY.label), f"{prefix}_ema", EMA_DECAY.min, EMA_DECAY.max, container=c1,
                             format="%g", step=EMA_DECAY.step, disabled=locked["e"])
        bounded_number(t(EMA_TAU.label), f"{prefix}_tau", EMA_TAU.min, EMA_TAU.max, container=c2, format="%g",
                       step=EMA_TAU.step, disabled=locked["e"])
    factor = group_controls(prefix, float(flat["lr"]), disabled=locked["g"], hidden=not drawn)
    run = SurfaceRun(opt, tuple(sorted(flat.items())), sched, tuple(sorted(sched_params.items())),
                     ema_decay=None if ema is None else float(ema),
                     ema_tau=float(SS.get(f"{prefix}_tau", 0.0)) if ema is not None else 0.0, lr_y_factor=factor)
    if drawn and lr_y_capped(run):
        h = REGISTRY[opt].hyper("lr")
        st.warning(t("{factor} × {lr} is outside the allowed learning rates [{lo}, {hi}]; the y group uses "
                     "lr = {used}.", factor=f"{factor:.3g}", lr=f"{flat['lr']:.3g}", lo=f"{h.min:g}",
                     hi=f"{h.max:g}", used=f"{group_lrs(run)[1]:.3g}"), icon="✂️")
    return run


def sidebar_controls() -> tuple[LabConfig, str | None]:
    """All controls, in the sidebar. Returns the configuration they describe and a formula error, if any."""
    locks = constraints()
    with st.sidebar:
        st.header(t("Surface"))
        surf, error = surface_controls()
        st.subheader(t("Start, budget, noise"))
        (x0, x1), (y0, y1) = surf.window if surf.surface == CUSTOM else SURFACES[surf.surface].bounds
        c1, c2 = st.columns(2)  # a start must lie in the plot window
        bounded_number(t("start x"), START_KEYS[0], x0, x1, container=c1, format="%g", step=0.1)
        bounded_number(t("start y"), START_KEYS[1], y0, y1, container=c2, format="%g", step=0.1)
        default = default_start(surf)
        st.button(t("reset start"), key="sl_reset_start", on_click=_reset_start, args=(default,),
                  help=t("Or click anywhere on the contour plot"))
        steps = ui_fields.widget(F, "n", locks)
        c1, c2 = st.columns(2)
        noise = ui_fields.widget(F, "noise", locks, container=c1)
        seed = ui_fields.widget(F, "seed", locks, container=c2)
        st.header(t("Runs"))
        n = int(bounded_number(t(NRUNS.label), "sl_nruns", NRUNS.min, NRUNS.max, integer=True, step=NRUNS.step))
        runs, closed = [], []
        for i in range(1, n + 1):  # a closed run's widgets are not drawn: opening it reruns the page with them
            box = st.expander(t("Run {i}", i=i), expanded=(i == 1), key=f"sl_open_r{i}", on_change="rerun")
            with box:
                runs.append(run_controls(i, surf.surface, locks, drawn=bool(box.open)))
            if not box.open:
                closed.append(f"sl_r{i}")
        hold_values(*closed)
    start = (float(SS.sl_x0), float(SS.sl_y0))  # inside the window: bounded_number saw to it, and said so
    cfg = LabConfig(surface=surf.surface, formula=surf.formula, window=surf.window, params=surf.params,
                    start=None if np.allclose(start, default, rtol=0, atol=1e-12) else start,
                    steps=int(steps), noise=float(noise), seed=int(seed), runs=tuple(runs))
    return cfg, error
