"""Schedule-free AdamW (Defazio et al. 2024), exactly as the schedulefree package's ``AdamWScheduleFree`` computes it.

``AdamWScheduleFree`` keeps the package's train/eval protocol; ``AdamWScheduleFreeTraining`` is the same
optimizer already in train mode, for the labs, which step an optimizer as soon as they build it. Leaves out the
package's foreach kernel (the same math). Complex parameters are refused.
"""

import torch
from torch import Tensor

from ._base import ExplainedOptimizer, to_scalar, zeros
from ._checks import check_betas, check_lr, check_non_negative
from ._docs import GRAD_TERMS, Term, algorithm, with_algorithm

SCHEDULED_LR = Term("scheduled_lr", r"\gamma_t", r"\gamma \min(1, t / T_{warm})")
LR_MAX = Term("lr_max", r"\gamma^{max}_t", r"\max(\gamma^{max}_{t-1}, \gamma_t)")
WEIGHT = Term("weight", "w_t", r"t^r (\gamma^{max}_t)^p")
CKP1 = Term("ckp1", "c_t", r"w_t / \textstyle\sum_{i \le t} w_i")
V = Term("v", "v_t", r"\beta_2 v_{t-1} + (1-\beta_2) g_t^2")
DENOM = Term("denom", r"\sqrt{v_t / (1-\beta_2^t)} + \epsilon")
G_HAT = Term("g_hat", r"\hat g_t", r"g_t / (\sqrt{v_t / (1-\beta_2^t)} + \epsilon)")
G_HAT_L2 = Term("g_hat_l2", r"\hat g_t", r"\hat g_t + \lambda y_{t-1}", in_place=True)
UPDATE = Term("update", r"\Delta y_t", r"c_t (z_{t-1} - y_{t-1}) + \gamma_t (\beta_1 (1-c_t) - 1) \hat g_t")
Z = Term("z", "z_t", r"z_{t-1} - \gamma_t \hat g_t")
X = Term("x", "x_t", r"y_t + (1 - 1/\beta_1) (z_t - y_t)")

TERMS = (*GRAD_TERMS, SCHEDULED_LR, LR_MAX, WEIGHT, CKP1, V, DENOM, G_HAT, G_HAT_L2, UPDATE, Z, X)

# Defazio et al. 2024, "The Road Less Scheduled", Algorithm 1 with Adam's normalisation, as schedulefree runs it
ALGORITHM = algorithm(
    r"\gamma \text{ (lr)}, \beta_1, \beta_2 \text{ (betas)}, \epsilon, \lambda \text{ (weight decay)},"
    r" T_{warm} \text{ (warmup steps)}, r, p \text{ (weight lr power)}, y_0 = \theta_0, f(\theta)",
    r"z_0 \leftarrow y_0, \: x_0 \leftarrow y_0, \: v_0 \leftarrow 0, \: \textstyle\sum w \leftarrow 0",
    "\n".join([
        r"&\hspace{5mm}g_t \leftarrow \nabla f_t(y_{t-1}) \text{ (train mode: the parameters hold } y) \\",
        r"&\hspace{5mm}\gamma_t \leftarrow \gamma \min(1, t / T_{warm}), \: w_t \leftarrow t^r"
        r" (\max_{i \le t} \gamma_i)^p, \: c_t \leftarrow w_t / \textstyle\sum_{i \le t} w_i \\",
        r"&\hspace{5mm}v_t \leftarrow \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\",
        r"&\hspace{5mm}\hat g_t \leftarrow g_t / (\sqrt{v_t / (1 - \beta_2^t)} + \epsilon) + \lambda y_{t-1} \\",
        r"&\hspace{5mm}z_t \leftarrow z_{t-1} - \gamma_t \hat g_t \\",
        r"&\hspace{5mm}x_t \leftarrow (1 - c_t) x_{t-1} + c_t z_t \\",
        r"&\hspace{5mm}y_t \leftarrow (1 - \beta_1) z_t + \beta_1 x_t \\",
        r"&\hspace{5mm}\text{eval mode: the parameters hold } x_t \\",
    ]),
)



#: The refusal of ``step()`` in eval mode: what is wrong and what to do.
EVAL_MODE_ERROR = (
    "AdamWScheduleFree is in eval mode, where the parameters hold the averaged point x; call optimizer.train() "
    "before step() (and optimizer.eval() before evaluating or saving)"
)


class AdamWScheduleFree(ExplainedOptimizer):
    """Schedule-free AdamW, the schedulefree package's ``AdamWScheduleFree`` line by line.

    No learning-rate schedule and no stopping time: the method keeps two sequences, z_t (plain AdamW-normalised
    SGD steps) and x_t, a running average of the z's weighted by c_t = w_t / Σw; gradients are taken at
    y_t = (1 - β1) z_t + β1 x_t, an interpolation that plays the part of momentum (Defazio et al., "The Road
    Less Scheduled", NeurIPS 2024, https://arxiv.org/abs/2405.15682, Algorithm 1). In train mode the parameters
    hold y_t, in eval mode x_t (the point to evaluate, to save and to ship); ``train()`` and ``eval()`` switch
    between them in place, from z_t kept in the state. x_t itself is never stored.

    Code names and symbols: ``lr`` is γ, ``betas`` (β1, β2), ``eps`` ε, ``weight_decay`` λ, ``warmup_steps``
    T_warm (γ_t = γ min(1, t / T_warm)), ``r`` r and ``weight_lr_power`` p (w_t = t^r (max_i γ_i)^p); the
    state's ``z`` is z_t and ``exp_avg_sq`` v_t; each param group counts its steps in ``k`` and keeps
    ``weight_sum`` Σw, ``lr_max`` max γ_i, ``scheduled_lr`` γ_t and ``train_mode``, as in the package.

    The defaults are the package's (1.4.1): γ = 0.0025, (β1, β2) = (0.9, 0.999), ε = 1e-8, λ = 0, no warm-up,
    r = 0, p = 2 (the paper's c_t = γ_t² / Σγ_i²). The paper uses warm-up in its experiments; set
    ``warmup_steps`` for it. As in the package, the weight decay is λy_t added to the normalised gradient, so it
    shrinks z and y, the optimizer starts in eval mode (call ``train()`` first), and ``foreach`` defaults to
    True (accepted and ignored here). Where this class differs: ``step()`` in eval mode raises a RuntimeError
    that says what to do (the package raises a bare Exception), it never writes into ``p.grad`` (the package
    divides it in place), bad values are refused with torch's messages, and ``maximize`` is optlab's.

    Args:
        params: iterable of parameters or dicts defining parameter groups.
        lr (float or Tensor): learning rate γ (default: 0.0025).
        betas (tuple): (β1, β2): β1 the interpolation between x and z, β2 the decay of v_t (default: (0.9, 0.999)).
        eps (float): ε added to the denominator (default: 1e-08).
        weight_decay (float): weight decay λ, evaluated at y (default: 0).
        warmup_steps (int): length T_warm of a linear warm-up of γ (default: 0).
        r (float): power r of the step in the averaging weights (default: 0.0).
        weight_lr_power (float): power p of the largest learning rate so far in the weights (default: 2.0).
        foreach: accepted and ignored.
        maximize (bool): follow the gradient uphill (default: False).
    """

    TERMS = TERMS
    ALGORITHM_LATEX = ALGORITHM
    SPARSE_ERROR = "AdamWScheduleFree does not support sparse gradients"
    COMPLEX_ERROR = "AdamWScheduleFree does not support complex parameters"
    SYMBOLS = {
        "lr": r"\gamma",
        "betas": r"(\beta_1, \beta_2)",
        "beta1": r"\beta_1",
        "beta2": r"\beta_2",
        "eps": r"\epsilon",
        "weight_decay": r"\lambda",
        "warmup_steps": r"T_{warm}",
        "r": "r",
        "weight_lr_power": "p",
    }
    GROUP_DEFAULTS_ON_LOAD = {"maximize": False}

    def __init__(
        self,
        params,
        lr: float | Tensor = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
        foreach: bool | None = True,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_non_negative("epsilon", eps)
        check_betas(betas)
        if betas[0] == 0.0:
            raise ValueError("Invalid beta parameter at index 0: 0.0 (schedule-free needs β1 > 0: eval() divides by it)")
        check_non_negative("weight_decay", weight_decay)
        check_non_negative("warmup_steps", warmup_steps)
        defaults = {
            "lr": lr,
            "betas": betas,
            "eps": eps,
            "r": r,
            "k": 0,
            "warmup_steps": warmup_steps,
            "train_mode": False,
            "weight_sum": 0.0,
            "lr_max": -1.0,
            "scheduled_lr": 0.0,
            "weight_lr_power": weight_lr_power,
            "weight_decay": weight_decay,
            "foreach": foreach,
            "maximize": maximize,
        }
        super().__init__(params, defaults)

    @torch.no_grad()
    def eval(self) -> None:
        """Parameters to x (from y in train mode): x = y + (1 - 1/β1)(z - y); nothing if already in eval mode."""
        for group in self.param_groups:
            if group["train_mode"]:
                beta1, _ = group["betas"]
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        # x_t = y_t + (1 - 1/β1)(z_t - y_t)
                        p.lerp_(end=state["z"].to(p.device), weight=1 - 1 / beta1)
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Parameters to y (from x in eval mode): y = x + (1 - β1)(z - x); nothing if already in train mode."""
        for group in self.param_groups:
            if not group["train_mode"]:
                beta1, _ = group["betas"]
                for p in group["params"]:
                    state = self.state[p]
                    if "z" in state:
                        # y_t = (1 - β1) z_t + β1 x_t
                        p.lerp_(end=state["z"].to(p.device), weight=1 - beta1)
                group["train_mode"] = True

    # Its own loop: γ_t, the weights w_t and c_t belong to the group (computed once per group per step), and the
    # parameters hold y in train mode and x in eval mode.
    @torch.no_grad()
    def step(self, closure=None):
        """Perform one optimization step (in train mode); ``closure`` re-evaluates the model and returns the loss."""
        if not self.param_groups[0]["train_mode"]:
            raise RuntimeError(EVAL_MODE_ERROR)
        loss = self._prologue(closure)
        for group in self.param_groups:
            eps, decay, maximize = group["eps"], group["weight_decay"], group["maximize"]
            beta1, beta2 = group["betas"]
            k, r, warmup_steps, weight_lr_power = group["k"], group["r"], group["warmup_steps"], group["weight_lr_power"]

            # γ_t = γ (t / T_warm) during warm-up, else γ   (t = k + 1)
            sched = (k + 1) / warmup_steps if k < warmup_steps else 1.0
            # 1 - β2^t
            bias_correction2 = 1 - beta2 ** (k + 1)
            lr = to_scalar(group["lr"]) * sched
            group["scheduled_lr"] = lr
            # γ^max_t = max(γ^max_{t-1}, γ_t)
            lr_max = group["lr_max"] = max(lr, group["lr_max"])
            # w_t = t^r (γ^max_t)^p,  Σw += w_t
            weight = ((k + 1) ** r) * (lr_max**weight_lr_power)
            weight_sum = group["weight_sum"] = group["weight_sum"] + weight
            # c_t = w_t / Σw (0 while every weight is 0)
            try:
                ckp1 = weight / weight_sum
            except ZeroDivisionError:
                ckp1 = 0

            for p in self._params_with_grad(group):
                state = self.state[p]
                if "z" not in state:
                    # z_0 = y_0 (the parameter as it is), v_0 = 0
                    state["z"] = torch.clone(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = zeros(p)
                y, z, exp_avg_sq = p, state["z"], state["exp_avg_sq"]
                self._open(p)

                # g_t = ∇f(y_{t-1}), or -∇f when maximizing
                grad = p.grad if not maximize else -p.grad
                self.note("grad_maximize" if maximize else "grad", grad)
                # the group's γ_t, γ^max_t, w_t and c_t (computed above, once per group)
                self.note(SCHEDULED_LR.name, lr)
                self.note(LR_MAX.name, lr_max)
                self.note(WEIGHT.name, weight)
                self.note(CKP1.name, ckp1)
                # v_t = β2 v_{t-1} + (1 - β2) g_t²
                exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                self.note(V.name, exp_avg_sq)
                # √(v_t / (1 - β2^t)) + ε
                denom = exp_avg_sq.div(bias_correction2).sqrt_().add_(eps)
                self.note(DENOM.name, denom)
                # ĝ_t = g_t / denom
                grad_normalized = grad.div(denom)
                self.note(G_HAT.name, grad_normalized)
                # ĝ_t <- ĝ_t + λ y_{t-1}: the weight decay, at y
                if decay != 0:
                    grad_normalized.add_(y, alpha=decay)
                    self.note(G_HAT_L2.name, grad_normalized)
                # y <- (1 - c_t) y_{t-1} + c_t z_{t-1}
                y.lerp_(end=z, weight=ckp1)
                # y_t = y + γ_t (β1 (1 - c_t) - 1) ĝ_t
                y.add_(grad_normalized, alpha=lr * (beta1 * (1 - ckp1) - 1))
                self.note_update(y)
                # z_t = z_{t-1} - γ_t ĝ_t
                z.sub_(grad_normalized, alpha=lr)
                self.note(Z.name, z)
                if self.explaining:
                    # x_t = y_t + (1 - 1/β1)(z_t - y_t): the averaged point eval() would put in the parameters
                    self.note(X.name, y.lerp(z, 1 - 1 / beta1))
                self._close()
            group["k"] = k + 1
        return loss


class AdamWScheduleFreeTraining(AdamWScheduleFree):
    """``AdamWScheduleFree`` switched to train mode when it is built, for a loop (the labs') that steps an
    optimizer without calling ``train()``: its parameters hold y_t, where gradients are taken, and each step
    records x_t, the averaged point ``eval()`` would give, as the term ``x``."""

    def __init__(self, params, *args, **kwargs) -> None:
        super().__init__(params, *args, **kwargs)
        self.train()


AdamWScheduleFree.__doc__ = with_algorithm(AdamWScheduleFree.__doc__, AdamWScheduleFree.ALGORITHM_LATEX)
