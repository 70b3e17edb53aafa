"""ASGD, averaged stochastic gradient descent (Polyak and Juditsky 1992), exactly as torch.optim.ASGD computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does.
"""

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_lr, check_non_negative
from ._docs import GRAD_LINE, GRAD_TERMS, Term, algorithm, with_algorithm

L2 = Term("grad_l2", "g_t", r"g_t + \omega\theta_{t-1}", in_place=True)
ETA = Term("eta", r"\eta_{t-1}")
UPDATE = Term("update", r"\Delta\theta_t", r"-\lambda\eta_{t-1}\theta_{t-1} - \eta_{t-1} g_t")
AX_START = Term("ax_start", r"\bar\theta_t", r"\theta_t")
AX = Term("ax", r"\bar\theta_t", r"\bar\theta_{t-1} + \mu_{t-1} (\theta_t - \bar\theta_{t-1})")
ETA_NEXT = Term("eta_next", r"\eta_t", r"\gamma / (1 + \lambda\gamma t)^\alpha")
MU_NEXT = Term("mu_next", r"\mu_t", r"1 / \max(1, t - t_0)")

TERMS = (*GRAD_TERMS, L2, ETA, UPDATE, AX_START, AX, ETA_NEXT, MU_NEXT)

# torch.optim.ASGD's documented algorithm
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (lambd)}, \alpha \text{ (alpha)}, t_0 \text{ (t0)},"
    r" \omega \text{ (weight decay)}, \textit{maximize}",
    r"\eta_0 \leftarrow \gamma, \: \mu_0 \leftarrow 1, \: \bar\theta_0 \leftarrow 0",
    "\n".join([
        GRAD_LINE,
        r"&\hspace{5mm}\textbf{if} \: \omega \neq 0: \: g_t \leftarrow g_t + \omega \theta_{t-1} \\",
        r"&\hspace{5mm}\theta_t \leftarrow (1 - \lambda \eta_{t-1}) \theta_{t-1} - \eta_{t-1} g_t \\",
        r"&\hspace{5mm}\textbf{if} \: \mu_{t-1} \neq 1: \: \bar\theta_t \leftarrow \bar\theta_{t-1}"
        r" + \mu_{t-1} (\theta_t - \bar\theta_{t-1}) \: \textbf{else}: \: \bar\theta_t \leftarrow \theta_t \\",
        r"&\hspace{5mm}\eta_t \leftarrow \gamma / (1 + \lambda \gamma t)^\alpha \\",
        r"&\hspace{5mm}\mu_t \leftarrow 1 / \max(1, t - t_0) \\",
    ]),
)



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

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "ASGD does not support sparse gradients"
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

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, η_0 = γ, μ_0 = 1 (both rounded to the counter's dtype), θ̄_0 = 0."""
        state["step"] = new_step()
        state["eta"] = new_step(to_scalar(group["lr"]))
        state["mu"] = new_step(1.0)
        state["ax"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One ASGD step of ``p`` (torch's ``_single_tensor_asgd``)."""
        lr, lambd, alpha, t0 = to_scalar(group["lr"]), group["lambd"], group["alpha"], group["t0"]
        weight_decay = group["weight_decay"]
        step_t, eta, mu = state["step"], state["eta"], state["mu"]
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and θ̄ (torch's order)
        param, grad, ax = real_view(p), real_view(grad), real_view(state["ax"])
        # t <- t + 1
        step_t += 1
        if weight_decay != 0:
            # g_t <- g_t + ω θ_{t-1}
            grad = grad.add(param, alpha=weight_decay)
            self.note(L2.name, grad)

        # η_{t-1}, as stored (rounded to the counter's dtype)
        eta_value = eta.item()
        self.note(ETA.name, eta_value)
        # θ <- (1 - λ η_{t-1}) θ_{t-1}: the shrink of Bottou's schedule
        param.mul_(1 - lambd * eta_value)
        # θ_t = θ - η_{t-1} g_t
        param.add_(grad, alpha=-eta_value)
        self.note_update(param)

        if mu.item() != 1:
            # θ̄_t = θ̄_{t-1} + μ_{t-1} (θ_t - θ̄_{t-1})
            ax.add_(param.sub(ax).mul_(mu))
            self.note(AX.name, ax)
        else:
            # μ = 1: the average is the iterate itself
            ax.copy_(param)
            self.note(AX_START.name, ax)

        step = step_t.item()
        # η_t = γ / (1 + λ γ t)^α
        eta.copy_(torch.as_tensor(lr / ((1 + lambd * lr * step) ** alpha)))
        self.note(ETA_NEXT.name, eta)
        # μ_t = 1 / max(1, t - t0)
        mu.copy_(torch.as_tensor(1 / max(1, step - t0)))
        self.note(MU_NEXT.name, mu)


ASGD.__doc__ = with_algorithm(ASGD.__doc__, ASGD.ALGORITHM_LATEX)
