"""Stochastic gradient descent with optional (Nesterov) momentum, exactly as torch.optim.SGD computes it.

Leaves out torch's foreach/fused kernels and sparse gradients; the math per parameter is the same. A complex
parameter is updated with complex operations, as torch does (the update is linear in g_t, so each part of θ
moves on its own); its terms are recorded as its real view, like the other optimizers'.
"""

from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, real_view, refuse_unsupported, to_scalar
from ._checks import check_lr, check_non_negative
from ._docs import GRAD_LINE, GRAD_TERMS, L2, L2_LINE, Term, algorithm, line, theta_line, with_algorithm

MOMENTUM_BUFFER = Term("momentum_buffer", "b_t", r"\mu b_{t-1} + (1-\tau) g_t \;(b_1 = g_1)")
DIRECTION = Term("direction", "d_t", "g_t")
DIRECTION_HEAVY_BALL = Term("direction_heavy_ball", "d_t", "b_t")
DIRECTION_NESTEROV = Term("direction_nesterov", "d_t", r"g_t + \mu b_t")
UPDATE = Term("update", r"\Delta\theta_t", r"-\gamma d_t")

TERMS = (*GRAD_TERMS, L2, MOMENTUM_BUFFER, DIRECTION, DIRECTION_HEAVY_BALL, DIRECTION_NESTEROV, UPDATE)

ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)}, \mu \text{ (momentum)},"
    r" \tau \text{ (dampening)}, \textit{nesterov}, \textit{maximize}",
    "",
    "\n".join([
        GRAD_LINE,
        L2_LINE,
        line(rf"\textbf{{if}} \: \mu \neq 0: \: {MOMENTUM_BUFFER.assign}"),
        line(rf"\textbf{{if}} \: \textit{{nesterov}}: \: {DIRECTION_NESTEROV.assign} \: \textbf{{else if}} \:"
             rf" \mu \neq 0: \: {DIRECTION_HEAVY_BALL.assign} \: \textbf{{else}}: \: {DIRECTION.assign}"),
        line(theta_line(UPDATE)),
    ]),
)


class SGD(ExplainedOptimizer):
    """Stochastic gradient descent (optionally with momentum), torch.optim.SGD's algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``momentum`` μ, ``dampening`` τ, ``weight_decay`` λ, the state's
    ``momentum_buffer`` is b_t. The buffer starts as the first gradient (no dampening on step 1), as in torch.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        momentum (float): momentum factor μ (default: 0).
        dampening (float): dampening τ for momentum (default: 0).
        weight_decay (float or Tensor): L2 penalty λ added to the gradient (default: 0).
        nesterov (bool): step along g_t + μ b_t instead of b_t; needs μ > 0 and τ = 0 (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. differentiable, fused: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SYMBOLS = {"lr": r"\gamma", "momentum": r"\mu", "dampening": r"\tau", "weight_decay": r"\lambda"}
    SPARSE_ERROR = "optlab SGD does not support sparse gradients"
    GROUP_DEFAULTS_ON_LOAD = {
        "nesterov": False,
        "maximize": False,
        "foreach": None,
        "differentiable": False,
        "fused": False,
    }

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        # torch's SGD checks with `x < 0`, so NaN passes here (it does not in the other optimizers)
        check_lr(lr, refuse_nan=False)
        check_non_negative("momentum", momentum, refuse_nan=False)
        check_non_negative("weight_decay", weight_decay, refuse_nan=False)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        refuse_unsupported(foreach=foreach, fused=fused, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        super().__init__(params, defaults)

    def state_of(self, group: dict, p: Tensor) -> dict | None:
        """torch's SGD keeps a state only for momentum (the buffer b_t, made on the first step): none otherwise."""
        return self.state[p] if group["momentum"] != 0 else None

    def step_param(self, state: dict | None, group: dict, grad: Tensor, p: Tensor) -> None:
        """One SGD step of ``p``."""
        lr, weight_decay, momentum = to_scalar(group["lr"]), group["weight_decay"], group["momentum"]
        if weight_decay != 0:
            # g_t <- g_t + λ θ_{t-1}
            grad = _weight_decay.add_l2(self, grad, p, weight_decay)

        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                # b_1 = g_1
                buf = grad.detach().clone()
                state["momentum_buffer"] = buf
            else:
                # b_t = μ b_{t-1} + (1 - τ) g_t
                buf.mul_(momentum).add_(grad, alpha=1 - group["dampening"])
            self.note(MOMENTUM_BUFFER.name, real_view(buf))
            if group["nesterov"]:
                # d_t = g_t + μ b_t
                direction = grad.add(buf, alpha=momentum)
                self.note(DIRECTION_NESTEROV.name, real_view(direction))
            else:
                # d_t = b_t
                direction = buf
                self.note(DIRECTION_HEAVY_BALL.name, real_view(direction))
        else:
            # d_t = g_t: plain gradient descent
            direction = grad
            self.note(DIRECTION.name, real_view(direction))

        # θ_t = θ_{t-1} - γ d_t
        p.add_(direction, alpha=-lr)
        self.note_update(real_view(p))


SGD.__doc__ = with_algorithm(SGD.__doc__, SGD.ALGORITHM_LATEX)
