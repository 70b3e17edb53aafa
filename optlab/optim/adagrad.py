"""Adagrad (Duchi, Hazan and Singer 2011), exactly as torch.optim.Adagrad computes it for dense gradients.

Leaves out torch's foreach/fused kernels and sparse gradients; the math is the same, and a complex parameter is
updated as its real view, as torch does (its ``sum`` starts at τ + τi: τ in each part).
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar
from ._checks import check_lr, check_non_negative
from ._docs import GRAD_LINE, GRAD_TERMS, L2, L2_LINE, Term, algorithm, line, theta_line, with_algorithm

CLR = Term("clr", r"\tilde\gamma_t", r"\gamma / (1 + (t-1)\eta)")
SUM = Term("sum", r"state\_sum_t", r"state\_sum_{t-1} + g_t^2")
STD = Term("std", r"\sqrt{state\_sum_t} + \epsilon")
UPDATE = Term("update", r"\Delta\theta_t", r"-\tilde\gamma_t g_t / (\sqrt{state\_sum_t} + \epsilon)")

TERMS = (*GRAD_TERMS, L2, CLR, SUM, STD, UPDATE)

ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \tau \text{ (initial accumulator value)}, \eta \text{ (lr decay)}, \epsilon, \textit{maximize}",
    r"state\_sum_0 \leftarrow \tau",
    "\n".join([GRAD_LINE, L2_LINE, line(CLR.assign), line(SUM.assign), line(theta_line(UPDATE))]),
)


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

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "optlab Adagrad does not support sparse gradients"
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
                self.state_of(group, p)

    def share_memory(self) -> None:
        """Calls tensor.share_memory_() on the state sum tensors (as torch's Adagrad)."""
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p]["sum"].share_memory_()

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """State of a parameter that has none yet: step counter and sum_0 = τ (the constructor's τ, kept in
        the defaults), at construction and for a parameter group added later."""
        state["step"] = new_step()
        init = self.defaults["initial_accumulator_value"]
        # a complex θ: τ + τi, so that each part of its real view starts at τ (as torch)
        init = complex(init, init) if torch.is_complex(p) else init
        state["sum"] = torch.full_like(p, init, memory_format=torch.preserve_format)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Adagrad step of ``p`` (torch's ``_single_tensor_adagrad``)."""
        lr, weight_decay = to_scalar(group["lr"]), group["weight_decay"]
        step_t = state["step"]
        # t <- t + 1
        step_t += 1
        step = step_t.item()
        if weight_decay != 0:
            # g_t <- g_t + λ θ_{t-1}
            grad = _weight_decay.add_l2(self, grad, p, weight_decay)
        # γ̃_t = γ / (1 + (t - 1) η)
        clr = lr / (1 + (step - 1) * group["lr_decay"])
        self.note(CLR.name, clr)
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and the sum (torch's order)
        param, grad, state_sum = real_view(p), real_view(grad), real_view(state["sum"])
        # sum_t = sum_{t-1} + g_t²
        state_sum.addcmul_(grad, grad, value=1)
        self.note(SUM.name, state_sum)
        # √sum_t + ε
        std = state_sum.sqrt().add_(group["eps"])
        self.note(STD.name, std)
        # θ_t = θ_{t-1} - γ̃_t g_t / (√sum_t + ε)
        param.addcdiv_(grad, std, value=-clr)
        self.note_update(param)


Adagrad.__doc__ = with_algorithm(Adagrad.__doc__, Adagrad.ALGORITHM_LATEX)
