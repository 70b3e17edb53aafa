"""One optimizer from many starts at once, as one batched (R, 2) parameter: where does each start end up?

Every coordinate-wise optimizer treats the rows independently, so this equals R separate runs (with
``axis_hparams``, two (R, 1) parameters in two param groups). Only points, losses and learning rates are
recorded. A start whose point becomes unusable (by the same rules as ``run_traces``: ``optlab.trace.step``) is
NaN from that step on and stands still, masked, while the others go on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from optlab.i18n import t
from optlab.schedules import make_scheduler
from optlab.trace.build import build_run_optimizer, needs_closure, printable_groups
from optlab.trace.config import RunConfig
from optlab.trace.step import Walk


@dataclass
class GridRun:
    """The run of one configuration from R starts: start r walked ``points[:, r]``.

    ``points`` is (n+1, R, 2) and ``losses`` (n+1, R), NaN from a start's divergence step on; ``diverged_at[r]``
    is that step (-1 when it never diverged); ``lrs`` (n, G) the learning rate of each param group at each step.
    """

    config: RunConfig
    label: str
    points: np.ndarray
    losses: np.ndarray
    lrs: np.ndarray
    diverged_at: np.ndarray
    groups: list[dict]
    optimizer_class: str

    @property
    def n_steps(self) -> int:
        return len(self.points) - 1


def run_grid(surface: Any, config: RunConfig, starts: np.ndarray, steps: int,
             noise_sigma: float = 0.0, seed: int = 0) -> GridRun:
    """Run ``config`` from every start of ``starts`` (R, 2) at once under the comparison's gradient noise."""
    if needs_closure(config):
        raise ValueError(t("{name} cannot run many starts as one batched parameter: its line search measures the "
                           "loss of all of them together, so each start would change the others' steps; run each "
                           "start on its own (run_traces)", name=config.name))
    walk = Walk(surface, steps, noise_sigma, seed)
    steps = walk.steps
    starts_t = torch.as_tensor(np.asarray(starts, dtype=np.float64)).reshape(-1, 2)
    per_axis = config.axis_hparams is not None
    params = [starts_t[:, 0:1].clone(), starts_t[:, 1:2].clone()] if per_axis else [starts_t.clone()]
    optimizer = build_run_optimizer(config, params)
    scheduler = make_scheduler(optimizer, config.schedule, steps, **dict(config.schedule_params))
    points = torch.empty(steps + 1, *starts_t.shape, dtype=torch.float64)
    losses = torch.empty(steps + 1, starts_t.shape[0], dtype=torch.float64)
    lrs = torch.empty(steps, len(optimizer.param_groups), dtype=torch.float64)
    diverged = torch.full((starts_t.shape[0],), -1, dtype=torch.long)

    for k in range(steps + 1):
        x = torch.cat(params, dim=-1) if per_axis else params[0].clone()
        probe = walk.probe(x, k)
        bad = ~torch.tensor(probe.healthy, dtype=torch.bool)
        diverged[bad & (diverged < 0)] = k
        gone = diverged >= 0
        points[k] = torch.where(gone[:, None], torch.nan, x)
        losses[k] = torch.where(gone, torch.nan, probe.loss)
        if k == steps:
            break
        grad = torch.where(gone[:, None], 0.0, probe.grad)  # a diverged start stays where it was, masked above
        with torch.no_grad():
            for i, param in enumerate(params):
                param[gone] = torch.nan_to_num(param[gone], nan=0.0, posinf=0.0, neginf=0.0)
                param.grad = grad[:, i : i + 1].clone() if per_axis else grad
        lrs[k] = torch.tensor([float(g["lr"]) for g in optimizer.param_groups], dtype=torch.float64)
        walk.advance(optimizer, scheduler)
    return GridRun(
        config=config,
        label=config.name,
        points=points.numpy(),
        losses=losses.numpy(),
        lrs=lrs.numpy(),
        diverged_at=diverged.numpy(),
        groups=printable_groups(optimizer),
        optimizer_class=type(optimizer).__name__,
    )
