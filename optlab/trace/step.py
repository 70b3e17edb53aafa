"""The one step every runner takes: f and ∇f at the live points in one pass, the comparison's gradient noise, the
far-away limit, and the optimizer's step followed by its scheduler's.

``run_traces`` (one optimizer per run), ``run_grid`` (one optimizer, a row per start) and ``optlab.sweep`` (one
optimizer, a param group per member) all go through ``Walk``, so they add the same noise at the same step and
call a point unusable for the same reasons. What each runner does with an unusable point is its own (documented
where it runs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from optlab.i18n import t

#: A point farther than this many plot-widths from the plot's centre counts as diverged.
FAR_AWAY = 1e3
#: Up to this many points, ``Walk.probe`` checks them on Python floats (the runs of a comparison).
FEW_POINTS = 16
#: The longest run any runner takes.
MAX_STEPS = 100_000


def check_steps(steps: int) -> int:
    """The step budget as an int, or a refusal that says what a valid budget is."""
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or not 0 <= steps <= MAX_STEPS:
        raise ValueError(t("steps must be an integer between 0 and {most}, got {steps!r}", most=MAX_STEPS,
                           steps=steps))
    return int(steps)


def gradient_noise(steps: int, sigma: float, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor | None:
    """σ·N(0, I) for every step, the same for every run of a comparison; None when σ = 0."""
    if sigma <= 0:
        return None
    generator = torch.Generator().manual_seed(int(seed))
    return sigma * torch.randn(steps, 2, generator=generator, dtype=dtype)


def far_limit(bounds: tuple[tuple[float, float], tuple[float, float]]) -> tuple[torch.Tensor, float]:
    """The plot's centre and the distance (max norm) beyond which a point counts as thrown away."""
    (x0, x1), (y0, y1) = bounds
    centre = torch.tensor([(x0 + x1) / 2, (y0 + y1) / 2], dtype=torch.float64)
    return centre, FAR_AWAY * max(x1 - x0, y1 - y0)


@dataclass
class Probe:
    """f, the gradient the next step uses (noise included) and whether each point is usable, one row per point."""

    loss: torch.Tensor  # (R,)
    grad: torch.Tensor  # (R, 2)
    healthy: list[bool]  # (R,)


class Walk:
    """The rules shared by every run of a comparison: the surface, the budget, the noise and the far-away limit.

    At loop index k (0 .. steps) the runs stand at θ_k; ``probe`` gives f(θ_k) and the gradient step k + 1 uses,
    g_{k+1} = ∇f(θ_k) + σ ξ_k (ξ_k the k-th row of the comparison's noise), for all runs in one forward and one
    backward pass. At k = steps no step follows, and the gradient is zero.
    """

    def __init__(self, surface: Any, steps: int, noise_sigma: float = 0.0, seed: int = 0) -> None:
        self.fn = surface.fn
        self.steps = check_steps(steps)
        self.noise = gradient_noise(self.steps, noise_sigma, seed)
        self.centre, self.limit = far_limit(surface.bounds)
        self.centre_xy = tuple(self.centre.tolist())

    def evaluate(self, x: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """f at the points ``x`` (R, 2) and the gradient step k + 1 uses there (zero at k = steps), detached."""
        x = x.detach().requires_grad_(True)
        with torch.enable_grad():
            loss = self.fn(x).expand(x.shape[:-1])
            if k >= self.steps or not loss.requires_grad:  # (a constant surface has no gradient)
                grad = torch.zeros_like(x)
            else:  # row r: the gradient at point r, all points in one backward pass
                (grad,) = torch.autograd.grad(loss, x, torch.ones_like(loss))
                if self.noise is not None:
                    grad = grad + self.noise[k]
        return loss.detach(), grad

    def probe(self, x: torch.Tensor, k: int) -> Probe:
        """``evaluate`` plus the verdict on each point: usable when f and ∇f are finite and it is not far away."""
        loss, grad = self.evaluate(x, k)
        # One check for every point: loss + Σ grad is finite only if all of them are.
        if len(x) <= FEW_POINTS:  # the same test on Python floats: cheaper than six tensor operations
            cx, cy = self.centre_xy
            healthy = [math.isfinite(f + (gx + gy)) and abs(px - cx) <= self.limit and abs(py - cy) <= self.limit
                       for f, (gx, gy), (px, py) in zip(loss.tolist(), grad.tolist(), x.tolist(), strict=True)]
            return Probe(loss, grad, healthy)
        near = (x.detach() - self.centre).abs().amax(-1) <= self.limit
        healthy = torch.isfinite(loss + grad.sum(-1)) & near
        return Probe(loss, grad, healthy.tolist())

    @staticmethod
    def advance(optimizer: torch.optim.Optimizer, scheduler: Any, closure: Any = None) -> None:
        """One optimizer step (with the closure, for an optimizer that re-evaluates), then one scheduler step."""
        if closure is None:
            optimizer.step()
        else:
            optimizer.step(closure)
        if scheduler is not None:
            scheduler.step()


def why_diverged(step: int, loss: torch.Tensor, grad: torch.Tensor) -> str:
    """Why θ_t (t = ``step``) cannot be used, in words that fit "diverged at step t: ..." (0: the start itself)."""
    start = step == 0
    if not torch.isfinite(loss):
        return t("f is infinite or NaN at the start point") if start else t("f is infinite or NaN at the point it reached")
    if not torch.isfinite(grad).all():
        return (t("the gradient of f is infinite or NaN at the start point") if start
                else t("the gradient of f is infinite or NaN at the point it reached"))
    if start:
        return t("the start point lies more than {far:g} plot widths from the plot", far=FAR_AWAY)
    return t("it threw the point more than {far:g} plot widths from the plot", far=FAR_AWAY)
