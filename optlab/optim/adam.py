"""Adam, AMSGrad (a flag) and AdamW (Adam with decoupled weight decay), exactly as torch.optim computes them.

Leaves out torch's foreach/fused/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
"""

import torch
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

STEP_SIZE = Term("step_size", r"\gamma_t", r"\gamma / (1-\beta_1^t)")
V_MAX = Term("v_max", r"v_t^{max}", r"\max(v_{t-1}^{max}, v_t)")
DENOM = Term("denom", r"\sqrt{v_t} / \sqrt{1-\beta_2^t} + \epsilon")
DENOM_MAX = Term("denom_max", r"\sqrt{v_t^{max}} / \sqrt{1-\beta_2^t} + \epsilon")

TERMS = (*GRAD_TERMS, L2, DECAY, M, V, BIAS_CORRECTION1, BIAS_CORRECTION2, STEP_SIZE, V_MAX, DENOM, DENOM_MAX,
         UPDATE)

# torch.optim.Adam's documented algorithm, written with the terms the step records (torch computes the bias
# corrections as γ_t and √(1-β2^t) rather than forming m̂_t and v̂_t)
_INPUTS = (r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
           r" \epsilon, \textit{amsgrad}, \textit{maximize}")
_MOMENTS = [
    line(M.assign),
    line(V.assign),
    line(rf"{STEP_SIZE.assign}"),
    line(rf"\textbf{{if}} \: \textit{{amsgrad}}: \: {V_MAX.assign}, \:"
         rf" \theta_t \leftarrow \theta_{{t-1}} - \gamma_t m_t / ({DENOM_MAX.lhs})"),
    line(rf"\textbf{{else}}: \: \theta_t \leftarrow \theta_{{t-1}} - \gamma_t m_t / ({DENOM.lhs})"),
]
_INIT = r"m_0 \leftarrow 0, \: v_0 \leftarrow 0, \: v_0^{max} \leftarrow 0"
ALGORITHM_ADAM = algorithm(_INPUTS + r", \textit{decoupled\_weight\_decay}", _INIT,
                           "\n".join([GRAD_LINE, DECAY_EITHER_LINES, *_MOMENTS]))
ALGORITHM_ADAMW = algorithm(
    _INPUTS, _INIT,
    "\n".join([GRAD_LINE, line(r"\theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1}"), *_MOMENTS]),
)


class Adam(ExplainedOptimizer):
    """Adam (Kingma and Ba), torch.optim.Adam's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``betas`` are (β1, β2), ``eps`` is ε, ``weight_decay`` λ; the state's
    ``exp_avg`` is m_t, ``exp_avg_sq`` is v_t and ``max_exp_avg_sq`` is v_t^max (AMSGrad). As torch does, the
    step folds the bias corrections into γ_t = γ / (1 - β1^t) and √(1 - β2^t) instead of forming m̂_t and v̂_t.
    AMSGrad differs from Adam only in :meth:`_denominator`, the hook that keeps v_t^max (its state entry made
    there on the first step) and divides by it instead of v_t.

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

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM_ADAM
    SPARSE_ERROR = "Adam does not support sparse gradients, please consider SparseAdam instead"
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

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, m_0 = 0, v_0 = 0 (AMSGrad's v_0^max is made by :meth:`_denominator`)."""
        state["step"] = new_step()
        state["exp_avg"] = zeros(p)
        state["exp_avg_sq"] = zeros(p)

    def _denominator(self, state: dict, group: dict, exp_avg_sq: Tensor, bias_correction2_sqrt: float) -> Tensor:
        """√v_t / √(1 - β2^t) + ε for Adam; for AMSGrad the same of the running maximum v_t^max."""
        v = exp_avg_sq
        if group["amsgrad"]:
            if "max_exp_avg_sq" not in state:
                # v_0^max = 0
                state["max_exp_avg_sq"] = zeros(state["exp_avg_sq"])
            max_exp_avg_sq = real_view(state["max_exp_avg_sq"])
            # v_t^max = max(v_{t-1}^max, v_t)
            torch.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            self.note(V_MAX.name, max_exp_avg_sq)
            v = max_exp_avg_sq
        # √v_t / √(1 - β2^t) + ε  (√v̂_t + ε, v̂_t = v_t / (1 - β2^t))
        denom = (v.sqrt() / bias_correction2_sqrt).add_(group["eps"])
        self.note(DENOM_MAX.name if group["amsgrad"] else DENOM.name, denom)
        return denom

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Adam step of ``p`` (torch's ``_single_tensor_adam``)."""
        lr = to_scalar(group["lr"])
        beta1, beta2 = (to_scalar(b) for b in group["betas"])
        step_t = state["step"]
        # t <- t + 1
        step_t += 1
        # L2: g_t <- g_t + λ θ_{t-1};  decoupled: θ_{t-1} <- (1 - γ λ) θ_{t-1}
        grad = _weight_decay.either(self, p, grad, lr, group["weight_decay"], group["decoupled_weight_decay"])
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t, m and v (torch's order)
        param, grad = real_view(p), real_view(grad)
        exp_avg, exp_avg_sq = real_view(state["exp_avg"]), real_view(state["exp_avg_sq"])

        # a tensor β1 is moved to the parameter's dtype, as torch does
        device_beta1 = beta1.to(dtype=param.dtype, device=param.device) if isinstance(beta1, Tensor) else beta1
        # m_t = β1 m_{t-1} + (1 - β1) g_t   (lerp: m + (1 - β1)(g - m))
        exp_avg.lerp_(grad, 1 - device_beta1)
        self.note(M.name, exp_avg)
        # v_t = β2 v_{t-1} + (1 - β2) g_t²
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        self.note(V.name, exp_avg_sq)

        step = step_t.item()
        # 1 - β1^t and 1 - β2^t
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        self.note(BIAS_CORRECTION1.name, bias_correction1)
        self.note(BIAS_CORRECTION2.name, bias_correction2)
        # γ_t = γ / (1 - β1^t): the bias correction of m folded into the step size
        step_size = lr / bias_correction1
        self.note(STEP_SIZE.name, step_size)
        bias_correction2_sqrt = bias_correction2**0.5

        denom = self._denominator(state, group, exp_avg_sq, bias_correction2_sqrt)
        # θ_t = θ_{t-1} - γ_t m_t / denom  (= θ_{t-1} - γ m̂_t / (√v̂_t + ε))
        param.addcdiv_(exp_avg, denom, value=-step_size)
        self.note_update(param)


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

    ALGORITHM_LATEX = ALGORITHM_ADAMW

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
