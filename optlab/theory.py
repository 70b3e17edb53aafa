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
from typing import NamedTuple

import numpy as np

__all__ = [
    "gd_rate", "gd_converges", "gd_optimal", "gd_stability_limit",
    "momentum_eigenvalues", "momentum_rate", "momentum_converges", "momentum_optimal", "critical_damping_beta",
    "nesterov_rate", "iterations_to_reduce", "measured_rate",
    "momentum_rate_grid", "momentum_discriminant", "critical_beta", "Damping", "damping", "oscillation_period",
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


# --- heavy ball over a grid, and the kind of motion in one direction ----------------------------------------


def _finite_array(name: str, values: float | Iterable[float]) -> np.ndarray:
    a = np.atleast_1d(np.asarray(values, dtype=np.float64)).ravel()
    if a.size == 0:
        raise ValueError(f"Invalid {name}: none given")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"Invalid {name}: {a[~np.isfinite(a)][0]} (must be finite)")
    return a


def momentum_rate_grid(alphas: float | Iterable[float], betas: float | Iterable[float],
                       lams: float | Iterable[float]) -> np.ndarray:
    """:func:`momentum_rate` for every pair of a grid at once: ``rates[j, i]`` is the rate at (αᵢ, βⱼ).

    For each λ the roots of σ² − (1 − αλ + β)σ + β = 0 are taken with a complex square root, so the complex
    regime (|σ| = √β) and the real one need no case split (Goh 2017). The maximum over the given λ only: on a
    quadratic whose eigenvalues fill [λ₁, λₙ] the worst direction is always one of the two ends, because the
    larger |σ| falls with λ while αλ < (1 − √β)², is √β in between and rises with λ beyond (1 + √β)².

    Args:
        alphas: step sizes α > 0 (the columns).
        betas: momenta 0 ≤ β < 1 (the rows).
        lams: Hessian eigenvalues λ > 0.
    """
    a = _finite_array("learning rate", alphas)
    b = _finite_array("momentum value", betas)
    if np.any(a <= 0):
        raise ValueError(f"Invalid learning rate: {a[a <= 0][0]} (must be positive)")
    if np.any((b < 0) | (b >= 1)):
        raise ValueError(f"Invalid momentum value: {b[(b < 0) | (b >= 1)][0]} (must be in [0, 1))")
    lam = np.asarray(_lams(lams))
    al = a[None, :, None] * lam[None, None, :]  # αλ, shape (1, n_alpha, n_lam)
    bb = b[:, None, None]
    trace = 1.0 - al + bb  # trace of the 2×2 iteration matrix
    root = np.sqrt((trace * trace - 4.0 * bb).astype(np.complex128))  # √(trace² − 4·det)
    radius = np.maximum(np.abs(0.5 * (trace + root)), np.abs(0.5 * (trace - root)))  # max |σ₁,₂|
    return radius.max(axis=-1)


def momentum_discriminant(alpha: float, beta: float, lam: float) -> float:
    """(1 − αλ + β)² − 4β: negative for complex roots (a spiral), zero for a double root, positive for real roots.

    The discriminant of σ² − (1 − αλ + β)σ + β, the characteristic polynomial of heavy ball's 2×2 iteration
    matrix in one eigen-direction (Goh 2017).
    """
    _check_alpha(alpha)
    _check_beta(beta)
    (lam,) = _lams(lam)
    t = 1.0 - alpha * lam + beta
    return t * t - 4.0 * beta


def critical_beta(alpha: float, lam: float) -> float | None:
    """The momentum in [0, 1) at which direction λ is critically damped, or None when there is none (αλ ≥ 4).

    The discriminant vanishes when (√β ∓ 1)² = αλ, so β = (1 − √(αλ))² in both cases: a positive double root
    1 − √(αλ) when αλ ≤ 1, a negative one 1 − √(αλ) (the iterate flips sign every step) when 1 < αλ < 4.
    Unlike :func:`critical_damping_beta` this also covers the flipping side.
    """
    _check_alpha(alpha)
    (lam,) = _lams(lam)
    if alpha * lam >= 4.0:
        return None
    return (1.0 - math.sqrt(alpha * lam)) ** 2


class Damping(NamedTuple):
    """The kind of motion of heavy ball in one eigen-direction.

    ``kind``: "under-damped" (complex roots: it spirals into the minimum, crossing it every half period),
    "critically damped" (a double root) or "over-damped" (two real roots), from the sign of the discriminant.
    ``flips``: the real roots are negative, so the iterate changes sign at every step (it overshoots every time);
    a real positive root never crosses the minimum from a start at rest.
    """

    kind: str
    flips: bool
    discriminant: float
    roots: tuple[complex, complex]
    rate: float


#: |discriminant| at or below this counts as a double root: a β typed to 15 digits lands within 1e-15 of one
DOUBLE_ROOT_TOL = 1e-9


def damping(alpha: float, beta: float, lam: float) -> Damping:
    """Under-, critically or over-damped, from the discriminant of the 2×2 iteration matrix (Goh 2017).

    The trace 1 − αλ + β is the sum of the roots and β ≥ 0 their product, so real roots share the sign of the
    trace: negative means the iterate flips sign at every step.
    """
    disc = momentum_discriminant(alpha, beta, lam)
    roots = momentum_eigenvalues(alpha, beta, lam)
    rate = max(abs(s) for s in roots)
    if disc < -DOUBLE_ROOT_TOL:
        return Damping("under-damped", False, disc, roots, rate)
    flips = 1.0 - alpha * lam + beta < 0.0  # the sum of the two real roots
    kind = "critically damped" if disc <= DOUBLE_ROOT_TOL else "over-damped"
    return Damping(kind, flips, disc, roots, rate)


def oscillation_period(alpha: float, beta: float, lam: float) -> float:
    """Steps per turn of the spiral, 2π/ω with ω = arg σ, for complex roots; inf when the roots are real.

    With complex roots the iterate is C·(√β)ᵗ·cos(ωt + φ), so it crosses the minimum every π/ω steps.
    """
    s1, _ = momentum_eigenvalues(alpha, beta, lam)
    omega = abs(cmath.phase(s1))
    if s1.imag == 0.0 or omega == 0.0:
        return math.inf
    return 2.0 * math.pi / omega


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


def predicted_rate(lams: tuple[float, float], lr: float, momentum: float | None = None,
                   axis_lrs: tuple[float, float] | None = None) -> float:
    """The rate of plain GD (``momentum`` None) or heavy ball on the quadratic with Hessian eigenvalues ``lams``.

    ``axis_lrs``: x and y in two param groups with their own learning rates, the first eigenvector along x and
    the second along y (an unrotated bowl). Each axis is then its own 1D problem, and the slower of the two sets
    the rate: max(ρ(lr_x, λ₁), ρ(lr_y, λ₂)) (Goh, "Why Momentum Really Works", Distill 2017, section 2: the
    error along each eigenvector evolves on its own).
    """

    def rate(alpha: float, lam: tuple[float, ...]) -> float:
        return float(gd_rate(alpha, lam) if momentum is None else momentum_rate(alpha, momentum, lam))

    if axis_lrs is None:
        return rate(lr, tuple(lams))
    return max(rate(axis_lrs[0], (lams[0],)), rate(axis_lrs[1], (lams[1],)))
