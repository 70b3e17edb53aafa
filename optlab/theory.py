"""Reference formulas: convergence of gradient descent and momentum on a quadratic, and a few optimizer facts.

Pure functions of floats (and NumPy for fitting); nothing here runs an optimizer. The quadratic theory follows
Goh, "Why Momentum Really Works", Distill 2017, in PyTorch's momentum convention (torch.optim.SGD's documentation):
f(w) = ½ wᵀAw − bᵀw with eigenvalues λ₁ ≤ … ≤ λₙ of A, κ = λₙ/λ₁, and heavy ball z ← βz + ∇f(w), w ← w − αz.
What it leaves out: stochastic gradients, and any claim about non-quadratic surfaces beyond their local Hessian.
"""

from __future__ import annotations

import cmath
import math
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = [
    "gd_rate", "gd_converges", "gd_optimal", "gd_stability_limit",
    "momentum_eigenvalues", "momentum_rate", "momentum_converges", "momentum_optimal", "critical_damping_beta",
    "nesterov_rate", "iterations_to_reduce", "measured_rate",
    "adam_first_step_without_bias_correction", "momentum_terminal_step", "ema_lag",
]


def _lams(lams: float | Iterable[float]) -> list[float]:
    values = [float(lams)] if isinstance(lams, int | float) else [float(v) for v in lams]
    if not values:
        raise ValueError("Invalid eigenvalues: none given")
    for lam in values:
        if not (lam > 0 and math.isfinite(lam)):
            raise ValueError(f"Invalid eigenvalue: {lam} (the theory needs positive curvature)")
    return values


def _check_alpha(alpha: float) -> None:
    if not (alpha > 0 and math.isfinite(alpha)):
        raise ValueError(f"Invalid learning rate: {alpha}")


def _check_beta(beta: float) -> None:
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"Invalid momentum value: {beta} (must be in [0, 1))")


def _check_pair(lam_min: float, lam_max: float) -> None:
    _lams((lam_min, lam_max))
    if lam_min > lam_max:
        raise ValueError(f"Invalid eigenvalues: lam_min {lam_min} > lam_max {lam_max}")


# --- gradient descent --------------------------------------------------------------------------------------


def gd_rate(alpha: float, lams: float | Iterable[float]) -> float:
    """Per-step contraction of the error under gradient descent: max over i of |1 − αλᵢ| (Goh 2017).

    In eigen-direction i the error is multiplied by 1 − αλᵢ at every step, so the slowest direction decides.
    """
    _check_alpha(alpha)
    return max(abs(1.0 - alpha * lam) for lam in _lams(lams))  # Rate(α) = max |1 − αλᵢ|


def gd_converges(alpha: float, lams: float | Iterable[float]) -> bool:
    """True when 0 < αλᵢ < 2 for every i, i.e. gradient descent converges on the quadratic (Goh 2017)."""
    _check_alpha(alpha)
    return all(0.0 < alpha * lam < 2.0 for lam in _lams(lams))


def gd_stability_limit(lam_max: float) -> float:
    """The largest stable step 2/λₙ: gradient descent diverges for α above it (Goh 2017).

    At Rosenbrock's minimum λₙ = 1001.6, so plain GD is stable there only for lr < 0.001997 (2/λₙ).
    """
    (lam,) = _lams(lam_max)
    return 2.0 / lam


def gd_optimal(lam_min: float, lam_max: float) -> tuple[float, float]:
    """The best constant step for gradient descent and its rate: α* = 2/(λ₁ + λₙ), rate (κ − 1)/(κ + 1).

    At α* the slowest and the fastest directions contract equally, |1 − α*λ₁| = |1 − α*λₙ| (Goh 2017).
    λ = (0.01, 1) gives α* = 1.9802 and rate 0.980198.
    """
    _check_pair(lam_min, lam_max)
    kappa = lam_max / lam_min
    return 2.0 / (lam_min + lam_max), (kappa - 1.0) / (kappa + 1.0)


# --- heavy-ball momentum -----------------------------------------------------------------------------------


def momentum_eigenvalues(alpha: float, beta: float, lam: float) -> tuple[complex, complex]:
    """Eigenvalues σ₁,₂ of heavy ball's 2×2 iteration matrix in one eigen-direction (Goh 2017).

    With z ← βz + λw and w ← w − αz the matrix is [[β, λ], [−αβ, 1 − αλ]]: trace 1 − αλ + β, determinant β, so
    σ₁,₂ = ½(1 − αλ + β ± √((1 − αλ + β)² − 4β)). When the roots are complex, |σ₁| = |σ₂| = √β.
    """
    _check_alpha(alpha)
    _check_beta(beta)
    (lam,) = _lams(lam)
    t = 1.0 - alpha * lam + beta  # trace
    root = cmath.sqrt(t * t - 4.0 * beta)  # √(trace² − 4·det)
    return 0.5 * (t + root), 0.5 * (t - root)


def momentum_rate(alpha: float, beta: float, lams: float | Iterable[float]) -> float:
    """Per-step contraction under heavy ball: the largest |σ| over every eigen-direction (Goh 2017)."""
    return max(max(abs(s) for s in momentum_eigenvalues(alpha, beta, lam)) for lam in _lams(lams))


def momentum_converges(alpha: float, beta: float, lams: float | Iterable[float]) -> bool:
    """True when 0 < αλᵢ < 2 + 2β for every i (with 0 ≤ β < 1): heavy ball converges (Goh 2017)."""
    _check_alpha(alpha)
    _check_beta(beta)
    return all(0.0 < alpha * lam < 2.0 + 2.0 * beta for lam in _lams(lams))


def momentum_optimal(lam_min: float, lam_max: float) -> tuple[float, float, float]:
    """The best heavy-ball settings and their rate (Goh 2017).

    α* = (2/(√λ₁ + √λₙ))², β* = ((√λₙ − √λ₁)/(√λₙ + √λ₁))², rate (√κ − 1)/(√κ + 1).
    λ = (0.01, 1) gives α* = 3.30579, β* = 0.669421 and rate 0.818182.
    """
    _check_pair(lam_min, lam_max)
    s1, sn = math.sqrt(lam_min), math.sqrt(lam_max)
    alpha = (2.0 / (s1 + sn)) ** 2
    beta = ((sn - s1) / (sn + s1)) ** 2
    root_kappa = sn / s1
    return alpha, beta, (root_kappa - 1.0) / (root_kappa + 1.0)


def critical_damping_beta(alpha: float, lam: float) -> float:
    """β = (1 − √(αλ))², the momentum at which direction λ stops oscillating; its rate is then 1 − √(αλ).

    At this β the two roots σ₁,₂ coincide (Goh 2017). Needs αλ ≤ 1 so that β is below 1 and 1 − √(αλ) ≥ 0.
    """
    _check_alpha(alpha)
    (lam,) = _lams(lam)
    if alpha * lam > 1.0:
        raise ValueError(f"Invalid step: alpha*lam = {alpha * lam} (critical damping needs alpha*lam <= 1)")
    return (1.0 - math.sqrt(alpha * lam)) ** 2


def nesterov_rate(kappa: float) -> float:
    """Nesterov's rate 1 − 1/√κ with α = 1/λₙ and β = (√κ − 1)/(√κ + 1) (Nesterov 1983; Goh 2017): 0.9 at κ = 100."""
    if not (kappa >= 1 and math.isfinite(kappa)):
        raise ValueError(f"Invalid condition number: {kappa} (must be >= 1)")
    return 1.0 - 1.0 / math.sqrt(kappa)


# --- reading rates -----------------------------------------------------------------------------------------


def iterations_to_reduce(rate: float, factor: float = 1e-6) -> float:
    """Steps needed for rateᵗ ≤ factor: ⌈ln(factor)/ln(rate)⌉ (inf when rate ≥ 1).

    The Distill example: rate 0.980198 needs 691 steps to shrink the error a millionfold, 0.818182 needs 69.
    """
    if not 0.0 < factor < 1.0:
        raise ValueError(f"Invalid factor: {factor} (must be in (0, 1))")
    if not rate >= 0.0:
        raise ValueError(f"Invalid rate: {rate} (must be >= 0)")
    if rate >= 1.0:
        return math.inf
    if rate == 0.0:
        return 1
    return math.ceil(math.log(factor) / math.log(rate) - 1e-9)  # tolerance: exact powers are not rounded up


def measured_rate(errors: Sequence[float] | np.ndarray, skip: float = 0.5, floor: float = 1e-11) -> float:
    """The per-step contraction seen in a sequence of errors (e.g. distances to the minimum), fitted geometrically.

    Robust to the early transient and to oscillation:

    1. drop everything after the error first falls below ``floor`` times its largest value (rounding noise),
    2. drop the first ``skip`` fraction of what is left (the transient),
    3. replace each error by the largest error from there on (the upper envelope: an oscillating error
       that passes near zero would otherwise bend the fit),
    4. fit log(error) = a + t·log(rate) by least squares and return rate.

    Args:
        errors: e₀, e₁, … non-negative.
        skip: fraction of the sequence to ignore at the start, in [0, 1).
        floor: relative level below which errors are treated as rounding noise.
    """
    e = np.asarray(errors, dtype=np.float64).ravel()
    if not 0.0 <= skip < 1.0:
        raise ValueError(f"Invalid skip: {skip} (must be in [0, 1))")
    if e.size and not np.all(np.isfinite(e)):
        bad = int(np.flatnonzero(~np.isfinite(e))[0])
        raise ValueError(f"errors must be finite; entry {bad} is {e[bad]} (did the run diverge?)")
    if np.any(e < 0):
        raise ValueError("errors must be non-negative (use distances or |f − f*|)")
    if e.size < 3:
        raise ValueError(f"need at least 3 errors to fit a rate, got {e.size}")
    below = np.flatnonzero(e <= floor * e.max())
    if below.size:
        e = e[: below[0]]
    e = e[int(len(e) * skip):]
    if e.size < 3:
        raise ValueError("too few errors above the rounding floor to fit a rate")
    envelope = np.maximum.accumulate(e[::-1])[::-1]  # envelope[t] = max(e[t:])
    t = np.arange(envelope.size, dtype=np.float64)
    slope = np.polyfit(t, np.log(envelope), 1)[0]
    return float(np.exp(slope))


# --- other reference facts ---------------------------------------------------------------------------------


def adam_first_step_without_bias_correction(beta1: float = 0.9, beta2: float = 0.999) -> float:
    """Adam's first step in units of lr when the bias correction is left out: (1 − β₁)/√(1 − β₂).

    m₁ = (1 − β₁)g and v₁ = (1 − β₂)g², so m₁/√v₁ = (1 − β₁)/√(1 − β₂) ≈ 3.162 at the default betas, instead of
    the corrected ±1 (Kingma and Ba 2015, section 2.1).
    """
    for name, b in (("beta1", beta1), ("beta2", beta2)):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"Invalid {name} parameter: {b}")
    return (1.0 - beta1) / math.sqrt(1.0 - beta2)


def momentum_terminal_step(lr: float, momentum: float) -> float:
    """The step SGD with momentum settles to under a constant unit gradient: lr/(1 − μ) (the geometric series of torch.optim.SGD's buffer b ← μb + g).

    The buffer b_t = μ·b_{t−1} + g tends to g/(1 − μ): ten times lr·g at μ = 0.9.
    """
    _check_alpha(lr)
    _check_beta(momentum)
    return lr / (1.0 - momentum)


def ema_lag(c: float, d: float) -> float:
    """How far an EMA with decay d trails a ramp w_t = c·t once the start is forgotten: c·d/(1 − d).

    The lag obeys L_t = d·(L_{t−1} + c), whose fixed point is c·d/(1 − d): 99 steps' worth at d = 0.99
    (the fixed point of W ← dW + (1 − d)w on w_t = c·t).
    """
    if not 0.0 <= d < 1.0:
        raise ValueError(f"Invalid decay: {d} (must be in [0, 1))")
    return c * d / (1.0 - d)
