"""Sweeps: one run's optimizer from many settings, or from many starts, computed in one batched pass.

A student who drags a knob wants to see the path move while dragging. The page therefore computes, next to the
runs it shows, the runs a student is likely to try next: the selected run at many learning rates (or momentum
or β₁ values), and from a grid of starts. The figure then switches between them in the browser.

Exact, not approximate: every member is run by the same optimizer class as a single run, with the same start,
budget, schedule and gradient noise, and equals ``run_trace`` of its own configuration (the tests check 1e-12
in float64). What this file leaves out: recording state and explained terms (a sweep keeps only the points),
and drawing.

How the batch works. Members that differ in a hyperparameter become param groups of ONE optimizer, one group
(or two, for a run whose x and y are two groups) per member, each carrying its own value: ``step()`` then
updates every member, and each group's scheduler state is its own. Members that differ only in the start are
rows of one (N, 2) parameter (``optlab.trace.run_grid``), since every optimizer here acts coordinate-wise. The
loss and gradient of all members come from one forward and one backward pass on the stacked points
(``optlab.trace.Walk``, the step every runner takes).

An optimizer that re-evaluates the loss through a closure (L-BFGS) cannot share a batch: its line search
measures one loss for all its parameters, so members would change each other's steps. Its members are then
runs of their own, side by side in ``run_traces``: slower, and still exact.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

from optlab.i18n import t
from optlab.registry import REGISTRY
from optlab.schedules import make_scheduler
from optlab.trace import RunConfig, Walk, constructor_kwargs, needs_closure, run_grid, run_traces

#: Knobs a sweep can vary, in the flat names of ``optlab.registry``.
SWEEP_KNOBS = ("lr", "momentum", "beta1")


@dataclass(frozen=True)
class Sweep:
    """One run repeated along one knob: member k used ``values[k]`` and walked ``points[k]``.

    ``knob`` is a hyperparameter name (``values`` of shape (N,)) or ``"start"`` (``values`` of shape (N, 2)).
    ``points`` is (N, steps + 1, 2); a member that diverged at step t has NaN from point t on, and
    ``diverged_at[k] = t`` (-1 when it never did).
    """

    knob: str
    values: np.ndarray
    points: np.ndarray
    diverged_at: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def nearest(self, value: float | Sequence[float]) -> int:
        """The member closest to ``value`` (on a log scale for positive knobs, in the plane for starts)."""
        if self.knob == "start":
            d = np.linalg.norm(self.values - np.asarray(value, dtype=np.float64), axis=1)
            return int(np.argmin(d))
        v = np.asarray(self.values, dtype=np.float64)
        if (v > 0).all() and float(value) > 0:
            return int(np.argmin(np.abs(np.log(v) - math.log(float(value)))))
        return int(np.argmin(np.abs(v - float(value))))


def knob_range(optimizer: str, knob: str) -> tuple[float, float, bool] | None:
    """(min, max, log) of a knob of an optimizer preset, or None when the preset has no such (float) knob."""
    spec = REGISTRY.get(optimizer)
    if spec is None or knob not in spec.names():
        return None
    h = spec.hyper(knob)
    if h.kind != "float" or h.min is None or h.max is None:
        return None
    return float(h.min), float(h.max), bool(h.log)


#: members of a sweep: a log-scaled knob (lr) gets 8 per decade over its whole range, momentum and β₁ 25
KNOB_MEMBERS = {"lr": 49, "momentum": 25, "beta1": 25}


def sweep_values(optimizer: str, knob: str, n: int | None = None) -> np.ndarray:
    """The fixed values a sweep of ``knob`` runs for the preset ``optimizer``: the same whatever the run's own
    value, so a sweep stays valid (and cached) while the student moves along it.

    A log-scaled knob (lr) is log-spaced over its whole range; momentum and β₁ span [min, 0.999] evenly in
    log(1 − β), the "memory" 1/(1 − β) where their effect lives, so 0.9, 0.99 and 0.999 are equally far apart.
    """
    bounds = knob_range(optimizer, knob)
    if bounds is None:
        raise ValueError(t("{optimizer!r} has no {knob!r} to sweep", optimizer=optimizer, knob=knob))
    lo, hi, log = bounds
    n = KNOB_MEMBERS.get(knob, 25) if n is None else n
    if log:
        return np.geomspace(max(lo, 1e-5), hi, n)
    a, b = math.log1p(-max(lo, 0.0)), math.log1p(-min(hi, 0.999))
    return -np.expm1(np.linspace(a, b, n))


def _member_groups(config: RunConfig, params: list[torch.Tensor]) -> list[dict[str, Any]]:
    """The param groups ``build_run_optimizer`` would make for this configuration, each with every argument."""
    if config.axis_hparams is None:
        return [{"params": params, **constructor_kwargs(config)[1]}]
    return [{"params": [p], **constructor_kwargs(config, overrides)[1]}
            for p, overrides in zip(params, config.axis_hparams, strict=True)]


def _with_value(config: RunConfig, knob: str, value: float) -> RunConfig:
    """The configuration with one hyperparameter changed (for two groups, lr scales both by the same factor;
    a page that keeps each group's lr inside its range builds its members itself and calls ``run_members``)."""
    hparams = {**dict(config.hparams), knob: float(value)}
    axis = config.axis_hparams
    if axis is not None and knob == "lr":
        old = float(dict(config.hparams)["lr"])
        axis = tuple(tuple((k, v * float(value) / old if k == "lr" else v) for k, v in a) for a in axis)
    return replace(config, hparams=tuple(hparams.items()), axis_hparams=axis)


def member_config(config: RunConfig, knob: str, value: float) -> RunConfig:
    """The single run a sweep member equals (for tests, and to compute it exactly on release)."""
    return _with_value(config, knob, value)


def run_members(surface: Any, configs: Sequence[RunConfig], start: Sequence[float] | np.ndarray, steps: int,
                noise_sigma: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Runs of one optimizer class that differ in hyperparameters, as one optimizer with a group (or two) each.

    ``start`` is one point (2,) for all, or one per member (N, 2). Each member is its own parameter, so this is
    exact for every optimizer, also those that couple the coordinates of a parameter (Muon, Adafactor).

    Returns the points (N, steps + 1, 2), NaN from a member's divergence on, and each member's divergence step
    (-1 if none). Divergence follows ``run_traces``: a member whose loss or gradient is not finite, or whose
    point left the plot far behind, stops there; the others go on.
    """
    starts = torch.as_tensor(np.asarray(start, dtype=np.float64)).reshape(-1, 2)
    starts = starts.expand(len(configs), 2) if len(starts) == 1 else starts
    classes = {constructor_kwargs(c)[0] for c in configs}
    if len(classes) != 1 or len({(c.schedule, c.schedule_params) for c in configs}) != 1:
        raise ValueError(t("the members of a sweep must share their optimizer class and schedule"))
    if needs_closure(configs[0]):
        return _separate_runs(surface, configs, starts.numpy(), steps, noise_sigma, seed)
    # Every member's parameters are views of one (N, 2) tensor, and their gradients views of another: the
    # optimizer steps each member's own parameter in place, the surface sees all points at once, and one copy
    # hands every member its gradient row.
    point = starts.clone()  # row m: member m's θ
    grad = torch.zeros_like(point)  # row m: member m's gradient
    members, grads = [], []  # each member's parameters and their gradients: [xy] or [x, y]
    groups: list[dict[str, Any]] = []
    for m, config in enumerate(configs):
        per_axis = config.axis_hparams is not None
        members.append([point[m, 0:1], point[m, 1:2]] if per_axis else [point[m]])
        grads.append([grad[m, 0:1], grad[m, 1:2]] if per_axis else [grad[m]])
        groups += _member_groups(config, members[-1])
    cls, kwargs = constructor_kwargs(configs[0])
    optimizer = cls(groups, **kwargs)
    walk = Walk(surface, steps, noise_sigma, seed)
    scheduler = make_scheduler(optimizer, configs[0].schedule, walk.steps, **dict(configs[0].schedule_params))
    for params, g in zip(members, grads, strict=True):
        for p, row in zip(params, g, strict=True):
            p.grad = row

    n = len(configs)
    visited = torch.full((walk.steps + 1, n, 2), torch.nan, dtype=torch.float64)  # θ_k of every member
    diverged = np.full(n, -1, dtype=np.int64)
    alive = np.ones(n, dtype=bool)
    for k in range(walk.steps + 1):
        x = point.clone()
        probe = walk.probe(x, k)
        visited[k] = x
        for m in np.flatnonzero(alive & ~np.asarray(probe.healthy)):  # stops here (its start is still drawn)
            diverged[m], alive[m] = k, False
            for p in members[m]:
                p.grad = None  # the optimizer skips it from now on
        if k == walk.steps or not alive.any():
            break
        grad.copy_(probe.grad)
        walk.advance(optimizer, scheduler)
    points = np.transpose(visited.numpy(), (1, 0, 2)).copy()  # (N, steps + 1, 2)
    for m in np.flatnonzero(diverged >= 0):
        points[m, max(int(diverged[m]), 1):] = np.nan
    return points, diverged


def _separate_runs(surface: Any, configs: Sequence[RunConfig], starts: np.ndarray, steps: int,
                   noise_sigma: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Members as runs of their own (``run_traces``, grouped by start), in ``run_members``' format: NaN from a
    member's divergence on (its start always drawn)."""
    n = len(configs)
    points = np.full((n, steps + 1, 2), np.nan)
    diverged = np.full(n, -1, dtype=np.int64)
    by_start: dict[tuple[float, float], list[int]] = {}
    for m, s in enumerate(starts):
        by_start.setdefault((float(s[0]), float(s[1])), []).append(m)
    for start, members in by_start.items():
        traces = run_traces(surface, [configs[m] for m in members], start, steps, noise_sigma, seed, full=())
        for m, tr in zip(members, traces, strict=True):
            points[m, : len(tr.points)] = tr.points
            if tr.diverged_at is not None:
                diverged[m] = tr.diverged_at
    return points, diverged


def run_sweep(surface: Any, config: RunConfig, knob: str, values: Sequence[float], start: Sequence[float],
              steps: int, noise_sigma: float = 0.0, seed: int = 0) -> Sweep:
    """The run at every value of ``knob`` (``member_config`` of each), computed together by ``run_members``."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    configs = [member_config(config, knob, v) for v in values]
    return Sweep(knob, values, *run_members(surface, configs, start, steps, noise_sigma, seed))


def start_grid(bounds: tuple[tuple[float, float], tuple[float, float]], n: int) -> np.ndarray:
    """``n`` x ``n`` evenly spaced starts over the window, edges included, as ``(n*n, 2)``; x varies fastest."""
    if n < 2:
        raise ValueError(f"Invalid grid size: {n} (at least 2 starts per side)")
    (x0, x1), (y0, y1) = bounds
    xx, yy = np.meshgrid(np.linspace(x0, x1, n), np.linspace(y0, y1, n))
    return np.stack([xx.ravel(), yy.ravel()], axis=1)


def run_start_sweep(surface: Any, config: RunConfig, starts: np.ndarray, steps: int,
                    noise_sigma: float = 0.0, seed: int = 0) -> Sweep:
    """The run from every start of ``starts`` (N, 2) at once.

    For an optimizer that steps each coordinate on its own (the registry's ``coordinatewise``), the starts are
    rows of one (N, 2) parameter, the cheapest batch there is. Muon and Adafactor look at a parameter as a
    whole (a matrix), so stacking starts would couple them: each start is then its own parameter. L-BFGS
    measures one loss for all its parameters: each start is then its own run.
    """
    starts = np.asarray(starts, dtype=np.float64).reshape(-1, 2)
    spec = REGISTRY.get(config.optimizer)
    if (spec is not None and not spec.coordinatewise) or needs_closure(config):
        points, diverged = run_members(surface, [config] * len(starts), starts, steps, noise_sigma, seed)
        return Sweep(knob="start", values=starts, points=points, diverged_at=diverged)
    grid = run_grid(surface, config, starts, steps, noise_sigma, seed)
    points = np.transpose(grid.points, (1, 0, 2))  # (steps+1, N, 2) -> (N, steps+1, 2)
    return Sweep(knob="start", values=np.asarray(starts, dtype=np.float64), points=points,
                 diverged_at=np.asarray(grid.diverged_at))
