"""Adagrad (Duchi, Hazan and Singer 2011), exactly as torch.optim.Adagrad computes it for dense gradients.

Leaves out torch's foreach/fused kernels and sparse gradients; the math is the same, and a complex parameter is
updated as its real view, as torch does (its ``sum`` starts at τ + τi: τ in each part).
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
)
from ._checks import check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm


class Adagrad(ExplainedOptimizer):
    """Adagrad, torch.optim.Adagrad's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``lr_decay`` η, ``weight_decay`` λ, ``initial_accumulator_value`` τ,
    ``eps`` ε; the state's ``sum`` is the running sum of squared gradients. As in torch, the state is created
    in the constructor (``sum`` starts at the constructor's τ for every group).

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-2).
        lr_decay (float): learning-rate decay η: γ̃ = γ / (1 + (t - 1) η) (default: 0).
        weight_decay (float): L2 penalty λ (default: 0).
        initial_accumulator_value (float): starting value τ of ``sum`` (default: 0).
        eps (float): ε added to the denominator (default: 1e-10).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. differentiable, fused: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["adagrad"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        "clr": r"\tilde\gamma_t = \gamma / (1 + (t-1)\eta)",
        "sum": r"state\_sum_t = state\_sum_{t-1} + g_t^2",
        "std": r"\sqrt{state\_sum_t} + \epsilon",
        "update": r"\Delta\theta_t = -\tilde\gamma_t g_t / (\sqrt{state\_sum_t} + \epsilon)",
    }
    SYMBOLS = {
        "lr": r"\gamma",
        "lr_decay": r"\eta",
        "weight_decay": r"\lambda",
        "initial_accumulator_value": r"\tau",
        "eps": r"\epsilon",
    }
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None, "maximize": False, "differentiable": False, "fused": None}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        check_non_negative("lr_decay", lr_decay)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("initial_accumulator_value", initial_accumulator_value)
        check_non_negative("epsilon", eps)
        refuse_unsupported(foreach=foreach, fused=fused, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "lr_decay": lr_decay,
            "eps": eps,
            "weight_decay": weight_decay,
            "initial_accumulator_value": initial_accumulator_value,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)
        # eager state, as torch: sum_0 = τ (the constructor's value, for every group)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def share_memory(self) -> None:
        """Calls tensor.share_memory_() on the state sum tensors (as torch's Adagrad)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def _init_state(self, p: Tensor) -> dict:
        """State of a parameter that has none yet: step counter and sum_0 = τ (the constructor's τ, kept in
        the defaults), at construction and for a parameter group added later."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            init = self.defaults["initial_accumulator_value"]
            # a complex θ: τ + τi, so that each part of its real view starts at τ (as torch)
            init = complex(init, init) if torch.is_complex(p) else init
            state["sum"] = torch.full_like(p, init, memory_format=torch.preserve_format)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            weight_decay, lr_decay, eps = group["weight_decay"], group["lr_decay"], group["eps"]
            maximize = group["maximize"]
            for p in self._params_with_grad(group, records, "optlab Adagrad does not support sparse gradients"):
                state = self._init_state(p)
                step_t = state["step"]
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # t <- t + 1
                step_t += 1
                step = step_t.item()
                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # g_t <- g_t + λ θ_{t-1}
                if weight_decay != 0:
                    grad = _weight_decay.l2(grad, p, weight_decay)
                # γ̃ = γ / (1 + (t - 1) η)
                clr = lr / (1 + (step - 1) * lr_decay)
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and the sum (torch's order)
                param, grad, state_sum = real_view(p), real_view(grad), real_view(state["sum"])
                # sum_t = sum_{t-1} + g_t²
                state_sum.addcmul_(grad, grad, value=1)
                # √sum_t + ε
                std = state_sum.sqrt().add_(eps)
                # θ_t = θ_{t-1} - γ̃ g_t / (√sum_t + ε)
                param.addcdiv_(grad, std, value=-clr)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, grad, lr, weight_decay, False)
                    terms.update(
                        clr=snapshot(clr),
                        sum=snapshot(state_sum),
                        std=snapshot(std),
                        update=param - before,
                    )
                    records.append(terms)
        return loss


Adagrad.__doc__ = with_algorithm(Adagrad.__doc__, Adagrad.ALGORITHM_LATEX)
