"""Muon (Jordan et al. 2024): momentum orthogonalised by a Newton–Schulz iteration, exactly as torch.optim.Muon.

``Muon`` takes only matrices, as torch's does. ``MatrixMuon`` is the same algorithm for the labs, which hand it
parameters of other shapes: a vector (a point on a 2D surface, a bias) is stepped as a 1×n matrix, a tensor of
more dimensions (a convolution kernel) as shape[0] × (the rest), as Keller Jordan's Muon flattens conv filters.
Like torch's, both refuse complex parameters and sparse gradients.
"""

import math

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, to_scalar, zeros
from ._docs import DECAY, GRAD, Term, algorithm, with_algorithm

MOMENTUM_BUFFER = Term("momentum_buffer", "B_t", r"\mu B_{t-1} + (1-\mu) g_t")
DIRECTION_NESTEROV = Term("direction_nesterov", r"\tilde B_t", r"(1-\mu) g_t + \mu B_t")
DIRECTION_HEAVY_BALL = Term("direction_heavy_ball", r"\tilde B_t", "B_t")
ORTHO = Term("ortho", "O_t", r"\mathrm{NS}^{(a,b,c)}_k(\tilde B_t) \approx U V^\top \;(\tilde B_t = U S V^\top)")
ADJUSTED_LR = Term("adjusted_lr", r"\gamma'", r"\gamma \sqrt{\max(1, A/B)}")
ADJUSTED_LR_MATCH_RMS = Term("adjusted_lr_match_rms", r"\gamma'", r"0.2 \gamma \sqrt{\max(A, B)}")
UPDATE = Term("update", r"\Delta\theta_t", r"-\gamma\lambda\theta_{t-1} - \gamma' O_t")

TERMS = (GRAD, MOMENTUM_BUFFER, DIRECTION_NESTEROV, DIRECTION_HEAVY_BALL, ORTHO, ADJUSTED_LR, ADJUSTED_LR_MATCH_RMS,
         DECAY, UPDATE)

# torch.optim.Muon's documented algorithm (Jordan et al. 2024)
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \lambda \text{ (weight decay)}, \mu \text{ (momentum)}, \textit{nesterov},"
    r" (a, b, c) \text{ (NS coefficients)}, \epsilon, k \text{ (NS steps)}, \theta_0 \in \mathbb{R}^{A \times B},"
    r" f(\theta)",
    r"B_0 \leftarrow 0",
    "\n".join([
        r"&\hspace{5mm}g_t \leftarrow \nabla_{\theta} f_t(\theta_{t-1}) \\",
        r"&\hspace{5mm}B_t \leftarrow \mu B_{t-1} + (1 - \mu) g_t \\",
        r"&\hspace{5mm}\textbf{if} \: \textit{nesterov}: \: \tilde B_t \leftarrow (1 - \mu) g_t + \mu B_t"
        r" \: \textbf{else}: \: \tilde B_t \leftarrow B_t \\",
        r"&\hspace{5mm}X \leftarrow \tilde B_t / \max(\lVert \tilde B_t \rVert_F, \epsilon)"
        r" \text{ (in bfloat16; transposed if } A > B) \\",
        r"&\hspace{5mm}\textbf{repeat} \: k \: \textbf{times}: \: S \leftarrow X X^\top, \:"
        r" X \leftarrow a X + (b S + c S^2) X \\",
        r"&\hspace{5mm}O_t \leftarrow X, \: \gamma' \leftarrow \gamma \sqrt{\max(1, A / B)} \\",
        r"&\hspace{5mm}\theta_t \leftarrow (1 - \gamma \lambda) \theta_{t-1} - \gamma' O_t \\",
    ]),
)



# Keller Jordan's constants, as torch.optim.Muon takes them (https://kellerjordan.github.io/posts/muon/)
EPS = 1e-7
DEFAULT_A = 3.4445
DEFAULT_B = -4.7750
DEFAULT_C = 2.0315
DEFAULT_NS_STEPS = 5


def zeropower_via_newtonschulz(grad: Tensor, ns_coefficients: tuple[float, float, float], ns_steps: int,
                               eps: float) -> Tensor:
    """O ≈ U Vᵀ for G = U S Vᵀ: k steps of a quintic Newton–Schulz iteration in bfloat16, as torch computes it.

    The coefficients (a, b, c) push every singular value of X towards 1 as fast as possible from 0, without
    converging exactly: the result is U S' Vᵀ with S' roughly in [0.7, 1.2] (Jordan, "Muon: An optimizer for
    hidden layers in neural networks", 2024). A wide matrix is iterated as it is, a tall one transposed.
    """
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if len(grad.shape) != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = ns_coefficients
    x = grad.bfloat16()
    tall = grad.size(0) > grad.size(1)
    if tall:
        x = x.T
    # X_0 = G / max(‖G‖_F, ε): every singular value ≤ 1
    x.div_(x.norm().clamp(min=eps))
    for _ in range(ns_steps):
        # S = X Xᵀ
        gram = x @ x.T
        # b S + c S²
        gram_update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
        # X <- a X + (b S + c S²) X
        x = torch.addmm(x, gram_update, x, beta=a)
    return x.T if tall else x


def adjusted_lr(lr, adjust_lr_fn: str | None, shape: torch.Size) -> float:
    """γ' for an A×B matrix: γ √max(1, A/B) ("original", Keller Jordan's), 0.2 γ √max(A, B)
    ("match_rms_adamw", Liu et al., "Muon is Scalable for LLM Training", 2025, https://arxiv.org/abs/2502.16982)."""
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(ExplainedOptimizer):
    """Muon, torch.optim.Muon's algorithm line by line.

    SGD-momentum whose step is the momentum (Nesterov by default) made orthogonal: its singular values are all
    set close to 1, so every direction of the matrix moves by about the same amount (Jordan et al., "Muon: An
    optimizer for hidden layers in neural networks", 2024, https://kellerjordan.github.io/posts/muon/). For the
    hidden-layer matrices of a network; biases, embeddings and the output layer belong to another optimizer
    (AdamW). Code names and symbols: ``lr`` is γ, ``weight_decay`` λ (decoupled), ``momentum`` μ,
    ``ns_coefficients`` (a, b, c), ``eps`` ε, ``ns_steps`` k; the state's ``momentum_buffer`` is B_t. As in
    torch, B_t is an exponential average (B_t = μB_{t-1} + (1 - μ)g_t), the iteration runs in bfloat16, and there
    is no ``maximize``.

    Args:
        params: iterable of parameters (2-D only) or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 1e-3).
        weight_decay (float): decoupled weight decay λ (default: 0.1).
        momentum (float): momentum factor μ (default: 0.95).
        nesterov (bool): orthogonalise (1 - μ) g_t + μ B_t instead of B_t (default: True).
        ns_coefficients (tuple): coefficients (a, b, c) of the Newton–Schulz polynomial
            (default: (3.4445, -4.775, 2.0315)).
        eps (float): ε, the smallest norm the iteration divides by (default: 1e-07).
        ns_steps (int): number k of Newton–Schulz steps (default: 5).
        adjust_lr_fn (str or None): "original" (or None): γ' = γ √max(1, A/B); "match_rms_adamw":
            γ' = 0.2 γ √max(A, B), so AdamW's lr and weight decay carry over (default: None).
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "Muon does not support sparse gradients"
    SYMBOLS = {
        "lr": r"\gamma",
        "weight_decay": r"\lambda",
        "momentum": r"\mu",
        "ns_coefficients": "(a, b, c)",
        "eps": r"\epsilon",
        "ns_steps": "k",
    }

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = (DEFAULT_A, DEFAULT_B, DEFAULT_C),
        eps: float = EPS,
        ns_steps: int = DEFAULT_NS_STEPS,
        adjust_lr_fn: str | None = None,
    ) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = {
            "lr": lr,
            "weight_decay": weight_decay,
            "momentum": momentum,
            "nesterov": nesterov,
            "ns_coefficients": ns_coefficients,
            "eps": eps,
            "ns_steps": ns_steps,
            "adjust_lr_fn": adjust_lr_fn,
        }
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._check_shape(p)

    @staticmethod
    def _check_shape(p: Tensor) -> None:
        """torch's Muon takes matrices only."""
        if p.ndim != 2:
            raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: {p.size()}")

    @staticmethod
    def _as_matrix(t: Tensor) -> Tensor:
        """The matrix the algorithm sees for a parameter (or its gradient or buffer): the tensor itself here."""
        return t

    # Its own loop: each parameter is stepped as a matrix view (MatrixMuon) and the whole group is checked and given
    # its buffers before any parameter moves, as torch does.
    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._prologue(closure)
        for group in self.param_groups:
            lr = to_scalar(group["lr"])
            weight_decay, momentum, nesterov = group["weight_decay"], group["momentum"], group["nesterov"]
            adjust_lr_fn = group["adjust_lr_fn"]
            # as torch, every parameter of the group is checked (and gets its buffer) before any of them moves
            for p in group["params"]:
                if p.grad is None:
                    continue
                if torch.is_complex(p):
                    raise RuntimeError("Muon does not support complex parameters")
                if p.grad.is_sparse:
                    raise RuntimeError("Muon does not support sparse gradients")
                if "momentum_buffer" not in self.state[p]:
                    # B_0 = 0
                    self.state[p]["momentum_buffer"] = zeros(p.grad)
            for p in self._params_with_grad(group):
                self._open(p)
                shape = p.shape
                param, grad = self._as_matrix(p), self._as_matrix(p.grad)
                if grad.ndim != 2:
                    raise ValueError("Param gradient must be a 2D matrix")
                self.note(GRAD.name, p.grad)
                buf = self._as_matrix(self.state[p]["momentum_buffer"])

                # B_t = μ B_{t-1} + (1 - μ) g_t   (lerp: B + (1 - μ)(g - B))
                buf.lerp_(grad, 1 - momentum)
                self.note(MOMENTUM_BUFFER.name, buf.view(shape))
                if nesterov:
                    # B̃_t = g_t + μ (B_t - g_t) = (1 - μ) g_t + μ B_t
                    direction = grad.lerp(buf, momentum)
                    self.note(DIRECTION_NESTEROV.name, direction.view(shape))
                else:
                    # B̃_t = B_t
                    direction = buf
                    self.note(DIRECTION_HEAVY_BALL.name, direction.view(shape))
                # O_t = NS_k(B̃_t), in bfloat16
                ortho = zeropower_via_newtonschulz(direction, group["ns_coefficients"], group["ns_steps"],
                                                   group["eps"])
                if self.explaining:
                    self.note(ORTHO.name, ortho.to(p.dtype).reshape(shape))
                # γ' from the shape A×B of the matrix
                lr_adjusted = adjusted_lr(lr, adjust_lr_fn, param.shape)
                self.note(ADJUSTED_LR_MATCH_RMS.name if adjust_lr_fn == "match_rms_adamw" else ADJUSTED_LR.name,
                          lr_adjusted)
                before = p.clone() if self.explaining and weight_decay != 0 else None
                # θ <- (1 - γ λ) θ_{t-1}: decoupled weight decay
                param.mul_(1 - lr * weight_decay)
                if before is not None:
                    self.note(DECAY.name, p - before)
                # θ_t = θ - γ' O_t
                param.add_(ortho, alpha=-lr_adjusted)
                self.note_update(p)
                self._close()
        return loss


class MatrixMuon(Muon):
    """Muon for parameters of any shape, each stepped as a matrix: a vector of n numbers as a 1×n matrix (a row),
    a tensor of 3 or more dimensions as shape[0] × (the product of the rest), a matrix as itself.

    On a matrix it is ``Muon`` exactly. On a 2D surface the point (x, y) is the 1×2 matrix [x y]: its gradient's
    only singular vector pair is (1, g/‖g‖), so the Newton–Schulz iteration sends the momentum to about
    B̃/‖B̃‖ (times the polynomial's value near 1): every step has about the same length γ, whatever the size of
    the gradient. State and recorded terms keep the parameter's own shape.
    """

    @staticmethod
    def _check_shape(p: Tensor) -> None:
        if p.ndim == 0:
            raise ValueError("MatrixMuon needs parameters with at least one dimension, got a 0-d tensor")

    @staticmethod
    def _as_matrix(t: Tensor) -> Tensor:
        if t.ndim == 1:
            # a vector as a 1×n matrix (a view: updates land in the vector)
            return t.view(1, -1)
        if t.ndim > 2:
            # a kernel (out, in, h, w) as out × (in·h·w)
            return t.view(t.shape[0], -1)
        return t


Muon.__doc__ = with_algorithm(Muon.__doc__, Muon.ALGORITHM_LATEX)
MatrixMuon.__doc__ = with_algorithm(MatrixMuon.__doc__, Muon.ALGORITHM_LATEX)
