"""What one run on a surface did, step by step (``Trace``), and how it prints its optimizer at a step.

Steps are numbered as torch numbers them (``optimizer.state[p]["step"]`` after a step): θ₀ is the start, and step
t = 1, 2, ... computes the gradient g_t at θ_{t−1} and moves to θ_t. The arrays are 0-based: ``points[t]`` is θ_t,
while ``grads[t - 1]``, ``updates[t - 1]``, ``lrs[t - 1]`` and ``state[key][t - 1]`` belong to step t.

What this file leaves out: running (``optlab.trace.runner``), runs from many starts (``optlab.trace.grid``) and
the exports (``optlab.trace.export``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from optlab.trace.config import RunConfig


@dataclass
class Trace:
    """Everything one run did, step by step. Step t (torch's number, from 1) moves ``points[t - 1]`` to ``points[t]``
    with the gradient ``grads[t - 1]``; the per-step arrays hold steps 1..n at rows 0..n-1.

    Two extra sequences exist for the optimizers that have them:

    - ``closure_*``: an optimizer that re-evaluates the loss through a closure (L-BFGS and its line search) is
      evaluated at more points than it steps to. Evaluation e (in call order) was at ``closure_points[e]``, had
      loss ``closure_losses[e]`` and was made by step ``closure_steps[e]``; the first evaluation of step t is at
      θ_{t−1}, the later ones are the line search's trial points.
    - ``average_points``: schedule-free's averaged point x_t, where its ``eval()`` puts the parameters (the point
      to evaluate and to ship), while ``points`` are the y_t where the gradients are taken. Row 0 is the start.
    """

    config: RunConfig
    label: str
    points: np.ndarray  # (n+1, 2)
    losses: np.ndarray  # (n+1,)
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
    closure_points: np.ndarray | None = None  # (E, 2) every closure evaluation, in call order
    closure_losses: np.ndarray | None = None  # (E,)
    closure_steps: np.ndarray | None = None  # (E,) the step t (from 1) that made evaluation e
    average_points: np.ndarray | None = None  # (n+1, 2) schedule-free's x_t (its eval() parameters)
    average_losses: np.ndarray | None = None  # (n+1,) f at x_t
    full: bool = True  # state and explained terms recorded (False: points, losses, gradients, hyper only)

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

    def closure_evaluations_of(self, t: int) -> np.ndarray:
        """The points (k, 2) where step t (from 1) evaluated the loss through its closure; (0, 2) if none."""
        if self.closure_points is None:
            return np.zeros((0, 2))
        return self.closure_points[self.closure_steps == t]
