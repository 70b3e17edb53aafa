"""Adamax (Kingma and Ba 2015, section 7.1: Adam with the infinity norm), exactly as torch.optim.Adamax computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import (
    BIAS_CORRECTION1,
    GRAD_LINE,
    GRAD_TERMS,
    L2,
    L2_LINE,
    M,
    Term,
    algorithm,
    line,
    theta_line,
    with_algorithm,
)

U = Term("u", "u_t", r"\max(\beta_2 u_{t-1}, |g_t| + \epsilon)")
CLR = Term("clr", r"\gamma_t", r"\gamma / (1-\beta_1^t)")
UPDATE = Term("update", r"\Delta\theta_t", r"-\gamma_t m_t / u_t")

TERMS = (*GRAD_TERMS, L2, M, U, BIAS_CORRECTION1, CLR, UPDATE)

ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \textit{maximize}",
    r"m_0 \leftarrow 0, \: u_0 \leftarrow 0",
    "\n".join([GRAD_LINE, L2_LINE, line(M.assign), line(U.assign), line(CLR.assign), line(theta_line(UPDATE))]),
)


class Adamax(ExplainedOptimizer):
    """Adamax, torch.optim.Adamax's single-tensor algorithm line by line.

    Adam's second moment replaced by an exponentially weighted infinity norm u_t = max(β2 u_{t-1}, |g_t| + ε),
    which needs no bias correction (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015,
    https://arxiv.org/abs/1412.6980, Algorithm 2). Code names and symbols: ``lr`` is γ, ``betas`` are (β1, β2),
    ``eps`` is ε, ``weight_decay`` λ; the state's ``exp_avg`` is m_t and ``exp_inf`` is u_t. As in torch, ε sits
    inside the maximum (the paper has none), so u_t is never 0.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 2e-3).
        betas (tuple): decay rates (β1, β2) of the first moment and of the infinity norm (default: (0.9, 0.999)).
        eps (float): ε added to |g_t| inside the maximum (default: 1e-8).
        weight_decay (float): L2 penalty λ (default: 0).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Adamax does not support sparse gradients"
    SYMBOLS = {
        "lr": r"\gamma",
        "betas": r"(\beta_1, \beta_2)",
        "beta1": r"\beta_1",
        "beta2": r"\beta_2",
        "eps": r"\epsilon",
        "weight_decay": r"\lambda",
    }
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, m_0 = 0, u_0 = 0."""
        state["step"] = new_step()
        state["exp_avg"] = zeros(p)
        state["exp_inf"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Adamax step of ``p`` (torch's ``_single_tensor_adamax``)."""
        lr, weight_decay = to_scalar(group["lr"]), group["weight_decay"]
        beta1, beta2 = group["betas"]
        step_t = state["step"]
        # t <- t + 1
        step_t += 1
        if weight_decay != 0:
            # g_t <- g_t + λ θ_{t-1}
            grad = _weight_decay.add_l2(self, grad, p, weight_decay)
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and u (torch's order)
        param, grad = real_view(p), real_view(grad)
        exp_avg, exp_inf = real_view(state["exp_avg"]), real_view(state["exp_inf"])

        # m_t = β1 m_{t-1} + (1 - β1) g_t   (lerp: m + (1 - β1)(g - m))
        exp_avg.lerp_(grad, 1 - beta1)
        self.note(M.name, exp_avg)
        # u_t = max(β2 u_{t-1}, |g_t| + ε)
        torch.maximum(exp_inf.mul_(beta2), grad.abs().add_(group["eps"]), out=exp_inf)
        self.note(U.name, exp_inf)
        # 1 - β1^t
        bias_correction = 1 - beta1 ** step_t.item()
        self.note(BIAS_CORRECTION1.name, bias_correction)
        # γ_t = γ / (1 - β1^t)
        clr = lr / bias_correction
        self.note(CLR.name, clr)
        # θ_t = θ_{t-1} - γ_t m_t / u_t
        param.addcdiv_(exp_avg, exp_inf, value=-clr)
        self.note_update(param)


Adamax.__doc__ = with_algorithm(Adamax.__doc__, Adamax.ALGORITHM_LATEX)
