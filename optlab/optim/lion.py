"""Lion (Chen et al. 2023), the sign of an interpolated momentum, exactly as lion-pytorch's ``Lion`` computes it.

Leaves out lion-pytorch's Triton kernel (``use_triton``); the math is the same. Complex parameters are refused.
"""

from torch import Tensor

from ._base import ExplainedOptimizer, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import DECAY, GRAD_LINE, GRAD_TERMS, Term, algorithm, line, with_algorithm

DECAY_DECOUPLED = Term("decay_decoupled", r"\Delta^{decay}\theta_t", r"-\gamma (\lambda / \gamma_0) \theta_{t-1}")
C = Term("c", "c_t", r"\beta_1 m_{t-1} + (1-\beta_1) g_t")
SIGN = Term("sign", r"\mathrm{sign}(c_t)")
UPDATE = Term("update", r"\Delta\theta_t", r"\Delta^{decay}\theta_t - \gamma\,\mathrm{sign}(c_t)")
M = Term("m", "m_t", r"\beta_2 m_{t-1} + (1-\beta_2) g_t")

TERMS = (*GRAD_TERMS, DECAY, DECAY_DECOUPLED, C, SIGN, UPDATE, M)

# the paper's Algorithm 2 (decoupled weight decay), in lion-pytorch's order
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \theta_0, f(\theta), \lambda \text{ (weight decay)},"
    r" \textit{maximize}",
    r"m_0 \leftarrow 0",
    "\n".join([
        GRAD_LINE,
        line(C.assign),
        line(r"\theta_t \leftarrow (1 - \gamma \lambda) \theta_{t-1} - \gamma \, \mathrm{sign}(c_t)"),
        line(M.assign),
    ]),
)


class Lion(ExplainedOptimizer):
    """Lion (EvoLved Sign Momentum), lion-pytorch's ``Lion`` line by line.

    Every coordinate moves by exactly ±γ (plus weight decay): the step is the sign of c_t, an interpolation
    between the momentum and the new gradient, and the momentum is updated afterwards with a second, slower rate
    (Chen et al., "Symbolic Discovery of Optimization Algorithms", NeurIPS 2023, https://arxiv.org/abs/2302.06675,
    Algorithm 2). Because every step has the same size, the paper recommends a learning rate 3-10× smaller than
    AdamW's and a weight decay 3-10× larger. Code names and symbols: ``lr`` is γ, ``betas`` (β1, β2),
    ``weight_decay`` λ; the state's ``exp_avg`` is m_t. Lion keeps no step counter.

    The defaults are lion-pytorch's (0.2.5) and the paper's: γ = 1e-4, (β1, β2) = (0.9, 0.99), λ = 0. Where they
    differ: lion-pytorch asserts its arguments (an AssertionError, and it refuses γ = 0 and accepts β = 1), while
    this class refuses bad values with torch's messages (γ ≥ 0, 0 ≤ β < 1); ``decoupled_weight_decay=True``
    (lion-pytorch's option, not the paper's) divides λ by the constructor's learning rate γ_0, so that the shrink
    per step, γλ/γ_0, follows a schedule of γ without depending on its scale; ``maximize`` is optlab's.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float): learning rate γ, the size of every coordinate's step (default: 0.0001).
        betas (tuple): (β1, β2): β1 interpolates the step's direction, β2 updates the momentum
            (default: (0.9, 0.99)).
        weight_decay (float): decoupled weight decay λ: θ shrinks by γλθ each step (default: 0.0).
        decoupled_weight_decay (bool): use λ/γ_0 instead of λ, γ_0 the constructor's lr (default: False).
        maximize (bool): follow the gradient uphill (default: False).
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Lion does not support sparse gradients"
    COMPLEX_ERROR = "Lion does not support complex parameters"
    SYMBOLS = {
        "lr": r"\gamma",
        "betas": r"(\beta_1, \beta_2)",
        "beta1": r"\beta_1",
        "beta2": r"\beta_2",
        "weight_decay": r"\lambda",
    }
    GROUP_DEFAULTS_ON_LOAD = {"maximize": False}

    def __init__(
        self,
        params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        check_non_negative("weight_decay", weight_decay)
        defaults = {
            "lr": lr,
            "betas": betas,
            "weight_decay": weight_decay,
            "decoupled_weight_decay": decoupled_weight_decay,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state) -> None:
        """Load; a group saved without ``decoupled_weight_decay`` (lion-pytorch keeps that switch on the optimizer,
        not in its groups) takes this optimizer's own choice."""
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("decoupled_weight_decay", self.defaults.get("decoupled_weight_decay", False))

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: m_0 = 0 (Lion keeps no step counter)."""
        state["exp_avg"] = zeros(p)

    def step_param(self, state: dict, group: dict, grad: Tensor, p: Tensor) -> None:
        """One Lion step of ``p`` (lion-pytorch's ``update_fn``)."""
        lr = to_scalar(group["lr"])
        beta1, beta2 = group["betas"]
        decoupled = group["decoupled_weight_decay"]
        # λ, or λ / γ_0 with γ_0 the constructor's learning rate (lion-pytorch's decoupled option)
        weight_decay = group["weight_decay"] / self.defaults["lr"] if decoupled else group["weight_decay"]
        exp_avg = state["exp_avg"]

        before = p.clone() if self.explaining and group["weight_decay"] != 0 else None
        # θ <- (1 - γ λ) θ_{t-1}: decoupled weight decay (a no-op when λ = 0, as in lion-pytorch)
        p.mul_(1.0 - lr * weight_decay)
        if before is not None:
            self.note(DECAY_DECOUPLED.name if decoupled else DECAY.name, p - before)
        # c_t = β1 m_{t-1} + (1 - β1) g_t
        c = exp_avg.clone().mul_(beta1).add(grad, alpha=1.0 - beta1)
        self.note(C.name, c)
        # sign(c_t): ±1 per coordinate (0 where c_t = 0)
        sign = c.sgn_()
        self.note(SIGN.name, sign)
        # θ_t = θ - γ sign(c_t)
        p.add_(sign, alpha=-lr)
        self.note_update(p)
        # m_t = β2 m_{t-1} + (1 - β2) g_t
        exp_avg.mul_(beta2).add_(grad, alpha=1.0 - beta2)
        self.note(M.name, exp_avg)


Lion.__doc__ = with_algorithm(Lion.__doc__, Lion.ALGORITHM_LATEX)
