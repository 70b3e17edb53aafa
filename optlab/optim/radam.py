"""RAdam (Liu et al. 2020: Adam with a rectified warm-up), exactly as torch.optim.RAdam computes it.

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
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm
from .adam import Adam


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

    ALGORITHM_LATEX = ALGORITHMS["radam"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        **_weight_decay.DECOUPLED_FORMULA,
        "m": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t",
        "v": r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2",
        "bias_correction1": r"1-\beta_1^t",
        "bias_correction2": r"1-\beta_2^t",
        "m_hat": r"\hat m_t = m_t / (1-\beta_1^t)",
        "rho_inf": r"\rho_\infty = 2/(1-\beta_2) - 1",
        "rho_t": r"\rho_t = \rho_\infty - 2t\beta_2^t/(1-\beta_2^t)",
        "rect": r"r_t = \sqrt{\frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}} \;(\rho_t > 5)",
        "adaptive_lr": r"l_t = \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon)",
        "step_rectified": r"s_t = -\gamma \hat m_t r_t l_t",
        "step_unrectified": r"s_t = -\gamma \hat m_t \;(\rho_t \le 5)",
        "update": r"\Delta\theta_t = \theta_t - \theta_{t-1}",
    }
    # the same hyperparameters as Adam
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

    def _init_state(self, p: Tensor) -> dict:
        """Lazy state: step counter, m_0 = 0, v_0 = 0."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["exp_avg"] = zeros(p)
            state["exp_avg_sq"] = zeros(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay = group["eps"], group["weight_decay"]
            maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
            for p in self._params_with_grad(group, records, "RAdam does not support sparse gradients"):
                state = self._init_state(p)
                step_t = state["step"]
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and v (torch's order)
                param, grad = real_view(p), real_view(grad)
                exp_avg, exp_avg_sq = real_view(state["exp_avg"]), real_view(state["exp_avg_sq"])
                # t <- t + 1
                step_t += 1
                step = step_t.item()
                # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
                grad = _weight_decay.apply(param, grad, lr, weight_decay, decoupled)

                # m_t = β1 m_{t-1} + (1 - β1) g_t
                exp_avg.lerp_(grad, 1 - beta1)
                # v_t = β2 v_{t-1} + (1 - β2) g_t²
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                # m̂_t = m_t / (1 - β1^t)
                bias_corrected_exp_avg = exp_avg / bias_correction1
                # ρ_∞ = 2 / (1 - β2) - 1: the longest the approximated simple moving average can be
                rho_inf = 2 / (1 - beta2) - 1
                # ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t): its length at step t
                rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2

                if rho_t > 5.0:
                    # r_t = √((ρ_t - 4)(ρ_t - 2) ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2) ρ_t)): variance rectification
                    rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
                    # l_t = √(1 - β2^t) / (√v_t + ε): Adam's adaptive learning rate
                    adaptive_lr = (bias_correction2**0.5) / exp_avg_sq.sqrt().add_(eps)
                    # θ_t = θ_{t-1} - γ m̂_t l_t r_t
                    param.add_(bias_corrected_exp_avg * lr * adaptive_lr * rect, alpha=-1.0)
                else:
                    # θ_t = θ_{t-1} - γ m̂_t: SGD with bias-corrected momentum while ρ_t ≤ 5
                    param.add_(bias_corrected_exp_avg * lr, alpha=-1.0)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, grad, lr, weight_decay, decoupled)
                    terms.update(
                        m=snapshot(exp_avg),
                        v=snapshot(exp_avg_sq),
                        bias_correction1=snapshot(bias_correction1),
                        bias_correction2=snapshot(bias_correction2),
                        m_hat=bias_corrected_exp_avg,
                        rho_inf=snapshot(rho_inf),
                        rho_t=snapshot(rho_t),
                    )
                    if rho_t > 5.0:
                        terms.update(
                            rect=snapshot(rect),
                            adaptive_lr=snapshot(adaptive_lr),
                            step_rectified=-lr * bias_corrected_exp_avg * adaptive_lr * rect,
                        )
                    else:
                        terms["step_unrectified"] = -lr * bias_corrected_exp_avg
                    terms["update"] = param - before
                    records.append(terms)
        return loss


RAdam.__doc__ = with_algorithm(RAdam.__doc__, RAdam.ALGORITHM_LATEX)
