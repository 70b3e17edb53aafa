"""Run optimizers on a 2D surface side by side and record every step: point, loss, gradient, state and terms.

Fairness: ``run_traces`` gives every run the same start, the same step budget and the same gradient-noise
sequence (``optlab.trace.step.Walk``). One forward and one backward pass on the stacked points of all runs serves
every optimizer at once. A run that diverges stops there: its unusable point is dropped (never the start), its
arrays end before it, and ``diverged_at`` and ``reason`` say where and why; the others go on.

An optimizer that re-evaluates the loss through a closure (``torch.optim.LBFGS``: its line search) gets a
closure that evaluates f and ∇f at its parameters; every call is recorded (``Trace.closure_*``). Its first call
of a step is at the point the shared pass has just evaluated, and returns those numbers. Each call of step t
adds step t's noise to its gradient, so a noisy comparison stays a fair one.

An optimizer with schedule-free's ``train()``/``eval()`` protocol is stepped in train mode; after each step its
``eval()`` point (the averaged x_t) is read and the parameters put back, bit for bit (``Trace.average_points``).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import torch

from optlab.ema import TensorEMA
from optlab.i18n import t
from optlab.schedules import make_scheduler
from optlab.trace.build import build_run_optimizer, hyper_fields, needs_closure, printable_groups
from optlab.trace.config import RunConfig
from optlab.trace.record import Trace
from optlab.trace.step import Probe, Walk, why_diverged


def has_average(optimizer: torch.optim.Optimizer) -> bool:
    """Whether the optimizer keeps an averaged point behind ``eval()`` (schedule-free's train/eval protocol)."""
    return callable(getattr(optimizer, "eval", None)) and callable(getattr(optimizer, "train", None))


def _recordable(value: Any) -> torch.Tensor | None:
    """A state entry as a tensor copy, or None for what is not one number or one tensor (L-BFGS keeps lists)."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return torch.tensor(float(value), dtype=torch.float64)
    return None


class _Run:
    """One optimizer walking the surface, and the lists that record what it did."""

    def __init__(self, config: RunConfig, start: torch.Tensor, total_steps: int, full: bool = True) -> None:
        self.config = config
        self.full = full  # False: points, losses, gradients and hyperparameters only (no state, no terms)
        if config.axis_hparams is None:
            self.params = [start.clone().requires_grad_(True)]
        else:
            self.params = [start[0:1].clone().requires_grad_(True), start[1:2].clone().requires_grad_(True)]
        self.optimizer = build_run_optimizer(config, self.params)
        self.closure = needs_closure(config)
        self.averages = has_average(self.optimizer)
        if self.averages:
            self.optimizer.train()  # steps are taken in train mode (the reference starts in eval mode)
        self.scheduler = make_scheduler(self.optimizer, config.schedule, total_steps, **dict(config.schedule_params))
        self.explains = full and hasattr(self.optimizer, "explanations")
        if self.explains:
            self.optimizer.explain = True
        self.groups = printable_groups(self.optimizer)
        self.hyper_fields = hyper_fields(self.optimizer.param_groups[0])
        self.hyper_source = list(dict.fromkeys(key for _, key, _ in self.hyper_fields))
        self.ema = TensorEMA(start.clone(), config.ema_decay, config.ema_tau) if config.ema_decay else None

        self.points = [start.clone()]
        self.losses: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []
        self.hyper: list[list[list[Any]]] = []  # step -> group -> raw values of hyper_source, read in finish()
        self.state: list[list[dict[str, torch.Tensor]]] = []  # step -> param -> key -> value
        self.explain: list[list[dict[str, torch.Tensor]]] = []
        self.ema_points = [start.clone()] if self.ema else None
        self.average = [start.clone()] if self.averages else None
        self.evaluations: list[tuple[torch.Tensor, torch.Tensor, int]] = []  # closure calls: point, loss, step
        self.diverged_at: int | None = None
        self.reason: str | None = None

    @property
    def alive(self) -> bool:
        return self.diverged_at is None

    def position(self) -> torch.Tensor:
        return self.points[-1]

    def diverge(self, k: int, reason: str, loss: torch.Tensor) -> None:
        """The point reached at step k is unusable: drop it (but never the start) and stop here."""
        self.diverged_at, self.reason = k, reason
        if k == 0:
            self.losses.append(loss)
            return
        self.points.pop()
        for extra in (self.ema_points, self.average):
            if extra is not None:
                extra.pop()

    def _set_grad(self, grad: torch.Tensor) -> None:
        # ``grad`` is a row of this step's fresh gradient tensor; optimizers never write into .grad.
        if len(self.params) == 1:
            self.params[0].grad = grad
        else:
            self.params[0].grad, self.params[1].grad = grad[0:1], grad[1:2]

    def _closure(self, walk: Walk, k: int, loss: torch.Tensor, grad: torch.Tensor):
        """The closure of step k + 1: its first call answers with the shared pass's numbers at θ_k, every later
        call (the line search's trial points) evaluates f and ∇f at the parameters as they are then."""
        first = [True]

        def closure() -> torch.Tensor:
            point = torch.cat([p.detach() for p in self.params]).clone()
            if first[0]:
                first[0] = False
                value, g = loss, grad
            else:
                value, g = walk.evaluate(point.reshape(1, 2), k)
                value, g = value[0], g[0]
            self._set_grad(g.clone())
            self.evaluations.append((point, value, k + 1))
            return value

        return closure

    def step(self, walk: Walk, k: int, loss: torch.Tensor, grad: torch.Tensor) -> None:
        """Record the loss at θ_k, then take step k + 1 with ``grad`` (and a closure, for an optimizer that needs
        one)."""
        self.losses.append(loss)
        self.grads.append(grad)
        groups = self.optimizer.param_groups
        self.hyper.append([[g[key] for key in self.hyper_source] for g in groups])
        if self.closure:
            walk.advance(self.optimizer, self.scheduler, self._closure(walk, k, loss, grad))
        else:
            self._set_grad(grad)
            walk.advance(self.optimizer, self.scheduler)
        if self.full:
            state = self.optimizer.state
            self.state.append([{key: v for key, value in state.get(p, {}).items()
                                if (v := _recordable(value)) is not None} for p in self.params])
        if self.explains:
            self.explain.append(self.optimizer.explanations())
        with torch.no_grad():  # a copy of θ_{k+1} (no graph)
            point = torch.cat(self.params) if len(self.params) > 1 else self.params[0].clone()
            self.points.append(point)
            if self.ema is not None:
                self.ema_points.append(self.ema.update(point).clone())
            if self.average is not None:
                self.average.append(self._averaged_point(point))

    def _averaged_point(self, y: torch.Tensor) -> torch.Tensor:
        """The optimizer's ``eval()`` point, read through its own eval(); the parameters then go back to y exactly."""
        self.optimizer.eval()
        x = torch.cat([p.detach() for p in self.params]).clone()
        self.optimizer.train()
        for p, value in zip(self.params, y.split([p.numel() for p in self.params]), strict=True):
            p.copy_(value.reshape(p.shape))
        return x

    def finish(self) -> Trace:
        """The recorded lists as a Trace of arrays, cut to the points the run actually reached."""
        n = len(self.points) - 1
        self.losses = self.losses[: n + 1]
        points = torch.stack(self.points).numpy()
        grads = torch.stack(self.grads[:n]).numpy() if n else np.zeros((0, 2))
        column = {key: i for i, key in enumerate(self.hyper_source)}
        hyper = {
            name: np.array(
                [[float(row[column[key]] if idx is None else row[column[key]][idx]) for row in step]
                 for step in self.hyper[:n]],
                dtype=np.float64,
            ).reshape(n, len(self.groups))
            for name, key, idx in self.hyper_fields
        }
        evaluations = [e for e in self.evaluations if e[2] <= n]
        return Trace(
            config=self.config,
            label=self.config.name,
            points=points,
            losses=torch.stack(self.losses).numpy() if self.losses else np.zeros(0),
            grads=grads,
            updates=np.diff(points, axis=0),
            lrs=hyper["lr"] if "lr" in hyper else np.zeros((n, 0)),
            hyper=hyper,
            groups=self.groups,
            optimizer_class=type(self.optimizer).__name__,
            state=_stack_per_param(self.state[:n]),
            explain=_stack_per_param(self.explain[:n]),
            formulas=dict(getattr(self.optimizer, "FORMULAS", {})),
            ema_points=torch.stack(self.ema_points).numpy() if self.ema_points is not None else None,
            diverged_at=self.diverged_at,
            reason=self.reason,
            closure_points=(torch.stack([e[0] for e in evaluations]).numpy().reshape(-1, 2)
                            if self.closure else None),
            closure_losses=(np.array([float(e[1]) for e in evaluations], dtype=np.float64)
                            if self.closure else None),
            closure_steps=np.array([e[2] for e in evaluations], dtype=np.int64) if self.closure else None,
            average_points=torch.stack(self.average).numpy() if self.average is not None else None,
            full=self.full,
        )


def _stack_per_param(steps: list[list[dict[str, torch.Tensor]]]) -> dict[str, np.ndarray]:
    """step -> param -> key -> tensor  into  key -> array over steps.

    With one (2,) parameter, vectors give (n, 2) and scalars (n,). With one parameter per axis, the two values
    sit side by side: (n, 2). A term recorded on some steps only (RAdam's two branches) or by one param group
    only (weight decay on x alone) is NaN where it did not run.
    """
    keys = dict.fromkeys(key for step in steps for entry in step for key in entry)
    out = {}
    for key in keys:
        like = next(entry[key] for step in steps for entry in step if key in entry)
        gap = torch.full_like(like, math.nan)
        if all(len(step) == 1 for step in steps):
            rows = [step[0].get(key, gap) for step in steps]
        else:
            rows = [torch.cat([entry.get(key, gap).reshape(-1)[:1] for entry in step]) for step in steps]
        out[key] = torch.stack(rows).double().numpy()
    return out


def _losses_along(fn: Any, points: np.ndarray | None) -> np.ndarray | None:
    """f at every row of ``points`` (one batched forward pass), or None without points."""
    if points is None:
        return None
    with torch.no_grad():
        pts = torch.from_numpy(points)
        return fn(pts).expand(pts.shape[:-1]).double().numpy().copy()


def run_traces(
    surface: Any,
    configs: Sequence[RunConfig],
    start: Sequence[float],
    steps: int,
    noise_sigma: float = 0.0,
    seed: int = 0,
    full: Collection[int] | None = None,
) -> list[Trace]:
    """Run every configuration from the same start for the same budget under the same gradient noise.

    ``surface`` is an ``optlab.surfaces.Surface`` (anything with ``fn`` on (..., 2) tensors and ``bounds``).
    A run that diverges stops there and says so; the others go on.

    ``full`` lists the runs (indices into ``configs``) whose optimizer state and explained terms are recorded;
    None records them for every run. The other runs record points, losses, gradients and hyperparameters only
    (``Trace.full`` is False): the same numbers, cheaper, since the optimizer then explains nothing.
    """
    walk = Walk(surface, steps, noise_sigma, seed)
    start_t = torch.as_tensor(np.asarray(start, dtype=np.float64)).reshape(2)
    if not torch.isfinite(start_t).all():
        raise ValueError(t("the start point must be finite, got {start}", start=tuple(start_t.tolist())))
    runs = [_Run(c, start_t, walk.steps, full is None or i in full) for i, c in enumerate(configs)]

    for k in range(walk.steps + 1):
        live = [r for r in runs if r.alive]
        if not live:
            break
        probe: Probe = walk.probe(torch.stack([r.position() for r in live]), k)
        final = k == walk.steps  # the loss at the last point; no step follows
        for run, ok, run_loss, run_grad in zip(live, probe.healthy, probe.loss.unbind(), probe.grad.unbind(),
                                               strict=True):
            if not ok:
                run.diverge(k, why_diverged(k, run_loss, run_grad), run_loss)
            elif final:
                run.losses.append(run_loss)
            else:
                run.step(walk, k, run_loss, run_grad)
    traces = [r.finish() for r in runs]
    for tr in traces:  # f along each EMA shadow and average, one batched forward pass each (the 3D view draws them)
        tr.ema_losses = _losses_along(surface.fn, tr.ema_points)
        tr.average_losses = _losses_along(surface.fn, tr.average_points)
    return traces


def run_trace(surface: Any, config: RunConfig, start: Sequence[float], steps: int,
              noise_sigma: float = 0.0, seed: int = 0) -> Trace:
    """One run; see ``run_traces``."""
    return run_traces(surface, [config], start, steps, noise_sigma, seed)[0]
