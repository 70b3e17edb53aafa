"""Basins of attraction: run one optimizer from a grid of starts and label each by the minimum it ends at.

Labels are integers: ``0 .. m-1`` index ``surface.minima``; ``NO_MINIMUM`` means the run ended farther than
``tol`` from every listed minimum (or the surface lists none); ``DIVERGED`` means it left the plot for good.
What this file leaves out: drawing (``optlab.plots.basins``) and caching (``optlab.ui.cache``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from optlab.i18n import t
from optlab.sweep import run_start_sweep, start_grid
from optlab.trace import RunConfig

__all__ = ["Basins", "basins", "assign_basins", "count_labels", "default_tol", "start_grid", "DIVERGED",
           "NO_MINIMUM"]

NO_MINIMUM = -1
DIVERGED = -2
#: a run "reaches" a minimum when it ends within this fraction of the window's larger side of it
TOL_FRACTION = 0.05


def default_tol(bounds: tuple[tuple[float, float], tuple[float, float]]) -> float:
    """``TOL_FRACTION`` of the window's larger side: 0.5 on Himmelblau's 10 x 10 window."""
    (x0, x1), (y0, y1) = bounds
    return TOL_FRACTION * max(x1 - x0, y1 - y0)


def assign_basins(surface: Any, final_points: np.ndarray, tol: float | None = None) -> np.ndarray:
    """Label each final point ``(R, 2)``: index of the nearest listed minimum, ``NO_MINIMUM`` or ``DIVERGED``.

    A non-finite final point (a run that diverged ends as NaN) is ``DIVERGED``. A finite one takes the nearest
    minimum by Euclidean distance, if that distance is at most ``tol`` (default: ``default_tol(surface.bounds)``).
    """
    pts = np.asarray(final_points, dtype=np.float64).reshape(-1, 2)
    tol = default_tol(surface.bounds) if tol is None else float(tol)
    if not tol >= 0:
        raise ValueError(t("Invalid tolerance: {tol} (a distance of 0 or more)", tol=tol))
    labels = np.full(len(pts), NO_MINIMUM, dtype=np.int64)
    finite = np.isfinite(pts).all(axis=-1)
    labels[~finite] = DIVERGED
    if surface.minima and finite.any():
        nearest, distance = surface.nearest_minimum(pts[finite])
        labels[finite] = np.where(distance <= tol, nearest, NO_MINIMUM)
    return labels


def count_labels(labels: np.ndarray, n_minima: int) -> dict[int, int]:
    """Number of starts per label: every minimum index ``0 .. n_minima-1``, then ``NO_MINIMUM`` and ``DIVERGED``."""
    labels = np.asarray(labels)
    return {k: int(np.count_nonzero(labels == k)) for k in [*range(n_minima), NO_MINIMUM, DIVERGED]}


@dataclass
class Basins:
    """One optimizer from every start of an ``n`` x ``n`` grid: where each start ended, and its label."""

    n: int
    starts: np.ndarray  # (n*n, 2)
    finals: np.ndarray  # (n*n, 2) the last point, NaN for a diverged start
    final_losses: np.ndarray  # (n*n,) f at the last point, NaN for a diverged start
    diverged_at: np.ndarray  # (n*n,) the step where a start diverged, or -1
    labels: np.ndarray  # (n*n,) see the module docstring
    tol: float

    def counts(self, n_minima: int) -> dict[int, int]:
        """Number of starts per label: every minimum index, then ``NO_MINIMUM`` and ``DIVERGED``."""
        return count_labels(self.labels, n_minima)


def basins(surface: Any, config: RunConfig, n: int, steps: int, noise_sigma: float = 0.0, seed: int = 0,
           tol: float | None = None) -> Basins:
    """Run ``config`` from an ``n`` x ``n`` grid of starts (all at once, same noise sequence) and label them."""
    starts = start_grid(surface.bounds, n)
    sweep = run_start_sweep(surface, config, starts, steps, noise_sigma, seed)
    finals = sweep.points[:, -1]  # NaN where a start diverged
    with torch.no_grad():
        final_losses = torch.broadcast_to(surface.fn(torch.as_tensor(finals)), (len(finals),)).numpy().astype(np.float64)
    final_losses = np.where(np.isfinite(finals).all(axis=1), final_losses, np.nan)
    tol = default_tol(surface.bounds) if tol is None else float(tol)
    return Basins(n=n, starts=starts, finals=finals, final_losses=final_losses, diverged_at=sweep.diverged_at,
                  labels=assign_basins(surface, finals, tol), tol=tol)
