"""The lesson on an EMA of the weights: a shadow path on a noisy surface, the tau warm-up, the lag on a ramp.

The EMA itself is optlab.ema (timm / YOLO style: decay_t = decay * (1 - exp(-t / tau))); nothing is re-implemented.
"""

import numpy as np
import torch

from optlab import optim
from optlab.ema import TensorEMA, ema_decay
from optlab.surfaces import quadratic


def shadow_path(lr: float, noise: float, decay: float, tau: float, steps: int, seed: int = 0) -> dict:
    """SGD with noisy gradients on a quadratic bowl, and the EMA of its weights following behind."""
    surface = quadratic(4.0)
    g = torch.Generator().manual_seed(seed)
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([p], lr=lr)
    ema = TensorEMA(p.detach(), decay=decay, tau=tau)
    raw, shadow = [p.detach().clone()], [ema.value.clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface(p).backward()
        p.grad += noise * torch.randn(2, generator=g, dtype=torch.float64)  # a noisy mini-batch gradient
        opt.step()
        shadow.append(ema.update(p.detach()).clone())
        raw.append(p.detach().clone())
    raw_np, shadow_np = torch.stack(raw).numpy(), torch.stack(shadow).numpy()
    tail = slice(steps // 2, None)  # the second half, once both have reached the bottom
    return {
        "raw": raw_np,
        "ema": shadow_np,
        "raw_distance": float(np.linalg.norm(raw_np[tail], axis=1).mean()),  # the minimum is the origin
        "ema_distance": float(np.linalg.norm(shadow_np[tail], axis=1).mean()),
    }


def decay_warmup(decay: float, tau: float, updates: int) -> np.ndarray:
    """The decay actually used after t updates: small at first, so early weights are not averaged in for long."""
    return np.array([ema_decay(t, decay, tau) for t in range(1, updates + 1)])


def lag_on_a_ramp(slope: float, decay: float, steps: int) -> float:
    """Weights that grow linearly, w_t = c t; a constant-decay EMA falls behind by c d / (1 - d)."""
    ema = TensorEMA(torch.zeros(1, dtype=torch.float64), decay=decay, tau=0.0)  # tau = 0: constant decay
    for t in range(1, steps + 1):
        w = torch.full((1,), slope * t, dtype=torch.float64)
        ema.update(w)  # ema <- d * ema + (1 - d) * w
    return (w - ema.value).item()
