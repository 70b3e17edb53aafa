"""RMSprop (Hinton's lecture 6e; centered form from Graves 2013), exactly as torch.optim.RMSprop computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex parameter
is updated as its real view, as torch does.
"""

from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_lr, check_non_negative
from ._docs import GRAD_LINE, GRAD_TERMS, L2, L2_LINE, UPDATE, Term, algorithm, line, with_algorithm

SQUARE_AVG = Term("square_avg", "v_t", r"\alpha v_{t-1} + (1-\alpha) g_t^2")
GRAD_AVG = Term("grad_avg", r"g^{ave}_t", r"\alpha g^{ave}_{t-1} + (1-\alpha) g_t")
AVG = Term("avg", r"\sigma_t", r"\sqrt{v_t} + \epsilon")
AVG_CENTERED = Term("avg_centered", r"\sigma_t", r"\sqrt{v_t - (g^{ave}_t)^2} + \epsilon")
MOMENTUM_BUFFER = Term("momentum_buffer", "b_t", r"\mu b_{t-1} + g_t / \sigma_t")

TERMS = (*GRAD_TERMS, L2, SQUARE_AVG, GRAD_AVG, AVG, AVG_CENTERED, MOMENTUM_BUFFER, UPDATE)

ALGORITHM = algorithm(
    r"\alpha \text{ (alpha)}, \gamma \text{ (lr)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \mu \text{ (momentum)}, \textit{centered}, \epsilon, \textit{maximize}",
    r"v_0 \leftarrow 0, \: b_0 \leftarrow 0, \: g^{ave}_0 \leftarrow 0",
    "\n".join([
        GRAD_LINE,
        L2_LINE,
        line(SQUARE_AVG.assign),
        line(rf"\textbf{{if}} \: \textit{{centered}}: \: {GRAD_AVG.assign}, \: {AVG_CENTERED.assign}"),
        line(rf"\textbf{{else}}: \: {AVG.assign}"),
        line(rf"\textbf{{if}} \: \mu > 0: \: {MOMENTUM_BUFFER.assign}, \: \theta_t \leftarrow \theta_{{t-1}} - \gamma b_t"),
        line(r"\textbf{else}: \: \theta_t \leftarrow \theta_{t-1} - \gamma g_t / \sigma_t"),
    ]),
)


class RMSprop(ExplainedOptimizer):
    """RMSprop, torch.optim.RMSprop's single-tensor algorithm line by line.

    Code names and symbols: ``lr`` is γ, ``alpha`` is the smoothing constant α, ``eps`` ε, ``weight_decay`` λ,
    ``momentum`` μ; the state's ``square_avg`` is v_t, ``grad_avg`` is g^ave_t (centered only) and
    ``momentum_buffer`` is b_t (momentum only); σ_t is the denominator √v_t + ε (or √(v_t - (g^ave_t)²) + ε when
    centered).

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-2).
        alpha (float): smoothing constant α of the squared-gradient average (default: 0.99).
        eps (float): ε added to the denominator (default: 1e-8).
        weight_decay (float): L2 penalty λ (default: 0).
        momentum (float): momentum factor μ (default: 0).
        centered (bool): divide by an estimate of the gradient's variance instead of its second moment
            (default: False).
        maximize (bool): follow the gradient uphill (default: False).
        foreach: accepted and ignored. capturable, differentiable: only their defaults are accepted.
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "RMSprop does not support sparse gradients"
    SYMBOLS = {
        "lr": r"\gamma",
        "alpha": r"\alpha",
        "eps": r"\epsilon",
        "weight_decay": r"\lambda",
        "momentum": r"\mu",
    }
    GROUP_DEFAULTS_ON_LOAD = {
        "momentum": 0,
        "centered": False,
        "foreach": None,
        "maximize": False,
        "differentiable": False,
        "capturable": False,
    }
    COUNTER_KEYS = ("step",)

    def __init__(
        self,
        params,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_non_negative("momentum", momentum)
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("alpha", alpha)
        refuse_unsupported(foreach=foreach, capturable=capturable, differentiable=differentiable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, v_0 = 0, b_0 = 0 (momentum), g^ave_0 = 0 (centered)."""
        state["step"] = new_step()
        state["square_avg"] = zeros(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros(p)
        if group["centered"]:
            state["grad_avg"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One RMSprop step of ``p`` (torch's ``_single_tensor_rmsprop``)."""
        lr, alpha, weight_decay = to_scalar(group["lr"]), group["alpha"], group["weight_decay"]
        state["step"] += 1
        if weight_decay != 0:
            # g_t <- g_t + λ θ_{t-1}
            grad = _weight_decay.add_l2(self, grad, p, weight_decay)
        # a complex θ moves as its real view (Re θ, Im θ), and so do g_t and the state (torch's order)
        param, grad, square_avg = real_view(p), real_view(grad), real_view(state["square_avg"])

        # v_t = α v_{t-1} + (1 - α) g_t²
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        self.note(SQUARE_AVG.name, square_avg)
        if group["centered"]:
            grad_avg = real_view(state["grad_avg"])
            # g^ave_t = α g^ave_{t-1} + (1 - α) g_t
            grad_avg.lerp_(grad, 1 - alpha)
            self.note(GRAD_AVG.name, grad_avg)
            # σ_t = √(v_t - (g^ave_t)²) + ε: the gradient's standard deviation
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_().add_(group["eps"])
            self.note(AVG_CENTERED.name, avg)
        else:
            # σ_t = √v_t + ε: the root mean square of the gradient
            avg = square_avg.sqrt().add_(group["eps"])
            self.note(AVG.name, avg)

        if group["momentum"] > 0:
            buf = real_view(state["momentum_buffer"])
            # b_t = μ b_{t-1} + g_t / σ_t
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            self.note(MOMENTUM_BUFFER.name, buf)
            # θ_t = θ_{t-1} - γ b_t
            param.add_(buf, alpha=-lr)
        else:
            # θ_t = θ_{t-1} - γ g_t / σ_t
            param.addcdiv_(grad, avg, value=-lr)
        self.note_update(param)


RMSprop.__doc__ = with_algorithm(RMSprop.__doc__, RMSprop.ALGORITHM_LATEX)
