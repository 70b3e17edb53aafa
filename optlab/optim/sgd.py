"""Stochastic gradient descent with optional (Nesterov) momentum, exactly as torch.optim.SGD computes it.

Leaves out torch's foreach/fused kernels and sparse gradients; the math per parameter is the same. A complex
parameter is updated with complex operations, as torch does (the update is linear in g_t, so each part of θ
moves on its own); its terms are recorded as its real view, like the other optimizers'.
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import (
    GRAD_FORMULAS,
    ExplainedOptimizer,
    real_view,
    record_grad,
    refuse_unsupported,
    snapshot,
    to_scalar,
)
from ._checks import check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm


class SGD(ExplainedOptimizer):
    """Stochastic gradient descent (optionally with momentum), torch.optim.SGD's algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``momentum`` μ, ``dampening`` τ, ``weight_decay`` λ, the state's
    ``momentum_buffer`` is b_t. The buffer starts as the first gradient (no dampening on step 1), as in torch.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        momentum (float): momentum factor μ (default: 0).
        dampening (float): dampening τ for momentum (default: 0).
        weight_decay (float or Tensor): L2 penalty λ added to the gradient (default: 0).
        nesterov (bool): step along g_t + μ b_t instead of b_t; needs μ > 0 and τ = 0 (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. differentiable, fused: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["sgd"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        "momentum_buffer": r"b_t = \mu b_{t-1} + (1-\tau) g_t \;(b_1 = g_1)",
        "direction": r"d_t = g_t",
        "direction_heavy_ball": r"d_t = b_t",
        "direction_nesterov": r"d_t = g_t + \mu b_t",
        "update": r"\Delta\theta_t = -\gamma d_t",
    }
    SYMBOLS = {"lr": r"\gamma", "momentum": r"\mu", "dampening": r"\tau", "weight_decay": r"\lambda"}
    GROUP_DEFAULTS_ON_LOAD = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        # torch's SGD checks with `x < 0`, so NaN passes here (it does not in the other optimizers)
        check_lr(lr, refuse_nan=False)
        check_non_negative("momentum", momentum, refuse_nan=False)
        check_non_negative("weight_decay", weight_decay, refuse_nan=False)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        refuse_unsupported(foreach=foreach, fused=fused, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            dampening, nesterov, maximize = group["dampening"], group["nesterov"], group["maximize"]
            for p in self._params_with_grad(group, records, "optlab SGD does not support sparse gradients"):
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # g_t <- g_t + λ θ_{t-1}
                if weight_decay != 0:
                    grad = _weight_decay.l2(grad, p, weight_decay)

                buf = None
                if momentum != 0:
                    state = self.state[p]
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        # b_1 = g_1
                        buf = grad.detach().clone()
                        state["momentum_buffer"] = buf
                    else:
                        # b_t = μ b_{t-1} + (1 - τ) g_t
                        buf.mul_(momentum).add_(grad, alpha=1 - dampening)
                    # d_t = g_t + μ b_t (Nesterov) or d_t = b_t (heavy ball)
                    direction = grad.add(buf, alpha=momentum) if nesterov else buf
                else:
                    # d_t = g_t: plain gradient descent
                    direction = grad

                # θ_t = θ_{t-1} - γ d_t
                p.add_(direction, alpha=-lr)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, real_view(grad), lr, weight_decay, False)
                    if buf is None:
                        terms["direction"] = snapshot(real_view(direction))
                    else:
                        terms["momentum_buffer"] = snapshot(real_view(buf))
                        terms["direction_nesterov" if nesterov else "direction_heavy_ball"] = snapshot(
                            real_view(direction)
                        )
                    terms["update"] = real_view(p) - before
                    records.append(terms)
        return loss


SGD.__doc__ = with_algorithm(SGD.__doc__, SGD.ALGORITHM_LATEX)
