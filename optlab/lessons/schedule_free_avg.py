"""The lesson on schedule-free AdamW's averaging: the point z that steps, y where gradients are taken, x the average.

Defazio et al., "The Road Less Scheduled", NeurIPS 2024 (https://arxiv.org/abs/2405.15682), Algorithm 1:
y_t = (1 − β1) z_t + β1 x_t; z_{t+1} = z_t − γ_t ĝ(y_t); x_{t+1} = (1 − c_{t+1}) x_t + c_{t+1} z_{t+1}. The
parameters hold y in train mode and x in eval mode: x is the point to evaluate. Leaves out drawing.
"""

from __future__ import annotations

import numpy as np
import torch

from optlab import optim
from optlab.surfaces import get_surface

#: The three sequences, in the order the lesson names them.
SEQUENCES = ("z", "y", "x")


def three_sequences(lr: float, beta1: float, steps: int, noise: float, kappa: float = 10.0,
                    seed: int = 0) -> dict:
    """Schedule-free AdamW on the quadratic with gradient noise g + noise·ξ (ξ standard normal, from ``seed``):
    the paths of z, y and x (each (steps + 1, 2)), the loss at each, and the weights c_t of the average.

    y is the parameter itself (train mode); z and x are the terms the optimizer records each step.
    """
    f = get_surface("quadratic", kappa=kappa)
    gen = torch.Generator().manual_seed(seed)
    p = torch.tensor(f.start, dtype=torch.float64, requires_grad=True)
    opt = optim.AdamWScheduleFreeTraining([p], lr=lr, betas=(beta1, 0.999))
    opt.explain = True
    paths = {name: [p.detach().clone()] for name in SEQUENCES}
    weights = []
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        p.grad.add_(noise * torch.randn(2, generator=gen, dtype=torch.float64))
        opt.step()
        terms = opt.explanations()[0]
        paths["z"].append(terms["z"])
        paths["x"].append(terms["x"])
        paths["y"].append(p.detach().clone())
        weights.append(terms["ckp1"].item())
    out = {name: torch.stack(points).numpy() for name, points in paths.items()}
    with torch.no_grad():
        losses = {name: f(torch.from_numpy(path)).numpy() for name, path in out.items()}
    return {"paths": out, "losses": losses, "weights": np.array(weights)}


def final_losses(run: dict, last: int = 20) -> dict[str, float]:
    """The mean loss of each sequence over its last ``last`` points: the level it settles at under the noise."""
    return {name: float(np.mean(run["losses"][name][-last:])) for name in SEQUENCES}
