"""RAdam (Liu et al. 2020: Adam with a rectified warm-up), exactly as torch.optim.RAdam computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex parameter
is updated as its real view, as torch does.
"""

from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import (
    BIAS_CORRECTION1,
    BIAS_CORRECTION2,
    DECAY,
    DECAY_EITHER_LINES,
    GRAD_LINE,
    GRAD_TERMS,
    L2,
    UPDATE,
    M,
    Term,
    V,
    algorithm,
    line,
    with_algorithm,
)
from .adam import Adam

M_HAT = Term("m_hat", r"\hat m_t", r"m_t / (1-\beta_1^t)")
RHO_INF = Term("rho_inf", r"\rho_\infty", r"2/(1-\beta_2) - 1")
RHO_T = Term("rho_t", r"\rho_t", r"\rho_\infty - 2t\beta_2^t/(1-\beta_2^t)")
RECT = Term("rect", "r_t", r"\sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \;(\rho_t > 5)")
ADAPTIVE_LR = Term("adaptive_lr", "l_t", r"\sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon)")
STEP_RECTIFIED = Term("step_rectified", "s_t", r"\gamma \hat m_t l_t r_t")
STEP_UNRECTIFIED = Term("step_unrectified", "s_t", r"\gamma \hat m_t \;(\rho_t \le 5)")

TERMS = (*GRAD_TERMS, L2, DECAY, M, V, BIAS_CORRECTION1, BIAS_CORRECTION2, M_HAT, RHO_INF, RHO_T, RECT, ADAPTIVE_LR,
         STEP_RECTIFIED, STEP_UNRECTIFIED, UPDATE)

ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \textit{decoupled\_weight\_decay}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: " + RHO_INF.assign,
    "\n".join([
        GRAD_LINE,
        DECAY_EITHER_LINES,
        line(M.assign),
        line(V.assign),
        line(M_HAT.assign),
        line(RHO_T.assign),
        line(r"\textbf{if} \: \rho_t > 5:"),
        line(ADAPTIVE_LR.assign, 2),
        line(r"r_t \leftarrow \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\rho_t}}",
             2),
        line(r"\theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t l_t r_t", 2),
        line(r"\textbf{else}: \: \theta_t \leftarrow \theta_{t-1} - \gamma \hat m_t"),
    ]),
)


class RAdam(ExplainedOptimizer):
    """RAdam, torch.optim.RAdam's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``betas`` (β1, β2), ``eps`` ε, ``weight_decay`` λ; the state's
    ``exp_avg`` is m_t and ``exp_avg_sq`` v_t. While the variance estimate is unreliable (ρ_t ≤ 5, the first
    few steps) RAdam takes plain bias-corrected momentum steps; afterwards Adam steps scaled by r_t.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        betas (tuple): decay rates (β1, β2) (default: (0.9, 0.999)).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): weight decay λ (default: 0).
        decoupled_weight_decay (bool): shrink θ directly (AdamW style) instead of adding λθ to g_t
            (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "RAdam does not support sparse gradients"
    SYMBOLS = dict(Adam.SYMBOLS)
    GROUP_DEFAULTS_ON_LOAD = {
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "capturable": False,
    }
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
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
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "decoupled_weight_decay": decoupled_weight_decay,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, m_0 = 0, v_0 = 0."""
        state["step"] = new_step()
        state["exp_avg"] = zeros(p)
        state["exp_avg_sq"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One RAdam step of ``p`` (torch's ``_single_tensor_radam``)."""
        lr, eps = to_scalar(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        step_t = state["step"]
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and v (torch's order)
        param, grad = real_view(p), real_view(grad)
        exp_avg, exp_avg_sq = real_view(state["exp_avg"]), real_view(state["exp_avg_sq"])
        # t <- t + 1
        step_t += 1
        step = step_t.item()
        # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
        grad = _weight_decay.either(self, param, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])

        # m_t = β1 m_{t-1} + (1 - β1) g_t
        exp_avg.lerp_(grad, 1 - beta1)
        self.note(M.name, exp_avg)
        # v_t = β2 v_{t-1} + (1 - β2) g_t²
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        self.note(V.name, exp_avg_sq)
        # 1 - β1^t and 1 - β2^t
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        self.note(BIAS_CORRECTION1.name, bias_correction1)
        self.note(BIAS_CORRECTION2.name, bias_correction2)
        # m̂_t = m_t / (1 - β1^t)
        bias_corrected_exp_avg = exp_avg / bias_correction1
        self.note(M_HAT.name, bias_corrected_exp_avg)
        # ρ_∞ = 2 / (1 - β2) - 1: the longest the approximated simple moving average can be
        rho_inf = 2 / (1 - beta2) - 1
        self.note(RHO_INF.name, rho_inf)
        # ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t): its length at step t
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2
        self.note(RHO_T.name, rho_t)

        if rho_t > 5.0:
            # r_t = √((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t)): variance rectification
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            self.note(RECT.name, rect)
            # l_t = √(1 - β2^t) / (√v_t + ε): Adam's adaptive learning rate
            adaptive_lr = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
            self.note(ADAPTIVE_LR.name, adaptive_lr)
            # s_t = γ m̂_t l_t r_t
            step_size = bias_corrected_exp_avg * lr * adaptive_lr * rect
            self.note(STEP_RECTIFIED.name, step_size)
        else:
            # s_t = γ m̂_t: SGD with bias-corrected momentum while ρ_t ≤ 5
            step_size = bias_corrected_exp_avg * lr
            self.note(STEP_UNRECTIFIED.name, step_size)
        # θ_t = θ_{t-1} - s_t
        param.add_(step_size, alpha=-1.0)
        self.note_update(param)


RAdam.__doc__ = with_algorithm(RAdam.__doc__, RAdam.ALGORITHM_LATEX)
