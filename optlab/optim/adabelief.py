"""AdaBelief (Zhuang et al. 2020), Adam divided by the belief in the gradient, as pytorch-optimizer computes it.

Exact against pytorch-optimizer's ``AdaBelief`` (4.1) for its options ``weight_decouple``, ``fixed_decay``,
``rectify``, ``degenerated_to_sgd`` and ``ams_bound``; leaves out its AdaNorm and AdamD extras and its foreach
kernel (the same math). Complex parameters are refused.
"""

import math

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, new_step, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import (
    BIAS_CORRECTION1,
    BIAS_CORRECTION2,
    DECAY,
    GRAD_LINE,
    GRAD_TERMS,
    L2,
    M,
    Term,
    algorithm,
    line,
    with_algorithm,
)
from ._docs import UPDATE as UPDATE

RHO_INF = Term("rho_inf", r"\rho_\infty", r"2 / (1-\beta_2) - 1")
RHO_T = Term("rho_t", r"\rho_t", r"\rho_\infty - 2 t \beta_2^t / (1-\beta_2^t)")
RECT = Term("rect", "r_t",
            r"\sqrt{(1-\beta_2^t) \frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}")
STEP_SIZE_RECTIFIED = Term("step_size_rectified", r"\gamma_t", r"\gamma r_t / (1-\beta_1^t)")
STEP_SIZE = Term("step_size", r"\gamma_t", r"\gamma / (1-\beta_1^t)")
DECAY_FIXED = Term("decay_fixed", r"\Delta^{decay}\theta_t", r"-\lambda\theta_{t-1}")
RESIDUAL = Term("residual", r"g_t - m_t")
S = Term("s", "s_t", r"\beta_2 s_{t-1} + (1-\beta_2) (g_t - m_t)^2 + \epsilon")
S_MAX = Term("s_max", r"s_t^{max}", r"\max(s_{t-1}^{max}, s_t)")
DENOM = Term("denom", r"\sqrt{s_t} / \sqrt{1-\beta_2^t} + \epsilon")
DENOM_RECTIFIED = Term("denom_rectified", r"\sqrt{s_t} + \epsilon")

TERMS = (*GRAD_TERMS, BIAS_CORRECTION1, RHO_INF, RHO_T, RECT, STEP_SIZE_RECTIFIED, STEP_SIZE, DECAY, DECAY_FIXED, L2,
         M, RESIDUAL, S, S_MAX, BIAS_CORRECTION2, DENOM, DENOM_RECTIFIED, UPDATE)

# the paper's Algorithm 2 with the reference's options, in the order the reference computes it
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \epsilon, \rho_{thr} \text{ (n\_sma\_threshold)}, \textit{weight\_decouple}, \textit{rectify},"
    r" \textit{ams\_bound}, \textit{maximize}",
    r"m_0 \leftarrow 0, \: s_0 \leftarrow 0, \: " + RHO_INF.assign,
    "\n".join([
        GRAD_LINE,
        line(rf"\textbf{{if}} \: \textit{{rectify}}: \: {RHO_T.assign}; \: \textbf{{if}} \: \rho_t \geq \rho_{{thr}}:"
             rf" \: {RECT.assign}, \: {STEP_SIZE_RECTIFIED.assign}"),
        line(rf"\textbf{{else}}: \: {STEP_SIZE.assign}"),
        line(r"\textbf{if} \: \textit{weight\_decouple}: \: \theta_{t-1} \leftarrow \theta_{t-1}"
             rf" - \gamma \lambda \theta_{{t-1}} \: \textbf{{else}}: \: {L2.assign}"),
        line(M.assign),
        line(S.assign),
        line(r"\textbf{if} \: \textit{ams\_bound}: \: s_t \leftarrow \max(s_{t-1}^{max}, s_t)"),
        line(r"\textbf{if not} \: \textit{rectify}: \: \theta_t \leftarrow \theta_{t-1}"
             rf" - \gamma_t m_t / ({DENOM.lhs})"),
        line(r"\textbf{else if} \: \rho_t \geq \rho_{thr}: \: \theta_t \leftarrow \theta_{t-1}"
             rf" - \gamma_t m_t / ({DENOM_RECTIFIED.lhs})"),
        line(r"\textbf{else}: \: \theta_t \leftarrow \theta_{t-1} - \gamma_t m_t"),
    ]),
)


class AdaBelief(ExplainedOptimizer):
    """AdaBelief, pytorch-optimizer's ``AdaBelief`` line by line.

    Adam's second moment of g_t is replaced by s_t, the running mean of (g_t - m_t)², how far the gradient falls
    from its own prediction m_t: a gradient that agrees with the momentum ("belief") gets a large step, a
    surprising one a small step (Zhuang et al., "AdaBelief Optimizer: Adapting Stepsizes by the Belief in
    Observed Gradients", NeurIPS 2020, https://arxiv.org/abs/2010.07468, Algorithm 2, where ε is added to s_t
    and again to its root, as here). ``rectify`` is RAdam's variance rectification (Liu et al. 2020,
    https://arxiv.org/abs/1908.03265), which the authors' own package adds. Code names and symbols: ``lr`` is γ,
    ``betas`` (β1, β2), ``weight_decay`` λ, ``eps`` ε, ``n_sma_threshold`` ρ_thr; the state's ``exp_avg`` is m_t,
    ``exp_avg_var`` s_t and ``max_exp_avg_var`` s_t^max (``ams_bound``).

    Defaults: pytorch-optimizer's (and the paper's algorithm): no rectification, decoupled weight decay, ε = 1e-16.
    The authors' package (adabelief-pytorch 0.2) turns ``rectify`` on by default; pass ``rectify=True`` for it.
    Where this class differs from pytorch-optimizer: it keeps torch's per-parameter ``step`` counter in the state
    (pytorch-optimizer counts steps per param group, in ``param_groups[i]["step"]``, which differs only for a
    parameter that misses gradients on some steps), it never writes into ``p.grad`` (pytorch-optimizer negates
    it for ``maximize`` and adds λθ to it in place), and it refuses bad values with torch's messages.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        betas (tuple): decay rates (β1, β2) of m_t and of s_t (default: (0.9, 0.999)).
        weight_decay (float): weight decay λ (default: 0.0).
        weight_decouple (bool): shrink θ directly (AdamW style) instead of adding λθ to g_t (default: True).
        fixed_decay (bool): with ``weight_decouple``, shrink by λθ instead of γλθ (default: False).
        rectify (bool): RAdam's rectified step, an SGD-like step while ρ_t < ρ_thr (default: False).
        n_sma_threshold (int): the length ρ_thr of the moving average from which the adaptive step is used
            (default: 5).
        degenerated_to_sgd (bool): with ``rectify``, take the SGD-like step γ m̂_t before the threshold instead
            of none (default: True).
        ams_bound (bool): divide by the running maximum s_t^max (AMSGrad's bound) (default: False).
        foreach: accepted and ignored.
        eps (float): ε added to s_t and to its square root (default: 1e-16).
        maximize (bool): follow the gradient uphill (default: False).
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "AdaBelief does not support sparse gradients"
    COMPLEX_ERROR = "AdaBelief does not support complex parameters"
    SYMBOLS = {
        "lr": r"\gamma",
        "betas": r"(\beta_1, \beta_2)",
        "beta1": r"\beta_1",
        "beta2": r"\beta_2",
        "weight_decay": r"\lambda",
        "n_sma_threshold": r"\rho_{thr}",
        "eps": r"\epsilon",
    }
    GROUP_DEFAULTS_ON_LOAD = {"maximize": False, "foreach": None}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        weight_decay: float = 0.0,
        weight_decouple: bool = True,
        fixed_decay: bool = False,
        rectify: bool = False,
        n_sma_threshold: int = 5,
        degenerated_to_sgd: bool = True,
        ams_bound: bool = False,
        foreach: bool | None = None,
        eps: float = 1e-16,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("epsilon", eps)
        defaults = {
            "lr": lr,
            "betas": betas,
            "weight_decay": weight_decay,
            "weight_decouple": weight_decouple,
            "fixed_decay": fixed_decay,
            "rectify": rectify,
            "n_sma_threshold": n_sma_threshold,
            "degenerated_to_sgd": degenerated_to_sgd,
            "ams_bound": ams_bound,
            "foreach": foreach,
            "eps": eps,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, m_0 = 0, s_0 = 0 (and s_0^max = 0 with ``ams_bound``)."""
        state["step"] = new_step()
        state["exp_avg"] = zeros(p)
        state["exp_avg_var"] = zeros(p)
        if group["ams_bound"]:
            state["max_exp_avg_var"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One AdaBelief step of ``p`` (pytorch-optimizer's ``AdaBelief.step``, per parameter)."""
        lr, eps, weight_decay = to_scalar(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        rectify = group["rectify"]
        # t <- t + 1
        state["step"] += 1
        step = state["step"].item()
        # 1 - β1^t and √(1 - β2^t)
        bias_correction1 = 1.0 - math.pow(beta1, step)
        self.note(BIAS_CORRECTION1.name, bias_correction1)
        bias_correction2 = 1.0 - math.pow(beta2, step)
        bias_correction2_sq = math.sqrt(bias_correction2)
        # the step size: γ / (1 - β1^t), times r_t when rectifying
        step_size, rho_t, rectified = lr, 0.0, False
        if rectify:
            # ρ_∞ = 2 / (1 - β2) - 1,  ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t)
            rho_inf = 2.0 / (1.0 - beta2) - 1.0
            beta2_t = beta2**step
            rho_t = rho_inf - 2 * step * beta2_t / (1.0 - beta2_t)
            self.note(RHO_INF.name, rho_inf)
            self.note(RHO_T.name, rho_t)
            rectified = rho_t >= group["n_sma_threshold"]
            if rectified:
                # r_t = √((1 - β2^t)(ρ_t - 4)(ρ_t - 2)ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2)ρ_t)), in the reference's order
                rect = math.sqrt((1.0 - beta2_t) * (rho_t - 4) / (rho_inf - 4) * (rho_t - 2) / rho_t
                                 * rho_inf / (rho_inf - 2))
                self.note(RECT.name, rect)
            else:
                # before the threshold: r_t = 1 (an SGD-like step) or -1 (no step)
                rect = 1.0 if group["degenerated_to_sgd"] else -1.0
            step_size = step_size * rect
        # γ_t = γ r_t / (1 - β1^t)  (r_t = 1 without rectification)
        step_size = step_size / bias_correction1
        if rectified:
            self.note(STEP_SIZE_RECTIFIED.name, step_size)
        elif step_size > 0:
            self.note(STEP_SIZE.name, step_size)

        if weight_decay != 0.0:
            if group["weight_decouple"]:
                fixed = group["fixed_decay"]
                before = p.clone() if self.explaining else None
                # θ <- (1 - γ λ) θ_{t-1}, or (1 - λ) θ_{t-1} with fixed_decay
                p.mul_(1.0 - weight_decay * (1.0 if fixed else lr))
                if before is not None:
                    self.note(DECAY_FIXED.name if fixed else DECAY.name, p - before)
            elif weight_decay > 0.0:
                # g_t <- g_t + λ θ_{t-1}
                grad = grad.add(p, alpha=weight_decay)
                self.note(L2.name, grad)
        exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]

        # m_t = β1 m_{t-1} + (1 - β1) g_t
        exp_avg.lerp_(grad, weight=1.0 - beta1)
        self.note(M.name, exp_avg)
        # g_t - m_t: how far the gradient falls from its prediction
        grad_residual = grad - exp_avg
        self.note(RESIDUAL.name, grad_residual)
        # s_t = β2 s_{t-1} + (1 - β2)(g_t - m_t)² + ε
        exp_avg_var.mul_(beta2).addcmul_(grad_residual, grad_residual, value=1.0 - beta2).add_(eps)
        self.note(S.name, exp_avg_var)
        s = exp_avg_var
        if group["ams_bound"]:
            # s_t^max = max(s_{t-1}^max, s_t)
            s = state["max_exp_avg_var"]
            torch.maximum(s, exp_avg_var, out=s)
            self.note(S_MAX.name, s)
        # √s_t
        denom = s.sqrt()

        if not rectify:
            self.note(BIAS_CORRECTION2.name, bias_correction2)
            # √s_t / √(1 - β2^t) + ε
            denom.div_(bias_correction2_sq).add_(eps)
            self.note(DENOM.name, denom)
            # θ_t = θ - γ_t m_t / denom
            p.addcdiv_(exp_avg, denom, value=-step_size)
        else:
            # √s_t + ε: r_t holds the bias correction of s
            denom.add_(eps)
            if rectified:
                self.note(DENOM_RECTIFIED.name, denom)
                # θ_t = θ - γ_t m_t / (√s_t + ε),  γ_t = γ r_t / (1 - β1^t)
                p.addcdiv_(exp_avg, denom, value=-step_size)
            elif step_size > 0:
                # θ_t = θ - γ_t m_t: the SGD-like step
                p.add_(exp_avg, alpha=-step_size)
        self.note_update(p)


AdaBelief.__doc__ = with_algorithm(AdaBelief.__doc__, AdaBelief.ALGORITHM_LATEX)
