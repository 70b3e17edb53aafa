"""Rprop, resilient backpropagation (Riedmiller and Braun 1993), exactly as torch.optim.Rprop computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does (its step sizes start at γ + γi: γ in each part).
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
from ._checks import check_lr
from ._docs import ALGORITHMS, with_algorithm


class Rprop(ExplainedOptimizer):
    """Rprop, torch.optim.Rprop's single-tensor algorithm line by line.

    Only the sign of each gradient coordinate is used: every coordinate has its own step size s_t, which grows
    by η+ while the gradient keeps its sign and shrinks by η- when the sign flips, within [Γmin, Γmax]; after a
    flip that coordinate does not move and its gradient is forgotten (Riedmiller and Braun, "A Direct Adaptive
    Method for Faster Backpropagation Learning: The RPROP Algorithm", IEEE ICNN 1993,
    https://doi.org/10.1109/ICNN.1993.298623). Code names and symbols: ``lr`` is γ (every step size starts at
    it), ``etas`` are (η-, η+), ``step_sizes`` are (Γmin, Γmax); the state's ``prev`` is g_prev (the
    gradient kept from the last step) and ``step_size`` is s_t.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ, the first step size of every coordinate (default: 1e-2).
        etas (tuple): factors (η-, η+) that shrink and grow a step size, 0 < η- < 1 < η+ (default: (0.5, 1.2)).
        step_sizes (tuple): the smallest and largest step size (Γmin, Γmax) (default: (1e-06, 50)).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["rprop"]
    FORMULAS = {
        **GRAD_FORMULAS,
        "factor": r"f_t = \eta_+ \text{ if } g_{prev} g_t > 0, \; \eta_- \text{ if } g_{prev} g_t < 0,"
                  r" \; 1 \text{ if } g_{prev} g_t = 0",
        "step_size": r"s_t = \mathrm{clip}(f_t s_{t-1}, \Gamma_{min}, \Gamma_{max})",
        "grad_kept": r"\tilde g_t = g_t \text{ with } 0 \text{ where } f_t = \eta_-",
        "update": r"\Delta\theta_t = -s_t \, \mathrm{sign}(\tilde g_t)",
    }
    SYMBOLS = {
        "lr": r"\gamma",
        "etas": r"(\eta_-, \eta_+)",
        "step_sizes": r"(\Gamma_{min}, \Gamma_{max})",
    }
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None, "maximize": False, "differentiable": False, "capturable": False}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        etas: tuple[float, float] = (0.5, 1.2),
        step_sizes: tuple[float, float] = (1e-6, 50),
        *,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "etas": etas,
            "step_sizes": step_sizes,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
            "capturable": capturable,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, lr) -> dict:
        """Lazy state: step counter, g_prev = 0 and s_0 = γ in every coordinate (γ + γi for a complex θ)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["prev"] = zeros(p)
            if p.dtype.is_complex:
                state["step_size"] = torch.full_like(p.grad, complex(lr, lr))
            else:
                state["step_size"] = torch.full_like(p.grad, to_scalar(lr))
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            etaminus, etaplus = group["etas"]
            step_size_min, step_size_max = group["step_sizes"]
            maximize = group["maximize"]
            for p in self._params_with_grad(group, records, "Rprop does not support sparse gradients"):
                state = self._init_state(p, group["lr"])
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # t <- t + 1
                state["step"] += 1
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, g_prev and s (torch's order)
                param, grad = real_view(p), real_view(grad)
                prev, step_size = real_view(state["prev"]), real_view(state["step_size"])

                # sign(g_prev · g_t) per coordinate, then the factor f_t: η+ where > 0, η- where < 0, 1 where 0
                factor = grad.mul(prev).sign()
                factor[factor.gt(0)] = etaplus
                factor[factor.lt(0)] = etaminus
                factor[factor.eq(0)] = 1
                # s_t = clip(f_t s_{t-1}, Γmin, Γmax)
                step_size.mul_(factor).clamp_(step_size_min, step_size_max)
                # g̃_t = g_t, with 0 where the sign flipped (f_t = η-): that coordinate rests this step
                grad = grad.clone(memory_format=torch.preserve_format)
                grad[factor.eq(etaminus)] = 0
                # θ_t = θ_{t-1} - s_t sign(g̃_t)
                param.addcmul_(grad.sign(), step_size, value=-1)
                # g_prev <- g̃_t
                prev.copy_(grad)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    terms.update(
                        factor=factor,
                        step_size=snapshot(step_size),
                        grad_kept=grad,
                        update=param - before,
                    )
                    records.append(terms)
        return loss


Rprop.__doc__ = with_algorithm(Rprop.__doc__, Rprop.ALGORITHM_LATEX)
