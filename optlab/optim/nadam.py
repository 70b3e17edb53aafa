"""NAdam (Dozat 2016: Adam with Nesterov momentum), exactly as torch.optim.NAdam computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex parameter
is updated as its real view, as torch does.
"""

from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import (
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

MU = Term("mu", r"\mu_t", r"\beta_1 (1 - \tfrac12 0.96^{t\psi})")
MU_NEXT = Term("mu_next", r"\mu_{t+1}", r"\beta_1 (1 - \tfrac12 0.96^{(t+1)\psi})")
MU_PRODUCT = Term("mu_product", r"\textstyle\prod_{i=1}^{t} \mu_i")
MU_PRODUCT_NEXT = Term("mu_product_next", r"\textstyle\prod_{i=1}^{t+1} \mu_i")
DENOM = Term("denom", r"\sqrt{v_t / (1-\beta_2^t)} + \epsilon")
STEP_SIZE_GRAD = Term("step_size_grad", r"\gamma^g_t", r"\gamma (1-\mu_t) / (1-\textstyle\prod_{i=1}^{t} \mu_i)")
STEP_SIZE_M = Term("step_size_m", r"\gamma^m_t", r"\gamma \mu_{t+1} / (1-\textstyle\prod_{i=1}^{t+1} \mu_i)")

TERMS = (*GRAD_TERMS, BIAS_CORRECTION2, L2, DECAY, MU, MU_NEXT, MU_PRODUCT, M, V, MU_PRODUCT_NEXT, DENOM,
         STEP_SIZE_GRAD, STEP_SIZE_M, UPDATE)

# torch.optim.NAdam's documented algorithm, with the two step sizes torch's step computes in place of m̂_t
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \psi \text{ (momentum decay)}, \epsilon, \textit{decoupled\_weight\_decay}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: \textstyle\prod_{i=1}^{0} \mu_i = 1",
    "\n".join([
        GRAD_LINE,
        DECAY_EITHER_LINES,
        line(rf"{MU.assign}, \: {MU_NEXT.assign}"),
        line(M.assign),
        line(V.assign),
        line(rf"{STEP_SIZE_GRAD.assign}, \: {STEP_SIZE_M.assign}"),
        line(rf"\theta_t \leftarrow \theta_{{t-1}} - \gamma^g_t g_t / ({DENOM.lhs}) - \gamma^m_t m_t / ({DENOM.lhs})"),
    ]),
)


class NAdam(ExplainedOptimizer):
    """NAdam, torch.optim.NAdam's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``betas`` (β1, β2), ``eps`` ε, ``weight_decay`` λ, ``momentum_decay``
    ψ; the state's ``exp_avg`` is m_t, ``exp_avg_sq`` v_t and ``mu_product`` the product μ_1 ⋯ μ_t of the
    momentum schedule μ_t = β1 (1 - ½ 0.96^{tψ}). As torch does, the step applies the gradient and the momentum
    with two step sizes γ^g_t and γ^m_t instead of forming Dozat's m̂_t.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 2e-3).
        betas (tuple): decay rates (β1, β2) (default: (0.9, 0.999)).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): weight decay λ (default: 0).
        momentum_decay (float): ψ, how fast μ_t warms up towards β1 (default: 4e-3).
        decoupled_weight_decay (bool): shrink θ directly (AdamW style) instead of adding λθ to g_t
            (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "NAdam does not support sparse gradients"
    SYMBOLS = {**Adam.SYMBOLS, "momentum_decay": r"\psi"}
    GROUP_DEFAULTS_ON_LOAD = {
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
    }
    COUNTER_KEYS = ("step", "mu_product")

    def __init__(
        self,
        params,
        lr: float | Tensor = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
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
        check_non_negative("momentum_decay", momentum_decay)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "momentum_decay": momentum_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, μ-product 1 (empty product), m_0 = 0, v_0 = 0."""
        state["step"] = new_step()
        state["mu_product"] = new_step(1.0)
        state["exp_avg"] = zeros(p)
        state["exp_avg_sq"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One NAdam step of ``p`` (torch's ``_single_tensor_nadam``)."""
        lr, eps, momentum_decay = to_scalar(group["lr"]), group["eps"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        mu_product, step_t = state["mu_product"], state["step"]
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and v (torch's order)
        param, grad = real_view(p), real_view(grad)
        exp_avg, exp_avg_sq = real_view(state["exp_avg"]), real_view(state["exp_avg_sq"])
        # t <- t + 1
        step_t += 1
        step = step_t.item()
        # 1 - β2^t
        bias_correction2 = 1 - beta2**step
        self.note(BIAS_CORRECTION2.name, bias_correction2)
        # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
        grad = _weight_decay.either(self, param, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
        # μ_t = β1 (1 - ½ 0.96^{tψ}) and μ_{t+1} = β1 (1 - ½ 0.96^{(t+1)ψ})
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        self.note(MU.name, mu)
        self.note(MU_NEXT.name, mu_next)
        # Π_{i≤t} μ_i, kept in the state (in its dtype, as torch)
        mu_product *= mu
        self.note(MU_PRODUCT.name, mu_product)
        # m_t = β1 m_{t-1} + (1 - β1) g_t
        exp_avg.lerp_(grad, 1 - beta1)
        self.note(M.name, exp_avg)
        # v_t = β2 v_{t-1} + (1 - β2) g_t²
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        self.note(V.name, exp_avg_sq)
        # √(v_t / (1 - β2^t)), ε added below (torch's order)
        denom = exp_avg_sq.div(bias_correction2).sqrt()
        mu_product_now = mu_product.item()
        # Π_{i≤t+1} μ_i
        mu_product_next = mu_product_now * mu_next
        self.note(MU_PRODUCT_NEXT.name, mu_product_next)
        # denom = √(v_t / (1 - β2^t)) + ε = √v̂_t + ε
        denom.add_(eps)
        self.note(DENOM.name, denom)
        # γ^g_t = γ (1 - μ_t) / (1 - Π_{i≤t} μ_i):  θ_t = θ_{t-1} - γ^g_t g_t / denom   (the Nesterov look-ahead)
        step_size_grad = lr * (1.0 - mu) / (1.0 - mu_product_now)
        self.note(STEP_SIZE_GRAD.name, step_size_grad)
        param.addcdiv_(grad, denom, value=-step_size_grad)
        # γ^m_t = γ μ_{t+1} / (1 - Π_{i≤t+1} μ_i):  θ_t <- θ_t - γ^m_t m_t / denom       (the momentum part)
        step_size_m = lr * mu_next / (1.0 - mu_product_next)
        self.note(STEP_SIZE_M.name, step_size_m)
        param.addcdiv_(exp_avg, denom, value=-step_size_m)
        self.note_update(param)


NAdam.__doc__ = with_algorithm(NAdam.__doc__, NAdam.ALGORITHM_LATEX)
