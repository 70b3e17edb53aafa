"""AdaBelief (Zhuang et al. 2020), Adam divided by the belief in the gradient, as pytorch-optimizer computes it.

Exact against pytorch-optimizer's ``AdaBelief`` (4.1) for its options ``weight_decouple``, ``fixed_decay``,
``rectify``, ``degenerated_to_sgd`` and ``ams_bound``; leaves out its AdaNorm and AdamD extras and its foreach
kernel (the same math). Complex parameters are refused.
"""

import math

import torch
from torch import Tensor

from . import _weight_decay
from ._base import GRAD_FORMULAS, ExplainedOptimizer, new_step, record_grad, snapshot, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm


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

    ALGORITHM_LATEX = ALGORITHMS["adabelief"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.DECOUPLED_FORMULA,
        "decay_fixed": r"\Delta^{decay}\theta_t = -\lambda\theta_{t-1}",
        **_weight_decay.L2_FORMULA,
        "m": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t",
        "residual": r"g_t - m_t",
        "s": r"s_t = \beta_2 s_{t-1} + (1-\beta_2) (g_t - m_t)^2 + \epsilon",
        "s_max": r"s_t^{max} = \max(s_{t-1}^{max}, s_t)",
        "bias_correction1": r"1-\beta_1^t",
        "bias_correction2": r"1-\beta_2^t",
        "denom": r"\sqrt{s_t} / \sqrt{1-\beta_2^t} + \epsilon",
        "step": r"s^{\theta}_t = -\gamma m_t / ((1-\beta_1^t)(\sqrt{s_t} / \sqrt{1-\beta_2^t} + \epsilon))",
        "rho_inf": r"\rho_\infty = 2 / (1-\beta_2) - 1",
        "rho_t": r"\rho_t = \rho_\infty - 2 t \beta_2^t / (1-\beta_2^t)",
        "rect": r"r_t = \sqrt{(1-\beta_2^t) \frac{(\rho_t-4)(\rho_t-2)\rho_\infty}{(\rho_\infty-4)(\rho_\infty-2)\rho_t}}",
        "denom_rectified": r"\sqrt{s_t} + \epsilon",
        "step_rectified": r"s^{\theta}_t = -\gamma r_t m_t / ((1-\beta_1^t)(\sqrt{s_t} + \epsilon))",
        "step_sgd": r"s^{\theta}_t = -\gamma m_t / (1-\beta_1^t)",
        "update": r"\Delta\theta_t = \theta_t - \theta_{t-1}",
    }
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

    def _init_state(self, p: Tensor, ams_bound: bool) -> dict:
        """Lazy state: step counter, m_0 = 0, s_0 = 0 (and s_0^max = 0 with ``ams_bound``)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["exp_avg"] = zeros(p)
            state["exp_avg_var"] = zeros(p)
            if ams_bound:
                state["max_exp_avg_var"] = zeros(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = group["betas"]
            eps, weight_decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
            decouple, fixed, rectify, ams_bound = (
                group["weight_decouple"], group["fixed_decay"], group["rectify"], group["ams_bound"])
            for p in self._params_with_grad(group, records, "AdaBelief does not support sparse gradients"):
                if torch.is_complex(p):
                    raise RuntimeError("AdaBelief does not support complex parameters")
                state = self._init_state(p, ams_bound)
                terms = {} if records is not None else None
                before = p.clone() if terms is not None else None

                # t <- t + 1
                state["step"] += 1
                step = state["step"].item()
                # 1 - β1^t and √(1 - β2^t)
                bias_correction1 = 1.0 - math.pow(beta1, step)
                bias_correction2 = 1.0 - math.pow(beta2, step)
                bias_correction2_sq = math.sqrt(bias_correction2)
                # the step size: γ / (1 - β1^t), times r_t when rectifying
                step_size, rho_t, rect = lr, 0.0, None
                if rectify:
                    # ρ_∞ = 2 / (1 - β2) - 1,  ρ_t = ρ_∞ - 2 t β2^t / (1 - β2^t)
                    rho_inf = 2.0 / (1.0 - beta2) - 1.0
                    beta2_t = beta2**step
                    rho_t = rho_inf - 2 * step * beta2_t / (1.0 - beta2_t)
                    if rho_t >= group["n_sma_threshold"]:
                        # r_t = √((1 - β2^t)(ρ_t - 4)(ρ_t - 2)ρ_∞ / ((ρ_∞ - 4)(ρ_∞ - 2)ρ_t)), in the reference's order
                        rect = math.sqrt((1.0 - beta2_t) * (rho_t - 4) / (rho_inf - 4) * (rho_t - 2) / rho_t
                                         * rho_inf / (rho_inf - 2))
                    else:
                        # before the threshold: r_t = 1 (an SGD-like step) or -1 (no step)
                        rect = 1.0 if group["degenerated_to_sgd"] else -1.0
                    step_size = step_size * rect
                step_size = step_size / bias_correction1

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                if weight_decay != 0.0:
                    if decouple:
                        # θ <- (1 - γ λ) θ_{t-1}, or (1 - λ) θ_{t-1} with fixed_decay
                        p.mul_(1.0 - weight_decay * (1.0 if fixed else lr))
                    elif weight_decay > 0.0:
                        # g_t <- g_t + λ θ_{t-1}
                        grad = grad.add(p, alpha=weight_decay)
                exp_avg, exp_avg_var = state["exp_avg"], state["exp_avg_var"]

                # m_t = β1 m_{t-1} + (1 - β1) g_t
                exp_avg.lerp_(grad, weight=1.0 - beta1)
                # g_t - m_t: how far the gradient falls from its prediction
                grad_residual = grad - exp_avg
                # s_t = β2 s_{t-1} + (1 - β2)(g_t - m_t)² + ε
                exp_avg_var.mul_(beta2).addcmul_(grad_residual, grad_residual, value=1.0 - beta2).add_(eps)
                if ams_bound:
                    # s_t^max = max(s_{t-1}^max, s_t)
                    max_exp_avg_var = state["max_exp_avg_var"]
                    torch.maximum(max_exp_avg_var, exp_avg_var, out=max_exp_avg_var)
                    s = max_exp_avg_var
                else:
                    s = exp_avg_var
                # √s_t
                denom = s.sqrt()

                taken = None
                if not rectify:
                    # √s_t / √(1 - β2^t) + ε
                    denom.div_(bias_correction2_sq).add_(eps)
                    # θ_t = θ - γ m_t / ((1 - β1^t) denom)
                    p.addcdiv_(exp_avg, denom, value=-step_size)
                    taken = "step"
                else:
                    # √s_t + ε: r_t holds the bias correction of s
                    denom.add_(eps)
                    if rho_t >= group["n_sma_threshold"]:
                        # θ_t = θ - γ r_t m_t / ((1 - β1^t)(√s_t + ε))
                        p.addcdiv_(exp_avg, denom, value=-step_size)
                        taken = "step_rectified"
                    elif step_size > 0:
                        # θ_t = θ - γ m_t / (1 - β1^t): the SGD-like step
                        p.add_(exp_avg, alpha=-step_size)
                        taken = "step_sgd"

                if terms is not None:
                    record_grad(terms, p.grad, maximize)
                    if weight_decay != 0.0:
                        if decouple:
                            terms["decay_fixed" if fixed else "decay"] = (
                                before * (1.0 - weight_decay * (1.0 if fixed else lr)) - before)
                        elif weight_decay > 0.0:
                            terms["grad_l2"] = snapshot(grad)
                    terms.update(m=snapshot(exp_avg), residual=grad_residual, s=snapshot(exp_avg_var))
                    if ams_bound:
                        terms["s_max"] = snapshot(s)
                    terms["bias_correction1"] = snapshot(bias_correction1)
                    if not rectify:
                        terms.update(bias_correction2=snapshot(bias_correction2), denom=denom,
                                     step=-step_size * exp_avg / denom)
                    else:
                        terms.update(rho_inf=snapshot(rho_inf), rho_t=snapshot(rho_t))
                        if taken == "step_rectified":
                            terms.update(rect=snapshot(rect), denom_rectified=denom,
                                         step_rectified=-step_size * exp_avg / denom)
                        elif taken == "step_sgd":
                            terms["step_sgd"] = -step_size * exp_avg
                    terms["update"] = p - before
                    records.append(terms)
        return loss


AdaBelief.__doc__ = with_algorithm(AdaBelief.__doc__, AdaBelief.ALGORITHM_LATEX)
