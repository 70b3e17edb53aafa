"""Cached computations for the pages: st.cache_data wrappers keyed on primitive arguments (strings, numbers).

``st.cache_data`` is shared by every session on the server, so when a class opens the same link the runs are
computed once. Torch tensors and surfaces are not hashable there, so each wrapper takes a canonical JSON
string (``LabConfig.to_json()``) and rebuilds what it needs inside. It caches NumPy arrays, never figures.
What it leaves out: drawing, and checking a configuration (``optlab.ui.urlstate.decode`` does that).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import streamlit as st

from optlab.basins import Basins, basins
from optlab.expr import surface_from_formula
from optlab.registry import REGISTRY
from optlab.surfaces import Surface, get_surface
from optlab.trace import RunConfig, Trace, run_traces
from optlab.ui.urlstate import CUSTOM, LabConfig, RunSpec

GRID_N = 120  # contour grid points per side: sharp enough on a projector, ~60 kB as float32
BASINS_N = 31  # starts per side of the basins grid: 961 runs of 300 steps take about 0.25 s


def surface_json(cfg: LabConfig) -> str:
    """The part of a configuration that decides the surface, as canonical JSON."""
    return json.dumps([cfg.surface, cfg.formula, cfg.window, cfg.kappa, cfg.angle], separators=(",", ":"))


def build_surface(cfg: LabConfig) -> Surface:
    """The surface a configuration names. Raises ``optlab.expr.FormulaError`` for a bad formula."""
    if cfg.surface == CUSTOM:
        return surface_from_formula(cfg.formula, cfg.window)
    if cfg.surface == "quadratic":
        return get_surface("quadratic", kappa=cfg.kappa, angle_deg=cfg.angle)
    return get_surface(cfg.surface)


def group_lrs(run: RunSpec) -> tuple[float, float] | None:
    """The (x, y) learning rates of a run with two param groups, or None for one group.

    The y group's lr is ``lr_y_factor`` × the run's lr, kept inside the optimizer's allowed lr range (the
    product of two in-range numbers can leave it); :func:`lr_y_capped` says when that happened.
    """
    if run.lr_y_factor is None:
        return None
    lr = float(dict(run.hparams)["lr"])
    h = REGISTRY[run.optimizer].hyper("lr")
    return lr, min(max(lr * run.lr_y_factor, h.min), h.max)


def lr_y_capped(run: RunSpec) -> bool:
    """True when the y group's lr had to be moved into the allowed range (so it is not factor × lr)."""
    lrs = group_lrs(run)
    return lrs is not None and not math.isclose(lrs[1], lrs[0] * run.lr_y_factor, rel_tol=1e-12)


def run_label(i: int, run: RunSpec) -> str:
    """Legend text: number, optimizer, learning rate and extras, e.g. "2 · Adam lr=0.05 + cosine".

    A run with two param groups says so with the y group's lr: "lr_y = 10×lr" (or its value, if capped).
    """
    spec = REGISTRY[run.optimizer]
    text = f"{i} · {spec.label}"
    lr = dict(run.hparams).get("lr")
    if lr is not None:
        text += f" lr={lr:.3g}"
    if run.optimizer in ("momentum", "nesterov"):
        text += f" μ={dict(run.hparams).get('momentum', 0):.3g}"
    if run.schedule != "constant":
        text += f" + {run.schedule}"
    if run.ema_decay is not None:
        text += " + EMA"
    if run.lr_y_factor is not None:
        text += f" · lr_y={group_lrs(run)[1]:.3g}" if lr_y_capped(run) else f" · lr_y={run.lr_y_factor:.3g}×lr"
    return text


def run_configs(cfg: LabConfig) -> list[RunConfig]:
    """The runner's configuration for each run of the page."""
    configs = []
    for i, run in enumerate(cfg.runs, start=1):
        lrs = group_lrs(run)
        configs.append(RunConfig(
            optimizer=run.optimizer,
            hparams=run.hparams,
            schedule=run.schedule,
            schedule_params=run.schedule_params,
            ema_decay=run.ema_decay,
            ema_tau=run.ema_tau,
            label=run_label(i, run),
            # two param groups: x keeps the run's lr, y gets its own
            axis_hparams=None if lrs is None else ((("lr", lrs[0]),), (("lr", lrs[1]),)),
        ))
    return configs


def start_of(cfg: LabConfig, surface: Surface) -> tuple[float, float]:
    return cfg.start if cfg.start is not None else (float(surface.start[0]), float(surface.start[1]))


def compute_traces(config_json: str) -> list[Trace]:
    """Every run of the configuration, uncached (the benchmark times this)."""
    cfg = LabConfig.from_json(config_json)
    surface = build_surface(cfg)
    return run_traces(surface, run_configs(cfg), start_of(cfg, surface), cfg.steps, cfg.noise, cfg.seed)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_traces(config_json: str) -> list[Trace]:
    """``compute_traces``, shared by every session."""
    return compute_traces(config_json)


def compute_grid(surface_key: str, n: int = GRID_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Surface.grid(n)`` of the surface described by ``surface_json``."""
    surface, formula, window, kappa, angle = json.loads(surface_key)
    cfg = LabConfig(surface=surface, formula=formula, window=tuple(tuple(w) for w in window), kappa=kappa,
                    angle=angle)
    return build_surface(cfg).grid(n)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_grid(surface_key: str, n: int = GRID_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``compute_grid``, shared by every session."""
    return compute_grid(surface_key, n)


def basins_json(cfg: LabConfig, i: int) -> str:
    """What decides run ``i``'s basins: surface, steps, noise and that run alone (not the start, not other runs)."""
    return replace(cfg, start=None, runs=(cfg.runs[i],)).to_json()


def compute_basins(key: str, n: int = BASINS_N) -> Basins:
    """The one run of ``basins_json`` from an ``n`` x ``n`` grid of starts, uncached."""
    cfg = LabConfig.from_json(key)
    return basins(build_surface(cfg), run_configs(cfg)[0], n, cfg.steps, cfg.noise, cfg.seed)


@st.cache_data(max_entries=64, show_spinner=False)
def cached_basins(key: str, n: int = BASINS_N) -> Basins:
    """``compute_basins``, shared by every session (a few kB of arrays per entry)."""
    return compute_basins(key, n)
