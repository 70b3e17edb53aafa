"""Cached computations for the pages: st.cache_data wrappers keyed on primitive arguments (strings, numbers).

``st.cache_data`` is shared by every session on the server, so when a class opens the same link the runs are
computed once. Torch tensors and surfaces are not hashable there, so each wrapper takes a canonical JSON
string (``LabConfig.to_json()``, the cache key its fields derive) and rebuilds what it needs inside. It caches NumPy arrays, never figures.
What it leaves out: drawing, and checking a configuration (``optlab.config.surface_lab.decode`` does that).
"""

from __future__ import annotations

import json
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection
from dataclasses import replace

import numpy as np
import streamlit as st

from optlab.basins import Basins, basins
from optlab.config.surface_lab import CUSTOM, LabConfig, SurfaceRun, check, group_lrs, lr_y_capped
from optlab.expr import surface_from_formula
from optlab.i18n import current_language
from optlab.plots.raster import contour_rgb, data_uri, png_bytes
from optlab.registry import REGISTRY
from optlab.surfaces import Surface, get_surface
from optlab.sweep import Sweep, run_members, run_start_sweep, start_grid, sweep_values
from optlab.trace import RunConfig, Trace, run_traces

GRID_N = 120  # contour grid points per side: sharp enough on a projector, ~60 kB as float32
BASINS_N = 31  # starts per side of the basins grid: 961 runs of 300 steps take about 0.25 s
PICTURE_N = 360  # pixels per side of the live figure's contour picture
STARTS_N = 9  # starts per side of the grid whose paths the live figure shows while the start is dragged


def surface_json(cfg: LabConfig) -> str:
    """The part of a configuration that decides the surface (its fields: key, formula and window, or the
    catalog surface's own parameters), as canonical JSON."""
    return json.dumps(cfg.surface_values(), sort_keys=True, separators=(",", ":"))


def build_surface(cfg: LabConfig) -> Surface:
    """The surface a configuration names. Raises ``optlab.expr.FormulaError`` for a bad formula."""
    if cfg.surface == CUSTOM:
        return surface_from_formula(cfg.formula, cfg.window)
    return get_surface(cfg.surface, **cfg.surface_params())


#: how a setting reads in a legend: short, and with the symbol the lessons use
LEGEND_NAMES = {"momentum": "μ", "dampening": "dampening", "weight_decay": "wd", "beta1": "β₁", "beta2": "β₂",
                "eps": "ε", "alpha": "α"}


def run_label(i: int, run: SurfaceRun) -> str:
    """Legend text: number, optimizer, learning rate, every setting that differs from the preset, and extras,
    e.g. "2 · Adam lr=0.05 β₁=0.8 + cosine": two runs that differ in anything get different labels.

    Momentum presets always say their μ. A run with two param groups says so with the y group's lr:
    "lr_y = 10×lr" (or its value, if capped).
    """
    spec = REGISTRY[run.optimizer]
    values = dict(run.hparams)
    text = f"{i} · {spec.label}"
    if values.get("lr") is not None:
        text += f" lr={values['lr']:.3g}"
    for h in spec.hypers:
        if h.name == "lr" or h.name not in values:
            continue
        v = values[h.name]
        if v == h.default and not (h.name == "momentum" and run.optimizer in ("momentum", "nesterov")):
            continue
        name = LEGEND_NAMES.get(h.name, h.name)
        text += f" {name}" if h.kind == "bool" and v else "" if h.kind == "bool" else f" {name}={v:.3g}"
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
    """Every run of the configuration, uncached (the benchmark times this).

    Raises ValueError for a setting outside the range the link and the widgets allow (``optlab.config.surface_lab.check``).
    """
    cfg = LabConfig.from_json(config_json)
    problems = check(cfg)
    if problems:
        raise ValueError("This configuration is outside the Surface Lab's ranges: " + " ".join(problems))
    surface = build_surface(cfg)
    return run_traces(surface, run_configs(cfg), start_of(cfg, surface), cfg.steps, cfg.noise, cfg.seed)


def run_json(cfg: LabConfig, i: int) -> str:
    """What decides run ``i`` (0-based) alone: the surface, start, budget, noise and that run's settings.

    Runs never interact (each has its own optimizer; they share only the start and the noise sequence), so a
    page whose one run changed recomputes that run only.
    """
    return json.dumps([i, replace(cfg, runs=(cfg.runs[i],)).to_json()], separators=(",", ":"))


def compute_runs(keys: list[str], full: Collection[str] | None = None) -> list[Trace]:
    """The runs that ``run_json`` keys describe, uncached. Runs of one page (same surface, start, budget and
    noise) are computed together: one forward and one backward pass per step serves them all.

    The runs whose keys are in ``full`` (all of them when None) also record their optimizer state and explained
    terms, which only the step inspector shows; the others record what the figures draw (points, losses,
    gradients, learning rates), with the same numbers and at a fraction of the cost (``run_traces``' ``full``).
    """
    groups: dict[str, list[tuple[int, int, LabConfig]]] = {}
    for k, key in enumerate(keys):
        i, config_json = json.loads(key)
        cfg = LabConfig.from_json(config_json)
        groups.setdefault(replace(cfg, runs=()).to_json(), []).append((k, i, cfg))
    out: list[Trace | None] = [None] * len(keys)
    for members in groups.values():
        cfg = members[0][2]
        surface = build_surface(cfg)
        configs = [replace(run_configs(c)[0], label=run_label(i + 1, c.runs[0])) for _, i, c in members]
        recorded = None if full is None else [j for j, (k, _, _) in enumerate(members) if keys[k] in full]
        traces = run_traces(surface, configs, start_of(cfg, surface), cfg.steps, cfg.noise, cfg.seed, recorded)
        for (k, _, _), tr in zip(members, traces, strict=True):
            out[k] = tr
    return out


def compute_run(key: str) -> Trace:
    """The run that ``run_json`` describes, uncached."""
    return compute_runs([key])[0]


class RunStore:
    """Traces of single runs for every session on the server, the newest ``max_entries``, each computed once.

    A page that asks for several runs nobody has computed computes them together (``compute_runs``); a page
    that asks for a run another session is computing waits for that computation instead of repeating it.
    A run is first recorded without its optimizer state and terms unless the page asks for them (``full``: the
    inspected run); asked for them later, that run alone is computed again in full, once, and replaces the
    lighter record (a full record answers both kinds of request).
    """

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._done: OrderedDict[str, Trace] = OrderedDict()
        self._running: dict[str, threading.Event] = {}

    def _usable(self, key: str, full: Collection[str]) -> bool:
        tr = self._done.get(key)
        return tr is not None and (tr.full or key not in full)

    def get(self, keys: list[str], full: Collection[str] = ()) -> list[Trace]:
        """The traces of ``keys``; those whose keys are in ``full`` with their state and explained terms."""
        full = frozenset(full)
        with self._lock:
            for k in keys:
                if k in self._done:
                    self._done.move_to_end(k)
            mine = [k for k in dict.fromkeys(keys) if not self._usable(k, full) and k not in self._running]
            theirs = [self._running[k] for k in dict.fromkeys(keys) if k in self._running]
            for k in mine:
                self._running[k] = threading.Event()
        if mine:
            try:
                traces = compute_runs(mine, full)
            finally:
                with self._lock:
                    for k in mine:
                        self._running.pop(k).set()
            with self._lock:
                for k, tr in zip(mine, traces, strict=True):
                    self._done[k] = tr
                while len(self._done) > self.max_entries:
                    self._done.popitem(last=False)
        for event in theirs:
            event.wait()
        with self._lock:
            found = {k: self._done.get(k) for k in keys}
        # another session's computation failed or was evicted, or it recorded less than this page needs
        lost = [k for k, tr in found.items() if tr is None or (k in full and not tr.full)]
        if lost:
            again = dict(zip(lost, compute_runs(lost, full), strict=True))
            found.update(again)
            with self._lock:
                self._done.update(again)
        return [found[k] for k in keys]

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


RUNS = RunStore()


def cached_traces(config_json: str, full: Collection[int] | None = None) -> list[Trace]:
    """Every run of the configuration from the server's run store: a run is computed once, runs that are
    missing together in one pass. The runs listed in ``full`` (indices; all when None) come with their
    optimizer state and explained terms; the others may come without (``Trace.full``)."""
    cfg = LabConfig.from_json(config_json)
    keys = [run_json(cfg, i) for i in range(len(cfg.runs))]
    return RUNS.get(keys, keys if full is None else [keys[i] for i in full if i in range(len(keys))])


def sweep_json(cfg: LabConfig, i: int, knob: str) -> str:
    """What decides run ``i``'s sweep along ``knob``: its run key with the knob's own value left out (the sweep's
    values are fixed, so moving along the sweep keeps the same sweep)."""
    run = cfg.runs[i]
    default = REGISTRY[run.optimizer].hyper(knob).default
    hparams = tuple((k, default if k == knob else v) for k, v in run.hparams)
    return json.dumps([i, knob, replace(cfg, runs=(replace(run, hparams=hparams),)).to_json()],
                      separators=(",", ":"))


def compute_sweep(key: str) -> Sweep:
    """The sweep ``sweep_json`` describes, uncached."""
    i, knob, config_json = json.loads(key)
    cfg = LabConfig.from_json(config_json)
    surface = build_surface(cfg)
    run = cfg.runs[0]
    values = sweep_values(run.optimizer, knob)
    # each member as the page itself would run it (two param groups keep the y group's lr in range)
    members = [run_configs(replace(cfg, runs=(replace(run, hparams=tuple(
        (k, float(v) if k == knob else x) for k, x in run.hparams)),)))[0] for v in values]
    points, diverged = run_members(surface, members, start_of(cfg, surface), cfg.steps, cfg.noise, cfg.seed)
    return Sweep(knob, values, points, diverged)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_sweep(key: str) -> Sweep:
    """``compute_sweep``, shared by every session."""
    return compute_sweep(key)


def starts_json(cfg: LabConfig, i: int) -> str:
    """What decides run ``i`` from the grid of starts: as its basins, everything but the start."""
    return basins_json(cfg, i)


def compute_starts(key: str, n: int = STARTS_N) -> Sweep:
    """The one run of ``starts_json`` from an ``n`` × ``n`` grid of starts over the window, uncached."""
    cfg = LabConfig.from_json(key)
    surface = build_surface(cfg)
    (config,) = run_configs(cfg)
    return run_start_sweep(surface, config, start_grid(surface.bounds, n), cfg.steps, cfg.noise, cfg.seed)


@st.cache_data(max_entries=256, show_spinner=False)
def cached_starts(key: str, n: int = STARTS_N) -> Sweep:
    """``compute_starts``, shared by every session."""
    return compute_starts(key, n)


def compute_picture(surface_key: str, n: int = PICTURE_N) -> str:
    """The contour picture of the surface described by ``surface_json``, as a PNG data URI."""
    surface = build_surface(_surface_config(surface_key))
    _, _, Z = surface.grid(n)
    return data_uri(png_bytes(contour_rgb(Z, surface.log_levels, surface.min_value)))


@st.cache_data(max_entries=64, show_spinner=False)
def cached_picture(surface_key: str, n: int = PICTURE_N) -> str:
    """``compute_picture``, shared by every session (about 20 kB each)."""
    return compute_picture(surface_key, n)


def _surface_config(surface_key: str) -> LabConfig:
    return LabConfig.from_values(json.loads(surface_key))


def compute_grid(surface_key: str, n: int = GRID_N) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``Surface.grid(n)`` of the surface described by ``surface_json``."""
    return build_surface(_surface_config(surface_key)).grid(n)


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


class FigureStore:
    """Built figures (a Plotly ``Figure``, or the live figure's JSON-ready payload), for every session on the
    server, the newest ``max_entries``: a figure is built once per configuration and language, not on every
    rerun of every page. A stored figure is shared: readers must not change it (``st.plotly_chart`` copies a
    ``Figure`` without validating it again, which it does for a dict).

    The key must decide the figure completely (a kind, the cache key of the configuration, the language).
    """

    def __init__(self, max_entries: int = 256) -> None:
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._done: OrderedDict[tuple, dict] = OrderedDict()
        self.built = 0  # how many figures were built (tests and benchmarks read it)
        self.kinds: Counter[str] = Counter()  # ... and of which kind ("loss", "distance", "live")

    def get(self, key: tuple, build):
        with self._lock:
            fig = self._done.get(key)
            if fig is not None:
                self._done.move_to_end(key)
                return fig
        fig = build()  # two sessions may build the same figure at once: both get equal figures
        with self._lock:
            self.built += 1
            self.kinds[key[0] if isinstance(key[0], str) else key[0][0]] += 1
            self._done[key] = fig
            while len(self._done) > self.max_entries:
                self._done.popitem(last=False)
        return fig

    def clear(self) -> None:
        with self._lock:
            self._done.clear()


FIGURES = FigureStore()


def cached_figure(kind: str, config_json: str, build):
    """The figure ``build()`` makes for this configuration, from the server's figure store."""
    return FIGURES.get((kind, config_json, current_language()), build)
