"""The narrated step: run any registered optimizer on a surface with ``explain = True`` and keep each step's terms.

Every number the narration shows is a term the optimizer recorded itself during that step (its ``explanations()``);
this module only sorts the terms into four roles (gradient, momentum, adjusted direction, update) and, for the
adaptive methods, reads each coordinate's effective step size off the recorded denominator. Leaves out drawing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch

from optlab.i18n import N_
from optlab.registry import get_spec
from optlab.surfaces import get_surface

#: The most steps one narration records.
MAX_STEPS = 200

#: The four roles a step's terms play, in the order the narration reveals them.
ROLES = ("gradient", "momentum", "direction", "update")
ROLE_LABELS = {
    "gradient": N_("gradient"),
    "momentum": N_("momentum"),
    "direction": N_("adjusted direction"),
    "update": N_("update"),
}

# Term names, in order of preference, that can play each role. The first one a step recorded wins.
_ROLE_TERMS = {
    "gradient": ("grad_maximize", "grad"),
    # heavy-ball buffer (SGD, RMSprop, Muon), first moment (Adam family, Adamax, AdaBelief), Lion's interpolation
    "momentum": ("momentum_buffer", "m", "c"),
    "direction": ("direction_nesterov", "direction_heavy_ball", "direction_momentum", "direction", "ortho",
                  "sign", "u", "g_hat", "delta", "step", "step_rectified", "step_unrectified", "step_sgd"),
    "update": ("update",),
}
# Lion records its momentum m after the step (the next step's), so for Lion the interpolation c is this step's.
_MOMENTUM_OVERRIDE = {"lion": ("c",), "adafactor": (), "schedule_free": (), "adagrad": (), "adadelta": (),
                      "rprop": (), "asgd": ()}

#: Terms that already point downhill (L-BFGS's d_k = −H_k g_k): drawn as they are, not negated.
DOWNHILL_TERMS = {"lbfgs": frozenset({"direction"})}

#: Terms already in parameter units (they carry the learning rate): drawn at their true length.
PARAMETER_TERMS = frozenset({"update", "step", "step_rectified", "step_unrectified", "step_sgd"})


@dataclass(frozen=True)
class AdaptiveRule:
    """How an adaptive method scales each coordinate: effective step = ``numerator / denominator`` (terms), or
    ``size(narration, t)`` where the rule needs more than one recorded term."""

    formula: str  # as a reader sees it, in plain text (a chart title cannot render LaTeX)
    numerator: str = "lr"  # a recorded term, or "lr" for the param group's learning rate
    denominators: tuple[str, ...] = ()  # the first recorded one is used; () means the numerator is per coordinate
    size: Callable[[Narration, int], np.ndarray] | None = None


def _adadelta_size(narration: Narration, t: int) -> np.ndarray:
    """Adadelta's step −γ·Δx_t = −γ·√(u_{t−1} + ε)/√(v_t + ε) · g_t (Zeiler 2012, Algorithm 1; torch.optim.Adadelta
    docs), so each coordinate's step size is γ·√(u_{t−1} + ε)/√(v_t + ε): u_{t−1} is the previous step's recorded
    ``acc_delta`` (zero before the first step, as torch starts it), √(v_t + ε) this step's ``std``."""
    recorded = narration.terms[t - 1]
    u_prev = narration.terms[t - 2]["acc_delta"] if t > 1 else np.zeros_like(recorded["acc_delta"])
    eps = float(narration.group["eps"])
    return narration.lrs[t - 1] * np.sqrt(u_prev + eps).reshape(-1)[:2] / recorded["std"].reshape(-1)[:2]


def _adafactor_size(narration: Narration, t: int) -> np.ndarray:
    """Adafactor's step −α_t·U_t / max(1, RMS(U_t)/d) with U_t = g_t / max(√V̂_t, ε₁) (Shazeer and Stern 2018,
    Algorithms 4 and 5; torch.optim.Adafactor docs), so each coordinate's step size is
    α_t / (max(√V̂_t, ε₁) · max(1, RMS(U_t)/d)), from the recorded ``alpha``, ``variance`` and ``clip``. A vector's
    V̂ is not factored; ε₁ = None is the float64 machine epsilon, as torch takes it."""
    recorded = narration.terms[t - 1]
    eps1 = narration.group["eps"][0]
    eps1 = float(np.finfo(np.float64).eps) if eps1 is None else float(eps1)
    v_hat = recorded["variance" if "variance" in recorded else "var_estimate"].reshape(-1)[:2]
    return float(recorded["alpha"]) / (np.maximum(np.sqrt(v_hat), eps1) * float(recorded["clip"]))


_ADAM = AdaptiveRule("lr / (√v̂ + ε)", "lr", ("denom_max", "denom"))  # AMSGrad divides by the largest v
#: Preset key -> its rule. Adam: step = −lr·m̂/(√v̂ + ε) (Kingma and Ba 2015, Algorithm 1); RMSprop: −lr·g/(√v + ε)
#: (torch.optim.RMSprop docs); Adagrad: −γ̃·g/(√sum + ε) (Duchi et al. 2011); Adamax: −lr·m̂/u (Kingma and Ba,
#: Algorithm 2); schedule-free: −γ_t·g/(√v̂ + ε) (Defazio et al. 2024); Rprop: its own per-coordinate step size;
#: Adadelta and Adafactor: see their size functions above.
ADAPTIVE: dict[str, AdaptiveRule] = {
    "adam": _ADAM, "amsgrad": _ADAM, "adamw": _ADAM, "nadam": _ADAM, "adabelief": AdaptiveRule(
        "lr / (√ŝ + ε)", "lr", ("denom",)),
    "rmsprop": AdaptiveRule("lr / (√v + ε)", "lr", ("avg_centered", "avg")),
    "adagrad": AdaptiveRule("γ̃ / (√sum + ε)", "clr", ("std",)),
    "adamax": AdaptiveRule("lr / u", "lr", ("u",)),
    "schedule_free": AdaptiveRule("γₜ / (√v̂ + ε)", "scheduled_lr", ("denom",)),
    "rprop": AdaptiveRule("step size ηᵢ", "step_size", ()),
    "adadelta": AdaptiveRule("γ·√(u + ε) / √(v + ε)", size=_adadelta_size),
    "adafactor": AdaptiveRule("αₜ / (max(√V̂, ε₁)·clip)", size=_adafactor_size),
}


@dataclass(frozen=True)
class Narration:
    """One run, step by step. Step t = 1..n moves ``points[t - 1]`` to ``points[t]``; ``terms[t - 1]`` is its record.

    ``roles[t - 1]`` maps each role the step has to the term that plays it; ``lrs[t - 1]`` is the group's lr;
    ``group`` is the param group's settings (``param_groups[0]`` without its params) after the last step.
    """

    optimizer: str
    points: np.ndarray  # (n + 1, 2)
    losses: np.ndarray  # (n + 1,)
    terms: tuple[dict[str, np.ndarray], ...]
    roles: tuple[dict[str, str], ...]
    lrs: tuple[float, ...]
    formulas: Mapping[str, str]
    group: Mapping[str, object] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return len(self.terms)

    def stage_terms(self, t: int) -> dict[str, list[str]]:
        """The recorded terms of step t grouped by the role they lead up to, in the order the optimizer computed
        them: each role gets its own term and those recorded since the previous role's (terms recorded after
        the update, such as Lion's next momentum, go with the update)."""
        roles = self.roles[t - 1]
        owner = {name: role for role, name in roles.items()}
        out: dict[str, list[str]] = {role: [] for role in roles}
        pending: list[str] = []
        for name in self.terms[t - 1]:
            pending.append(name)
            if name in owner:
                out[owner[name]] += pending
                pending = []
        if pending and roles:
            out[list(roles)[-1]] += pending
        return out

    def vector(self, t: int, role: str) -> np.ndarray | None:
        """The recorded value (length 2) of the term playing ``role`` at step t, or None if the step has none."""
        name = self.roles[t - 1].get(role)
        return None if name is None else self.terms[t - 1][name].reshape(-1)[:2]


def role_terms(optimizer: str, recorded: Mapping[str, object]) -> dict[str, str]:
    """Which recorded term plays each role in this step: role -> term name (roles with no term are left out)."""
    out = {}
    for role in ROLES:
        candidates = _ROLE_TERMS[role]
        if role == "momentum" and optimizer in _MOMENTUM_OVERRIDE:
            candidates = _MOMENTUM_OVERRIDE[optimizer]
        name = next((c for c in candidates if c in recorded), None)
        if name is not None:
            out[role] = name
    return out


def narrate(optimizer: str, hparams: Mapping[str, object], surface: str, steps: int,
            surface_params: Mapping[str, float] | None = None, start: tuple[float, float] | None = None) -> Narration:
    """Run the preset ``optimizer`` (a registry key) with ``hparams`` on ``surface`` for ``steps`` steps in
    float64, recording every term of every step.

    A step that lands where the point or the loss is not finite ends the run (the narration has the steps
    before it).
    """
    if not isinstance(steps, int) or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be a whole number from 1 to {MAX_STEPS}, got {steps!r}")
    spec = get_spec(optimizer)
    f = get_surface(surface, **dict(surface_params or {}))
    p = torch.tensor(f.start if start is None else start, dtype=torch.float64, requires_grad=True)
    opt = spec.build([p], **dict(hparams))
    opt.explain = True

    def closure() -> torch.Tensor:  # L-BFGS evaluates it several times a step; every other optimizer once
        opt.zero_grad()
        loss = f(p)
        loss.backward()
        return loss

    with torch.no_grad():
        points, losses, terms, roles, lrs = [p.detach().clone().numpy()], [f(p).item()], [], [], []
    for _ in range(steps):
        lr = float(opt.param_groups[0]["lr"])
        opt.step(closure)
        with torch.no_grad():
            loss = f(p).item()  # the loss at the new point
        point = p.detach().clone().numpy()
        if not (math.isfinite(loss) and np.isfinite(point).all()):
            break
        recorded = {k: v.detach().double().numpy().copy() for k, v in opt.explanations()[0].items()}
        terms.append(recorded)
        roles.append(role_terms(optimizer, recorded))
        lrs.append(lr)
        points.append(point)
        losses.append(loss)
    group = {k: v for k, v in opt.param_groups[0].items() if k != "params"}
    return Narration(optimizer, np.array(points), np.array(losses), tuple(terms), tuple(roles), tuple(lrs),
                     dict(spec.cls.FORMULAS), group)


def effective_step_sizes(narration: Narration) -> np.ndarray | None:
    """Each coordinate's effective step size at every step, shape (n, 2), from the recorded terms; None when the
    optimizer has no per-coordinate step (SGD, Lion, Muon, ...).

    For Adam it is lr / (√v̂_t + ε): the step is −lr·m̂_t times it (Kingma and Ba 2015, Algorithm 1).
    """
    rule = ADAPTIVE.get(narration.optimizer)
    if rule is None or not narration.n_steps:
        return None
    rows = []
    for t in range(1, narration.n_steps + 1):
        recorded = narration.terms[t - 1]
        if rule.size is not None:
            rows.append(rule.size(narration, t))
            continue
        top = narration.lrs[t - 1] if rule.numerator == "lr" else recorded[rule.numerator]
        if not rule.denominators:
            rows.append(np.broadcast_to(top, (2,)))
            continue
        name = next(d for d in rule.denominators if d in recorded)
        rows.append(top / recorded[name].reshape(-1)[:2])
    return np.array(rows, dtype=np.float64)


def arrow_scale(vectors: list[np.ndarray], width: float, fraction: float = 0.35) -> float:
    """A power of ten s such that the longest of ``vectors`` drawn s times its length is at most ``fraction`` of
    ``width`` (s = 1 when they already fit): one stated scale for every gradient-unit arrow of a step."""
    longest = max((float(np.linalg.norm(v)) for v in vectors if np.isfinite(v).all()), default=0.0)
    if longest == 0.0 or longest <= fraction * width:
        return 1.0
    return 10.0 ** math.floor(math.log10(fraction * width / longest))


def arrows(narration: Narration, t: int, width: float) -> tuple[dict[str, np.ndarray], float]:
    """The arrows of step t from ``points[t - 1]``: role -> displacement as drawn, and the scale of the
    gradient-unit ones. Gradient, momentum and direction point downhill (−g, −b, −d, scaled); a term that
    already carries the learning rate (the update, Adam's step) is drawn at its true length, so the update arrow
    ends at ``points[t]``. A term that already points downhill (``DOWNHILL_TERMS``) keeps its sign."""
    drawn, scaled = {}, {}
    for role in ROLES:
        v = narration.vector(t, role)
        if v is None:
            continue
        name = narration.roles[t - 1][role]
        if name in PARAMETER_TERMS:
            drawn[role] = v.copy()
        else:
            scaled[role] = v.copy() if name in DOWNHILL_TERMS.get(narration.optimizer, ()) else -v
    scale = arrow_scale(list(scaled.values()), width)
    drawn.update({role: scale * v for role, v in scaled.items()})
    return {role: drawn[role] for role in ROLES if role in drawn}, scale


def zoom_window(narration: Narration, t: int, width: float, fraction: float = 0.3
                ) -> tuple[tuple[float, float], tuple[float, float]]:
    """A square window centred on step t's update in which the update spans ``fraction`` of the side (at least
    1e-6 × ``width``, the surface's window, for a step that barely moves): the close-up where a short update is
    seen beside the gradient-unit arrows, which :func:`arrows` scales to the side."""
    before, after = narration.points[t - 1], narration.points[t]
    side = max(float(np.linalg.norm(after - before)) / fraction, 1e-6 * width)
    cx, cy = (before + after) / 2
    return (float(cx - side / 2), float(cx + side / 2)), (float(cy - side / 2), float(cy + side / 2))


def muon_matrices(narration: Narration, t: int) -> dict[str, object] | None:
    """Muon at step t: the point as a 1×2 matrix, the matrix Newton–Schulz is given (the Nesterov or heavy-ball
    momentum), what it returns, and the singular value of each (a 1×2 matrix has one: its length)."""
    recorded = narration.terms[t - 1]
    if "ortho" not in recorded:
        return None
    before_name = next(n for n in ("direction_nesterov", "direction_heavy_ball") if n in recorded)
    before = recorded[before_name].reshape(1, -1)
    after = recorded["ortho"].reshape(1, -1)
    return {
        "point": narration.points[t - 1].reshape(1, -1),
        "gradient": recorded["grad"].reshape(1, -1),
        "before_term": before_name,
        "before": before,
        "after": after,
        "sigma_before": float(torch.linalg.svdvals(torch.from_numpy(before))[0]),
        "sigma_after": float(torch.linalg.svdvals(torch.from_numpy(after))[0]),
    }
