"""The lesson on Lion's sign update: every coordinate moves by exactly ± the learning rate, on a surface and in a net.

Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023, Algorithm 2):
c_t = β1 m_{t-1} + (1 − β1) g_t, θ_t = θ_{t-1} − lr·sign(c_t), m_t = β2 m_{t-1} + (1 − β2) g_t.
Leaves out drawing; runs use optlab's Lion (equal to lion-pytorch) and, for contrast, Adam.
"""

from __future__ import annotations

import numpy as np
import torch

from optlab import optim
from optlab.surfaces import get_surface


def sign_run(surface: str, lr: float, steps: int, beta1: float = 0.9, beta2: float = 0.99,
             surface_params: dict | None = None) -> dict:
    """Lion on a surface from its start: the path (steps + 1, 2), the loss, and each coordinate's |Δθ|/lr."""
    f = get_surface(surface, **(surface_params or {}))
    p = torch.tensor(f.start, dtype=torch.float64, requires_grad=True)
    opt = optim.Lion([p], lr=lr, betas=(beta1, beta2))
    path, losses = [p.detach().clone()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        losses.append(loss.item())
        opt.step()
        path.append(p.detach().clone())
    points = torch.stack(path).numpy()
    return {"path": points, "losses": np.array(losses), "ratios": np.abs(np.diff(points, axis=0)) / lr}


def small_net(seed: int = 0) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor]:
    """A 4-16-16-1 MLP (593 weights) and a regression batch, y = sin(x·w) + noise, from ``seed``."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16), torch.nn.Tanh(),
                              torch.nn.Linear(16, 1)).double()
    x = torch.randn(64, 4, generator=gen, dtype=torch.float64)
    y = torch.sin(x @ torch.randn(4, 1, generator=gen, dtype=torch.float64))
    return net, x, y + 0.1 * torch.randn(64, 1, generator=gen, dtype=torch.float64)


def net_step_ratios(lr: float, steps: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """Train the small net for ``steps`` steps with Lion and with Adam (same start, same lr); return |Δθ|/lr of
    every weight in the last step, for each."""
    out = {}
    for name, cls in (("Lion", optim.Lion), ("Adam", optim.Adam)):
        net, x, y = small_net(seed)
        opt = cls(net.parameters(), lr=lr)
        for _ in range(steps):
            before = torch.cat([p.detach().reshape(-1).clone() for p in net.parameters()])
            opt.zero_grad()
            torch.nn.functional.mse_loss(net(x), y).backward()
            opt.step()
        after = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
        out[name] = ((after - before).abs() / lr).numpy()
    return out


def share_at_exactly_lr(ratios: np.ndarray, tol: float = 1e-9) -> float:
    """The fraction of weights whose step was lr to within ``tol`` (relative)."""
    return float(np.mean(np.abs(np.asarray(ratios) - 1.0) <= tol))
