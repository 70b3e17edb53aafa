"""Adam, AMSGrad (a flag) and AdamW (Adam with decoupled weight decay), exactly as torch.optim computes them.

Leaves out torch's foreach/fused/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
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


class Adam(ExplainedOptimizer):
    """Adam (Kingma and Ba), torch.optim.Adam's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``betas`` are (β1, β2), ``eps`` is ε, ``weight_decay`` λ; the state's
    ``exp_avg`` is m_t, ``exp_avg_sq`` is v_t and ``max_exp_avg_sq`` is v_t^max (AMSGrad). AMSGrad differs
    from Adam only in :meth:`_second_moment`, the hook that says which v the denominator uses.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        betas (tuple): decay rates (β1, β2) of the two moving averages (default: (0.9, 0.999)).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): weight decay λ (default: 0).
        amsgrad (bool): keep the running maximum of v_t (Reddi et al., 2018) (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        decoupled_weight_decay (bool): shrink θ directly instead of adding λθ to g_t; this is AdamW
            (default: False).
        foreach: accepted and ignored. capturable, differentiable, fused: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["adam"]
    FORMULAS = {
        **GRAD_FORMULAS,
        **_weight_decay.L2_FORMULA,
        **_weight_decay.DECOUPLED_FORMULA,
        "m": r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t",
        "v": r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2",
        "v_max": r"v_t^{max} = \max(v_{t-1}^{max}, v_t)",
        "bias_correction1": r"1-\beta_1^t",
        "bias_correction2": r"1-\beta_2^t",
        "m_hat": r"\hat m_t = m_t / (1-\beta_1^t)",
        "v_hat": r"\hat v_t = v_t / (1-\beta_2^t)",
        "v_hat_max": r"\hat v_t = v_t^{max} / (1-\beta_2^t)",
        "step_size": r"\gamma_t = \gamma / (1-\beta_1^t)",
        "denom": r"\sqrt{\hat v_t} + \epsilon",
        "step": r"s_t = -\gamma \hat m_t / (\sqrt{\hat v_t} + \epsilon)",
        "update": r"\Delta\theta_t = \theta_t - \theta_{t-1}",
    }
    SYMBOLS = {
        "lr": r"\gamma",
        "betas": r"(\beta_1, \beta_2)",
        "beta1": r"\beta_1",
        "beta2": r"\beta_2",
        "eps": r"\epsilon",
        "weight_decay": r"\lambda",
    }
    GROUP_DEFAULTS_ON_LOAD = {
        "amsgrad": False,
        "maximize": False,
        "foreach": None,
        "capturable": False,
        "differentiable": False,
        "decoupled_weight_decay": False,
        "fused": None,
    }
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        if isinstance(lr, Tensor) and foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        if not (
            (isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))
        ):
            raise ValueError("betas must be either both floats or both Tensors")
        for i, beta in enumerate(betas):
            if isinstance(beta, Tensor):
                if not capturable and foreach:
                    raise ValueError(
                        f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True"
                    )
                if beta.numel() != 1:
                    raise ValueError(f"Tensor betas[{i}] must be 1-element")
        betas = tuple(map(to_scalar, betas))
        refuse_unsupported(foreach=foreach, fused=fused, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "weight_decay": weight_decay,
            "amsgrad": amsgrad,
            "maximize": maximize,
            "foreach": foreach,
            "capturable": capturable,
            "differentiable": differentiable,
            "fused": fused,
            "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _init_state(self, p: Tensor, amsgrad: bool) -> dict:
        """Lazy state: step counter, m_0 = 0, v_0 = 0 (and v_0^max = 0 for AMSGrad)."""
        state = self.state[p]
        if len(state) == 0:
            state["step"] = new_step()
            state["exp_avg"] = zeros(p)
            state["exp_avg_sq"] = zeros(p)
            if amsgrad:
                state["max_exp_avg_sq"] = zeros(p)
        return state

    @staticmethod
    def _second_moment(state: dict, exp_avg_sq: Tensor, amsgrad: bool) -> Tensor:
        """Which v the denominator uses: v_t for Adam, the running maximum v_t^max for AMSGrad."""
        if amsgrad:
            # v_t^max = max(v_{t-1}^max, v_t)
            max_exp_avg_sq = real_view(state["max_exp_avg_sq"])
            torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            return max_exp_avg_sq
        return exp_avg_sq

    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss, records = self._start_step(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            beta1, beta2 = (to_scalar(b) for b in group["betas"])
            eps, weight_decay, amsgrad = group["eps"], group["weight_decay"], group["amsgrad"]
            maximize, decoupled = group["maximize"], group["decoupled_weight_decay"]
            sparse_error = "Adam does not support sparse gradients, please consider SparseAdam instead"
            for p in self._params_with_grad(group, records, sparse_error):
                state = self._init_state(p, amsgrad)
                step_t = state["step"]
                terms = {} if records is not None else None
                before = real_view(p).clone() if terms is not None else None

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                # t <- t + 1
                step_t += 1
                # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
                grad = _weight_decay.apply(p, grad, lr, weight_decay, decoupled)
                # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and v (torch's order)
                param, grad = real_view(p), real_view(grad)
                exp_avg, exp_avg_sq = real_view(state["exp_avg"]), real_view(state["exp_avg_sq"])

                # a tensor β1 is moved to the parameter's dtype, as torch does
                device_beta1 = (
                    beta1.to(dtype=param.dtype, device=param.device) if isinstance(beta1, Tensor) else beta1
                )
                # m_t = β1 m_{t-1} + (1 - β1) g_t   (lerp: m + (1 - β1)(g - m))
                exp_avg.lerp_(grad, 1 - device_beta1)
                # v_t = β2 v_{t-1} + (1 - β2) g_t²
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)

                step = step_t.item()
                # 1 - β1^t and 1 - β2^t
                bias_correction1 = 1 - beta1**step
                bias_correction2 = 1 - beta2**step
                # γ_t = γ / (1 - β1^t): the bias correction of m folded into the step size
                step_size = lr / bias_correction1
                bias_correction2_sqrt = bias_correction2**0.5

                v = self._second_moment(state, exp_avg_sq, amsgrad)
                # denom = √v_t / √(1 - β2^t) + ε = √v̂_t + ε
                denom = (v.sqrt() / bias_correction2_sqrt).add_(eps)
                # θ_t = θ_{t-1} - γ_t m_t / denom = θ_{t-1} - γ m̂_t / (√v̂_t + ε)
                param.addcdiv_(exp_avg, denom, value=-step_size)

                if terms is not None:
                    record_grad(terms, real_view(p.grad), maximize)
                    _weight_decay.record(terms, before, grad, lr, weight_decay, decoupled)
                    terms.update(m=snapshot(exp_avg), v=snapshot(exp_avg_sq))
                    if amsgrad:
                        terms["v_max"] = snapshot(v)
                    terms.update(
                        bias_correction1=snapshot(bias_correction1),
                        bias_correction2=snapshot(bias_correction2),
                        m_hat=exp_avg / bias_correction1,
                    )
                    terms["v_hat_max" if amsgrad else "v_hat"] = v / bias_correction2
                    terms.update(
                        step_size=snapshot(step_size),
                        denom=snapshot(denom),
                        step=-step_size * exp_avg / denom,
                        update=param - before,
                    )
                    records.append(terms)
        return loss


class AdamW(Adam):
    """AdamW (Loshchilov and Hutter): Adam whose weight decay shrinks θ directly, never entering m or v.

    Same as ``Adam(..., decoupled_weight_decay=True)`` but with torch's AdamW default ``weight_decay=1e-2``.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        betas (tuple): decay rates (β1, β2) (default: (0.9, 0.999)).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): decoupled weight decay λ (default: 1e-2).
        amsgrad (bool): keep the running maximum of v_t (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable, fused: only their defaults are accepted.
    """

    ALGORITHM_LATEX = ALGORITHMS["adamw"]

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            foreach=foreach,
            maximize=maximize,
            capturable=capturable,
            differentiable=differentiable,
            fused=fused,
            decoupled_weight_decay=True,
        )

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        # whatever was saved, AdamW's weight decay is decoupled (as in torch)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


Adam.__doc__ = with_algorithm(Adam.__doc__, Adam.ALGORITHM_LATEX)
AdamW.__doc__ = with_algorithm(AdamW.__doc__, AdamW.ALGORITHM_LATEX)
