"""RMSprop (Hinton's lecture 6e; centered form from Graves 2013), exactly as torch.optim.RMSprop computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex parameter
is updated as its real view, as torch does.
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import (
    GRAD_FORMULAS,
    ExplainedOptimizer,
    new_step,
    real_view,
    record_grad,
    refuse_unsupported,
    snapshot,
    to_scalar,
    zeros,
)
from ._checks import check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm


class RMSprop(ExplainedOptimizer):
    """RMSprop, torch.optim.RMSprop's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``alpha`` is the smoothing constant α, ``eps`` ε, ``weight_decay`` λ,
    ``momentum`` μ; the state's ``square_avg`` is v_t, ``grad_avg`` is g^ave_t (centered only) and
    ``momentum_buffer`` is b_t (momentum only); σ_t is the denominator √v_t + ε (or √(v_t - (g^ave_t)²) + ε when
    centered) and d_t the direction the step follows.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-2).
        alpha (float): smoothing constant α of the squared-gradient average (default: 0.99).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): L2 penalty λ (default: 0).
        momentum (float): momentum factor μ (default: 0).
        centered (bool): divide by an estimate of the gradient's variance instead of its second moment
            (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["rmsprop"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        "square_avg": r"v_t = \alpha v_{t-1} + (1-\alpha) g_t^2",
        "grad_avg": r"g^{ave}_t = \alpha g^{ave}_{t-1} + (1-\alpha) g_t",
        "avg": r"\sigma_t = \sqrt{v_t} + \epsilon",
        "avg_centered": r"\sigma_t = \sqrt{v_t - (g^{ave}_t)^2} + \epsilon",
        "direction": r"d_t = g_t / \sigma_t",
        "momentum_buffer": r"b_t = \mu b_{t-1} + g_t / \sigma_t",
        "direction_momentum": r"d_t = b_t",
        "update": r"\Delta\theta_t = -\gamma d_t",
    }
    SYMBOLS = {
        "lr": r"\gamma",
        "alpha": r"\alpha",
        "eps": r"\epsilon",
        "weight_decay": r"\lambda",
        "momentum": r"\mu",
    }
    GROUP_DEFAULTS_ON_LOAD = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_non_negative("momentum", momentum)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("alpha", alpha)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        """Lazy state: step counter, v_0 = 0, b_0 = 0 (momentum), g^ave_0 = 0 (centered)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["square_avg"] = zeros(p)
            if group["momentum"] > 0:
                state["momentum_buffer"] = zeros(p)
            if group["centered"]:
                state["grad_avg"] = zeros(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            alpha, eps, weight_decay = group["alpha"], group["eps"], group["weight_decay"]
            momentum, centered, maximize = group["momentum"], group["centered"], group["maximize"]
            for p in self._params_with_grad(group, records, "RMSprop does not support sparse gradients"):
                state = self._init_state(p, group)
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                state["step"] += 1
                # g_t <- g_t + λ θ_{t-1}
                if weight_decay != 0:
                    grad = _weight_decay.l2(grad, p, weight_decay)
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and the state (torch's order)
                param, grad, square_avg = real_view(p), real_view(grad), real_view(state["square_avg"])

                # v_t = α v_{t-1} + (1 - α) g_t²
                square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
                if centered:
                    grad_avg = real_view(state["grad_avg"])
                    # g^ave_t = α g^ave_{t-1} + (1 - α) g_t
                    grad_avg.lerp_(grad, 1 - alpha)
                    # √(v_t - (g^ave_t)²): the gradient's standard deviation
                    avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
                else:
                    # √v_t: the root mean square of the gradient
                    avg = square_avg.sqrt()
                # σ_t = ... + ε
                avg = avg.add_(eps)

                if momentum > 0:
                    buf = real_view(state["momentum_buffer"])
                    # b_t = μ b_{t-1} + g_t / σ_t;  θ_t = θ_{t-1} - γ b_t
                    buf.mul_(momentum).addcdiv_(grad, avg)
                    param.add_(buf, alpha=-lr)
                else:
                    # θ_t = θ_{t-1} - γ g_t / σ_t
                    param.addcdiv_(grad, avg, value=-lr)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, grad, lr, weight_decay, False)
                    terms["square_avg"] = snapshot(square_avg)
                    if centered:
                        terms["grad_avg"] = snapshot(grad_avg)
                    terms["avg_centered" if centered else "avg"] = snapshot(avg)
                    if momentum > 0:
                        terms["momentum_buffer"] = snapshot(buf)
                        terms["direction_momentum"] = snapshot(buf)
                    else:
                        terms["direction"] = grad / avg
                    terms["update"] = param - before
                    records.append(terms)
        return loss


RMSprop.__doc__ = with_algorithm(RMSprop.__doc__, RMSprop.ALGORITHM_LATEX)
