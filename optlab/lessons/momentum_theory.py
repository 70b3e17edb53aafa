"""Why momentum works, on the quadratic: the rate map over (α, β), the error along each eigenvector, the phase portrait.

After Goh, "Why Momentum Really Works", Distill 2017, in PyTorch's convention z ← βz + ∇f(w), w ← w − αz. Every run
is the registry's ``momentum`` preset (SGD with momentum) through ``optlab.trace`` on ``surfaces.quadratic(κ)`` with
λₙ = 1; every prediction comes from ``optlab.theory``. What it leaves out: drawing, and Nesterov (its own lesson).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from optlab import theory
from optlab.surfaces import Surface, get_surface
from optlab.trace import RunConfig, Trace, run_trace, run_traces

#: the condition numbers the page offers (the ends of the range included)
KAPPAS = (1.0, 1.5, 2.0, 3.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0, 70.0, 100.0, 150.0, 200.0, 300.0, 500.0,
          700.0, 1000.0)
KAPPA_MIN, KAPPA_MAX = KAPPAS[0], KAPPAS[-1]
#: with λₙ = 1 heavy ball diverges once αλₙ ≥ 2 + 2β (Goh 2017), so every α that converges is below 4
ALPHA_MAX = 4.0
BETA_MAX = 0.99
#: the longest run the page makes: a rate up to 0.966 reaches the fit's floor (1e-11) within it
MAX_STEPS = 800
#: e-folds a run should cover: e^−27.7 = 1e-12 lies just below measured_rate's floor of 1e-11
E_FOLDS = 27.7
DIRECTIONS = ("flat direction λ₁", "steep direction λₙ")


def check_kappa(kappa: float) -> float:
    """κ as a float, or a plain refusal that says what a valid condition number is."""
    if isinstance(kappa, bool) or not isinstance(kappa, int | float) or not math.isfinite(kappa):
        raise ValueError(f"Invalid condition number: {kappa!r} (a number from {KAPPA_MIN:g} to {KAPPA_MAX:g})")
    if not KAPPA_MIN <= kappa <= KAPPA_MAX:
        raise ValueError(f"Invalid condition number: {kappa:g} (must be from {KAPPA_MIN:g} to {KAPPA_MAX:g})")
    return float(kappa)


def check_settings(alpha: float, beta: float) -> tuple[float, float]:
    """(α, β) as floats, or a plain refusal that says what valid values are."""
    for name, value in (("learning rate α", alpha), ("momentum β", beta)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"Invalid {name}: {value!r} (must be a finite number)")
    if not 0.0 < alpha <= ALPHA_MAX:
        raise ValueError(f"Invalid learning rate α: {alpha:g} (must be in (0, {ALPHA_MAX:g}])")
    if not 0.0 <= beta <= BETA_MAX:
        raise ValueError(f"Invalid momentum β: {beta:g} (must be in [0, {BETA_MAX:g}])")
    return float(alpha), float(beta)


def bowl(kappa: float) -> Surface:
    """The quadratic ½ wᵀAw with eigenvalues λ₁ = 1/κ and λₙ = 1, eigenvectors along x and y."""
    return get_surface("quadratic", kappa=check_kappa(kappa))


def eigenbasis(surface: Surface) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and unit eigenvectors (columns) of the Hessian at the minimum, by autograd.

    Each eigenvector is signed so that its largest entry is positive, so the basis is the same on every call.
    """
    m = surface.minima[0]
    hessian = torch.autograd.functional.hessian(surface.fn, torch.tensor([m.x, m.y], dtype=torch.float64))
    lams, vectors = np.linalg.eigh(hessian.numpy())
    signs = np.sign(vectors[np.argmax(np.abs(vectors), axis=0), np.arange(2)])
    return lams, vectors * signs


def steps_for(rate: float) -> int:
    """Steps for the predicted error rateᵗ to shrink by e^E_FOLDS, at least 40 and at most MAX_STEPS."""
    if not rate < 1.0:
        return 60  # a run that does not converge: enough steps to see it grow
    if rate <= 0.0:
        return 40
    return int(min(MAX_STEPS, max(40, math.ceil(E_FOLDS / -math.log(rate)) + 20)))


def run(kappa: float, alpha: float, beta: float, steps: int) -> Trace:
    """The registry's ``momentum`` preset with lr = α and momentum = β, from the bowl's default start."""
    alpha, beta = check_settings(alpha, beta)
    surface = bowl(kappa)
    return run_trace(surface, RunConfig.of("momentum", lr=alpha, momentum=beta), surface.start, steps)


def reading(errors: np.ndarray) -> float | None:
    """``theory.measured_rate`` of the errors' upper envelope (eₜ replaced by max(eₜ, eₜ₊₁, ...)), or None when
    there is nothing to fit.

    The envelope first, so that a crossing which lands exactly on the minimum (αλ = 1 puts a direction at 0 after
    one step) is not taken for the end of the run; a run that is at 0 for good still has nothing to fit.
    """
    e = np.asarray(errors, dtype=np.float64)
    if e.size == 0 or not np.all(np.isfinite(e)):
        return None
    try:
        return theory.measured_rate(_envelope(e))
    except ValueError:
        return None


def _envelope(e: np.ndarray) -> np.ndarray:
    return np.maximum.accumulate(e[::-1])[::-1]  # envelope[t] = max(e[t:])


def fit_window(errors: np.ndarray, skip: float = 0.5, floor: float = 1e-11) -> tuple[int, int]:
    """The steps [start, end) that :func:`reading` fits, with measured_rate's defaults: the second half of the run
    up to where the error's envelope first falls below ``floor`` times its largest value."""
    e = _envelope(np.asarray(errors, dtype=np.float64))
    below = np.flatnonzero(e <= floor * e.max())
    end = int(below[0]) if below.size else len(e)
    return int(end * skip), end


# --- the rate map ---------------------------------------------------------------------------------------------


def rate_map(kappa: float, n_alpha: int = 200, n_beta: int = 100) -> dict[str, Any]:
    """The rate of heavy ball at the centre of every cell of an n_alpha × n_beta grid over (0, 4] × [0, 1).

    ``rates[j, i]`` belongs to (``alphas[i]``, ``betas[j]``); a rate ≥ 1 diverges. Also the optimum of
    ``theory.momentum_optimal`` and the best gradient descent (β = 0) of ``theory.gd_optimal``.
    """
    lam_min, lam_max = bowl(kappa).hessian_eigs
    alphas = (np.arange(n_alpha) + 0.5) * (ALPHA_MAX / n_alpha)
    betas = (np.arange(n_beta) + 0.5) / n_beta
    return {
        "alphas": alphas,
        "betas": betas,
        "rates": theory.momentum_rate_grid(alphas, betas, (lam_min, lam_max)),
        "lams": (lam_min, lam_max),
        "optimum": theory.momentum_optimal(lam_min, lam_max),  # (α*, β*, rate)
        "gd": theory.gd_optimal(lam_min, lam_max),  # (α*, rate) with β = 0
    }


def probe_settings(kappa: float) -> list[tuple[str, float, float]]:
    """A few (α, β) to run for real, placed from the optimum so that they fall in the same regions at every κ:
    the optimum itself, more momentum (a spiral in both directions), half the step, and no momentum at all."""
    lam_min, lam_max = bowl(kappa).hessian_eigs
    a_opt, b_opt, _ = theory.momentum_optimal(lam_min, lam_max)
    a_gd, _ = theory.gd_optimal(lam_min, lam_max)
    probes = [("optimum α*, β*", a_opt, b_opt),
              ("α*, more momentum", a_opt, b_opt + (1.0 - b_opt) / 3.0),
              ("α*/2, β*", a_opt / 2.0, b_opt),
              ("α*/2, more momentum", a_opt / 2.0, b_opt + (1.0 - b_opt) / 3.0),
              ("no momentum, best α", a_gd, 0.0)]
    seen, out = set(), []
    for name, a, b in probes:  # at κ = 1 the optimum has β* = 0 and is the best gradient descent too
        if (round(a, 12), round(b, 12)) not in seen:
            seen.add((round(a, 12), round(b, 12)))
            out.append((name, a, b))
    return out


def measured_probes(kappa: float) -> list[dict[str, Any]]:
    """Run every probe for real (one batched pass) and set the rate measured on the run beside the map's rate.

    The measured rate is :func:`reading` of the distance to the minimum (the origin): ``theory.measured_rate``, as
    the Surface Lab's theory panel measures it, of the distance's envelope.
    """
    surface = bowl(kappa)
    lams = surface.hessian_eigs
    probes = probe_settings(kappa)
    predicted = [theory.momentum_rate(a, b, lams) for _, a, b in probes]
    steps = max(steps_for(r) for r in predicted)
    configs = [RunConfig.of("momentum", label=name, lr=a, momentum=b) for name, a, b in probes]
    traces = run_traces(surface, configs, surface.start, steps)
    rows = []
    for (name, a, b), r, tr in zip(probes, predicted, traces, strict=True):
        rows.append({"run": name, "α": a, "β": b, "rate on the map": r,
                     "measured rate": reading(np.linalg.norm(tr.points, axis=1)), "steps": tr.n_steps})
    return rows


# --- the error along each eigenvector -------------------------------------------------------------------------


def eigen_run(kappa: float, alpha: float, beta: float, steps: int | None = None) -> dict[str, Any]:
    """One real run, taken apart along the Hessian's eigenvectors, with the theory of each direction beside it.

    The component cᵢ,ₜ = vᵢᵀ(θₜ − θ*) obeys heavy ball on the 1D problem ½λᵢc² (Goh 2017), so its predicted rate
    is the spectral radius of that direction's 2×2 iteration matrix, ``theory.momentum_rate(α, β, λᵢ)``, and its
    kind of motion ``theory.damping``. The velocity is cᵢ,ₜ − cᵢ,ₜ₋₁ (0 at the start, where the buffer is empty).
    Without ``steps``, as many as ``steps_for`` the predicted rate.
    """
    alpha, beta = check_settings(alpha, beta)
    surface = bowl(kappa)
    lams, vectors = eigenbasis(surface)
    predicted = theory.momentum_rate(alpha, beta, tuple(lams))
    steps = steps_for(predicted) if steps is None else steps
    tr = run(kappa, alpha, beta, steps)
    minimum = np.array([surface.minima[0].x, surface.minima[0].y])
    coords = (tr.points - minimum) @ vectors  # (steps + 1, 2): column i is the component along vᵢ
    components = []
    for i, name in enumerate(DIRECTIONS):
        lam = float(lams[i])
        position = coords[:, i]
        velocity = np.concatenate([[0.0], np.diff(position)])  # θₜ − θₜ₋₁ along vᵢ
        kind = theory.damping(alpha, beta, lam)
        components.append({
            "name": name, "lam": lam, "position": position, "velocity": velocity, "error": np.abs(position),
            "predicted": kind.rate, "damping": kind,
            "measured": reading(np.abs(position)) if kind.rate < 1.0 else None,  # growing: no rate to fit
            "critical_beta": theory.critical_beta(alpha, lam),
            "period": theory.oscillation_period(alpha, beta, lam),
            "sign_changes": sign_changes(position),
        })
    distance = np.linalg.norm(tr.points - minimum, axis=1)
    return {"alpha": alpha, "beta": beta, "kappa": float(kappa), "steps": tr.n_steps, "components": components,
            "distance": distance, "predicted": predicted,
            "measured": reading(distance) if predicted < 1.0 and tr.diverged_at is None else None,
            "diverged_at": tr.diverged_at, "reason": tr.reason}


def sign_changes(x: np.ndarray) -> int:
    """How often x changes sign along the run (an exact 0 is no side: it neither starts nor ends a crossing)."""
    s = np.sign(np.asarray(x, dtype=np.float64))
    s = s[s != 0]
    return int(np.count_nonzero(s[1:] != s[:-1]))


# --- why the optimum measures slower than predicted -----------------------------------------------------------


def double_root_path(w0: float, alpha: float, beta: float, lam: float, steps: int) -> np.ndarray:
    """The closed form of one critically damped direction, from rest at w₀: wₜ = w₀(1 + c·t)·σᵗ, t = 0..steps.

    A double eigenvalue σ = (1 − αλ + β)/2 makes the 2×2 iteration matrix a Jordan block, so wₜ = (a + b·t)σᵗ
    instead of a·σᵗ. From w₀ and the first step w₁ = (1 − αλ)w₀ (the buffer starts at the gradient λw₀):
    a = w₀ and c = b/a = (1 − αλ)/σ − 1.
    """
    kind = theory.damping(alpha, beta, lam)
    if kind.kind != "critically damped":
        raise ValueError(f"Invalid settings: alpha={alpha:g}, beta={beta:g} are {kind.kind} for lam={lam:g}, "
                         "not critically damped (a double root)")
    sigma = 0.5 * (1.0 - alpha * lam + beta)
    if sigma == 0.0:
        raise ValueError("Invalid settings: the double root is 0 (alpha*lam = 1, beta = 0): one step lands on the "
                         "minimum")
    c = (1.0 - alpha * lam) / sigma - 1.0
    t = np.arange(steps + 1, dtype=np.float64)
    return w0 * (1.0 + c * t) * sigma**t


def window_reading(log_errors: np.ndarray, start: int, end: int) -> float:
    """exp of the least-squares slope of log(error) over steps [start, end): the rate a fit there reads."""
    t = np.arange(start, end, dtype=np.float64)
    return float(np.exp(np.polyfit(t, log_errors[start:end], 1)[0]))


def optimum_reading(kappa: float, later: tuple[int, ...] = (1_000, 10_000, 100_000)) -> dict[str, Any] | None:
    """Why a real run at (α*, β*) measures a larger rate than (√κ − 1)/(√κ + 1); None at κ = 1 (no rate to fit).

    At the optimum both directions are critically damped (β* is ``theory.critical_beta`` of λ₁ and of λₙ), with
    double roots +r and −r, so the distance is rᵗ·√(x₀²(1 + c₁t)² + y₀²(1 + cₙt)²): log(distance) is t·log r plus
    a term that still rises by about 1/t per step. The fit's window (the second half of the run, before rounding)
    reads that extra slope; a fit of the same closed form over later windows [T/2, T) reads less and less of it.
    """
    kappa = check_kappa(kappa)
    lam_min, lam_max = bowl(kappa).hessian_eigs
    alpha, beta, rate = theory.momentum_optimal(lam_min, lam_max)
    if rate == 0.0:
        return None
    run_ = eigen_run(kappa, alpha, beta)
    start, end = fit_window(run_["distance"])
    x0, y0 = (c["position"][0] for c in run_["components"])
    steps = run_["steps"]
    closed = np.stack([double_root_path(x0, alpha, beta, lam_min, steps),
                       double_root_path(y0, alpha, beta, lam_max, steps)], axis=1)
    torch_path = np.stack([c["position"] for c in run_["components"]], axis=1)
    # log of the closed-form distance without forming rᵗ, which underflows long before step 100,000
    c1, cn = ((1.0 - alpha * lam) / s - 1.0 for lam, s in ((lam_min, rate), (lam_max, -rate)))

    def log_distance(t: np.ndarray) -> np.ndarray:
        return 0.5 * np.log((x0 * (1 + c1 * t)) ** 2 + (y0 * (1 + cn * t)) ** 2) + t * math.log(rate)

    later_rows = []
    for t_end in later:
        t = np.arange(t_end, dtype=np.float64)
        later_rows.append({"fit over steps": f"{t_end // 2:,} to {t_end:,}",
                           "reading": window_reading(log_distance(t), t_end // 2, t_end)})
    return {
        "alpha": alpha, "beta": beta, "predicted": rate, "measured": run_["measured"],
        "roots": [c["damping"].roots[0] for c in run_["components"]],
        "kinds": [c["damping"].kind for c in run_["components"]],
        "critical_betas": [c["critical_beta"] for c in run_["components"]],
        "c": (c1, cn), "window": (start, end), "steps": steps,
        "closed_form_reading": window_reading(np.log(np.linalg.norm(closed, axis=1)), start, end),
        "closed_form_gap": float(np.max(np.abs(closed - torch_path)) / np.max(np.abs(torch_path))),
        "later": later_rows,
    }
