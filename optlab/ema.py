"""Exponential moving average of weights: a pure decay schedule, and in-place ``lerp_`` updates of a model or tensor.

Shaped like timm's ``ModelEmaV2`` and ``torch.optim.swa_utils``: the schedule :func:`ema_decay` is a function of
the update count alone, and each update is one ``lerp_`` per tensor, so each part can be tested alone.
What it leaves out: averaging on another device, update-every-k steps, and SWA's equal-weight average.

The rule (Polyak and Juditsky 1992; as ``torch.optim.swa_utils.get_ema_multi_avg_fn`` writes it):
W_ema ← d·W_ema + (1 − d)·W, with the YOLO-style warm-up d_t = decay·(1 − exp(−t/τ)), t the number of updates so far. On a ramp w_t = c·t the average
trails by c·d/(1 − d) once the start is forgotten.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["ema_decay", "ModelEMA", "TensorEMA"]


def _check(decay: float, tau: float) -> None:
    if not 0.0 <= decay <= 1.0:
        raise ValueError(f"Invalid decay: {decay} (must be in [0, 1])")
    if not (tau >= 0.0 and math.isfinite(tau)):
        raise ValueError(f"Invalid tau: {tau} (must be finite and >= 0)")


def ema_decay(updates: int, decay: float, tau: float) -> float:
    """The decay d used at update number ``updates`` (1 for the first update).

    d = decay · (1 − exp(−updates/τ)): small at first so the average forgets its random start quickly, then
    rising to ``decay`` with time constant τ. With τ = 0 there is no warm-up: d = decay.

    Args:
        updates: t, the number of updates so far (including the one being made).
        decay: the final decay, in [0, 1].
        tau: τ, the warm-up time constant in updates; 0 switches the warm-up off.
    """
    _check(decay, tau)
    if updates < 0:
        raise ValueError(f"Invalid updates: {updates} (must be >= 0)")
    if tau == 0:
        return float(decay)
    return decay * (1.0 - math.exp(-updates / tau))  # d_t = decay·(1 − e^(−t/τ))


class _Schedule:
    """What both averages share: the settings (final decay d, warm-up τ), the update count t and d_t in use."""

    def __init__(self, decay: float, tau: float) -> None:
        _check(decay, tau)
        self.decay = float(decay)
        self.tau = float(tau)
        self.updates = 0

    @property
    def decay_now(self) -> float:
        """The decay used by the latest update (0 before any update when there is a warm-up)."""
        return ema_decay(self.updates, self.decay, self.tau)

    def _count_update(self) -> float:
        """Count one more update (t ← t + 1) and return the decay d_t it uses."""
        self.updates += 1
        return self.decay_now


class ModelEMA(_Schedule):
    """Keeps ``module``, an exponential moving average of a model's parameters and buffers.

    ``module`` is a deep copy of the model in eval mode with gradients off; evaluate it like the model.
    Every floating-point parameter and buffer is averaged; integer buffers (such as BatchNorm's
    ``num_batches_tracked``) are copied, because an average of counts means nothing.

    Args:
        model: the model being trained; its current weights are the average's start.
        decay: the final decay d (``0.9999`` averages over roughly the last 10 000 updates).
        tau: τ of the warm-up ramp, in updates (0: constant decay).
    """

    def __init__(self, model: nn.Module, decay: float = 0.9999, tau: float = 2000):
        super().__init__(decay, tau)
        self.module = copy.deepcopy(model).eval()
        self.module.requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """One step of W_ema ← d·W_ema + (1 − d)·W for every tensor in ``model.state_dict()``."""
        d = self._count_update()
        ema_state = self.module.state_dict()
        model_state = model.state_dict()
        if ema_state.keys() != model_state.keys():
            missing = sorted(ema_state.keys() ^ model_state.keys())
            raise ValueError(f"model does not match the averaged one; differing entries: {missing[:5]}")
        for name, avg in ema_state.items():
            w = model_state[name].detach()
            if avg.is_floating_point():
                # lerp_: avg + (1 − d)(w − avg) = d·avg + (1 − d)·w
                avg.lerp_(w.to(device=avg.device, dtype=avg.dtype), 1.0 - d)
            else:
                avg.copy_(w)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume: the averaged weights, the update count and the settings."""
        return {"module": self.module.state_dict(), "updates": self.updates, "decay": self.decay, "tau": self.tau}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for key in ("module", "updates", "decay", "tau"):
            if key not in state:
                raise ValueError(f"EMA state is missing {key!r}")
        _check(state["decay"], state["tau"])
        updates = state["updates"]
        if not isinstance(updates, int) or isinstance(updates, bool) or updates < 0:
            raise ValueError(f"Invalid updates: {updates!r}")
        self.module.load_state_dict(state["module"])
        self.updates = updates
        self.decay = float(state["decay"])
        self.tau = float(state["tau"])


class TensorEMA(_Schedule):
    """The same moving average for a bare tensor: a 2D point, or a batch of points ``(R, 2)``.

    Args:
        init: the average's start (copied; integers become the default float dtype).
        decay: the final decay d.
        tau: τ of the warm-up ramp (0, the default here: constant decay, the textbook average).
    """

    def __init__(self, init: Tensor, decay: float = 0.9, tau: float = 0.0):
        super().__init__(decay, tau)
        value = torch.as_tensor(init).detach().clone()
        if not value.is_floating_point():
            value = value.to(torch.get_default_dtype())
        self.value: Tensor = value

    @torch.no_grad()
    def update(self, x: Tensor) -> Tensor:
        """Averages in ``x`` (same shape as the value) and returns a copy of the new average."""
        x = torch.as_tensor(x)
        if x.shape != self.value.shape:
            raise ValueError(f"shape {tuple(x.shape)} does not match the average's {tuple(self.value.shape)}")
        d = self._count_update()
        self.value.lerp_(x.detach().to(self.value.dtype), 1.0 - d)  # d·avg + (1 − d)·x
        return self.value.clone()
