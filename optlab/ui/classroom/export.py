"""The Surface Lab view as one standalone HTML file: its runs, a sweep of the first run's learning rate (a slider
switches the paths in the browser), the replay and the task. The sweep is computed here by the real optimizers
(``optlab.sweep.run_sweep``), in one batched pass."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from optlab.plots.export import Run, SweepPaths, export_figure, standalone_html
from optlab.registry import REGISTRY
from optlab.sweep import run_sweep

GRID = 120
SWEEP_VALUES = 13  # learning rates from lr/10 to lr·10, log-spaced, the run's own in the middle


def surface_grid(surface: Any, n: int = GRID) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    (x0, x1), (y0, y1) = surface.bounds
    xs, ys = np.linspace(x0, x1, n), np.linspace(y0, y1, n)
    xx, yy = np.meshgrid(xs, ys)
    with torch.no_grad():
        z = surface.fn(torch.from_numpy(np.stack([xx, yy], -1))).double().numpy()
    return xs, ys, np.where(np.isfinite(z), z, np.nan)


def lr_values(lr: float, optimizer: str) -> np.ndarray:
    """SWEEP_VALUES learning rates around ``lr`` inside the registry's range for ``optimizer``."""
    spec = REGISTRY.get(optimizer)
    hyper = next((h for h in spec.hypers if h.name == "lr"), None) if spec is not None else None
    lo, hi = (hyper.min, hyper.max) if hyper is not None else (1e-6, 10.0)
    values = lr * np.logspace(-1, 1, SWEEP_VALUES)
    values[SWEEP_VALUES // 2] = lr
    return np.clip(values, lo, hi)


def build_sweep(surface: Any, trace: Any, config: Any) -> SweepPaths | None:
    lr = dict(trace.config.hparams).get("lr")
    if lr is None or not math.isfinite(lr) or trace.n_steps < 1:
        return None
    values = lr_values(float(lr), trace.config.optimizer)
    noise, seed = float(getattr(config, "noise", 0.0) or 0.0), int(getattr(config, "seed", 0) or 0)
    try:
        sweep = run_sweep(surface, trace.config, "lr", values, trace.points[0], trace.n_steps, noise, seed)
    except (ValueError, RuntimeError):  # an optimizer the batched runner does not take
        return None
    return SweepPaths(trace.label, "lr", values, list(sweep.points), SWEEP_VALUES // 2)


def export_html(surface: Any, traces: Sequence[Any], config: Any, title: str, task: str) -> str:
    xs, ys, z = surface_grid(surface)
    runs = [Run(tr.label, np.asarray(tr.points, dtype=float)) for tr in traces]
    sweep = build_sweep(surface, traces[0], config) if traces else None
    fig = export_figure(title, xs, ys, z, bool(getattr(surface, "log_levels", False)), surface.bounds, runs, sweep)
    data = {"title": title, "task": task, "surface": getattr(surface, "key", ""),
            "runs": [{"label": r.label, "points": np.round(r.points, 6).tolist()} for r in runs],
            "sweep": None if sweep is None else {"run": sweep.label, "knob": sweep.knob,
                                                 "values": sweep.values.tolist()}}
    return standalone_html(fig, title, task, data)
