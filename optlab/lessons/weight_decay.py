"""The lesson on weight decay: L2 in the gradient vs decoupled (AdamW) vs none; one SGD step by hand (no schedules)."""

import torch

from optlab import optim


def one_sgd_step(weight_decay: float, lr: float = 0.1) -> dict:
    """One SGD step on loss = (x @ w).sum(): the gradient is x summed over rows, plus weight_decay * w."""
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    w = torch.tensor([[1.0], [-1.0]], requires_grad=True)
    opt = optim.SGD([w], lr=lr, weight_decay=weight_decay)
    before = w.detach().clone()
    loss = (x @ w).sum()
    loss.backward()
    opt.step()
    return {
        "x": x.tolist(),
        "lr": lr,
        "loss": loss.item(),
        "w_before": before.flatten().tolist(),
        "grad": w.grad.flatten().tolist(),  # dL/dw, without the decay term
        "w_after": w.detach().flatten().tolist(),  # w - lr * (grad + weight_decay * w)
    }


def noisy_gradients(steps: int, scales: tuple[float, float], seed: int = 0) -> torch.Tensor:
    """Zero-mean gradient noise, one column per weight: the data says nothing, only decay pulls w to 0."""
    g = torch.Generator().manual_seed(seed)
    return torch.randn(steps, 2, generator=g) * torch.tensor(scales)


def decay_under_adam(lr: float, weight_decay: float, steps: int, scales: tuple[float, float] = (1.0, 0.001)) -> dict:
    """Two weights start at 1 and see the same noise. How much does decay shrink each one?

    Adam + L2 divides the decay term by sqrt(v): a weight with large gradients is barely decayed.
    AdamW subtracts lr * weight_decay * w outside Adam's normalisation: both weights decay alike.
    """
    grads = noisy_gradients(steps, scales)
    finals = {}
    for label, cls, wd in (("no decay", optim.Adam, 0.0), ("Adam + L2", optim.Adam, weight_decay),
                           ("AdamW", optim.AdamW, weight_decay)):
        w = torch.ones(2, requires_grad=True)
        opt = cls([w], lr=lr, weight_decay=wd)
        for g in grads:
            opt.zero_grad()
            (g * w).sum().backward()  # dL/dw = g
            opt.step()
        finals[label] = w.detach().double().numpy()
    return {
        "final": finals,
        # shrink = how much lower the weight ends than with no decay, per weight
        "shrink": {k: finals["no decay"] - v for k, v in finals.items() if k != "no decay"},
    }
