"""The lesson on a gallery of failures, each with the number theory expects next to the one measured.

AMSGrad counterexample: Reddi, Kale, Kumar, "On the Convergence of Adam and Beyond", ICLR 2018, Theorem 1.
"""

import math

import numpy as np
import torch

from optlab import optim, theory
from optlab.surfaces import get_surface, quadratic


def amsgrad_counterexample(C: float = 3.0, alpha: float = 0.1, steps: int = 3000) -> dict:
    """Theorem 1 of Reddi et al.: f_t(x) = C x if t mod 3 = 1 else -x, on [-1, 1]; the best point is x = -1.

    beta1 = 0, beta2 = 1 / (1 + C^2), step alpha / sqrt(t), projection back into [-1, 1] after each step.
    Adam and AMSGrad run side by side as two parameter groups of one optimizer (amsgrad is a per-group setting).
    """
    x_adam = torch.zeros(1, requires_grad=True)
    x_ams = torch.zeros(1, requires_grad=True)
    opt = optim.Adam([{"params": [x_adam], "amsgrad": False}, {"params": [x_ams], "amsgrad": True}],
                     lr=alpha, betas=(0.0, 1.0 / (1.0 + C * C)))
    path = np.zeros((steps + 1, 2))
    for t in range(1, steps + 1):
        for group in opt.param_groups:
            group["lr"] = alpha / math.sqrt(t)  # alpha_t = alpha / sqrt(t)
        slope = C if t % 3 == 1 else -1.0  # one large gradient, then two small ones the other way
        opt.zero_grad()
        (slope * (x_adam + x_ams)).sum().backward()
        opt.step()
        with torch.no_grad():
            x_adam.clamp_(-1.0, 1.0)  # projection onto the feasible set [-1, 1]
            x_ams.clamp_(-1.0, 1.0)
        path[t] = (x_adam.item(), x_ams.item())
    return {"adam": path[:, 0], "amsgrad": path[:, 1], "best": -1.0}


def divergence_past_two_over_lambda(factors: tuple[float, ...], kappa: float = 10.0, steps: int = 40) -> list[dict]:
    """Gradient descent on the quadratic with lr = factor * 2 / lambda_max: stable below 2 / lambda_max only."""
    surface = quadratic(kappa)
    lam_min, lam_max = surface.hessian_eigs
    rows = []
    for factor in factors:
        lr = factor * 2.0 / lam_max
        p = torch.tensor(surface.start, dtype=torch.float64, requires_grad=True)
        opt = optim.SGD([p], lr=lr)
        errors = [p.detach().norm().item()]  # distance to the minimum at the origin
        for _ in range(steps):
            opt.zero_grad()
            surface(p).backward()
            opt.step()
            errors.append(p.detach().norm().item())
        rows.append({"lr / (2 / lambda_max)": factor, "lr": lr,
                     "predicted rate": theory.gd_rate(lr, (lam_min, lam_max)),  # max_i |1 - lr lambda_i|
                     # growth per step over the second half: (e_n / e_(n/2))^(1 / (n/2)), works both ways
                     "measured rate": (errors[-1] / errors[steps // 2]) ** (1.0 / (steps - steps // 2)),
                     "final distance": errors[-1]})
    return rows


def adam_first_step(grad: tuple[float, float], lr: float, betas: tuple[float, float] = (0.9, 0.999),
                    eps: float = 1e-8) -> dict:
    """Adam's first step with the bias correction (torch) and without it (written out here)."""
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    g = torch.tensor(grad, dtype=torch.float64)
    opt = optim.Adam([p], lr=lr, betas=betas, eps=eps)
    (g * p).sum().backward()  # dL/dp = g
    opt.step()
    with_correction = -p.detach()

    b1, b2 = betas
    m = (1 - b1) * g  # m_1 = (1 - b1) g, from m_0 = 0
    v = (1 - b2) * g * g  # v_1 = (1 - b2) g^2
    without_correction = lr * m / (v.sqrt() + eps)  # no division by (1 - b1^t), (1 - b2^t)
    return {
        "with correction": with_correction.numpy(),
        "without correction": without_correction.numpy(),
        "expected ratio": theory.adam_first_step_without_bias_correction(b1, b2),
    }


def saddle_escape(lr: float, y0: float, max_steps: int = 500) -> list[dict]:
    """Start next to the saddle of x^2 - y^2 and count the steps until |y| > 1."""
    surface = get_surface("saddle")
    rows = []
    for name, make in (("SGD", lambda p: optim.SGD([p], lr=lr)),
                       ("SGD + momentum 0.9", lambda p: optim.SGD([p], lr=lr, momentum=0.9)),
                       ("Adam", lambda p: optim.Adam([p], lr=lr))):
        p = torch.tensor([1.0, y0], dtype=torch.float64, requires_grad=True)
        opt = make(p)
        escaped = None
        for t in range(1, max_steps + 1):
            opt.zero_grad()
            surface(p).backward()
            opt.step()
            if abs(p[1].item()) > 1.0:
                escaped = t
                break
        rows.append({"optimizer": name, "steps to escape": escaped})
    # plain gradient descent: y_t = y0 (1 + 2 lr)^t, so it needs ln(1 / |y0|) / ln(1 + 2 lr) steps (never from y0 = 0)
    expected_sgd = math.ceil(math.log(1.0 / abs(y0)) / math.log(1.0 + 2.0 * lr)) if y0 else math.inf
    return [dict(rows[0], expected=expected_sgd)] + rows[1:]
