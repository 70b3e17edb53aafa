"""Adafactor (Shazeer and Stern 2018), exactly as torch.optim.Adafactor computes it.

Leaves out torch's foreach kernel; the math is the same. Like torch's, it refuses complex parameters and
sparse gradients.
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import (
    GRAD_FORMULAS,
    ExplainedOptimizer,
    new_step,
    record_grad,
    refuse_unsupported,
    snapshot,
    to_scalar,
    zeros,
)
from ._docs import ALGORITHMS, with_algorithm


class Adafactor(ExplainedOptimizer):
    """Adafactor, torch.optim.Adafactor's single-tensor algorithm line by line.

    For a matrix (or any tensor of 2 or more dimensions, factored along its last two) the second moment is kept
    as a row factor R_t and a column factor C_t, m + n numbers instead of m·n, and rebuilt as
    V̂_t = R_t C_t / mean(R_t); a vector keeps its full V̂_t. The step is relative to the size of θ
    (α_t = max(ε2, RMS(θ_{t-1})) ρ_t) and clipped so that its RMS stays below d (Shazeer and Stern,
    "Adafactor: Adaptive Learning Rates with Sublinear Memory Cost", ICML 2018, https://arxiv.org/abs/1804.04235,
    Algorithms 4 and 5, without first moment). As in torch, and unlike the paper: γ caps the relative step
    (ρ_t = min(γ, 1/√t); the paper uses 0.01), γ also scales a decoupled weight decay, the factors hold means
    rather than sums of g², and ε1 guards V̂_t and the denominator instead of being added to g².

    Code names and symbols: ``lr`` is γ, ``beta2_decay`` τ (β̂2_t = 1 - t^τ), ``eps`` are (ε1, ε2), ``d`` the
    clipping threshold d, ``weight_decay`` λ; the state's ``row_var`` is R_t, ``col_var`` C_t and
    ``variance`` V̂_t (vectors). ε1 = None means the machine epsilon of the parameter's dtype.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ, the cap of the relative step size ρ_t (default: 1e-2).
        beta2_decay (float): decay τ ≤ 0 of the second-moment rate, 1 - β̂2_t = t^τ (default: -0.8).
        eps (tuple): (ε1, ε2): ε1 guards the denominator, ε2 is the smallest scale of θ (default: (None, 1e-3)).
        d (float): clipping threshold d ≥ 1 on the RMS of the update (default: 1.0).
        weight_decay (float): decoupled weight decay λ (default: 0.0).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored.
    """

    ALGORITHM_LATEX = ALGORITHMS["adafactor"]
    FORMULAS = {
        **GRAD_FORMULAS,
        "one_minus_beta2": r"1 - \hat\beta_{2,t} = t^\tau",
        "rho": r"\rho_t = \min(\gamma, 1/\sqrt{t})",
        "alpha": r"\alpha_t = \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1})) \rho_t",
        **_weight_decay.DECOUPLED_FORMULA,
        "row_var": r"R_t = \hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t}) \,\mathrm{mean}_{cols}(g_t^2)",
        "col_var": r"C_t = \hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t}) \,\mathrm{mean}_{rows}(g_t^2)",
        "var_estimate": r"\hat V_t = R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)",
        "variance": r"\hat V_t = \hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t}) g_t^2",
        "u": r"U_t = g_t / \max(\sqrt{\hat V_t}, \epsilon_1)",
        "clip": r"\max(1, \mathrm{RMS}(U_t) / d)",
        "update": r"\Delta\theta_t = -\gamma\lambda\theta_{t-1} - \alpha_t U_t / \max(1, \mathrm{RMS}(U_t) / d)",
    }
    SYMBOLS = {
        "lr": r"\gamma",
        "beta2_decay": r"\tau",
        "eps": r"(\epsilon_1, \epsilon_2)",
        "d": "d",
        "weight_decay": r"\lambda",
    }
    GROUP_DEFAULTS_ON_LOAD = {"foreach": None}
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        refuse_unsupported(foreach=foreach)
        defaults = {
            "lr": lr,
            "beta2_decay": beta2_decay,
            "eps": eps,
            "d": d,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor) -> dict:
        """Lazy state: step counter; R_0 = 0 and C_0 = 0 for a tensor of 2 or more dimensions (the last axis, or
        the one before it, reduced to 1), V̂_0 = 0 for a vector."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            if p.grad.dim() > 1:
                row_shape = list(p.grad.shape)
                row_shape[-1] = 1
                state["row_var"] = p.grad.new_zeros(row_shape)
                col_shape = list(p.grad.shape)
                col_shape[-2] = 1
                state["col_var"] = p.grad.new_zeros(col_shape)
            else:
                state["variance"] = zeros(p.grad)
        return state

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            beta2_decay, d, weight_decay, maximize = (
                group["beta2_decay"], group["d"], group["weight_decay"], group["maximize"])
            # as torch, the whole group is checked before any parameter moves
            if any(p.grad is not None and torch.is_complex(p) for p in group["params"]):
                raise RuntimeError("Adafactor does not support complex parameters")
            for p in self._params_with_grad(group, records, "Adafactor does not support sparse gradients"):
                state = self._init_state(p)
                step_t = state["step"]
                terms = {} if records is not None else None
                before = p.clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # ε1 = None: the machine epsilon of the (first) parameter's dtype, kept for the group, as torch
                if eps1 is None:
                    eps1 = torch.finfo(p.dtype).eps

                # t <- t + 1
                step_t += 1
                step = step_t.item()
                # 1 - β̂2_t = t^τ
                one_minus_beta2_t = step**beta2_decay
                # ρ_t = min(γ, 1/√t)
                rho_t = min(lr, 1 / (step**0.5))
                # α_t = max(ε2, RMS(θ_{t-1})) ρ_t,  RMS(θ) = ‖θ‖₂ / √n
                alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
                # θ <- (1 - γ λ) θ_{t-1}: decoupled weight decay
                if weight_decay != 0:
                    p.mul_(1 - lr * weight_decay)

                factored = grad.dim() > 1
                if factored:
                    row_var, col_var = state["row_var"], state["col_var"]
                    # mean over the last axis of g_t², as ‖g_t‖² / n along it
                    row_mean = torch.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
                    # R_t = β̂2_t R_{t-1} + (1 - β̂2_t) mean_cols(g_t²)   (lerp with weight t^τ)
                    row_var.lerp_(row_mean, one_minus_beta2_t)
                    # mean over the axis before it
                    col_mean = torch.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
                    # C_t = β̂2_t C_{t-1} + (1 - β̂2_t) mean_rows(g_t²)
                    col_var.lerp_(col_mean, one_minus_beta2_t)
                    # V̂_t = R_t C_t / max(mean(R_t), ε1)   (an outer product: m×1 @ 1×n)
                    var_estimate = row_var @ col_var
                    var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
                else:
                    variance = state["variance"]
                    # V̂_t = β̂2_t V̂_{t-1} + (1 - β̂2_t) g_t²
                    variance.lerp_(grad * grad, one_minus_beta2_t)
                    var_estimate = variance.clone()
                if terms is not None:
                    shown_estimate = var_estimate.clone()

                # U_t = g_t / √max(V̂_t, ε1²) = g_t / max(√V̂_t, ε1)
                update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
                update.mul_(grad)
                # max(1, RMS(U_t) / d)
                denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
                # θ_t = θ - α_t U_t / max(1, RMS(U_t) / d)
                p.add_(update, alpha=-alpha / denom)

                if terms is not None:
                    record_grad(terms, p.grad, maximize)
                    terms.update(
                        one_minus_beta2=snapshot(one_minus_beta2_t),
                        rho=snapshot(rho_t),
                        alpha=snapshot(alpha),
                    )
                    _weight_decay.record(terms, before, grad, lr, weight_decay, True)
                    if factored:
                        terms.update(row_var=snapshot(row_var), col_var=snapshot(col_var),
                                     var_estimate=shown_estimate)
                    else:
                        terms["variance"] = shown_estimate
                    terms.update(u=update, clip=snapshot(denom), update=p - before)
                    records.append(terms)
        return loss


Adafactor.__doc__ = with_algorithm(Adafactor.__doc__, Adafactor.ALGORITHM_LATEX)
