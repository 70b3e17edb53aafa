"""The lesson on Adafactor's factored second moment: its memory per parameter matrix, and how good the estimate is.

Adafactor (Shazeer and Stern, "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018) keeps,
for an r × c matrix, a row average R (r numbers) and a column average C (c numbers) of g² instead of the full
r × c moving average v, and uses V̂ = R Cᵀ / mean(R). Sizes are read from the optimizers' real state tensors.
Leaves out drawing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from optlab import optim

#: Layer shapes of the lesson's table: MNIST-sized dense layers, a wide square one, a bias, a conv kernel.
SHAPES = ((784, 128), (128, 10), (1024, 1024), (4096, 1024), (128,), (64, 3, 3, 3))


def state_numbers(opt: torch.optim.Optimizer, p: torch.Tensor) -> dict[str, int]:
    """The state tensors the optimizer keeps for ``p`` (the step counter left out): key -> how many numbers."""
    return {k: v.numel() for k, v in opt.state[p].items() if k != "step" and torch.is_tensor(v)}


def state_memory(shapes: Sequence[tuple[int, ...]] = SHAPES) -> list[dict]:
    """One step of Adafactor and of Adam on a parameter of each shape; how many numbers each keeps as state."""
    rows = []
    for shape in shapes:
        kept = {}
        for name, cls in (("Adafactor", optim.Adafactor), ("Adam", optim.Adam)):
            p = torch.zeros(shape, requires_grad=True)
            opt = cls([p])
            p.grad = torch.ones(shape)
            opt.step()
            kept[name] = state_numbers(opt, p)
        n = int(np.prod(shape))
        factored = sum(kept["Adafactor"].values())
        rows.append({"shape": " × ".join(map(str, shape)), "parameters": n,
                     "Adafactor state": factored, "Adafactor keys": ", ".join(kept["Adafactor"]),
                     "Adam state": sum(kept["Adam"].values()), "Adam keys": ", ".join(kept["Adam"]),
                     "Adafactor / parameters": factored / n})
    return rows


def gradients(rows: int, cols: int, steps: int, noise: float, seed: int = 0) -> torch.Tensor:
    """Gradients (steps, rows, cols): g_t = a bᵀ ⊙ (1 + noise·ξ_t), ξ standard normal; a and b fixed per seed.

    With noise 0 every g_t² is the outer product of a² and b² (rank one), the case the factoring is exact for.
    """
    gen = torch.Generator().manual_seed(seed)
    a = torch.rand(rows, 1, generator=gen, dtype=torch.float64) * 2 + 0.1
    b = torch.rand(1, cols, generator=gen, dtype=torch.float64) * 2 + 0.1
    xi = torch.randn(steps, rows, cols, generator=gen, dtype=torch.float64)
    return (a @ b) * (1 + noise * xi)


def factored_vs_full(rows: int, cols: int, steps: int, noise: float, seed: int = 0) -> dict:
    """Feed Adafactor the gradients above and read its factored estimate V̂ (the ``var_estimate`` it records);
    next to it the full moving average v it stands for, computed by hand with the same decay:
    v_t = β̂_{2,t} v_{t-1} + (1 − β̂_{2,t}) g_t², 1 − β̂_{2,t} = t^τ (torch.optim.Adafactor docs)."""
    grads = gradients(rows, cols, steps, noise, seed)
    p = torch.zeros(rows, cols, dtype=torch.float64, requires_grad=True)
    opt = optim.Adafactor([p], lr=0.01)
    opt.explain = True
    tau = opt.param_groups[0]["beta2_decay"]
    full = torch.zeros(rows, cols, dtype=torch.float64)
    for t in range(1, steps + 1):
        p.grad = grads[t - 1].clone()
        opt.step()
        rate = t ** tau  # 1 − β̂_{2,t}
        full = (1 - rate) * full + rate * grads[t - 1] ** 2
    estimate = opt.explanations()[0]["var_estimate"]
    relative = ((estimate - full).abs() / full).numpy()
    return {"factored": estimate.numpy(), "full": full.numpy(), "relative_error": relative,
            "max_relative_error": float(relative.max()), "mean_relative_error": float(relative.mean()),
            "stored": rows + cols, "full_size": rows * cols}
