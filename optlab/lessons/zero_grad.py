"""The lesson on zero_grad / backward / step: gradients add up, accumulation, set_to_none, closures (no schedules)."""

import torch

from optlab import optim


def grads_pile_up(calls: int) -> list[float]:
    """backward() adds into .grad. Without zero_grad the gradient after k calls is k times the true one."""
    w = torch.tensor([1.0], requires_grad=True)
    seen = []
    for _ in range(calls):
        loss = 3.0 * w.sum()  # dL/dw = 3
        loss.backward()
        seen.append(float(w.grad))
    return seen


def run_with_and_without_zero_grad(lr: float, steps: int) -> dict:
    """Gradient descent on L = w^2 / 2 from w = 1, once with zero_grad each step, once without."""
    out = {}
    for label, zero in (("with zero_grad", True), ("without zero_grad", False)):
        w = torch.tensor([1.0], requires_grad=True)
        opt = optim.SGD([w], lr=lr)
        path = [w.item()]
        for _ in range(steps):
            if zero:
                opt.zero_grad()
            (0.5 * w**2).sum().backward()
            opt.step()
            path.append(w.item())
        out[label] = path
    return out


def accumulation_equals_big_batch(micro_batches: int, batch_size: int, seed: int = 0) -> dict:
    """k micro-batches, each loss divided by k, give the same gradient as one batch k times larger."""
    torch.manual_seed(seed)
    x = torch.randn(micro_batches * batch_size, 3)
    y = torch.randn(micro_batches * batch_size)

    model = torch.nn.Linear(3, 1)
    model.zero_grad()
    loss = ((model(x).squeeze(1) - y) ** 2).mean()  # one big batch
    loss.backward()
    big = model.weight.grad.clone()

    model.zero_grad()
    for xb, yb in zip(x.split(batch_size), y.split(batch_size), strict=True):
        loss = ((model(xb).squeeze(1) - yb) ** 2).mean() / micro_batches  # mean over the big batch
        loss.backward()  # adds into .grad
    accumulated = model.weight.grad.clone()
    return {"big_batch": big.squeeze(0).tolist(), "accumulated": accumulated.squeeze(0).tolist(),
            "max_gap": float((big - accumulated).abs().max())}


def set_to_none() -> dict:
    """zero_grad() sets .grad to None (the default since PyTorch 2.0); set_to_none=False fills it with zeros."""
    w = torch.ones(2, requires_grad=True)
    opt = optim.SGD([w], lr=0.1, momentum=0.9)
    w.sum().backward()
    opt.zero_grad(set_to_none=False)
    zeros = w.grad
    opt.zero_grad()
    none = w.grad
    # a parameter whose grad is None is skipped by step(): no update, no state
    opt.step()
    return {"set_to_none=False": repr(zeros), "set_to_none=True": repr(none), "state_after_step": len(opt.state)}


def closure_calls(max_iter: int) -> dict:
    """Some optimizers (torch.optim.LBFGS) must evaluate the loss several times per step, so step() takes a closure."""
    w = torch.tensor([3.0, -2.0], requires_grad=True)
    opt = torch.optim.LBFGS([w], lr=1.0, max_iter=max_iter)
    calls = 0

    def closure():
        nonlocal calls
        calls += 1
        opt.zero_grad()
        loss = ((w - torch.tensor([1.0, 1.0])) ** 2).sum()
        loss.backward()
        return loss

    first_loss = opt.step(closure).item()  # step returns the closure's first loss
    return {"closure_calls": calls, "loss_returned": first_loss, "w_after": w.detach().tolist()}
