"""Run optimizers on a 2D surface and record every step: point, loss, gradient, state and explained terms.

What this file leaves out: drawing (``optlab.plots``) and widgets (``optlab.ui``). A ``Trace`` is plain NumPy
arrays and dataclasses, cheap to cache and to export.

Fairness: ``run_traces`` gives every run the same start, the same step budget and the same gradient-noise
sequence. One forward and one backward pass on the stacked points of all runs serves every optimizer at once.

Steps are numbered as torch numbers them (``optimizer.state[p]["step"]`` after a step): θ₀ is the start, and step
t = 1, 2, ... computes the gradient g_t at θ_{t−1} and moves to θ_t. In a ``Trace`` the arrays are 0-based:
``points[t]`` is θ_t, while ``grads[t - 1]``, ``updates[t - 1]``, ``lrs[t - 1]`` and ``state[key][t - 1]`` belong
to step t. The exports (CSV, JSON) index everything by t itself.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from optlab.ema import TensorEMA
from optlab.registry import REGISTRY, get_spec
from optlab.schedules import make_scheduler

#: A point farther than this many plot-widths from the plot's centre counts as diverged.
FAR_AWAY = 1e3

Items = tuple[tuple[str, Any], ...]


def _items(values: Mapping[str, Any] | Items | None) -> Items:
    """A mapping as a sorted tuple of pairs: hashable, so configurations can key a cache."""
    if values is None:
        return ()
    pairs = values.items() if isinstance(values, Mapping) else values
    return tuple(sorted((str(k), v) for k, v in pairs))


@dataclass(frozen=True)
class RunConfig:
    """One run: which optimizer, its hyperparameters, and the extras (schedule, EMA shadow).

    ``optimizer`` is a key of ``optlab.registry.REGISTRY`` (hyperparameters in its flat names, e.g. ``beta1``),
    or, with ``impl="torch"``, either a registry key or the name of any ``torch.optim`` class (hyperparameters
    then are that class's constructor arguments). ``axis_hparams`` makes x and y two parameters in two param
    groups, each with its own overrides, so a per-group learning rate becomes visible on the surface.
    """

    optimizer: str
    hparams: Items = ()
    impl: str = "optlab"
    schedule: str = "constant"
    schedule_params: Items = ()
    ema_decay: float | None = None
    ema_tau: float = 0.0
    label: str = ""
    axis_hparams: tuple[Items, Items] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "hparams", _items(self.hparams))
        object.__setattr__(self, "schedule_params", _items(self.schedule_params))
        if self.axis_hparams is not None:
            x, y = self.axis_hparams
            object.__setattr__(self, "axis_hparams", (_items(x), _items(y)))
        if self.impl not in ("optlab", "torch"):
            raise ValueError(f"impl must be 'optlab' or 'torch', not {self.impl!r}")

    @classmethod
    def of(cls, optimizer: str, label: str = "", **hparams: Any) -> RunConfig:
        """Shorthand: ``RunConfig.of("adam", lr=0.1)``."""
        return cls(optimizer=optimizer, hparams=_items(hparams), label=label)

    @property
    def name(self) -> str:
        """The label, or a readable default."""
        if self.label:
            return self.label
        if self.optimizer in REGISTRY:
            return REGISTRY[self.optimizer].label
        return self.optimizer


@dataclass
class Trace:
    """Everything one run did, step by step. Step t (torch's number, from 1) moves ``points[t - 1]`` to ``points[t]``
    with the gradient ``grads[t - 1]``; the per-step arrays hold steps 1..n at rows 0..n-1."""

    config: RunConfig
    label: str
    points: np.ndarray  # (n+1, 2); batched starts: (n+1, R, 2)
    losses: np.ndarray  # (n+1,); batched: (n+1, R)
    grads: np.ndarray  # (n, 2) row t-1: g_t used by step t (noise included), evaluated at points[t-1]
    updates: np.ndarray  # (n, 2) row t-1: points[t] - points[t-1]
    lrs: np.ndarray  # (n, G) row t-1: learning rate of each param group used by step t
    hyper: dict[str, np.ndarray]  # numeric hyperparameter -> (n, G), row t-1: value used by step t
    groups: list[dict]  # the param_groups hyperparameters at the start (no 'params')
    optimizer_class: str  # e.g. "Adam", as torch prints it
    state: dict[str, np.ndarray] = field(default_factory=dict)  # state key -> (n, 2) or (n,), row t-1: after step t
    explain: dict[str, np.ndarray] = field(default_factory=dict)  # term -> (n, 2) or (n,), row t-1: step t
    formulas: dict[str, str] = field(default_factory=dict)  # term -> LaTeX
    ema_points: np.ndarray | None = None  # (n+1, 2): the EMA shadow after step t (row 0: the start)
    ema_losses: np.ndarray | None = None  # (n+1,): f at the EMA shadow's points
    diverged_at: int | None = None  # step t whose point θ_t (0: the start) was unusable; arrays stop before it
    reason: str | None = None
    row_diverged_at: np.ndarray | None = None  # batched starts: per start, the divergence step or -1

    @property
    def n_steps(self) -> int:
        return len(self.points) - 1

    def groups_at(self, t: int) -> list[dict]:
        """The param_groups hyperparameters used by step t, from 1 (schedulers change lr, momentum, betas)."""
        row = min(max(t - 1, 0), max(self.n_steps - 1, 0))
        out = []
        for g, group in enumerate(self.groups):
            group = dict(group)
            for key, values in self.hyper.items():
                if len(values) == 0:
                    continue
                value = float(values[row, g])
                if key in ("beta1", "beta2") and "betas" in group:
                    betas = list(group["betas"])
                    betas[key == "beta2"] = value
                    group["betas"] = tuple(betas)
                elif key in group:
                    group[key] = value
            out.append(group)
        return out

    def param_groups_repr(self, t: int) -> str:
        """``param_groups`` used by step t (from 1), printed the way ``print(optimizer)`` prints them in PyTorch."""
        text = self.optimizer_class + " ("
        for i, group in enumerate(self.groups_at(t)):
            text += f"\nParameter Group {i}\n"
            for key in sorted(group):
                text += f"    {key}: {group[key]}\n"
        return text + ")"

    def state_at(self, t: int) -> dict[str, Any]:
        """The optimizer state right after step t (t = 1 the first step), as plain numbers."""
        return {key: values[t - 1].tolist() for key, values in self.state.items()}

    def explain_at(self, t: int) -> dict[str, Any]:
        """The named intermediate quantities of step t (t = 1 the first step)."""
        return {key: values[t - 1].tolist() for key, values in self.explain.items()}

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: configuration, trajectory and state, every list indexed by torch's step t.

        ``points[t]``, ``losses[t]`` and ``ema_points[t]`` are θ_t (t = 0 the start); ``grads[t]``,
        ``updates[t]``, ``lrs[t]`` and ``state[key][t]`` belong to step t, so their entry 0 is None (no step 0).
        """

        def clean(a: np.ndarray | None) -> Any:
            """Nested lists with None where a value is NaN or infinite (JSON has neither)."""
            if a is None:
                return None
            out = np.asarray(a, dtype=np.float64).astype(object)
            out[~np.isfinite(np.asarray(a, dtype=np.float64))] = None
            return out.tolist()

        def per_step(a: np.ndarray) -> list:
            return [None, *clean(a)]

        return {
            "label": self.label,
            "optimizer": self.config.optimizer,
            "impl": self.config.impl,
            "hparams": dict(self.config.hparams),
            "schedule": self.config.schedule,
            "schedule_params": dict(self.config.schedule_params),
            "ema_decay": self.config.ema_decay,
            "ema_tau": self.config.ema_tau,
            "axis_hparams": [dict(a) for a in self.config.axis_hparams] if self.config.axis_hparams else None,
            "optimizer_class": self.optimizer_class,
            "steps": self.n_steps,
            "diverged_at": self.diverged_at,
            "reason": self.reason,
            "points": clean(self.points),
            "losses": clean(self.losses),
            "grads": per_step(self.grads),
            "updates": per_step(self.updates),
            "lrs": per_step(self.lrs),
            "ema_points": clean(self.ema_points),
            "ema_losses": clean(self.ema_losses),
            "state": {k: per_step(v) for k, v in self.state.items()},
        }


# --------------------------------------------------------------------------------------------------------------
# Building the optimizer
# --------------------------------------------------------------------------------------------------------------

_NOT_TRACEABLE = {"LBFGS": "it needs a closure that re-evaluates the loss", "SparseAdam": "it needs sparse gradients"}


def _torch_class(name: str) -> type[torch.optim.Optimizer]:
    cls = getattr(torch.optim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)) or cls is torch.optim.Optimizer:
        known = sorted(REGISTRY)
        raise ValueError(f"unknown optimizer {name!r}: use one of {known} or a torch.optim class name")
    if name in _NOT_TRACEABLE:
        raise ValueError(f"torch.optim.{name} cannot be traced here: {_NOT_TRACEABLE[name]}")
    return cls


def _constructor_kwargs(config: RunConfig, overrides: Items = ()) -> tuple[type, dict[str, Any]]:
    """The optimizer class and its constructor arguments for this run (and a group's overrides)."""
    values = {**dict(config.hparams), **dict(overrides)}
    if config.optimizer in REGISTRY:
        spec = get_spec(config.optimizer)
        cls = spec.cls if config.impl == "optlab" else spec.torch_cls
        return cls, spec.kwargs(**values)
    if config.impl != "torch":
        get_spec(config.optimizer)  # raises with the list of known keys
    return _torch_class(config.optimizer), values


def build_optimizer(config: RunConfig, params: Sequence[torch.Tensor]) -> torch.optim.Optimizer:
    """The run's optimizer over ``params``: one param group, or with ``axis_hparams`` one group per axis."""
    cls, kwargs = _constructor_kwargs(config)
    if config.axis_hparams is None:
        return cls(list(params), **kwargs)
    groups = [
        {"params": [p], **_constructor_kwargs(config, overrides)[1]}
        for p, overrides in zip(params, config.axis_hparams, strict=True)
    ]
    return cls(groups, **kwargs)


def _hyper_fields(group: Mapping[str, Any]) -> list[tuple[str, str, int | None]]:
    """The numeric hyperparameters of a param group as (name, group key, index): ``betas`` gives beta1 and beta2."""
    fields: list[tuple[str, str, int | None]] = []
    for key, value in group.items():
        if key == "params" or isinstance(value, bool) or value is None:
            continue
        if key == "betas":
            fields += [("beta1", key, 0), ("beta2", key, 1)]
        elif isinstance(value, int | float | torch.Tensor):
            fields.append((key, key, None))
    return fields


def _printable(value: Any) -> Any:
    """Group values as torch prints them, with tensors (a tensor lr) kept as tensors."""
    return value.detach().clone() if isinstance(value, torch.Tensor) else value


# --------------------------------------------------------------------------------------------------------------
# One run's bookkeeping
# --------------------------------------------------------------------------------------------------------------


class _Run:
    """One optimizer walking the surface, and the lists that record what it did."""

    def __init__(self, config: RunConfig, start: torch.Tensor, total_steps: int) -> None:
        self.config = config
        if config.axis_hparams is None:
            self.params = [start.clone().requires_grad_(True)]
        else:
            self.params = [start[0:1].clone().requires_grad_(True), start[1:2].clone().requires_grad_(True)]
        self.optimizer = build_optimizer(config, self.params)
        self.scheduler = make_scheduler(self.optimizer, config.schedule, total_steps, **dict(config.schedule_params))
        self.explains = hasattr(self.optimizer, "explanations")
        if self.explains:
            self.optimizer.explain = True
        self.groups = [
            {k: _printable(v) for k, v in g.items() if k != "params"} for g in self.optimizer.param_groups
        ]
        self.hyper_fields = _hyper_fields(self.optimizer.param_groups[0])
        self.hyper_source = list(dict.fromkeys(key for _, key, _ in self.hyper_fields))
        self.ema = TensorEMA(start.clone(), config.ema_decay, config.ema_tau) if config.ema_decay else None

        self.points = [start.clone()]
        self.losses: list[torch.Tensor] = []
        self.grads: list[torch.Tensor] = []
        self.hyper: list[list[list[Any]]] = []  # step -> group -> raw values of hyper_source, read in finish()
        self.state: list[list[dict[str, torch.Tensor]]] = []  # step -> param -> key -> value
        self.explain: list[list[dict[str, torch.Tensor]]] = []
        self.ema_points = [start.clone()] if self.ema else None
        self.diverged_at: int | None = None
        self.reason: str | None = None

    @property
    def alive(self) -> bool:
        return self.diverged_at is None

    def position(self) -> torch.Tensor:
        return self.points[-1]

    def diverge(self, t: int, reason: str, loss: torch.Tensor) -> None:
        """The point reached at step t is unusable: drop it (but never the start) and stop here."""
        self.diverged_at, self.reason = t, reason
        if t == 0:
            self.losses.append(loss)
            return
        self.points.pop()
        if self.ema_points is not None:
            self.ema_points.pop()

    def step(self, loss: torch.Tensor, grad: torch.Tensor) -> None:
        """Record the loss at the current point, then take one optimizer step with ``grad``."""
        self.losses.append(loss)
        self.grads.append(grad)
        # ``grad`` is a row of this step's fresh gradient tensor; optimizers never write into .grad.
        if len(self.params) == 1:
            self.params[0].grad = grad
        else:
            self.params[0].grad, self.params[1].grad = grad[0:1], grad[1:2]
        groups = self.optimizer.param_groups
        self.hyper.append([[g[k] for k in self.hyper_source] for g in groups])
        self.optimizer.step()
        if self.scheduler is not None:
            self.scheduler.step()
        state = self.optimizer.state
        self.state.append([{k: v.clone() if isinstance(v, torch.Tensor) else torch.tensor(v)
                            for k, v in state[p].items()} for p in self.params])
        if self.explains:
            self.explain.append(self.optimizer.explanations())
        with torch.no_grad():  # a copy of θ_t (no graph)
            point = torch.cat(self.params) if len(self.params) > 1 else self.params[0].clone()
            self.points.append(point)
            if self.ema is not None:
                self.ema_points.append(self.ema.update(point).clone())

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


# --------------------------------------------------------------------------------------------------------------
# Running
# --------------------------------------------------------------------------------------------------------------


def gradient_noise(steps: int, sigma: float, seed: int, dtype: torch.dtype = torch.float64) -> torch.Tensor | None:
    """σ·N(0, I) for every step, the same for every run of a comparison; None when σ = 0."""
    if sigma <= 0:
        return None
    generator = torch.Generator().manual_seed(int(seed))
    return sigma * torch.randn(steps, 2, generator=generator, dtype=dtype)


def _far_limit(bounds: tuple[tuple[float, float], tuple[float, float]]) -> tuple[torch.Tensor, float]:
    (x0, x1), (y0, y1) = bounds
    centre = torch.tensor([(x0 + x1) / 2, (y0 + y1) / 2], dtype=torch.float64)
    return centre, FAR_AWAY * max(x1 - x0, y1 - y0)


def _check_steps(steps: int) -> int:
    if not isinstance(steps, int | np.integer) or not 0 <= steps <= 100_000:
        raise ValueError(f"steps must be an integer between 0 and 100000, got {steps!r}")
    return int(steps)


def _why_diverged(t: int, loss: torch.Tensor, grad: torch.Tensor) -> str:
    """Why θ_t cannot be used, in words that fit "diverged at step t: ..." (t = 0: the start itself)."""
    where = "at the start point" if t == 0 else "at the point it reached"
    if not torch.isfinite(loss):
        return f"f is infinite or NaN {where}"
    if not torch.isfinite(grad).all():
        return f"the gradient of f is infinite or NaN {where}"
    if t == 0:
        return f"the start point lies more than {FAR_AWAY:g} plot widths from the plot"
    return f"it threw the point more than {FAR_AWAY:g} plot widths from the plot"


def run_traces(
    surface: Any,
    configs: Sequence[RunConfig],
    start: Sequence[float],
    steps: int,
    noise_sigma: float = 0.0,
    seed: int = 0,
) -> list[Trace]:
    """Run every configuration from the same start for the same budget under the same gradient noise.

    ``surface`` is an ``optlab.surfaces.Surface`` (anything with ``fn`` on (..., 2) tensors and ``bounds``).
    A run that diverges stops there and says so; the others go on.
    """
    steps = _check_steps(steps)
    start_t = torch.as_tensor(np.asarray(start, dtype=np.float64)).reshape(2)
    if not torch.isfinite(start_t).all():
        raise ValueError(f"the start point must be finite, got {tuple(start_t.tolist())}")
    runs = [_Run(c, start_t, steps) for c in configs]
    noise = gradient_noise(steps, noise_sigma, seed)
    centre, limit = _far_limit(surface.bounds)
    fn: Callable[[torch.Tensor], torch.Tensor] = surface.fn

    for t in range(steps + 1):
        live = [r for r in runs if r.alive]
        if not live:
            break
        x = torch.stack([r.position() for r in live]).requires_grad_(True)
        loss = fn(x).expand(x.shape[:-1])
        final = t == steps  # the loss at the last point; no step follows
        if final or not loss.requires_grad:  # (a constant surface has no gradient)
            grad = torch.zeros_like(x)
        else:  # row r: the gradient at run r's point, all runs in one backward pass
            (grad,) = torch.autograd.grad(loss, x, torch.ones_like(loss))
            if noise is not None:
                grad = grad + noise[t]
        loss = loss.detach()
        # One check for every run: loss + Σ grad is finite only if all of them are.
        healthy = torch.isfinite(loss + grad.sum(-1)) & ((x.detach() - centre).abs().amax(-1) <= limit)
        for run, ok, run_loss, run_grad in zip(live, healthy.tolist(), loss.unbind(), grad.unbind(), strict=True):
            if not ok:
                run.diverge(t, _why_diverged(t, run_loss, run_grad), run_loss)
            elif final:
                run.losses.append(run_loss)
            else:
                run.step(run_loss, run_grad)
    traces = [r.finish() for r in runs]
    for tr in traces:  # f along each EMA shadow, one batched forward pass per run (the 3D view draws it)
        if tr.ema_points is not None:
            with torch.no_grad():
                ema = torch.from_numpy(tr.ema_points)
                tr.ema_losses = fn(ema).expand(ema.shape[:-1]).double().numpy().copy()
    return traces


def run_trace(surface: Any, config: RunConfig, start: Sequence[float], steps: int,
              noise_sigma: float = 0.0, seed: int = 0) -> Trace:
    """One run; see ``run_traces``."""
    return run_traces(surface, [config], start, steps, noise_sigma, seed)[0]


def run_grid(surface: Any, config: RunConfig, starts: np.ndarray, steps: int,
             noise_sigma: float = 0.0, seed: int = 0) -> Trace:
    """Many starts at once, as one batched (R, 2) parameter: where does each start end up (basins of attraction)?

    Every coordinate-wise optimizer treats the rows independently, so this equals R separate runs (with
    ``axis_hparams``, two (R, 1) parameters in two param groups). Only points, losses and learning rates are
    recorded; a start that diverges is marked in ``row_diverged_at`` and its later points are NaN.
    """
    steps = _check_steps(steps)
    starts_t = torch.as_tensor(np.asarray(starts, dtype=np.float64)).reshape(-1, 2)
    per_axis = config.axis_hparams is not None
    params = [starts_t[:, 0:1].clone(), starts_t[:, 1:2].clone()] if per_axis else [starts_t.clone()]
    for param in params:
        param.requires_grad_(True)
    optimizer = build_optimizer(config, params)
    scheduler = make_scheduler(optimizer, config.schedule, steps, **dict(config.schedule_params))
    noise = gradient_noise(steps, noise_sigma, seed)
    centre, limit = _far_limit(surface.bounds)
    points = torch.empty(steps + 1, *starts_t.shape, dtype=torch.float64)
    losses = torch.empty(steps + 1, starts_t.shape[0], dtype=torch.float64)
    lrs = torch.empty(steps, len(optimizer.param_groups), dtype=torch.float64)
    diverged = torch.full((starts_t.shape[0],), -1, dtype=torch.long)

    def position() -> torch.Tensor:
        return torch.cat(params, dim=-1) if per_axis else params[0]

    for t in range(steps + 1):
        x = position().detach()
        bad = ~torch.isfinite(x).all(-1) | ((x - centre).abs().amax(-1) > limit)
        diverged[bad & (diverged < 0)] = t
        gone = diverged >= 0
        points[t] = torch.where(gone[:, None], torch.nan, x)
        optimizer.zero_grad()
        loss = surface.fn(position())
        losses[t] = torch.where(gone, torch.nan, loss.detach())
        if t == steps:
            break
        loss.sum().backward()
        with torch.no_grad():
            for i, param in enumerate(params):
                if noise is not None:  # the same noise sequence as every run of the comparison
                    param.grad.add_(noise[t, i] if per_axis else noise[t])
                param.grad[gone] = 0.0  # a diverged start stays where it was; its NaNs are masked above
                param[gone] = torch.nan_to_num(param[gone], nan=0.0, posinf=0.0, neginf=0.0)
        lrs[t] = torch.tensor([float(g["lr"]) for g in optimizer.param_groups], dtype=torch.float64)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    pts = points.numpy()
    return Trace(
        config=config,
        label=config.name,
        points=pts,
        losses=losses.numpy(),
        grads=np.zeros((0, 2)),
        updates=np.diff(pts, axis=0),
        lrs=lrs.numpy(),
        hyper={},
        groups=[{k: _printable(v) for k, v in g.items() if k != "params"} for g in optimizer.param_groups],
        optimizer_class=type(optimizer).__name__,
        row_diverged_at=diverged.numpy(),
    )


# --------------------------------------------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------------------------------------------

CSV_COLUMNS = ["run", "label", "step", "x", "y", "loss", "grad_x", "grad_y", "update_x", "update_y", "lr",
               "lr_y", "ema_x", "ema_y"]


def _header(experiment: Mapping[str, Any] | None) -> str:
    """``# key: value`` comment lines (values that are not text as JSON), one per item of ``experiment``."""
    lines = [f"# {key}: {value if isinstance(value, str) else json.dumps(value, sort_keys=True)}"
             for key, value in (experiment or {}).items()]
    return "".join(line.replace("\n", " ") + "\n" for line in lines)


def traces_to_csv(traces: Sequence[Trace], experiment: Mapping[str, Any] | None = None) -> str:
    """One row per run and step t (torch's number; t = 0 is the start point θ₀).

    Row t holds θ_t and f(θ_t), and what step t did to get there: its gradient g_t (taken at θ_{t−1}), its
    update θ_t − θ_{t−1} and its lr; row 0 leaves those empty. ``lr_y`` is the second param group's lr when x
    and y are two groups, and empty otherwise. ``experiment`` (what produced the runs: surface, start, noise,
    seed, settings) goes first as ``# key: value`` comment lines; ``pandas.read_csv(path, comment="#")`` skips
    them.
    """
    buf = io.StringIO()
    buf.write(_header(experiment))
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r, tr in enumerate(traces):
        for t in range(tr.n_steps + 1):
            stepped = t >= 1  # row t - 1 of the per-step arrays is step t
            grad = tr.grads[t - 1] if stepped else (math.nan, math.nan)
            update = tr.updates[t - 1] if stepped else (math.nan, math.nan)
            lr = tr.lrs[t - 1, 0] if stepped and tr.lrs.shape[1] else math.nan
            lr_y = tr.lrs[t - 1, 1] if stepped and tr.lrs.shape[1] > 1 else math.nan
            ema = tr.ema_points[t] if tr.ema_points is not None else (math.nan, math.nan)
            loss = tr.losses[t] if t < len(tr.losses) else math.nan
            row = [r, tr.label, t, *tr.points[t], loss, *grad, *update, lr, lr_y, *ema]
            writer.writerow(["" if isinstance(v, float) and math.isnan(v) else
                             (repr(float(v)) if isinstance(v, float | np.floating) else v) for v in row])
    return buf.getvalue()


def traces_to_json(traces: Sequence[Trace], experiment: Mapping[str, Any] | None = None) -> str:
    """All runs with their configuration, trajectory and state (see ``Trace.to_dict``), and under
    ``experiment`` what produced them; non-finite numbers become null."""
    return json.dumps({"experiment": dict(experiment or {}), "runs": [tr.to_dict() for tr in traces]},
                      allow_nan=False)
