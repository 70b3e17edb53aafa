"""The lesson on momentum and Nesterov: the buffer as a weighted sum, dampening, oscillation, the quadratic theory.

Theory numbers come from optlab.theory (Goh, "Why Momentum Really Works", Distill 2017); runs use torch's SGD API.
"""

import math

import numpy as np
import torch

from optlab import optim, theory
from optlab.surfaces import quadratic


def buffer_vs_formula(grads: list[float], momentum: float, dampening: float) -> dict:
    """Feed SGD (momentum > 0) a chosen gradient sequence and compare its momentum_buffer with the sum by hand.

    PyTorch: b_1 = g_1 (the first step is not damped), b_t = mu b_{t-1} + (1 - tau) g_t, so
    b_t = mu^(t-1) g_1 + (1 - tau) * sum_{k=2..t} mu^(t-k) g_k.
    """
    w = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=momentum, dampening=dampening)
    from_torch, by_hand = [], []
    for t, g in enumerate(grads, start=1):
        opt.zero_grad()
        (g * w).sum().backward()  # dL/dw = g
        opt.step()
        from_torch.append(opt.state[w]["momentum_buffer"].item())
        first = momentum ** (t - 1) * grads[0]
        rest = (1 - dampening) * sum(momentum ** (t - k) * grads[k - 1] for k in range(2, t + 1))
        by_hand.append(first + rest)
    return {"torch": np.array(from_torch), "formula": np.array(by_hand)}


def steps_under_constant_gradient(lr: float, momentum: float, steps: int, nesterov: bool = False) -> np.ndarray:
    """Step lengths when the gradient is always 1: they grow towards lr / (1 - mu)."""
    w = torch.zeros(1, requires_grad=True)
    opt = optim.SGD([w], lr=lr, momentum=momentum, nesterov=nesterov)
    lengths = []
    for _ in range(steps):
        before = w.item()
        opt.zero_grad()
        w.sum().backward()  # dL/dw = 1
        opt.step()
        lengths.append(before - w.item())
    return np.array(lengths)


def run_on_quadratic(kappa: float, lr: float, momentum: float, steps: int, nesterov: bool = False) -> np.ndarray:
    """SGD with momentum on surfaces.quadratic(kappa); returns the path, shape (steps + 1, 2)."""
    surface = quadratic(kappa)
    p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
    opt = optim.SGD([p], lr=lr, momentum=momentum, nesterov=nesterov)
    path = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        surface(p).backward()
        opt.step()
        path.append(p.detach().clone())
    return torch.stack(path).numpy()


def theory_vs_measured(kappa: float, steps: int) -> list[dict]:
    """Tuned GD, heavy ball and Nesterov on the quadratic: the predicted rate next to the measured one."""
    lam_min, lam_max = quadratic(kappa).hessian_eigs
    alpha_gd, rate_gd = theory.gd_optimal(lam_min, lam_max)
    alpha_hb, beta_hb, rate_hb = theory.momentum_optimal(lam_min, lam_max)
    alpha_n, beta_n = 1.0 / lam_max, (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    rows = []
    for name, lr, mu, nesterov, predicted in (
        ("gradient descent", alpha_gd, 0.0, False, rate_gd),
        ("heavy ball", alpha_hb, beta_hb, False, rate_hb),
        ("Nesterov", alpha_n, beta_n, True, theory.nesterov_rate(kappa)),
    ):
        path = run_on_quadratic(kappa, lr, mu, steps, nesterov)
        errors = np.linalg.norm(path, axis=1)  # distance to the minimum at the origin
        rows.append({"method": name, "lr": lr, "momentum": mu, "predicted rate": predicted,
                     "measured rate": theory.measured_rate(errors)})
    return rows
