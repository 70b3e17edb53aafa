"""ASGD, averaged stochastic gradient descent (Polyak and Juditsky 1992), exactly as torch.optim.ASGD computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
"""

import torch
from torch import Tensor

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
from ._checks import check_lr, check_non_negative
from ._docs import ALGORITHMS, with_algorithm


class ASGD(ExplainedOptimizer):
    """ASGD, torch.optim.ASGD's single-tensor algorithm line by line.

    SGD with a decaying step size η_t and, from step t0 on, a running average of the iterates, the point that
    averaging theory says converges at the optimal rate (Polyak and Juditsky, "Acceleration of Stochastic
    Approximation by Averaging", SIAM J. Control Optim. 30(4), 1992, https://doi.org/10.1137/0330046). The
    schedule η_t = γ / (1 + λγt)^α and the shrink θ(1 - λη) are those of Bottou, "Stochastic Gradient Descent
    Tricks" (2012, https://doi.org/10.1007/978-3-642-35289-8_25), where λ is the regulariser. The average is
    kept in the state's ``ax`` and never written into θ: the parameters follow plain SGD. Code names and
    symbols: ``lr`` is γ, ``lambd`` λ, ``alpha`` α, ``t0`` t0, ``weight_decay`` ω (an extra L2 penalty); the
    state's ``eta`` is η_t, ``mu`` is the averaging weight μ_t and ``ax`` the average θ̄_t. As in torch, η and μ
    are kept in the step counter's dtype (float32 unless the default dtype is float64), and each step uses the
    stored, rounded values.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ, the first step size η_0 (default: 1e-2).
        lambd (float): decay term λ of the step size and of the shrink (default: 1e-4).
        alpha (float): power α of the step-size decay (default: 0.75).
        t0 (float): step t0 after which the average starts to move away from the iterate (default: 1000000.0).
        weight_decay (float): L2 penalty ω added to the gradient (default: 0).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["asgd"]
    FORMULAS = {
        **GRAD_FORMULAS,
        "grad_l2": r"g_t \leftarrow g_t + \omega\theta_{t-1}",
        "eta": r"\eta_{t-1}",
        "update": r"\Delta\theta_t = -\lambda\eta_{t-1}\theta_{t-1} - \eta_{t-1} g_t",
        "ax_start": r"\bar\theta_t = \theta_t",
        "ax": r"\bar\theta_t = \bar\theta_{t-1} + \mu_{t-1} (\theta_t - \bar\theta_{t-1})",
        "eta_next": r"\eta_t = \gamma / (1 + \lambda\gamma t)^\alpha",
        "mu_next": r"\mu_t = 1 / \max(1, t - t_0)",
    }
    SYMBOLS = {"lr": r"\gamma", "lambd": r"\lambda", "alpha": r"\alpha", "t0": r"t_0", "weight_decay": r"\omega"}
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    COUNTER_KEYS = ("step", "eta", "mu")

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        lambd: float = 1e-4,
        alpha: float = 0.75,
        t0: float = 1e6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("weight_decay", weight_decay)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "lambd": lambd,
            "alpha": alpha,
            "t0": t0,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, lr) -> dict:
        """Lazy state: step counter, η_0 = γ, μ_0 = 1 (both rounded to the counter's dtype), θ̄_0 = 0."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["eta"] = new_step(to_scalar(lr))
            state["mu"] = new_step(1.0)
            state["ax"] = zeros(p)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
            weight_decay, maximize = group["weight_decay"], group["maximize"]
            for p in self._params_with_grad(group, records, "ASGD does not support sparse gradients"):
                state = self._init_state(p, group["lr"])
                step_t, eta, mu = state["step"], state["eta"], state["mu"]
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and θ̄ (torch's order)
                param, grad, ax = real_view(p), real_view(grad), real_view(state["ax"])
                # t <- t + 1
                step_t += 1
                # g_t <- g_t + ω θ_{t-1}
                if weight_decay != 0:
                    grad = grad.add(param, alpha=weight_decay)

                # η_{t-1}, as stored (rounded to the counter's dtype)
                eta_value = eta.item()
                # θ <- (1 - λ η_{t-1}) θ_{t-1}: the shrink of Bottou's schedule
                param.mul_(1 - lambd * eta_value)
                # θ_t = θ - η_{t-1} g_t
                param.add_(grad, alpha=-eta_value)

                averaging = mu.item() != 1
                if averaging:
                    # θ̄_t = θ̄_{t-1} + μ_{t-1} (θ_t - θ̄_{t-1})
                    ax.add_(param.sub(ax).mul_(mu))
                else:
                    # μ = 1: the average is the iterate itself
                    ax.copy_(param)

                step = step_t.item()
                # η_t = γ / (1 + λ γ t)^α
                eta.copy_(torch.as_tensor(lr / ((1 + lambd * lr * step) ** alpha)))
                # μ_t = 1 / max(1, t - t0)
                mu.copy_(torch.as_tensor(1 / max(1, step - t0)))

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    if weight_decay != 0:
                        terms["grad_l2"] = snapshot(grad)
                    terms.update(eta=snapshot(eta_value), update=param - before)
                    terms["ax" if averaging else "ax_start"] = snapshot(ax)
                    terms.update(eta_next=snapshot(eta), mu_next=snapshot(mu))
                    records.append(terms)
        return loss


ASGD.__doc__ = with_algorithm(ASGD.__doc__, ASGD.ALGORITHM_LATEX)
