"""The lesson on anatomy of an optimizer: param_groups, lazy state, add_param_group, state_dict (no training loop)."""

import torch

from optlab import optim


def two_tensors() -> tuple[torch.Tensor, torch.Tensor]:
    """The 'model' of this lesson: a weight matrix and a bias, both leaf tensors that need gradients."""
    torch.manual_seed(0)
    w = torch.randn(2, 2, requires_grad=True)
    b = torch.zeros(2, requires_grad=True)
    return w, b


def loss_of(w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A fixed small loss: L = sum((x W + b)^2) for one fixed input x = (1, 2)."""
    x = torch.tensor([1.0, 2.0])
    return ((x @ w + b) ** 2).sum()


def param_groups_filled_in(lr: float, momentum: float) -> list[dict]:
    """Build SGD over two tensors; torch fills every hyperparameter we did not pass with its default."""
    w, b = two_tensors()
    opt = optim.SGD([w, b], lr=lr, momentum=momentum)
    return [{k: v for k, v in group.items() if k != "params"} for group in opt.param_groups]


def state_before_and_after_step(lr: float, momentum: float) -> dict:
    """``state`` is empty until the first step(); then it holds what the algorithm must remember.

    With momentum, each parameter gets its ``momentum_buffer``. With momentum 0 torch's SGD remembers nothing
    (it creates no buffer), so ``state`` is still empty after the step.
    """
    w, b = two_tensors()
    opt = optim.SGD([w, b], lr=lr, momentum=momentum)
    before = len(opt.state)
    loss_of(w, b).backward()
    opt.step()
    # .get, not opt.state[w]: state is a defaultdict, and indexing it would create an empty entry
    kept = opt.state.get(w, {})
    buffer = kept.get("momentum_buffer")
    return {
        "entries_before": before,
        "entries_after": len(opt.state),
        "keys_after": sorted(kept),
        # first step: the buffer is the gradient itself (b_1 = g_1), whatever the momentum; None without a buffer
        "buffer_equals_grad": None if buffer is None else bool(torch.equal(buffer, w.grad)),
    }


def params_are_the_models_own() -> dict:
    """param_groups holds the very tensors we passed in, so step() changes the model in place."""
    w, b = two_tensors()
    opt = optim.SGD([w, b], lr=0.1)
    held = opt.param_groups[0]["params"][0]
    w_before = w.detach().clone()
    loss_of(w, b).backward()
    opt.step()
    return {
        "same_object": held is w,
        "same_memory": held.data_ptr() == w.data_ptr(),
        "model_changed": not torch.equal(w.detach(), w_before),
    }


def add_a_group(lr: float, head_lr: float) -> list[dict]:
    """Add a second group with its own lr; the keys it does not set come from the optimizer's defaults."""
    w, b = two_tensors()
    head = torch.zeros(2, requires_grad=True)
    opt = optim.SGD([w, b], lr=lr, momentum=0.9)
    opt.add_param_group({"params": [head], "lr": head_lr})
    return [
        {"n_params": len(g["params"]), "lr": g["lr"], "momentum": g["momentum"], "weight_decay": g["weight_decay"]}
        for g in opt.param_groups
    ]


def state_dict_before_and_after(lr: float, momentum: float) -> tuple[dict, dict]:
    """state_dict() names parameters by their position (0, 1, ...), not by the tensors themselves."""
    w, b = two_tensors()
    opt = optim.SGD([w, b], lr=lr, momentum=momentum)
    before = opt.state_dict()
    loss_of(w, b).backward()
    opt.step()
    after = opt.state_dict()
    return before, after


def resume_from_state_dict(lr: float, momentum: float, steps: int = 6) -> dict:
    """Stop halfway, save model and optimizer, load both into fresh objects, finish: the same weights as no stop."""

    def train(w, b, opt, n):
        for _ in range(n):
            opt.zero_grad()
            loss_of(w, b).backward()
            opt.step()

    w, b = two_tensors()  # run straight through
    opt = optim.SGD([w, b], lr=lr, momentum=momentum)
    train(w, b, opt, steps)

    w1, b1 = two_tensors()  # stop after half the steps and save
    opt1 = optim.SGD([w1, b1], lr=lr, momentum=momentum)
    train(w1, b1, opt1, steps // 2)
    saved_weights = [w1.detach().clone(), b1.detach().clone()]
    saved_opt = opt1.state_dict()

    def finish(load_optimizer: bool) -> torch.Tensor:
        w2 = saved_weights[0].clone().requires_grad_()
        b2 = saved_weights[1].clone().requires_grad_()
        opt2 = optim.SGD([w2, b2], lr=lr, momentum=momentum)
        if load_optimizer:
            opt2.load_state_dict(saved_opt)
        train(w2, b2, opt2, steps - steps // 2)
        return w2.detach()

    return {
        "steps": steps,
        "stopped_at": steps // 2,
        "gap_resumed": float((finish(True) - w.detach()).abs().max()),
        "gap_fresh_optimizer": float((finish(False) - w.detach()).abs().max()),
    }
