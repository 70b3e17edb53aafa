"""Rprop, resilient backpropagation (Riedmiller and Braun 1993), exactly as torch.optim.Rprop computes it.

Leaves out torch's foreach/capturable kernels and sparse gradients; the math is the same, and a complex
parameter is updated as its real view, as torch does (its step sizes start at γ + γi: γ in each part).
"""

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, new_step, real_view, refuse_unsupported, to_scalar, zeros
from ._checks import check_lr
from ._docs import GRAD_LINE, GRAD_TERMS, Term, algorithm, with_algorithm

FACTOR = Term("factor", "f_t", r"\eta_+ \text{ if } g_{prev} g_t > 0, \; \eta_- \text{ if } g_{prev} g_t < 0,"
              r" \; 1 \text{ if } g_{prev} g_t = 0")
STEP_SIZE = Term("step_size", "s_t", r"\mathrm{clip}(f_t s_{t-1}, \Gamma_{min}, \Gamma_{max})")
GRAD_KEPT = Term("grad_kept", r"\tilde g_t", r"g_t \text{ with } 0 \text{ where } f_t = \eta_-")
UPDATE = Term("update", r"\Delta\theta_t", r"-s_t \, \mathrm{sign}(\tilde g_t)")

TERMS = (*GRAD_TERMS, FACTOR, STEP_SIZE, GRAD_KEPT, UPDATE)

# torch.optim.Rprop's documented algorithm, per coordinate
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \theta_0, f(\theta), \eta_-, \eta_+ \text{ (etas)},"
    r" \Gamma_{min}, \Gamma_{max} \text{ (step sizes)}, \textit{maximize}",
    r"g_{prev} \leftarrow 0, \: s_0 \leftarrow \gamma \text{ (every coordinate)}",
    "\n".join([
        GRAD_LINE,
        r"&\hspace{5mm}\textbf{for each coordinate } i: \\",
        r"&\hspace{10mm}\textbf{if} \: g^i_{prev} g^i_t > 0: \: s^i_t \leftarrow \min(\eta_+ s^i_{t-1}, \Gamma_{max}) \\",
        r"&\hspace{10mm}\textbf{else if} \: g^i_{prev} g^i_t < 0: \: s^i_t \leftarrow \max(\eta_- s^i_{t-1},"
        r" \Gamma_{min}), \: g^i_t \leftarrow 0 \\",
        r"&\hspace{10mm}\textbf{else}: \: s^i_t \leftarrow \mathrm{clip}(s^i_{t-1}, \Gamma_{min}, \Gamma_{max}) \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - s_t \odot \mathrm{sign}(g_t) \\",
        r"&\hspace{5mm}g_{prev} \leftarrow g_t \\",
    ]),
)



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

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Rprop does not support sparse gradients"
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

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter, g_prev = 0 and s_0 = γ in every coordinate (γ + γi for a complex θ)."""
        lr = group["lr"]
        state["step"] = new_step()
        state["prev"] = zeros(p)
        if p.dtype.is_complex:
            state["step_size"] = torch.full_like(p.grad, complex(lr, lr))
        else:
            state["step_size"] = torch.full_like(p.grad, to_scalar(lr))

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Rprop step of ``p`` (torch's ``_single_tensor_rprop``)."""
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
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
        self.note(FACTOR.name, factor)
        # s_t = clip(f_t s_{t-1}, Γmin, Γmax)
        step_size.mul_(factor).clamp_(step_size_min, step_size_max)
        self.note(STEP_SIZE.name, step_size)
        # g̃_t = g_t, with 0 where the sign flipped (f_t = η-): that coordinate rests this step
        grad = grad.clone(memory_format=torch.preserve_format)
        grad[factor.eq(etaminus)] = 0
        self.note(GRAD_KEPT.name, grad)
        # θ_t = θ_{t-1} - s_t sign(g̃_t)
        param.addcmul_(grad.sign(), step_size, value=-1)
        self.note_update(param)
        # g_prev <- g̃_t
        prev.copy_(grad)


Rprop.__doc__ = with_algorithm(Rprop.__doc__, Rprop.ALGORITHM_LATEX)
