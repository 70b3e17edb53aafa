"""NAdam (Dozat 2016: Adam with Nesterov momentum), exactly as torch.optim.NAdam computes it.

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


class NAdam(ExplainedOptimizer):
    """NAdam, torch.optim.NAdam's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``betas`` (β1, β2), ``eps`` ε, ``weight_decay`` λ, ``momentum_decay``
    ψ; the state's ``exp_avg`` is m_t, ``exp_avg_sq`` v_t and ``mu_product`` the product μ_1 ⋯ μ_t of the
    momentum schedule μ_t = β1 (1 - ½ 0.96^{tψ}).

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

    ALGORITHM_LATEX = ALGORITHMS["nadam"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        **_weight_decay.DECOUPLED_FORMULA,
        "mu": r"\mu_t = \beta_1 (1 - \tfrac12 0.96^{t\psi})",
        "mu_next": r"\mu_{t+1} = \beta_1 (1 - \tfrac12 0.96^{(t+1)\psi})",
        "mu_product": r"\textstyle\prod_{i=1}^{t} \mu_i",
        "mu_product_next": r"\textstyle\prod_{i=1}^{t+1} \mu_i",
        "m": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t",
        "v": r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2",
        "bias_correction2": r"1-\beta_2^t",
        "m_hat": r"\hat m_t = \mu_{t+1} m_t / (1-\prod^{t+1}\mu_i) + (1-\mu_t) g_t / (1-\prod^{t}\mu_i)",
        "denom": r"\sqrt{v_t / (1-\beta_2^t)} + \epsilon = \sqrt{\hat v_t} + \epsilon",
        "step": r"s_t = -\gamma \hat m_t / (\sqrt{\hat v_t} + \epsilon)",
        "update": r"\Delta\theta_t = \theta_t - \theta_{t-1}",
    }
    # Adam's hyperparameters, and ψ
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

    def _init_state(self, p: Tensor) -> dict:
        """Lazy state: step counter, μ-product 1 (empty product), m_0 = 0, v_0 = 0."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["mu_product"] = new_step(1.0)
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
            eps, weight_decay, momentum_decay = group["eps"], group["weight_decay"], group["momentum_decay"]
            maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
            for p in self._params_with_grad(group, records, "NAdam does not support sparse gradients"):
                state = self._init_state(p)
                mu_product, step_t = state["mu_product"], state["step"]
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
                # 1 - β2^t
                bias_correction2 = 1 - beta2**step
                # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
                grad = _weight_decay.apply(param, grad, lr, weight_decay, decoupled)

                # μ_t = β1 (1 - ½ 0.96^{tψ}) and μ_{t+1} = β1 (1 - ½ 0.96^{(t+1)ψ})
                mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
                mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
                # Π_{i≤t} μ_i, kept in the state (in its dtype, as torch)
                mu_product *= mu

                # m_t = β1 m_{t-1} + (1 - β1) g_t
                exp_avg.lerp_(grad, 1 - beta1)
                # v_t = β2 v_{t-1} + (1 - β2) g_t²
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                # denom = √(v_t / (1 - β2^t)) + ε = √v̂_t + ε
                denom = exp_avg_sq.div(bias_correction2).sqrt()

                mu_product_now = mu_product.item()
                # Π_{i≤t+1} μ_i
                mu_product_next = mu_product_now * mu_next
                denom.add_(eps)
                # θ_t = θ_{t-1} - γ (1 - μ_t) / (1 - Π_{i≤t} μ_i) · g_t / denom   (the Nesterov "look-ahead" part)
                param.addcdiv_(grad, denom, value=(-lr * (1.0 - mu) / (1.0 - mu_product_now)))
                # θ_t <- θ_t - γ μ_{t+1} / (1 - Π_{i≤t+1} μ_i) · m_t / denom      (the momentum part)
                param.addcdiv_(exp_avg, denom, value=(-lr * mu_next) / (1.0 - mu_product_next))

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, grad, lr, weight_decay, decoupled)
                    # m̂_t = μ_{t+1} m_t / (1 - Π_{i≤t+1} μ_i) + (1 - μ_t) g_t / (1 - Π_{i≤t} μ_i)
                    m_hat = exp_avg * (mu_next / (1.0 - mu_product_next))
                    m_hat += grad * ((1.0 - mu) / (1.0 - mu_product_now))
                    terms.update(
                        mu=snapshot(mu),
                        mu_next=snapshot(mu_next),
                        mu_product=snapshot(mu_product),
                        mu_product_next=snapshot(mu_product_next),
                        m=snapshot(exp_avg),
                        v=snapshot(exp_avg_sq),
                        bias_correction2=snapshot(bias_correction2),
                        m_hat=m_hat,
                        denom=snapshot(denom),
                        step=-lr * m_hat / denom,
                        update=param - before,
                    )
                    records.append(terms)
        return loss


NAdam.__doc__ = with_algorithm(NAdam.__doc__, NAdam.ALGORITHM_LATEX)
