"""Adafactor (Shazeer and Stern 2018), exactly as torch.optim.Adafactor computes it.

Leaves out torch's foreach kernel; the math is the same. Like torch's, it refuses complex parameters and
sparse gradients.
"""

import torch
from torch import Tensor

from . import _weight_decay
from ._base import ExplainedOptimizer, new_step, refuse_unsupported, to_scalar, zeros
from ._docs import DECAY, GRAD_LINE, GRAD_TERMS, Term, algorithm, with_algorithm

ONE_MINUS_BETA2 = Term("one_minus_beta2", r"1 - \hat\beta_{2,t}", r"t^\tau")
RHO = Term("rho", r"\rho_t", r"\min(\gamma, 1/\sqrt{t})")
ALPHA = Term("alpha", r"\alpha_t", r"\max(\epsilon_2, \mathrm{RMS}(\theta_{t-1})) \rho_t")
ROW_VAR = Term("row_var", "R_t", r"\hat\beta_{2,t} R_{t-1} + (1-\hat\beta_{2,t}) \,\mathrm{mean}_{cols}(g_t^2)")
COL_VAR = Term("col_var", "C_t", r"\hat\beta_{2,t} C_{t-1} + (1-\hat\beta_{2,t}) \,\mathrm{mean}_{rows}(g_t^2)")
VAR_ESTIMATE = Term("var_estimate", r"\hat V_t", r"R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1)")
VARIANCE = Term("variance", r"\hat V_t", r"\hat\beta_{2,t} \hat V_{t-1} + (1-\hat\beta_{2,t}) g_t^2")
U = Term("u", "U_t", r"g_t / \max(\sqrt{\hat V_t}, \epsilon_1)")
CLIP = Term("clip", r"\max(1, \mathrm{RMS}(U_t) / d)")
UPDATE = Term("update", r"\Delta\theta_t", r"-\gamma\lambda\theta_{t-1} - \alpha_t U_t / \max(1, \mathrm{RMS}(U_t) / d)")

TERMS = (*GRAD_TERMS, ONE_MINUS_BETA2, RHO, ALPHA, DECAY, ROW_VAR, COL_VAR, VAR_ESTIMATE, VARIANCE, U, CLIP, UPDATE)

# torch.optim.Adafactor's documented algorithm (Shazeer and Stern 2018, Algorithms 4 and 5)
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \tau \text{ (}\beta_2\text{ decay)}, \theta_0, f(\theta), \epsilon_1, \epsilon_2"
    r" \text{ (eps)}, d \text{ (clipping threshold)}, \lambda \text{ (weight decay)}, \textit{maximize}",
    r"R_0 \leftarrow 0, \: C_0 \leftarrow 0 \text{ (matrices)}, \: \hat V_0 \leftarrow 0 \text{ (vectors)}",
    "\n".join([
        GRAD_LINE,
        r"&\hspace{5mm}\hat\beta_{2,t} \leftarrow 1 - t^\tau, \: \rho_t \leftarrow \min(\gamma, 1 / \sqrt{t}) \\",
        r"&\hspace{5mm}\alpha_t \leftarrow \max(\epsilon_2, \mathrm{RMS}(\theta_{t-1})) \rho_t \\",
        r"&\hspace{5mm}\theta_{t-1} \leftarrow \theta_{t-1} - \gamma \lambda \theta_{t-1} \\",
        r"&\hspace{5mm}\textbf{if} \: \dim(g_t) > 1: \\",
        r"&\hspace{10mm}R_t \leftarrow \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t}) \,\mathrm{mean}_{cols}(g_t^2) \\",
        r"&\hspace{10mm}C_t \leftarrow \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t}) \,\mathrm{mean}_{rows}(g_t^2) \\",
        r"&\hspace{10mm}\hat V_t \leftarrow R_t C_t / \max(\mathrm{mean}(R_t), \epsilon_1) \\",
        r"&\hspace{5mm}\textbf{else}: \: \hat V_t \leftarrow \hat\beta_{2,t} \hat V_{t-1}"
        r" + (1 - \hat\beta_{2,t}) g_t^2 \\",
        r"&\hspace{5mm}U_t \leftarrow g_t / \max(\sqrt{\hat V_t}, \epsilon_1) \\",
        r"&\hspace{5mm}\theta_t \leftarrow \theta_{t-1} - \alpha_t U_t / \max(1, \mathrm{RMS}(U_t) / d) \\",
    ]),
)



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

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Adafactor does not support sparse gradients"
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

    def init_state(self, state: dict, group: dict, p: Tensor) -> None:
        """Lazy state: step counter; R_0 = 0 and C_0 = 0 for a tensor of 2 or more dimensions (the last axis, or
        the one before it, reduced to 1), V̂_0 = 0 for a vector."""
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

    # Its own loop: ε1 = None means the machine epsilon of the group's first parameter, kept for the whole group,
    # and the group is checked for complex parameters before any of them moves (both as torch does).
    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._prologue(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            eps1, eps2 = group["eps"]
            beta2_decay, d, weight_decay, maximize = (
                group["beta2_decay"], group["d"], group["weight_decay"], group["maximize"])
            # as torch, the whole group is checked before any parameter moves
            if any(p.grad is not None and torch.is_complex(p) for p in group["params"]):
                raise RuntimeError("Adafactor does not support complex parameters")
            for p in self._params_with_grad(group):
                state = self.state_of(group, p)
                step_t = state["step"]
                self._open(p)

                # g_t = ∇f(θ_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                self.note("grad_maximize" if maximize else "grad", grad)
                # ε1 = None: the machine epsilon of the (first) parameter's dtype, kept for the group, as torch
                if eps1 is None:
                    eps1 = torch.finfo(p.dtype).eps

                # t <- t + 1
                step_t += 1
                step = step_t.item()
                # 1 - β̂2_t = t^τ
                one_minus_beta2_t = step**beta2_decay
                self.note(ONE_MINUS_BETA2.name, one_minus_beta2_t)
                # ρ_t = min(γ, 1/√t)
                rho_t = min(lr, 1 / (step**0.5))
                self.note(RHO.name, rho_t)
                # α_t = max(ε2, RMS(θ_{t-1})) ρ_t,  RMS(θ) = ‖θ‖₂ / √n
                alpha = max(eps2, p.norm(2).item() / (p.numel() ** 0.5)) * rho_t
                self.note(ALPHA.name, alpha)
                # θ <- (1 - γ λ) θ_{t-1}: decoupled weight decay
                if weight_decay != 0:
                    _weight_decay.shrink(self, p, lr, weight_decay)

                if grad.dim() > 1:
                    row_var, col_var = state["row_var"], state["col_var"]
                    # mean over the last axis of g_t², as ‖g_t‖² / n along it
                    row_mean = torch.norm(grad, dim=-1, keepdim=True).square_().div_(grad.size(-1))
                    # R_t = β̂2_t R_{t-1} + (1 - β̂2_t) mean_cols(g_t²)   (lerp with weight t^τ)
                    row_var.lerp_(row_mean, one_minus_beta2_t)
                    self.note(ROW_VAR.name, row_var)
                    # mean over the axis before it
                    col_mean = torch.norm(grad, dim=-2, keepdim=True).square_().div_(grad.size(-2))
                    # C_t = β̂2_t C_{t-1} + (1 - β̂2_t) mean_rows(g_t²)
                    col_var.lerp_(col_mean, one_minus_beta2_t)
                    self.note(COL_VAR.name, col_var)
                    # V̂_t = R_t C_t / max(mean(R_t), ε1)   (an outer product: m×1 @ 1×n)
                    var_estimate = row_var @ col_var
                    var_estimate.div_(row_var.mean(dim=-2, keepdim=True).clamp_(min=eps1))
                    self.note(VAR_ESTIMATE.name, var_estimate)
                else:
                    variance = state["variance"]
                    # V̂_t = β̂2_t V̂_{t-1} + (1 - β̂2_t) g_t²
                    variance.lerp_(grad * grad, one_minus_beta2_t)
                    self.note(VARIANCE.name, variance)
                    var_estimate = variance.clone()

                # U_t = g_t / √max(V̂_t, ε1²) = g_t / max(√V̂_t, ε1)
                update = var_estimate.clamp_(min=eps1 * eps1).rsqrt_()
                update.mul_(grad)
                self.note(U.name, update)
                # max(1, RMS(U_t) / d)
                denom = max(1.0, update.norm(2).item() / ((update.numel() ** 0.5) * d))
                self.note(CLIP.name, denom)
                # θ_t = θ - α_t U_t / max(1, RMS(U_t) / d)
                p.add_(update, alpha=-alpha / denom)
                self.note_update(p)
                self._close()
        return loss


Adafactor.__doc__ = with_algorithm(Adafactor.__doc__, Adafactor.ALGORITHM_LATEX)
