"""Adadelta (Zeiler 2012), exactly as torch.optim.Adadelta computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
"""

from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_lr, check_non_negative
from ._docs import GRAD_LINE, GRAD_TERMS, L2, L2_LINE, Term, algorithm, line, theta_line, with_algorithm

SQUARE_AVG = Term("square_avg", "v_t", r"\rho v_{t-1} + (1-\rho) g_t^2")
STD = Term("std", r"\sqrt{v_t + \epsilon}")
DELTA = Term("delta", r"\Delta x_t", r"\sqrt{u_{t-1} + \epsilon} \, g_t / \sqrt{v_t + \epsilon}")
ACC_DELTA = Term("acc_delta", "u_t", r"\rho u_{t-1} + (1-\rho) \Delta x_t^2")
UPDATE = Term("update", r"\Delta\theta_t", r"-\gamma \Delta x_t")

TERMS = (*GRAD_TERMS, L2, SQUARE_AVG, STD, DELTA, ACC_DELTA, UPDATE)

ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \rho \text{ (decay)}, \lambda \text{ (weight decay)}, \epsilon,"
    r" \textit{maximize}",
    r"v_0 \leftarrow 0 \text{ (square avg)}, \: u_0 \leftarrow 0 \text{ (accumulated updates)}",
    "\n".join([GRAD_LINE, L2_LINE, line(SQUARE_AVG.assign), line(DELTA.assign), line(ACC_DELTA.assign),
               line(theta_line(UPDATE))]),
)


class Adadelta(ExplainedOptimizer):
    """Adadelta, torch.optim.Adadelta's single-tensor algorithm line by line.

    Each coordinate's step is the ratio of two running RMS values, that of past updates over that of past
    gradients, so the units of Δθ match those of θ (Zeiler, "ADADELTA: An Adaptive Learning Rate Method", 2012,
    https://arxiv.org/abs/1212.5701, Algorithm 1). Code names and symbols: ``lr`` is γ (the paper has none, i.e.
    γ = 1, torch's default), ``rho`` the decay rate ρ, ``eps`` ε, ``weight_decay`` λ; the state's ``square_avg``
    is v_t (the paper's E[g²]_t) and ``acc_delta`` is u_t (E[Δx²]_t).

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ that scales the delta (default: 1.0).
        rho (float): decay rate ρ of both running averages (default: 0.9).
        eps (float): ε added inside both square roots (default: 1e-6).
        weight_decay (float): L2 penalty λ (default: 0).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Adadelta does not support sparse gradients"
    SYMBOLS = {"lr": r"\gamma", "rho": r"\rho", "eps": r"\epsilon", "weight_decay": r"\lambda"}
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        check_non_negative("epsilon", eps)
        check_non_negative("weight_decay", weight_decay)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "rho": rho,
            "eps": eps,
            "weight_decay": weight_decay,
            "maximize": maximize,
            "capturable": capturable,
            "foreach": foreach,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, v_0 = 0, u_0 = 0."""
        state["step"] = new_step()
        state["square_avg"] = zeros(p)
        state["acc_delta"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Adadelta step of ``p`` (torch's ``_single_tensor_adadelta``)."""
        lr, rho, eps, weight_decay = to_scalar(group["lr"]), group["rho"], group["eps"], group["weight_decay"]
        # t <- t + 1
        state["step"] += 1
        if weight_decay != 0:
            # g_t <- g_t + λ θ_{t-1}
            grad = _weight_decay.add_l2(self, grad, p, weight_decay)
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, v and u (torch's order)
        param, grad = real_view(p), real_view(grad)
        square_avg, acc_delta = real_view(state["square_avg"]), real_view(state["acc_delta"])

        # v_t = ρ v_{t-1} + (1 - ρ) g_t²
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        self.note(SQUARE_AVG.name, square_avg)
        # √(v_t + ε)
        std = square_avg.add(eps).sqrt_()
        self.note(STD.name, std)
        # Δx_t = √(u_{t-1} + ε) / √(v_t + ε) · g_t
        delta = acc_delta.add(eps).sqrt_().div_(std).mul_(grad)
        self.note(DELTA.name, delta)
        # u_t = ρ u_{t-1} + (1 - ρ) Δx_t²
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        self.note(ACC_DELTA.name, acc_delta)
        # θ_t = θ_{t-1} - γ Δx_t
        param.add_(delta, alpha=-lr)
        self.note_update(param)


Adadelta.__doc__ = with_algorithm(Adadelta.__doc__, Adadelta.ALGORITHM_LATEX)
